"""Networks as pure functions of a batch of weights: loss and exact gradients, as torch tensor programs.

Every network here is trained on the full batch with the loss of LAWS.md §0, L = ½⟨‖y − ŷ‖²⟩ (mean over
items), so that GD with step η is the Euler discretisation of τ dW/dt = −∂L/∂W with τ = 1/η. Gradients are
written out by hand (no autograd): they are short, exact, and cost one batched matmul each.

Weights are lists of tensors of shape (batch, out, in), W1 first; the batch dimension holds independent
networks trained together as one tensor program.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from simulate.tasks import Task, _positive_int

__all__ = ["AbstractNetwork", "DeepLinear", "TaskTensors", "TwoLayer"]


@dataclass(frozen=True)
class TaskTensors:
    """A task's data on a device: the covariances (for linear networks) and the raw items (for others)."""

    X: torch.Tensor
    Y: torch.Tensor
    sigma_xx: torch.Tensor
    sigma_yx: torch.Tensor
    tr_syy: torch.Tensor

    @classmethod
    def from_task(cls, task: Task, device: torch.device, dtype: torch.dtype) -> TaskTensors:
        def t(a: object) -> torch.Tensor:
            return torch.tensor(np.array(a, dtype=np.float64), dtype=dtype, device=device)

        return cls(t(task.X), t(task.Y), t(task.sigma_xx), t(task.sigma_yx), t(float(task.sigma_yy.trace())))


class AbstractNetwork(ABC):
    """A network family: widths, loss per network and gradients per layer, for a batch of weights."""

    sizes: tuple[int, ...]

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def shapes(self) -> list[tuple[int, int]]:
        return [(self.sizes[i + 1], self.sizes[i]) for i in range(self.n_layers)]

    @abstractmethod
    def loss(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> torch.Tensor:
        """Loss of every network in the batch, shape (batch,)."""

    @abstractmethod
    def grads(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> list[torch.Tensor]:
        """∂L/∂W_l for every layer, same shapes as the weights."""

    def check_task(self, task: Task) -> None:
        if (task.Ni, task.No) != (self.sizes[0], self.sizes[-1]):
            raise ValueError(
                f"task has (Ni, No) = ({task.Ni}, {task.No}) but the network {self} maps "
                f"{self.sizes[0]} → {self.sizes[-1]}"
            )


def _sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    if len(sizes) < 2:
        raise ValueError(f"sizes must be (Ni, …, No) with at least two entries, got {sizes!r}")
    return tuple(_positive_int(n, "layer width") for n in sizes)


def _chain(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    w = weights[0]
    for m in weights[1:]:
        w = m @ w
    return w


@dataclass(frozen=True)
class DeepLinear(AbstractNetwork):
    """ŷ = W_L ⋯ W_1 x. The loss depends on the data only through Σxx, Σyx and tr Σyy:

    L = ½ tr Σyy − tr(W Σyxᵀ) + ½ tr(W Σxx Wᵀ),  ∂L/∂W_l = (W_{L:l+1})ᵀ (WΣxx − Σyx) (W_{l−1:1})ᵀ.

    >>> DeepLinear((3, 8, 2)).n_layers
    2
    """

    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", _sizes(self.sizes))

    def end_to_end(self, weights: Sequence[torch.Tensor]) -> torch.Tensor:
        return _chain(weights)

    def loss(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> torch.Tensor:
        W = _chain(weights)
        fit = (W * data.sigma_yx).sum(dim=(-2, -1))
        quad = ((W @ data.sigma_xx) * W).sum(dim=(-2, -1))
        return 0.5 * data.tr_syy - fit + 0.5 * quad

    def grads(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> list[torch.Tensor]:
        L = len(weights)
        if L == 2:  # the common case, without the generic prefix/suffix bookkeeping
            W1, W2 = weights
            E = W2 @ W1 @ data.sigma_xx - data.sigma_yx
            return [W2.transpose(-1, -2) @ E, E @ W1.transpose(-1, -2)]
        prefix = [None] * (L + 1)  # prefix[l] = W_l ⋯ W_1 (prefix[0] = identity, represented by None)
        for i in range(L):
            prefix[i + 1] = weights[i] if i == 0 else weights[i] @ prefix[i]
        E = prefix[L] @ data.sigma_xx - data.sigma_yx
        grads: list[torch.Tensor] = [None] * L  # type: ignore[list-item]
        back = E  # (W_L ⋯ W_{l+1})ᵀ E, built from the top down
        for i in range(L - 1, -1, -1):
            grads[i] = back if i == 0 else back @ prefix[i].transpose(-1, -2)
            if i:
                back = weights[i].transpose(-1, -2) @ back
        return grads


_ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True)
class TwoLayer(AbstractNetwork):
    """ŷ = W2 φ(W1 x) with φ = tanh or ReLU, trained on the items of the task (not only its covariances).

    >>> TwoLayer((4, 16, 3), "relu").activation
    'relu'
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"

    def __post_init__(self) -> None:
        sizes = _sizes(self.sizes)
        if len(sizes) != 3:
            raise ValueError(f"TwoLayer needs sizes (Ni, Nh, No), got {sizes}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {_ACTIVATIONS}")
        object.__setattr__(self, "sizes", sizes)

    def _phi(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.activation == "tanh":
            a = torch.tanh(h)
            return a, 1 - a * a
        return torch.relu(h), (h > 0).to(h.dtype)

    def loss(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> torch.Tensor:
        W1, W2 = weights
        a, _ = self._phi(W1 @ data.X)
        r = W2 @ a - data.Y
        return 0.5 * (r * r).sum(dim=(-2, -1)) / data.X.shape[1]

    def grads(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> list[torch.Tensor]:
        W1, W2 = weights
        a, da = self._phi(W1 @ data.X)
        E = (W2 @ a - data.Y) / data.X.shape[1]
        back = (W2.transpose(-1, -2) @ E) * da
        return [back @ data.X.T, E @ a.transpose(-1, -2)]
