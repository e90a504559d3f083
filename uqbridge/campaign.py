"""Campaigns: long propagation runs whose every finished batch is committed durably to a store on disk.

A killed campaign resumes where it stopped (no point lost, none run twice) and ends with the same
result as an uninterrupted run; failed points are recorded, retried, dropped or abort the run.

Store layout (a directory)::

    manifest.json        model, inputs, design, seed, n, batch size, policy (written last, atomically)
    design.nc            all design points, drawn once before any evaluation
    model.pkl            the model pickled with cloudpickle, when it pickles (used by resume)
    batches/000042.nc    one file per finished batch: sample index, outputs, status, message, attempts

Every file is written under a temporary name, fsync'd, and renamed; the rename is the commit point,
so a file either holds a complete batch or does not exist. Only the driver process writes (workers
need no shared file system), and a lock (``.lock``) keeps a second driver off a running store.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import pickle
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._version import __version__
from .designs import DESIGNS, sample_inputs
from .execution import ERROR, NONFINITE, OK, Backend, BatchResult, InProcess, evaluate_batch
from .model import ForwardModel
from .propagate import RESERVED_NAMES, summarize
from .results import provenance, samples_dataset, seed_attr

__all__ = [
    "POLICIES",
    "CampaignAborted",
    "run_campaign",
    "resume_campaign",
    "campaign_status",
    "format_summary",
]

POLICIES = ("drop", "retry", "abort")
FORMAT = "uqbridge-campaign"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_DESIGN = "design.nc"
_MODEL = "model.pkl"
_BATCHES = "batches"
_LOCK = ".lock"
# netCDF-4 through libnetcdf: ~5x faster than h5netcdf for the many small files a campaign writes.
_ENGINE = "netcdf4"


class CampaignAborted(RuntimeError):
    """Raised by the ``"abort"`` policy once the batch holding the failures is committed."""


# ---- durable files --------------------------------------------------------------------------------
def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(final: Path, write: Any) -> None:
    """``write(tmp)``, fsync it, rename it to ``final`` and fsync the directory (the rename commits)."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    write(tmp)
    _fsync_path(tmp)
    os.replace(tmp, final)
    _fsync_path(final.parent)


def _write_netcdf(ds: xr.Dataset) -> Any:
    return lambda path: ds.to_netcdf(path, engine=_ENGINE)


def _write_bytes(data: bytes) -> Any:
    return lambda path: Path(path).write_bytes(data)


def _batch_path(store: Path, index: int) -> Path:
    return store / _BATCHES / f"{index:06d}.nc"


def _committed(store: Path) -> list[int]:
    folder = store / _BATCHES
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("[0-9]*.nc"))


# ---- the work shipped to workers ---------------------------------------------------------------------
@dataclass(frozen=True)
class _CampaignCall:
    """``batch -> (BatchResult, attempts, seconds)``; retries run on the worker, next to the model."""

    model: ForwardModel
    retries: int

    def __call__(self, batch: Mapping[str, np.ndarray]) -> tuple[BatchResult, np.ndarray, float]:
        start = time.perf_counter()
        result = evaluate_batch(self.model, batch)
        attempts = np.ones(len(result.status), np.int16)
        for _ in range(self.retries):
            failed = np.flatnonzero(result.status != OK)
            if failed.size == 0:
                break
            again = evaluate_batch(self.model, {k: v[failed] for k, v in batch.items()})
            for name in result.outputs:
                result.outputs[name][failed] = again.outputs[name]
            result.status[failed] = again.status
            result.message[failed] = again.message
            attempts[failed] += 1
        return result, attempts, time.perf_counter() - start


def _batch_dataset(index: int, samples: np.ndarray, part: tuple[BatchResult, np.ndarray, float]) -> xr.Dataset:
    result, attempts, seconds = part
    data: dict[str, Any] = {name: ("sample", np.asarray(y, float)) for name, y in result.outputs.items()}
    data["status"] = ("sample", result.status.astype(np.int8))
    data["message"] = ("sample", result.message.astype(str))
    data["attempts"] = ("sample", attempts.astype(np.int16))
    return xr.Dataset(data, coords={"sample": samples}, attrs={"batch": index, "eval_time_s": seconds})


# ---- argument checks ----------------------------------------------------------------------------------
def _check_policy(policy: Any) -> str:
    if policy not in POLICIES:
        raise ValueError(f"unknown failure policy {policy!r}; valid policies: {list(POLICIES)}")
    return policy


