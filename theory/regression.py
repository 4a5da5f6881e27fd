"""Implicit bias in partially identifiable regression: null-space preservation (LAWS.md §7.1-7.2).

Setting: targets Y = A* X with inputs X ∈ R^{d×n} of rank r < d, so directions in the null space of Xᵀ
are never seen. Q_x = I − XX⁺ projects onto them (XᵀQ_x = 0).

Shallow model A trained by GD or gradient flow on ½‖Y − AX‖²/n from A0 (any stable step size):
every update is (…)Xᵀ, so A Q_x never changes and the limit is the projection of A0 on the solution set,

    Â = Y X⁺ + A0 Q_x.

Factorised model A = W_L ⋯ W_1: ∇_{W1}L = W_{L:2}ᵀ E Xᵀ / n, so ∇_{W1}L · Q_x = 0 and

    W1(t) Q_x = W1(0) Q_x      for all t, for GD or GF, any depth, any initialisation.

Both are exact for GD as well as gradient flow (observed residuals ≤ 2e-12 in float64).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.checks import as_matrix
from theory.law import Assumption, Law

__all__ = ["nullspace_preservation", "nullspace_projector", "shallow_limit"]

d, n, k, h = sp.symbols("d n k h", positive=True, integer=True)
X = sp.MatrixSymbol("X", d, n)
Y = sp.MatrixSymbol("Y", k, n)
A0 = sp.MatrixSymbol("A0", k, d)
A_hat = sp.MatrixSymbol("A_hat", k, d)
Q_x = sp.MatrixSymbol("Q_x", d, d)
W1_t = sp.MatrixSymbol("W1_t", h, d)
W1_0 = sp.MatrixSymbol("W1_0", h, d)
X_pinv = sp.MatrixSymbol("X_pinv", n, d)  # the Moore-Penrose pseudo-inverse X⁺ (SymPy has no symbolic pinv node)


def nullspace_projector(X: object, rcond: float = 1e-12) -> np.ndarray:
    """Q_x = I − X X⁺, the projector onto the directions the inputs never excite.

    >>> nullspace_projector(np.array([[1.0], [0.0]]))
    array([[0., 0.],
           [0., 1.]])
    """
    x = as_matrix(X, "X")
    return np.eye(x.shape[0]) - x @ np.linalg.pinv(x, rcond=rcond)


def shallow_limit(X: object, Y: object, A0: object) -> np.ndarray:
    """Â = Y X⁺ + A0 Q_x: the limit of GD/GF on ½‖Y − AX‖²/n from A0.

    >>> shallow_limit(np.array([[1.0], [0.0]]), np.array([[2.0]]), np.array([[0.0, 5.0]]))
    array([[2., 5.]])
    """
    x = as_matrix(X, "X")
    y = as_matrix(Y, "Y", shape=(None, x.shape[1]))
    a0 = as_matrix(A0, "A0", shape=(y.shape[0], x.shape[0]))
    return y @ np.linalg.pinv(x) + a0 @ nullspace_projector(x)


nullspace_preservation = Law(
    name="nullspace_preservation",
    title="Gradient descent never changes the weights' action on the inputs' null space",
    equation=(
        sp.Eq(A_hat, Y * X_pinv + A0 * Q_x),
        sp.Eq(W1_t * Q_x, W1_0 * Q_x),
    ),
    symbols={
        "X": X,
        "X_pinv": X_pinv,
        "Y": Y,
        "A0": A0,
        "A_hat": A_hat,
        "Q_x": Q_x,
        "W1_t": W1_t,
        "W1_0": W1_0,
    },
    assumptions=(
        Assumption("squared_loss", "Loss ½‖Y − AX‖²/n (any scaling), full batch, no weight decay."),
        Assumption(
            "stable_steps", "For the shallow limit Â: a step size small enough for GD to converge (η < 2/λmax)."
        ),
        Assumption("first_layer", "For the deep statement: X enters only through the first layer W1."),
    ),
    regime="exact for GD and gradient flow, any depth and initialisation (residuals ≤ 2e-12 in float64)",
    source="LAWS.md §7.1 (least-squares implicit bias) and §7.2 (first-layer null-space invariance, derived)",
    domain={},
)
