"""The lazy–rich study: its critical-value mechanism on measures with known answers, the anchors against their
theory (and a wrong law failing them), the new ContinualExperiment axes, and the study end to end on a small plan."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from simulate import ContinualExperiment, TwoLayer, measures, sweep
from verify.studies import lazy_rich as lr

SMALL = dataclasses.replace(
    lr.QUICK,
    widths=(8, 16, 32, 64, 128),
    gamma0s=tuple(2.0**k for k in range(-2, 5)),
    seeds=(0,),
    variant_widths=(8, 16, 32),
    init_scales=(0.5, 2.0),
    eta0s=(0.1,),
    input_ranks=(2,),
    item_counts=(16,),
    time=20.0,
    items=32,
    forgetting_widths=(16,),
    forgetting_gamma0s=tuple(2.0**k for k in range(-3, 3)),
    forgetting_similarities=(0.0, 0.5, 0.9),
    forgetting_input_similarities=(0.25, 0.5, 0.75, 0.9),
    forgetting_seeds=(0,),
    depths=(2, 3),
    depth_widths=(8, 32),
    depth_steps=2000,
    diagonal_scales=(1.0, 4.0),
    diagonal_ratios=tuple(float(v) for v in np.geomspace(1e-2, 10, 7)),
    lambda_scales=(1.0, 2.0),
    lambda_ratios=tuple(float(v) for v in np.geomspace(0.1, 100, 7)),
    name="test",
)


# -- the mechanism ------------------------------------------------------------------------------------------------


def test_critical_value_finds_crossings_both_ways_and_censors_what_the_grid_misses():
    x = np.geomspace(0.1, 10, 9)
    # a power law is a straight line in logs: the interpolation is exact between any two grid points
    assert lr.critical_value(x, 0.3 * x**1.7, 0.5) == pytest.approx((0.5 / 0.3) ** (1 / 1.7), rel=1e-12)
    assert lr.critical_value(x, 2.0 / x**2, 0.5) == pytest.approx(2.0, rel=1e-12)  # falling through
    assert np.isnan(lr.critical_value(x, 1.0 + 0 * x, 0.5))  # never crosses: censored, not guessed
    assert np.isnan(lr.critical_value(x, 0.01 * x, 0.5))  # crosses beyond the grid
    shuffled = np.random.default_rng(0).permutation(9)
    assert lr.critical_value(x[shuffled], (0.3 * x**1.7)[shuffled], 0.5) == pytest.approx((0.5 / 0.3) ** (1 / 1.7))


@pytest.mark.parametrize(
    "x, y, threshold",
    [([1.0, 2.0], [0.1, -0.2], 0.1), ([0.0, 2.0], [0.1, 0.2], 0.1), ([1.0, 2.0], [0.1, np.nan], 0.1),
     ([1.0, 2.0], [0.1, 0.2], 0.0), ([1.0], [0.1], 0.1)],
)  # fmt: skip
def test_critical_value_refuses_what_it_cannot_interpolate(x, y, threshold):
    with pytest.raises(ValueError):
        lr.critical_value(x, y, threshold)


@pytest.mark.parametrize("exponent", [0.5, 1.0])
def test_the_mechanism_recovers_a_boundary_exponent_and_tells_a_wrong_one(exponent):
    """A synthetic measure (γ0/width^e)² puts the critical γ0 at √θ·width^e: the critical table and the power fit
    must return e, and the fitted interval must exclude the other anchor value (the check can fail)."""
    widths, gammas = [16, 32, 64, 128, 256], np.geomspace(0.1, 1000, 25)
    frame = pd.DataFrame([{"width": w, "gamma0": g, "m": (g / w**exponent) ** 2} for w in widths for g in gammas])
    table = lr.critical_table(frame, "gamma0", "m", 0.1, ["width"])
    fit = lr.power_fit(table.width, table.critical)
    assert fit["b"] == pytest.approx(exponent, abs=1e-9)
    assert fit["c"] == pytest.approx(np.sqrt(0.1), rel=1e-9)
    other = 1.0 if exponent == 0.5 else 0.5
    assert abs(fit["b"] - other) > 10 * max(fit["half_width"], 1e-12)


# -- anchors ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diagonal():
    ratios = tuple(float(v) for v in np.geomspace(1e-2, 10, 9))
    return {step: lr.diagonal_anchor([0.5, 2.0], ratios, step=step) for step in (0.05, 0.025)}


def test_diagonal_anchor_critical_alpha_squared_is_proportional_to_the_target(diagonal):
    _, fits = lr.anchor_fits(diagonal[0.05], "alpha2", 0.1)
    # the flow, and GD with a step ∝ 1/(α² + scale), are invariant under (α², w) → (cα², cw): exponent 1 to round-off
    assert fits["gd"]["b"] == pytest.approx(1.0, abs=1e-8)
    assert fits["theory"]["b"] == pytest.approx(1.0, abs=1e-12)


def test_diagonal_anchor_gd_approaches_the_theory_at_first_order(diagonal):
    """GD's critical α² differs from the Q_α minimiser's by O(η): halving the step halves the gap (ratio in
    0.4–0.6), and the gap is small (< 1 %) at the study's step."""
    gaps = {}
    for step, table in diagonal.items():
        frame, _ = lr.anchor_fits(table, "alpha2", 0.1)
        gaps[step] = abs(frame["critical alpha2 (GD)"] / frame["critical alpha2 (theory)"] - 1).max()
    assert gaps[0.05] < 0.01
    assert 0.4 < gaps[0.025] / gaps[0.05] < 0.6


