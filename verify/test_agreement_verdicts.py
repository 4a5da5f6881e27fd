"""The verdict of `verify.agreement` on hand-built evidence whose answer is known exactly.

Every number below is derived by hand, not copied from the code: the boundaries of the two conditions (an error equal
to its tolerance passes, a ratio off by exactly ``ratio_tol`` passes), the order fitted to errors c·η^p (slope p), and
the Richardson extrapolation of synthetic runs whose error is a polynomial in η (each level cancels one power, so the
remaining error is a closed form). Bad input is refused with a message that names the problem.
"""

from __future__ import annotations

import numpy as np
import pytest

from verify.agreement import Agreement, agreement, fit_order

ETAS = (0.4, 0.2, 0.1)


def _evidence(errors, tolerances, order, expected, ratios, *, etas=ETAS, order_tol=0.25, **kw) -> Agreement:
    return Agreement(etas, tuple(errors), tuple(errors), tuple(tolerances), order, expected, order_tol, ratios, **kw)


# ---- fit_order ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0])
def test_fit_order_returns_the_exponent_of_errors_proportional_to_eta_to_the_p(p):
    etas = [0.3, 0.1, 0.05, 0.01]
    assert fit_order(etas, [7.0 * e**p for e in etas]) == pytest.approx(p, abs=1e-12)


@pytest.mark.parametrize(
    ("etas", "errors", "match"),
    [
        ([0.1], [0.1], "^fit_order needs at least two step sizes, one error for each$"),
        ([0.1, 0.05], [0.1], "one error for each"),
        ([0.1, 0.05, 0.025], [0.1, 0.05], "one error for each"),
        ([0.1, 0.0], [0.1, 0.05], "must be positive and finite"),
        ([0.1, 0.05], [0.1, 0.0], "must be positive and finite"),
        ([0.1, 0.05], [0.1, -0.05], "must be positive and finite"),
        ([0.1, 0.05], [0.1, np.inf], "must be positive and finite"),
        ([0.1, 0.05], [0.1, np.nan], "must be positive and finite"),
    ],
)
def test_fit_order_refuses_what_has_no_slope(etas, errors, match):
    with pytest.raises(ValueError, match=match):
        fit_order(etas, errors)


# ---- the verdict --------------------------------------------------------------------------------------------------


def test_an_error_equal_to_its_tolerance_is_within_it():
    at = _evidence([0.4, 0.2, 0.1], [0.4, 0.2, 0.1], None, None, ())
    assert at.within_tolerance and at.passed
    over = _evidence([0.4, 0.2, 0.1], [0.4, 0.2, 0.09999999], None, None, ())
    assert not over.within_tolerance and not over.passed


def test_without_an_expected_order_only_the_tolerance_decides():
    assert _evidence([0.5], [1.0], None, None, (), etas=(0.1,)).order_ok


def test_an_expected_order_that_was_not_fitted_fails():
    missing = _evidence([0.4, 0.2, 0.1], [1.0] * 3, None, 1.0, (2.0, 2.0))
    assert not missing.order_ok and not missing.passed


def test_fitted_order_passes_at_exactly_order_tol_from_the_expected_and_fails_beyond():
    # etas halve, so order 1 wants ratios 2, 2; order_tol 0.25 is exact in binary
    assert _evidence([0.4, 0.2, 0.1], [1.0] * 3, 1.25, 1.0, (2.0, 2.0)).order_ok
    assert _evidence([0.4, 0.2, 0.1], [1.0] * 3, 0.75, 1.0, (2.0, 2.0)).order_ok
    assert not _evidence([0.4, 0.2, 0.1], [1.0] * 3, 1.2500001, 1.0, (2.0, 2.0)).order_ok
    assert not _evidence([0.4, 0.2, 0.1], [1.0] * 3, 0.7499999, 1.0, (2.0, 2.0)).order_ok


