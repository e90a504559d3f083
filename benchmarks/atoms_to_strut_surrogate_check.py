"""The main job's Pf through the atomistic stage surrogate against the same posterior through the true EMT stage.

Calibrates the atoms -> strut chain as studies/reliability_atoms_to_strut.toml does (stage surrogate of the
ASE EMT stage, NUTS on the measured 300 K constants), then runs FORM + importance sampling (n = 5000) with
the posterior inputs on (a) the surrogate chain and (b) the true chain (every IS sample runs ASE EMT), with
the same random streams. Prints both Pf with their standard errors, the ratio and the true-EMT run counts.
Measured once for the report (slow: ~5000 true EMT runs).

Run: python benchmarks/atoms_to_strut_surrogate_check.py [seed]
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from uqbridge import Gumbel
from uqbridge.calibration.stage import calibrate_step
from uqbridge.chains.stage_surrogate import surrogate_stage
from uqbridge.reliability import LimitState
from uqbridge.reliability.registry import METHODS
from uqbridge_models.chains import chain_atoms_to_strut

DATA = Path(__file__).resolve().parents[1] / "models" / "data"


def main(seed: int = 0) -> None:
    fit_rng, cal_rng, rel_rng = np.random.default_rng(seed).spawn(3)
    true = chain_atoms_to_strut(model_error_sd=0.1).with_inputs(P=Gumbel(5.595, 0.7017))
    sur = surrogate_stage(true, "cauchy_born_emt", n_train=160, n_test=80, pce_options={"max_degree": 4}, rng=fit_rng)
    report = sur.surrogate_reports[-1]
    options = {
        "data": str(DATA / "cu_elastic_constants_300k.csv"), "observe": {"C11": "C11_rt", "C12": "C12_rt", "C44": "C44_rt"},
        "noise": "data", "draws": 800, "tune": 500, "chains": 2, "correlation": "within_scale",
        "adequacy": {"min_data_share": 0.0, "min_contraction": 0.0},
    }
    step = calibrate_step(sur, options, rng=cal_rng)
    post_sur = step.model
    post_true = replace(true, inputs=post_sur.inputs)  # same input declarations, true EMT stage
    print(f"surrogate: {report.attrs['true_stage_runs']} true EMT runs; gates {step.results['calibration'].attrs['gates']}")
    seeds = rel_rng.bit_generator.seed_seq.spawn(2)  # the same streams for both chains
    for label, model in (("surrogate chain", post_sur), ("true EMT chain", post_true)):
        r_form, r_is = (np.random.default_rng(s) for s in seeds)
        ls = LimitState(model, "margin", threshold=0.0, failure="below")
        t0 = time.perf_counter()
        form = METHODS["form"](ls, rng=r_form)
        is_ = METHODS["importance_sampling"](ls, n=5000, form_result=form, rng=r_is)
        print(f"{label:16s}: FORM Pf {float(form['pf']):.4e}; IS Pf {float(is_['pf']):.4e} +- {float(is_['pf_se']):.1e} "
              f"({int(form.attrs.get('n_runs', 0)) + int(is_.attrs.get('n_runs', 0))} chain runs, {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
