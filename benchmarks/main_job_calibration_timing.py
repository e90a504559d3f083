"""Where the main job's calibration time goes: the calibrate step of studies/reliability_atoms_to_strut.toml, timed.

Fits the atomistic stage surrogate as the study does (160 + 80 true EMT runs, not timed), then runs the study's
calibrate step with the given NUTS metric and prints wall and CPU time (this process and its children: g++ when
PyTensor compiles on a cold cache), the leapfrog steps per draw and the gates. Point PYTENSOR_FLAGS at an empty
``compiledir`` to measure a fresh machine (cold cache); run it twice to measure a warm one.

Run: PYTENSOR_FLAGS=compiledir=/tmp/ptcold python benchmarks/main_job_calibration_timing.py [diag|dense] [seed]
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np

from uqbridge import Gumbel
from uqbridge.calibration.stage import calibrate_step
from uqbridge.chains.stage_surrogate import surrogate_stage
from uqbridge_models.chains import chain_atoms_to_strut

DATA = Path(__file__).resolve().parents[1] / "models" / "data"


def main(mass_matrix: str = "dense", seed: int = 0) -> None:
    fit_rng, cal_rng = np.random.default_rng(seed).spawn(2)
    true = chain_atoms_to_strut(model_error_sd=0.1).with_inputs(P=Gumbel(5.595, 0.7017))
    sur = surrogate_stage(true, "cauchy_born_emt", n_train=160, n_test=80, pce_options={"max_degree": 4}, rng=fit_rng)
    options = {
        "data": str(DATA / "cu_elastic_constants_300k.csv"), "observe": {"C11": "C11_rt", "C12": "C12_rt", "C44": "C44_rt"},
        "noise": "data", "draws": 800, "tune": 500, "chains": 2, "mass_matrix": mass_matrix, "posterior": "gaussian",
        "correlation": "within_scale", "adequacy": {"min_data_share": 0.0, "min_contraction": 0.0},
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    step = calibrate_step(sur, options, rng=cal_rng)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    table = step.results["calibration"]
    print(f"mass_matrix={mass_matrix} seed={seed}: calibrate step wall {wall:.1f} s, CPU {cpu:.1f} s "
          f"(+ {children:.1f} s in child processes, i.e. C compilation); gates: {table.attrs['gates']}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dense", int(sys.argv[2]) if len(sys.argv) > 2 else 0)
