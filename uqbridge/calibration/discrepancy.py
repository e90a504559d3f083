"""Model discrepancy (Kennedy & O'Hagan 2001): what the forward model gets wrong, calibrated with its parameters.

:class:`GPDiscrepancy` adds a smooth function of the conditions, a Gaussian process in PyMC's
Hilbert-space approximation (``pm.gp.HSGP``); :class:`RelativeDiscrepancy` scales the model by
``1 + e`` with a calibrated spread (heteroscedastic misfit). Both enter the likelihood, the posterior
predictive, :func:`~uqbridge.calibration.predict` and the pushforward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DISCREPANCIES",
    "GPDiscrepancy",
    "RelativeDiscrepancy",
    "gp_basis",
    "parse_discrepancy",
]

DISCREPANCIES = ("gp", "relative")


@dataclass(frozen=True)
class GPDiscrepancy:
    """Additive discrepancy ``delta(x) ~ GP(0, eta² ExpQuad(ell))`` over the conditions ``x`` of the data.

    The conditions are standardised to ``[-1, 1]`` over their observed range, and the GP is the
    Hilbert-space approximation of Solin & Särkkä (2020) as parametrised by Riutort-Mayol et al.
    (2023), *Practical Hilbert space approximate Bayesian Gaussian processes*, Stat. Comput. 33:17:
    ``m`` sine basis functions per condition on ``[-c, c]``, non-centred coefficients. It is accurate
    for length scales between about ``1.75 c / m`` and ``c / 3.2`` (0.36–0.78 with the defaults, in
    standardised units; ibid., §4), which the default length-scale prior mostly keeps to; longer
    length scales give near-linear trends, slightly damped at the ends of the data. Predictions are
    refused beyond ``|x| > c``.

    Parameters
    ----------
    conditions : sequence of str, optional
        Model inputs the discrepancy depends on; default every condition that varies in the data.
    m : int
        Basis functions per condition (``m**d`` in all).
    c : float
        Boundary factor (>= 1.2): the approximation holds on ``[-c, c]`` in standardised units, i.e.
        up to ``(c - 1)`` half-ranges outside the observed conditions.
    amplitude : float, optional
        Scale of the half-normal prior on ``eta`` in output units. Default: 0.1 × the root mean
        square of the observed output — a discrepancy of about a tenth of the signal.
    lengthscale : tuple of float
        Median and log-sd of the log-normal prior on each length scale (standardised units); the
        default ``(0.8, 0.35)`` puts 95 % of the mass on 0.40–1.6: smooth, trend-like misfit.

    Examples
    --------
    >>> GPDiscrepancy(m=12).m
    12
    """

    conditions: tuple[str, ...] | None = None
    m: int = 12
    c: float = 2.5
    amplitude: float | None = None
    lengthscale: tuple[float, float] = (0.8, 0.35)

    def __post_init__(self) -> None:
        if self.conditions is not None:
            object.__setattr__(self, "conditions", tuple(self.conditions))
        if isinstance(self.m, bool) or not isinstance(self.m, (int, np.integer)) or self.m < 2:
            raise ValueError(f"GPDiscrepancy: m must be an integer >= 2, got {self.m!r}")
        if not (np.isfinite(self.c) and self.c >= 1.2):
            raise ValueError(f"GPDiscrepancy: c must be >= 1.2 (Riutort-Mayol et al. 2023), got {self.c!r}")
        if self.amplitude is not None and not (np.isfinite(self.amplitude) and self.amplitude > 0):
            raise ValueError(f"GPDiscrepancy: amplitude must be a positive number or None, got {self.amplitude!r}")
        med, sd = self.lengthscale
        if not (med > 0 and sd > 0):
            raise ValueError(f"GPDiscrepancy: lengthscale must be (median > 0, log-sd > 0), got {self.lengthscale!r}")


@dataclass(frozen=True)
class RelativeDiscrepancy:
    """Multiplicative discrepancy: ``y = f(theta) (1 + e) + noise`` with ``e ~ Normal(0, kappa²)`` per point.

    The simplest heteroscedastic misfit model: the error grows with the prediction, independently
    from point to point. ``kappa`` gets a half-normal prior of scale ``scale``.

    Examples
    --------
    >>> RelativeDiscrepancy().scale
    0.1
    """

    scale: float = 0.1

    def __post_init__(self) -> None:
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"RelativeDiscrepancy: scale must be a positive number, got {self.scale!r}")


Discrepancy = GPDiscrepancy | RelativeDiscrepancy


def _one(spec: Any, output: str) -> Discrepancy | None:
    if spec is None or isinstance(spec, (GPDiscrepancy, RelativeDiscrepancy)):
        return spec
    if spec == "gp":
        return GPDiscrepancy()
    if spec == "relative":
        return RelativeDiscrepancy()
    raise ValueError(
        f"discrepancy for output {output!r}: expected None, 'gp', 'relative', a GPDiscrepancy or a "
        f"RelativeDiscrepancy, got {spec!r}"
    )


def parse_discrepancy(discrepancy: Any, outputs: Sequence[str]) -> dict[str, Discrepancy]:
    """One discrepancy per output that has one (``{}`` for none).

    Examples
    --------
    >>> parse_discrepancy("gp", ["tau"])
    {'tau': GPDiscrepancy(conditions=None, m=12, c=2.5, amplitude=None, lengthscale=(0.8, 0.35))}
    >>> parse_discrepancy({"tau": None}, ["tau"])
    {}
    """
    outputs = list(outputs)
    if isinstance(discrepancy, Mapping):
        unknown = sorted(set(discrepancy) - set(outputs))
        if unknown:
            raise KeyError(f"discrepancy: {unknown} are not calibrated outputs; outputs: {outputs}")
        specs = {o: _one(s, o) for o, s in discrepancy.items()}
    else:
        specs = {o: _one(discrepancy, o) for o in outputs}
    return {o: s for o, s in specs.items() if s is not None}


def discrepancy_names(output: str, spec: Discrepancy) -> dict[str, str]:
    """Posterior variable names of the discrepancy of ``output``."""
    if isinstance(spec, GPDiscrepancy):
        return {"eta": f"delta_eta_{output}", "ell": f"delta_ell_{output}", "beta": f"delta_beta_{output}",
                "delta": f"delta_{output}"}
    return {"kappa": f"delta_kappa_{output}"}


def gp_eigenvalues(m: int, d: int, c: float) -> np.ndarray:
    """``(m**d, d)`` square roots of the Laplacian eigenvalues on ``[-c, c]^d`` (PyMC's ordering)."""
    j = np.arange(1, m + 1)
    grids = np.meshgrid(*([j] * d), indexing="ij")
    index = np.column_stack([g.ravel() for g in grids])
    return np.pi * index / (2.0 * c)


def gp_basis(x: np.ndarray, m: int, c: float) -> np.ndarray:
    """Laplace eigenfunctions at standardised conditions ``x`` ``(n, d)``: ``(n, m**d)``.

    ``phi_j(x) = prod_k c^{-1/2} sin(omega_jk (x_k + c))`` (Solin & Särkkä 2020, eq. 56).

    Examples
    --------
    >>> gp_basis(np.array([[-1.5], [1.5]]), m=3, c=1.5).round(12).tolist()  # zero on the boundary
    [[0.0, 0.0, 0.0], [0.0, -0.0, 0.0]]
    """
    x = np.atleast_2d(np.asarray(x, float))
    omega = gp_eigenvalues(m, x.shape[1], c)
    return np.prod(np.sin(omega[None, :, :] * (x[:, None, :] + c)) / np.sqrt(c), axis=2)


def gp_sqrt_psd(eta: np.ndarray, ell: np.ndarray, m: int, c: float) -> np.ndarray:
    """Square root of the ExpQuad spectral density at the basis frequencies: ``(..., m**d)``.

    ``S(w) = eta² (2 pi)^{d/2} prod_k ell_k exp(-ell_k² w_k² / 2)`` (Rasmussen & Williams 2006, eq. 4.21).
    ``eta`` has shape ``(...)`` and ``ell`` ``(..., d)``.
    """
    eta = np.asarray(eta, float)
    ell = np.asarray(ell, float)
    d = ell.shape[-1]
    omega = gp_eigenvalues(m, d, c)  # (M, d)
    log_s = (
        2 * np.log(eta)[..., None]
        + 0.5 * d * np.log(2 * np.pi)
        + np.sum(np.log(ell), axis=-1)[..., None]
        - 0.5 * np.sum((ell[..., None, :] * omega) ** 2, axis=-1)
    )
    return np.exp(0.5 * log_s)


@dataclass(frozen=True)
class Standardiser:
    """Affine map of the discrepancy's conditions to ``[-1, 1]`` over their observed range."""

    names: tuple[str, ...]
    center: tuple[float, ...]
    half_range: tuple[float, ...]

    @classmethod
    def fit(cls, conditions: Mapping[str, np.ndarray], names: Sequence[str]) -> Standardiser:
        lo = [float(np.min(conditions[n])) for n in names]
        hi = [float(np.max(conditions[n])) for n in names]
        return cls(tuple(names), tuple((a + b) / 2 for a, b in zip(lo, hi)), tuple((b - a) / 2 for a, b in zip(lo, hi)))

    def __call__(self, conditions: Mapping[str, Any]) -> np.ndarray:
        cols = [(np.asarray(conditions[n], float) - c) / h for n, c, h in zip(self.names, self.center, self.half_range)]
        return np.column_stack(cols)

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "center": list(self.center), "half_range": list(self.half_range)}


