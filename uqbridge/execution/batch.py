"""Evaluating a model on many samples without losing any: failures are isolated and recorded per sample.

A *backend* maps a function over batches of samples (``map(func, batches) -> list``). The default
runs in-process and vectorised; other backends (:mod:`uqbridge.execution.backends`: process pool, Dask) only
change where batches run. Backends may also offer ``imap(func, batches)`` yielding ``(index, result)``
as batches finish, which campaigns use to commit each batch as soon as it is done.

Progress: :func:`evaluate` (so every analysis built on it) and campaigns show a tqdm bar over batches
when a person watches a terminal; :func:`progress_enabled` is the one place that decides, and
:func:`set_progress` switches it for the whole session.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..model import ForwardModel, ModelContractError
from .failures import SampleFailures

__all__ = [
    "ERROR",
    "NONFINITE",
    "OK",
    "Backend",
    "BatchResult",
    "BatchTimeout",
    "InProcess",
    "evaluate",
    "evaluate_batch",
    "progress_enabled",
    "set_progress",
    "stream_batches",
]

OK, NONFINITE, ERROR = 0, 1, 2
STATUS_MEANINGS = "ok nonfinite error"


_PROGRESS: bool | None = None  # the session's choice (set_progress); None decides per call
_BAR_DELAY_S = 1.0  # a bar appears only for evaluations that last longer: FORM steps stay quiet
_BAR_BATCHES = 20  # in-process, an evaluation with a bar is cut in about this many batches ...
_BAR_MIN_SAMPLES = 1000  # ... when it has at least this many samples


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a progress bar: the one place that decides, for every analysis and campaign.

    An explicit ``progress`` wins; otherwise the session's :func:`set_progress` choice; otherwise a
    bar is shown only to a person at a terminal: never when standard error is redirected (not a
    TTY) or the ``CI`` environment variable is set, since bars garble logs.

    Examples
    --------
    >>> progress_enabled(False), progress_enabled(True)
    (False, True)
    """
    if progress is not None:
        return bool(progress)
    if _PROGRESS is not None:
        return _PROGRESS
    return not os.environ.get("CI") and sys.stderr.isatty()


def set_progress(enabled: bool | None) -> bool | None:
    """Show (True), hide (False) or auto-detect (None, the default) progress bars for the session.

    Returns the previous setting, so a caller can restore it. An explicit ``progress=`` argument
    still wins.

    Examples
    --------
    >>> previous = set_progress(False)
    >>> progress_enabled()
    False
    >>> _ = set_progress(previous)
    """
    global _PROGRESS
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"set_progress expects True, False or None, got {enabled!r}")
    previous, _PROGRESS = _PROGRESS, enabled
    return previous


class BatchTimeout(BaseException):
    """Raised inside a worker when a batch runs past the backend's ``timeout``.

    A ``BaseException`` so that a model's own ``except Exception`` cannot swallow it.
    """


def timeout_message(seconds: float) -> str:
    return (
        f"batch timed out after {seconds:g} s (the backend's timeout); the model did not return, "
        "its points are recorded as failed"
    )


class Backend(Protocol):
    """Anything that maps ``func`` over a list of batches and returns the results in order."""

    def map(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]: ...


