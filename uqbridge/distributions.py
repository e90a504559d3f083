"""Probability distributions for uncertain inputs: one spec, converted to SciPy, chaospy and PyMC.

Each distribution is a small frozen dataclass holding its parameters once; ``scipy()``, ``chaospy()``
and ``pymc()`` build the library objects from those parameters, so there is never a second copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "DISTRIBUTIONS",
    "Beta",
    "Constant",
    "Distribution",
    "Empirical",
    "Gamma",
    "Gumbel",
    "LogNormal",
    "Normal",
    "Triangular",
    "TruncatedNormal",
    "Uniform",
    "Weibull",
    "distribution_from_dict",
]


def _stats() -> Any:
    """``scipy.stats``, imported on first use: it costs about a second, and only the generic
    numerical path (``scipy()``) and kernel densities need it, not declaring or sampling inputs."""
    from scipy import stats

    return stats


def _special() -> Any:
    """``scipy.special``, imported on first use (about 0.3 s): declaring inputs, as the ``uqbridge``
    command does before it refuses a bad request, needs no special function."""
    from scipy import special

    return special


def _number(x: float) -> str:
    """Four significant digits, without an exponent from 10^4 to 10^6 (``11663``, not ``1.166e+04``)."""
    return f"{x:.0f}" if 1e4 <= abs(x) < 1e6 else f"{x:.4g}"


def _positive(dist: str, **params: float) -> None:
    for name, value in params.items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{dist}: parameter {name} must be finite and > 0, got {value!r}")


def _finite(dist: str, **params: float) -> None:
    for name, value in params.items():
        if not np.isfinite(value):
            raise ValueError(f"{dist}: parameter {name} must be finite, got {value!r}")


def _probability(u: Any) -> np.ndarray:
    """``u`` as a float array, NaN outside [0, 1] (as SciPy's ``ppf`` returns), for the closed forms
    that would otherwise give a number or a warning there (the special functions return NaN)."""
    u = np.asarray(u, dtype=float)
    if u.ndim == 0:
        return u if 0.0 <= u <= 1.0 else np.asarray(np.nan)
    if u.size and u.min() >= 0.0 and u.max() <= 1.0:  # the common case, two cheap reductions (NaN fails)
        return u
    return np.where((u >= 0.0) & (u <= 1.0), u, np.nan)


def _nan_outside(x: np.ndarray, u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """``x`` with NaN where ``u`` is outside [0, 1], checked on the (contiguous) result first: the
    common all-valid case costs two fast reductions instead of two passes over a strided column."""
    if x.ndim and x.size and x.min() >= lower and x.max() <= upper:
        return x
    return np.where((u >= 0.0) & (u <= 1.0), x, np.nan)


def _ordered(dist: str, lower: float, upper: float) -> None:
    if not lower < upper:
        raise ValueError(f"{dist}: lower must be < upper, got lower={lower!r}, upper={upper!r}")


@dataclass(frozen=True)
class Distribution:
    """Base of all input distributions (not instantiated directly).

    Subclasses implement :meth:`scipy`, :meth:`chaospy` and :meth:`pymc`; the numerical methods
    (``ppf``, ``cdf``, ``pdf``, ``mean``, ``std``) go through the frozen SciPy distribution.
    """

    def scipy(self) -> Any:
        """Return the equivalent frozen ``scipy.stats`` distribution."""
        raise NotImplementedError

    def chaospy(self) -> Any:
        """Return the equivalent ``chaospy`` distribution (for PCE bases and quadrature)."""
        raise NotImplementedError

    def pymc(self, name: str) -> Any:
        """Create the equivalent PyMC random variable ``name`` inside the current ``pm.Model``."""
        raise NotImplementedError

    # numerical helpers, vectorised; the common families override them with the closed forms SciPy
    # itself uses (the generic frozen-distribution path costs ~0.65 s per 10^6 points, even for a
    # uniform)
    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.scipy().ppf(u)

    def isf(self, u: np.ndarray) -> np.ndarray:
        """Inverse survival function ``F⁻¹(1 − u)``, accurate for small ``u`` (upper tail)."""
        return self.scipy().isf(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self.scipy().cdf(x)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return self.scipy().pdf(x)

    @property
    def mean(self) -> float:
        return float(self.scipy().mean())

    @property
    def std(self) -> float:
        return float(self.scipy().std())

    @property
    def is_constant(self) -> bool:
        return False

    # whether the parameters read directly in the input's units (Normal's mean and sd, Uniform's
    # bounds); when not (LogNormal's log-space mu and sigma, shapes), ``natural`` adds quantiles
    _natural_parameters: ClassVar[bool] = True

    def natural(self, units: str = "") -> str:
        """The law as a person reads it, in the input's ``units``: its parameters and, where they are
        not in those units (log-space, shapes), the median and the central 90 % range.

        Examples
        --------
        >>> LogNormal.from_median_cov(3.2, 0.25).natural("GPa")
        'LogNormal(mu=1.16315, sigma=0.246221): median 3.2 GPa, 90 % [2.134, 4.798]'
        >>> Normal(100, 10).natural("MPa")
        'Normal(mu=100, sigma=10)'
        """
        if self._natural_parameters:
            return str(self)
        try:
            quantiles = [float(v) for v in self.ppf(np.array([0.5, 0.05, 0.95]))]
        except (OverflowError, FloatingPointError):  # e.g. LogNormal(mu=1000): beyond floating point
            return str(self)
        median, low, high = (_number(v) for v in quantiles)
        unit = f" {units}" if units else ""
        return f"{self}: median {median}{unit}, 90 % [{low}, {high}]"

    def to_dict(self) -> dict[str, Any]:
        """Parameters as a JSON-serialisable dict (``{"type": ..., **params}``)."""
        out: dict[str, Any] = {"type": type(self).__name__}
        for key, value in self.__dict__.items():
            out[key] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    def __str__(self) -> str:
        """Every scalar parameter, integers included (``Normal(mu=100, sigma=10)``): this text is
        stored in every result's provenance, so it must pin the law down.

        Examples
        --------
        >>> str(Normal(100, 10)), str(Uniform(0, 0.05))
        ('Normal(mu=100, sigma=10)', 'Uniform(lower=0, upper=0.05)')
        """
        params = ", ".join(
            f"{k}={float(v):.6g}" for k, v in self.__dict__.items()
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        )
        return f"{type(self).__name__}({params})"


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal distribution with mean ``mu`` and standard deviation ``sigma``.

    Examples
    --------
    >>> float(Normal(1.0, 0.1).ppf(0.5))
    1.0
    """

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        _finite("Normal", mu=self.mu)
        _positive("Normal", sigma=self.sigma)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.mu + self.sigma * _special().ndtri(u)

    def isf(self, u: np.ndarray) -> np.ndarray:
        return self.mu - self.sigma * _special().ndtri(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return _special().ndtr((np.asarray(x, dtype=float) - self.mu) / self.sigma)

    def scipy(self) -> Any:
        return _stats().norm(self.mu, self.sigma)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.Normal(self.mu, self.sigma)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.Normal(name, mu=self.mu, sigma=self.sigma)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal distribution: ``log X ~ Normal(mu, sigma)``.

    Use :meth:`from_median_cov` to give the median and the coefficient of variation instead.

    Examples
    --------
    >>> d = LogNormal.from_median_cov(2.0, 0.1)
    >>> round(float(d.scipy().median()), 12), round(d.std / d.mean, 12)
    (2.0, 0.1)
    """

    mu: float
    sigma: float

    _natural_parameters: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _finite("LogNormal", mu=self.mu)
        _positive("LogNormal", sigma=self.sigma)

    @classmethod
    def from_median_cov(cls, median: float, cov: float) -> LogNormal:
        """Log-normal with the given median and coefficient of variation (std / mean)."""
        _positive("LogNormal.from_median_cov", median=median, cov=cov)
        return cls(math.log(median), math.sqrt(math.log1p(cov**2)))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self.sigma * _special().ndtri(u)) * math.exp(self.mu)

    def isf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(-self.sigma * _special().ndtri(u)) * math.exp(self.mu)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(x > 0, x, 1.0)) - self.mu) / self.sigma
        return np.where(x > 0, _special().ndtr(z), np.where(np.isnan(x), np.nan, 0.0))

    def scipy(self) -> Any:
        return _stats().lognorm(s=self.sigma, scale=math.exp(self.mu))

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.LogNormal(self.mu, self.sigma)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.LogNormal(name, mu=self.mu, sigma=self.sigma)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform distribution on ``[lower, upper]``.

    Examples
    --------
    >>> Uniform(-1.0, 3.0).mean
    1.0
    """

    lower: float
    upper: float

    def __post_init__(self) -> None:
        _finite("Uniform", lower=self.lower, upper=self.upper)
        _ordered("Uniform", self.lower, self.upper)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return _nan_outside(self.lower + (self.upper - self.lower) * u, u, self.lower, self.upper)

    def isf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return _nan_outside(self.lower + (self.upper - self.lower) * (1.0 - u), u, self.lower, self.upper)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(x, dtype=float) - self.lower) / (self.upper - self.lower), 0.0, 1.0)

    def scipy(self) -> Any:
        return _stats().uniform(self.lower, self.upper - self.lower)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.Uniform(self.lower, self.upper)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.Uniform(name, lower=self.lower, upper=self.upper)


