"""Mode laws (LAWS.md §1.1, §1.3): symbolic self-checks, properties over the domain, agreement with GD."""

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import AssumptionError, get_law
from theory.modes import depth_mode_solution, depth_mode_time
from verify.conftest import law_checks

logistic = get_law("logistic_mode")
depth = get_law("depth_mode")


@pytest.mark.parametrize(("law", "name"), law_checks("logistic_mode") + law_checks("depth_mode"))
def test_registered_checks(law, name, assert_check):
    assert_check(law, name)


def _bounded(name: str, law=logistic):
    lo, hi = law.domain[name]
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@given(t=_bounded("t"), tau=_bounded("tau"), s=_bounded("s"), frac=st.floats(1e-4, 0.9))
def test_logistic_solution_stays_between_u0_and_s_and_grows(t, tau, s, frac):
    u0 = frac * s
    u = logistic.numeric(t=t, tau=tau, s=s, u0=u0)
    later = logistic.numeric(t=t + 0.1, tau=tau, s=s, u0=u0)
    assert u0 * (1 - 1e-12) <= u <= s * (1 + 1e-12)
    assert later >= u * (1 - 1e-12)


@given(t=_bounded("t"), tau=_bounded("tau"), s=_bounded("s"), frac=st.floats(1e-3, 0.9))
def test_logistic_solution_satisfies_ode_at_50_digits(t, tau, s, frac):
    # mpmath differentiation at 50 digits: the residual is round-off, far below 1e-30 relative
    f = logistic.compiled("solution", "mpmath")
    rhs = logistic.compiled("rhs", "mpmath")
    with mpmath.workdps(50):
        args = {"tau": mpmath.mpf(tau), "s": mpmath.mpf(s), "u0": mpmath.mpf(frac * s)}
        du = mpmath.diff(lambda x: f(t=x, **args), mpmath.mpf(t))
        expected = rhs(u=f(t=mpmath.mpf(t), **args), s=args["s"], tau=args["tau"])
        assert abs(du - expected) <= mpmath.mpf(10) ** -30 * max(1, abs(expected))


@given(s=_bounded("s"), a=st.floats(0.01, 0.49), b=st.floats(0.51, 0.99))
def test_learning_time_is_additive_and_inverts_solution(s, a, b):
    u0, uf = a * s, b * s
    T = logistic.numeric("learning_time", tau=1.0, s=s, u0=u0, uf=uf)
    mid = 0.5 * s
    T1 = logistic.numeric("learning_time", tau=1.0, s=s, u0=u0, uf=mid)
    T2 = logistic.numeric("learning_time", tau=1.0, s=s, u0=mid, uf=uf)
    assert T == pytest.approx(T1 + T2, rel=1e-12)
    assert logistic.numeric(t=T, tau=1.0, s=s, u0=u0) == pytest.approx(uf, rel=1e-10)


@given(n=st.integers(3, 8), s=st.floats(0.3, 3.0), a=st.floats(0.01, 0.4), b=st.floats(0.45, 0.95))
def test_depth_time_increasing_and_scales_with_tau(n, s, a, b):
    T = sp.lambdify([sp.Symbol("s"), sp.Symbol("u0"), sp.Symbol("uf"), sp.Symbol("tau")], depth_mode_time(n), "mpmath")
    t1 = T(s, a * s, b * s, 1.0)
    t2 = T(s, a * s, b * s, 2.0)
    assert t1 > 0
    assert float(t2) == pytest.approx(2 * float(t1), rel=1e-12)


def test_depth_N2_time_equals_logistic_time():
    assert sp.simplify(depth_mode_time(2) - logistic.derived["learning_time"]) == 0


def test_depth_solution_limits():
    t, s, u0 = depth.symbols["t"], depth.symbols["s"], depth.symbols["u0"]
    for n in (1, 2):
        sol = depth_mode_solution(n)
        assert sp.simplify(sol.subs(t, 0) - u0) == 0
        assert sp.simplify(sp.limit(sol, t, sp.oo) - s) == 0
    assert depth_mode_solution(3) is None


def test_small_init_power_law_for_depth_3():
    # LAWS.md §1.3: t(u0 → s/2) ≈ u0^{−(N−2)/N}/((N−2)s); exact/asymptote = 0.9145 for N = 3, u0 = 1e-3, s = 1
    exact = depth.numeric("time_N3", tau=1.0, s=1.0, u0=1e-3, uf=0.5)
    asymptote = (1e-3) ** (-1 / 3) / 1.0
    assert exact / asymptote == pytest.approx(0.9145, abs=5e-4)


def test_bad_depth_and_strengths_are_refused():
    with pytest.raises(ValueError, match="depth N must be an integer"):
        depth_mode_time(0)
    with pytest.raises(AssumptionError, match="u0"):
        logistic.check(u0=-0.1, s=1.0)
    with pytest.raises(AssumptionError, match="singular value"):
        logistic.check(u0=0.1, s=0.0)