def _check_positive(value: Any, argument: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{argument} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    # Bars garble CI logs and redirected output; show them only to a person at a terminal.
    return not os.environ.get("CI") and sys.stderr.isatty()


def _registered_as(model: ForwardModel) -> str | None:
    """The registry name that rebuilds exactly this model (same inputs and outputs), if any."""
    from .registry import get_model

    try:
        registered = get_model(model.name)
    except (KeyError, ImportError, TypeError):
        return None
    same = registered.inputs.to_json() == model.inputs.to_json() and registered.output_names == model.output_names
    return model.name if same else None


# ---- public API ------------------------------------------------------------------------------------------
def run_campaign(
    model: ForwardModel,
    n: int,
    *,
    store: str | os.PathLike[str],
    design: str = "sobol",
    seed: Any = None,
    batch_size: int = 64,
    backend: Backend | None = None,
    policy: str = "drop",
    max_retries: int = 2,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    progress: bool | None = None,
) -> xr.Dataset:
    """Propagate ``model`` over ``n`` design points, committing every finished batch to ``store``.

    The design is drawn and saved before any evaluation, exactly as :func:`uqbridge.propagate`
    draws it, so the samples equal ``propagate(model, n, design=design, seed=seed)``'s and a resumed
    campaign ends with the same result as an uninterrupted one.

    Parameters
    ----------
    model : ForwardModel
    n : int
        Number of design points.
    store : path
        A new or empty directory (an existing campaign is continued with :func:`resume_campaign`).
    design : {"sobol", "lhs", "mc", "halton"}
    seed : int, numpy Generator or None
    batch_size : int
        Points per batch: the unit of work sent to a worker and of commit to disk.
    backend : Backend or None
        :class:`~uqbridge.execution.InProcess` (default), :class:`~uqbridge.backends.ProcessPool`,
        :class:`~uqbridge.backends.Dask`, or anything with ``map``. The caller closes it.
    policy : {"drop", "retry", "abort"}
        For points where the model raises or returns a non-finite value: ``"drop"`` keeps them with
        their status and message and excludes them from the statistics; ``"retry"`` re-evaluates
        them up to ``max_retries`` times (flaky solvers), then drops those still failing;
        ``"abort"`` commits the batch, then raises :class:`CampaignAborted` naming the failures.
    max_retries : int
        Re-evaluations per failed point under ``policy="retry"``.
    quantiles : sequence of float
        Output quantiles for the summary (see :func:`uqbridge.propagate.summarize`).
    progress : bool or None
        Show a tqdm progress bar; None shows it only on a terminal outside CI.

    Returns
    -------
    xarray.Dataset
        As :func:`uqbridge.propagate`, plus ``attempts`` per sample; ``attrs`` count samples by
        status (``n_ok_samples``, ``n_nonfinite``, ``n_error``, ``n_failed``, ``n_retried``,
        ``n_recovered``) and record ``n_runs`` (model evaluations including retries).

    Notes
    -----
    :func:`resume_campaign` needs the model again. It is found, in this order, from the caller
    (``model=``), from the registry when the model is a registered one with its registered inputs,
    or from ``model.pkl`` (cloudpickle; functions defined in importable modules are pickled by
    reference, so their modules must still be importable).

    Examples
    --------
    >>> import tempfile
    >>> from uqbridge.registry import get_model
    >>> store = tempfile.mkdtemp() + "/ishigami"
    >>> ds = run_campaign(get_model("ishigami"), 256, store=store, seed=1, batch_size=64)
    >>> campaign_status(store)["complete"], int(ds.attrs["n_failed"])
    (True, 0)
    """
    if not isinstance(model, ForwardModel):
        raise TypeError(f"model must be a ForwardModel, got {type(model).__name__}")
    clash = sorted((RESERVED_NAMES | {"attempts"}) & set(model.inputs.names + model.output_names))
    if clash:
        raise ValueError(f"model {model.name!r} uses reserved name(s) {clash}; rename them")
    n = _check_positive(n, "n")
    batch_size = _check_positive(batch_size, "batch_size")
    max_retries = _check_positive(max_retries, "max_retries", 0)
    policy = _check_policy(policy)
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; valid designs: {list(DESIGNS)}")
    summarize(xr.Dataset({"status": ("sample", [])}), [], quantiles=quantiles)  # validate early
    root = Path(store)
    if (root / _MANIFEST).exists():
        raise FileExistsError(
            f"store {os.fspath(root)!r} already holds a campaign; continue it with "
            "resume_campaign(store) or choose a new directory"
        )
    if root.exists():
        ours = {_DESIGN, _MODEL, _BATCHES, _LOCK}
        foreign = sorted(p.name for p in root.iterdir() if p.name not in ours and not p.name.endswith(".tmp"))
        if foreign or _committed(root):
            raise FileExistsError(
                f"store {os.fspath(root)!r} is not empty (holds {foreign or 'batch files'}); give a new "
                "or empty directory"
            )
    (root / _BATCHES).mkdir(parents=True, exist_ok=True)

    values = sample_inputs(model.inputs, n, design, rng=np.random.default_rng(seed))
    design_ds = xr.Dataset(
        {name: ("sample", np.asarray(v, float)) for name, v in model.complete(values).items()},
        coords={"sample": np.arange(n)},
    )
    _commit(root / _DESIGN, _write_netcdf(design_ds))
    rebuild = "caller"
    registry_name = _registered_as(model)
    if registry_name is not None:
        rebuild = "registry"
    try:
        import cloudpickle

        payload = cloudpickle.dumps(model)
    except Exception:  # noqa: BLE001 - a model that does not pickle is resumed with model=
        payload = None
    if payload is not None:
        _commit(root / _MODEL, _write_bytes(payload))
        if rebuild == "caller":
            rebuild = "pickle"
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "uqbridge_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model.name,
        "registry": registry_name,
        "rebuild": rebuild,
        "inputs": model.inputs.to_json(),
        "outputs": list(model.output_names),
        "design": design,
        "seed": seed_attr(seed),
        "n": n,
        "batch_size": batch_size,
        "n_batches": -(-n // batch_size),
        "policy": policy,
        "max_retries": max_retries,
        "quantiles": [float(q) for q in quantiles],
    }
    _commit(root / _MANIFEST, _write_bytes(json.dumps(manifest, indent=1).encode()))
    return _run(root, manifest, model, backend, policy, progress)


def resume_campaign(
    store: str | os.PathLike[str],
    *,
    model: ForwardModel | None = None,
    backend: Backend | None = None,
    policy: str | None = None,
    progress: bool | None = None,
) -> xr.Dataset:
    """Continue a campaign: run only the batches not yet committed, then assemble the result.

    Parameters
    ----------
    store : path
        Directory of a campaign started by :func:`run_campaign` (possibly killed mid-run).
    model : ForwardModel or None
        The campaign's model; needed unless it is a registered model or ``model.pkl`` loads. It must
        declare the same name, inputs and outputs as when the campaign started.
    backend : Backend or None
        Where to run the remaining batches (may differ from the original run).
    policy : {"drop", "retry", "abort"} or None
        Override the failure policy for the remaining batches (None: the campaign's policy).
    progress : bool or None
        As in :func:`run_campaign`.

    Returns
    -------
    xarray.Dataset
        The same as the uninterrupted :func:`run_campaign` would have returned.

    Examples
    --------
    >>> import tempfile
    >>> from uqbridge.registry import get_model
    >>> store = tempfile.mkdtemp() + "/c"
    >>> first = run_campaign(get_model("ishigami"), 128, store=store, seed=3, batch_size=32)
    >>> again = resume_campaign(store)   # nothing left to run: reassembled from the store
    >>> bool(again["y"].equals(first["y"]))
    True
    """
    root = Path(store)
    manifest = _read_manifest(root)
    if policy is not None:
        _check_policy(policy)
    model = _model_for(root, manifest, model)
    return _run(root, manifest, model, backend, policy or manifest["policy"], progress)


def campaign_status(store: str | os.PathLike[str]) -> dict[str, Any]:
    """How far a campaign got: model, points, batches committed and still missing, and whether it is done.

    Examples
    --------
    >>> import tempfile
    >>> from uqbridge.registry import get_model
    >>> store = tempfile.mkdtemp() + "/s"
    >>> _ = run_campaign(get_model("ishigami"), 100, store=store, seed=0, batch_size=30)
    >>> campaign_status(store)["n_batches"], campaign_status(store)["missing"]
    (4, [])
    """
    root = Path(store)
    manifest = _read_manifest(root)
    done = [i for i in _committed(root) if i < manifest["n_batches"]]
    missing = sorted(set(range(manifest["n_batches"])) - set(done))
    return {
        "model": manifest["model"],
        "n": manifest["n"],
        "batch_size": manifest["batch_size"],
        "n_batches": manifest["n_batches"],
        "committed": len(done),
        "missing": missing,
        "complete": not missing,
        "policy": manifest["policy"],
    }


def format_summary(ds: xr.Dataset) -> str:
    """One-paragraph text summary of a campaign result: counts by status and the first failures.

    Examples
    --------
    >>> ds = xr.Dataset({"status": ("sample", np.array([0, 2], np.int8)),
    ...                  "message": ("sample", ["", "ValueError: bad"])},
    ...                 attrs={"model": "m", "n_samples": 2})
    >>> print(format_summary(ds))
    model 'm': 2 samples, 1 ok, 0 nonfinite, 1 error
      sample 1: ValueError: bad
    """
    status = ds["status"].values
    counts = {name: int(np.count_nonzero(status == code)) for name, code in (("ok", OK), ("nonfinite", NONFINITE), ("error", ERROR))}
    lines = [
        f"model {ds.attrs.get('model', '?')!r}: {status.size} samples, "
        + ", ".join(f"{c} {name}" for name, c in counts.items())
    ]
    bad = np.flatnonzero(status != OK)
    for i in bad[:5]:
        lines.append(f"  sample {int(ds['sample'].values[i])}: {ds['message'].values[i]}")
    if bad.size > 5:
        lines.append(f"  ... and {bad.size - 5} more")
    return "\n".join(lines)


# ---- internals -----------------------------------------------------------------------------------------
def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / _MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"no campaign at {os.fspath(root)!r} (no {_MANIFEST}); start one with run_campaign(..., store=...)"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} is not a uqbridge campaign manifest of format version {FORMAT_VERSION} "
            f"(format={manifest.get('format')!r}, version={manifest.get('format_version')!r})"
        )
    return manifest


