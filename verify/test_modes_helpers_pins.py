"""The mode checks' helpers and what their verdicts report when a law is wrong in one place only.

The planted faults of `verify/test_must_fail.py` scale a whole closed form, so every identity of a check fails at
once. A wrong law is not always so kind: these tests plant a formula that is wrong in one claim only (a wrong
initial value, a wrong limit, a wrong t(u) at one depth) and check that the verdict fails, that the summary names
that claim and no other, and that the evidence's worst residual is the one a user gets from `verify.equivalent` at
the check's seed (the points come from the seed alone: DESIGN.md, randomness only through an explicit seed).
"""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from theory import get_law
from theory.modes import depth_mode_solution, depth_mode_time
from verify.equivalence import equivalent
from verify.numbers import error_text
from verify.suite import IDENTITY_POINTS, Fault, modes, run_check
from verify.suite.modes import _growth_draw, _slope_draw, gd_error_constant, time_formula_verdict
from verify.test_modes import measured_gd_error_constant

logistic = get_law("logistic_mode")
depth = get_law("depth_mode")
L = logistic.symbols
D = depth.symbols


def _at_seed(lhs, rhs, domain, seed: int = 0):
    """`verify.equivalent` as a user would call it to reproduce one identity of a check at its seed."""
    return equivalent(lhs, rhs, domain=domain, n_points=IDENTITY_POINTS, seed=seed, simplify_timeout=0)


@pytest.fixture
def no_sympy(monkeypatch):
    """SymPy's opinion never decides a verdict (modes.py, SIMPLIFY_TIMEOUT) and on a wrong formula it only waits
    out its time limit: the planted-law tests below read the 60-digit verdicts alone."""
    monkeypatch.setattr(modes, "SIMPLIFY_TIMEOUT", 0)


def _plant_logistic(monkeypatch, *, solution=None, rhs=None, **derived):
    """The checks read their laws through `get_law`: give them a logistic law with some closed forms replaced."""
    law = dataclasses.replace(
        logistic,
        equation=logistic.equation if rhs is None else sp.Eq(logistic.equation.lhs, rhs),
        solution=logistic.solution if solution is None else sp.Eq(logistic.solution.lhs, solution),
        derived={**logistic.derived, **derived},
    )
    monkeypatch.setattr(modes, "get_law", lambda name: law if name == "logistic_mode" else get_law(name))
    return law


# -- the samplers: the identities are decided where the closed forms are defined, over the whole growth ------------


def test_growth_draw_spans_the_law_domain_and_the_whole_growth_from_u0_to_nearly_s():
    n = 20_000
    draw = _growth_draw(np.random.default_rng(0), n)
    assert set(draw) == {"s", "tau", "u0", "uf"}
    assert all(np.shape(v) == (n,) for v in draw.values())
    # s and τ cover the logistic law's declared domain end to end (the docstring: "on the law's ranges")
    for name in ("s", "tau"):
        lo, hi = logistic.domain[name]
        v = draw[name]
        assert lo <= v.min() < lo + 0.01 * (hi - lo) and hi - 0.01 * (hi - lo) < v.max() <= hi, name
    s, u0, uf = draw["s"], draw["u0"], draw["uf"]
    # t(u0 → uf) is finite and positive only for 0 < u0 < uf < s
    assert np.all((0 < u0) & (u0 < uf) & (uf < s))
    # each point draws its own fractions of s: from an early start (u0 ≈ 0.001 s) to nearly s/2, and a target from
    # s/2 to nearly learned (0.99 s), so the identity is tried on the slow start, the sigmoid and the saturation
    a, b = u0 / s, uf / s
    assert a.min() < 0.002 and a.max() > 0.44 and b.min() < 0.51 and b.max() > 0.98
    assert np.corrcoef(a, s)[0, 1] ** 2 < 1e-3 and np.corrcoef(b, s)[0, 1] ** 2 < 1e-3


