"""Orthonormal polynomial bases over a model's inputs: germs, three-term recurrences, multi-indices.

Each uncertain input gets a *germ* (an independent standardised variable) and the polynomials
orthonormal under the germ's law, evaluated by their three-term recurrence so the same code runs on
NumPy arrays and PyTensor variables.

Germ choice (Wiener–Askey where it exists, otherwise polynomials orthogonal to the marginal itself):

=====================  ===========================  =======================================  ==============
input marginal         germ ξ                       polynomials                              xp-writable
=====================  ===========================  =======================================  ==============
Normal(μ, σ)           (x − μ)/σ                    Hermite (probabilists')                  yes
LogNormal(μ, σ)        (log x − μ)/σ                Hermite                                  yes
Uniform(a, b)          (2x − a − b)/(b − a)         Legendre                                 yes
Beta, Gamma            (x − mean)/std               Jacobi, Laguerre (chaospy ``ttr``)       yes
others (Weibull, …)    (x − mean)/std               orthogonal to the marginal (Stieltjes)   yes
correlated inputs      L⁻¹ Φ⁻¹(F_i(x_i)) (Nataf)    Hermite in the independent germs         Normal, LogNormal, Uniform
=====================  ===========================  =======================================  ==============

For correlated inputs (a Gaussian copula) the germs are the *independent* standard normals of the
InputSet's Nataf transform; each germ is labelled with the input of the same position, but
indices computed from the expansion are then those of the independent germs, not of the
correlated inputs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from ..distributions import Distribution, LogNormal, Normal, Uniform
from ..inputs import InputSet

__all__ = ["Germ", "GermMap", "basis_matrix", "hyperbolic_indices", "orthonormal_polynomials"]

# Marginals whose Φ⁻¹(F(x)) has a closed form in xp operations (for correlated inputs).
_NATAF_XP = (Normal, LogNormal, Uniform)


@dataclass(frozen=True, eq=False)
class Germ:
    """One independent germ: its map from the input and its monic recurrence coefficients.

    ``kind`` is ``"affine"`` (ξ = (x − loc)/scale), ``"log"`` (ξ = (log x − loc)/scale) or
    ``"nataf"`` (ξ is a coordinate of the InputSet's standard-normal transform). ``alpha[k]``,
    ``beta[k]`` are the recurrence coefficients of the monic polynomials orthogonal under ξ's law,
    ``P_{k+1} = (ξ − α_k) P_k − β_k P_{k−1}``.
    """

    name: str
    kind: str
    loc: float
    scale: float
    family: str
    alpha: np.ndarray = field(repr=False)
    beta: np.ndarray = field(repr=False)

    @property
    def max_degree(self) -> int:
        return self.alpha.size - 1


def _recurrence(dist: Distribution, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Monic recurrence coefficients of ``dist`` in its own coordinate, orders 0..order."""
    return _recurrence_cached(dist, order) if _hashable(dist) else _recurrence_raw(dist, order)


def _hashable(dist: Distribution) -> bool:
    try:
        hash(dist)
    except TypeError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _recurrence_cached(dist: Distribution, order: int) -> tuple[np.ndarray, np.ndarray]:
    return _recurrence_raw(dist, order)


def _recurrence_raw(dist: Distribution, order: int) -> tuple[np.ndarray, np.ndarray]:
    import chaospy

    cdist = dist.chaospy()
    try:
        coeffs = np.asarray(cdist.ttr(np.arange(order + 1)), dtype=float).reshape(2, -1)
    except chaospy.UnsupportedFeature:
        # no analytic recurrence: chaospy's discretised Stieltjes procedure on the marginal
        coeffs = np.asarray(chaospy.stieltjes(order, cdist)[0], dtype=float).reshape(2, -1)
    return coeffs[0].copy(), coeffs[1].copy()


def _hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Hermite: α_k = 0, β_k = k (β_0 is unused; 0 as chaospy gives it)."""
    return np.zeros(order + 1), np.arange(order + 1, dtype=float)


def _legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Monic Legendre on [−1, 1] under the uniform law: α_k = 0, β_k = k²/(4k² − 1) (β_0 = 0 unused)."""
    k = np.arange(order + 1, dtype=float)
    return np.zeros(order + 1), k**2 / (4 * k**2 - 1)


def make_germ(name: str, dist: Distribution, order: int, *, dependent: bool) -> Germ:
    """The germ of one uncertain input (see the module table), with recurrences up to ``order``."""
    if dependent:
        alpha, beta = _hermite(order)
        return Germ(name, "nataf", 0.0, 1.0, "hermite", alpha, beta)
    if isinstance(dist, Normal):
        alpha, beta = _hermite(order)
        return Germ(name, "affine", float(dist.mu), float(dist.sigma), "hermite", alpha, beta)
    if isinstance(dist, LogNormal):
        alpha, beta = _hermite(order)
        return Germ(name, "log", float(dist.mu), float(dist.sigma), "hermite", alpha, beta)
    if isinstance(dist, Uniform):
        alpha, beta = _legendre(order)
        loc, scale = 0.5 * (dist.lower + dist.upper), 0.5 * (dist.upper - dist.lower)
        return Germ(name, "affine", float(loc), float(scale), "legendre", alpha, beta)
    else:
        loc, scale = dist.mean, dist.std
        family = {"Beta": "jacobi", "Gamma": "laguerre"}.get(type(dist).__name__, "stieltjes")
    alpha, beta = _recurrence(dist, order)
    # recurrence of ξ = (x − loc)/scale from that of x
    return Germ(name, "affine", float(loc), float(scale), family, (alpha - loc) / scale, beta / scale**2)


def _ndtri(xp: Any, p: Any) -> Any:
    if xp is np:
        return special.ndtri(p)
    return math.sqrt(2.0) * xp.erfinv(2.0 * p - 1.0)


@dataclass(frozen=True, eq=False)
class GermMap:
    """The isoprobabilistic map between a model's inputs and its independent germs.

    Examples
    --------
    >>> from uqbridge.inputs import Input
    >>> s = InputSet([Input("a", Normal(1.0, 2.0)), Input("b", Uniform(0.0, 4.0))])
    >>> g = GermMap.build(s, order=3)
    >>> [round(float(v[0]), 6) for v in g.to_germ({"a": np.array([3.0]), "b": np.array([3.0])})]
    [1.0, 0.5]
    """

    inputs: InputSet
    germs: tuple[Germ, ...]

    @classmethod
    def build(cls, inputs: InputSet, order: int) -> GermMap:
        if inputs.joint:
            raise ValueError(
                "inputs drawn from joint samples have no polynomial chaos germ; fit a parametric "
                "(Gaussian-copula) distribution to them first"
            )
        names = inputs.dimension_names
        if not names:
            raise ValueError("the model has no uncertain inputs; a polynomial chaos expansion needs at least one")
        dependent = not inputs.is_independent
        germs = tuple(make_germ(n, inputs[n].distribution, order, dependent=dependent) for n in names)
        return cls(inputs, germs)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.germs)

    @property
    def dependent(self) -> bool:
        return any(g.kind == "nataf" for g in self.germs)

    @property
    def xp_writable(self) -> bool:
        """Whether :meth:`to_germ` runs on PyTensor (the expansion is then differentiable)."""
        if not self.dependent:
            return True
        return all(isinstance(self.inputs[n].distribution, _NATAF_XP) for n in self.names)

    def to_germ(self, values: Mapping[str, Any], xp: Any = np) -> list[Any]:
        """Germ coordinates ξ_i (one array or tensor per germ) of input values."""
        if not self.dependent:
            out = []
            for g in self.germs:
                x = values[g.name]
                u = xp.log(x) if g.kind == "log" else x
                out.append((u - g.loc) / g.scale)
            return out
        if xp is np:
            z = self.inputs.to_standard_normal({n: np.asarray(values[n], float) for n in self.names})
            return [z[:, k] for k in range(z.shape[1])]
        if not self.xp_writable:
            raise TypeError(
                "the Nataf transform of these correlated inputs has no PyTensor form; "
                f"it needs Normal, LogNormal or Uniform marginals, got "
                f"{[str(self.inputs[n].distribution) for n in self.names]}"
            )
        zc = []
        for n in self.names:
            d, x = self.inputs[n].distribution, values[n]
            if isinstance(d, Normal):
                zc.append((x - d.mu) / d.sigma)
            elif isinstance(d, LogNormal):
                zc.append((xp.log(x) - d.mu) / d.sigma)
            else:
                assert isinstance(d, Uniform)  # xp_writable: Normal, LogNormal or Uniform marginals only
                zc.append(_ndtri(xp, (x - d.lower) / (d.upper - d.lower)))
        # ξ = L⁻¹ z_c by forward substitution (L is small and fixed)
        chol = self.inputs._chol  # noqa: SLF001 - the copula factor the InputSet already owns
        xi: list[Any] = []
        for k in range(len(zc)):
            acc = zc[k]
            for j in range(k):
                if chol[k, j] != 0.0:
                    acc = acc - chol[k, j] * xi[j]
            xi.append(acc / chol[k, k])
        return xi

    def from_germ(self, xi: np.ndarray) -> dict[str, np.ndarray]:
        """Input values (constants filled in) of germ points ``xi`` (n, n_germs)."""
        xi = np.atleast_2d(np.asarray(xi, dtype=float))
        if self.dependent:
            return self.inputs.from_standard_normal(xi)
        values = {}
        for k, g in enumerate(self.germs):
            x = g.loc + g.scale * xi[:, k]
            values[g.name] = np.exp(x) if g.kind == "log" else x
        return self.inputs._with_constants(values, xi.shape[0])  # noqa: SLF001

    def quadrature_distributions(self) -> list[Any]:
        """chaospy distributions on which quadrature nodes are drawn, one per germ."""
        import chaospy

        out = []
        for g in self.germs:
            if g.kind == "affine":
                out.append(self.inputs[g.name].distribution.chaospy())
            else:
                out.append(chaospy.Normal(0.0, 1.0))
        return out

    def quadrature_to_germ(self, nodes: np.ndarray) -> np.ndarray:
        """Map chaospy quadrature nodes (n, n_germs) to germ coordinates."""
        xi = np.array(nodes, dtype=float, copy=True)
        for k, g in enumerate(self.germs):
            if g.kind == "affine":
                xi[:, k] = (xi[:, k] - g.loc) / g.scale
        return xi

    def with_order(self, order: int) -> GermMap:
        """Same map with recurrences truncated to ``order`` (must not exceed the current one)."""
        germs = tuple(
            Germ(g.name, g.kind, g.loc, g.scale, g.family, g.alpha[: order + 1].copy(), g.beta[: order + 1].copy())
            for g in self.germs
        )
        return GermMap(self.inputs, germs)


