"""Option records of :func:`uqbridge.pce.fit_pce`: one small frozen dataclass per fitting method.

A regression fit (sparse LARS / OMP, or full least squares) and a spectral projection on a quadrature
rule take different options; each record holds only its own, validated when it is made, so a
misspelt or misplaced option fails at once with the name of the record that would take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import choice

__all__ = ["FLAT_KEYS", "METHODS", "SELECTORS", "Quadrature", "Regression", "method_from_keys", "split_method_keys"]

SELECTORS = ("sparse", "lars", "omp", "ols")
METHODS = ("lars", "omp", "sparse", "ols", "quadrature")  # the names fit_pce(method=...) accepts
# the flat keyword names (old fit_pce keywords, study-file keys) each record takes
_REGRESSION_KEYS = ("degree", "q_norm", "max_degree", "target_loo", "batch")
_QUADRATURE_KEYS = ("level", "rule", "sparse", "q_norm")
FLAT_KEYS = tuple(dict.fromkeys(_REGRESSION_KEYS + _QUADRATURE_KEYS))  # what split_method_keys takes


def _check_q_norm(q_norm: float | None) -> None:
    if q_norm is not None and not 0 < q_norm <= 1:
        raise ValueError(f"q_norm must lie in (0, 1] or be None, got {q_norm!r}")


@dataclass(frozen=True)
class Regression:
    """Options of a regression fit: ``fit_pce(model, method=Regression(...))``.

    Parameters
    ----------
    selector : {"sparse", "lars", "omp", "ols"}, default "sparse"
        Hybrid LARS, orthogonal matching pursuit, ``"sparse"`` (both, the lower error kept per candidate
        basis), or full least squares on each candidate basis.
    degree, q_norm : optional
        Fix the total degree / hyperbolic q-norm; by default both are chosen by corrected LOO over
        degrees ``1..max_degree`` and the q-norms :data:`uqbridge.pce.fit.DEFAULT_Q_NORMS`.
    max_degree : int, default 16
        Highest degree scanned when ``degree`` is not given.
    target_loo : float, optional
        Sequential enrichment: while the worst output's error exceeds it (and fewer than ``fit_pce``'s
        ``max_runs`` runs were made), add ``enrich_by`` runs continuing the design, and refit.
    enrich_by : int, optional
        Runs added per enrichment round (default: half the current number).

    Examples
    --------
    >>> Regression("lars", max_degree=6)
    Regression(selector='lars', degree=None, q_norm=None, max_degree=6, target_loo=None, enrich_by=None)
    >>> Regression(q_norm=1.5)
    Traceback (most recent call last):
    ...
    ValueError: q_norm must lie in (0, 1] or be None, got 1.5
    """

    selector: str = "sparse"
    degree: int | None = None
    q_norm: float | None = None
    max_degree: int = 16
    target_loo: float | None = None
    enrich_by: int | None = None

    def __post_init__(self) -> None:
        choice(self.selector, "selector", SELECTORS)
        if self.degree is not None and not (isinstance(self.degree, (int, np.integer)) and self.degree >= 0):
            raise ValueError(f"degree must be a non-negative integer or None, got {self.degree!r}")
        _check_q_norm(self.q_norm)
        if not (isinstance(self.max_degree, (int, np.integer)) and self.max_degree >= 1):
            raise ValueError(f"max_degree must be a positive integer, got {self.max_degree!r}")
        if self.enrich_by is not None and not (isinstance(self.enrich_by, (int, np.integer)) and self.enrich_by >= 1):
            raise ValueError(f"enrich_by must be a positive integer or None, got {self.enrich_by!r}")


@dataclass(frozen=True)
class Quadrature:
    """Options of a spectral projection on a chaospy quadrature rule: ``fit_pce(model, method=Quadrature(...))``.

    Parameters
    ----------
    level : int, default 4
        Quadrature order; the projected basis is total degree ``≤ level``.
    rule : str, default "gaussian"
        chaospy rule name.
    sparse : bool, default False
        Smolyak sparse grid.
    q_norm : float, optional
        Hyperbolic truncation of the projected basis.

    Examples
    --------
    >>> Quadrature(level=3, sparse=True)
    Quadrature(level=3, rule='gaussian', sparse=True, q_norm=None)
    """

    level: int = 4
    rule: str = "gaussian"
    sparse: bool = False
    q_norm: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.level, (int, np.integer)) and self.level >= 0):
            raise ValueError(f"level must be a non-negative integer, got {self.level!r}")
        _check_q_norm(self.q_norm)


def method_from_keys(method: str = "sparse", **keys: Any) -> Regression | Quadrature:
    """The option record for a method name and flat keys (a study file's ``[pce]`` table, old keywords).

    ``method`` is ``"quadrature"`` or a regression selector; keys the other record takes are ignored
    (a study may list both kinds), keys no record takes are refused.

    Examples
    --------
    >>> method_from_keys("lars", degree=3, level=2)
    Regression(selector='lars', degree=3, q_norm=None, max_degree=16, target_loo=None, enrich_by=None)
    >>> method_from_keys("quadrature", level=2, max_degree=5)
    Quadrature(level=2, rule='gaussian', sparse=False, q_norm=None)
    """
    choice(method, "method", METHODS)
    unknown = sorted(set(keys) - set(_REGRESSION_KEYS) - set(_QUADRATURE_KEYS))
    if unknown:
        raise TypeError(
            f"unknown PCE option(s) {unknown}; Regression takes {list(_REGRESSION_KEYS)}, "
            f"Quadrature takes {list(_QUADRATURE_KEYS)}"
        )
    if method == "quadrature":
        if keys.get("target_loo") is not None:
            raise ValueError("method='quadrature' makes its own runs on the rule's nodes; target_loo needs a regression method")
        return Quadrature(**{k: v for k, v in keys.items() if k in _QUADRATURE_KEYS})
    given = {k: v for k, v in keys.items() if k in _REGRESSION_KEYS}
    if "batch" in given:
        given["enrich_by"] = given.pop("batch")
    return Regression(method, **given)


def split_method_keys(keys: Mapping[str, Any], method: str | None = None) -> tuple[Regression | Quadrature, dict[str, Any]]:
    """Split flat options into the method's record and the remaining :func:`~uqbridge.pce.fit_pce` keywords.

    ``method`` (default ``keys["method"]``, else ``"sparse"``) names the record; for callers that hold
    options as a flat table (study files, ``scale_shares``, ``surrogate_stage``).

    Examples
    --------
    >>> record, rest = split_method_keys({"method": "ols", "degree": 2, "n_runs": 50})
    >>> record.selector, record.degree, rest
    ('ols', 2, {'n_runs': 50})
    """
    rest = dict(keys)
    name = rest.pop("method", "sparse") if method is None else method
    if isinstance(name, (Regression, Quadrature)):
        return name, rest
    flat = {k: rest.pop(k) for k in (*_REGRESSION_KEYS, *_QUADRATURE_KEYS) if k in rest}
    return method_from_keys(name, **flat), rest
