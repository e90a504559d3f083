"""Pore scale of a fibre bed: transverse permeability of a unidirectional fibre bed at the local fibre
volume fractions its spatial scatter spans, by the periodic Stokes cell of :mod:`models.stokes_permeability`
or by Gebart's (1992) closed form.

The first stage of the pores → permeability → part chain (:mod:`models.resin_infusion`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from uqbridge import ForwardModel, Input, Normal, Output, Uniform

from .stokes_permeability import stokes_permeability

__all__ = ["NODES", "PACKINGS", "R_F", "S_VF", "V_F", "WEIGHTS", "fibre_bed", "gebart_transverse"]

# 3-point Gauss–Hermite rule for a normal local fibre fraction: exact for polynomials of degree 5
NODES = (-math.sqrt(3.0), 0.0, math.sqrt(3.0))
WEIGHTS = (1 / 6, 2 / 3, 1 / 6)
PACKINGS = {
    # (C1, maximum fibre fraction) of Gebart (1992), eq. 27
    "square": (16 / (9 * math.pi * math.sqrt(2)), math.pi / 4),
    "hexagonal": (16 / (9 * math.pi * math.sqrt(6)), math.pi / (2 * math.sqrt(3))),
}
LOCAL_RANGE = (0.30, 0.70)  # local fibre fractions where the square cell and Gebart's form are used

V_F = Input("V_f", Uniform(0.50, 0.58), "epistemic", "", "mean fibre volume fraction of the compacted preform")
S_VF = Input("s_Vf", Uniform(0.01, 0.04), "epistemic", "", "spatial scatter (sd) of the local fibre volume fraction along the flow")
R_F = Input("r_f", Normal(7.0, 0.35), "aleatory", "um", "fibre radius (E-glass, lot to lot)")


def gebart_transverse(v_f: Any, packing: str = "square", xp: Any = np) -> Any:
    """Gebart's transverse permeability ``K/r² = C1 (√(V_max/V_f) − 1)^{5/2}`` of ordered fibre packings.

    Gebart, B.R. (1992) "Permeability of unidirectional reinforcements for RTM", J. Compos. Mater.
    26(8), 1100–1133, eq. 27: square packing ``C1 = 16/(9π√2)``, ``V_max = π/4``; hexagonal
    ``C1 = 16/(9π√6)``, ``V_max = π/(2√3)`` (a lubrication approximation, accurate near ``V_max``).

    Examples
    --------
    >>> round(float(gebart_transverse(0.5)), 5)
    0.01292
    """
    if packing not in PACKINGS:
        raise ValueError(f"packing must be one of {sorted(PACKINGS)}, got {packing!r}")
    c1, vmax = PACKINGS[packing]
    return c1 * (xp.sqrt(vmax / v_f) - 1.0) ** 2.5


def fibre_bed(model_form: Literal["cell", "gebart"] = "cell", *, n: int = 32) -> ForwardModel:
    """Transverse permeability of a fibre bed at the three local fibre fractions its scatter spans.

    The local fibre volume fraction along the flow path is ``N(V_f, s_Vf²)``; the preform stage
    averages over it with the 3-point Gauss–Hermite rule, so this stage gives the permeability
    ``K_j = r_f² k(V_f + z_j s_Vf)`` at ``z = (−√3, 0, √3)`` (outputs ``K_lo``, ``K_mid``, ``K_hi``).

    ``model_form="cell"``: ``k = K/r²`` from the periodic Stokes cell of a square fibre array on an
    ``n × n`` MAC grid (:func:`models.stokes_permeability.stokes_permeability`; three cell solves per
    sample; at 32² within 1 % of the 48² value for V_f ≤ 0.6). ``"gebart"``: Gebart's closed form for
    the square packing (differentiable; 4–9 % above the converged cell value for V_f = 0.5–0.6).

    Validity: transverse flow through a unidirectional bed, local fibre fractions 0.30–0.70 (refused
    outside: the square array touches at π/4), fibre radius 3.5–8 µm (glass and carbon fibres).

    Examples
    --------
    >>> m = fibre_bed("gebart")
    >>> out = m(V_f=0.5, s_Vf=0.0, r_f=7.0)
    >>> round(float(out["K_mid"][0] / 49e-12), 5)
    0.01292
    """
    if model_form not in ("cell", "gebart"):
        raise ValueError(f"model_form must be 'cell' or 'gebart', got {model_form!r}")
    outputs = [Output(f"K_{tag}", "m^2", f"transverse permeability at V_f {sign} sqrt(3) s_Vf")
               for tag, sign in (("lo", "-"), ("mid", "+ 0"), ("hi", "+"))]
    outputs[1] = Output("K_mid", "m^2", "transverse permeability at the mean fibre fraction")

    def local_fractions(V_f, s_Vf, xp):
        fractions = [V_f + z * s_Vf for z in NODES]
        if xp is np:
            lo, hi = np.min(fractions[0]), np.max(fractions[2])
            if lo < LOCAL_RANGE[0] or hi > LOCAL_RANGE[1]:
                raise ValueError(
                    f"fibre_bed: local fibre fractions V_f ± sqrt(3) s_Vf span [{lo:.3g}, {hi:.3g}], outside the "
                    f"validity range {LOCAL_RANGE}; lower s_Vf or move V_f"
                )
        return fractions

    if model_form == "gebart":

        def closed(V_f, s_Vf, r_f, xp: Any = np):
            r2 = (r_f * 1e-6) ** 2
            ks = [gebart_transverse(v, "square", xp) * r2 for v in local_fractions(V_f, s_Vf, xp)]
            return {"K_lo": ks[0], "K_mid": ks[1], "K_hi": ks[2]}

        return ForwardModel(
            "fibre_bed_gebart", closed, [V_F, S_VF, R_F], outputs, differentiable=True,
            description="transverse permeability of a square fibre bed at the local fibre fractions, Gebart (1992)",
        )
    cell = stokes_permeability("square_cylinders", n=n)

    def solved(V_f, s_Vf, r_f):
        r2 = (np.asarray(r_f) * 1e-6) ** 2
        ks = [cell(porosity=1.0 - v, a=1.0)["K_rel"] * r2 for v in local_fractions(np.asarray(V_f), np.asarray(s_Vf), np)]
        return {"K_lo": ks[0], "K_mid": ks[1], "K_hi": ks[2]}

    return ForwardModel(
        "fibre_bed", solved, [V_F, S_VF, R_F], outputs,
        description=f"transverse permeability of a square fibre bed by a periodic Stokes cell ({n}^2 MAC grid) "
        "at the local fibre fractions V_f + (-sqrt3, 0, sqrt3) s_Vf; valid for local V_f 0.30-0.70, r_f 3.5-8 um",
    )


def _validations() -> list:
    from uqbridge_models.validation import Validation, at_defaults

    r_f = 7e-6  # the default fibre radius (m)
    return [
        Validation(
            "fibre_bed", "transverse permeability K at V_f = 0.55, r_f = 7 um (square array, no scatter)",
            lambda: at_defaults("fibre_bed", "K_mid", V_f=0.55, r_f=7.0),
            lambda: float(gebart_transverse(0.55)) * r_f**2, "m^2",
            "Gebart (1992), J. Compos. Mater. 26, 1100, eq. 27: square packing, K/r^2 = C1 (sqrt(Vmax/Vf) - 1)^(5/2)",
            "ordered to moderately disordered unidirectional beds, V_f 0.45-0.6, transverse Stokes flow",
            "published closed form", 0.1,
            note="Gebart's lubrication form is accurate near V_max; the cell/Gebart ratio is 0.91-1.00 over V_f 0.45-0.6",
        ),
        Validation(
            "resin_infusion", "-", lambda: float("nan"), None, "", "-", "-", "none",
            note="the part stage is the analytic 1-D Darcy fill time (a verification, tested against an ODE of the "
            "front); its permeability input is validated under fibre_bed",
        ),
    ]


VALIDATIONS = _validations()
