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
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from .. import checks
from ..model import ForwardModel
from ..results import provenance, seed_attr

if TYPE_CHECKING:
    from .._types import SeedLike

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


def _likelihood(h: np.ndarray, s1: np.ndarray, s2: np.ndarray, r: int, sd: np.ndarray | float) -> np.ndarray:
    """Likelihood of each prior row (columns) for each simulated data set (rows), scaled to a row maximum of 1.

    With per-replicate sums ``S1 = Σ y``, ``S2 = Σ y²``: ``log L = −(S2 − 2 h S1 + r h²) / (2σ²) − r log σ``.
    """
    sd = np.broadcast_to(np.asarray(sd, dtype=float), h.shape)
    ll = -(s2[:, None] - 2 * h[None, :] * s1[:, None] + r * h[None, :] ** 2) / (2 * sd[None, :] ** 2) - r * np.log(sd)[None, :]
    ll -= ll.max(axis=1, keepdims=True)
    return np.exp(ll)


def _run(model: ForwardModel, values: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    out = model(**{n: values[n] for n in model.inputs.names})
    res = {}
    for n in names:
        res[n] = np.asarray(values[n] if n in values else out[n], dtype=float)
    return res


@dataclass(frozen=True)
class _Setup:
    """What every step needs to know about the model and the analysis (fixed once the inputs are checked)."""

    model: ForwardModel
    output: str
    quantity: str
    threshold: float
    n_inner: int
    theta: list[str]  # uncertain epistemic inputs
    col: dict[str, int]  # design column of each input
    where: dict[str, str]  # scale of each input
    out_scale: dict[str, str]  # scale (stage) of each output
    measured: list[str]  # outputs or inputs measured by some option


@dataclass(frozen=True)
class _Bank:
    """The prior bank's conditional means, their noise, the pick-freeze means and the likelihood matrices."""

    m: np.ndarray
    noise: np.ndarray
    frozen: dict[str, np.ndarray]
    lik: dict[str, np.ndarray]


def _check_experiments(model: ForwardModel, experiments: list[Experiment], output: str) -> list[str]:
    """Refuse an empty or mistyped option list, repeated option names and an unknown output; return the names."""
    if not experiments or not all(isinstance(e, Experiment) for e in experiments):
        raise TypeError("experiments must be a non-empty sequence of Experiment")
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ValueError(f"experiments: option names must be unique, got {names}")
    if output not in model.output_names:
        raise KeyError(f"model {model.name!r} has no output {output!r}; its outputs: {list(model.output_names)}")
    return names


def _layout(model: ForwardModel, experiments: list[Experiment], *, output: str, quantity: str, threshold: float,
            n_inner: int) -> _Setup:
    """Find the epistemic inputs, their scales and design columns, and check every option against them."""
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
    # design column of each input (a joint block, e.g. posterior draws of a calibrated chain, is one column)
    col = {n: k for k, label in enumerate(inputs.dimension_names) for n in label.split("+")}
    for label in inputs.dimension_names:
        kinds = {n in theta for n in label.split("+")}
        if len(kinds) > 1:
            raise ValueError(f"value_of_information: joint block {label!r} mixes epistemic and aleatory inputs; keep them in separate blocks")
    return _Setup(model, output, quantity, threshold, n_inner, theta, col, where, out_scale, measured)


def _conditional(s: _Setup, u_theta: np.ndarray, r: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """m̂, its noise variance s²/n_inner, and the measured values at epistemic rows given as unit columns."""
    inputs, n_inner = s.model.inputs, s.n_inner
    n = u_theta.shape[0]
    u = r.random((n * n_inner, inputs.dimension))
    for n_ in s.theta:
        u[:, s.col[n_]] = np.repeat(u_theta[:, s.col[n_]], n_inner)
    values = inputs.from_unit(u)
    res = _run(s.model, values, [s.output, *s.measured])
    y = res[s.output].reshape(n, n_inner)
    g = (y < s.threshold).astype(float) if s.quantity == "pf" else y
    if not np.all(np.isfinite(g)):
        raise ValueError(f"value_of_information: {int((~np.isfinite(g)).sum())} runs of {s.output!r} failed (NaN/inf); fix the model or its input ranges")
    h = {}
    for m in s.measured:
        v = res[m].reshape(n, n_inner)
        spread = np.max(np.abs(v - v[:, :1]))
        if spread > 1e-9 * (np.max(np.abs(v)) + 1e-300):
            raise ValueError(
                f"value_of_information: the measured {m!r} changes with the aleatory inputs (spread {spread:.3g}); "
                "measure an output of the epistemic stages or an epistemic input"
            )
        h[m] = v[:, 0]
    return g.mean(axis=1), g.var(axis=1, ddof=1) / n_inner, h


def _prior_bank(s: _Setup, n_prior: int, bank_rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Draw the prior bank (row i: epistemic column values via the unit design) and run it; refuse an unresolved Pf."""
    bank_a = bank_rng.random((n_prior, s.model.inputs.dimension))
    m_a, noise_a, h_a = _conditional(s, bank_a, bank_rng)
    if s.quantity == "pf":
        # an indicator kernel resolves Var Pf(θ) only with enough failures in the bank (~100 gives
        # ~10 % error on Pf itself); a rarer event needs an inner reliability method, not done here
        fails = int(round(float(m_a.sum()) * s.n_inner))
        if fails < 100:
            raise ValueError(
                f"value_of_information: only {fails} of {n_prior * s.n_inner} bank runs have {s.output} < {s.threshold:g} "
                f"(Pf ≈ {fails / (n_prior * s.n_inner):.2g}); the spread of Pf is not resolved. Raise n_prior·n_inner "
                "to ≥ 100/Pf or rank quantity='variance'"
            )
    return bank_a, m_a, noise_a, h_a


def _truths(s: _Setup, n_data: int, truth_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """True measured values for the simulated data (an independent prior draw: no bank row is its own truth)."""
    truth_u = truth_rng.random((n_data, s.model.inputs.dimension))
    res_t = _run(s.model, s.model.inputs.from_unit(truth_u), s.measured)
    return {m: res_t[m] for m in s.measured}


def _frozen_banks(s: _Setup, experiments: list[Experiment], bank_a: np.ndarray, bank_rng: np.random.Generator,
                  pf_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Pick-freeze conditional means per learn-exactly scale (bank B with that scale's columns taken from bank A)."""
    frozen: dict[str, np.ndarray] = {}
    if any(e.measure is None for e in experiments):
        bank_b = bank_rng.random(bank_a.shape)
        for e in experiments:
            if e.measure is None and e.scale not in frozen:
                mixed = bank_b.copy()
                for n_ in s.theta:
                    if s.where[n_] == e.scale:
                        mixed[:, s.col[n_]] = bank_a[:, s.col[n_]]
                frozen[e.scale] = _conditional(s, mixed, pf_rng)[0]  # type: ignore[index]
    return frozen


def _likelihoods(experiments: list[Experiment], h_t: dict[str, np.ndarray], h_a: dict[str, np.ndarray], n_data: int,
                 truth_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate each measured option's data around the truths and weigh every bank row by its likelihood (and its square)."""
    # simulated data: per measured option, sums S1, S2 of the replicates around the truth
    data: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float | np.ndarray]] = {}
    for e in experiments:
        if e.measure is None:
            continue
        ht = h_t[e.measure]
        sd_t = e.noise_sd if e.noise_sd is not None else e.noise_cv * np.abs(ht)
        y = ht[:, None] + np.asarray(sd_t).reshape(-1, 1) * truth_rng.standard_normal((n_data, e.replicates))
        data[e.name] = (y.sum(axis=1), (y**2).sum(axis=1), ht, sd_t)

    lik: dict[str, np.ndarray] = {}
    for e in experiments:
        if e.measure is not None:
            s1, s2, _, _ = data[e.name]
            h = h_a[e.measure]
            sd = e.noise_sd if e.noise_sd is not None else e.noise_cv * np.abs(h)
            lik[e.name] = _likelihood(h, s1, s2, e.replicates, sd)
            lik[e.name + "\0sq"] = lik[e.name] ** 2
    return lik


def _evaluate(s: _Setup, experiments: list[Experiment], bank: _Bank, c: np.ndarray,
              q: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """Baseline, Var m and per option two estimates of the expected reduction and the median ESS, for
    bank row counts ``c`` and data set counts ``q`` (all ones, or a bootstrap resample's counts).

    ``red1 = Var m − E_D Var(m | D)`` and ``red2 = Var_D E[m | D]`` (law of total variance), the latter
    less the importance-sampling noise of each posterior mean. Their errors differ: red1 is precise when
    the data remove most of Var m, red2 when they remove little (then red1 is a small difference of
    two noisy variances).
    """
    n, qn = c.sum(), q.sum()
    m, nz = bank.m, bank.noise
    mean = c @ m / n
    var_m = float((c @ (m * m) - n * mean**2) / (n - 1) - c @ nz / n)
    # Var Y = Var m + E Var(Y | θ), the latter the mean inner sample variance (= n_inner × noise)
    base = var_m + float(c @ nz / n) * s.n_inner if s.quantity == "variance" else var_m
    red1 = np.empty(len(experiments))
    red2 = np.empty(len(experiments))
    ess = np.full(len(experiments), np.nan)
    for k, e in enumerate(experiments):
        if e.measure is None:
            f = bank.frozen[e.scale]  # type: ignore[index]
            mid = c @ ((m + f) / 2) / n
            red1[k] = red2[k] = float(c @ (m * f) / n - mid**2)  # Janon et al. (2014): Cov(m(A), m(A_s B))
            continue
        L, L2 = bank.lik[e.name], bank.lik[e.name + "\0sq"]
        s0, s1_, s2_, sn = L @ c, L @ (c * m), L @ (c * m * m), L @ (c * nz)
        t0, t1, t2, tn = L2 @ c, L2 @ (c * m), L2 @ (c * m * m), L2 @ (c * nz)
        mu = s1_ / s0
        sum_w2 = t0 / s0**2
        post = (s2_ / s0 - mu**2) / np.maximum(1 - sum_w2, 1e-12) - sn / s0
        is_noise = (t2 - 2 * mu * t1 + mu**2 * t0 + tn) / s0**2
        red1[k] = var_m - float(q @ post / qn)
        mq = q @ mu / qn
        red2[k] = float((q @ (mu * mu) - qn * mq**2) / (qn - 1) - q @ is_noise / qn)
        ess[k] = float(np.median(1.0 / sum_w2))
    return base, var_m, red1, red2, ess


def _combine(red1: np.ndarray, red2: np.ndarray, boots: list[tuple[float, float, np.ndarray, np.ndarray, np.ndarray]]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mix the two reduction estimators with the weight that minimises the mix's bootstrap variance.

    Returns the mixed reduction, its bootstrap replicates ``(B, options)`` and the replicates of the
    quantity expected after each option.
    """
    base_b = np.array([b[0] for b in boots])
    r1_b = np.array([b[2] for b in boots])  # (B, options)
    r2_b = np.array([b[3] for b in boots])
    v1, v2 = r1_b.var(axis=0), r2_b.var(axis=0)
    c12 = ((r1_b - r1_b.mean(axis=0)) * (r2_b - r2_b.mean(axis=0))).mean(axis=0)
    denom = v1 + v2 - 2 * c12
    lam = np.clip(np.where(denom > 0, (v2 - c12) / np.where(denom > 0, denom, 1.0), 1.0), 0.0, 1.0)
    reduction = lam * red1 + (1 - lam) * red2
    red_b = lam * r1_b + (1 - lam) * r2_b
    return reduction, red_b, base_b[:, None] - red_b


def _ranking(s: _Setup, experiments: list[Experiment], names: list[str], label: str, *, costs: np.ndarray,
             reduction: np.ndarray, red_b: np.ndarray, expected_after: np.ndarray, after_b: np.ndarray,
             p_best: np.ndarray, ess: np.ndarray) -> xr.Dataset:
    """The per-option table, best reduction per cost first (attrs are added by the caller)."""
    rpc = reduction / costs
    order = np.argsort(-rpc, kind="stable")
    scale_of = [e.scale if e.measure is None else (s.where.get(e.measure) or s.out_scale.get(e.measure, "?")) for e in experiments]
    return xr.Dataset(
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
    rng: SeedLike = None,
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
    re-weighted by the Gaussian likelihood. Two estimates of the reduction, ``Var m − E_D Var(m | D)``
    (weighted variances, reliability-weight corrected) and ``Var_D E[m | D]`` (law of total variance, less
    the importance-sampling noise of each posterior mean), are mixed with the weight that minimises their
    bootstrap variance. *Learn exactly*: ``Var E[m | θ_s]`` by pick-freeze (a second bank with the scale's
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
    names = _check_experiments(model, experiments, output)
    n_prior = checks.positive_int(n_prior, "n_prior", 10)
    n_inner = checks.positive_int(n_inner, "n_inner", 2)
    n_data = checks.positive_int(n_data, "n_data", 2)
    n_bootstrap = checks.positive_int(n_bootstrap, "n_bootstrap", 2)
    setup = _layout(model, experiments, output=output, quantity=quantity, threshold=threshold, n_inner=n_inner)
    bank_rng, truth_rng, pf_rng, boot_rng = rng.spawn(4)
    bank_a, m_a, noise_a, h_a = _prior_bank(setup, n_prior, bank_rng)
    need_truth = any(e.measure is not None for e in experiments)
    h_t = _truths(setup, n_data, truth_rng) if need_truth else {}
    frozen = _frozen_banks(setup, experiments, bank_a, bank_rng, pf_rng)
    lik = _likelihoods(experiments, h_t, h_a, n_data, truth_rng)
    bank = _Bank(m_a, noise_a, frozen, lik)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # many mid-size products: threads only contend
        baseline, var_m, red1, red2, ess = _evaluate(setup, experiments, bank, np.ones(n_prior), np.ones(n_data))
        boots = []
        for r in boot_rng.spawn(n_bootstrap):
            boots.append(_evaluate(setup, experiments, bank,
                                   np.bincount(r.integers(0, n_prior, n_prior), minlength=n_prior).astype(float),
                                   np.bincount(r.integers(0, n_data, n_data), minlength=n_data).astype(float)))
    costs = np.array([e.cost for e in experiments])
    reduction, red_b, after_b = _combine(red1, red2, boots)
    p_best = np.bincount(np.argmax(red_b / costs, axis=1), minlength=len(experiments)) / n_bootstrap
    label = f"Var({output})" if quantity == "variance" else f"Var_epistemic[Pf({output}<{threshold:g})]"
    ds = _ranking(setup, experiments, names, label, costs=costs, reduction=reduction, red_b=red_b,
                  expected_after=baseline - reduction, after_b=after_b, p_best=p_best, ess=ess)
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
