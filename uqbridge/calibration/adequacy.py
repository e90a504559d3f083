"""Adequacy gate: is the calibrated *model* consistent with the data, and which parameters did the data inform?

Beside the convergence gate (is the *sampler* done?): posterior predictive coverage at stated levels,
standardised-residual checks (dispersion, serial correlation along the conditions), and a per-parameter
prior-to-posterior table (contraction, overlap, share of the posterior precision owed to the data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import xarray as xr
from scipy import stats

__all__ = ["Adequacy", "adequacy_failures", "identifiability", "residual_checks"]


@dataclass(frozen=True)
class Adequacy:
    """Pass/fail limits of the adequacy gate.

    Parameters
    ----------
    levels : tuple of float
        Central posterior-predictive interval levels whose coverage of the observations is checked.
    z : float
        A check fails when its statistic is more than ``z`` standard errors on the wrong side of its
        expectation under a correct model: coverage below ``level - z sqrt(level (1 - level) / n)``;
        mean squared standardised residual above ``1 + z sqrt(2 / n)``; lag-1 autocorrelation of the
        residuals along the conditions above ``z / sqrt(n_pairs)`` (Box & Jenkins; the large-sample
        standard error of a lag-1 autocorrelation of white noise is ``1/sqrt(n)``).
    min_data_share : float
        A calibrated (epistemic) parameter is *not informed by the data* when the data's share of its
        posterior precision is below this (see :func:`identifiability`). Set it and ``min_contraction``
        to 0 to report without failing (e.g. parameters confounded with a free discrepancy).
    min_contraction : float
        ... or when its posterior variance (in prior normal scores) is more than ``1 - min_contraction``
        of the prior's.

    Examples
    --------
    >>> Adequacy().levels
    (0.5, 0.9)
    """

    levels: tuple[float, ...] = (0.5, 0.9)
    z: float = 3.0
    min_data_share: float = 0.2
    min_contraction: float = 0.1

    def __post_init__(self) -> None:
        levels = tuple(float(v) for v in self.levels)
        if not levels or not all(0 < v < 1 for v in levels):
            raise ValueError(f"Adequacy: levels must be probabilities in (0, 1), got {self.levels!r}")
        object.__setattr__(self, "levels", levels)
        if not self.z > 0:
            raise ValueError(f"Adequacy: z must be positive, got {self.z!r}")
        for name in ("min_data_share", "min_contraction"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise ValueError(f"Adequacy: {name} must lie in [0, 1), got {v!r}")


def _order(constant: xr.Dataset | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order along the conditions within each specimen, and the specimen of each ordered row."""
    if constant is None:
        return np.arange(n), np.zeros(n, dtype=np.int64)
    specimen = np.asarray(constant["specimen"].values).astype(str) if "specimen" in constant else np.zeros(n).astype(str)
    varying = [v for v in constant.data_vars if v != "specimen" and np.ptp(np.asarray(constant[v].values, float)) > 0]
    keys = [np.asarray(constant[v].values, float) for v in reversed(varying)] + [specimen]
    order = np.lexsort(keys) if keys else np.arange(n)
    _, codes = np.unique(specimen[order], return_inverse=True)
    return order, codes


