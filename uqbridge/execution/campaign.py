"""Campaigns: long propagation runs whose every finished batch is committed durably to a store on disk.

A killed campaign resumes where it stopped (no point lost, none run twice) and ends with the same
result as an uninterrupted run; failed points are recorded, retried, dropped or abort the run.

Store layout (a directory)::

    manifest.json        model (registry name + options, inputs as data), design, seed, n, batch
                         size, policy, design checksum (written last, atomically)
    design.nc            all design points, drawn once before any evaluation (with a copy of the
                         manifest, from which a deleted manifest.json is restored)
    model.pkl            the pickled model, only for models not in the registry; loaded only when
                         the caller says the store is trusted (``trust=True``, ``--trust-store``)
    batches/000042.nc    one file per finished batch: sample index, outputs, status, message, attempts
    batches/000042.sha256  its SHA-256; a batch whose file is unreadable or does not match is moved
                         to ``quarantine/`` on resume and run again
    .lock                held by the running driver (taken before anything is written)

Every file is written under a temporary name, fsync'd, and renamed; the rename is the commit point,
so a file either holds a complete batch or does not exist. Only the driver process writes (workers
need no shared file system), and the lock keeps a second driver off a store, from its creation on.

Security: a pickle is code. A store rebuilds a registered model from its registry name, options
and input declarations (plain data); ``model.pkl`` is unpickled only on an explicit opt-in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import os
import pickle
import re
import time
import types
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import xarray as xr

from .. import checks
from .._deprecation import NOT_GIVEN, rng_or_seed
from .._version import __version__
from ..checks import positive_int
from ..designs import DESIGNS, sample_inputs
from ..model import ForwardModel
from ..propagate import RESERVED_NAMES, summarize
from ..results import provenance, samples_dataset, seed_attr
from .batch import (
    ERROR,
    NONFINITE,
    OK,
    Backend,
    BatchResult,
    InProcess,
    _failed,
    evaluate_batch,
    progress_enabled,
    stream_batches,
    timeout_message,
)

if TYPE_CHECKING:
    from .._types import SeedLike

__all__ = [
    "POLICIES",
    "CampaignAborted",
    "StoreInUse",
    "UntrustedStore",
    "campaign_status",
    "format_summary",
    "resume_campaign",
    "run_campaign",
]

POLICIES = ("drop", "retry", "abort")
FORMAT = "uqbridge-campaign"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_DESIGN = "design.nc"
_MODEL = "model.pkl"
_BATCHES = "batches"
_QUARANTINE = "quarantine"
_LOCK = ".lock"
_BATCH_NAME = re.compile(r"^(\d{6})\.nc$")
# netCDF-4 through libnetcdf: ~5x faster than h5netcdf for the many small files a campaign writes.
_ENGINE: Final = "netcdf4"


class CampaignAborted(RuntimeError):
    """Raised by the ``"abort"`` policy once the batch holding the failures is committed."""


class StoreInUse(RuntimeError):
    """Another driver holds the store's lock (it is running, or starting, a campaign there)."""


class UntrustedStore(ValueError):
    """The store's model exists only as a pickle, and the caller did not say the store is trusted."""


