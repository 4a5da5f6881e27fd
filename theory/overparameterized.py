"""Forgetting of an overparameterised linear learner trained on two tasks to convergence (issue 11, item 6).

Setting: inputs x ~ N(0, I_p); each task has n < p samples, X_j ∈ R^{n×p} with i.i.d. N(0, 1) rows, noiseless
targets y_j = X_j w_j* from unit teachers with cosine s = ⟨w1*, w2*⟩; zero initialisation; each task trained by GD
(or gradient flow) to convergence, which lands on the projection of the previous weights onto the task's solution
set (LAWS.md §6.1). Forgetting is the population error on task 1 after task 2 minus after task 1, with the
population error E_x[(xᵀ(w − w1*))²] = ‖w − w1*‖² (no ½).

Derivation (done here). Let R_j = X_j⁺X_j be the projector onto the row space of X_j. Then

    w1 = R1 w1*,      w2 = w1 + R2 (w2* − w1) = (I − R2) w1 + R2 w2*,
    w1 − w1* = −(I − R1) w1*,
    w2 − w1* = −(I − R2)(I − R1) w1* + R2 (w2* − w1*).

The cross term of ‖w2 − w1*‖² vanishes identically, since (I − R2)R2 = 0. The row space of a Gaussian matrix is a
Haar-random n-dimensional subspace, so E[R_j] = (n/p) I (rotation invariance fixes E[R] = cI, and tr R = n). With
R1 and R2 independent and r = n/p:

    E‖w2 − w1*‖² = E[w1*ᵀ(I − R1)(I − R2)(I − R1)w1*] + E[(w2* − w1*)ᵀR2(w2* − w1*)]
                 = (1 − r)·E[w1*ᵀ(I − R1)w1*] + r‖w2* − w1*‖² = (1 − r)² + 2r(1 − s),
    E‖w1 − w1*‖² = 1 − r,

    E[F] = (1 − r)² − (1 − r) + 2r(1 − s) = r (1 − 2s + r).

This is exact at every finite n < p, not only in a large-p limit: only the first moment E[R] enters. It is the
two-task case of Lin, Ju, Liang & Shroff (ICML 2023, arXiv:2302.05836), quoted there (and in issue 11) with "≈".
The issue's Monte Carlo (0.1047 ± 0.0025 against 0.110 at n = 20, p = 200, s = 0) is 2.1 of its standard errors
low; 40,000 draws here (seed 0) give 0.1099 ± 0.0003 (standard error; 0.054 per draw), so it was a fluctuation.

Not covered: label noise (adds σ²-terms through E[tr (XXᵀ)⁻¹] = n/(p − n − 1)), non-isotropic inputs, n ≥ p (the
second task then overwrites the first completely and F = ‖w2* − w1*‖² − 0 = 2(1 − s)), early stopping.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.law import Assumption, AssumptionError, Law

__all__ = ["min_norm_forgetting", "overparameterized_two_task_forgetting"]

n, p = sp.symbols("n p", positive=True, integer=True)
s = sp.Symbol("s", real=True)
r = sp.Symbol("r", positive=True)
F = sp.Symbol("F", real=True)


def _check_sizes(n: float, p: float) -> None:
    if not (np.all(np.asarray(n) > 0) and np.all(np.asarray(n) < np.asarray(p))):
        raise AssumptionError(
            f"overparameterized_two_task_forgetting: needs 0 < n < p (n = {n}, p = {p}); with n ≥ p every task is "
            "solved exactly and task 2 overwrites task 1 (F = 2(1 − s))."
        )


def _check_cosine(s: float) -> None:
    if not np.all(np.abs(np.asarray(s)) <= 1):
        raise AssumptionError(
            f"overparameterized_two_task_forgetting: the teachers' cosine s = {s} must lie in [−1, 1]"
        )


def min_norm_forgetting(X1: np.ndarray, X2: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """F = ‖w_2 − w1*‖² − ‖w_1 − w1*‖² for a batch of draws: the learner converged on task 1 from 0 (the
    minimum-norm interpolant w_1 = X1⁺X1 w1*) and then on task 2 (w_2 = w_1 + X2⁺X2 (w2* − w_1)).

    ``X1``, ``X2``: (draws, n, p) with full row rank n < p; ``w1``, ``w2``: (p,) teachers. Projections are solved
    through the n×n Gram matrices (X Xᵀ)⁻¹, so no p×p matrix is formed.

    >>> X = np.eye(2)[None, :1]  # one sample along e1 in R²
    >>> float(min_norm_forgetting(X, X[:, :, ::-1], np.array([1.0, 0.0]), np.array([0.0, 1.0]))[0])
    1.0
    """
    X1, X2 = np.asarray(X1, dtype=np.float64), np.asarray(X2, dtype=np.float64)
    if X1.ndim != 3 or X1.shape != X2.shape:
        raise ValueError(f"X1 and X2 must both have shape (draws, n, p), got {X1.shape} and {X2.shape}")
    draws, rows, dim = X1.shape
    w1, w2 = np.asarray(w1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    if w1.shape != (dim,) or w2.shape != (dim,):
        raise ValueError(f"teachers must have shape ({dim},), got {w1.shape} and {w2.shape}")
    if rows >= dim:
        raise ValueError(f"n = {rows} ≥ p = {dim}: the problem is not overparameterised (use n < p)")
    if not (
        np.all(np.isfinite(X1)) and np.all(np.isfinite(X2)) and np.all(np.isfinite(w1)) and np.all(np.isfinite(w2))
    ):
        raise ValueError("inputs or teachers contain NaN or inf")

    def project(X: np.ndarray, v: np.ndarray) -> np.ndarray:  # X⁺X v for each draw, v of shape (draws, p)
        coef = np.linalg.solve(X @ X.transpose(0, 2, 1), (X @ v[:, :, None]))
        return (X.transpose(0, 2, 1) @ coef)[:, :, 0]

    target1 = np.broadcast_to(w1, (draws, dim))
    learned1 = project(X1, target1)
    learned2 = learned1 + project(X2, w2[None, :] - learned1)
    return np.sum((learned2 - target1) ** 2, axis=1) - np.sum((learned1 - target1) ** 2, axis=1)


_exact = (n / p) * (1 - 2 * s + n / p)

overparameterized_two_task_forgetting = Law(
    name="overparameterized_two_task_forgetting",
    title="Expected forgetting of a minimum-norm linear learner on two tasks: E[F] = (n/p)(1 − 2s + n/p)",
    equation=sp.Eq(F, _exact),
    symbols={"n": n, "p": p, "s": s, "r": r, "F": F},
    assumptions=(
        Assumption(
            "gaussian_inputs",
            "Inputs x ~ N(0, I_p), independent samples and tasks (isotropic: only the "
            "rotation invariance of the row spaces is used).",
        ),
        Assumption("overparameterised", "0 < n < p samples per task.", check=_check_sizes),
        Assumption(
            "teachers", "Noiseless targets from unit-norm teachers with cosine s ∈ [−1, 1].", check=_check_cosine
        ),
        Assumption(
            "converged", "Zero init, each task trained to convergence by GD/GF (the projection of LAWS.md §6.1)."
        ),
    ),
    regime=(
        "exact in expectation at every finite n < p (derived here; only E[X⁺X] = (n/p)I enters); one draw "
        "fluctuates around it (standard deviation 0.054 per draw at n = 20, p = 200, s = 0)"
    ),
    source=(
        "Lin, Ju, Liang & Shroff, ICML 2023 (arXiv:2302.05836), two-task case; exact finite-size expectation derived "
        "here (theory/overparameterized.py)"
    ),
    domain={"n": (5, 50), "p": (60, 200), "s": (-1.0, 1.0), "r": (0.05, 0.95)},
    derived={"ratio_form": r * (1 - 2 * s + r)},
)