def residual_checks(idata: az.InferenceData, adequacy: Adequacy = Adequacy()) -> xr.Dataset:
    """Posterior predictive coverage and standardised-residual checks per observed output.

    Residuals are ``r_i = (y_i - E[y_rep,i]) / sd(y_rep,i)`` from the posterior predictive. Under a
    correct model each central ``level`` interval covers about ``level`` of the observations,
    ``mean(r²)`` is at most about 1 (the predictive was fitted to these data, so it tends to be
    below 1), and the residuals ordered along the conditions within a specimen are uncorrelated; a
    model-form error shows as runs of same-signed residuals (positive lag-1 autocorrelation) even
    when a calibrated noise scale has absorbed its size.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior_predictive`` and ``observed_data``; ``constant_data`` (conditions, specimen
        per row, as written by :func:`~uqbridge.calibration.calibrate`) orders the residuals.
    adequacy : Adequacy

    Returns
    -------
    xarray.Dataset
        ``coverage`` and ``coverage_min`` (dims ``output``, ``level``), ``mean_sq_residual`` and
        ``mean_sq_residual_max``, ``lag1_autocorrelation`` and ``lag1_autocorrelation_max``,
        ``n_obs``, and ``passed`` (dim ``output``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=40)
    >>> idata = az.from_dict(posterior_predictive={"y": rng.normal(size=(2, 500, 40))}, observed_data={"y": y})
    >>> bool(residual_checks(idata)["passed"].all())
    True
    """
    observed = idata.observed_data
    constant = getattr(idata, "constant_data", None)
    outputs = [str(v) for v in observed.data_vars]
    levels = np.array(adequacy.levels)
    cov, cov_min, msr, msr_max, ac, ac_max, n_obs, ok = [], [], [], [], [], [], [], []
    for o in outputs:
        y = np.asarray(observed[o].values, float).ravel()
        rep = np.asarray(idata.posterior_predictive[o].values, float).reshape(-1, y.size)
        n = y.size
        lo = np.quantile(rep, (1 - levels) / 2, axis=0)
        hi = np.quantile(rep, (1 + levels) / 2, axis=0)
        c = np.mean((y >= lo) & (y <= hi), axis=1)
        c_min = levels - adequacy.z * np.sqrt(levels * (1 - levels) / n)
        sd = rep.std(axis=0)
        r = (y - rep.mean(axis=0)) / np.where(sd > 0, sd, np.inf)
        m2 = float(np.mean(r**2))
        m2_max = 1 + adequacy.z * np.sqrt(2 / n)
        # order the output's rows along the conditions within each specimen
        dim = observed[o].dims[0]
        rows = np.asarray(observed[o][dim].values)
        if constant is not None and "row" in constant.dims and np.issubdtype(rows.dtype, np.integer):
            sub = constant.isel(row=rows)
        else:
            sub = None
        order, spec = _order(sub, n)
        rs = r[order]
        same = spec[1:] == spec[:-1]
        pairs = int(same.sum())
        if pairs >= 3:
            a, b = rs[:-1][same], rs[1:][same]
            a, b = a - rs.mean(), b - rs.mean()
            rho = float(np.sum(a * b) / np.sum((rs - rs.mean()) ** 2) * n / pairs) if np.any(rs != rs.mean()) else 0.0
            rho_max = adequacy.z / np.sqrt(pairs)
        else:
            rho, rho_max = np.nan, np.nan
        cov.append(c)
        cov_min.append(c_min)
        msr.append(m2)
        msr_max.append(m2_max)
        ac.append(rho)
        ac_max.append(rho_max)
        n_obs.append(n)
        ok.append(bool(np.all(c >= c_min) and m2 <= m2_max and not (rho > rho_max)))
    return xr.Dataset(
        {
            "coverage": (("output", "level"), np.array(cov), {"long_name": "fraction of observations inside the central interval"}),
            "coverage_min": (("output", "level"), np.array(cov_min)),
            "mean_sq_residual": ("output", np.array(msr), {"long_name": "mean squared standardised residual"}),
            "mean_sq_residual_max": ("output", np.array(msr_max)),
            "lag1_autocorrelation": ("output", np.array(ac), {"long_name": "lag-1 autocorrelation of residuals along the conditions"}),
            "lag1_autocorrelation_max": ("output", np.array(ac_max)),
            "n_obs": ("output", np.array(n_obs, dtype=np.int64)),
            "passed": ("output", np.array(ok)),
        },
        coords={"output": outputs, "level": levels},
        attrs={"z": adequacy.z},
    )


def _normal_scores(values: np.ndarray, distribution: Any) -> tuple[np.ndarray, np.ndarray]:
    u = np.clip(distribution.cdf(values), 1e-12, 1 - 1e-12)
    return stats.norm.ppf(u), u


