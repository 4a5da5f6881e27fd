"""Continual learning: tasks trained one after another, each phase starting from the previous weights,
with the loss of every task recorded throughout (the data of the forgetting laws, LAWS.md §3.1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from simulate.networks import AbstractNetwork
from simulate.tasks import Task
from simulate.train import Trajectory, train

__all__ = ["ContinualTrajectory", "train_sequence"]


@dataclass(frozen=True)
class ContinualTrajectory:
    """One `Trajectory` per phase and the loss of every task at every recorded time.

    ``losses`` has shape (n_phases, T, n_tasks, batch): the loss on task i at time t of phase p.
    Phase p covers t/τ ∈ [p·duration, (p+1)·duration]; times within a phase are stored relative to its start.
    """

    tasks: tuple[Task, ...]
    phases: tuple[Trajectory, ...]
    losses: np.ndarray
    duration: float

    def final_losses(self) -> np.ndarray:
        """L_i(T_j): loss on task i (columns) after training on task j (rows), shape (n_phases, n_tasks, batch)."""
        return self.losses[:, -1]

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: columns t (global t/τ), phase, task, network, loss."""
        P, T, n, B = self.losses.shape
        t = np.concatenate([p * self.duration + ph.t for p, ph in enumerate(self.phases)])
        return pd.DataFrame(
            {
                "t": np.repeat(t, n * B),
                "phase": np.repeat(np.arange(P), T * n * B),
                "task": np.tile(np.repeat(np.arange(n), B), P * T),
                "network": np.tile(np.arange(B), P * T * n),
                "loss": self.losses.ravel(),
            }
        )


def train_sequence(
    network: AbstractNetwork,
    weights0: Sequence[np.ndarray],
    tasks: Sequence[Task],
    *,
    eta: float,
    duration: float,
    n_records: int = 101,
    device: str | torch.device = "cpu",
    allow_unstable: bool = False,
) -> ContinualTrajectory:
    """Train on ``tasks`` in order for ``duration`` (t/τ) each, recording ``n_records`` times per phase.

    Every phase is a `simulate.train` run: ``eta`` beyond a task's GD stability bound is refused unless
    ``allow_unstable=True``.

    >>> from simulate import DeepLinear, task_sequence, zero_balanced_init
    >>> tasks = task_sequence(2, Ni=2, No=2, P=10, similarity=0.5, seed=0)
    >>> run = train_sequence(DeepLinear((2, 4, 2)), zero_balanced_init(2, 4, 2, 0.01, seed=0), tasks,
    ...                      eta=0.05, duration=2.0, n_records=5)
    >>> run.losses.shape
    (2, 5, 2, 1)
    """
    if len(tasks) == 0:
        raise ValueError("tasks must hold at least one Task")
    if not (np.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number of τ, got {duration!r}")
    if isinstance(n_records, bool) or not isinstance(n_records, int) or n_records < 2:
        raise ValueError(f"n_records must be an integer ≥ 2, got {n_records!r}")
    n_steps = round(duration / eta)
    if abs(n_steps * eta - duration) > 1e-9 * duration:
        raise ValueError(f"duration {duration} is not a multiple of eta = {eta}")
    steps = np.unique(np.linspace(0, n_steps, n_records).round().astype(np.int64))
    times = steps * eta
    phases = []
    weights = list(weights0)
    for task in tasks:
        phase = train(network, weights, task, eta=eta, times=times, device=device, allow_unstable=allow_unstable)
        phases.append(phase)
        weights = [w[-1] for w in phase.weights]
    losses = np.stack([np.stack([ph.loss_on(task) for task in tasks], axis=1) for ph in phases])
    return ContinualTrajectory(tuple(tasks), tuple(phases), losses, float(duration))
