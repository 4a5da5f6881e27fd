"""The parts around Theorem 3.1 that the scientific checks use but do not pin one by one (issue 9, mutation score):
the input checks of `theory.riccati_checks`, the task sequence of `theory.riccati_continual` and the readouts of
`theory.riccati_readout`.

Every reference here is independent of the code under test: the gradient flow integrated by scipy's `solve_ivp`,
the scalar logistic closed form, explicit factors W1, W2 and data X, Y, or a hand-computed value at a boundary.
"""

import re

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from theory.law import AssumptionError
from theory.riccati_checks import (
    B_NONSINGULAR,
    FULL_RANK,
    WHITENED,
    ZERO_BALANCED,
    check_b_nonsingular,
    check_full_rank,
    task_svd,
)
from theory.riccati_continual import continual_qqt
from theory.riccati_readout import PINV_RTOL, loss, network_function, ntk, rsm_input, rsm_output, w1tw1, w2w2t

EPS = np.finfo(np.float64).eps


# -- independent references ------------------------------------------------------------------------------------
def flow_through_tasks(W1, W2, tasks, durations, t, tau=1.0):
    """QQᵀ at global times ``t`` from the gradient flow τ dW1/dt = W2ᵀ(Σyx − W2W1), τ dW2/dt = (Σyx − W2W1)W1ᵀ
    (whitened inputs, LAWS.md §0), integrated by scipy phase by phase; each phase starts at the previous end."""
    nh, ni = W1.shape
    no = W2.shape[0]
    t = np.asarray(t, dtype=float)
    out = np.empty((t.size, ni + no, ni + no))
    state = np.concatenate([W1.ravel(), W2.ravel()])
    start = 0.0
    for k, (sigma, dur) in enumerate(zip(tasks, durations, strict=True)):

        def rhs(_, y, sigma=sigma):
            w1, w2 = y[: nh * ni].reshape(nh, ni), y[nh * ni :].reshape(no, nh)
            err = sigma - w2 @ w1
            return np.concatenate([(w2.T @ err).ravel(), (err @ w1.T).ravel()]) / tau

        first = k == 0
        inside = (t >= start) & (t <= start + dur) if first else (t > start) & (t <= start + dur)
        sol = solve_ivp(rhs, (0.0, dur), state, method="DOP853", rtol=1e-12, atol=1e-14, dense_output=True)
        for i in np.flatnonzero(inside):
            y = sol.sol(t[i] - start)
            q = np.concatenate([y[: nh * ni].reshape(nh, ni).T, y[nh * ni :].reshape(no, nh)])
            out[i] = q @ q.T
        state = sol.y[:, -1]
        start += dur
    return out


def logistic(w0, s, t, tau=1.0):
    """Scalar network function under balanced flow: dw/dt = 2w(s − w)/τ, solved in closed form."""
    e = np.exp(2.0 * s * np.asarray(t) / tau)
    return s * w0 * e / (s + w0 * (e - 1.0))


def balanced_factors(w21):
    """A zero-balanced pair with W2W1 = w21 (Nh = Nm): W1 = S^{1/2}Vᵀ, W2 = US^{1/2}."""
    u, s, vt = np.linalg.svd(w21, full_matrices=False)
    return np.sqrt(s)[:, None] * vt, u * np.sqrt(s)[None, :]


def rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


# -- riccati_checks: full rank ---------------------------------------------------------------------------------
def test_full_rank_boundary_is_inclusive_at_rtol():
    """σ_min/σ_max equal to rtol counts as rank-deficient; just above it is full rank."""
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 0\.001 ≤ rtol = 0\.001.*< Nm = 2"):
        check_full_rank(np.diag([1.0, 1e-3]), rtol=1e-3)
    check_full_rank(np.diag([1.0, 1.001e-3]), rtol=1e-3)
    # the default rtol is 1e-10: a ratio of 1e-9 passes, 1e-10 does not
    check_full_rank(np.diag([1.0, 1e-9]))
    with pytest.raises(AssumptionError, match=r"rtol = 1e-10.*qqt_fukumizu.*perturb the initialisation"):
        check_full_rank(np.diag([1.0, 1e-10]))


def test_full_rank_is_scale_free_for_huge_and_tiny_weights():
    """The ratio is computed after dividing by the largest entry: 1e300-sized or 1e-300-sized factors give the same
    verdict as unit-sized ones (squaring in the SVD would overflow or underflow)."""
    check_full_rank(np.diag([1e300, 3e299]))
    check_full_rank(np.diag([1e-300, 3e-301]))
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 1e-12"):
        check_full_rank(np.diag([1e300, 1e288]))


def test_zero_network_function_is_rank_deficient_not_nan():
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 0 ≤ rtol"):
        check_full_rank(np.zeros((2, 3)))


def test_hidden_layer_narrower_than_nm_is_refused_with_the_widening_fix():
    w21 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # Nm = min(3, 2) = 2
    with pytest.raises(AssumptionError, match=r"Nh = 1 < Nm = min\(Ni, No\) = 2.*widen the hidden layer to Nh ≥"):
        check_full_rank(w21, n_hidden=1)
    check_full_rank(w21, n_hidden=2)  # Nh = Nm: allowed
    check_full_rank(w21, n_hidden=5)


