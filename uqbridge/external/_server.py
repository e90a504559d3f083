"""A UM-Bridge 1.0 server that is safe to leave running: loopback by default, optional bearer token,
size limits read before the body, a deadline per request, and a UM-Bridge error JSON (HTTP 4xx) for
every malformed request instead of an HTTP 500 page.

``umbridge.serve_models`` listens on every interface, has no authentication, reads any body in full
and answers malformed JSON with HTTP 500; it also offers the shared-memory routes, which let a caller
name arbitrary shared-memory segments of the host. This server speaks the same protocol 1.0 routes
(Info, ModelInfo, InputSizes, OutputSizes, Evaluate, Gradient), so ``umbridge.HTTPModel`` and
:func:`~uqbridge.external.umbridge_model` talk to it unchanged.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["ServeLimits", "make_app"]

PROTOCOL = 1.0


@dataclass(frozen=True)
class ServeLimits:
    """Limits of one server: body bytes (checked against Content-Length before reading), seconds per
    request (the model's answer is abandoned after it, the caller gets HTTP 504), JSON nesting depth."""

    max_body: int = 1 << 20
    request_timeout: float | None = 600.0
    max_depth: int = 8


class _Refused(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _error(status: int, kind: str, message: str) -> Any:
    from aiohttp import web

    return web.json_response({"error": {"type": kind, "message": message}}, status=status)


def _depth(text: str) -> int:
    """Deepest bracket nesting of a JSON text (strings skipped), so that a 100 000-deep array is refused
    before ``json.loads`` recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _numbers(value: Any, what: str, length: int) -> list[float]:
    """A JSON array of exactly ``length`` finite JSON numbers (``true`` and ``"12.5"`` refused)."""
    if not isinstance(value, list):
        raise _Refused(400, "InvalidInput", f"{what} must be a JSON array of {length} numbers, got {type(value).__name__}")
    if len(value) != length:
        raise _Refused(400, "InvalidInput", f"{what} has {len(value)} value(s); the model expects {length}")
    bad = [v for v in value if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)]
    if bad:
        raise _Refused(400, "InvalidInput", f"{what} must hold finite JSON numbers only, got {json.dumps(bad[0])}")
    return [float(v) for v in value]


def _index(value: Any, what: str, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
        raise _Refused(400, "InvalidInput", f"{what} must be an integer in 0..{count - 1}, got {value!r}")
    return value


def make_app(model: Any, *, token: str | None = None, limits: ServeLimits = ServeLimits(), max_workers: int = 1) -> Any:
    """The aiohttp application serving ``model`` (an ``umbridge.Model``, e.g. from ``served_model``).

    Examples
    --------
    >>> from uqbridge import get_model
    >>> from uqbridge.external import served_model
    >>> app = make_app(served_model(get_model("ishigami")), token="s3cret")
    >>> sorted({r.resource.canonical for r in app.router.routes()})
    ['/Evaluate', '/Gradient', '/Info', '/InputSizes', '/ModelInfo', '/OutputSizes']
    """
    from aiohttp import web

    executor = ThreadPoolExecutor(max_workers=max_workers)
    expected = None if token is None else f"Bearer {token}".encode()

    @web.middleware
    async def guard(request: Any, handler: Any) -> Any:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):  # constant time: no timing oracle on the token
                return _error(401, "Unauthorized", "missing or wrong bearer token (header 'Authorization: Bearer TOKEN')")
        length = request.content_length
        if length is not None and length > limits.max_body:
            # answered from the headers alone: the body is never read
            return _error(413, "RequestTooLarge", f"request body of {length} bytes exceeds the limit of {limits.max_body}")
        try:
            return await handler(request)
        except _Refused as err:
            return _error(err.status, err.kind, err.message)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "RequestTooLarge", f"request body exceeds the limit of {limits.max_body} bytes")
        except web.HTTPException:
            raise
        except Exception as err:  # noqa: BLE001 - a model error is the caller's answer, not a server crash
            return _error(500, "ModelError", f"{type(err).__name__}: {err}")

    async def body(request: Any) -> dict[str, Any]:
        raw = await request.read()  # bounded by client_max_size
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(400, "InvalidRequest", "request body is not UTF-8 JSON") from None
        if _depth(text) > limits.max_depth:
            raise _Refused(400, "InvalidRequest", f"request JSON nests deeper than {limits.max_depth} levels")
        try:
            data = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON")))
        except ValueError as err:
            raise _Refused(400, "InvalidRequest", f"request body is not valid JSON: {err}") from None
        if not isinstance(data, dict):
            raise _Refused(400, "InvalidRequest", f"request body must be a JSON object, got {type(data).__name__}")
        name = data.get("name")
        if name != model.name:
            raise _Refused(400, "ModelNotFound", f"model {name!r} not found; this server serves [{model.name!r}]")
        config = data.get("config", {})
        if not isinstance(config, dict):
            raise _Refused(400, "InvalidRequest", f"config must be a JSON object, got {type(config).__name__}")
        return data

    def point(data: dict[str, Any]) -> list[list[float]]:
        sizes = model.get_input_sizes({})
        vectors = data.get("input")
        if not isinstance(vectors, list) or len(vectors) != len(sizes):
            raise _Refused(400, "InvalidInput", f"input must be a list of {len(sizes)} vector(s) of sizes {sizes}")
        return [_numbers(v, f"input vector {i}", s) for i, (v, s) in enumerate(zip(vectors, sizes))]

    async def run(function: Any, *args: Any) -> Any:
        future = asyncio.get_running_loop().run_in_executor(executor, function, *args)
        try:
            return await asyncio.wait_for(future, limits.request_timeout)
        except TimeoutError:
            raise _Refused(504, "Timeout", f"the model took longer than {limits.request_timeout:g} s") from None

    async def info(request: Any) -> Any:
        return web.json_response({"protocolVersion": PROTOCOL, "models": [model.name]})

    async def model_info(request: Any) -> Any:
        await body(request)
        support = {"Evaluate": model.supports_evaluate(), "Gradient": model.supports_gradient(),
                   "ApplyJacobian": False, "ApplyHessian": False}
        return web.json_response({"support": support})

    async def input_sizes(request: Any) -> Any:
        await body(request)
        return web.json_response({"inputSizes": model.get_input_sizes({})})

    async def output_sizes(request: Any) -> Any:
        await body(request)
        return web.json_response({"outputSizes": model.get_output_sizes({})})

    async def evaluate(request: Any) -> Any:
        data = await body(request)
        output = await run(model.__call__, point(data), {})
        return web.json_response({"output": output})

    async def gradient(request: Any) -> Any:
        data = await body(request)
        if not model.supports_gradient():
            raise _Refused(400, "UnsupportedFeature", "this model offers no Gradient")
        parameters = point(data)
        outs, ins = model.get_output_sizes({}), model.get_input_sizes({})
        out_wrt = _index(data.get("outWrt"), "outWrt", len(outs))
        in_wrt = _index(data.get("inWrt"), "inWrt", len(ins))
        sens = _numbers(data.get("sens"), "sens", outs[out_wrt])
        output = await run(model.gradient, out_wrt, in_wrt, parameters, sens, {})
        return web.json_response({"output": output})

    # lingering_time=0: an over-long body is not drained after the 413, the connection is closed
    app = web.Application(middlewares=[guard], client_max_size=limits.max_body, handler_args={"lingering_time": 0.0})
    app.router.add_get("/Info", info)
    for route, handler in (("ModelInfo", model_info), ("InputSizes", input_sizes), ("OutputSizes", output_sizes),
                           ("Evaluate", evaluate), ("Gradient", gradient)):
        app.router.add_post(f"/{route}", handler)

    async def stop(_app: Any) -> None:
        executor.shutdown(wait=False, cancel_futures=True)

    app.on_cleanup.append(stop)
    return app