def gp_conditions(spec: GPDiscrepancy, conditions: Mapping[str, np.ndarray], output: str) -> tuple[str, ...]:
    """The conditions the GP depends on: the given ones, or every condition varying in the data."""
    if spec.conditions is None:
        names = tuple(n for n, v in conditions.items() if np.ptp(v) > 0)
        if not names:
            raise ValueError(
                f"discrepancy for output {output!r}: no condition varies in the data, so a GP over the "
                "conditions cannot be fitted; use RelativeDiscrepancy or give conditions that vary"
            )
        return names
    for n in spec.conditions:
        if n not in conditions:
            raise KeyError(
                f"GPDiscrepancy.conditions: {n!r} is not a condition of the data; conditions: {list(conditions)}"
            )
        if np.ptp(conditions[n]) == 0:
            raise ValueError(f"GPDiscrepancy.conditions: condition {n!r} does not vary in the data")
    return spec.conditions


def gp_delta(posterior: Mapping[str, np.ndarray], meta: Mapping[str, Any], conditions: Mapping[str, Any]) -> np.ndarray:
    """GP discrepancy of one output at new ``conditions`` for every posterior draw: ``(draws, n)``.

    ``posterior`` holds pooled draws of ``eta`` ``(s,)``, ``ell`` ``(s, d)`` and ``beta`` ``(s, m**d)``
    under the names in ``meta["names"]``; ``meta`` is the stored description of the discrepancy.
    """
    std = Standardiser(tuple(meta["conditions"]), tuple(meta["center"]), tuple(meta["half_range"]))
    x = std(conditions)
    c, m = float(meta["c"]), int(meta["m"])
    outside = np.abs(x) > c
    if outside.any():
        bad = sorted({std.names[k] for k in np.nonzero(outside)[1]})
        raise ValueError(
            f"conditions {bad} lie outside the range where the discrepancy GP is defined (standardised "
            f"|x| <= c = {c}: {[round(ce - c * h, 6) for ce, h in zip(std.center, std.half_range)]} to "
            f"{[round(ce + c * h, 6) for ce, h in zip(std.center, std.half_range)]}); calibrate with a larger "
            "GPDiscrepancy(c=...) to predict that far"
        )
    names = meta["names"]
    eta = np.asarray(posterior[names["eta"]], float)
    ell = np.asarray(posterior[names["ell"]], float).reshape(eta.shape[0], -1)
    beta = np.asarray(posterior[names["beta"]], float)
    weights = beta * gp_sqrt_psd(eta, ell, m, c)  # (s, M)
    return weights @ gp_basis(x, m, c).T