# ---- what the model computes ------------------------------------------------------------------------
def function_fingerprint(function: Any) -> str | None:
    """SHA-256 of what a model function computes, as far as it can be seen: the bytecode, constants and
    names of Python functions (not their line numbers), their defaults and closure values, and the
    fields of callable objects (frozen dataclasses such as a chain or an external-command call, or the
    attributes of other callables), recursively. Mutable containers in a closure (a cache, a call log)
    count by type only, since they change as the model runs. None when nothing can be seen (e.g. a
    compiled extension). Referenced module-level helpers are taken by name, not by their code.

    Examples
    --------
    >>> function_fingerprint(lambda x: {"y": x}) == function_fingerprint(lambda x: {"y": x})
    True
    >>> function_fingerprint(lambda x: {"y": x}) == function_fingerprint(lambda x: {"y": 2 * x})
    False
    """
    digest = hashlib.sha256()
    seen: set[int] = set()

    def feed(obj: Any, depth: int) -> bool:
        if depth > 12 or id(obj) in seen:
            digest.update(b"<...>")
            return False
        if isinstance(obj, (type(None), bool, int, float, complex, str, bytes)):
            digest.update(repr(obj).encode())
            return False
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            digest.update(f"{obj.dtype}{obj.shape}".encode() + np.ascontiguousarray(obj).tobytes())
            return True
        if isinstance(obj, type(function_fingerprint.__code__)):
            digest.update(obj.co_code + repr(obj.co_names).encode() + repr(obj.co_varnames).encode())
            for const in obj.co_consts:
                feed(const, depth + 1)
            return True
        if isinstance(obj, (tuple, list, frozenset, set)):
            digest.update(type(obj).__name__.encode())
            items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
            return any([feed(v, depth + 1) for v in items]) or True
        if isinstance(obj, dict):
            digest.update(b"dict")
            for k in sorted(obj, key=repr):
                feed(k, depth + 1)
                feed(obj[k], depth + 1)
            return True
        if isinstance(obj, functools.partial):
            return feed((obj.func, obj.args, obj.keywords), depth + 1)
        if isinstance(obj, (type, types.ModuleType, types.BuiltinFunctionType)):
            digest.update(f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj)}".encode())
            return False
        if isinstance(obj, types.MethodType):
            return feed((obj.__func__, obj.__self__), depth + 1)
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            feed(code, depth + 1)
            feed(getattr(obj, "__defaults__", None), depth + 1)
            feed(getattr(obj, "__kwdefaults__", None), depth + 1)
            for cell in getattr(obj, "__closure__", None) or ():
                try:
                    value = cell.cell_contents
                except ValueError:  # an empty cell
                    digest.update(b"<empty>")
                    continue
                state_value(value, depth + 1)
            return True
        digest.update(f"{type(obj).__module__}.{type(obj).__qualname__}".encode())
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                digest.update(f.name.encode())
                state_value(getattr(obj, f.name), depth + 1)
            return True
        state = getattr(obj, "__dict__", None) if callable(obj) or depth > 0 else None
        if isinstance(state, dict):
            for key in sorted(state, key=repr):
                digest.update(repr(key).encode())
                state_value(state[key], depth + 1)
            return True
        return False

    def state_value(value: Any, depth: int) -> None:
        if isinstance(value, (list, dict, set, bytearray)):
            # mutable state (a cache, a call log) changes as the model runs: its type only
            digest.update(type(value).__name__.encode())
        else:
            feed(value, depth)

    return digest.hexdigest() if feed(function, 0) else None


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


def _sum_path(store: Path, index: int) -> Path:
    return store / _BATCHES / f"{index:06d}.sha256"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commit_batch(root: Path, index: int, ds: xr.Dataset) -> None:
    """Write the batch, then its checksum, then rename the batch into place (the commit point)."""
    final = _batch_path(root, index)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    ds.to_netcdf(tmp, engine=_ENGINE)
    _fsync_path(tmp)
    _commit(_sum_path(root, index), _write_bytes(_sha256(tmp).encode()))
    os.replace(tmp, final)
    _fsync_path(final.parent)


def _scan(store: Path, manifest: Mapping[str, Any]) -> tuple[list[int], list[Path]]:
    """Committed batches whose files check out, and the files that do not (corrupt, stray, unverified)."""
    folder = store / _BATCHES
    if not folder.is_dir():
        return [], []
    good, bad = [], []
    checked = bool(manifest.get("checksums"))
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix == ".sha256":
            continue
        match = _BATCH_NAME.match(path.name)
        index = int(match.group(1)) if match else -1
        if not 0 <= index < manifest["n_batches"]:
            bad.append(path)  # not a batch of this design: never counts as work done
        elif not checked or _checksum_ok(store, index):
            good.append(index)
        else:
            bad.append(path)
    return good, bad


