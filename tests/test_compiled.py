"""simulate.compiled: the numba GD loop gives the torch path's trajectories to round-off, and train chooses it."""

import numpy as np
import pytest

import simulate.compiled as compiled
from simulate import DeepLinear, gaussian_init, prescribed_task, random_regression, train


def _both(monkeypatch, net, W, task, times):
    fast = train(net, W, task, eta=0.01, times=times)
    monkeypatch.setattr(compiled, "available", lambda: False)
    slow = train(net, W, task, eta=0.01, times=times)
    return fast, slow


@pytest.mark.parametrize("make_task", ["random", "prescribed"])
def test_compiled_and_torch_paths_agree_to_round_off(monkeypatch, make_task):
    # 5,000 steps of an O(1) contraction: summation order differs from BLAS by ≈ 1e-16 a step; measured ≤ 3e-15
    if make_task == "random":  # Σxx ≈ I to round-off, so its product is computed
        task, net = random_regression(5, 3, 40, seed=1), DeepLinear((5, 7, 3))
    else:  # Σxx = I exactly, so its product is skipped (exactly: x·1 + y·0 = x)
        task, net = prescribed_task([2.0, 1.0, 0.5], Ni=3, No=3, seed=0), DeepLinear((3, 4, 3))
    W = gaussian_init(net.sizes, 0.2, seed=3, batch=3)
    times = np.linspace(0.0, 50.0, 6)
    fast, slow = _both(monkeypatch, net, W, task, times)
    for a, b in zip(fast.weights, slow.weights, strict=True):
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-11, atol=1e-14)


def test_a_wrong_step_would_show(monkeypatch):
    # the comparison above can fail: mid-learning (100 steps, not converged) the torch path at η(1 + 1e-7) differs
    # by ≈ 1e-7 relative, 1e4× the 1e-12 tolerance
    task, net = random_regression(4, 2, 30, seed=2), DeepLinear((4, 5, 2))
    W = gaussian_init(net.sizes, 0.2, seed=1)
    fast = train(net, W, task, eta=0.01, times=[0.0, 1.0])
    monkeypatch.setattr(compiled, "available", lambda: False)
    slow = train(net, W, task, eta=0.01 * (1 + 1e-7), times=[0.0, 1.0 * (1 + 1e-7)])
    assert np.max(np.abs(fast.weights[0] - slow.weights[0])) > 1e-9 * np.max(np.abs(slow.weights[0]))


def test_train_uses_the_compiled_path_only_where_it_applies(monkeypatch):
    calls = []
    original = compiled.gd_two_layer

    def spy(*args, **kwargs):
        calls.append(args[0].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(compiled, "gd_two_layer", spy)
    task = random_regression(3, 2, 20, seed=0)
    train(DeepLinear((3, 4, 2)), gaussian_init((3, 4, 2), 0.1, seed=0, batch=2), task, eta=0.01, times=[0.0, 0.1])
    big = compiled.MAX_BATCH + 1
    train(DeepLinear((3, 4, 2)), gaussian_init((3, 4, 2), 0.1, seed=0, batch=big), task, eta=0.01, times=[0.0, 0.1])
    train(DeepLinear((3, 4, 4, 2)), gaussian_init((3, 4, 4, 2), 0.1, seed=0), task, eta=0.01, times=[0.0, 0.1])
    wide = random_regression(50, 50, 60, seed=0)
    train(DeepLinear((50, 64, 50)), gaussian_init((50, 64, 50), 0.01, seed=0), wide, eta=0.01, times=[0.0, 0.1])
    assert calls == [2, big]  # not the three-layer network, not the wide one (torch is faster there)


@pytest.mark.parametrize("identity", [True, False])
def test_the_batched_loop_equals_the_one_network_loop_bit_for_bit(identity):
    # same arithmetic in the same order per network, vectorised across networks: no rounding may differ
    rng = np.random.default_rng(7)
    n = compiled.MAX_BATCH + 37  # more than one chunk when CHUNK < n, and a ragged last chunk
    W1, W2 = 0.3 * rng.normal(size=(n, 6, 4)), 0.3 * rng.normal(size=(n, 3, 6))
    sxx = np.eye(4) if identity else np.eye(4) + 0.01 * np.ones((4, 4))
    syx = rng.normal(size=(3, 4))
    steps = np.array([0, 1, 17, 300])
    batched = compiled.gd_two_layer(W1, W2, sxx, syx, 0.05, steps)
    one = [compiled.gd_two_layer(W1[i : i + 1], W2[i : i + 1], sxx, syx, 0.05, steps) for i in range(0, n, 13)]
    for k, (r1, r2) in zip(range(0, n, 13), one, strict=True):
        np.testing.assert_array_equal(batched[0][:, k : k + 1], r1)
        np.testing.assert_array_equal(batched[1][:, k : k + 1], r2)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="do not fit a two-layer network"):
        compiled.gd_two_layer(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), np.eye(3), np.zeros((2, 3)), 0.1, np.array([0]))
    with pytest.raises(ValueError, match="increasing"):
        compiled.gd_two_layer(
            np.zeros((1, 2, 3)), np.zeros((1, 2, 2)), np.eye(3), np.zeros((2, 3)), 0.1, np.array([2, 1])
        )


def test_a_ctrl_c_inside_a_compiled_call_is_held_and_delivered_after_it():
    # numba loses a SIGINT that lands in LLVM's compiler; the guard holds it and raises when the call ends. Python's
    # handler is installed for the test: a shell that starts pytest in the background makes the process ignore SIGINT
    import os
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        reached_end = False
        with pytest.raises(KeyboardInterrupt):
            with compiled._interrupt_after():
                os.kill(os.getpid(), signal.SIGINT)
                reached_end = True  # the signal did not interrupt the block
        assert reached_end
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with compiled._interrupt_after():  # an ignored Ctrl-C stays ignored
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)
