"""Execution backends that scale out: a local process pool and Dask distributed (LocalCluster or a scheduler).

Each backend maps a function over batches (``map``) or yields ``(index, result)`` as batches finish
(``imap``, used by campaigns to commit work as it arrives); the function is shipped once per worker.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..checks import optional_positive_int, positive_seconds
from .batch import Backend, BatchTimeout, InProcess

__all__ = ["BACKENDS", "Dask", "ProcessPool", "make_backend"]

BACKENDS = ("inprocess", "processes", "dask")

# The callable shipped to a pool worker by its initializer; one per worker process.
_WORKER_FUNC: Callable[[Any], Any] | None = None
# Where a worker says which batch it starts, when (the driver's watchdog reads it); None: not watched.
_STARTED: Any = None


def _exit_when_gone(driver: int) -> None:
    # Workers of a SIGKILLed driver would otherwise wait forever on the task queue (its pipe is
    # held open by the sibling workers); a killed campaign must not leave processes behind.
    while True:
        time.sleep(1.0)
        try:
            os.kill(driver, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - a reused pid of another user
            os._exit(1)


def _init_worker(payload: bytes, blas_threads: int | None, driver: int, started: Any = None) -> None:
    import cloudpickle

    global _WORKER_FUNC, _STARTED
    _STARTED = started
    threading.Thread(target=_exit_when_gone, args=(driver,), daemon=True, name="uqbridge-watchdog").start()
    if blas_threads is not None:
        # n workers × m BLAS threads on n cores oversubscribes and slows everyone down.
        from threadpoolctl import threadpool_limits

        threadpool_limits(blas_threads)
    _WORKER_FUNC = cloudpickle.loads(payload)


def _run_stored(batch: Any, timeout: float | None = None, tag: Any = None) -> Any:
    if _WORKER_FUNC is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("process-pool worker was started without a function")
    if _STARTED is not None and tag is not None:
        _STARTED.put((tag, os.getpid(), time.monotonic()))
    return _call_with_timeout(_WORKER_FUNC, batch, timeout)


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """Raise :class:`BatchTimeout` in this (main) thread after ``seconds`` (a no-op elsewhere)."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise BatchTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call_with_timeout(func: Callable[[Any], Any], batch: Any, timeout: float | None) -> Any:
    """``func(batch)``; past ``timeout`` seconds, ``func.timed_out(batch, timeout)`` (the batch's failure)."""
    try:
        with _alarm(timeout):
            return func(batch)
    except BatchTimeout:
        return _timed_out(func, batch, timeout)


def _timed_out(func: Callable[[Any], Any], batch: Any, timeout: float | None) -> Any:
    handler = getattr(func, "timed_out", None)
    if handler is None:
        raise TimeoutError(f"a batch ran longer than the backend's timeout of {timeout:g} s") from None
    return handler(batch, timeout)


def _check_timeout(timeout: Any) -> float | None:
    return positive_seconds(timeout, "timeout")


def _in_order(results: Any, n: int) -> list[Any]:
    """Collect ``(index, result)`` pairs arriving in completion order into a list in batch order."""
    out: list[Any] = [None] * n
    for i, r in results:
        out[i] = r
    return out


def _check_workers(n_workers: Any, argument: str = "n_workers") -> int | None:
    return optional_positive_int(n_workers, argument)


