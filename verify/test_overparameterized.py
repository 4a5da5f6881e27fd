"""overparameterized_two_task_forgetting: E[F] = (n/p)(1 − 2s + n/p), exact at finite n < p."""

import numpy as np
import pytest

from theory import AssumptionError, get_law
from theory.overparameterized import min_norm_forgetting
from verify.conftest import law_checks
from verify.suite import Fault, run_check

LAW = "overparameterized_two_task_forgetting"


@pytest.mark.parametrize(("law_name", "name"), law_checks(LAW))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def test_min_norm_forgetting_equals_the_projections_written_with_pinv():
    rng = np.random.default_rng(3)
    n, p = 4, 9
    X1, X2 = rng.normal(size=(2, n, p)), rng.normal(size=(2, n, p))
    w1, w2 = rng.normal(size=p), rng.normal(size=p)
    for k in range(2):
        R1 = np.linalg.pinv(X1[k]) @ X1[k]
        R2 = np.linalg.pinv(X2[k]) @ X2[k]
        a = R1 @ w1
        b = a + R2 @ (w2 - a)
        expected = np.sum((b - w1) ** 2) - np.sum((a - w1) ** 2)
        # both are O(1) sums of a few products: agreement to 1e-12 is round-off
        assert min_norm_forgetting(X1, X2, w1, w2)[k] == pytest.approx(expected, abs=1e-12)


def test_the_expectation_at_the_issues_point_n20_p200_s0_is_covered_by_4000_draws():
    # the issue's Monte Carlo read 0.1047 ± 0.0025 against 0.110; per-draw sd 0.054, so 4000 draws give SE 0.00085
    rng = np.random.default_rng(11)
    p, n = 200, 20
    w1, w2 = np.eye(p)[0], np.eye(p)[1]
    F = np.concatenate(
        [min_norm_forgetting(rng.normal(size=(500, n, p)), rng.normal(size=(500, n, p)), w1, w2) for _ in range(8)]
    )
    law = float(get_law(LAW).numeric("rhs", n=n, p=p, s=0.0))
    assert law == pytest.approx(0.11, abs=1e-15)
    assert abs(F.mean() - law) <= 4 * F.std(ddof=1) / np.sqrt(F.size)


def test_a_half_sized_definition_of_forgetting_fails_the_monte_carlo_check():
    # ½‖·‖² instead of ‖·‖² halves the law: the planted law fault of size −0.5 is that definition
    assert not run_check(LAW, "monte_carlo_expectation", fault=Fault("law", -0.5)).passed


def test_assumptions_refuse_n_at_least_p_and_cosines_beyond_one():
    law = get_law(LAW)
    with pytest.raises(AssumptionError, match="0 < n < p"):
        law.check(n=200, p=200)
    with pytest.raises(AssumptionError, match=r"\[−1, 1\]"):
        law.check(s=1.5)
    law.check(n=20, p=200, s=-1.0)


@pytest.mark.parametrize(
    ("X1", "X2", "w", "match"),
    [
        (np.ones((2, 3, 5)), np.ones((2, 3, 4)), np.ones(5), "shape"),
        (np.ones((2, 5, 5)), np.ones((2, 5, 5)), np.ones(5), "not overparameterised"),
        (np.full((1, 2, 5), np.nan), np.ones((1, 2, 5)), np.ones(5), "NaN"),
        (np.ones((1, 2, 5)), np.ones((1, 2, 5)), np.ones(4), "teachers"),
    ],
)
def test_bad_inputs_are_refused_by_name(X1, X2, w, match):
    with pytest.raises(ValueError, match=match):
        min_norm_forgetting(X1, X2, w, w)
