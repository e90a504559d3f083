"""Cost per model call of external models against the same model in process.

Prints, for the Ishigami function: the in-process vectorised call per point, the same model served by
``uqbridge.external.serve`` and called through ``umbridge_model`` (HTTP on localhost; 1 and 4
concurrent requests), and an external command (a Python process per point), as min/median/max over
repeats of ``evaluate()`` — what users call. Run: python benchmarks/external_overhead.py [--points N]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

import numpy as np

import uqbridge as uq
from uqbridge.execution.batch import evaluate
from uqbridge.external import command_model, regex, umbridge_model


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import requests

    model = uq.get_model("ishigami")
    rng = np.random.default_rng(0)
    x = {n: rng.uniform(-np.pi, np.pi, args.points) for n in model.inputs.names}
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"from uqbridge import get_model; from uqbridge.external import serve; "
                               f"serve(get_model('ishigami'), port={port}, max_workers=4)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(f"{url}/Info", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    try:
        rows = [("in-process (vectorised)", lambda: evaluate(model, x), args.points)]
        for c in (1, 4):
            remote = umbridge_model(url, model.inputs, model.outputs, max_concurrency=c)
            rows.append((f"UM-Bridge localhost, {c} concurrent", lambda r=remote: evaluate(r, x), args.points))
        n_cmd = max(10, args.points // 10)
        xc = {k: v[:n_cmd] for k, v in x.items()}
        cmd = command_model(
            "ishigami_cmd",
            [sys.executable, "-S", "-c", "import math; x1,x2,x3=$x1,$x2,$x3; "
             "print('y =', math.sin(x1)+7*math.sin(x2)**2+0.1*x3**4*math.sin(x1))"],
            model.inputs, model.outputs, parse=regex({"y": r"y = (\S+)"}))
        rows.append(("external command (python -S per point)", lambda: evaluate(cmd, xc), n_cmd))
        print(f"per-point cost, {args.repeats} repeats of evaluate() (min / median / max, ms per point)")
        base = None
        for label, fn, n in rows:
            t = np.array(_timed(fn, args.repeats)) / n * 1e3
            base = base or np.median(t)
            print(f"  {label:<42} {t.min():9.4f} {np.median(t):9.4f} {t.max():9.4f}   x{np.median(t) / base:,.0f}")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
