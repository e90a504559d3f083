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

from .fibre_bed import PREFORMS, V_F, V_F_TWILL, WEIGHTS, fibre_bed

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


def preform_permeability(v_f: Input = V_F) -> ForwardModel:
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
        "preform_permeability", function, [*local, v_f],
        [Output("K", "m^2", "effective permeability along the flow (harmonic mean)"), Output("phi", "", "porosity 1 - V_f")],
        description="effective Darcy permeability of a preform with a scattered fibre fraction (series segments)",
        differentiable=True,
    )


def mould_filling(*, length: float = 0.8, gel_time_h: tuple[float, float] = (4.0, 0.5)) -> ForwardModel:
    """Filling time of a part by 1-D resin infusion and its margin to the gel time.

    Inputs: ``K`` (m², from the preform), ``phi`` (porosity), resin viscosity ``mu`` (epistemic
    LogNormal, median 0.2 Pa·s, 15 % — infusion epoxies at room temperature are 0.1–0.5 Pa·s),
    pressure difference ``dP`` (aleatory Uniform 0.85–0.95 bar: vacuum infusion, ≤ 1 bar), flow length
    ``L`` (``length``, m; default 0.8 m, in-plane infusion of a 0.8 m panel from one edge, no flow medium) and gel time
    ``t_gel`` (aleatory Normal, ``gel_time_h`` = (mean, sd) in hours; default 4 h ± 0.5 h, a room-temperature
    infusion epoxy). Outputs ``t_fill`` (s), ``gel_margin = t_gel − t_fill`` (s; failure ≤ 0) and
    ``fill_ratio = t_fill/t_gel``.

    Examples
    --------
    >>> m = mould_filling(length=0.1)
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
        Input("L", Constant(length), "aleatory", "m", "flow length"),
        Input("t_gel", Normal(3600.0 * gel_time_h[0], 3600.0 * gel_time_h[1]), "aleatory", "s", "gel time of the resin batch"),
    ]
    return ForwardModel(
        "mould_filling", function, inputs,
        [Output("t_fill", "s", "mould filling time"), Output("gel_margin", "s", "gel time - fill time"),
         Output("fill_ratio", "", "fill time / gel time")],
        description="1-D Darcy mould filling time and margin to gel (resin infusion)", differentiable=True,
    )


def resin_infusion(
    model_form: Literal["cell", "gebart"] = "cell",
    *,
    preform: Literal["twill_carbon", "ud_glass"] = "twill_carbon",
    n: int | None = None,
) -> ChainModel:
    """Pores → permeability → part: probability that a resin-infusion fill outlasts the resin's gel time.

    Stages (scales): ``pores`` — :func:`models.fibre_bed.fibre_bed` (Stokes cell, or Gebart's form with
    ``model_form="gebart"``, which makes the chain differentiable); ``preform`` —
    :func:`preform_permeability`; ``part`` — :func:`mould_filling`.

    ``preform="twill_carbon"`` (default): the Benchmark II 2/2 twill carbon fabric (Vernet et al. 2014),
    in-plane infusion of a 0.8 m panel, gel time 4 h ± 0.5 h; K = 5.9e-11 m² at the median inputs, inside
    the measured inter-laboratory range at V_f = 0.5 (3.4–7.9e-11 m²) (the tow radius is fitted at V_f = 0.503, so that is a
    consistency check, not a prediction; the V_f dependence is too steep, see :func:`models.fibre_bed.fibre_bed`).
    ``preform="ud_glass"``: the former unidirectional E-glass bed, transverse flow, 0.1 m, gel 8 h ± 1 h.
    ``n``: the cell grid (the verified 128² (default) or 96² with its narrower range). Validity: V_f 0.465–0.535 (twill) or 0.50–0.58
    (UD), μ 0.1–0.5 Pa·s, ΔP ≤ 1 bar.

    Examples
    --------
    >>> g = resin_infusion("gebart")
    >>> g.scales, g.input_scale["mu"]
    (('pores', 'preform', 'part'), 'part')
    """
    if preform not in PREFORMS:
        raise ValueError(f"preform must be one of {PREFORMS}, got {preform!r}")
    options = {} if n is None else {"n": n}
    twill = preform == "twill_carbon"
    part = mould_filling() if twill else mould_filling(length=0.1, gel_time_h=(8.0, 1.0))
    suffix = ("" if twill else "_ud_glass") + ("" if model_form == "cell" else "_gebart")
    return chain(
        Stage(fibre_bed(model_form, preform=preform, **options), scale="pores"),
        Stage(preform_permeability(V_F_TWILL if twill else V_F), scale="preform"),
        Stage(part, scale="part"),
        name=f"resin_infusion{suffix}",
        description="pores -> permeability -> part: fibre-preform Stokes cell -> preform Darcy permeability with "
        "fibre-fraction scatter -> 1-D resin-infusion fill time vs gel time ("
        + ("2/2 twill carbon fabric of Benchmark II, tow-scale cell with a fitted tow radius, V_f 0.465-0.535, "
           "L = 0.8 m" if twill else "UD E-glass, transverse flow, V_f 0.50-0.58, L = 0.1 m")
        + ", mu 0.1-0.5 Pa s, dP <= 1 bar)",
    )