def test_slope_draw_keeps_u0_below_every_target_where_t_of_u_is_finite():
    n = 20_000
    draw = _slope_draw(np.random.default_rng(0), n)
    assert set(draw) == {"s", "tau", "u0", "uf"}
    assert all(np.shape(v) == (n,) for v in draw.values())
    s, u0, uf = draw["s"], draw["u0"], draw["uf"]
    # time_formula_verdict's docstring: 0 < uf < s ≤ 3; the sampler's s ∈ [0.5, 3] reaches both ends
    assert 0.5 <= s.min() < 0.52 and 2.98 < s.max() <= 3.0
    lo, hi = depth.domain["tau"]
    assert lo <= draw["tau"].min() < lo + 0.02 and hi - 0.02 < draw["tau"].max() <= hi
    # u0 = 0.04 s stays below every target uf ∈ [0.05 s, 0.95 s]
    np.testing.assert_array_equal(u0, 0.04 * s)
    assert np.all((0 < u0) & (u0 < uf) & (uf < s))
    b = uf / s
    assert 0.05 <= b.min() < 0.051 and 0.949 < b.max() <= 0.95
    assert np.corrcoef(b, s)[0, 1] ** 2 < 1e-3


# -- the derived GD error constant, against GD itself ---------------------------------------------------------------


def test_gd_error_constant_over_a_horizon_that_ends_during_the_growth():
    """At N = 2, s = 2, u0 = 0.05 the mode grows around t ≈ ln(s/u0)/(2s) = 0.92: over [0, 0.5] the error is
    still rising, so the constant is the error at the horizon (0.104 measured, half the full-run 0.217)."""
    measured = measured_gd_error_constant(2, 2.0, 0.05, 0.5)
    # the O(η²) remainder at η = 1e-3 is relative O(η·s) = 0.2%: 1% leaves a margin
    assert gd_error_constant(2, 2.0, 0.05, 0.5) == pytest.approx(measured, rel=1e-2)
    assert measured == pytest.approx(0.104, abs=1e-3)


def test_gd_error_constant_from_a_tiny_initialisation():
    """u0 = 1e-10: the error constant grows like ln(s/u0) (2.706 here, against 0.745 at u0 = 1e-3, s = 3), and the
    integration must resolve u at 1e-10 from the start, far under any fixed absolute tolerance of order 1e-6."""
    measured = measured_gd_error_constant(2, 2.0, 1e-10, 8.0)
    # the recursion and the integration agree to 6e-5 here; a 1.8% error (u0 lost in the integrator's absolute
    # tolerance) is 36 times the 5e-4 allowed
    assert gd_error_constant(2, 2.0, 1e-10, 8.0) == pytest.approx(measured, rel=5e-4)


# -- the GD verdict needs both the agreement and the ±10% band ------------------------------------------------------


def test_logistic_gd_too_accurate_for_its_derived_constant_fails_though_it_agrees():
    """A GD stepping η·(1 + 4e-4) runs ahead of the flow by ≈ 6·4e-4 = 2.4e-3 and cancels part of its own error:
    at the finest η its constant falls to 0.641, under the band's lower edge 0.9·0.745 = 0.671, while its errors
    stay under the one-sided tolerance 1.1·c·η·s² and still halve with η (order 1.083, within 1 ± 0.15)."""
    faulted = run_check("logistic_mode", "gd_agreement", 0, Fault("rate", 4e-4))
    assert faulted.evidence["agreement"].passed, "the agreement alone was expected to pass here"
    assert not faulted.passed, faulted.summary
    assert "err/(η s²) = 0.719, 0.693, 0.641 (derived 0.745 ± 10%)" in faulted.summary


# -- planted wrong laws: the symbolic checks name the claim that fails and report its residual at their seed --------


def test_logistic_symbolic_names_a_wrong_initial_value_and_reports_its_residual(monkeypatch, no_sympy):
    # the logistic solution from u0·(1 + 1e-6·u0/0.1): it solves the ODE and tends to s, but misses u(0) = u0 by a
    # relative 1e-6·u0/0.1, which depends on the point (u0 ∈ [1e-4, 0.1]) and is ≥ 1e-9, far above 1e-15
    u0 = L["u0"]
    wrong = logistic.targets["solution"].subs(u0, u0 * (1 + 1e-5 * u0))
    _plant_logistic(monkeypatch, solution=wrong)
    check = run_check("logistic_mode", "solution_satisfies_ode")
    assert not check.passed
    box = {k: logistic.domain[k] for k in ("t", "tau", "s", "u0")}
    at0 = _at_seed(wrong.subs(L["t"], 0), u0, box)
    assert at0.level != "exact" and 1e-9 < at0.max_error < 1.1e-6
    assert check.summary.startswith("ODE residual: exact (max rel residual ")
    assert check.summary.endswith(f"u(0) = u0: {at0.level}; u(50τ/s) = s: exact")
    # the worst of the three residuals is this one, at the points of seed 0
    assert check.evidence["max_rel_residual"] == at0.max_error


