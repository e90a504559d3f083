"""`uqbridge serve` is safe to leave running (issue 31): loopback by default, bearer token, body size
refused from the headers, HTTP 400 with the UM-Bridge error JSON for malformed requests, a deadline
per request. One CLI server (started once for the module) answers the network checks."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.external import UMBridgeError, serve, umbridge_model

pytest.importorskip("aiohttp")
pytest.importorskip("umbridge")

TOKEN = "test-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(lines, text, proc=None, limit=120.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if any(text in line for line in lines):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {lines}")
        time.sleep(0.05)
    raise RuntimeError(f"no {text!r} within {limit} s: {lines}")


@pytest.fixture(scope="module")
def cli_server():
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "uqbridge", "serve", "ishigami", "--port", str(port), "--token", TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    try:
        wait_for(lines, "listening on", proc)
        yield port, lines
    finally:
        proc.kill()
        proc.wait()


def request(port, raw: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < _length(reply):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(reply: bytes) -> int:
    for line in reply.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def post(route, body: bytes, *, token=TOKEN, length=None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST /{route} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n\r\n").encode() + body


def test_the_default_listener_is_loopback_only(cli_server):
    port, lines = cli_server
    banner = "".join(lines)
    assert f"at http://127.0.0.1:{port}" in banner
    assert f"listening on http://127.0.0.1:{port} (bearer token required)" in banner
    assert "WARNING" not in banner
    # and nothing answers on this machine's other address (when it has one)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            other = probe.getsockname()[0]
        except OSError:
            other = "127.0.0.1"
    if not other.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=2).close()


def test_a_request_without_the_token_gets_401_and_with_it_the_answer(cli_server):
    port, _ = cli_server
    body = json.dumps({"name": "forward", "input": [[0.1, 0.2, 0.3]]}).encode()
    status, reply = request(port, post("Evaluate", body, token=None))
    assert status == 401 and reply["error"]["type"] == "Unauthorized"
    status, reply = request(port, post("Evaluate", body, token="wrong-token-0000"))
    assert status == 401
    status, reply = request(port, post("Evaluate", body))
    # Ishigami (a=7, b=0.1) at (0.1, 0.2, 0.3): sin .1 + 7 sin² .2 + .1 (.3)⁴ sin .1 (closed form)
    expected = np.sin(0.1) + 7 * np.sin(0.2) ** 2 + 0.1 * 0.3**4 * np.sin(0.1)
    assert status == 200 and reply["output"][0][0] == pytest.approx(expected, rel=1e-12)


def test_a_100_mb_body_is_refused_from_its_headers_without_being_read(cli_server):
    port, _ = cli_server
    t0 = time.monotonic()
    # only the headers and 10 bytes are sent: a 413 proves the server did not wait for the 100 MB
    status, reply = request(port, post("Evaluate", b'{"name": "', length=100_000_000))
    assert status == 413 and "100000000 bytes exceeds the limit" in reply["error"]["message"]
    assert time.monotonic() - t0 < 10  # it did not wait for the body (the socket timeout is 10 s)


@pytest.mark.parametrize(("body", "message"), [
    (b"{bad json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"name": "other", "input": [[0, 0, 0]]}', "model 'other' not found"),
    (b'{"name": "forward", "input": [[0, 0]]}', "input vector 0 has 2 value(s); the model expects 3"),
    (b'{"name": "forward", "input": [[0, true, 0]]}', "finite JSON numbers only, got true"),
    (b'{"name": "forward", "input": [[0, "12.5", 0]]}', 'finite JSON numbers only, got "12.5"'),
    (b'{"name": "forward", "input": [[0, NaN, 0]]}', "NaN is not JSON"),
    (b'{"name": "forward", "input": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nests deeper than"),
    (b'{"name": "forward", "input": [[0, 0, 0]], "config": 3}', "config must be a JSON object"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_malformed_requests_get_400_with_a_umbridge_error(cli_server, body, message):
    port, _ = cli_server
    status, reply = request(port, post("Evaluate", body))
    assert status == 400, reply
    assert message in reply["error"]["message"]


def test_a_chunked_body_over_the_limit_is_refused(cli_server):
    port, _ = cli_server
    chunk = b"x" * ((1 << 20) + 1024)  # just over the 1 MiB default; no Content-Length to check up front
    raw = (b"POST /Evaluate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
           + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
    status, reply = request(port, raw)
    assert status == 413 and reply["error"]["type"] == "RequestTooLarge"


def test_only_loopback_addresses_count_as_private():
    from uqbridge.external.umbridge import is_loopback

    assert [is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "myhost.example")] == [False] * 4


def test_gradient_indices_are_checked(cli_server):
    port, _ = cli_server
    body = {"name": "forward", "input": [[0.1, 0.2, 0.3]], "outWrt": 1, "inWrt": 0, "sens": [1.0]}
    status, reply = request(port, post("Gradient", json.dumps(body).encode()))
    assert status == 400 and "outWrt must be an integer in 0..0, got 1" in reply["error"]["message"]


def test_the_uqbridge_client_sends_the_token(cli_server):
    port, _ = cli_server
    model = uq.get_model("ishigami")
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(UMBridgeError, match="Unauthorized"):
        umbridge_model(url, model.inputs, model.outputs, timeout=10)
    remote = umbridge_model(url, model.inputs, model.outputs, name="remote", timeout=10, token=TOKEN)
    x = {n: np.array([0.1, -1.0]) for n in model.inputs.names}
    np.testing.assert_allclose(remote(**x)["y"], model(**x)["y"], rtol=1e-12)


def _slow(x):
    time.sleep(3.0)
    return {"y": x}


def test_a_request_past_its_deadline_gets_504():
    model = uq.ForwardModel("slow", _slow, [uq.Input("x", uq.Normal(0, 1))], [uq.Output("y")])
    lines: list[str] = []
    threading.Thread(target=serve, args=(model,), kwargs=dict(port=0, request_timeout=0.5, announce=lines.append),
                     daemon=True).start()
    wait_for(lines, "listening on", limit=30)
    port = int(lines[0].split(":")[2].split()[0])
    t0 = time.monotonic()
    status, reply = request(port, post("Evaluate", b'{"name": "forward", "input": [[1.0]]}', token=None))
    assert status == 504 and "longer than 0.5 s" in reply["error"]["message"]
    assert time.monotonic() - t0 < 2.5  # answered at the deadline, not after the model's 3 s


def test_serve_arguments_are_checked():
    model = uq.get_model("ishigami")
    with pytest.raises(ValueError, match="token must be a string of at least 8 characters"):
        serve(model, token="short")
    with pytest.raises(ValueError, match="port must be an integer"):
        serve(model, port=70000)
    with pytest.raises(ValueError, match="max_body must be an integer >= 1"):
        serve(model, max_body=0)