class ProcessPool:
    """Run batches in a pool of local worker processes (``concurrent.futures``).

    The function is serialised with cloudpickle (so closures and lambdas work) and handed to every
    worker once, by the pool initializer; tasks then carry only their batch. The pool stays alive
    between calls with the same function and is restarted when the function changes. Use it as a
    context manager, or call :meth:`close`.

    Parameters
    ----------
    n_workers : int or None
        Number of processes (default: ``os.cpu_count()``).
    start_method : {"forkserver", "spawn", "fork"} or None
        How workers start. The default, ``"forkserver"`` where available, is safe when the parent
        runs threads (progress bars, Dask clients); ``"fork"`` starts fastest.
    blas_threads : int or None
        BLAS/OpenMP threads per worker (default 1, so ``n_workers`` workers use ``n_workers`` cores);
        None leaves the libraries' defaults.
    timeout : float or None
        Seconds a batch may run. A batch past it is interrupted in its worker (a ``SIGALRM``,
        which stops Python code, sleeps and waits): its points fail with a message and the run
        goes on. A batch the alarm cannot stop (a C extension that never returns to Python, or
        blocks the signal) has its worker process killed ``max(2, timeout / 2)`` seconds later;
        the batches that were waiting beside it run again on fresh workers. None: no limit.

    Examples
    --------
    >>> with ProcessPool(2) as pool:
    ...     pool.map(abs, [-1, -2, 3])
    [1, 2, 3]
    """

    def __init__(
        self,
        n_workers: int | None = None,
        *,
        start_method: str | None = None,
        blas_threads: int | None = 1,
        timeout: float | None = None,
    ) -> None:
        self.n_workers = _check_workers(n_workers) or os.cpu_count() or 1
        self.timeout = _check_timeout(timeout)
        methods = multiprocessing.get_all_start_methods()
        if start_method is None:
            start_method = "forkserver" if "forkserver" in methods else "spawn"
        if start_method not in methods:
            raise ValueError(f"start_method {start_method!r} is not available here; valid choices: {methods}")
        self.start_method = start_method
        self.blas_threads = _check_workers(blas_threads, "blas_threads")
        self._executor: cf.ProcessPoolExecutor | None = None
        self._payload: bytes | None = None
        self._started: Any = None
        self._calls = 0

    def __repr__(self) -> str:
        return f"ProcessPool(n_workers={self.n_workers}, start_method={self.start_method!r})"

    def _pool_for(self, func: Callable[[Any], Any]) -> cf.ProcessPoolExecutor:
        import cloudpickle

        payload = cloudpickle.dumps(func)
        if self._executor is None or payload != self._payload:
            self.close()
            context = multiprocessing.get_context(self.start_method)
            if self.start_method == "forkserver":
                # The fork server imports uqbridge once; workers forked from it then start in ~0.1 s
                # instead of each paying the ~2 s import (only effective before the server starts).
                context.set_forkserver_preload(["uqbridge.execution.backends"])
            # with a timeout, workers report each batch they start, so a stuck one can be killed
            self._started = context.Queue() if self.timeout is not None else None
            self._executor = cf.ProcessPoolExecutor(
                max_workers=self.n_workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(payload, self.blas_threads, os.getpid(), self._started),
            )
            self._payload = payload
        return self._executor

    def imap(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, func(batch))`` in completion order; unfinished work is cancelled on exit."""
        if self.timeout is not None:
            yield from self._imap_watched(func, batches, self.timeout)
            return
        pool = self._pool_for(func)
        futures = {pool.submit(_run_stored, b, self.timeout): i for i, b in enumerate(batches)}
        try:
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def _imap_watched(self, func: Callable[[Any], Any], batches: Sequence[Any], timeout: float) -> Iterator[tuple[int, Any]]:
        """``imap`` with a watchdog: a batch still running ``max(2, timeout / 2)`` s past its timeout
        (the alarm could not stop it) has its worker killed and fails as timed out; the batches that
        were queued or running beside it are submitted again to a fresh pool."""
        grace = timeout + max(2.0, 0.5 * timeout)
        todo = dict(enumerate(batches))
        while todo:
            pool = self._pool_for(func)
            self._calls += 1
            futures = {pool.submit(_run_stored, todo[i], timeout, (self._calls, i)): i for i in sorted(todo)}
            begun: dict[int, tuple[int, float]] = {}  # batch -> (worker pid, start)
            pending = set(futures)
            killed = False
            try:
                while pending and not killed:
                    done, pending = cf.wait(pending, timeout=min(0.5, timeout), return_when=cf.FIRST_COMPLETED)
                    for fut in done:
                        if isinstance(fut.exception(), cf.process.BrokenProcessPool):
                            continue  # run again on a fresh pool below
                        i = futures[fut]
                        result = fut.result()
                        del todo[i]
                        yield i, result
                    self._read_starts(begun)
                    now = time.monotonic()
                    stuck = [i for i, (_, t) in begun.items() if i in todo and now - t > grace]
                    for i in stuck:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(begun[i][0], signal.SIGKILL)
                        killed = True
                        yield i, _timed_out(func, todo.pop(i), timeout)
                    if any(isinstance(f.exception(), cf.process.BrokenProcessPool) for f in done):
                        killed = True  # a worker died (killed here, or by the system): start afresh
            finally:
                for fut in futures:
                    fut.cancel()
            if killed:
                self._discard()

    def _read_starts(self, begun: dict[int, tuple[int, float]]) -> None:
        """Move the workers' start reports of the current call into ``begun``."""
        import queue

        while True:
            try:
                (call, i), pid, t = self._started.get_nowait()
            except queue.Empty:
                return
            if call == self._calls:
                begun[i] = (pid, t)

    def _discard(self) -> None:
        """Drop a pool whose worker was killed (it is broken); the next call starts a fresh one."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None
        self._payload = None

    def map(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]:
        """``[func(b) for b in batches]``, computed in the pool, in order."""
        return _in_order(self.imap(func, batches), len(batches))

    def close(self) -> None:
        """Shut the worker processes down (the pool restarts on the next call)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
        self._payload = None

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# Dask task sizing: aim for tasks of this many seconds, but keep this many tasks per worker thread
_TASK_SECONDS = 0.2
_TASKS_PER_THREAD = 4


