"""`continual_qqt` against GD through a task sequence (issue 9 item 5): the registered check passes, and the same
comparison (`verify.suite.riccati_continual.compare_with_gd`) fails with the theories the issue names as wrong."""

from collections.abc import Sequence

import numpy as np
import pytest

from theory.riccati import qqt, qqt_from_product
from theory.riccati_continual import continual_qqt
from verify.suite import NO_FAULT, Fault
from verify.suite.riccati_continual import (
    DURATION,
    ORDER_TOL,
    clocked_theory,
    compare_with_gd,
    continual_setup,
    exact_theory,
)

CLOCK_ERROR = 1e-3


def chained_from_last_requested_time(
    W1_0: np.ndarray, W2_0: np.ndarray, sigmas: Sequence[np.ndarray], durations: Sequence[float], t: np.ndarray
) -> np.ndarray:
    """The bug of issue 9 item 5 as a theory: Theorem 3.1 phase by phase, each phase started from the state at the
    last *requested* time of the previous phase instead of at its end (right whenever a phase end is requested)."""
    bounds = np.concatenate([[0.0], np.cumsum(durations)])
    phase = np.clip(np.searchsorted(bounds, t, side="left") - 1, 0, len(sigmas) - 1)
    Ni = W1_0.shape[1]
    out = np.empty((t.size, Ni + W2_0.shape[0], Ni + W2_0.shape[0]))
    w21 = None
    for k, sigma in enumerate(sigmas):
        local = t[phase == k] - bounds[k]
        if local.size == 0:
            raise ValueError(f"this wrong theory needs a requested time in every phase, phase {k} has none")
        q = qqt(W1_0, W2_0, sigma, local) if k == 0 else qqt_from_product(w21, sigma, local)
        out[phase == k] = q
        w21 = q[-1, Ni:, :Ni]  # the bug: the last requested state, not the phase end's
    return out


def clock_error(
    W1_0: np.ndarray, W2_0: np.ndarray, sigmas: Sequence[np.ndarray], durations: Sequence[float], t: np.ndarray
) -> np.ndarray:
    """`continual_qqt` evaluated at t·(1 + 1e-3): the flow's clock runs 1e-3 fast (τ = 1/(1 + 1e-3)), through every
    phase, so the phase boundaries stay where GD switches tasks."""
    return continual_qqt(W1_0, W2_0, sigmas, durations, t, tau=1.0 / (1.0 + CLOCK_ERROR)).qqt


def test_registered_check_passes(assert_check):
    result = assert_check("riccati_qqt", "continual_gd_agreement")
    assert abs(result.evidence["agreement"].order - 1.0) <= ORDER_TOL


def test_wrong_chaining_agrees_when_phase_ends_are_requested():
    """Why the check asks for the inside times in a call of their own: with every phase end among the requested
    times the wrong chaining is the right one (it is the bug that "passes everything")."""
    setup = continual_setup(0)
    durations = [DURATION] * len(setup.tasks)
    t = np.linspace(0.0, DURATION * len(setup.tasks), 31)  # every 0.15τ: phase ends included
    exact = exact_theory(setup.W1, setup.W2, setup.sigmas, durations, t)
    wrong = chained_from_last_requested_time(setup.W1, setup.W2, setup.sigmas, durations, t)
    # the same float64 evaluations in the same order, up to how the times are split into calls: round-off only
    np.testing.assert_allclose(wrong, exact, rtol=0, atol=1e-12)


def test_wrong_chaining_fails_the_comparison():
    exact = compare_with_gd(exact_theory)
    wrong = compare_with_gd(chained_from_last_requested_time)
    assert exact.passed
    assert not wrong.passed
    # the wrong start state (0.15τ early, while the network still moves) costs an η-independent 0.127 at seed 0:
    # 95× the tolerance at η = 2.5e-4 (24× at η = 1e-3), fitted order −0.007; demand ≥ 20× and an order ≤ 0.2
    assert wrong.max_abs_error[-1] >= 20 * wrong.tolerance[-1]
    assert wrong.order is not None and wrong.order <= 0.2
    assert wrong.max_abs_error[-1] >= 20 * exact.max_abs_error[-1]


def test_clock_error_fails_the_comparison():
    exact = compare_with_gd(exact_theory)
    late = compare_with_gd(clock_error)
    assert not late.passed
    # t·1e-3 at t ≤ 4.5τ moves QQᵀ by ≈ 2.6e-3 whatever η: 1.96× the tolerance at η = 2.5e-4 (demand 1.5×), and
    # the fitted order collapses from 1.000 to 0.282, 4.8 order tolerances away from 1 (demand 3)
    assert late.max_abs_error[-1] >= 1.5 * late.tolerance[-1]
    assert late.order is not None and abs(late.order - 1.0) > 3 * ORDER_TOL
    assert exact.order is not None and abs(exact.order - 1.0) <= ORDER_TOL


def test_richardson_comparison_resolves_the_issues_clock_error():
    """Issue 9 item 4: a clock off by 1e-6, 1000 times below what the plain comparison resolves, fails the
    extrapolated one by a wide margin, and so does the wrong chaining."""
    exact = compare_with_gd(exact_theory, extrapolation=2)
    late = compare_with_gd(clocked_theory(Fault("clock", 1e-6)), extrapolation=2)
    wrong = compare_with_gd(chained_from_last_requested_time, extrapolation=2)
    assert exact.passed and exact.order is not None and abs(exact.order - 3.0) <= ORDER_TOL
    # 1e-6 moves QQᵀ by ≈ 2.2e-6 at every η: 7e4× the tolerance at η = 2.5e-4 (3e-11); demand 1e3×
    assert not late.passed and late.max_abs_error[-1] >= 1e3 * late.tolerance[-1]
    # the wrong start state costs 0.127 (see above), ten orders above the extrapolated tolerance
    assert not wrong.passed and wrong.max_abs_error[-1] >= 1e6 * wrong.tolerance[-1]


def test_clocked_theory_is_the_law_without_a_clock_fault():
    setup = continual_setup(0)
    durations = [DURATION] * len(setup.tasks)
    t = np.linspace(0.0, DURATION * len(setup.tasks), 31)
    same = clocked_theory(NO_FAULT)(setup.W1, setup.W2, setup.sigmas, durations, t)
    for fault in (Fault("rate", 1e-3), Fault("law", 1e-3)):  # faults of other kinds leave the theory alone
        np.testing.assert_array_equal(clocked_theory(fault)(setup.W1, setup.W2, setup.sigmas, durations, t), same)
    np.testing.assert_array_equal(same, exact_theory(setup.W1, setup.W2, setup.sigmas, durations, t))


def test_extrapolation_levels_are_validated():
    with pytest.raises(ValueError, match=r"extrapolation must be 0 \(plain\) or 2"):
        compare_with_gd(exact_theory, extrapolation=1)
    with pytest.raises(ValueError, match="extrapolation must be 0"):
        compare_with_gd(exact_theory, extrapolation=True)  # a flag is not a number of levels