# -- riccati_checks: the task SVD ------------------------------------------------------------------------------
def test_task_svd_blocks_of_a_wide_and_a_tall_task():
    wide = np.array([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # No = 2 < Ni = 3: Ṽ⊥ is the third input direction
    t = task_svd(wide)
    assert t.n_m == 2 and t.u_m.shape == (2, 2) and t.v_m.shape == (3, 2)
    assert t.u_perp.shape == (2, 0) and t.v_perp.shape == (3, 1)
    np.testing.assert_allclose(t.u_m @ np.diag(t.s) @ t.v_m.T, wide, atol=1e-15)
    np.testing.assert_allclose(np.abs(t.v_perp[:, 0]), [0.0, 0.0, 1.0], atol=1e-15)
    tall = wide.T
    t = task_svd(tall)
    assert t.u_perp.shape == (3, 1) and t.v_perp.shape == (2, 0)
    np.testing.assert_allclose(np.abs(t.u_perp[:, 0]), [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(t.u_m @ np.diag(t.s) @ t.v_m.T, tall, atol=1e-15)


def test_task_svd_snaps_round_off_zeros_at_max_dimension_times_eps():
    """A singular value at or below max(No, Ni)·ε·s̃_max is an exact zero; just above it is kept."""
    for shape in [(2, 2), (3, 2), (2, 3)]:
        cut = max(shape) * EPS
        a = np.zeros(shape)
        a[0, 0], a[1, 1] = 1.0, cut
        assert task_svd(a).s[1] == 0.0
        a[1, 1] = 1.5 * cut
        assert task_svd(a).s[1] == 1.5 * cut
    # relative to the largest: the same ratio at scale 1e-20 is snapped too, a value of 1e-20 alone is not
    assert task_svd(np.diag([1e-20, 1e-37])).s[1] == 0.0
    np.testing.assert_array_equal(task_svd(np.diag([1e-20, 1e-21])).s, [1e-20, 1e-21])
    np.testing.assert_array_equal(task_svd(np.zeros((2, 2))).s, [0.0, 0.0])
    assert task_svd(np.zeros((0, 3))).s.size == 0


def test_task_svd_does_not_change_its_input():
    a = np.diag([1.0, 1e-17])
    task_svd(a)
    np.testing.assert_array_equal(a, np.diag([1.0, 1e-17]))


# -- riccati_checks: Assumption 3.1 ----------------------------------------------------------------------------
def test_b_nonsingular_boundary_is_inclusive_at_tol():
    s = np.diag([2.0, 1.0])
    check_b_nonsingular(np.diag([1.0, 2e-8]), s, s)
    with pytest.raises(AssumptionError, match=r"σ_min\(B\) = 1e-08 ≤ tol = 1e-08"):
        check_b_nonsingular(np.diag([1.0, 1e-8]), s, s)
    with pytest.raises(AssumptionError, match=r"σ_min\(B\) = 0\.5 ≤ tol = 0\.5"):
        check_b_nonsingular(np.diag([1.0, 0.5]), s, s, tol=0.5)


def test_singular_b_message_names_the_sign_mismatch_and_the_flip():
    s = np.diag([2.0, 1.0])
    with pytest.raises(
        AssumptionError,
        match=r"sign det W2W1\(0\) = -1 differs from sign det Σyx = \+1.*eigenvalue −1.*Fix: flip one column",
    ):
        check_b_nonsingular(np.zeros((2, 2)), np.diag([1.0, -1.0]), s)
    with pytest.raises(AssumptionError, match=r"sign det W2W1\(0\) = \+1 differs from sign det Σyx = -1"):
        check_b_nonsingular(np.zeros((2, 2)), s, np.diag([1.0, -1.0]))


def test_singular_b_with_matching_signs_says_measure_zero():
    s = np.diag([2.0, 1.0])
    with pytest.raises(AssumptionError, match=r"determinant signs agree, so this is one of the measure-zero") as e:
        check_b_nonsingular(np.zeros((2, 2)), -s, s)
    assert "differs" not in str(e.value)


def test_singular_b_for_a_rectangular_task_has_no_determinant_detail():
    s = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with pytest.raises(AssumptionError, match=r"tol = 1e-08\. The exact gradient flow.*aligned_qqt") as e:
        check_b_nonsingular(np.zeros((2, 2)), s, s)
    assert "det" not in str(e.value)


# -- riccati_checks: the Assumption records (keyword checks used by the Law) -----------------------------------
def test_assumption_records_check_their_keywords():
    with pytest.raises(AssumptionError, match="whitened"):
        WHITENED.check(sigma_xx=np.diag([1.0, 1.5]))
    WHITENED.check(sigma_xx=np.eye(2))
    W1, W2 = balanced_factors(np.diag([0.2, 0.1]))
    ZERO_BALANCED.check(W1_0=W1, W2_0=W2)
    with pytest.raises(AssumptionError, match="zero-balanced"):
        ZERO_BALANCED.check(W1_0=2 * W1, W2_0=W2)


def test_full_rank_record_uses_the_hidden_width_and_survives_huge_weights():
    W1 = np.array([[1.0, 0.0]])  # Nh = 1 < Nm = 2
    W2 = np.array([[1.0], [0.0]])
    with pytest.raises(AssumptionError, match=r"Nh = 1 < Nm"):
        FULL_RANK.check(W1_0=W1, W2_0=W2)
    W1, W2 = balanced_factors(np.diag([4.0, 1.0]))
    FULL_RANK.check(W1_0=1e200 * W1, W2_0=1e200 * W2)  # W2 @ W1 alone would be inf
    FULL_RANK.check(W1_0=1e-200 * W1, W2_0=1e-200 * W2)  # ... or 0
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 0 ≤"):
        FULL_RANK.check(W1_0=np.zeros((2, 2)), W2_0=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="W1_0"):
        FULL_RANK.check(W1_0=np.ones(2), W2_0=W2)


def test_b_record_refuses_a_reversal_and_accepts_the_task_itself_at_any_scale():
    s = np.diag([2.0, 1.0, 0.5])
    W1, W2 = balanced_factors(np.diag([0.3, 0.2, 0.1]))
    B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=s)
    B_NONSINGULAR.check(W1_0=1e200 * W1, W2_0=1e200 * W2, sigma_yx=s)
    with pytest.raises(AssumptionError, match=r"Assumption 3\.1.*sign det W2W1\(0\) = \+1.*Σyx = -1"):
        B_NONSINGULAR.check(W1_0=1e200 * W1, W2_0=1e200 * W2, sigma_yx=-s)
    # B = UᵀŨ + VᵀṼ with U = V = I and Ũ = R(θ), Ṽ = I: σ_min(B) = 2cos(θ/2); θ = π − 1e-9 gives 1e-9 < B_TOL
    near = rotation(np.pi - 1e-9) @ np.diag([2.0, 1.0])
    W1, W2 = balanced_factors(np.diag([0.3, 0.2]))
    with pytest.raises(AssumptionError, match=r"σ_min\(B\) = 1e-09"):
        B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=near)
    B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=rotation(np.pi - 1e-6) @ np.diag([2.0, 1.0]))


def test_assumption_records_name_the_malformed_argument():
    """A keyword check that gets a vector where a matrix belongs says which argument it is, by its keyword name."""
    W1, W2 = balanced_factors(np.diag([0.3, 0.2]))
    s = np.diag([2.0, 1.0])
    for record, extra in ((FULL_RANK, {}), (B_NONSINGULAR, {"sigma_yx": s})):
        with pytest.raises(ValueError, match=r"^W1_0 must be a 2-D matrix, got an array of shape \(2,\)"):
            record.check(W1_0=np.ones(2), W2_0=W2, **extra)
        with pytest.raises(ValueError, match=r"^W2_0 must be a 2-D matrix, got an array of shape \(2,\)"):
            record.check(W1_0=W1, W2_0=np.ones(2), **extra)
    with pytest.raises(ValueError, match=r"^sigma_yx must be a 2-D matrix, got an array of shape \(2,\)"):
        B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=np.ones(2))