@dataclass(frozen=True)
class InProcess:
    """Run batches one after another in this process (the default, vectorised)."""

    def map(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]:
        return [func(b) for b in batches]

    def imap(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, func(batch))`` one batch at a time."""
        for i, b in enumerate(batches):
            yield i, func(b)


@dataclass
class BatchResult:
    """Outputs of a batch plus the per-sample status (OK / NONFINITE / ERROR) and messages."""

    outputs: dict[str, np.ndarray]
    status: np.ndarray
    message: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence[BatchResult]) -> BatchResult:
        keys = parts[0].outputs.keys()
        return cls(
            {k: np.concatenate([p.outputs[k] for p in parts]) for k in keys},
            np.concatenate([p.status for p in parts]),
            np.concatenate([p.message for p in parts]),
        )


def evaluate_batch(model: ForwardModel, values: Mapping[str, np.ndarray]) -> BatchResult:
    """Evaluate ``model`` on a batch; if the vectorised call raises, bisect to isolate failing samples.

    Examples
    --------
    >>> from uqbridge.model import ForwardModel, Output
    >>> from uqbridge.inputs import Input
    >>> from uqbridge.distributions import Normal
    >>> m = ForwardModel("sqrt", lambda x: {"y": np.sqrt(x)}, [Input("x", Normal(0, 1))], [Output("y")])
    >>> r = evaluate_batch(m, {"x": np.array([4.0, -1.0])})
    >>> float(r.outputs["y"][0]), r.status.tolist()
    (2.0, [0, 1])
    """
    n = len(next(iter(values.values())))
    try:
        with np.errstate(all="ignore"):
            outputs = model(**values)
    except SampleFailures as err:  # the model knows which samples failed: keep the others as they are
        try:
            return _partial(model, err, n)
        except ModelContractError as broken:
            return _failed(model, n, f"{type(broken).__name__}: {broken}")
    except ModelContractError as err:
        # a broken declaration (wrong length, complex, in-place edit): splitting the call could
        # "repair" it (a length-1 answer fits a 1-point call), so every point of the call fails
        return _failed(model, n, f"{type(err).__name__}: {err}")
    except (Exception, SystemExit) as err:  # noqa: BLE001 - any model failure is recorded, never lost
        if n == 1:
            if isinstance(err, SystemExit):  # a model calling sys.exit() must not end the run
                return _failed(model, 1, f"model {model.name!r} called sys.exit({err.code!r})")
            return _failed(model, 1, f"{type(err).__name__}: {err}")
        half = n // 2
        parts = [
            evaluate_batch(model, {k: v[:half] for k, v in values.items()}),
            evaluate_batch(model, {k: v[half:] for k, v in values.items()}),
        ]
        return BatchResult.concat(parts)
    return _statuses(outputs, n)


def _statuses(outputs: dict[str, np.ndarray], n: int) -> BatchResult:
    status = np.zeros(n, np.int8)
    # an empty fixed-width array is ~100x cheaper than an object array at 10^6 samples
    message: np.ndarray = np.zeros(n, dtype="<U1")
    for name, y in outputs.items():
        fresh = ~np.isfinite(y) & (status == OK)
        if fresh.any():
            message = message.astype(object)
            status[fresh] = NONFINITE
            message[fresh] = f"output {name!r} is not finite"
    return BatchResult(outputs, status, message)


def _partial(model: ForwardModel, err: SampleFailures, n: int) -> BatchResult:
    if err.failed.shape != (n,):
        raise ValueError(f"model {model.name!r} reported failures for {err.failed.size} samples in a batch of {n}")
    checked = model._check_outputs(err.outputs, n)
    result = _statuses(checked, n)
    result.status[err.failed] = ERROR
    result.message = result.message.astype(object)
    result.message[err.failed] = np.asarray(err.messages, dtype=object)[err.failed]
    for name in checked:
        checked[name][err.failed] = np.nan
    return result


def _failed(model: ForwardModel, n: int, message: str) -> BatchResult:
    """A batch of ``n`` points that all failed with ``message``."""
    nan = {o: np.full(n, np.nan) for o in model.output_names}
    return BatchResult(nan, np.full(n, ERROR, np.int8), np.full(n, message, object))


def evaluate(
    model: ForwardModel,
    values: Mapping[str, np.ndarray],
    *,
    backend: Backend | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> BatchResult:
    """Evaluate ``model`` on all samples in batches on ``backend`` (default: in-process, one batch).

    Without ``batch_size``, a backend with several workers gets about four batches per worker (so
    that it has work to share); the in-process backend gets one batch, or about 20 when a progress
    bar is shown (from 1000 samples on). Per-sample results do not depend on the batching for models
    that treat samples independently (the model contract), so the same inputs give bit-identical
    outputs on every backend, with or without a bar.

    ``progress`` shows a tqdm bar over batches (None: :func:`progress_enabled` decides); it appears
    only for an evaluation of more than one batch that lasts over a second.

    Examples
    --------
    >>> from uqbridge.model import ForwardModel, Output
    >>> from uqbridge.inputs import Input
    >>> from uqbridge.distributions import Normal
    >>> m = ForwardModel("sq", lambda x: {"y": x**2}, [Input("x", Normal(0, 1))], [Output("y")])
    >>> evaluate(m, {"x": np.arange(5.0)}, batch_size=2).outputs["y"]
    array([ 0.,  1.,  4.,  9., 16.])
    """
    full = model.complete(values)
    if not full:
        raise ValueError(
            f"model {model.name!r} declares no inputs: there is nothing to sample or evaluate per "
            "sample; declare at least one Input"
        )
    n = len(next(iter(full.values())))
    backend = backend or InProcess()
    show = progress_enabled(progress)
    if batch_size is None:
        size = _default_batch_size(backend, n)
        if show and size >= n >= _BAR_MIN_SAMPLES:
            size = -(-n // _BAR_BATCHES)
    elif isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    else:
        size = int(batch_size)
    batches = [{k: v[s : s + size] for k, v in full.items()} for s in range(0, n, size)]
    if not show or len(batches) < 2:
        return BatchResult.concat(backend.map(_BatchCall(model), batches))
    from tqdm.auto import tqdm

    parts: list[Any] = [None] * len(batches)
    with tqdm(total=n, unit="pt", desc=model.name, delay=_BAR_DELAY_S, leave=False, disable=False) as bar:
        stream = stream_batches(backend, _BatchCall(model), batches)
        try:
            for i, part in stream:
                parts[i] = part
                bar.update(len(part.status))
        finally:
            stream.close()  # cancels batches still queued on a pool or cluster
    return BatchResult.concat(parts)


def stream_batches(
    backend: Backend, func: Callable[[Any], Any], batches: Sequence[Any]
) -> Generator[tuple[int, Any], None, None]:
    """Yield ``(index, func(batch))`` as batches finish: ``backend.imap`` if it has one, else ``map``
    on worker-sized groups (a map-only backend returns nothing before the whole call ends)."""
    imap = getattr(backend, "imap", None)
    if imap is not None:
        yield from imap(func, batches)
        return
    group = max(1, int(getattr(backend, "n_workers", 1) or 1))
    for start in range(0, len(batches), group):
        for k, r in enumerate(backend.map(func, batches[start : start + group])):
            yield start + k, r


def _default_batch_size(backend: Backend, n: int) -> int:
    workers = getattr(backend, "n_workers", None)
    if workers is None and hasattr(backend, "worker_count"):
        workers = backend.worker_count()  # a Dask scheduler we connected to
    if not workers or workers <= 1:
        return n
    return max(1, -(-n // (4 * int(workers))))


@dataclass(frozen=True)
class _BatchCall:
    """Picklable ``batch -> evaluate_batch(model, batch)`` (ships the model once per worker task)."""

    model: ForwardModel

    def __call__(self, batch: Mapping[str, np.ndarray]) -> BatchResult:
        return evaluate_batch(self.model, batch)

    def timed_out(self, batch: Mapping[str, np.ndarray], seconds: float) -> BatchResult:
        """The result of a batch that ran past the backend's timeout: all its points failed."""
        return _failed(self.model, len(next(iter(batch.values()))), timeout_message(seconds))
