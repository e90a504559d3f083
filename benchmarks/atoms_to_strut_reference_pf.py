"""Reference Pf of the atoms -> strut main job: the same strut with E at the measured polycrystal modulus.

Prints Pf = P(P_cr - P <= 0) of the Euler strut of studies/reliability_atoms_to_strut.toml (d ~ N(20, 0.05) mm,
L ~ N(1, 0.001) m, P ~ Gumbel(5.595, 0.7017) kN) with E fixed at the measured values of annealed Cu
(128 GPa, and the ends of the 124-130 GPa range, models/data/cu_polycrystal_young_modulus.csv), by plain
Monte Carlo with n = 4e6 per seed over 5 seeds (min/median/max and the binomial standard error).
The main job's Pf must lie within x1.5 of the 128 GPa value (issue 27).

Run: python benchmarks/atoms_to_strut_reference_pf.py
"""

from __future__ import annotations

import numpy as np

from uqbridge import Gumbel, Normal
from uqbridge_models.strut import euler_strut_function

N, SEEDS = 4_000_000, range(5)


def pf(E: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    u = rng.random((N, 3))
    d, L, P = Normal(20.0, 0.05).ppf(u[:, 0]), Normal(1.0, 1e-3).ppf(u[:, 1]), Gumbel(5.595, 0.7017).ppf(u[:, 2])
    return float(np.mean(euler_strut_function(E, d, L, P, 70.0)["margin"] <= 0))


if __name__ == "__main__":
    for E in (124.0, 128.0, 130.0):
        values = np.array([pf(E, s) for s in SEEDS])
        se = np.sqrt(values.mean() * (1 - values.mean()) / (N * len(values)))
        print(f"E = {E:5.1f} GPa: Pf min/median/max over {len(values)} seeds x {N:.0e} = "
              f"{values.min():.4e} / {np.median(values):.4e} / {values.max():.4e}  (pooled {values.mean():.4e} +- {se:.1e})")
