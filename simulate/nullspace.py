"""Partially identifiable regression: shallow and factorised linear models on low-rank inputs (issue 14).

Inputs X = U Z (``n_in`` × ``items``) lie in an r-dimensional subspace (U orthonormal, Z whitened, so
Σxx = UUᵀ), targets Y = A* X + σ·N(0, 1) come from a full-rank teacher A* ~ N(0, 1/n_in) (``n_out`` × ``n_in``).
The data fix A only on X's row space: Q_x = I − XX⁺ (`theory.regression.nullspace_projector`) projects on the
directions the data never excite, and ‖ÂQ_x‖_F, the model's *null-space mass*, is decided by the training
dynamics alone (its implicit bias), not by the data.

`NullspaceExperiment` trains models Â = W_L ⋯ W_1 (depth 1: the shallow model A) with any optimizer of
`simulate.optim` and an intervention, and records the measurements of a run (class docstring) next to what the
laws predict where one applies (`nullspace_preservation`, `nullspace_weight_decay`).

>>> from simulate.sweeps import sweep
>>> exp = NullspaceExperiment(n_in=6, rank=2, n_out=2, items=12, steps=50, n_records=3)
>>> t = sweep(exp, [{"depth": 2, "width": 8, "init_scale": 0.5, "optimizer": "gd", "intervention": "none",
...                  "noise": 0.1}], seeds=[0], progress=False)
>>> t.law.iloc[-1], bool(t.w1_null_residual.iloc[-1] < 1e-12)  # GD keeps W1Q_x exactly
('nullspace_preservation', True)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from simulate import measures
from simulate.networks import BalancePenalized, DeepLinear, TaskTensors
from simulate.optim import Optimizer
from simulate.sweeps import Experiment
from simulate.tasks import Task, _rng, random_orthogonal, whiten
from simulate.train import train
from theory.regression import nullspace_projector
from theory.weight_decay import nullspace_factor

__all__ = ["INTERVENTIONS", "NULLSPACE_AXES", "OPTIMIZER_NAMES", "NullspaceExperiment"]

# the configuration of one run: what `NullspaceExperiment.run` reads from each configuration
NULLSPACE_AXES = ("depth", "width", "init_scale", "optimizer", "intervention", "noise")
OPTIMIZER_NAMES = ("gd", "sgd", "momentum", "adam")
INTERVENTIONS = ("none", "weight_decay", "decoupled_weight_decay", "balance_penalty")


@dataclass(frozen=True)
class NullspaceExperiment(Experiment):
    """Models Â = W_L ⋯ W_1 of ``depth`` layers (hidden layers of ``width``; depth 1 is the shallow model A and
    takes ``width`` 0) on the task of the module docstring, ``steps`` steps of one optimizer.

    **Initialisation**: W_l ~ N(0, s²/fan_in) entrywise, s = ``init_scale``, from the run's seed.

    **Optimizers** (``optimizer``): ``"gd"`` (full batch, step ``eta``), ``"sgd"`` (``batch_size`` items a
    step, step ``eta``; the minibatch stream is drawn from the configuration's ``task_seed``, so the seeds of a
    configuration differ only in their initialisation), ``"momentum"`` (full-batch heavy ball, μ = ``momentum``,
    step ``eta``·(1 − μ), so that its settled step η/(1 − μ)·g matches GD's), ``"adam"`` (full batch, step
    ``adam_eta``).

    **Interventions** (``intervention``): ``"none"``; ``"weight_decay"`` (coupled: λW added to the gradient,
    λ = ``weight_decay``); ``"decoupled_weight_decay"`` (W ← (1 − ηλ)W before the step: SGDW / AdamW);
    ``"balance_penalty"`` (`BalancePenalized`, strength ``balance_strength``; depth ≥ 2).

    **Rows** (one per recorded time, `record_steps`: 0, then geometric from 1 to ``steps``): ``step``, ``t`` = step·η; ``loss`` (the
    data loss ½⟨‖y − ŷ‖²⟩), ``null_mass`` ‖ÂQ_x‖_F, ``support_error`` ‖(Â − A*)P_x‖_F/‖A*P_x‖_F (P_x = I − Q_x,
    the fit on X's row space), ``relative_error`` ‖Â − A*‖_F/‖A*‖_F, ``effective_rank`` of Â
    (`measures.effective_rank`), its singular values ``sv_1`` ≥ … ≥ ``sv_m`` (m = min(n_out, n_in)), ``norm_1`` … ``norm_L`` (‖W_l‖_F, NaN beyond the depth),
    ``balance`` Σ_l‖D_l‖_F and ``balance_drift`` Σ_l‖D_l(t) − D_l(0)‖_F (D_l = W_lW_lᵀ − W_{l+1}ᵀW_{l+1}; NaN at
    depth 1), ``w1_null`` ‖W1Q_x‖_F; and, where a law predicts W1Q_x, ``w1_null_law`` = ‖f_k W1(0)Q_x‖_F and
    ``w1_null_residual`` = ‖W1(k)Q_x − f_k W1(0)Q_x‖_F/‖W1(0)Q_x‖_F, with f_k = 1 (``law`` =
    ``"nullspace_preservation"``: GD, SGD or momentum without decay) or `theory.weight_decay.nullspace_factor`
    (``"nullspace_weight_decay"``: with either decay, through the heavy-ball recursion for coupled decay with
    momentum); ``law`` = ``"none"`` and NaN for Adam and the balance penalty, which no law covers.
    """

    n_in: int = 16
    rank: int = 6
    n_out: int = 4
    items: int = 48
    steps: int = 2000
    n_records: int = 11
    eta: float = 0.05
    adam_eta: float = 0.005
    momentum: float = 0.9
    batch_size: int = 8
    weight_decay: float = 0.01
    balance_strength: float = 0.1
    max_depth: int = 3
    name: str = "nullspace"

    def __post_init__(self) -> None:
        self.require_positive_ints("n_in", "rank", "n_out", "items", "steps", "n_records", "batch_size", "max_depth")
        if not self.rank < self.n_in:
            raise ValueError(f"rank {self.rank} must be below n_in = {self.n_in}: with full-rank inputs nothing is "
                             "unidentified and the null-space mass is 0")  # fmt: skip
        if self.items < self.rank or self.batch_size > self.items or self.n_records < 3:
            raise ValueError("need items ≥ rank, batch_size ≤ items and n_records ≥ 3")
        for name in ("eta", "adam_eta", "weight_decay", "balance_strength"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0) or (name.endswith("eta") and value == 0):
                raise ValueError(f"{name} must be finite and ≥ 0 (step sizes > 0), got {value!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum!r}")

    def task(self, noise: float, task_seed: int) -> tuple[Task, np.ndarray]:
        """The regression task and its teacher A* (module docstring)."""
        if not (np.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a finite standard deviation ≥ 0, got {noise!r}")
        rng = _rng(task_seed)
        U = random_orthogonal(self.n_in, self.rank, rng)
        X = U @ whiten(rng.normal(size=(self.rank, self.items)))
        A = rng.normal(size=(self.n_out, self.n_in)) / np.sqrt(self.n_in)
        Y = A @ X + noise * rng.normal(size=(self.n_out, self.items))
        return Task(X, Y, name=f"rank-{self.rank} regression, noise {noise}"), A

    def optimizer(self, name: str, intervention: str, task_seed: int) -> tuple[Optimizer, float]:
        """The `simulate.optim.Optimizer` and step size of an (optimizer, intervention) pair."""
        if name not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZER_NAMES)}")
        if intervention not in INTERVENTIONS:
            raise ValueError(f"unknown intervention {intervention!r}; known: {', '.join(INTERVENTIONS)}")
        decay = self.weight_decay if intervention.endswith("weight_decay") else 0.0
        decoupled = intervention == "decoupled_weight_decay"
        if name == "adam":
            return Optimizer("adam", weight_decay=decay, decoupled=decoupled), self.adam_eta
        if name == "sgd":
            opt = Optimizer("sgd", weight_decay=decay, decoupled=decoupled, batch_size=self.batch_size, seed=task_seed)
            return opt, self.eta
        if name == "momentum":
            opt = Optimizer("gd", weight_decay=decay, decoupled=decoupled, momentum=self.momentum)
            return opt, self.eta * (1 - self.momentum)
        return Optimizer("gd", weight_decay=decay, decoupled=decoupled), self.eta

    def record_steps(self) -> np.ndarray:
        """Step 0 and ``n_records`` − 1 steps spaced geometrically from 1 to ``steps`` (Adam's null-space transient
        and small-init escapes happen early; a uniform grid would see them in one record).

        >>> NullspaceExperiment(steps=1000, n_records=5).record_steps().tolist()
        [0, 1, 10, 100, 1000]
        """
        return np.unique(np.concatenate([[0], np.geomspace(1, self.steps, self.n_records - 1).round()])).astype(
            np.int64
        )

    def run(self, items: Sequence[tuple[Mapping[str, Any], int]]) -> list[pd.DataFrame]:
        config = self.unit_config(items, NULLSPACE_AXES)
        depth, width = int(config["depth"]), int(config["width"])
        intervention, task_seed = str(config["intervention"]), int(config.get("task_seed", 0))
        if not 1 <= depth <= self.max_depth:
            raise ValueError(f"depth must be 1 … {self.max_depth}, got {depth}")
        if (depth == 1) != (width == 0):
            raise ValueError(f"width is the hidden layers' size: 0 for the shallow model (depth 1), ≥ 1 otherwise; "
                             f"got depth {depth}, width {width}")  # fmt: skip
        if intervention == "balance_penalty" and depth == 1:
            raise ValueError("the balance penalty acts between layers: it needs depth ≥ 2")
        task, teacher = self.task(float(config["noise"]), task_seed)
        optimizer, eta = self.optimizer(str(config["optimizer"]), intervention, task_seed)
        sizes = (self.n_in, *([width] * (depth - 1)), self.n_out)
        network = (
            BalancePenalized(sizes, strength=self.balance_strength)
            if intervention == "balance_penalty"
            else DeepLinear(sizes)
        )
        seeds = [seed for _, seed in items]
        draws = [self._init(sizes, float(config["init_scale"]), seed) for seed in seeds]  # each from its seed only
        W0 = [np.stack([draw[layer] for draw in draws]) for layer in range(depth)]
        steps = self.record_steps()
        trajectory = train(network, W0, task, eta=eta, times=steps * eta, optimizer=optimizer)
        law, factor = self._law(optimizer, eta, intervention, steps)
        return [self._frame(trajectory.weights, b, steps, eta, task, teacher, law, factor) for b in range(len(seeds))]

    @staticmethod
    def _init(sizes: tuple[int, ...], scale: float, seed: int) -> list[np.ndarray]:
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"init_scale must be a finite s > 0, got {scale!r}")
        rng = _rng(seed)
        return [scale / np.sqrt(n) * rng.normal(size=(m, n)) for n, m in itertools.pairwise(sizes)]

    def _law(
        self, optimizer: Optimizer, eta: float, intervention: str, steps: np.ndarray
    ) -> tuple[str, np.ndarray | None]:
        """Which law predicts W1Q_x for this optimizer and intervention, and its factor f_k at each step."""
        if optimizer.name == "adam" or intervention == "balance_penalty":
            return "none", None
        if optimizer.weight_decay == 0:
            return "nullspace_preservation", np.ones(len(steps))
        factor = nullspace_factor(
            steps, eta, optimizer.weight_decay, momentum=optimizer.momentum, decoupled=optimizer.decoupled
        )
        return "nullspace_weight_decay", factor

    def _frame(
        self,
        weights: Sequence[np.ndarray],
        b: int,
        steps: np.ndarray,
        eta: float,
        task: Task,
        teacher: np.ndarray,
        law: str,
        factor: np.ndarray | None,
    ) -> pd.DataFrame:
        Ws = [w[:, b] for w in weights]  # each (T, out, in)
        A = Ws[0]
        for W in Ws[1:]:
            A = W @ A
        Q = nullspace_projector(task.X)
        P = np.eye(self.n_in) - Q
        data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
        loss = DeepLinear((self.n_in, self.n_out)).loss([torch.tensor(A)], data).numpy()
        sv = np.linalg.svd(A, compute_uv=False)
        frame = pd.DataFrame(
            {
                "step": steps,
                "t": steps * eta,
                "loss": loss,
                "null_mass": np.linalg.norm(A @ Q, axis=(-2, -1)),
                "support_error": np.linalg.norm((A - teacher) @ P, axis=(-2, -1)) / np.linalg.norm(teacher @ P),
                "relative_error": np.linalg.norm(A - teacher, axis=(-2, -1)) / np.linalg.norm(teacher),
                "effective_rank": measures.effective_rank(A),
            }
        )
        for i in range(sv.shape[1]):
            frame[f"sv_{i + 1}"] = sv[:, i]
        for i in range(self.max_depth):
            frame[f"norm_{i + 1}"] = np.linalg.norm(Ws[i], axis=(-2, -1)) if i < len(Ws) else np.nan
        D = [
            Ws[i] @ np.swapaxes(Ws[i], -1, -2) - np.swapaxes(Ws[i + 1], -1, -2) @ Ws[i + 1] for i in range(len(Ws) - 1)
        ]
        frame["balance"] = sum(np.linalg.norm(d, axis=(-2, -1)) for d in D) if D else np.nan
        frame["balance_drift"] = sum(np.linalg.norm(d - d[0], axis=(-2, -1)) for d in D) if D else np.nan
        null1 = Ws[0] @ Q
        frame["w1_null"] = np.linalg.norm(null1, axis=(-2, -1))
        frame["law"] = law
        if factor is None:
            frame["w1_null_law"] = np.nan
            frame["w1_null_residual"] = np.nan
        else:
            predicted = factor[:, None, None] * null1[0]
            frame["w1_null_law"] = np.linalg.norm(predicted, axis=(-2, -1))
            frame["w1_null_residual"] = np.linalg.norm(null1 - predicted, axis=(-2, -1)) / np.linalg.norm(null1[0])
        return frame