def test_each_ratio_must_be_the_step_ratio_to_the_expected_power():
    # steps 0.3 → 0.1 → 0.05 at order 2 want error ratios 3² = 9 and 2² = 4, in that order
    etas = (0.3, 0.1, 0.05)
    ok = _evidence([9.0, 1.0, 0.25], [10.0] * 3, 2.0, 2.0, (9.0, 4.0), etas=etas)
    assert ok.order_ok and ok.passed
    assert not _evidence([9.0, 1.0, 0.25], [10.0] * 3, 2.0, 2.0, (4.0, 9.0), etas=etas).order_ok
    # one ratio off is enough to fail, whichever it is
    assert not _evidence([9.0, 1.0, 0.25], [10.0] * 3, 2.0, 2.0, (9.0, 6.0), etas=etas).order_ok
    assert not _evidence([9.0, 1.0, 0.25], [10.0] * 3, 2.0, 2.0, (6.0, 4.0), etas=etas).order_ok


def test_a_ratio_passes_at_exactly_ratio_tol_relative_and_fails_beyond():
    # halvings at order 1 want 2; ratio_tol 0.25 allows 2 ± 0.5 (all exact in binary)
    for ratios in [(2.5, 2.0), (1.5, 2.0), (2.0, 2.5), (2.0, 1.5)]:
        assert _evidence([1.0] * 3, [1.0] * 3, 1.0, 1.0, ratios, ratio_tol=0.25).order_ok, ratios
    for ratios in [(2.5000001, 2.0), (1.4999999, 2.0), (2.0, 2.5000001)]:
        assert not _evidence([1.0] * 3, [1.0] * 3, 1.0, 1.0, ratios, ratio_tol=0.25).order_ok, ratios


def test_the_default_ratio_tolerance_is_ten_percent():
    # want 2: the default 0.1 allows 1.8 … 2.2 (documented as "2 ± 0.2")
    assert _evidence([1.0] * 3, [1.0] * 3, 1.0, 1.0, (2.19, 1.81)).order_ok
    assert not _evidence([1.0] * 3, [1.0] * 3, 1.0, 1.0, (2.21, 2.0)).order_ok
    assert not _evidence([1.0] * 3, [1.0] * 3, 1.0, 1.0, (2.0, 1.79)).order_ok


def test_the_summary_states_verdict_errors_tolerances_and_order():
    passing = _evidence([0.04, 0.02, 0.01], [0.05, 0.025, 0.0125], 1.0, 1.0, (2.0, 2.0))
    assert str(passing) == (
        "PASS: max|err| η=0.4: 0.04 (tol 0.05), η=0.2: 0.02 (tol 0.025), η=0.1: 0.01 (tol 0.0125); "
        "order 1.000 (expected 1.0)"
    )
    failing = _evidence([0.04, 0.02, 0.01], [0.05, 0.025, 0.0125], 2.5, 3.0, (2.0, 2.0), extrapolation=2)
    assert str(failing) == (
        "FAIL: Richardson-2 max|err| η=0.4: 0.04 (tol 0.05), η=0.2: 0.02 (tol 0.025), η=0.1: 0.01 (tol 0.0125); "
        "order 2.500 (expected 3.0)"
    )
    exact = _evidence([1e-16], [1e-12], None, None, (), etas=(0.01,))
    assert str(exact) == "PASS: max|err| η=0.01: 1e-16 (tol 1e-12)"


# ---- agreement(): what it measures --------------------------------------------------------------------------------


def _grid(eta: float, horizon: float = 1.0) -> np.ndarray:
    return np.arange(round(horizon / eta) + 1) * eta


def _polynomial_in_eta(*coeffs: float):
    """Synthetic runs f(t) + Σ_j c_j·η^j (j = 1, 2, …) recorded at t = k·η, with f = sin: a known error expansion."""

    def simulate(eta: float) -> tuple[np.ndarray, np.ndarray]:
        t = _grid(eta)
        return t, np.sin(t) + sum(c * eta ** (j + 1) for j, c in enumerate(coeffs))

    return simulate


