"""Pins of theory.riccati_fukumizu (Fukumizu's closed form, float64 and mpmath) against independent references.

References, none of them the code under test: the scalar closed form of a balanced aligned mode,
u(t) = s e^{2st/τ}/(e^{2st/τ} − 1 + s/u0), and u0/(1 + 2u0 t/τ) at s = 0, derived by hand from τ du/dt = 2u(s − u)
(for a 1×1 task every entry of QQᵀ = [W1ᵀ; W2][W1ᵀ; W2]ᵀ equals u = W2W1 when W1 = W2); the scale covariance
qqt(W1, W2, Σyx, t) = c²·qqt(W1/c, W2/c, Σyx/c², c²t) that RESCALE_FIX states (substitute Q = cQ', t = t'/c² in
τ dQ/dt = FQ − ½QQᵀQ); the gradient-flow ODE integrated by scipy's `solve_ivp`; the documented precision formula and
error messages (the key words a user reads, and the fix they name).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from theory.law import AssumptionError
from theory.riccati_fukumizu import MAX_GROWTH, qqt_fukumizu, qqt_fukumizu_mp

EVALUATORS = [qqt_fukumizu, qqt_fukumizu_mp]


def _aligned_mode(s: float, u0: float, t: float, tau: float = 1.0) -> float:
    """Balanced scalar mode: τ du/dt = 2u(s − u) solved by hand (separable; s = 0 is the limit)."""
    if s == 0.0:
        return u0 / (1.0 + 2.0 * u0 * t / tau)
    g = math.exp(2.0 * s * t / tau)
    return s * g / (g - 1.0 + s / u0)


def _flow_qqt(w1, w2, syx, times):
    """QQᵀ(t) by integrating dQ/dt = FQ − ½QQᵀQ, Q = [W1ᵀ; W2] (gradient flow on whitened inputs, τ = 1)."""
    w1, w2, syx = (np.asarray(a, dtype=float) for a in (w1, w2, syx))
    n_out, n_in = syx.shape
    f = np.block([[np.zeros((n_in, n_in)), syx.T], [syx, np.zeros((n_out, n_out))]])
    q0 = np.concatenate([w1.T, w2], axis=0)

    def rhs(_, y):
        q = y.reshape(q0.shape)
        return (f @ q - 0.5 * q @ q.T @ q).ravel()

    sol = solve_ivp(rhs, (0.0, max(times)), q0.ravel(), t_eval=times, rtol=1e-12, atol=1e-14, method="DOP853")
    qs = sol.y.T.reshape(len(times), *q0.shape)
    return qs @ np.swapaxes(qs, 1, 2)


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize("c2", [1e16, 1e40, 1e-16])
def test_a_small_or_large_scale_task_gives_the_rescaled_answer(evaluator, c2):
    # Σyx = 2/c², W = 0.1/c, t = 3c²: by scale covariance c²·QQᵀ is the aligned mode s = 2, u0 = 0.01 at t = 3.
    # Before: F's eigenvalues ±2/c² fell below an absolute "treat as zero" threshold (n·ε in float64, 10^(−dps/2)
    # in mpmath), every mode was frozen at K = t/τ, and c²·QQᵀ came out 0.0094 (float64) or 1535 (mpmath).
    c = math.sqrt(c2)
    got = c2 * evaluator([[0.1 / c]], [[0.1 / c]], [[2.0 / c2]], [3.0 * c2])
    # float64 evaluates e^{±ft} and (e^{2ft} − 1)/(2f) to a few ε each: 1e-13 relative leaves a margin of ~100
    np.testing.assert_allclose(got[0], np.full((2, 2), _aligned_mode(2.0, 0.01, 3.0)), rtol=1e-13)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_no_task_makes_every_mode_decay_like_one_over_t(evaluator):
    # Σyx = 0: F = 0 has only exact zero eigenvalues, K = t/τ·I, and QQᵀ(t) = QQᵀ(0)/(1 + 2u0 t/τ) with u0 = W2W1
    times = [0.0, 0.5, 3.0, 40.0]
    got = evaluator([[0.3]], [[0.3]], [[0.0]], times, 2.0)
    expected = [_aligned_mode(0.0, 0.09, t, 2.0) for t in times]
    np.testing.assert_allclose(got[:, 1, 0], expected, rtol=1e-14)
    np.testing.assert_allclose(got[:, 0, 0], expected, rtol=1e-14)


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize(
    ("w1", "w2", "syx", "name"),
    [
        ([0.1, 0.2], [[0.1]], [[1.0]], "W1_0"),
        ([[0.1]], [0.1], [[1.0]], "W2_0"),
        ([[0.1]], [[0.1]], [1.0], "sigma_yx"),
    ],
)
def test_a_matrix_given_as_a_vector_is_refused_by_its_name(evaluator, w1, w2, syx, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a 2-D matrix, got an array of shape \(\d,?\)$"):
        evaluator(w1, w2, syx, [1.0])


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_sigma_xx_must_be_the_identity_of_the_input_size(evaluator):
    w = 0.1 * np.eye(2)
    syx = np.diag([2.0, 1.0])
    # Σxx = I of the right size is accepted and changes nothing (the solution assumes it)
    np.testing.assert_array_equal(evaluator(w, w, syx, [1.0], sigma_xx=np.eye(2)), evaluator(w, w, syx, [1.0]))
    with pytest.raises(AssumptionError, match=r"the inputs are not whitened, max\|Σxx − I\| = 0.5 > rtol"):
        evaluator(w, w, syx, [1.0], sigma_xx=np.diag([1.0, 1.5]))
    # an identity of another size is not the inputs' covariance: the error names the expected shape
    with pytest.raises(ValueError, match=r"sigma_xx must have shape \(Ni, Ni\) = \(2, 2\), got \(3, 3\)"):
        evaluator(w, w, syx, [1.0], sigma_xx=np.eye(3))


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_balance_rtol_admits_a_slightly_unbalanced_init(evaluator):
    # W2 = 0.1·(1 + 1e-6), W1 = 0.1: relative imbalance ≈ 1e-6, refused at the default 1e-8, accepted at 1e-4,
    # and then the closed form is off the true flow by O(imbalance) only
    w1, w2, syx, times = [[0.1]], [[0.1 * (1 + 1e-6)]], [[2.0]], [0.0, 1.0, 3.0]
    with pytest.raises(AssumptionError, match=r"zero-balanced initialisation .* = 1e-06 > rtol = 1e-08"):
        evaluator(w1, w2, syx, times)
    got = evaluator(w1, w2, syx, times, balance_rtol=1e-4)
    np.testing.assert_allclose(got, _flow_qqt(w1, w2, syx, times), atol=1e-6)


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_an_overflowing_init_names_the_rescaling_fix(evaluator):
    w = 1e200 * np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2.0)  # balanced (orthogonal), QQᵀ(0) ~ 1e400
    with pytest.raises(ValueError, match=r"QQᵀ\(0\) = Q0 Q0ᵀ overflows float64") as err:
        evaluator(w, w.T, np.eye(2), [0.0])
    message = str(err.value)
    assert "Fix: the exact solution is scale-covariant" in message
    assert "c²·qqt(W1_0/c, W2_0/c, Σyx/c², c²·t)" in message
    assert message.endswith("multiply by c² in a wider type (e.g. mpmath).")


def test_float64_refusal_starts_strictly_past_one_over_epsilon():
    # Σyx = 0.5: F's eigenvalues are ±0.5 exactly, so 2·f_max·t/τ = t/τ. At t/τ = MAX_GROWTH = −ln ε the documented
    # limit e^{2 f_max t/τ} = 1/ε is reached, not exceeded: accepted (and still close to the closed form, 1e-12
    # measured 1.1e-14); the next float past it is refused.
    q = qqt_fukumizu([[0.1]], [[0.1]], [[0.5]], [MAX_GROWTH])
    assert q[0, 1, 0] == pytest.approx(_aligned_mode(0.5, 0.01, MAX_GROWTH), rel=1e-12)
    with pytest.raises(ValueError, match="exceeds 1/ε") as err:
        qqt_fukumizu([[0.1]], [[0.1]], [[0.5]], [np.nextafter(MAX_GROWTH, np.inf)])
    message = str(err.value)
    assert "float64 keeps no correct digit. Use theory.riccati.qqt" in message
    assert message.endswith("(Theorem 3.1, only decaying exponentials) or qqt_fukumizu_mp.")


def test_float64_names_the_alternatives_when_the_bracket_rounds_to_singular():
    # Nh = 2 hidden units with equal weights (rank-1 Q0 = c·11ᵀ, c = 1e8): I + Q0ᵀKQ0 = I + a·11ᵀ with a ≈ 6e16 >
    # 2⁵³, so 1 + a rounds to a and the bracket is exactly singular in float64, although not in exact arithmetic
    c = 1e8
    w1, w2 = c * np.ones((2, 1)), c * np.ones((1, 2))
    with pytest.raises(ValueError) as err:
        qqt_fukumizu(w1, w2, [[1.0]], [1.0])
    message = str(err.value)
    assert message.startswith("qqt_fukumizu: float64 lost all precision by t/τ = 1 ")
    assert message.endswith("Use theory.riccati.qqt (Theorem 3.1) or qqt_fukumizu_mp.")
    # the mpmath evaluator it names does solve it: the two units act as one with u0 = W2W1 = 2c², s = 1
    got = qqt_fukumizu_mp(w1, w2, [[1.0]], [1.0])
    np.testing.assert_allclose(got[0], np.full((2, 2), _aligned_mode(1.0, 2 * c**2, 1.0)), rtol=1e-14)


def test_float64_result_is_exactly_symmetric():
    # QQᵀ is symmetric; users take eigh/cholesky of it, so the float64 result is symmetric to the last bit
    rng = np.random.default_rng(3)
    r, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    u, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    v, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    s = np.sqrt([0.3, 0.2, 0.05])
    w1, w2 = (r * s) @ v.T, (u * s) @ r.T
    q = qqt_fukumizu(w1, w2, rng.standard_normal((3, 3)), [0.0, 0.7, 2.5, 4.0])
    np.testing.assert_array_equal(q, np.swapaxes(q, 1, 2))


def test_mpmath_default_precision_is_the_documented_formula():
    # the docstring: 30 + ⌈2 f_max t_max/(τ ln 10)⌉ digits, f_max the largest singular value of Σyx. Here f_max = 3
    # (Σyx = diag(3, 1)), t_max/τ = 20/2 = 10: 30 + ⌈60/ln 10⌉ = 30 + ⌈26.06⌉ = 57 digits.
    w = 0.1 * np.eye(2)
    syx = np.diag([3.0, 1.0])
    assert 30 + math.ceil(2 * 3.0 * 10.0 / math.log(10.0)) == 57
    default = qqt_fukumizu_mp(w, w, syx, [4.0, 20.0], 2.0, as_mpmath=True)
    at_57 = qqt_fukumizu_mp(w, w, syx, [4.0, 20.0], 2.0, dps=57, as_mpmath=True)
    at_58 = qqt_fukumizu_mp(w, w, syx, [4.0, 20.0], 2.0, dps=58, as_mpmath=True)
    at_56 = qqt_fukumizu_mp(w, w, syx, [4.0, 20.0], 2.0, dps=56, as_mpmath=True)
    assert [m.tolist() for m in default] == [m.tolist() for m in at_57]
    # one digit more or less changes the trailing bits, so the equality above does pin 57
    assert default[1].tolist() != at_58[1].tolist()
    assert default[1].tolist() != at_56[1].tolist()
    # and that precision delivers the ~30 digits it promises: mode 1 is the aligned mode s = 3, u0 = 0.01
    with mpmath.workdps(80):
        g = mpmath.exp(mpmath.mpf(60))
        exact = 3 * g / (g - 1 + 300)
        assert abs(default[1][2, 0] - exact) < mpmath.mpf(10) ** -29
