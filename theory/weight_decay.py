"""Weight decay on the inputs' null space: the first layer's unseen directions decay geometrically, exactly.

Setting (LAWS.md §7, §9): inputs X ∈ R^{d×n} of rank r < d, Q_x = I − XX⁺ the projector on the directions the
data never excite (XᵀQ_x = 0, Q_x² = Q_x). Any network in which the inputs enter only through the first layer,
ŷ = f(W_L, …, W_2; W1 x) — deep linear nets, a two-layer net with any activation — and any loss of its outputs.

Derivation (derived here; it extends `theory.regression.nullspace_preservation`). The loss depends on W1 only
through W1X, so ∂L/∂W1 = G Xᵀ with G = ∂L/∂(W1X) (for the deep linear net, G = W_{L:2}ᵀ E / n), hence

    ∂L/∂W1 · Q_x = G XᵀQ_x = 0,

and the same for a minibatch (its X_b are columns of X, so X_bᵀQ_x = 0). GD with coupled L2 decay λ,
W1 ← W1 − η(∂L/∂W1 + λW1), multiplied on the right by Q_x gives W1_{k+1}Q_x = (1 − ηλ) W1_k Q_x, so

    W1_k Q_x = (1 − ηλ)^k W1_0 Q_x        at every step k, any depth, any η and λ,

an algebraic identity of the update (exact for GD, not only for the flow), and for the shallow model (W1 = A)
A_k Q_x = (1 − ηλ)^k A_0 Q_x. The flow τ dW1/dt = −(∂L/∂W1 + λW1) gives e^{−λt/τ}; GD at t/τ = kη differs
from it by the factor exp(k[ln(1 − ηλ) + ηλ]) = 1 − ηλ²t/2 + O(η²): an O(η) relative gap.

Other optimizers (`simulate.optim`): the null-space component x_k = W1_k Q_x obeys a recursion that involves
only x and the optimizer's buffers fed by it, never the data:

- SGD without momentum, coupled or decoupled: (1 − ηλ)W − ηg and W − η(g + λW) coincide; g·Q_x = 0, so (1 − ηλ)^k.
- Decoupled decay with momentum (SGDW): W ← (1 − ηλ)W − η·(momentum of gradients only); the buffer is a sum of
  gradients, b·Q_x = 0, so again (1 − ηλ)^k.
- Coupled decay with momentum: λW enters the buffer, b_k = μb_{k−1} + λx_k (b_{−1} = 0), x_{k+1} = x_k − ηb_k
  (heavy ball) or x_k − η(λx_k + μb_k) (Nesterov): heavy-ball on the scalar quadratic λx²/2, not (1 − ηλ)^k.
  `nullspace_factor` evaluates that recursion (eliminating b: x_{k+1} = (1 + μ − ηλ)x_k − μx_{k−1}, x_{−1} = x_0,
  for the heavy ball).
- Without decay (λ = 0) every one of these preserves W1Q_x exactly: `nullspace_preservation`.
- Adam / AdamW: the step m̂/(√v̂ + ε) rescales each coordinate by its own √v̂, which does not commute with the
  right-multiplication by Q_x: the step has a null-space component even though the gradient has none. AdamW's
  W ← (1 − ηλ)W − η·step therefore follows no law here; the verify suite measures how far Adam moves W1Q_x.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from theory.checks import as_matrix
from theory.law import Assumption, AssumptionError, Law
from theory.regression import nullspace_projector

__all__ = ["nullspace_factor", "nullspace_weight_decay", "predicted_nullspace"]

d, n, h, o = sp.symbols("d n h o", positive=True, integer=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
eta = sp.Symbol("eta", positive=True)
lam = sp.Symbol("lam", nonnegative=True)
t = sp.Symbol("t", nonnegative=True)
tau = sp.Symbol("tau", positive=True)
Q_x = sp.MatrixSymbol("Q_x", d, d)
W1_k = sp.MatrixSymbol("W1_k", h, d)
W1_0 = sp.MatrixSymbol("W1_0", h, d)
A_k = sp.MatrixSymbol("A_k", o, d)
A_0 = sp.MatrixSymbol("A_0", o, d)

FACTOR = (1 - eta * lam) ** k

OPTIMIZER_NAMES = ("gd", "sgd", "adam")


def _check_optimizer(optimizer: str, momentum: float = 0.0, decoupled: bool = False) -> None:
    if optimizer not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZER_NAMES)}")
    if optimizer == "adam":
        raise AssumptionError(
            "law 'nullspace_weight_decay', assumption row_space_updates: Adam's per-coordinate scaling gives its "
            "step a null-space component, so W1Q_x follows no law under Adam or AdamW (the verify check "
            "adam_moves_nullspace measures it). Use GD or SGD (with or without momentum)."
        )
    if momentum and not decoupled:
        raise AssumptionError(
            "law 'nullspace_weight_decay', assumption row_space_updates: coupled decay with momentum feeds λW into "
            f"the momentum buffer (μ = {momentum}), so W1Q_x follows the heavy-ball recursion on λx²/2, not "
            "(1 − ηλ)^k. Use nullspace_factor(k, eta, lam, momentum=μ), or decoupled decay."
        )


nullspace_weight_decay = Law(
    name="nullspace_weight_decay",
    title="Coupled weight decay shrinks the first layer's null-space action geometrically, exactly",
    equation=(
        sp.Eq(W1_k * Q_x, FACTOR * W1_0 * Q_x),
        sp.Eq(A_k * Q_x, FACTOR * A_0 * Q_x),
    ),
    symbols={
        "k": k,
        "eta": eta,
        "lam": lam,
        "t": t,
        "tau": tau,
        "Q_x": Q_x,
        "W1_k": W1_k,
        "W1_0": W1_0,
        "A_k": A_k,
        "A_0": A_0,
    },
    assumptions=(
        Assumption(
            "first_layer",
            "The inputs enter only through the first layer (ŷ = f(W1x)): deep linear nets, two-layer nets with any "
            "activation, any loss of the outputs; A is the one-layer (shallow) model.",
        ),
        Assumption(
            "row_space_updates",
            "GD or minibatch SGD (minibatches are columns of X) with coupled L2 decay W ← W − η(∇L + λW), or decoupled "
            "decay W ← (1 − ηλ)W − η·(plain or momentum gradient step); not coupled decay through momentum "
            "(see nullspace_factor) and not Adam/AdamW (no law).",
            _check_optimizer,
        ),
        Assumption("step_counting", "k counts optimizer steps; with τ = 1/η, t/τ = kη (LAWS.md §0)."),
    ),
    regime=(
        "exact for GD and SGD at every step, any η, λ, depth and initialisation (an identity of the update; "
        "residuals are float64 round-off); the flow form e^{−λt/τ} differs from GD by 1 − ηλ²t/2 + O(η²)"
    ),
    source=(
        "derived here, extending LAWS.md §7.2 (∇_{W1}L·Q_x = 0) to coupled L2 decay; statement of issue 11, item 9 "
        "and LAWS.md §9 (optimizers and null space)"
    ),
    domain={"k": (0.0, 1000.0), "eta": (1e-3, 0.1), "lam": (0.0, 2.0), "t": (0.0, 10.0), "tau": (0.5, 2.0)},
    derived={"factor": FACTOR, "flow_factor": sp.exp(-lam * t / tau)},
)


def _steps(steps: object) -> np.ndarray:
    ks = np.asarray(steps)
    if ks.ndim > 1 or ks.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D sequence of step counts k, got shape {ks.shape}")
    ks = np.atleast_1d(ks)
    if ks.dtype.kind not in "iuf" or not np.all(np.isfinite(ks)) or np.any(ks < 0) or np.any(ks != np.round(ks)):
        raise ValueError(f"steps must be non-negative whole numbers of steps, got {ks}")
    return ks.astype(np.int64)


def nullspace_factor(
    steps: object, eta: float, lam: float, *, momentum: float = 0.0, nesterov: bool = False, decoupled: bool = False
) -> np.ndarray:
    """f_k with W1_k Q_x = f_k W1_0 Q_x at each of ``steps`` (whole step counts k ≥ 0).

    (1 − ηλ)^k without momentum or with decoupled decay; with coupled decay and momentum μ, the heavy-ball (or
    Nesterov) recursion of the null-space component on the scalar quadratic λx²/2 (module docstring), which uses
    torch.optim.SGD's convention that the buffer starts at the first step's gradient.

    >>> np.round(nullspace_factor([0, 1, 2], eta=0.1, lam=2.0), 12).tolist()
    [1.0, 0.8, 0.64]
    >>> np.round(nullspace_factor([0, 1, 2], eta=0.1, lam=2.0, momentum=0.5), 12).tolist()  # (1 + μ − ηλ)·0.8 − μ
    [1.0, 0.8, 0.54]
    """
    ks = _steps(steps)
    for name, v in (("eta", eta), ("lam", lam), ("momentum", momentum)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if eta <= 0:
        raise AssumptionError(f"law 'nullspace_weight_decay': eta = {eta!r} violates eta > 0 (a step size)")
    if lam < 0:
        raise AssumptionError(f"law 'nullspace_weight_decay': lam = {lam!r} violates lam ≥ 0 (a decay, not a growth)")
    if not 0 <= momentum < 1:
        raise AssumptionError(f"law 'nullspace_weight_decay': momentum = {momentum!r} must lie in [0, 1)")
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0")
    if momentum == 0 or decoupled:
        return (1.0 - eta * lam) ** ks.astype(np.float64)
    out = np.empty(int(ks.max()) + 1)
    x, b = 1.0, 0.0
    for step in range(out.size):
        out[step] = x
        d_x = lam * x  # the decay term λx is the whole gradient of the null-space component
        b = d_x if step == 0 else momentum * b + d_x
        x -= eta * (d_x + momentum * b if nesterov else b)
    return out[ks]


def predicted_nullspace(
    W1_0: object, X: object, steps: object, eta: float, lam: float, *, momentum: float = 0.0, decoupled: bool = False
) -> np.ndarray:
    """The law's W1_k Q_x = f_k W1_0 Q_x for every k in ``steps``, shape (len(steps), h, d).

    >>> X = np.array([[1.0], [0.0]])  # the second input is never excited
    >>> predicted_nullspace(np.array([[3.0, 5.0]]), X, [0, 2], eta=0.1, lam=5.0)[:, 0].tolist()
    [[0.0, 5.0], [0.0, 1.25]]
    """
    x = as_matrix(X, "X")
    w = as_matrix(W1_0, "W1_0", shape=(None, x.shape[0]))
    f = nullspace_factor(steps, eta, lam, momentum=momentum, decoupled=decoupled)
    return f[:, None, None] * (w @ nullspace_projector(x))[None]