def test_errors_tolerances_and_relative_errors_are_measured_at_each_step_size():
    # sim = sin t + 3η: the abs error is exactly 3η; relative to |sin t| it is largest where sin is smallest
    etas = (0.25, 0.125, 0.0625)
    result = agreement(np.sin, _polynomial_in_eta(3.0), etas, tolerance=lambda eta: 4.0 * eta)
    assert result.etas == etas
    assert result.max_abs_error == pytest.approx([3 * e for e in etas], rel=1e-12)
    assert result.tolerance == pytest.approx([4 * e for e in etas], rel=0)
    # at t = 0 the law is 0: the relative error is the abs error over the smallest positive double, huge but finite
    assert all(np.isfinite(r) and r > 1e300 for r in result.max_rel_error)
    assert result.order == pytest.approx(1.0, abs=1e-12) and result.expected_order == 1.0
    assert result.ratios == pytest.approx((2.0, 2.0), rel=1e-12)
    assert result.order_tol == 0.15 and result.ratio_tol == 0.1 and result.extrapolation == 0
    assert result.passed


def test_the_relative_error_is_the_error_over_the_law():
    # law 2 + t, run 2 + t + 0.01: the relative error is largest where the law is smallest, 0.01 / 2
    result = agreement(
        lambda t: 2 + t, lambda eta: (_grid(eta), 2 + _grid(eta) + 0.01), (0.5,), tolerance=lambda e: 1, order=None
    )
    assert result.max_rel_error == pytest.approx((0.005,), rel=1e-12)
    assert result.order is None and result.ratios == () and result.passed


def test_a_zero_law_met_exactly_has_zero_relative_error():
    result = agreement(
        np.zeros_like, lambda eta: (_grid(eta), 0 * _grid(eta)), (0.5,), tolerance=lambda e: 0.0, order=None
    )
    assert result.max_abs_error == (0.0,) and result.max_rel_error == (0.0,) and result.passed


def test_order_and_tolerances_passed_through():
    etas = (0.25, 0.125, 0.0625)
    result = agreement(np.sin, _polynomial_in_eta(3.0), etas, tolerance=lambda e: 1.0, order_tol=0.01, ratio_tol=0.02)
    assert result.order_tol == 0.01 and result.ratio_tol == 0.02 and result.passed
    # the same runs are not second order
    second = agreement(np.sin, _polynomial_in_eta(3.0), etas, tolerance=lambda e: 1.0, order=2.0)
    assert second.expected_order == 2.0 and not second.order_ok


def test_the_curves_are_kept_per_step_size_for_figures():
    # two components, with times given per component (T, 2): the kept time axis is the first column
    def simulate(eta):
        t = _grid(eta)
        return np.stack([t, t], axis=1), np.stack([np.sin(t) + eta, np.cos(t) + eta], axis=1)

    law = lambda t: np.stack([np.sin(t[:, 0]), np.cos(t[:, 1])], axis=1)  # noqa: E731
    result = agreement(law, simulate, (0.5, 0.25, 0.125), tolerance=lambda e: e)
    assert [s.eta for s in result.series] == [0.5, 0.25, 0.125]
    for s in result.series:
        t = _grid(s.eta)
        np.testing.assert_array_equal(s.t, t)
        np.testing.assert_array_equal(s.theory, np.stack([np.sin(t), np.cos(t)], axis=1))
        np.testing.assert_allclose(s.simulated, s.theory + s.eta, rtol=0, atol=1e-15)
    assert result.max_abs_error == pytest.approx([0.5, 0.25, 0.125], rel=1e-12)


# ---- Richardson extrapolation, against the closed form of each level ----------------------------------------------


def test_one_richardson_level_leaves_minus_half_the_second_order_term():
    # runs f + c·η + d·η²: (2·R(η/2) − R(η)) = f − d·η²/2 exactly
    etas = (0.25, 0.125, 0.0625, 0.03125)
    result = agreement(np.sin, _polynomial_in_eta(5.0, 0.8), etas, tolerance=lambda e: e * e, extrapolation=1)
    assert result.etas == etas[:3] and result.expected_order == 2.0 and result.extrapolation == 1
    assert result.max_abs_error == pytest.approx([0.4 * e**2 for e in etas[:3]], rel=1e-9)
    assert result.order == pytest.approx(2.0, abs=1e-9) and result.ratios == pytest.approx((4.0, 4.0), rel=1e-9)
    assert result.tolerance == pytest.approx([e * e for e in etas[:3]], rel=0) and result.passed
    # the kept curves are the raw runs, not the extrapolation
    np.testing.assert_allclose(result.series[0].simulated[:, 0], np.sin(_grid(0.25)) + 5 * 0.25 + 0.8 * 0.0625)