def test_b_record_on_a_rectangular_network_uses_the_thin_svd():
    """Ni = 3, No = 2 with W2W1(0) = [I 0]·0.04: U = I, V = [I; 0]. For Σyx = R(θ)·diag(2, 1)·[I 0], Ũ = R(θ) and
    Ṽ = [I; 0], so B = R(θ) + I (up to a common sign flip of paired columns) and σ_min(B) = 2cos(θ/2) exactly."""
    W1 = 0.2 * np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # Nh = 2: W1W1ᵀ = 0.04·I = W2ᵀW2
    W2 = 0.2 * np.eye(2)
    embed = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=rotation(np.pi - 1e-6) @ np.diag([2.0, 1.0]) @ embed)
    with pytest.raises(AssumptionError, match=r"^Assumption 3\.1 .*σ_min\(B\) = 1e-09 ≤ tol = 1e-08\. The exact") as e:
        B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=rotation(np.pi - 1e-9) @ np.diag([2.0, 1.0]) @ embed)
    assert "det" not in str(e.value)  # Ni ≠ No: no determinant argument
    with pytest.raises(AssumptionError, match=r"σ_min\(B\) = 0 ≤"):  # reversal of the init itself: B = 0
        B_NONSINGULAR.check(W1_0=W1, W2_0=W2, sigma_yx=-np.diag([2.0, 1.0]) @ embed)


def test_full_rank_ratio_is_of_singular_values_not_of_entries():
    """W2W1(0) = R(π/4)·diag(1, 7e-11): its largest entry is 1/√2 but σ_max = 1, σ_min = 7e-11, so σ_min/σ_max =
    7e-11 ≤ 1e-10 is refused (the product σ_min·σ_max of the entry-scaled matrix, 1.4e-10, would pass); a ratio of
    2e-10 at the same rotation passes."""
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 7e-11 ≤ rtol = 1e-10"):
        check_full_rank(rotation(np.pi / 4) @ np.diag([1.0, 7e-11]))
    check_full_rank(rotation(np.pi / 4) @ np.diag([1.0, 2e-10]))


def test_full_rank_ratio_is_exact_for_subnormal_weights():
    """Scale-freeness down to the smallest float: K·2⁻¹⁰⁷⁴ (integer multiples of the smallest subnormal, so exact)
    has the σ_min/σ_max of the integer matrix K, to round-off, so the verdict flips exactly where K's does."""
    K = np.array([[300.0, 7.0, 120.0], [45.0, 200.0, 90.0]])
    tiny = K * 2.0**-1074
    np.testing.assert_array_equal(tiny / 2.0**-1074, K)  # the subnormal entries hold K exactly
    sv = np.linalg.svd(K, compute_uv=False)
    ratio = sv[-1] / sv[0]  # the reference, at unit scale (≈ 0.5898)
    check_full_rank(tiny, rtol=ratio * (1 - 1e-9))
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 0\.59 ≤ rtol = 0\.5898"):
        check_full_rank(tiny, rtol=ratio * (1 + 1e-9))


