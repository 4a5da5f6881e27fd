"""cyclic_forgetting_two_tasks: F = ½c²cos^{2(2k−1)}θ sin²θ after k cycles, worst case (1 − 1/(2k))^{2k−1}/(4k)."""

import numpy as np
import pytest
import sympy as sp

from theory import AssumptionError, get_law
from theory.linear_forgetting import cyclic_projection_forgetting
from verify.conftest import law_checks

LAW = "cyclic_forgetting_two_tasks"


@pytest.mark.parametrize(("law_name", "name"), law_checks(LAW))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def test_k_equal_one_is_laws_md_two_task_forgetting_and_its_sup_one_eighth():
    law = get_law(LAW)
    theta, k, c = (law.symbols[n] for n in ("theta", "k", "c"))
    one = law.equation.rhs.subs({k: 1, c: 1})
    assert sp.simplify(one - sp.cos(theta) ** 2 * sp.sin(theta) ** 2 / 2) == 0
    assert law.derived["worst_case"].subs(k, 1) == sp.Rational(1, 8)
    assert law.derived["worst_angle"].subs(k, 1) == sp.pi / 4


def test_the_forgetting_of_one_cycle_with_two_samples_by_hand():
    # X1 = e1ᵀ, X2 = (e1 + e2)ᵀ/√2 (θ = π/4), w* = e2: after task 1 w = 0 (w* ⟂ e1); task 2 projects onto
    # ⟨(e1 + e2)/√2, w⟩ = 1/√2, w = (e1 + e2)/2; task 1's residual is ½, squared ¼, halved 1/8
    X1, X2 = np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]) / np.sqrt(2)
    assert cyclic_projection_forgetting(X1, X2, np.array([0.0, 1.0]), 1) == pytest.approx(0.125, abs=1e-15)


def test_the_law_is_not_the_one_with_cos_to_the_power_2k():
    # a plausible slip (cos^{2k} instead of cos^{2(2k−1)}) differs from the projections at k = 2 by far more than TOL
    angle, k = 0.6, 2
    X1 = np.array([[1.0, 0.0]])
    X2 = np.array([[np.cos(angle), np.sin(angle)]])
    measured = cyclic_projection_forgetting(X1, X2, np.array([0.0, 1.0]), k)
    assert measured == pytest.approx(0.5 * np.cos(angle) ** 6 * np.sin(angle) ** 2, rel=1e-12)
    assert abs(measured - 0.5 * np.cos(angle) ** 4 * np.sin(angle) ** 2) > 1e-3


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="cycles"):
        cyclic_projection_forgetting(np.eye(2)[:1], np.eye(2)[1:], np.ones(2), 0)
    with pytest.raises(ValueError, match="with one d"):
        cyclic_projection_forgetting(np.eye(2)[:1], np.eye(3)[1:], np.ones(2), 1)
    with pytest.raises(AssumptionError, match="principal angles"):
        get_law(LAW).check(theta=2.0)


def test_worst_case_over_w_is_the_top_eigenvector_and_is_attained():
    # three random tasks in R⁴: the λ_max formula bounds F for 200 random unit w* and is attained at its eigenvector
    from simulate.tasks import random_orthogonal
    from theory.linear_forgetting import cyclic_forgetting, worst_case_cyclic_forgetting

    rng = np.random.default_rng(5)
    Xs = [random_orthogonal(4, r, rng).T for r in (1, 2, 3)]
    worst = worst_case_cyclic_forgetting(Xs, 3)
    samples = rng.normal(size=(200, 4))
    values = [cyclic_forgetting(Xs, w / np.linalg.norm(w), 3) for w in samples]
    assert max(values) <= worst + 1e-14
    cycle = np.eye(4)
    for X in Xs:
        cycle = (np.eye(4) - X.T @ X) @ cycle
    B = np.linalg.matrix_power(cycle, 3)
    _, vecs = np.linalg.eigh(sum(B.T @ X.T @ X @ B for X in Xs) / 3)
    assert cyclic_forgetting(Xs, vecs[:, -1], 3) == pytest.approx(worst, rel=1e-12)
    assert max(values) > 0.5 * worst  # the sampled w* come near it: the sup is not vacuous
