"""Tests of `discover.ode`: from trajectories to the ODE they obey, to its closed-form solution.

Trajectories are made by `scipy.integrate.solve_ivp` (DOP853, rtol 1e-12) from a right-hand side written here,
or taken from the registered problem ``logistic_mode_solution`` (GD on decoupled modes); the expected solutions
are derived by hand and checked against their ODE symbolically in the tests.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from discover.backends.base import feature_symbols
from discover.ode import OdeResult, local_fit, ode_route, solve_ode, trajectories
from discover.problems import get_problem
from discover.snapping import snap
from verify import equivalent

T, S, U0 = feature_symbols(["t", "s", "u0"])
U = sp.Symbol("u", real=True)
FEATURES = ["t", "s", "u0"]
# The logistic solution of du/dt = 2u(s − u), u(0) = u0 (τ = 1; Saxe et al. 2014, eq. 6).
LOGISTIC = S * U0 * sp.exp(2 * S * T) / (S + U0 * (sp.exp(2 * S * T) - 1))
# du/dt = u(s − u²) is a Bernoulli equation: v = u⁻² obeys v' = −2sv + 2, so v = 1/s + (1/u0² − 1/s)e^{−2st}.
CUBIC = 1 / sp.sqrt(1 / S + (1 / U0**2 - 1 / S) * sp.exp(-2 * S * T))
PAIRS = ((1.0, 0.05), (2.0, 0.1), (1.5, 0.02), (3.0, 0.3), (0.5, 0.2))


def _flow(rhs, pairs, horizon, rows=25):
    """(X, y) with columns t, s, u0 from the flow du/dt = rhs(u, s), each run to horizon(s, u0)."""
    table = []
    for s, u0 in pairs:
        times = np.linspace(0.0, horizon(s, u0), rows)
        solution = solve_ivp(
            lambda t, u, s=s: rhs(u, s), (0.0, times[-1]), [u0], t_eval=times, method="DOP853", rtol=1e-12, atol=1e-14
        )
        table += [(t, s, u0, u) for t, u in zip(times, solution.y[0], strict=True)]
    table = np.array(table)
    return table[:, :3], table[:, 3]


def _box(X):
    return {name: (float(X[:, k].min()), float(X[:, k].max())) for k, name in enumerate(FEATURES)}


def _terms(rhs):
    return {term for _, term in (a.as_coeff_Mul() for a in sp.Add.make_args(rhs))}


def test_expected_solutions_solve_their_odes():
    """The hand-derived references used below: each solves its ODE and starts at u0."""
    positive = {S: sp.Symbol("s", positive=True), U0: sp.Symbol("u0", positive=True)}  # the law's domain
    for solution, rhs in ((LOGISTIC, 2 * U * (S - U)), (CUBIC, U * (S - U**2))):
        assert sp.simplify(solution.diff(T) - rhs.subs(U, solution)) == 0
        assert sp.simplify((solution.subs(T, 0) - U0).xreplace(positive)) == 0


# -- local fit ---------------------------------------------------------------------------------------------------


def test_local_fit_is_exact_for_a_cubic_on_an_irregular_grid():
    times = np.sort(np.random.default_rng(0).uniform(0.0, 2.0, 12))
    cubic = 2.0 - times + 3 * times**2 - times**3
    for at in (times[0], times[5], times[-1], 0.0, 2.5):  # ends, middle, and extrapolation on both sides
        value, slope = local_fit(times, cubic, float(at))
        assert value == pytest.approx(2.0 - at + 3 * at**2 - at**3, abs=1e-10)
        assert slope == pytest.approx(-1.0 + 6 * at - 3 * at**2, abs=1e-9)


def test_local_fit_derivative_converges_at_third_order():
    """Halving the spacing of a jittered grid divides the worst derivative error (at the ends) by ≈ 2³; a quadratic
    fit would give 2², a finite difference 2."""
    jitter = np.random.default_rng(1).uniform(-0.3, 0.3, 161)
    errors = []
    for n in (41, 81):
        h = 1.0 / (n - 1)
        times = np.sort(np.arange(n) * h + jitter[:n] * h)
        slopes = np.array([local_fit(times, np.sin(3 * times), float(t))[1] for t in times])
        errors.append(np.max(np.abs(slopes - 3 * np.cos(3 * times))))
    assert np.log2(errors[0] / errors[1]) > 2.7


# -- trajectories and input checks -------------------------------------------------------------------------------


def test_trajectories_group_by_constants_and_sort_by_time():
    X = np.array([[0.3, 2.0], [0.1, 1.0], [0.2, 2.0], [0.0, 1.0], [0.1, 2.0]])
    assert [rows.tolist() for rows in trajectories(X, ["t", "s"], "t")] == [[3, 1], [4, 2, 0]]


def test_time_must_be_a_feature():
    X, y = _flow(lambda u, s: -s * u, PAIRS[:2], lambda s, u0: 1.0, rows=6)
    with pytest.raises(ValueError, match=r"time column 'time' is not among the features.*time=<"):
        ode_route(X, y, FEATURES, "time")


def test_repeated_times_in_a_trajectory_are_refused():
    X, y = _flow(lambda u, s: -s * u, PAIRS[:2], lambda s, u0: 1.0, rows=6)
    X, y = np.vstack([X, X[:1]]), np.append(y, y[0] * 1.01)
    with pytest.raises(ValueError, match=r"share the time t = 0.0.*tells the runs apart"):
        trajectories(X, FEATURES, "t")


def test_a_feature_varying_along_trajectories_is_named():
    X, y = _flow(lambda u, s: -s * u, PAIRS, lambda s, u0: 1.0, rows=10)
    X = np.column_stack([X, y**2])  # a state variable passed as if it were a constant of the run
    with pytest.raises(ValueError, match=r"found 0 among 50; feature\(s\) v \(50 distinct values\) vary along"):
        ode_route(X, y, [*FEATURES, "v"], "t")


def test_too_few_long_trajectories_are_refused():
    X, y = _flow(lambda u, s: -s * u, PAIRS[:2], lambda s, u0: 1.0, rows=4)
    with pytest.raises(ValueError, match=r"at least 2 trajectories with ≥ 5 rows.*found 0 among 2; record more times"):
        ode_route(X, y, FEATURES, "t")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": -1}, "seed must be an integer ≥ 0"),
        ({"max_supports": 0}, "max_supports must be a positive integer"),
        ({"dsolve_timeout": 0.0}, "dsolve_timeout must be a positive number"),
        ({"stop_loss": -1.0}, "stop_loss must be a number ≥ 0"),
        ({"target": "s"}, "target must be the name of the state column"),
    ],
)
def test_bad_arguments_are_refused(options, message):
    X, y = _flow(lambda u, s: -s * u, PAIRS[:2], lambda s, u0: 1.0, rows=6)
    with pytest.raises(ValueError, match=message):
        ode_route(X, y, FEATURES, "t", **options)


def test_bad_tables_are_refused():
    X, y = _flow(lambda u, s: -s * u, PAIRS[:2], lambda s, u0: 1.0, rows=6)
    with pytest.raises(ValueError, match=r"X must have shape \(rows, 3\) matching y of length 11"):
        ode_route(X, y[:-1], FEATURES, "t")
    y = y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="must be finite"):
        ode_route(X, y, FEATURES, "t")


# -- dsolve in a child process ------------------------------------------------------------------------------------


def test_solve_ode_times_out_as_a_note():
    c0, c1, c2 = sp.symbols("c0 c1 c2", real=True)
    started = time.perf_counter()
    solutions, notes = solve_ode(c0 * U + c1 * U**2 + c2 * U**3, U, T, U0, timeout=0.05)
    assert solutions == []
    assert notes == ["dsolve timed out after 0.05 s for du/dt = c0*u + c1*u**2 + c2*u**3"]
    assert time.perf_counter() - started < 5  # the child was killed, not waited for


def test_solve_ode_piecewise_takes_the_generic_branch():
    """u' = c·s·u + 1 with symbolic c: dsolve's linear method splits off c·s = 0 (u = u0 + t), a measure-zero case."""
    c = sp.Symbol("c0", real=True)
    solutions, notes = solve_ode(c * S * U + 1, U, T, U0, timeout=30)
    assert len(solutions) == 1 and not solutions[0].has(sp.Piecewise)
    expected = (U0 + 1 / (c * S)) * sp.exp(c * S * T) - 1 / (c * S)
    assert sp.simplify(solutions[0] - expected) == 0
    assert notes == ["Piecewise general solution: took the generic branch (kept the case Ne(c0*s, 0), dropped True)"]


def test_generic_branch_is_chosen_by_its_condition_not_its_position():
    from discover.ode import _generic_branch

    c = sp.Symbol("c0", real=True)
    generic, special = sp.exp(c * T) / c, T
    assert _generic_branch(sp.Piecewise((special, sp.Eq(c, 0)), (generic, True)))[0] == generic
    assert _generic_branch(sp.Piecewise((generic, sp.Ne(c, 0)), (special, True)))[0] == generic


def test_ode_route_with_a_tiny_timeout_reports_the_rhs_but_no_solution():
    X, y = _flow(lambda u, s: 2 * u * (s - u), PAIRS, lambda s, u0: 2 * np.log(s / u0) / s)
    result = ode_route(X, y, FEATURES, "t", max_supports=2, dsolve_timeout=0.01)
    assert result.candidates == () and result.best is None
    assert _terms(result.rhs[0]) == {S * U, U**2}
    assert sum("timed out after 0.01 s" in note for note in result.notes) == 2


# -- the logistic law ----------------------------------------------------------------------------------------------


def test_logistic_flow_gives_the_logistic_solution():
    X, y = _flow(lambda u, s: 2 * u * (s - u), PAIRS, lambda s, u0: 2 * np.log(s / u0) / s)
    result = ode_route(X, y, FEATURES, "t")
    best = result.best
    assert best.initial == "u0"
    assert _terms(best.rhs) == {S * U, U**2}
    law = snap(best.solution, X, y, FEATURES)
    assert equivalent(law, LOGISTIC, domain=_box(X), simplify_timeout=0).level == "exact"
    assert not law.atoms(sp.Float)


def test_same_data_same_result():
    X, y = _flow(lambda u, s: -s * u, PAIRS[:3], lambda s, u0: 1.0, rows=8)
    first, second = ode_route(X, y, FEATURES, "t"), ode_route(X, y, FEATURES, "t")
    assert first == second
    assert isinstance(first, OdeResult) and _terms(first.best.rhs) == {S * U}
    assert float(first.best.rhs.coeff(S * U)) == pytest.approx(-1.0, rel=1e-9)


def _logistic_problem(seed, **options):
    problem = get_problem("logistic_mode_solution")
    frame = problem.data(seed)
    X, y = frame[list(problem.features)].to_numpy(), frame[problem.target].to_numpy()
    started = time.perf_counter()
    result = ode_route(X, y, list(problem.features), "t", seed=seed, **options)
    seconds = time.perf_counter() - started
    if result.best is None:
        return False, seconds
    law = snap(result.best.solution, X, y, list(problem.features))
    verdict = equivalent(law, problem.reference, domain=problem.domain(seed), seed=seed, simplify_timeout=0)
    return verdict.level in ("exact", "up_to_constants"), seconds


def test_logistic_mode_solution_seed0():
    """The registered problem (GD data, 23 modes, irregularly subsampled): the ODE route finds the law (≈ 3 s with
    the simulation, 2 s of it the route)."""
    found, _ = _logistic_problem(0)
    assert found


@pytest.mark.slow
def test_logistic_mode_solution_nine_of_ten_seeds():
    """Issue 10's goal for this route: exact in ≥ 9 of seeds 0–9 (measured: 10 of 10)."""
    found = [_logistic_problem(seed)[0] for seed in range(10)]
    assert sum(found) >= 9, found


