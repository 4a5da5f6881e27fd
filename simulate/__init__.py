"""Numerical training runs matching the laws: tasks, initialisations, networks and batched GD (torch, float64).

>>> from simulate import DeepLinear, decoupled_init, prescribed_task, train
>>> task = prescribed_task([3.0, 2.0, 1.0], Ni=3, No=3, seed=0)
>>> traj = train(DeepLinear((3, 3, 3)), decoupled_init(task, Nh=3, u0=1e-3, seed=0), task,
...              eta=0.01, times=[0.0, 1.0, 2.0])
>>> traj.mode_frame().columns.tolist()
['t', 'tau', 'network', 'mode', 's', 'u0', 'u', 'du_dt']
"""

from simulate.continual import ContinualTrajectory, train_sequence
from simulate.experiments import ContinualExperiment, kernel_forgetting
from simulate.init import (
    Weights,
    balanced_deep_init,
    decoupled_init,
    gaussian_init,
    lambda_balanced_init,
    zero_balanced_init,
)
from simulate.networks import (
    ACTIVATIONS,
    PARAMETERIZATIONS,
    AbstractNetwork,
    BalancePenalized,
    DeepLinear,
    TaskTensors,
    TwoLayer,
)
from simulate.nullspace import NullspaceExperiment
from simulate.optim import OPTIMIZERS, Optimizer, minibatch_indices
from simulate.sweeps import Experiment, grid, sweep
from simulate.tasks import (
    Task,
    living_kingdom,
    prescribed_task,
    random_orthogonal,
    random_regression,
    task_pair,
    task_sequence,
    whiten,
)
from simulate.train import Trajectory, steps_for_times, train

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "PARAMETERIZATIONS",
    "AbstractNetwork",
    "BalancePenalized",
    "ContinualExperiment",
    "ContinualTrajectory",
    "DeepLinear",
    "Experiment",
    "NullspaceExperiment",
    "Optimizer",
    "Task",
    "TaskTensors",
    "Trajectory",
    "TwoLayer",
    "Weights",
    "balanced_deep_init",
    "decoupled_init",
    "gaussian_init",
    "grid",
    "kernel_forgetting",
    "lambda_balanced_init",
    "living_kingdom",
    "minibatch_indices",
    "prescribed_task",
    "random_orthogonal",
    "random_regression",
    "steps_for_times",
    "sweep",
    "task_pair",
    "task_sequence",
    "train",
    "train_sequence",
    "whiten",
    "zero_balanced_init",
]