def test_a_wrong_diagonal_kernel_law_misses_the_simulation(diagonal):
    """With the converged kernel taken as 4·X diag(2α² + |w∞|)Xᵀ (a plausible wrong law: the two limits of
    √(4α⁴ + w²) added) the critical α² moves far beyond GD's O(η) gap."""
    from theory.diagonal import min_q_interpolant

    table = diagonal[0.05].copy()
    X, w_star = lr.diagonal_problem(0)
    wrong = []
    for row in table.itertuples():
        w = min_q_interpolant(X, X @ (row.scale * w_star), np.sqrt(row.alpha2))
        K0, K = 8 * row.alpha2 * (X @ X.T), 4 * (X * (2 * row.alpha2 + np.abs(w))) @ X.T
        wrong.append(np.linalg.norm(K - K0) / np.linalg.norm(K0))
    table["change_theory"] = wrong
    frame, _ = lr.anchor_fits(table, "alpha2", 0.1)
    assert (abs(frame["critical alpha2 (GD)"] / frame["critical alpha2 (theory)"] - 1)).min() > 0.1


def test_lambda_anchor_matches_the_closed_form_and_scales_with_s():
    ratios = tuple(float(v) for v in np.geomspace(0.1, 100, 10))
    tables = {step: lr.lambda_anchor([1.0, 3.0], ratios, step=step) for step in (0.05, 0.025)}
    _, fits = lr.anchor_fits(tables[0.05], "lam", 0.1)
    # the closed form at fixed u0: λ* ∝ s only asymptotically; GD's exponent follows the closed form's to O(η)
    assert fits["theory"]["b"] == pytest.approx(1.0, abs=0.01)
    assert fits["gd"]["b"] == pytest.approx(fits["theory"]["b"], abs=1e-3)
    gap = {step: abs(t.gap).max() for step, t in tables.items()}
    assert gap[0.05] < 0.02 and 0.4 < gap[0.025] / gap[0.05] < 0.6  # the GD–flow gap is first order in η


def test_depth_runs_are_rich_at_small_init_and_converge():
    table = lr.depth_runs([2, 3], [16], [0.25, 0.5, 1.0], [0, 1], 3000)
    assert table.loss.max() < 1e-10
    for _, part in table.groupby(["depth", "seed"]):
        change = part.sort_values("sigma").change.to_numpy()
        assert np.all(np.diff(change) < 0)  # smaller init, richer


