"""Static checks as part of the default suite: ``ruff check`` over the repository and ``mypy uqbridge``.

Both tools read their configuration from ``pyproject.toml`` ([tool.ruff], [tool.mypy]). Each test is
skipped when its tool is not installed (``pip install -e ".[test]"`` installs both).
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.lint


def _command(tool: str) -> list[str]:
    """How to run ``tool``: as a module of this interpreter if installed there, else from PATH."""
    if importlib.util.find_spec(tool) is not None:
        return [sys.executable, "-m", tool]
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (pip install -e '.[test]')")
    return [exe]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_check_is_clean():
    proc = _run([*_command("ruff"), "check", "--no-cache", "--output-format", "concise", "."])
    assert proc.returncode == 0, f"ruff check found problems:\n{proc.stdout}\n{proc.stderr}"


def test_mypy_uqbridge_is_clean():
    # the cache lives in the system temp folder (nothing is written into the repository), one per
    # checkout; mypy validates it against the sources, so a warm run is a few seconds and a cold one
    # (first run on a machine) about a minute
    key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"uqbridge-mypy-cache-{key}"
    proc = _run([*_command("mypy"), "uqbridge", "--cache-dir", str(cache)])
    assert proc.returncode == 0, f"mypy uqbridge found problems:\n{proc.stdout}\n{proc.stderr}"
