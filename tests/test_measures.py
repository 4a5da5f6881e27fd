"""Every measurement of simulate.measures against a case with a known answer, and a wrong input that fails it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simulate import DeepLinear, TwoLayer, gaussian_init, random_regression, task_sequence, train_sequence
from simulate import measures as m
from simulate.networks import TaskTensors


def test_continual_scores_from_a_real_run():
    tasks = task_sequence(3, Ni=3, No=2, P=12, similarity=0.3, seed=0)
    net = DeepLinear((3, 6, 2))
    run = train_sequence(net, gaussian_init(net.sizes, 0.1, seed=0, batch=2), tasks, eta=0.05, duration=10.0)
    L = run.final_losses()
    np.testing.assert_allclose(m.forgetting(L), L[2, 0] - L[0, 0])
    np.testing.assert_allclose(m.backward_transfer(L), ((L[0, 0] - L[2, 0]) + (L[1, 1] - L[2, 1])) / 2)
    initial = run.losses[0, 0]
    np.testing.assert_allclose(m.forward_transfer(L, initial), ((initial[1] - L[0, 1]) + (initial[2] - L[1, 2])) / 2)
    assert np.all(m.forgetting(L) > 0)  # dissimilar tasks (ρ = 0.3) are forgotten
    with pytest.raises(ValueError, match="n_tasks"):
        m.forgetting(L[:, :2])


def test_ranks_known_answers():
    assert m.effective_rank(np.eye(5)) == pytest.approx(5.0, rel=1e-14)
    assert m.effective_rank(np.outer([1.0, 2.0], [3.0, 1.0, 1.0])) == pytest.approx(1.0, rel=1e-12)
    p = np.array([3.0, 1.0]) / 4
    assert m.effective_rank(np.diag([3.0, 1.0])) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-14)
    assert m.stable_rank(np.diag([3.0, 1.0])) == pytest.approx(10 / 9, rel=1e-14)
    batch = np.stack([np.eye(3), np.diag([1.0, 0, 0])])
    np.testing.assert_allclose(m.effective_rank(batch), [3.0, 1.0], rtol=1e-14)
    with pytest.raises(ValueError, match="zero matrix"):
        m.stable_rank(np.zeros((2, 2)))


def test_distances():
    a = [np.zeros((2, 2, 3)), np.zeros((2, 1, 2))]
    b = [np.ones((2, 2, 3)), np.full((2, 1, 2), 2.0)]
    np.testing.assert_allclose(m.weight_distance(a, b), [np.sqrt(6 + 8)] * 2)
    np.testing.assert_allclose(m.feature_learning_rate(2 * b[0], b[0]), [1.0, 1.0])
    with pytest.raises(ValueError, match="W_0 = 0"):
        m.feature_learning_rate(b[0], a[0])


def test_ntk_of_a_two_layer_linear_network_is_its_closed_form():
    rng = np.random.default_rng(0)
    net = DeepLinear((3, 5, 2))
    W1, W2 = gaussian_init(net.sizes, 0.7, seed=1, batch=2)
    X = rng.normal(size=(3, 4))
    K = m.empirical_ntk(net, [W1, W2], X)
    for b in range(2):
        H = W1[b] @ X  # (Nh, P)
        closed = np.kron(np.eye(2), H.T @ H) + np.kron(W2[b] @ W2[b].T, X.T @ X)  # (o, p) o-major
        np.testing.assert_allclose(K[b], closed, rtol=1e-12, atol=1e-12)
    wrong = np.kron(np.eye(2), (W1[0] @ X).T @ (W1[0] @ X))  # the W2-layer part alone must not pass
    assert np.abs(K[0] - wrong).max() > 0.1


@pytest.mark.parametrize("parameterization", ["standard", "ntk", "mup"])
def test_ntk_of_a_nonlinear_network_is_its_closed_form(parameterization):
    net = TwoLayer((3, 7, 2), "tanh", parameterization=parameterization, gamma0=0.5)
    W1, W2 = net.init(seed=0, batch=2)
    net = net.centered_at([W1, W2])  # centring is constant in θ and must not change Θ
    X = np.random.default_rng(2).normal(size=(3, 5))
    K = m.empirical_ntk(net, [W1, W2], X)
    c1, c2 = net.multipliers
    for b in range(2):
        h = c1 * W1[b] @ X
        a, da = np.tanh(h), 1 - np.tanh(h) ** 2
        second = c2**2 * a.T @ a
        first = c1**2 * c2**2 * np.einsum("om,qm,mp,mr->opqr", W2[b], W2[b], da, da) * (X.T @ X)[None, :, None, :]
        closed = np.kron(np.eye(2), second) + first.reshape(10, 10)
        np.testing.assert_allclose(K[b], closed, rtol=1e-12, atol=1e-13)


def test_kernel_change_and_alignment():
    K = np.random.default_rng(0).normal(size=(4, 4))
    K = (K @ K.T)[None]
    assert m.ntk_change(K, K)[0] == 0
    assert m.ntk_change(K, 1.1 * K)[0] == pytest.approx(0.1, rel=1e-12)
    assert m.kernel_alignment(K, 5 * K)[0] == pytest.approx(1.0, rel=1e-14)
    assert m.kernel_alignment(np.eye(2)[None], np.array([[[0.0, 1.0], [1.0, 0.0]]]))[0] == 0
    y = np.array([[1.0, -1.0]])
    assert m.target_alignment(np.outer(y, y)[None], y)[0] == pytest.approx(1.0)


def test_cka_invariances_and_a_map_it_is_not_invariant_to():
    rng = np.random.default_rng(0)
    H = rng.normal(size=(30, 6))
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert m.linear_cka(H, H) == pytest.approx(1.0, rel=1e-14)
    assert m.linear_cka(H, 2.5 * H @ Q + 3.0) == pytest.approx(1.0, rel=1e-12)  # orthogonal, isotropic, shift
    assert m.linear_cka(H, H @ np.diag([10.0, 1, 1, 1, 1, 0.1])) < 0.9  # anisotropic scaling changes it
    assert m.linear_cka(H, rng.normal(size=(30, 6))) < 0.5
    with pytest.raises(ValueError, match="constant"):
        m.linear_cka(H, np.ones((30, 2)))


def test_sparsity_of_relu_units():
    net = TwoLayer((4, 200, 1), "relu", parameterization="ntk")
    W1, W2 = net.init(seed=0)
    X = torch.as_tensor(np.random.default_rng(1).normal(size=(4, 50)))
    _, a, _ = net.hidden([torch.as_tensor(W1), torch.as_tensor(W2)], X)
    share = m.activation_sparsity(a.numpy())[0]
    assert abs(share - 0.5) < 0.03  # symmetric pre-activations: half the ReLUs are off (8,000 draws: SE 0.006)


def test_hutchinson_against_the_exact_trace():
    task = random_regression(3, 2, 8, seed=0)
    net = TwoLayer((3, 4, 2), "tanh")
    W = net.init(seed=0, batch=2)
    data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
    exact = []
    for b in range(2):
        shapes = [w.shape[1:] for w in W]
        flat = torch.cat([torch.as_tensor(w[b]).reshape(-1) for w in W])

        def loss(theta, shapes=shapes):
            n1 = int(np.prod(shapes[0]))
            return net.loss([theta[:n1].reshape(1, *shapes[0]), theta[n1:].reshape(1, *shapes[1])], data)[0]

        exact.append(torch.autograd.functional.hessian(loss, flat).diagonal().sum().item())
    estimate, se = m.hessian_trace(net, W, task, n_probes=2000, seed=0)
    z = (estimate - np.array(exact)) / se
    assert np.all(np.abs(z) < 4), z  # the estimator is unbiased: within 4 standard errors
    assert np.all(se > 0) and np.all(se < 0.05 * np.abs(exact))
    # and the test can fail: a reference 20 % off (a wrong trace) is many standard errors away
    assert np.all(np.abs(estimate - 1.2 * np.array(exact)) / se > 4)