def _checksum_ok(store: Path, index: int) -> bool:
    try:
        expected = _sum_path(store, index).read_text().strip()
        return _sha256(_batch_path(store, index)) == expected
    except (OSError, UnicodeDecodeError):
        return False


def _quarantine(root: Path, paths: Sequence[Path]) -> None:
    """Move damaged or stray batch files (and their checksums) aside, so their batches run again."""
    if not paths:
        return
    folder = root / _QUARANTINE
    folder.mkdir(exist_ok=True)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    for path in paths:
        os.replace(path, folder / f"{path.name}.{stamp}")
        side = path.with_suffix(".sha256")
        if side.exists():
            os.replace(side, folder / f"{side.name}.{stamp}")
    _fsync_path(root / _BATCHES)
    warnings.warn(
        f"campaign store {os.fspath(root)!r}: {len(paths)} batch file(s) were unreadable, did not match "
        f"their checksum or do not belong to the design ({sorted(p.name for p in paths)[:5]}); moved to "
        f"{_QUARANTINE}/ and their batches are run again",
        RuntimeWarning,
        stacklevel=4,
    )


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

    def timed_out(self, batch: Mapping[str, np.ndarray], seconds: float) -> tuple[BatchResult, np.ndarray, float]:
        """A batch that ran past the backend's timeout: every point failed once (no retry: it hangs)."""
        n = len(next(iter(batch.values())))
        return _failed(self.model, n, timeout_message(seconds)), np.ones(n, np.int16), float(seconds)


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
    return positive_int(value, argument, minimum)


def _registry_recipe(model: ForwardModel) -> tuple[str, dict[str, Any]] | None:
    """``(registry name, options)`` that rebuild exactly this model from data, or None."""
    from ..registry import get_model, registered_origin

    origin = registered_origin(model)
    if origin is None:
        # built by calling a registered factory directly: the registered default with the same
        # code and the same description (which states the factory's settings) is the same model
        try:
            default = get_model(model.name)
        except Exception:  # noqa: BLE001 - not registered under its own name
            return None
        code = getattr(model.function, "__code__", None)
        if code is None or getattr(default.function, "__code__", None) is not code or default.description != model.description:
            return None
        origin = (model.name, {})
    try:
        rebuilt = _rebuild(origin[0], origin[1], model.inputs.to_json())
    except Exception:  # noqa: BLE001 - not rebuildable: fall back to model= or a trusted pickle
        return None
    same = (
        rebuilt.name == model.name
        and rebuilt.output_names == model.output_names
        and rebuilt.inputs.to_json() == model.inputs.to_json()
    )
    return origin if same else None


def _rebuild(name: str, options: Mapping[str, Any], inputs: str) -> ForwardModel:
    """The registered model ``name`` built with ``options``, with the stored input declarations."""
    from ..inputs import InputSet
    from ..registry import get_model

    return dataclasses.replace(get_model(name, **options), inputs=InputSet.from_json(inputs))


