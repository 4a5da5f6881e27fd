"""Gradient descent on the diagonal linear network w = u⊙u − v⊙v (theory.diagonal), float64.

The loss is L = (1/2n)‖Xw − y‖²; one GD step with step η is u ← u − 2η u⊙g, v ← v + 2η v⊙g, g = Xᵀ(Xw − y)/n,
the Euler step of the flow in theory/diagonal.py with τ = 1/η (LAWS.md §0). The network has one weight vector per
run, d ≤ a few dozen here, so the loop is plain numpy (a torch dispatch per step would cost more than the step).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["DiagonalRun", "train_diagonal"]


class DiagonalRun(NamedTuple):
    """The converged state: w = u⊙u − v⊙v, the factors u and v, and the number of GD steps taken."""

    w: np.ndarray
    u: np.ndarray
    v: np.ndarray
    steps: int


def train_diagonal(
    X: np.ndarray, y: np.ndarray, alpha: float, *, eta: float, tol: float = 1e-11, max_steps: int = 2_000_000
) -> DiagonalRun:
    """GD from u = v = α·1 until ‖Xw − y‖ ≤ tol·max(1, ‖y‖); returns the `DiagonalRun` (w, u, v, steps).

    Raises ValueError for a step beyond the stability bound at the start (η ≥ 1/(4α²λ_max(XᵀX/n)), the
    curvature of L in (u, v) at w = 0) and FloatingPointError for NaN/inf or no convergence within ``max_steps``.

    >>> run = train_diagonal(np.array([[1.0, 1.0]]), np.array([2.0]), 1.0, eta=0.05)
    >>> run.w.round(8).tolist()
    [1.0, 1.0]
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"need X (n, d) and y (n,), got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X or y contains NaN or inf")
    if not (np.isfinite(alpha) and alpha > 0 and np.isfinite(eta) and eta > 0):
        raise ValueError(f"alpha and eta must be positive and finite, got alpha={alpha!r}, eta={eta!r}")
    n = X.shape[0]
    bound = 1.0 / (4 * alpha**2 * np.linalg.eigvalsh(X.T @ X / n).max())
    if eta >= bound:
        raise ValueError(f"eta = {eta!r} ≥ 1/(4α²λ_max(XᵀX/n)) = {bound:.6g}: GD is unstable at the start; reduce eta")
    u = np.full(X.shape[1], float(alpha))
    v = u.copy()
    scale = tol * max(1.0, float(np.linalg.norm(y)))
    for step in range(max_steps):
        r = X @ (u * u - v * v) - y
        if np.linalg.norm(r) <= scale:
            return DiagonalRun(u * u - v * v, u, v, step)
        g = X.T @ r / n
        u, v = u - 2 * eta * u * g, v + 2 * eta * v * g
        if not np.all(np.isfinite(u)):
            raise FloatingPointError(f"GD diverged at step {step} (eta = {eta}); reduce eta")
    raise FloatingPointError(f"GD did not converge to ‖Xw − y‖ ≤ {scale:.3g} in {max_steps} steps; raise max_steps")
