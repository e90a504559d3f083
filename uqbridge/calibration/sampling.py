"""``Sampling``: the sampler options of a calibration in one record (issue #32: option records).

:func:`~uqbridge.calibration.calibrate` takes ``sampling=Sampling(...)``; its old keywords (``draws=``,
``tune=``, ``chains=``, ``cores=``, ``target_accept=``, ``mass_matrix=``, ``sampler=``) still work for
one release, each with a ``DeprecationWarning`` (:func:`sampling_from_keywords`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ..checks import positive_int

__all__ = ["MASS_MATRICES", "SAMPLERS", "Sampling", "sampling_from_keywords"]

#: NUTS implementations: PyMC's own, or nutpie (Rust, compiled with numba; optional dependency).
SAMPLERS = ("pymc", "nutpie")
#: NUTS metric adaptation: diagonal, or dense (PyMC's full matrix; nutpie's low-rank modified matrix).
MASS_MATRICES = ("diag", "dense")


@dataclass(frozen=True)
class Sampling:
    """Sampler options of a calibration, checked when the record is made.

    Parameters
    ----------
    draws : int
        Draws kept per chain.
    tune : int
        Tuning steps per chain (NUTS only; 0 allowed).
    chains : int
        Independent chains (the convergence gate compares them).
    cores : int
        Parallel processes; with 1 the chains run one after the other in this process (no start-up cost,
        one compiled graph).
    target_accept : float
        NUTS step-size adaptation target in (0, 1); raise it (e.g. 0.95) when divergences appear.
    mass_matrix : {"diag", "dense"}
        NUTS metric adaptation. ``dense`` whitens correlated posteriors (ridges of inputs the data
        constrain only jointly) and then needs several times fewer gradient evaluations per draw.
    sampler : {"pymc", "nutpie"}
        NUTS implementation for the ``nuts`` and ``surrogate`` paths. ``nutpie`` compiles the model
        with numba once (tens of seconds) and then samples several times faster per gradient.

    Examples
    --------
    >>> Sampling(draws=500, chains=2).draws
    500
    >>> Sampling(mass_matrix="full")
    Traceback (most recent call last):
    ...
    ValueError: Sampling: mass_matrix must be one of ('diag', 'dense'), got 'full'
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int = 1
    target_accept: float = 0.9
    mass_matrix: str = "diag"
    sampler: str = "pymc"

    def __post_init__(self) -> None:
        for name, minimum in (("draws", 1), ("tune", 0), ("chains", 1), ("cores", 1)):
            object.__setattr__(self, name, positive_int(getattr(self, name), f"Sampling: {name}", minimum))
        if not (isinstance(self.target_accept, (int, float)) and 0 < self.target_accept < 1):
            raise ValueError(f"Sampling: target_accept must lie in (0, 1), got {self.target_accept!r}")
        object.__setattr__(self, "target_accept", float(self.target_accept))
        if self.mass_matrix not in MASS_MATRICES:
            raise ValueError(f"Sampling: mass_matrix must be one of {MASS_MATRICES}, got {self.mass_matrix!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"Sampling: sampler must be one of {SAMPLERS}, got {self.sampler!r}")


_FIELDS = tuple(f.name for f in fields(Sampling))


def sampling_from_keywords(sampling: Sampling | None, legacy: dict[str, Any], where: str, stacklevel: int = 3) -> Sampling:
    """``sampling`` updated with the deprecated per-option keywords the caller gave (each warns once).

    ``legacy`` maps option names to values, with :data:`uqbridge._deprecation.NOT_GIVEN` for those not given.

    Examples
    --------
    >>> from uqbridge._deprecation import NOT_GIVEN
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     s = sampling_from_keywords(None, {"draws": 300, "tune": NOT_GIVEN}, "calibrate")
    >>> s.draws, s.tune, caught[0].category.__name__
    (300, 1000, 'DeprecationWarning')
    """
    from .._deprecation import NOT_GIVEN, warn_deprecated

    if sampling is not None and not isinstance(sampling, Sampling):
        raise TypeError(f"{where}: sampling must be a Sampling record, got {type(sampling).__name__}; "
                        "e.g. sampling=Sampling(draws=1000, chains=4)")
    given = {k: v for k, v in legacy.items() if v is not NOT_GIVEN}
    unknown = sorted(set(given) - set(_FIELDS))
    if unknown:  # pragma: no cover - programming error in a caller
        raise TypeError(f"{where}: unknown sampler option(s) {unknown}; Sampling has {list(_FIELDS)}")
    base = Sampling() if sampling is None else sampling
    if not given:
        return base
    spelled = ", ".join(f"{k}={v!r}" for k, v in given.items())
    warn_deprecated(where, ", ".join(f"{k}=..." for k in given), f"sampling=Sampling({spelled})", stacklevel=stacklevel)
    return replace(base, **given)
