"""Result datasets: labelling samples with xarray, provenance attributes, netCDF save and load."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ._version import __version__
from .inputs import InputSet

__all__ = ["inputs_of", "load", "provenance", "samples_dataset", "save", "seed_attr"]


def seed_attr(seed: Any) -> int | str:
    """A netCDF-storable record of the seed argument (an int, or a description of it)."""
    if seed is None:
        return "none"
    if isinstance(seed, (int, np.integer)):
        return int(seed)
    return repr(seed)


def provenance(model: Any, method: str, **extra: Any) -> dict[str, Any]:
    """Attributes that make a result reproducible: versions, model, method, inputs, and ``extra``.

    Examples
    --------
    >>> provenance(None, "test", seed=1)["method"]
    'test'
    """
    import scipy

    attrs: dict[str, Any] = {
        "uqbridge_version": __version__,
        "method": method,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "xarray_version": xr.__version__,
    }
    if model is not None:
        attrs["model"] = model.name
        attrs["model_description"] = model.description
        attrs["inputs"] = model.inputs.to_json()
    for key, value in extra.items():
        if isinstance(value, bool):
            value = int(value)
        elif value is None:
            value = "none"
        elif isinstance(value, (dict, list, tuple)):
            value = json.dumps(value)
        attrs[key] = value
    return attrs


def samples_dataset(model: Any, values: Mapping[str, np.ndarray], result: Any) -> xr.Dataset:
    """Label inputs, outputs, status and messages of evaluated samples along dimension ``sample``."""
    n = len(result.status)
    data: dict[str, Any] = {}
    for i in model.inputs:
        data[i.name] = (
            "sample",
            np.asarray(values[i.name], dtype=float),
            {"units": i.units, "kind": i.kind, "distribution": str(i.distribution), "long_name": i.description},
        )
    for o in model.outputs:
        data[o.name] = ("sample", result.outputs[o.name], {"units": o.units, "long_name": o.description})
    data["status"] = (
        "sample",
        result.status.astype(np.int8),
        {"flag_values": np.array([0, 1, 2], np.int8), "flag_meanings": "ok nonfinite error"},
    )
    data["message"] = ("sample", result.message.astype(str))
    return xr.Dataset(data, coords={"sample": np.arange(n)})


def save(ds: xr.Dataset, path: str | os.PathLike[str]) -> None:
    """Write a result to netCDF (netCDF-4 via netCDF4, the one engine uqbridge uses); ``load`` gives back an equal Dataset.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ds = xr.Dataset({"y": ("sample", [1.0, 2.0])}, attrs={"method": "x"})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.nc"
    >>> save(ds, p); load(p).identical(ds)
    True
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ds.to_netcdf(path, engine="netcdf4")


def load(path: str | os.PathLike[str]) -> xr.Dataset:
    """Read a result written by :func:`save` fully into memory."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no result file at {os.fspath(path)!r}")
    return xr.load_dataset(path, engine="netcdf4")


def inputs_of(ds: xr.Dataset) -> InputSet:
    """The input specification a result was computed with (from its ``inputs`` attribute)."""
    if "inputs" not in ds.attrs:
        raise KeyError("this dataset carries no 'inputs' attribute (was it made by uqbridge?)")
    return InputSet.from_json(ds.attrs["inputs"])