def _model_for(root: Path, manifest: Mapping[str, Any], model: ForwardModel | None) -> ForwardModel:
    if model is None and manifest.get("registry"):
        from .registry import get_model

        model = get_model(manifest["registry"])
    if model is None and (root / _MODEL).exists():
        try:
            model = pickle.loads((root / _MODEL).read_bytes())
        except Exception as err:  # noqa: BLE001 - explain what to do instead
            raise ValueError(
                f"cannot rebuild model {manifest['model']!r} from {os.fspath(root / _MODEL)!r} "
                f"({type(err).__name__}: {err}); pass it again: resume_campaign(store, model=...)"
            ) from err
    if model is None:
        raise ValueError(
            f"campaign {os.fspath(root)!r} needs its model {manifest['model']!r} to resume: it is not "
            "registered and was not pickled; pass it again: resume_campaign(store, model=...)"
        )
    if not isinstance(model, ForwardModel):
        raise TypeError(f"model must be a ForwardModel, got {type(model).__name__}")
    differences = []
    if model.name != manifest["model"]:
        differences.append(f"name {model.name!r} != {manifest['model']!r}")
    if model.inputs.to_json() != manifest["inputs"]:
        differences.append("the input declarations differ")
    if list(model.output_names) != list(manifest["outputs"]):
        differences.append(f"outputs {list(model.output_names)} != {manifest['outputs']}")
    if differences:
        raise ValueError(
            f"model given for campaign {os.fspath(root)!r} is not the campaign's model: " + "; ".join(differences)
        )
    return model


