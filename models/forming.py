"""Dislocations → single crystal → (polycrystal) → forming: Kocks–Mecking storage/recovery as a resolved
hardening law, and the Considère necking limit of a polycrystal flow curve against a forming step's strain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from uqbridge import Constant, ForwardModel, Input, Normal, Output
from uqbridge_models.kocks_mecking import kocks_mecking, kocks_mecking_function

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HANDBOOK_UNIFORM_ELONGATIONS",
    "NeckingCriterion",
    "considere_strain",
    "dislocation_storage",
    "forming_margin",
    "handbook_uniform_elongations",
    "pf_by_necking_criterion",
    "resolved_hardening",
    "voce_considere_strain",
]


def dislocation_storage() -> ForwardModel:
    """Stage (dislocation scale): Kocks–Mecking ``dρ/dγ = k1 √ρ − k2 ρ`` → its saturation density and recovery strain.

    The closed-form solution (:func:`models.kocks_mecking.kocks_mecking_function`) is
    ``√ρ(γ) = √ρ_s − (√ρ_s − √ρ0) e^{−γ/γ_r}`` with ``ρ_s = (k1/k2)²`` and ``γ_r = 2/k2``: the
    dislocation content of the single crystal is fixed by these two numbers and the initial density.
    Inputs and priors are those of :func:`models.kocks_mecking.kocks_mecking` (Cu; γ is the total
    resolved shear over the active systems, converted from axial strain with the orientation's
    Taylor/Schmid factor). Valid: FCC stage II–III at room temperature (no stage IV, no twinning).

    Examples
    --------
    >>> out = dislocation_storage()(rho0=1e11, k1=1.5e8, k2=8.0)
    >>> float(out["rho_sat"][0]), float(out["gamma_r"][0])
    (351562500000000.0, 0.25)
    """
    km = kocks_mecking()

    def function(rho0, k1, k2, xp=np):
        return {"rho_initial": rho0 * 1.0, "rho_sat": (k1 / k2) ** 2, "gamma_r": 2.0 / k2}

    return ForwardModel(
        "dislocation_storage",
        function,
        [km.inputs["rho0"], km.inputs["k1"], km.inputs["k2"]],
        [
            Output("rho_initial", "m^-2", "initial dislocation density"),
            Output("rho_sat", "m^-2", "saturation dislocation density (k1/k2)^2"),
            Output("gamma_r", "-", "recovery strain 2/k2 (resolved shear)"),
        ],
        description="Kocks-Mecking storage/recovery of the dislocation density (Cu priors). Valid: FCC stage II-III, room temperature",
        differentiable=True,
    )


def resolved_hardening() -> ForwardModel:
    """Stage (single crystal): Taylor relation ``τ = τ0 + α μ b √ρ`` on the Kocks–Mecking density → resolved Voce law.

    Outputs the resolved law ``τ(γ) = τ_s − (τ_s − τ_i) e^{−γ/γ_c}``: ``tau_i = τ0 + αμb√ρ0``,
    ``tau_sat = τ0 + αμb√ρ_s``, ``gamma_c = γ_r``, and the resolved stress at ``gamma`` computed by
    :func:`models.kocks_mecking.kocks_mecking_function` itself (for calibration on single-crystal
    data). Priors of ``tau0``, ``alpha``, ``mu``, ``b`` from :func:`models.kocks_mecking.kocks_mecking`.

    Examples
    --------
    >>> m = resolved_hardening()
    >>> out = m(rho_initial=1e11, rho_sat=(1.5e8 / 8) ** 2, gamma_r=0.25, tau0=1.0, alpha=0.3)
    >>> round(float(out["tau"][0]), 2), round(float(out["tau_sat"][0]), 2)  # as kocks_mecking at gamma 0.1
    (21.67, 61.62)
    """
    km = kocks_mecking()

    def function(rho_initial, rho_sat, gamma_r, tau0, alpha, mu, b, gamma, xp=np):
        k2 = 2.0 / gamma_r
        k1 = k2 * xp.sqrt(rho_sat)
        at = kocks_mecking_function(gamma, tau0, alpha, mu, b, rho_initial, k1, k2, xp=xp)
        taylor = alpha * mu * b
        return {
            "tau_i": tau0 + taylor * xp.sqrt(rho_initial),
            "tau_sat": tau0 + taylor * xp.sqrt(rho_sat),
            "gamma_c": gamma_r,
            "tau": at["tau"],
        }

    wired = [
        Input("rho_initial", km.inputs["rho0"].distribution, "aleatory", "m^-2", "initial dislocation density (wired)"),
        Input("rho_sat", Constant(3.5e14), "aleatory", "m^-2", "saturation dislocation density (wired)"),
        Input("gamma_r", Constant(0.25), "aleatory", "-", "recovery strain (wired)"),
    ]
    return ForwardModel(
        "resolved_hardening",
        function,
        [*wired, km.inputs["tau0"], km.inputs["alpha"], km.inputs["mu"], km.inputs["b"], km.inputs["gamma"]],
        [
            Output("tau_i", "MPa", "resolved initial flow stress tau0 + alpha mu b sqrt(rho0)"),
            Output("tau_sat", "MPa", "resolved saturation stress tau0 + alpha mu b sqrt(rho_sat)"),
            Output("gamma_c", "-", "resolved hardening strain scale"),
            Output("tau", "MPa", "resolved flow stress at gamma (Kocks-Mecking)"),
        ],
        description="Single-crystal resolved hardening law from the Taylor relation (Cu). Valid: FCC multiple slip, room temperature",
        differentiable=True,
    )


def voce_considere_strain(sigma_0: Any, sigma_sat: Any, eps_c: Any, xp: Any = np) -> Any:
    """Considère strain of a Voce law ``σ = σ_s − (σ_s − σ_0) e^{−ε/ε_c}`` in closed form.

    ``dσ/dε = σ`` ⇔ ``(σ_s − σ_0)(1 + 1/ε_c) e^{−ε/ε_c} = σ_s``, so
    ``ε_u = ε_c ln[(σ_s − σ_0)(1 + ε_c) / (ε_c σ_s)]``, and 0 when the hardening rate is already below
    the stress at yield (necking at once).

    Examples
    --------
    >>> round(float(voce_considere_strain(0.0, 300.0, 0.2)), 4)  # 0.2 ln 6
    0.3584
    """
    ratio = (sigma_sat - sigma_0) * (1.0 + eps_c) / (eps_c * sigma_sat)
    return xp.maximum(eps_c * xp.log(xp.maximum(ratio, 1.0)), 0.0)


def considere_strain(flow, eps_max: float = 2.0, *, n_grid: int = 400, tol: float = 1e-13) -> np.ndarray:
    """Uniform elongation (true strain) of arbitrary flow curves: first root of ``dσ/dε − σ``, bracketed then bisected.

    A general solver for hardening laws without a closed form (and the reference the closed form
    :func:`voce_considere_strain` is tested against).

    Parameters
    ----------
    flow : callable
        ``flow(eps) -> (sigma, dsigma_deps)``, vectorised: ``eps`` of shape ``(n, m)`` (row = sample,
        or ``(1, m)`` broadcast to every sample) returns two arrays broadcastable to ``(n, m)``.
    eps_max : float
        Largest strain searched.
    n_grid : int
        Grid points for bracketing the first sign change, per sample.

    Returns
    -------
    ndarray
        ``(n,)`` Considère strains: 0 where ``dσ/dε < σ`` at yield, NaN where no root below ``eps_max``.

    Examples
    --------
    >>> K, n = 530.0, 0.44  # Hollomon: the Considère strain is n
    >>> eps_u = considere_strain(lambda e: (K * e**n, n * K * e ** (n - 1)), 1.0)
    >>> round(float(eps_u[0]), 10)
    0.44
    """
    grid = np.linspace(0.0, eps_max, n_grid)
    grid[0] = 1e-12 * eps_max  # power laws are singular at 0
    sigma, theta = flow(grid[None, :])
    g = np.atleast_2d(np.asarray(theta) - np.asarray(sigma))
    below = g < 0
    first = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    out = np.where(first == 0, 0.0, np.nan)
    todo = first > 0
    if todo.any():
        lo = np.where(todo, grid[np.maximum(first - 1, 0)], 0.0)
        hi = np.where(todo, grid[np.maximum(first, 0)], 0.0)
        while np.max(hi - lo) > tol:
            mid = 0.5 * (lo + hi)
            s, t = flow(mid[:, None])
            up = (np.asarray(t) - np.asarray(s))[:, 0] > 0
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        out = np.where(todo, 0.5 * (lo + hi), out)
    return out


def forming_margin(eps_form_mean: float = 0.15, eps_form_sd: float = 0.03) -> ForwardModel:
    """Stage (forming): Considère uniform elongation of the polycrystal vs the strain a forming step imposes.

    Necking in uniaxial tension starts where ``dσ/dε = σ`` (Considère 1885); for the Voce flow curve
    of the Taylor polycrystal this is :func:`voce_considere_strain` (closed form, differentiable).
    ``margin = eps_u − eps_form``: the forming step (e.g. stretching of a strip to a true major strain
    ``eps_form``, aleatory: tool/lubrication/blank scatter, default Normal(0.15, 0.03)) localises when
    the margin is negative. Valid: uniaxial tension-like loading, rate- and temperature-independent
    flow (room-temperature Cu, slow forming); in plane strain or biaxial stretching the forming-limit
    strain differs (Marciniak–Kuczynski), which this does not model.

    **Necking criterion.** ``eps_u`` is the Considère strain of the chain's *own* flow curve (the
    default: the tension instability of the modelled material, so it moves with the calibration). It is
    not a measured uniform elongation, and neither are the handbook values often quoted for annealed
    Cu: Hollomon exponents n = 0.44 (Callister 2005) or 0.54 (Kalpakjian & Schmid 2008) and the
    Johnson–Cook OFHC fit's Considère strain 0.21 are fits of fitted curves. The forming Pf depends
    strongly on which is used (from ~3e-2 to below 1e-20 at the default step):
    :func:`pf_by_necking_criterion` computes it for each, and ``studies/calibration_forming.py``
    reports the range.

    Examples
    --------
    >>> m = forming_margin()
    >>> out = m(sigma_0=6.0, sigma_sat=214.0, eps_c=0.08, eps_form=0.25)
    >>> round(float(out["eps_u"][0]), 4), round(float(out["margin"][0]), 4)
    (0.2059, -0.0441)
    """
    if not (0 < eps_form_mean < 2 and eps_form_sd > 0):
        raise ValueError(
            f"eps_form_mean must lie in (0, 2) and eps_form_sd be positive, got {eps_form_mean!r}, {eps_form_sd!r}"
        )

    def function(sigma_0, sigma_sat, eps_c, eps_form, xp=np):
        eps_u = voce_considere_strain(sigma_0, sigma_sat, eps_c, xp=xp)
        sigma_u = sigma_sat - (sigma_sat - sigma_0) * xp.exp(-eps_u / eps_c)
        return {
            "eps_u": eps_u,
            "uts": sigma_u * xp.exp(-eps_u),  # engineering tensile strength: true stress / (1 + e) = sigma e^-eps
            "margin": eps_u - eps_form,
        }

    return ForwardModel(
        "forming_margin",
        function,
        [
            Input("sigma_0", Constant(6.0), "aleatory", "MPa", "polycrystal initial flow stress (wired)"),
            Input("sigma_sat", Constant(214.0), "aleatory", "MPa", "polycrystal saturation stress (wired)"),
            Input("eps_c", Constant(0.08), "aleatory", "-", "polycrystal hardening strain scale (wired)"),
            Input("eps_form", Normal(eps_form_mean, eps_form_sd), "aleatory", "-",
                  "true major strain imposed by the forming step"),
        ],
        [
            Output("eps_u", "-", "Considere uniform elongation (true strain)"),
            Output("uts", "MPa", "engineering ultimate tensile strength"),
            Output("margin", "-", "eps_u - eps_form (the step necks when <= 0)"),
        ],
        description=(
            "Considere necking strain of a Voce polycrystal vs a forming step's strain. Valid: uniaxial "
            "tension-like forming, rate-independent room-temperature flow"
        ),
        differentiable=True,
    )


@dataclass(frozen=True)
class NeckingCriterion:
    """A uniform elongation (true strain) taken from a published hardening fit, with where it comes from.

    ``flow(eps) -> (sigma, dsigma/deps)`` is the published law; its Considère strain is the uniform
    elongation it implies. ``kind`` says what the number is (``"handbook fit"``, ``"published model"``):
    none of these is a measured uniform elongation.
    """

    label: str
    kind: str
    source: str
    params: tuple[tuple[str, float], ...]

    def flow(self, eps: Any) -> tuple[Any, Any]:
        """Flow stress (MPa) and hardening rate dσ/dε of the published law at true plastic strain ``eps``."""
        p = dict(self.params)
        if "A" in p:  # Johnson-Cook rate- and temperature-independent part: A + B eps^n
            return p["A"] + p["B"] * eps ** p["n"], p["n"] * p["B"] * eps ** (p["n"] - 1.0)
        return p["K"] * eps ** p["n"], p["n"] * p["K"] * eps ** (p["n"] - 1.0)  # Hollomon K eps^n

    @property
    def eps_u(self) -> float:
        """Considère strain of the published law (for Hollomon exactly its exponent n)."""
        return float(considere_strain(self.flow, 2.0)[0])


#: Published hardening laws of annealed polycrystalline Cu at room temperature and the uniform
#: elongation each implies (Considère). They disagree by a factor 2.6: the "measured" 0.44 often quoted
#: is the exponent of a handbook power-law fit, not a measured necking strain.
HANDBOOK_UNIFORM_ELONGATIONS = (
    NeckingCriterion(
        "Hollomon n = 0.44 (Callister)", "handbook fit",
        "W. D. Callister, Fundamentals of Materials Science and Engineering, 2nd ed., Wiley (2005), Table 6.4: "
        "annealed Cu, K = 530 MPa, n = 0.44",
        (("K", 530.0), ("n", 0.44)),
    ),
    NeckingCriterion(
        "Hollomon n = 0.54 (Kalpakjian & Schmid)", "handbook fit",
        "S. Kalpakjian and S. R. Schmid, Manufacturing Processes for Engineering Materials, 5th ed., Pearson (2008), "
        "Table 2.3: copper, annealed, K = 315 MPa, n = 0.54",
        (("K", 315.0), ("n", 0.54)),
    ),
    NeckingCriterion(
        "Johnson-Cook OFHC Cu (A + B eps^n)", "published model",
        "G. R. Johnson and W. H. Cook, Proc. 7th Int. Symp. on Ballistics, The Hague (1983), 541-547: OFHC Cu, "
        "A = 90 MPa, B = 292 MPa, n = 0.31 (fitted to torsion and Hopkinson-bar tests)",
        (("A", 90.0), ("B", 292.0), ("n", 0.31)),
    ),
)


def handbook_uniform_elongations() -> dict[str, float]:
    """Uniform elongation (true strain, Considère) implied by each law of :data:`HANDBOOK_UNIFORM_ELONGATIONS`.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in handbook_uniform_elongations().items()}  # doctest: +NORMALIZE_WHITESPACE
    {'Hollomon n = 0.44 (Callister)': 0.44, 'Hollomon n = 0.54 (Kalpakjian & Schmid)': 0.54,
     'Johnson-Cook OFHC Cu (A + B eps^n)': 0.206}
    """
    return {c.label: c.eps_u for c in HANDBOOK_UNIFORM_ELONGATIONS}


def pf_by_necking_criterion(
    eps_u: Any, *, eps_form_mean: float = 0.15, eps_form_sd: float = 0.03, label: str = "Considere on the chain's curve"
) -> pd.DataFrame:
    """Pf of the forming step (``eps_form ~ Normal(mean, sd)`` exceeds the uniform elongation) under each necking criterion.

    The first row uses ``eps_u``: samples of the chain's own Considère strain (e.g. the ``eps_u`` output
    of :func:`forming_margin` propagated with the prior or the posterior). Its Pf is the conditional
    expectation ``E[Φ((mean − eps_u)/sd)]`` over those samples (exact in ``eps_form``, so its only error
    is the Monte Carlo error of the mean over ``eps_u``, reported as ``pf_se``). The other rows fix the
    uniform elongation at each published law's Considère strain (:data:`HANDBOOK_UNIFORM_ELONGATIONS`),
    where ``Pf = Φ((mean − eps_u)/sd)`` exactly.

    Parameters
    ----------
    eps_u : array_like
        Samples of the chain's uniform elongation (true strain), at least 2.
    eps_form_mean, eps_form_sd : float
        The forming step's strain distribution (the defaults of :func:`forming_margin`).
    label : str
        Name of the first row.

    Returns
    -------
    pandas.DataFrame
        Index: criterion; columns ``kind``, ``eps_u`` (median for the chain), ``pf``, ``pf_se``.

    Examples
    --------
    >>> t = pf_by_necking_criterion([0.2, 0.2])
    >>> list(t["kind"])
    ['model (Considere, dsigma/deps = sigma)', 'handbook fit', 'handbook fit', 'published model']
    >>> round(float(t["pf"].iloc[0]), 4)  # Phi(-(0.2 - 0.15)/0.03) = Phi(-1.667)
    0.0478
    >>> f"{t.loc['Hollomon n = 0.44 (Callister)', 'pf']:.2e}"  # Phi(-(0.44 - 0.15)/0.03) = Phi(-9.67)
    '2.09e-22'
    """
    import pandas as pd
    from scipy.stats import norm

    samples = np.asarray(eps_u, dtype=float).ravel()
    if samples.size < 2 or not np.all(np.isfinite(samples)):
        raise ValueError(f"eps_u must hold at least 2 finite samples of the uniform elongation, got {samples.size} values "
                         f"({int(np.sum(~np.isfinite(samples)))} not finite)")
    if not (0 < eps_form_mean < 2 and eps_form_sd > 0):
        raise ValueError(
            f"eps_form_mean must lie in (0, 2) and eps_form_sd be positive, got {eps_form_mean!r}, {eps_form_sd!r}"
        )
    conditional = norm.cdf((eps_form_mean - samples) / eps_form_sd)
    rows = {label: {"kind": "model (Considere, dsigma/deps = sigma)", "eps_u": float(np.median(samples)),
                    "pf": float(conditional.mean()), "pf_se": float(conditional.std(ddof=1) / np.sqrt(samples.size))}}
    for c in HANDBOOK_UNIFORM_ELONGATIONS:
        e = c.eps_u
        rows[c.label] = {"kind": c.kind, "eps_u": e, "pf": float(norm.cdf((eps_form_mean - e) / eps_form_sd)), "pf_se": 0.0}
    return pd.DataFrame(rows).T.astype({"eps_u": float, "pf": float, "pf_se": float})
