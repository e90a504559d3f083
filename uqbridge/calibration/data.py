"""Observation tables for calibration: measured outputs, the controlled conditions of each row, specimens.

:func:`observations` checks a DataFrame / Dataset against a forward model and splits the model's inputs
into conditions (from the data), calibrated epistemic parameters, per-specimen latents and fixed values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..model import ForwardModel

__all__ = ["Observations", "observations"]


@dataclass(frozen=True, eq=False)
class Observations:
    """A validated observation table and the role of every model input.

    Attributes
    ----------
    outputs : dict of str to ndarray
        Observed model outputs, one ``(n,)`` float array each (NaN where not measured).
    conditions : dict of str to ndarray
        Model inputs fixed by the experiment, ``(n,)`` each (keyed by model input name).
    specimen : ndarray of int
        Specimen index of every row (all zeros when the data name no specimens).
    specimens : tuple of str
        Specimen labels, in index order.
    epistemic : tuple of str
        Epistemic inputs to calibrate (global parameters, prior = declared distribution).
    hierarchical : tuple of str
        Aleatory inputs not given by the data: one latent value per specimen, the declared
        distribution being their population model.
    index : ndarray
        Row labels of the data (kept in the posterior predictive and observed-data groups).
    """

    outputs: dict[str, np.ndarray]
    conditions: dict[str, np.ndarray]
    specimen: np.ndarray
    specimens: tuple[str, ...]
    epistemic: tuple[str, ...]
    hierarchical: tuple[str, ...]
    index: np.ndarray

    @property
    def n(self) -> int:
        return int(self.specimen.size)

    def rows(self, output: str) -> np.ndarray:
        """Positions of the rows where ``output`` was measured."""
        return np.flatnonzero(np.isfinite(self.outputs[output]))


def _to_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, xr.Dataset):
        if len(data.dims) != 1:
            raise ValueError(
                f"data: an xarray Dataset must have exactly one dimension (the observation), got "
                f"dims {list(data.dims)}; stack or flatten it first"
            )
        return data.to_dataframe()
    raise TypeError(f"data must be a pandas DataFrame or an xarray Dataset, got {type(data).__name__}")


def observations(
    model: ForwardModel,
    data: Any,
    *,
    outputs: Sequence[str] | None = None,
    conditions: Mapping[str, str] | None = None,
    specimen: str | None = "specimen",
) -> Observations:
    """Validate ``data`` against ``model`` and assign every input its role in the calibration.

    Parameters
    ----------
    model : ForwardModel
    data : pandas.DataFrame or xarray.Dataset
        One row per observation. Columns: observed outputs (NaN where an output was not measured),
        controlled conditions, and optionally a specimen column.
    outputs : sequence of str, optional
        Outputs to fit; default all model outputs that appear as columns.
    conditions : mapping, optional
        ``{data column: model input}`` for condition columns whose name differs from the input;
        columns named like a model input are conditions without being listed.
    specimen : str or None
        Name of the column naming the specimen of each row; if absent from the data all rows are
        one specimen.

    Returns
    -------
    Observations

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("line", lambda x, a: {"y": a * x},
    ...                  [Input("x", Normal(0, 1)), Input("a", Normal(1, 1), "epistemic")], [Output("y")])
    >>> obs = observations(m, pd.DataFrame({"strain": [1.0, 2.0], "y": [1.1, 1.9]}),
    ...                    conditions={"strain": "x"})
    >>> obs.epistemic, list(obs.conditions)
    (('a',), ['x'])
    """
    frame = _to_frame(data)
    columns = [str(c) for c in frame.columns]
    conditions = dict(conditions or {})
    for column, name in conditions.items():
        if column not in columns:
            raise KeyError(f"conditions: data has no column {column!r}; columns: {columns}")
        if name not in model.inputs.names:
            raise KeyError(
                f"conditions: {column!r} is mapped to unknown input {name!r}; "
                f"inputs of model {model.name!r}: {list(model.inputs.names)}"
            )
    for column in columns:
        if column in model.inputs.names and column not in conditions:
            conditions[column] = column
    targets = list(conditions.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise ValueError(f"conditions: input(s) {doubled} are given by more than one data column")

    if outputs is None:
        outputs = [o for o in model.output_names if o in columns]
        if not outputs:
            raise ValueError(
                f"data has no column named like an output of model {model.name!r}; outputs: "
                f"{list(model.output_names)}; columns: {columns}"
            )
    else:
        outputs = list(outputs)
        for o in outputs:
            if o not in model.output_names:
                raise KeyError(f"outputs: model {model.name!r} has no output {o!r}; outputs: {list(model.output_names)}")
            if o not in columns:
                raise KeyError(f"outputs: data has no column {o!r}; columns: {columns}")

    has_specimen = specimen is not None and specimen in columns
    known = set(outputs) | set(conditions) | ({specimen} if has_specimen else set())
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise KeyError(
            f"data column(s) {unknown} are neither outputs, conditions nor the specimen column; "
            f"outputs: {list(model.output_names)}, inputs: {list(model.inputs.names)}, specimen "
            f"column: {specimen!r}; map conditions with conditions={{column: input}} or drop the columns"
        )
    if len(frame) == 0:
        raise ValueError("data has no rows")

    observed = {}
    for o in outputs:
        try:
            values = frame[o].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"data column {o!r} (output) must be numeric, got dtype {frame[o].dtype}") from None
        if not np.isfinite(values).any():
            raise ValueError(f"output {o!r} has no finite observation in the data")
        if np.isinf(values).any():
            raise ValueError(f"output {o!r} has infinite values in the data; use NaN for 'not measured'")
        observed[o] = values
    given = {}
    for column, name in conditions.items():
        try:
            values = frame[column].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"condition column {column!r} must be numeric, got dtype {frame[column].dtype}") from None
        if not np.all(np.isfinite(values)):
            raise ValueError(f"condition column {column!r} (input {name!r}) has missing or infinite values")
        given[name] = values

    if has_specimen:
        codes, labels = pd.factorize(frame[specimen], sort=True)
        if (codes < 0).any():
            raise ValueError(f"specimen column {specimen!r} has missing values")
        specimens = tuple(str(s) for s in labels)
    else:
        codes, specimens = np.zeros(len(frame), dtype=np.int64), ("all",)

    absent = [n for n in model.inputs.conditions if n not in given]
    if absent:
        # evaluating every row at the declared value would fit the wrong experiment without a word
        raise KeyError(
            f"condition input(s) {absent} of model {model.name!r} have no column in the data "
            f"(columns: {columns}); add a column per condition with each row's value, map one with "
            f"conditions={{column: {absent[0]!r}}}, or, if it was the same in every experiment, declare it "
            f"fixed first: model.with_inputs({absent[0]}=Input({absent[0]!r}, Constant(value)))"
        )
    free = [n for n in model.inputs.uncertain if n not in given]
    inputs = model.inputs
    joint = {n for block in inputs.joint for n in block.names}
    for n in free:
        if n in joint:
            raise ValueError(
                f"input {n!r} is drawn from joint samples (e.g. an earlier posterior); its correlations "
                "cannot become a PyMC prior. Fit a parametric prior, or calibrate on all data at once"
            )
    for a, b in inputs.correlation or {}:
        if a in free or b in free:
            raise ValueError(
                f"inputs {a!r} and {b!r} are correlated through the copula; correlated priors are not "
                "supported in calibration (give independent priors)"
            )
    epistemic = tuple(n for n in free if inputs[n].kind == "epistemic")
    hierarchical = tuple(n for n in free if inputs[n].kind == "aleatory")
    if not epistemic and not hierarchical:
        raise ValueError(f"nothing to calibrate: every uncertain input of model {model.name!r} is given by the data")
    return Observations(
        outputs=observed,
        conditions=given,
        specimen=np.asarray(codes, dtype=np.int64),
        specimens=specimens,
        epistemic=epistemic,
        hierarchical=hierarchical,
        index=frame.index.to_numpy(),
    )
