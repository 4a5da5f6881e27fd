"""The λ-balanced representation law (Dominé et al., ICLR 2025): registered checks, helpers, Kronecker order, bad input."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulate import random_orthogonal, whiten
from theory import AssumptionError, get_law
from theory.lambda_balanced import (
    aligned_ntk_change,
    check_lambda_balanced,
    converged_representation,
    empirical_ntk,
    kernel_distance,
    ntk_change_from_modes,
    relative_change,
)
from verify.conftest import law_checks
from verify.suite.lambda_balanced import _jacobian_ntk, flow_error_integral, gd_gap_coefficients

LAW = "lambda_balanced_representation"


@pytest.mark.parametrize(("law_name", "name"), law_checks(LAW))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def _square_task(rng, d):
    return rng.normal(size=(d, d)) * rng.uniform(0.5, 2.0)


@given(seed=st.integers(0, 10_000), d=st.integers(1, 4), lam=st.floats(-20.0, 20.0, allow_nan=False))
def test_converged_representation_factorises_the_task(seed, d, lam):
    """The law's M = W1ᵀW1 and N = W2W2ᵀ are those of a λ-balanced factorisation of Σyx: with W1 = O M^{1/2} and
    W2 = Σyx W1⁻¹ (any orthogonal O), W2ᵀW2 − W1W1ᵀ = λI and W2W2ᵀ = N — an independent reconstruction."""
    rng = np.random.default_rng(seed)
    sigma = _square_task(rng, d)
    M, N = converged_representation(sigma, lam)
    np.testing.assert_allclose(M, M.T, atol=1e-12)
    w, E = np.linalg.eigh(M)
    assert w.min() > -1e-12
    if np.linalg.cond(sigma) > 1e6:  # W1⁻¹ would amplify round-off beyond what the tolerance below allows
        return
    W1 = random_orthogonal(d, d, rng) @ (E * np.sqrt(np.clip(w, 0, None))) @ E.T
    W2 = sigma @ np.linalg.inv(W1)
    scale = max(1.0, abs(lam), float(np.abs(sigma).max()) ** 2)
    # round-off of an eigendecomposition and an inverse of a well-conditioned d ≤ 4 matrix: ≲ 1e-12·cond·scale
    tol = 1e-12 * np.linalg.cond(sigma) * scale
    np.testing.assert_allclose(W2.T @ W2 - W1 @ W1.T, lam * np.eye(d), atol=tol)
    np.testing.assert_allclose(W2 @ W2.T, N, atol=tol)
    np.testing.assert_allclose(M @ M + lam * M, sigma.T @ sigma, atol=tol)
    np.testing.assert_allclose(N @ N - lam * N, sigma @ sigma.T, atol=tol)


@pytest.mark.parametrize("lam", [1e3, 1e8, -1e8])
def test_converged_representation_has_no_cancellation(lam):
    """At |λ| ≫ s the small eigenvalue s²/(√(s² + λ²/4) + |λ|/2) keeps every digit (30-digit reference)."""
    s = 1.5
    M, N = converged_representation(np.array([[s]]), lam)
    with mpmath.workdps(30):
        root = mpmath.sqrt(mpmath.mpf(s) ** 2 + mpmath.mpf(lam) ** 2 / 4)
        want_in, want_out = float(root - mpmath.mpf(lam) / 2), float(root + mpmath.mpf(lam) / 2)
    assert M[0, 0] == pytest.approx(want_in, rel=1e-14)
    assert N[0, 0] == pytest.approx(want_out, rel=1e-14)


def test_converged_representation_matches_the_law_numerically():
    law = get_law(LAW)
    s = np.array([3.0, 2.0, 0.5])
    for lam in (-4.0, 0.0, 1.5):
        M, N = converged_representation(np.diag(s), lam)
        np.testing.assert_allclose(np.diag(M), law.numeric("rep_in", s=s, lam=lam), rtol=1e-13)
        np.testing.assert_allclose(np.diag(N), law.numeric("rep_out", s=s, lam=lam), rtol=1e-13)


def test_ntk_kronecker_order_against_the_jacobian():
    """The formula's order I_No ⊗ XᵀW1ᵀW1X + W2W2ᵀ ⊗ XᵀX matches J Jᵀ; the swapped Kronecker order does not."""
    rng = np.random.default_rng(0)
    W1, W2, X = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 5))
    ref = _jacobian_ntk(W1, W2, X)
    np.testing.assert_allclose(empirical_ntk(W1, W2, X), ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    h = W1 @ X
    swapped = np.kron(h.T @ h, np.eye(2)) + np.kron(X.T @ X, W2 @ W2.T)  # item-major instead of output-major
    assert np.abs(swapped - ref).max() > 0.1 * np.abs(ref).max()


def test_empirical_ntk_agrees_with_the_riccati_readout():
    """theory.riccati_readout.ntk reads the same kernel off QQᵀ = [[W1ᵀW1, W1ᵀW2ᵀ], [W2W1, W2W2ᵀ]] (Braun eq. 9)."""
    from theory.riccati_readout import ntk as ntk_from_qqt

    rng = np.random.default_rng(2)
    W1, W2, X = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 5))
    Q = np.vstack([W1.T, W2])  # (Ni + No) × Nh: QQᵀ has the blocks above
    np.testing.assert_allclose(empirical_ntk(W1, W2, X), ntk_from_qqt(Q @ Q.T, X), rtol=1e-12, atol=1e-12)


