"""Convergence diagnostics of a posterior sample as a gate: R-hat, bulk/tail ESS and divergences (ArviZ).

:func:`diagnose` labels the numbers per parameter; :func:`failures` turns them into messages, empty when
every threshold holds; :func:`predictive_check` summarises posterior predictive checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import arviz as az
import numpy as np
import xarray as xr

__all__ = ["Thresholds", "diagnose", "failures", "predictive_check"]


@dataclass(frozen=True)
class Thresholds:
    """Pass/fail limits of the convergence gate.

    Defaults follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), *Rank-normalization,
    folding, and localization: an improved R-hat*, Bayesian Analysis 16(2): R-hat < 1.01 and bulk and
    tail ESS above 400 (100 per chain for 4 chains); any divergent NUTS transition means a biased
    sample (Betancourt 2017, *A conceptual introduction to Hamiltonian Monte Carlo*).

    Examples
    --------
    >>> Thresholds(ess=100).rhat
    1.01
    """

    rhat: float = 1.01
    ess: float = 400.0
    divergences: int = 0

    def __post_init__(self) -> None:
        if not self.rhat >= 1.0:
            raise ValueError(f"Thresholds: rhat must be >= 1, got {self.rhat!r}")
        if not self.ess > 0:
            raise ValueError(f"Thresholds: ess must be positive, got {self.ess!r}")
        if not (isinstance(self.divergences, (int, np.integer)) and self.divergences >= 0):
            raise ValueError(f"Thresholds: divergences must be a non-negative integer, got {self.divergences!r}")


def diagnose(
    idata: az.InferenceData, *, var_names: Sequence[str] | None = None, thresholds: Thresholds = Thresholds()
) -> xr.Dataset:
    """R-hat, bulk and tail ESS per (scalar) parameter, and the number of divergent transitions.

    Parameters
    ----------
    idata : arviz.InferenceData
        With a ``posterior`` group (and ``sample_stats`` for divergences).
    var_names : sequence of str, optional
        Posterior variables to check; default all.
    thresholds : Thresholds
        Stored in the attributes and used for the ``passed`` variable.

    Returns
    -------
    xarray.Dataset
        ``rhat``, ``ess_bulk``, ``ess_tail`` and ``passed`` along ``parameter`` (vector variables are
        flattened to labels like ``rho0[A]``); scalars ``divergences``, ``n_chains``, ``n_draws``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"a": rng.normal(size=(4, 500))})
    >>> d = diagnose(idata)
    >>> bool(d["passed"].all()), int(d["divergences"])
    (True, 0)
    """
    post = idata.posterior
    names = list(post.data_vars) if var_names is None else list(var_names)
    missing = [v for v in names if v not in post]
    if missing:
        raise KeyError(f"var_names: {missing} not in the posterior; variables: {list(post.data_vars)}")
    n_chains, n_draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    labels: list[str] = []
    columns: dict[str, list[float]] = {"rhat": [], "ess_bulk": [], "ess_tail": []}
    for name in names:
        sub = post[[name]]
        rhat = az.rhat(sub)[name].values if n_chains > 1 else np.full(post[name].shape[2:], np.nan)
        bulk = az.ess(sub, method="bulk")[name].values
        tail = az.ess(sub, method="tail")[name].values
        extra = post[name].dims[2:]
        if extra:
            stacked = post[name].isel(chain=0, draw=0, drop=True).stack(_flat=extra)
            keys = [", ".join(str(v) for v in np.atleast_1d(k)) for k in stacked["_flat"].values]
            labels += [f"{name}[{k}]" for k in keys]
        else:
            labels.append(name)
        columns["rhat"] += np.ravel(rhat).tolist()
        columns["ess_bulk"] += np.ravel(bulk).tolist()
        columns["ess_tail"] += np.ravel(tail).tolist()
    rhat = np.array(columns["rhat"], float)
    bulk = np.array(columns["ess_bulk"], float)
    tail = np.array(columns["ess_tail"], float)
    ok = (rhat <= thresholds.rhat) & (bulk >= thresholds.ess) & (tail >= thresholds.ess)
    stats = getattr(idata, "sample_stats", None)
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    return xr.Dataset(
        {
            "rhat": ("parameter", rhat, {"long_name": "rank-normalised split R-hat"}),
            "ess_bulk": ("parameter", bulk, {"long_name": "bulk effective sample size"}),
            "ess_tail": ("parameter", tail, {"long_name": "tail effective sample size"}),
            "passed": ("parameter", ok),
            "divergences": ((), divergences, {"long_name": "divergent transitions after tuning"}),
            "n_chains": ((), n_chains),
            "n_draws": ((), n_draws),
        },
        coords={"parameter": labels},
        attrs={"rhat_max": thresholds.rhat, "ess_min": thresholds.ess, "divergences_max": thresholds.divergences},
    )


def failures(diagnostics: xr.Dataset) -> list[str]:
    """Human-readable reasons why ``diagnostics`` fails its thresholds (empty list: passed).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"a": rng.normal(size=(2, 50))})
    >>> failures(diagnose(idata))[0].startswith("ESS")
    True
    """
    d, a = diagnostics, diagnostics.attrs
    out = []
    labels = d["parameter"].values
    if int(d["n_chains"]) < 2:
        out.append("R-hat needs at least 2 chains; convergence is not checked with 1 chain")
    else:
        bad = (~(d["rhat"].values <= a["rhat_max"]))
        if bad.any():
            worst = {str(p): round(float(r), 4) for p, r in zip(labels[bad], d["rhat"].values[bad])}
            out.append(f"R-hat above {a['rhat_max']} for {worst}: chains disagree; run longer or reparametrise")
    ess = np.minimum(d["ess_bulk"].values, d["ess_tail"].values)
    bad = ~(ess >= a["ess_min"])
    if bad.any():
        low = {str(p): round(float(e), 1) for p, e in zip(labels[bad], ess[bad])}
        out.append(f"ESS (bulk or tail) below {a['ess_min']} for {low}: draw more samples")
    if int(d["divergences"]) > a["divergences_max"]:
        out.append(
            f"{int(d['divergences'])} divergent transitions (allowed {a['divergences_max']}): the sample is "
            "biased; raise target_accept or reparametrise"
        )
    return out


def predictive_check(idata: az.InferenceData, *, prob: float = 0.94) -> xr.Dataset:
    """Posterior predictive checks per observed output: interval coverage and Bayesian p-values.

    ``coverage`` is the fraction of observations inside the central ``prob`` posterior predictive
    interval (near ``prob`` for a well-specified model). ``p_mean`` and ``p_std`` are posterior
    predictive p-values ``P(T(y_rep) >= T(y))`` of the mean and standard deviation of the observations
    (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §6.3): values near 0 or 1 flag misfit.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior_predictive={"y": rng.normal(size=(2, 500, 50))},
    ...                      observed_data={"y": rng.normal(size=50) + 3.0})
    >>> float(predictive_check(idata)["p_mean"].sel(output="y"))
    0.0
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must lie in (0, 1), got {prob!r}")
    observed = idata.observed_data
    outputs = [str(v) for v in observed.data_vars]
    rows: dict[str, list[float]] = {"coverage": [], "p_mean": [], "p_std": [], "n_obs": []}
    for o in outputs:
        y = np.asarray(observed[o].values, float).ravel()
        rep = np.asarray(idata.posterior_predictive[o].values, float)
        rep = rep.reshape(-1, y.size)
        lo, hi = np.quantile(rep, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        rows["coverage"].append(float(np.mean((y >= lo) & (y <= hi))))
        rows["p_mean"].append(float(np.mean(rep.mean(axis=1) >= y.mean())))
        rows["p_std"].append(float(np.mean(rep.std(axis=1) >= y.std())) if y.size > 1 else np.nan)
        rows["n_obs"].append(y.size)
    return xr.Dataset(
        {
            "coverage": ("output", np.array(rows["coverage"]), {"long_name": f"fraction inside the {prob:.0%} interval"}),
            "p_mean": ("output", np.array(rows["p_mean"]), {"long_name": "posterior predictive p-value of the mean"}),
            "p_std": ("output", np.array(rows["p_std"]), {"long_name": "posterior predictive p-value of the sd"}),
            "n_obs": ("output", np.array(rows["n_obs"], dtype=np.int64)),
        },
        coords={"output": outputs},
        attrs={"prob": prob},
    )
