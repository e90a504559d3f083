"""The registry of reliability methods: one table read by the API, Pf under epistemic uncertainty,
study files, reports and the CLI.

Adding a method is its own module plus one line here: a function
``method(ls, *, backend=None, ...) -> xarray.Dataset`` (with ``rng=None`` if it draws) returning
``pf``, ``beta``, ``n_runs`` and ``attrs["reliable"]``/``attrs["reason"]``.
"""

from __future__ import annotations

from collections.abc import Callable

import xarray as xr

from .active_learning import active_learning
from .auto import recommended
from .form import form
from .sampling import importance_sampling, monte_carlo
from .sorm import sorm
from .subset import subset_simulation

__all__ = ["METHODS", "STOP_AT_TARGET"]

METHODS: dict[str, Callable[..., xr.Dataset]] = {
    "form": form,
    "sorm": sorm,
    "monte_carlo": monte_carlo,
    "importance_sampling": importance_sampling,
    "subset_simulation": subset_simulation,
    "active_learning": active_learning,
    "recommended": recommended,
}
"""Method name → function; every consumer (``pf_epistemic``, study files) looks methods up here.

Examples
--------
>>> sorted(METHODS)[:3]
['active_learning', 'form', 'importance_sampling']
"""

STOP_AT_TARGET = frozenset({"monte_carlo", "importance_sampling", "subset_simulation", "active_learning", "recommended"})
"""The sampling methods that take ``target_cov=`` (sequential, stopping at a target coefficient of
variation); a study step's ``target_cov`` is handed to these. A test holds this set to the signatures.
"""
