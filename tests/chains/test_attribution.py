"""Per-scale attribution you can trust: interval coverage on a 4-scale heavy-tailed chain with a non-adjacent
wire and a cross-scale interaction (closed-form shares derived in four_scale.py), structural zeros from the
wiring on the main chain, clipping with the raw estimate kept, and the cost of decompose on a cheap model."""

import re
import warnings

import numpy as np
import pytest
from four_scale import SCALES, four_scale_chain, four_scale_shares

import uqbridge as uq
from uqbridge.chains import scale_shares
from uqbridge.chains.graph import ChainWarning

NAMES = {"closed": "explained_share", "total": "total_share", "interaction": "interaction_share"}


def _coverage(method, seeds, **options):
    """Hits and counts of nominal 95 % intervals containing the closed-form shares, per kind of share."""
    truth = four_scale_shares()
    g = four_scale_chain()
    hits = {k: 0 for k in NAMES}
    count = {k: 0 for k in NAMES}
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = uq.decompose(g, method=method, groups="scale", rng=seed, outputs=["y"], **options)
        for key, name in NAMES.items():
            for s in SCALES:
                lo, hi = (float(ds[f"{name}_{b}"].sel(output="y", group=s)) for b in ("low", "high"))
                hits[key] += lo <= truth[key][s] <= hi
                count[key] += 1
    return hits, count


def test_pick_freeze_intervals_cover_four_scale_chain_fast():
    """12 seeds × 4 scales = 48 intervals per kind at n = 4096 (delta method). Binomial at 95 %: mean 45.6,
    sd 1.5; required ≥ 41 (3 sd below). The ≥ 100-seed check at ≥ 93 % is the slow test below."""
    hits, count = _coverage("pick_freeze", range(12), n=4096)
    assert all(count[k] == 48 for k in NAMES)
    assert all(hits[k] >= 41 for k in NAMES), hits


@pytest.mark.slow
@pytest.mark.parametrize("method, options", [
    ("pick_freeze", {"n": 1024}),
    ("pick_freeze", {"n": 4096}),
    ("nested", {"n_outer": 1024, "n_inner": 16}),
])
def test_intervals_cover_four_scale_chain(method, options):
    """100 seeds × 4 scales = 400 intervals per kind (closed, total, interaction). Asserted: the coverage
    *estimate* of each kind is ≥ 0.93 (the issue's bar at nominal 95 %; no allowance for its binomial SE
    of ≈ 1.2 %) and ≤ 0.975 at n = 4096 (intervals that cover by being wide are not the fix).
    Measured (python3 benchmarks/share_intervals.py): pick-freeze n = 1024 93.5 / 93.5 / 96.5 %
    (total 91.7 % with the former normal quantile), n = 4096 96.5 / 95.8 / 95.8 %, nested 96.3 / 95.8 / 98.0 %."""
    hits, count = _coverage(method, range(100), **options)
    for k in NAMES:
        assert hits[k] / count[k] >= 0.93, (k, hits[k], count[k])
        if options.get("n") == 4096:
            assert hits[k] / count[k] <= 0.975, (k, hits[k], count[k])


@pytest.mark.slow
def test_pick_freeze_total_intervals_cover_lognormal_chain():
    """Second heavy-tailed case: the lognormal-product chain of chain_cases.py (closed-form shares there),
    pick-freeze n = 1024, 100 seeds × 3 scales = 300 total-share intervals; asserted: the coverage
    estimate ≥ 0.93. Measured 94.3 % (93.7 % with the normal quantile); closed shares there cover 92.0 %
    (not asserted: below the bar, 91.3 % before)."""
    from chain_cases import LOG_SCALES, lognormal_chain, lognormal_shares

    truth = lognormal_shares(LOG_SCALES)
    g = lognormal_chain()
    hits = 0
    for seed in range(100):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = uq.decompose(g, groups="scale", n=1024, rng=seed, outputs=["y"])
        for s, (_, total) in truth.items():
            lo, hi = (float(ds[f"total_share_{b}"].sel(output="y", group=s)) for b in ("low", "high"))
            hits += lo <= total <= hi
    assert hits / 300 >= 0.93, hits