# -- a wrong model, and a law SymPy cannot solve explicitly ---------------------------------------------------------


def test_cubic_flow_is_not_taken_for_the_logistic_law():
    """du/dt = u(s − u²) must give its own (Bernoulli) solution, not the logistic one."""
    X, y = _flow(lambda u, s: u * (s - u**2), PAIRS, lambda s, u0: np.log(s / u0**2) / s)
    result = ode_route(X, y, FEATURES, "t")
    assert _terms(result.best.rhs) == {S * U, U**3}
    law = snap(result.best.solution, X, y, FEATURES)
    assert equivalent(law, CUBIC, domain=_box(X), simplify_timeout=0).level == "exact"
    assert equivalent(law, LOGISTIC, domain=_box(X), simplify_timeout=0).level == "none"


def test_depth3_rhs_is_found_and_its_solution_is_not_explicit():
    """τ du/dt = 3u^{4/3}(s − u) (`theory.modes.depth_mode`, N = 3, τ = 1): the fractional library finds the right-
    hand side; SymPy 1.14 has no explicit u(t) for it (with numeric coefficients dsolve returns t(u) implicitly
    after ≈ 35 s, LAWS.md §1.3; with symbolic ones it fails inside `integrate` after ≈ 18 s), so within a short
    timeout the route reports the right-hand side and a note, and offers no wrong closed form."""
    X, y = _flow(lambda u, s: 3 * u ** (4 / 3) * (s - u), PAIRS[:4], lambda s, u0: 3 * u0 ** (-1 / 3) / s, rows=30)
    result = ode_route(X, y, FEATURES, "t", max_supports=1, dsolve_timeout=3.0)
    coefficients = {term: float(c) for c, term in (a.as_coeff_Mul() for a in sp.Add.make_args(result.rhs[0]))}
    power = sp.Rational(4, 3)
    assert set(coefficients) == {S * U**power, U ** (power + 1)}
    # derivative error of the local cubic on 30 rows per run: ~1e-4 relative, measured 2e-5
    assert coefficients[S * U**power] == pytest.approx(3.0, rel=1e-3)
    assert coefficients[U ** (power + 1)] == pytest.approx(-3.0, rel=1e-3)
    if result.candidates:  # should a later SymPy solve it, the solution must fit the flow
        assert result.best.loss < 1e-10 * float(np.mean(y**2))
    else:
        assert any(("timed out" in n or "implicit" in n or "failed" in n) and "u**(4/3)" in n for n in result.notes)