def hyperbolic_indices(dimension: int, degree: int, q_norm: float = 1.0) -> np.ndarray:
    return _hyperbolic_indices(int(dimension), int(degree), float(q_norm)).copy()


@functools.lru_cache(maxsize=512)
def _hyperbolic_indices(dimension: int, degree: int, q_norm: float) -> np.ndarray:
    """Multi-indices α with ``(Σ α_i^q)^(1/q) ≤ degree``, graded by total degree.

    The hyperbolic truncation of Blatman & Sudret (2011), J. Comput. Phys. 230, 2345–2367; ``q = 1``
    is the total-degree set.

    Examples
    --------
    >>> hyperbolic_indices(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    >>> len(hyperbolic_indices(2, 2, 0.5))  # (1, 1) has 0.5-norm 4 > 2
    5
    """
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree!r}")
    if not 0 < q_norm <= 1:
        raise ValueError(f"q_norm must lie in (0, 1], got {q_norm!r}")
    bound = degree**q_norm * (1 + 1e-12)
    powers = np.arange(degree + 1, dtype=float) ** q_norm
    out: list[tuple[int, ...]] = []

    def extend(prefix: tuple[int, ...], used: float) -> None:
        if len(prefix) == dimension:
            out.append(prefix)
            return
        for a in range(degree + 1):
            if used + powers[a] > bound:
                break
            extend(prefix + (a,), used + powers[a])

    extend((), 0.0)
    return _graded(np.array(out, dtype=np.int64).reshape(-1, dimension))


