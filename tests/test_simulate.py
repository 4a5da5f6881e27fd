"""Unit tests of the simulation code: exactness of constructions, reproducibility, frames, validation."""

import numpy as np
import pytest
import torch

from simulate import (
    DeepLinear,
    Task,
    TwoLayer,
    balanced_deep_init,
    decoupled_init,
    gaussian_init,
    living_kingdom,
    prescribed_task,
    random_regression,
    task_pair,
    task_sequence,
    train,
    train_sequence,
    whiten,
    zero_balanced_init,
)
from theory.checks import check_balanced


@pytest.mark.parametrize(("Ni", "P"), [(2, 2), (5, 40), (20, 25)])
def test_whitening_is_exact(Ni, P):
    X = whiten(np.random.default_rng(0).normal(size=(Ni, P)) * 10 + 3)
    assert np.max(np.abs(X @ X.T / P - np.eye(Ni))) < 1e-12


@pytest.mark.parametrize(
    "task",
    [
        random_regression(4, 3, 30, seed=1),
        prescribed_task([3.0, 1.0], 4, 2, seed=2),
        living_kingdom(),
        *task_sequence(3, 4, 3, 10, 0.5, seed=3),
    ],
    ids=lambda t: t.name,
)
def test_every_task_constructor_whitens_exactly(task):
    assert np.max(np.abs(task.sigma_xx - np.eye(task.Ni))) < 1e-12


def test_prescribed_task_has_prescribed_svd():
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.normal(size=(3, 2)))[0]
    V = np.linalg.qr(rng.normal(size=(4, 2)))[0]
    task = prescribed_task([2.0, 0.5], 4, 3, seed=0, U=U, V=V)
    np.testing.assert_allclose(task.sigma_yx, U @ np.diag([2.0, 0.5]) @ V.T, atol=1e-13)


@pytest.mark.parametrize("similarity", [-1.0, 0.0, 0.6, 1.0])
def test_task_pair_similarity(similarity):
    a, b = task_pair(30, 30, 60, similarity, seed=0)
    corr = np.sum(a.sigma_yx * b.sigma_yx) / np.linalg.norm(a.sigma_yx) / np.linalg.norm(b.sigma_yx)
    # 900 entries: the sample correlation has standard error ≈ 1/30
    assert corr == pytest.approx(similarity, abs=0.12)


@pytest.mark.parametrize(("Ni", "Nh", "No"), [(3, 3, 3), (5, 2, 4), (2, 7, 3), (6, 4, 1)])
def test_zero_balanced_init_is_exactly_balanced(Ni, Nh, No):
    W1, W2 = zero_balanced_init(Ni, Nh, No, 0.3, seed=5, batch=3)
    for b in range(3):
        assert np.max(np.abs(W1[b] @ W1[b].T - W2[b].T @ W2[b])) < 1e-12


def test_zero_balanced_init_matches_task_determinant_sign():
    task = prescribed_task([2.0, 1.0, 0.5], 3, 3, seed=0)
    W1, W2 = zero_balanced_init(3, 5, 3, 0.1, seed=0, batch=20, match_task=task)
    signs = np.sign(np.linalg.det(W2 @ W1))
    assert np.all(signs == np.sign(np.linalg.det(task.sigma_yx)))
    W1, W2 = zero_balanced_init(3, 5, 3, 0.1, seed=0, batch=20)
    assert len(set(np.sign(np.linalg.det(W2 @ W1)))) == 2  # without matching, both signs occur


@pytest.mark.parametrize("sizes", [(3, 4, 2), (3, 5, 5, 2), (4, 6, 6, 6, 4)])
def test_balanced_deep_init_is_exactly_balanced(sizes):
    Ws = balanced_deep_init(sizes, 0.5, seed=2)
    check_balanced([w[0] for w in Ws], rtol=1e-12)


def test_decoupled_init_strengths_and_imbalance():
    task = prescribed_task([3.0, 2.0], 2, 2, seed=0)
    W1, W2 = decoupled_init(task, Nh=4, u0=[0.1, 0.2], imbalance=[0.5, 0.0], seed=0)
    U, _, V = task.svd()
    a = np.diag(np.linalg.norm(W1[0] @ V, axis=0)[:, None] * np.eye(2))
    b = np.linalg.norm(U.T @ W2[0], axis=1)
    np.testing.assert_allclose(np.diag(U.T @ W2[0] @ W1[0] @ V), [0.1, 0.2], atol=1e-14)
    np.testing.assert_allclose(a**2 - b**2, [0.5, 0.0], atol=1e-14)


def test_same_seed_same_everything_different_seed_different():
    def run(seed):
        task = random_regression(3, 2, 12, seed=seed)
        W = gaussian_init((3, 4, 2), 0.2, seed=seed, batch=2)
        return train(DeepLinear((3, 4, 2)), W, task, eta=0.1, times=[0.0, 1.0]).to_frame()

    a, b, c = run(7), run(7), run(8)
    assert a.equals(b)
    assert not a.equals(c)


