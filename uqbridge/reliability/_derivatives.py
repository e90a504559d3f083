"""Gradients and Hessians of a limit state in standard-normal space: batched central finite
differences, or PyTensor gradients of a differentiable model chained with the Nataf Jacobian."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from ._common import Evaluator

GRADIENTS = ("auto", "fd", "tensor")
# f(U, g0=None, forward=False) -> (g, ∇g); ``forward`` allows one-sided differences (ignored by PyTensor)
GradientFunction = Callable[..., tuple[np.ndarray, np.ndarray]]
# numpy ufuncs take at most 32 operands; an n-ary Elemwise node above that fails in the Python linker
_MAX_ELEMWISE_OPERANDS = 31


def gradient_function(
    ev: Evaluator, gradient: str, step: float, adaptive: bool = False
) -> tuple[GradientFunction, str]:
    """``f(U, g0=None) -> (g (n,), ∇g (n, d))`` for points ``U`` (n, d), and the name of the method used.

    ``g0``, when given, is g at ``U`` already computed (e.g. the accepted line-search point): finite
    differences then skip the centre points (2d runs per point instead of 2d + 1).

    ``adaptive`` (with ``gradient="auto"`` on differentiable models): the first gradient is taken by
    finite differences and timed; PyTensor is compiled only when a search's worth of such gradients
    would cost more wall time than compiling (see :class:`AutoGradient`), or when this structure is
    already compiled. The method finally used is the returned function's ``method`` attribute."""
    if gradient not in GRADIENTS:
        raise ValueError(f"{ev.where}: gradient must be one of {GRADIENTS}, got {gradient!r}")
    if not (isinstance(step, (int, float)) and 0 < step < 1):
        raise ValueError(f"{ev.where}: step must be a number in (0, 1), got {step!r}")
    differentiable = all(m.differentiable for m in ev.ls.models)
    if gradient == "tensor" and not differentiable:
        names = [m.name for m in ev.ls.models if not m.differentiable]
        raise ValueError(f"{ev.where}: gradient='tensor' needs differentiable models; {names} are not (use 'fd')")
    if gradient == "auto" and differentiable and adaptive:
        auto = AutoGradient(ev, step)
        return auto, auto.method
    if gradient == "tensor" or (gradient == "auto" and differentiable):
        return _tensor_gradient(ev, step), "pytensor"
    return (lambda U, g0=None, forward=False: fd_gradient(ev, U, step, g0, forward)), FD_METHOD