def _graded(alpha: np.ndarray) -> np.ndarray:
    """Sort multi-indices by total degree, then reverse-lexicographically within a degree."""
    d = alpha.shape[1]
    order = np.lexsort(tuple(-alpha[:, k] for k in range(d - 1, -1, -1)) + (alpha.sum(axis=1),))
    return alpha[order]


def orthonormal_polynomials(xi: Any, alpha: np.ndarray, beta: np.ndarray, degree: int, xp: Any = np) -> list[Any]:
    """``[p_0(ξ), …, p_degree(ξ)]`` orthonormal under the germ law, by the three-term recurrence.

    ``√β_{k+1} p_{k+1} = (ξ − α_k) p_k − √β_k p_{k−1}``; works on NumPy arrays and PyTensor tensors.

    Examples
    --------
    >>> a, b = np.zeros(3), np.arange(3.0)        # probabilists' Hermite
    >>> [round(float(p), 6) for p in orthonormal_polynomials(np.array(2.0), a, b, 2)]
    [1.0, 2.0, 2.12132]
    """
    if degree > alpha.size - 1:
        raise ValueError(f"recurrence known up to degree {alpha.size - 1}, asked for {degree}")
    polys = [xi * 0.0 + 1.0]
    if degree >= 1:
        polys.append((xi - alpha[0]) / math.sqrt(beta[1]))
    for k in range(1, degree):
        polys.append(((xi - alpha[k]) * polys[k] - math.sqrt(beta[k]) * polys[k - 1]) / math.sqrt(beta[k + 1]))
    return polys


