"""Forgetting from task distance (LAWS.md §3.1)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulate import task_sequence
from theory import AssumptionError, get_law
from theory.forgetting import irreducible_loss, task_distance, task_loss
from verify.conftest import law_checks
from verify.suite.forgetting import loss_identity_error

law = get_law("forgetting_task_distance")


@pytest.mark.parametrize(("law_name", "name"), law_checks("forgetting_task_distance"))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


@given(seed=st.integers(0, 10_000), scale=st.floats(0.0, 3.0), noise=st.floats(0.0, 2.0))
def test_loss_identity_for_any_W(seed, scale, noise):
    """½⟨‖y − Wx‖²⟩ computed from the items equals ½‖W − Σyx‖² + c for whitened inputs, for any W."""
    (task,) = task_sequence(1, 3, 2, 15, 0.0, seed=seed, noise=noise)
    W = scale * np.random.default_rng(seed).normal(size=(2, 3))
    direct = 0.5 * np.mean(np.sum((task.Y - W @ task.X) ** 2, axis=0))
    # both sides are O(10) sums of O(scale² + 1) terms: round-off ≲ 1e-13 relative
    assert task_loss(W, task.sigma_yx, task.sigma_yy) == pytest.approx(direct, rel=1e-12, abs=1e-12)


@given(d_ab=st.floats(0.0, 5.0), d_ac=st.floats(0.0, 5.0), c=st.floats(0.0, 2.0))
def test_forgetting_is_difference_of_losses(d_ab, d_ac, c):
    L_b = law.numeric(d=d_ab, c=c)
    L_c = law.numeric(d=d_ac, c=c)
    assert law.numeric("forgetting", d_ab=d_ab, d_ac=d_ac) == pytest.approx(L_c - L_b, abs=1e-12)


def test_irreducible_loss_is_nonnegative_and_zero_without_noise():
    clean, noisy = task_sequence(1, 3, 2, 15, 0.0, seed=1)[0], task_sequence(1, 3, 2, 15, 0.0, seed=1, noise=1.0)[0]
    assert abs(irreducible_loss(clean.sigma_yx, clean.sigma_yy)) < 1e-14
    assert irreducible_loss(noisy.sigma_yx, noisy.sigma_yy) > 0.1


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        task_distance(np.eye(2), np.eye(3))
    with pytest.raises(AssumptionError, match="not whitened"):
        task_loss(np.eye(2), np.eye(2), np.eye(2), sigma_xx=2 * np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        task_loss(np.full((2, 2), np.nan), np.eye(2), np.eye(2))
    with pytest.raises(AssumptionError, match="rank-Nh truncation"):
        law.check(Nh=1, sigma_yx=np.eye(2))


def test_loss_identity_check_detects_a_wrong_law():
    """The check's comparison against the items is not vacuous: dropping the irreducible loss c_i, or the ½,
    leaves an error of the size of what was dropped; the true law leaves round-off."""
    tasks = task_sequence(2, 4, 3, 40, 0.3, seed=5, noise=0.5)
    Ws = np.random.default_rng(5).normal(size=(3, 3, 4))

    def true_law(W, task):
        return law.numeric(d=task_distance(task.sigma_yx, W), c=task.irreducible_loss())

    def without_c(W, task):
        return law.numeric(d=task_distance(task.sigma_yx, W), c=0.0)

    def without_half(W, task):
        return task_distance(task.sigma_yx, W) ** 2 + task.irreducible_loss()

    assert loss_identity_error(true_law, tasks, Ws) < 1e-12  # round-off of O(10) sums of O(1) terms
    assert loss_identity_error(without_c, tasks, Ws) >= 0.9 * min(t.irreducible_loss() for t in tasks)
    assert loss_identity_error(without_half, tasks, Ws) > 0.1