# ---- public API ------------------------------------------------------------------------------------------
def run_campaign(
    model: ForwardModel,
    n: int,
    *,
    store: str | os.PathLike[str],
    design: str = "sobol",
    rng: SeedLike = None,
    batch_size: int = 64,
    backend: Backend | None = None,
    policy: str = "drop",
    max_retries: int = 2,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    progress: bool | None = None,
    seed: Any = NOT_GIVEN,
) -> xr.Dataset:
    """Propagate ``model`` over ``n`` design points, committing every finished batch to ``store``.

    The design is drawn and saved before any evaluation, exactly as :func:`uqbridge.propagate`
    draws it, so the samples equal ``propagate(model, n, design=design, rng=rng)``'s and a resumed
    campaign ends with the same result as an uninterrupted one.

    Parameters
    ----------
    model : ForwardModel
    n : int
        Number of design points.
    store : path
        A new or empty directory (an existing campaign is continued with :func:`resume_campaign`).
    design : {"sobol", "lhs", "mc", "halton"}
    rng : int, numpy Generator, SeedSequence or None
        Anything :func:`numpy.random.default_rng` accepts (it draws the design once, up front).
    batch_size : int
        Points per batch: the unit of work sent to a worker and of commit to disk.
    backend : Backend or None
        :class:`~uqbridge.execution.InProcess` (default), :class:`~uqbridge.execution.backends.ProcessPool`,
        :class:`~uqbridge.execution.backends.Dask`, or anything with ``map``. The caller closes it.
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
        Show a tqdm progress bar; None decides by :func:`uqbridge.execution.progress_enabled`.
    seed
        Deprecated spelling of ``rng`` (a ``DeprecationWarning``; removed in the next release).

    Returns
    -------
    xarray.Dataset
        As :func:`uqbridge.propagate`, plus ``attempts`` per sample; ``attrs`` count samples by
        status (``n_ok_samples``, ``n_nonfinite``, ``n_error``, ``n_failed``, ``n_retried``,
        ``n_recovered``) and record ``n_runs`` (model evaluations including retries).

    Notes
    -----
    :func:`resume_campaign` needs the model again. It is found, in this order, from the caller
    (``model=``); from the registry, when the model came from :func:`uqbridge.registry.get_model`
    (possibly with inputs changed by ``with_inputs``): the manifest stores its registry name,
    options and input declarations as data; or, only if the caller trusts the store
    (``trust=True``), from ``model.pkl`` (cloudpickle; loading it runs code, so a store from
    someone else must never be trusted).

    Examples
    --------
    >>> import tempfile
    >>> from uqbridge.registry import get_model
    >>> store = tempfile.mkdtemp() + "/ishigami"
    >>> ds = run_campaign(get_model("ishigami"), 256, store=store, rng=1, batch_size=64)
    >>> campaign_status(store)["complete"], int(ds.attrs["n_failed"])
    (True, 0)
    """
    rng = rng_or_seed(rng, seed, "run_campaign")
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
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"store {os.fspath(root)!r} is a file, not a directory; give a new or empty directory")
    _refuse_used(root)
    root.mkdir(parents=True, exist_ok=True)
    # the lock comes first: two drivers started together on one empty store must not both write
    with _exclusive(root):
        _refuse_used(root)
        (root / _BATCHES).mkdir(exist_ok=True)
        recipe = _registry_recipe(model)
        payload = None
        if recipe is None:
            try:
                import cloudpickle

                payload = cloudpickle.dumps(model)
            except Exception:  # noqa: BLE001 - a model that does not pickle is resumed with model=
                payload = None
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "uqbridge_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "model": model.name,
            "registry": recipe[0] if recipe else None,
            "options": recipe[1] if recipe else {},
            "rebuild": "registry" if recipe else ("pickle" if payload is not None else "caller"),
            "inputs": model.inputs.to_json(),
            "outputs": list(model.output_names),
            "function_sha256": function_fingerprint(model.function),
            "design": design,
            "seed": seed_attr(rng),
            "n": n,
            "batch_size": batch_size,
            "n_batches": -(-n // batch_size),
            "policy": policy,
            "max_retries": max_retries,
            "quantiles": [float(q) for q in quantiles],
            "checksums": "sha256",
        }
        values = sample_inputs(model.inputs, n, design, rng=checks.generator(rng, "run_campaign: rng"))
        design_ds = xr.Dataset(
            {name: ("sample", np.asarray(v, float)) for name, v in model.complete(values).items()},
            coords={"sample": np.arange(n)},
            attrs={"campaign_manifest": json.dumps(manifest)},
        )
        _commit(root / _DESIGN, _write_netcdf(design_ds))
        manifest["design_sha256"] = _sha256(root / _DESIGN)
        if payload is not None:
            _commit(root / _MODEL, _write_bytes(payload))
        _commit(root / _MANIFEST, _write_bytes(json.dumps(manifest, indent=1).encode()))
        return _run_locked(root, manifest, model, backend, policy, progress)


