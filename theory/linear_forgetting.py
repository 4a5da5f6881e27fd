"""Forgetting of two linear regression tasks learned cyclically to convergence (Evron, Moroshko, Ward, Srebro &
Soudry, COLT 2022, arXiv:2205.09588; LAWS.md §6.2).

Setting: realizable tasks y_m = X_m w* (one teacher), X_m with orthonormal rows, w0 = 0, each task trained to
convergence by GD or gradient flow, which projects the weights onto the task's solution set (LAWS.md §6.1):
w ← w* + P_m (w − w*), P_m = I − X_mᵀX_m the projector onto null(X_m). Tasks are visited 1, 2, 1, 2, …; one
cycle is the pair (task 1, task 2), and the forgetting after k cycles is measured after the k-th visit of task 2,
with LAWS.md §6.2's normalisation (the mean over the T = 2 tasks of the squared residual norm; task 2's is 0):

    F(k) = ½ ‖X1 (w_k − w*)‖²,        w_k − w* = −(P2 P1)^k w*.

Derivation (done here) for one principal angle θ between the two null spaces: let b1, b2 be unit vectors of
null(X1), null(X2) in the plane they span, with ⟨b1, b2⟩ = cos θ, and every other direction of one null space
lying in the other's (angle 0) or orthogonal to it (angle π/2: those components are learned by the other task and
never forgotten). Then P1 w* has the component c = ⟨b1, w*⟩ along b1 in the plane; each further projection
multiplies by cos θ and turns b1 ↔ b2, so (P2P1)^k w* = c·cos^{2k−1}θ·b2 (+ components that X1 annihilates), and
‖X1 b2‖² = 1 − cos²θ = sin²θ:

    F_k(θ) = ½ c² cos^{2(2k−1)}θ sin²θ,         sup over unit w*: c = 1.

Worst case over θ (x = cos²θ, maximise x^{2k−1}(1 − x): x* = (2k − 1)/(2k)):

    max_θ F_k = (1/(4k)) (1 − 1/(2k))^{2k−1},   at cos²θ* = 1 − 1/(2k),

which is 1/8 at k = 1 (LAWS.md §6.2, at θ = π/4) and ≈ 1/(4e·k) for large k. The paper states its two-task rates
in its own normalisation, which was not available here to compare constants.

T tasks (`derived["T_task_bound"]`): for T tasks in d dimensions visited cyclically for k cycles, the paper's
abstract bounds the forgetting (1/T) Σ_m ‖X_m w_k − y_m‖² by T²·min(1/√k, d/k) (‖w*‖ ≤ 1, rows of norm ≤ 1). It is
a bound, not a law: verify checks it against the exact worst case over w* (`worst_case_cyclic_forgetting`) on random
and adversarially searched task sets, where the largest F/bound found is 1/32 (two tasks at θ = π/4, k = 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from theory.law import Assumption, AssumptionError, Law

__all__ = [
    "cyclic_forgetting",
    "cyclic_forgetting_two_tasks",
    "cyclic_projection_forgetting",
    "worst_case_cyclic_forgetting",
]

theta = sp.Symbol("theta", positive=True)
k = sp.Symbol("k", positive=True, integer=True)
c = sp.Symbol("c", real=True)
T, d = sp.symbols("T d", positive=True, integer=True)
F = sp.Symbol("F", nonnegative=True)


def cyclic_projection_forgetting(X1: np.ndarray, X2: np.ndarray, w_star: np.ndarray, cycles: int) -> float:
    """F(k) = ½‖X1(w_k − w*)‖² after ``cycles`` visits of (task 1, task 2) from w0 = 0, each visit the exact
    projection onto the task's solution set (the limit of GD, LAWS.md §6.1): `cyclic_forgetting` with T = 2.

    >>> X1, X2 = np.array([[1.0, 0.0]]), np.array([[np.sqrt(0.5), np.sqrt(0.5)]])
    >>> round(cyclic_projection_forgetting(X1, X2, np.array([0.0, 1.0]), 1), 12)
    0.125
    """
    return cyclic_forgetting((X1, X2), w_star, cycles)


def _cycle_inputs(tasks: Sequence[np.ndarray], cycles: int) -> list[np.ndarray]:
    Xs = [np.asarray(X, dtype=np.float64) for X in tasks]
    if len(Xs) < 2 or any(X.ndim != 2 or X.shape[1] != Xs[0].shape[-1] for X in Xs):
        shapes = ", ".join(str(X.shape) for X in Xs)
        raise ValueError(f"need at least two tasks X_m of shape (n_m, d) with one d; got {shapes}")
    if not all(np.all(np.isfinite(X)) for X in Xs):
        raise ValueError("a task's inputs contain NaN or inf")
    if isinstance(cycles, bool) or not isinstance(cycles, (int, np.integer)) or cycles < 1:
        raise ValueError(f"cycles must be an integer ≥ 1, got {cycles!r}")
    return Xs


def cyclic_forgetting(tasks: Sequence[np.ndarray], w_star: np.ndarray, cycles: int) -> float:
    """F(k) = (1/T) Σ_m ‖X_m(w_k − w*)‖² after ``cycles`` cycles through the T tasks (X_1, …, X_T) from w0 = 0,
    each visit the exact projection onto the task's solution set (LAWS.md §6.1, §6.2's normalisation).

    >>> e = np.eye(3)
    >>> round(cyclic_forgetting((e[:1], e[1:2], e[2:]), np.ones(3), 1), 12)  # orthogonal tasks: nothing forgotten
    0.0
    """
    Xs = _cycle_inputs(tasks, cycles)
    w_star = np.asarray(w_star, dtype=np.float64)
    if w_star.shape != (Xs[0].shape[1],):
        raise ValueError(f"w* must have shape ({Xs[0].shape[1]},), got {w_star.shape}")
    pinvs = [np.linalg.pinv(X) for X in Xs]
    w = np.zeros_like(w_star)
    for _ in range(cycles):
        for X, Xp in zip(Xs, pinvs, strict=True):
            w = w + Xp @ (X @ (w_star - w))
    return float(np.mean([np.sum((X @ (w - w_star)) ** 2) for X in Xs]))


def worst_case_cyclic_forgetting(tasks: Sequence[np.ndarray], cycles: int) -> float:
    """sup over unit w* of `cyclic_forgetting`: w_k − w* = −(P_T ⋯ P_1)^k w* with P_m the projector onto null(X_m),
    so the sup is λ_max((1/T) Σ_m Bᵀ X_mᵀ X_m B) for B = (P_T ⋯ P_1)^k.

    >>> X1, X2 = np.array([[1.0, 0.0]]), np.array([[np.sqrt(0.5), np.sqrt(0.5)]])
    >>> round(worst_case_cyclic_forgetting((X1, X2), 1), 12)  # θ = π/4, w* along null(X1): 1/8
    0.125
    """
    Xs = _cycle_inputs(tasks, cycles)
    dim = Xs[0].shape[1]
    cycle = np.eye(dim)
    for X in Xs:
        cycle = (np.eye(dim) - np.linalg.pinv(X) @ X) @ cycle
    B = np.linalg.matrix_power(cycle, cycles)
    gram = sum(B.T @ X.T @ X @ B for X in Xs) / len(Xs)
    return float(np.linalg.eigvalsh((gram + gram.T) / 2)[-1])


def _check_angle(theta: float) -> None:
    if not np.all((np.asarray(theta) >= 0) & (np.asarray(theta) <= np.pi / 2)):
        raise AssumptionError(
            f"cyclic_forgetting_two_tasks: principal angles lie in [0, π/2], got θ = {theta}; take arccos|cos θ|."
        )


cyclic_forgetting_two_tasks = Law(
    name="cyclic_forgetting_two_tasks",
    title="Forgetting after k cycles of two linear regression tasks: F = ½c²cos^{2(2k−1)}θ sin²θ",
    equation=sp.Eq(F, c**2 * sp.cos(theta) ** (2 * (2 * k - 1)) * sp.sin(theta) ** 2 / 2),
    symbols={"theta": theta, "k": k, "c": c, "F": F, "T": T, "d": d},
    assumptions=(
        Assumption("realizable", "One teacher w* for both tasks (noiseless y_m = X_m w*), ‖w*‖ ≤ 1 for the sup."),
        Assumption("orthonormal_rows", "Each X_m has orthonormal rows (the law's norms; otherwise weight by X_mX_mᵀ)."),
        Assumption("converged", "w0 = 0 and every visit trained to convergence (the projection of LAWS.md §6.1)."),
        Assumption(
            "one_angle", "One principal angle θ ∈ [0, π/2] between the null spaces; c = ⟨b1, w*⟩.", check=_check_angle
        ),
    ),
    regime="exact (an identity of the projections; GD reaches them to round-off)",
    source=(
        "Evron, Moroshko, Ward, Srebro & Soudry, COLT 2022 (arXiv:2205.09588), two tasks, cyclic; closed form and "
        "worst case derived here (theory/linear_forgetting.py), normalisation of LAWS.md §6.2"
    ),
    domain={"theta": (0.05, 1.5), "k": (1, 20), "c": (-1.0, 1.0), "T": (2, 10), "d": (2, 50)},
    derived={
        "worst_case": (1 - 1 / (2 * k)) ** (2 * k - 1) / (4 * k),
        "worst_angle": sp.acos(sp.sqrt(1 - 1 / (2 * k))),
        "T_task_bound": T**2 * sp.Min(1 / sp.sqrt(k), d / k),
    },
)