@dataclass(frozen=True)
class TruncatedNormal(Distribution):
    """Normal(``mu``, ``sigma``) truncated to ``[lower, upper]`` (either bound may be infinite).

    Examples
    --------
    >>> bool(TruncatedNormal(0.0, 1.0, 0.0, float("inf")).ppf(0.5) > 0)
    True
    """

    mu: float
    sigma: float
    lower: float = -math.inf
    upper: float = math.inf

    _natural_parameters: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _finite("TruncatedNormal", mu=self.mu)
        _positive("TruncatedNormal", sigma=self.sigma)
        _ordered("TruncatedNormal", self.lower, self.upper)

    def scipy(self) -> Any:
        a, b = (self.lower - self.mu) / self.sigma, (self.upper - self.mu) / self.sigma
        return _stats().truncnorm(a, b, loc=self.mu, scale=self.sigma)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.TruncNormal(self.lower, self.upper, self.mu, self.sigma)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        lower = None if math.isinf(self.lower) else self.lower
        upper = None if math.isinf(self.upper) else self.upper
        return pm.TruncatedNormal(name, mu=self.mu, sigma=self.sigma, lower=lower, upper=upper)


@dataclass(frozen=True)
class Beta(Distribution):
    """Beta(``alpha``, ``beta``) distribution scaled to ``[lower, upper]``.

    Examples
    --------
    >>> Beta(2.0, 2.0, 0.0, 10.0).mean
    5.0
    """

    alpha: float
    beta: float
    lower: float = 0.0
    upper: float = 1.0

    _natural_parameters: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _positive("Beta", alpha=self.alpha, beta=self.beta)
        _finite("Beta", lower=self.lower, upper=self.upper)
        _ordered("Beta", self.lower, self.upper)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.lower + (self.upper - self.lower) * _special().betaincinv(self.alpha, self.beta, u)

    def isf(self, u: np.ndarray) -> np.ndarray:
        return self.lower + (self.upper - self.lower) * _special().betainccinv(self.alpha, self.beta, u)

    def scipy(self) -> Any:
        return _stats().beta(self.alpha, self.beta, loc=self.lower, scale=self.upper - self.lower)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.Beta(self.alpha, self.beta, self.lower, self.upper)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        if (self.lower, self.upper) == (0.0, 1.0):
            return pm.Beta(name, alpha=self.alpha, beta=self.beta)
        raw = pm.Beta(f"{name}_unit", alpha=self.alpha, beta=self.beta)
        return pm.Deterministic(name, self.lower + (self.upper - self.lower) * raw)


