"""Where and how model runs happen: batches with failures isolated per sample, backends, durable campaigns.

``batch`` evaluates a model over samples (the in-process backend, status codes, progress); ``backends``
runs batches on a process pool or a Dask cluster; ``failures`` is how a model reports failed samples;
``store`` and ``campaign`` keep a long run on disk and resume it. Import campaigns from
:mod:`uqbridge.execution.campaign` (they build on the analyses, which build on this package).
"""

from .backends import BACKENDS, Dask, ProcessPool, make_backend
from .batch import (
    ERROR,
    NONFINITE,
    OK,
    Backend,
    BatchResult,
    BatchTimeout,
    InProcess,
    evaluate,
    evaluate_batch,
    progress_enabled,
    set_progress,
    stream_batches,
)
from .failures import SampleFailures

__all__ = [
    "BACKENDS",
    "ERROR",
    "NONFINITE",
    "OK",
    "Backend",
    "BatchResult",
    "BatchTimeout",
    "Dask",
    "InProcess",
    "ProcessPool",
    "SampleFailures",
    "evaluate",
    "evaluate_batch",
    "make_backend",
    "progress_enabled",
    "set_progress",
    "stream_batches",
]
