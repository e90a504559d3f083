"""Tests of multiresolution message passing: graph/pooling construction against brute-force references,
closed-form noise variances of single layers, the covariance recursion, and sampling checks with
tolerances from the standard error of a Gaussian quadratic form."""

import math

import numpy as np
import pytest

from uqbridge_models.message_passing import (
    _clean_signal,
    _run,
    grid_adjacency,
    layer_covariances,
    layer_names,
    layer_variance,
    message_passing,
    pooling_matrix,
    propagate_layers,
    raster_pyramid,
)


def test_adjacency_and_pooling_match_brute_force():
    """4-neighbour adjacency by explicit loops over the raster, and 2 × 2 block means by NumPy reshape."""
    n_rows, n_cols = 6, 4
    ref = np.zeros((n_rows * n_cols, n_rows * n_cols))
    for i in range(n_rows):
        for j in range(n_cols):
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= i + di < n_rows and 0 <= j + dj < n_cols:
                    ref[i * n_cols + j, (i + di) * n_cols + j + dj] = 1
    np.testing.assert_array_equal(grid_adjacency(n_rows, n_cols).toarray(), ref)
    field = np.random.default_rng(0).normal(size=(n_rows, n_cols))
    block_means = field.reshape(n_rows // 2, 2, n_cols // 2, 2).mean(axis=(1, 3)).ravel()
    np.testing.assert_allclose(pooling_matrix(n_rows, n_cols) @ field.ravel(), block_means, rtol=1e-14)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.8])
def test_single_layer_variances_closed_form(beta):
    """i.i.d. noise σ²: one smoothing step S = (1 − β)I + β D⁻¹A gives σ²((1 − β)² + Σ_nbr (β/d)²), i.e.
    σ²((1 − β)² + β²/4) at interior nodes (d = 4), σ²((1 − β)² + β²/3) on edges (d = 3) and
    σ²((1 − β)² + β²/2) at corners (d = 2); a mean pool of i.i.d. noise has variance σ²/4, two pools σ²/16
    (beta = 0)."""
    sigma = 0.7
    pyr = raster_pyramid(8, 8, 2)
    cov = layer_covariances(pyr, beta, 0.5, sigma)
    var = np.diag(cov[0]).reshape(8, 8)
    assert var[3, 4] == pytest.approx(sigma**2 * ((1 - beta) ** 2 + beta**2 / 4), rel=1e-12)
    assert var[0, 0] == pytest.approx(sigma**2 * ((1 - beta) ** 2 + beta**2 / 2), rel=1e-12)
    assert var[0, 3] == pytest.approx(sigma**2 * ((1 - beta) ** 2 + beta**2 / 3), rel=1e-12)
    if beta == 0.0:
        np.testing.assert_allclose(np.diag(cov[1]), sigma**2 / 4, rtol=1e-12)
        two = layer_covariances(raster_pyramid(8, 8, 3), 0.0, 0.5, sigma)
        np.testing.assert_allclose(np.diag(two[2 * 2]), sigma**2 / 16, rtol=1e-12)


