"""Estimates of variance shares a reader should not take at face value, and the warning that says so.

Shared by the sensitivity estimators and the law-of-total-variance decomposition: an interval too
wide to read, a share outside [0, 1] beyond its noise, a closed (first-order) share above its total.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["SensitivityWarning", "index_warnings"]


class SensitivityWarning(UserWarning):
    """An index estimate that should not be read as it stands (noise, an impossible value)."""


def index_warnings(ds: xr.Dataset, *, max_width: float = 0.3) -> list[str]:
    """Estimates a reader should not take at face value: wide intervals and impossible shares.

    Flags, per estimator, output and input (or group): an interval wider than ``max_width``; a
    Sobol'-type index outside [0, 1] by more than its interval's half-width (and at least 0.01); a
    first-order (closed) index above its total by more than that.

    Examples
    --------
    >>> ds = xr.Dataset({"group_first": (("output", "group"), [[0.74, 0.5]]),
    ...                  "group_total": (("output", "group"), [[0.60, 0.5]])},
    ...                 coords={"output": ["y"], "group": ["aleatory", "epistemic"]})
    >>> index_warnings(ds)
    ['y, aleatory: closed index 0.74 exceeds its total 0.6 (impossible; increase n)']
    """
    found: list[str] = []
    for first, total, axis in (("first", "total", "input"), ("group_first", "group_total", "group")):
        if first not in ds:
            continue
        for key in _cells(ds[first]):
            where = ", ".join(str(v) for v in key.values())
            value = float(ds[first].sel(key))
            if not np.isfinite(value):
                continue
            half = 0.0
            if f"{first}_low" in ds:
                low, high = float(ds[f"{first}_low"].sel(key)), float(ds[f"{first}_high"].sel(key))
                if np.isfinite(low) and np.isfinite(high):
                    half = (high - low) / 2
                    if high - low > max_width:
                        found.append(f"{where}: {first} index {value:.3g} has a wide interval "
                                     f"[{low:.3g}, {high:.3g}] (width > {max_width:g}; increase n)")
            slack = max(0.01, half)
            if value < -slack or value > 1 + slack:
                found.append(f"{where}: {first} index {value:.3g} is outside [0, 1] (noise; increase n)")
            if total in ds:
                t = float(ds[total].sel(key))
                if np.isfinite(t) and value > t + slack:
                    label = "closed" if axis == "group" else "first-order"
                    found.append(f"{where}: {label} index {value:.3g} exceeds its total {t:.3g} "
                                 "(impossible; increase n)")
    return found


def _cells(da: xr.DataArray) -> list[dict[Hashable, Any]]:
    grids = [da[d].values for d in da.dims]
    mesh = np.meshgrid(*grids, indexing="ij")
    return [{d: m.flat[k] for d, m in zip(da.dims, mesh)} for k in range(da.size)]