def test_two_richardson_levels_leave_an_eighth_of_the_third_order_term():
    # runs f + c·η + d·η² + e·η³: level 1 leaves −d·η²/2 − 3e·η³/4; level 2 (weight 4) leaves e·η³/8
    etas = (0.25, 0.125, 0.0625, 0.03125, 0.015625)
    result = agreement(np.sin, _polynomial_in_eta(5.0, 0.8, 2.0), etas, tolerance=lambda e: e**3, extrapolation=2)
    assert result.etas == etas[:3] and result.expected_order == 3.0
    assert result.max_abs_error == pytest.approx([2.0 * e**3 / 8 for e in etas[:3]], rel=1e-7)
    assert result.order == pytest.approx(3.0, abs=1e-7) and result.passed


def test_richardson_weights_follow_the_given_order():
    # runs f + d·η² + e·η³ at order 2: (4·R(η/2) − R(η))/3 = f − e·η³/6
    etas = (0.25, 0.125, 0.0625, 0.03125)
    result = agreement(
        np.sin, _polynomial_in_eta(0.0, 0.8, 3.0), etas, tolerance=lambda e: e**3, order=2.0, extrapolation=1
    )
    assert result.expected_order == 3.0
    assert result.max_abs_error == pytest.approx([3.0 * e**3 / 6 for e in etas[:3]], rel=1e-9)


def test_richardson_accepts_round_off_in_the_recorded_times():
    # times accumulated step by step differ from k·η by round-off only: the runs still line up
    def accumulated(eta):
        t = np.concatenate([[0.0], np.cumsum(np.full(round(1 / eta), eta))])
        return t, np.sin(t) + eta

    result = agreement(np.sin, accumulated, (0.1, 0.05, 0.025, 0.0125), tolerance=lambda e: 1e-9, extrapolation=1)
    assert max(result.max_abs_error) < 1e-12


def test_richardson_refuses_finer_runs_whose_times_are_shifted():
    def shifted(eta):
        t = _grid(eta)
        return (t if eta == 0.1 else t + 1e-6), np.sin(t)

    with pytest.raises(ValueError, match=r"the run at η = 0.05 must record every time of the coarsest run"):
        agreement(np.sin, shifted, (0.1, 0.05, 0.025, 0.0125), tolerance=lambda e: 1.0, extrapolation=1)


# ---- agreement(): bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [True, -1, 1.0, "1"])
def test_richardson_levels_must_be_a_whole_number(levels):
    with pytest.raises(ValueError, match=r"extrapolation must be a whole number of Richardson levels ≥ 0, got"):
        agreement(np.sin, _polynomial_in_eta(1.0), (0.4, 0.2, 0.1, 0.05), tolerance=lambda e: 1.0, extrapolation=levels)


def test_an_order_check_needs_three_step_sizes_and_an_exact_law_one():
    with pytest.raises(ValueError, match=r"at least three step sizes .*\(3 here\), got 2; pass order=None"):
        agreement(np.sin, _polynomial_in_eta(1.0), (0.2, 0.1), tolerance=lambda e: 1.0)
    with pytest.raises(ValueError, match=r"\(5 here\), got 4"):
        agreement(np.sin, _polynomial_in_eta(1.0), (0.4, 0.2, 0.1, 0.05), tolerance=lambda e: 1.0, extrapolation=2)
    with pytest.raises(ValueError, match=r"\(3 here\), got 0"):
        agreement(np.sin, _polynomial_in_eta(1.0), (), tolerance=lambda e: 1.0, order=None)
    # one step size is enough for a law that GD meets exactly
    exact = agreement(np.sin, _polynomial_in_eta(0.0), (0.1,), tolerance=lambda e: 1e-15, order=None)
    assert exact.passed and exact.max_abs_error == (0.0,)


def test_richardson_needs_step_sizes_that_halve():
    with pytest.raises(ValueError, match=r"step sizes that halve exactly, got \(0.4, 0.2, 0.1, 0.04\)"):
        agreement(np.sin, _polynomial_in_eta(1.0), (0.4, 0.2, 0.1, 0.04), tolerance=lambda e: 1.0, extrapolation=1)


