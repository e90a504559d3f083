"""The ``uqbridge`` command: list and describe models, propagate, analyse, run and resume studies.

Each sub-command is a pair (configure parser, run) in ``COMMANDS``; any error prints one clear line
and exits with status 2 (``--debug`` shows the traceback instead). Output paths are checked before
any computation, so a bad ``--out`` never throws a finished result away.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "COMMANDS"]


def _parse_setting(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--set {name}: value must be a number, got {value!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _model_from_args(args: argparse.Namespace) -> Any:
    from .registry import get_model

    model = get_model(args.model)
    pairs = list(getattr(args, "set", None) or [])
    names = [name for name, _ in pairs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"--set gives input(s) {repeated} more than once; give each input one value")
    return model.with_inputs(**dict(pairs)) if pairs else model


def check_output_path(path: str | None, option: str) -> None:
    """Refuse an output file path that cannot be written, before anything is computed.

    Examples
    --------
    >>> check_output_path("", "--out")
    Traceback (most recent call last):
    ...
    ValueError: --out '' is empty; give a file name, e.g. --out result.nc
    """
    if path is None:
        return
    if not path.strip():
        raise ValueError(f"{option} {path!r} is empty; give a file name, e.g. {option} result.nc")
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{option} {path!r} is a directory; give a file name inside it")
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"{option} {path!r}: folder {os.fspath(folder)!r} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ValueError(f"{option} {path!r} is not writable here (permission denied); choose another path")


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="registered model name (see `uqbridge models`)")
    p.add_argument("--set", action="append", type=_parse_setting, metavar="NAME=VALUE",
                   help="fix an input to a value (repeatable)")


# ---- models / describe ------------------------------------------------------------------------
def _configure_models(p: argparse.ArgumentParser) -> None:
    pass


def _run_models(args: argparse.Namespace) -> int:
    from .registry import get_model, list_models

    for name in list_models():
        try:
            description = get_model(name).description
        except Exception as err:  # noqa: BLE001 - a broken entry must not hide the others
            description = f"(cannot load: {err})"
        print(f"{name:<28} {description}")
    return 0


def _configure_describe(p: argparse.ArgumentParser) -> None:
    _add_model_arguments(p)


def _run_describe(args: argparse.Namespace) -> int:
    print(_model_from_args(args).describe())
    return 0


# ---- propagate ----------------------------------------------------------------------------------
def _configure_propagate(p: argparse.ArgumentParser) -> None:
    from .designs import DESIGNS

    _add_model_arguments(p)
    p.add_argument("-n", type=_positive, default=1024, help="number of samples (default 1024)")
    p.add_argument("--design", choices=DESIGNS, default="sobol")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", help="write the result to this netCDF file")


def _run_propagate(args: argparse.Namespace) -> int:
    from .propagate import propagate
    from .results import save

    check_output_path(args.out, "--out")
    model = _model_from_args(args)
    ds = propagate(model, args.n, design=args.design, seed=args.seed)
    print(summary_table(ds))
    if args.out is not None:
        save(ds, args.out)
        print(f"\nwrote {args.out}")
    _refuse_all_failed(ds)
    return 0


def _refuse_all_failed(ds: Any) -> None:
    """A run in which every sample failed is an error (exit 2), not a result: say why."""
    status = ds["status"].values
    if status.size and (status != 0).all():
        first = str(ds["message"].values[0])
        raise ValueError(
            f"model {ds.attrs.get('model', '?')!r} failed on every one of its {status.size} samples "
            f"(first: {first}); check the model's options and inputs"
        )


def summary_table(ds: Any) -> str:
    """Plain-text table of a propagation result's summary statistics."""
    lines = [
        f"{ds.attrs.get('model', '')}: n={ds.attrs.get('n_samples')} design={ds.attrs.get('design')} "
        f"seed={ds.attrs.get('seed')} failed={ds.attrs.get('n_failed', 0)} "
        f"wall={ds.attrs.get('wall_time_s', float('nan')):.3g}s",
        "",
    ]
    qs = [float(q) for q in ds["quantile"].values]
    header = f"{'output':<16}{'units':<10}{'mean':>12}{'± se':>11}{'std':>12}" + "".join(
        f"{'q' + format(q, 'g'):>12}" for q in qs
    )
    lines.append(header)
    for out in ds["output"].values:
        row = ds.sel(output=out)
        units = ds[str(out)].attrs.get("units", "") if str(out) in ds else ""
        lines.append(
            f"{str(out):<16}{units:<10}{float(row['mean']):>12.5g}{float(row['mean_se']):>11.3g}"
            f"{float(row['std']):>12.5g}" + "".join(f"{float(v):>12.5g}" for v in row["quantiles"].values)
        )
    return "\n".join(lines)