def test_nested_gives_totals_and_interactions_for_four_scales():
    """Nested MC with 4 groups (no two-group partition): totals from loops over each complement are
    finite and within 5 SE of the closed form (SE = the larger distance from the raw estimate to a bound
    / 1.96: the side the [0, 1] clipping did not shorten)."""
    truth = four_scale_shares()
    ds = uq.decompose(four_scale_chain(), method="nested", groups="scale", n_outer=512, n_inner=16, rng=0)
    for key, name in NAMES.items():
        for s in SCALES:
            est = float(ds[f"{name}_raw"].sel(output="y", group=s))
            lo, hi = (float(ds[f"{name}_{b}"].sel(output="y", group=s)) for b in ("low", "high"))
            assert np.isfinite(est)
            se = max(hi - est, est - lo) / 1.96
            assert abs(est - truth[key][s]) < 5 * se, (key, s, est, truth[key][s], se)


def test_clipped_shares_keep_the_raw_estimate():
    """The component's closed share is exactly 0 (four_scale.py); its raw pick-freeze estimate is negative
    on some seeds: shown as 0, raw kept in *_share_raw, the cell named in the attrs."""
    g = four_scale_chain()
    for seed in range(20):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = uq.decompose(g, groups="scale", n=512, rng=seed, outputs=["y"])
        raw = float(ds["explained_share_raw"].sel(output="y", group="component"))
        if raw < 0:
            break
    else:
        pytest.fail("no seed gave a negative raw estimate")
    assert float(ds["explained_share"].sel(output="y", group="component")) == 0.0
    assert "y/component" in ds["explained_share"].attrs["clipped"] and "y/component" in ds.attrs["clipped"]
    assert 0.0 <= float(ds["explained_share_low"].sel(output="y", group="component")) <= 1.0


def test_structural_zeros_on_the_main_chain():
    """C44 of chain_atoms_to_strut is computed at the atomistic stage, before the crystal (thermal factor)
    and component (strut) inputs enter: their shares are exactly 0, with zero-width intervals, and only
    the atomistic block is perturbed (n (2 + 1) runs instead of n (2 + 3))."""
    g = uq.get_model("chain_atoms_to_strut")
    n = 8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = uq.decompose(g, groups="scale", n=n, rng=0, outputs=["C44"])
        sh = scale_shares(g, n=n, rng=0, outputs=["C44"])
    assert ds.attrs["n_runs"] == n * 3
    for s in ("crystal", "component"):
        for name in ("explained_share", "total_share", "interaction_share"):
            for b in ("", "_low", "_high"):
                assert float(ds[f"{name}{b}"].sel(output="C44", group=s)) == 0.0
        for name in ("closed_share", "total_share", "interaction_share", "epistemic_share"):
            for b in ("", "_low", "_high"):
                assert float(sh[f"{name}{b}"].sel(output="C44", scale=s)) == 0.0
    assert "C44/crystal" in sh.attrs["structural_zeros"]
    # the atomistic scale is all-epistemic: its epistemic share is its closed share, estimated once
    assert float(sh["epistemic_share"].sel(output="C44", scale="atomistic")) == float(
        sh["closed_share"].sel(output="C44", scale="atomistic"))
    assert sh.attrs["n_runs"] == n * 3


