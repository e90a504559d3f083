"""A NumPy-only forward model (solver, cell problem) wrapped as a PyTensor Op for gradient-free sampling.

The Op has no gradient: sample its PyMC model with SMC (``pm.sample_smc``) or a Metropolis step, or
replace it by a polynomial-chaos surrogate (``path="surrogate"``) to use NUTS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from ..model import ForwardModel

__all__ = ["ModelOp"]


class ModelOp(Op):
    """``ModelOp(model, conditions, parameters, outputs)(*vectors) -> (n_outputs, n) matrix``.

    Parameters
    ----------
    model : ForwardModel
        Evaluated on NumPy arrays (``model(**values)``).
    conditions : mapping of str to ndarray
        Inputs fixed by the experiment, one ``(n,)`` array each.
    parameters : sequence of str
        Names of the inputs passed to the Op, in order, each as an ``(n,)`` float vector (broadcast
        scalars before calling).
    outputs : sequence of str
        Outputs returned, as the rows of the result.

    Notes
    -----
    A model that raises, or returns a non-finite value, on some observations fails those only
    (:func:`~uqbridge.execution.evaluate_batch`): the parameter point gets a zero likelihood (the
    sampler rejects it) and the Op counts it in ``n_failed_calls`` with the first message in
    ``first_failure``.

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("sq", lambda x, a: {"y": a * x**2},
    ...                  [Input("x", Normal(0, 1)), Input("a", Normal(1, 1), "epistemic")], [Output("y")])
    >>> op = ModelOp(m, {"x": np.array([1.0, 2.0])}, ["a"], ["y"])
    >>> op(pt.as_tensor(np.array([3.0, 3.0]))).eval().tolist()
    [[3.0, 12.0]]
    """

    # Identity semantics: two Ops around different models must never be merged by the graph rewriter.
    __props__ = ()

    def __init__(
        self,
        model: ForwardModel,
        conditions: Mapping[str, np.ndarray],
        parameters: Sequence[str],
        outputs: Sequence[str],
    ) -> None:
        self.model = model
        self.conditions = {k: np.asarray(v, dtype=float) for k, v in conditions.items()}
        self.parameters = tuple(parameters)
        self.outputs = tuple(outputs)
        self.n_calls = 0
        self.n_runs = 0
        self.n_failed_calls = 0  # parameter points at which the model failed on some observation
        self.first_failure = ""

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def make_node(self, *vectors):
        if len(vectors) != len(self.parameters):
            raise TypeError(f"ModelOp expects {len(self.parameters)} inputs {self.parameters}, got {len(vectors)}")
        inputs = [pt.as_tensor_variable(v).astype("float64") for v in vectors]
        for name, v in zip(self.parameters, inputs):
            if v.ndim != 1:
                raise TypeError(f"ModelOp: input {name!r} must be a vector (one value per observation), got ndim {v.ndim}")
        return Apply(self, inputs, [pt.dmatrix()])

    def perform(self, node, inputs, output_storage):
        from ..execution.batch import evaluate_batch

        values = dict(self.conditions)
        values.update({name: np.asarray(v) for name, v in zip(self.parameters, inputs)})
        # a model raising on some observations fails those only (never the sampler): their outputs
        # are NaN, and the parameter point gets a zero likelihood below
        batch = evaluate_batch(self.model, self.model.complete(values))
        self.n_calls += 1
        self.n_runs += int(np.asarray(inputs[0]).size) if inputs else 1
        failed = batch.status != 0
        if failed.any():
            self.n_failed_calls += 1
            if not self.first_failure:
                k = int(np.flatnonzero(failed)[0])
                point = {name: float(np.asarray(v)[k]) for name, v in zip(self.parameters, inputs)}
                self.first_failure = f"{batch.message[k]} at {point}"
        result = np.stack([batch.outputs[o] for o in self.outputs])
        # a non-finite model value must give a -inf log-likelihood (a rejected proposal), not NaN:
        # a huge finite value does that for the normal and Student-t likelihoods
        output_storage[0][0] = np.where(np.isfinite(result), result, 1e300)

    def grad(self, inputs, output_gradients):
        raise NotImplementedError(
            f"model {self.model.name!r} is a black box without gradients: sample with path='smc', or "
            "use path='surrogate' to calibrate on a polynomial-chaos surrogate with NUTS"
        )