# ---- run (study files) ------------------------------------------------------------------------------
def _configure_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", help="a study file (.toml): model, input overrides, analyses, budgets, seed")
    p.add_argument("--quick", action="store_true", help="apply the study's reduced budgets (tests, demos)")
    p.add_argument("--output", help="results folder (default: the study's, usually results/)")


def _run_run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .study import load_study, run_study

    study = load_study(args.study, quick=args.quick)
    if args.output is not None:
        if not args.output.strip():
            raise ValueError("--output '' is empty; give a results folder")
        study = replace(study, output=args.output)
    _check_folder(study.folder, "the results folder")
    print(f"study {study.name}: model {study.model.name}, {len(study.analyses)} analyses -> {study.folder}/")
    run_study(study)
    print(f"wrote {study.folder}/")
    return 0


def _check_folder(folder: Path, what: str) -> None:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ValueError(f"{what} {os.fspath(folder)!r} cannot be created: {os.fspath(existing)!r} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {os.fspath(folder)!r} is not writable (permission denied on {os.fspath(existing)!r})")


# ---- sensitivity -------------------------------------------------------------------------------------
def _configure_sensitivity(p: argparse.ArgumentParser) -> None:
    _add_model_arguments(p)
    p.add_argument("-n", type=_positive, default=2048, help="model runs per method (default 2048)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--methods", help="comma-separated subset of: sobol,morris,fast,rbd_fast,delta,pawn,shapley,pce")
    p.add_argument("--report", help="write the self-contained HTML report here")
    p.add_argument("--out", help="write the indices (netCDF) here")


def _run_sensitivity(args: argparse.Namespace) -> int:
    from .report.sensitivity import DEFAULT_METHODS, sensitivity_report

    check_output_path(args.report, "--report")
    check_output_path(args.out, "--out")
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods is not None else DEFAULT_METHODS
    if not all(methods):
        raise ValueError(f"--methods {args.methods!r} has an empty entry; give comma-separated method names")
    ds = sensitivity_report(_model_from_args(args), n=args.n, methods=methods, rng=args.seed,
                            report=args.report, data=args.out)
    # screening methods (Morris) give no first/total index: show what the methods computed
    columns = [v for v in ("first", "total", "mu_star", "sigma") if v in ds]
    if columns:
        table = ds[columns].reset_coords(drop=True).to_dataframe().dropna(how="all")
        print(table.round(4).to_string())
    for path in (args.report, args.out):
        if path is not None:
            print(f"wrote {path}")
    return 0


# ---- campaigns -----------------------------------------------------------------------------------------
def _configure_campaign(p: argparse.ArgumentParser) -> None:
    from .designs import DESIGNS

    _add_model_arguments(p)
    p.add_argument("-n", type=_positive, required=True, help="number of design points")
    p.add_argument("--store", required=True, help="campaign folder (created; resumable)")
    p.add_argument("--design", choices=DESIGNS, default="sobol")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--batch-size", type=_positive, default=64)
    _add_backend_arguments(p)
    p.add_argument("--policy", choices=("drop", "retry", "abort"), default="drop",
                   help="failed points: keep them flagged (drop), re-run them (retry), or stop (abort, exit 2)")


def _add_backend_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=("inprocess", "processes", "dask"), default="inprocess")
    p.add_argument("--workers", type=_positive, default=None)
    p.add_argument("--address", help="address of an existing Dask scheduler (implies --backend dask)")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="give up a batch after this long: its points fail, the run goes on (processes, dask)")


def _backend_from_args(args: argparse.Namespace) -> Any:
    from .backends import make_backend

    kind = "dask" if args.address else args.backend
    backend = make_backend(kind, n_workers=args.workers, address=args.address, timeout=args.timeout)
    if args.address:
        # connect before the store is touched: an unreachable scheduler must leave nothing behind
        try:
            _ = backend.client  # connects
        except Exception as err:  # one clear line instead of a network traceback
            raise ValueError(f"cannot reach the Dask scheduler at --address {args.address!r} ({err})") from None
    return backend


def _run_campaign(args: argparse.Namespace) -> int:
    from .campaign import format_summary, run_campaign

    model = _model_from_args(args)
    backend = _backend_from_args(args)
    try:
        ds = run_campaign(model, args.n, store=args.store, design=args.design, seed=args.seed,
                          batch_size=args.batch_size, backend=backend, policy=args.policy)
    finally:
        getattr(backend, "close", lambda: None)()
    print(format_summary(ds))
    _refuse_all_failed(ds)
    return 0