def _stream(backend: Backend, func: Any, batches: list[dict[str, np.ndarray]]) -> Iterator[tuple[int, Any]]:
    imap = getattr(backend, "imap", None)
    if imap is not None:
        yield from imap(func, batches)
        return
    # A map-only backend returns nothing before the whole call ends: call it on worker-sized
    # groups so that finished work is still committed regularly.
    group = max(1, int(getattr(backend, "n_workers", 1) or 1))
    for start in range(0, len(batches), group):
        for k, r in enumerate(backend.map(func, batches[start : start + group])):
            yield start + k, r


@contextlib.contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    """Hold the store's lock: one driver per store (the OS releases it if the driver is killed)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, one driver is the user's to ensure
        yield
        return
    with open(root / _LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"campaign {os.fspath(root)!r} is being run by another process; wait for it to finish "
                "or stop it before resuming"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(
    root: Path,
    manifest: Mapping[str, Any],
    model: ForwardModel,
    backend: Backend | None,
    policy: str,
    progress: bool | None,
) -> xr.Dataset:
    with _exclusive(root):
        return _run_locked(root, manifest, model, backend, policy, progress)


def _run_locked(
    root: Path,
    manifest: Mapping[str, Any],
    model: ForwardModel,
    backend: Backend | None,
    policy: str,
    progress: bool | None,
) -> xr.Dataset:
    from tqdm.auto import tqdm

    start = time.perf_counter()
    for stale in (root / _BATCHES).glob(".*.tmp"):
        stale.unlink(missing_ok=True)  # left by a process killed mid-write; never committed
    design_ds = xr.load_dataset(root / _DESIGN, engine=_ENGINE)
    values = {name: design_ds[name].values for name in model.inputs.names}
    n, size = manifest["n"], manifest["batch_size"]
    todo = sorted(set(range(manifest["n_batches"])) - set(_committed(root)))
    batches = [{k: v[b * size : (b + 1) * size] for k, v in values.items()} for b in todo]
    retries = manifest["max_retries"] if policy == "retry" else 0
    backend = backend or InProcess()
    done_points = n - sum(len(next(iter(b.values()))) for b in batches)
    bar = tqdm(total=n, initial=done_points, unit="pt", desc=model.name, disable=not _progress_enabled(progress))
    stream = _stream(backend, _CampaignCall(model, retries), batches)
    n_failed = 0
    try:
        for k, part in stream:
            b = todo[k]
            samples = np.arange(b * size, min((b + 1) * size, n))
            _commit(_batch_path(root, b), _write_netcdf(_batch_dataset(b, samples, part)))
            status = part[0].status
            n_failed += int(np.count_nonzero(status != OK))
            if n_failed:
                bar.set_postfix(failed=n_failed, refresh=False)
            bar.update(samples.size)
            if policy == "abort" and np.any(status != OK):
                bad = np.flatnonzero(status != OK)
                first = "; ".join(f"sample {samples[i]}: {part[0].message[i]}" for i in bad[:3])
                raise CampaignAborted(
                    f"campaign {os.fspath(root)!r} aborted: model {model.name!r} failed on {bad.size} "
                    f"point(s) of batch {b} (first: {first}). Finished batches are kept; fix the model "
                    "and call resume_campaign(store), or resume with policy='drop' to keep going"
                )
    finally:
        stream.close()  # cancels batches still queued on a pool or cluster
        bar.close()
    return _assemble(root, manifest, model, values, backend, time.perf_counter() - start)


def _assemble(
    root: Path,
    manifest: Mapping[str, Any],
    model: ForwardModel,
    values: Mapping[str, np.ndarray],
    backend: Backend,
    wall: float,
) -> xr.Dataset:
    n = manifest["n"]
    parts = [xr.load_dataset(_batch_path(root, b), engine=_ENGINE) for b in range(manifest["n_batches"])]
    samples = np.concatenate([p["sample"].values for p in parts])
    if not np.array_equal(samples, np.arange(n)):
        raise ValueError(f"campaign store {os.fspath(root)!r} is inconsistent: batch files do not cover samples 0..{n - 1} once each")
    result = BatchResult(
        {o: np.concatenate([p[o].values for p in parts]) for o in model.output_names},
        np.concatenate([p["status"].values for p in parts]).astype(np.int8),
        np.concatenate([p["message"].values.astype(object) for p in parts]),
    )
    attempts = np.concatenate([p["attempts"].values for p in parts])
    ds = samples_dataset(model, values, result)
    ds["attempts"] = ("sample", attempts, {"long_name": "model evaluations of this point (1 + retries)"})
    status = result.status
    n_failed = int(np.count_nonzero(status != OK))
    if n_failed:
        warnings.warn(
            f"model {model.name!r} failed on {n_failed} of {n} samples; they are kept with status "
            "and message, and excluded from the statistics",
            RuntimeWarning,
            stacklevel=3,
        )
    ds = ds.merge(summarize(ds, model.output_names, quantiles=manifest["quantiles"]))
    ds.attrs = provenance(
        model,
        "campaign",
        design=manifest["design"],
        seed=manifest["seed"],
        n_samples=n,
        n_runs=int(attempts.sum()),
        n_ok_samples=int(np.count_nonzero(status == OK)),
        n_nonfinite=int(np.count_nonzero(status == NONFINITE)),
        n_error=int(np.count_nonzero(status == ERROR)),
        n_failed=n_failed,
        n_retried=int(np.count_nonzero(attempts > 1)),
        n_recovered=int(np.count_nonzero((attempts > 1) & (status == OK))),
        policy=manifest["policy"],
        batch_size=manifest["batch_size"],
        wall_time_s=wall,
        eval_time_s=float(sum(p.attrs["eval_time_s"] for p in parts)),
        backend=type(backend).__name__,
        store=os.fspath(root),
        campaign_created=manifest["created"],
    )
    return ds