def test_frames_have_the_law_symbol_columns():
    task = prescribed_task([2.0, 1.0], 2, 2, seed=0)
    traj = train(DeepLinear((2, 2, 2)), decoupled_init(task, 2, 0.01, seed=0, batch=3), task, eta=0.1, times=[0.0, 1.0])
    frame = traj.to_frame()
    assert frame.columns.tolist() == ["t", "tau", "eta", "network", "loss"]
    assert len(frame) == 2 * 3
    modes = traj.mode_frame()
    assert modes.columns.tolist() == ["t", "tau", "network", "mode", "s", "u0", "u", "du_dt"]
    assert len(modes) == 2 * 3 * 2
    np.testing.assert_allclose(modes.loc[modes.t == 0, "u"], 0.01, atol=1e-15)


def test_batched_equals_one_by_one():
    """A batch is many independent networks: training them together equals training each alone."""
    task = random_regression(3, 2, 12, seed=0)
    net = DeepLinear((3, 5, 2))
    W = gaussian_init(net.sizes, 0.3, seed=0, batch=4)
    together = train(net, W, task, eta=0.05, times=[0.0, 2.0])
    for b in range(4):
        alone = train(net, [w[b : b + 1] for w in W], task, eta=0.05, times=[0.0, 2.0])
        for wt, wa in zip(together.weights, alone.weights, strict=True):
            np.testing.assert_allclose(wt[:, b], wa[:, 0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_two_layer_gradients_match_autograd(activation):
    task = random_regression(3, 2, 10, seed=0)
    net = TwoLayer((3, 6, 2), activation)
    from simulate.networks import TaskTensors

    data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
    W = [torch.from_numpy(w).requires_grad_(True) for w in gaussian_init(net.sizes, 0.5, seed=1, batch=2)]
    net.loss(W, data).sum().backward()
    for w, g in zip(W, net.grads([w.detach() for w in W], data), strict=True):
        torch.testing.assert_close(w.grad, g, rtol=1e-12, atol=1e-14)


def test_deep_linear_gradients_match_autograd():
    task = random_regression(3, 2, 10, seed=0, whitened=False)
    from simulate.networks import TaskTensors

    data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
    for sizes in [(3, 2), (3, 4, 2), (3, 4, 5, 2), (3, 4, 5, 4, 2)]:
        net = DeepLinear(sizes)
        W = [torch.from_numpy(w).requires_grad_(True) for w in gaussian_init(sizes, 0.5, seed=1, batch=2)]
        net.loss(W, data).sum().backward()
        for w, g in zip(W, net.grads([w.detach() for w in W], data), strict=True):
            torch.testing.assert_close(w.grad, g, rtol=1e-12, atol=1e-14)


def test_linear_loss_matches_item_loss():
    task = random_regression(3, 2, 10, seed=0, whitened=False)
    W = gaussian_init((3, 4, 2), 0.5, seed=1)
    traj = train(DeepLinear((3, 4, 2)), W, task, eta=0.1, times=[0.0])
    Wend = W[1][0] @ W[0][0]
    direct = 0.5 * np.mean(np.sum((task.Y - Wend @ task.X) ** 2, axis=0))
    assert traj.loss[0, 0] == pytest.approx(direct, rel=1e-12)


def test_continual_losses_follow_phases():
    tasks = task_sequence(2, 2, 2, 10, 0.0, seed=0)
    run = train_sequence(
        DeepLinear((2, 4, 2)), zero_balanced_init(2, 4, 2, 0.01, seed=0), tasks, eta=0.05, duration=100.0, n_records=5
    )
    # after phase 0 the network fits task 0 (noiseless, so loss → 0) and not task 1
    assert run.final_losses()[0, 0, 0] < 1e-8 < run.final_losses()[0, 1, 0]
    assert run.final_losses()[1, 1, 0] < 1e-8
    frame = run.to_frame()
    assert frame.columns.tolist() == ["t", "phase", "task", "network", "loss"]
    assert frame.t.max() == pytest.approx(200.0)


# -- validation ----------------------------------------------------------------------------------------------


def test_task_validation():
    with pytest.raises(ValueError, match="items"):
        Task(np.ones((2, 3)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="NaN"):
        Task(np.array([[np.nan, 1.0]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="2-D"):
        Task(np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match="P ≥ Ni"):
        whiten(np.ones((4, 2)))
    with pytest.raises(ValueError, match="singular"):
        whiten(np.ones((2, 5)))
    with pytest.raises(ValueError, match="seed"):
        random_regression(2, 2, 5, seed=-1)
    with pytest.raises(ValueError, match="similarity"):
        task_sequence(2, 2, 2, 5, 1.5, seed=0)
    with pytest.raises(ValueError, match="singular values"):
        prescribed_task([1.0, 2.0, 3.0], 2, 2, seed=0)


def test_init_validation():
    with pytest.raises(ValueError, match="scale"):
        gaussian_init((2, 2), -1.0, seed=0)
    with pytest.raises(ValueError, match="scale"):
        zero_balanced_init(2, 2, 2, float("nan"), seed=0)
    task = prescribed_task([1.0, 1.0], 2, 2, seed=0)
    with pytest.raises(ValueError, match="Nh = 1"):
        decoupled_init(task, Nh=1, u0=0.1, seed=0)
    with pytest.raises(ValueError, match="> 0"):
        decoupled_init(task, Nh=2, u0=0.0, seed=0)
    with pytest.raises(ValueError, match="Ni = No"):
        zero_balanced_init(2, 3, 3, 0.1, seed=0, match_task=prescribed_task([1.0], 2, 3, seed=0))


def test_train_validation():
    task = random_regression(2, 2, 5, seed=0)
    net = DeepLinear((2, 3, 2))
    W = gaussian_init(net.sizes, 0.1, seed=0)
    with pytest.raises(ValueError, match="multiple of eta"):
        train(net, W, task, eta=0.1, times=[0.0, 0.15])
    with pytest.raises(ValueError, match="increasing"):
        train(net, W, task, eta=0.1, times=[0.2, 0.1])
    with pytest.raises(ValueError, match="eta"):
        train(net, W, task, eta=0.0, times=[0.0])
    with pytest.raises(ValueError, match="shape"):
        train(net, (W[0], W[0]), task, eta=0.1, times=[0.0])
    with pytest.raises(ValueError, match="maps"):
        train(DeepLinear((3, 3, 2)), gaussian_init((3, 3, 2), 0.1, seed=0), task, eta=0.1, times=[0.0])
    with pytest.raises(ValueError, match="NaN"):
        train(net, (W[0] * np.nan, W[1]), task, eta=0.1, times=[0.0])
    with pytest.raises(ValueError, match="stability bound"):
        train(net, gaussian_init(net.sizes, 10.0, seed=0), task, eta=1.0, times=[0.0, 200.0])
    with pytest.raises(FloatingPointError, match="diverged"):  # opted in beyond the bound: NaN is still caught
        train(net, gaussian_init(net.sizes, 10.0, seed=0), task, eta=1.0, times=[0.0, 200.0], allow_unstable=True)
    with pytest.raises(ValueError, match="activation"):
        TwoLayer((2, 3, 2), "softplus")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            train(net, W, task, eta=0.1, times=[0.0], device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu():
    task = random_regression(3, 2, 12, seed=0)
    W = gaussian_init((3, 5, 2), 0.3, seed=0, batch=8)
    cpu = train(DeepLinear((3, 5, 2)), W, task, eta=0.05, times=[0.0, 2.0])
    gpu = train(DeepLinear((3, 5, 2)), W, task, eta=0.05, times=[0.0, 2.0], device="cuda")
    np.testing.assert_allclose(cpu.loss, gpu.loss, rtol=1e-10)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_velocity_is_the_flow_derivative(depth):
    """velocity() equals the derivative of W along gradient flow: compare with a tiny-η GD difference quotient,
    whose error is O(η) (η = 1e-6 ⇒ relative error ≈ 1e-6)."""
    task = random_regression(3, 2, 12, seed=0, whitened=False)
    sizes = (3,) + (4,) * (depth - 1) + (2,)
    net = DeepLinear(sizes)
    eta = 1e-6
    traj = train(net, gaussian_init(sizes, 0.6, seed=2, batch=2), task, eta=eta, times=[0.0, eta])
    W = traj.end_to_end()
    fd = (W[1] - W[0]) / eta
    np.testing.assert_allclose(traj.velocity()[0], fd, rtol=0, atol=1e-5 * np.abs(fd).max())


def test_mode_velocity_is_logistic_rhs_for_balanced_decoupled():
    task = prescribed_task([3.0, 1.0], 2, 2, seed=0)
    traj = train(DeepLinear((2, 2, 2)), decoupled_init(task, 2, 0.05, seed=0), task, eta=0.01, times=[0.0, 1.0])
    f = traj.mode_frame()
    # balanced at t = 0 exactly; at t = 1 the O(η²)-per-step imbalance δ changes a² + b² by δ²/(4u): ≪ 1e-8
    np.testing.assert_allclose(f.du_dt, 2 * f.u * (f.s - f.u), rtol=1e-8)


def test_decoupled_init_keeps_every_digit_of_a_large_negative_imbalance():
    # a² = u²/|δ| to first order when δ ≪ −u: the form (δ + √(δ² + 4u²))/2 cancels to ~1e-9 relative at δ = −100,
    # u = 0.05 (two numbers of size 100 whose difference is 2.5e-5); the exact a² is 2u²/(√(δ² + 4u²) − δ)
    task = prescribed_task([1.0], 1, 1, seed=0)
    u, delta = 0.05, -100.0
    W1, W2 = decoupled_init(task, Nh=1, u0=u, imbalance=delta, seed=0)
    a2, b2 = W1[0, 0, 0] ** 2, W2[0, 0, 0] ** 2
    exact = 2 * u**2 / (np.sqrt(delta**2 + 4 * u**2) - delta)
    np.testing.assert_allclose(a2, exact, rtol=1e-14)
    np.testing.assert_allclose((a2 - b2) / abs(delta), -1.0, rtol=1e-14)
    np.testing.assert_allclose(abs(W1[0, 0, 0] * W2[0, 0, 0]), u, rtol=1e-14)
