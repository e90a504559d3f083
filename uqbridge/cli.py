"""The ``uqbridge`` command: list and describe models, propagate, analyse, run and resume studies.

Each sub-command is a pair (configure parser, run) in ``COMMANDS``; any error prints one clear line
and exits with status 2 (``--debug`` shows the traceback instead). Output paths are checked before
any computation, so a bad ``--out`` never throws a finished result away.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

__all__ = ["COMMANDS", "main"]


def _parse_setting(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--set {name}: value must be a number, got {value!r}") from None


def _integer(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer ``>= minimum``, refused as "expected <what>" otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive = _integer(1, "a positive integer")
_seed = _integer(0, "a non-negative integer seed")


def _positive_float(text: str) -> float:
    """An argparse type: a positive finite number (a target coefficient of variation, e.g. 0.05)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number such as 0.05 (5 %), got {text!r}")
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
    from .registry import load_model

    model = load_model(args.model)
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


MODEL_HELP = ("registered model name (see `uqbridge models`), or path/to/file.py:object for your own "
              "ForwardModel, chain or function returning one (this imports and runs that file, like `python file.py`)")


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help=MODEL_HELP)
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
    p.add_argument("-n", type=_positive, default=1024,
                   help="number of samples (default 1024); with --target-cov, the most that may be drawn")
    p.add_argument("--target-cov", type=_positive_float, default=None, metavar="CV",
                   help="sample in doubling rounds until every output's mean has a relative standard error "
                        "<= CV (e.g. 0.01), or -n is reached; the rule is stored in the result's stopping_rule")
    p.add_argument("--design", choices=DESIGNS, default="sobol")
    p.add_argument("--seed", type=_seed, default=None)
    p.add_argument("--out", help="write the result to this netCDF file")
    _add_backend_arguments(p)
    p.add_argument("--batch-size", type=_positive, default=None,
                   help="points per batch (default: about four batches per worker)")


def _seed_from_args(args: argparse.Namespace) -> int:
    """``--seed``, or a fresh integer seed, printed so that the run can be replayed (issue #30)."""
    if args.seed is not None:
        return int(args.seed)
    from .study import draw_seed

    seed = draw_seed()
    _say(args, f"seed {seed} (drawn; add --seed {seed} to replay this run)")
    return seed


def _say(args: argparse.Namespace, text: str) -> None:
    """An informative line on stdout (stderr is for warnings and errors); silent with --quiet."""
    if not getattr(args, "quiet", False):
        print(text, flush=True)


def _run_propagate(args: argparse.Namespace) -> int:
    from .checks import refuse_beyond_memory

    check_output_path(args.out, "--out")
    model = _model_from_args(args)
    refuse_beyond_memory(
        args.n, len(model.inputs.names) + len(model.output_names), "propagate",
        f"use a smaller -n, or a durable campaign that keeps batches on disk (`uqbridge campaign {args.model} "
        f"-n {args.n} --store DIR`)",
    )
    # imported after the memory check: a refused -n answers in well under 2 s (issue #31)
    from .propagate import propagate
    from .results import save

    args.seed = _seed_from_args(args)
    with _backend(args) as backend:
        ds = propagate(model, args.n, design=args.design, rng=args.seed, backend=backend, batch_size=args.batch_size,
                       target_cov=args.target_cov)
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
    if "stopping_rule" in ds.attrs:  # --target-cov
        met = "met" if ds.attrs.get("target_met") else "NOT met (budget -n reached first)"
        lines[1:1] = [f"target relative SE of the means {ds.attrs['target_cov']:g}: {met}; {ds.attrs['stopping_rule']}"]
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
    from .study import ANALYSES

    # the analysis kinds a study may name, from the one record per kind (uqbridge.study.ANALYSES)
    p.epilog = "analysis kinds ([[analyses]] kind = ...): " + "; ".join(
        f"{kind}: {record.about}" + (f" (alone: `uqbridge {record.cli}`)" if record.cli else "")
        for kind, record in ANALYSES.items())
    p.add_argument("study", help="a study file (.toml): model, input overrides, analyses, budgets, seed. A study "
                                 "whose [model] gives path = \"file.py:object\" runs that Python file, like "
                                 "`python file.py`; one that gives a registered name runs no code of its author")
    p.add_argument("--quick", action="store_true", help="apply the study's reduced budgets (tests, demos)")
    p.add_argument("--out", help="results folder (default: the study's, usually results/)")
    # the old spelling, kept for one release (hidden from --help)
    p.add_argument("--output", dest="output_deprecated", help=argparse.SUPPRESS)
    _add_backend_arguments(p, default_from="the study's [execution] table, else inprocess")