def _apply(func: Callable[[Any], Any], batch: Any, timeout: float | None = None) -> Any:
    return func(batch) if timeout is None else _call_in_thread(func, batch, timeout)


def _apply_chunk(func: Callable[[Any], Any], chunk: list[Any], timeout: float | None = None) -> list[tuple[Any, float]]:
    """``[(func(batch), seconds) ...]`` for the batches of one Dask task."""
    out = []
    for batch in chunk:
        start = time.perf_counter()
        out.append((_apply(func, batch, timeout), time.perf_counter() - start))
    return out


def _call_in_thread(func: Callable[[Any], Any], batch: Any, timeout: float) -> Any:
    """``func(batch)`` in a helper thread, given up after ``timeout`` s (Dask tasks run off the main
    thread, where no alarm signal reaches them).

    A given-up thread is sent :class:`BatchTimeout` asynchronously, which stops Python code at its
    next bytecode; a thread asleep or inside C code ends when that call returns, and costs nothing
    meanwhile. Either way the task returns the batch's failure at once and the worker goes on.
    """
    import ctypes

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = func(batch)
        except BatchTimeout:
            pass
        except BaseException as err:  # noqa: BLE001 - handed back to the task
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True, name="uqbridge-batch")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(BatchTimeout))
        return _timed_out(func, batch, timeout)
    if "error" in box:
        raise box["error"]
    return box["result"]


