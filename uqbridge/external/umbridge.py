"""UM-Bridge models: a ForwardModel backed by a UM-Bridge server, and any ForwardModel served as one.

UM-Bridge (Seelinger et al. 2023, https://um-bridge-benchmarks.readthedocs.io) is the UQ community's
HTTP protocol for models: a model takes a list of input vectors and returns a list of output vectors,
optionally with gradients. The client here speaks protocol 1.0 over ``http.client`` with one deadline
per request (connection and whole reply), retries and a check of every reply against the declared
layout, which ``umbridge.HTTPModel`` lacks; the server (:mod:`._server`) listens on loopback unless told
otherwise, can require a bearer token, and refuses oversized or malformed requests with HTTP 4xx.
Protocol 1.0 evaluates one point per request, so a batch is sent as concurrent requests.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import positive_int
from ..inputs import Input, InputSet
from ..model import ForwardModel, Output
from ._points import check_concurrency, check_timeout, run_points

__all__ = ["UMBridgeError", "serve", "served_model", "umbridge_model"]


class UMBridgeError(RuntimeError):
    """The server answered with an error, or could not be reached after the retries."""


MAX_REPLY = 16 << 20
"""Largest reply body read from a server (bytes); a few output vectors are far smaller."""


class _DeadlinePassed(Exception):
    pass


def _exchange(url: str, method: str, route: str, body: bytes | None, deadline: float | None,
              token: str | None) -> tuple[int, bytes]:
    """One HTTP request that ends by ``deadline`` (``time.monotonic()`` seconds) whatever the server does.

    A socket timeout bounds each read, not the request: a server sending one byte every 0.4 s would
    hold a 2 s-timeout request forever. A timer shuts the socket down at the deadline instead, which
    ends any blocked connect/send/recv at once.
    """
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    remaining = None if deadline is None else deadline - time.monotonic()
    if remaining is not None and remaining <= 0:
        raise _DeadlinePassed
    conn = connection(parts.hostname or "127.0.0.1", parts.port, timeout=remaining)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = None if remaining is None else threading.Timer(remaining, expire)
    try:
        if timer is not None:
            timer.daemon = True
            timer.start()
        conn.connect()
        if expired.is_set():  # the timer fired before the socket existed
            raise _DeadlinePassed
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, f"{parts.path.rstrip('/')}/{route}", body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read(MAX_REPLY + 1)
        if expired.is_set():
            raise _DeadlinePassed
        if len(raw) > MAX_REPLY:
            raise UMBridgeError(f"UM-Bridge server {url} ({route}) sent a reply longer than {MAX_REPLY} bytes")
        return response.status, raw
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise _DeadlinePassed from None
        raise
    finally:
        if timer is not None:
            timer.cancel()
        conn.close()


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


@dataclass(frozen=True)
class _Client:
    """The protocol: one JSON request per call, one deadline (connect + reply) per call, retries on
    connection failures while the deadline allows."""

    url: str
    model: str
    config: tuple[tuple[str, Any], ...]
    timeout: float | None
    retries: int
    token: str | None = None

    def _call(self, method: str, route: str, body: dict[str, Any] | None) -> tuple[int, Any, bytes]:
        data = None if body is None else json.dumps(body).encode()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        for attempt in range(self.retries + 1):
            try:
                status, raw = _exchange(self.url, method, route, data, deadline, self.token)
                break
            except _DeadlinePassed:
                raise UMBridgeError(
                    f"UM-Bridge server {self.url} ({route}) did not answer within the timeout of {self.timeout:g} s"
                ) from None
            except (OSError, http.client.HTTPException) as err:
                late = deadline is not None and time.monotonic() + min(0.2 * 2**attempt, 5.0) >= deadline
                if attempt == self.retries or late:
                    raise UMBridgeError(
                        f"UM-Bridge server {self.url} ({route}) failed after {attempt + 1} attempt(s): "
                        f"{type(err).__name__}: {err}"
                    ) from None
                time.sleep(min(0.2 * 2**attempt, 5.0))
        try:
            reply = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            reply = None
        return status, reply, raw

    def _checked(self, route: str, status: int, reply: Any, raw: bytes, key: str) -> Any:
        if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
            error = reply["error"]
            raise UMBridgeError(f"UM-Bridge server {self.url}: {error.get('type')}: {error.get('message')}")
        if status != 200 or not isinstance(reply, dict) or key not in reply:
            text = raw.decode("utf-8", "replace").strip()[:200]
            raise UMBridgeError(
                f"{self.url} ({route}) answered HTTP {status} without {key!r}: not a UM-Bridge reply: {text!r}"
            )
        return reply[key]

    def post(self, route: str, body: dict[str, Any], key: str = "output") -> Any:
        """The ``key`` field of the reply to ``route`` (UMBridgeError for an error or a foreign reply)."""
        status, reply, raw = self._call("POST", route, {"name": self.model, "config": dict(self.config), **body})
        return self._checked(route, status, reply, raw, key)

    def info(self) -> list[str]:
        try:
            status, reply, raw = self._call("GET", "Info", None)
        except UMBridgeError as err:
            raise UMBridgeError(
                f"cannot reach a UM-Bridge server at {self.url} ({err}); start one "
                "(e.g. `uqbridge serve MODEL --port 4242`) or check the address"
            ) from None
        version = self._checked("Info", status, reply, raw, "protocolVersion")
        if isinstance(version, bool) or not isinstance(version, (int, float)) or float(version) != 1.0:
            raise UMBridgeError(f"{self.url} speaks UM-Bridge protocol {version!r}, not 1.0")
        models = reply.get("models")
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise UMBridgeError(f"{self.url} (Info) lists models {models!r}: not a list of names")
        return models


def _vector(value: Any, length: int, what: str) -> list[float]:
    """``value`` as ``length`` floats, refusing anything but JSON numbers (``true``, ``"12.5"``)."""
    if not isinstance(value, list) or len(value) != length:
        got = f"{len(value)} values" if isinstance(value, list) else type(value).__name__
        raise UMBridgeError(f"{what}: expected a vector of {length} numbers, got {got}")
    bad = [v for v in value if isinstance(v, bool) or not isinstance(v, (int, float))]
    if bad:
        raise UMBridgeError(f"{what}: expected JSON numbers only, got {json.dumps(bad[0])}")
    return [float(v) for v in value]


@dataclass(frozen=True)
class _Layout:
    """Which named inputs/outputs sit in which protocol vector, in order."""

    inputs: tuple[tuple[str, ...], ...]
    outputs: tuple[tuple[str, ...], ...]

    def pack(self, values: Mapping[str, float]) -> list[list[float]]:
        return [[float(values[n]) for n in block] for block in self.inputs]

    def unpack(self, vectors: Any) -> dict[str, float]:
        """Outputs by name from an Evaluate reply, which must match the layout exactly: as many vectors,
        each as long as declared, JSON numbers only (extras are an error, not dropped)."""
        if not isinstance(vectors, list) or len(vectors) != len(self.outputs):
            got = f"{len(vectors)} vectors" if isinstance(vectors, list) else type(vectors).__name__
            raise UMBridgeError(f"Evaluate reply: expected {len(self.outputs)} output vector(s), got {got}")
        out: dict[str, float] = {}
        for k, (block, vec) in enumerate(zip(self.outputs, vectors)):
            out.update(zip(block, _vector(vec, len(block), f"Evaluate reply, output vector {k}")))
        return out


@dataclass(frozen=True)
class _UMBridgeCall:
    """Picklable model function (ships to process-pool and Dask workers; no open connections)."""

    client: _Client
    layout: _Layout
    outputs: tuple[str, ...]
    max_concurrency: int

    def __call__(self, xp: Any = None, **values: Any) -> dict[str, Any]:
        if xp is not None and xp is not np:
            return self._tensor(xp, values)
        return run_points(self._point, values, self.outputs, max_concurrency=self.max_concurrency)

    def _point(self, index: int, values: dict[str, float]) -> dict[str, float]:
        reply = self.client.post("Evaluate", {"input": self.layout.pack(values)})
        return self.layout.unpack(reply)

    def vjp(self, point: Mapping[str, float], cotangent: Mapping[str, float]) -> dict[str, float]:
        """Vector-Jacobian product at one point: ``sum_o cotangent[o] * d output_o / d input``."""
        grads: dict[str, float] = {}
        packed = self.layout.pack(point)
        for o, out_block in enumerate(self.layout.outputs):
            sens = [float(cotangent[n]) for n in out_block]
            if not any(sens):
                continue
            for i, in_block in enumerate(self.layout.inputs):
                reply = self.client.post("Gradient", {"outWrt": o, "inWrt": i, "input": packed, "sens": sens})
                for n, g in zip(in_block, _vector(reply, len(in_block), f"Gradient reply (inWrt {i})")):
                    grads[n] = grads.get(n, 0.0) + float(g)
        return {n: grads.get(n, 0.0) for block in self.layout.inputs for n in block}

    def _tensor(self, xp: Any, values: Mapping[str, Any]) -> dict[str, Any]:
        names = [n for block in self.layout.inputs for n in block]
        vectors = xp.broadcast_arrays(*[xp.atleast_1d(xp.as_tensor(values[n]).astype("float64")) for n in names])
        stacked = _evaluate_op(self)(xp.stack(vectors))
        return {o: stacked[k] for k, o in enumerate(self.outputs)}


def _evaluate_op(call: _UMBridgeCall) -> Any:
    """PyTensor Op ``(d, n) inputs -> (m, n) outputs`` whose gradient asks the server (``Gradient``)."""
    import pytensor.tensor as pt
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    names = [n for block in call.layout.inputs for n in block]

    class VJP(Op):
        __props__ = ()

        def make_node(self, x, g):  # type: ignore[override]  # pytensor's Op.make_node(*inputs)
            return Apply(self, [pt.as_tensor(x), pt.as_tensor(g)], [pt.dmatrix()])

        def perform(self, node, inputs, storage):
            x, g = inputs
            out = np.zeros_like(x)
            for j in range(x.shape[1]):
                got = call.vjp(dict(zip(names, x[:, j])), dict(zip(call.outputs, g[:, j])))
                out[:, j] = [got[n] for n in names]
            storage[0][0] = out

    class Evaluate(Op):
        __props__ = ()

        def make_node(self, x):  # type: ignore[override]  # pytensor's Op.make_node(*inputs)
            return Apply(self, [pt.as_tensor(x).astype("float64")], [pt.dmatrix()])

        def perform(self, node, inputs, storage):
            x = inputs[0]
            got = call(**{n: x[k] for k, n in enumerate(names)})
            storage[0][0] = np.stack([got[o] for o in call.outputs])

        def grad(self, inputs, output_gradients):
            return [VJP()(inputs[0], output_gradients[0])]

    return Evaluate()


def umbridge_model(
    url: str,
    inputs: InputSet | Iterable[Input],
    outputs: Iterable[Output],
    *,
    model: str = "forward",
    name: str | None = None,
    input_layout: Sequence[Sequence[str]] | None = None,
    output_layout: Sequence[Sequence[str]] | None = None,
    config: Mapping[str, Any] | None = None,
    timeout: float | None = 600.0,
    retries: int = 2,
    max_concurrency: int = 1,
    gradients: bool = True,
    description: str = "",
    token: str | None = None,
) -> ForwardModel:
    """A ForwardModel evaluated by a UM-Bridge server.

    The inputs and outputs are declared here (UM-Bridge carries only vector sizes); the server is
    asked at once whether it serves ``model`` and whether the declared layout matches its sizes.

    Parameters
    ----------
    url : str
        Server address, e.g. ``"http://127.0.0.1:4242"``.
    inputs, outputs : declarations as for :class:`~uqbridge.model.ForwardModel`.
    model : str
        The model's name on the server (UM-Bridge's default is ``"forward"``).
    name : str, optional
        The uqbridge model name (default: ``model``).
    input_layout, output_layout : sequence of sequences of names, optional
        Which names make up each protocol vector, in order. Default: one vector holding all
        declared inputs (outputs) in declared order.
    config : mapping, optional
        UM-Bridge ``config`` sent with every request (e.g. a mesh level).
    timeout : float or None
        Deadline in seconds for each request, connection and whole reply included (not per socket read,
        so a server that trickles its answer cannot hold a point longer); a point that exceeds it is
        recorded as failed.
    retries : int
        Further attempts when the connection fails (a server restarting), within the same deadline;
        server errors are not retried.
    max_concurrency : int
        Points of one batch sent at the same time (the server's ``max_workers`` serve them).
    gradients : bool
        Use the server's ``Gradient`` (if it offers one) so that NUTS can calibrate through the model.
    token : str, optional
        Bearer token sent with every request (for ``uqbridge serve --token``).

    Notes
    -----
    Every reply is checked against the declared layout (vector counts and lengths, JSON numbers only):
    extra values, ``true`` or ``"12.5"`` fail the point instead of being dropped or coerced.

    Examples
    --------
    >>> from uqbridge import Input, Normal, Output
    >>> umbridge_model("http://127.0.0.1:9", [Input("x", Normal(0, 1))], [Output("y")], timeout=1, retries=0)
    Traceback (most recent call last):
    ...
    uqbridge.external.umbridge.UMBridgeError: cannot reach a UM-Bridge server at http://127.0.0.1:9 ...
    """
    inputs = inputs if isinstance(inputs, InputSet) else InputSet(tuple(inputs))
    outputs = tuple(outputs)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    layout = _Layout(
        _check_layout("input_layout", input_layout, inputs.names),
        _check_layout("output_layout", output_layout, tuple(o.name for o in outputs)),
    )
    if token is not None and not isinstance(token, str):
        raise TypeError(f"token must be a string (the server's bearer token), got {type(token).__name__}")
    client = _Client(url.rstrip("/"), model, tuple((config or {}).items()), check_timeout(timeout), retries, token)
    served = client.info()
    if model not in served:
        raise UMBridgeError(f"server {url} does not serve model {model!r}; it serves {served}")
    support = client.post("ModelInfo", {}, key="support")
    if not isinstance(support, dict) or support.get("Evaluate") is not True:
        raise UMBridgeError(f"model {model!r} at {url} does not support Evaluate")
    for route, key, blocks in (("InputSizes", "inputSizes", layout.inputs), ("OutputSizes", "outputSizes", layout.outputs)):
        sizes = client.post(route, {}, key=key)
        if sizes != [len(b) for b in blocks] or not all(type(v) is int for v in sizes):
            raise ValueError(
                f"model {model!r} at {url} has {route} {sizes} but the declared layout gives "
                f"{[len(b) for b in blocks]}: declare the names per vector with input_layout/output_layout"
            )
    call = _UMBridgeCall(client, layout, tuple(o.name for o in outputs), check_concurrency(max_concurrency))
    differentiable = bool(gradients and support.get("Gradient") is True)
    return ForwardModel(
        name or model, call, inputs, outputs,
        description or f"UM-Bridge model {model!r} at {url}", differentiable=differentiable,
    )


def _check_layout(argument: str, layout: Sequence[Sequence[str]] | None, names: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    if layout is None:
        return (tuple(names),)
    blocks = tuple(tuple(block) for block in layout)
    flat = [n for b in blocks for n in b]
    if sorted(flat) != sorted(names) or len(set(flat)) != len(flat):
        raise ValueError(f"{argument} must name each of {list(names)} exactly once, got {[list(b) for b in blocks]}")
    return blocks


def served_model(model: ForwardModel, *, name: str = "forward") -> Any:
    """Wrap ``model`` as an ``umbridge.Model``: one input vector (all declared inputs, in order), one
    output vector (all outputs, in order); ``Gradient`` where the model is differentiable.

    Examples
    --------
    >>> from uqbridge import get_model
    >>> s = served_model(get_model("ishigami"))
    >>> s.get_input_sizes(), s.get_output_sizes()
    ([3], [1])
    >>> [round(v, 6) for v in s([[0.1, 0.2, 0.3]])[0]]  # sin .1 + 7 sin² .2 + .1 (.3)⁴ sin .1
    [0.376201]
    """
    import umbridge

    inputs = model.inputs.names
    outputs = model.output_names

    class Served(umbridge.Model):
        def __init__(self) -> None:
            super().__init__(name)
            self._vjp: Any = None

        def get_input_sizes(self, config: Mapping[str, Any] | None = None) -> list[int]:
            return [len(inputs)]

        def get_output_sizes(self, config: Mapping[str, Any] | None = None) -> list[int]:
            return [len(outputs)]

        def __call__(self, parameters: list[list[float]], config: Mapping[str, Any] | None = None) -> list[list[float]]:
            got = model(**{n: np.array([v]) for n, v in zip(inputs, parameters[0])})
            bad = [o for o in outputs if not np.isfinite(got[o][0])]
            if bad:
                raise ValueError(f"model {model.name!r}: output(s) {bad} not finite at {dict(zip(inputs, parameters[0]))}")
            return [[float(got[o][0]) for o in outputs]]

        def supports_evaluate(self) -> bool:
            return True

        def supports_gradient(self) -> bool:
            return model.differentiable

        def gradient(self, out_wrt: int, in_wrt: int, parameters: list[list[float]], sens: list[float],
                     config: Mapping[str, Any] | None = None) -> list[float]:
            if self._vjp is None:
                self._vjp = _compiled_vjp(model)
            return [float(g) for g in self._vjp(np.asarray(parameters[0], float), np.asarray(sens, float))]

    return Served()


def _compiled_vjp(model: ForwardModel) -> Any:
    import pytensor
    import pytensor.tensor as pt

    x = pt.dvector("x")
    sens = pt.dvector("sens")
    got = model.evaluate_tensor(pt, **{n: x[k] for k, n in enumerate(model.inputs.names)})
    y = pt.stack([pt.as_tensor(got[o]).reshape(()) for o in model.output_names])
    return pytensor.function([x, sens], pt.grad(pt.dot(sens, y), x), mode="FAST_COMPILE")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ``::1``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("::")
    (True, True, False, False)
    """
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


TOKEN_VARIABLE = "UQBRIDGE_SERVE_TOKEN"


def serve(
    model: ForwardModel,
    *,
    port: int = 4242,
    name: str = "forward",
    max_workers: int = 1,
    host: str = "127.0.0.1",
    token: str | None = None,
    max_body: int = 1 << 20,
    request_timeout: float | None = 600.0,
    announce: Any = print,
) -> None:
    """Serve ``model`` over UM-Bridge until interrupted (blocks), so other UQ tools can call it.

    The layout is one input vector ``model.inputs.names`` and one output vector
    ``model.output_names``; a multiscale chain is served like any model, its intermediate outputs
    included.

    Parameters
    ----------
    host : str
        Address to listen on; the default is loopback only. Any other address (``0.0.0.0`` for every
        interface) lets other machines make this one compute: ``announce`` gets a warning line.
    token : str, optional
        Bearer token every request must carry (``Authorization: Bearer TOKEN``), compared in constant
        time; default: the environment variable ``UQBRIDGE_SERVE_TOKEN`` if set, else none.
    max_body : int
        Largest request body in bytes; a longer one is refused (HTTP 413) from its headers, unread.
    request_timeout : float or None
        Seconds a request may take; after it the caller gets HTTP 504 (the evaluation thread finishes
        on its own: Python threads cannot be killed).
    announce : callable
        Called with each line about the bound sockets (default ``print``).
    """
    from aiohttp import web

    from ._server import ServeLimits, make_app

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
        raise ValueError(f"port must be an integer in 1..65535 (0: any free port), got {port!r}")
    if not isinstance(host, str) or not host:
        raise ValueError(f"host must be an address such as '127.0.0.1', got {host!r}")
    token = token if token is not None else os.environ.get(TOKEN_VARIABLE) or None
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ValueError("token must be a string of at least 8 characters (e.g. from `openssl rand -hex 16`)")
    limits = ServeLimits(max_body=positive_int(max_body, "max_body"),
                         request_timeout=check_timeout(request_timeout, "request_timeout"))
    app = make_app(served_model(model, name=name), token=token, limits=limits, max_workers=check_concurrency(max_workers))

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host=host, port=port)
        await site.start()
        bound = [s.getsockname() for s in (site._server.sockets if site._server else [])]  # type: ignore[attr-defined]
        addresses = ", ".join(f"http://[{a[0]}]:{a[1]}" if ":" in a[0] else f"http://{a[0]}:{a[1]}" for a in bound)
        announce(f"listening on {addresses}" + (" (bearer token required)" if token else " (no token)"))
        if not is_loopback(host):
            announce(f"WARNING: listening on {host}, not loopback only: anyone who can reach this address can make "
                     "this machine compute" + ("" if token else "; set --token or UQBRIDGE_SERVE_TOKEN"))
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
