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
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from simulate.tasks import Task, _positive_int

__all__ = [
    "ACTIVATIONS",
    "PARAMETERIZATIONS",
    "AbstractNetwork",
    "BalancePenalized",
    "DeepLinear",
    "TaskTensors",
    "TwoLayer",
]


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

    @abstractmethod
    def output(self, weights: Sequence[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        """ŷ of every network of the batch on the items X (Ni, P): (B, No, P)."""

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

    def output(self, weights: Sequence[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        return _chain(weights) @ X

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


@dataclass(frozen=True)
class BalancePenalized(AbstractNetwork):
    """A deep linear network ŷ = W_L ⋯ W_1 x trained on its loss plus an explicit balancing penalty

        P = (μ/4) Σ_l ‖D_l‖²_F,   D_l = W_l W_lᵀ − W_{l+1}ᵀ W_{l+1}   (μ = ``strength``),

    the imbalance that `theory.balance.layer_balance` shows gradient flow conserves (so plain GD never removes
    it). ∂P/∂W_l = μ(D_l W_l − W_l D_{l−1}), with D_0 = D_L = 0 (no pair beyond the ends). ``loss`` is the data
    loss plus P, the objective that GD descends (its step-size watch needs that); `DeepLinear(sizes).loss` is the
    data loss alone.

    The penalty's gradient on W1, μD_1W1, acts on W1's null-space part W1Q_x as well (D_1W1Q_x ≠ 0), so none of
    the null-space laws (`nullspace_preservation`, `nullspace_weight_decay`) hold under it.

    >>> W = [torch.ones(1, 2, 3), torch.ones(1, 1, 2)]  # D_1 = W1W1ᵀ − W2ᵀW2 = 3·11ᵀ − 11ᵀ = 2·11ᵀ
    >>> float(BalancePenalized((3, 2, 1), strength=1.0).penalty(W)[0])  # ¼‖D_1‖² = ¼·4·4
    4.0
    """

    sizes: tuple[int, ...]
    strength: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", _sizes(self.sizes))
        if len(self.sizes) < 3:
            raise ValueError(f"a balancing penalty needs at least two layers, got sizes {self.sizes}")
        mu = self.strength
        if isinstance(mu, bool) or not isinstance(mu, (int, float)) or not np.isfinite(mu) or mu < 0:
            raise ValueError(f"strength must be a finite μ ≥ 0, got {mu!r}")

    def imbalances(self, weights: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """D_l for each pair of adjacent layers, W1's first: (batch, n_l, n_l)."""
        return [
            weights[i] @ weights[i].transpose(-1, -2) - weights[i + 1].transpose(-1, -2) @ weights[i + 1]
            for i in range(len(weights) - 1)
        ]

    def penalty(self, weights: Sequence[torch.Tensor]) -> torch.Tensor:
        """P of every network in the batch, shape (batch,)."""
        return 0.25 * self.strength * sum((D * D).sum(dim=(-2, -1)) for D in self.imbalances(weights))

    def output(self, weights: Sequence[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        return _chain(weights) @ X

    def loss(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> torch.Tensor:
        return DeepLinear(self.sizes).loss(weights, data) + self.penalty(weights)

    def grads(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> list[torch.Tensor]:
        grads = DeepLinear(self.sizes).grads(weights, data)
        D = self.imbalances(weights)
        for i, w in enumerate(weights):
            if i < len(D):
                grads[i] = grads[i] + self.strength * (D[i] @ w)
            if i > 0:
                grads[i] = grads[i] - self.strength * (w @ D[i - 1])
        return grads


ACTIVATIONS = ("tanh", "relu", "gelu", "sigmoid", "linear")
PARAMETERIZATIONS = ("standard", "ntk", "mup")


def _activation(name: str, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """φ(h) and φ′(h), exactly (GELU is the erf form h·Φ(h), φ′ = Φ(h) + h·N(h; 0, 1))."""
    if name == "tanh":
        a = torch.tanh(h)
        return a, 1 - a * a
    if name == "relu":
        return torch.relu(h), (h > 0).to(h.dtype)
    if name == "gelu":
        cdf = 0.5 * (1 + torch.erf(h / np.sqrt(2.0)))
        return h * cdf, cdf + h * torch.exp(-0.5 * h * h) / np.sqrt(2 * np.pi)
    if name == "sigmoid":
        a = torch.sigmoid(h)
        return a, a * (1 - a)
    return h, torch.ones_like(h)


@dataclass(frozen=True)
class TwoLayer(AbstractNetwork):
    """ŷ = c2·W2 φ(c1·W1 x) − ŷ_origin(x), trained on the items of the task (not only its covariances).

    φ is one of `ACTIVATIONS`. The multipliers c1, c2 and the learning-rate rule come from the parameterisation
    (N = hidden width, d = input dimension, γ0 = ``gamma0`` the output multiplier):

    ==============  =========  ===============  ==================  ===============
    parameterization  c1        c2               init of W1, W2       η = rule(η0)
    ==============  =========  ===============  ==================  ===============
    standard        1          1/γ0             N(0, 1/d), N(0, 1/N)  η0·γ0²
    ntk             1/√d       1/(γ0·√N)        N(0, 1), N(0, 1)      η0·γ0²
    mup             1/√d       1/(γ0·N)         N(0, 1), N(0, 1)      η0·γ0²·N
    ==============  =========  ===============  ==================  ===============

    ``mup`` is the mean-field / μP scaling written as in Bordelon & Pehlevan (2022) and Graldi et al. (ICML 2025,
    arXiv:2506.16884): c2 = 1/(γ√N) with γ = γ0·√N, and η = η0·γ². γ0 is Chizat, Oyallon & Bach's (2019) 1/α:
    their GD on (1/α²)·L(α·h(w)) with step η0 moves w exactly as GD on L(h(w)/γ0) with step η0·γ0² does, so γ0 → 0
    is the lazy (kernel) limit and γ0 = 1 the rich one for ``mup``. `learning_rate` applies the rule; `init` draws
    the weights. With ``gamma0`` = 1 and ``standard`` this is the plain ŷ = W2 φ(W1 x).

    The output at γ0 → 0 would be dominated by the initial function c2·W2⁰φ(c1·W1⁰x) = O(1/γ0); Chizat et al.
    remove it by centring, and so does `centered_at` (ŷ_origin is that initial function, a constant in the
    gradients). Without centring ŷ_origin = 0.

    >>> TwoLayer((4, 16, 3), "relu").activation
    'relu'
    >>> net = TwoLayer((4, 16, 3), "tanh", parameterization="mup", gamma0=0.5)
    >>> net.learning_rate(0.1)  # η0·γ0²·N
    0.4
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"
    parameterization: str = "standard"
    gamma0: float = 1.0
    origin: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        sizes = _sizes(self.sizes)
        if len(sizes) != 3:
            raise ValueError(f"TwoLayer needs sizes (Ni, Nh, No), got {sizes}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {ACTIVATIONS}")
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"unknown parameterization {self.parameterization!r}; choose one of {PARAMETERIZATIONS}")
        gamma0 = self.gamma0
        if isinstance(gamma0, bool) or not isinstance(gamma0, (int, float)) or not (np.isfinite(gamma0) and gamma0 > 0):
            raise ValueError(f"gamma0 must be a finite number > 0 (the output multiplier), got {gamma0!r}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "gamma0", float(gamma0))
        if self.origin is not None:
            W1, W2 = (np.asarray(w, dtype=np.float64) for w in self.origin)
            n_in, hidden, n_out = sizes
            if W1.ndim != 3 or W1.shape[1:] != (hidden, n_in) or W2.shape != (W1.shape[0], n_out, hidden):
                raise ValueError(
                    f"origin must be weights (W1 (B, {hidden}, {n_in}), W2 (B, {n_out}, {hidden})), got "
                    f"{W1.shape} and {W2.shape}"
                )
            object.__setattr__(self, "origin", (W1, W2))
        object.__setattr__(self, "_memo", {})

    @property
    def multipliers(self) -> tuple[float, float]:
        """(c1, c2) of the parameterisation (see the class docstring)."""
        n_in, hidden, _ = self.sizes
        if self.parameterization == "standard":
            return 1.0, 1.0 / self.gamma0
        c1 = 1.0 / np.sqrt(n_in)
        return c1, (
            1.0 / (self.gamma0 * np.sqrt(hidden)) if self.parameterization == "ntk" else 1.0 / (self.gamma0 * hidden)
        )

    def learning_rate(self, eta0: float) -> float:
        """The step η that the parameterisation prescribes for base step ``eta0`` (class docstring)."""
        if not (np.isfinite(eta0) and eta0 > 0):
            raise ValueError(f"eta0 must be a finite step > 0, got {eta0!r}")
        eta = eta0 * self.gamma0**2
        return eta * self.sizes[1] if self.parameterization == "mup" else eta

    def init(self, *, seed: int, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Weights drawn as the parameterisation prescribes (class docstring), ``batch`` networks, seeded."""
        n_in, hidden, n_out = self.sizes
        batch = _positive_int(batch, "batch")
        rng = np.random.default_rng(seed)
        s1, s2 = (1 / np.sqrt(n_in), 1 / np.sqrt(hidden)) if self.parameterization == "standard" else (1.0, 1.0)
        return s1 * rng.normal(size=(batch, hidden, n_in)), s2 * rng.normal(size=(batch, n_out, hidden))

    def centered_at(self, weights0: Sequence[np.ndarray]) -> TwoLayer:
        """This network with its output at ``weights0`` subtracted for every input (Chizat et al. 2019's centring):
        ŷ(x) = 0 at ``weights0``, and the gradients are unchanged."""
        return replace(self, origin=(np.asarray(weights0[0]), np.asarray(weights0[1])))

    def hidden(
        self, weights: Sequence[torch.Tensor], X: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pre-activations h = c1·W1 X, activations φ(h) and φ′(h) for the items X (Ni, P): each (B, Nh, P)."""
        c1, _ = self.multipliers
        h = c1 * (weights[0] @ X)
        a, da = _activation(self.activation, h)
        return h, a, da

    def output(self, weights: Sequence[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        """ŷ for the items X (Ni, P): (B, No, P)."""
        _, a, _ = self.hidden(weights, X)
        return self.multipliers[1] * (weights[1] @ a) - self._origin_output(X, weights[0])

    def _origin_output(self, X: torch.Tensor, like: torch.Tensor) -> torch.Tensor | float:
        if self.origin is None:
            return 0.0
        key = (id(X), like.device, like.dtype)
        memo = self._memo  # type: ignore[attr-defined]
        if key not in memo or memo[key][0] is not X:  # one entry per data tensor (identity, not value)
            W0 = [torch.as_tensor(w, dtype=like.dtype, device=like.device) for w in self.origin]
            _, a0, _ = self.hidden(W0, X)
            memo.clear()
            memo[key] = (X, self.multipliers[1] * (W0[1] @ a0))
        origin = memo[key][1]
        if like.shape[0] != origin.shape[0] and like.shape[0] % origin.shape[0] == 0:
            # records of a trajectory flattened time-major, (T·B, …) as `train` evaluates them: network b at every t
            return origin.repeat(like.shape[0] // origin.shape[0], 1, 1)
        if origin.shape[0] != like.shape[0]:
            raise ValueError(
                f"the network is centred at {origin.shape[0]} networks' weights but {like.shape[0]} are trained; "
                "centre at the same batch of initial weights"
            )
        return origin

    def loss(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> torch.Tensor:
        r = self.output(weights, data.X) - data.Y
        return 0.5 * (r * r).sum(dim=(-2, -1)) / data.X.shape[1]

    def grads(self, weights: Sequence[torch.Tensor], data: TaskTensors) -> list[torch.Tensor]:
        W1, W2 = weights
        c1, c2 = self.multipliers
        _, a, da = self.hidden(weights, data.X)
        E = (c2 * (W2 @ a) - self._origin_output(data.X, W1) - data.Y) / data.X.shape[1]
        back = (c2 * (W2.transpose(-1, -2) @ E)) * da
        return [c1 * (back @ data.X.T), c2 * (E @ a.transpose(-1, -2))]
