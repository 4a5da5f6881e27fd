"""`simulate.train`'s optimizers against hand computations of each update rule, batched against looped, bad inputs
and seeds.

The hand computations below are written from the update rules' definitions (torch.optim's documentation: SGD with
momentum b_k = μb_{k−1} + g_k, b_0 = g_0; Nesterov W −= η(g_k + μb_k); Adam with bias-corrected moments; AdamW's
W ← (1 − ηλ)W first) in numpy, with the two-layer gradients written out again from the loss, so they share no
code with the simulation other than the minibatch index stream (which is tested on its own).
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from simulate import DeepLinear, Optimizer, Task, TwoLayer, gaussian_init, minibatch_indices, train
from simulate.networks import TaskTensors
from simulate.train import _gd_loop, _optimizer_loop

ETA = 0.05
STEPS = 4


def _task(seed: int = 0, P: int = 10) -> Task:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3, P))
    return Task(X, rng.normal(size=(2, 3)) @ X + 0.1 * rng.normal(size=(2, P)))


def _grads(W1: np.ndarray, W2: np.ndarray, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂/∂W of ½⟨‖y − W2W1x‖²⟩ over the columns of X: −W2ᵀ(Y − ŷ)Xᵀ/P and −(Y − ŷ)(W1X)ᵀ/P."""
    R = (Y - W2 @ W1 @ X) / X.shape[1]
    return -W2.T @ R @ X.T, -R @ (W1 @ X).T


def _hand(opt: Optimizer, W0: tuple[np.ndarray, ...], task: Task, steps: int) -> list[list[np.ndarray]]:
    """The trajectory by the update rule's definition, one network (weights (out, in))."""
    W = [w[0].copy() for w in W0]
    lam, mu = opt.weight_decay, opt.momentum
    buf = [None, None]
    m = [np.zeros_like(w) for w in W]
    v = [np.zeros_like(w) for w in W]
    draws = minibatch_indices(task.P, opt.batch_size, opt.seed) if opt.batch_size else None
    out = [[w.copy() for w in W]]
    for k in range(1, steps + 1):
        idx = next(draws) if draws is not None else np.arange(task.P)
        gs = _grads(W[0], W[1], task.X[:, idx], task.Y[:, idx])
        for i, g in enumerate(gs):
            if opt.name == "adam":
                if opt.decoupled:
                    W[i] = W[i] * (1 - ETA * lam)
                else:
                    g = g + lam * W[i]
                b1, b2 = opt.betas
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                m_hat, v_hat = m[i] / (1 - b1**k), v[i] / (1 - b2**k)
                W[i] = W[i] - ETA * m_hat / (np.sqrt(v_hat) + opt.eps)
                continue
            if opt.decoupled:
                W[i] = W[i] * (1 - ETA * lam)
            else:
                g = g + lam * W[i]
            if mu:
                buf[i] = g.copy() if buf[i] is None else mu * buf[i] + g
                g = g + mu * buf[i] if opt.nesterov else buf[i]
            W[i] = W[i] - ETA * g
        out.append([w.copy() for w in W])
    return out


OPTIMIZERS = [
    Optimizer(),
    Optimizer("gd", weight_decay=0.3),
    Optimizer("gd", weight_decay=0.3, decoupled=True),
    Optimizer("gd", momentum=0.8),
    Optimizer("gd", momentum=0.8, nesterov=True),
    Optimizer("gd", momentum=0.8, weight_decay=0.3),
    Optimizer("gd", momentum=0.8, weight_decay=0.3, decoupled=True),
    Optimizer("sgd", batch_size=4, seed=7),
    Optimizer("sgd", batch_size=4, momentum=0.5, nesterov=True, weight_decay=0.2, seed=3),
    Optimizer("adam"),
    Optimizer("adam", betas=(0.8, 0.9), eps=1e-6, weight_decay=0.3),
    Optimizer("adam", weight_decay=0.3, decoupled=True),
    Optimizer("adam", batch_size=5, seed=2),
]


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=str)
def test_first_steps_match_the_update_rule(opt):
    task = _task()
    W0 = gaussian_init((3, 4, 2), 0.5, seed=1)
    traj = train(DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=np.arange(STEPS + 1) * ETA, optimizer=opt)
    hand = _hand(opt, W0, task, STEPS)
    for k in range(STEPS + 1):
        for layer in range(2):
            # a few steps of O(1) arithmetic: round-off ≲ 1e-15; 1e-12 is far below any rule's difference (≥ 1e-4)
            np.testing.assert_allclose(traj.weights[layer][k, 0], hand[k][layer], rtol=0, atol=1e-12)
    assert traj.optimizer == opt


