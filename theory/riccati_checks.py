"""The checks specific to Braun et al. (2022) Theorem 3.1: full rank of W2W1(0), Assumption 3.1 (B nonsingular),
the task SVD, and the theorem's `Assumption` records.

The general input checks (matrices, times, whitening, balance) and their one tolerance semantics live in
`theory.checks`; a violated assumption raises `AssumptionError` whose message names the assumption and the fix.

>>> check_full_rank(np.diag([1.0, 1e-3]))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from theory.checks import as_matrix, check_whitened, check_zero_balanced
from theory.law import Assumption, AssumptionError

__all__ = [
    "B_NONSINGULAR",
    "B_TOL",
    "FULL_RANK",
    "GRADIENT_FLOW",
    "RANK_RTOL",
    "RESCALE_FIX",
    "WHITENED",
    "ZERO_BALANCED",
    "TaskSVD",
    "check_b_nonsingular",
    "check_full_rank",
    "task_svd",
]

# Default tolerances, each with the reason for its size (relative, as in theory.checks).
# A relative singular value below this is numerically zero: the S⁻¹ of Theorem 3.1 would amplify round-off
# by more than 1e10, so the init is treated as rank-deficient (the Fukumizu form handles that case).
RANK_RTOL = 1e-10
# B = UᵀŨ + VᵀṼ has ‖B‖ ≤ 2. The stable formula itself stays accurate down to σ_min(B) ≈ 1e-15 (measured against
# the mpmath Fukumizu form), but the *problem* is then ill-conditioned: the init lies within σ_min(B) of a saddle's
# stable manifold, the escape time ~ ln(1/σ_min(B))/s̃ is set by that distance, and a relative perturbation ε of the
# inputs moves it by ~ε/σ_min(B). 1e-8 keeps that sensitivity below 1e-8 for float64 inputs (ε ≈ 1e-16);
# pass a smaller b_tol when the inputs are exact.
B_TOL = 1e-8


# The Riccati flow is scale-covariant: QQᵀ → c²QQᵀ, Σyx → c²Σyx, t → t/c² maps solutions to solutions.
RESCALE_FIX = (
    "the exact solution is scale-covariant, qqt(W1_0, W2_0, Σyx, t) = c²·qqt(W1_0/c, W2_0/c, Σyx/c², c²·t), so "
    "solve the rescaled problem with c ≈ the largest |weight| and multiply by c² in a wider type (e.g. mpmath)"
)


def check_full_rank(w21: np.ndarray, n_hidden: int | None = None, rtol: float = RANK_RTOL) -> None:
    """rank W2W1(0) = Nm = min(Ni, No): every singular value above ``rtol`` times the largest.

    >>> check_full_rank(np.diag([1.0, 0.0]))
    Traceback (most recent call last):
    ...
    theory.law.AssumptionError: full-rank initialisation: W2W1(0) has σ_min/σ_max = 0 ≤ rtol = 1e-10, so rank W2W1(0) < Nm = 2 and S⁻¹ in Theorem 3.1 does not exist. Fix: use theory.riccati_fukumizu.qqt_fukumizu (valid for any rank), or perturb the initialisation to full rank.
    """
    n_m = min(w21.shape)
    if n_hidden is not None and n_hidden < n_m:
        raise AssumptionError(
            f"full-rank initialisation: Nh = {n_hidden} < Nm = min(Ni, No) = {n_m}, so rank W2W1(0) < Nm and "
            "Theorem 3.1 does not apply. Fix: use theory.riccati_fukumizu.qqt_fukumizu (valid for any Nh), "
            "or widen the hidden layer to Nh ≥ min(Ni, No)."
        )
    w21 = as_matrix(w21, "W2W1(0)")
    c = float(np.max(np.abs(w21)))  # σ_min/σ_max is scale-free: divide first so that huge weights cannot overflow
    sv = np.linalg.svd(w21 / c if c > 0 else w21, compute_uv=False)
    ratio = float(sv[-1] / sv[0]) if sv[0] > 0 else 0.0
    if ratio <= rtol:
        raise AssumptionError(
            f"full-rank initialisation: W2W1(0) has σ_min/σ_max = {ratio:.3g} ≤ rtol = {rtol:g}, so rank W2W1(0) "
            f"< Nm = {n_m} and S⁻¹ in Theorem 3.1 does not exist. Fix: use "
            "theory.riccati_fukumizu.qqt_fukumizu (valid for any rank), or perturb the initialisation to full rank."
        )


@dataclass(frozen=True)
class TaskSVD:
    """Full SVD of an (No × Ni) matrix: ``u`` (No×No), ``s`` (Nm,), ``v`` (Ni×Ni); the first Nm columns of
    ``u`` and ``v`` are Ũ and Ṽ, the rest Ũ⊥ and Ṽ⊥ (at most one of the two is non-empty)."""

    u: np.ndarray
    s: np.ndarray
    v: np.ndarray

    @property
    def n_m(self) -> int:
        return self.s.size

    @property
    def u_m(self) -> np.ndarray:
        return self.u[:, : self.n_m]

    @property
    def v_m(self) -> np.ndarray:
        return self.v[:, : self.n_m]

    @property
    def u_perp(self) -> np.ndarray:
        return self.u[:, self.n_m :]

    @property
    def v_perp(self) -> np.ndarray:
        return self.v[:, self.n_m :]


def task_svd(sigma_yx: np.ndarray) -> TaskSVD:
    """Full SVD of Σyx with numerically zero singular values set exactly to zero.

    A singular value below max(No, Ni)·ε·s̃_max is round-off of an exact zero; snapping it keeps the zero
    modes of Σyx on the t-linear branch (1 − e^{−2s̃t})/s̃ → 2t of Theorem 3.1 instead of a noisy tiny rate.

    >>> task_svd(np.array([[2.0, 0.0, 0.0]])).s
    array([2.])
    """
    u, s, vt = np.linalg.svd(sigma_yx, full_matrices=True)
    s = s.copy()
    if s.size and s[0] > 0:
        s[s <= max(sigma_yx.shape) * np.finfo(np.float64).eps * s[0]] = 0.0
    return TaskSVD(u=u, s=s, v=vt.T)


def check_b_nonsingular(b: np.ndarray, w21: np.ndarray, sigma_yx: np.ndarray, tol: float = B_TOL) -> None:
    """Braun Assumption 3.1: B = UᵀŨ + VᵀṼ nonsingular (smallest singular value above ``tol``).

    >>> s = np.diag([2.0, 1.0])
    >>> check_b_nonsingular(np.zeros((2, 2)), -s, s)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    theory.law.AssumptionError: Assumption 3.1 (B = UᵀŨ + VᵀṼ nonsingular) fails: σ_min(B) = 0 ≤ tol = 1e-08. ...
    """
    smin = float(np.linalg.svd(b, compute_uv=False)[-1])
    if smin > tol:
        return
    n_out, n_in = sigma_yx.shape
    detail = ""
    if n_in == n_out:
        sign_w = int(np.sign(np.linalg.det(w21)))
        sign_s = int(np.sign(np.linalg.det(sigma_yx)))
        if sign_w != sign_s:
            detail = (
                f" Here Ni = No and sign det W2W1(0) = {sign_w:+d} differs from sign det Σyx = {sign_s:+d}: "
                "UᵀŨ and VᵀṼ are then orthogonal matrices whose 'ratio' has determinant −1, which forces an "
                "eigenvalue −1 and hence a singular B (a sign mismatch always breaks Assumption 3.1; matching "
                "signs make B singular only on a measure-zero set, e.g. reversal Σyx = −W2W1(0) with Nm even)."
            )
        else:
            detail = " Here Ni = No and the determinant signs agree, so this is one of the measure-zero singular cases."
    raise AssumptionError(
        f"Assumption 3.1 (B = UᵀŨ + VᵀṼ nonsingular) fails: σ_min(B) = {smin:.3g} ≤ tol = {tol:g}.{detail} "
        "The exact gradient flow then starts on (or within round-off of) the stable manifold of a saddle and "
        "never learns the affected modes; reversal learning (Σyx = −W2W1(0) at a converged init) is the "
        "extreme case B = 0. Gradient descent escapes only through its O(η) imbalance and round-off "
        "(LAWS.md §2.6, §3.2). Fix: flip one column of the initial factors so that the signs agree, e.g. "
        "W2_0 ← (I − 2uuᵀ) W2_0 with u a left singular vector of W2W1(0) (this keeps zero balance); or, if "
        "W2W1(0) is aligned with the SVD of Σyx, use theory.decoupling.aligned_qqt, whose reversed modes "
        "collapse to the saddle exactly."
    )


_FLOW_STATEMENT = "Gradient flow τ dW/dt = −∂L/∂W; GD with step η matches to O(η) with τ = 1/η (LAWS.md §0)."


def _unit(a: np.ndarray) -> np.ndarray:
    """``a`` divided by its largest |entry| (unchanged if zero): products of such factors cannot overflow."""
    c = float(np.max(np.abs(a)))
    return a / c if c > 0 else a


def _check_whitened_kw(sigma_xx: ArrayLike) -> None:
    check_whitened(sigma_xx)


def _check_balanced_kw(W1_0: ArrayLike, W2_0: ArrayLike) -> None:
    check_zero_balanced(W1_0, W2_0)


def _check_rank_kw(W1_0: ArrayLike, W2_0: ArrayLike) -> None:
    w1, w2 = as_matrix(W1_0, "W1_0"), as_matrix(W2_0, "W2_0")
    # rank is scale-free: normalise each factor so that the product stays in float64 range for any finite weights
    check_full_rank(_unit(w2) @ _unit(w1), n_hidden=w1.shape[0])


def _check_b_kw(W1_0: ArrayLike, W2_0: ArrayLike, sigma_yx: ArrayLike) -> None:
    w2, w1 = as_matrix(W2_0, "W2_0"), as_matrix(W1_0, "W1_0")
    w21 = _unit(w2) @ _unit(w1)  # B depends only on the singular vectors of W2W1(0), not on its scale
    syx = as_matrix(sigma_yx, "sigma_yx")
    u, _, vt = np.linalg.svd(w21, full_matrices=False)
    task = task_svd(syx)
    check_b_nonsingular(u.T @ task.u_m + vt @ task.v_m, w21, syx)


WHITENED = Assumption("whitened", "Inputs are whitened: Σxx = I exactly.", check=_check_whitened_kw)
ZERO_BALANCED = Assumption(
    "zero_balanced", "Zero-balanced initialisation W1W1ᵀ = W2ᵀW2 (conserved by the flow).", check=_check_balanced_kw
)
FULL_RANK = Assumption(
    "full_rank", "rank W2W1(0) = Nm = min(Ni, No), so S in W2W1(0) = USVᵀ is invertible.", check=_check_rank_kw
)
B_NONSINGULAR = Assumption(
    "assumption_3_1",
    "Braun Assumption 3.1: B = UᵀŨ + VᵀṼ is nonsingular. For Ni = No a sign mismatch det W2W1(0)·det Σyx < 0 "
    "always violates it; reversal learning is the case B = 0.",
    check=_check_b_kw,
)
GRADIENT_FLOW = Assumption("gradient_flow", _FLOW_STATEMENT)
