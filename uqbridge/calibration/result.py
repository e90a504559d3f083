"""The outcome of a calibration: ArviZ InferenceData, its convergence gate, and netCDF save/load.

:class:`CalibrationResult` also hands the posterior on: ``posterior_samples()`` and ``pushforward()``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from ..model import ForwardModel
from .adequacy import adequacy_failures
from .diagnostics import failures

__all__ = ["CalibrationResult", "load_calibration"]

_DIAGNOSTICS_GROUP = "calibration_diagnostics"
_SURROGATE_GROUP = "surrogate_check"
_PREDICTIVE_GROUP = "predictive_check"
_RESIDUALS_GROUP = "adequacy_residuals"
_IDENTIFIABILITY_GROUP = "adequacy_identifiability"
_META = "uqbridge_calibration"


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Posterior of a calibration and its checks.

    Attributes
    ----------
    idata : arviz.InferenceData
        Groups ``posterior``, ``sample_stats``, ``posterior_predictive``, ``observed_data``,
        ``constant_data`` (conditions and specimen of each row), ``log_likelihood`` (pointwise, for
        ``az.loo``/``az.compare``), ``calibration_diagnostics``, ``predictive_check``,
        ``adequacy_residuals``, ``adequacy_identifiability``, and for the surrogate path
        ``surrogate_check``.
    diagnostics : xarray.Dataset
        See :func:`uqbridge.calibration.diagnose`.
    passed : bool
        True when both gates pass: convergence (R-hat, ESS, divergences and, on the surrogate path,
        the surrogate accuracy) and adequacy (predictive coverage, residual checks, every calibrated
        parameter informed by the data). Do not use the posterior as is when False.
    warnings : tuple of str
        Why it did not pass.
    epistemic, hierarchical : tuple of str
        Calibrated global inputs, and per-specimen latent inputs.
    model : ForwardModel or None
        The calibrated model (not stored on disk; pass it to :func:`load_calibration`).
    surrogate : xarray.Dataset or None
        Surrogate error against the true model at posterior draws (surrogate path only).
    predictive : xarray.Dataset or None
        Posterior predictive checks (see :func:`uqbridge.calibration.predictive_check`).
    residuals : xarray.Dataset or None
        Adequacy checks of the observations (see :func:`uqbridge.calibration.residual_checks`).
    identifiability : xarray.Dataset or None
        Prior-to-posterior table per parameter (see :func:`uqbridge.calibration.identifiability`).
    discrepancy : dict
        Per output, the calibrated discrepancy's description (empty: the model was taken as exact).
    """

    idata: az.InferenceData
    diagnostics: xr.Dataset
    passed: bool
    warnings: tuple[str, ...]
    epistemic: tuple[str, ...]
    hierarchical: tuple[str, ...]
    model: ForwardModel | None = None
    surrogate: xr.Dataset | None = None
    predictive: xr.Dataset | None = None
    residuals: xr.Dataset | None = None
    identifiability: xr.Dataset | None = None
    discrepancy: dict[str, Any] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """The convergence gate alone (R-hat, ESS, divergences, surrogate accuracy)."""
        return not failures(self.diagnostics) and not any(w.startswith("surrogate") for w in self.warnings)

    @property
    def adequate(self) -> bool:
        """The adequacy gate alone (predictive coverage, residuals, informed parameters)."""
        if self.residuals is None:
            return True
        return not adequacy_failures(self.residuals, self.identifiability)

    def posterior_samples(self) -> dict[str, np.ndarray]:
        """Posterior draws of the calibrated inputs, chains pooled: ``(chain*draw,)`` or ``(chain*draw, specimen)``.

        Noise scales are included as ``sigma_<output>``, and the discrepancy's variables under their
        posterior names (see :func:`uqbridge.calibration.build_model`).
        """
        post = self.idata.posterior
        names = [*self.epistemic, *self.hierarchical] + [v for v in post.data_vars if str(v).startswith("sigma_")]
        for meta in self.discrepancy.values():
            names += [n for key, n in meta["names"].items() if key != "delta"]
        out = {}
        for name in names:
            da = post[name].stack(_sample=("chain", "draw")).transpose("_sample", ...)
            out[str(name)] = np.asarray(da.values)
        return out

    def pushforward(self, model: ForwardModel | None = None, *, discrepancy: bool = True) -> ForwardModel:
        """The model with its calibrated epistemic inputs replaced by the joint posterior draws.

        Correlations between parameters are kept (the draws are resampled row by row). Per-specimen
        aleatory latents are not pushed forward: a new specimen still follows the declared population
        distribution. A calibrated discrepancy is added to the outputs unless ``discrepancy=False``.
        See :func:`uqbridge.calibration.pushforward`.
        """
        from .pushforward import pushforward

        return pushforward(self, model, discrepancy=discrepancy)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write everything except the model object to netCDF (reload with :func:`load_calibration`)."""
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.idata.to_netcdf(path, engine="netcdf4")


def _meta(idata: az.InferenceData) -> dict[str, Any]:
    return json.loads(idata.posterior.attrs[_META])


def load_calibration(path: str | os.PathLike[str], model: ForwardModel | None = None) -> CalibrationResult:
    """Read a result written by :meth:`CalibrationResult.save`.

    Parameters
    ----------
    path : path-like
    model : ForwardModel, optional
        Needed later by :meth:`CalibrationResult.pushforward`; its name must match the stored one.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no calibration result at {os.fspath(path)!r}")
    idata = az.from_netcdf(os.fspath(path), engine="netcdf4")
    if "posterior" not in idata.groups() or _META not in idata.posterior.attrs:
        raise ValueError(f"{os.fspath(path)!r} is not a uqbridge calibration result (no {_META!r} attribute)")
    meta = _meta(idata)
    if model is not None and model.name != meta["model"]:
        raise ValueError(f"model: result was calibrated with model {meta['model']!r}, got {model.name!r}")
    diagnostics = idata[_DIAGNOSTICS_GROUP].load()
    surrogate = idata[_SURROGATE_GROUP].load() if _SURROGATE_GROUP in idata.groups() else None
    predictive = idata[_PREDICTIVE_GROUP].load() if _PREDICTIVE_GROUP in idata.groups() else None
    residuals = idata[_RESIDUALS_GROUP].load() if _RESIDUALS_GROUP in idata.groups() else None
    table = idata[_IDENTIFIABILITY_GROUP].load() if _IDENTIFIABILITY_GROUP in idata.groups() else None
    if table is not None:
        table["informed"] = table["informed"].astype(bool)
        table["gated"] = table["gated"].astype(bool)
    if residuals is not None:
        residuals["passed"] = residuals["passed"].astype(bool)
    return CalibrationResult(
        idata=idata,
        diagnostics=diagnostics,
        passed=bool(meta["passed"]),
        warnings=tuple(meta["warnings"]),
        epistemic=tuple(meta["epistemic"]),
        hierarchical=tuple(meta["hierarchical"]),
        model=model,
        surrogate=surrogate,
        predictive=predictive,
        residuals=residuals,
        identifiability=table,
        discrepancy=meta.get("discrepancy", {}),
    )