def test_ntk_change_from_modes_matches_explicit_kernels():
    """For a task-aligned state and whitened X, the mode formula K = P Σ(α_i + β_j)(u_j⊗e_i)(u_j⊗e_i)ᵀ gives the
    same relative change and kernel distance as the explicit (No·P)² kernels."""
    rng = np.random.default_rng(1)
    d, P = 3, 7
    U, V, R0, R1 = (random_orthogonal(d, d, rng) for _ in range(4))
    X = whiten(rng.normal(size=(d, P)))
    a0, b0, a1, b1 = (rng.uniform(0.1, 3.0, d) for _ in range(4))
    K0 = empirical_ntk(R0 @ np.diag(np.sqrt(a0)) @ V.T, U @ np.diag(np.sqrt(b0)) @ R0.T, X)
    K1 = empirical_ntk(R1 @ np.diag(np.sqrt(a1)) @ V.T, U @ np.diag(np.sqrt(b1)) @ R1.T, X)
    rel, dist = ntk_change_from_modes(a0, b0, a1, b1)
    assert rel == pytest.approx(relative_change(K0, K1), rel=1e-12)
    assert dist == pytest.approx(kernel_distance(K0, K1), rel=1e-10, abs=1e-14)


@given(
    s1=st.floats(0.2, 4.0),
    s2=st.floats(0.2, 4.0),
    u0=st.floats(1e-3, 0.1),
    lam=st.floats(-10.0, 10.0, allow_nan=False),
)
def test_aligned_ntk_change_matches_the_law(s1, s2, u0, lam):
    law = get_law(LAW)
    rel, dist = aligned_ntk_change([s1, s2], u0, lam)
    assert rel == pytest.approx(float(law.numeric("ntk_change", s1=s1, s2=s2, u0=u0, lam=lam)), rel=1e-10)
    # the distance is a difference 1 − cos: compare absolutely, at the round-off of cos (≈ 1e-15)
    assert dist == pytest.approx(float(law.numeric("kernel_distance", s1=s1, s2=s2, lam=lam)), abs=1e-12)


def test_aligned_ntk_change_is_lazy_and_rich():
    s = [2.0, 0.5]
    big = [aligned_ntk_change(s, 0.05, lam)[0] for lam in (1e2, 1e3)]
    assert big[0] / big[1] == pytest.approx(100.0, rel=1e-3)  # λ⁻²: the lazy limit
    rich = aligned_ntk_change(s, 0.05, 0.0)[0]
    assert rich > 20  # ≈ s/u0 from a small init: the rich regime
    one_mode = aligned_ntk_change([2.0], 0.05, 1.0)
    assert one_mode[0] == pytest.approx(np.sqrt((16 + 1) / (0.01 + 1)) - 1, rel=1e-13)
    assert one_mode[1] == 0.0


def test_gd_gap_coefficients_integrate_the_flow_error():
    """J = ∫ e² dt, checked by integrating the λ-mode ODE τ du/dt = √(λ² + 4u²)(s − u) numerically."""
    from scipy.integrate import solve_ivp

    s, lam, u0 = 2.0, 1.5, 0.01

    def rhs(_, y):
        u = y[0]
        return [np.sqrt(lam**2 + 4 * u**2) * (s - u), (s - u) ** 2]

    sol = solve_ivp(rhs, (0.0, 60.0), [u0, 0.0], method="DOP853", rtol=1e-12, atol=1e-14)
    assert float(flow_error_integral(np.array([s]), lam, u0)[0]) == pytest.approx(sol.y[1, -1], rel=1e-8)
    c_in, c_out = gd_gap_coefficients(np.array([s]), lam, u0)
    assert c_in[0] > 0 > c_out[0]  # λ > 0 drifts down: W1ᵀW1 ends above the law, W2W2ᵀ below


def test_bad_input():
    with pytest.raises(AssumptionError, match="square"):
        converged_representation(np.ones((2, 3)), 1.0)
    with pytest.raises(AssumptionError, match="not whitened"):
        converged_representation(np.eye(2), 1.0, sigma_xx=2 * np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        converged_representation(np.array([[np.nan, 0.0], [0.0, 1.0]]), 1.0)
    with pytest.raises(ValueError, match="lam must be finite"):
        converged_representation(np.eye(2), float("nan"))
    with pytest.raises(TypeError, match="lam must be a real number"):
        converged_representation(np.eye(2), "1.0")
    with pytest.raises(ValueError, match="shape"):
        empirical_ntk(np.eye(2), np.eye(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="zero kernel"):
        kernel_distance(np.zeros((2, 2)), np.eye(2))
    with pytest.raises(ValueError, match="zero kernel"):
        relative_change(np.zeros((2, 2)), np.eye(2))
    with pytest.raises(AssumptionError, match="u0"):
        aligned_ntk_change([1.0], 0.0, 1.0)
    with pytest.raises(ValueError, match="svals"):
        aligned_ntk_change([], 0.1, 1.0)


def test_lambda_balance_check_and_law_assumptions():
    W1 = np.eye(2)
    check_lambda_balanced(W1, np.sqrt(3.0) * np.eye(2), 2.0)
    with pytest.raises(AssumptionError, match="λ-balanced initialisation"):
        check_lambda_balanced(W1, np.sqrt(3.0) * np.eye(2), -2.0)
    law = get_law(LAW)
    law.check(W1=W1, W2=np.sqrt(3.0) * np.eye(2), lam=2.0, sigma_yx=np.eye(2), sigma_xx=np.eye(2))
    with pytest.raises(AssumptionError, match="square"):
        law.check(sigma_yx=np.ones((2, 3)))
    with pytest.raises(AssumptionError, match="whitened"):
        law.check(sigma_xx=3 * np.eye(2))
    with pytest.raises(AssumptionError, match="violates the assumption u0 > 0"):
        law.numeric("ntk_change", s1=1.0, s2=0.5, u0=-0.1, lam=1.0)
