"""Deadlines against hostile models (issue 31): how long a point takes to fail, against its timeout.

1. An external command with ``timeout=2`` whose detached (``setsid``) grandchild keeps stdout open for
   60 s: the point must fail within timeout + 2 s (before: 25 s).
2. A UM-Bridge server that sends its reply one byte every 0.4 s, client ``timeout=2``: the point must
   fail within timeout + 1 s (before: 23 s, the timeout was per socket read).

Prints min / median / max wall time over the repeats and the margin over the timeout.

Run: python benchmarks/hostile_deadlines.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import socketserver
import sys
import threading
import time

import numpy as np

import uqbridge as uq
from uqbridge.execution.batch import ERROR, evaluate
from uqbridge.external import command_model, regex, umbridge_model

TIMEOUT = 2.0
DETACH = ("import subprocess, sys, time; "
          "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True); "
          "print('y = 1', flush=True); time.sleep(30)")
X = [uq.Input("x", uq.Normal(0, 1))]
Y = [uq.Output("y")]


def detached_child() -> float:
    m = command_model("detach", [sys.executable, "-c", DETACH], X, Y, parse=regex({"y": r"y = (\S+)"}),
                      timeout=TIMEOUT, keep="none")
    t0 = time.perf_counter()
    r = evaluate(m, {"x": np.zeros(1)})
    assert r.status[0] == ERROR, r.message
    return time.perf_counter() - t0


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Drip(socketserver.StreamRequestHandler):
    proper = {"/Info": {"protocolVersion": 1.0, "models": ["forward"]},
              "/ModelInfo": {"support": {"Evaluate": True}},
              "/InputSizes": {"inputSizes": [1]}, "/OutputSizes": {"outputSizes": [1]}}

    def handle(self) -> None:
        route = self.rfile.readline().split()[1].decode()
        length = 0
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        self.rfile.read(length)
        if route in self.proper:
            body = json.dumps(self.proper[route]).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            return
        try:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"output": [[' + b" " * 80:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.4)
        except OSError:
            pass


def slow_drip() -> float:
    server = _Server(("127.0.0.1", 0), _Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        m = umbridge_model(f"http://127.0.0.1:{server.server_address[1]}", X, Y, timeout=TIMEOUT, retries=0)
        t0 = time.perf_counter()
        r = evaluate(m, {"x": np.zeros(1)})
        assert r.status[0] == ERROR, r.message
        return time.perf_counter() - t0
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"timeout = {TIMEOUT:g} s, {args.repeats} repeats; wall time until the point is recorded as failed")
    for name, bound, run in (("command, detached child on stdout", TIMEOUT + 2, detached_child),
                             ("UM-Bridge, 1 byte / 0.4 s", TIMEOUT + 1, slow_drip)):
        walls = np.array([run() for _ in range(args.repeats)])
        print(f"{name:<36} min {walls.min():.2f} s  median {np.median(walls):.2f} s  max {walls.max():.2f} s  "
              f"(bound {bound:g} s; max - timeout = {walls.max() - TIMEOUT:+.2f} s)")


if __name__ == "__main__":
    main()
