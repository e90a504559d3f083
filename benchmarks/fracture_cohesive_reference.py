"""Reference failure probabilities of the cracked-glass-plate model by tensor-product quadrature of
the Dugdale strip-yield solution, computed independently of ``models.fracture``'s closed forms.

Failure: the applied stress reaches the critical stress of a Dugdale (1960) crack, i.e. the crack-tip
opening ``δ_t(σ) = (8 σ_max a_e / (π E')) ln sec(π σ / (2 σ_max))`` reaches ``Γ/σ_max`` (``J = Γ``),
with the K-equivalent crack ``a_e = Y² a`` (Y: Tada–Paris–Irwin edge crack, or Newman & Raju 1981
semi-elliptical surface flaw, recoded here from the paper's equations). With a load duration ``t_L``
the flaw fails within it when the Evans–Wiederhorn (1974) time to failure under the power-law crack
velocity ``v = v0 (K/K_Ic)^n``, ``t_f(σ) = 2a/((n − 2) v0) [(σ_c/σ)^n − (σ_c/σ)²]``, is ``≤ t_L``.
Here both thresholds are found by bisection on these equations (the model uses the arccos closed
form and a fixed-point/Newton solve), and

    Pf = E[ 1 − F_Gumbel(σ*(a, a/c, E, σ_max, δ_c, v0)) ]

by Gauss–Hermite (log-normal / normal inputs) and Gauss–Legendre (uniform a/c) quadrature; the Gumbel
load is integrated exactly. A node-doubling run gives the quadrature error; a crude Monte Carlo of the
model itself (different code) is printed alongside.

Run: python benchmarks/fracture_cohesive_reference.py [--full]   (--full: finer nodes, 2e7 MC samples)
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

FOLDER = Path(__file__).resolve().parents[1]


def _hermite(k: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(k)
    return x, w / w.sum()


def _legendre(k: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(k)
    return lo + (hi - lo) * (x + 1) / 2, w / w.sum()


def geometry_factor(crack: str, a: np.ndarray, aspect: np.ndarray, thickness: float) -> np.ndarray:
    """Y of K = Y σ √(π a): TPI edge crack, or Newman & Raju (1981) Eqs. for a/c ≤ 1 (wide plate),
    the larger of the deepest (φ = 90°) and the surface (φ = 0°) point."""
    if crack == "edge":
        return np.full_like(a, 1.1215)
    if crack == "centre":
        return np.ones_like(a)
    lam, at = aspect, a / thickness
    q = 1 + 1.464 * lam**1.65
    base = (1.13 - 0.09 * lam) + (-0.54 + 0.89 / (0.2 + lam)) * at**2 + (
        0.5 - 1 / (0.65 + lam) + 14 * (1 - lam) ** 24) * at**4
    deepest = base * 1.0 * 1.0  # g = 1 and f_phi = 1 at phi = 90 deg
    surface = base * (1 + 0.1 + 0.35 * at**2) * np.sqrt(lam)  # g = 1.1 + 0.35 (a/t)^2, f_phi = (a/c)^(1/2)
    return np.maximum(deepest, surface) / np.sqrt(q)


def _bisect(f: Any, lo: np.ndarray, hi: np.ndarray, steps: int = 70) -> np.ndarray:
    """Root of f, increasing in x, bracketed by lo < hi (vectorised)."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        up = f(mid) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def critical_stress(a, y, e_prime, gamma, sigma_max, v0=None, n=None, duration=None):
    """σ* (MPa): Dugdale inert strength by bisection on δ_t = Γ/σ_max, then the stress whose
    Evans–Wiederhorn time to failure equals the load duration (bisection in log σ)."""
    a_e = y**2 * a
    e_mpa, gamma_mpa_m = 1e3 * e_prime, 1e-6 * gamma

    def ctod_excess(s):
        return 8 * sigma_max * a_e / (math.pi * e_mpa) * -np.log(np.cos(math.pi * s / (2 * sigma_max))) - (
            gamma_mpa_m / sigma_max)

    sigma_c = _bisect(ctod_excess, np.zeros_like(a_e), sigma_max * (1 - 1e-15) + 0 * a_e)
    if duration is None:
        return sigma_c

    def minus_log_time_excess(log_s):  # increasing in σ: log t_L − log t_f(σ)
        ratio = sigma_c / np.exp(log_s)
        t_f = 2 * a / ((n - 2) * v0) * (ratio**n - ratio**2)
        return math.log(duration) - np.log(np.maximum(t_f, 1e-300))

    return np.exp(_bisect(minus_log_time_excess, np.log(sigma_c) - 12.0, np.log(sigma_c)))


