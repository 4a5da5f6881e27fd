"""Law.compiled and the numpy hypergeometric it plugs into lambdify, on laws built inside the tests.

The catalogue's laws compile once per (target, backend) and keep the result, so a test on a catalogue law mostly reads
a cache. The laws here are new objects (`dataclasses.replace` or `Law(...)`), so each test compiles its formula
again and pins what that compilation must produce: the right formula, argument order, backend and assumption checks.
Every expected value is derived independently: by hand from the closed form, by quadrature of the law's ODE, or
by mpmath's own hypergeometric functions.
"""

import dataclasses
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory import AssumptionError, Law, get_law
from theory.law import function_free

LOGISTIC = get_law("logistic_mode")


def _logistic_by_hand(t: float, tau: float, s: float, u0: float) -> float:
    # u(t) = s·u0·e^{2st/τ} / (s − u0 + u0·e^{2st/τ}), LAWS.md §1.1 (Saxe et al. 2014, eq. 6)
    e = math.exp(2 * s * t / tau)
    return s * u0 * e / (s - u0 + u0 * e)


def _learning_time_by_hand(tau: float, s: float, u0: float, uf: float) -> float:
    # t(u0 → uf) = τ/(2s)·ln[uf(s − u0) / (u0(s − uf))], the logistic solution inverted
    return tau / (2 * s) * math.log(uf * (s - u0) / (u0 * (s - uf)))


# -- a replaced law compiles its own formula --------------------------------------------------------------------


def test_replaced_law_evaluates_its_own_solution_not_the_originals():
    """dataclasses.replace(law, solution=...) used to share the original's compile cache and return its formula."""
    vals = {"t": 0.7, "tau": 1.3, "s": 2.0, "u0": 0.05}
    assert LOGISTIC.numeric(**vals) == pytest.approx(_logistic_by_hand(**vals), rel=1e-13)  # fills the cache
    doubled = dataclasses.replace(LOGISTIC, solution=sp.Eq(LOGISTIC.solution.lhs, 2 * LOGISTIC.solution.rhs))
    assert doubled.numeric(**vals) == pytest.approx(2 * _logistic_by_hand(**vals), rel=1e-13)
    assert LOGISTIC.numeric(**vals) == pytest.approx(_logistic_by_hand(**vals), rel=1e-13)  # original untouched


def test_fresh_law_evaluates_a_named_target_with_its_arguments_in_order():
    # four distinct values, so that any mix-up of arguments or of target changes the number
    law = dataclasses.replace(LOGISTIC)
    vals = {"tau": 1.7, "s": 2.5, "u0": 0.03, "uf": 1.1}
    assert law.compiled("learning_time").names == ("s", "tau", "u0", "uf")
    assert law.numeric("learning_time", **vals) == pytest.approx(_learning_time_by_hand(**vals), rel=1e-13)
    assert law.numeric(t=0.4, tau=1.7, s=2.5, u0=0.03) == pytest.approx(_logistic_by_hand(0.4, 1.7, 2.5, 0.03))


def test_fresh_law_numpy_backend_evaluates_arrays_elementwise():
    law = dataclasses.replace(LOGISTIC)
    t = np.array([0.0, 0.5, 1.0, 3.0])
    out = law.numeric(t=t, tau=1.0, s=2.0, u0=0.01)
    assert isinstance(out, np.ndarray) and out.shape == (4,)
    np.testing.assert_allclose(out, [_logistic_by_hand(x, 1.0, 2.0, 0.01) for x in t], rtol=1e-13)


def test_fresh_law_mpmath_backend_returns_mpmath_numbers_at_the_working_precision():
    law = dataclasses.replace(LOGISTIC)
    with mpmath.workdps(40):
        out = law.numeric(backend="mpmath", t=mpmath.mpf(1), tau=mpmath.mpf(1), s=mpmath.mpf(2), u0=mpmath.mpf("0.01"))
        e = mpmath.exp(4)
        exact = 2 * mpmath.mpf("0.01") * e / (2 - mpmath.mpf("0.01") + mpmath.mpf("0.01") * e)
        assert isinstance(out, mpmath.mpf)
        # 40 digits: a float64 evaluation would be off by ~1e-17 relative
        assert abs(out - exact) < mpmath.mpf(10) ** -35


def test_fresh_law_checks_the_symbol_assumptions_and_names_law_and_target():
    law = dataclasses.replace(LOGISTIC)
    with pytest.raises(
        AssumptionError,
        match=r"^law 'logistic_mode', target 'learning_time': u0 = -0\.01 violates the assumption u0 > 0 ",
    ):
        law.numeric("learning_time", tau=1.0, s=2.0, u0=-0.01, uf=1.0)


def test_fresh_law_refuses_a_missing_argument_naming_the_ones_it_takes():
    law = dataclasses.replace(LOGISTIC)
    with pytest.raises(TypeError, match=r"takes \['s', 'tau', 'u0', 'uf'\]; missing \['uf'\], unexpected \[\]"):
        law.numeric("learning_time", tau=1.0, s=2.0, u0=0.01)


# -- hypergeometric targets on the numpy backend ------------------------------------------------------------------