def _run_run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .study import load_study, run_study

    if args.output_deprecated is not None:
        if args.out is not None:
            raise ValueError("give the results folder once, with --out (--output is its deprecated spelling)")
        print("uqbridge run: warning: --output is deprecated and will be removed in the next release; use --out",
              file=sys.stderr)
        args.out = args.output_deprecated
    study = load_study(args.study, quick=args.quick)
    if args.out is not None:
        if not args.out.strip():
            raise ValueError("--out '' is empty; give a results folder")
        study = replace(study, output=args.out)
    _check_folder(study.folder, "the results folder")
    given = {"backend": args.backend, "workers": args.workers, "address": args.address, "timeout": args.timeout}
    given = {k: v for k, v in given.items() if v is not None}
    if given:  # the command line overrides the study's [execution] table, key by key
        from .study import check_execution

        study = replace(study, execution=check_execution({**study.execution, **given}, "command line"))
    where = ", ".join(f"{k} {v}" for k, v in study.execution.items()) or "in this process"
    if not args.quiet:
        print(f"study {study.name}: model {study.model.name}, {len(study.analyses)} analyses ({where}) -> {study.folder}/")
    if study.execution.get("address"):
        # a Dask client unpickles what the cluster sends back: naming a scheduler is not pure data
        print(f"uqbridge run: warning: this study connects to the Dask scheduler at {study.execution['address']!r}; "
              "the client unpickles what that cluster returns, so run it only if you trust the cluster",
              file=sys.stderr, flush=True)
    results = run_study(study, progress=None if args.quiet else print)
    print(f"wrote {study.folder}/")
    for ds in results.values():
        if "status" in ds and "message" in ds:
            _refuse_all_failed(ds)
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
    p.add_argument("-n", type=_positive, default=2048,
                   help="model runs per estimator, an upper limit (default 2048): Sobol' takes the base size "
                        "N = the largest power of two with N(d + 2) <= n; the runs made are printed")
    p.add_argument("--seed", type=_seed, default=None)
    from .sensitivity.registry import ESTIMATORS

    p.add_argument("--methods", help=f"comma-separated subset of: {','.join(ESTIMATORS)} (default: all whose extra is installed)")
    p.add_argument("--report", help="write the self-contained HTML report here")
    p.add_argument("--out", help="write the indices (netCDF) here")
    _add_backend_arguments(p)


def _run_sensitivity(args: argparse.Namespace) -> int:
    from .report.sensitivity import sensitivity_report

    check_output_path(args.report, "--report")
    check_output_path(args.out, "--out")
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods is not None else None
    if methods is not None and not all(methods):
        raise ValueError(f"--methods {args.methods!r} has an empty entry; give comma-separated method names")
    from .sensitivity import SensitivityWarning

    model = _model_from_args(args)
    args.seed = _seed_from_args(args)
    with _backend(args) as backend, warnings.catch_warnings():
        warnings.simplefilter("ignore", SensitivityWarning)  # printed below, from the result
        ds = sensitivity_report(model, n=args.n, methods=methods, rng=args.seed,
                                report=args.report, data=args.out, backend=backend)
    print(sensitivity_summary(ds))
    for path in (args.report, args.out):
        if path is not None:
            print(f"wrote {path}")
    return 0


