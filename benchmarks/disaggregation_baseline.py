"""Thermal disaggregation against the field-standard TsHARP regression baseline, on a truth the model
did not generate.

Truths: ``synthetic_scene`` (the model's own single-source equations: a unit test, not a validation) and
``two_source_scene`` (a two-source patch energy balance with Monin–Obukhov stability, Norman et al. 1995
form) at wind speeds 1–6 m/s (strongly to weakly unstable). Methods, all given the same coarse radiance
and fine surface fields:

* ``model``   — ``disaggregate`` with the true forcing (wind included) and the default parameters
  (``ra_scale = 1``, ``ef_max = 0.75``, ``g_soil = 0.315``): the energy balance + radiance constraint;
* ``tsharp``  — ``tsharp`` (Kustas et al. 2003; Agam et al. 2007): regression of coarse temperature on
  fractional cover with residual correction, no forcing needed (its strongest, standard configuration);
* ``eb+reg``  — ``tsharp`` with the model's energy-balance temperature as the predictor (a hybrid);
* ``uniform`` — the coarse brightness temperature everywhere.

Prints min/median/max fine-pixel RMSE (K) over seeds, the model/TsHARP RMSE ratio and how often the
model wins. Run: ``python benchmarks/disaggregation_baseline.py [--seeds 10]`` (a few seconds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from uqbridge_models.thermal_disaggregation import (
    _brightness_uniform,
    disaggregate,
    synthetic_scene,
    tsharp,
    two_source_scene,
)

CONDITIONS = [("own equations (unit test)", None, 3.0, 0.1)] + [
    (f"two-source, wind {w:g} m/s", "two_source", w, 0.1) for w in (1.0, 2.0, 3.0, 6.0)
] + [
    # soil moisture varying +-30 % independently of the vegetation: a truth further from TsHARP's linear form
    (f"two-source, wind 3 m/s, moisture +-{h:.0%}", "two_source", 3.0, h) for h in (0.3,)
]
METHODS = ("model", "tsharp", "eb+reg", "uniform")


def linear_share(scene) -> float:
    """R² of the fine truth regressed linearly on the vegetation fraction: TsHARP's own form (1 = a truth
    TsHARP reproduces by construction)."""
    f, t = scene.f_veg.ravel(), scene.t_true.ravel()
    return float(np.corrcoef(f, t)[0, 1] ** 2)


def rmse_by_method(generator: str | None, wind: float, seed: int, heterogeneity: float = 0.1) -> dict[str, float]:
    if generator is None:
        scene = synthetic_scene(heterogeneity=heterogeneity, rng=seed)
    else:
        scene = two_source_scene(wind=wind, heterogeneity=heterogeneity, rng=seed)
    ds = disaggregate(scene, wind=wind)
    fields = {
        "model": ds.t_disaggregated.values,
        "tsharp": tsharp(scene),
        "eb+reg": tsharp(scene, predictor=ds.t_model.values),
        "uniform": _brightness_uniform(scene),
    }
    out = {k: float(np.sqrt(np.mean((v - scene.t_true) ** 2))) for k, v in fields.items()}
    out["R2_f"] = linear_share(scene)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    t0 = time.perf_counter()
    print(f"fine-pixel RMSE (K), min/median/max over {args.seeds} scenes (4x4 coarse pixels of 8x8)")
    print(f"{'truth':38s}" + "".join(f"{m:>22s}" for m in METHODS) + f"{'model/tsharp':>22s}  model wins"
          "  R2(truth ~ f)")
    for label, generator, wind, heterogeneity in CONDITIONS:
        r: dict[str, list[float]] = {m: [] for m in (*METHODS, "R2_f")}
        for seed in range(args.seeds):
            for k, v in rmse_by_method(generator, wind, seed, heterogeneity).items():
                r[k].append(v)
        a = {m: np.array(v) for m, v in r.items()}
        ratio = a["model"] / a["tsharp"]

        def mmm(x: np.ndarray) -> str:
            return f"{x.min():6.3f}/{np.median(x):6.3f}/{x.max():6.3f}"

        print(f"{label:38s}" + "".join(f"{mmm(a[m]):>22s}" for m in METHODS) + f"{mmm(ratio):>22s}"
              f"  {int((ratio < 1).sum())}/{args.seeds}      {np.median(a['R2_f']):.2f}", flush=True)
    print(f"{time.perf_counter() - t0:.1f} s wall (shared machine, under load)")


if __name__ == "__main__":
    main()
