"""Posterior → new epistemic distribution: the calibrated inputs become joint samples of the model.

Propagating or decomposing the returned model shows the epistemic variance left after the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..model import ForwardModel

if TYPE_CHECKING:
    from .result import CalibrationResult

__all__ = ["pushforward"]


def pushforward(result: "CalibrationResult", model: ForwardModel | None = None) -> ForwardModel:
    """The model whose calibrated epistemic inputs are drawn jointly from the posterior.

    Parameters
    ----------
    result : CalibrationResult
    model : ForwardModel, optional
        Defaults to ``result.model`` (needed after :func:`load_calibration` without a model). Any
        model with the calibrated inputs works, e.g. the same physics at other conditions.

    Returns
    -------
    ForwardModel
        Same model; the inputs in ``result.epistemic`` become one block of joint samples (empirical,
        correlations kept, see :meth:`uqbridge.inputs.InputSet.with_joint_samples`). Aleatory inputs
        keep their declared (population) distributions, and noise scales are not model inputs.

    Examples
    --------
    >>> import arviz as az
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> from uqbridge.calibration import CalibrationResult, diagnose
    >>> m = ForwardModel("sum", lambda a, b: {"y": a + b},
    ...                  [Input("a", Normal(0, 1), "epistemic"), Input("b", Normal(0, 1), "epistemic")],
    ...                  [Output("y")])
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(2, 500))  # stand-in posterior: b = -a exactly
    >>> idata = az.from_dict(posterior={"a": a, "b": -a})
    >>> res = CalibrationResult(idata, diagnose(idata), True, (), ("a", "b"), (), model=m)
    >>> after = pushforward(res)
    >>> after.inputs.dimension_names, float(np.abs(after(**after.inputs.from_unit(rng.random((5, 1))))["y"]).max())
    (('a+b',), 0.0)
    """
    model = result.model if model is None else model
    if model is None:
        raise ValueError("model: the result carries no model (loaded from disk?); pass the model explicitly")
    missing = [n for n in result.epistemic if n not in model.inputs.names]
    if missing:
        raise KeyError(f"model {model.name!r} lacks calibrated input(s) {missing}; inputs: {list(model.inputs.names)}")
    if not result.epistemic:
        raise ValueError("the calibration has no epistemic inputs to push forward (only per-specimen latents)")
    samples = result.posterior_samples()
    return model.with_joint_samples({n: np.asarray(samples[n], dtype=float) for n in result.epistemic})
