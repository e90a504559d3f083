"""Taylor hardening with Kocks–Mecking dislocation-density evolution (one slip-system average).

Micro-to-meso map from dislocation-storage and recovery coefficients to the resolved flow stress
and hardening modulus of an FCC single crystal (defaults: copper), in closed form.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from uqbridge import Constant, ForwardModel, Input, LogNormal, Output, Uniform
from uqbridge._deprecation import NOT_GIVEN, rng_or_seed

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SCHMID_FACTORS", "kocks_mecking", "kocks_mecking_function", "synthetic_curves", "takeuchi_1975",
           "takeuchi_1975_true"]

#: Shear modulus of Cu at 300 K, MPa (Frost & Ashby, *Deformation-Mechanism Maps*, 1982, Table 4.1).
CU_SHEAR_MODULUS_MPA = 4.21e4
#: Burgers vector of Cu, m (a/√2 with a = 3.615 Å; Frost & Ashby 1982, Table 4.1).
CU_BURGERS_VECTOR_M = 2.56e-10
#: Schmid factor of the most stressed slip systems for the tensile axes of Takeuchi (1975): [001]
#: (eight equally stressed {111}<110> systems, m = 1/√6) and [111] (six systems, m = 1/(3√1.5)).
SCHMID_FACTORS = {"001": 0.408, "111": 0.272}
TAKEUCHI_1975_CSV = Path(__file__).resolve().parent / "data" / "cu_single_crystal_tension_takeuchi1975.csv"


def kocks_mecking_function(
    gamma: Any, tau0: Any, alpha: Any, mu: Any, b: Any, rho0: Any, k1: Any, k2: Any, xp: Any = np
) -> dict[str, Any]:
    """Closed-form Kocks–Mecking/Taylor response at resolved shear strain ``gamma``.

    With ``x = √ρ`` the evolution law ``dρ/dγ = k1 √ρ − k2 ρ`` becomes linear,
    ``dx/dγ = (k1 − k2 x)/2``, so ``x(γ) = x0 e^{−c} + (k1/k2)(1 − e^{−c})`` with ``c = k2 γ / 2``.
    ``1 − e^{−c}`` is evaluated with ``expm1`` so small ``k2 γ`` keeps full precision.

    Parameters
    ----------
    gamma, tau0, alpha, mu, b, rho0, k1, k2 : array_like
        See :func:`kocks_mecking` for meanings and units.
    xp : module
        Array namespace (``numpy`` or ``pytensor.tensor``).

    Returns
    -------
    dict
        ``tau`` (MPa), ``rho`` (m⁻²), ``h`` = dτ/dγ (MPa).

    Examples
    --------
    >>> out = kocks_mecking_function(0.0, 1.0, 0.3, 4.21e4, 2.56e-10, 1e12, 1.5e8, 8.0)
    >>> round(float(out["tau"]), 4)  # tau0 + alpha mu b sqrt(rho0) at gamma = 0
    4.2333
    """
    c = 0.5 * k2 * gamma
    decay = xp.exp(-c)
    x = xp.sqrt(rho0) * decay - (k1 / k2) * xp.expm1(-c)
    taylor = alpha * mu * b
    return {
        "tau": tau0 + taylor * x,
        "rho": x * x,
        "h": 0.5 * taylor * (k1 - k2 * x),
    }


def kocks_mecking() -> ForwardModel:
    """Resolved flow stress ``tau = tau0 + alpha mu b √ρ(γ)`` with Kocks–Mecking ``ρ(γ)``; Cu defaults.

    Evolution law (Kocks 1976; Mecking & Kocks 1981): ``dρ/dγ = k1 √ρ − k2 ρ`` — storage of
    dislocations with a mean free path proportional to the forest spacing, minus dynamic recovery.
    Its closed-form solution (see :func:`kocks_mecking_function`) is a Voce law in τ with
    saturation stress ``tau_sat = tau0 + alpha mu b k1/k2`` and initial hardening
    ``h(0) = alpha mu b (k1 − k2 √ρ0)/2``.

    Inputs (in this order):

    ========  =========  ==========================================  ================================
    name      kind       default                                     source / reasoning
    ========  =========  ==========================================  ================================
    gamma     (fixed)    Constant(0.1)                               controlled condition
    tau0      epistemic  LogNormal median 1 MPa, CoV 0.5             CRSS of annealed high-purity Cu
                                                                     crystals, ≈ 0.5–1 MPa (Hull &
                                                                     Bacon, *Introduction to
                                                                     Dislocations*, ch. 3 table)
    alpha     epistemic  Uniform(0.2, 0.5)                           Mecking & Kocks 1981, Acta
                                                                     Metall. 29:1865; Kocks & Mecking
                                                                     2003, Prog. Mater. Sci. 48:171
    mu        (fixed)    Constant(4.21e4) MPa                        Cu, 300 K, Frost & Ashby 1982
    b         (fixed)    Constant(2.56e-10) m                        Cu, Frost & Ashby 1982
    rho0      aleatory   LogNormal median 1e11 m⁻², CoV 1            annealed crystals 1e10–1e12 m⁻²
                                                                     vary from specimen to specimen
    k1        epistemic  LogNormal median 1.5e8 1/m, CoV 0.3         see below
    k2        epistemic  LogNormal median 8, CoV 0.3                 see below
    ========  =========  ==========================================  ================================

    ``k1`` and ``k2`` are centred on the Cu single-crystal curves of Takeuchi (1975), Trans. JIM
    16:629, Fig. 3b (multiple-slip axes [001] and [111]), converted to resolved quantities with
    the Schmid factors m = 0.408 ([001]) and 0.272 ([111]), ``tau = m sigma``, ``gamma = eps / m``
    with sigma, eps the *true* stress and strain (the figure's nominal values converted by
    :func:`takeuchi_1975_true`; see the strain convention below):
    resolved stage-II hardening ≈ 200–260 MPa ≈ mu/200 (the classical stage-II value,
    Kocks & Mecking 2003) fixes ``alpha mu b k1 / 2`` and the approach to ≈ 60–80 MPa fixes
    ``k2``. The implied saturation density ``(k1/k2)² ≈ 4e14 m⁻²`` is typical of heavily deformed
    Cu. With these defaults tau at gamma 0.1–0.5 is tens of MPa and the prior-predictive band
    covers the Takeuchi data (checked in ``tests/models/test_kocks_mecking.py``).

    **Strain convention.** ``gamma`` is the *total* resolved shear, summed over the active slip
    systems, ``gamma = sum_s |gamma_s|``, and ``tau`` the resolved shear stress common to them, so that
    the plastic work is ``tau dgamma = sigma deps``. For a crystal in tension along an axis with
    Schmid factor m this gives ``tau = m sigma`` and ``gamma = eps / m`` (single-crystal Taylor factor
    1/m), the conversion used for Takeuchi (1975) in :func:`takeuchi_1975`. ``k1`` and ``k2`` are per
    unit of this total shear: with n equally active systems the per-system coefficients are n times
    larger. Orientation enters only through m; the different latent hardening of [001] and [111]
    multiple slip is not modelled, so one parameter set does not fit both orientations (the held-out
    orientation check in ``tests/models/test_kocks_mecking.py`` and the calibration study report it).

    Validity: stage II–III hardening of FCC crystals at room temperature (dynamic recovery through
    ``k2`` only; no stage IV, no strain-rate or temperature dependence), ``gamma`` ≥ 0.

    Outputs: ``tau`` (MPa) resolved flow stress, ``rho`` (m⁻²) dislocation density, ``h`` (MPa)
    hardening modulus dτ/dγ.

    Examples
    --------
    >>> m = kocks_mecking()
    >>> out = m(tau0=1.0, alpha=0.3, rho0=1e11, k1=1.5e8, k2=8.0)
    >>> round(float(out["tau"][0]), 2), round(float(out["h"][0]), 1)
    (21.67, 159.8)
    """
    return ForwardModel(
        "kocks_mecking",
        kocks_mecking_function,
        [
            Input("gamma", Constant(0.1), "condition", "-", "resolved shear strain (controlled condition)"),
            Input("tau0", LogNormal.from_median_cov(1.0, 0.5), "epistemic", "MPa",
                  "lattice friction / initial critical resolved shear stress"),
            Input("alpha", Uniform(0.2, 0.5), "epistemic", "-", "Taylor interaction constant"),
            Input("mu", Constant(CU_SHEAR_MODULUS_MPA), "epistemic", "MPa", "shear modulus (Cu, 300 K)"),
            Input("b", Constant(CU_BURGERS_VECTOR_M), "epistemic", "m", "Burgers vector magnitude (Cu)"),
            Input("rho0", LogNormal.from_median_cov(1e11, 1.0), "aleatory", "m^-2",
                  "initial dislocation density (specimen to specimen)"),
            Input("k1", LogNormal.from_median_cov(1.5e8, 0.3), "epistemic", "1/m",
                  "dislocation storage coefficient"),
            Input("k2", LogNormal.from_median_cov(8.0, 0.3), "epistemic", "-",
                  "dynamic-recovery coefficient"),
        ],
        [
            Output("tau", "MPa", "resolved flow stress tau0 + alpha mu b sqrt(rho)"),
            Output("rho", "m^-2", "dislocation density"),
            Output("h", "MPa", "hardening modulus d tau / d gamma"),
        ],
        description="Taylor hardening with Kocks-Mecking dislocation evolution (Cu single crystal)",
        differentiable=True,
    )


def synthetic_curves(
    truth: dict[str, float],
    *,
    n_specimens: int = 4,
    tau_noise: float = 0.3,
    rho_noise: float = 1e13,
    rng: Any = 7,
    seed: Any = NOT_GIVEN,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic resolved stress–strain curves of several specimens with known parameters ``truth``.

    Each specimen draws its initial dislocation density from the model's declared population; tau
    is measured at 12 strains in [0.02, 0.6] (Gaussian noise ``tau_noise``, MPa) and rho at two of
    them (noise ``rho_noise``, m^-2 — e.g. X-ray line profiles: without it the stress data fix only
    alpha·k1, alpha·sqrt(rho0) and k2). Returns the table (columns specimen, gamma, tau, rho) and the
    specimens' true ``rho0``. ``rng`` is anything :func:`numpy.random.default_rng` accepts (``seed`` is
    its deprecated spelling).

    Examples
    --------
    >>> data, rho0 = synthetic_curves({"tau0": 1.2, "alpha": 0.33, "k1": 1.7e8, "k2": 9.0}, n_specimens=2)
    >>> data.shape, rho0.shape
    ((24, 4), (2,))
    """
    import pandas as pd

    rng = np.random.default_rng(rng_or_seed(rng, seed, "synthetic_curves", default=7))
    model = kocks_mecking()
    rho0 = model.inputs["rho0"].distribution.ppf(rng.random(n_specimens))
    gamma = np.linspace(0.02, 0.6, 12)
    frames = []
    for s, r0 in enumerate(rho0):
        out = model(gamma=gamma, rho0=r0, **truth)
        rho = np.full(gamma.size, np.nan)
        rho[[3, 11]] = out["rho"][[3, 11]] + rho_noise * rng.normal(size=2)
        frames.append(pd.DataFrame({
            "specimen": f"S{s + 1}", "gamma": gamma,
            "tau": out["tau"] + tau_noise * rng.normal(size=gamma.size), "rho": rho,
        }))
    return pd.concat(frames, ignore_index=True), rho0


