"""Where and how model runs happen: batches with failures isolated per sample, backends, durable campaigns.

``batch`` evaluates a model over samples (the in-process backend, status codes, progress); ``backends``
runs batches on a process pool or a Dask cluster; ``failures`` is how a model reports failed samples;
``store`` and ``campaign`` keep a long run on disk and resume it. Import campaigns from
:mod:`uqbridge.execution.campaign` (they build on the analyses, which build on this package).
"""

from . import batch
from .backends import BACKENDS, Dask, ProcessPool, make_backend
from .batch import *  # noqa: F403 - the batch layer's public names, listed once in batch.__all__
from .failures import SampleFailures

__all__ = [*batch.__all__, "BACKENDS", "Dask", "ProcessPool", "SampleFailures", "make_backend"]
