"""Pores → permeability → part: mould filling in resin infusion, as a three-stage chain.

pores (fibre-bed Stokes cell, :mod:`models.fibre_bed`) → preform (effective Darcy permeability along the
flow: the harmonic mean over the local fibre-fraction scatter) → part (1-D Darcy filling time of a
flow length L under the vacuum pressure difference, and its margin to the resin's gel time).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from uqbridge import (
    Constant,
    ForwardModel,
    Input,
    LogNormal,
    Normal,
    Output,
    Stage,
    Uniform,
    chain,
)
from uqbridge.chains.graph import ChainModel

from .fibre_bed import V_F, WEIGHTS, fibre_bed

__all__ = ["fill_time", "mould_filling", "preform_permeability", "resin_infusion"]


def fill_time(porosity: Any, viscosity: Any, length: Any, permeability: Any, pressure: Any) -> Any:
    """1-D Darcy filling time ``t = φ μ L² / (2 K ΔP)`` of a flow length L at constant pressure difference.

    Darcy flux ``q = K ΔP/(μ x_f)`` behind a front at ``x_f``, front speed ``q/φ``, so
    ``x_f dx_f = K ΔP/(μ φ) dt`` (e.g. Advani & Sozer, *Process Modeling in Composites Manufacturing*, 2nd
    ed., 2010, ch. 7).

    Examples
    --------
    >>> round(float(fill_time(0.5, 0.2, 0.1, 1e-12, 1e5)), 1)
    5000.0
    """
    return porosity * viscosity * length**2 / (2.0 * permeability * pressure)


def preform_permeability() -> ForwardModel:
    """Effective permeability along the flow: harmonic Gauss–Hermite mean of the three local values.

    For a 1-D flow through segments in series (scatter correlation length ≪ L), the pressure drop
    adds up: ``1/K_eff = E[1/K(V_f,local)]``, with the local fibre fraction ``N(V_f, s_Vf²)``
    integrated by the 3-point rule of :mod:`models.fibre_bed`. Also gives the porosity ``φ = 1 − V_f``.

    Examples
    --------
    >>> m = preform_permeability()
    >>> round(float(m(K_lo=1e-12, K_mid=1e-12, K_hi=1e-12, V_f=0.5)["K"][0] / 1e-12), 12)
    1.0
    """
    w_lo, w_mid, w_hi = WEIGHTS

    def function(K_lo, K_mid, K_hi, V_f, xp: Any = np):
        return {"K": 1.0 / (w_lo / K_lo + w_mid / K_mid + w_hi / K_hi), "phi": 1.0 - V_f}

    local = [Input(f"K_{t}", LogNormal(float(np.log(5e-13)), 0.5), "aleatory", "m^2", "local permeability")
             for t in ("lo", "mid", "hi")]
    return ForwardModel(
        "preform_permeability", function, [*local, V_F],
        [Output("K", "m^2", "effective permeability along the flow (harmonic mean)"), Output("phi", "", "porosity 1 - V_f")],
        description="effective Darcy permeability of a preform with a scattered fibre fraction (series segments)",
        differentiable=True,
    )


def mould_filling() -> ForwardModel:
    """Filling time of a part by 1-D resin infusion and its margin to the gel time.

    Inputs: ``K`` (m², from the preform), ``phi`` (porosity), resin viscosity ``mu`` (epistemic
    LogNormal, median 0.2 Pa·s, 15 % — infusion epoxies at room temperature are 0.1–0.5 Pa·s),
    pressure difference ``dP`` (aleatory Uniform 0.85–0.95 bar: vacuum infusion, ≤ 1 bar), flow length
    ``L`` (0.1 m) and gel time ``t_gel`` (aleatory Normal 8 h ± 1 h). Outputs ``t_fill`` (s),
    ``gel_margin = t_gel − t_fill`` (s; failure ≤ 0) and ``fill_ratio = t_fill/t_gel``.

    Examples
    --------
    >>> m = mould_filling()
    >>> round(float(m(K=1e-12, phi=0.5, mu=0.2, dP=1e5, t_gel=6000.0)["gel_margin"][0]), 1)
    1000.0
    """

    def function(K, phi, mu, dP, L, t_gel, xp: Any = np):
        t = fill_time(phi, mu, L, K, dP)
        return {"t_fill": t, "gel_margin": t_gel - t, "fill_ratio": t / t_gel}

    inputs = [
        Input("K", LogNormal(float(np.log(5e-13)), 0.5), "aleatory", "m^2", "effective permeability along the flow"),
        Input("phi", Uniform(0.4, 0.55), "aleatory", "", "porosity of the preform"),
        Input("mu", LogNormal(float(np.log(0.2)), 0.15), "epistemic", "Pa s", "resin viscosity at the infusion temperature"),
        Input("dP", Uniform(0.85e5, 0.95e5), "aleatory", "Pa", "pressure difference (vacuum infusion)"),
        Input("L", Constant(0.1), "aleatory", "m", "flow length"),
        Input("t_gel", Normal(28800.0, 3600.0), "aleatory", "s", "gel time of the resin batch"),
    ]
    return ForwardModel(
        "mould_filling", function, inputs,
        [Output("t_fill", "s", "mould filling time"), Output("gel_margin", "s", "gel time - fill time"),
         Output("fill_ratio", "", "fill time / gel time")],
        description="1-D Darcy mould filling time and margin to gel (resin infusion)", differentiable=True,
    )


def resin_infusion(model_form: Literal["cell", "gebart"] = "cell", *, n: int = 32) -> ChainModel:
    """Pores → permeability → part: probability that a resin-infusion fill outlasts the resin's gel time.

    Stages (scales): ``pores`` — :func:`models.fibre_bed.fibre_bed` (Stokes cell, or Gebart's form
    with ``model_form="gebart"``, which makes the chain differentiable); ``preform`` —
    :func:`preform_permeability`; ``part`` — :func:`mould_filling`. Validity: unidirectional glass
    or carbon preforms, transverse flow, mean fibre fraction 0.45–0.6 with local scatter keeping it
    in 0.30–0.70, r_f 3.5–8 µm, μ 0.1–0.5 Pa·s, ΔP ≤ 1 bar.

    Examples
    --------
    >>> g = resin_infusion("gebart")
    >>> g.scales, g.input_scale["mu"]
    (('pores', 'preform', 'part'), 'part')
    """
    return chain(
        Stage(fibre_bed(model_form, n=n), scale="pores"),
        Stage(preform_permeability(), scale="preform"),
        Stage(mould_filling(), scale="part"),
        name="resin_infusion" if model_form == "cell" else "resin_infusion_gebart",
        description="pores -> permeability -> part: fibre-bed Stokes cell -> preform Darcy permeability with "
        "fibre-fraction scatter -> 1-D resin-infusion fill time vs gel time (UD glass/carbon, transverse flow, "
        "V_f 0.45-0.6, r_f 3.5-8 um, mu 0.1-0.5 Pa s, dP <= 1 bar)",
    )