def test_a_column_that_is_not_the_initial_condition_is_not_used_as_one():
    """With u0 replaced by 2·u0 no column matches u(0): the route says so, tries each constant and a fitted one,
    and nothing it offers fits the data."""
    X, y = _flow(lambda u, s: 2 * u * (s - u), PAIRS, lambda s, u0: 2 * np.log(s / u0) / s)
    X = X.copy()
    X[:, 2] *= 2
    result = ode_route(X, y, FEATURES, "t", max_supports=1, dsolve_timeout=5.0)
    assert any(note.startswith("no feature matches u at t = 0") for note in result.notes)
    assert all(c.loss > 1e-6 * float(np.mean(y**2)) for c in result.candidates)


def test_a_solution_not_finite_at_its_fitted_constants_is_dropped():
    """Step 5's rule: the constant fit cannot make √(−1 − c0²) real, so the candidate is refused (None)."""
    from discover.ode import _fit_constants

    c0 = sp.Symbol("c0", real=True)
    X, y = _flow(lambda u, s: -s * u, PAIRS[:2], lambda s, u0: 1.0, rows=6)
    assert _fit_constants(sp.sqrt(-1 - c0**2) * T, [c0], [0.5], X, y, FEATURES) is None
    fitted = _fit_constants(sp.sqrt(1 + c0**2) * U0 * sp.exp(-S * T), [c0], [0.5], X, y, FEATURES)
    assert abs(fitted[0]) < 1e-4  # the same fit where the expression is real: √(1 + c0²) → 1


