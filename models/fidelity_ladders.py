"""Fidelity ladders of shipped models for multi-fidelity estimation (:mod:`uqbridge.multifidelity`):
the same micro-to-macro map at several costs, high fidelity first, all reading the same inputs.
"""

from __future__ import annotations

from typing import Any

import uqbridge as uq
from uqbridge_models.porous_diffusion import porous_diffusion

__all__ = ["LADDER_NOTES", "atoms_to_strut_ladder", "porous_diffusion_ladder"]

LADDER_NOTES = {
    "porous_diffusion": (
        "Periodic finite-volume cell problem of random overlapping disks with cut-cell walls at n² cells "
        "(models/porous_diffusion.py). Validity: the 64² cell is within 0.5 % of its 256² value for porosity "
        "0.5-0.7 (benchmarks/models_transport.py); coarser grids resolve the thin throats worse (first-order "
        "wall error), so 32² and 16² are biased low and serve only as control variates. Cost ~ n² log n per "
        "solve, measured as wall time in the benchmark."
    ),
    "atoms_to_strut": (
        "chain_atoms_to_strut with the true EMT (ASE) Cauchy-Born stage (about 70 ms per sample) vs the same "
        "chain with that stage replaced by a polynomial chaos surrogate fitted where the chain feeds it "
        "(uqbridge.chains.surrogate_stage; microseconds per sample after n_train true runs). Validity: the "
        "surrogate's held-out error is in its stage_surrogate report; it is used only as a control variate, so "
        "its error costs variance, never bias."
    ),
}


def porous_diffusion_ladder(resolutions: tuple[int, ...] = (64, 32, 16)) -> list[uq.ForwardModel]:
    """The random-disk porous-diffusion cell problem at decreasing grid resolutions (finest first).

    Every level reads the same inputs (porosity, radius, seed_u, D0): the same seed gives the same disks,
    rasterised on a finer or coarser grid, so the levels are strongly correlated.

    Examples
    --------
    >>> [m.name for m in porous_diffusion_ladder((32, 16))]
    ['porous_diffusion_random_disks_32', 'porous_diffusion_random_disks_16']
    """
    if list(resolutions) != sorted(resolutions, reverse=True) or len(set(resolutions)) != len(resolutions):
        raise ValueError(f"resolutions must be distinct and finest first, got {resolutions!r}")
    out = []
    for n in resolutions:
        m = porous_diffusion("random_disks", n=int(n))
        out.append(uq.ForwardModel(f"{m.name}_{n}", m.function, list(m.inputs), list(m.outputs),
                                   description=m.description))
    return out


def atoms_to_strut_ladder(*, n_train: int = 60, rng: Any = None) -> list[uq.ForwardModel]:
    """``[chain_atoms_to_strut, the same chain with a surrogate atomistic stage]`` (true chain first).

    ``n_train`` true EMT runs (plus ``n_train // 2`` held-out) are spent on the surrogate; count them as
    a fixed cost of the low fidelity.
    """
    from uqbridge.chains import surrogate_stage
    from uqbridge_models.chains import chain_atoms_to_strut

    g = chain_atoms_to_strut()
    return [g, surrogate_stage(g, "atomistic", n_train=n_train, n_test=max(n_train // 2, 10), rng=rng)]