def sensitivity_summary(ds: Any) -> str:
    """Console text of a sensitivity result: the budget as asked and as run, the key results, every
    estimator's indices with their intervals (``value [low, high]``), and the warnings.

    Examples
    --------
    >>> from uqbridge.sensitivity import compare
    >>> from uqbridge.registry import get_model
    >>> text = sensitivity_summary(compare(get_model("ishigami"), ["sobol"], n=1024, rng=0))
    >>> print(text.splitlines()[1])
    budget: -n 1024 model runs per estimator; Sobol' base N = 128 (N(d + 2) = 640 runs)
    """
    import pandas as pd

    from .report.sensitivity import comparison_table, key_results

    attrs = ds.attrs
    estimators = [str(m) for m in ds["estimator"].values]
    level = float(attrs.get("confidence", 0.95))
    lines = [f"{attrs.get('model', '')}: sensitivity by {', '.join(estimators)} (seed {attrs.get('seed')})"]
    budget = f"budget: -n {attrs.get('n_budget', '?')} model runs per estimator"
    if "n_base_sobol" in attrs:
        d = ds.sizes.get("input", 0)
        budget += f"; Sobol' base N = {attrs['n_base_sobol']} (N(d + 2) = {attrs['n_base_sobol'] * (d + 2)} runs)"
    lines.append(budget)
    runs = [f"{m} {attrs[f'n_runs_{m}']}" for m in estimators if f"n_runs_{m}" in attrs]
    if "n_runs_split" in attrs:
        runs.append(f"aleatory/epistemic split {attrs['n_runs_split']}")
    lines.append(f"runs made: {', '.join(runs)}; total {attrs.get('n_runs', '?')}")
    headline = key_results(ds)
    if len(headline):
        lines += ["", f"key results ({level:.0%} intervals):"]
        lines += [f"  {out}  {what}: {row['value']}" for (out, what), row in headline.iterrows()]
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_colwidth", 40):
        for output in [str(o) for o in ds["output"].values]:
            table = comparison_table(ds, output)
            if len(table):
                lines += ["", f"output {output}: index [{level:.0%} interval] per estimator", table.to_string()]
    # joined with "; ", which also occurs inside a message: a new one starts "<estimator>, <output>, "
    notes = [w for w in str(attrs.get("warnings", "")).split("\n") if w]
    if notes:
        lines += ["", "warnings:"] + [f"  - {w}" for w in notes]
    return "\n".join(lines)


# ---- campaigns -----------------------------------------------------------------------------------------
def _configure_campaign(p: argparse.ArgumentParser) -> None:
    from .designs import DESIGNS

    _add_model_arguments(p)
    p.add_argument("-n", type=_positive, required=True, help="number of design points")
    p.add_argument("--store", required=True, help="campaign folder (created; resumable)")
    p.add_argument("--design", choices=DESIGNS, default="sobol")
    p.add_argument("--seed", type=_seed, default=None)
    p.add_argument("--batch-size", type=_positive, default=64)
    _add_backend_arguments(p)
    p.add_argument("--policy", choices=("drop", "retry", "abort"), default="drop",
                   help="failed points: keep them flagged (drop), re-run them (retry), or stop (abort, exit 2)")


def _add_backend_arguments(p: argparse.ArgumentParser, default_from: str = "inprocess") -> None:
    from .execution.backends import BACKENDS

    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help=f"where the model runs: this process, a process pool or Dask (default: {default_from})")
    p.add_argument("--workers", type=_positive, default=None, help="worker processes (processes, dask LocalCluster)")
    p.add_argument("--address", help="address of an existing Dask scheduler (implies --backend dask)")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="give up a batch after this long: its points fail, the run goes on (processes, dask)")


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Any]:
    """The backend of ``--backend/--workers/--address/--timeout``, closed when the command ends."""
    backend = _backend_from_args(args)
    try:
        yield backend
    finally:
        getattr(backend, "close", lambda: None)()


def _backend_from_args(args: argparse.Namespace) -> Any:
    from .execution.backends import make_backend

    kind = "dask" if args.address else (args.backend or "inprocess")
    backend = make_backend(kind, n_workers=args.workers, address=args.address, timeout=args.timeout)
    if args.address:
        # connect before the store is touched: an unreachable scheduler must leave nothing behind
        try:
            _ = cast(Any, backend).client  # connects (a Dask backend)
        except Exception as err:  # one clear line instead of a network traceback
            raise ValueError(f"cannot reach the Dask scheduler at --address {args.address!r} ({err})") from None
    return backend


def _run_campaign(args: argparse.Namespace) -> int:
    from .checks import refuse_beyond_memory

    model = _model_from_args(args)
    # a campaign keeps outputs on disk, but its design (n x inputs) is drawn and written in one piece
    refuse_beyond_memory(args.n, len(model.inputs.names), "campaign", "use a smaller -n (or split the design "
                         "over several stores)", copies=3)
    from .execution.campaign import format_summary, run_campaign  # after the check, as for propagate

    args.seed = _seed_from_args(args)
    with _backend(args) as backend:
        ds = run_campaign(model, args.n, store=args.store, design=args.design, rng=args.seed,
                          batch_size=args.batch_size, backend=backend, policy=args.policy)
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
    p.add_argument("--force", action="store_true",
                   help="resume although the model's function differs from the one that started the campaign "
                        "(only when the change cannot alter the results)")


def _run_resume(args: argparse.Namespace) -> int:
    from .execution.campaign import format_summary, resume_campaign

    with _backend(args) as backend:
        ds = resume_campaign(args.store, backend=backend, trust=args.trust_store, rerun_failed=args.rerun_failed,
                             force=args.force)
    print(format_summary(ds))
    _refuse_all_failed(ds)
    return 0


# ---- serve -------------------------------------------------------------------------------------------
def _configure_serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--set", action="append", type=_parse_setting, metavar="NAME=VALUE",
                   help="fix an input to a value (repeatable); it leaves the served input vector")
    p.add_argument("--port", type=_port, default=4242, help="TCP port to listen on (default 4242)")
    p.add_argument("--max-workers", type=_positive, default=1,
                   help="points evaluated at the same time (default 1)")
    p.add_argument("--name", default="forward", help="the model's name on the server (default: forward)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 = every interface)")
    p.add_argument("--token", default=None,
                   help="bearer token every request must carry (default: $UQBRIDGE_SERVE_TOKEN; the variable "
                        "keeps it out of the process list)")
    p.add_argument("--max-body", type=_positive, default=1 << 20, metavar="BYTES",
                   help="largest request body accepted (default 1 MiB)")
    p.add_argument("--request-timeout", type=float, default=600.0, metavar="SECONDS",
                   help="seconds one request may take before the caller gets HTTP 504 (default 600)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number in 1..65535, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number in 1..65535, got {text!r}")
    return value


def _run_serve(args: argparse.Namespace) -> int:
    from .external import serve

    model = _model_from_args(args)
    fixed = [name for name, _ in (args.set or [])]
    served = without_inputs(model, fixed) if fixed else model
    print(serve_layout(served, port=args.port, name=args.name, host=args.host,
                       fixed={n: model.inputs[n].distribution.mean for n in fixed}), flush=True)
    serve(served, port=args.port, name=args.name, max_workers=args.max_workers, host=args.host, token=args.token,
          max_body=args.max_body, request_timeout=args.request_timeout,
          announce=lambda line: print(line, flush=True))
    return 0


