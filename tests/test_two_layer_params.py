"""The nonlinear two-layer family of issue 13: activations, parameterisations, γ0 and centring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simulate import TwoLayer, random_regression, train
from simulate.networks import ACTIVATIONS, PARAMETERIZATIONS, TaskTensors

CPU = torch.device("cpu")


@pytest.mark.parametrize("parameterization", PARAMETERIZATIONS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_autograd(activation, parameterization):
    task = random_regression(3, 2, 10, seed=0)
    net = TwoLayer((3, 6, 2), activation, parameterization=parameterization, gamma0=0.7)
    W0 = net.init(seed=1, batch=2)
    net = net.centered_at([w + 0.1 for w in W0])  # an origin that is not the current weights: its output is ≠ 0
    data = TaskTensors.from_task(task, CPU, torch.float64)
    W = [torch.from_numpy(w).requires_grad_(True) for w in W0]
    net.loss(W, data).sum().backward()
    for w, g in zip(W, net.grads([w.detach() for w in W], data), strict=True):
        torch.testing.assert_close(w.grad, g, rtol=1e-12, atol=1e-14)


def test_centring_makes_the_initial_output_zero_for_every_input():
    net = TwoLayer((3, 16, 2), "relu", parameterization="ntk", gamma0=1e-3)
    W0 = net.init(seed=0, batch=3)
    plain = net.output([torch.from_numpy(w) for w in W0], torch.ones(3, 5, dtype=torch.float64))
    assert plain.abs().max() > 10  # O(1/γ0) without centring
    X = torch.from_numpy(np.random.default_rng(1).normal(size=(3, 7)))
    assert net.centered_at(W0).output([torch.from_numpy(w) for w in W0], X).abs().max() == 0


def test_gelu_is_the_erf_form():
    h = torch.linspace(-4, 4, 101, dtype=torch.float64)
    net = TwoLayer((1, 101, 1), "gelu")
    _, a, da = net.hidden(
        [torch.diag_embed(h)[None, :, :1] * 0 + h[None, :, None], None], torch.ones(1, 1, dtype=h.dtype)
    )
    torch.testing.assert_close(a[0, :, 0], torch.nn.functional.gelu(h), rtol=1e-15, atol=1e-15)
    hh = h.clone().requires_grad_(True)
    torch.nn.functional.gelu(hh).sum().backward()
    torch.testing.assert_close(da[0, :, 0], hh.grad, rtol=1e-13, atol=1e-15)


def test_gamma0_is_chizat_alpha_inverse():
    """GD on (1/α²)·L(α·h(w)) with step η0 (Chizat, Oyallon & Bach 2019) moves w as `train` does with γ0 = 1/α and
    the parameterisation's step η0·γ0² — the claim of TwoLayer's docstring, checked step by step by autograd."""
    task = random_regression(4, 2, 12, seed=0)
    alpha, eta0, steps = 5.0, 0.05, 40
    net = TwoLayer((4, 8, 2), "tanh", parameterization="standard", gamma0=1 / alpha)
    W0 = net.init(seed=0)
    net = net.centered_at(W0)
    ours = train(net, W0, task, eta=net.learning_rate(eta0), times=np.array([0, steps]) * net.learning_rate(eta0))
    X, Y = torch.tensor(task.X), torch.tensor(task.Y)
    w = [torch.from_numpy(v[0].copy()).requires_grad_(True) for v in W0]

    def h(v):
        return v[1] @ torch.tanh(v[0] @ X)

    h0 = h([torch.from_numpy(v[0]) for v in W0]).detach()
    for _ in range(steps):
        objective = 0.5 * ((alpha * (h(w) - h0) - Y) ** 2).sum() / X.shape[1] / alpha**2
        grads = torch.autograd.grad(objective, w)
        with torch.no_grad():
            for v, g in zip(w, grads, strict=True):
                v -= eta0 * g
    for v, record in zip(w, ours.weights, strict=True):
        np.testing.assert_allclose(record[-1, 0], v.detach().numpy(), rtol=1e-11, atol=1e-13)
    # and a wrong scaling (η0 instead of η0·γ0²) lands elsewhere: the check can fail
    wrong = train(net, W0, task, eta=eta0, times=np.array([0, steps]) * eta0)
    assert np.abs(wrong.weights[0][-1, 0] - w[0].detach().numpy()).max() > 1e-3


def test_parameterisations_scale_the_init_and_the_step():
    for p in PARAMETERIZATIONS:
        net = TwoLayer((50, 400, 3), "relu", parameterization=p, gamma0=1.0)
        W1, W2 = net.init(seed=0)
        c1, c2 = net.multipliers
        # every parameterisation gives pre-activations of unit scale at init (c1·W1 x with ‖x‖² = d)
        assert abs(np.std(c1 * W1) * np.sqrt(50) - 1) < 0.02
        # the output scale at init: O(1) standard/ntk, O(1/√N) for mup
        expected = 1 / np.sqrt(400) if p == "mup" else 1.0
        assert abs(np.std(c2 * W2) * np.sqrt(400) / expected - 1) < 0.1
    assert TwoLayer((5, 10, 1), parameterization="ntk", gamma0=0.1).learning_rate(1.0) == pytest.approx(0.01)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="parameterization"):
        TwoLayer((2, 3, 2), parameterization="mf")
    with pytest.raises(ValueError, match="gamma0"):
        TwoLayer((2, 3, 2), gamma0=0.0)
    with pytest.raises(ValueError, match="origin"):
        TwoLayer((2, 3, 2)).centered_at([np.zeros((1, 3, 3)), np.zeros((1, 2, 3))])
    net = TwoLayer((2, 3, 2))
    with pytest.raises(ValueError, match="same batch"):
        centred = net.centered_at(net.init(seed=0, batch=2))
        task = random_regression(2, 2, 4, seed=0)
        train(centred, net.init(seed=0, batch=3), task, eta=0.1, times=[0.0, 0.1])
