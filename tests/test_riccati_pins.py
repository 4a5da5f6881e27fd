"""Pins of the matrix Riccati solutions (theory.riccati, theory.riccati_fukumizu) against independent references.

References, none of them the code under test: the gradient-flow ODE τ dQ/dt = FQ − ½QQᵀQ integrated by scipy's
`solve_ivp` at tight tolerance; the scalar closed form of a balanced aligned mode, u(t) = s e^{2st/τ}/(e^{2st/τ} − 1 +
s/u0) (and u0/(1 + 2u0 t/τ) at s = 0), derived by hand from τ du/dt = 2u(s − u); the t → ∞ limit ṼS̃Ṽᵀ etc.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from theory.law import AssumptionError
from theory.riccati import MatrixExp, _theorem_3_1, qqt, qqt_from_product, qqt_limit
from theory.riccati_fukumizu import MAX_GROWTH, _Eye, qqt_fukumizu, qqt_fukumizu_mp


def _flow_qqt(w1, w2, syx, times, tau=1.0):
    """QQᵀ(t) by integrating τ dQ/dt = FQ − ½QQᵀQ, Q = [W1ᵀ; W2] (gradient flow on whitened inputs)."""
    w1, w2, syx = (np.asarray(a, dtype=float) for a in (w1, w2, syx))
    n_out, n_in = syx.shape
    f = np.block([[np.zeros((n_in, n_in)), syx.T], [syx, np.zeros((n_out, n_out))]])
    q0 = np.concatenate([w1.T, w2], axis=0)
    shape = q0.shape

    def rhs(_, y):
        q = y.reshape(shape)
        return ((f @ q - 0.5 * q @ q.T @ q) / tau).ravel()

    sol = solve_ivp(rhs, (0.0, max(times)), q0.ravel(), t_eval=times, rtol=1e-12, atol=1e-14, method="DOP853")
    qs = sol.y.T.reshape(len(times), *shape)
    return qs @ np.swapaxes(qs, 1, 2)


def _balanced(rng, n_in, n_hidden, n_out, scale):
    """A zero-balanced init W1 = scale·R·[I 0]·Vᵀ-style: W2 = U S^{1/2} Rᵀ, W1 = R S^{1/2} Vᵀ."""
    m = min(n_in, n_out)
    u, _ = np.linalg.qr(rng.standard_normal((n_out, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n_in, m)))
    r, _ = np.linalg.qr(rng.standard_normal((n_hidden, m)))
    s = scale * (1.0 + rng.random(m))
    return (r * np.sqrt(s)) @ v.T, (u * np.sqrt(s)) @ r.T


def _aligned_mode(s, u0, t, tau):
    """Balanced scalar mode: τ du/dt = 2u(s − u) solved by hand."""
    if s == 0.0:
        return u0 / (1.0 + 2.0 * u0 * t / tau)
    g = np.exp(2.0 * s * t / tau)
    return s * g / (g - 1.0 + s / u0)


ARCHS = [(2, 3, 2), (3, 2, 2), (2, 2, 3), (4, 3, 2), (2, 4, 3)]


@pytest.mark.parametrize(("n_in", "n_hidden", "n_out"), ARCHS)
def test_theorem_3_1_and_fukumizu_follow_the_gradient_flow_ode(n_in, n_hidden, n_out):
    rng = np.random.default_rng(100 * n_in + 10 * n_hidden + n_out)
    w1, w2 = _balanced(rng, n_in, n_hidden, n_out, 0.05)
    syx = rng.standard_normal((n_out, n_in))
    if n_in == n_out and np.linalg.det(syx) * np.linalg.det(w2 @ w1) < 0:
        syx[0] *= -1.0  # Assumption 3.1: with Ni = No the determinant signs must agree
    tau = 1.7
    times = [0.0, 0.4, 1.3, 3.0, 6.0]
    ref = _flow_qqt(w1, w2, syx, times, tau)
    assert np.max(np.abs(qqt(w1, w2, syx, times, tau) - ref)) < 1e-9
    assert np.max(np.abs(qqt_fukumizu(w1, w2, syx, times, tau) - ref)) < 1e-8
    assert np.max(np.abs(qqt_fukumizu_mp(w1, w2, syx, times, tau) - ref)) < 1e-9
    assert np.max(np.abs(qqt_from_product(w2 @ w1, syx, times, tau) - ref)) < 1e-9


def test_rank_deficient_task_follows_the_flow_and_the_null_mode_decays_like_one_over_t():
    # Σyx = diag(1.5, 0) with a diagonal init: mode 1 grows to 1.5, mode 2 (s = 0) decays like u0/(1 + 2u0 t/τ)
    syx = np.diag([1.5, 0.0])
    a = np.array([0.2, 0.3])
    w1 = w2 = np.diag(np.sqrt(a))
    tau = 1.3
    times = np.array([0.0, 0.7, 2.0, 5.0, 12.0])
    expected_1 = [_aligned_mode(1.5, a[0], t, tau) for t in times]
    expected_2 = [_aligned_mode(0.0, a[1], t, tau) for t in times]
    for q in (
        qqt(w1, w2, syx, times, tau),
        qqt_from_product(w2 @ w1, syx, times, tau),
        qqt_fukumizu(w1, w2, syx, times, tau),
        qqt_fukumizu_mp(w1, w2, syx, times, tau),
    ):
        np.testing.assert_allclose(q[:, 2, 0], expected_1, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(q[:, 3, 1], expected_2, rtol=1e-10, atol=1e-13)


def test_null_pair_with_opposite_signs_still_follows_the_flow():
    # Σyx rank 1 in 2x2 and an init whose product has a negative entry in the null direction: the sign of the
    # null pair (ũ, ṽ) must be chosen so that B stays nonsingular, and the answer must still be the ODE's.
    syx = np.array([[1.2, 0.0], [0.0, 0.0]])
    w21 = np.array([[0.05, 0.0], [0.0, -0.04]])
    u, s, vt = np.linalg.svd(w21)
    w2 = u * np.sqrt(s)
    w1 = np.sqrt(s)[:, None] * vt
    times = [0.0, 1.0, 4.0]
    ref = _flow_qqt(w1, w2, syx, times)
    assert np.max(np.abs(qqt(w1, w2, syx, times) - ref)) < 1e-10
    assert np.max(np.abs(qqt_from_product(w21, syx, times) - ref)) < 1e-10
    # the null mode decays: u(t) = u0 / (1 + 2|u0| t) with its sign kept
    np.testing.assert_allclose(qqt(w1, w2, syx, times)[:, 3, 1], [-0.04 / (1 + 0.08 * t) for t in times], rtol=1e-10)


def test_long_times_reach_the_theorem_3_2_limit():
    rng = np.random.default_rng(7)
    w1, w2 = _balanced(rng, 3, 2, 2, 1e-3)
    syx = rng.standard_normal((2, 3))
    u, s, vt = np.linalg.svd(syx, full_matrices=False)
    limit = np.block([[vt.T * s @ vt, vt.T * s @ u.T], [u * s @ vt, u * s @ u.T]])
    np.testing.assert_allclose(qqt_limit(syx), limit, atol=1e-14)
    np.testing.assert_allclose(qqt(w1, w2, syx, [1e4])[0], limit, atol=1e-12)


def test_fukumizu_refuses_times_past_float64_and_names_the_alternatives():
    w = 0.1 * np.eye(1)
    syx = [[2.0]]
    t_edge = MAX_GROWTH / (2 * 2.0)  # 2 f_max t/τ = 36.04: the last time float64 keeps a digit
    assert MAX_GROWTH == pytest.approx(36.04365338911715, rel=1e-14)  # −ln ε = 52 ln 2
    q = qqt_fukumizu(w, w, syx, [0.99 * t_edge])
    assert q[0, 1, 0] == pytest.approx(_aligned_mode(2.0, 0.01, 0.99 * t_edge, 1.0), rel=1e-3)
    with pytest.raises(ValueError, match=r"qqt_fukumizu: e\^\(2 f_max t/τ\) exceeds 1/ε at t/τ = 9.10") as err:
        qqt_fukumizu(w, w, syx, [1.01 * t_edge])
    assert "f_max = 2" in str(err.value)
    assert "float64 keeps no correct digit" in str(err.value)
    assert "Use theory.riccati.qqt (Theorem 3.1, only decaying exponentials) or qqt_fukumizu_mp." in str(err.value)
    # τ rescales time: the same t with τ = 2 is well inside
    assert np.isfinite(qqt_fukumizu(w, w, syx, [1.01 * t_edge], tau=2.0)).all()


def test_fukumizu_mp_default_precision_is_enough_at_long_times_and_can_return_mpmath():
    w = 0.1 * np.eye(1)
    out = qqt_fukumizu_mp(w, w, [[1.5]], [40.0], as_mpmath=True)
    assert isinstance(out, list) and isinstance(out[0], mpmath.matrix)
    # the exact solution with 50 digits: 1.5 e^{120} / (e^{120} − 1 + 150)
    with mpmath.workdps(50):
        g = mpmath.exp(120)
        exact = 1.5 * g / (g - 1 + 150)
        assert abs(out[0][1, 0] - exact) < mpmath.mpf(10) ** -28
    fine = qqt_fukumizu_mp(w, w, [[1.5]], [40.0], dps=90)
    assert fine[0, 1, 0] == pytest.approx(1.5, rel=1e-15)


def test_qqt_from_product_refuses_a_task_of_another_shape():
    with pytest.raises(ValueError, match=r"sigma_yx must have the shape of W2W1\(0\), \(2, 2\); got \(2, 3\)"):
        qqt_from_product(0.1 * np.eye(2), np.ones((2, 3)), [0.0])


def test_matrix_exp_prints_transposes_and_lambdifies_to_expm():
    x = sp.MatrixSymbol("X", 2, 2)
    e = MatrixExp(x)
    assert str(e) == "exp(X)"
    assert e.T == MatrixExp(x.T)
    assert e.shape == (2, 2)
    a = np.array([[0.0, 1.0], [-2.0, 0.3]])
    np.testing.assert_allclose(sp.lambdify(x, e, "numpy")(a), expm(a), rtol=1e-14)
    got = sp.lambdify(x, e, "mpmath")(mpmath.matrix(a.tolist()))
    np.testing.assert_allclose(np.array(got.tolist(), dtype=float), expm(a), rtol=1e-12)
    with pytest.raises(TypeError, match="MatrixExp needs a square matrix expression"):
        MatrixExp(sp.MatrixSymbol("R", 2, 3))
    with pytest.raises(TypeError, match="MatrixExp needs a square matrix expression"):
        MatrixExp(sp.Symbol("x"))


def test_symbolic_identity_lambdifies_to_an_identity():
    n = sp.Symbol("n", integer=True, positive=True)
    x = sp.MatrixSymbol("X", n, n)
    np.testing.assert_array_equal(sp.lambdify((x, n), x + _Eye(n), "numpy")(np.zeros((3, 3)), 3), np.eye(3))
    got = sp.lambdify((x, n), x + _Eye(n), "mpmath")(mpmath.zeros(2), 2)
    assert got == mpmath.eye(2)


def test_fukumizu_handles_zero_eigenvalues_of_f_for_unequal_sizes():
    # Ni = 3, No = 1: F has Ni − No = 2 exact zero eigenvalues (K entry = t/τ); an init in the null space of Σyx
    # follows the gradient-flow ODE in both evaluators (and Theorem 3.1, whose Ṽ⊥ term handles that null space).
    syx = np.array([[1.0, 0.0, 0.0]])
    w1 = np.array([[0.2, 0.3, 0.1]])
    w2 = np.array([[math.sqrt(0.14)]])
    times = [0.0, 2.0, 9.0]
    ref = _flow_qqt(w1, w2, syx, times)
    assert np.max(np.abs(qqt_fukumizu(w1, w2, syx, times) - ref)) < 1e-9
    assert np.max(np.abs(qqt_fukumizu_mp(w1, w2, syx, times) - ref)) < 1e-9
    assert np.max(np.abs(qqt(w1, w2, syx, times) - ref)) < 1e-9
    # the null-space part of W1 decays: W1ᵀW1 restricted to e2 → 0 like 1/t (Theorem 3.2: W1ᵀW1 → ṼS̃Ṽᵀ)
    assert abs(qqt_fukumizu(w1, w2, syx, [9.0])[0, 1, 1]) < abs(ref[0][1, 1])


@pytest.mark.parametrize(("n_in", "n_hidden", "n_out"), [(3, 3, 3), (4, 3, 2), (2, 3, 4)])
def test_sympy_theorem_3_1_expression_follows_the_gradient_flow_ode(n_in, n_hidden, n_out):
    # The law's equation is built once at import, so this builds it afresh (`_theorem_3_1`) and evaluates it with
    # explicit SVD factors: every term must be right, so the inits are coupled (C ≠ 0) and the three shapes exercise
    # Ni = No, the Ṽ⊥ terms (Ni > No) and the Ũ⊥ terms (No > Ni); τ ≠ 1 separates t/τ from t·τ.
    expr = _theorem_3_1()
    fn = sp.lambdify(sorted(expr.free_symbols, key=lambda s: s.name), expr, modules=["scipy", "numpy"])
    rng = np.random.default_rng(1000 + 100 * n_in + 10 * n_hidden + n_out)
    w1, w2 = _balanced(rng, n_in, n_hidden, n_out, 0.05)
    syx = rng.standard_normal((n_out, n_in))
    if n_in == n_out and np.linalg.det(syx) * np.linalg.det(w2 @ w1) < 0:
        syx[0] *= -1.0  # Assumption 3.1: with Ni = No the determinant signs must agree
    m = min(n_in, n_out)
    u, s, vt = np.linalg.svd(w2 @ w1, full_matrices=False)
    ut, st, vtt = np.linalg.svd(syx)  # full: the columns past Nm complete Ũ (No > Ni) or Ṽ (Ni > No)
    c = u.T @ ut[:, :m] - vt @ vtt[:m].T
    assert np.linalg.norm(c) > 0.1  # coupled: the C terms of the bracket and of Z are not zero
    tau, times = 1.7, [0.0, 0.4, 1.3, 3.0]
    ref = _flow_qqt(w1, w2, syx, times, tau)
    for k, t in enumerate(times):
        args = {"U": u, "S": np.diag(s), "V": vt.T, "U_tilde": ut[:, :m], "S_tilde": np.diag(st), "V_tilde": vtt[:m].T}
        args |= {"U_tilde_perp": ut[:, m:], "V_tilde_perp": vtt[m:].T, "t": t, "tau": tau}
        got = fn(**args)
        # solve_ivp at rtol 1e-12 on O(1) entries, over t ≤ 3τ: the same 1e-9 as the float64 evaluators above
        assert np.max(np.abs(got - ref[k])) < 1e-9, f"t = {t}"


def test_matrix_exp_doit_evaluates_its_argument_unless_told_not_to():
    # SymPy's doit protocol: deep (the default) evaluates the argument first, deep=False only the top level.
    # N is nilpotent, so e^{2N} = I + 2N exactly.
    x = sp.MatrixSymbol("X", 2, 2)
    n = sp.ImmutableMatrix([[0, 1], [0, 0]])
    e = MatrixExp(2 * x).subs(x, n)  # the argument stays the unevaluated product 2·N
    assert e.doit() == sp.Matrix([[1, 2], [0, 1]])
    assert e.doit(deep=True) == sp.Matrix([[1, 2], [0, 1]])
    shallow = e.doit(deep=False)
    assert isinstance(shallow, MatrixExp) and isinstance(shallow.arg, sp.MatMul)  # 2·N left as it was
    assert shallow.arg.doit() == sp.Matrix([[0, 2], [0, 0]])
    assert shallow.doit() == sp.Matrix([[1, 2], [0, 1]])
    # a symbolic argument cannot be evaluated: the exponential stays as it is, at any depth
    assert MatrixExp(x).doit() == MatrixExp(x)
    assert MatrixExp(x).doit(deep=False) == MatrixExp(x)


def test_qqt_from_product_names_the_argument_it_refuses():
    with pytest.raises(ValueError, match=r"^w21_0 must be a 2-D matrix, got an array of shape \(3,\)"):
        qqt_from_product(np.ones(3), np.eye(1), [0.0])
    with pytest.raises(ValueError, match=r"^sigma_yx contains NaN or inf"):
        qqt_from_product(0.1 * np.eye(2), [[1.0, 0.0], [0.0, np.nan]], [0.0])
    with pytest.raises(ValueError, match=r"^sigma_yx must be a 2-D matrix"):
        qqt_from_product(0.1 * np.eye(2), [1.0, 2.0], [0.0])


def test_qqt_from_product_applies_the_b_tol_it_is_given():
    # Ni = No = 1, W2W1(0) = 0.1 and Σyx = 2: u·v = ũ·ṽ = +1, so uũ = vṽ = ±1 and |B| = |uũ + vṽ| = 2 by hand.
    w21, syx = [[0.1]], [[2.0]]
    with pytest.raises(AssumptionError, match=r"σ_min\(B\) = 2 ≤ tol = 2\.5"):
        qqt_from_product(w21, syx, [0.0], b_tol=2.5)
    q = qqt_from_product(w21, syx, [0.0, 1.0], b_tol=1.9)
    np.testing.assert_allclose(q[:, 1, 0], [_aligned_mode(2.0, 0.1, t, 1.0) for t in (0.0, 1.0)], rtol=1e-12)


def _rotation(theta):
    return np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


def test_tiny_init_with_nearly_singular_b_is_refused_with_the_rescaling_fix_not_returned_as_zero():
    # W2W1(0) = 1e-300·R(π − 2e-6) and Σyx = I: U = R, V = I, Ũ = Ṽ = I, so B = R(π − 2e-6)ᵀ + I has σ_min(B) =
    # 2 sin(1e-6) ≈ 2e-6 (> b_tol) and B⁻¹S⁻¹B⁻ᵀ ≈ 1/(1e-300·4e-12) ≈ 2.5e311 overflows float64. Solving with that
    # infinite bracket used to return QQᵀ = 0 (a RuntimeWarning at most); it must be refused, with the fix.
    rot = _rotation(math.pi - 2e-6)
    c = 1e-150
    w1, w2 = c * np.eye(2), c * rot  # zero-balanced: W1W1ᵀ = W2ᵀW2 = c²I
    msg = r"^the bracket of Theorem 3\.1 .* overflows float64 .* Fix: the exact solution is scale-covariant"
    with pytest.raises(ValueError, match=msg):
        qqt_from_product(w2 @ w1, np.eye(2), [0.0, 1.0, 1e3])  # at t = 1e3, E1 = 0 and 0·inf is NaN
    with pytest.raises(ValueError, match=msg):
        qqt(w1, w2, np.eye(2), [0.0])
    # the fix the message gives works: qqt(W1/c, W2/c, Σyx/c², c²t)·c² is QQᵀ(0) = Q0Q0ᵀ = c²[[I, Rᵀ], [R, I]]
    rescaled = c**2 * qqt(w1 / c, w2 / c, np.eye(2) / c**2, [0.0])[0]
    expected = c**2 * np.block([[np.eye(2), rot.T], [rot, np.eye(2)]])
    np.testing.assert_allclose(rescaled, expected, rtol=0, atol=1e-12 * c**2)


def test_a_product_near_the_float64_maximum_is_returned_not_reported_as_overflow():
    # W2W1(0) = 1e308 with Σyx = 1: QQᵀ(0) = [[1e308, 1e308], [1e308, 1e308]] fits in float64 (max ≈ 1.8e308), and
    # the mode then follows u(t) = s g/(g − 1 + s/u0), g = e^{2st/τ} (≈ g/(g − 1) here); symmetrising by a sum of
    # two such entries used to overflow and report an overflow that is not there.
    q = qqt_from_product([[1e308]], [[1.0]], [0.0, 1.0])
    np.testing.assert_allclose(q[0], np.full((2, 2), 1e308), rtol=1e-12)
    np.testing.assert_allclose(q[1], np.full((2, 2), _aligned_mode(1.0, 1e308, 1.0, 1.0)), rtol=1e-12)
    w = np.array([[1e154]])  # W2W1(0) = 1e308 again, through qqt
    np.testing.assert_allclose(qqt(w, w, [[1.0]], [0.0])[0], np.full((2, 2), 1e308), rtol=1e-12)


def test_qqt_is_exactly_symmetric_so_its_off_diagonal_blocks_are_exact_transposes():
    # QQᵀ is a Gram matrix: readouts take W2W1 from one off-diagonal block and rely on the other being its exact
    # transpose (and eigh/cholesky on the diagonal blocks need exact symmetry), whatever the round-off of the solve.
    rng = np.random.default_rng(11)
    w1, w2 = _balanced(rng, 4, 3, 2, 0.3)
    syx = rng.standard_normal((2, 4))
    for q in (qqt(w1, w2, syx, [0.0, 0.5, 2.0]), qqt_from_product(w2 @ w1, syx, [0.0, 0.5, 2.0])):
        np.testing.assert_array_equal(q, np.swapaxes(q, 1, 2))
        np.testing.assert_array_equal(q[:, 4:, :4], np.swapaxes(q[:, :4, 4:], 1, 2))


def test_qqt_refusals_name_the_argument_and_apply_the_tolerances_given():
    w, syx = np.diag([0.1, 0.2]), np.diag([2.0, 1.0])
    with pytest.raises(ValueError, match=r"^W2_0 must be a 2-D matrix, got an array of shape \(3,\)"):
        qqt(w, np.ones(3), syx, [0.0])
    with pytest.raises(ValueError, match=r"^sigma_yx must be a 2-D matrix, got an array of shape \(2,\)"):
        qqt(w, w, np.ones(2), [0.0])
    # Σxx is checked when given: 2I is not whitened (max|Σxx − I| = 1), and I₃ does not fit Ni = 2
    with pytest.raises(AssumptionError, match=r"the inputs are not whitened, max\|Σxx − I\| = 1 > rtol"):
        qqt(w, w, syx, [0.0], sigma_xx=2.0 * np.eye(2))
    with pytest.raises(ValueError, match=r"sigma_xx must have shape \(Ni, Ni\) = \(2, 2\), got \(3, 3\)"):
        qqt(w, w, syx, [0.0], sigma_xx=np.eye(3))
    # W2 = (1 + δ)W1 with W1 diagonal: ‖W1W1ᵀ − W2ᵀW2‖/(‖W1W1ᵀ‖ + ‖W2ᵀW2‖) = ((1+δ)² − 1)/(1 + (1+δ)²) ≈ δ = 1e-6
    with pytest.raises(AssumptionError, match=r"= 1e-06 > rtol = 1e-07"):
        qqt(w, (1 + 1e-6) * w, syx, [0.0], balance_rtol=1e-7)
    assert np.isfinite(qqt(w, (1 + 1e-6) * w, syx, [0.0], balance_rtol=1e-5)).all()
    # W1 = W2 = diag(0.1, 1e-5): W2W1 = diag(1e-2, 1e-10), σ_min/σ_max = 1e-8, full rank at the default 1e-10 only
    thin = np.diag([0.1, 1e-5])
    with pytest.raises(AssumptionError, match=r"σ_min/σ_max = 1e-08 ≤ rtol = 1e-07"):
        qqt(thin, thin, syx, [0.0], rank_rtol=1e-7)
    assert np.isfinite(qqt(thin, thin, syx, [0.0])).all()
    # Nh = 1 < Nm = 2: the message names the narrow hidden layer (not just a rank ratio)
    with pytest.raises(AssumptionError, match=r"Nh = 1 < Nm = min\(Ni, No\) = 2.*widen the hidden layer"):
        qqt([[0.1, 0.0]], [[0.1], [0.0]], syx, [0.0])
    # Ni = No = 1, W2W1(0) = 0.01 and Σyx = 2: |B| = |uũ + vṽ| = 2 by hand (as for qqt_from_product above)
    with pytest.raises(AssumptionError, match=r"σ_min\(B\) = 2 ≤ tol = 2\.5"):
        qqt([[0.1]], [[0.1]], [[2.0]], [0.0], b_tol=2.5)


def test_qqt_limit_names_the_argument_it_refuses():
    with pytest.raises(ValueError, match=r"^sigma_yx must be a 2-D matrix, got an array of shape \(3,\)"):
        qqt_limit(np.ones(3))
