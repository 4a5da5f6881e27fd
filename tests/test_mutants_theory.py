"""Tests that kill surviving mutants of theory/ (reports/mutants.md lists the mutants and the tests that kill them).

Each test pins behaviour that the rest of the suite left free: a boundary of an assumption check, the fix an error
message promises, or a helper whose only other caller runs at import time (mutmut runs every mutant in a process
forked after the modules were imported, so a mutant of such a helper is reached only by a direct call).
"""

import dataclasses

import numpy as np
import pytest
import sympy as sp

import theory
import theory.law
from theory import AssumptionError, balance, checks, decoupling, forgetting, modes, regression, stability


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


# -- theory/checks.py: the shared input checks ------------------------------------------------------------------------


def test_as_matrix_returns_float64_and_names_a_wrong_rank():
    assert checks.as_matrix([[1, 2]], "W").dtype == np.float64  # integers become float64, not an int array
    with pytest.raises(TypeError, match=r"^W must be real numbers \(an array or a float\), got \[\[1, 'a'\]\]"):
        checks.as_matrix([[1, "a"]], "W")
    with pytest.raises(ValueError, match=r"^W must be a 2-D matrix, got an array of shape \(3,\)$"):
        checks.as_matrix([1.0, 2.0, 3.0], "W")


def test_as_times_messages():
    with pytest.raises(ValueError, match=r"^t must be a scalar or a 1-D array of times, got shape \(1, 2\)$"):
        checks.as_times([[0.0, 1.0]], 1.0)
    with pytest.raises(
        ValueError, match=r"^t must contain finite times ≥ 0 \(the solutions run forward from the initialisation\)$"
    ):
        checks.as_times([-1.0], 1.0)


def test_check_shapes_messages():
    with pytest.raises(ValueError, match=r"^W2_0 has 3 columns but W1_0 has 4 rows \(both must be Nh\)$"):
        checks.check_shapes(np.ones((4, 2)), np.ones((1, 3)), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"^sigma_yx must have shape \(No, Ni\) = \(1, 2\), got \(2, 1\)$"):
        checks.check_shapes(np.ones((4, 2)), np.ones((1, 4)), np.ones((2, 1)))


def test_check_whitened_boundary_shape_and_name():
    checks.check_whitened(np.eye(3), rtol=0.0)  # exactly I passes even at zero tolerance (the test is err > rtol)
    with pytest.raises(ValueError, match=r"^sigma_xx must have shape \(Ni, Ni\) = \(2, 2\), got \(2, 3\)$"):
        checks.check_whitened(np.ones((2, 3)))  # without n_in, Ni is the row count
    with pytest.raises(ValueError, match=r"^sigma_xx contains NaN"):
        checks.check_whitened([[np.nan]])


def test_check_balanced_boundary_zero_weights_and_messages():
    checks.check_balanced([np.eye(2), np.eye(2)], rtol=0.0)  # exactly balanced passes at zero tolerance
    checks.check_balanced([np.zeros((2, 2)), np.zeros((2, 2))])  # all-zero layers are balanced (0 = 0), no 0/0
    with pytest.raises(AssumptionError, match=r"‖W1W1ᵀ − W2ᵀW2‖_F"):
        checks.check_balanced([[[1.0]], [[0.5]]])  # largest entry exactly 1: the rescaling must still compare
    # a three-layer chain: W1, W2 balanced; W2, W3 not — the pair is named, not wrapped around to W1
    with pytest.raises(AssumptionError, match=r"‖W2W2ᵀ − W3ᵀW3‖_F"):
        checks.check_balanced([[[1.0]], [[1.0]], [[2.0]]])
    with pytest.raises(ValueError, match=r"^W3 has 6 columns but W2 has 4 rows$"):
        checks.check_balanced([np.zeros((3, 2)), np.zeros((4, 3)), np.ones((5, 6))])
    with pytest.raises(ValueError, match=r"^W2 contains NaN"):
        checks.check_balanced([np.eye(2), np.full((2, 2), np.nan)])


# -- theory/law.py -------------------------------------------------------------------------------------------------


