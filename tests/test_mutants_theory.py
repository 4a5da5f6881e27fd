"""Tests that kill surviving mutants of theory/ (reports/mutants.md lists the mutants and the tests that kill them).

Each test pins behaviour that the rest of the suite left free: a boundary of an assumption check, the fix an error
message promises, or a helper whose only other caller runs at import time (mutmut runs every mutant in a process
forked after the modules were imported, so a mutant of such a helper is reached only by a direct call).
"""

import numpy as np
import pytest
import sympy as sp

from theory import AssumptionError, balance, forgetting, modes


def test_mode_strength_check_refuses_zero_and_accepts_small_singular_values():
    # u0 = 0 is the fixed point itself (u stays 0 for ever): refused, not only u0 < 0
    with pytest.raises(AssumptionError, match=r"u0 = 0.0 must be > 0"):
        modes.logistic_mode.check(u0=0.0, s=1.0)
    # s below 1 is an ordinary, learnable mode: only s ≤ 0 is refused
    modes.logistic_mode.check(u0=0.01, s=0.5)
    with pytest.raises(AssumptionError, match=r"s = 0 must be > 0"):
        modes.logistic_mode.check(u0=0.01, s=0)


def test_mode_strength_error_names_the_fix():
    # the message ends with the remedy, verbatim (a user greps for it)
    fix = r"lies on the other side of the saddle\)\. Start from a small positive aligned initialisation\.$"
    with pytest.raises(AssumptionError, match=fix):
        modes.logistic_mode.check(u0=-0.1, s=1.0)


@pytest.mark.parametrize("bad", [True, 2.0, 0])
def test_depth_must_be_a_true_integer(bad):
    # bool is an int subclass and 2.0 compares like 2: both are refused by type, not silently accepted
    with pytest.raises(ValueError, match=r"depth N must be an integer ≥ 1"):
        modes.depth_mode_time(bad)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_depth_rhs_is_the_reciprocal_of_the_closed_form_time_derivative(n):
    # d t(uf)/d uf = 1 / (N uf^{2−2/N} (s − uf)/τ): the closed-form time and the ODE's right-hand side are one law.
    # _depth_rhs builds depth_mode.equation at import; calling it here is the only way a test reaches it at run time.
    uf = modes.uf
    rhs = modes._depth_rhs(sp.Integer(n), uf)
    product = sp.diff(modes.depth_mode_time(n), uf) * rhs
    point = {modes.s: sp.Rational(3, 2), modes.tau: sp.Rational(7, 10), modes.u0: sp.Rational(1, 20)}
    for value in (sp.Rational(1, 5), sp.Rational(4, 5), sp.Rational(13, 10)):
        # 30 digits: the product is exactly 1, so 1e-20 leaves ten orders of margin over evaluation round-off
        assert abs(sp.N(product.subs(point).subs(uf, value), 30) - 1) < 1e-20
    # and at N = 2 it is the logistic law's right-hand side 2u(s − u)/τ
    if n == 2:
        assert sp.simplify(rhs - modes.logistic_mode.equation.rhs.subs(modes.u, uf)) == 0


# -- theory/balance.py: every error names the offending layer, counted from 1 as in the docstrings ------------------


def test_imbalance_names_the_layer_with_bad_values():
    with pytest.raises(ValueError, match=r"^W2 contains NaN"):
        balance.imbalance([np.eye(2), np.array([[1.0, np.nan]])])


def test_imbalance_names_both_layers_and_their_sizes_in_a_chain_mismatch():
    # W1 is 3×2 (3 rows), W2 is 4×2 (2 columns): the message gives both numbers, not W1's columns
    with pytest.raises(ValueError, match=r"^W2 has 2 columns but W1 has 3 rows$"):
        balance.imbalance([np.ones((3, 2)), np.ones((4, 2))])
    # in a longer chain the mismatch between W2 and W3 is reported for those two, not wrapped around to W1
    with pytest.raises(ValueError, match=r"^W3 has 6 columns but W2 has 4 rows$"):
        balance.imbalance([np.ones((3, 2)), np.ones((4, 3)), np.ones((5, 6))])


def test_gd_drift_refuses_a_zero_step_and_names_the_bad_gradient():
    with pytest.raises(ValueError, match=r"step size eta must be a positive finite number, got 0"):
        balance.gd_drift([np.eye(2), np.eye(2)], 0.0)
    with pytest.raises(ValueError, match=r"^G2 contains NaN"):
        balance.gd_drift([np.eye(2), np.array([[np.inf, 0.0], [0.0, 1.0]])], 0.1)


# -- theory/forgetting.py: each matrix argument is checked under its own name and against the other's shape --------


def test_task_distance_names_each_argument():
    with pytest.raises(ValueError, match=r"^sigma_a contains NaN"):
        forgetting.task_distance([[np.nan]], [[1.0]])
    with pytest.raises(ValueError, match=r"^sigma_b has shape \(3, 3\); expected \(2, 2\)"):
        forgetting.task_distance(np.eye(2), np.eye(3))


def test_irreducible_loss_names_each_argument():
    with pytest.raises(ValueError, match=r"^sigma_yx contains NaN"):
        forgetting.irreducible_loss([[np.nan]], [[1.0]])
    # Σyy is (outputs × outputs): a 2×3 Σyx needs a 2×2 Σyy
    with pytest.raises(ValueError, match=r"^sigma_yy has shape \(3, 3\); expected \(2, 2\)"):
        forgetting.irreducible_loss(np.ones((2, 3)), np.eye(3))


def test_task_loss_names_each_argument():
    with pytest.raises(ValueError, match=r"^sigma_yx contains NaN"):
        forgetting.task_loss([[0.0]], [[np.inf]], [[1.0]])
    with pytest.raises(ValueError, match=r"^W has shape \(2, 2\); expected \(1, 1\)"):
        forgetting.task_loss(np.eye(2), [[2.0]], [[4.0]])


def test_capacity_check_accepts_width_equal_to_rank_and_names_the_fix():
    law = forgetting.forgetting_task_distance
    law.check(Nh=2, sigma_yx=np.diag([3.0, 1.0]))  # Nh = rank: W = Σyx is reachable
    fix = r"Replace Σyx by its best rank-Nh truncation \(Saxe eq\. 7\) before computing distances, or widen the network\.$"
    with pytest.raises(AssumptionError, match=r"^hidden width Nh = 1 < rank Σyx = 2: .*" + fix):
        law.check(Nh=1, sigma_yx=np.diag([3.0, 1.0]))
    with pytest.raises(ValueError, match=r"^sigma_yx contains NaN"):
        law.check(Nh=1, sigma_yx=[[np.nan]])