def basis_matrix(xi: list[Any], germs: tuple[Germ, ...], indices: np.ndarray, xp: Any = np) -> Any:
    """Values of the multivariate basis ``Ψ[..., t] = Π_i p_{α_ti}(ξ_i)`` (samples first, terms last).

    All germs run through one vectorised recurrence and one gather, so a PyTensor graph stays small
    (a handful of fused elementwise loops), which keeps its compilation fast.

    Examples
    --------
    >>> from uqbridge.inputs import Input
    >>> g = GermMap.build(InputSet([Input("a", Normal(0, 1)), Input("b", Normal(0, 1))]), 2)
    >>> psi = basis_matrix([np.array([1.0]), np.array([2.0])], g.germs, hyperbolic_indices(2, 1))
    >>> psi.tolist()
    [[1.0, 1.0, 2.0]]
    """
    indices = np.asarray(indices, dtype=np.int64)
    d = len(germs)
    table = _table(xi, germs, int(indices.max()) if indices.size else 0, xp)  # (..., d, top + 1)
    gathered = table[..., np.broadcast_to(np.arange(d), indices.shape), indices]  # (..., P, d)
    return xp.prod(gathered, axis=-1)


def _table(xi: list[Any], germs: tuple[Germ, ...], top: int, xp: Any) -> Any:
    d = len(germs)
    top = max(top, 1)
    # recurrence tables padded with harmless values above each germ's own top degree
    alpha = np.zeros((d, top + 1))
    root_beta = np.ones((d, top + 1))
    for k, g in enumerate(germs):
        used = min(top, g.max_degree) + 1
        alpha[k, :used] = g.alpha[:used]
        root_beta[k, 1:used] = np.sqrt(g.beta[1:used])
    if xp is np:
        x = np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in xi]), axis=-1)
    else:
        x = xp.stack(list(xp.broadcast_arrays(*xi)), axis=-1)
    polys = [x * 0.0 + 1.0, (x - alpha[:, 0]) / root_beta[:, 1]]
    for k in range(1, top):
        polys.append(((x - alpha[:, k]) * polys[k] - root_beta[:, k] * polys[k - 1]) / root_beta[:, k + 1])
    return xp.stack(polys, axis=-1)


def univariate_table(xi: list[np.ndarray], germs: tuple[Germ, ...], top: int) -> np.ndarray:
    """``table[s, i, k] = p_k(ξ_i)`` for degrees ``0..top`` (NumPy), to build many bases by gathering."""
    return _table(xi, germs, int(top), np)


def product_basis(table: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``Ψ[s, t] = Π_i table[s, i, α_ti]``: the basis matrix of ``indices`` from :func:`univariate_table`.

    Examples
    --------
    >>> from uqbridge.inputs import Input
    >>> g = GermMap.build(InputSet([Input("a", Normal(0, 1)), Input("b", Normal(0, 1))]), 2)
    >>> xi = [np.array([1.0, 0.5]), np.array([2.0, -1.0])]
    >>> idx = hyperbolic_indices(2, 2)
    >>> bool(np.allclose(product_basis(univariate_table(xi, g.germs, 2), idx), basis_matrix(xi, g.germs, idx)))
    True
    """
    psi = table[:, 0, indices[:, 0]]
    for i in range(1, indices.shape[1]):
        psi = psi * table[:, i, indices[:, i]]
    return psi