class Dask:
    """Run batches on Dask distributed: an existing scheduler, or a ``LocalCluster`` started for you.

    The function is scattered once to every worker (``client.scatter(..., broadcast=True)``); each
    task carries only its batch and results come back in order. A cluster started here is closed by
    :meth:`close` or on leaving the ``with`` block; a scheduler given by ``address`` is left running.
    Requires the ``[dask]`` extra (``dask[distributed]``).

    Parameters
    ----------
    address : str or None
        Scheduler address, e.g. ``"tcp://10.0.0.5:8786"``; None starts a LocalCluster.
    n_workers : int or None
        Workers of the LocalCluster (default: Dask's choice from the number of cores).
    threads_per_worker : int
        Threads per LocalCluster worker. Solvers holding the GIL want 1 (the default).
    processes : bool
        LocalCluster workers are processes (default) or threads of this process.
    timeout : float or None
        Seconds a batch may run on its worker. A batch past it is given up: its points fail with
        a message and the run goes on (the batch runs in a helper thread, which is interrupted
        at its next Python bytecode; see ``_call_in_thread``). None: no limit.

    Examples
    --------
    >>> with Dask(n_workers=1, processes=False) as backend:
    ...     backend.map(abs, [-1, 2])
    [1, 2]
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        processes: bool = True,
        timeout: float | None = None,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise TypeError(f"address must be a scheduler address string or None, got {address!r}")
        if address is not None and n_workers is not None:
            raise ValueError(
                f"n_workers={n_workers!r} applies only to a LocalCluster; with address={address!r} the "
                "scheduler's workers are used"
            )
        self.address = address
        self.n_workers = _check_workers(n_workers)
        self.threads_per_worker = _check_workers(threads_per_worker, "threads_per_worker")
        self.processes = bool(processes)
        self.timeout = _check_timeout(timeout)
        self._client: Any = None
        self._cluster: Any = None

    def __repr__(self) -> str:
        where = self.address or f"LocalCluster(n_workers={self.n_workers}, processes={self.processes})"
        return f"Dask({where})"

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (connected, or with its LocalCluster started, on first use)."""
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as err:  # pragma: no cover - depends on the environment
                raise ImportError("the Dask backend needs the [dask] extra: pip install 'uqbridge[dask]'") from err
            if self.address is None:
                self._cluster = LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    # the scheduler's HTTP server always starts; a free port avoids clashing on 8787
                    dashboard_address=":0",
                )
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.address)
        return self._client

    def worker_count(self) -> int:
        """Number of workers currently connected to the scheduler."""
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def imap(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, func(batch))`` in completion order; unfinished work is cancelled on exit."""
        from distributed import as_completed

        client = self.client
        if not batches:
            return
        [shipped] = client.scatter([func], broadcast=True, hash=False)
        threads = self._threads()
        futures: dict[str, tuple[Any, list[int]]] = {}

        def submit(chunks: list[list[int]]) -> list[Any]:
            new = client.map(_apply_chunk, [shipped] * len(chunks), [[batches[i] for i in c] for c in chunks],
                             timeout=self.timeout, pure=False)
            futures.update({f.key: (f, c) for f, c in zip(new, chunks)})
            return new

        # a first wave of one batch per task measures how long a batch takes; the rest then goes in
        # chunks of about _TASK_SECONDS each (Dask costs ~2-3 ms of CPU per task, however small),
        # keeping at least _TASKS_PER_THREAD tasks per worker thread for load balance
        first = min(len(batches), 2 * threads)
        rest = list(range(first, len(batches)))
        stream = as_completed(submit([[i] for i in range(first)]), with_results=True)
        seconds: list[float] = []
        try:
            # with_results gathers finished results in groups: one round trip per group, not per task
            for fut, results in stream:
                _, chunk = futures[fut.key]
                for i, (result, took) in zip(chunk, results):
                    seconds.append(took)
                    yield i, result
                if rest and len(seconds) >= min(first, threads):
                    per_batch = max(float(np.median(seconds)), 1e-6)
                    size = max(1, min(int(_TASK_SECONDS / per_batch), len(rest) // (_TASKS_PER_THREAD * threads)))
                    stream.update(submit([rest[k : k + size] for k in range(0, len(rest), size)]))
                    rest = []
        finally:
            client.cancel([f for f, _ in futures.values()])
            shipped.release()

    def _threads(self) -> int:
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))

    def map(self, func: Callable[[Any], Any], batches: Sequence[Any]) -> list[Any]:
        """``[func(b) for b in batches]``, computed on the cluster, in order."""
        return _in_order(self.imap(func, batches), len(batches))

    def close(self) -> None:
        """Close the client, and the LocalCluster if this backend started it."""
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def __enter__(self) -> Dask:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def make_backend(
    kind: str = "inprocess",
    *,
    n_workers: int | None = None,
    address: str | None = None,
    timeout: float | None = None,
) -> Backend:
    """A backend by name, for command lines and configuration files.

    Parameters
    ----------
    kind : {"inprocess", "processes", "dask"}
    n_workers : int or None
        Worker count of the process pool or of the Dask LocalCluster.
    address : str or None
        Dask scheduler address (``kind="dask"`` only); None starts a LocalCluster.
    timeout : float or None
        Seconds a batch may run (process pool and Dask; see their ``timeout``).

    Examples
    --------
    >>> make_backend("processes", n_workers=2)
    ProcessPool(n_workers=2, start_method='forkserver')
    """
    if kind not in BACKENDS:
        raise ValueError(f"unknown backend {kind!r}; valid backends: {list(BACKENDS)}")
    if address is not None and kind != "dask":
        raise ValueError(f"address={address!r} is only meaningful with kind='dask', got kind={kind!r}")
    if kind == "inprocess":
        if n_workers not in (None, 1):
            raise ValueError(f"the in-process backend runs one worker, got n_workers={n_workers!r}")
        if timeout is not None:
            raise ValueError(
                f"timeout={timeout!r} needs a backend that can interrupt a batch: use kind='processes' or 'dask'"
            )
        return InProcess()
    if kind == "processes":
        return ProcessPool(n_workers, timeout=timeout)
    return Dask(address, n_workers=n_workers, timeout=timeout)
