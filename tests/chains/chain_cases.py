"""Analytic multiscale chains with closed-form per-scale variance shares (shared by the chain tests).

``linear_chain``: three linear-Gaussian stages
    micro:  x = a + b                       a ~ N(0, sa) epistemic, b ~ N(0, sb) aleatory
    meso:   z = 2 x + c                     c ~ N(0, sc) epistemic
    macro:  y = z + 3 d                     d ~ N(0, sd) aleatory
so y = 2a + 2b + c + 3d and Var y = 4 sa² + 4 sb² + sc² + 9 sd². Each scale's share (closed = total,
no interactions) is its inputs' part of that sum.

``lognormal_chain``: products of lognormals (interactions between scales)
    micro:  k = X1 X2,   meso: q = k X3,   macro: y = q X4,    ln X_i ~ N(0, s_i) independent
Var(E[y | X_S]) = E[y]² (exp(Σ_{i∈S} s_i²) − 1), so the closed share of the inputs S is
(exp(Σ_S s²) − 1)/(exp(Σ s²) − 1) and the total share 1 − (exp(Σ_{not S} s²) − 1)/(exp(Σ s²) − 1).
"""

from __future__ import annotations

import math

import uqbridge as uq

SIGMA = {"a": 1.0, "b": 0.5, "c": 1.5, "d": 0.4}
S_LOG = {"x1": 0.3, "x2": 0.2, "x3": 0.35, "x4": 0.25}
LOG_SCALES = {"micro": ["x1", "x2"], "meso": ["x3"], "macro": ["x4"]}


def linear_chain() -> uq.ChainModel:
    micro = uq.ForwardModel(
        "grains", lambda a, b, xp=None: {"x": a + b},
        [uq.Input("a", uq.Normal(0, SIGMA["a"]), "epistemic", "m"), uq.Input("b", uq.Normal(0, SIGMA["b"]), "aleatory", "m")],
        [uq.Output("x", "m")], differentiable=True,
    )
    meso = uq.ForwardModel(
        "layer", lambda x_in, c, xp=None: {"z": 2 * x_in + c},
        [uq.Input("x_in", uq.Normal(0, 1), "aleatory", "m"), uq.Input("c", uq.Normal(0, SIGMA["c"]), "epistemic", "m")],
        [uq.Output("z", "m")], differentiable=True,
    )
    macro = uq.ForwardModel(
        "part", lambda z, d, xp=None: {"y": z + 3 * d},
        [uq.Input("z", uq.Normal(0, 1), "aleatory", "m"), uq.Input("d", uq.Normal(0, SIGMA["d"]), "aleatory", "m")],
        [uq.Output("y", "m")], differentiable=True,
    )
    return uq.chain(
        uq.Stage(micro, scale="micro"), uq.Stage(meso, scale="meso", wires={"x_in": "x"}), uq.Stage(macro, scale="macro"),
        name="linear_chain",
    )


def linear_shares() -> dict[str, float]:
    """Closed (= total) share of each scale and of each scale × kind group."""
    parts = {"a": 4 * SIGMA["a"] ** 2, "b": 4 * SIGMA["b"] ** 2, "c": SIGMA["c"] ** 2, "d": 9 * SIGMA["d"] ** 2}
    v = sum(parts.values())
    return {
        "micro": (parts["a"] + parts["b"]) / v, "meso": parts["c"] / v, "macro": parts["d"] / v,
        "micro/epistemic": parts["a"] / v, "micro/aleatory": parts["b"] / v,
        "meso/epistemic": parts["c"] / v, "macro/aleatory": parts["d"] / v,
    }


def lognormal_chain() -> uq.ChainModel:
    def ln(name):
        return uq.Input(name, uq.LogNormal(0.0, S_LOG[name]), "epistemic" if name in ("x1", "x3") else "aleatory")

    micro = uq.ForwardModel("cell", lambda x1, x2, xp=None: {"k": x1 * x2}, [ln("x1"), ln("x2")], [uq.Output("k")], differentiable=True)
    meso = uq.ForwardModel("ply", lambda k, x3, xp=None: {"q": k * x3}, [uq.Input("k", uq.LogNormal(0, 1)), ln("x3")], [uq.Output("q")], differentiable=True)
    macro = uq.ForwardModel("panel", lambda q, x4, xp=None: {"y": q * x4}, [uq.Input("q", uq.LogNormal(0, 1)), ln("x4")], [uq.Output("y")], differentiable=True)
    return uq.chain(uq.Stage(micro, scale="micro"), uq.Stage(meso, scale="meso"), uq.Stage(macro, scale="macro"), name="lognormal_chain")


def lognormal_shares(groups: dict[str, list[str]]) -> dict[str, tuple[float, float]]:
    """``{group: (closed share, total share)}`` of the lognormal chain's output y."""
    total = sum(s**2 for s in S_LOG.values())
    denom = math.expm1(total)
    out = {}
    for g, names in groups.items():
        inside = sum(S_LOG[n] ** 2 for n in names)
        out[g] = (math.expm1(inside) / denom, 1 - math.expm1(total - inside) / denom)
    return out