def _finish(
    idata: az.InferenceData,
    diagnostics: xr.Dataset,
    extra_warnings: list[str],
    *,
    model: ForwardModel,
    epistemic: tuple[str, ...],
    hierarchical: tuple[str, ...],
    surrogate: xr.Dataset | None,
    attrs: dict[str, Any],
    predictive: xr.Dataset | None = None,
    residuals: xr.Dataset | None = None,
    identifiability: xr.Dataset | None = None,
    discrepancy: dict[str, Any] | None = None,
) -> CalibrationResult:
    """Assemble the result and record its metadata in the InferenceData (so that save/load round-trips)."""
    messages = failures(diagnostics) + list(extra_warnings)
    if residuals is not None:
        messages += adequacy_failures(residuals, identifiability)
    passed = not messages
    groups = {_DIAGNOSTICS_GROUP: diagnostics}
    if surrogate is not None:
        groups[_SURROGATE_GROUP] = surrogate
    if predictive is not None:
        groups[_PREDICTIVE_GROUP] = predictive
    if residuals is not None:
        groups[_RESIDUALS_GROUP] = residuals
    if identifiability is not None:
        groups[_IDENTIFIABILITY_GROUP] = identifiability
    idata.add_groups(groups, warn_on_custom_groups=False)
    meta = {
        "model": model.name,
        "passed": passed,
        "warnings": messages,
        "epistemic": list(epistemic),
        "hierarchical": list(hierarchical),
        "discrepancy": discrepancy or {},
    }
    idata.posterior.attrs.update(attrs)
    idata.posterior.attrs[_META] = json.dumps(meta)
    return CalibrationResult(
        idata=idata,
        diagnostics=diagnostics,
        passed=passed,
        warnings=tuple(messages),
        epistemic=epistemic,
        hierarchical=hierarchical,
        model=model,
        surrogate=surrogate,
        predictive=predictive,
        residuals=residuals,
        identifiability=identifiability,
        discrepancy=discrepancy or {},
    )