def test_the_rules_differ_so_the_hand_comparison_can_fail():
    task, W0 = _task(), gaussian_init((3, 4, 2), 0.5, seed=1)
    ends = [_hand(opt, W0, task, STEPS)[-1][0] for opt in OPTIMIZERS]
    for i in range(len(ends)):
        for j in range(i):
            same = {i, j} == {1, 2}  # coupled and decoupled decay coincide for GD without momentum
            gap = np.max(np.abs(ends[i] - ends[j]))
            assert (gap < 1e-12) if same else (gap > 1e-4), (OPTIMIZERS[i], OPTIMIZERS[j], gap)


def test_torch_sgd_path_is_bit_identical_to_the_plain_gd_loop():
    """torch.optim.SGD's step (lr η, no momentum) is the same in-place W −= ηg as train's own loop."""
    task = _task()
    net = DeepLinear((3, 4, 2))
    data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
    out = []
    for loop in (_gd_loop, _optimizer_loop):
        W = [torch.tensor(w) for w in gaussian_init(net.sizes, 0.5, seed=1, batch=2)]
        rec = [torch.empty((2, *w.shape), dtype=torch.float64) for w in W]
        extra = (Optimizer(),) if loop is _optimizer_loop else ()
        with torch.no_grad():
            loop(net, W, data, ETA, 50, [0, 50], rec, False, *extra)
        out.append(rec)
    for a, b in zip(*out, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "opt",
    [
        Optimizer("adam", weight_decay=0.1, decoupled=True),
        Optimizer("adam", weight_decay=0.1),
        Optimizer("sgd", batch_size=3, momentum=0.9, nesterov=True, weight_decay=0.1, seed=4),
    ],
    ids=str,
)
@pytest.mark.parametrize("net", [DeepLinear((3, 5, 5, 2)), TwoLayer((3, 5, 2), "tanh")], ids=["deep", "tanh"])
def test_batched_equals_looped(opt, net):
    """Each network of a batch has its own optimizer state: training 3 together equals training each alone."""
    task = _task()
    W0 = gaussian_init(net.sizes, 0.5, seed=2, batch=3)
    times = np.arange(0, 41, 10) * 0.02
    together = train(net, W0, task, eta=0.02, times=times, optimizer=opt)
    for b in range(3):
        alone = train(net, [w[b : b + 1] for w in W0], task, eta=0.02, times=times, optimizer=opt)
        for wt, wa in zip(together.weights, alone.weights, strict=True):
            # batched and single matmuls may sum in another order: round-off over 40 steps of O(1) weights ≲ 1e-14
            np.testing.assert_allclose(wt[:, b], wa[:, 0], rtol=0, atol=1e-12)


def test_default_is_plain_gd_and_matches_the_hand_rule():
    task = _task()
    W0 = gaussian_init((3, 4, 2), 0.5, seed=1)
    a = train(DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=np.arange(STEPS + 1) * ETA)
    b = train(DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=np.arange(STEPS + 1) * ETA, optimizer=Optimizer("gd"))
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))
    assert Optimizer().is_plain_gd and Optimizer("gd", decoupled=True).is_plain_gd
    assert not Optimizer("gd", weight_decay=0.1).is_plain_gd


# --- minibatches and seeds -------------------------------------------------------------------------------------


