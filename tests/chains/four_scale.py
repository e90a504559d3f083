"""A 4-scale analytic chain with a non-adjacent wire and a cross-scale interaction, skewed and heavy-tailed
(built for the attribution tests; shares in closed form below).

    atom:       u = x1 − e^{s1²/2}                 x1 ~ LogNormal(0, s1)     (E u = 0, skewed)
    grain:      v = u + x2 − (loc + γ·scale)       x2 ~ Gumbel(loc, scale)   (skewed, centred)
    part:       w = v + 2 x3                       x3 ~ Uniform(−h, h)
    component:  y = w + u · x4                     x4 ~ Normal(0, s4)        (u wired atom -> component,
                                                                              skipping two stages)

so y = u + x2c + 2 x3 + u x4 with independent zero-mean terms; u x4 is uncorrelated with the rest
(E x4 = 0), and Var(u x4) = Var u · s4². Hence, with σu² = (e^{s1²} − 1) e^{s1²}, σ2² = π² scale²/6,
σ3² = h²/3: V = σu² (1 + s4²) + σ2² + 4 σ3²; closed shares atom σu²/V, grain σ2²/V, part 4σ3²/V,
component 0 (E[y | x4] = E u · x4 = 0); totals atom σu²(1 + s4²)/V, component σu² s4²/V, grain and part
= their closed; interactions atom = component = σu² s4²/V, others 0 (Sobol' 1993 ANOVA of a sum of
products of independent zero-mean terms). The output is heavy-tailed (a lognormal times a normal).
"""

from __future__ import annotations

import math

import numpy as np

import uqbridge as uq

S1, LOC, SCALE, H, S4 = 0.6, 0.0, 0.5, 1.0, 0.8
EULER = 0.5772156649015329


def four_scale_chain() -> uq.ChainModel:
    shift = math.exp(S1**2 / 2)
    gmean = LOC + EULER * SCALE
    atom = uq.ForwardModel("atom", lambda x1, xp=None: {"u": x1 - shift},
                           [uq.Input("x1", uq.LogNormal(0.0, S1), "epistemic")], [uq.Output("u")], differentiable=True)
    grain = uq.ForwardModel("grain", lambda u, x2, xp=None: {"v": u + x2 - gmean},
                            [uq.Input("u", uq.Normal(0, 1)), uq.Input("x2", uq.Gumbel(LOC, SCALE))], [uq.Output("v")],
                            differentiable=True)
    part = uq.ForwardModel("part", lambda v, x3, xp=None: {"w": v + 2 * x3},
                           [uq.Input("v", uq.Normal(0, 1)), uq.Input("x3", uq.Uniform(-H, H), "epistemic")],
                           [uq.Output("w")], differentiable=True)
    component = uq.ForwardModel("component", lambda w, u, x4, xp=None: {"y": w + u * x4},
                                [uq.Input("w", uq.Normal(0, 1)), uq.Input("u", uq.Normal(0, 1)),
                                 uq.Input("x4", uq.Normal(0, S4))], [uq.Output("y")], differentiable=True)
    return uq.chain(uq.Stage(atom, scale="atom"), uq.Stage(grain, scale="grain"), uq.Stage(part, scale="part"),
                    uq.Stage(component, scale="component"), name="four_scale")


def four_scale_shares() -> dict[str, dict[str, float]]:
    """``{"closed"|"total"|"interaction": {scale: share}}`` of y."""
    su2 = math.expm1(S1**2) * math.exp(S1**2)
    s22 = math.pi**2 * SCALE**2 / 6
    s32 = H**2 / 3
    inter = su2 * S4**2
    v = su2 + inter + s22 + 4 * s32
    closed = {"atom": su2 / v, "grain": s22 / v, "part": 4 * s32 / v, "component": 0.0}
    interaction = {"atom": inter / v, "grain": 0.0, "part": 0.0, "component": inter / v}
    total = {s: closed[s] + interaction[s] for s in closed}
    return {"closed": closed, "total": total, "interaction": interaction}


SCALES = ("atom", "grain", "part", "component")
__all__ = ["SCALES", "four_scale_chain", "four_scale_shares", "np"]
