"""Forgetting from task distance (Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022, §6 and App. F).

With whitened task-i inputs (Σᵢxx = I) the loss of task i is a quadratic in the network function W:

    L_i(W) = ½‖W − Σᵢyx‖²_F + c_i,        c_i = ½(tr Σᵢyy − ‖Σᵢyx‖²_F),

an algebraic identity, exact for any W. A zero-balanced network trained to convergence on task j ends at
W = Σⱼyx (Braun Theorem 3.2), hence L_i(T_j) = ½‖Σⱼ − Σᵢ‖² + c_i, and the forgetting of task a when
training on c after b is ½(‖Σ_c − Σ_a‖² − ‖Σ_b − Σ_a‖²), independent of initialisation and trajectory.

The scalar equations are in terms of task distances ``d = ‖Σⱼ − Σᵢ‖_F``; the matrix helpers below compute them.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.checks import as_matrix, check_whitened
from theory.law import Assumption, Law

__all__ = ["forgetting_task_distance", "irreducible_loss", "task_distance", "task_loss"]

L = sp.Symbol("L", nonnegative=True)
d = sp.Symbol("d", nonnegative=True)
c = sp.Symbol("c", nonnegative=True)
F = sp.Symbol("F", real=True)
d_ab = sp.Symbol("d_ab", nonnegative=True)
d_ac = sp.Symbol("d_ac", nonnegative=True)


def task_distance(sigma_a: object, sigma_b: object) -> float:
    """Frobenius distance ‖Σ_b − Σ_a‖_F between two tasks' input-output covariances.

    >>> task_distance(np.eye(2), np.zeros((2, 2)))  # doctest: +ELLIPSIS
    1.414213562...
    """
    a = as_matrix(sigma_a, "sigma_a")
    b = as_matrix(sigma_b, "sigma_b", shape=a.shape)
    return float(np.linalg.norm(b - a))


def irreducible_loss(sigma_yx: object, sigma_yy: object) -> float:
    """c = ½(tr Σyy − ‖Σyx‖²_F): the loss of a task at its own optimum (whitened inputs)."""
    syx = as_matrix(sigma_yx, "sigma_yx")
    syy = as_matrix(sigma_yy, "sigma_yy", shape=(syx.shape[0], syx.shape[0]))
    return 0.5 * (float(np.trace(syy)) - float(np.sum(syx**2)))


def task_loss(W: object, sigma_yx: object, sigma_yy: object, sigma_xx: object | None = None) -> float:
    """L(W) = ½‖W − Σyx‖² + c, exact when Σxx = I (checked if ``sigma_xx`` is given).

    >>> task_loss(np.zeros((1, 1)), [[2.0]], [[4.0]])
    2.0
    """
    syx = as_matrix(sigma_yx, "sigma_yx")
    w = as_matrix(W, "W", shape=syx.shape)
    if sigma_xx is not None:
        check_whitened(sigma_xx)
    return 0.5 * float(np.sum((w - syx) ** 2)) + irreducible_loss(syx, sigma_yy)


def _check_converged_capacity(Nh: int, sigma_yx: object) -> None:
    rank = int(np.linalg.matrix_rank(as_matrix(sigma_yx, "sigma_yx")))
    if Nh < rank:
        from theory.law import AssumptionError

        raise AssumptionError(
            f"hidden width Nh = {Nh} < rank Σyx = {rank}: the network cannot reach W = Σyx. Replace Σyx by its "
            "best rank-Nh truncation (Saxe eq. 7) before computing distances, or widen the network."
        )


forgetting_task_distance = Law(
    name="forgetting_task_distance",
    title="Loss on task i after converging on task j, from the task distance",
    equation=(
        sp.Eq(L, d**2 / 2 + c),
        sp.Eq(F, (d_ac**2 - d_ab**2) / 2),
    ),
    symbols={"L": L, "d": d, "c": c, "F": F, "d_ab": d_ab, "d_ac": d_ac},
    assumptions=(
        Assumption("whitened", "Task-i inputs are whitened, Σᵢxx = I.", check=check_whitened),
        Assumption(
            "converged",
            "The network has converged on task j: W = Σⱼyx (zero-balanced init, Braun Thm 3.2); weak modes need "
            "t ≫ (1/2s_min) ln(s_min/u0).",
        ),
        Assumption("capacity", "Nh ≥ rank Σⱼyx.", check=_check_converged_capacity),
    ),
    regime=(
        "L_i(W) = ½‖W − Σᵢ‖² + c_i is an exact identity for any W; the law L_i(T_j) holds to the accuracy with "
        "which training on T_j has converged to Σⱼ (exact in the limit t → ∞)"
    ),
    source="Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), §6 and App. F",
    domain={"d": (0.0, 5.0), "c": (0.0, 2.0), "d_ab": (0.0, 5.0), "d_ac": (0.0, 5.0)},
    derived={"forgetting": (d_ac**2 - d_ab**2) / 2},
)
