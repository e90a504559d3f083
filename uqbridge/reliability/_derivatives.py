"""Gradients and Hessians of a limit state in standard-normal space: batched central finite
differences, or PyTensor gradients of a differentiable model chained with the Nataf Jacobian."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from ._common import Evaluator

GRADIENTS = ("auto", "fd", "tensor")
GradientFunction = Callable[..., tuple[np.ndarray, np.ndarray]]
# numpy ufuncs take at most 32 operands; an n-ary Elemwise node above that fails in the Python linker
_MAX_ELEMWISE_OPERANDS = 31


def gradient_function(ev: Evaluator, gradient: str, step: float) -> tuple[GradientFunction, str]:
    """``f(U, g0=None) -> (g (n,), ∇g (n, d))`` for points ``U`` (n, d), and the name of the method used.

    ``g0``, when given, is g at ``U`` already computed (e.g. the accepted line-search point): finite
    differences then skip the centre points (2d runs per point instead of 2d + 1)."""
    if gradient not in GRADIENTS:
        raise ValueError(f"{ev.where}: gradient must be one of {GRADIENTS}, got {gradient!r}")
    if not (isinstance(step, (int, float)) and 0 < step < 1):
        raise ValueError(f"{ev.where}: step must be a number in (0, 1), got {step!r}")
    differentiable = all(m.differentiable for m in ev.ls.models)
    if gradient == "tensor" and not differentiable:
        names = [m.name for m in ev.ls.models if not m.differentiable]
        raise ValueError(f"{ev.where}: gradient='tensor' needs differentiable models; {names} are not (use 'fd')")
    if gradient == "tensor" or (gradient == "auto" and differentiable):
        return _tensor_gradient(ev, step), "pytensor"
    return (lambda U, g0=None: fd_gradient(ev, U, step, g0)), "central finite differences"


def fd_gradient(ev: Evaluator, U: np.ndarray, step: float, g0: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Central differences for all points and directions in one batched model call (n(2d+1) runs,
    n·2d when g at ``U`` is given as ``g0``); a failed run gives NaN components (the caller rejects
    the point), never an exception."""
    U = np.atleast_2d(U)
    n, d = U.shape
    eye = step * np.eye(d)
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
    key = (tuple(names), _structure(ev.ls))
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
    else:
        _COMPILED[key] = _compile(ev)
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    compiled, fixed_names = _COMPILED[key]
    constants = {i.name: float(i.distribution.mean) for m in ev.ls.models for i in m.inputs if i.distribution.is_constant}
    fixed_values = [np.float64(constants[n]) for n in fixed_names]

    def function(U: np.ndarray, g0: Any = None) -> tuple[np.ndarray, np.ndarray]:
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