def test_slopes_of_a_positive_state_follow_exponential_growth_exactly():
    """Step 2 fits ln u where u > 0: for u = e^{3t} on a coarse grid (3h = 0.9) the derivative is exact, where a
    cubic in u itself is off by several per cent."""
    from discover.ode import _slopes

    times = np.array([0.0, 0.3, 0.5, 0.9, 1.2, 1.5, 1.6, 2.0])
    u = np.exp(3 * times)
    np.testing.assert_allclose(_slopes(times, u, True), 3 * u, rtol=1e-10)
    assert np.max(np.abs(_slopes(times, u, False) / (3 * u) - 1)) > 0.01


def test_real_forms_take_the_log_out_of_the_exponent():
    """dsolve's logistic solution with u(0) applied by dsolve itself carries exp(c0·s·(t + log(b)/(c0·s))) with
    b = c1·u0/(c0·s + c1·u0) < 0 at c0 = 2, c1 = −2: not real as written, real (and the logistic law) once
    exp(a + log b) = b·exp(a)."""
    from discover.ode import _real_forms
    from discover.snapping import evaluate

    c0, c1 = sp.symbols("c0 c1", real=True)
    exponent = c0 * S * (T + sp.log(c1 * U0 / (c0 * S + c1 * U0)) / (c0 * S))
    dsolved = c0 * S * sp.exp(exponent) / (c1 * (1 - sp.exp(exponent)))
    columns = {"t": np.linspace(0.0, 2.0, 5), "s": np.full(5, 1.5), "u0": np.full(5, 0.1), "c0": 2.0, "c1": -2.0}
    with np.errstate(invalid="ignore"):
        assert np.all(np.isnan(evaluate(dsolved, columns)))
    expected = evaluate(LOGISTIC, columns)
    np.testing.assert_allclose(evaluate(_real_forms(dsolved)[0], columns), expected, rtol=1e-12)