def test_full_rank_names_a_malformed_network_function():
    with pytest.raises(ValueError, match=r"^W2W1\(0\) must be a 2-D matrix, got an array of shape \(3,\)"):
        check_full_rank(np.ones(3))
    with pytest.raises(ValueError, match=r"^W2W1\(0\) contains NaN or inf"):
        check_full_rank(np.array([[1.0, np.nan]]))


def test_narrow_hidden_layer_message_gives_both_fixes():
    with pytest.raises(
        AssumptionError,
        match=r"^full-rank initialisation: Nh = 1 < Nm = min\(Ni, No\) = 2, so rank W2W1\(0\) < Nm and Theorem 3\.1 "
        r"does not apply\. Fix: use theory\.riccati_fukumizu\.qqt_fukumizu \(valid for any Nh\), or widen the hidden "
        r"layer to Nh ≥ min\(Ni, No\)\.$",
    ):
        check_full_rank(np.eye(2), n_hidden=1)


# What a user learns from a singular B, in the order the message says it: the diagnosis (for Ni = No, the sign of
# the determinants), the consequence for the flow and for GD, and the two fixes.
SIGN_ARGUMENT = (
    r"UᵀŨ and VᵀṼ are then orthogonal matrices whose 'ratio' has determinant −1, which forces an eigenvalue −1 and "
    r"hence a singular B \(a sign mismatch always breaks Assumption 3\.1; matching signs make B singular only on a "
    r"measure-zero set, e\.g\. reversal Σyx = −W2W1\(0\) with Nm even\)\. The exact gradient flow"
)
CONSEQUENCE = (
    r"The exact gradient flow then starts on \(or within round-off of\) the stable manifold of a saddle and never "
    r"learns the affected modes; reversal learning \(Σyx = −W2W1\(0\) at a converged init\) is the extreme case "
    r"B = 0\. Gradient descent escapes only through its O\(η\) imbalance and round-off \(LAWS\.md §2\.6, §3\.2\)\. "
)
FIXES = (
    r"Fix: flip one column of the initial factors so that the signs agree, e\.g\. W2_0 ← \(I − 2uuᵀ\) W2_0 with u a "
    r"left singular vector of W2W1\(0\) \(this keeps zero balance\); or, if W2W1\(0\) is aligned with the SVD of Σyx, "
    r"use theory\.decoupling\.aligned_qqt, whose reversed modes collapse to the saddle exactly\.$"
)


def test_singular_b_message_explains_the_sign_argument_the_consequence_and_the_fixes():
    s = np.diag([2.0, 1.0])
    with pytest.raises(
        AssumptionError,
        match=r"^Assumption 3\.1 \(B = UᵀŨ \+ VᵀṼ nonsingular\) fails: σ_min\(B\) = 0 ≤ tol = 1e-08\. Here Ni = No "
        r"and sign det W2W1\(0\) = -1 differs from sign det Σyx = \+1: " + SIGN_ARGUMENT,
    ) as e:
        check_b_nonsingular(np.zeros((2, 2)), np.diag([1.0, -1.0]), s)
    message = str(e.value)
    assert re.search(CONSEQUENCE + FIXES, message), message
    with pytest.raises(
        AssumptionError,
        match=r"fails: σ_min\(B\) = 0 ≤ tol = 1e-08\. Here Ni = No and the determinant signs agree, so this is one of "
        r"the measure-zero singular cases\. " + CONSEQUENCE + FIXES,
    ):
        check_b_nonsingular(np.zeros((2, 2)), -s, s)
    rect = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with pytest.raises(AssumptionError, match=r"≤ tol = 1e-08\. " + CONSEQUENCE + FIXES):
        check_b_nonsingular(np.zeros((2, 2)), rect, rect)


# -- riccati_continual ----------------------------------------------------------------------------------------
def test_scalar_task_sequence_follows_the_logistic_closed_form():
    """Ni = Nh = No = 1 with W1 = W2 = a: w = a² solves dw/dt = 2w(s − w)/τ, phase after phase."""
    a = 0.2
    tasks, durations, tau = [[[2.0]], [[0.5]], [[3.0]]], [1.0, 0.75, 0.5], 1.5
    t = np.array([0.0, 0.25, 1.0, 1.5, 1.75, 2.0, 2.25])
    run = continual_qqt([[a]], [[a]], tasks, durations, t, tau=tau, sigma_yy=[[[5.0]], [[1.0]], [[10.0]]])
    w_end0 = logistic(a * a, 2.0, 1.0, tau)
    w_end1 = logistic(w_end0, 0.5, 0.75, tau)
    w = np.concatenate(
        [
            logistic(a * a, 2.0, t[:3], tau),
            logistic(w_end0, 0.5, t[3:5] - 1.0, tau),
            logistic(w_end1, 3.0, t[5:] - 1.75, tau),
        ]
    )
    # balanced scalar net: every block of QQᵀ equals w; the flow is exact to ~1e-15 relative
    np.testing.assert_allclose(run.qqt, np.broadcast_to(w[:, None, None], (7, 2, 2)), rtol=1e-12)
    np.testing.assert_array_equal(run.t, t)
    np.testing.assert_array_equal(run.phase, [0, 0, 0, 1, 1, 2, 2])  # a phase end belongs to the phase that ends
    np.testing.assert_array_equal(run.boundaries, [0.0, 1.0, 1.75, 2.25])
    # L_i = ½(w − s_i)² + ½(Σyy_i − s_i²)
    for i, (s, yy) in enumerate([(2.0, 5.0), (0.5, 1.0), (3.0, 10.0)]):
        np.testing.assert_allclose(run.losses[:, i], 0.5 * (w - s) ** 2 + 0.5 * (yy - s * s), rtol=1e-12)