def test_covariance_recursion_for_plain_layers():
    """Cov_k = W_k Cov_{k−1} W_kᵀ for the down path (W = S or P), with W built independently from the
    adjacency (dense D⁻¹A) and the reshape-pooling; the unpool merge adds the skip cross terms:
    Cov = (1−γ)²C_skip + γ²U C_coarse Uᵀ + γ(1−γ)(X Uᵀ + U Xᵀ) with X = Cov(skip, coarse)."""
    beta, gamma, sigma = 0.4, 0.6, 1.3
    pyr = raster_pyramid(8, 8, 2)
    covs = layer_covariances(pyr, beta, gamma, sigma)
    a0, a1 = (grid_adjacency(*s).toarray() for s in pyr.shapes)
    s0 = (1 - beta) * np.eye(64) + beta * a0 / a0.sum(axis=1, keepdims=True)
    s1 = (1 - beta) * np.eye(16) + beta * a1 / a1.sum(axis=1, keepdims=True)
    p = np.stack([np.eye(64)[k].reshape(4, 2, 4, 2).mean(axis=(1, 3)).ravel() for k in range(64)], axis=1)
    c = sigma**2 * np.eye(64)
    c_smooth = s0 @ c @ s0.T
    np.testing.assert_allclose(covs[0], c_smooth, rtol=1e-12, atol=1e-15)
    c_pool = p @ c_smooth @ p.T
    np.testing.assert_allclose(covs[1], c_pool, rtol=1e-12, atol=1e-15)
    c_coarse = s1 @ c_pool @ s1.T
    np.testing.assert_allclose(covs[2], c_coarse, rtol=1e-12, atol=1e-15)
    u = 4 * p.T
    cross = c_smooth @ p.T @ s1.T  # Cov(skip, coarse state)
    c_merge = ((1 - gamma) ** 2 * c_smooth + gamma**2 * u @ c_coarse @ u.T
               + gamma * (1 - gamma) * (cross @ u.T + u @ cross.T))
    np.testing.assert_allclose(covs[3], c_merge, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(covs[4], s0 @ c_merge @ s0.T, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("beta, gamma, seed", [(0.5, 0.5, 1), (0.8, 0.2, 2), (0.1, 0.9, 3)])
def test_layer_variance_analytic_matches_sampling(beta, gamma, seed):
    """Per-layer mean node variance by sampling 3000 noise fields through the sparse layers against
    tr(Cov_k)/N_k; the tolerance is 4 standard errors of a Gaussian quadratic form,
    sd(‖h‖²) = √(2 tr Cov²) (Mathai & Provost 1992, *Quadratic Forms in Random Variables*, Ch. 3)."""
    pyr = raster_pyramid(16, 16, 3)
    ds = layer_variance(pyr, beta, gamma, 0.5, n_samples=3000, rng=seed)
    assert ds.layer.values.tolist() == layer_names(3) and len(ds.layer) == 9
    z = (ds.sampled - ds.analytic) / ds.standard_error
    assert float(abs(z).max()) < 4.0
    assert ds.attrs["seed"] == seed and ds.analytic.attrs["units"]
    # averaging never amplifies i.i.d. noise: every layer's variance is at most the input variance
    assert float(ds.analytic.max()) <= 0.25 * (1 + 1e-12)


def test_row_stochastic_layers_preserve_constants_and_are_linear():
    pyr = raster_pyramid(16, 16, 3)
    states = propagate_layers(pyr, 0.37, 0.61, np.full(256, 2.5))
    for s in states:
        np.testing.assert_allclose(s, 2.5, rtol=1e-13)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2, 256))
    lhs = propagate_layers(pyr, 0.37, 0.61, 2 * x - 3 * y)[-1]
    rhs = 2 * propagate_layers(pyr, 0.37, 0.61, x)[-1] - 3 * propagate_layers(pyr, 0.37, 0.61, y)[-1]
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)


def test_model_error_matches_analytic_output_variance():
    """E[error_rms²] = σ² tr(MᵀM)/N = var_output over noise realisations (seed_u), with the standard error
    of the mean of 150 quadratic forms (√(2 tr (MᵀM)²)σ²/N per realisation, computed from the layer map)."""
    m = message_passing()
    n = 150
    u = (np.arange(n) + 0.5) / n
    out = m(noise_std=0.2, seed_u=u, beta=0.6, gamma=0.3)
    var_output = float(out["var_output"][0])
    np.testing.assert_allclose(out["var_output"], var_output, rtol=1e-14)
    pyr = raster_pyramid(16, 16, 3)
    out_map = propagate_layers(pyr, 0.6, 0.3, np.eye(256))[-1]
    g = out_map.T @ out_map
    assert var_output == pytest.approx(0.04 * np.trace(g) / 256, rel=1e-12)
    se = math.sqrt(2 * np.sum(g * g)) * 0.04 / 256 / math.sqrt(n)
    assert abs(float(np.mean(out["error_rms"] ** 2)) - var_output) < 4 * se
    again = m(noise_std=0.2, seed_u=u[:3], beta=0.6, gamma=0.3)
    np.testing.assert_array_equal(again["error_rms"], out["error_rms"][:3])
    assert len(set(out["error_rms"].tolist())) == n  # different seed_u, different realisation


