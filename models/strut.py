"""Stiffness-critical component: Euler buckling of a pinned–pinned solid circular strut under an axial load.

Macro end of the atoms → crystal → polycrystal → component chain: Young's modulus in, load margin out.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from uqbridge import Constant, ForwardModel, Gumbel, Input, LogNormal, Normal, Output

__all__ = ["euler_strut", "euler_strut_function"]


def euler_strut_function(
    E: Any, d: Any, L: Any, P: Any, yield_strength: Any, xp: Any = np
) -> dict[str, Any]:
    """Euler load of a pinned–pinned solid round strut, margin against the applied load, slenderness check.

    ``P_cr = π² E I / L²`` with ``I = π d⁴ / 64`` (Euler 1744; Timoshenko & Gere, *Theory of Elastic
    Stability*, 2nd ed., 1961, §2.1). Units: E in GPa, d in mm, L in m, P in kN, yield strength in MPa.
    ``slenderness = L / r`` with ``r = d/4``; Euler (elastic) buckling governs when it exceeds
    ``π √(E / σ_y)`` (Johnson's transition), reported as ``elastic_ratio`` (> 1: Euler valid).

    Examples
    --------
    >>> out = euler_strut_function(128.0, 20.0, 1.0, 5.0, 70.0)
    >>> round(float(out["P_cr"]), 3), round(float(out["margin"]), 3)  # kN
    (9.922, 4.922)
    """
    inertia = math.pi * (d * 1e-3) ** 4 / 64.0  # m^4
    p_cr = math.pi**2 * (E * 1e9) * inertia / L**2 / 1e3  # kN
    slenderness = L / (d * 1e-3 / 4.0)
    transition = math.pi * xp.sqrt(E * 1e3 / yield_strength)
    return {
        "P_cr": p_cr,
        "margin": p_cr - P,
        "slenderness": slenderness,
        "elastic_ratio": slenderness / transition,
    }


def euler_strut(
    *, d: float = 20.0, L: float = 1.0, load_mean: float = 5.0, load_cov: float = 0.15
) -> ForwardModel:
    """Buckling margin ``P_cr − P`` (kN) of a pinned–pinned round copper strut; aleatory geometry and load.

    Defaults: annealed Cu strut, diameter 20 mm (Normal, sd 0.05 mm — drawn-bar tolerance h9 ≈ ±0.05),
    length 1.0 m (Normal, sd 1 mm), axial service load Gumbel (mean 5 kN, CoV 15 %: the extreme-value
    law of a maximum load per service period), yield strength 70 MPa (annealed C10100/C11000, ASM
    Handbook vol. 2). Slenderness L/r = 200 lies well above Johnson's transition π√(E/σ_y) ≈ 135, so
    elastic (Euler) buckling governs. Validity: perfectly straight strut, ideal pins, elastic
    buckling (``elastic_ratio > 1``; a warning is issued for samples below, where plastic buckling
    lowers the load); no initial crookedness (which lowers P_cr further — Perry–Robertson).

    Parameters
    ----------
    d, L : float
        Nominal diameter (mm) and length (m).
    load_mean, load_cov : float
        Mean (kN) and coefficient of variation of the service load.

    Examples
    --------
    >>> m = euler_strut()
    >>> out = m(E=128.0, d=20.0, L=1.0, P=5.0)
    >>> round(float(out["P_cr"][0]), 2), bool(out["elastic_ratio"][0] > 1)
    (9.92, True)
    """
    for name, value in (("d", d), ("L", L), ("load_mean", load_mean), ("load_cov", load_cov)):
        if not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")

    def function(E, d, L, P, yield_strength, xp=np):
        out = euler_strut_function(E, d, L, P, yield_strength, xp=xp)
        if xp is np and np.any(np.asarray(out["elastic_ratio"]) < 1.0):
            warnings.warn(
                "euler_strut: some samples have slenderness below Johnson's transition (elastic_ratio < 1); "
                "Euler's load overestimates their buckling load (plastic buckling)", RuntimeWarning, stacklevel=2,
            )
        return out

    # Gumbel(loc, scale) with mean loc + 0.5772 scale and sd pi scale / sqrt(6)
    scale = load_cov * load_mean * math.sqrt(6.0) / math.pi
    return ForwardModel(
        "euler_strut",
        function,
        [
            Input("E", LogNormal.from_median_cov(128.0, 0.03), "aleatory", "GPa",
                  "Young's modulus of the strut (wired from the polycrystal in a chain)"),
            Input("d", Normal(d, 0.05), "aleatory", "mm", "strut diameter (bar tolerance)"),
            Input("L", Normal(L, 1e-3), "aleatory", "m", "strut length between pins"),
            Input("P", Gumbel(load_mean - 0.5772156649 * scale, scale), "aleatory", "kN",
                  "axial service load (maximum per service period)"),
            Input("yield_strength", Constant(70.0), "epistemic", "MPa", "yield strength (annealed Cu)"),
        ],
        [
            Output("P_cr", "kN", "Euler buckling load pi^2 E I / L^2"),
            Output("margin", "kN", "buckling margin P_cr - P (failure when <= 0)"),
            Output("slenderness", "-", "slenderness ratio L / r"),
            Output("elastic_ratio", "-", "slenderness / Johnson transition pi sqrt(E / yield); > 1: Euler valid"),
        ],
        description=(
            "Euler buckling margin of a pinned-pinned solid round strut (kN). Valid: straight strut, "
            "elastic buckling (elastic_ratio > 1)"
        ),
        differentiable=True,
    )