@pytest.mark.parametrize(
    ("simulate", "match"),
    [
        (
            lambda eta: (_grid(eta)[:-1], np.sin(_grid(eta))),
            r"simulate returned times of shape \(10,\) for values of shape \(11,\)",
        ),
        (lambda eta: (0.0, np.sin(_grid(eta))), r"simulate returned times of shape \(\) for values"),
        (lambda eta: (_grid(eta), 1.0), r"for values of shape \(\)"),
        (lambda eta: (_grid(eta), np.where(_grid(eta) > 0.5, -np.inf, 0.0)), r"non-finite simulated values at η = 0.1"),
        (lambda eta: (_grid(eta), np.where(_grid(eta) > 0.5, np.nan, 0.0)), r"non-finite simulated values at η = 0.1"),
    ],
)
def test_a_malformed_simulation_is_refused(simulate, match):
    with pytest.raises(ValueError, match=match):
        agreement(np.sin, simulate, (0.1,), tolerance=lambda e: 1.0, order=None)


@pytest.mark.parametrize(
    ("law", "match"),
    [
        (lambda t: np.sin(t)[:-1], r"theory returned shape \(10,\) but the simulation \(11,\) at η = 0.1"),
        (lambda t: np.where(t > 0.5, np.inf, 0.0), r"non-finite theory values at the times of η = 0.1"),
        (lambda t: np.where(t > 0.5, np.nan, 0.0), r"non-finite theory values at the times of η = 0.1"),
    ],
)
def test_a_malformed_law_is_refused(law, match):
    with pytest.raises(ValueError, match=match):
        agreement(law, _polynomial_in_eta(0.0), (0.1,), tolerance=lambda e: 1.0, order=None)


def test_two_levels_at_order_two_leave_a_fifty_sixth_of_the_fourth_order_term():
    # runs f + d·η² + e·η³ + g·η⁴ at order 2: level 1 (weight 2² = 4) leaves −e·η³/6 − g·η⁴/4, level 2 (weight
    # 2³ = 8) cancels the η³ term and leaves (−8g/64 + g/4)·η⁴/7 = g·η⁴/56
    etas = (0.25, 0.125, 0.0625, 0.03125, 0.015625)
    runs = _polynomial_in_eta(0.0, 0.8, 3.0, 5.6)
    result = agreement(np.sin, runs, etas, tolerance=lambda e: e**4, order=2.0, extrapolation=2)
    assert result.expected_order == 4.0
    assert result.max_abs_error == pytest.approx([0.1 * e**4 for e in etas[:3]], rel=1e-6)


def _finer_runs_shifted(shift: float, horizon: float = 1.0):
    """Runs sin t + η on t = k·η; every run but the coarsest (η = 0.1) has its times t > 0 moved by ``shift``."""

    def simulate(eta):
        t = _grid(eta, horizon)
        recorded = t if eta == 0.1 else np.where(t > 0, t + shift, t)
        return recorded, np.sin(t) + eta

    return simulate


def test_richardson_lines_up_times_to_a_billionth_of_the_horizon():
    # the times of a finer run must match the coarse ones to 1e-9 · max(1, horizon), absolutely (no relative slack):
    # at horizon 1, 1.5e-9 is too far; at horizon 10 the allowance is 1e-8, so 5e-9 is round-off
    etas = (0.1, 0.05, 0.025, 0.0125)
    with pytest.raises(
        ValueError,
        match=r"the run at η = 0.05 must record every time of the coarsest run and each time halfway between "
        r"\(record at all multiples of the step, e\.g\. times = k·η\)",
    ):
        agreement(np.sin, _finer_runs_shifted(1.5e-9), etas, tolerance=lambda e: 1.0, extrapolation=1)
    result = agreement(np.sin, _finer_runs_shifted(5e-9, horizon=10.0), etas, tolerance=lambda e: 1.0, extrapolation=1)
    # accepted; the law is read at each compared run's own (shifted) times, which moves it by at most the shift
    assert result.etas == etas[:3] and max(result.max_abs_error) <= 5e-9 * 1.01