def test_rectangular_task_sequence_matches_the_integrated_flow():
    """Ni = 3, No = 2: the end state handed to the next phase is the (No, Ni) block, and τ scales every phase."""
    rng = np.random.default_rng(4)
    W1, W2 = balanced_factors(0.1 * rng.normal(size=(2, 3)))
    tasks = [rng.normal(size=(2, 3)) for _ in range(3)]
    durations, tau = [0.8, 0.5, 0.6], 0.7
    t = np.array([0.0, 0.3, 0.8, 1.0, 1.3, 1.6, 1.9])
    run = continual_qqt(W1, W2, tasks, durations, t, tau=tau)
    ref = flow_through_tasks(W1, W2, tasks, durations, t, tau=tau)
    # DOP853 at rtol 1e-12 over t/τ ≲ 3 with ‖Σ‖ ≈ 2: global error ≲ 1e-10
    np.testing.assert_allclose(run.qqt, ref, atol=1e-9)
    np.testing.assert_allclose(run.losses, [[loss(q, s) for s in tasks] for q in ref], atol=1e-9)
    np.testing.assert_array_equal(run.phase, [0, 0, 0, 1, 1, 2, 2])


def test_continual_times_need_not_be_sorted_or_reach_every_phase():
    s1, s2, s3 = np.diag([2.0, 1.0]), np.diag([1.0, 2.0]), np.diag([1.5, 1.5])
    W = 0.1 * np.eye(2)
    t = np.array([2.5, 0.5])  # nothing requested in phase 1; phase 1 still runs for its whole duration
    run = continual_qqt(W, W, [s1, s2, s3], [1.0, 1.0, 1.0], t)
    ref = flow_through_tasks(W, W, [s1, s2, s3], [1.0, 1.0, 1.0], t)
    np.testing.assert_allclose(run.qqt, ref, atol=1e-10)
    np.testing.assert_array_equal(run.phase, [2, 0])


def test_continual_time_range_allows_only_round_off_beyond_the_end():
    tasks, durations = [np.diag([2.0, 1.0]), np.diag([1.0, 2.0])], [1.0, 1.25]
    W = 0.1 * np.eye(2)
    end = continual_qqt(W, W, tasks, durations, [2.25])
    np.testing.assert_allclose(end.qqt, flow_through_tasks(W, W, tasks, durations, [2.25]), atol=1e-10)
    assert end.phase[0] == 1
    continual_qqt(W, W, tasks, durations, [2.25 * (1 + 1e-13)])
    continual_qqt(W, W, tasks, durations, [2.25 * (1 + 1e-12)])  # the documented slack, inclusive
    with pytest.raises(ValueError, match=r"t must lie in \[0, sum\(durations\)\] = \[0, 2\.25\], got max t = 2\.25"):
        continual_qqt(W, W, tasks, durations, [2.25 * (1 + 1e-11)])
    with pytest.raises(ValueError, match=r"max t = 3"):
        continual_qqt(W, W, tasks, durations, [0.5, 3.0])
    with pytest.raises(ValueError, match="finite times ≥ 0"):
        continual_qqt(W, W, tasks, durations, [-0.1])


def test_continual_refuses_bad_task_lists_and_durations():
    W = 0.1 * np.eye(2)
    s = np.diag([2.0, 1.0])
    with pytest.raises(ValueError, match="tasks must contain at least one Σyx"):
        continual_qqt(W, W, [], [], [0.0])
    with pytest.raises(ValueError, match=r"all tasks must have the same shape \(No, Ni\); got \[\(2, 2\), \(2, 3\)\]"):
        continual_qqt(W, W, [s, np.ones((2, 3))], [1.0, 1.0], [0.0])
    with pytest.raises(ValueError, match=r"tasks\[1\]"):
        continual_qqt(W, W, [s, np.ones(2)], [1.0, 1.0], [0.0])
    for bad in ([1.0], [1.0, 1.0, 1.0], [1.0, 0.0], [1.0, -1.0], [1.0, np.inf], [np.nan, 1.0]):
        with pytest.raises(ValueError, match=r"durations must be 2 finite times > 0, one per task"):
            continual_qqt(W, W, [s, s], bad, [0.0])
    continual_qqt(W, W, [s, s], [1e-300, 1.0], [0.5])  # any positive duration will do
    with pytest.raises(ValueError, match=r"sigma_yy must give one Σyy per task \(2\), got 1"):
        continual_qqt(W, W, [s, s], [1.0, 1.0], [0.0], sigma_yy=[np.eye(2)])


