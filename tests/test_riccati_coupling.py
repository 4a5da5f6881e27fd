"""The coupled (non-aligned) initialisations used to test Braun et al.'s Theorem 3.1 (issue 9, item 1).

A task and an init drawn from the same integer seed share their orthogonal draws and are aligned (C = 0, no ⊥
terms), which hides errors in the coupling terms of the theorem; these tests pin down that the suite's draws are
independent, coupled, sign-fixed and still zero-balanced.
"""

import numpy as np
import pytest

from simulate import DeepLinear, Task, decoupled_init, prescribed_task, train, zero_balanced_init
from theory import AssumptionError
from theory.riccati import qqt
from verify.suite import Fault
from verify.suite.riccati import (
    COUPLING_FLOOR,
    N_ARCHITECTURES,
    _padded_gd,
    coupled_init,
    coupling,
    independent_seeds,
    random_architectures,
)


def test_same_seed_aligns_and_independent_seeds_couple():
    """The old draw (one seed for task and init) is aligned to round-off; the independent streams are not."""
    task = prescribed_task([2.0, 1.5, 1.0], Ni=3, No=5, seed=7)
    (W1,), (W2,) = zero_balanced_init(3, 4, 5, 0.1, seed=7)
    same = coupling(W1, W2, task.sigma_yx)
    # the shared draws make U = Ũ, V = Ṽ up to SVD round-off (≈ 10·ε)
    assert same.c < 1e-12 and same.perp < 1e-12
    task_seed, init_seed = independent_seeds(7)
    task = prescribed_task([2.0, 1.5, 1.0], Ni=3, No=5, seed=task_seed)
    W1, W2, flipped = coupled_init(task, 4, 0.1, seed=init_seed)
    k = coupling(W1, W2, task.sigma_yx)
    assert not flipped  # Ni ≠ No: no determinant to match
    assert k.c >= COUPLING_FLOOR and k.perp >= COUPLING_FLOOR


def test_independent_seeds_are_deterministic_and_differ_per_case():
    assert independent_seeds(3, 1) == independent_seeds(3, 1)
    assert len({*independent_seeds(3, 0), *independent_seeds(3, 1), *independent_seeds(4, 0)}) == 6


def test_coupled_init_reflects_a_sign_mismatch_and_keeps_zero_balance():
    task = prescribed_task([2.0, 1.0, 0.5], Ni=3, No=3, seed=0)
    flips = []
    for seed in range(12):
        (raw1,), (raw2,) = zero_balanced_init(3, 5, 3, 0.1, seed=seed)
        W1, W2, flipped = coupled_init(task, 5, 0.1, seed=seed)
        flips.append(flipped)
        np.testing.assert_array_equal(W1, raw1)  # only W2 is changed, and only by a reflection
        # a reflection keeps W2ᵀW2 = W1W1ᵀ up to the round-off of one Householder product (≈ 10·ε·‖W‖² ≈ 1e-16)
        np.testing.assert_allclose(W2.T @ W2, W1 @ W1.T, atol=1e-15)
        assert np.linalg.det(W2 @ W1) * np.linalg.det(task.sigma_yx) > 0
        np.testing.assert_allclose(np.linalg.svd(W2 @ W1)[1], np.linalg.svd(raw2 @ raw1)[1], rtol=1e-12)
        if flipped:  # the raw init breaks Assumption 3.1; the reflected one is accepted
            with pytest.raises(AssumptionError, match=r"Assumption 3\.1.*sign det"):
                qqt(raw1, raw2, task.sigma_yx, [1.0])
        assert np.all(np.isfinite(qqt(W1, W2, task.sigma_yx, [1.0])))
    # a generic square init has the wrong sign half the time: 12 draws contain both cases
    assert any(flips) and not all(flips)


def test_aligned_init_has_no_coupling():
    task = prescribed_task([2.0, 1.0], Ni=4, No=2, seed=1)
    W1, W2 = decoupled_init(task, 3, [0.01, 0.5], seed=2)
    k = coupling(W1[0], W2[0], task.sigma_yx)
    # orthonormal singular vectors agreeing to SVD round-off; B = 2I exactly in exact arithmetic
    assert k.c < 1e-13 and k.perp < 1e-13
    assert k.b_min == pytest.approx(2.0, abs=1e-13)


def test_fig2c_architectures_are_all_coupled():
    """Every one of the 56 Fig. 2C inits is coupled (C ≠ 0, and ⊥ terms ≠ 0 when Ni ≠ No) and satisfies
    Assumption 3.1; some square ones needed the reflection, so no drawn case was dropped."""
    archs = random_architectures(N_ARCHITECTURES, seed=0)
    assert len(archs) == N_ARCHITECTURES
    ks = [coupling(a.W1, a.W2, a.sigma_yx) for a in archs]
    assert min(k.c for k in ks) >= COUPLING_FLOOR
    assert min(k.perp for k, a in zip(ks, archs, strict=True) if a.Ni != a.No) >= COUPLING_FLOOR
    assert min(k.b_min for k in ks) > 1e-8  # theory.riccati_checks.B_TOL
    assert any(a.flipped for a in archs) and all(a.Ni == a.No for a in archs if a.flipped)


def test_coupling_refuses_bad_input():
    task = prescribed_task([2.0, 0.0], Ni=2, No=2, seed=0)
    (W1,), (W2,) = zero_balanced_init(2, 2, 2, 0.1, seed=1)
    with pytest.raises(ValueError, match="full-rank Σyx"):
        coupling(W1, W2, task.sigma_yx)
    with pytest.raises(ValueError, match="pass matching sizes"):
        coupling(W1, W2, np.eye(3, 2))


def test_padded_gd_steps_with_the_faulted_rate_on_the_unfaulted_clock():
    """Under a rate fault the padded GD takes steps of η(1 + δ) (those of `simulate.train` at that step size) while
    its records stay at multiples of η: the same records, relabelled, which is what a clock that counts steps of
    η but a learning rate off by δ means (verify.suite.Fault.rate)."""
    a = random_architectures(1, seed=0, max_dim=4)[0]
    eta, delta, every = 0.01, 1e-3, 5
    faulted = _padded_gd([a], eta, 1.0, every * eta, Fault("rate", delta))[0]
    assert faulted.shape[0] == round(1.0 / (every * eta)) + 1  # the recorded times are still k·5η up to t = 1
    task = Task(np.eye(a.Ni) * np.sqrt(a.Ni), a.sigma_yx @ (np.eye(a.Ni) * np.sqrt(a.Ni)), name="one")
    stepped = eta * (1 + delta)
    times = np.arange(faulted.shape[0]) * every * stepped
    traj = train(DeepLinear((a.Ni, a.Nh, a.No)), (a.W1, a.W2), task, eta=stepped, times=times)
    Q = np.concatenate([np.swapaxes(traj.weights[0][:, 0], -1, -2), traj.weights[1][:, 0]], axis=-2)
    # two GD loops over 100 steps of O(1) numbers that differ only in summation order: round-off ≈ 1e-14
    np.testing.assert_allclose(faulted, Q @ np.swapaxes(Q, -1, -2), rtol=0, atol=1e-12)
    unfaulted = _padded_gd([a], eta, 1.0, every * eta)[0]
    # δ = 1e-3 of a unit of time's dynamics moves QQᵀ by ≈ 1e-3·t·|dQQᵀ/dt|, far above the round-off above
    assert np.abs(faulted - unfaulted).max() > 1e-6
