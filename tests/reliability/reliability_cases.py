"""Shared reliability test cases (not collected by pytest)."""

import numpy as np

from uqbridge import ForwardModel, Input, Normal, Output, Uniform
from uqbridge.reliability import LimitState


def epistemic_limit_state():
    """g = R − (μ_S + σ_S z), R ~ N(10, 1), z ~ N(0, 1) aleatory; μ_S ~ N(5, 1), σ_S ~ U(0.9, 1.1) epistemic."""
    m = ForwardModel(
        "rs_epistemic",
        lambda R, z, mu_S, sigma_S, xp=np: {"margin": R - (mu_S + sigma_S * z)},
        [
            Input("R", Normal(10.0, 1.0), "aleatory", "kN"),
            Input("z", Normal(0.0, 1.0), "aleatory"),
            Input("mu_S", Normal(5.0, 1.0), "epistemic", "kN"),
            Input("sigma_S", Uniform(0.9, 1.1), "epistemic", "kN"),
        ],
        [Output("margin", "kN")],
        differentiable=True,
    )
    return LimitState(m, "margin")