def test_logistic_symbolic_names_a_wrong_limit_and_reports_its_residual(monkeypatch, no_sympy):
    # a logistic law whose ODE and solution both saturate at s·(1 + 1e-6·s): u(t) solves that ODE from u0, but
    # u(50τ/s) misses s by a relative 1e-6·s/(1 + 1e-6·s), from 2e-7 to 4e-6 over s ∈ [0.2, 4]
    s = L["s"]
    wrong_s = s * (1 + 1e-6 * s)
    _plant_logistic(
        monkeypatch,
        solution=logistic.targets["solution"].subs(s, wrong_s),
        rhs=logistic.equation.rhs.subs(s, wrong_s),
    )
    check = run_check("logistic_mode", "solution_satisfies_ode")
    assert not check.passed
    box = {k: logistic.domain[k] for k in ("t", "tau", "s", "u0")}
    t_late = 50 * L["tau"] / s
    at_inf = _at_seed(logistic.targets["solution"].subs(s, wrong_s).subs(L["t"], t_late), s, box)
    assert at_inf.level != "exact" and 1e-7 < at_inf.max_error < 5e-6
    assert check.summary.startswith("ODE residual: exact (max rel residual ")
    assert check.summary.endswith(f"u(0) = u0: exact; u(50τ/s) = s: {at_inf.level}")
    assert check.evidence["max_rel_residual"] == at_inf.max_error


def test_learning_time_names_a_wrong_time_to_uf_with_its_residual_at_the_seed(monkeypatch, no_sympy):
    # T(u0 → uf) off by a relative 1e-9·(uf/0.99s)^100: u(T) misses uf by ≈ 1e-9·(uf/0.99s)^100·T·u'(T)/uf, which
    # is largest at the points nearest to uf = 0.99 s and changes with every draw; at uf = s/2 it is ~1e-39, so
    # T(s/2) = t_half still holds
    T, uf, s = logistic.derived["learning_time"], L["uf"], L["s"]
    wrong = T * (1 + 1e-9 * (uf / (sp.Rational(99, 100) * s)) ** 100)
    _plant_logistic(monkeypatch, learning_time=wrong)
    check = run_check("logistic_mode", "learning_time_inverts_solution")
    assert not check.passed
    inverse = _at_seed(logistic.targets["solution"].subs(L["t"], wrong), uf, _growth_draw)
    assert inverse.level != "exact"
    assert check.summary == (
        f"u(T) = uf: {inverse.level} (max rel residual {error_text(inverse.max_error, floor=1e-30)}); "
        "T(s/2) = t_half: exact (max rel residual < 1e-30)"
    )


def test_learning_time_names_a_wrong_half_time_with_its_residual_at_the_seed(monkeypatch, no_sympy):
    # t_half off by a relative 1e-9·(u0/0.45s)^100: largest at the points nearest to u0 = 0.45 s, changing with
    # every draw; T(u0 → uf) itself is the law's, so u(T) = uf holds
    u0, s = L["u0"], L["s"]
    wrong = logistic.derived["half_time"] * (1 + 1e-9 * (u0 / (sp.Rational(45, 100) * s)) ** 100)
    _plant_logistic(monkeypatch, half_time=wrong)
    check = run_check("logistic_mode", "learning_time_inverts_solution")
    assert not check.passed
    half = _at_seed(logistic.derived["learning_time"].subs(L["uf"], s / 2), wrong, _growth_draw)
    assert half.level != "exact"
    assert check.summary == (
        "u(T) = uf: exact (max rel residual < 1e-30); "
        f"T(s/2) = t_half: {half.level} (max rel residual {error_text(half.max_error, floor=1e-30)})"
    )


def test_depth_symbolic_names_a_wrong_time_formula_at_one_depth(monkeypatch, no_sympy):
    # t(u) for N = 5 plus 1e-9·uf²: dt/du is off by 2e-9·uf, a relative 2e-9·uf·rhs(uf) that varies over the points
    wrong5 = depth_mode_time(5) + sp.Rational(1, 10**9) * D["uf"] ** 2
    monkeypatch.setattr(modes, "depth_mode_time", lambda n: wrong5 if n == 5 else depth_mode_time(n))
    check = run_check("depth_mode", "time_formula_matches_ode")
    assert not check.passed
    verdict = time_formula_verdict(wrong5, depth.targets["rhs"].subs(D["N"], 5), seed=0)
    assert verdict.level != "exact"
    assert check.summary == (
        f"dt/du = 1/rhs for N=1..6: 1: exact, 2: exact, 3: exact, 4: exact, 5: {verdict.level}, 6: exact "
        f"(max rel residual {error_text(verdict.max_error, floor=1e-30)}, tol 1e-15); "
        "N=2 is logistic: exact; u(t) solves the ODE for N=1,2: exact, exact"
    )
    assert check.evidence["max_rel_residual"] == verdict.max_error


