"""Optimizers for `simulate.train`: a frozen spec, validated at construction, run by `torch.optim` on the
hand-written gradients (the gradient goes into ``p.grad`` and ``opt.step()`` applies torch's own update rule).

Names and what they run (η is `train`'s ``eta``, the learning rate of every optimizer):

- ``"gd"``: full-batch gradient descent. Without momentum and weight decay this is `train`'s own in-place loop,
  W ← W − η∇L (the default, unchanged); otherwise `torch.optim.SGD` on the full-batch gradient.
- ``"sgd"``: `torch.optim.SGD` on minibatch gradients: each step draws ``batch_size`` distinct items uniformly
  (without replacement within the step, independently across steps) from a ``np.random.default_rng(seed)``; the
  same items serve every network of the batch at that step (the batch dimension holds initialisations or
  settings under one data stream; independent streams are separate `train` calls with different seeds). The
  minibatch gradient is the full-batch one with Σxx, Σyx, tr Σyy (and X, Y) of the drawn items, so it is unbiased.
- ``"adam"``: `torch.optim.Adam` (coupled decay) or `torch.optim.AdamW` (``decoupled=True``), on full-batch
  gradients, or minibatch ones if ``batch_size`` is given.

Momentum (``"gd"``/``"sgd"``): torch's heavy ball b_k = μb_{k−1} + g_k (b_0 = g_0), W ← W − ηb_k, or Nesterov,
W ← W − η(g_k + μb_k). Weight decay λ: coupled adds λW to the gradient before the rule (torch's ``weight_decay``);
decoupled shrinks the weights first, W ← (1 − ηλ)W, then applies the rule to the bare gradient (AdamW's form,
torch's own for Adam; for SGD the same one line, Loshchilov & Hutter's SGDW). Without momentum the two coincide
for SGD: (1 − ηλ)W − ηg = W − η(g + λW).

Time. For GD, SGD and momentum step k is at t/τ = kη, as for GD (LAWS.md §0). SGD tracks the flow in
expectation as η → 0; heavy-ball and Nesterov momentum track it at t/τ = kη/(1 − μ) (the buffer settles at
g/(1 − μ)), so a law read at kη is off by that factor. Adam's update is not a gradient step (its size is ≈ η per
coordinate whatever the gradient's scale): ``times`` still count steps × η, and no gradient-flow correspondence
holds.

>>> Optimizer("adam", weight_decay=0.1, decoupled=True).torch_name
'AdamW'
>>> Optimizer("sgd", batch_size=4, momentum=0.9).is_plain_gd
False
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from simulate.networks import TaskTensors

__all__ = ["OPTIMIZERS", "Optimizer", "minibatch", "minibatch_indices"]

OPTIMIZERS = ("gd", "sgd", "adam")
ADAM_BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults
ADAM_EPS = 1e-8


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Optimizer:
    """Which optimizer `simulate.train` runs, and its settings (the learning rate is `train`'s ``eta``).

    ``weight_decay`` λ ≥ 0, coupled (λW added to the gradient) unless ``decoupled``; ``momentum`` μ ∈ [0, 1) and
    ``nesterov`` for "gd"/"sgd"; ``betas`` and ``eps`` for "adam" (torch's defaults when None); ``batch_size``
    (required for "sgd", optional for "adam", refused for "gd") and ``seed`` of the minibatch draws.

    >>> Optimizer("rmsprop")
    Traceback (most recent call last):
    ...
    ValueError: unknown optimizer 'rmsprop'; known: 'gd', 'sgd', 'adam'
    """

    name: str = "gd"
    weight_decay: float = 0.0
    decoupled: bool = False
    momentum: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] | None = None
    eps: float | None = None
    batch_size: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.name!r}; known: {', '.join(repr(n) for n in OPTIMIZERS)}")
        wd = _finite(self.weight_decay, "weight_decay")
        if wd < 0:
            raise ValueError(f"weight_decay must be ≥ 0 (a decay, not a growth), got {wd!r}")
        object.__setattr__(self, "weight_decay", wd)
        for flag in ("decoupled", "nesterov"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        mu = _finite(self.momentum, "momentum")
        if self.name == "adam":
            if mu != 0 or self.nesterov:
                raise ValueError("Adam's momentum is betas[0]; momentum and nesterov apply to 'gd' and 'sgd' only")
            betas = ADAM_BETAS if self.betas is None else tuple(self.betas)
            if len(betas) != 2 or not all(0 <= _finite(b, "betas") < 1 for b in betas):
                raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
            eps = ADAM_EPS if self.eps is None else _finite(self.eps, "eps")
            if eps <= 0:
                raise ValueError(f"eps must be > 0 (it keeps Adam's denominator √v̂ + eps away from 0), got {eps!r}")
            object.__setattr__(self, "betas", (float(betas[0]), float(betas[1])))
            object.__setattr__(self, "eps", float(eps))
        else:
            if self.betas is not None or self.eps is not None:
                raise ValueError(f"betas and eps are Adam's settings; optimizer {self.name!r} takes neither")
            if not 0 <= mu < 1:
                raise ValueError(f"momentum must lie in [0, 1) (μ ≥ 1 never forgets a gradient), got {mu!r}")
            if self.nesterov and mu == 0:
                raise ValueError("nesterov=True needs momentum > 0 (Nesterov momentum with μ = 0 is plain SGD)")
        object.__setattr__(self, "momentum", mu)
        if self.name == "gd" and self.batch_size is not None:
            raise ValueError("'gd' is full-batch; for minibatches use Optimizer('sgd', batch_size=...)")
        if self.name == "sgd" and self.batch_size is None:
            raise ValueError("'sgd' needs a batch_size (items per step); full-batch descent is Optimizer('gd')")
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, (int, np.integer))
            or self.batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")

    @property
    def is_plain_gd(self) -> bool:
        """Full-batch GD without momentum or weight decay: `train`'s own loop, with its stability checks."""
        return self.name == "gd" and self.momentum == 0 and self.weight_decay == 0

    @property
    def is_descent(self) -> bool:
        """Full-batch GD without momentum (any weight decay): every stable step lowers L + (λ/2)Σ‖W_l‖²."""
        return self.name == "gd" and self.momentum == 0

    @property
    def torch_name(self) -> str:
        """The `torch.optim` class that runs this optimizer."""
        if self.name == "adam":
            return "AdamW" if self.decoupled and self.weight_decay > 0 else "Adam"
        return "SGD"

    def build(self, params: Sequence[torch.Tensor], eta: float) -> torch.optim.Optimizer:
        """The `torch.optim` optimizer over ``params`` (leaf tensors, one per layer) with learning rate ``eta``.

        Decoupled decay for SGD is not a torch option: `train` applies W ← (1 − ηλ)W before each step instead
        (`decay_before_step`), and the torch optimizer is built without decay.
        """
        wd = self.weight_decay
        if self.name == "adam":
            if self.torch_name == "AdamW":
                return torch.optim.AdamW(params, lr=eta, betas=self.betas, eps=self.eps, weight_decay=wd)
            return torch.optim.Adam(params, lr=eta, betas=self.betas, eps=self.eps, weight_decay=wd)
        coupled = 0.0 if self.decoupled else wd
        return torch.optim.SGD(params, lr=eta, momentum=self.momentum, nesterov=self.nesterov, weight_decay=coupled)

    @property
    def decay_before_step(self) -> float:
        """λ for SGD with decoupled decay (applied by `train` as W ← (1 − ηλ)W before the step), else 0."""
        return self.weight_decay if self.name != "adam" and self.decoupled else 0.0

    def __str__(self) -> str:
        parts = [self.name]
        if self.batch_size is not None:
            parts.append(f"batch {self.batch_size}")
        if self.momentum:
            parts.append(f"{'Nesterov' if self.nesterov else 'momentum'} {self.momentum:g}")
        if self.weight_decay:
            parts.append(f"{'decoupled' if self.decoupled else 'coupled'} decay {self.weight_decay:g}")
        return ", ".join(parts)


def minibatch_indices(n_items: int, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """Item indices of each step's minibatch: ``batch_size`` distinct items drawn uniformly from ``n_items``,
    independently at every step, from ``np.random.default_rng(seed)`` (the same seed gives the same stream).

    >>> it = minibatch_indices(5, 3, seed=0)
    >>> [sorted(next(it).tolist()) for _ in range(2)]
    [[2, 3, 4], [0, 3, 4]]
    """
    if not 1 <= batch_size <= n_items:
        raise ValueError(f"batch_size {batch_size} must lie in 1..P = {n_items} (the task's number of items)")
    rng = np.random.default_rng(seed)
    while True:
        yield rng.choice(n_items, size=batch_size, replace=False)


def minibatch(data: TaskTensors, index: torch.Tensor) -> TaskTensors:
    """The `TaskTensors` of the items ``index`` (columns of X and Y): statistics of those items only.

    >>> X = torch.tensor([[1.0, 2.0, 3.0]]); Y = 2 * X
    >>> full = TaskTensors(X, Y, X @ X.T / 3, Y @ X.T / 3, (Y * Y).sum() / 3)
    >>> float(minibatch(full, torch.tensor([0, 2])).sigma_yx)
    10.0
    """
    X = data.X.index_select(1, index)
    Y = data.Y.index_select(1, index)
    n = X.shape[1]
    return TaskTensors(X, Y, X @ X.T / n, Y @ X.T / n, (Y * Y).sum() / n)