def test_hypergeometric_fallback_for_orders_scipy_lacks():
    # 1F1(1; 2; x) = (eˣ − 1)/x: not a 2F1, so the numpy backend must take the mpmath path, elementwise
    z = np.array([0.5, -1.0, 2.0])
    got = theory.law._hyper_numpy((1,), (2,), z)
    # both sides are double-precision evaluations of smooth functions of O(1) size: 1e-14 is ~50 ulp
    np.testing.assert_allclose(got, np.expm1(z) / z, rtol=1e-14)


def test_sign_conditions_read_from_the_symbol():
    conds = theory.law._sign_conditions
    assert conds(sp.Symbol("n", positive=True, integer=True)) == ("real", "integer", "positive")
    assert conds(sp.Symbol("x", nonnegative=True)) == ("real", "nonnegative")
    assert conds(sp.Symbol("z")) == ()
    assert conds(sp.MatrixSymbol("M", 2, 2)) == ()


def test_evaluating_outside_real_or_integer_assumptions_names_the_assumption():
    with pytest.raises(
        AssumptionError, match=r"s = \(1\+1j\) violates the assumption s is real \(the symbol is declared real=True\)"
    ):
        modes.logistic_mode.numeric(t=1.0, tau=1.0, s=1 + 1j, u0=0.1)
    with pytest.raises(
        AssumptionError,
        match=r"N = 2\.5 violates the assumption N is an integer \(the symbol is declared integer=True\)",
    ):
        theory.law._KeywordFunction("law", "target", ("N",), lambda n: n, (("integer", "positive"),)).check_values(
            {"N": 2.5}
        )
    # object arrays of exact numbers are decided too (converted to complex first)
    with pytest.raises(
        AssumptionError, match=r"N = -1\.0 \(an entry of the array given\) violates the assumption N > 0"
    ):
        theory.law._KeywordFunction("law", "target", ("N",), lambda n: n, (("positive",),)).check_values(
            {"N": np.array([sp.Integer(-1)], dtype=object)}
        )
    # ... and a complex exact entry is caught as non-real, not waved through as undecidable
    with pytest.raises(
        AssumptionError, match=r"N = 1j \(an entry of the array given\) violates the assumption N is real"
    ):
        theory.law._KeywordFunction("law", "target", ("N",), lambda n: n, (("positive",),)).check_values(
            {"N": np.array([sp.I], dtype=object)}
        )


# -- theory/regression.py ------------------------------------------------------------------------------------------