def reference_pf(model, options: dict[str, Any], nodes: dict[str, int] | None = None) -> float:
    """Quadrature Pf of a ``models.fracture.fracture`` model built with ``options`` (only its declared
    input distributions are read from it) with the node counts per input."""
    options = {"crack": "edge", "law": "bilinear", "plane": "strain", "load_duration": None, **options}
    k = {"a": 48, "E": 5, "sigma_max": 5, "delta_c": 8, "aspect": 8, "v0": 12, **(nodes or {})}
    d = {i.name: i.distribution for i in model.inputs}
    axes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in ("a", "sigma_max", "delta_c", "v0"):
        if name in d:
            x, w = _hermite(k[name])
            axes[name] = (np.exp(d[name].mu + d[name].sigma * x), w)
    x, w = _hermite(k["E"])
    axes["E"] = (d["E"].mu + d["E"].sigma * x, w)
    if "aspect" in d:
        axes["aspect"] = _legendre(k["aspect"], d["aspect"].lower, d["aspect"].upper)
    names = list(axes)
    grids = np.meshgrid(*[axes[n][0] for n in names], indexing="ij")
    weight = np.ones(grids[0].shape)
    for j, n in enumerate(names):
        shape = [1] * len(names)
        shape[j] = -1
        weight = weight * axes[n][1].reshape(shape)
    v = {n: g.ravel() for n, g in zip(names, grids)}
    nu = d["nu"].value
    e_prime = v["E"] / (1 - nu**2) if options["plane"] == "strain" else v["E"]
    law_factor = {"bilinear": 0.5, "exponential": math.e}[options["law"]]
    gamma = law_factor * v["sigma_max"] * v["delta_c"]
    thickness = d["thickness"].value if "thickness" in d else 1.0
    y = geometry_factor(options["crack"], v["a"], v.get("aspect", 1.0 + 0 * v["a"]), thickness)
    duration = options["load_duration"]
    s_star = critical_stress(v["a"], y, e_prime, gamma, v["sigma_max"],
                             v.get("v0"), d["n"].value if "n" in d else None, duration)
    g = d["sigma"]
    survival = -np.expm1(-np.exp(-(s_star - g.loc) / g.scale))
    return float(np.sum(weight.ravel() * survival))


def monte_carlo_pf(model, n: int, rng: int = 0, batch: int = 2_000_000) -> tuple[float, float]:
    """Crude MC of the model's own margin (its closed forms), with the binomial standard error."""
    from uqbridge.designs import sample_inputs

    fails = 0
    streams = np.random.default_rng(rng).spawn(max(1, math.ceil(n / batch)))
    for j, stream in enumerate(streams):
        m = min(batch, n - j * batch)
        x = sample_inputs(model.inputs, m, "mc", rng=stream)
        fails += int(np.sum(model(**x)["margin"] <= 0))
    pf = fails / n
    return pf, math.sqrt(pf * (1 - pf) / n)


def study_options() -> dict[str, Any]:
    """The model options of ``studies/reliability_cracked_plate.toml``."""
    import tomllib

    return tomllib.loads((FOLDER / "studies" / "reliability_cracked_plate.toml").read_text())["model"]["options"]


OLD_DEFAULTS = {"crack": "edge"}


def _old_default_model(form: str):
    """The shipped defaults before the cohesive-zone fix: edge crack, inert, σ_max ~ LN(100 MPa, 0.2),
    δ_c ~ LN(0.152 µm, 0.2) — cohesive length ≈ 56 µm, the transition regime."""
    from uqbridge import LogNormal
    from uqbridge_models.fracture import fracture

    return fracture(crack="edge", form=form).with_inputs(
        sigma_max=LogNormal.from_median_cov(100.0, 0.2), delta_c=LogNormal.from_median_cov(0.152, 0.2))