def test_fresh_depth_mode_learning_time_agrees_with_quadrature_of_its_ode():
    """N = 4 uses ₂F₁ (scipy on the numpy backend); t(u0 → uf) = ∫ τ du / (N u^{2−2/N} (s − u)) by quadrature."""
    law = dataclasses.replace(get_law("depth_mode"))
    tau, s, u0, uf = 1.3, 2.0, 0.05, 1.2
    quad = mpmath.quad(lambda u: tau / (4 * u**1.5 * (s - u)), [u0, uf])
    out = law.numeric("time_N4", tau=tau, s=s, u0=u0, uf=uf)
    assert float(out) == pytest.approx(float(quad), rel=1e-12)  # quadrature of a smooth integrand: ~1e-15
    out_mp = law.numeric("time_N4", backend="mpmath", tau=tau, s=s, u0=u0, uf=uf)
    assert float(out_mp) == pytest.approx(float(quad), rel=1e-12)


X = sp.Symbol("x", real=True)
A21, B21 = (sp.Rational(1, 3), sp.Rational(5, 4)), (sp.Rational(7, 3),)
A22, B22 = (sp.Rational(1, 2), sp.Rational(3, 2)), (sp.Rational(5, 2), sp.Rational(1, 4))
A31, B31 = (-2, sp.Rational(1, 2), sp.Rational(3, 2)), (sp.Rational(5, 3),)  # a0 = −2: a quadratic, no divergence


def _pfq_law() -> Law:
    return Law(
        "pfq",
        "generalised hypergeometric functions",
        sp.Eq(sp.Symbol("y"), X),
        {"x": X},
        (),
        "any",
        "DLMF 16.2.1",
        {"x": (-0.9, 0.9)},
        derived={
            "f21": sp.hyper(A21, B21, X),
            "f22": sp.hyper(A22, B22, X),
            "f31": sp.hyper(A31, B31, X),
        },
    )


ZS = np.array([-0.9, -0.35, 0.0, 0.2, 0.75])


def _mp(params) -> list:
    return [mpmath.mpf(p.p) / p.q if isinstance(p, sp.Rational) else mpmath.mpf(p) for p in params]


def test_numpy_backend_2f1_matches_mpmath_hyp2f1_with_distinct_parameters():
    out = _pfq_law().numeric("f21", x=ZS)
    a, b = _mp(A21), _mp(B21)
    expected = [float(mpmath.hyp2f1(a[0], a[1], b[0], z)) for z in ZS]
    np.testing.assert_allclose(out, expected, rtol=1e-13)  # scipy's hyp2f1 on |z| < 1: ~1e-15


def test_numpy_backend_evaluates_pfq_of_other_orders_like_mpmath():
    """SciPy has only ₂F₁; ₂F₂ and a terminating ₃F₁ must still come out right, not as a ₂F₁ of some parameters."""
    law = _pfq_law()
    a, b = _mp(A22), _mp(B22)
    np.testing.assert_allclose(law.numeric("f22", x=ZS), [float(mpmath.hyper(a, b, z)) for z in ZS], rtol=1e-13)
    # ₃F₁(−2, 1/2, 3/2; 5/3; z) = 1 + (−2·½·3/2)/(5/3)·z + (−2·−1·½·3/2·3/2·5/2)/(5/3·8/3·2)·z², by the series
    c1 = (-2 * 0.5 * 1.5) / (5 / 3)
    c2 = (-2 * -1 * 0.5 * 1.5 * 1.5 * 2.5) / (5 / 3 * 8 / 3 * 2)
    np.testing.assert_allclose(law.numeric("f31", x=ZS), 1 + c1 * ZS + c2 * ZS**2, rtol=1e-13)


# -- function_free keeps a function's assumptions -----------------------------------------------------------------


def test_function_free_keeps_the_functions_sign_assumptions():
    t = sp.Symbol("t")
    u = sp.Function("u", positive=True)(t)
    plain = function_free(u)
    assert plain == sp.Symbol("u", positive=True)
    assert plain.is_positive is True and plain.is_negative is False
    # so a law whose solution is u(t) with a positive u checks u > 0 when evaluated
    v = sp.Function("v", negative=True)(t)
    assert function_free(v + u) == sp.Symbol("v", negative=True) + sp.Symbol("u", positive=True)
    assert function_free(sp.Function("w")(t)) == sp.Symbol("w")


# -- the singular-point error -------------------------------------------------------------------------------------


def test_singular_point_in_an_array_names_only_the_scalar_arguments():
    # mpmath numbers in an object array divide elementwise, so a pole inside the array raises ZeroDivisionError
    uf = np.array([mpmath.mpf(1), mpmath.mpf(2)], dtype=object)
    scalars = {"tau": mpmath.mpf(1), "s": mpmath.mpf(2), "u0": mpmath.mpf("0.01")}
    with pytest.raises(
        ValueError,
        match=r"divides by zero at s=mpf\('2\.0'\), tau=mpf\('1\.0'\), u0=mpf\('0\.01'\): the closed form is singular",
    ):
        LOGISTIC.numeric("learning_time", backend="mpmath", uf=uf, **scalars)


def test_singular_point_with_only_arrays_says_the_values_given_and_how_to_proceed():
    args = {n: np.array([mpmath.mpf(v)], dtype=object) for n, v in {"tau": 1, "s": 2, "u0": "0.01", "uf": 2}.items()}
    with pytest.raises(ValueError) as err:
        LOGISTIC.numeric("learning_time", backend="mpmath", **args)
    assert str(err.value) == (
        "law 'logistic_mode', target 'learning_time' divides by zero at the values given: the closed form is singular "
        "there (a pole, e.g. an infinite learning time, or a point where only its limit exists). Evaluate at a nearby "
        "point, or take the limit with sympy.limit on law.targets."
    )
