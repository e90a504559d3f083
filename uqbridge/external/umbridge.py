"""UM-Bridge models: a ForwardModel backed by a UM-Bridge server, and any ForwardModel served as one.

UM-Bridge (Seelinger et al. 2023, https://um-bridge-benchmarks.readthedocs.io) is the UQ community's
HTTP protocol for models: a model takes a list of input vectors and returns a list of output vectors,
optionally with gradients. The client here speaks protocol 1.0 with ``requests`` (so that every call has
a timeout and retries, which ``umbridge.HTTPModel`` lacks); the server is ``umbridge.serve_models``.
Protocol 1.0 evaluates one point per request, so a batch is sent as concurrent requests.
"""

from __future__ import annotations

import asyncio
import os
import time
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


@dataclass(frozen=True)
class _Client:
    """The protocol: one JSON request per call, a timeout on each, retries on connection failures."""

    url: str
    model: str
    config: tuple[tuple[str, Any], ...]
    timeout: float | None
    retries: int

    def post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        import requests

        body = {"name": self.model, "config": dict(self.config), **body}
        for attempt in range(self.retries + 1):
            try:
                response = requests.post(f"{self.url}/{route}", json=body, timeout=self.timeout)
                break
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempt == self.retries:
                    raise UMBridgeError(
                        f"UM-Bridge server {self.url} ({route}) failed after {self.retries + 1} attempt(s): "
                        f"{type(err).__name__}"
                    ) from None
                time.sleep(min(0.2 * 2**attempt, 5.0))
        try:
            reply = response.json()
        except ValueError:
            raise UMBridgeError(
                f"UM-Bridge server {self.url} ({route}) answered HTTP {response.status_code}: "
                f"{response.text.strip()[:200]}"
            ) from None
        if "error" in reply:
            error = reply["error"]
            raise UMBridgeError(f"UM-Bridge server {self.url}: {error.get('type')}: {error.get('message')}")
        return reply

    def info(self) -> list[str]:
        import requests

        try:
            reply = requests.get(f"{self.url}/Info", timeout=self.timeout).json()
        except (requests.ConnectionError, requests.Timeout, ValueError) as err:
            raise UMBridgeError(
                f"cannot reach a UM-Bridge server at {self.url} ({type(err).__name__}); start one "
                "(e.g. `uqbridge serve MODEL --port 4242`) or check the address"
            ) from None
        if float(reply.get("protocolVersion", 0)) != 1.0:
            raise UMBridgeError(f"{self.url} speaks UM-Bridge protocol {reply.get('protocolVersion')}, not 1.0")
        return list(reply.get("models", []))


@dataclass(frozen=True)
class _Layout:
    """Which named inputs/outputs sit in which protocol vector, in order."""

    inputs: tuple[tuple[str, ...], ...]
    outputs: tuple[tuple[str, ...], ...]

    def pack(self, values: Mapping[str, float]) -> list[list[float]]:
        return [[float(values[n]) for n in block] for block in self.inputs]

    def unpack(self, vectors: Sequence[Sequence[float]]) -> dict[str, float]:
        return {n: float(v) for block, vec in zip(self.outputs, vectors) for n, v in zip(block, vec)}


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
        return self.layout.unpack(reply["output"])

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
                for n, g in zip(in_block, reply["output"]):
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

        def make_node(self, x, g):
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

        def make_node(self, x):
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
        Seconds per request; a point that exceeds it is recorded as failed.
    retries : int
        Further attempts when the connection fails (a server restarting); server errors are not retried.
    max_concurrency : int
        Points of one batch sent at the same time (the server's ``max_workers`` serve them).
    gradients : bool
        Use the server's ``Gradient`` (if it offers one) so that NUTS can calibrate through the model.

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
    client = _Client(url.rstrip("/"), model, tuple((config or {}).items()), check_timeout(timeout), retries)
    served = client.info()
    if model not in served:
        raise UMBridgeError(f"server {url} does not serve model {model!r}; it serves {served}")
    support = client.post("ModelInfo", {})["support"]
    if not support.get("Evaluate", False):
        raise UMBridgeError(f"model {model!r} at {url} does not support Evaluate")
    for route, key, blocks in (("InputSizes", "inputSizes", layout.inputs), ("OutputSizes", "outputSizes", layout.outputs)):
        sizes = list(client.post(route, {})[key])
        if sizes != [len(b) for b in blocks]:
            raise ValueError(
                f"model {model!r} at {url} has {route} {sizes} but the declared layout gives "
                f"{[len(b) for b in blocks]}: declare the names per vector with input_layout/output_layout"
            )
    call = _UMBridgeCall(client, layout, tuple(o.name for o in outputs), check_concurrency(max_concurrency))
    differentiable = bool(gradients and support.get("Gradient", False))
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


LOOPBACK = ("127.0.0.1", "::1", "localhost")
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
        bound = [s.getsockname() for s in (site._server.sockets if site._server else [])]  # type: ignore[union-attr]
        addresses = ", ".join(f"http://[{a[0]}]:{a[1]}" if ":" in a[0] else f"http://{a[0]}:{a[1]}" for a in bound)
        announce(f"listening on {addresses}" + (" (bearer token required)" if token else " (no token)"))
        if host not in LOOPBACK:
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