@dataclass(frozen=True)
class Gamma(Distribution):
    """Gamma distribution with ``shape`` k and ``scale`` θ (mean kθ).

    Examples
    --------
    >>> Gamma(2.0, 3.0).mean
    6.0
    """

    shape: float
    scale: float

    _natural_parameters: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _positive("Gamma", shape=self.shape, scale=self.scale)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.scale * _special().gammaincinv(self.shape, u)

    def isf(self, u: np.ndarray) -> np.ndarray:
        return self.scale * _special().gammainccinv(self.shape, u)

    def scipy(self) -> Any:
        return _stats().gamma(self.shape, scale=self.scale)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.Gamma(self.shape, self.scale)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.Gamma(name, alpha=self.shape, beta=1.0 / self.scale)


@dataclass(frozen=True)
class Weibull(Distribution):
    """Two-parameter Weibull distribution (``shape`` = Weibull modulus m, ``scale`` λ).

    Examples
    --------
    >>> round(Weibull(1.0, 2.0).mean, 12)
    2.0
    """

    shape: float
    scale: float

    _natural_parameters: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _positive("Weibull", shape=self.shape, scale=self.scale)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.scale * (-np.log1p(-_probability(u))) ** (1.0 / self.shape)

    def isf(self, u: np.ndarray) -> np.ndarray:
        return self.scale * (-np.log(_probability(u))) ** (1.0 / self.shape)

    def scipy(self) -> Any:
        return _stats().weibull_min(self.shape, scale=self.scale)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.Weibull(self.shape, self.scale)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.Weibull(name, alpha=self.shape, beta=self.scale)