def identifiability(
    idata: az.InferenceData,
    priors: Mapping[str, Any],
    *,
    nuisance: Mapping[str, Any] | None = None,
    gated: Sequence[str] | None = None,
    adequacy: Adequacy = Adequacy(),
    bins: int = 20,
) -> xr.Dataset:
    """Prior-to-posterior table per parameter: contraction, overlap and the data's share of the precision.

    Every draw is mapped to its prior normal score ``z = Phi^-1(F_prior(theta))``, so that each
    (independent) prior is a standard normal whatever its family. With ``S`` the posterior covariance
    of the normal scores of *all* free parameters (``priors`` and ``nuisance``):

    - ``contraction = 1 - S_ii`` (Schad, Betancourt & Vasishth 2021, Psychol. Methods 26:103):
      0 when the posterior is as wide as the prior, near 1 when the data pin the parameter;
    - ``overlap``: overlapping coefficient of prior and posterior in ``F_prior`` units (histogram of
      ``bins`` bins), 1 when the posterior is the prior;
    - ``data_share = 1 - (S²)_ii / S_ii``: the likelihood power-scaling sensitivity
      ``-d log Var_post(z_i) / d log lambda`` of the posterior under ``p(y|theta)^lambda`` at lambda = 1
      (Kallioinen et al. 2023, *Detecting and diagnosing prior and likelihood sensitivity with
      power-scaling*, Stat. Comput. 34:57), in the Gaussian approximation where the posterior
      precision is ``I + D`` (prior + data) and hence ``D = S^-1 - I``. It is the data's share of the
      parameter's posterior precision: about 1 for a parameter the data fix, about 0 for one whose
      posterior is set by priors — its own, or another parameter's through a ridge (e.g. the Taylor
      constant alpha from stress data alone, where only alpha·k1 is measured: alpha's marginal
      contracts, but only because k1 has a prior). Computed from the covariance, it needs no
      log-likelihood and carries no extra Monte Carlo noise from it.

    A gated parameter is ``informed`` when ``data_share >= min_data_share`` and
    ``contraction >= min_contraction``.

    Parameters
    ----------
    idata : arviz.InferenceData
        ``posterior`` group.
    priors : mapping of str to distribution
        Prior (anything with a ``cdf``: uqbridge or frozen SciPy distribution) of each tabulated
        parameter; vector parameters share one prior for every element.
    nuisance : mapping of str to distribution, optional
        Further free parameters (noise scales, discrepancy terms): in ``S`` but not tabulated. Leaving
        out a parameter on a ridge hides the ridge.
    gated : sequence of str, optional
        Parameters whose flag fails the gate (default: all in ``priors``).
    adequacy : Adequacy
    bins : int

    Returns
    -------
    xarray.Dataset
        ``contraction``, ``overlap``, ``data_share``, ``informed`` and ``gated`` along ``parameter``.

    Examples
    --------
    >>> from uqbridge.distributions import Normal
    >>> rng = np.random.default_rng(1)
    >>> a = rng.normal(0.3, 0.1, size=(2, 1000))          # pinned by the data
    >>> b = rng.normal(0.0, 1.0, size=(2, 1000))          # its prior again
    >>> c = rng.normal(0.0, 0.7, size=(2, 1000))          # on a ridge with d: only c + d measured
    >>> d = -c + rng.normal(0.0, 0.05, size=(2, 1000))
    >>> idata = az.from_dict(posterior={"a": a, "b": b, "c": c, "d": d})
    >>> t = identifiability(idata, {n: Normal(0, 1) for n in "abcd"})
    >>> t["informed"].values.tolist(), t["contraction"].sel(parameter="c").round(1).item()
    ([True, False, False, False], 0.5)
    """
    post = idata.posterior
    gated = list(priors) if gated is None else list(gated)
    every = {**dict(nuisance or {}), **dict(priors)}
    labels, scores_, uniforms, owner = [], [], [], []
    for name, prior in every.items():
        if name not in post:
            raise KeyError(f"priors: {name!r} is not in the posterior; variables: {list(post.data_vars)}")
        da = post[name]
        extra = da.dims[2:]
        flat = np.asarray(da.values, float).reshape(da.sizes["chain"] * da.sizes["draw"], -1)
        if extra:
            keys = da.isel(chain=0, draw=0, drop=True).stack(_flat=extra)["_flat"].values
            names = [f"{name}[{', '.join(str(v) for v in np.atleast_1d(k))}]" for k in keys]
        else:
            names = [name]
        for j, label in enumerate(names):
            z, u = _normal_scores(flat[:, j], prior)
            labels.append(label)
            scores_.append(z)
            uniforms.append(u)
            owner.append(name)
    cov = np.atleast_2d(np.cov(np.array(scores_)))
    var = np.diag(cov)
    share = 1 - np.einsum("ij,ji->i", cov, cov) / np.where(var > 0, var, np.inf)
    keep = [k for k, name in enumerate(owner) if name in priors]
    con, ovl, flags, gate = [], [], [], []
    for k in keep:
        hist, _ = np.histogram(uniforms[k], bins=bins, range=(0, 1))
        con.append(1 - var[k])
        ovl.append(float(np.sum(np.minimum(hist / hist.sum(), 1 / bins))))
        flags.append(bool(share[k] >= adequacy.min_data_share and 1 - var[k] >= adequacy.min_contraction))
        gate.append(owner[k] in gated)
    return xr.Dataset(
        {
            "contraction": ("parameter", np.array(con), {"long_name": "1 - posterior/prior variance (prior normal scores)"}),
            "overlap": ("parameter", np.array(ovl), {"long_name": "prior-posterior overlapping coefficient"}),
            "data_share": ("parameter", share[keep], {"long_name": "data's share of the posterior precision (power scaling)"}),
            "informed": ("parameter", np.array(flags, dtype=bool)),
            "gated": ("parameter", np.array(gate, dtype=bool)),
        },
        coords={"parameter": [labels[k] for k in keep]},
        attrs={"min_data_share": adequacy.min_data_share, "min_contraction": adequacy.min_contraction},
    )


