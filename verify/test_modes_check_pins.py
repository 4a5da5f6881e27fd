"""The evidence of the mode checks is the API's raw record and the figures' source (`verify.report` reads
``agreement``, ``ylabel`` and ``columns``): its keys, labels and scalars must say what the summary prints."""

import re

from verify.suite import run_check


def test_logistic_symbolic_evidence_records_its_worst_residual_and_sympy_opinion():
    check = run_check("logistic_mode", "solution_satisfies_ode")
    assert set(check.evidence) == {"max_rel_residual", "simplify"}
    # the summary prints the ODE residual; the evidence keeps the worst of the three identities, so at least that
    printed = float(re.search(r"max rel residual ([0-9.e+-]+)", check.summary).group(1))
    assert check.evidence["max_rel_residual"] >= printed * 0.99 or printed <= 1e-30


def test_learning_time_evidence_keeps_sympy_opinion_per_identity():
    check = run_check("logistic_mode", "learning_time_inverts_solution")
    assert set(check.evidence) == {"simplify"}
    assert set(check.evidence["simplify"]) == {"inverse", "half_time"}


def test_depth_symbolic_evidence_keeps_worst_residual_and_sympy_opinion_for_depths_1_to_3():
    check = run_check("depth_mode", "time_formula_matches_ode")
    assert set(check.evidence) == {"max_rel_residual", "simplify"}
    assert isinstance(check.evidence["max_rel_residual"], float)
    # SymPy is asked (with a timeout) only for N ≤ 3; the evidence keeps exactly those opinions
    assert sorted(check.evidence["simplify"]) == [1, 2, 3]


def test_logistic_gd_evidence_labels_the_figure_one_column_per_mode_in_decreasing_s():
    check = run_check("logistic_mode", "gd_agreement")
    assert set(check.evidence) == {"agreement", "ylabel", "columns"}
    assert check.evidence["ylabel"] == "mode strength u_α = ũ_αᵀ W2W1 ṽ_α"
    # the setting is s = 3, 2, 1 (docstring and LAWS.md), the modes in decreasing s
    assert check.evidence["columns"] == ("s = 3", "s = 2", "s = 1")
    assert str(check.evidence["agreement"]) in check.summary


def test_depth_gd_evidence_labels_the_figure_with_its_depth():
    check = run_check("depth_mode", "gd_agreement_N3")
    assert set(check.evidence) == {"agreement", "ylabel"}
    assert check.evidence["ylabel"] == "mode strength u (N = 3)"


def test_logistic_richardson_evidence_keeps_the_agreement_for_the_figure():
    check = run_check("logistic_mode", "gd_agreement_richardson")
    assert set(check.evidence) == {"agreement"}
    assert check.evidence["agreement"].passed == check.passed
