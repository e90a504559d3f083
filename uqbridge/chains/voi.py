"""Value of information per scale: how much a measurement or a simulation campaign at one scale is expected
to shrink the macro uncertainty of a chain output, and a ranking of the options by reduction per cost.

Two kinds of option (:class:`Experiment`): *learn a scale's epistemic inputs exactly* (the limit, an
epistemic closed share as in :func:`uqbridge.chains.scale_shares`) and a *finite, specified experiment*:
one stage output (or epistemic input) measured with Gaussian noise, ``replicates`` times. The finite case
is a preposterior analysis: data are simulated from the prior predictive, the prior sample is re-weighted
by the likelihood (importance weights, no new model runs), and the macro quantity is re-propagated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .. import checks
from ..model import ForwardModel
from ..results import provenance, seed_attr

__all__ = ["QUANTITIES", "Experiment", "value_of_information"]

QUANTITIES = ("variance", "pf")


@dataclass(frozen=True)
class Experiment:
    """One option that buys knowledge: a measurement at one scale, or learning a scale exactly.

    Parameters
    ----------
    name : str
        Label in the ranking (e.g. ``"C44 ±2 %, 3 specimens"``).
    cost : float
        Cost of the option (any unit, the same for all options of one ranking).
    measure : str, optional
        The chain output (an intermediate of an epistemic stage, e.g. ``"C44"``) or epistemic input
        that is measured. It must not depend on aleatory inputs (a measurement of a random specimen
        property informs nothing epistemic here).
    scale : str, optional
        Without ``measure``: the scale whose uncertain epistemic inputs are learnt exactly.
    noise_sd, noise_cv : float, optional
        Gaussian measurement noise of one replicate: absolute standard deviation (output units) or
        coefficient of variation (relative to the true value). Exactly one with ``measure``.
    replicates : int
        Independent repeats of the measurement.

    Examples
    --------
    >>> Experiment("C44 ±2 %", cost=3.0, measure="C44", noise_cv=0.02, replicates=3).kind
    'measure'
    >>> Experiment("atomistic exactly", cost=50.0, scale="atomistic").kind
    'learn exactly'
    """

    name: str
    cost: float
    measure: str | None = None
    scale: str | None = None
    noise_sd: float | None = None
    noise_cv: float | None = None
    replicates: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.cost, (int, float)) and np.isfinite(self.cost) and self.cost > 0):
            raise ValueError(f"Experiment {self.name!r}: cost must be a positive number, got {self.cost!r}")
        if (self.measure is None) == (self.scale is None):
            raise ValueError(
                f"Experiment {self.name!r}: give either measure= (an output or input measured with noise) or "
                f"scale= (learn that scale's epistemic inputs exactly), got measure={self.measure!r}, scale={self.scale!r}"
            )
        if self.measure is not None:
            given = [n for n in ("noise_sd", "noise_cv") if getattr(self, n) is not None]
            if len(given) != 1:
                raise ValueError(f"Experiment {self.name!r}: give exactly one of noise_sd, noise_cv for measure={self.measure!r}, got {given}")
            value = getattr(self, given[0])
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"Experiment {self.name!r}: {given[0]} must be positive, got {value!r}")
        if not (isinstance(self.replicates, (int, np.integer)) and self.replicates >= 1):
            raise ValueError(f"Experiment {self.name!r}: replicates must be an integer >= 1, got {self.replicates!r}")

    @property
    def kind(self) -> str:
        return "learn exactly" if self.measure is None else "measure"


def _weighted_var(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Variance of ``x`` (bank rows) under each row of normalised weights ``w``, unbiased for reliability
    weights: ``Σ w (x − x̄)² / (1 − Σ w²)`` removes the O(1/ESS) bias of the plug-in weighted variance."""
    mean = w @ x
    dev = w @ (x**2) - mean**2
    return dev / np.maximum(1 - np.sum(w**2, axis=-1), 1e-12)