def test_continual_first_phase_checks_whitening_and_balance():
    s = np.diag([2.0, 1.0])
    W = 0.1 * np.eye(2)
    with pytest.raises(AssumptionError, match="whitened"):
        continual_qqt(W, W, [s], [1.0], [0.5], sigma_xx=np.diag([1.0, 2.0]))
    continual_qqt(W, W, [s], [1.0], [0.5], sigma_xx=np.eye(2))
    with pytest.raises(AssumptionError, match="zero-balanced"):
        continual_qqt(2 * W, W, [s], [1.0], [0.5])


def test_continual_b_tol_applies_to_every_phase():
    """Phase 1 trains on R(θ)·diag(2, 1) from a state aligned with diag(2, 1): σ_min(B) ≈ 2cos(θ/2) ≈ 0.31 for
    θ = 0.9π (phase 0 has B ≈ 2I), so b_tol = 0.5 refuses phase 1 only, naming it."""
    s = np.diag([2.0, 1.0])
    W = 0.1 * np.eye(2)
    tasks = [s, rotation(0.9 * np.pi) @ s]
    run = continual_qqt(W, W, tasks, [5.0, 5.0], [5.0, 10.0])
    np.testing.assert_allclose(run.qqt, flow_through_tasks(W, W, tasks, [5.0, 5.0], [5.0, 10.0]), atol=1e-9)
    with pytest.raises(AssumptionError, match=r"^phase 1 \(training on task 1\): Assumption 3\.1.*tol = 0\.5"):
        continual_qqt(W, W, tasks, [5.0, 5.0], [5.0, 10.0], b_tol=0.5)
    with pytest.raises(AssumptionError, match=r"^Assumption 3\.1.*tol = 2\.5"):  # phase 0 is not prefixed
        continual_qqt(W, W, tasks, [5.0, 5.0], [5.0, 10.0], b_tol=2.5)


def test_aligned_fallback_follows_the_reversed_logistic():
    """Reversal from the converged state w = s on −s: each mode solves dw/dt = 2w(−s − w), so from w(0) = s,
    w(t) = s·e^{−2st}/(2 − e^{−2st}) (it decays to the saddle, never reaching −s)."""
    s = np.array([2.0, 1.0])
    sigma = np.diag(s)
    W = 0.02 * np.eye(2)
    t = np.array([30.0, 30.2, 30.5, 31.0])
    run = continual_qqt(W, W, [sigma, -sigma], [30.0, 1.0], t, aligned_fallback=True)
    e = np.exp(-2.0 * s[None, :] * (t[1:, None] - 30.0))
    # phase 0 ends within e^{−2·1·30}·(s/w0) ≈ 1e-24 of convergence: the closed form holds to round-off
    np.testing.assert_allclose(run.qqt[1:, 2:, :2], np.stack([np.diag(r) for r in s * e / (2 - e)]), atol=1e-12)
    np.testing.assert_allclose(run.qqt[1:, :2, :2], run.qqt[1:, 2:, :2], atol=1e-12)  # balanced: W1ᵀW1 = W2W1
    with pytest.raises(AssumptionError, match=r"^phase 1 \(training on task 1\): Assumption 3\.1"):
        continual_qqt(W, W, [sigma, -sigma], [30.0, 1.0], t)


def test_continual_names_the_malformed_initial_factor_and_an_empty_task_list():
    W = 0.1 * np.eye(2)
    s = np.diag([2.0, 1.0])
    with pytest.raises(ValueError, match=r"^W1_0 must be a 2-D matrix, got an array of shape \(2,\)"):
        continual_qqt(np.ones(2), W, [s], [1.0], [0.5])
    with pytest.raises(ValueError, match=r"^W2_0 must be a 2-D matrix, got an array of shape \(2,\)"):
        continual_qqt(W, np.ones(2), [s], [1.0], [0.5])
    with pytest.raises(ValueError, match=r"^tasks must contain at least one Σyx$"):
        continual_qqt(W, W, [], [], [0.0])


def test_continual_time_within_round_off_of_the_end_belongs_to_the_last_phase():
    """A time up to 1e-12 relative past Σ durations is the end time: the last phase, with its end state."""
    tasks, durations = [np.diag([2.0, 1.0]), np.diag([1.0, 2.0])], [1.0, 1.25]
    W = 0.1 * np.eye(2)
    ref = flow_through_tasks(W, W, tasks, durations, [0.5, 2.25])
    for end in (2.25 * (1 + 1e-13), 2.25 * (1 + 1e-12)):
        run = continual_qqt(W, W, tasks, durations, [0.5, end])
        np.testing.assert_array_equal(run.phase, [0, 1])
        # DOP853 at rtol 1e-12 over t/τ = 2.25 with ‖Σ‖ = 2; the 3e-12 overshoot moves QQᵀ by ≲ 1e-11
        np.testing.assert_allclose(run.qqt, ref, atol=1e-10)


def test_continual_durations_may_be_exact_sympy_numbers():
    """Durations solved from a law come as SymPy numbers; they are times like any float."""
    tasks = [np.diag([2.0, 1.0]), np.diag([1.0, 2.0])]
    W = 0.1 * np.eye(2)
    t = [0.5, 1.0, 1.75, 2.25]
    run = continual_qqt(W, W, tasks, [sp.Integer(1), sp.Rational(5, 4)], t)
    np.testing.assert_allclose(run.qqt, flow_through_tasks(W, W, tasks, [1.0, 1.25], t), atol=1e-10)
    np.testing.assert_array_equal(run.boundaries, [0.0, 1.0, 2.25])
    assert run.boundaries.dtype == np.float64


