"""Test helper: wait until a `uqbridge serve` subprocess answers, or fail naming why."""

from __future__ import annotations

import subprocess
import time

import requests


def wait_until_serving(url: str, proc: subprocess.Popen, seconds: float = 60.0) -> None:
    """Poll ``url/Info`` until the server answers; fail if the process died or ``seconds`` passed."""
    deadline = time.time() + seconds
    while True:
        try:
            requests.get(f"{url}/Info", timeout=1)
            return
        except requests.ConnectionError:
            assert proc.poll() is None and time.time() < deadline, "server did not start"
            time.sleep(0.1)