def test_extrapolation_without_an_order_is_refused_with_the_fix():
    with pytest.raises(
        ValueError,
        match=r"^Richardson extrapolation needs the order of the error it cancels; pass order=1\.0 for GD$",
    ):
        agreement(np.sin, _polynomial_in_eta(1.0), (*ETAS, 0.05), tolerance=lambda e: 1.0, order=None, extrapolation=1)


def test_the_law_is_read_at_float64_times_whatever_the_simulation_returned():
    # a simulation that records whole-number times (η = 1, t = step count) as a Python list of ints
    seen = []

    def law(t):
        seen.append(t.dtype)
        return np.exp(-t)

    result = agreement(
        law, lambda eta: (list(range(6)), np.exp(-np.arange(6.0))), (1.0,), tolerance=lambda e: 0.0, order=None
    )
    assert seen == [np.float64] and result.series[0].t.dtype == np.float64 and result.passed


def test_a_law_or_a_run_in_high_precision_is_compared_at_float64():
    # a reference run or a law evaluated with mpmath (60 digits) comes as objects: it is read as float64
    import mpmath

    exact = lambda t: [mpmath.exp(-mpmath.mpf(float(x))) for x in t]  # noqa: E731
    run = lambda eta: (_grid(eta), exact(_grid(eta)))  # noqa: E731
    with mpmath.workdps(60):
        result = agreement(exact, run, (0.1,), tolerance=lambda e: 0.0, order=None)
    assert result.passed and result.max_abs_error == (0.0,)
    assert result.series[0].simulated.dtype == result.series[0].theory.dtype == np.float64


def test_fit_order_reads_high_precision_values_as_floats():
    import mpmath

    etas = [mpmath.mpf(1) / 10, mpmath.mpf(1) / 20, mpmath.mpf(1) / 40]
    assert fit_order(etas, [3 * e**2 for e in etas]) == pytest.approx(2.0, abs=1e-12)


def test_a_single_component_run_with_times_per_component_keeps_its_time_axis():
    # one mode recorded as (T, 1) times and values (as the depth checks do): the kept time axis is that column
    result = agreement(
        np.exp,
        lambda eta: (_grid(eta)[:, None], np.exp(_grid(eta))[:, None]),
        (0.5,),
        tolerance=lambda e: 0.0,
        order=None,
    )
    np.testing.assert_array_equal(result.series[0].t, [0.0, 0.5, 1.0])
    assert result.series[0].simulated.shape == result.series[0].theory.shape == (3, 1) and result.passed


@pytest.mark.parametrize("order", [0.0, -1.0, float("nan")])
def test_an_error_order_that_is_not_positive_is_refused(order):
    with pytest.raises(ValueError, match=rf"order is the power of η in GD's error and must be positive, got {order}"):
        agreement(np.sin, _polynomial_in_eta(1.0), (0.4, 0.2, 0.1, 0.05), tolerance=lambda e: 1.0, order=order)
    with pytest.raises(ValueError, match=r"pass order=1\.0 for GD, or order=None for a law that GD meets exactly"):
        agreement(
            np.sin,
            _polynomial_in_eta(1.0),
            (0.4, 0.2, 0.1, 0.05),
            tolerance=lambda e: 1.0,
            order=order,
            extrapolation=1,
        )


def test_a_depth_gd_run_too_accurate_for_its_derived_constant_fails_though_it_agrees():
    # The GD checks of verify/suite/modes.py need both the agreement (errors ≤ 1.1·c·η·s², order 1) and the
    # two-sided band |err/(η s²) / c − 1| ≤ 10%. A GD stepping η·(1 + 3e-4) at N = 4 is too accurate: its constant
    # at the finest η falls to 0.677, under the band's lower edge 0.9·0.802 = 0.722 (measured in modes.py's comment
    # on DEPTH_GD_FAULT), while its errors stay under the one-sided tolerance and still halve with η.
    from verify.suite import Fault, run_check

    faulted = run_check("depth_mode", "gd_agreement_N4", 0, Fault("rate", 3e-4))
    assert faulted.evidence["agreement"].passed, "the agreement alone was expected to pass here"
    assert not faulted.passed, faulted.summary
