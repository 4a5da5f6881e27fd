"""Experiments for `simulate.sweeps`: the runs that lawbook's studies are made of (issue 13).

`ContinualExperiment` trains two-layer networks (`TwoLayer`: any activation, parameterisation and γ0) on a sequence
of teacher tasks with an exactly set similarity, and records the losses of every task through training with the
standard measurements of `simulate.measures`.

>>> from simulate.sweeps import sweep
>>> exp = ContinualExperiment(n_in=4, n_out=1, items=16, steps=20, n_records=3)
>>> table = sweep(exp, [{"width": 8, "activation": "tanh", "parameterization": "ntk", "gamma0": 1.0,
...                      "similarity": 0.5}], seeds=[0, 1], progress=False)
>>> table.shape[0], sorted(set(table.phase))  # 2 seeds × 2 phases × 3 records
(12, [0, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulate import measures
from simulate.networks import TwoLayer
from simulate.sweeps import Experiment
from simulate.tasks import Task, _rng, whiten
from simulate.train import train
from theory.forgetting import task_distance

__all__ = ["CONTINUAL_AXES", "ContinualExperiment", "OverparameterizedExperiment", "teachers_at_cosine"]

# the configuration of one continual run: what `ContinualExperiment.run` reads from each configuration
CONTINUAL_AXES = ("width", "activation", "parameterization", "gamma0", "similarity")


def teachers_at_cosine(A: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """A matrix B with ‖B‖_F = ‖A‖_F and cos(A, B) = ⟨A, B⟩_F/(‖A‖‖B‖) = ``cosine`` exactly: B = cA + √(1−c²)A⊥,
    A⊥ a random direction orthogonal to A (Gram–Schmidt) scaled to ‖A‖.

    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(2, 3)); B = teachers_at_cosine(A, 0.3, rng)
    >>> round(float((A * B).sum() / np.linalg.norm(A) / np.linalg.norm(B)), 12)
    0.3
    """
    if not (np.isfinite(cosine) and -1 <= cosine <= 1):
        raise ValueError(f"cosine must lie in [-1, 1], got {cosine!r}")
    norm = np.linalg.norm(A)
    if norm == 0:
        raise ValueError("A = 0 has no direction to set a cosine against")
    G = rng.normal(size=A.shape)
    G -= (G * A).sum() / norm**2 * A
    if np.linalg.norm(G) == 0:  # A is a single number: no orthogonal direction exists
        raise ValueError("A has one entry: only cosines ±1 are possible; use a teacher with ≥ 2 entries")
    return cosine * A + np.sqrt(1 - cosine**2) * G * (norm / np.linalg.norm(G))


@dataclass(frozen=True)
class ContinualExperiment(Experiment):
    """Two-layer students trained on ``n_tasks`` tasks in turn, ``steps`` GD steps each, from the parameterisation's
    initialisation (`TwoLayer.init`, centred at it so that ŷ = 0 at the start, `TwoLayer.centered_at`) with its
    step rule η = `TwoLayer.learning_rate`(``eta0``).

    **Tasks.** Shared whitened inputs X (``n_in`` × ``items``, Gaussian then whitened) and teacher targets
    Y_k = f_k(X): ``teacher="linear"`` has f_k(x) = A_k x with A_1 ~ N(0, 1/n_in) and each A_{k+1} at Frobenius
    cosine ``similarity`` to A_k (`teachers_at_cosine`, exact); ``teacher="tanh"`` has f_k(x) = a·tanh(B_k x)/√m
    (m = ``teacher_width``, B_1 ~ N(0, 1/n_in), a ~ N(0, 1) shared) with the first layers B_k at that cosine. The
    tasks depend on ``similarity`` and the configuration's ``task_seed`` (0 if it has none), not on the seed: the
    seeds of one configuration are initialisations of the same tasks, trained together as one batch.

    **Configuration** (`CONTINUAL_AXES`, plus optional ``task_seed``): width, activation, parameterization, gamma0,
    similarity.

    **Rows** (one per recorded time): ``phase`` (task being trained, 0-based), ``step`` within the phase, ``t``
    (global step·η0, the time in units of the base step), ``loss_<k>`` for every task k, ``feature_rate``
    (`measures.feature_learning_rate` of W1 against the initialisation), and per run (repeated on its rows):
    ``forgetting`` (`measures.forgetting` of task 0), ``ntk_change`` (`measures.ntk_change` on X between the
    initialisation and the end of the first phase) unless ``ntk=False``, and ``task_distance_law``: the loss on
    task 0 after the last task that the task-distance law (Braun et al. 2022, LAWS.md §3) gives a linear student
    trained to convergence, ½‖Σyx,last − Σyx,0‖²_F + c_0 (c_0 task 0's irreducible loss for a linear map: 0 for
    a linear teacher).
    """

    n_in: int = 8
    n_out: int = 1
    items: int = 64
    n_tasks: int = 2
    steps: int = 1000
    eta0: float = 0.05
    n_records: int = 11
    teacher: str = "linear"
    teacher_width: int = 16
    ntk: bool = True
    name: str = "continual"

    def __post_init__(self) -> None:
        for field_name in ("n_in", "n_out", "items", "n_tasks", "steps", "n_records", "teacher_width"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{field_name} must be a positive integer, got {value!r}")
        if self.n_records < 2 or self.n_tasks < 2:
            raise ValueError("n_records and n_tasks must be at least 2")
        if self.teacher not in ("linear", "tanh"):
            raise ValueError(f"unknown teacher {self.teacher!r}; use 'linear' or 'tanh'")
        if not (np.isfinite(self.eta0) and self.eta0 > 0):
            raise ValueError(f"eta0 must be a finite step > 0, got {self.eta0!r}")

    def tasks(self, similarity: float, task_seed: int) -> list[Task]:
        """The task sequence of a configuration (class docstring)."""
        rng = _rng(task_seed)
        X = whiten(rng.normal(size=(self.n_in, self.items)))
        if self.teacher == "linear":
            A = rng.normal(size=(self.n_out, self.n_in)) / np.sqrt(self.n_in)
            maps = [A]
            for _ in range(self.n_tasks - 1):
                maps.append(teachers_at_cosine(maps[-1], similarity, rng))
            targets = [A @ X for A in maps]
        else:
            B = rng.normal(size=(self.teacher_width, self.n_in)) / np.sqrt(self.n_in)
            a = rng.normal(size=(self.n_out, self.teacher_width))
            firsts = [B]
            for _ in range(self.n_tasks - 1):
                firsts.append(teachers_at_cosine(firsts[-1], similarity, rng))
            targets = [a @ np.tanh(B @ X) / np.sqrt(self.teacher_width) for B in firsts]
        return [Task(X, Y, name=f"{self.teacher} teacher {k} (cosine {similarity})") for k, Y in enumerate(targets)]

    def run(self, items: Sequence[tuple[Mapping[str, Any], int]]) -> list[pd.DataFrame]:
        config = items[0][0]
        if any(c != config for c, _ in items):
            raise ValueError("a unit of ContinualExperiment holds one configuration's seeds (see batch_key)")
        missing = [axis for axis in CONTINUAL_AXES if axis not in config]
        if missing:
            raise ValueError(f"the configuration lacks {missing}; ContinualExperiment needs {CONTINUAL_AXES}")
        seeds = [seed for _, seed in items]
        net = TwoLayer(
            (self.n_in, int(config["width"]), self.n_out),
            str(config["activation"]),
            parameterization=str(config["parameterization"]),
            gamma0=float(config["gamma0"]),
        )
        draws = [net.init(seed=seed) for seed in seeds]  # each run's init from its own seed only
        W0 = [np.concatenate([d[layer] for d in draws]) for layer in range(2)]
        net = net.centered_at(W0)
        tasks = self.tasks(float(config["similarity"]), int(config.get("task_seed", 0)))
        eta = net.learning_rate(self.eta0)
        steps = np.unique(np.linspace(0, self.steps, self.n_records).round().astype(np.int64))
        weights, phases = W0, []
        for task in tasks:
            phase = train(net, weights, task, eta=eta, times=steps * eta)
            phases.append(phase)
            weights = [w[-1] for w in phase.weights]
        losses = np.stack([np.stack([ph.loss_on(task) for task in tasks], axis=1) for ph in phases])  # (P, T, n, B)
        forgetting = measures.forgetting(losses[:, -1])
        law = 0.5 * task_distance(tasks[0].sigma_yx, tasks[-1].sigma_yx) ** 2 + tasks[0].irreducible_loss()
        ntk_change = np.full(len(seeds), np.nan)
        if self.ntk:
            K0 = measures.empirical_ntk(net, W0, tasks[0].X)
            K1 = measures.empirical_ntk(net, [w[-1] for w in phases[0].weights], tasks[0].X)
            ntk_change = measures.ntk_change(K0, K1)
        frames = []
        for b in range(len(seeds)):
            rows: dict[str, Any] = {"phase": [], "step": [], "t": [], "feature_rate": []}
            for p, phase in enumerate(phases):
                W1 = phase.weights[0][:, b]
                rate = measures.feature_learning_rate(W1, np.broadcast_to(W0[0][b], W1.shape))
                rows["phase"] += [p] * len(steps)
                rows["step"] += steps.tolist()
                rows["t"] += ((p * self.steps + steps) * self.eta0).tolist()
                rows["feature_rate"] += rate.tolist()
            frame = pd.DataFrame(rows)
            for k in range(len(tasks)):
                frame[f"loss_{k}"] = losses[:, :, k, b].reshape(-1)
            frame["forgetting"] = forgetting[b]
            frame["ntk_change"] = ntk_change[b]
            frame["task_distance_law"] = law
            frames.append(frame)
        return frames


@dataclass(frozen=True)
class OverparameterizedExperiment(Experiment):
    """The minimum-norm linear learner after two tasks (`theory.overparameterized.min_norm_forgetting`): one
    configuration {n, p, similarity} gives the Monte Carlo mean forgetting F over Gaussian task draws, to a fixed
    precision. A pilot of ``pilot`` draws estimates the per-draw standard deviation σ, and the cell gets
    max(pilot, ⌈(σ/``target_se``)²⌉) draws, so every mean carries a standard error ≈ ``target_se`` (σ ranges 20×
    over a typical grid; symbolic regression's noise floor assumes one noise variance).

    Teachers are unit vectors w1* = e1, w2* = s·e1 + √(1 − s²)·e2 (cosine s exactly; the law is rotation
    invariant). Each cell's draws come from a generator seeded by (seed, n, p, s), never by its place in the grid.

    Rows (one per run): ``r`` = n/p, ``F`` (mean), ``F_se`` (its standard error), ``draws``.

    >>> from simulate.sweeps import sweep
    >>> t = sweep(OverparameterizedExperiment(), [{"n": 10, "p": 50, "similarity": 0.0}], [0], progress=False)
    >>> round(float(t.r[0]), 2), bool(abs(t.F[0] - 0.2 * 1.2) < 5 * t.F_se[0])  # the law r(1 − 2s + r)
    (0.2, True)
    """

    pilot: int = 64
    target_se: float = 0.01
    name: str = "overparameterized_forgetting"

    def __post_init__(self) -> None:
        if isinstance(self.pilot, bool) or not isinstance(self.pilot, int) or self.pilot < 2:
            raise ValueError(f"pilot must be an integer ≥ 2, got {self.pilot!r}")
        if not (np.isfinite(self.target_se) and self.target_se > 0):
            raise ValueError(f"target_se must be a finite standard error > 0, got {self.target_se!r}")

    def run(self, items: Sequence[tuple[Mapping[str, Any], int]]) -> list[pd.DataFrame]:
        frames = []
        for config, seed in items:
            n, p, cos = int(config["n"]), int(config["p"]), float(config["similarity"])
            if not (0 < n < p) or not -1 <= cos <= 1:
                raise ValueError(f"need 0 < n < p and a cosine in [−1, 1], got n = {n}, p = {p}, similarity = {cos}")
            rng = np.random.default_rng([seed, n, p, round((cos + 1) * 1e9)])
            values = _forgetting_draws(rng, n, p, cos, self.pilot, self.target_se)
            se = values.std(ddof=1) / np.sqrt(values.size)
            frames.append(pd.DataFrame({"r": [n / p], "F": [values.mean()], "F_se": [se], "draws": [values.size]}))
        return frames


def _forgetting_draws(rng: np.random.Generator, n: int, p: int, cos: float, pilot: int, target_se: float) -> np.ndarray:
    """Per-draw forgetting of the minimum-norm learner: a pilot, then enough draws for ``target_se``."""
    from theory.overparameterized import min_norm_forgetting

    w1, w2 = np.zeros(p), np.zeros(p)
    w1[0], w2[0], w2[1] = 1.0, cos, np.sqrt(max(0.0, 1.0 - cos * cos))
    first = min_norm_forgetting(rng.normal(size=(pilot, n, p)), rng.normal(size=(pilot, n, p)), w1, w2)
    extra = max(0, int(np.ceil((first.std(ddof=1) / target_se) ** 2)) - pilot)
    if not extra:
        return first
    more = min_norm_forgetting(rng.normal(size=(extra, n, p)), rng.normal(size=(extra, n, p)), w1, w2)
    return np.concatenate([first, more])