# -- the new ContinualExperiment axes -----------------------------------------------------------------------------


def _continual(config, **kw):
    base = {"width": 8, "activation": "tanh", "parameterization": "ntk", "gamma0": 2.0, "similarity": 0.5}
    exp = ContinualExperiment(n_in=4, n_out=1, items=16, n_records=2, keep_weights=True, **kw)
    return sweep(exp, [base | config], [3], progress=False)


def test_init_scale_multiplies_both_initial_layers():
    """With a step too small to move anything, the kept weights are the initial ones: init_scale times the
    parameterisation's draw for the run's seed; init_scale 1 is the default exactly."""
    table = _continual({"init_scale": 2.5}, steps=1, eta0=1e-14)
    W1, W2 = TwoLayer((4, 8, 1), "tanh", parameterization="ntk", gamma0=2.0).init(seed=3)
    end = table.iloc[-1]
    np.testing.assert_allclose(end.W1, 2.5 * W1[0].ravel(), rtol=1e-9)
    np.testing.assert_allclose(end.W2, 2.5 * W2[0].ravel(), rtol=1e-9)
    plain, unit = _continual({}, steps=20), _continual({"init_scale": 1.0}, steps=20)
    pd.testing.assert_frame_equal(plain.drop(columns=["init_scale"], errors="ignore"),
                                  unit.drop(columns=["init_scale"]), check_exact=True)  # fmt: skip
    with pytest.raises(ValueError, match="init_scale"):
        _continual({"init_scale": -1.0}, steps=1)


def test_ntk_change_last_is_the_kernel_change_to_the_end_of_the_last_task():
    table = _continual({"input_similarity": 0.5}, steps=200)
    exp = ContinualExperiment(n_in=4, n_out=1, items=16, n_records=2)
    tasks = exp.tasks(0.5, 0, 0.5)
    net = TwoLayer((4, 8, 1), "tanh", parameterization="ntk", gamma0=2.0)
    W0 = net.init(seed=3)
    net = net.centered_at(W0)
    end = table.iloc[-1]
    W = [end.W1.reshape(1, 8, 4), end.W2.reshape(1, 1, 8)]
    K0, K = measures.empirical_ntk(net, W0, tasks[0].X), measures.empirical_ntk(net, W, tasks[0].X)
    assert end.ntk_change_last == pytest.approx(float(measures.ntk_change(K0, K)[0]), rel=1e-10)
    assert end.ntk_change_last != pytest.approx(end.ntk_change, rel=1e-3)  # the second task moved the kernel on


# -- end to end -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    result = lr.run_study(SMALL, cache=tmp_path_factory.mktemp("cache"), progress=False)
    return result, lr.write_study(result, tmp_path_factory.mktemp("out"))


def test_small_study_discovers_a_boundary_and_scores_it_on_held_out_configurations(small):
    result, page = small
    info = result.boundary
    assert info["heldout_configurations"] >= 2 and info["train_configurations"] >= 10
    accuracy, configs, runs = result.accuracy, result.configs, result.runs
    assert accuracy.heldout.sum() == configs.heldout.sum() >= info["heldout_configurations"]
    # a held-out configuration's accuracy, recomputed from its runs: rich ⇔ NTK change ≥ threshold, predicted rich
    # ⇔ γ0 ≥ the boundary's critical γ0 there
    row = accuracy[accuracy.heldout].iloc[0]
    mine = runs[(runs.variant == row.variant) & (runs.width == row.width)]
    boundary = configs[(configs.variant == row.variant) & (configs.width == row.width)].iloc[0]
    for name in lr.BOUNDARIES:
        right = (mine.gamma0 >= boundary[name]) == (mine.ntk_change >= SMALL.threshold)
        assert row[name] == pytest.approx(right.mean(), abs=1e-12)
    assert 0 < (runs.ntk_change >= SMALL.threshold).mean() < 1  # both labels occur in the sweep
    assert set(info["splits"].split.str.slice(0, 6)) == {"random", "widths"}
    text = page.read_text()
    for heading in ("## The boundary", "## Depth", "### Wide networks", "### Diagonal", "### λ-balanced",
                    "## Forgetting across the boundary", "lazy_rich_phase.png"):  # fmt: skip
        assert heading in text
    assert str(info["expression"]) in text