def serve_layout(model: Any, *, port: int, name: str = "forward", fixed: Any = None, host: str = "127.0.0.1") -> str:
    """What a UM-Bridge client must send and gets back: one input and one output vector, in order.

    Examples
    --------
    >>> from uqbridge.registry import get_model
    >>> print(serve_layout(get_model("ishigami"), port=4242))  # doctest: +ELLIPSIS
    serving ishigami (Ishigami test function ...) over UM-Bridge at http://127.0.0.1:4242 as model 'forward'
    input vector 0 (3 values): x1, x2, x3
    output vector 0 (1 value): y
    gradient: yes
    stop with Ctrl-C
    """
    def vector(names: Sequence[str]) -> str:
        return f"({len(names)} value{'s' if len(names) != 1 else ''}): {', '.join(names)}"

    shown = f"[{host}]" if ":" in host else host
    lines = [
        f"serving {model.name} ({model.description}) over UM-Bridge at http://{shown}:{port} as model {name!r}",
        f"input vector 0 {vector(model.inputs.names)}",
        f"output vector 0 {vector(model.output_names)}",
    ]
    if fixed:
        lines.append("fixed (not in the input vector): " + ", ".join(f"{k} = {v:g}" for k, v in fixed.items()))
    lines += [f"gradient: {'yes' if model.differentiable else 'no'}", "stop with Ctrl-C"]
    return "\n".join(lines)


@dataclass(frozen=True)
class _WithFixed:
    """``model`` called with only its free inputs: the fixed ones take their declared values."""

    model: Any

    def __call__(self, xp: Any = None, **free: Any) -> Any:
        return self.model(**free) if xp is None else self.model.evaluate_tensor(xp, **free)