def test_aligned_fallback_on_a_rectangular_network_follows_the_reversed_logistic():
    """Ni = 3, No = 2, Nh = 2: converged on Σ = diag(2, 1)·[I 0], then trained on −Σ. Each mode decays as
    w(t) = s·e^{−2st}/(2 − e^{−2st}) and the third input direction stays unused (zero column)."""
    s = np.array([2.0, 1.0])
    sigma = np.diag(s) @ np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    W1 = 0.02 * np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    W2 = 0.02 * np.eye(2)
    t = np.array([30.0, 30.2, 30.5, 31.0])
    run = continual_qqt(W1, W2, [sigma, -sigma], [30.0, 1.0], t, aligned_fallback=True)
    e = np.exp(-2.0 * s[None, :] * (t[1:, None] - 30.0))
    w = s * e / (2 - e)  # (3, 2) modes at the three phase-1 times
    want = np.stack([np.diag(r) @ np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) for r in w])
    # phase 0 ends within ~1e-24 of convergence (as in the square case): the closed form holds to round-off
    np.testing.assert_allclose(run.qqt[1:, 3:, :3], want, atol=1e-12)
    np.testing.assert_allclose(run.qqt[1:, 3:, 3:], np.stack([np.diag(r) for r in w]), atol=1e-12)  # W2W2ᵀ = |W2W1|
    assert run.qqt.shape == (4, 5, 5)


# -- riccati_readout --------------------------------------------------------------------------------------------
def _explicit(seed, ni=3, nh=4, no=2, nt=3):
    """A stack of QQᵀ built from explicit (unbalanced) factors, with the factors."""
    rng = np.random.default_rng(seed)
    W1s, W2s = rng.normal(size=(nt, nh, ni)), rng.normal(size=(nt, no, nh))
    q = np.concatenate([np.swapaxes(W1s, 1, 2), W2s], axis=1)
    return q @ np.swapaxes(q, 1, 2), W1s, W2s


def test_blocks_of_a_stack_keep_the_time_axis():
    q, W1s, W2s = _explicit(0)
    np.testing.assert_allclose(network_function(q, 3), W2s @ W1s, atol=1e-13)
    np.testing.assert_allclose(w1tw1(q, 3), np.swapaxes(W1s, 1, 2) @ W1s, atol=1e-13)
    np.testing.assert_allclose(w2w2t(q, 3), W2s @ np.swapaxes(W2s, 1, 2), atol=1e-13)
    np.testing.assert_allclose(network_function(q[1], np.int64(3)), W2s[1] @ W1s[1], atol=1e-13)


def test_readouts_refuse_malformed_qqt():
    for bad in (np.ones(3), np.ones((2, 3)), np.ones((2, 3, 3, 3)), np.ones((2, 3, 4))):
        with pytest.raises(ValueError, match=r"qqt must be a square matrix or a stack of them, got shape"):
            network_function(bad, 1)
    for value in (np.nan, np.inf, -np.inf):
        q = np.eye(3)
        q[1, 2] = value
        with pytest.raises(ValueError, match="qqt contains NaN or infinite entries"):
            w1tw1(q, 1)


def test_n_in_must_split_qqt_into_two_nonempty_blocks():
    q = np.eye(3)
    assert network_function(q, 1).shape == (2, 1) and network_function(q, 2).shape == (1, 2)
    for bad in (0, 3, -1, 1.0, "1", None):
        with pytest.raises(ValueError, match=r"n_in must be an integer with 0 < n_in < Ni \+ No = 3, got"):
            w2w2t(q, bad)


def test_loss_from_data_equals_the_mean_squared_error():
    """With X Xᵀ/P = I exactly, Σyx = Y Xᵀ/P and Σyy = Y Yᵀ/P, the loss ½‖W2W1 − Σyx‖² + c is the data's
    1/(2P)·‖Y − W2W1 X‖², for every time of a stack."""
    rng = np.random.default_rng(2)
    ni, no, P = 3, 2, 6
    X = np.sqrt(P / 2.0) * np.concatenate([np.eye(ni), -np.eye(ni)], axis=1)  # X Xᵀ = P·I
    Y = rng.normal(size=(no, P))
    q, W1s, W2s = _explicit(1, ni=ni, no=no)
    mse = np.array([np.sum((Y - W2 @ W1 @ X) ** 2) / (2 * P) for W1, W2 in zip(W1s, W2s, strict=True)])
    syx, syy = Y @ X.T / P, Y @ Y.T / P
    np.testing.assert_allclose(loss(q, syx, sigma_yy=syy), mse, rtol=1e-12)
    c = 0.5 * (np.trace(syy) - np.sum(syx**2))
    np.testing.assert_allclose(loss(q, syx, c=c), mse, rtol=1e-12)
    np.testing.assert_allclose(loss(q, syx) + c, mse, rtol=1e-12)  # no constant: c = 0
    assert loss(q, syx).shape == (3,)


