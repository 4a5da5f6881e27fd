"""The evidence of the mode checks is the API's raw record and the figures' source (`verify.report` reads
``agreement``, ``ylabel`` and ``columns``): its keys, labels and scalars must say what the summary prints."""

import re

import numpy as np
import pytest

from verify.suite import run_check


def test_logistic_symbolic_evidence_records_its_worst_residual_and_sympy_opinion():
    check = run_check("logistic_mode", "solution_satisfies_ode")
    assert set(check.evidence) == {"max_rel_residual", "simplify"}
    # the summary prints the ODE residual; the evidence keeps the worst of the three identities, so at least that
    printed = float(re.search(r"max rel residual ([0-9.e+-]+)", check.summary).group(1))
    assert check.evidence["max_rel_residual"] >= printed * 0.99 or printed <= 1e-30
    # SymPy's timed second opinion on the ODE is asked (whatever it answers on this machine), not skipped
    assert check.evidence["simplify"] in {"zero", "nonzero", "timeout", "error"}


def test_learning_time_evidence_keeps_sympy_opinion_per_identity():
    check = run_check("logistic_mode", "learning_time_inverts_solution")
    assert set(check.evidence) == {"simplify"}
    assert set(check.evidence["simplify"]) == {"inverse", "half_time"}
    # both identities get SymPy's timed second opinion (its answer depends on the machine, but it is asked)
    assert all(v in {"zero", "nonzero", "timeout", "error"} for v in check.evidence["simplify"].values())


def test_depth_symbolic_evidence_keeps_worst_residual_and_sympy_opinion_for_depths_1_to_3():
    check = run_check("depth_mode", "time_formula_matches_ode")
    assert set(check.evidence) == {"max_rel_residual", "simplify"}
    assert isinstance(check.evidence["max_rel_residual"], float)
    # SymPy is asked (with a timeout) only for N ≤ 3; the evidence keeps exactly those opinions
    assert sorted(check.evidence["simplify"]) == [1, 2, 3]
    # ... and each of the three was asked (none skipped), whatever SymPy answers within its time limit
    assert all(v in {"zero", "nonzero", "timeout", "error"} for v in check.evidence["simplify"].values())


def test_logistic_gd_evidence_labels_the_figure_one_column_per_mode_in_decreasing_s():
    check = run_check("logistic_mode", "gd_agreement")
    assert set(check.evidence) == {"agreement", "ylabel", "columns"}
    assert check.evidence["ylabel"] == "mode strength u_α = ũ_αᵀ W2W1 ṽ_α"
    # the setting is s = 3, 2, 1 (docstring and LAWS.md), the modes in decreasing s
    assert check.evidence["columns"] == ("s = 3", "s = 2", "s = 1")
    assert str(check.evidence["agreement"]) in check.summary
    # the figure's curves are the runs the docstring names: t/τ from 0 to 8 in steps of η at each η, the three
    # modes starting at u0 = 1e-3 and the law reaching s = 3, 2, 1 by 8τ (u(8) = s to e^{-16} for s = 1)
    series = check.evidence["agreement"].series
    assert [run.eta for run in series] == [0.01, 0.005, 0.0025]
    for run in series:
        np.testing.assert_allclose(run.t, np.arange(round(8 / run.eta) + 1) * run.eta, rtol=0, atol=1e-12)
        assert run.simulated.shape == run.theory.shape == (len(run.t), 3)
        np.testing.assert_allclose(run.simulated[0], 1e-3, rtol=1e-9)
        np.testing.assert_allclose(run.theory[-1], [3.0, 2.0, 1.0], rtol=1e-3)


def test_depth_gd_evidence_labels_the_figure_with_its_depth():
    check = run_check("depth_mode", "gd_agreement_N3")
    assert set(check.evidence) == {"agreement", "ylabel"}
    assert check.evidence["ylabel"] == "mode strength u (N = 3)"
    # the setting of LAWS.md §1.3 the summary names (s = 2, u0 = 0.05, t/τ ∈ [0, 6]): one mode, from u0 towards s
    series = check.evidence["agreement"].series
    assert [run.eta for run in series] == [0.01, 0.005, 0.0025]
    for run in series:
        np.testing.assert_allclose(run.t, np.arange(round(6 / run.eta) + 1) * run.eta, rtol=0, atol=1e-12)
        assert run.simulated.shape == run.theory.shape == (len(run.t), 1)
        assert run.simulated[0, 0] == pytest.approx(0.05, rel=1e-9) and run.theory[0, 0] == 0.05
        # t(u) is finite below s, so u(6) < s; at 6τ the N = 3 mode is within 1% of s = 2 (LAWS.md §1.3 figure)
        assert 0.99 * 2.0 < run.theory[-1, 0] < 2.0


def test_logistic_richardson_evidence_keeps_the_agreement_for_the_figure():
    check = run_check("logistic_mode", "gd_agreement_richardson")
    assert set(check.evidence) == {"agreement"}
    assert check.evidence["agreement"].passed == check.passed
    # five runs at halving η (RICHARDSON_ETAS); each of the three compared ones covers t/τ ∈ [0, 8] for three modes
    result = check.evidence["agreement"]
    assert result.etas == (0.01, 0.005, 0.0025) and result.extrapolation == 2
    for run in result.series:
        np.testing.assert_allclose(run.t, np.arange(round(8 / run.eta) + 1) * run.eta, rtol=0, atol=1e-12)
        assert run.simulated.shape == (len(run.t), 3)
        np.testing.assert_allclose(run.simulated[0], 1e-3, rtol=1e-9)


def test_depth_richardson_evidence_keeps_the_agreement_of_the_runs_over_six_tau():
    check = run_check("depth_mode", "gd_agreement_richardson_N3")
    assert set(check.evidence) == {"agreement"}
    result = check.evidence["agreement"]
    assert result.passed == check.passed and str(result) in check.summary
    # the setting of LAWS.md §1.3 (s = 2, u0 = 0.05, t/τ ∈ [0, 6]) at five halving η, three compared
    assert result.etas == (0.01, 0.005, 0.0025) and result.extrapolation == 2
    for run in result.series:
        np.testing.assert_allclose(run.t, np.arange(round(6 / run.eta) + 1) * run.eta, rtol=0, atol=1e-12)
        assert run.simulated.shape == (len(run.t), 1)
        assert run.simulated[0, 0] == pytest.approx(0.05, rel=1e-9)
