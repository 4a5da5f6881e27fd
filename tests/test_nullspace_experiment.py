"""The partially identifiable regression experiment (`simulate.nullspace`) and the balancing penalty network."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from simulate.networks import BalancePenalized, DeepLinear, TaskTensors
from simulate.nullspace import NullspaceExperiment
from theory.regression import nullspace_projector

EXP = NullspaceExperiment(n_in=8, rank=3, n_out=2, items=16, steps=200, n_records=5, batch_size=4)


def _config(**over):
    config = {"depth": 2, "width": 6, "init_scale": 0.7, "optimizer": "gd", "intervention": "none", "noise": 0.1}
    return config | over


def _run(seeds=(0, 1), experiment=EXP, **over):
    return experiment.run([(_config(**over), seed) for seed in seeds])


def test_penalty_gradients_are_the_gradients_of_the_penalised_loss():
    net = BalancePenalized((5, 4, 3, 2), strength=0.7)
    rng = np.random.default_rng(0)
    W = [torch.tensor(rng.normal(size=(2, m, n)), requires_grad=True) for n, m in [(5, 4), (4, 3), (3, 2)]]
    task, _ = dataclasses.replace(EXP, n_in=5, rank=2).task(0.1, 0)
    data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
    auto = torch.autograd.grad(net.loss(W, data).sum(), W)
    for mine, theirs in zip(net.grads([w.detach() for w in W], data), auto, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    # without the penalty's gradient the check fails: the test can tell the two apart
    plain = DeepLinear((5, 4, 3, 2)).grads([w.detach() for w in W], data)
    assert not np.allclose(plain[0].numpy(), auto[0].numpy(), atol=1e-6)


def test_penalty_vanishes_on_balanced_weights_and_refuses_one_layer():
    Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    W = [torch.tensor(2 * Q)[None], torch.tensor(2 * Q.T)[None]]  # W1W1ᵀ = 4I = W2ᵀW2
    assert float(BalancePenalized((3, 3, 3)).penalty(W)[0]) == pytest.approx(0, abs=1e-24)
    with pytest.raises(ValueError, match="at least two layers"):
        BalancePenalized((3, 2))
    with pytest.raises(ValueError, match="strength"):
        BalancePenalized((3, 2, 2), strength=-1.0)


def test_the_task_is_low_rank_with_a_full_rank_teacher():
    task, teacher = EXP.task(0.0, 4)
    assert np.linalg.matrix_rank(task.X) == 3 and np.linalg.matrix_rank(teacher) == 2
    np.testing.assert_allclose(task.Y, teacher @ task.X, atol=1e-12)  # no noise: Y = A*X
    Q = nullspace_projector(task.X)
    assert np.trace(Q) == pytest.approx(5) and np.allclose(task.X.T @ Q, 0, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "momentum"])
@pytest.mark.parametrize("intervention", ["none", "weight_decay", "decoupled_weight_decay"])
def test_runs_a_law_covers_hold_it_to_round_off(optimizer, intervention):
    for frame in _run(optimizer=optimizer, intervention=intervention):
        assert frame.law.iloc[0] == ("nullspace_preservation" if intervention == "none" else "nullspace_weight_decay")
        assert frame.w1_null_residual.max() < 1e-12
        if intervention != "none":
            assert frame.w1_null.iloc[-1] < 0.999 * frame.w1_null.iloc[0]  # the decay did act (momentum: f = 0.990)
        else:
            assert frame.w1_null.iloc[-1] == pytest.approx(frame.w1_null.iloc[0], rel=1e-12)


def test_the_shallow_models_mass_is_its_initialisations_under_gd():
    frame = _run(depth=1, width=0)[0]
    assert frame.null_mass.iloc[-1] == pytest.approx(frame.null_mass.iloc[0], rel=1e-12)
    assert frame.support_error.iloc[-1] < 0.1 * frame.support_error.iloc[0]  # while it fits the row space


def test_what_no_law_covers_is_measured_not_predicted():
    adam = _run(optimizer="adam")[0]
    assert (adam.law == "none").all() and adam.w1_null_residual.isna().all()
    assert abs(adam.w1_null.iloc[-1] / adam.w1_null.iloc[0] - 1) > 1e-3  # Adam moves W1Q_x
    penalty, plain = _run(intervention="balance_penalty")[0], _run()[0]
    assert (penalty.law == "none").all()
    assert penalty.balance.iloc[-1] < 0.5 * plain.balance.iloc[-1]  # the penalty balances the layers


def test_a_run_does_not_depend_on_the_seeds_it_shares_a_batch_with():
    both = _run(seeds=(0, 1), optimizer="sgd")
    alone = _run(seeds=(1,), optimizer="sgd")[0]
    numeric = [c for c in alone.columns if c != "law"]
    np.testing.assert_allclose(both[1][numeric].to_numpy(float), alone[numeric].to_numpy(float), rtol=1e-10)


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError, match="width is the hidden"):
        _run(depth=1, width=4)
    with pytest.raises(ValueError, match="depth ≥ 2"):
        _run(depth=1, width=0, intervention="balance_penalty")
    with pytest.raises(ValueError, match="unknown optimizer"):
        _run(optimizer="rmsprop")
    with pytest.raises(ValueError, match="unknown intervention"):
        _run(intervention="dropout")
    with pytest.raises(ValueError, match="lacks"):
        EXP.run([({"depth": 2}, 0)])
    with pytest.raises(ValueError, match="below n_in"):
        NullspaceExperiment(n_in=4, rank=4)
    with pytest.raises(ValueError, match="noise"):
        EXP.task(float("nan"), 0)