def test_small_study_forgetting_ratio_is_one_in_the_lazy_limit(small):
    """At the smallest γ0 the students forget what their linearisation forgets: F/F_lazy within 5 % (the lazy
    law's gap is O(γ0), measured 3e-4 – 5e-3 relative at γ0 = 0.03 in the forgetting study)."""
    result, _ = small
    runs = result.forgetting_runs
    low = runs[runs.gamma0 == runs.gamma0.min()]
    assert (low.forgetting / low.forgetting_lazy - 1).abs().max() < 0.05


def test_unstable_configurations_are_left_out_and_counted_not_fatal(tmp_path):
    """GD at η0·γ0² far past 2/λ_max fails; the sweep keeps the stable configurations, names the unstable one,
    and counts as computed the runs the failed attempt had already cached."""
    from verify.studies import Runner

    exp = ContinualExperiment(n_in=4, n_out=1, items=16, steps=300, n_records=2)
    base = {"width": 8, "activation": "tanh", "parameterization": "ntk", "similarity": 0.5}
    configs = [base | {"gamma0": 1.0}, base | {"gamma0": 1e3}]  # η = 0.05·γ0² = 5e4: unstable within 300 steps
    runner = Runner(tmp_path, progress=False)
    table, failed = lr._sweep_stable(runner, exp, configs, [0, 1])
    assert failed == [configs[1]]
    assert set(table.gamma0) == {1.0} and set(table.seed) == {0, 1}
    assert runner.computed == 2
    with pytest.raises(FloatingPointError):
        sweep(exp, configs[1:], [0], progress=False)


def test_critical_table_flags_a_curve_that_crosses_twice():
    f = pd.DataFrame({"k": 1, "g": [1.0, 2.0, 4.0, 8.0], "m": [0.05, 0.3, 0.05, 0.3]})
    row = lr.critical_table(f, "g", "m", 0.1, ["k"]).iloc[0]
    assert row.crossings == 3 and row.side == "" and 1 < row.critical < 2  # the first crossing, flagged


def test_held_out_configurations_cannot_move_the_fitted_boundaries():
    """Perturbing the held-out configurations' critical values changes no fitted boundary anywhere: the discovered
    expression and the power laws see only the training configurations."""
    rng = np.random.default_rng(0)
    configs = pd.DataFrame([{"variant": "v", "width": w, "init_scale": a, "eta0": 0.05, "input_rank": 4, "items": 64}
                            for w in (16, 32, 64, 128, 256, 512) for a in (0.5, 1.0, 2.0)])  # fmt: skip
    configs["critical"] = 0.3 * np.sqrt(configs.width) * configs.init_scale * np.exp(rng.normal(0, 0.05, len(configs)))
    held = lr._split(configs, 1 / 3, ["width"])
    assert held.sum() == 6 and all(part.all() or not part.any() for _, part in pd.Series(held).groupby(configs.width))
    values, info = lr._fit_boundaries(SMALL, configs, held)
    moved = configs.copy()
    moved.loc[held, "critical"] *= 10
    values2, info2 = lr._fit_boundaries(SMALL, moved, held)
    assert info2["expression"] == info["expression"]
    pd.testing.assert_frame_equal(values, values2)
    assert info2["heldout_log_r2"] < info["heldout_log_r2"]  # while the held-out score does see them
