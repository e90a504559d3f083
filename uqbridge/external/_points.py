"""Run a point-wise evaluator over a batch, a few points at a time, keeping every failure's message."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..checks import positive_int, positive_seconds
from ..execution.failures import SampleFailures

PointFunction = Callable[[int, dict[str, float]], Mapping[str, float]]


def run_points(
    point: PointFunction,
    values: Mapping[str, np.ndarray],
    outputs: Sequence[str],
    *,
    max_concurrency: int = 1,
) -> dict[str, np.ndarray]:
    """Evaluate ``point(index, {input: float})`` for every sample; raise SampleFailures if any failed.

    Threads are enough: each point waits on a subprocess or a socket, not on the interpreter.
    """
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
    n = max((a.shape[0] for a in arrays.values()), default=1)
    rows = [{k: float(a[j] if a.shape[0] > 1 else a[0]) for k, a in arrays.items()} for j in range(n)]
    result = {o: np.full(n, np.nan) for o in outputs}
    messages = [""] * n
    failed = np.zeros(n, dtype=bool)

    def one(j: int) -> None:
        try:
            got = point(j, rows[j])
            missing = [o for o in outputs if o not in got]
            if missing:
                raise ValueError(f"no value for output(s) {missing}; got {sorted(got)}")
            for o in outputs:
                result[o][j] = float(got[o])
        except Exception as err:  # noqa: BLE001 - recorded per point, the others go on
            failed[j] = True
            messages[j] = f"{type(err).__name__}: {err}"

    if max_concurrency <= 1 or n == 1:
        for j in range(n):
            one(j)
    else:
        with ThreadPoolExecutor(max_workers=min(max_concurrency, n)) as pool:
            list(pool.map(one, range(n)))
    if failed.any():
        for o in outputs:
            result[o][failed] = np.nan
        raise SampleFailures(result, failed, messages)
    return result


def check_concurrency(value: object) -> int:
    return positive_int(value, "max_concurrency")


def check_timeout(value: object, argument: str = "timeout") -> float | None:
    return positive_seconds(value, argument)
