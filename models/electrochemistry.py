"""Electrocatalysis, quantum → device: DFT activation-barrier distributions over surface sites → exchange
current density → Butler–Volmer current and Tafel slopes, written with ``xp`` operations (differentiable).

Equations
---------
Per-site rate (transition-state theory, Eyring): ``k(E) = (k_B T / h) exp(−E / k_B T)``.

Site barriers ``E`` are heterogeneous: each site's DFT barrier is Gaussian with mean ``μ`` and spread
``σ_site`` (aleatory site heterogeneity); the DFT functional adds an epistemic systematic ``shift`` and an
epistemic site-to-site ``spread`` (random per-site functional error), so the barrier seen by the electrode
is ``E ~ N(μ + shift, σ²)`` with ``σ² = σ_site² + spread²``, **truncated** to
``[max(0, μ' − wσ), μ' + wσ]`` (``μ' = μ + shift``, ``w = 2.5`` by default): a real surface has a finite
set of site motifs, so its barrier distribution is bounded, and no barrier is negative. Without the bound
the Arrhenius average of a wide Gaussian is carried by its far lower tail — at σ = 0.1 eV and 298 K by
the ≈ 1 % of sites more than 3.9σ below the mean (the weighted distribution is ``N(μ − σ²/kT, σ²)``),
sites a finite surface does not have, and by negative barriers in some prior draws. With the bound the
rate enhancement over the mean barrier is at most ``exp(wσ/kT)``. Optionally a fraction ``f_step`` of
the sites are step sites whose mean barrier is lower by ``Δ_step`` (a two-component mixture, each
population truncated the same way).

The macroscopic rate is the **Arrhenius average** of the rates, never the rate at the average barrier:
``⟨exp(−E/kT)⟩ = exp(−μ/kT + σ²/(2 k² T²))`` for an untruncated Gaussian (the log-normal moment
generating function); averaging barriers first would give ``exp(−μ/kT)``, too small by
``exp(σ²/2k²T²)`` (a factor 6.6 for σ = 0.05 eV at 298 K). For the truncated Gaussian on ``[a, b]``
(standardised ``α, β``, ``s = σ/kT``) the closed form is
``exp(−μ/kT + s²/2) [Φ(β + s) − Φ(α + s)] / [Φ(β) − Φ(α)]``, evaluated with ``erfcx`` so it stays finite
for large ``s``; ``method="quadrature"`` integrates the truncated density by Gauss–Legendre on fixed
nodes (untruncated: Gauss–Hermite). Both run on NumPy and PyTensor alike.
``E_app = −kT ln⟨exp(−E/kT)⟩`` is the apparent (effective) barrier.

Exchange current density (a one-electron step, computational-electrode picture of Nørskov et al. 2005,
J. Electrochem. Soc. 152, J23, where ``i₀ = e k₀ × (site coverage term)`` per site):
``j₀ = n e Γ a (k_B T / h) ⟨exp(−E/kT)⟩`` in A/m², with ``Γ`` the site density (sites/m²) and ``a`` the
reactant activity (dimensionless).

Butler–Volmer (Bard & Faulkner, *Electrochemical Methods*, 2nd ed., 2001, §3.4, without mass-transport
limitation): ``i(η) = j₀ [exp(α_a f η) − exp(−α_c f η)]`` with ``f = F/(RT)``; anodic current
positive (IUPAC). For the one-electron elementary step modelled here the transfer coefficients are
``α_c = α`` and ``α_a = 1 − α`` with one symmetry factor ``α`` (Bard & Faulkner §3.3: they sum to
the number of electrons, 1). Limits: ``i ≈ j₀ f η`` for ``|η| ≪ 1/f`` (linear regime) and Tafel
slopes ``b = ln(10) RT / (α F)`` (V/decade), reported in mV/decade. Currents far beyond ~1e4 A/m² would in
reality be limited by mass transport, which this map does not include.

Default inputs (illustrative catalyst, hydrogen-evolution magnitudes)
---------------------------------------------------------------------
* ``mu_barrier`` ~ Normal(0.75, 0.02) eV, aleatory: electrode-to-electrode variation of the mean DFT
  barrier (surface preparation). At the medians j₀ ≈ 20 A/m² = 2 mA/cm², the order of Pt-group HER
  exchange currents (Nørskov et al. 2005; ``models/validation.py`` compares it with Pt's measured value).
* ``sigma_site`` ~ LogNormal(median 0.05 eV, CoV 0.3), aleatory: site-to-site barrier heterogeneity.
* ``dft_shift`` ~ Normal(0, 0.1) eV and ``dft_spread`` ~ Uniform(0, 0.05) eV, epistemic: GGA barrier
  errors are ≈ 0.1–0.2 eV (SBH10 benchmark: Mallikarjun Sharada et al. 2017, J. Phys. Chem. C 121, 19807).
* ``alpha`` ~ Uniform(0.4, 0.6), epistemic symmetry factor of the one-electron step (symmetric barrier
  0.5); ``α_c = α``, ``α_a = 1 − α``.
* ``T`` = 298.15 K, ``site_density`` = 1.5e19 m⁻² (Pt(111) surface atoms, 1.5e15 cm⁻²), ``activity`` = 1,
  ``eta_1`` = −0.01 V (linear regime), ``eta_2`` = −0.2 V (cathodic Tafel regime): Constant conditions.
* ``terrace_step`` sites add ``step_fraction`` ~ Uniform(0.02, 0.1) (aleatory) and ``step_offset`` ~
  Uniform(0.1, 0.3) eV (epistemic), the lower mean barrier of step sites.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import constants, special

from uqbridge import Constant, ForwardModel, Input, LogNormal, Normal, Output, Uniform

__all__ = [
    "METHODS",
    "SITES",
    "TRUNCATION",
    "arrhenius_average",
    "arrhenius_average_sites",
    "butler_volmer",
    "electrochemistry",
    "electrochemistry_function",
    "exchange_current_density",
    "tafel_slope",
]

METHODS = ("closed_form", "quadrature")
SITES = ("gaussian", "terrace_step")

#: Default truncation of the site-barrier distribution, in standard deviations either side of the mean.
TRUNCATION = 2.5

#: Boltzmann constant in eV/K, elementary charge in C, Faraday constant in C/mol, gas constant in J/(mol K).
K_B_EV = constants.k / constants.e
E_CHARGE = constants.e
FARADAY = constants.physical_constants["Faraday constant"][0]
R_GAS = constants.R
_KT_OVER_H_PER_K = constants.k / constants.h  # (k_B T / h) / T, 1/(s K)


def _check_choice(argument: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{argument} must be one of {list(choices)}, got {value!r}")


def _check_nodes(n_nodes: int) -> int:
    if not isinstance(n_nodes, (int, np.integer)) or isinstance(n_nodes, bool) or n_nodes < 2:
        raise ValueError(f"n_nodes must be an integer >= 2, got {n_nodes!r}")
    return int(n_nodes)


def _hermite_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes and weights normalised to a N(0, 1) expectation."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(_check_nodes(n_nodes))
    return nodes, weights / math.sqrt(2.0 * math.pi)


def _erfc_pair(xp: Any) -> tuple[Any, Any]:
    """``erfc`` and the scaled ``erfcx(x) = exp(x²) erfc(x)`` of NumPy (SciPy) or of the tensor module."""
    if xp is np:
        return special.erfc, special.erfcx
    return xp.erfc, xp.erfcx


def arrhenius_average(
    mu: Any,
    sigma: Any,
    T: Any,
    *,
    truncation: float | None = None,
    floor: float = 0.0,
    method: str = "closed_form",
    n_nodes: int = 40,
    xp: Any = np,
) -> Any:
    """Arrhenius average ``⟨exp(−E/k_B T)⟩`` of Gaussian barriers ``E ~ N(mu, sigma²)`` (eV, K).

    With ``truncation=w`` the Gaussian is truncated to ``[max(floor, μ − wσ), μ + wσ]`` (bounded
    site population, no barrier below ``floor``); ``None`` keeps the untruncated Gaussian.
    ``closed_form``: ``exp(−μ/kT + σ²/(2k²T²))`` untruncated, and for the truncated case the shifted
    normal-CDF ratio written with ``erfcx`` (see the module docstring). ``quadrature``: ``n_nodes``
    Gauss–Hermite nodes (untruncated; error below 1e-12 relative for σ/kT ≲ 6 with 40 nodes) or
    Gauss–Legendre nodes on the truncated support. An empty support (``μ + wσ ≤ floor``) gives NaN.

    Examples
    --------
    >>> kt = K_B_EV * 298.15
    >>> a = arrhenius_average(0.5, 0.05, 298.15)
    >>> round(float(a / math.exp(-0.5 / kt)), 4)  # exp(σ²/2k²T²): larger than at the mean barrier
    6.6434
    >>> q = arrhenius_average(0.5, 0.05, 298.15, method="quadrature")
    >>> bool(abs(q / a - 1) < 1e-12)
    True
    >>> t = arrhenius_average(0.5, 0.05, 298.15, truncation=2.5)  # the lower tail beyond 2.5σ is gone
    >>> round(float(t / math.exp(-0.5 / kt)), 4)
    4.7773
    """
    _check_choice("method", method, METHODS)
    kt = K_B_EV * T
    if truncation is None:
        if method == "closed_form":
            return xp.exp(-mu / kt + sigma**2 / (2.0 * kt**2))
        nodes, weights = _hermite_rule(n_nodes)
        # nodes on a trailing axis, reduced by one sum: works for scalars, arrays and tensors, and keeps the
        # PyTensor gradient a single reduction (a Python sum of 40 terms exceeds NumPy's 32-operand ufunc limit)
        scaled = xp.expand_dims(sigma / kt, -1) * nodes
        return xp.exp(-mu / kt) * xp.sum(weights * xp.exp(-scaled), axis=-1)
    if not truncation > 0:
        raise ValueError(f"truncation must be a positive number of standard deviations or None, got {truncation!r}")
    w = float(truncation)
    s = sigma / kt
    # standardised bounds: α = max((floor − μ)/σ, −w), β = w  (σ = 0 gives α = −w, the point mass at μ)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = -xp.minimum((mu - floor) / sigma, w)
    beta = w
    erfc, erfcx = _erfc_pair(xp)
    root2 = math.sqrt(2.0)
    mass = 0.5 * (erfc(alpha / root2) - erfc(beta / root2))
    if method == "closed_form":

        def tail(gamma):
            # exp(−μ/kT + s²/2)·(1 − Φ(γ + s)) = ½ exp(−(μ + γσ)/kT − γ²/2) erfcx((γ + s)/√2)
            return 0.5 * xp.exp(-(mu + gamma * sigma) / kt - gamma**2 / 2.0) * erfcx((gamma + s) / root2)

        average = (tail(alpha) - tail(beta)) / mass
    else:
        t, weights = np.polynomial.legendre.leggauss(_check_nodes(n_nodes))
        lo, hi = xp.expand_dims(alpha, -1), xp.expand_dims(alpha * 0 + beta, -1)
        z = lo + (hi - lo) * (0.5 * (t + 1.0))
        density = xp.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
        integral = xp.sum(weights * density * xp.exp(-xp.expand_dims(s, -1) * z), axis=-1) * 0.5 * (beta - alpha)
        average = xp.exp(-mu / kt) * integral / mass
    # no site population left when even the upper bound μ + wσ lies below the floor (a mean barrier
    # more than wσ below zero): an unphysical input, reported as NaN rather than a number
    return xp.where(mu + w * sigma > floor, average, np.nan)


def arrhenius_average_sites(
    barriers: Any, T: float, *, shift: float = 0.0, spread: float = 0.0, weights: Any = None
) -> float:
    """Arrhenius average over a finite set of computed site barriers (eV), e.g. one DFT value per site type.

    Each site's barrier carries the epistemic functional error ``N(shift, spread²)``, so the average is
    ``Σ w_i exp(−(E_i + shift)/kT + spread²/(2k²T²))`` (weights normalised; equal by default).

    Examples
    --------
    >>> kt = K_B_EV * 300.0
    >>> a = arrhenius_average_sites([0.6, 0.8], 300.0)
    >>> round(a / (0.5 * (math.exp(-0.6 / kt) + math.exp(-0.8 / kt))), 12)
    1.0
    >>> arrhenius_average_sites([], 300.0)
    Traceback (most recent call last):
    ...
    ValueError: barriers must be a non-empty 1-D array of finite values, got shape (0,)
    """
    e = np.asarray(barriers, dtype=float)
    if e.ndim != 1 or e.size == 0 or not np.all(np.isfinite(e)):
        raise ValueError(f"barriers must be a non-empty 1-D array of finite values, got shape {e.shape}")
    w = np.full(e.size, 1.0 / e.size) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != e.shape or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights must be non-negative, not all zero, with shape {e.shape}, got {weights!r}")
    kt = K_B_EV * T
    # log-sum-exp keeps large barrier sets with small kT finite
    exponents = -(e + shift) / kt + spread**2 / (2.0 * kt**2)
    top = float(np.max(exponents))
    return float(math.exp(top) * np.sum(w / w.sum() * np.exp(exponents - top)))


def exchange_current_density(
    rate_average: Any, T: Any, site_density: Any, activity: Any = 1.0, n_electrons: int = 1
) -> Any:
    """``j₀ = n e Γ a (k_B T/h) ⟨exp(−E/kT)⟩`` in A/m² (Γ in sites/m²).

    Examples
    --------
    >>> j0 = exchange_current_density(math.exp(-0.75 / (K_B_EV * 298.15)), 298.15, 1.5e19)
    >>> round(float(j0), 3)
    3.136
    """
    return n_electrons * E_CHARGE * site_density * activity * _KT_OVER_H_PER_K * T * rate_average


def butler_volmer(j0: Any, eta: Any, alpha_a: Any, alpha_c: Any, T: Any, xp: Any = np) -> Any:
    """Butler–Volmer current density ``j₀[exp(α_a f η) − exp(−α_c f η)]``, ``f = F/RT`` (anodic > 0).

    Examples
    --------
    >>> round(float(butler_volmer(1.0, 0.0, 0.5, 0.5, 298.15)), 12)
    0.0
    >>> round(float(butler_volmer(1.0, -0.2, 0.5, 0.5, 298.15)), 2)
    -49.0
    """
    f = FARADAY / (R_GAS * T)
    return j0 * (xp.exp(alpha_a * f * eta) - xp.exp(-alpha_c * f * eta))


def tafel_slope(alpha: Any, T: Any) -> Any:
    """Tafel slope ``ln(10) R T / (α F)`` in mV/decade.

    Examples
    --------
    >>> round(float(tafel_slope(0.5, 298.15)), 2)
    118.32
    """
    return 1e3 * math.log(10.0) * R_GAS * T / (alpha * FARADAY)


def electrochemistry_function(
    mu_barrier: Any,
    sigma_site: Any,
    dft_shift: Any,
    dft_spread: Any,
    alpha: Any,
    T: Any,
    site_density: Any,
    activity: Any,
    eta_1: Any,
    eta_2: Any,
    step_fraction: Any = 0.0,
    step_offset: Any = 0.0,
    *,
    sites: str = "gaussian",
    method: str = "closed_form",
    truncation: float | None = TRUNCATION,
    n_nodes: int = 40,
    n_electrons: int = 1,
    xp: Any = np,
) -> dict[str, Any]:
    """Vectorised outputs ``j0_eff`` (A/m²), ``log10_j0``, ``barrier_eff`` (eV), ``i_eta_1``, ``i_eta_2``
    (A/m²), ``tafel_slope_a``, ``tafel_slope_c`` (mV/decade); see the module docstring.

    ``alpha`` is the symmetry factor of the one-electron step: ``α_c = alpha``, ``α_a = 1 − alpha``.

    Examples
    --------
    >>> out = electrochemistry_function(0.75, 0.05, 0.0, 0.0, 0.5, 298.15, 1.5e19, 1.0, -0.01, -0.2)
    >>> round(float(out["j0_eff"]), 2), round(float(out["barrier_eff"]), 4)
    (14.98, 0.7098)
    """
    _check_choice("sites", sites, SITES)
    mean = mu_barrier + dft_shift
    sigma = xp.sqrt(sigma_site**2 + dft_spread**2)
    kw = dict(truncation=truncation, method=method, n_nodes=n_nodes, xp=xp)
    average = arrhenius_average(mean, sigma, T, **kw)
    if sites == "terrace_step":
        steps = arrhenius_average(mean - step_offset, sigma, T, **kw)
        average = (1.0 - step_fraction) * average + step_fraction * steps
    j0 = exchange_current_density(average, T, site_density, activity, n_electrons)
    alpha_a, alpha_c = 1.0 - alpha, alpha
    return {
        "j0_eff": j0,
        "log10_j0": xp.log(j0) / math.log(10.0),
        "barrier_eff": -K_B_EV * T * xp.log(average),
        "i_eta_1": butler_volmer(j0, eta_1, alpha_a, alpha_c, T, xp=xp),
        "i_eta_2": butler_volmer(j0, eta_2, alpha_a, alpha_c, T, xp=xp),
        "tafel_slope_a": tafel_slope(alpha_a, T),
        "tafel_slope_c": tafel_slope(alpha_c, T),
    }


def electrochemistry(
    sites: str = "gaussian", method: str = "closed_form", n_nodes: int = 40, *, truncation: float | None = TRUNCATION
) -> ForwardModel:
    """DFT barrier distribution → Arrhenius-averaged j₀ → Butler–Volmer currents; see the module docstring.

    Parameters
    ----------
    sites : {"gaussian", "terrace_step"}
        One site population, or terraces plus a fraction of step sites with lower barriers
        (adds inputs ``step_fraction`` and ``step_offset``).
    method : {"closed_form", "quadrature"}
        Arrhenius average in closed form or by quadrature.
    n_nodes : int
        Quadrature nodes for ``method="quadrature"``.
    truncation : float or None
        Half-width of the site-barrier distribution in standard deviations (default 2.5; barriers
        are also never below 0 eV). ``None`` gives the unbounded Gaussian (for comparison only).

    Returns
    -------
    ForwardModel
        Named ``"electrochemistry"``, differentiable; outputs ``j0_eff``, ``log10_j0``, ``barrier_eff``,
        ``i_eta_1``, ``i_eta_2``, ``tafel_slope_a``, ``tafel_slope_c``.

    Validity: a one-electron rate-determining step at the electrode; barriers within
    ``[max(0, μ' − 2.5σ), μ' + 2.5σ]``; currents far below mass-transport limits (≲ 1e4 A/m²);
    j₀ from transition-state theory with unit transmission coefficient.

    Examples
    --------
    >>> m = electrochemistry()
    >>> out = m(mu_barrier=0.75, sigma_site=0.05, dft_shift=0.0, dft_spread=0.0, alpha=0.5)
    >>> round(float(out["tafel_slope_c"][0]), 1), bool(out["i_eta_2"][0] < 0)
    (118.3, True)
    >>> electrochemistry(method="sampling")
    Traceback (most recent call last):
    ...
    ValueError: method must be one of ['closed_form', 'quadrature'], got 'sampling'
    """
    _check_choice("sites", sites, SITES)
    _check_choice("method", method, METHODS)
    _hermite_rule(n_nodes)
    if truncation is not None and not (isinstance(truncation, (int, float)) and truncation > 0):
        raise ValueError(f"truncation must be a positive number of standard deviations or None, got {truncation!r}")
    inputs = [
        Input("mu_barrier", Normal(0.75, 0.02), "aleatory", "eV", "mean DFT activation barrier of the sites"),
        Input("sigma_site", LogNormal.from_median_cov(0.05, 0.3), "aleatory", "eV",
              "site-to-site spread of the barriers (surface heterogeneity)"),
        Input("dft_shift", Normal(0.0, 0.1), "epistemic", "eV", "systematic DFT functional error of barriers"),
        Input("dft_spread", Uniform(0.0, 0.05), "epistemic", "eV", "random per-site DFT functional error"),
        Input("alpha", Uniform(0.4, 0.6), "epistemic", "",
              "symmetry factor of the one-electron step: alpha_c = alpha, alpha_a = 1 - alpha"),
        Input("T", Constant(298.15), "condition", "K", "temperature (condition)"),
        Input("site_density", Constant(1.5e19), "aleatory", "1/m^2", "active-site density"),
        Input("activity", Constant(1.0), "aleatory", "", "reactant activity"),
        Input("eta_1", Constant(-0.01), "condition", "V", "first overpotential (condition)"),
        Input("eta_2", Constant(-0.2), "condition", "V", "second overpotential (condition)"),
    ]
    options = dict(sites=sites, method=method, n_nodes=n_nodes, truncation=truncation)
    if sites == "terrace_step":
        inputs += [
            Input("step_fraction", Uniform(0.02, 0.1), "aleatory", "", "fraction of step sites"),
            Input("step_offset", Uniform(0.1, 0.3), "epistemic", "eV", "how much lower step barriers are"),
        ]

        def function(mu_barrier, sigma_site, dft_shift, dft_spread, alpha, T, site_density, activity,
                     eta_1, eta_2, step_fraction, step_offset, xp: Any = np):
            return electrochemistry_function(
                mu_barrier, sigma_site, dft_shift, dft_spread, alpha, T, site_density, activity,
                eta_1, eta_2, step_fraction, step_offset, xp=xp, **options)
    else:

        def function(mu_barrier, sigma_site, dft_shift, dft_spread, alpha, T, site_density, activity,
                     eta_1, eta_2, xp: Any = np):
            return electrochemistry_function(
                mu_barrier, sigma_site, dft_shift, dft_spread, alpha, T, site_density, activity,
                eta_1, eta_2, xp=xp, **options)

    outputs = [
        Output("j0_eff", "A/m^2", "effective exchange current density (Arrhenius average over sites)"),
        Output("log10_j0", "-", "decimal logarithm of j0_eff in A/m^2"),
        Output("barrier_eff", "eV", "apparent barrier -kT ln<exp(-E/kT)>"),
        Output("i_eta_1", "A/m^2", "Butler-Volmer current density at eta_1 (anodic > 0)"),
        Output("i_eta_2", "A/m^2", "Butler-Volmer current density at eta_2 (anodic > 0)"),
        Output("tafel_slope_a", "mV/decade", "anodic Tafel slope ln(10)RT/((1 - alpha) F)"),
        Output("tafel_slope_c", "mV/decade", "cathodic Tafel slope ln(10)RT/(alpha F)"),
    ]
    bound = "unbounded Gaussian" if truncation is None else f"Gaussian truncated at +-{truncation:g} sd and 0 eV"
    return ForwardModel(
        "electrochemistry",
        function,
        inputs,
        outputs,
        description=(
            f"DFT barriers ({sites} sites, {bound}, {method} Arrhenius average) -> j0 -> Butler-Volmer, "
            "one-electron step (alpha_a + alpha_c = 1); valid below mass-transport limits (|i| << 1e4 A/m^2)"
        ),
        differentiable=True,
    )
