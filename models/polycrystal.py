"""Single crystal → untextured polycrystal: Voigt–Reuss–Hill and Hashin–Shtrikman elastic averages of a
cubic crystal, and the Taylor-factor scaling of a resolved hardening law to a polycrystal flow curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import uqbridge as uq
from uqbridge import ForwardModel, Input, Output, TruncatedNormal

__all__ = [
    "TAYLOR_FACTOR_FCC",
    "cubic_polycrystal_moduli",
    "taylor_polycrystal",
    "taylor_polycrystal_function",
    "voigt_reuss_hill",
]

#: Taylor factor of an untextured FCC polycrystal, {111}<110> slip (Taylor 1938, J. Inst. Met. 62,
#: 307; Bishop & Hill 1951: 3.06).
TAYLOR_FACTOR_FCC = 3.06


def cubic_polycrystal_moduli(C11: Any, C12: Any, C44: Any, xp: Any = np) -> dict[str, Any]:
    """Isotropic moduli of an untextured aggregate of cubic crystals: Voigt, Reuss, Hill and Hashin–Shtrikman.

    For cubic symmetry the bulk modulus is exact, ``K = (C11 + 2 C12)/3``. With ``C' = (C11 − C12)/2``:
    Voigt ``G_V = (2 C' + 3 C44)/5``, Reuss ``G_R = 5 C' C44 / (3 C' + 2 C44)`` (Hill, Proc. Phys. Soc.
    A 65, 349 (1952)), Hill ``G = (G_V + G_R)/2``. The Hashin–Shtrikman bounds for cubic polycrystals
    (Hashin & Shtrikman, J. Mech. Phys. Solids 10, 343 (1962), as written by Watt & Peselnick, J. Appl.
    Phys. 51, 1525 (1980)): with ``μ1 = C44``, ``μ2 = C'`` and
    ``β_i = −3 (K + 2 μ_i) / (5 μ_i (3K + 4 μ_i))``,
    ``G*_1 = μ2 + 3 / (5/(μ1 − μ2) − 4 β2)`` and ``G*_2 = μ1 + 2 / (5/(μ2 − μ1) − 6 β1)``; the lower
    bound is the smaller. ``E = 9KG/(3K + G)``, ``ν = (3K − 2G)/(2(3K + G))``.

    Parameters
    ----------
    C11, C12, C44 : array_like
        Cubic elastic constants (any one stress unit; the moduli come back in it).
    xp : module
        Array namespace (``numpy`` or ``pytensor.tensor``).

    Returns
    -------
    dict
        ``K``, ``G_voigt``, ``G_reuss``, ``G`` (Hill), ``E`` (Hill), ``nu`` (Hill), ``G_hs_lower``,
        ``G_hs_upper``, ``E_hs_lower``, ``E_hs_upper``, ``zener`` (anisotropy ``C44/C'``).

    Examples
    --------
    >>> out = cubic_polycrystal_moduli(168.4, 121.4, 75.4)  # Cu, 300 K (Simmons & Wang 1971)
    >>> round(float(out["E"]), 1), round(float(out["nu"]), 3), round(float(out["G"]), 1)
    (127.4, 0.345, 47.3)
    """
    K = (C11 + 2.0 * C12) / 3.0
    cp = (C11 - C12) / 2.0
    g_v = (2.0 * cp + 3.0 * C44) / 5.0
    g_r = 5.0 * cp * C44 / (3.0 * cp + 2.0 * C44)
    g_h = 0.5 * (g_v + g_r)
    mu1, mu2 = C44, cp
    beta1 = -3.0 * (K + 2.0 * mu1) / (5.0 * mu1 * (3.0 * K + 4.0 * mu1))
    beta2 = -3.0 * (K + 2.0 * mu2) / (5.0 * mu2 * (3.0 * K + 4.0 * mu2))
    # isotropic crystals (mu1 = mu2) make both bounds mu; shift the division away from 0/0
    diff = mu1 - mu2
    tiny = 1e-12 * (xp.abs(mu1) + xp.abs(mu2))
    safe = xp.where(xp.abs(diff) > tiny, diff, tiny)
    g1 = mu2 + 3.0 / (5.0 / safe - 4.0 * beta2)
    g2 = mu1 + 2.0 / (-5.0 / safe - 6.0 * beta1)
    g_lo, g_hi = xp.minimum(g1, g2), xp.maximum(g1, g2)

    def young(G: Any) -> Any:
        return 9.0 * K * G / (3.0 * K + G)

    return {
        "K": K,
        "G_voigt": g_v,
        "G_reuss": g_r,
        "G": g_h,
        "E": young(g_h),
        "nu": (3.0 * K - 2.0 * g_h) / (2.0 * (3.0 * K + g_h)),
        "G_hs_lower": g_lo,
        "G_hs_upper": g_hi,
        "E_hs_lower": young(g_lo),
        "E_hs_upper": young(g_hi),
        "zener": C44 / cp,
    }


def voigt_reuss_hill(*, scale: str = "polycrystal", wires: dict[str, str] | None = None) -> uq.Stage:
    """Adapter stage: cubic ``C11, C12, C44`` (GPa) → polycrystal ``E, G, nu, K`` (Hill) and HS bounds.

    Valid for an untextured, fully dense aggregate of equiaxed cubic grains (no grain-boundary
    compliance); the Hill average lies within a few % of measured moduli of annealed cubic metals.

    Examples
    --------
    >>> st = voigt_reuss_hill()
    >>> st.scale, st.model.output_names[:3]
    ('polycrystal', ('E', 'G', 'nu'))
    """

    def function(C11, C12, C44, xp=np):
        out = cubic_polycrystal_moduli(C11, C12, C44, xp=xp)
        return {k: out[k] for k in _VRH_OUTPUTS}

    return uq.adapter(
        "voigt_reuss_hill",
        function,
        inputs={"C11": "GPa", "C12": "GPa", "C44": "GPa"},
        outputs={k: u for k, u in _VRH_OUTPUTS.items()},
        scale=scale,
        wires=wires,
        differentiable=True,
        description="Voigt-Reuss-Hill average of a cubic crystal (E, G, nu, K) with Hashin-Shtrikman bounds on E and G",
    )


_VRH_OUTPUTS = {"E": "GPa", "G": "GPa", "nu": "-", "K": "GPa", "G_hs_lower": "GPa", "G_hs_upper": "GPa",
                "E_hs_lower": "GPa", "E_hs_upper": "GPa"}


def taylor_polycrystal_function(
    tau_i: Any, tau_sat: Any, gamma_c: Any, M: Any, eps: Any, xp: Any = np
) -> dict[str, Any]:
    """Polycrystal flow curve ``σ(ε) = M τ(M ε)`` from a resolved Voce law ``τ = τ_s − (τ_s − τ_i) e^{−γ/γ_c}``.

    Taylor's (1938) iso-strain polycrystal: every grain shears ``M ε`` in total on its active systems
    and the axial stress is ``M τ``. The result is again a Voce law, ``σ = σ_s − (σ_s − σ_0)
    e^{−ε/ε_c}`` with ``σ_0 = M τ_i``, ``σ_s = M τ_s``, ``ε_c = γ_c / M``.

    Returns
    -------
    dict
        ``sigma_0``, ``sigma_sat`` (MPa), ``eps_c`` (-), ``sigma`` (MPa, flow stress at ``eps``),
        ``theta`` (MPa, dσ/dε at ``eps``).

    Examples
    --------
    >>> out = taylor_polycrystal_function(2.0, 70.0, 0.25, 3.06, 0.0)
    >>> round(float(out["sigma"]), 2), round(float(out["theta"]), 1)  # M tau_i, M^2 (tau_s - tau_i)/gamma_c
    (6.12, 2546.9)
    """
    sigma_0, sigma_sat, eps_c = M * tau_i, M * tau_sat, gamma_c / M
    decay = xp.exp(-eps / eps_c)
    return {
        "sigma_0": sigma_0,
        "sigma_sat": sigma_sat,
        "eps_c": eps_c,
        "sigma": sigma_sat - (sigma_sat - sigma_0) * decay,
        "theta": (sigma_sat - sigma_0) / eps_c * decay,
    }


def taylor_polycrystal(M: float = TAYLOR_FACTOR_FCC, M_sd: float = 0.05) -> ForwardModel:
    """Stage: resolved single-crystal hardening law → untextured FCC polycrystal flow curve (Taylor factor M).

    ``M`` is epistemic: Taylor's full-constraints value for random FCC texture is 3.06; relaxed-
    constraint and self-consistent models give 2.8–3.1 and weak textures move it by a few %; default
    TruncatedNormal(3.06, 0.05) on [2.6, 3.67] (3.67 is the single-crystal [111] value, the upper
    limit of any FCC orientation average). Valid for random-texture, equiaxed FCC polycrystals at
    strains where slip dominates (no twinning), without grain-size (Hall–Petch) strengthening.

    Examples
    --------
    >>> m = taylor_polycrystal()
    >>> out = m(tau_i=2.0, tau_sat=70.0, gamma_c=0.25, M=3.06, eps=0.2)
    >>> round(float(out["sigma"][0]), 1)
    196.2
    """
    if not (2.0 < M < 3.67 and M_sd > 0):
        raise ValueError(f"M must lie in (2, 3.67) and M_sd > 0 (FCC Taylor factors), got M={M!r}, M_sd={M_sd!r}")
    return ForwardModel(
        "taylor_polycrystal",
        taylor_polycrystal_function,
        [
            Input("tau_i", TruncatedNormal(2.0, 1.0, 0.0, 50.0), "aleatory", "MPa",
                  "resolved initial flow stress (wired from the single crystal)"),
            Input("tau_sat", TruncatedNormal(70.0, 10.0, 1.0, 500.0), "aleatory", "MPa",
                  "resolved saturation stress (wired from the single crystal)"),
            Input("gamma_c", TruncatedNormal(0.25, 0.05, 0.01, 5.0), "aleatory", "-",
                  "resolved hardening strain scale (wired from the single crystal)"),
            Input("M", TruncatedNormal(M, M_sd, 2.6, 3.67), "epistemic", "-",
                  "Taylor factor of the untextured FCC polycrystal (Taylor 1938: 3.06)"),
            Input("eps", uq.Constant(0.2), "condition", "-", "true plastic strain at which sigma is reported"),
        ],
        [
            Output("sigma_0", "MPa", "polycrystal initial flow stress M tau_i"),
            Output("sigma_sat", "MPa", "polycrystal saturation stress M tau_sat"),
            Output("eps_c", "-", "polycrystal hardening strain scale gamma_c / M"),
            Output("sigma", "MPa", "polycrystal true flow stress at true strain eps"),
            Output("theta", "MPa", "polycrystal hardening rate d sigma / d eps at eps"),
        ],
        description=(
            "Taylor polycrystal sigma(eps) = M tau(M eps) of a resolved Voce law. Valid: untextured FCC, "
            "slip only, no Hall-Petch term; M in [2.6, 3.67]"
        ),
        differentiable=True,
    )