def test_depth_symbolic_names_a_wrong_solution_at_depth_1(monkeypatch, no_sympy):
    # u(t) for N = 1 scaled by 1 + 1e-9: du/dt = (s − u)/τ is then missed by a relative 1e-9·u/(s − u) that
    # varies over the points; N = 2's u(t) is the law's
    wrong1 = depth_mode_solution(1) * (1 + sp.Rational(1, 10**9))
    monkeypatch.setattr(modes, "depth_mode_solution", lambda n: wrong1 if n == 1 else depth_mode_solution(n))
    check = run_check("depth_mode", "time_formula_matches_ode")
    assert not check.passed
    box = {k: depth.domain[k] for k in ("t", "tau", "s", "u0")}
    rhs1 = depth.targets["rhs"].subs({D["N"]: 1, D["u"]: wrong1})
    sol1 = _at_seed(wrong1.diff(D["t"]), rhs1, box)
    assert sol1.level != "exact"
    assert check.summary.endswith(f"N=2 is logistic: exact; u(t) solves the ODE for N=1,2: {sol1.level}, exact")
    assert check.evidence["max_rel_residual"] == sol1.max_error


def test_depth_symbolic_names_a_depth_2_law_that_is_not_the_logistic_one(monkeypatch, no_sympy):
    # a logistic law whose rate is off by a relative 1e-9·u: the depth-N law at N = 2 is then not it, by a residual
    # that varies over the points (u ∈ [0.01, 3])
    u = L["u"]
    _plant_logistic(monkeypatch, rhs=logistic.equation.rhs * (1 + sp.Rational(1, 10**9) * sp.Function("u")(L["t"])))
    check = run_check("depth_mode", "time_formula_matches_ode")
    assert not check.passed
    box = {k: depth.domain[k] for k in ("u", "s", "tau")}
    same = _at_seed(depth.targets["rhs"].subs(D["N"], 2), logistic.targets["rhs"] * (1 + u / 10**9), box)
    assert same.level != "exact"
    assert check.summary.endswith(f"N=2 is logistic: {same.level}; u(t) solves the ODE for N=1,2: exact, exact")
    assert check.evidence["max_rel_residual"] == same.max_error


# -- the inversion of the depth law's t(u) ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("u0", [0.01, 0.02, 0.3])
def test_depth_inversion_starts_exactly_at_u0_and_grows_towards_s(n, u0):
    """u(0) = u0 exactly (the bisection alone would stop one ulp above these u0: its bracket [u0, u0 + ulp] has a
    midpoint that rounds up), u(t) grows with t, and it reaches s (to float64 resolution) only at long times."""
    s = 2.0
    t = np.array([0.0, 0.5, 1.0, 2.0, 6.0, 1e3, np.inf])
    u = modes._depth_u_of_t(n, s, u0, t)
    assert u[0] == u0
    assert np.all(np.diff(u) >= 0) and np.all((u0 < u[1:]) & (u[1:] <= s))
    # float64's t(u) is already +inf a few ulps below s (N = 3: s^{1/3} − u^{1/3} rounds to 0)
    np.testing.assert_allclose(u[-2:], s, rtol=1e-12)


def test_time_formula_verdict_draws_its_points_from_the_seed_and_skips_sympy_by_default():
    # a t(u) for N = 3 off by 1e-9·uf²: its residual 2e-9·uf·rhs(uf) depends on the points drawn
    rhs3 = depth.targets["rhs"].subs(D["N"], 3)
    wrong = depth_mode_time(3) + sp.Rational(1, 10**9) * D["uf"] ** 2
    default = time_formula_verdict(wrong, rhs3)
    # no SymPy opinion unless asked: on a wrong formula it can hang for more than 30 minutes (issue 9)
    assert default.simplify == "not asked"
    # seed 0 by default, like every check: the points `verify.equivalent` draws from _slope_draw at seed 0
    at0 = _at_seed(wrong.diff(D["uf"]), 1 / rhs3.subs(D["u"], D["uf"]), _slope_draw, seed=0)
    assert at0.level != "exact"
    assert default.max_error == at0.max_error
    assert time_formula_verdict(wrong, rhs3, seed=1).max_error != at0.max_error
