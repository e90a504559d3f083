"""Build the PyMC model of a calibration: priors from the declared inputs, the forward model, a likelihood.

The same declaration drives everything: epistemic inputs become global priors (``Distribution.pymc``),
aleatory inputs not fixed by the data become one latent per specimen, conditions come from the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..model import ForwardModel
from .blackbox import ModelOp
from .data import Observations, observations
from .discrepancy import (
    GPDiscrepancy,
    Standardiser,
    discrepancy_names,
    gp_basis,
    gp_conditions,
    parse_discrepancy,
)

__all__ = [
    "LIKELIHOODS",
    "STUDENT_T_NU",
    "Noise",
    "build_model",
    "discrepancy_meta",
    "noise_name",
    "parse_noise",
]

LIKELIHOODS = ("normal", "student_t")
#: Degrees of freedom of the robust likelihood: heavy enough tails to discount outliers, finite variance
#: (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §17.2).
STUDENT_T_NU = 4.0


@dataclass(frozen=True)
class Noise:
    """Measurement-noise model of one output: a known scale, or an unknown one with a half-normal prior.

    Examples
    --------
    >>> Noise("known", 0.5).scale
    0.5
    """

    kind: str  # "known" | "unknown"
    scale: float  # the known sigma, or the scale of the half-normal prior on an unknown sigma

    def __post_init__(self) -> None:
        if self.kind not in ("known", "unknown"):
            raise ValueError(f"noise kind must be 'known' or 'unknown', got {self.kind!r}")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"noise scale must be a positive finite number, got {self.scale!r}")


def noise_name(output: str) -> str:
    """Name of the noise-scale variable of ``output`` in the posterior (``sigma_<output>``)."""
    return f"sigma_{output}"


def _one_noise(spec: Any, output: str, observed: np.ndarray) -> Noise:
    y = observed[np.isfinite(observed)]
    # weakly informative default: the spread of the data itself bounds any plausible noise scale
    default = float(max(np.std(y), 0.1 * np.abs(y).mean(), np.finfo(float).tiny)) if y.size else 1.0
    if isinstance(spec, Noise):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Noise("known", float(spec))
    if spec == "unknown":
        return Noise("unknown", default)
    if isinstance(spec, tuple) and len(spec) == 2 and spec[0] in ("known", "unknown"):
        return Noise(spec[0], float(spec[1]))
    raise ValueError(
        f"noise for output {output!r}: expected ('known', sigma), 'unknown', ('unknown', prior_scale), "
        f"a positive number (known sigma) or a Noise, got {spec!r}"
    )


def parse_noise(noise: Any, observed: Mapping[str, np.ndarray]) -> dict[str, Noise]:
    """One :class:`Noise` per observed output from the user's ``noise`` argument.

    Examples
    --------
    >>> parse_noise({"y": ("known", 0.1)}, {"y": np.array([1.0, 2.0])})
    {'y': Noise(kind='known', scale=0.1)}
    """
    outputs = list(observed)
    if isinstance(noise, Mapping):
        unknown = sorted(set(noise) - set(outputs))
        if unknown:
            raise KeyError(f"noise: {unknown} are not calibrated outputs; outputs: {outputs}")
        missing = [o for o in outputs if o not in noise]
        if missing:
            raise KeyError(f"noise: no noise model for output(s) {missing}; give one for each of {outputs}")
        return {o: _one_noise(noise[o], o, observed[o]) for o in outputs}
    return {o: _one_noise(noise, o, observed[o]) for o in outputs}


def build_model(
    model: ForwardModel,
    data: Any,
    *,
    outputs: Sequence[str] | None = None,
    conditions: Mapping[str, str] | None = None,
    specimen: str | None = "specimen",
    noise: Any = "unknown",
    likelihood: str = "normal",
    discrepancy: Any = None,
    blackbox: bool | None = None,
) -> pm.Model:
    """The PyMC model of calibrating ``model`` on ``data`` (priors, forward model, likelihood).

    Parameters
    ----------
    model : ForwardModel
    data : pandas.DataFrame, xarray.Dataset or Observations
        See :func:`uqbridge.calibration.observations`.
    outputs, conditions, specimen
        See :func:`uqbridge.calibration.observations`.
    noise : ('known', sigma), 'unknown', ('unknown', prior_scale), number, or dict per output
        Known noise scale, or an unknown one with a ``HalfNormal(prior_scale)`` prior (default scale:
        the standard deviation of the observed output).
    likelihood : {"normal", "student_t"}
        Gaussian, or Student-t with ``nu = 4`` as the outlier-robust option.
    discrepancy : None, 'gp', 'relative', GPDiscrepancy, RelativeDiscrepancy, or dict per output
        Model-discrepancy term added to the model's prediction (see
        :mod:`uqbridge.calibration.discrepancy`). Default none: the model is taken as exact.
    blackbox : bool, optional
        Evaluate the model through :class:`ModelOp` (NumPy, no gradients). Default: only when the
        model is not differentiable.

    Returns
    -------
    pymc.Model
        Free variables: the epistemic inputs, ``<input>__<k>`` per specimen ``k`` for hierarchical
        inputs (also gathered in the deterministic ``<input>`` with dim ``specimen``),
        ``sigma_<output>`` for unknown noise, and the discrepancy's variables (``delta_eta_<output>``,
        ``delta_ell_<output>``, ``delta_beta_<output>`` and the deterministic ``delta_<output>`` at the
        observed rows for a GP; ``delta_kappa_<output>`` for the relative one); one observed variable
        per output, named like it.

    Examples
    --------
    >>> import pandas as pd
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("line", lambda x, a, xp=np: {"y": a * x},
    ...                  [Input("x", Normal(0, 1)), Input("a", Normal(1, 1), "epistemic")],
    ...                  [Output("y")], differentiable=True)
    >>> pmm = build_model(m, pd.DataFrame({"x": [1.0, 2.0], "y": [1.1, 1.9]}), noise=("known", 0.1))
    >>> sorted(v.name for v in pmm.free_RVs), [v.name for v in pmm.observed_RVs]
    (['a'], ['y'])
    """
    obs = data if isinstance(data, Observations) else observations(
        model, data, outputs=outputs, conditions=conditions, specimen=specimen
    )
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    noises = parse_noise(noise, obs.outputs)
    meta = discrepancy_meta(obs, discrepancy)
    if blackbox is None:
        blackbox = not model.differentiable
    if not blackbox and not model.differentiable:
        raise TypeError(
            f"model {model.name!r} is not differentiable; use blackbox=True (sampled with SMC) or a surrogate"
        )
    taken = set(model.inputs.names) | set(model.output_names)
    for o in noises:
        for name in [noise_name(o), *(meta[o]["names"].values() if o in meta else ())]:
            if name in taken:
                raise ValueError(f"variable name {name!r} clashes with an input or output of model {model.name!r}")

    coords: dict[str, Any] = {"specimen": list(obs.specimens)}
    for o in obs.outputs:
        coords[f"obs_{o}"] = obs.rows(o)
    n = obs.n
    with pm.Model(coords=coords, name="") as pmm:
        params: dict[str, Any] = {}
        for name in obs.epistemic:
            params[name] = model.inputs[name].distribution.pymc(name)
        for name in obs.hierarchical:
            dist = model.inputs[name].distribution
            latent = [dist.pymc(f"{name}__{k}") for k in range(len(obs.specimens))]
            params[name] = pm.Deterministic(name, pt.stack(latent), dims="specimen")
        specimen_index = pt.as_tensor(obs.specimen)
        values: dict[str, Any] = {k: pt.as_tensor(v) for k, v in obs.conditions.items()}
        for name in obs.epistemic:
            values[name] = params[name]
        for name in obs.hierarchical:
            values[name] = params[name][specimen_index]
        zeros = pt.zeros(n)
        if blackbox:
            order = obs.epistemic + obs.hierarchical
            op = ModelOp(model, obs.conditions, order, list(obs.outputs))
            # ModelOp has exactly one output (the outputs x observations matrix)
            matrix = cast(pt.TensorVariable, op(*[zeros + values[p] for p in order]))
            predicted: dict[str, pt.TensorVariable] = {o: matrix[j] for j, o in enumerate(obs.outputs)}
        else:
            out = model.evaluate_tensor(pt, **values)
            predicted = {o: zeros + out[o] for o in obs.outputs}
        for o, y in obs.outputs.items():
            rows = obs.rows(o)
            spec = noises[o]
            sigma = spec.scale if spec.kind == "known" else pm.HalfNormal(noise_name(o), sigma=spec.scale)
            mu = predicted[o][rows]
            if o in meta:
                mu, sigma = _add_discrepancy(meta[o], obs, o, mu, sigma)
            if likelihood == "normal":
                pm.Normal(o, mu=mu, sigma=sigma, observed=y[rows], dims=f"obs_{o}")
            else:
                pm.StudentT(o, nu=STUDENT_T_NU, mu=mu, sigma=sigma, observed=y[rows], dims=f"obs_{o}")
    return pmm


def discrepancy_meta(obs: Observations, discrepancy: Any) -> dict[str, dict[str, Any]]:
    """Per output with a discrepancy: its kind, settings, variable names and condition scaling (JSON-able).

    Stored with the result so that :func:`~uqbridge.calibration.predict` and the pushforward evaluate
    the calibrated discrepancy at new conditions.
    """
    meta: dict[str, dict[str, Any]] = {}
    for o, spec in parse_discrepancy(discrepancy, list(obs.outputs)).items():
        names = discrepancy_names(o, spec)
        if isinstance(spec, GPDiscrepancy):
            cond = gp_conditions(spec, obs.conditions, o)
            rows = obs.rows(o)
            std = Standardiser.fit({n: obs.conditions[n][rows] for n in cond}, cond)
            if min(std.half_range) <= 0:
                raise ValueError(f"discrepancy for output {o!r}: conditions {list(cond)} do not vary over its observations")
            y = obs.outputs[o][rows]
            amplitude = spec.amplitude if spec.amplitude is not None else 0.1 * float(np.sqrt(np.mean(y**2)))
            meta[o] = {"kind": "gp", "m": spec.m, "c": spec.c, "amplitude": max(amplitude, np.finfo(float).tiny),
                       "lengthscale": list(spec.lengthscale), "conditions": list(cond), "names": names,
                       "center": list(std.center), "half_range": list(std.half_range)}
        else:
            meta[o] = {"kind": "relative", "scale": spec.scale, "names": names}
    return meta


def _add_discrepancy(meta: dict[str, Any], obs: Observations, output: str, mu: Any, sigma: Any) -> tuple[Any, Any]:
    """Mean and scale of the likelihood of ``output`` with its discrepancy term (inside a model context)."""
    names = meta["names"]
    if meta["kind"] == "relative":
        kappa = pm.HalfNormal(names["kappa"], sigma=meta["scale"])
        return mu, pt.sqrt(sigma**2 + (kappa * mu) ** 2)
    rows = obs.rows(output)
    std = Standardiser(tuple(meta["conditions"]), tuple(meta["center"]), tuple(meta["half_range"]))
    x = std({n: obs.conditions[n][rows] for n in std.names})
    d, m, c = x.shape[1], int(meta["m"]), float(meta["c"])
    median, log_sd = meta["lengthscale"]
    eta = pm.HalfNormal(names["eta"], sigma=meta["amplitude"])
    ell = pm.LogNormal(names["ell"], mu=np.log(median), sigma=log_sd, shape=d)
    gp = pm.gp.HSGP(m=[m] * d, L=[c] * d, cov_func=eta**2 * pm.gp.cov.ExpQuad(d, ls=ell))
    _, sqrt_psd = gp.prior_linearized(x)
    # the basis is a constant of the data: computed once in NumPy (the same eigenfunctions PyMC uses,
    # checked in the tests), so that predictions at new conditions use exactly the same functions
    phi = pt.as_tensor(gp_basis(x, m, c))
    beta = pm.Normal(names["beta"], 0.0, 1.0, size=gp.n_basis_vectors)
    delta = pm.Deterministic(names["delta"], phi @ (beta * sqrt_psd), dims=f"obs_{output}")
    return mu + delta, sigma