def takeuchi_1975_true(*, min_strain_percent: float = 2.0) -> pd.DataFrame:
    """Takeuchi (1975) Cu single-crystal curves as *true* axial stress and strain (the one conversion).

    The data file (``models/data/cu_single_crystal_tension_takeuchi1975.csv``, source in its header)
    holds the figure's axial **engineering** strain ``e`` (percent of the initial gauge length) and
    **nominal** stress ``s`` (load over the initial cross-section). Uniaxial tension at constant
    volume gives the true (logarithmic) strain ``eps = ln(1 + e)`` and the true (Cauchy) stress
    ``sigma = s (1 + e)``; the elastic strain (< 0.3 % here) is left in, as in the figure. Points
    below ``min_strain_percent`` *engineering* strain (elastic loading and the yield transient) are
    dropped. Every reader of the file goes through this function.

    Returns
    -------
    pandas.DataFrame
        Columns ``axis`` (``"001"``, ``"111"``), ``eng_strain``, ``nominal_stress`` (MPa, as in the
        file), ``true_strain`` (-), ``true_stress`` (MPa).

    Examples
    --------
    >>> cu = takeuchi_1975_true()
    >>> row = cu.iloc[-1]  # last [111] point of the file: e = 20.098 %, s = 284.0 MPa
    >>> round(float(row["true_strain"]), 4), round(float(row["true_stress"]), 1)  # ln(1.20098), 284.0 x 1.20098
    (0.1831, 341.1)
    """
    import pandas as pd

    if not TAKEUCHI_1975_CSV.exists():
        raise FileNotFoundError(f"Takeuchi (1975) data file missing from the package: {TAKEUCHI_1975_CSV.name}")
    if not (np.isfinite(min_strain_percent) and min_strain_percent >= 0):
        raise ValueError(
            f"min_strain_percent must be a finite engineering strain in percent >= 0, got {min_strain_percent!r}"
        )
    raw = pd.read_csv(TAKEUCHI_1975_CSV, comment="#", dtype={"axis": str})
    raw = raw[raw["strain_percent"] >= min_strain_percent]
    e = raw["strain_percent"].to_numpy() / 100.0
    s = raw["stress_MPa"].to_numpy()
    return pd.DataFrame({
        "axis": raw["axis"].to_numpy(),
        "eng_strain": e,
        "nominal_stress": s,
        "true_strain": np.log1p(e),
        "true_stress": s * (1.0 + e),
    })


