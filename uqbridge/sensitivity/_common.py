"""Shared plumbing of the sensitivity methods: design dimensions, seeds, evaluation, result datasets.

Every method works on the model's *design dimensions* (``model.inputs.dimension_names``): one per
uncertain parametric input and one per block of joint samples; constant inputs get index 0.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import stats
from threadpoolctl import threadpool_limits

from .. import checks
from ..checks import open_probability, positive_int
from ..execution.batch import OK, evaluate
from ..model import ForwardModel
from ..results import provenance, seed_attr

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend

__all__: list[str] = []


def check_model(model: Any) -> ForwardModel:
    if not isinstance(model, ForwardModel):
        raise TypeError(f"model must be a uqbridge ForwardModel, got {type(model).__name__}")
    if model.inputs.dimension == 0:
        raise ValueError(
            f"model {model.name!r} has no uncertain inputs (all of {list(model.inputs.names)} are "
            "constant); there is nothing to rank"
        )
    return model


def check_int(name: str, value: Any, minimum: int) -> int:
    return positive_int(value, name, minimum)


def check_confidence(confidence: Any) -> float:
    return open_probability(confidence, "confidence")


def z_value(confidence: float) -> float:
    """Two-sided normal quantile: SALib reports CI half-widths as ``z · bootstrap std``."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


def seeds(rng: SeedLike, k: int) -> list[int]:
    """``k`` positive integer seeds drawn from ``rng`` (SALib treats seed 0 as 'no seed')."""
    generator = checks.generator(rng, "seeds: rng")
    return [int(s) for s in generator.integers(1, 2**31 - 1, size=k)]


@contextlib.contextmanager
def salib_sandbox() -> Iterator[None]:
    """Run a SALib analyser without leaking its side effects.

    Some SALib analysers (delta, FAST, PAWN) call ``np.random.seed`` and ``warnings.simplefilter``;
    the legacy global random state and the warning filters are restored afterwards, and BLAS runs
    on one thread meanwhile.
    """
    state = np.random.get_state()  # noqa: NPY002 -- saving the legacy global state SALib mutates
    try:
        # SciPy's KDE (used by delta) solves tiny triangular systems; with many BLAS threads on a
        # busy machine each call is >10x slower than single-threaded
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.filterwarnings("ignore", message=".*FAST confidence intervals.*")
            warnings.filterwarnings("ignore", message=".*Potential Bias Notice.*")
            yield
    finally:
        np.random.set_state(state)  # noqa: NPY002 -- restoring it


def unit_problem(names: Sequence[str], groups: Sequence[str] | None = None) -> dict[str, Any]:
    """A SALib problem over the unit hypercube (the inputs' CDF values)."""
    problem: dict[str, Any] = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if groups is not None:
        problem["groups"] = list(groups)
    return problem


def run_unit(model: ForwardModel, u: np.ndarray, *, backend: Backend | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate the model on unit-hypercube rows: outputs ``(n, n_outputs)`` and an ok mask ``(n,)``."""
    values = model.inputs.from_unit(np.asarray(u, dtype=float))
    result = evaluate(model, values, backend=backend)
    y = np.stack([result.outputs[o] for o in model.output_names], axis=-1)
    return y, result.status == OK


def failure_error(method: str, ok: np.ndarray, model: ForwardModel) -> ValueError:
    bad = int((~ok).sum())
    return ValueError(
        f"{method}: {bad} of {ok.size} model runs of {model.name!r} failed or gave non-finite outputs; "
        f"this design needs every run, so nothing is imputed. Use sobol_indices (drops whole Saltelli "
        f"blocks), delta/pawn/rbd_fast (drop failed rows) or pce_indices (regression on the runs that "
        f"succeeded) instead, or fix the model's support"
    )


def players(model: ForwardModel) -> tuple[list[str], list[str]]:
    """Labels of the ``input`` dimension and their kinds.

    Inputs drawn from joint samples are one player (``"a+b"``); constants are kept (index 0).
    """
    inputs = model.inputs
    joint = {n for b in inputs.joint for n in b.names}
    labels: list[str] = []
    kinds: list[str] = []
    for i in inputs:
        if i.name in joint:
            continue
        labels.append(i.name)
        kinds.append(i.kind if i.kind == "condition" or not i.distribution.is_constant else "fixed")
    for b in inputs.joint:
        labels.append("+".join(b.names))
        block_kinds = {inputs[n].kind for n in b.names}
        kinds.append(block_kinds.pop() if len(block_kinds) == 1 else "mixed")
    return labels, kinds


def dimension_kinds(model: ForwardModel) -> list[str]:
    labels, kinds = players(model)
    lookup = dict(zip(labels, kinds))
    return [lookup[d] for d in model.inputs.dimension_names]


def indices_dataset(
    model: ForwardModel,
    method: str,
    per_dimension: Mapping[str, np.ndarray],
    *,
    fill: Mapping[str, float] | None = None,
    rng: SeedLike = None,
    extra_vars: Mapping[str, xr.DataArray] | None = None,
    **attrs: Any,
) -> xr.Dataset:
    """Label ``(n_outputs, n_dimensions)`` arrays over ``output`` × ``input`` (constants filled).

    ``fill`` gives the value of a variable for constant inputs (0 for an index; NaN for quantities
    such as Morris σ that are 0 too, so the default fill is 0).
    """
    labels, kinds = players(model)
    dims = list(model.inputs.dimension_names)
    position = [dims.index(lab) if lab in dims else -1 for lab in labels]
    fill = dict(fill or {})
    data = {}
    for var, arr in per_dimension.items():
        arr = np.asarray(arr, dtype=float).reshape(len(model.output_names), len(dims))
        full = np.full((arr.shape[0], len(labels)), fill.get(var, 0.0))
        for k, p in enumerate(position):
            if p >= 0:
                full[:, k] = arr[:, p]
        data[var] = (("output", "input"), full)
    ds = xr.Dataset(
        data,
        coords={
            "output": list(model.output_names),
            "input": labels,
            "kind": ("input", kinds),
            "output_units": ("output", [o.units for o in model.outputs]),
        },
    )
    for name, value in (extra_vars or {}).items():
        ds[name] = value
    ds.attrs.update(provenance(model, method, seed=seed_attr(rng), **attrs))
    return ds