def without_inputs(model: Any, names: Sequence[str]) -> Any:
    """``model`` with the fixed inputs ``names`` left out of its declaration (they keep their values).

    Examples
    --------
    >>> from uqbridge.registry import get_model
    >>> m = without_inputs(get_model("ishigami").with_inputs(x3=0.0), ["x3"])
    >>> m.inputs.names, m(x1=[0.0], x2=[0.0])["y"].tolist()
    (('x1', 'x2'), [0.0])
    """
    from .inputs import InputSet
    from .model import ForwardModel

    kept = InputSet(tuple(i for i in model.inputs if i.name not in set(names)))
    return ForwardModel(model.name, _WithFixed(model), kept, model.outputs, model.description,
                        differentiable=model.differentiable)


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
    "serve": ("serve a model over UM-Bridge (HTTP) so that other UQ tools can call it", _configure_serve, _run_serve),
    "check": ("print a saved calibration's diagnostics; --strict exits 1 when the gate failed", _configure_check, _run_check),
}


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names: its first word that is not an option (the top-level options
    take no value), or None when there is none or it is not a command (argparse then says so)."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def _parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``uqbridge`` parser, with the options of ``commands`` (default: every command).

    ``main`` configures only the command it runs: configuring a command may import the modules that
    list its choices (``run`` and ``sensitivity`` import xarray and SciPy's statistics), and the
    top-level help lists the commands by name only. This keeps ``uqbridge propagate`` quick to start.
    """
    from ._version import __version__

    configured = set(COMMANDS if commands is None else commands)

    parser = argparse.ArgumentParser(prog="uqbridge", description="Uncertainty quantification for multiscale models.")
    parser.add_argument("--version", action="version", version=f"uqbridge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or progress lines (results and errors only)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name in configured:
            configure(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an error")
        p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress bars or progress lines (results and errors only)")
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
    words = sys.argv[1:] if argv is None else list(argv)
    command = _command_in(words)
    parser = _parser([] if command is None else [command])
    args = parser.parse_args(words)
    printer = _WarningLines(args.command)
    from .execution.batch import set_progress

    previous_progress = set_progress(False) if args.quiet else None
    error: BaseException | None = None
    with warnings.catch_warnings():
        if not args.debug:
            # a warning is one line too ("uqbridge run: warning: ..."), not Python's file:line + source
            warnings.showwarning = printer.show
        try:
            status = int(args.run(args))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # noqa: BLE001 - every failure is one line (the traceback with --debug);
            # BaseException: a FirstBatchFailed or BatchTimeout that stopped the run is one too
            if args.debug:
                raise
            error = err
    if args.quiet:
        set_progress(previous_progress)
    printer.summary()
    if error is None:
        return status
    print(f"uqbridge {args.command}: error: {error_line(error)}", file=sys.stderr)
    return 2


@dataclass
class _WarningLines:
    """Print warnings as one line each on stderr; past ``limit`` of one kind, count them instead."""

    command: str
    limit: int = 3
    counts: dict[str, int] = field(default_factory=dict)

    def show(self, message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        name = category.__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        if self.counts[name] > self.limit:
            return
        kind = "" if category is UserWarning else f" ({name})"
        text = " ".join(str(message).split())
        print(f"uqbridge {self.command}: warning{kind}: {text}", file=sys.stderr)

    def summary(self) -> None:
        """One line per kind with more than ``limit`` warnings."""
        for name, count in self.counts.items():
            if count > self.limit:
                print(
                    f"uqbridge {self.command}: warning ({name}): {count - self.limit} more like these "
                    "(reports list them; --debug shows every warning)",
                    file=sys.stderr,
                )


def _disk_full(filename: Any) -> bool:
    import shutil

    try:
        folder = Path(os.fsdecode(filename)).resolve().parent
        while not folder.exists():
            folder = folder.parent
        return shutil.disk_usage(folder).free < 1 << 20
    except (OSError, TypeError, ValueError):
        return False


# an optional dependency -> the extra that installs it (pyproject.toml's [project.optional-dependencies])
_EXTRAS = {"ase": "models", "chaospy": "pce", "sklearn": "pce", "SALib": "sensitivity", "pymc": "calibration",
           "arviz": "calibration", "matplotlib": "reports", "umbridge": "external", "requests": "external",
           "dask": "dask", "distributed": "dask", "nutpie": "nutpie"}


def error_line(err: BaseException) -> str:
    """One line saying what went wrong: the message of an expected error, the type and a hint otherwise.

    Examples
    --------
    >>> error_line(KeyError("unknown model 'x'"))
    "unknown model 'x'"
    >>> error_line(IsADirectoryError(21, "Is a directory", "out"))
    "Is a directory: 'out'"
    >>> print(error_line(ModuleNotFoundError("No module named 'ase'", name="ase")))
    No module named 'ase' (needed here): pip install "uqbridge[models]"
    """
    if isinstance(err, KeyError) and err.args:
        text = str(err.args[0])
    elif isinstance(err, OSError) and err.strerror:
        where = f": {err.filename!r}" if err.filename else ""
        text = f"{err.strerror}{where}"
        if err.filename and (err.errno == errno.ENOSPC or (err.errno == errno.EACCES and _disk_full(err.filename))):
            # libnetcdf reports a full disk as "Permission denied"
            text = f"no space left on the device holding {err.filename!r} ({text}); free some space and retry"
    elif isinstance(err, ModuleNotFoundError) and err.name and err.name.split(".")[0] in _EXTRAS:
        text = f"{err} (needed here): pip install \"uqbridge[{_EXTRAS[err.name.split('.')[0]]}]\""
    elif isinstance(err, ImportError) and "pip install" in str(err):
        text = str(err)
    elif isinstance(err, MemoryError):
        text = str(err) if str(err) else "not enough memory; use a smaller -n or --batch-size"
    elif isinstance(err, (ValueError, TypeError, FileNotFoundError, FileExistsError, RuntimeError)) or \
            type(err).__name__ == "FirstBatchFailed":
        text = str(err)
    else:
        text = f"{type(err).__name__}: {err} (run with --debug for the traceback)"
    return " ".join(text.split()) or type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