def takeuchi_1975(*, min_strain_percent: float = 2.0) -> pd.DataFrame:
    """Takeuchi (1975) Cu single-crystal curves in resolved variables, one specimen per tensile axis.

    Source: T. Takeuchi, Trans. JIM 16(10):629-640 (1975), Fig. 3b, digitised points as shipped in
    ``models/data/cu_single_crystal_tension_takeuchi1975.csv`` (source in its header). The file's
    engineering strain and nominal stress are first made true strain and true stress by
    :func:`takeuchi_1975_true` (``eps = ln(1 + e)``, ``sigma = s (1 + e)``); these become
    ``tau = m sigma`` and ``gamma = eps / m`` with the **Schmid factor** ``m`` of the tensile axis
    (:data:`SCHMID_FACTORS`, i.e. the single-crystal Taylor factor ``1/m``; total shear over the active
    systems, see :func:`kocks_mecking`). [001] and [111] are symmetric multiple-slip axes that do not
    rotate in tension, so ``m`` stays constant along the curve. Points below ``min_strain_percent``
    engineering strain (elastic loading and the yield transient) are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns ``specimen`` (``"Cu[001]"``, ``"Cu[111]"``), ``gamma`` (-), ``tau`` (MPa).

    Examples
    --------
    >>> cu = takeuchi_1975()
    >>> sorted(cu["specimen"].unique()), int((cu["specimen"] == "Cu[111]").sum())
    (['Cu[001]', 'Cu[111]'], 16)
    """
    import pandas as pd

    true = takeuchi_1975_true(min_strain_percent=min_strain_percent)
    m = true["axis"].map(SCHMID_FACTORS).to_numpy()
    return pd.DataFrame({
        "specimen": "Cu[" + true["axis"] + "]",
        "gamma": true["true_strain"].to_numpy() / m,
        "tau": true["true_stress"].to_numpy() * m,
    }).reset_index(drop=True)
