"""Sampling designs (MC, LHS, scrambled Sobol, Halton) in the unit hypercube and mapped to inputs."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from . import checks
from .inputs import InputSet

if TYPE_CHECKING:
    from ._types import SeedLike

__all__ = ["DESIGNS", "sample_inputs", "unit_design"]

DESIGNS = ("mc", "lhs", "sobol", "halton")


def unit_design(n: int, d: int, design: str = "sobol", *, rng: SeedLike = None) -> np.ndarray:
    """``n`` points in the open unit hypercube ``(0, 1)^d``.

    Parameters
    ----------
    n, d : int
        Number of points and dimension.
    design : {"mc", "lhs", "sobol", "halton"}
        Plain Monte Carlo, Latin hypercube, scrambled Sobol (Owen scrambling) or scrambled Halton,
        all from ``scipy.stats.qmc`` except MC.
    rng : int, numpy Generator or None
        Seed or generator; the same seed gives the same design.

    Examples
    --------
    >>> unit_design(4, 2, "lhs", rng=0).shape
    (4, 2)
    """
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; valid designs: {list(DESIGNS)}")
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"number of samples n must be a positive integer, got {n!r}")
    rng = checks.generator(rng, "unit_design: rng")
    if d == 0:
        return np.empty((n, 0))
    from scipy.stats import qmc  # imported here: scipy.stats costs about a second at start-up

    if design == "mc":
        u = rng.random((n, d))
    elif design == "lhs":
        u = qmc.LatinHypercube(d, rng=rng).random(n)
    else:
        engine = qmc.Sobol(d, scramble=True, rng=rng) if design == "sobol" else qmc.Halton(d, scramble=True, rng=rng)
        with warnings.catch_warnings():
            # Sobol balance is best at powers of two; any n is still a valid randomized QMC design.
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            u = engine.random(n)
    return open_unit(u)


def open_unit(u: np.ndarray) -> np.ndarray:
    """``u`` moved strictly inside ``(0, 1)``, in place: scipy designs live in ``[0, 1)``, and inverse CDFs with
    infinite support need the open interval (in place: ``np.clip`` with scalar bounds makes two temporaries
    and is ~5x slower at 10^6 x d).

    Examples
    --------
    >>> open_unit(np.array([0.0, 0.5])).tolist()[1]
    0.5
    """
    np.maximum(u, np.finfo(float).tiny, out=u)
    np.minimum(u, 1 - np.finfo(float).epsneg, out=u)
    return u


def sample_inputs(inputs: InputSet, n: int, design: str = "sobol", *, rng: SeedLike = None) -> dict[str, np.ndarray]:
    """Draw ``n`` input samples: a unit design mapped through copula and marginals.

    Examples
    --------
    >>> from uqbridge.inputs import Input
    >>> from uqbridge.distributions import Normal
    >>> x = sample_inputs(InputSet([Input("a", Normal(5, 1))]), 1024, "sobol", rng=1)
    >>> bool(abs(x["a"].mean() - 5) < 0.01)
    True
    """
    return inputs.from_unit(unit_design(n, inputs.dimension, design, rng=rng))
