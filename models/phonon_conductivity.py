"""Lattice thermal conductivity k(T) from the phonon Boltzmann equation in the relaxation-time
approximation: Callaway (1959) one Debye branch (Ge) and a longitudinal + transverse two-branch Debye
model (Si, Morelli, Heremans & Slack 2002 form): Fourier's law from phonons.

The frequency integrals are fixed Gauss–Legendre rules written with ``xp`` operations, so the same
code runs on NumPy and PyTensor (NUTS calibration of the scattering parameters).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.constants import atomic_mass, hbar
from scipy.constants import k as k_B

from uqbridge import Constant, ForwardModel, Input, LogNormal, Output

__all__ = [
    "MATERIALS",
    "SI_BRANCHES",
    "boundary_limited_conductivity",
    "phonon_conductivity",
    "phonon_conductivity_function",
    "si_conductivity_function",
]

#: Upper cut of the reduced frequency x = ħω/k_B T: x⁴eˣ/(eˣ−1)² < 1e-10 beyond it.
X_MAX = 40.0


@dataclass(frozen=True)
class _Material:
    theta: float  # Debye temperature, K
    v: float  # Debye-averaged sound velocity, m/s
    L: float  # Casimir boundary length, m
    A: float  # point-defect (Rayleigh, ∝ ω⁴) strength, s³
    B: float  # three-phonon strength, s K^-m
    C: float  # Umklapp activation temperature, K
    m: float  # temperature exponent of the three-phonon rate
    source: str


MATERIALS: dict[str, _Material] = {
    # Callaway (1959), Phys. Rev. 113, 1046, Sec. IV: Ge fit to Geballe & Hull (1958) with
    # τ⁻¹ = v/L + Aω⁴ + (B1 + B2) T³ ω² (normal + Umklapp lumped), v = 3.5e5 cm/s, θ = 375 K,
    # L = 0.24 cm, A = 2.57e-44 s³, B1 + B2 = 2.77e-23 s/K³. Callaway fitted T ≤ 100 K; the T³
    # three-phonon law is too strong at room temperature (k(300 K) ≈ 12 W/m/K vs ≈ 60 measured).
    "ge": _Material(375.0, 3.5e3, 2.4e-3, 2.57e-44, 2.77e-23, 0.0, 3.0, "Callaway 1959"),
}


@dataclass(frozen=True)
class _Branch:
    theta: float  # branch Debye temperature (zone-boundary frequency), K
    v: float  # sound velocity, m/s
    gamma: float  # Grüneisen parameter
    weight: int  # number of polarisations


#: Si longitudinal and transverse acoustic branches (Morelli, Heremans & Slack 2002, Phys. Rev. B 66,
#: 195304, Table I: θ_L = 586 K, θ_T = 240 K, v_L = 8480 m/s, v_T = 5860 m/s, γ_L = 1.06, γ_T = 0.56).
#: The low transverse θ_T stands for the flat zone-boundary TA dispersion a single Debye branch lacks.
SI_BRANCHES = (_Branch(586.0, 8480.0, 1.06, 1), _Branch(240.0, 5860.0, 0.56, 2))
#: Mean atomic mass of natural Si, kg.
SI_MASS = 28.0855 * atomic_mass

#: Si defaults of :func:`phonon_conductivity` (see its docstring for where each comes from).
SI_DEFAULTS = {
    "A": 1.32e-45,  # isotope scattering of natural Si, s³ (Holland 1963, Phys. Rev. 132, 2461)
    "U": 2.31,  # Umklapp-rate scale, fitted to Glassbrenner & Slack 1964 at 100–1000 K only
    "c_U": 0.441,  # Umklapp activation exp(−c_U θ_i/T), same fit (Morelli et al. 2002 use 1/3)
    "L": 4e-3,  # Casimir length of a bulk bar (physical, not fitted)
}

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def _column(value: Any, xp: Any) -> Any:
    """Shape any scalar or (n,) input to (n, 1) so it broadcasts against quadrature nodes."""
    return (value + xp.zeros(1))[:, None]


def phonon_conductivity_function(
    T: Any, A: Any, B: Any, C: Any, m: Any, L: Any, theta: Any, v: Any, *, xp: Any = np, n_quadrature: int = 64
) -> dict[str, Any]:
    """Callaway's conductivity integral with Matthiessen-combined relaxation rates.

    ``k = k_B/(2π² v) (k_B T/ħ)³ ∫₀^{θ/T} τ_c(x) x⁴ eˣ/(eˣ − 1)² dx``, ``x = ħω/k_B T``,
    ``τ_c⁻¹ = v/L + A ω⁴ + B ω² T^m exp(−C/T)`` (boundary/Casimir, point defects, three-phonon).
    The upper limit is cut at ``x = 40`` (the integrand is below 1e-10 of its peak there) and the
    integral is a fixed Gauss–Legendre rule on ``[0, min(θ/T, 40)]``.

    Returns
    -------
    dict
        ``k`` in W/(m K).

    Examples
    --------
    Boundary scattering only reduces at low T to the closed form ``(2π²/15) k_B⁴ T³ L/(ħ³ v²)``:

    >>> out = phonon_conductivity_function(2.0, 0.0, 0.0, 0.0, 1.0, 1e-3, 645.0, 6354.0)
    >>> round(float(out["k"][0] / boundary_limited_conductivity(2.0, 1e-3, 6354.0)), 8)
    1.0
    """
    T, A, B, C, m, L, theta, v = (_column(a, xp) for a in (T, A, B, C, m, L, theta, v))

    def rate(omega):
        return v / L + A * omega**4 + B * omega**2 * T**m * xp.exp(-C / T)

    return {"k": _branch_conductivity(T, theta, v, rate, xp, n_quadrature)}


def _branch_conductivity(T: Any, theta: Any, v: Any, rate: Any, xp: Any, n_quadrature: int) -> Any:
    """``k_B/(2π² v) (k_B T/ħ)³ ∫₀^{min(θ/T, 40)} x⁴eˣ/(eˣ−1)² / rate(ω) dx`` by Gauss–Legendre (columns in)."""
    nodes, weights = (_NODES, _WEIGHTS) if n_quadrature == 64 else np.polynomial.legendre.leggauss(n_quadrature)
    upper = xp.minimum(theta / T, X_MAX)
    x = 0.5 * upper * (nodes + 1.0)
    # x⁴eˣ/(eˣ−1)² written with e^(−x) so it never overflows
    em = xp.exp(-x)
    kernel = x**4 * em / (1.0 - em) ** 2
    integral = 0.5 * upper[:, 0] * xp.sum(weights * kernel / rate(x * (k_B / hbar) * T), axis=1)
    return k_B / (2.0 * math.pi**2 * v[:, 0]) * (k_B * T[:, 0] / hbar) ** 3 * integral


def si_conductivity_function(
    T: Any, A: Any, U: Any, c_U: Any, L: Any, *, xp: Any = np, n_quadrature: int = 64,
    branches: tuple[_Branch, ...] = SI_BRANCHES, mass: float = SI_MASS,
) -> dict[str, Any]:
    """Two-branch (longitudinal + 2 transverse) Debye–Callaway conductivity of Si.

    ``k = Σ_i (w_i/3) k_B/(2π² v_i) (k_B T/ħ)³ ∫₀^{θ_i/T} τ_i(x) x⁴eˣ/(eˣ − 1)² dx`` with
    ``τ_i⁻¹ = v_i/L + A ω⁴ + U ħγ_i²/(M v_i² θ_i) ω² T exp(−c_U θ_i/T)``: boundary (Casimir),
    isotope/point-defect (Rayleigh) and Umklapp scattering in the form of Morelli, Heremans & Slack
    (2002), Phys. Rev. B 66, 195304 (Slack's Umklapp rate; ``U = 1``, ``c_U = 1/3`` there).
    Normal processes are not treated separately (no Callaway correction term): their resistive share
    is absorbed by ``U``.

    Returns
    -------
    dict
        ``{"k": ...}``: the conductivity in W/(m K), one value per temperature.

    Examples
    --------
    Boundary scattering only, T ≪ θ_T: the Casimir limit summed over the branches:

    >>> out = si_conductivity_function(2.0, 0.0, 0.0, 0.0, 1e-3)
    >>> ref = sum(b.weight / 3 * boundary_limited_conductivity(2.0, 1e-3, b.v) for b in SI_BRANCHES)
    >>> round(float(out["k"][0] / ref), 8)
    1.0
    """
    T, A, U, c_U, L = (_column(a, xp) for a in (T, A, U, c_U, L))
    total = 0.0
    for b in branches:
        strength = U * hbar * b.gamma**2 / (mass * b.v**2 * b.theta)

        def rate(omega, b=b, strength=strength):
            return b.v / L + A * omega**4 + strength * omega**2 * T * xp.exp(-c_U * b.theta / T)

        theta, v = _column(b.theta, xp), _column(b.v, xp)
        total = total + b.weight / 3.0 * _branch_conductivity(T, theta, v, rate, xp, n_quadrature)
    return {"k": total}


def boundary_limited_conductivity(T: Any, L: Any, v: Any) -> Any:
    """Casimir limit ``k = ⅓ C_Debye v L = (2π²/15) k_B⁴ T³ L/(ħ³ v²)`` for ``T ≪ θ`` (W/m/K).

    Casimir (1938), Physica 5, 495; the T³ law of the low-temperature conductivity.

    Examples
    --------
    >>> round(float(boundary_limited_conductivity(1.0, 1e-3, 6354.0)), 4)
    1.0098
    """
    return 2.0 * math.pi**2 / 15.0 * k_B**4 * np.asarray(T, dtype=float) ** 3 * L / (hbar**3 * v**2)


def phonon_conductivity(material: Literal["si", "ge"] = "si", *, n_quadrature: int = 64) -> ForwardModel:
    """Lattice thermal conductivity ``k`` (W/m/K) of Si (two-branch model) or Ge (Callaway 1959).

    **Si** (:func:`si_conductivity_function`) inputs:

    ======  =========  ==========================================  ===================================
    name    kind       default                                     reasoning
    ======  =========  ==========================================  ===================================
    T       aleatory   Constant(300) K                             controlled condition
    A       epistemic  LogNormal, median 1.32e-45 s³, CoV 0.2      isotope scattering of natural Si
                                                                   (Holland 1963, Phys. Rev. 132, 2461)
    U       epistemic  LogNormal, median 2.31, CoV 0.2             Umklapp-rate scale: fitted (with
                                                                   c_U) to Glassbrenner & Slack 1964
                                                                   at 100–1000 K only
    c_U     epistemic  Constant(0.441)                             Umklapp activation exp(−c_U θ_i/T)
    L       aleatory   Constant(4 mm)                              Casimir boundary length of the
                                                                   sample (1.12 × side of a square
                                                                   bar): a condition — set it to
                                                                   your sample; physical, not fitted
    ======  =========  ==========================================  ===================================

    Branch constants (θ_L = 586 K, θ_T = 240 K, v_L = 8480 m/s, v_T = 5860 m/s, γ_L = 1.06,
    γ_T = 0.56) are those of Morelli, Heremans & Slack (2002), Phys. Rev. B 66, 195304.

    Validation (``tests/models/test_phonon_conductivity.py``, data in
    ``models/data/si_thermal_conductivity_glassbrenner_slack1964.csv``): fitted on 100–1000 K
    (rms 4.1 %, max 6.5 %), the model predicts the held-out 50–90 K points within 11 % and puts the
    conductivity maximum at 22 K, 4.9e3 W/m/K (Glassbrenner & Slack's Si: ≈ 20–25 K, ≈ 5e3 W/m/K).

    Validity: 20–1000 K for bulk natural Si. Below the peak (≲ 25 K) k is a property of the
    sample (its size ``L``, surface finish and purity), not of silicon: it scales with ``L``.
    Above ≈ 1300 K the model falls increasingly below the measurements (−6 % at 1400 K, −16 % at 1681 K):
    Glassbrenner & Slack (1964) attribute the excess to electronic conduction — ambipolar diffusion
    of thermally excited electron–hole pairs carrying the band-gap energy — which a lattice
    (phonon) model omits. A warning is issued for ``T`` outside 20–1000 K.

    **Ge** (:func:`phonon_conductivity_function`, one Debye branch): Callaway (1959) Phys. Rev. 113,
    1046, all parameters (``A``, ``B``, ``L`` LogNormal around his values, ``C = 0``, ``m = 3``,
    ``θ = 375 K``, ``v = 3500 m/s``); fitted by Callaway to Geballe & Hull below 100 K, valid there.

    Examples
    --------
    >>> m = phonon_conductivity("si")
    >>> k = m(T=np.array([100.0, 300.0]), A=1.32e-45, U=2.31)["k"]
    >>> [round(float(x), -1) for x in k]  # Glassbrenner & Slack 1964: 950 and 156 W/m/K
    [890.0, 150.0]
    """
    if material not in ("si", "ge"):
        raise ValueError(f"material must be one of ['ge', 'si'], got {material!r}")
    if not (isinstance(n_quadrature, (int, np.integer)) and n_quadrature >= 8):
        raise ValueError(f"n_quadrature must be an integer >= 8, got {n_quadrature!r}")
    outputs = [Output("k", "W/m/K", "lattice thermal conductivity")]
    if material == "si":
        d = SI_DEFAULTS

        def si(T, A, U, c_U, L, xp: Any = np):
            if xp is np and np.any((np.asarray(T) < 20.0) | (np.asarray(T) > 1000.0)):
                warnings.warn(
                    "phonon_conductivity('si') is validated for 20 K <= T <= 1000 K: below, k depends on the "
                    "sample (L); above, electronic (ambipolar) conduction the model omits adds to k",
                    UserWarning,
                    stacklevel=2,
                )
            return si_conductivity_function(T, A, U, c_U, L, xp=xp, n_quadrature=n_quadrature)

        inputs = [
            Input("T", Constant(300.0), "condition", "K", "temperature (controlled condition)"),
            Input("A", LogNormal.from_median_cov(d["A"], 0.2), "epistemic", "s3", "isotope/point-defect rate A w^4"),
            Input("U", LogNormal.from_median_cov(d["U"], 0.2), "epistemic", "",
                  "Umklapp-rate scale (rate U hbar gamma^2 w^2 T exp(-c_U theta/T) / (M v^2 theta))"),
            Input("c_U", Constant(d["c_U"]), "epistemic", "", "Umklapp activation fraction of the branch theta"),
            Input("L", Constant(d["L"]), "condition", "m", "Casimir boundary length of the sample (condition)"),
        ]
        return ForwardModel(
            "phonon_conductivity_si", si, inputs, outputs,
            description=(
                "two-branch Callaway phonon conductivity of natural Si (Morelli et al. 2002 form; Umklapp fitted to "
                "Glassbrenner & Slack 1964 at 100-1000 K); valid 20-1000 K: below, k depends on the sample size L; "
                "above, electronic (ambipolar) conduction is missing"
            ),
            differentiable=True,
        )
    p = MATERIALS[material]

    def function(T, A, B, C, m, L, theta, v, xp: Any = np):
        return phonon_conductivity_function(T, A, B, C, m, L, theta, v, xp=xp, n_quadrature=n_quadrature)

    inputs = [
        Input("T", Constant(300.0), "condition", "K", "temperature (controlled condition)"),
        Input("A", LogNormal.from_median_cov(p.A, 0.2), "epistemic", "s3", "point-defect scattering, rate A w^4"),
        Input("B", LogNormal.from_median_cov(p.B, 0.3), "epistemic", f"s/K^{p.m:g}",
              "three-phonon rate B w^2 T^m exp(-C/T)"),
        Input("C", Constant(p.C), "epistemic", "K", "Umklapp activation temperature"),
        Input("m", Constant(p.m), "epistemic", "", "temperature exponent of the three-phonon rate"),
        Input("L", LogNormal.from_median_cov(p.L, 0.3), "epistemic", "m", "Casimir boundary length (sample size)"),
        Input("theta", Constant(p.theta), "epistemic", "K", "Debye temperature"),
        Input("v", Constant(p.v), "epistemic", "m/s", "Debye-averaged sound velocity"),
    ]
    return ForwardModel(
        f"phonon_conductivity_{material}", function, inputs, outputs,
        description=f"Callaway phonon conductivity of {material.capitalize()} ({p.source}); valid below 100 K",
        differentiable=True,
    )