def fd_gradient(
    ev: Evaluator, U: np.ndarray, step: float, g0: Any = None, forward: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences for all points and directions in one batched model call (n(2d+1) runs,
    n·2d when g at ``U`` is given as ``g0``); a failed run gives NaN components (the caller rejects
    the point), never an exception.

    ``forward``: one-sided differences ``(g(u + h eᵢ) − g(u))/h`` (n·d runs, + n without ``g0``),
    error O(h) instead of O(h²): good enough to steer a search far from its solution, at half the
    runs. A central gradient at the same point later needs only the d points ``u − h eᵢ`` when the
    evaluator caches its runs."""
    U = np.atleast_2d(U)
    n, d = U.shape
    eye = step * np.eye(d)
    if forward:
        if g0 is None:
            batch = np.concatenate([U[:, None, :], U[:, None, :] + eye], axis=1)
            g = ev(batch.reshape(-1, d), finite=False).reshape(n, d + 1)
            return g[:, 0], (g[:, 1:] - g[:, :1]) / step
        gp = ev((U[:, None, :] + eye).reshape(-1, d), finite=False).reshape(n, d)
        g0 = np.broadcast_to(np.asarray(g0, dtype=float), (n,)).copy()
        return g0, (gp - g0[:, None]) / step
    if g0 is not None:
        batch = np.concatenate([U[:, None, :] + eye, U[:, None, :] - eye], axis=1)
        g = ev(batch.reshape(-1, d), finite=False).reshape(n, 2 * d)
        return np.broadcast_to(np.asarray(g0, dtype=float), (n,)).copy(), (g[:, :d] - g[:, d:]) / (2 * step)
    batch = np.concatenate([U[:, None, :], U[:, None, :] + eye, U[:, None, :] - eye], axis=1)
    g = ev(batch.reshape(-1, d), finite=False).reshape(n, 2 * d + 1)
    return g[:, 0], (g[:, 1 : d + 1] - g[:, d + 1 :]) / (2 * step)


# Compiled PyTensor gradients by limit-state structure (see _structure): an outer loop over fixed
# epistemic values (pf_epistemic, pf_by_scale) compiles once, not once per outer sample.
_COMPILED: OrderedDict[tuple[Any, ...], tuple[Any, tuple[str, ...]]] = OrderedDict()
_COMPILED_MAX = 16


# A design-point search takes about 5-20 gradients (benchmarks/reliability.py, form_seeds; 9-25 on
# benchmarks/form_dimension.py at d = 10-100): compiling pays off when this many finite-difference
# gradients cost more wall time than the compilation.
_SEARCH_GRADIENTS = 20
FD_METHOD = "central finite differences"


def compile_seconds(ev: Evaluator) -> float:
    """A low estimate of PyTensor's compile time for ``ev``'s limit state (FAST_COMPILE, Python linker).

    Measured on the shared 2-core machine for a quadratic g in d standard normals: 2.7 s at d = 10,
    3.4 s at d = 20, 11 s at d = 40, 45-80 s at d = 50-100 (issue 29); the graph, hence the compile
    time, grows at least linearly with the inputs of every model. Low on purpose: the estimate decides
    against compiling only when finite differences are clearly cheaper.
    """
    return 1.0 + 0.1 * ev.dim * max(1, len(ev.ls.models))


class AutoGradient:
    """``gradient="auto"`` for differentiable models: PyTensor only when compiling pays off.

    The first call runs finite differences and times them; if ``_SEARCH_GRADIENTS`` such gradients
    would take longer than :func:`compile_seconds`, later calls use the compiled PyTensor gradient,
    else finite differences (a cheap NumPy model: 2d runs cost microseconds, compiling seconds). A
    structure already compiled in this process is used from the start. ``method`` names the method
    used for the later calls; ``decision`` says why.
    """

    def __init__(self, ev: Evaluator, step: float) -> None:
        self.ev, self.step = ev, step
        self.tensor: GradientFunction | None = None
        self.method, self.decision = "auto", ""
        if _key(ev) in _COMPILED:
            self.tensor, self.method = _tensor_gradient(ev, step), "pytensor"
            self.decision = "compiled gradient reused (same limit-state structure)"

    def __call__(self, U: np.ndarray, g0: Any = None, forward: bool = False) -> tuple[np.ndarray, np.ndarray]:
        if self.tensor is not None:
            return self.tensor(U, g0)
        if self.method != "auto":
            return fd_gradient(self.ev, U, self.step, g0, forward)
        started = time.perf_counter()
        out = fd_gradient(self.ev, U, self.step, g0, forward)
        per_gradient = (time.perf_counter() - started) / max(1, np.atleast_2d(U).shape[0])
        estimate = compile_seconds(self.ev)
        if per_gradient * _SEARCH_GRADIENTS > estimate:
            self.tensor, self.method = _tensor_gradient(self.ev, self.step), "pytensor"
        else:
            self.method = FD_METHOD
        self.decision = (f"{_SEARCH_GRADIENTS} finite-difference gradients ~{per_gradient * _SEARCH_GRADIENTS:.2g} s "
                         f"vs compiling ~{estimate:.2g} s")
        return out


def _key(ev: Evaluator) -> tuple[Any, ...]:
    return (tuple(ev.inputs.dimension_names), _structure(ev.ls))


def _structure(ls: Any) -> tuple[Any, ...]:
    """What a compiled gradient depends on, except the values of fixed inputs (passed at call time)."""
    if hasattr(ls, "output"):
        m = ls.model
        fixed = tuple((i.name, i.distribution.is_constant) for i in m.inputs)
        # the function object itself is kept in the key: its id cannot be reused while cached
        return ("leaf", m.function, m.output_names, fixed, ls.output, ls.threshold, ls.failure)
    return (ls.kind, tuple(_structure(c) for c in ls.components))


def _compile(ev: Evaluator) -> tuple[Any, tuple[str, ...]]:
    """The compiled ``(uncertain..., fixed...) -> [g, dg/dx...]`` of ``ev.ls`` and the fixed names."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_mode

    names = ev.inputs.dimension_names
    variables = {n: pt.dvector(n) for n in names}
    fixed: dict[str, Any] = {}
    outputs = {}
    for m in ev.ls.models:
        own = {n: variables[n] for n in m.inputs.names if n in variables}
        for i in m.inputs:
            if i.name not in own and i.distribution.is_constant:
                own[i.name] = fixed.setdefault(i.name, pt.dscalar(i.name))
        outputs[id(m)] = m.evaluate_tensor(pt, **own)
    g = pt.as_tensor_variable(ev.ls.g_from_outputs(outputs, xp=pt))
    g = pt.broadcast_to(g, variables[names[0]].shape) if g.ndim == 0 else g
    grads = pt.grad(g.sum(), [variables[n] for n in names], disconnected_inputs="ignore")
    assert isinstance(grads, list)  # a list of variables in, a list of gradients out
    args = [variables[n] for n in names] + list(fixed.values())
    # FAST_COMPILE: these graphs are small and evaluated on short vectors; C compilation costs seconds.
    compiled = pytensor.function(args, [g, *grads], mode="FAST_COMPILE", on_unused_input="ignore")
    if any(len(node.inputs) > _MAX_ELEMWISE_OPERANDS for node in compiled.maker.fgraph.toposort()):
        # canonicalisation merges a chain of binary adds/muls (e.g. a sum over 32+ inputs) into one
        # n-ary node the Python linker cannot run; without it the graph keeps its binary nodes.
        compiled = pytensor.function(args, [g, *grads], mode=get_mode("FAST_COMPILE").excluding("canonicalize"),
                                     on_unused_input="ignore")
    return compiled, tuple(fixed)


def _tensor_gradient(ev: Evaluator, step: float) -> GradientFunction:
    inputs = ev.inputs
    names = inputs.dimension_names
    key = _key(ev)
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
    else:
        _COMPILED[key] = _compile(ev)
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    compiled, fixed_names = _COMPILED[key]
    constants = {i.name: float(i.distribution.mean) for m in ev.ls.models for i in m.inputs if i.distribution.is_constant}
    fixed_values = [np.float64(constants[n]) for n in fixed_names]

    def function(U: np.ndarray, g0: Any = None, forward: bool = False) -> tuple[np.ndarray, np.ndarray]:
        U = np.atleast_2d(U)
        n, d = U.shape
        x = inputs.from_standard_normal(U)
        res = compiled(*[np.asarray(x[k], dtype=float) for k in names], *fixed_values)
        ev.n_runs += n * len(ev.ls.models)
        gx = np.stack([np.broadcast_to(r, (n,)) for r in res[1:]], axis=1)
        jac = _nataf_jacobian(inputs, U, x)
        g_val = np.broadcast_to(np.asarray(res[0], dtype=float), (n,)).copy()
        grads = np.einsum("nx,nxu->nu", gx, jac)
        bad = ~(np.isfinite(g_val) & np.isfinite(grads).all(axis=1))
        if bad.any():  # failed runs, counted as the evaluator counts its own; the caller rejects them
            ev.n_failed += int(bad.sum())
            if not ev.first_failure:
                ev.first_failure = f"g or its gradient is not finite at u = {U[int(np.flatnonzero(bad)[0])].tolist()}"
            g_val[bad], grads[bad] = np.nan, np.nan
        return g_val, grads

    return function


def _nataf_jacobian(inputs: Any, U: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """dx/du of ``x_i = F_i⁻¹(Φ(z_c,i))``, ``z_c = L u``: ``diag(φ(z_c)/f(x)) L`` (n, x, u)."""
    names = inputs.dimension_names
    chol = np.linalg.cholesky(inputs.correlation_matrix())
    zc = U @ chol.T
    # log densities keep the ratio finite far in the tails, where both factors underflow.
    scale = np.stack(
        [np.exp(stats.norm.logpdf(zc[:, k]) - inputs[n].distribution.scipy().logpdf(x[n])) for k, n in enumerate(names)],
        axis=1,
    )
    return scale[:, :, None] * chol[None, :, :]


def gradient_and_hessian(
    grad_fn: GradientFunction, method: str, ev: Evaluator, u: np.ndarray, step: float, g0: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of g at ``u`` in u-space: differences of exact gradients (2d + 1 gradient
    evaluations), or second differences of g, whose ±step points also give the central-difference
    gradient (2d² runs, + 1 unless g at ``u`` is given as ``g0``, e.g. FORM's value at its design point)."""
    d = u.size
    eye = step * np.eye(d)
    if method == "pytensor":
        _, G = grad_fn(np.concatenate([u[None, :], u + eye, u - eye]))
        H = (G[1 : d + 1] - G[d + 1 :]).T / (2 * step)
        return G[0], 0.5 * (H + H.T)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    points = [u + eye, u - eye]
    for sign in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        points.append(np.array([u + sign[0] * eye[i] + sign[1] * eye[j] for i, j in pairs]).reshape(-1, d))
    if g0 is None or not np.isfinite(g0):
        points.insert(0, u[None, :])
    g = ev(np.concatenate(points), finite=False)  # a failed run leaves NaN in H: SORM then says so
    if g0 is None or not np.isfinite(g0):
        g0, g = float(g[0]), g[1:]
    gp, gm = g[:d], g[d : 2 * d]
    H = np.diag((gp - 2 * g0 + gm) / step**2)
    if pairs:
        q = g[2 * d :].reshape(4, len(pairs))
        for k, (i, j) in enumerate(pairs):
            H[i, j] = H[j, i] = (q[0, k] - q[1, k] - q[2, k] + q[3, k]) / (4 * step**2)
    return (gp - gm) / (2 * step), H