def test_loss_refuses_inconsistent_arguments():
    q = np.eye(5)
    syx = np.ones((2, 3))
    with pytest.raises(ValueError, match="give sigma_yy or c, not both"):
        loss(q, syx, sigma_yy=np.eye(2), c=0.0)
    with pytest.raises(ValueError, match=r"qqt is 5×5 but sigma_yx is \(2, 2\) \(need Ni \+ No = 4\)"):
        loss(q, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"sigma_yy must have shape \(No, No\) = \(2, 2\), got \(3, 3\)"):
        loss(q, syx, sigma_yy=np.eye(3))
    with pytest.raises(ValueError, match="sigma_yy"):
        loss(q, syx, sigma_yy=np.ones(2))


def test_rsm_and_ntk_of_a_stack_match_the_factors_at_every_time():
    q, W1s, W2s = _explicit(3)
    rng = np.random.default_rng(5)
    P = 4
    X, Y = rng.normal(size=(3, P)), rng.normal(size=(2, P))
    rsm_i, rsm_o, k = rsm_input(q, X), rsm_output(q, Y), ntk(q, X)
    assert rsm_i.shape == rsm_o.shape == (3, P, P) and k.shape == (3, 2 * P, 2 * P)
    for i, (W1, W2) in enumerate(zip(W1s, W2s, strict=True)):
        np.testing.assert_allclose(rsm_i[i], (W1 @ X).T @ (W1 @ X), atol=1e-11)
        np.testing.assert_allclose(rsm_o[i], Y.T @ np.linalg.solve(W2 @ W2.T, Y), atol=1e-9)
        # NTK block (i, j) = δ_ij XᵀW1ᵀW1X + (W2W2ᵀ)_ij XᵀX, index (i, μ) ↦ i·P + μ
        g = W2 @ W2.T
        ref = np.block([[(a == b) * (W1 @ X).T @ (W1 @ X) + g[a, b] * X.T @ X for b in range(2)] for a in range(2)])
        np.testing.assert_allclose(k[i], ref, atol=1e-10)


def test_rsm_output_pseudo_inverse_cuts_at_pinv_rtol_of_the_largest_eigenvalue():
    """W2 = R·[e1, √λ·e2, 0] (No = 3, rank 2, R a rotation): (W2W2ᵀ)⁺ = R diag(1, 1/λ, 0) Rᵀ. An unlearned mode at
    λ = 1e-9 of the largest (init scale 1e-4, far above PINV_RTOL) must be inverted; the round-off zero (~1e-16)
    and a mode below PINV_RTOL (λ = 1e-13) are dropped, as documented, not inverted to ~1e13-1e16."""
    assert 1e-13 < PINV_RTOL < 1e-9
    c, s = np.cos(0.7), np.sin(0.7)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    W1 = np.array([[1.0], [1.0]])  # Ni = 1
    Y = np.array([[1.0, 2.0], [1e-5, 0.0], [7.0, -3.0]])
    for lam, kept in [(1e-9, 1e9), (1e-13, 0.0)]:
        W2 = R @ np.array([[1.0, 0.0], [0.0, np.sqrt(lam)], [0.0, 0.0]])
        Q = np.concatenate([W1.T, W2])
        ref = Y.T @ R @ np.diag([1.0, kept, 0.0]) @ R.T @ Y
        # the 1e-9 eigenvalue carries round-off ε/1e-9 ≈ 1e-7 relative, amplified as such into the inverse
        np.testing.assert_allclose(rsm_output(Q @ Q.T, Y), ref, rtol=1e-5)
        np.testing.assert_allclose(rsm_output(np.stack([Q @ Q.T, 4 * Q @ Q.T]), Y)[1], ref / 4, rtol=1e-5)


def test_readouts_read_exact_and_integer_qqt_as_float64():
    """A QQᵀ written with exact SymPy numbers (a law evaluated at a point) or with integers is read as float64."""
    exact = sp.Matrix([[1, 2], [2, 4]]) / 3  # W1 = 1/√3, W2 = 2/√3
    nf = network_function(exact, 1)
    assert nf.dtype == np.float64 and nf[0, 0] == 2.0 / 3.0
    assert w2w2t(np.array([[1, 2], [2, 4]]), 1).dtype == np.float64
    np.testing.assert_allclose(loss(exact, [[1.0]], sigma_yy=[[1.0]]), 0.5 * (2 / 3 - 1) ** 2, rtol=1e-15)


def test_readout_messages_name_the_argument_at_fault():
    q = np.eye(5)
    syx = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"^qqt contains NaN or infinite entries$"):
        network_function(np.full((5, 5), np.nan), 3)
    with pytest.raises(ValueError, match=r"^give sigma_yy or c, not both$"):
        loss(q, syx, sigma_yy=np.eye(2), c=0.0)
    with pytest.raises(ValueError, match=r"^sigma_yx must be a 2-D matrix, got an array of shape \(3,\)"):
        loss(q, np.ones(3))
    with pytest.raises(ValueError, match=r"^sigma_yy must be a 2-D matrix, got an array of shape \(2,\)"):
        loss(q, syx, sigma_yy=np.ones(2))
    for readout in (rsm_input, ntk):
        with pytest.raises(ValueError, match=r"^X must be a 2-D matrix, got an array of shape \(3,\)"):
            readout(q, np.ones(3))
    with pytest.raises(ValueError, match=r"^Y must be a 2-D matrix, got an array of shape \(3,\)"):
        rsm_output(q, np.ones(3))
