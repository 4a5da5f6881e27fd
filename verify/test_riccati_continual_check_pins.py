"""Pins of the continual-learning checks of `verify.suite.riccati_continual` that the committed report row (seed 0)
cannot see: the QQᵀ it builds from the weights, the clock it reads the law on, that a check run at another seed
measures that seed's task sequence, and the evidence the report's figures are drawn from."""

from __future__ import annotations

import re

import numpy as np

from theory.riccati_continual import continual_qqt
from verify.suite import Fault, run_check
from verify.suite.riccati import TOL_COEFF
from verify.suite.riccati_continual import (
    DURATION,
    _qqt_of,
    clocked_theory,
    compare_with_gd,
    continual_setup,
    exact_theory,
)


def _gram_by_blocks(W1: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """QQᵀ of Q = [W1ᵀ; W2] written out block by block: [[W1ᵀW1, W1ᵀW2ᵀ], [W2W1, W2W2ᵀ]]."""
    return np.block([[W1.T @ W1, W1.T @ W2.T], [W2 @ W1, W2 @ W2.T]])


def test_qqt_of_is_the_gram_matrix_of_the_stacked_weights_for_one_state_and_a_trajectory():
    rng = np.random.default_rng(3)
    W1 = rng.normal(size=(6, 5, 4))  # 6 recorded states of a (Ni, Nh, No) = (4, 5, 3) network
    W2 = rng.normal(size=(6, 3, 5))
    np.testing.assert_allclose(_qqt_of(W1[0], W2[0]), _gram_by_blocks(W1[0], W2[0]), rtol=1e-13, atol=1e-13)
    batched = _qqt_of(W1, W2)
    assert batched.shape == (6, 7, 7)
    for k in range(6):
        np.testing.assert_allclose(batched[k], _gram_by_blocks(W1[k], W2[k]), rtol=1e-13, atol=1e-13)


def test_a_clock_fault_reads_the_law_at_t_times_one_plus_delta():
    """τ = 1/(1 + δ): inside the first phase the law evaluated at t is the unfaulted law at t·(1 + δ), not at
    t/(1 + δ) (later phases still switch at the global times where GD switches tasks)."""
    setup = continual_setup(0)
    delta, t = 1e-3, np.array([0.7, 1.2])
    faulted = clocked_theory(Fault("clock", delta))(setup.W1, setup.W2, setup.sigmas, [DURATION] * 3, t)
    later = continual_qqt(setup.W1, setup.W2, setup.sigmas, [DURATION] * 3, t * (1 + delta)).qqt
    earlier = continual_qqt(setup.W1, setup.W2, setup.sigmas, [DURATION] * 3, t / (1 + delta)).qqt
    np.testing.assert_allclose(faulted, later, rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(faulted - earlier)) > 1e-5


def _starts_from_init_of(check, seed: int) -> None:
    """Every series of the check's agreement starts (t = 0) at QQᵀ of the seed's own zero-balanced init."""
    setup = continual_setup(seed)
    q0 = _gram_by_blocks(setup.W1, setup.W2).ravel()
    other = _gram_by_blocks(continual_setup(0).W1, continual_setup(0).W2).ravel()
    assert np.max(np.abs(q0 - other)) > 1e-3  # the seeds draw different inits
    for series in check.evidence["agreement"].series:
        assert series.t[0] == 0.0
        np.testing.assert_allclose(series.simulated[0], q0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(series.theory[0], q0, rtol=0, atol=1e-12)


def test_plain_check_at_seed_9_measures_the_sequence_of_seed_9_and_records_its_evidence():
    check = run_check("riccati_qqt", "continual_gd_agreement", seed=9)
    _starts_from_init_of(check, 9)
    assert check.evidence["ylabel"] == "entries of QQᵀ through 3 tasks"
    consts = check.evidence["phase_constants"]
    result = check.evidence["agreement"]
    assert consts.shape == (len(result.etas), 3)
    # cumulative: the error up to the end of phase p is a maximum over a growing set of times
    assert np.all(np.diff(consts, axis=1) >= 0)
    # the last phase's constant is the whole run's max error / (η s̃_max²)
    s_max = continual_setup(9).s_max
    np.testing.assert_allclose(consts[:, -1], np.array(result.max_abs_error) / (np.array(result.etas) * s_max**2))
    printed = re.search(r"up to the end of each phase ([\d.]+), ([\d.]+), ([\d.]+)", check.summary)
    assert printed is not None, check.summary
    assert [float(x) for x in printed.groups()] == [round(c, 2) for c in consts.max(axis=0)]


def test_richardson_check_at_seed_9_measures_the_redrawn_sequence_and_says_so():
    """Seed 9's first draw starts a phase near a saddle, so its sequence is drawn twice (`continual_setup`)."""
    assert continual_setup(9).redrawn == 1
    check = run_check("riccati_qqt", "continual_gd_agreement_richardson", seed=9)
    assert "sequence drawn 2 times)" in check.summary
    _starts_from_init_of(check, 9)
    assert check.evidence["ylabel"] == "entries of QQᵀ through 3 tasks (Richardson-2)"
    result = check.evidence["agreement"]
    assert result.extrapolation == 2
    for eta, err in zip(result.etas, result.max_abs_error, strict=True):
        assert f"η={eta:g}: {err:.3g} " in check.summary


def test_compare_with_gd_defaults_to_the_sequence_of_seed_0():
    """The registered checks' committed rows are at seed 0, and so is `compare_with_gd` called without a seed."""
    result = compare_with_gd(exact_theory)
    setup = continual_setup(0)
    q0 = _gram_by_blocks(setup.W1, setup.W2).ravel()
    for series in result.series:
        np.testing.assert_allclose(series.simulated[0], q0, rtol=0, atol=1e-12)


def test_a_clock_error_of_1e_4_fails_the_plain_check_by_its_fitted_order_alone():
    """Both halves of the verdict count: at δ = 1e-4 every phase stays inside its budget (0.37, 0.37, 1.44 for
    0.82, 1.64, 2.46 at seed 0) and the check still fails, because the errors no longer shrink as O(η)."""
    check = run_check("riccati_qqt", "continual_gd_agreement", fault=Fault("clock", 1e-4))
    consts = check.evidence["phase_constants"]
    budget = TOL_COEFF * np.arange(1, 4)  # one single-task budget per phase, cumulative
    assert np.all(consts <= budget[None, :])
    assert check.evidence["agreement"].order < 1 - 0.15
    assert not check.passed