@given(n=st.integers(1, 30), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_minibatch_indices_are_distinct_items(n, data, seed):
    b = data.draw(st.integers(1, n))
    draws = minibatch_indices(n, b, seed)
    for _ in range(5):
        idx = next(draws)
        assert idx.shape == (b,) and len(set(idx.tolist())) == b
        assert idx.min() >= 0 and idx.max() < n


def test_minibatch_draws_are_uniform():
    """Every item is drawn with probability b/P per step: 4000 steps of 3 of 10 give 1200 ± 29 (binomial sd
    √(4000·0.3·0.7)); ±5 sd is a bound no fair sampler exceeds in practice."""
    draws = minibatch_indices(10, 3, seed=0)
    counts = np.bincount(np.concatenate([next(draws) for _ in range(4000)]), minlength=10)
    assert np.all(np.abs(counts - 1200) < 5 * np.sqrt(4000 * 0.3 * 0.7))


def test_seeds_reproduce_and_differ():
    task, W0 = _task(), gaussian_init((3, 4, 2), 0.5, seed=1)
    times = np.arange(0, 11) * ETA

    def run(seed):
        return train(
            DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=times, optimizer=Optimizer("sgd", batch_size=3, seed=seed)
        ).weights[0]

    assert np.array_equal(run(5), run(5))
    assert np.max(np.abs(run(5) - run(6))) > 1e-6
    full = train(DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=times).weights[0]
    batch_all = train(
        DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=times, optimizer=Optimizer("sgd", batch_size=task.P)
    ).weights[0]
    # a "minibatch" of all items is full-batch GD (the covariances of all P items): round-off only
    np.testing.assert_allclose(batch_all, full, rtol=0, atol=1e-13)


# --- stability and bad inputs ----------------------------------------------------------------------------------


def test_decay_watch_uses_the_regularised_objective():
    """GD with decay from the data's optimum raises the data loss (decay pulls W off it) while lowering
    L + (λ/2)‖W‖²: that is not instability; a step beyond 2/(λ_max + λ) is."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 12))
    task = Task(X, rng.normal(size=(2, 3)) @ X)
    A = task.sigma_yx @ np.linalg.inv(task.sigma_xx)
    net = DeepLinear((3, 2))
    times = np.arange(0, 201) * 0.01
    traj = train(net, [A[None]], task, eta=0.01, times=times, optimizer=Optimizer("gd", weight_decay=1.0))
    assert traj.loss[-1, 0] > traj.loss[0, 0] + 1e-3  # the data loss rose, and train did not object
    bound = 2 / (np.linalg.eigvalsh(task.sigma_xx).max() + 1.0)
    with pytest.raises(FloatingPointError, match=r"unstable .* the L \+ \(λ/2\)Σ‖W_l‖² of network 0 rose"):
        train(net, [A[None] + 0.1], task, eta=1.1 * bound, times=[0.0, 2000 * 1.1 * bound],
              optimizer=Optimizer("gd", weight_decay=1.0))  # fmt: skip


def test_divergence_is_detected_for_every_optimizer():
    task, W0 = _task(), gaussian_init((3, 4, 2), 0.5, seed=1)
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        train(DeepLinear((3, 4, 2)), W0, task, eta=5.0, times=[0.0, 500 * 5.0], optimizer=Optimizer("gd", momentum=0.9))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "rmsprop"}, ValueError, "known: 'gd', 'sgd', 'adam'"),
        ({"name": "sgd"}, ValueError, "needs a batch_size"),
        ({"name": "gd", "batch_size": 4}, ValueError, "full-batch"),
        ({"name": "sgd", "batch_size": 0}, ValueError, "positive integer"),
        ({"name": "sgd", "batch_size": 2.5}, ValueError, "positive integer"),
        ({"momentum": 1.0}, ValueError, r"\[0, 1\)"),
        ({"momentum": float("nan")}, ValueError, "finite"),
        ({"nesterov": True}, ValueError, "momentum > 0"),
        ({"weight_decay": -0.1}, ValueError, "≥ 0"),
        ({"decoupled": 1}, TypeError, "True or False"),
        ({"name": "adam", "momentum": 0.9}, ValueError, "betas"),
        ({"name": "adam", "betas": (0.9, 1.0)}, ValueError, r"\[0, 1\)"),
        ({"name": "adam", "eps": 0.0}, ValueError, "eps must be > 0"),
        ({"betas": (0.9, 0.99)}, ValueError, "Adam's settings"),
        ({"name": "sgd", "batch_size": 2, "seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_specs(kwargs, error, match):
    with pytest.raises(error, match=match):
        Optimizer(**kwargs)


def test_bad_train_arguments():
    task, W0 = _task(P=10), gaussian_init((3, 4, 2), 0.5, seed=1)
    net = DeepLinear((3, 4, 2))
    with pytest.raises(ValueError, match="exceeds the task's 10 items"):
        train(net, W0, task, eta=ETA, times=[0.0, ETA], optimizer=Optimizer("sgd", batch_size=11))
    with pytest.raises(ValueError, match="allow_unstable=True switches off"):
        train(net, W0, task, eta=ETA, times=[0.0, ETA], optimizer=Optimizer("adam"), allow_unstable=True)
    with pytest.raises(TypeError, match=r"simulate\.Optimizer"):
        train(net, W0, task, eta=ETA, times=[0.0, ETA], optimizer="adam")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("opt", [Optimizer("adam", weight_decay=0.1, decoupled=True), OPTIMIZERS[8]], ids=str)
def test_cuda_matches_cpu(opt):
    """On CUDA torch.optim takes its foreach path and the minibatch indices move to the device: same trajectory to
    round-off (40 steps of O(1) weights; cuBLAS sums in another order, ≲ 1e-13)."""
    task, W0 = _task(), gaussian_init((3, 4, 2), 0.5, seed=1, batch=4)
    times = np.arange(0, 41, 10) * ETA
    cpu = train(DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=times, optimizer=opt)
    gpu = train(DeepLinear((3, 4, 2)), W0, task, eta=ETA, times=times, optimizer=opt, device="cuda")
    for a, b in zip(cpu.weights, gpu.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
