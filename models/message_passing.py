"""Multiresolution message passing on a raster graph pyramid, and how input noise propagates through it.

Fine raster nodes are pooled into coarse super-nodes level by level; linear messages pass within a scale
(neighbour averaging) and between scales (pool down, unpool up with skip connections), with scipy.sparse.

Equations
---------
Level ``l`` is an ``n_l × m_l`` raster (``n_{l+1} = n_l / 2``) with 4-neighbour adjacency ``A_l`` and degree
matrix ``D_l``. The operators are row-stochastic (they preserve constant fields):

* within-scale smoothing ``S_l = (1 − β) I + β D_l⁻¹ A_l`` (a lazy random-walk step; Kipf & Welling 2017
  use the symmetric variant; the random-walk form keeps averages),
* pooling ``P_l``: the mean over each 2 × 2 block of level ``l`` gives one super-node of level ``l + 1``,
* unpooling ``U_l = 4 P_lᵀ`` (each child receives its parent's value) merged with the skip connection:
  ``h_l ← (1 − γ) h_l^skip + γ U_l h_{l+1}`` (a U-Net / multigrid V-cycle; Ronneberger et al. 2015).

The layer sequence for ``L`` levels is: ``smooth_0, pool_0, …, smooth_{L−1}`` down, then
``unpool_{L−2}, smooth_up_{L−2}, …, unpool_0, smooth_up_0`` up (``4L − 3`` layers). Every layer state is
linear in the input, ``h_k = M_k x``; for input noise with covariance ``Σ = σ² I`` the layer covariance is
``Cov_k = M_k Σ M_kᵀ``, i.e. ``Cov_k = W_k Cov_{k−1} W_kᵀ`` for a plain layer ``h_k = W_k h_{k−1}``, with the
skip merge adding the cross terms. Closed forms used as checks: a 2 × 2 mean pool of i.i.d. noise has
variance ``σ²/4``; one smoothing step gives an interior node ``σ²((1 − β)² + β²/4)``.

With ``activation="tanh"`` after every smoothing layer the network is nonlinear: ``Cov_k ≈ σ² J_k J_kᵀ``
with ``J_k`` the Jacobian at the clean input (forward-mode propagation of the identity; the delta method,
exact to first order in σ²), checked by sampling for small noise; for large noise saturation makes the
true variance smaller than the delta-method value.

Validation status
-----------------
Its checks are closed-form unit tests only (pooled and smoothed noise variances, the delta method against
sampling): the network is a synthetic linear/tanh operator on a synthetic raster with mixing weights that
are not learned from any data set, so there is no published or measured quantity it could be compared with.

Default inputs
--------------
* ``noise_std`` ~ LogNormal(median 0.1, CoV 0.5), aleatory: i.i.d. Gaussian noise on the fine input.
* ``seed_u`` ~ Uniform(0, 1), aleatory: selects the noise realisation deterministically.
* ``beta`` ~ Uniform(0.2, 0.8) and ``gamma`` ~ Uniform(0.2, 0.8), epistemic: within- and between-scale
  mixing weights (learned in a graph network, unknown here).
* ``signal_amplitude`` = 1: the clean field is ``a sin(2π i/n) cos(2π j/n)`` on a 16 × 16 raster, 3 levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import sparse

from uqbridge import Constant, ForwardModel, Input, LogNormal, Output, Uniform
from uqbridge.results import provenance, seed_attr

__all__ = [
    "ACTIVATIONS",
    "RasterPyramid",
    "grid_adjacency",
    "layer_covariances",
    "layer_names",
    "layer_variance",
    "message_passing",
    "pooling_matrix",
    "propagate_layers",
    "raster_pyramid",
]

ACTIVATIONS = ("linear", "tanh")


def _check_positive_int(argument: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{argument} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_weight(argument: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{argument} must lie in [0, 1], got {value!r}")
    return float(value)


def grid_adjacency(n_rows: int, n_cols: int) -> sparse.csr_array:
    """4-neighbour adjacency of an ``n_rows × n_cols`` raster, nodes in row-major (C) order.

    Examples
    --------
    >>> a = grid_adjacency(3, 3)
    >>> a.shape, int(a.sum()), [int(d) for d in a.sum(axis=1)[:3]]
    ((9, 9), 24, [2, 3, 2])
    """
    n_rows = _check_positive_int("n_rows", n_rows)
    n_cols = _check_positive_int("n_cols", n_cols)
    # a 2-D grid graph is the Kronecker sum of two path graphs
    path_r = sparse.diags_array([np.ones(n_rows - 1), np.ones(n_rows - 1)], offsets=[-1, 1], shape=(n_rows, n_rows))
    path_c = sparse.diags_array([np.ones(n_cols - 1), np.ones(n_cols - 1)], offsets=[-1, 1], shape=(n_cols, n_cols))
    return sparse.csr_array(sparse.kronsum(path_c, path_r, format="csr"))


def pooling_matrix(n_rows: int, n_cols: int) -> sparse.csr_array:
    """Mean over 2 × 2 blocks: ``(n_rows/2 · n_cols/2) × (n_rows · n_cols)``, rows sum to one.

    Examples
    --------
    >>> p = pooling_matrix(4, 4)
    >>> p.shape, float(p.sum(axis=1).max()), (p @ np.arange(16.0)).tolist()
    ((4, 16), 1.0, [2.5, 4.5, 10.5, 12.5])
    """
    for name, n in (("n_rows", n_rows), ("n_cols", n_cols)):
        if _check_positive_int(name, n, 2) % 2:
            raise ValueError(f"{name} must be even to pool 2 x 2 blocks, got {n!r}")
    block_r = sparse.kron(sparse.eye_array(n_rows // 2), np.full((1, 2), 0.5))
    block_c = sparse.kron(sparse.eye_array(n_cols // 2), np.full((1, 2), 0.5))
    return sparse.csr_array(sparse.kron(block_r, block_c))


@dataclass(frozen=True, eq=False)
class RasterPyramid:
    """Raster graphs of every level (finest first) and the pooling matrices between them."""

    shapes: tuple[tuple[int, int], ...]
    adjacency: tuple[sparse.csr_array, ...]
    pooling: tuple[sparse.csr_array, ...]

    @property
    def levels(self) -> int:
        return len(self.shapes)

    @property
    def n_nodes(self) -> int:
        return self.shapes[0][0] * self.shapes[0][1]


def raster_pyramid(n_rows: int = 16, n_cols: int = 16, levels: int = 3) -> RasterPyramid:
    """Build a ``levels``-level pyramid; every level but the last must have even sides.

    Examples
    --------
    >>> pyr = raster_pyramid(16, 16, 3)
    >>> pyr.shapes, pyr.n_nodes
    (((16, 16), (8, 8), (4, 4)), 256)
    >>> raster_pyramid(12, 12, 4)
    Traceback (most recent call last):
    ...
    ValueError: a 12 x 12 raster cannot be pooled 3 times: sides must be divisible by 2**3
    """
    levels = _check_positive_int("levels", levels)
    n_rows = _check_positive_int("n_rows", n_rows)
    n_cols = _check_positive_int("n_cols", n_cols)
    factor = 2 ** (levels - 1)
    if n_rows % factor or n_cols % factor:
        raise ValueError(
            f"a {n_rows} x {n_cols} raster cannot be pooled {levels - 1} times: sides must be divisible by "
            f"2**{levels - 1}"
        )
    shapes = tuple((n_rows // 2**level, n_cols // 2**level) for level in range(levels))
    return RasterPyramid(
        shapes=shapes,
        adjacency=tuple(grid_adjacency(*s) for s in shapes),
        pooling=tuple(pooling_matrix(*s) for s in shapes[:-1]),
    )


def layer_names(levels: int) -> list[str]:
    """Names of the ``4 levels − 3`` layers, in order.

    Examples
    --------
    >>> layer_names(2)
    ['smooth_0', 'pool_0', 'smooth_1', 'unpool_0', 'smooth_up_0']
    """
    down = [name for level in range(levels - 1) for name in (f"smooth_{level}", f"pool_{level}")]
    up = [name for level in reversed(range(levels - 1)) for name in (f"unpool_{level}", f"smooth_up_{level}")]
    return ["input", *down, f"smooth_{levels - 1}", *up][1:]


def _smoother(adjacency: sparse.csr_array, beta: float) -> sparse.csr_array:
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    walk = sparse.diags_array(1.0 / np.maximum(degree, 1.0)) @ adjacency
    return sparse.csr_array((1.0 - beta) * sparse.eye_array(adjacency.shape[0]) + beta * walk)


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")


def _run(
    pyramid: RasterPyramid, beta: float, gamma: float, x: np.ndarray, activation: str, tangent: np.ndarray | None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Layer states for input ``x`` and, if ``tangent`` is given, the forward-mode derivatives (Jacobian
    columns) of every state along ``tangent``."""
    beta = _check_weight("beta", beta)
    gamma = _check_weight("gamma", gamma)
    _check_activation(activation)
    x = np.asarray(x, dtype=float)
    if x.shape[0] != pyramid.n_nodes:
        raise ValueError(f"x must have {pyramid.n_nodes} rows (fine nodes), got shape {x.shape}")
    smoothers = [_smoother(a, beta) for a in pyramid.adjacency]
    states: list[np.ndarray] = []
    tangents: list[np.ndarray] = []
    skips: list[tuple[np.ndarray, Any]] = []
    h, t = x, tangent

    def smooth(level: int) -> None:
        nonlocal h, t
        pre = smoothers[level] @ h
        h = np.tanh(pre) if activation == "tanh" else pre
        if t is not None:
            t = smoothers[level] @ t
            if activation == "tanh":
                slope = 1.0 - h**2
                t = (slope[:, None] if t.ndim > slope.ndim else slope) * t
        states.append(h)
        tangents.append(t)

    for level, pool in enumerate(pyramid.pooling):
        smooth(level)
        skips.append((h, t))
        h = pool @ h
        t = None if t is None else pool @ t
        states.append(h)
        tangents.append(t)
    smooth(pyramid.levels - 1)
    for level in reversed(range(pyramid.levels - 1)):
        up = 4.0 * pyramid.pooling[level].T
        h = (1.0 - gamma) * skips[level][0] + gamma * (up @ h)
        if t is not None:
            t = (1.0 - gamma) * skips[level][1] + gamma * (up @ t)
        states.append(h)
        tangents.append(t)
        smooth(level)
    return states, tangents