def main(full: bool = False) -> dict[str, float]:
    start = time.perf_counter()
    fine = {"a": 64, "aspect": 16, "v0": 16}
    n_mc = 20_000_000 if full else 4_000_000
    out = {}
    print("Cracked glass plate: Pf references by quadrature of the Dugdale strip-yield solution\n")
    from uqbridge_models.fracture import fracture

    options = study_options()
    study = fracture(**options)
    pf = reference_pf(study, options)
    pf_fine = reference_pf(study, options, fine)
    mc, se = monte_carlo_pf(study, n_mc, rng=1)
    print(f"study configuration: {study.description}")
    print(f"  quadrature Pf             {pf:.5e}   (default nodes)")
    print(f"  quadrature Pf, finer      {pf_fine:.5e}   rel. change {pf / pf_fine - 1:+.2e}")
    print(f"  model Monte Carlo n={n_mc:.0e}  {mc:.5e} ± {se:.1e}   ratio to reference {mc / pf_fine:.3f}")
    out["study"] = pf_fine
    print("\nold defaults (edge crack, sigma_max median 100 MPa: cohesive length ~ 56 um > median flaw 20 um)")
    old = _old_default_model("dugdale")
    ref_old = reference_pf(old, OLD_DEFAULTS, {"a": 96, "sigma_max": 16, "delta_c": 16})
    ref_old_coarse = reference_pf(old, OLD_DEFAULTS, {"a": 48, "sigma_max": 8, "delta_c": 8})
    mc_d, se_d = monte_carlo_pf(old, n_mc // 4, rng=2)
    mc_l, se_l = monte_carlo_pf(_old_default_model("lefm"), n_mc // 4, rng=2)
    print(f"  Dugdale quadrature Pf     {ref_old:.5e}   (coarser nodes: rel. change {ref_old_coarse / ref_old - 1:+.2e})")
    print(f"  model form='dugdale' MC   {mc_d:.5e} ± {se_d:.1e}   ratio {mc_d / ref_old:.3f}")
    print(f"  model form='lefm' MC      {mc_l:.5e} ± {se_l:.1e}   ratio {mc_l / ref_old:.3f} (LEFM outside small-scale yielding)")
    out["old_defaults_dugdale"] = ref_old
    out["study_mc"], out["study_mc_se"] = mc, se
    print(f"\n(wall time {time.perf_counter() - start:.0f} s, under load)")
    return out


def write_reference(out: dict[str, float], path: Path) -> None:
    """Store the reference numbers, with how they were made, as test data."""
    import json

    how = ("tensor-product Gauss-Hermite/Gauss-Legendre quadrature of the Dugdale strip-yield failure "
           "condition (bisection on the crack-tip opening and on the Evans-Wiederhorn time to failure), "
           "Gumbel load integrated exactly; benchmarks/fracture_cohesive_reference.py --write-reference")
    data = {
        "study": {"pf": out["study"], "options": study_options(), "nodes": "a 64, aspect 16, v0 16, E 5, "
                  "sigma_max 5, delta_c 8; node-doubling change < 1e-3 relative", "method": how,
                  "model_monte_carlo_check": [out["study_mc"], out["study_mc_se"]]},
        "old_defaults_dugdale": {"pf": out["old_defaults_dugdale"], "options": OLD_DEFAULTS,
                                 "inputs": "sigma_max ~ LogNormal(median 100 MPa, CoV 0.2), delta_c ~ "
                                           "LogNormal(median 0.152 um, CoV 0.2), others default",
                                 "nodes": "a 96, sigma_max 16, delta_c 16, E 5", "method": how},
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    import warnings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="2e7 Monte Carlo samples")
    parser.add_argument("--write-reference", action="store_true",
                        help="store the numbers in tests/models/data/fracture_cohesive_reference.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # the LEFM comparison warns by design
    result = main(args.full)
    if args.write_reference:
        write_reference(result, FOLDER / "tests" / "models" / "data" / "fracture_cohesive_reference.json")
