"""Gradient descent, and gradient flow, on the diagonal linear network w = u⊙u − v⊙v (theory.diagonal), float64.

The loss is L = (1/2n)‖Xw − y‖²; one GD step with step η is u ← u − 2η u⊙g, v ← v + 2η v⊙g, g = Xᵀ(Xw − y)/n,
the Euler step of the flow in theory/diagonal.py with τ = 1/η (LAWS.md §0). The network has one weight vector per
run, d ≤ a few dozen here, so the loop is plain numpy (a torch dispatch per step would cost more than the step).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from theory.checks import as_regression

__all__ = ["DiagonalRun", "flow_diagonal", "train_diagonal"]


class DiagonalRun(NamedTuple):
    """The converged state: w = u⊙u − v⊙v, the factors u and v, and the number of GD steps taken."""

    w: np.ndarray
    u: np.ndarray
    v: np.ndarray
    steps: int


def _problem(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) and y (n,) as float64, checked finite (`theory.checks.as_regression`), and α checked positive."""
    X, y = as_regression(X, y)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be positive and finite, got alpha={alpha!r}")
    return X, y


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
    X, y = _problem(X, y, alpha)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be positive and finite, got eta={eta!r}")
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


def flow_diagonal(
    X: np.ndarray, y: np.ndarray, alpha: float, times: np.ndarray, *, rtol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient flow du/dt = −2u⊙g, dv/dt = 2v⊙g (g = Xᵀ(Xw − y)/n, τ = 1) from u = v = α·1, integrated by
    `scipy.integrate.solve_ivp` (DOP853, relative tolerance ``rtol``, absolute 1e-3·rtol·α) and read at ``times``
    (increasing, from 0); returns u and v of shape (len(times), d).

    Along the flow u⊙v = α² exactly (d(uv)/dt = 0), which the integrator keeps to its tolerance:

    >>> X, y = np.array([[1.0, 2.0]]), np.array([1.0])
    >>> u, v = flow_diagonal(X, y, 0.5, np.array([0.0, 1.0, 5.0]))
    >>> bool(np.abs(u * v - 0.25).max() < 1e-11)
    True
    """
    from scipy.integrate import solve_ivp

    X, y = _problem(X, y, alpha)
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or times[0] < 0 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be a non-empty increasing 1-d array starting at or after 0")
    n, d = X.shape

    def velocity(_: float, state: np.ndarray) -> np.ndarray:
        u, v = state[:d], state[d:]
        g = X.T @ (X @ (u * u - v * v) - y) / n
        return np.concatenate([-2 * u * g, 2 * v * g])

    start = np.full(2 * d, float(alpha))
    sol = solve_ivp(
        velocity, (0.0, float(times[-1])), start, method="DOP853", t_eval=times, rtol=rtol, atol=1e-3 * rtol * alpha
    )
    if not sol.success:
        raise FloatingPointError(f"the flow integration failed: {sol.message}")
    return sol.y[:d].T, sol.y[d:].T