def test_nullspace_projector_honours_rcond():
    # a direction excited 1e-8 times less than the other counts as never excited when rcond = 1e-6
    np.testing.assert_array_equal(regression.nullspace_projector(np.diag([1.0, 1e-8]), rcond=1e-6), np.diag([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^X contains NaN"):
        regression.nullspace_projector([[np.nan]])


def test_shallow_limit_names_each_argument():
    x = np.array([[1.0], [0.0]])
    with pytest.raises(ValueError, match=r"^X contains NaN"):
        regression.shallow_limit([[np.nan]], [[1.0]], [[0.0]])
    with pytest.raises(ValueError, match=r"^Y has shape \(1, 2\); expected \(None, 1\)"):
        regression.shallow_limit(x, [[1.0, 2.0]], [[0.0, 0.0]])
    with pytest.raises(ValueError, match=r"^A0 has shape \(1, 3\); expected \(1, 2\)"):
        regression.shallow_limit(x, [[2.0]], [[0.0, 0.0, 0.0]])


# -- theory/stability.py -------------------------------------------------------------------------------------------


def test_sharpness_depth_one_and_small_curvature():
    assert stability.sharpness_at_minimum([[3.0]], depth=1) == 1.0  # λ_max(Σxx = I) = 1 whatever Σyx
    # λ_max = 0.5 < 1 is still a finite bound 2/0.5 = 4 (only λ_max = 0 gives inf)
    assert stability.max_stable_eta([[3.0]], depth=1, sigma_xx=[[0.5]]) == 4.0


@pytest.mark.parametrize("bad", [True, 2.0, 0])
def test_sharpness_depth_must_be_a_true_integer(bad):
    with pytest.raises(ValueError, match=r"depth must be a positive integer"):
        stability.sharpness_at_minimum([[1.0]], depth=bad)


def test_sharpness_names_each_argument_and_the_fix():
    with pytest.raises(ValueError, match=r"^sigma_yx contains NaN"):
        stability.sharpness_at_minimum([[np.nan]], depth=2)
    with pytest.raises(ValueError, match=r"^sigma_xx has shape \(2, 2\); expected \(1, 1\)"):
        stability.sharpness_at_minimum([[1.0]], depth=2, sigma_xx=np.eye(2))
    with pytest.raises(AssumptionError, match=r"otherwise compute the Hessian of your loss numerically\.$"):
        stability.sharpness_at_minimum([[1.0]], depth=2, sigma_xx=[[2.0]])


# -- theory/__init__.py --------------------------------------------------------------------------------------------


def test_registry_refuses_two_laws_with_one_name_and_sorts_by_name():
    # LAWS is built by _collect at import; calling it here is how a test reaches it at run time
    import types

    a = types.SimpleNamespace(x=modes.logistic_mode, y=balance.layer_balance, z=modes.logistic_mode, n=3)
    assert list(theory._collect(a)) == ["layer_balance", "logistic_mode"]
    twin = dataclasses.replace(modes.logistic_mode)
    with pytest.raises(RuntimeError, match=r"^two laws are named 'logistic_mode'$"):
        theory._collect(a, types.SimpleNamespace(w=twin))


def test_unknown_law_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"known laws: " + ", ".join(theory.LAWS)):
        theory.get_law("no_such_law")


# -- theory/decoupling.py ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a1", "a2", "b0"), [(0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, 1.0)])
def test_m0_check_refuses_the_boundary_of_positive_definiteness(a1, a2, b0):
    # a1 = 0, a2 = 0 or a1·a2 = b0² make M0 singular: refused, not only the strict violations
    with pytest.raises(AssumptionError, match=r"^positive-definite M0: .*Fix: initialise A0 with full column rank\.$"):
        decoupling.decoupling_2x2.check(a1=a1, a2=a2, b0=b0)


def test_peak_check_refuses_the_boundary_and_reports_the_sum():
    with pytest.raises(AssumptionError, match=r"got a1 \+ a2 = 0\.5 ≥ s = 0\.5"):
        decoupling.coupling_peak_time.check(s=0.5, a1=0.25, a2=0.25, b0=0.0)
    fix = r"got a1 \+ a2 = 0\.75 ≥ s = 0\.5\. .*Fix: use a smaller initialisation \(or report t_peak = 0\)\.$"
    with pytest.raises(AssumptionError, match=fix):
        decoupling.coupling_peak_time.check(s=0.5, a1=0.5, a2=0.25, b0=0.0)


def test_located_peak_time_checks_every_assumption_first():
    with pytest.raises(AssumptionError, match=r"interior coupling peak"):
        decoupling.located_peak_time(0.5, 0.5, 0.25, 0.0)
    with pytest.raises(AssumptionError, match=r"positive-definite M0"):
        decoupling.located_peak_time(2.0, 0.01, 0.01, 0.02)


def test_decoupled_m_validates_each_input():
    with pytest.raises(ValueError, match=r"^m0 contains NaN"):
        decoupling.decoupled_m([[np.nan]], [1.0], [0.0])
    with pytest.raises(ValueError, match=r"^m0 must be a symmetric \(2, 2\) matrix, got shape \(2, 2\)$"):
        decoupling.decoupled_m([[1.0, 0.5], [0.0, 1.0]], [1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match=r"^s_tilde must be finite singular values > 0$"):
        decoupling.decoupled_m([[1.0]], [0.0], [0.0])
    with pytest.raises(
        AssumptionError,
        match=r"^m0_positive_definite: M0 = A0ᵀA0 must be positive definite \(A0 of full column rank\)\.$",
    ):
        decoupling.decoupled_m([[0.0]], [1.0], [0.0])


@pytest.mark.parametrize(
    ("u0", "s_tilde"), [([0.1, 0.2], [1.0]), ([np.nan], [1.0]), ([0.1], [np.inf]), ([0.1], [-1.0])]
)
def test_aligned_strengths_validates_its_vectors(u0, s_tilde):
    with pytest.raises(ValueError, match=r"^u0 and s_tilde must be finite vectors of equal length, with s_tilde ≥ 0$"):
        decoupling.aligned_strengths(u0, s_tilde, [0.0])


def test_aligned_strengths_zero_singular_value_and_long_times():
    # s̃ = 0: u0/(1 + 2|u0|t) = 0.5/(1 + 1) at t = 1, computed without a 0/0 in the branch np.where discards
    np.testing.assert_allclose(decoupling.aligned_strengths([0.5], [0.0], [1.0]), [[0.25]], rtol=1e-15)
    # u0 = s̃ stays at s̃; at t = 400 e^{−2s̃t} underflows to 0 and the discarded reversal branch is 0/0 — silently
    np.testing.assert_allclose(decoupling.aligned_strengths([2.0], [2.0], [400.0]), [[2.0]], rtol=1e-15)


def _symmetric_sqrt(m):
    lam, v = np.linalg.eigh(m)
    return v @ np.diag(np.sqrt(lam)) @ v.T


def test_aligned_qqt_validates_each_input():
    w = np.sqrt(np.diag([2.0, 1.0]))
    with pytest.raises(ValueError, match=r"^W1_0 contains NaN"):
        decoupling.aligned_qqt(np.full((2, 2), np.nan), w, np.eye(2), [0.0])
    with pytest.raises(ValueError, match=r"^W2_0 contains NaN"):
        decoupling.aligned_qqt(w, np.full((2, 2), np.nan), np.eye(2), [0.0])
    with pytest.raises(ValueError, match=r"^sigma_yx contains NaN"):
        decoupling.aligned_qqt(w, w, np.full((2, 2), np.nan), [0.0])
    with pytest.raises(AssumptionError, match=r"^whitened inputs"):
        decoupling.aligned_qqt(w, w, np.diag([2.0, 1.0]), [0.0], sigma_xx=2 * np.eye(2))
    with pytest.raises(ValueError, match=r"^sigma_xx must have shape \(Ni, Ni\) = \(2, 2\), got \(3, 3\)$"):
        decoupling.aligned_qqt(w, w, np.diag([2.0, 1.0]), [0.0], sigma_xx=np.eye(3))


def test_aligned_qqt_tolerances_are_the_ones_given():
    # balance: |1 − 1.21| / (1 + 1.21) ≈ 0.095 passes balance_rtol = 0.5 (and would fail the default 1e-8)
    q = decoupling.aligned_qqt([[1.0]], [[1.1]], [[1.0]], [0.0], balance_rtol=0.5)
    # QQᵀ is rebuilt from the mode strength u = W2W1 = 1.1 as a balanced pair (√u, √u): every entry is u
    np.testing.assert_allclose(q[0], np.full((2, 2), 1.1), rtol=1e-15)
    # an exactly aligned start passes even at align_rtol = 0 (the test is resid > tolerance)
    w0 = np.sqrt(np.diag([2.0, 1.0]))
    decoupling.aligned_qqt(w0, w0, np.diag([2.0, 1.0]), [0.0], align_rtol=0.0)
    # alignment is relative to ‖W2W1(0)‖: at scale ~224 a 6e-4 relative misalignment passes align_rtol = 1e-2
    w = 10 * _symmetric_sqrt(np.array([[2.0, 1e-3], [1e-3, 1.0]]))  # symmetric, hence balanced (W W = Wᵀ W)
    decoupling.aligned_qqt(w, w, np.diag([2.0, 1.0]), [0.0], align_rtol=1e-2)
    # the message reports the relative misalignment: the off-diagonal 1e-3 twice over ‖diag(2, 1)‖ = √5, √2e-3/√5
    fix = r"Fix: use theory\.riccati\.qqt \(Theorem 3\.1\), which needs only B = UᵀŨ \+ VᵀṼ nonsingular\.$"
    with pytest.raises(
        AssumptionError, match=r"^aligned initialisation: .* = 0\.000632 > align_rtol = 1e-06, .*" + fix
    ):
        decoupling.aligned_qqt(w, w, np.diag([2.0, 1.0]), [0.0], align_rtol=1e-6)


def test_exact_sympy_numbers_are_accepted_as_floats():
    # s̃ and u0 often come from a symbolic computation; they are converted to float64, not kept as objects
    got = decoupling.aligned_strengths([sp.Rational(1, 100)], [sp.Integer(2)], [0.0, 1.0])
    np.testing.assert_allclose(got, decoupling.aligned_strengths([0.01], [2.0], [0.0, 1.0]), rtol=0)
    got = decoupling.decoupled_m([[sp.Rational(1, 100)]], [sp.Integer(2)], [0.0, 1.0])
    np.testing.assert_allclose(got, decoupling.decoupled_m([[0.01]], [2.0], [0.0, 1.0]), rtol=0)