def _posterior_weights(h: np.ndarray, s1: np.ndarray, s2: np.ndarray, r: int, sd: np.ndarray | float) -> np.ndarray:
    """Normalised likelihood weights of the prior rows (columns) for each simulated data set (rows).

    With per-replicate sums ``S1 = Σ y``, ``S2 = Σ y²``: ``log L = −(S2 − 2 h S1 + r h²) / (2σ²) − r log σ``.
    """
    sd = np.broadcast_to(np.asarray(sd, dtype=float), h.shape)
    ll = -(s2[:, None] - 2 * h[None, :] * s1[:, None] + r * h[None, :] ** 2) / (2 * sd[None, :] ** 2) - r * np.log(sd)[None, :]
    ll -= ll.max(axis=1, keepdims=True)
    w = np.exp(ll)
    return w / w.sum(axis=1, keepdims=True)


def _run(model: ForwardModel, values: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    out = model(**{n: values[n] for n in model.inputs.names})
    res = {}
    for n in names:
        res[n] = np.asarray(values[n] if n in values else out[n], dtype=float)
    return res


def value_of_information(
    model: ForwardModel,
    experiments: Sequence[Experiment],
    *,
    output: str,
    quantity: str = "variance",
    threshold: float = 0.0,
    n_prior: int = 2000,
    n_inner: int = 16,
    n_data: int = 200,
    n_bootstrap: int = 100,
    rng: Any = None,
) -> xr.Dataset:
    """Expected reduction of a macro quantity per option, with Monte Carlo error, ranked by reduction per cost.

    With ``θ`` the uncertain epistemic inputs and ``m(θ) = E[g(Y) | θ]`` (``g(Y) = Y`` for
    ``"variance"``, the indicator ``Y < threshold`` for ``"pf"``), any option that yields data ``D``
    on ``θ`` removes in expectation ``Var m(θ) − E_D[Var(m(θ) | D)]``:

    - ``quantity="variance"``: the quantity is ``Var Y``; after ``D`` it is
      ``E[Var(Y | θ) | D] + Var(m | D)``, whose expectation over ``D`` drops by exactly that amount;
    - ``quantity="pf"``: the predictive Pf = E[m] does not change in expectation (tower rule); what
      knowledge buys is the epistemic spread ``Var_θ Pf(θ)`` of the failure probability, and that is the
      quantity ranked.

    Estimation. A prior bank of ``n_prior`` epistemic rows, each run at ``n_inner`` aleatory draws,
    gives ``m̂_i`` and its noise ``s_i²/n_inner`` (subtracted, so ``Var m`` is unbiased). *Measure*:
    ``n_data`` true ``θ`` from an independent prior draw, data ``y_r = h(θ) + ε_r``; the bank is
    re-weighted by the Gaussian likelihood and ``Var(m | D)`` is the weighted variance (reliability-
    weight corrected). *Learn exactly*: ``Var E[m | θ_s]`` by pick-freeze (a second bank with the scale's
    columns frozen, Janon et al. 2014). Standard errors: bootstrap of the bank and data rows; ``p_best``
    is the fraction of bootstrap replicates in which the option ranks first by reduction per cost.

    Parameters
    ----------
    model : ForwardModel
        A chain (or any model). Its epistemic inputs must be independent of its aleatory ones; on a
        calibrated chain the posterior (joint samples of the epistemic inputs) is the prior here.
    experiments : sequence of Experiment
    output : str
        The macro output.
    quantity : {"variance", "pf"}
    threshold : float
        Failure when ``output < threshold`` (``quantity="pf"``).
    n_prior, n_inner, n_data, n_bootstrap : int
        Prior bank rows, aleatory draws per row, simulated data sets per option, bootstrap replicates.
        Model runs: ``n_prior n_inner (1 + k) + n_data`` for ``k`` learn-exactly options.
    rng : seed or Generator

    Returns
    -------
    xarray.Dataset
        Dim ``option`` (best first): ``cost``, ``expected_reduction`` (``_se``), ``reduction_per_cost``,
        ``expected_after`` (``_se``), ``p_best``, ``ess_median`` (importance-sampling effective sample
        size of the posterior bank; small values mean the bank is too coarse for that experiment),
        ``kind``, ``scale``; attrs ``analysis="value_of_information"``, ``quantity``, ``baseline``,
        ``best``, ``reducible`` (= Var m, the most any option can remove).

    Examples
    --------
    Measuring ``k = 2 e1`` with noise sd 1 (prior sd of ``e1`` is 1): posterior Var e1 = 1/(1 + 4) = 0.2,
    so Var Y drops by 0.8 of the 1 that ``e1`` contributes (``Y = e1 + e2 + w``):

    >>> import uqbridge as uq
    >>> a = uq.ForwardModel("micro", lambda e1: {"k": 2 * e1}, [uq.Input("e1", uq.Normal(0, 1), "epistemic")],
    ...     [uq.Output("k")])
    >>> b = uq.ForwardModel("macro", lambda k, e2, w: {"y": k / 2 + e2 + w}, [uq.Input("k", uq.Normal(0, 1)),
    ...     uq.Input("e2", uq.Normal(0, 1), "epistemic"), uq.Input("w", uq.Normal(0, 1))], [uq.Output("y")])
    >>> ds = value_of_information(uq.chain(a, b), [Experiment("k", 1.0, measure="k", noise_sd=1.0),
    ...     Experiment("macro exactly", 4.0, scale="macro")], output="y", n_prior=1000, n_inner=4, rng=0)
    >>> float(ds["expected_reduction"].sel(option="k")).__round__(1), ds.attrs["best"]
    (0.8, 'k')
    """
    seed = seed_attr(rng)
    rng = checks.generator(rng, "value_of_information: rng")
    start = time.perf_counter()
    quantity = checks.choice(quantity, "quantity", QUANTITIES)
    experiments = list(experiments)
    if not experiments or not all(isinstance(e, Experiment) for e in experiments):
        raise TypeError("experiments must be a non-empty sequence of Experiment")
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ValueError(f"experiments: option names must be unique, got {names}")
    if output not in model.output_names:
        raise KeyError(f"model {model.name!r} has no output {output!r}; its outputs: {list(model.output_names)}")
    n_prior = checks.positive_int(n_prior, "n_prior", 10)
    n_inner = checks.positive_int(n_inner, "n_inner", 2)
    n_data = checks.positive_int(n_data, "n_data", 2)
    n_bootstrap = checks.positive_int(n_bootstrap, "n_bootstrap", 2)
    inputs = model.inputs
    theta = [n for n in inputs.uncertain if n in inputs.epistemic]
    if not theta:
        raise ValueError(f"value_of_information: model {model.name!r} has no uncertain epistemic inputs; nothing to learn")
    for (a, b), rho in (inputs.correlation or {}).items():
        if rho and ((a in theta) != (b in theta)):
            raise ValueError(f"value_of_information: inputs {a!r} (epistemic) and {b!r} are correlated across kinds; the split needs them independent")
    where = dict(model.input_scale)
    out_scale = dict(getattr(model, "output_stage", {})) or {o: model.name for o in model.output_names}
    scales_known = list(dict.fromkeys(where.values()))
    measured = []
    for e in experiments:
        if e.measure is not None:
            if e.measure in inputs.names and e.measure not in theta:
                raise ValueError(f"Experiment {e.name!r}: input {e.measure!r} is not an uncertain epistemic input; measure one of {theta} or an output")
            if e.measure not in inputs.names and e.measure not in model.output_names:
                raise KeyError(f"Experiment {e.name!r}: measure={e.measure!r} is neither an input nor an output of {model.name!r}")
            measured.append(e.measure)
        elif e.scale not in scales_known:
            raise KeyError(f"Experiment {e.name!r}: scale {e.scale!r} is not a scale of {model.name!r}; scales: {scales_known}")
        elif not [n for n in theta if where[n] == e.scale]:
            raise ValueError(f"Experiment {e.name!r}: scale {e.scale!r} has no uncertain epistemic input to learn")
    measured = list(dict.fromkeys(measured))
    col = {n: k for k, n in enumerate(inputs.dimension_names)}
    bank_rng, truth_rng, pf_rng, boot_rng = rng.spawn(4)
    d = inputs.dimension

    def conditional(u_theta: np.ndarray, r: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """m̂, its noise variance s²/n_inner, and the measured values at epistemic rows given as unit columns."""
        n = u_theta.shape[0]
        u = r.random((n * n_inner, d))
        for n_ in theta:
            u[:, col[n_]] = np.repeat(u_theta[:, col[n_]], n_inner)
        values = inputs.from_unit(u)
        res = _run(model, values, [output, *measured])
        y = res[output].reshape(n, n_inner)
        g = (y < threshold).astype(float) if quantity == "pf" else y
        if not np.all(np.isfinite(g)):
            raise ValueError(f"value_of_information: {int((~np.isfinite(g)).sum())} runs of {output!r} failed (NaN/inf); fix the model or its input ranges")
        h = {}
        for m in measured:
            v = res[m].reshape(n, n_inner)
            spread = np.max(np.abs(v - v[:, :1]))
            if spread > 1e-9 * (np.max(np.abs(v)) + 1e-300):
                raise ValueError(
                    f"value_of_information: the measured {m!r} changes with the aleatory inputs (spread {spread:.3g}); "
                    "measure an output of the epistemic stages or an epistemic input"
                )
            h[m] = v[:, 0]
        return g.mean(axis=1), g.var(axis=1, ddof=1) / n_inner, h

    # prior bank (row i: epistemic column values via the unit design)
    bank_a = bank_rng.random((n_prior, d))
    m_a, noise_a, h_a = conditional(bank_a, bank_rng)
    # truths for the simulated data (an independent prior draw: no bank row is its own truth)
    need_truth = any(e.measure is not None for e in experiments)
    h_t: dict[str, np.ndarray] = {}
    if need_truth:
        truth_u = truth_rng.random((n_data, d))
        res_t = _run(model, inputs.from_unit(truth_u), measured)
        h_t = {m: res_t[m] for m in measured}
    # pick-freeze banks for the learn-exactly options
    frozen: dict[str, np.ndarray] = {}
    if any(e.measure is None for e in experiments):
        bank_b = bank_rng.random((n_prior, d))
        for e in experiments:
            if e.measure is None and e.scale not in frozen:
                mixed = bank_b.copy()
                for n_ in theta:
                    if where[n_] == e.scale:
                        mixed[:, col[n_]] = bank_a[:, col[n_]]
                frozen[e.scale] = conditional(mixed, pf_rng)[0]  # type: ignore[index]

    # simulated data: per measured option, sums S1, S2 of the replicates around the truth
    data: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float | np.ndarray]] = {}
    for e in experiments:
        if e.measure is None:
            continue
        ht = h_t[e.measure]
        sd_t = e.noise_sd if e.noise_sd is not None else e.noise_cv * np.abs(ht)  # type: ignore[operator]
        y = ht[:, None] + np.asarray(sd_t).reshape(-1, 1) * truth_rng.standard_normal((n_data, e.replicates))
        data[e.name] = (y.sum(axis=1), (y**2).sum(axis=1), ht, sd_t)

    def evaluate(rows: np.ndarray, drows: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Baseline, Var m and, per option, expected Var(m | D) and median ESS, on resampled bank/data rows."""
        m, nz = m_a[rows], noise_a[rows]
        var_m = float(np.var(m, ddof=1) - np.mean(nz))
        # Var Y = Var m + E Var(Y | θ), the latter the mean inner sample variance (= n_inner × noise)
        base = var_m + float(np.mean(nz)) * n_inner if quantity == "variance" else var_m
        after = np.empty(len(experiments))
        ess = np.full(len(experiments), np.nan)
        for k, e in enumerate(experiments):
            if e.measure is None:
                f = frozen[e.scale][rows]  # type: ignore[index]
                mean = np.mean((m + f) / 2)
                closed = float(np.mean(m * f) - mean**2)  # Janon et al. (2014): Cov(m(A), m(A_s B))
                after[k] = var_m - closed
                ess[k] = np.nan
                continue
            s1, s2, _, _ = data[e.name]
            h = h_a[e.measure][rows]
            sd = e.noise_sd if e.noise_sd is not None else e.noise_cv * np.abs(h)  # type: ignore[operator]
            w = _posterior_weights(h, s1[drows], s2[drows], e.replicates, sd)
            post = _weighted_var(m, w)
            post = post - w @ nz  # remove the inner-sampling noise of m̂
            after[k] = float(np.mean(post))
            ess[k] = float(np.median(1.0 / np.sum(w**2, axis=1)))
        return base, var_m, after, ess

    baseline, var_m, after, ess = evaluate(np.arange(n_prior), np.arange(n_data))
    costs = np.array([e.cost for e in experiments])
    boots = []
    for r in boot_rng.spawn(n_bootstrap):
        b, vm, af, _ = evaluate(r.integers(0, n_prior, n_prior), r.integers(0, n_data, n_data))
        boots.append((b, vm, af))
    red_b = np.array([vm - af for _, vm, af in boots])  # (B, options)
    after_b = np.array([b - vm + af for b, vm, af in boots])
    reduction = var_m - after
    rpc = reduction / costs
    p_best = np.bincount(np.argmax(red_b / costs, axis=1), minlength=len(experiments)) / n_bootstrap
    label = f"Var({output})" if quantity == "variance" else f"Var_epistemic[Pf({output}<{threshold:g})]"
    expected_after = baseline - reduction
    order = np.argsort(-rpc, kind="stable")
    scale_of = [e.scale if e.measure is None else (where.get(e.measure) or out_scale.get(e.measure, "?")) for e in experiments]
    ds = xr.Dataset(
        {
            "cost": ("option", costs),
            "expected_reduction": ("option", reduction, {"long_name": f"expected reduction of {label}"}),
            "expected_reduction_se": ("option", red_b.std(axis=0, ddof=1), {"long_name": "bootstrap standard error"}),
            "reduction_per_cost": ("option", rpc),
            "expected_after": ("option", expected_after, {"long_name": f"expected {label} after the option"}),
            "expected_after_se": ("option", after_b.std(axis=0, ddof=1)),
            "p_best": ("option", p_best, {"long_name": "fraction of bootstrap replicates ranking the option first"}),
            "ess_median": ("option", ess, {"long_name": "median effective sample size of the re-weighted prior bank"}),
            "kind": ("option", [e.kind for e in experiments]),
            "scale": ("option", scale_of),
            "measured": ("option", [e.measure or "" for e in experiments]),
            "noise": ("option", [("" if e.measure is None else (f"sd {e.noise_sd:g}" if e.noise_sd is not None else f"cv {e.noise_cv:g}")) for e in experiments]),
            "replicates": ("option", [e.replicates if e.measure else 0 for e in experiments]),
        },
        coords={"option": names},
    ).isel(option=order)
    n_runs = n_prior * n_inner * (1 + len(frozen)) + (n_data if need_truth else 0)
    attrs = provenance(
        model, f"value_of_information[{quantity}]", seed=seed, n_runs=n_runs, n_prior=n_prior, n_inner=n_inner,
        n_data=n_data, n_bootstrap=n_bootstrap, wall_time_s=time.perf_counter() - start,
    )
    attrs.update(
        analysis="value_of_information", quantity=label, output=output, baseline=float(baseline),
        reducible=float(var_m), best=str(ds.option.values[0]), threshold=float(threshold),
        estimator="preposterior by likelihood re-weighting of a prior bank (measure); pick-freeze (learn exactly)",
    )
    if quantity == "pf":
        attrs["pf"] = float(np.mean(m_a))
        attrs["pf_note"] = "the expected predictive Pf is unchanged by any data (tower rule); options narrow its epistemic spread"
    low_ess = [str(o) for o, v in zip(ds.option.values, ds["ess_median"].values) if np.isfinite(v) and v < 30]
    if low_ess:
        attrs["headline_note"] = f"options {low_ess}: fewer than 30 effective prior rows per posterior; raise n_prior for these"
    ds.attrs = attrs
    return ds
