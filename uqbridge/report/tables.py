"""Tables shared by the reports: inputs in their own units, failed samples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..inputs import InputSet

__all__ = ["failures_table", "inputs_table"]


def inputs_table(inputs: InputSet) -> pd.DataFrame:
    """One row per input in its own units: kind, law, median, mean, CoV, 5 % and 95 % quantiles.

    Shown instead of the distribution's parameters, which may live in another space (a lognormal's
    ``mu`` and ``sigma`` are those of the logarithm).

    Examples
    --------
    >>> from uqbridge import Input, LogNormal
    >>> t = inputs_table(InputSet((Input("a", LogNormal.from_median_cov(2e-5, 0.5), units="m"),)))
    >>> t.loc["a", ["law", "units"]].tolist(), float(t.loc["a", "median"]), round(float(t.loc["a", "CoV"]), 3)
    (['LogNormal', 'm'], 2e-05, 0.5)
    """
    rows = {}
    for i in inputs:
        dist = i.distribution
        kind = i.kind if i.kind == "condition" or not dist.is_constant else "fixed"
        row: dict[str, Any] = {"kind": kind, "law": type(dist).__name__, "units": i.units or "-"}
        if dist.is_constant:
            row.update({"median": dist.mean, "mean": dist.mean, "CoV": 0.0, "5 %": dist.mean, "95 %": dist.mean})
        else:
            frozen = dist.scipy()
            mean, std = float(frozen.mean()), float(frozen.std())
            q05, q50, q95 = (float(f"{v:.12g}") for v in frozen.ppf([0.05, 0.5, 0.95]))
            row.update({"median": q50, "mean": mean, "CoV": std / abs(mean) if mean else np.nan, "5 %": q05, "95 %": q95})
        row["description"] = i.description
        rows[i.name] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "input"
    return frame


def failures_table(ds: xr.Dataset, *, limit: int = 20) -> pd.DataFrame:
    """The failed samples of a result (status ≠ 0) with their messages, at most ``limit`` rows.

    Examples
    --------
    >>> ds = xr.Dataset({"status": ("sample", np.array([0, 2], np.int8)),
    ...                  "message": ("sample", np.array(["", "ValueError: x < 0"]))})
    >>> failures_table(ds)["message"].tolist()
    ['ValueError: x < 0']
    """
    if "status" not in ds:
        return pd.DataFrame(columns=["status", "message"])
    bad = np.flatnonzero(ds["status"].values != 0)
    meaning = {1: "non-finite", 2: "error"}
    rows = {
        int(ds["sample"].values[k]) if "sample" in ds.coords else int(k): {
            "status": meaning.get(int(ds["status"].values[k]), str(int(ds["status"].values[k]))),
            "message": str(ds["message"].values[k]) if "message" in ds else "",
        }
        for k in bad[:limit]
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["status", "message"])
    frame.index.name = "sample"
    return frame


def format_interval(value: float | None, low: float | None = None, high: float | None = None, fmt: str = ".3g") -> str:
    """``value [low, high]`` (or ``value`` without bounds; "–" without a value), one format for all reports.

    Examples
    --------
    >>> format_interval(0.5612, 0.289, 0.833, ".3f"), format_interval(None)
    ('0.561 [0.289, 0.833]', '–')
    """
    if value is None:
        return "–"
    text = f"{value:{fmt}}"
    if low is not None and high is not None:
        text += f" [{low:{fmt}}, {high:{fmt}}]"
    return text