@dataclass(frozen=True)
class Gumbel(Distribution):
    """Gumbel (largest-value, type I extreme) distribution with location ``loc`` and ``scale``.

    Examples
    --------
    >>> round(Gumbel(0.0, 1.0).mean, 6)  # Euler–Mascheroni constant
    0.577216
    """

    loc: float
    scale: float

    _natural_parameters: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _finite("Gumbel", loc=self.loc)
        _positive("Gumbel", scale=self.scale)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.loc - self.scale * np.log(-np.log(_probability(u)))

    def isf(self, u: np.ndarray) -> np.ndarray:
        return self.loc - self.scale * np.log(-np.log1p(-_probability(u)))

    def scipy(self) -> Any:
        return _stats().gumbel_r(self.loc, self.scale)

    def chaospy(self) -> Any:
        import chaospy

        # chaospy's ``Gumbel`` is a copula; the Gumbel marginal is its ``LogWeibull``.
        return chaospy.LogWeibull(self.scale, self.loc)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.Gumbel(name, mu=self.loc, beta=self.scale)


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular distribution on ``[lower, upper]`` with peak at ``mode``.

    Examples
    --------
    >>> Triangular(0.0, 1.0, 2.0).mean
    1.0
    """

    lower: float
    mode: float
    upper: float

    def __post_init__(self) -> None:
        _finite("Triangular", lower=self.lower, mode=self.mode, upper=self.upper)
        _ordered("Triangular", self.lower, self.upper)
        if not self.lower <= self.mode <= self.upper:
            raise ValueError(
                f"Triangular: mode must lie in [lower, upper], got lower={self.lower!r}, "
                f"mode={self.mode!r}, upper={self.upper!r}"
            )

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = _probability(u)
        width = self.upper - self.lower
        c = (self.mode - self.lower) / width
        with np.errstate(invalid="ignore"):
            unit = np.where(u < c, np.sqrt(c * u), 1.0 - np.sqrt((1.0 - c) * (1.0 - u)))
        return self.lower + width * unit

    def scipy(self) -> Any:
        width = self.upper - self.lower
        return _stats().triang((self.mode - self.lower) / width, loc=self.lower, scale=width)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.Triangle(self.lower, self.mode, self.upper)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        return pm.Triangular(name, lower=self.lower, c=self.mode, upper=self.upper)


@dataclass(frozen=True)
class Constant(Distribution):
    """A fixed value: the input takes no part in the design or in any analysis.

    Examples
    --------
    >>> Constant(3.0).ppf([0.1, 0.9])
    array([3., 3.])
    """

    value: float

    def __post_init__(self) -> None:
        _finite("Constant", value=self.value)

    @property
    def is_constant(self) -> bool:
        return True

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) >= self.value).astype(float)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        raise ValueError("Constant has no density; it is a fixed value")

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def std(self) -> float:
        return 0.0

    def scipy(self) -> Any:
        raise TypeError("Constant has no scipy.stats equivalent; it is a fixed value")

    def chaospy(self) -> Any:
        raise TypeError("Constant has no chaospy equivalent; it is a fixed value")

    def pymc(self, name: str) -> Any:
        return float(self.value)

    def __str__(self) -> str:
        return f"Constant({self.value:.4g})"


@dataclass(frozen=True, eq=False)
class Empirical(Distribution):
    """Distribution given by samples, e.g. posterior draws that become the new epistemic input.

    ``ppf`` is the linearly interpolated empirical quantile function; ``scipy()`` and ``pymc()`` use a
    histogram / Gaussian-KDE density. To keep the *correlations* between several parameters drawn
    together, give the samples jointly with :meth:`uqbridge.inputs.InputSet.with_joint_samples`.

    Examples
    --------
    >>> d = Empirical([1.0, 2.0, 3.0])
    >>> float(d.ppf(0.5)), d.mean
    (2.0, 2.0)
    """

    samples: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        values = np.sort(np.asarray(self.samples, dtype=float).ravel())
        if values.size < 2:
            raise ValueError(f"Empirical: need at least 2 samples, got {values.size}")
        if not np.all(np.isfinite(values)):
            raise ValueError("Empirical: samples must be finite (found NaN or inf)")
        object.__setattr__(self, "samples", values)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.quantile(self.samples, np.asarray(u, dtype=float))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.samples, np.asarray(x), side="right") / self.samples.size

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return _stats().gaussian_kde(self.samples)(np.atleast_1d(x))

    @property
    def mean(self) -> float:
        return float(self.samples.mean())

    @property
    def std(self) -> float:
        return float(self.samples.std(ddof=1))

    def scipy(self) -> Any:
        return _stats().rv_histogram(np.histogram(self.samples, bins="auto"), density=True)

    def chaospy(self) -> Any:
        import chaospy

        return chaospy.GaussianKDE(self.samples)

    def pymc(self, name: str) -> Any:
        import pymc as pm

        lo, hi = self.samples[0], self.samples[-1]
        pad = 0.1 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 200)
        return pm.Interpolated(name, grid, _stats().gaussian_kde(self.samples)(grid))

    def __str__(self) -> str:
        return f"Empirical(n={self.samples.size}, mean={self.mean:.4g}, std={self.std:.4g})"


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.__name__: cls
    for cls in (
        Normal,
        LogNormal,
        Uniform,
        TruncatedNormal,
        Beta,
        Gamma,
        Weibull,
        Gumbel,
        Triangular,
        Constant,
        Empirical,
    )
}


def distribution_from_dict(spec: dict[str, Any]) -> Distribution:
    """Rebuild a distribution from :meth:`Distribution.to_dict` output (or a study file table).

    Examples
    --------
    >>> distribution_from_dict({"type": "Normal", "mu": 0.0, "sigma": 2.0})
    Normal(mu=0.0, sigma=2.0)
    """
    spec = dict(spec)
    kind = spec.pop("type", None)
    if kind not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution type {kind!r}; valid types: {sorted(DISTRIBUTIONS)}")
    cls = DISTRIBUTIONS[kind]
    try:
        return cls(**spec)
    except TypeError as err:
        raise ValueError(f"{kind}: bad parameters {sorted(spec)} ({err})") from None
