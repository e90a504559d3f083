"""Posterior → new epistemic distribution: the calibrated inputs become joint samples of the model.

Propagating or decomposing the returned model shows the epistemic variance left after the data.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ..model import ForwardModel


class CalibrationResult(Protocol):
    """What the pushforward reads of a :class:`~uqbridge.calibration.result.CalibrationResult` (a
    protocol, so that this module does not import the result module, which imports it)."""

    # read-only members, so that the frozen dataclass satisfies the protocol
    @property
    def model(self) -> ForwardModel | None: ...

    @property
    def epistemic(self) -> tuple[str, ...]: ...

    @property
    def discrepancy(self) -> dict[str, Any]: ...

    def posterior_samples(self) -> dict[str, np.ndarray]: ...

__all__ = ["pushforward"]


DRAW_INPUT = "posterior_draw"


def pushforward(
    result: CalibrationResult, model: ForwardModel | None = None, *, discrepancy: bool = True
) -> ForwardModel:
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
    joint = {n: np.asarray(samples[n], dtype=float) for n in result.epistemic}
    if not (discrepancy and result.discrepancy):
        return model.with_joint_samples(joint)
    return _with_discrepancy(model, result, samples).with_joint_samples(
        {**joint, DRAW_INPUT: np.arange(next(iter(joint.values())).shape[0], dtype=float)}
    )


def _with_discrepancy(model: ForwardModel, result: CalibrationResult, samples: dict[str, np.ndarray]) -> ForwardModel:
    from ..distributions import Normal, Uniform
    from ..inputs import Input
    from .discrepancy import gp_delta

    metas = result.discrepancy
    missing = [o for o in metas if o not in model.output_names]
    if missing:
        raise KeyError(f"model {model.name!r} lacks output(s) {missing} that carry a calibrated discrepancy")
    for o, meta in metas.items():
        if meta["kind"] == "gp":
            absent = [c for c in meta["conditions"] if c not in model.inputs.names]
            if absent:
                raise KeyError(f"model {model.name!r} lacks condition input(s) {absent} of the discrepancy of {o!r}")
    base = model.function
    relative = [o for o, m in metas.items() if m["kind"] == "relative"]

    def function(**values):
        draw = np.asarray(values.pop(DRAW_INPUT)).astype(np.int64)
        eps = {o: values.pop(f"discrepancy_{o}") for o in relative}
        out = dict(base(**values))
        for o, meta in metas.items():
            f = np.asarray(out[o], dtype=float)
            if meta["kind"] == "gp":
                sub = {n: samples[n][draw] for k, n in meta["names"].items() if k != "delta"}
                # one draw per row: evaluate each row's own GP draw at its conditions
                weights_x = {c: np.asarray(values[c], float) for c in meta["conditions"]}
                out[o] = f + _rowwise_gp(sub, meta, weights_x)
            else:
                out[o] = f * (1 + samples[meta["names"]["kappa"]][draw] * np.asarray(eps[o]))
        return out

    def _rowwise_gp(sub, meta, conditions):
        n = next(iter(conditions.values())).shape[0]
        delta = np.empty(n)
        for i in range(0, n, 256):  # blocks keep the (rows x rows) intermediate small
            block = slice(i, min(i + 256, n))
            full = gp_delta({k: v[block] for k, v in sub.items()}, meta, {c: v[block] for c, v in conditions.items()})
            delta[block] = np.diagonal(full)
        return delta

    extra = [Input(DRAW_INPUT, Uniform(0.0, 1.0), "epistemic", "-", "index of the posterior draw (discrepancy)")]
    extra += [Input(f"discrepancy_{o}", Normal(0.0, 1.0), "aleatory", "-", f"relative discrepancy of {o}")
              for o in relative]
    return ForwardModel(
        f"{model.name}+discrepancy", function, [*model.inputs, *extra], model.outputs,
        description=f"{model.description} + calibrated discrepancy of {sorted(metas)}".strip(),
        differentiable=False,
    )
