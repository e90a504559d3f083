"""Per-scale attribution of a chain's macro uncertainty: variance shares of each scale's inputs (closed,
total, interactions), the epistemic share per scale, and which scale's epistemic inputs drive Pf.

All estimates come from the stage labels of a :class:`~uqbridge.chains.graph.ChainModel` (a plain model is one
scale) through :func:`uqbridge.decompose` and :func:`uqbridge.reliability.pf_epistemic`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from .. import checks
from ..designs import unit_design
from ..execution.batch import Backend
from ..model import ForwardModel
from ..results import provenance, seed_attr
from ..variance import (
    METHODS,
    _standardise,
    decompose,
    mean_function_interval,
    pce_shares,
    pick_freeze_statistics,
    with_terms,
)
from .graph import scale_groups

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..reliability.limit_state import AnyLimitState

__all__ = ["pf_by_scale", "scale_importance", "scale_shares"]


def scale_shares(
    model: ForwardModel,
    *,
    method: str = "pick_freeze",
    outputs: Sequence[str] | None = None,
    n: int | None = None,
    n_outer: int = 256,
    n_inner: int = 64,
    design: str | None = None,
    interval: str = "delta",
    confidence: float = 0.95,
    n_bootstrap: int | None = None,
    pce: Any = None,
    max_degree: int | None = None,
    epistemic_samples: Mapping[str, Any] | None = None,
    max_failed: float = 0.1,
    backend: Backend | None = None,
    rng: SeedLike = None,
) -> xr.Dataset:
    """Share of each output's variance owed to each scale's inputs, and what knowledge at each scale buys.

    Per scale ``s`` (its uncertain inputs ``X_s``, see :func:`uqbridge.chains.graph.scale_groups`):

    - ``closed_share`` = Var(E[Y | X_s]) / Var Y — the scale's own effect (closed Sobol index of the group);
    - ``total_share`` = 1 − Var(E[Y | X_~s]) / Var Y — everything the scale takes part in;
    - ``interaction_share`` = total − closed — its interactions with other scales;
    - ``epistemic_share`` = Var(E[Y | E_s]) / Var Y with ``E_s`` the scale's *epistemic* inputs: the
      fraction of the macro variance a perfect measurement campaign at that scale would remove
      (0 where the scale has no epistemic input), and ``epistemic_variance`` in output units².

    ``cross_scale_interaction_share`` = 1 − Σ_s closed_share is the part no single scale explains.

    Every share has ``_low``/``_high`` bounds (interactions included). Where a scale's inputs cannot
    reach an output (the chain's wiring) its shares are exactly 0 with zero-width intervals (listed in
    the ``structural_zeros`` attr) and they are not perturbed. Each quantity is estimated once: the
    epistemic share of an all-epistemic scale is its closed share.

    Parameters
    ----------
    model : ForwardModel
        A chain (or any model: then one scale).
    method : {"pick_freeze", "nested", "pce"}
        Estimator, as in :func:`uqbridge.decompose` (sampling estimators: delta-method intervals by
        default, ``interval=`` to change); ``"pce"``: shares of one fitted expansion with the
        intervals of :func:`uqbridge.decompose` ``(method="pce")`` (the same implementation).
    outputs : sequence of str, optional
        Outputs to attribute (default: all of the model's).
    n : int, optional
        ``pick_freeze``: rows of the design (``n (2 + k)`` runs for ``k`` scales; default 4096).
        ``pce``: runs of the expansion (default ``max(40, 20 d)`` for ``d`` input dimensions).
    n_outer, n_inner : int
        ``nested`` only: outer and inner loop sizes.
    design : str, optional
        Unit design of the runs (default ``"mc"`` for the sampling estimators, whose intervals assume
        i.i.d. rows; ``"sobol"`` for ``pce``).
    interval : {"delta", "bca", "percentile"}
        Interval of the sampling estimators (see :func:`uqbridge.decompose`).
    confidence : float
        Level of every interval.
    n_bootstrap : int, optional
        Bootstrap replicates (``bca``/``percentile`` intervals: default 1000; ``pce``: default 200).
    pce : PolynomialChaos, optional
        ``pce`` only: an expansion already fitted (then no runs, and no interval).
    max_degree : int, optional
        ``pce`` only: the highest total degree the fit may choose.
    epistemic_samples : mapping ``{input: draws}``, optional
        Joint samples (e.g. posterior draws) replacing the named inputs' laws.
    max_failed : float
        Largest fraction of failed runs accepted (see :func:`uqbridge.decompose`).
    backend : Backend, optional
        Where the model runs.
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        Dims ``output`` and ``scale``.

    Examples
    --------
    >>> import uqbridge as uq
    >>> a = uq.ForwardModel("cell", lambda x, e: {"k": x + e},
    ...     [uq.Input("x", uq.Normal(0, 1)), uq.Input("e", uq.Normal(0, 1), "epistemic")], [uq.Output("k")])
    >>> b = uq.ForwardModel("part", lambda k, w: {"y": k + w}, [uq.Input("k", uq.Normal(0, 1)),
    ...     uq.Input("w", uq.Normal(0, 1))], [uq.Output("y")])
    >>> ds = scale_shares(uq.chain(a, b), method="pce", n=40, rng=0)
    >>> [round(float(v), 3) for v in ds["closed_share"].sel(output="y")]   # 2/3 cell, 1/3 part
    [0.667, 0.333]
    >>> [round(float(v), 3) for v in ds["epistemic_share"].sel(output="y")]
    [0.333, 0.0]
    """
    seed = seed_attr(rng)
    rng = checks.generator(rng, "scale_shares: rng")
    start = time.perf_counter()
    if epistemic_samples is not None:
        model = model.with_joint_samples(epistemic_samples)
    by_scale = scale_groups(model, "scale")
    epistemic = {g.split("/")[0]: v for g, v in scale_groups(model, "scale_kind").items() if g.endswith("/epistemic")}
    ep = {f"{s}/epistemic": v for s, v in epistemic.items()}
    names = list(model.output_names if outputs is None else outputs)
    confidence = float(confidence)
    if method not in METHODS:
        raise ValueError(f"scale_shares: unknown method {method!r}; valid methods: {list(METHODS)}")
    full_scale = {s: ep[f"{s}/epistemic"] for s in epistemic if sorted(ep[f"{s}/epistemic"]) == sorted(by_scale[s])}
    partial = {g: v for g, v in ep.items() if g.split("/")[0] not in full_scale}
    reach = getattr(model, "input_reach", None)
    if reach is not None:  # epistemic groups that reach no requested output are structural zeros: not run
        partial = {g: v for g, v in partial.items() if any(set(v) & reach.get(o, set(v)) for o in names)}
    if method == "pce":
        est, runs, extra = _pce_estimates(model, {**by_scale}, partial, names, rng, confidence, n=n, pce=pce,
                                          n_bootstrap=200 if n_bootstrap is None else n_bootstrap,
                                          design=design or "sobol", backend=backend, max_degree=max_degree)
    else:
        first_rng, second_rng = rng.spawn(2)
        # n and n_bootstrap left unset take decompose's own defaults (not restated here)
        given = {"n": n, "n_bootstrap": n_bootstrap}
        options: dict[str, Any] = {
            **{key: value for key, value in given.items() if value is not None}, "n_outer": n_outer,
            "n_inner": n_inner, "design": design, "interval": interval, "confidence": confidence,
            "max_failed": max_failed, "backend": backend,
        }
        ds = decompose(model, method=method, groups=by_scale, outputs=names, rng=first_rng, **options)
        est = {"variance": ds["variance"].values}
        for suffix in ("", "_low", "_high"):
            est[f"closed{suffix}"] = ds[f"explained_share{suffix}"].values
            est[f"total{suffix}"] = ds[f"total_share{suffix}"].values
            est[f"interaction{suffix}"] = ds[f"interaction_share{suffix}"].values
        runs = int(ds.attrs.get("n_runs", 0))
        extra = {"interval": ds.attrs.get("interval", "")}
        for suffix in ("", "_low", "_high"):
            est[f"epistemic{suffix}"] = np.zeros((len(names), 0))
        if partial:  # scales with epistemic and aleatory inputs: the epistemic part is its own quantity
            de = decompose(model, method=method, groups=partial, outputs=names, rng=second_rng, **options)
            runs += int(de.attrs.get("n_runs", 0))
            for suffix in ("", "_low", "_high"):
                est[f"epistemic{suffix}"] = de[f"explained_share{suffix}"].values
    scales = list(by_scale)
    dims = ("output", "scale")
    out = xr.Dataset(coords={"output": names, "scale": scales})
    out["variance"] = ("output", est["variance"])
    for suffix in ("", "_low", "_high"):
        out[f"closed_share{suffix}"] = (dims, est[f"closed{suffix}"])
        out[f"total_share{suffix}"] = (dims, est[f"total{suffix}"])
        out[f"interaction_share{suffix}"] = (dims, est[f"interaction{suffix}"])
        full = np.zeros((len(names), len(scales)))
        for j, g in enumerate(partial):
            full[:, scales.index(g.split("/")[0])] = est[f"epistemic{suffix}"][:, j]
        for s_name in full_scale:  # an all-epistemic scale: its epistemic share IS its closed share (one estimate)
            full[:, scales.index(s_name)] = est[f"closed{suffix}"][:, scales.index(s_name)]
        out[f"epistemic_share{suffix}"] = (dims, full)
    _structural_zeros(out, model, by_scale)
    out["cross_scale_interaction_share"] = 1.0 - out["closed_share"].sum("scale")
    out["epistemic_variance"] = out["epistemic_share"] * out["variance"]
    out["closed_share"].attrs["long_name"] = "Var(E[Y | inputs of the scale]) / Var Y"
    out["total_share"].attrs["long_name"] = "1 - Var(E[Y | inputs of the other scales]) / Var Y"
    out["epistemic_share"].attrs["long_name"] = (
        "Var(E[Y | epistemic inputs of the scale]) / Var Y: what a measurement campaign there could buy"
    )
    for o in names:
        units = model.output(o).units
        out.attrs[f"units_{o}"] = f"({units})^2" if units else ""
    out.attrs.update(provenance(
        model, f"scale_shares:{method}", seed=seed, groups=by_scale, epistemic_groups=epistemic,
        n_runs=runs, confidence=confidence, wall_time_s=time.perf_counter() - start, **extra,
    ))
    return out


def _structural_zeros(out: xr.Dataset, model: ForwardModel, by_scale: dict[str, list[str]]) -> None:
    """Exact zeros (point and interval) where a scale's inputs cannot reach an output (the chain's wiring);
    the cells are listed in the ``structural_zeros`` attr."""
    reach = getattr(model, "input_reach", None)
    if reach is None:
        return
    cells = []
    for o in out.output.values:
        for s, names in by_scale.items():
            if not set(names) & reach.get(str(o), set(names)):
                cells.append(f"{o}/{s}")
                for key in ("closed_share", "total_share", "interaction_share", "epistemic_share"):
                    for suffix in ("", "_low", "_high"):
                        out[f"{key}{suffix}"].loc[{"output": o, "scale": s}] = 0.0
    if cells:
        out.attrs["structural_zeros"] = ", ".join(cells) + " (inputs that cannot reach the output: exactly 0)"


def _pce_estimates(model, by_scale, ep, names, rng, confidence, *, n, pce, n_bootstrap, design, backend, max_degree):
    """Per-scale and per-epistemic-group shares of one expansion, with the intervals of
    :func:`uqbridge.variance.pce_shares` (the implementation ``decompose(method="pce")`` uses)."""
    k = len(by_scale)
    est, runs, _, extra = pce_shares(model, {**by_scale, **ep}, names, pce=pce, n=n, design=design,
                                     n_bootstrap=n_bootstrap, confidence=confidence, max_degree=max_degree,
                                     rng=rng, backend=backend)
    out = {"variance": est["variance"]}
    est = {key: np.clip(v, 0, 1) if key != "variance" else v for key, v in est.items()}  # as decompose reports
    for suffix in ("", "_low", "_high"):
        out[f"closed{suffix}"] = est[f"closed{suffix}"][:, :k]
        out[f"total{suffix}"] = est[f"total{suffix}"][:, :k]
        out[f"interaction{suffix}"] = est[f"interaction{suffix}"][:, :k]
        out[f"epistemic{suffix}"] = est[f"closed{suffix}"][:, k:]
    return out, runs, extra


def pf_by_scale(
    ls: AnyLimitState,
    *,
    method: str = "form",
    n_outer: int = 64,
    confidence: float = 0.95,
    n_bootstrap: int = 500,
    interval: str = "bca",
    method_options: Mapping[str, Any] | None = None,
    backend: Backend | None = None,
    rng: SeedLike = None,
) -> xr.Dataset:
    """Which scale's epistemic inputs drive the spread of Pf under epistemic uncertainty.

    The epistemic inputs of the limit state's model are grouped by the scale where they enter; a
    pick-freeze design over them (``n_outer`` rows A, B and A with each scale's columns from B) is
    handed to :func:`uqbridge.reliability.pf_epistemic` as given samples, so every row is one inner
    reliability analysis over the aleatory inputs. For ``Q`` = Pf(E) and ``Q`` = β(E) the result
    holds per scale the closed share Var(E[Q | E_s]) / Var Q (Janon et al. 2014) and the total share
    (Jansen 1999), with bootstrap intervals — the scale where better knowledge narrows Pf most.

    Parameters
    ----------
    ls : LimitState (on a chain, or any model)
    method : str
        Inner reliability method of :func:`pf_epistemic`. A deterministic inner method (FORM, SORM)
        adds no noise; a sampling one adds its variance to ``Var Q`` (lowering the shares).
    n_outer : int
        Rows of the pick-freeze design; ``n_outer (2 + k)`` inner analyses for ``k`` scales.
    confidence : float
        Level of the intervals.
    n_bootstrap : int
        Bootstrap replicates of the ``bca``/``percentile`` intervals.
    interval : {"bca", "delta", "percentile"}
        Interval of the shares (see :func:`uqbridge.variance.mean_function_interval`); BCa by default,
        as ``n_outer`` is small. Shares are clipped to [0, 1], raw estimates kept (``*_share_raw``) and
        clipped cells named in the ``clipped`` attrs; ``interaction_share`` = total − closed.
    method_options : mapping, optional
        Keywords of the inner method, e.g. ``{"gradient": "fd"}`` for FORM (passed as
        ``pf_epistemic(method_options=...)``).
    backend : Backend, optional
        Where the inner analyses' model runs go.
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        Dims ``quantity`` ("pf", "beta") and ``scale``: ``variance``, ``closed_share``,
        ``total_share`` with ``_low``/``_high``; scalars ``pf`` (predictive, E[Pf(E)]) and ``pf_se``;
        ``pf_epistemic`` = the Dataset of all inner analyses is not kept (only its summary).

    Examples
    --------
    >>> import uqbridge as uq
    >>> from uqbridge.reliability import LimitState
    >>> cell = uq.ForwardModel("cell", lambda e1, xp=None: {"k": 1 + e1},
    ...     [uq.Input("e1", uq.Normal(0, 0.3), "epistemic")], [uq.Output("k")])
    >>> part = uq.ForwardModel("part", lambda k, e2, s: {"z": 4 * k + e2 - s},
    ...     [uq.Input("k", uq.Normal(1, 1)), uq.Input("e2", uq.Normal(0, 0.1), "epistemic"),
    ...      uq.Input("s", uq.Normal(0, 1))], [uq.Output("z")])
    >>> ds = pf_by_scale(LimitState(uq.chain(cell, part), "z"), n_outer=32, rng=0)
    >>> ds.scale.values.tolist(), bool(ds["closed_share"].sel(quantity="beta", scale="cell") > 0.9)
    (['cell', 'part'], True)
    """
    from ..reliability import pf_epistemic

    start = time.perf_counter()
    seed = seed_attr(rng)
    rng = checks.generator(rng, "pf_by_scale: rng")
    design_rng, inner_rng, boot_rng = rng.spawn(3)
    if interval not in ("bca", "delta", "percentile"):
        raise ValueError(f"pf_by_scale: interval={interval!r} is not an interval method; valid: ['bca', 'delta', 'percentile']")
    names = list(ls.inputs.epistemic)
    if not names:
        raise ValueError(f"pf_by_scale: the limit state {ls.name!r} has no epistemic inputs; declare some with kind='epistemic'")
    where: dict[str, str] = {}
    for m in ls.models:
        for n, s in m.input_scale.items():
            where.setdefault(n, s)
    groups: dict[str, list[int]] = {}
    for k, n in enumerate(names):
        groups.setdefault(where.get(n, "?"), []).append(k)
    for (first, second), rho in (ls.inputs.correlation or {}).items():
        if rho and first in names and second in names and where.get(first) != where.get(second):
            raise ValueError(f"pf_by_scale: epistemic inputs {first!r} and {second!r} are correlated across scales; the split needs independent scales")
    d = ls.inputs.dimension
    draws = [ls.inputs.from_unit(unit_design(n_outer, d, "mc", rng=r)) for r in design_rng.spawn(2)]
    a = np.column_stack([draws[0][n] for n in names])
    b = np.column_stack([draws[1][n] for n in names])
    blocks = [a, b]
    for idx in groups.values():
        mixed = a.copy()
        mixed[:, idx] = b[:, idx]
        blocks.append(mixed)
    rows = np.concatenate(blocks)
    res = pf_epistemic(ls, method=method, samples={n: rows[:, k] for k, n in enumerate(names)}, rng=inner_rng, backend=backend,
                       method_options=dict(method_options or {}))
    pf = res["pf_conditional"].values.reshape(len(blocks), n_outer)
    beta = res["beta_conditional"].values.reshape(len(blocks), n_outer)
    scales = list(groups)
    data: dict[str, Any] = {}
    k = len(scales)
    rows_out: dict[str, list[np.ndarray]] = {key: [] for key in ("variance", "closed", "total", "interaction")}
    for q in (pf, beta):
        good = np.all(np.isfinite(q), axis=0)  # a pick-freeze row needs all its inner analyses
        (fa, fb, fg), unit = _standardise(q[0][good], q[1][good], q[2:][:, good])
        z, f = pick_freeze_statistics(fa, fb, fg)
        point, low, high, _ = mean_function_interval(z, with_terms(f, k), confidence, interval=interval,
                                                     n_bootstrap=n_bootstrap, rng=boot_rng)
        rows_out["variance"].append(np.array([point[0], low[0], high[0]]) * unit**2)
        for r, key in enumerate(("closed", "total", "interaction")):
            sl = slice(1 + r * k, 1 + (r + 1) * k)
            rows_out[key].append(np.stack([point[sl], low[sl], high[sl]]))
    clipped = []
    for key in ("closed", "total", "interaction"):
        arr = np.stack(rows_out[key], axis=1)  # (3, quantity, scale)
        raw = arr[0]
        cells = [f"{qn}/{scales[j]}: {raw[i, j]:.4g}" for i, qn in enumerate(("pf", "beta")) for j in range(k)
                 if not 0 <= raw[i, j] <= 1]
        if cells:
            clipped.append(f"{key}_share " + "; ".join(cells))
        data[f"{key}_share"] = (("quantity", "scale"), np.clip(raw, 0, 1), {"clipped": "; ".join(cells)} if cells else {})
        data[f"{key}_share_raw"] = (("quantity", "scale"), raw)
        data[f"{key}_share_low"] = (("quantity", "scale"), np.clip(arr[1], 0, 1))
        data[f"{key}_share_high"] = (("quantity", "scale"), np.clip(arr[2], 0, 1))
    variance = np.stack(rows_out["variance"])
    data["variance"] = ("quantity", variance[:, 0])
    base = res["pf_conditional"].values[: 2 * n_outer]
    data["pf"] = ((), float(base.mean()), {"long_name": "predictive Pf = E[Pf(E)] from the A and B rows"})
    data["pf_se"] = ((), float(base.std(ddof=1) / np.sqrt(base.size)))
    ds = xr.Dataset(data, coords={"quantity": ["pf", "beta"], "scale": scales})
    ds.attrs = provenance(
        ls.models[0] if len(ls.models) == 1 else None, f"pf_by_scale[{method}]", seed=seed,
        groups={s: [names[k] for k in idx] for s, idx in groups.items()}, n_outer=n_outer,
        n_runs=int(res["n_runs"]), confidence=confidence, wall_time_s=time.perf_counter() - start,
        estimators="Janon et al. 2014 (closed), Jansen 1999 (total) over the epistemic inputs", interval=interval,
    )
    if clipped:
        ds.attrs["clipped"] = "shares outside [0, 1] shown clipped (raw in *_share_raw): " + " | ".join(clipped)
    return ds


def scale_importance(pf: xr.Dataset, model: ForwardModel) -> xr.Dataset:
    """Group the epistemic importance of a :func:`uqbridge.reliability.pf_epistemic` result by scale.

    Sums the ``importance_share`` (ρ² / Σρ² of the Spearman correlations of each epistemic input with
    log Pf(E)) over the inputs entering at each scale of ``model`` — a cheap reading of an existing
    result; :func:`pf_by_scale` gives variance shares with intervals (and interactions).

    Examples
    --------
    >>> import uqbridge as uq
    >>> from uqbridge.reliability import LimitState, pf_epistemic
    >>> cell = uq.ForwardModel("cell", lambda e1, xp=None: {"k": 1 + e1},
    ...     [uq.Input("e1", uq.Normal(0, 0.3), "epistemic")], [uq.Output("k")])
    >>> part = uq.ForwardModel("part", lambda k, e2, s: {"z": 4 * k + e2 - s},
    ...     [uq.Input("k", uq.Normal(1, 1)), uq.Input("e2", uq.Normal(0, 0.1), "epistemic"),
    ...      uq.Input("s", uq.Normal(0, 1))], [uq.Output("z")])
    >>> g = uq.chain(cell, part)
    >>> r = pf_epistemic(LimitState(g, "z"), n_outer=32, rng=0)
    >>> ds = scale_importance(r, g)
    >>> ds.scale.values.tolist(), bool(ds["importance_share"].sel(scale="cell") > 0.8)
    (['cell', 'part'], True)
    """
    if "importance_share" not in pf:
        raise KeyError("pf must be the Dataset of uqbridge.reliability.pf_epistemic (it has no 'importance_share')")
    where = model.input_scale
    names = [str(n) for n in pf["epistemic_input"].values]
    unknown = [n for n in names if n not in where]
    if unknown:
        raise KeyError(f"epistemic inputs {unknown} of the result are not inputs of model {model.name!r}")
    scales = list(dict.fromkeys(where[n] for n in names))
    share = pf["importance_share"].values
    values = np.array([np.nansum([share[k] for k, n in enumerate(names) if where[n] == s]) for s in scales])
    ds = xr.Dataset(
        {"importance_share": ("scale", values, {"long_name": "sum over the scale's epistemic inputs of rho^2 / sum rho^2"})},
        coords={"scale": scales},
    )
    ds.attrs = provenance(model, "scale_importance", groups={s: [n for n in names if where[n] == s] for s in scales})
    return ds
