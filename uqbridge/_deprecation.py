"""Old spellings still accepted for one release, each with a ``DeprecationWarning`` naming the new one."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._types import SeedLike

__all__ = ["NOT_GIVEN", "rng_or_seed", "warn_deprecated"]


class _NotGiven:
    def __repr__(self) -> str:
        return "<not given>"


NOT_GIVEN: Any = _NotGiven()


def warn_deprecated(where: str, old: str, new: str, *, stacklevel: int = 3) -> None:
    """The one wording of every deprecation: ``where(old)`` is deprecated ...; use ``new``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_deprecated("propagate", "seed=...", "rng=...", stacklevel=2)
    >>> print(caught[0].message)
    propagate(seed=...) is deprecated and will be removed in the next release; use rng=...
    """
    warnings.warn(f"{where}({old}) is deprecated and will be removed in the next release; use {new}",
                  DeprecationWarning, stacklevel=stacklevel + 1)


def rng_or_seed(rng: SeedLike, seed: Any, where: str, *, default: Any = None, stacklevel: int = 3) -> Any:
    """The random source of a function that took ``seed=`` before it took ``rng=`` (SPEC 7).

    ``default`` is the function's default ``rng``: ``seed`` is refused only beside an ``rng`` the
    caller gave.

    Examples
    --------
    >>> rng_or_seed(1, NOT_GIVEN, "propagate")
    1
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rng_or_seed(None, 5, "propagate")
    5
    >>> print(caught[0].message)
    propagate(seed=...) is deprecated and will be removed in the next release; use rng=... (anything numpy.random.default_rng accepts)
    """
    if seed is NOT_GIVEN:
        return rng
    if not (rng is default or (type(rng) is int and rng == default)):
        raise TypeError(f"{where}() got both rng={rng!r} and seed={seed!r}; give only rng (seed is its deprecated spelling)")
    warn_deprecated(where, "seed=...", "rng=... (anything numpy.random.default_rng accepts)", stacklevel=stacklevel)
    return seed
