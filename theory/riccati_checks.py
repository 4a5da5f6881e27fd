"""Input validation and assumption checks shared by the matrix Riccati solutions (Braun et al. 2022, §3).

Bad shapes or non-finite numbers are programming errors and raise `ValueError`; a violated assumption of a
theorem raises `AssumptionError` (also a `ValueError`) whose message names the assumption and the fix.
Every tolerance is a keyword with a stated default, so a caller can tighten or loosen it knowingly.

>>> import numpy as np
>>> check_zero_balanced(np.eye(2), 2 * np.eye(2))
Traceback (most recent call last):
...
theory.law.AssumptionError: zero-balanced initialisation: ‖W1W1ᵀ − W2ᵀW2‖_F / (‖W1W1ᵀ‖_F + ‖W2ᵀW2‖_F) = 0.6 > rtol = 1e-08. Theorem 3.1 and the Fukumizu solution hold only for W1W1ᵀ = W2ᵀW2. Fix: build the initialisation as W1 = R S^{1/2} Vᵀ, W2 = U S^{1/2} Rᵀ (R with orthonormal columns), e.g. from the SVD of a desired W2W1(0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from theory.law import Assumption, AssumptionError

__all__ = [
    "B_NONSINGULAR",
    "FULL_RANK",
    "GRADIENT_FLOW",
    "WHITENED",
    "ZERO_BALANCED",
    "TaskSVD",
    "as_matrix",
    "as_times",
    "check_b_nonsingular",
    "check_full_rank",
    "check_shapes",
    "check_whitened",
    "check_zero_balanced",
    "task_svd",
]

# Default tolerances, each with the reason for its size.
# An SVD-built zero-balanced initialisation is balanced to ~1e-15 relative; 1e-8 leaves room for accumulated
# round-off while keeping the model error caused by residual imbalance at the 1e-8 relative level.
BALANCE_RTOL = 1e-8
# Exact Cholesky whitening gives XXᵀ/P = I to ~1e-15 per entry (LAWS.md §0); 1e-9 allows for large P and Ni.
WHITEN_ATOL = 1e-9
# A relative singular value below this is numerically zero: the S⁻¹ of Theorem 3.1 would amplify round-off
# by more than 1e10, so the init is treated as rank-deficient (the Fukumizu form handles that case).
RANK_RTOL = 1e-10
# B = UᵀŨ + VᵀṼ has ‖B‖ ≤ 2. The stable formula itself stays accurate down to σ_min(B) ≈ 1e-15 (measured against
# the mpmath Fukumizu form), but the *problem* is then ill-conditioned: the init lies within σ_min(B) of a saddle's
# stable manifold, the escape time ~ ln(1/σ_min(B))/s̃ is set by that distance, and a relative perturbation ε of the
# inputs moves it by ~ε/σ_min(B). 1e-8 keeps that sensitivity below 1e-8 for float64 inputs (ε ≈ 1e-16);
# pass a smaller b_tol when the inputs are exact.
B_TOL = 1e-8


def as_matrix(name: str, a: ArrayLike) -> np.ndarray:
    """``a`` as a finite float64 matrix (2-D); otherwise ValueError naming ``name``.

    >>> as_matrix("W1_0", [[1, 2]]).dtype
    dtype('float64')
    """
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def as_times(t: ArrayLike, tau: float) -> np.ndarray:
    """Times ``t`` (scalar or 1-D, finite, ≥ 0) divided by ``tau`` (finite, > 0), as a 1-D float64 array.

    >>> as_times([0.0, 2.0], tau=2.0)
    array([0., 1.])
    """
    tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if tt.ndim != 1:
        raise ValueError(f"t must be a scalar or a 1-D array of times, got shape {tt.shape}")
    if not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ValueError("t must contain finite times ≥ 0 (the solutions run forward from the initialisation)")
    tau_f = float(tau)
    if not (np.isfinite(tau_f) and tau_f > 0):
        raise ValueError(f"tau must be finite and > 0, got {tau!r}")
    return tt / tau_f


def check_shapes(W1_0: np.ndarray, W2_0: np.ndarray, sigma_yx: np.ndarray) -> tuple[int, int, int]:
    """(Ni, Nh, No) for W1 ∈ R^{Nh×Ni}, W2 ∈ R^{No×Nh}, Σyx ∈ R^{No×Ni}; ValueError if they do not fit."""
    n_hidden, n_in = W1_0.shape
    n_out, n_hidden2 = W2_0.shape
    if n_hidden2 != n_hidden:
        raise ValueError(f"W2_0 has {n_hidden2} columns but W1_0 has {n_hidden} rows (both must be Nh)")
    if sigma_yx.shape != (n_out, n_in):
        raise ValueError(f"sigma_yx must have shape (No, Ni) = {(n_out, n_in)}, got {sigma_yx.shape}")
    return n_in, n_hidden, n_out


def check_whitened(sigma_xx: ArrayLike | None, n_in: int | None = None, atol: float = WHITEN_ATOL) -> None:
    """Whitened inputs: Σxx = I. Whitening is a property of the data, so it is checked only when Σxx is given.

    >>> check_whitened(None)
    >>> check_whitened([[1.0, 0.0], [0.0, 1.0]], n_in=2)
    """
    if sigma_xx is None:
        return
    sxx = as_matrix("sigma_xx", sigma_xx)
    n = sxx.shape[0] if n_in is None else n_in
    if sxx.shape != (n, n):
        raise ValueError(f"sigma_xx must have shape (Ni, Ni) = {(n, n)}, got {sxx.shape}")
    err = float(np.max(np.abs(sxx - np.eye(n))))
    if err > atol:
        raise AssumptionError(
            f"whitened inputs: max|Σxx − I| = {err:.3g} > atol = {atol:g}. The exact solutions assume Σxx = I. "
            "Fix: whiten the inputs exactly, X ← L⁻¹X with L = chol(XXᵀ/P) (LAWS.md §0)."
        )


def check_zero_balanced(W1_0: ArrayLike, W2_0: ArrayLike, rtol: float = BALANCE_RTOL) -> None:
    """Zero-balanced initialisation: W1W1ᵀ = W2ᵀW2 to relative tolerance ``rtol`` (Frobenius norms).

    >>> check_zero_balanced(np.eye(2), np.eye(2))
    """
    w1 = np.asarray(W1_0, dtype=np.float64)
    w2 = np.asarray(W2_0, dtype=np.float64)
    g1, g2 = w1 @ w1.T, w2.T @ w2
    scale = np.linalg.norm(g1) + np.linalg.norm(g2)
    err = float(np.linalg.norm(g1 - g2) / scale) if scale > 0 else 0.0
    if err > rtol:
        raise AssumptionError(
            f"zero-balanced initialisation: ‖W1W1ᵀ − W2ᵀW2‖_F / (‖W1W1ᵀ‖_F + ‖W2ᵀW2‖_F) = {err:.3g} > "
            f"rtol = {rtol:g}. Theorem 3.1 and the Fukumizu solution hold only for W1W1ᵀ = W2ᵀW2. Fix: build the "
            "initialisation as W1 = R S^{1/2} Vᵀ, W2 = U S^{1/2} Rᵀ (R with orthonormal columns), e.g. from the "
            "SVD of a desired W2W1(0)."
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
    sv = np.linalg.svd(w21, compute_uv=False)
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


def _check_whitened_kw(sigma_xx: ArrayLike) -> None:
    check_whitened(sigma_xx)


def _check_balanced_kw(W1_0: ArrayLike, W2_0: ArrayLike) -> None:
    check_zero_balanced(W1_0, W2_0)


def _check_rank_kw(W1_0: ArrayLike, W2_0: ArrayLike) -> None:
    w1, w2 = as_matrix("W1_0", W1_0), as_matrix("W2_0", W2_0)
    check_full_rank(w2 @ w1, n_hidden=w1.shape[0])


def _check_b_kw(W1_0: ArrayLike, W2_0: ArrayLike, sigma_yx: ArrayLike) -> None:
    w21 = as_matrix("W2_0", W2_0) @ as_matrix("W1_0", W1_0)
    syx = as_matrix("sigma_yx", sigma_yx)
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
