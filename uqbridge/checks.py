"""Argument checks shared by the whole toolkit: one wording for one kind of mistake.

Each check names the argument, shows the bad value and says what is valid, and returns the value
converted (``int``/``float``) so callers can write ``n = positive_int(n, "n")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._types import SeedLike

__all__ = [
    "available_memory",
    "choice",
    "generator",
    "memory_estimate",
    "open_probability",
    "optional_positive_int",
    "positive_int",
    "positive_seconds",
    "refuse_beyond_memory",
]


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (booleans refused).

    Examples
    --------
    >>> positive_int(8, "n")
    8
    >>> positive_int(2, "n", minimum=4)
    Traceback (most recent call last):
    ...
    ValueError: n must be an integer >= 4, got 2
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def generator(rng: SeedLike, name: str = "rng") -> np.random.Generator:
    """``np.random.default_rng(rng)`` with an error that names the argument (SciPy SPEC 7 values).

    Examples
    --------
    >>> float(generator(0).random()) == float(np.random.default_rng(0).random())
    True
    >>> generator("x", "propagate: rng")
    Traceback (most recent call last):
    ...
    TypeError: propagate: rng must be None, a non-negative int seed, a numpy SeedSequence or Generator, got 'x'
    """
    if isinstance(rng, bool):
        raise TypeError(f"{name} must be None, a non-negative int seed, a numpy SeedSequence or Generator, got {rng!r}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be None, a non-negative int seed, a numpy SeedSequence or Generator, got {rng!r}") from None


def optional_positive_int(value: Any, name: str) -> int | None:
    """``None`` or a positive integer.

    Examples
    --------
    >>> optional_positive_int(None, "n_workers") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    return int(value)


def choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """One of ``choices``.

    Examples
    --------
    >>> choice("lhs", "design", ("mc", "lhs"))
    'lhs'
    >>> choice("grid", "design", ("mc", "lhs"))
    Traceback (most recent call last):
    ...
    ValueError: design must be one of ['mc', 'lhs'], got 'grid'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def open_probability(value: Any, name: str = "confidence") -> float:
    """A number strictly between 0 and 1 (a confidence level, a target probability).

    Examples
    --------
    >>> open_probability(0.95)
    0.95
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 < value < 1:
        raise ValueError(f"{name} must lie in (0, 1), e.g. 0.95, got {value!r}")
    return float(value)


def positive_seconds(value: Any, name: str = "timeout") -> float | None:
    """``None`` or a positive number of seconds.

    Examples
    --------
    >>> positive_seconds(2)
    2.0
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}")
    return float(value)


def memory_estimate(n: int, columns: int, copies: float = 4.0) -> int:
    """Bytes an in-memory run of ``n`` points with ``columns`` float64 values per point needs, roughly.

    ``copies`` counts the arrays of that size alive at the peak (design in the unit cube and mapped,
    outputs, the assembled dataset); 4 is what ``propagate`` peaks at within a factor ~2.

    Examples
    --------
    >>> memory_estimate(10**9, 4) / 2**30  # 1e9 points of ishigami (3 inputs, 1 output): ~119 GiB
    119.20928955078125
    """
    return int(n) * int(columns) * 8 * int(copies) if copies == int(copies) else int(n * columns * 8 * copies)


def available_memory() -> int | None:
    """Bytes the system can still give this process (Linux ``MemAvailable``; psutil elsewhere; None if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - unknown: no check
        return None


def refuse_beyond_memory(n: int, columns: int, what: str, fix: str, *, copies: float = 4.0) -> None:
    """Raise MemoryError before allocating when ``n`` points would not fit in the available memory.

    Examples
    --------
    >>> refuse_beyond_memory(1000, 4, "propagate", "use a smaller -n")  # 128 kB: fine
    """
    need = memory_estimate(n, columns, copies)
    have = available_memory()
    if have is not None and need > have:
        raise MemoryError(
            f"{what}: not enough memory: n = {n:,} points x {columns} values need about {need / 2**30:,.1f} GiB in memory, "
            f"but only {have / 2**30:,.1f} GiB are available; {fix}"
        )