def test_interaction_intervals_from_every_sampling_estimator():
    """Interaction shares carry intervals (pick-freeze and nested) that contain total − closed."""
    for method, opts in (("pick_freeze", {"n": 1024}), ("nested", {"n_outer": 128, "n_inner": 16})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = uq.decompose(four_scale_chain(), method=method, groups="scale", rng=1, **opts)
        raw = ds["total_share_raw"] - ds["explained_share_raw"]
        np.testing.assert_allclose(ds["interaction_share_raw"], raw, atol=1e-10)
        assert bool((ds["interaction_share_low"] <= ds["interaction_share"]).all())
        assert bool((ds["interaction_share_high"] >= ds["interaction_share"]).all())


def _stages(unit_out="degC", unit_in="K"):
    hot = uq.ForwardModel("furnace", lambda q: {"T": 20 + q}, [uq.Input("q", uq.Normal(0, 1))], [uq.Output("T", unit_out)])
    creep = uq.ForwardModel("creep", lambda T_in, s: {"rate": 1e-3 * T_in * s},
                            [uq.Input("T_in", uq.Normal(300, 1), units=unit_in), uq.Input("s", uq.Normal(1, 0.1))],
                            [uq.Output("rate")])
    return hot, creep


def test_unit_message_snippet_pastes_and_handles_offsets():
    """°C -> K is + 273.15 (not × 274.15): the adapter snippet in the message, pasted, builds a chain that
    feeds 20 °C as 293.15 K."""
    hot, creep = _stages()
    with pytest.raises(ValueError) as err:
        uq.chain(hot, uq.Stage(creep, wires={"T_in": "T"}))
    text = str(err.value)
    assert "T + 273.15" in text
    adapter_src = re.search(r"(uqbridge\.adapter\(.*?\)), and feed", text).group(1)
    stage_src = re.search(r"(Stage\(.*\))$", text).group(1)
    ns = {"uqbridge": uq, "Stage": uq.Stage, "creep_model": creep}
    g = uq.chain(hot, eval(adapter_src, ns), eval(stage_src, ns))
    out = g(q=0.0, s=1.0)
    assert float(out["T_K"][0]) == pytest.approx(293.15)
    assert float(out["rate"][0]) == pytest.approx(1e-3 * 293.15)
    assert g.stages[1].scale == "creep"  # the adapter inherits the scale of the stage it serves


def test_chain_warns_about_unfed_and_unused_stages():
    """A misspelled name: the furnace's T reaches nothing and creep receives no wire — both warned."""
    hot, creep = _stages(unit_out="K")
    with pytest.warns(ChainWarning) as rec:
        uq.chain(hot, creep)
    texts = " ".join(str(w.message) for w in rec)
    assert "'furnace' (furnace) feeds no later stage" in texts and "'creep' (creep) receives no wire" in texts


def test_distribution_str_keeps_integer_parameters():
    assert str(uq.Normal(100, 10)) == "Normal(mu=100, sigma=10)"
    assert str(uq.Uniform(0, 0.05)) == "Uniform(lower=0, upper=0.05)"


def _pce_coverage(seeds):
    """Hits, errors and half-widths of scale_shares(method="pce") at 400 runs against the closed form."""
    truth = four_scale_shares()
    g = four_scale_chain()
    hits = {k: 0 for k in NAMES}
    err = {k: [] for k in NAMES}
    half = {k: [] for k in NAMES}
    for seed in seeds:
        ds = scale_shares(g, method="pce", n=400, rng=seed, outputs=["y"])
        for key in NAMES:
            for s in SCALES:
                est = float(ds[f"{key}_share"].sel(output="y", scale=s))
                lo, hi = (float(ds[f"{key}_share_{b}"].sel(output="y", scale=s)) for b in ("low", "high"))
                hits[key] += lo <= truth[key][s] <= hi
                err[key].append(est - truth[key][s])
                half[key].append((hi - lo) / 2)
    return hits, err, half


def test_pce_share_intervals_cover_and_inform_fast():
    """PCE at 400 runs on the 4-scale chain, 3 seeds × 4 scales = 12 intervals per kind: ≥ 10/12 cover the
    closed form (binomial at 95 %: P(≤ 9) ≈ 2 %), and the mean half-width is ≤ 5× the RMSE over these
    seeds: an RMSE from 12 errors is too noisy for the issue's 3× bar (at 3 seeds the ratio moved from
    2.4 to 3.0 when the LAR path solver changed), which the ≥ 100-seed slow test below asserts."""
    hits, err, half = _pce_coverage(range(3))
    for key in NAMES:
        assert hits[key] >= 10, (key, hits)
        assert np.mean(half[key]) <= 5 * np.sqrt(np.mean(np.square(err[key]))), key


def test_decompose_pce_gives_the_intervals_of_scale_shares():
    """One implementation (variance.pce_shares): decompose(method="pce") and scale_shares(method="pce")
    return the same shares and intervals for the same runs (same seed)."""
    g = four_scale_chain()
    ds = uq.decompose(g, method="pce", groups="scale", n=120, n_bootstrap=20, rng=4, outputs=["y"])
    sh = scale_shares(g, method="pce", n=120, n_bootstrap=20, rng=4, outputs=["y"])
    for key, name in NAMES.items():
        for b in ("", "_low", "_high"):
            a = ds[f"{name}{b}"].sel(output="y").values
            np.testing.assert_allclose(a, sh[f"{key}_share{b}"].sel(output="y").values, atol=1e-12)
        assert np.all(np.isfinite(ds[f"{name}_low"].values))
    assert ds.attrs["interval"] == sh.attrs["interval"]


@pytest.mark.slow
def test_pce_share_intervals_inform_on_the_four_scale_chain():
    """PCE at 400 runs (least squares, degree by LOO; intervals of variance.pce_shares) on the heavy-tailed
    4-scale chain, 100 seeds × 4 scales = 400 intervals per kind. Asserted: each kind's coverage estimate
    ≥ 0.93 (no allowance for its binomial SE) and mean half-width ≤ 3× the actual RMSE over the seeds.
    Measured: closed / total / interaction 97.8 / 98.5 / 96.8 %, half-width / RMSE 2.4 / 2.1 / 1.6 (before:
    bootstrap refits with a symmetric ε² shift, 20 seeds: 96 / 87.5 / 92.5 %)."""
    hits, err, half = _pce_coverage(range(100))
    for key in NAMES:
        assert hits[key] / 400 >= 0.93, (key, hits[key])
        assert np.mean(half[key]) <= 3 * np.sqrt(np.mean(np.square(err[key]))), key


def test_pce_sandwich_draws_match_bootstrap_refits(monkeypatch):
    """Large fits replace the bootstrap refits by draws from the sandwich covariance of least squares
    (White 1980), the refits' large-sample law. Where runs are many per term (2000 runs, 35 terms of
    degree ≤ 3 on the 4-scale chain) the two spreads of the total shares agree within 25 % (200
    replicates each: ~5 % sampling error per spread). At 400 runs and ~70 terms the refits spread ≈ 4×
    wider than the draws, which is why the refits stay below the cost threshold (the validated case)."""
    from uqbridge import variance
    from uqbridge.designs import unit_design
    from uqbridge.execution.batch import evaluate
    from uqbridge.pce import fit_pce
    from uqbridge.results import samples_dataset

    g = four_scale_chain()
    rng = np.random.default_rng(2)
    values = g.inputs.from_unit(unit_design(2000, 4, "sobol", rng=rng))
    train = samples_dataset(g, values, evaluate(g, values))
    fit = fit_pce(g, samples=train, outputs=["y"], rng=rng, method="ols", max_degree=3)

    def totals(p):
        return np.stack([p.grouped_indices({"atom": ["x1"], "component": ["x4"]})["total"].values]), None

    spread = []
    for limit in (1e30, 0.0):
        monkeypatch.setattr(variance, "_REFIT_FLOPS", limit)
        reps = variance._pce_bootstrap(fit, train, ["y"], totals, 200, np.random.default_rng(0))
        spread.append(reps.std(axis=0).ravel())
    ratio = spread[1] / spread[0]
    assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio
