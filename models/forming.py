"""Dislocations → single crystal → (polycrystal) → forming: Kocks–Mecking storage/recovery as a resolved
hardening law, and the Considère necking limit of a polycrystal flow curve against a forming step's strain.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from uqbridge import Constant, ForwardModel, Input, Normal, Output
from uqbridge_models.kocks_mecking import kocks_mecking, kocks_mecking_function

__all__ = [
    "considere_strain",
    "dislocation_storage",
    "forming_margin",
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
