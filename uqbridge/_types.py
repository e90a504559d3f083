"""Type aliases shared by the public signatures (for readers and type checkers; nothing here runs).

``SeedLike`` is what every ``rng=`` parameter accepts (SciPy SPEC 7: anything
:func:`numpy.random.default_rng` takes); the execution ``Backend`` protocol lives in
:mod:`uqbridge.execution.batch` and the limit-state union ``AnyLimitState`` in
:mod:`uqbridge.reliability.limit_state`.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

__all__ = ["SeedLike"]

#: Seed or generator accepted by every ``rng=`` parameter: ``None`` (fresh entropy), an int or a
#: sequence of ints, a ``SeedSequence``, a ``BitGenerator`` or a ``Generator``.
SeedLike: TypeAlias = int | np.integer | np.random.SeedSequence | np.random.BitGenerator | np.random.Generator | None
