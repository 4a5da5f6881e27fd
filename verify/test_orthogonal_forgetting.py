"""orthogonal_task_forgetting: per-instance F = ½‖A(I − Aᵀ)u‖² and its exact expectation over O."""

import numpy as np
import pytest

from simulate.tasks import random_orthogonal
from theory import AssumptionError, get_law
from theory.orthogonal_forgetting import per_instance_forgetting, sequential_forgetting
from verify.conftest import law_checks
from verify.suite import Fault, run_check
from verify.suite.orthogonal_forgetting import normalised_forgetting, rotation, subspace_rotations

LAW = "orthogonal_task_forgetting"


@pytest.mark.parametrize(("law_name", "name"), law_checks(LAW))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def test_m_equal_one_needs_the_reflection_form():
    # R = ±1 on a line: the order-2 Weingarten function of O(1) is not the Gram inverse the m ≥ 2 form uses, which
    # is off by 0.0012 at p = 6, d = 3 (0.0301 against 0.03125). Per-draw sd ≈ 0.06, so 400,000 draws give SE ≈ 1e-4:
    # the reflection form is covered within 4 SE, the m ≥ 2 form is ≈ 12 SE away.
    law = get_law(LAW)
    rng = np.random.default_rng(4)
    X = random_orthogonal(6, 3, rng).T
    u = X @ rng.normal(size=6)
    F = np.concatenate([normalised_forgetting(X, u, *subspace_rotations(6, 1, 50_000, rng)) for _ in range(8)])
    se = F.std(ddof=1) / np.sqrt(F.size)
    assert abs(F.mean() - float(law.numeric("reflection", p=6, d=3))) <= 4 * se
    sym = law.symbols
    general = float(law.equation.rhs.subs({sym["p"]: 6, sym["d"]: 3, sym["m"]: 1}))
    assert abs(F.mean() - general) > 4 * se
    with pytest.raises(AssumptionError, match="reflection"):
        law.check(p=6, d=3, m=1)
    law.check(p=6, d=3, m=2)


def test_the_expectation_does_not_depend_on_the_part_of_w_outside_the_row_space():
    # same X and O draws, w* and w* + (null-space vector): identical F per draw, not only in mean
    rng = np.random.default_rng(2)
    p, d, m = 9, 4, 5
    X = random_orthogonal(p, d, rng).T
    w = rng.normal(size=p)
    null = (np.eye(p) - X.T @ X) @ rng.normal(size=p)
    U, R = subspace_rotations(p, m, 5, rng)
    for i in range(5):
        O = rotation(U[i], R[i])
        assert per_instance_forgetting(X, O, w) == pytest.approx(per_instance_forgetting(X, O, w + 3 * null), abs=1e-13)


def test_sequential_forgetting_is_zero_when_task_two_is_task_one():
    rng = np.random.default_rng(0)
    X = random_orthogonal(7, 3, rng).T
    y = rng.normal(size=3)
    assert abs(sequential_forgetting(X, y, X, y)) <= 1e-14


def test_bad_inputs_are_named():
    X = np.eye(4)[:2]
    with pytest.raises(AssumptionError, match="orthonormal"):
        per_instance_forgetting(2 * X, np.eye(4), np.ones(4))
    with pytest.raises(AssumptionError, match="orthogonal"):
        per_instance_forgetting(X, np.ones((4, 4)), np.ones(4))
    with pytest.raises(ValueError, match=r"need O \(4, 4\)"):
        per_instance_forgetting(X, np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        sequential_forgetting(X, np.array([np.nan, 0.0]), X, np.zeros(2))


def test_the_large_p_form_fails_the_monte_carlo_check_as_a_law():
    # the large-p form at p = 20 differs from the exact law by up to 25 % (d = 2, small m): a planted law fault of
    # that size is what using it would be
    assert not run_check(LAW, "monte_carlo_expectation", fault=Fault("law", -0.2)).passed


def test_limits_stated_in_the_module():
    law = get_law(LAW)
    assert float(law.numeric("rhs", p=30, d=30, m=12)) == pytest.approx(12 / 30, abs=1e-14)  # d = p: α exactly
    assert float(law.numeric("large_p", alpha=0.5, beta=1.0)) == pytest.approx(1 / 32, abs=1e-15)  # ½α²(1 − α)²
