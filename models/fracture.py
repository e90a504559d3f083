"""Brittle fracture of a cracked plate: LEFM energy release rate against a cohesive-zone fracture energy.

Closed-form macro limit state (G ≥ Γ) fed by a micro-scale traction–separation law; written with
``xp`` operations so that NumPy and PyTensor (FORM, NUTS gradients) share the same code.

Equations
---------
Stress intensity (Tada, Paris & Irwin, *The Stress Analysis of Cracks Handbook*, 3rd ed., 2000):

* centre crack of half-length ``a`` in an infinite plate (Griffith crack): ``K = σ √(π a)``, ``Y = 1``
  (TPI p. 5.1);
* single edge crack of depth ``a`` in a semi-infinite plate: ``K = 1.1215 σ √(π a)`` (TPI p. 8.1;
  often rounded to 1.12).

Energy release rate (Irwin): ``G = K² / E'`` with ``E' = E`` (plane stress) or ``E / (1 − ν²)`` (plane
strain). With ``K`` in MPa·√m and ``E`` in GPa, ``G = 1e3 K² / E'`` in J/m².

Cohesive fracture energy ``Γ = ∫₀^∞ T(δ) dδ`` for a traction–separation law with strength ``σ_max``
(MPa) and opening scale ``δ_c`` (µm; MPa·µm = J/m², so no unit factor):

* bilinear (triangular; Geubelle & Baylor 1998): linear rise to ``σ_max`` at ``δ₀ = 0.01 δ_c``, linear
  softening to zero at ``δ_c``: ``Γ = σ_max δ_c / 2`` (independent of ``δ₀``);
* exponential (Xu & Needleman 1994, J. Mech. Phys. Solids 42, 1397, normal separation):
  ``T = e σ_max (δ/δ_c) exp(−δ/δ_c)``, peak ``σ_max`` at ``δ = δ_c``: ``Γ = e σ_max δ_c``;
* trapezoidal (Tvergaard & Hutchinson 1992, J. Mech. Phys. Solids 40, 1377): rise to ``σ_max`` at
  ``λ₁ δ_c``, plateau to ``λ₂ δ_c``, softening to zero at ``δ_c``: ``Γ = σ_max δ_c (1 − λ₁ + λ₂) / 2``.

``σ`` is the opening (tensile) stress normal to the crack; a compressive value would close the crack,
which the formulas do not represent (the default Gumbel law gives ``P(σ ≤ 0) < 1e-40``).

Critical (Griffith–Irwin) stress where ``G = Γ``: ``σ_c = √(Γ E' / (π a)) / Y`` (MPa with the units
above); the margin ``Γ − G`` (J/m²) is the limit state, failure when ``≤ 0``.

Default inputs (annealed soda-lime float glass plate under a wind-type service load)
------------------------------------------------------------------------------------
* ``E`` ~ Normal(70, 1.4) GPa and ``ν = 0.23``: nominal values of EN 572-1 / Haldimann, Luible &
  Overend, *Structural Use of Glass* (IABSE SED 10, 2008), Ch. 2; a 2 % CoV of modulus scatter.
* ``a`` ~ LogNormal(median 20 µm, CoV 0.6): surface-flaw depths of as-received/slightly weathered float
  glass are tens of µm (Haldimann et al. 2008, Ch. 3); the log-normal shape is the usual model of
  flaw-size scatter.
* ``sigma`` ~ Gumbel(loc 17.75, scale 3.9) MPa (mean 20 MPa, CoV 0.25): the annual-maximum wind
  pressure is Gumbel-distributed (JCSS Probabilistic Model Code, Part 2.13, 2001), and the glass
  surface stress is proportional to it; 20 MPa is a typical design-level surface stress of annealed
  glass.
* ``sigma_max`` ~ LogNormal(median 100 MPa, CoV 0.2) and ``delta_c`` ~ LogNormal(median chosen per law,
  CoV 0.2), epistemic: the median ``δ_c`` is set so that the median Γ equals the plane-strain fracture
  energy of soda-lime glass, ``G_Ic = K_Ic² (1 − ν²)/E = 7.6 J/m²`` with ``K_Ic = 0.75 MPa√m``
  (Wiederhorn 1969, J. Am. Ceram. Soc. 52, 99: 2γ ≈ 7.6–7.8 J/m²). For the trapezoidal law ``λ₁`` ~
  U(0.05, 0.25), ``λ₂`` ~ U(0.45, 0.75) around Tvergaard & Hutchinson's (0.15, 0.5).

With these defaults (edge crack, plane strain) ``P(margin ≤ 0) ≈ 1.6e-4`` (centre crack:
≈ 5.4e-5), checked against a quadrature of the conditional log-normal flaw law in the tests.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from uqbridge import Constant, ForwardModel, Gumbel, Input, LogNormal, Normal, Output, Uniform

__all__ = [
    "fracture",
    "fracture_function",
    "traction",
    "fracture_energy",
    "failure_probability_reference",
    "GEOMETRY_FACTORS",
    "CRACKS",
    "LAWS",
    "PLANES",
]

#: Geometry factor Y in K = Y σ √(π a) (Tada, Paris & Irwin 2000, pp. 5.1 and 8.1).
GEOMETRY_FACTORS: dict[str, float] = {"centre": 1.0, "edge": 1.1215}
CRACKS = tuple(GEOMETRY_FACTORS)
LAWS = ("bilinear", "exponential", "trapezoidal")
PLANES = ("strain", "stress")

#: Peak-opening fraction δ₀/δ_c of the bilinear law (stiff initial branch; Γ does not depend on it).
BILINEAR_PEAK_FRACTION = 0.01
#: Plane-strain fracture energy of soda-lime glass, J/m² (K_Ic = 0.75 MPa√m, E = 70 GPa, ν = 0.23).
GLASS_FRACTURE_ENERGY = 7.6
_SIGMA_MAX_MEDIAN = 100.0
_LAMBDA_1 = Uniform(0.05, 0.25)
_LAMBDA_2 = Uniform(0.45, 0.75)


def _check_choice(argument: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{argument} must be one of {list(choices)}, got {value!r}")


def _law_factor(law: str, lambda_1: Any = None, lambda_2: Any = None) -> Any:
    """Γ / (σ_max δ_c) for each law."""
    if law == "bilinear":
        return 0.5
    if law == "exponential":
        return math.e
    return 0.5 * (1.0 - lambda_1 + lambda_2)


def fracture_energy(
    sigma_max: Any, delta_c: Any, law: str = "bilinear", lambda_1: Any = 0.15, lambda_2: Any = 0.5, xp: Any = np
) -> Any:
    """Closed-form cohesive fracture energy Γ = ∫T(δ)dδ in J/m² (σ_max in MPa, δ_c in µm).

    Examples
    --------
    >>> round(float(fracture_energy(100.0, 0.152, "bilinear")), 6)
    7.6
    >>> round(float(fracture_energy(1.0, 1.0, "trapezoidal", 0.15, 0.5)), 6)
    0.675
    """
    _check_choice("law", law, LAWS)
    return _law_factor(law, lambda_1, lambda_2) * sigma_max * delta_c


def traction(
    delta: Any, sigma_max: float, delta_c: float, law: str = "bilinear", lambda_1: float = 0.15, lambda_2: float = 0.5
) -> np.ndarray:
    """Traction T(δ) in MPa of a traction–separation law (δ and δ_c in µm), for plotting and checks.

    Examples
    --------
    >>> float(traction(0.5, 100.0, 1.0, "trapezoidal")[()])
    100.0
    >>> round(float(traction(1.0, 100.0, 1.0, "exponential")[()]), 10)
    100.0
    """
    _check_choice("law", law, LAWS)
    d = np.asarray(delta, dtype=float) / delta_c
    if law == "exponential":
        return sigma_max * math.e * d * np.exp(-d)
    if law == "bilinear":
        lambda_1 = lambda_2 = BILINEAR_PEAK_FRACTION
    if not 0.0 < lambda_1 <= lambda_2 < 1.0:
        raise ValueError(f"need 0 < lambda_1 <= lambda_2 < 1, got lambda_1={lambda_1!r}, lambda_2={lambda_2!r}")
    rising = d / lambda_1
    softening = (1.0 - d) / (1.0 - lambda_2)
    shape = np.where(d < lambda_1, rising, np.where(d <= lambda_2, 1.0, softening))
    return sigma_max * np.clip(shape, 0.0, None) * (d >= 0)


def fracture_function(
    a: Any,
    sigma: Any,
    E: Any,
    nu: Any,
    sigma_max: Any,
    delta_c: Any,
    lambda_1: Any = None,
    lambda_2: Any = None,
    *,
    crack: str = "edge",
    law: str = "bilinear",
    plane: str = "strain",
    xp: Any = np,
) -> dict[str, Any]:
    """Vectorised LEFM/cohesive-zone outputs ``K``, ``G``, ``Gamma``, ``margin``, ``sigma_c``.

    Units: ``a`` m, ``sigma`` MPa, ``E`` GPa, ``sigma_max`` MPa, ``delta_c`` µm; ``K`` MPa·√m,
    ``G``/``Gamma``/``margin`` J/m², ``sigma_c`` MPa.

    Examples
    --------
    Callister's glass plate (Example Problem 8.1): Γ = 2γ_s = 0.6 J/m², E = 69 GPa, a = 8.24 µm.

    >>> out = fracture_function(8.2357e-6, 40.0, 69.0, 0.0, 100.0, 0.012, crack="centre", plane="stress")
    >>> round(float(out["sigma_c"]), 2)
    40.0
    """
    _check_choice("crack", crack, CRACKS)
    _check_choice("law", law, LAWS)
    _check_choice("plane", plane, PLANES)
    y = GEOMETRY_FACTORS[crack]
    e_prime = E if plane == "stress" else E / (1.0 - nu**2)
    root_pi_a = xp.sqrt(math.pi * a)
    k = y * sigma * root_pi_a
    g = 1e3 * k**2 / e_prime
    gamma = _law_factor(law, lambda_1, lambda_2) * sigma_max * delta_c
    sigma_c = xp.sqrt(1e-3 * gamma * e_prime) / (y * root_pi_a)
    return {"K": k, "G": g, "Gamma": gamma, "margin": gamma - g, "sigma_c": sigma_c}


def fracture(crack: str = "edge", law: str = "bilinear", plane: str = "strain") -> ForwardModel:
    """LEFM + cohesive-zone fracture model of a cracked brittle (glass) plate; see the module docstring.

    Parameters
    ----------
    crack : {"edge", "centre"}
        Single edge crack of depth ``a`` (Y = 1.1215) or centre crack of half-length ``a`` (Y = 1).
    law : {"bilinear", "exponential", "trapezoidal"}
        Traction–separation law giving Γ; the trapezoidal law adds epistemic ``lambda_1``, ``lambda_2``.
    plane : {"strain", "stress"}
        ``E' = E/(1 − ν²)`` or ``E' = E``.

    Returns
    -------
    ForwardModel
        Named ``"fracture"``, differentiable; inputs ``a`` (m), ``sigma`` (MPa), ``E`` (GPa), ``nu``,
        ``sigma_max`` (MPa), ``delta_c`` (µm) [, ``lambda_1``, ``lambda_2``]; outputs ``K``, ``G``,
        ``Gamma``, ``margin`` (= Γ − G, failure when ≤ 0) and ``sigma_c``.

    Examples
    --------
    >>> m = fracture()
    >>> out = m(a=20e-6, sigma=20.0, E=70.0, sigma_max=100.0, delta_c=0.152)
    >>> round(float(out["K"][0]), 4), round(float(out["Gamma"][0]), 4)
    (0.1778, 7.6)
    >>> fracture(law="cubic")
    Traceback (most recent call last):
    ...
    ValueError: law must be one of ['bilinear', 'exponential', 'trapezoidal'], got 'cubic'
    """
    _check_choice("crack", crack, CRACKS)
    _check_choice("law", law, LAWS)
    _check_choice("plane", plane, PLANES)
    mean_factor = _law_factor(law, _LAMBDA_1.mean, _LAMBDA_2.mean)
    delta_c_median = GLASS_FRACTURE_ENERGY / (mean_factor * _SIGMA_MAX_MEDIAN)
    inputs = [
        Input("a", LogNormal.from_median_cov(20e-6, 0.6), "aleatory", "m",
              "flaw depth (edge) or half-length (centre)"),
        Input("sigma", Gumbel(17.75, 3.9), "aleatory", "MPa", "applied (service) tensile stress"),
        Input("E", Normal(70.0, 1.4), "aleatory", "GPa", "Young's modulus"),
        Input("nu", Constant(0.23), "aleatory", "", "Poisson's ratio"),
        Input("sigma_max", LogNormal.from_median_cov(_SIGMA_MAX_MEDIAN, 0.2), "epistemic", "MPa",
              "cohesive strength (peak traction)"),
        Input("delta_c", LogNormal.from_median_cov(delta_c_median, 0.2), "epistemic", "um",
              "critical opening (exponential law: opening at peak traction)"),
    ]
    if law == "trapezoidal":
        inputs += [
            Input("lambda_1", _LAMBDA_1, "epistemic", "", "opening fraction where the plateau starts"),
            Input("lambda_2", _LAMBDA_2, "epistemic", "", "opening fraction where softening starts"),
        ]

        def function(a, sigma, E, nu, sigma_max, delta_c, lambda_1, lambda_2, xp: Any = np):
            return fracture_function(a, sigma, E, nu, sigma_max, delta_c, lambda_1, lambda_2,
                                     crack=crack, law=law, plane=plane, xp=xp)
    else:

        def function(a, sigma, E, nu, sigma_max, delta_c, xp: Any = np):
            return fracture_function(a, sigma, E, nu, sigma_max, delta_c,
                                     crack=crack, law=law, plane=plane, xp=xp)

    outputs = [
        Output("K", "MPa*m^0.5", "stress intensity factor Y sigma sqrt(pi a)"),
        Output("G", "J/m^2", "energy release rate K^2/E'"),
        Output("Gamma", "J/m^2", "cohesive fracture energy, integral of T(delta)"),
        Output("margin", "J/m^2", "Gamma - G; the crack grows when <= 0"),
        Output("sigma_c", "MPa", "critical (Griffith-Irwin) stress where G = Gamma"),
    ]
    return ForwardModel(
        "fracture",
        function,
        inputs,
        outputs,
        description=f"LEFM {crack} crack (plane {plane}) vs {law} cohesive-zone fracture energy, glass plate",
        differentiable=True,
    )


def failure_probability_reference(crack: str = "edge", plane: str = "strain") -> float:
    """P(Γ ≤ G) of the default bilinear-law model by one-dimensional quadrature (a reference for Pf methods).

    Conditional on σ and E, failure is ``ln a − ln Γ ≥ c(σ, E)`` with ``c = ln(1e-3 E' / (π Y² σ²))``,
    and ``ln a − ln Γ`` is a sum of independent normals (log-normal flaw depth, Γ = σ_max δ_c / 2
    with log-normal factors), so ``Pf = E_{σ,E} Φ((μ_a − μ_Γ − c) / √(s_a² + s_Γ²))``: Gauss–Hermite
    in E (30 nodes) and adaptive quadrature over the Gumbel load.

    Examples
    --------
    >>> 1e-5 < failure_probability_reference() < 1e-3
    True
    """
    import math

    from scipy import integrate, stats

    m = fracture(crack=crack, law="bilinear", plane=plane)
    d = {i.name: i.distribution for i in m.inputs}
    mu_gamma = math.log(0.5) + d["sigma_max"].mu + d["delta_c"].mu
    s = math.hypot(d["a"].sigma, math.hypot(d["sigma_max"].sigma, d["delta_c"].sigma))
    y, nu = GEOMETRY_FACTORS[crack], d["nu"].value
    nodes, weights = np.polynomial.hermite_e.hermegauss(30)
    e_values = d["E"].mu + d["E"].sigma * nodes
    weights = weights / weights.sum()
    e_prime = e_values / (1 - nu**2) if plane == "strain" else e_values

    def conditional(sig: float) -> float:
        c = np.log(1e-3 * e_prime / (math.pi * y**2 * sig**2))
        return float(np.sum(weights * stats.norm.cdf((d["a"].mu - mu_gamma - c) / s))) * float(d["sigma"].pdf(sig))

    loc, scale = d["sigma"].loc, d["sigma"].scale
    pf, _ = integrate.quad(conditional, loc - 4 * scale, loc + 60 * scale, limit=200, epsrel=1e-10)
    return float(pf)