def _configure_resume(p: argparse.ArgumentParser) -> None:
    p.add_argument("store", help="folder of a campaign started with `uqbridge campaign` or run_campaign()")
    _add_backend_arguments(p)
    p.add_argument("--trust-store", action="store_true",
                   help="load the store's pickled model (model.pkl) for a model that is not registered. "
                        "Unpickling RUNS CODE: use it only for a store you created yourself")
    p.add_argument("--rerun-failed", action="store_true",
                   help="also evaluate the failed points of finished batches again (e.g. after a server outage)")


def _run_resume(args: argparse.Namespace) -> int:
    from .campaign import format_summary, resume_campaign

    backend = _backend_from_args(args)
    try:
        ds = resume_campaign(args.store, backend=backend, trust=args.trust_store, rerun_failed=args.rerun_failed)
    finally:
        getattr(backend, "close", lambda: None)()
    print(format_summary(ds))
    _refuse_all_failed(ds)
    return 0


# ---- calibration check -------------------------------------------------------------------------------
def _configure_check(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="netCDF file written by CalibrationResult.save")
    p.add_argument("--strict", action="store_true", help="exit with status 1 if the diagnostics gate failed")


def _run_check(args: argparse.Namespace) -> int:
    from .calibration.__main__ import main as check

    return check(["check", args.path] + (["--strict"] if args.strict else []))


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "models": ("list the registered models", _configure_models, _run_models),
    "describe": ("show a model's inputs (kind, distribution, units) and outputs", _configure_describe, _run_describe),
    "propagate": ("propagate input uncertainty by sampling and save the result", _configure_propagate, _run_propagate),
    "sensitivity": ("global sensitivity indices by several methods, with an HTML report", _configure_sensitivity, _run_sensitivity),
    "campaign": ("a durable, resumable propagation campaign (process pool or Dask)", _configure_campaign, _run_campaign),
    "resume": ("continue a killed campaign without re-running finished points", _configure_resume, _run_resume),
    "run": ("run a study file (TOML) and write its data and report", _configure_run, _run_run),
    "check": ("print a saved calibration's diagnostics; --strict exits 1 when the gate failed", _configure_check, _run_check),
}


def _parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(prog="uqbridge", description="Uncertainty quantification for multiscale models.")
    parser.add_argument("--version", action="version", version=f"uqbridge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an error")
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``uqbridge`` command; returns the exit status.

    Examples
    --------
    >>> main(["describe", "ishigami"])  # doctest: +ELLIPSIS
    ishigami: Ishigami test function (a=7.0, b=0.1)
    ...
    0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except Exception as err:  # noqa: BLE001 - every failure is one line (the traceback with --debug)
        if args.debug:
            raise
        print(f"uqbridge {args.command}: error: {error_line(err)}", file=sys.stderr)
        return 2


def _disk_full(filename: Any) -> bool:
    import shutil

    try:
        folder = Path(os.fsdecode(filename)).resolve().parent
        while not folder.exists():
            folder = folder.parent
        return shutil.disk_usage(folder).free < 1 << 20
    except (OSError, TypeError, ValueError):
        return False


def error_line(err: BaseException) -> str:
    """One line saying what went wrong: the message of an expected error, the type and a hint otherwise.

    Examples
    --------
    >>> error_line(KeyError("unknown model 'x'"))
    "unknown model 'x'"
    >>> error_line(IsADirectoryError(21, "Is a directory", "out"))
    "Is a directory: 'out'"
    """
    if isinstance(err, KeyError) and err.args:
        text = str(err.args[0])
    elif isinstance(err, OSError) and err.strerror:
        where = f": {err.filename!r}" if err.filename else ""
        text = f"{err.strerror}{where}"
        if err.filename and _disk_full(err.filename):
            # libnetcdf reports a full disk as "Permission denied"
            text = f"no space left on the device holding {err.filename!r} ({text}); free some space and retry"
    elif isinstance(err, MemoryError):
        text = f"not enough memory ({err or 'MemoryError'}); use a smaller -n or --batch-size"
    elif isinstance(err, (ValueError, TypeError, FileNotFoundError, FileExistsError, RuntimeError)):
        text = str(err)
    else:
        text = f"{type(err).__name__}: {err} (run with --debug for the traceback)"
    return " ".join(text.split()) or type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
