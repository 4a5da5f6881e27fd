"""λ-balanced mode and Kunin's single neuron (theory/lazy_rich.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from theory import AssumptionError, get_law
from theory.lazy_rich import lambda_nu0, neuron_kernel_distance
from theory.lazy_rich import s as s_sym
from verify.conftest import law_checks
from verify.suite.lazy_rich import _lambda_init, _neuron_init, gd_error_constants


@pytest.mark.parametrize(("law_name", "name"), law_checks("lambda_mode"))
def test_lambda_checks(law_name, name, assert_check):
    assert_check(law_name, name)


@pytest.mark.parametrize(("law_name", "name"), law_checks("single_neuron_delta"))
def test_neuron_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def _riccati(s, dl, nu0, t):
    sol = solve_ivp(lambda _t, y: s**2 - dl * y - y**2, (0, t[-1]), [nu0], t_eval=t, rtol=1e-13, atol=1e-15)
    assert sol.status == 0
    return sol.y[0]


@pytest.mark.parametrize(
    ("dl", "nu0", "branch"),
    [(1.0, 0.2, "tanh"), (-2.0, 1.5, "tanh"), (-2.0, 3.0, "coth"), (0.5, 2.5, "coth"), (3.0, -0.5, "tanh")],
)
def test_nu_both_branches_against_solve_ivp(dl, nu0, branch):
    s, t = 1.3, np.linspace(0.0, 4.0, 9)
    D = np.hypot(dl, 2 * s)
    assert (abs(dl + 2 * nu0) < D) == (branch == "tanh")
    law = get_law("single_neuron_delta")
    nu = law.numeric(t=t, tau=1.0, s=s, delta=dl, nu0=nu0)
    # solve_ivp at rtol 1e-13 over a contracting flow: its error stays ≲ 1e-12, a hundredth of the 1e-10 asked
    np.testing.assert_allclose(nu, _riccati(s, dl, nu0, t), rtol=1e-10)


def test_nu_blows_up_below_the_lower_fixed_point():
    """δ + 2ν0 < −D: ν → −∞ at T = −1/y0, i.e. t* = (2τ/D)·artanh(−1/y0) (a crosses 0)."""
    s, dl, nu0 = 1.0, 0.5, -3.0
    D = np.hypot(dl, 2 * s)
    y0 = (dl + 2 * nu0) / D
    t_star = 2 / D * np.arctanh(-1 / y0)
    nu = get_law("single_neuron_delta").numeric(t=np.array([0.9, 0.999]) * t_star, tau=1.0, s=s, delta=dl, nu0=nu0)
    assert nu[1] < nu[0] < nu0 and nu[1] < -100


@settings(max_examples=25, deadline=None)
@given(
    s=st.floats(0.3, 2.5),
    lam=st.floats(-3.0, 3.0).filter(lambda x: abs(x) > 0.05),
    u0=st.floats(0.01, 2.0),
)
def test_lambda_solution_against_solve_ivp(s, lam, u0):
    t = np.linspace(0.0, 3.0, 7)
    sol = solve_ivp(
        lambda _t, y: np.sqrt(lam**2 + 4 * y**2) * (s - y), (0, 3.0), [u0], t_eval=t, rtol=1e-12, atol=1e-14
    )
    u = get_law("lambda_mode").numeric(t=t, tau=1.0, s=s, u0=u0, lam=lam)
    # the closed form loses ~log10(1/|λ|) digits to s² − ν² = O(λ); solve_ivp's rtol 1e-12 dominates: 1e-9 relative
    np.testing.assert_allclose(u, sol.y[0], rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(s=st.floats(0.3, 2.5), lam=st.floats(-3.0, 3.0), u0=st.floats(0.01, 0.9), frac=st.floats(0.1, 0.9))
def test_lambda_time_against_quadrature(s, lam, u0, frac):
    from scipy.integrate import quad

    u0 = u0 * s
    uf = u0 + frac * (s - u0)
    exact, _ = quad(lambda x: 1 / (np.sqrt(lam**2 + 4 * x**2) * (s - x)), u0, uf, epsabs=1e-13, epsrel=1e-12)
    T = get_law("lambda_mode").numeric("time", tau=1.0, s=s, u0=u0, lam=lam, u=uf)
    np.testing.assert_allclose(T, exact, rtol=1e-9)  # quad's 1e-12 and ~1e-14 round-off of the logs


def test_lambda_nu0_matches_the_init():
    for lam in (-2.0, 0.3, 4.0):
        a, b = _lambda_init(lam, 0.2)
        assert abs(b**2 - a**2 - lam) < 1e-12 and abs(a * b - 0.2) < 1e-14
        assert abs(float(lambda_nu0(lam, 0.2).subs(s_sym, 1.5)) - 1.5 * a / b) < 1e-12


def test_neuron_init_and_kernel_form():
    rho, a = _neuron_init(-2.0, 3.0, 1.0)
    assert abs(a**2 - rho**2 + 2.0) < 1e-12 and abs(rho / a - 3.0) < 1e-12
    with pytest.raises(ValueError, match="δ·"):
        _neuron_init(1.0, 2.0, 1.0)
    # from the definition: M = wwᵀ + a²I with w = ρβ̂, against the closed form
    rng = np.random.default_rng(0)
    bhat = rng.normal(size=5)
    bhat /= np.linalg.norm(bhat)
    M0 = 0.3**2 * np.outer(bhat, bhat) + 0.7**2 * np.eye(5)
    Mt = 1.1**2 * np.outer(bhat, bhat) + 0.4**2 * np.eye(5)
    direct = 1 - np.sum(M0 * Mt) / (np.linalg.norm(M0) * np.linalg.norm(Mt))
    s = 2.0
    closed = float(neuron_kernel_distance(s * 0.3 / 0.7, s * 1.1 / 0.4, s, 5))
    assert abs(direct - closed) < 1e-14


def test_gd_error_constant_logistic():
    # LAWS.md §1.1: max|u_GD − u| ≈ 0.745·η·s² for the balanced logistic mode at s = 3, u0 = 1e-3
    c = gd_error_constants(3.0, (1e-3**0.5, 1e-3**0.5), 8.0)[0]
    assert abs(c / 9 - 0.745) < 0.005


def test_bad_inputs():
    lam_law, neuron = get_law("lambda_mode"), get_law("single_neuron_delta")
    with pytest.raises(AssumptionError, match="u0"):
        lam_law.numeric(t=1.0, tau=1.0, s=1.0, u0=-0.1, lam=1.0)
    with pytest.raises(AssumptionError, match=r"u0 = 0\.0 must be > 0"):
        lam_law.check(u0=0.0, s=1.0)
    with pytest.raises(AssumptionError, match="s"):
        neuron.numeric(t=1.0, tau=1.0, s=0.0, delta=1.0, nu0=0.1)
    with pytest.raises(AssumptionError, match="δ = 0 forces"):
        neuron.check(s=1.0, delta=0.0, nu0=0.5)
    neuron.check(s=1.0, delta=0.0, nu0=-1.0)  # ν0 = ±s is the δ = 0 trajectory
