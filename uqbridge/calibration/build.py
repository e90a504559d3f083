"""Build the PyMC model of a calibration: priors from the declared inputs, the forward model, a likelihood.

The same declaration drives everything: epistemic inputs become global priors (``Distribution.pymc``),
aleatory inputs not fixed by the data become one latent per specimen, conditions come from the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..model import ForwardModel
from .blackbox import ModelOp
from .data import Observations, observations

__all__ = ["Noise", "LIKELIHOODS", "STUDENT_T_NU", "build_model", "noise_name", "parse_noise"]

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
    blackbox : bool, optional
        Evaluate the model through :class:`ModelOp` (NumPy, no gradients). Default: only when the
        model is not differentiable.

    Returns
    -------
    pymc.Model
        Free variables: the epistemic inputs, ``<input>__<k>`` per specimen ``k`` for hierarchical
        inputs (also gathered in the deterministic ``<input>`` with dim ``specimen``), and
        ``sigma_<output>`` for unknown noise; one observed variable per output, named like it.

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
    if blackbox is None:
        blackbox = not model.differentiable
    if not blackbox and not model.differentiable:
        raise TypeError(
            f"model {model.name!r} is not differentiable; use blackbox=True (sampled with SMC) or a surrogate"
        )
    taken = set(model.inputs.names) | set(model.output_names)
    for o in noises:
        if noise_name(o) in taken:
            raise ValueError(f"noise variable name {noise_name(o)!r} clashes with an input or output of model {model.name!r}")

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
            matrix = op(*[zeros + values[p] for p in order])
            predicted = {o: matrix[j] for j, o in enumerate(obs.outputs)}
        else:
            out = model.evaluate_tensor(pt, **values)
            predicted = {o: zeros + out[o] for o in obs.outputs}
        for o, y in obs.outputs.items():
            rows = obs.rows(o)
            spec = noises[o]
            sigma = spec.scale if spec.kind == "known" else pm.HalfNormal(noise_name(o), sigma=spec.scale)
            mu = predicted[o][rows]
            if likelihood == "normal":
                pm.Normal(o, mu=mu, sigma=sigma, observed=y[rows], dims=f"obs_{o}")
            else:
                pm.StudentT(o, nu=STUDENT_T_NU, mu=mu, sigma=sigma, observed=y[rows], dims=f"obs_{o}")
    return pmm
