"""law.numeric applies the machine checks of the law's symbol assumptions before evaluating (issue 8, item 4)."""

import mpmath
import numpy as np
import pytest

from theory import LAWS, AssumptionError, get_law

LOGISTIC = get_law("logistic_mode")
OK = {"t": 1.0, "tau": 1.0, "s": 2.0, "u0": 0.01}


@pytest.mark.parametrize(
    ("name", "bad", "condition"),
    [("tau", -1.0, "tau > 0"), ("tau", 0, "tau > 0"), ("s", -3.0, "s > 0"), ("u0", 0.0, "u0 > 0")],
)
def test_scalar_outside_assumptions_is_refused(name, bad, condition):
    with pytest.raises(AssumptionError, match=rf"{name} = {bad!r} violates the assumption {condition}.*positive=True"):
        LOGISTIC.numeric(**{**OK, name: bad})


def test_tau_zero_never_reaches_generated_code():
    # before: a bare ZeroDivisionError from the lambdified code; the mpmath backend is checked the same way
    with pytest.raises(AssumptionError, match="tau"):
        LOGISTIC.numeric(**{**OK, "tau": 0.0})
    with pytest.raises(AssumptionError, match="tau"):
        LOGISTIC.numeric(backend="mpmath", **{k: mpmath.mpf(v) for k, v in {**OK, "tau": 0}.items()})


def test_any_violating_array_entry_is_refused_and_nan_decides_nothing():
    s = np.array([1.0, 2.0, -3.0, 4.0])
    with pytest.raises(AssumptionError, match=r"s = -3\.0 \(an entry of the array given\)"):
        LOGISTIC.numeric(**{**OK, "s": s})
    out = LOGISTIC.numeric(**{**OK, "t": np.array([0.0, np.nan])})
    assert out[0] == 0.01 and np.isnan(out[1])


def test_nonnegative_symbol_allows_zero_refuses_negative_and_complex_is_not_real():
    assert LOGISTIC.numeric(**{**OK, "t": 0.0}) == pytest.approx(0.01, rel=1e-15)
    with pytest.raises(AssumptionError, match=r"t = -0\.5 violates the assumption t ≥ 0"):
        LOGISTIC.numeric(**{**OK, "t": -0.5})
    with pytest.raises(AssumptionError, match="u0 is real"):
        LOGISTIC.numeric(**{**OK, "u0": 0.01 + 1j})


def test_integer_symbol_refuses_fractions():
    depth = get_law("depth_mode")
    names = depth.arguments("rhs")
    vals = {n: 0.5 * (depth.domain[n][0] + depth.domain[n][1]) for n in names if n in depth.domain}
    with pytest.raises(AssumptionError, match=r"N = 2\.5 violates the assumption N is an integer"):
        depth.numeric("rhs", **{**vals, "N": 2.5})


def test_singular_point_inside_assumptions_gives_a_clear_error():
    # learning time to reach uf = s is infinite: the closed form divides by s − uf = 0
    with pytest.raises(ValueError, match=r"divides by zero at .*uf=2\.0"):
        LOGISTIC.numeric("learning_time", tau=1.0, s=2.0, u0=0.01, uf=2.0)


def test_every_law_evaluates_at_its_domain_midpoint():
    """The checks never refuse values inside a law's declared sampling domain (scalar targets only)."""
    evaluated = []
    for law in LAWS.values():
        for target in law.targets:
            names = law.arguments(target)
            if all(n in law.domain for n in names):
                vals = {n: 0.5 * (law.domain[n][0] + law.domain[n][1]) for n in names}
                vals = {n: float(np.ceil(v)) if law.symbols[n].is_integer else v for n, v in vals.items()}
                value = law.numeric(target, **vals)  # must not raise AssumptionError
                assert np.all(np.isfinite(np.asarray(value, dtype=float))), (law.name, target, value)
                evaluated.append((law.name, target))
    assert len(evaluated) >= 10, evaluated  # the loop really ran over the catalogue's scalar targets


def test_compiled_stays_the_raw_formula_for_numerical_differentiation():
    """mpmath.diff at t = 0 evaluates the formula at t = −h; compiled() allows that, numeric() refuses it."""
    f = LOGISTIC.compiled("solution", "mpmath")
    args = {"tau": mpmath.mpf(1), "s": mpmath.mpf(2), "u0": mpmath.mpf("0.5")}
    with mpmath.workdps(30):
        du = mpmath.diff(lambda x: f(t=x, **args), mpmath.mpf(0))
    assert abs(du - 2 * 0.5 * (2 - 0.5)) < 1e-20  # logistic rhs 2u(s − u) at u = u0, τ = 1
    with pytest.raises(AssumptionError, match="t ≥ 0"):
        LOGISTIC.numeric(backend="mpmath", t=mpmath.mpf("-1e-30"), **args)