def test_tanh_jacobian_matches_finite_differences():
    """The forward-mode Jacobian J of the tanh network, from which Cov = σ² J Jᵀ, against central
    differences of the network output, h = 1e-6."""
    pyr = raster_pyramid(8, 8, 2)
    signal = _clean_signal((8, 8), 1.5)
    cov = layer_covariances(pyr, 0.4, 0.7, 1.0, activation="tanh", signal=signal)
    _, jac = _run(pyr, 0.4, 0.7, signal, "tanh", np.eye(64))
    np.testing.assert_allclose(cov[-1], jac[-1] @ jac[-1].T, rtol=1e-12)
    h = 1e-6
    for node in (0, 27, 63):
        e = np.zeros(64)
        e[node] = h
        up = propagate_layers(pyr, 0.4, 0.7, signal + e, activation="tanh")[-1]
        down = propagate_layers(pyr, 0.4, 0.7, signal - e, activation="tanh")[-1]
        np.testing.assert_allclose((up - down) / (2 * h), jac[-1][:, node], rtol=1e-6, atol=1e-9)


def test_tanh_delta_method_small_noise_and_saturation():
    """Delta method for the tanh network: at σ = 0.01 its bias is O(σ²) relative (≈1e-4), far below the
    sampling error, so sampled and linearised variances agree within 4 standard errors at every layer; at
    σ = 1 tanh saturates and the sampled variance is clearly below the first-order value (> 4 SE lower
    at every layer) — the linear analysis does not carry over to a saturating network."""
    pyr = raster_pyramid(16, 16, 3)
    signal = _clean_signal((16, 16), 2.0)
    small = layer_variance(pyr, 0.5, 0.5, 0.01, activation="tanh", signal=signal, n_samples=3000, rng=1)
    assert float(abs((small.sampled - small.analytic) / small.standard_error).max()) < 4.0
    assert small.attrs["activation"] == "tanh"
    large = layer_variance(pyr, 0.5, 0.5, 1.0, activation="tanh", signal=signal, n_samples=3000, rng=2)
    assert bool(((large.analytic - large.sampled) > 4 * large.standard_error).all())


def test_tanh_model_error_matches_delta_method_at_small_noise():
    """E[error_rms²] ≈ var_output (delta method) for the tanh model at σ = 0.01 over 150 realisations,
    within 4 standard errors of the mean (the delta-method bias, O(σ²) ≈ 1e-4 relative, is negligible)."""
    m = message_passing(activation="tanh")
    n = 150
    out = m(noise_std=0.01, seed_u=(np.arange(n) + 0.5) / n, beta=0.6, gamma=0.3)
    var_output = float(out["var_output"][0])
    errors = out["error_rms"] ** 2
    assert abs(float(errors.mean()) - var_output) < 4 * float(errors.std(ddof=1)) / math.sqrt(n)
    linear = message_passing()(noise_std=0.01, seed_u=0.5, beta=0.6, gamma=0.3)
    assert var_output < float(linear["var_output"][0])  # tanh' < 1 damps the noise


def test_declared_kinds():
    m = message_passing()
    assert set(m.inputs.epistemic) == {"beta", "gamma"}
    assert {"noise_std", "seed_u"} <= set(m.inputs.aleatory)
    assert not m.differentiable


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: raster_pyramid(16, 16, 0), r"levels must be an integer >= 1, got 0"),
        (lambda: raster_pyramid(10, 16, 3), r"a 10 x 16 raster cannot be pooled 2 times"),
        (lambda: pooling_matrix(5, 4), r"n_rows must be even to pool 2 x 2 blocks, got 5"),
        (lambda: propagate_layers(raster_pyramid(8, 8, 2), 1.5, 0.5, np.ones(64)), r"beta must lie in \[0, 1\], got 1.5"),
        (lambda: propagate_layers(raster_pyramid(8, 8, 2), 0.5, -0.1, np.ones(64)), r"gamma must lie in \[0, 1\]"),
        (lambda: propagate_layers(raster_pyramid(8, 8, 2), 0.5, 0.5, np.ones(63)), r"x must have 64 rows"),
        (lambda: layer_covariances(raster_pyramid(8, 8, 2), 0.5, 0.5, -1.0), r"noise_std must be >= 0, got -1.0"),
        (lambda: layer_variance(raster_pyramid(8, 8, 2), 0.5, 0.5, 1.0, n_samples=1), r"n_samples must be an integer >= 2"),
        (lambda: message_passing(activation="relu"), r"activation must be one of \['linear', 'tanh'\], got 'relu'"),
    ],
)
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