def _refuse_used(root: Path) -> None:
    if (root / _MANIFEST).exists():
        raise FileExistsError(
            f"store {os.fspath(root)!r} already holds a campaign; continue it with "
            "resume_campaign(store) (`uqbridge resume STORE`) or choose a new directory"
        )
    if root.is_dir():
        ours = {_DESIGN, _MODEL, _BATCHES, _LOCK}
        foreign = sorted(p.name for p in root.iterdir() if p.name not in ours and not p.name.endswith(".tmp"))
        batches = root / _BATCHES
        if foreign or (batches.is_dir() and any(batches.glob("*.nc"))):
            raise FileExistsError(
                f"store {os.fspath(root)!r} is not empty (holds {foreign or 'batch files'}); give a new "
                "or empty directory"
            )


def resume_campaign(
    store: str | os.PathLike[str],
    *,
    model: ForwardModel | None = None,
    backend: Backend | None = None,
    policy: str | None = None,
    progress: bool | None = None,
    trust: bool = False,
    rerun_failed: bool = False,
    force: bool = False,
) -> xr.Dataset:
    """Continue a campaign: run only the batches not yet committed, then assemble the result.

    Batch files that are unreadable, do not match their checksum or do not belong to the design
    are moved to ``quarantine/`` (with a warning) and their batches run again; a deleted
    ``manifest.json`` is restored from the copy kept in ``design.nc``.

    Parameters
    ----------
    store : path
        Directory of a campaign started by :func:`run_campaign` (possibly killed mid-run).
    model : ForwardModel or None
        The campaign's model; needed unless it came from the registry (then it is rebuilt from
        the manifest's data) or ``trust=True``. It must declare the same name, inputs and outputs
        as when the campaign started.
    backend : Backend or None
        Where to run the remaining batches (may differ from the original run).
    policy : {"drop", "retry", "abort"} or None
        Override the failure policy for the remaining batches (None: the campaign's policy).
    progress : bool or None
        As in :func:`run_campaign`.
    trust : bool
        Load the store's pickled model (``model.pkl``) if it is needed. **Unpickling runs code**:
        say True only for a store you created yourself (CLI: ``--trust-store``). Without it an
        unregistered model must be passed as ``model=``.
    rerun_failed : bool
        Also evaluate again the failed points of committed batches (e.g. after a remote server or
        a licence went down mid-campaign); points that succeed replace their failure records, the
        others keep theirs, and ``attempts`` counts every evaluation (CLI: ``--rerun-failed``).
    force : bool
        Resume even though the model's function differs from the stored fingerprint (its code,
        constants, closure values): only when the change cannot alter the results (CLI: ``--force``);
        otherwise the store would mix the results of two functions.

    Returns
    -------
    xarray.Dataset
        The same as the uninterrupted :func:`run_campaign` would have returned.

    Examples
    --------
    >>> import tempfile
    >>> from uqbridge.registry import get_model
    >>> store = tempfile.mkdtemp() + "/c"
    >>> first = run_campaign(get_model("ishigami"), 128, store=store, rng=3, batch_size=32)
    >>> again = resume_campaign(store)   # nothing left to run: reassembled from the store
    >>> bool(again["y"].equals(first["y"]))
    True
    """
    root = Path(store)
    if policy is not None:
        _check_policy(policy)
    _read_manifest(root)  # a clear error before any lock file is created in a foreign folder
    with _exclusive(root):
        manifest = _read_manifest(root, restore=True)
        model = _model_for(root, manifest, model, trust, force=force)
        return _run_locked(root, manifest, model, backend, policy or manifest["policy"], progress,
                           rerun_failed=rerun_failed)