def propagate_layers(
    pyramid: RasterPyramid, beta: float, gamma: float, x: np.ndarray, *, activation: str = "linear"
) -> list[np.ndarray]:
    """Apply the layers to fine-level input ``x`` (``(n_nodes,)`` or ``(n_nodes, k)`` columns); one state per
    layer, in the order of :func:`layer_names`. ``activation="tanh"`` applies ``tanh`` after every
    smoothing layer (a nonlinear message-passing network).

    Examples
    --------
    >>> pyr = raster_pyramid(8, 8, 2)
    >>> states = propagate_layers(pyr, 0.5, 0.5, np.ones(64))
    >>> [s.shape[0] for s in states], bool(np.allclose(states[-1], 1.0))  # constants are preserved
    ([64, 16, 16, 64, 64], True)
    """
    return _run(pyramid, beta, gamma, x, activation, None)[0]


def layer_covariances(
    pyramid: RasterPyramid,
    beta: float,
    gamma: float,
    noise_std: float,
    *,
    activation: str = "linear",
    signal: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Covariance ``σ² J_k J_kᵀ`` of every layer state for i.i.d. input noise of std ``noise_std``.

    ``J_k`` is the Jacobian of layer ``k`` with respect to the input, by forward-mode propagation of the
    identity. For ``activation="linear"`` it is the layer map ``M_k`` and the covariance is exact; for
    ``"tanh"`` it is taken at ``signal`` (zeros if not given) and the covariance is the first-order (delta
    method) approximation, exact to ``O(σ⁴)``.

    Examples
    --------
    >>> pyr = raster_pyramid(8, 8, 2)
    >>> cov = layer_covariances(pyr, 0.0, 0.5, 2.0)
    >>> round(float(np.diag(cov[1]).mean()), 12)  # 2 x 2 mean pool of i.i.d. noise: σ²/4
    1.0
    """
    if not noise_std >= 0.0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    base = np.zeros(pyramid.n_nodes) if signal is None else np.asarray(signal, dtype=float)
    _, jacobians = _run(pyramid, beta, gamma, base, activation, np.eye(pyramid.n_nodes))
    return [noise_std**2 * (j @ j.T) for j in jacobians]


def layer_variance(
    pyramid: RasterPyramid,
    beta: float,
    gamma: float,
    noise_std: float,
    *,
    activation: str = "linear",
    signal: np.ndarray | None = None,
    n_samples: int = 2000,
    rng: Any = None,
) -> xr.Dataset:
    """Per-layer mean node variance of propagated noise: analytic (``tr Cov_k / N_k``) and sampled.

    The sampled value is the node-averaged sample variance (``ddof=1``) of ``n_samples`` noisy inputs
    ``signal + σ ε``; for Gaussian states its standard error is ``√(2 tr Cov_k² / (n_samples − 1)) / N_k``
    (the variance of a Gaussian quadratic form). ``analytic`` is exact for the linear network and the
    delta-method approximation for ``tanh``.

    Examples
    --------
    >>> ds = layer_variance(raster_pyramid(8, 8, 2), 0.5, 0.5, 1.0, n_samples=500, rng=0)
    >>> ds.layer.values.tolist()
    ['smooth_0', 'pool_0', 'smooth_1', 'unpool_0', 'smooth_up_0']
    >>> bool((abs(ds.sampled - ds.analytic) < 4 * ds.standard_error).all())
    True
    """
    n_samples = _check_positive_int("n_samples", n_samples, 2)
    covs = layer_covariances(pyramid, beta, gamma, noise_std, activation=activation, signal=signal)
    base = np.zeros(pyramid.n_nodes) if signal is None else np.asarray(signal, dtype=float)
    noise = noise_std * np.random.default_rng(rng).standard_normal((pyramid.n_nodes, n_samples))
    states = propagate_layers(pyramid, beta, gamma, base[:, None] + noise, activation=activation)
    sizes = np.array([c.shape[0] for c in covs], dtype=float)
    analytic = np.array([np.trace(c) for c in covs]) / sizes
    sampled = np.array([np.sum(np.var(s, axis=1, ddof=1)) for s in states]) / sizes
    se = np.sqrt([2.0 * np.sum(c * c) / (n_samples - 1) for c in covs]) / sizes
    names = layer_names(pyramid.levels)
    return xr.Dataset(
        {
            "analytic": ("layer", analytic, {"units": "-", "long_name": "tr(Cov_k)/N_k"}),
            "sampled": ("layer", sampled, {"units": "-", "long_name": "sample mean node variance"}),
            "standard_error": ("layer", se, {"units": "-"}),
            "n_nodes": ("layer", sizes.astype(int)),
        },
        coords={"layer": names},
        attrs=provenance(None, "message_passing.layer_variance", beta=float(beta), gamma=float(gamma),
                         noise_std=float(noise_std), activation=activation, n_samples=n_samples,
                         seed=seed_attr(rng), shapes=[list(s) for s in pyramid.shapes]),
    )


def _clean_signal(shape: tuple[int, int], amplitude: float) -> np.ndarray:
    i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    return (amplitude * np.sin(2 * math.pi * i / shape[0]) * np.cos(2 * math.pi * j / shape[1])).ravel()


def _seed_from_unit(u: float) -> int:
    """Deterministic generator seed from a uniform input in [0, 1]."""
    return int(np.floor(np.clip(u, 0.0, 1.0) * 2.0**52))


def message_passing(n_rows: int = 16, n_cols: int = 16, levels: int = 3, activation: str = "linear") -> ForwardModel:
    """Noise propagation through multiresolution message passing; see the module docstring.

    Parameters
    ----------
    n_rows, n_cols, levels : int
        Fine raster size and number of pyramid levels.
    activation : {"linear", "tanh"}
        ``tanh`` after every smoothing layer makes the network nonlinear; the variances are then the
        delta-method (first-order) values at the clean field.

    Returns
    -------
    ForwardModel
        Named ``"message_passing"``; inputs ``noise_std``, ``seed_u`` (aleatory), ``beta``, ``gamma``
        (epistemic), ``signal_amplitude``; outputs ``var_coarse`` and ``var_output`` (analytic mean node
        variance at the coarsest level and at the output), ``noise_gain`` (= var_output / σ²),
        ``error_rms`` (realised RMS output error against the noise-free output) and ``output_mean``.

    Examples
    --------
    >>> m = message_passing(8, 8, 2)
    >>> out = m(noise_std=0.1, seed_u=0.5, beta=0.0, gamma=0.0)
    >>> round(float(out["var_coarse"][0]), 12), round(float(out["noise_gain"][0]), 12)  # no mixing: identity
    (0.0025, 1.0)
    """
    _check_activation(activation)
    pyramid = raster_pyramid(n_rows, n_cols, levels)
    coarse_index = 2 * (levels - 1)

    def function(noise_std, seed_u, beta, gamma, signal_amplitude):
        n = len(noise_std)
        out = {k: np.empty(n) for k in ("var_coarse", "var_output", "noise_gain", "error_rms", "output_mean")}
        for s in range(n):
            clean = _clean_signal(pyramid.shapes[0], signal_amplitude[s])
            clean_states, maps = _run(pyramid, beta[s], gamma[s], clean, activation, np.eye(pyramid.n_nodes))
            gain = float(np.sum(maps[-1] ** 2)) / pyramid.n_nodes  # tr(J Jᵀ)/N
            noise = noise_std[s] * np.random.default_rng(_seed_from_unit(seed_u[s])).standard_normal(pyramid.n_nodes)
            noisy_out = propagate_layers(pyramid, beta[s], gamma[s], clean + noise, activation=activation)[-1]
            coarse = maps[coarse_index]
            out["var_coarse"][s] = noise_std[s] ** 2 * float(np.sum(coarse**2)) / coarse.shape[0]
            out["var_output"][s] = noise_std[s] ** 2 * gain
            out["noise_gain"][s] = gain
            out["error_rms"][s] = math.sqrt(float(np.mean((noisy_out - clean_states[-1]) ** 2)))
            out["output_mean"][s] = float(np.mean(noisy_out))
        return out

    inputs = [
        Input("noise_std", LogNormal.from_median_cov(0.1, 0.5), "aleatory", "-",
              "std of i.i.d. Gaussian noise on the fine input"),
        Input("seed_u", Uniform(0.0, 1.0), "aleatory", "", "selects the noise realisation (seed)"),
        Input("beta", Uniform(0.2, 0.8), "epistemic", "", "within-scale mixing weight"),
        Input("gamma", Uniform(0.2, 0.8), "epistemic", "", "between-scale (coarse-to-fine) mixing weight"),
        Input("signal_amplitude", Constant(1.0), "aleatory", "-", "amplitude of the clean field (field values are dimensionless)"),
    ]
    outputs = [
        Output("var_coarse", "-", "analytic mean node variance of the noise at the coarsest level"),
        Output("var_output", "-", "analytic mean node variance of the noise at the output"),
        Output("noise_gain", "", "var_output / noise_std^2"),
        Output("error_rms", "-", "realised RMS output error against the noise-free output"),
        Output("output_mean", "-", "mean of the output field"),
    ]
    return ForwardModel(
        "message_passing",
        function,
        inputs,
        outputs,
        description=f"{activation} multiresolution message passing, {n_rows}x{n_cols} raster, {levels} levels",
    )