def adequacy_failures(residuals: xr.Dataset, table: xr.Dataset | None) -> list[str]:
    """Human-readable reasons why the adequacy gate fails (empty list: passed).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior_predictive={"y": rng.normal(size=(2, 500, 40))},
    ...                      observed_data={"y": np.linspace(-2, 2, 40)})  # a trend the model lacks
    >>> adequacy_failures(residual_checks(idata), None)[0].startswith("output 'y'")
    True
    """
    out = []
    for o in residuals["output"].values:
        r = residuals.sel(output=o)
        reasons = []
        low = r["coverage"].values < r["coverage_min"].values
        for level, c, cmin in zip(r["level"].values[low], r["coverage"].values[low], r["coverage_min"].values[low]):
            reasons.append(f"the {level:.0%} predictive interval covers {c:.0%} of the observations (at least {cmin:.0%} expected)")
        if float(r["mean_sq_residual"]) > float(r["mean_sq_residual_max"]):
            reasons.append(f"mean squared standardised residual {float(r['mean_sq_residual']):.2f} "
                           f"(at most {float(r['mean_sq_residual_max']):.2f} expected)")
        if float(r["lag1_autocorrelation"]) > float(r["lag1_autocorrelation_max"]):
            reasons.append(f"residuals along the conditions are correlated (lag-1 autocorrelation "
                           f"{float(r['lag1_autocorrelation']):.2f} > {float(r['lag1_autocorrelation_max']):.2f}): "
                           "a systematic misfit")
        if reasons:
            out.append(f"output {str(o)!r}: " + "; ".join(reasons) + ". The model form misses the data: add a "
                       "discrepancy (discrepancy='gp' or 'relative'), change the model, or check the noise model")
    # both limits 0 means "report without failing" (Adequacy's docstring): the table's data share and
    # contraction carry Monte Carlo noise around 0 for an uninformed parameter, so ">= 0" would still fail
    reporting_only = table is not None and table.attrs["min_data_share"] == 0 and table.attrs["min_contraction"] == 0
    if table is not None and not reporting_only:
        bad = table["gated"].values & ~table["informed"].values
        if bad.any():
            rows = {str(p): (round(float(s), 2), round(float(c), 2)) for p, s, c in
                    zip(table["parameter"].values[bad], table["data_share"].values[bad], table["contraction"].values[bad])}
            out.append(
                f"parameter(s) not informed by the data {{name: (data share, contraction)}} {rows} (need data share >= "
                f"{table.attrs['min_data_share']} and contraction >= {table.attrs['min_contraction']}): their posterior "
                "is set by the priors (with a discrepancy: by its prior, which is confounded with the parameters — "
                "Brynjarsdóttir & O'Hagan 2014); fix them, add data that measure them, give the discrepancy an "
                "informative prior, or accept with Adequacy(min_data_share=0)"
            )
    return out