def campaign_status(store: str | os.PathLike[str]) -> dict[str, Any]:
    """How far a campaign got: model, points, batches committed and still missing, and whether it is done.

    Examples
    --------
    >>> import tempfile
    >>> from uqbridge.registry import get_model
    >>> store = tempfile.mkdtemp() + "/s"
    >>> _ = run_campaign(get_model("ishigami"), 100, store=store, rng=0, batch_size=30)
    >>> campaign_status(store)["n_batches"], campaign_status(store)["missing"]
    (4, [])
    """
    root = Path(store)
    manifest = _read_manifest(root)
    done, damaged = _scan(root, manifest)
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
        "damaged": [p.name for p in damaged],
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
def _read_manifest(root: Path, *, restore: bool = False) -> dict[str, Any]:
    """The manifest; if only its copy in ``design.nc`` survives, that copy (written back if ``restore``)."""
    path = root / _MANIFEST
    if root.exists() and not root.is_dir():
        raise FileNotFoundError(f"no campaign at {os.fspath(root)!r}: it is a file, not a campaign folder")
    if not path.exists():
        manifest = _manifest_from_design(root)
        if manifest is None:
            raise FileNotFoundError(
                f"no campaign at {os.fspath(root)!r} (no {_MANIFEST}); start one with run_campaign(..., store=...)"
            )
        if restore:
            _commit(path, _write_bytes(json.dumps(manifest, indent=1).encode()))
            warnings.warn(f"campaign store {os.fspath(root)!r}: {_MANIFEST} was missing; restored it from {_DESIGN}",
                          RuntimeWarning, stacklevel=3)
        return manifest
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        if _manifest_from_design(root) is not None:
            raise ValueError(
                f"{os.fspath(path)!r} is damaged ({err}); delete it and resume: it is restored from {_DESIGN}"
            ) from None
        raise ValueError(f"{os.fspath(path)!r} is not a readable campaign manifest ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest if not isinstance(manifest, dict) else manifest.get("format")
        raise ValueError(
            f"{os.fspath(path)!r} is not a uqbridge campaign manifest of format version {FORMAT_VERSION} "
            f"(format={found!r}, version={manifest.get('format_version') if isinstance(manifest, dict) else None!r})"
        )
    return manifest


def _manifest_from_design(root: Path) -> dict[str, Any] | None:
    try:
        with xr.open_dataset(root / _DESIGN, engine=_ENGINE) as ds:
            text = ds.attrs.get("campaign_manifest")
        manifest = json.loads(text) if text else None
    except Exception:  # noqa: BLE001 - no design, or a damaged one: no copy to restore from
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def _model_for(root: Path, manifest: Mapping[str, Any], model: ForwardModel | None, trust: bool,
               force: bool = False) -> ForwardModel:
    if model is None and manifest.get("registry"):
        try:
            model = _rebuild(manifest["registry"], manifest.get("options") or {}, manifest["inputs"])
        except Exception as err:  # noqa: BLE001 - explain what to do instead
            raise ValueError(
                f"cannot rebuild model {manifest['model']!r} from the registry entry {manifest['registry']!r} "
                f"({type(err).__name__}: {err}); pass it again: resume_campaign(store, model=...)"
            ) from None
    if model is None and (root / _MODEL).exists():
        if not trust:
            raise UntrustedStore(
                f"campaign {os.fspath(root)!r} has model {manifest['model']!r}, which is not a registered "
                f"model; the store keeps it only as a pickle ({_MODEL}), and loading a pickle runs code. "
                "Pass the model again (resume_campaign(store, model=...)), or, only if you created this "
                "store yourself, opt in: resume_campaign(store, trust=True) / `uqbridge resume --trust-store STORE`"
            )
        try:
            model = pickle.loads((root / _MODEL).read_bytes())  # noqa: S301 - the caller trusts this store
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
    stored = manifest.get("function_sha256")
    if stored and not force and function_fingerprint(model.function) != stored:
        raise ValueError(
            f"model {model.name!r} given for campaign {os.fspath(root)!r} declares the same inputs and outputs "
            "but its function differs from the one that computed the stored batches (code, constants or "
            "closure values; fingerprint sha256 " + stored[:12] + "...), so the results would mix two "
            "functions; pass the original model, start a new store, or, if the change cannot alter the "
            "results, resume_campaign(..., force=True) / `uqbridge resume --force`"
        )
    return model


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
            raise StoreInUse(
                f"campaign store {os.fspath(root)!r} is locked: it is in use by another process (a "
                "driver running or starting a campaign there); wait for it to finish or stop it, then "
                "resume. A lock left by a killed driver is released by the OS and never blocks"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_locked(
    root: Path,
    manifest: Mapping[str, Any],
    model: ForwardModel,
    backend: Backend | None,
    policy: str,
    progress: bool | None,
    *,
    rerun_failed: bool = False,
) -> xr.Dataset:
    from tqdm.auto import tqdm

    start = time.perf_counter()
    for stale in (root / _BATCHES).glob(".*.tmp"):
        stale.unlink(missing_ok=True)  # left by a process killed mid-write; never committed
    values = _load_design(root, manifest, model)
    n, size = manifest["n"], manifest["batch_size"]
    done, damaged = _scan(root, manifest)
    _quarantine(root, damaged)
    todo = sorted(set(range(manifest["n_batches"])) - set(done))
    retries = manifest["max_retries"] if policy == "retry" else 0
    if rerun_failed:
        _rerun_failed(root, sorted(done), model, values, size, backend or InProcess(), retries)
    batches = [{k: v[b * size : (b + 1) * size] for k, v in values.items()} for b in todo]
    backend = backend or InProcess()
    done_points = n - sum(len(next(iter(b.values()))) for b in batches)
    bar = tqdm(total=n, initial=done_points, unit="pt", desc=model.name, disable=not progress_enabled(progress))
    stream = stream_batches(backend, _CampaignCall(model, retries), batches)
    n_failed = 0
    try:
        for k, part in stream:
            b = todo[k]
            samples = np.arange(b * size, min((b + 1) * size, n))
            _commit_batch(root, b, _batch_dataset(b, samples, part))
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


def _rerun_failed(root: Path, done: list[int], model: ForwardModel, values: Mapping[str, np.ndarray], size: int,
                  backend: Backend, retries: int) -> None:
    """Evaluate the failed points of committed batches again and re-commit those batches."""
    stored, picks, batches = [], [], []
    for b in done:
        ds = xr.load_dataset(_batch_path(root, b), engine=_ENGINE)
        bad = np.flatnonzero(ds["status"].values != OK)
        if bad.size:
            rows = b * size + bad
            stored.append((b, ds))
            picks.append(bad)
            batches.append({k: v[rows] for k, v in values.items()})
    stream = stream_batches(backend, _CampaignCall(model, retries), batches)
    try:
        for k, (result, attempts, seconds) in stream:
            b, ds = stored[k]
            bad = picks[k]
            for name in model.output_names:
                ds[name].values[bad] = result.outputs[name]
            ds["status"].values[bad] = result.status
            message = ds["message"].values.astype(object)
            message[bad] = result.message
            ds["message"] = ("sample", message.astype(str))
            ds["attempts"].values[bad] += attempts.astype(np.int16)
            ds.attrs["eval_time_s"] = float(ds.attrs.get("eval_time_s", 0.0)) + seconds
            _commit_batch(root, b, ds)
    finally:
        stream.close()


def _load_design(root: Path, manifest: Mapping[str, Any], model: ForwardModel) -> dict[str, np.ndarray]:
    expected = manifest.get("design_sha256")
    try:
        if expected and _sha256(root / _DESIGN) != expected:
            raise ValueError("its checksum does not match the manifest")
        design_ds = xr.load_dataset(root / _DESIGN, engine=_ENGINE)
        values = {name: design_ds[name].values for name in model.inputs.names}
    except Exception as err:  # noqa: BLE001 - any damage: the recorded design cannot be trusted
        raise ValueError(
            f"campaign store {os.fspath(root)!r}: {_DESIGN} is damaged ({err}); the recorded design points "
            "cannot be trusted, so the campaign cannot continue: start a new campaign in a new store"
        ) from None
    if any(v.shape != (manifest["n"],) for v in values.values()):
        raise ValueError(f"campaign store {os.fspath(root)!r}: {_DESIGN} does not hold {manifest['n']} points")
    return values


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
