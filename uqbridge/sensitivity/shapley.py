"""Shapley effects for dependent inputs (Song, Nelson & Staum 2016), with exact conditional sampling.

The Gaussian copula makes conditional sampling exact: in the copula's normal space the inputs are
jointly normal, so ``W_J | W_{-J}`` is a conditional normal, mapped back through the marginals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from .. import checks
from ..execution.batch import OK, evaluate
from ..model import ForwardModel
from ._common import check_confidence, check_int, check_model, failure_error, indices_dataset, z_value

if TYPE_CHECKING:
    from .._types import SeedLike
    from ..execution.batch import Backend

__all__ = ["shapley_effects"]


def _normal_space_correlation(model: ForwardModel) -> np.ndarray:
    """Correlation of the design dimensions in normal space: the copula's, then independent blocks."""
    c = model.inputs.correlation_matrix()
    d = model.inputs.dimension
    r = np.eye(d)
    r[: c.shape[0], : c.shape[0]] = c
    return r


def _to_values(model: ForwardModel, w: np.ndarray, chol: np.ndarray) -> dict[str, np.ndarray]:
    # from_standard_normal applies the copula factor itself, so hand it independent normals
    z = np.linalg.solve(chol, w.T).T
    return model.inputs.from_standard_normal(z)


class _Conditional:
    """Cached conditional laws ``W_J | W_{-J} = w`` of a zero-mean normal with correlation ``r``."""

    def __init__(self, r: np.ndarray) -> None:
        self.r = r
        self.cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def laws(self, subset: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if subset not in self.cache:
            d = self.r.shape[0]
            inside = np.array(sorted(subset))
            outside = np.array([k for k in range(d) if k not in subset])
            r_oo = self.r[np.ix_(outside, outside)]
            r_io = self.r[np.ix_(inside, outside)]
            gain = np.linalg.solve(r_oo, r_io.T).T  # R_JO R_OO^{-1}
            cov = self.r[np.ix_(inside, inside)] - gain @ r_io.T
            cov_chol = np.linalg.cholesky(cov + 1e-12 * np.eye(len(inside)))
            self.cache[subset] = (inside, outside, np.linalg.cholesky(r_oo), np.hstack([gain, cov_chol]))
        return self.cache[subset]


def shapley_effects(
    model: ForwardModel,
    *,
    n_perm: int = 1000,
    n_outer: int = 1,
    n_inner: int = 3,
    n_var: int = 10000,
    rng: SeedLike = None,
    confidence: float = 0.95,
    backend: Backend | None = None,
) -> xr.Dataset:
    """Shapley effects by the random-permutation estimator of Song, Nelson & Staum (2016).

    The Shapley effect of an input shares every interaction and every dependence-induced part of
    the output variance fairly among the inputs involved; the effects sum to one, whatever the
    dependence. This is the index to use for inputs correlated by a Gaussian copula.

    Parameters
    ----------
    model : ForwardModel
    n_perm : int
        Random permutations of the inputs (the estimator's sample size).
    n_outer, n_inner : int
        Outer samples of ``X_{-J}`` and inner conditional samples of ``X_J`` per cost estimate;
        Song et al. recommend ``n_outer = 1``, ``n_inner = 3`` with random permutations.
    n_var : int
        Monte Carlo runs for the output variance.
    rng : seed or Generator
    confidence : float
        Level of the normal interval from the spread of the per-permutation contributions (which
        are i.i.d.); the error of the variance estimate is not included.

    Returns
    -------
    xarray.Dataset
        ``shapley``, ``shapley_low``, ``shapley_high`` (shares of the variance) over ``output`` ×
        ``input``, and ``variance`` over ``output``. The model runs
        ``n_var + n_perm (d − 1) n_outer n_inner`` times. A block of joint samples is one player,
        independent of the others; constant inputs get 0.

    References
    ----------
    Song, E., Nelson, B. L. & Staum, J. (2016). Shapley effects for global sensitivity analysis:
    theory and computation. SIAM/ASA J. Uncertainty Quantification 4, 1060–1083.

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, InputSet, Normal, Output
    >>> inputs = InputSet([Input("a", Normal(0, 1)), Input("b", Normal(0, 1))], correlation={("a", "b"): 0.5})
    >>> m = ForwardModel("sum", lambda a, b: {"y": a + b}, inputs, [Output("y")])
    >>> ds = shapley_effects(m, n_perm=200, rng=0)
    >>> ds["shapley"].sel(output="y").round(1).values.tolist()
    [0.5, 0.5]
    """
    model = check_model(model)
    n_perm = check_int("n_perm", n_perm, 2)
    n_outer = check_int("n_outer", n_outer, 1)
    n_inner = check_int("n_inner", n_inner, 2)
    n_var = check_int("n_var", n_var, 10)
    confidence = check_confidence(confidence)
    generator = checks.generator(rng, "shapley_effects: rng")
    r = _normal_space_correlation(model)
    chol = np.linalg.cholesky(r)
    d = r.shape[0]
    conditional = _Conditional(r)

    w_var = generator.standard_normal((n_var, d)) @ chol.T
    perms = np.array([generator.permutation(d) for _ in range(n_perm)])
    w_cond = np.empty((n_perm, max(d - 1, 0), n_outer, n_inner, d))
    for k in range(n_perm):
        for j in range(d - 1):
            inside, outside, chol_oo, maps = conditional.laws(tuple(sorted(perms[k, : j + 1])))
            w_out = generator.standard_normal((n_outer, len(outside))) @ chol_oo.T
            gain, cov_chol = maps[:, : len(outside)], maps[:, len(outside) :]
            mean = w_out @ gain.T  # (n_outer, |J|)
            w_in = mean[:, None, :] + generator.standard_normal((n_outer, n_inner, len(inside))) @ cov_chol.T
            w_cond[k, j, :, :, outside] = np.moveaxis(np.broadcast_to(w_out[:, None, :], (n_outer, n_inner, len(outside))), -1, 0)
            w_cond[k, j, :, :, inside] = np.moveaxis(w_in, -1, 0)
    w_all = np.concatenate([w_var, w_cond.reshape(-1, d)])
    result = evaluate(model, _to_values(model, w_all, chol), backend=backend)
    ok = result.status == OK
    if not ok.all():
        raise failure_error("shapley_effects", ok, model)
    y = np.stack([result.outputs[o] for o in model.output_names], axis=-1)
    variance = y[:n_var].var(axis=0, ddof=1)
    # cost c(J) = E[Var(Y | X_{-J})]: mean over outer samples of the inner sample variance
    inner = y[n_var:].reshape(n_perm, max(d - 1, 0), n_outer, n_inner, -1)
    cost = inner.var(axis=3, ddof=1).mean(axis=2)  # (n_perm, d-1, n_out)
    n_out = y.shape[1]
    cost = np.concatenate([np.zeros((n_perm, 1, n_out)), cost, np.broadcast_to(variance, (n_perm, 1, n_out))], axis=1)
    increments = np.diff(cost, axis=1)  # (n_perm, d, n_out): Δ of player perms[k, j]
    contrib = np.zeros((n_perm, d, n_out))
    np.put_along_axis(contrib, perms[:, :, None].repeat(n_out, axis=2), increments, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (contrib.mean(axis=0) / variance).T  # (n_out, d)
        se = (contrib.std(axis=0, ddof=1) / np.sqrt(n_perm) / variance).T
    half = z_value(confidence) * se
    ds = indices_dataset(
        model,
        "shapley",
        {"shapley": share, "shapley_low": share - half, "shapley_high": share + half},
        rng=rng,
        extra_vars={"variance": xr.DataArray(variance, dims="output")},
        design="random permutations, exact Gaussian-copula conditional sampling",
        n_perm=n_perm,
        n_outer=n_outer,
        n_inner=n_inner,
        n_var=n_var,
        n_runs=int(w_all.shape[0]),
        confidence=confidence,
        estimator="Song, Nelson & Staum (2016), Algorithm 1 with random permutations",
    )
    return ds
