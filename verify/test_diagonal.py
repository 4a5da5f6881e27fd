"""diagonal_implicit_bias: GD on u⊙u − v⊙v from α converges to argmin_{Xw=y} Q_α."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.diagonal import train_diagonal
from theory import get_law
from theory.diagonal import min_q_interpolant, q_alpha
from verify.conftest import law_checks
from verify.suite import identity

LAW = "diagonal_implicit_bias"


@pytest.mark.parametrize(("law_name", "name"), law_checks(LAW))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.floats(0.03, 3.0), n=st.integers(1, 4), extra=st.integers(1, 6))
def test_min_q_interpolant_satisfies_kkt(seed, alpha, n, extra):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n + extra))
    y = rng.normal(size=n)
    w = min_q_interpolant(X, y, alpha)
    # primal feasibility to the solver's tolerance, and ∇Q_α(w) = arcsinh(w/(2α²)) in the row space of X
    assert np.linalg.norm(X @ w - y) <= 1e-12 * max(1.0, np.linalg.norm(y))
    grad = np.arcsinh(w / (2 * alpha**2))
    in_rows = X.T @ np.linalg.lstsq(X.T, grad, rcond=None)[0]
    assert np.linalg.norm(grad - in_rows) <= 1e-8 * max(1.0, np.linalg.norm(grad))


def test_the_interpolant_beats_other_interpolants_on_q_alpha():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2, 5))
    y = rng.normal(size=2)
    w = min_q_interpolant(X, y, 0.1)
    null = np.linalg.svd(X)[2][2:]
    for direction in null:
        for step in (1e-3, -1e-3, 0.1):
            assert q_alpha(w + step * direction, 0.1) > q_alpha(w, 0.1)


def test_small_alpha_is_sparser_than_large_alpha_and_large_alpha_is_min_l2():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3, 10))
    y = X @ np.concatenate([[2.0, -1.0, 0.5], np.zeros(7)])
    rich, lazy = min_q_interpolant(X, y, 0.01), min_q_interpolant(X, y, 30.0)
    assert np.abs(rich).sum() < np.abs(lazy).sum()
    # the kernel limit: Q_α ≈ ‖w‖²/(4α²), so the lazy interpolant is the minimum-norm one to O(|w|²/α⁴)
    np.testing.assert_allclose(lazy, np.linalg.pinv(X) @ y, atol=1e-5)


@pytest.mark.parametrize(
    ("X", "y", "alpha", "match"),
    [
        (np.ones((3, 3)), np.ones(3), 1.0, "not underdetermined"),
        (np.ones((2, 4)), np.ones(2), 1.0, "full row rank"),
        (np.eye(2, 4), np.ones(2), 0.0, "alpha"),
        (np.eye(2, 4), np.array([np.nan, 1.0]), 1.0, "NaN"),
        (np.eye(2, 4), np.ones(3), 1.0, "shape"),
    ],
)
def test_bad_inputs_are_refused(X, y, alpha, match):
    with pytest.raises(ValueError, match=match):
        min_q_interpolant(X, y, alpha)


def test_gd_refuses_an_unstable_step():
    with pytest.raises(ValueError, match="unstable"):
        train_diagonal(np.eye(1, 2), np.ones(1), 1.0, eta=1.0)


def test_the_mirror_map_problem_inverts_the_laws_q_prime_and_its_data_obey_it():
    # the problem's reference is the inverse of q′(z) = asinh(z/2): q′(reference) = zeta identically
    import sympy as sp

    from discover.problems import get_problem

    problem = get_problem("diagonal_mirror_map")
    law = get_law("diagonal_implicit_bias")
    z = law.symbols["z"]
    zeta = next(iter(problem.reference.free_symbols))
    inverted = sp.diff(law.derived["q"], z).subs(z, problem.reference)
    assert identity(inverted, zeta, {"zeta": (-5.0, 5.0)}, seed=0).level == "exact"  # asinh(sinh ζ) = ζ, 60 digits
    # the simulated flow obeys it to the integrator's accuracy (rtol 1e-12: measured ≈ 6e-12), far below float32
    data = problem.data(0)
    err = np.abs(data.z - 2 * np.sinh(data.zeta)) / np.maximum(1.0, np.abs(data.z))
    assert err.max() < 1e-10
    assert data.zeta.min() < -2 and data.zeta.max() > 2  # both branches, well beyond the linear range
