"""Machine checks shared by the laws' assumptions. Each raises `AssumptionError` or `ValueError` with the fix.

Tolerances are relative to the scale of the matrices involved and to float64 round-off (≈ 1e-16 per
operation); the defaults (1e-10) leave room for a few hundred operations of accumulated round-off while still
rejecting any genuine violation (an approximately whitened data set is off by ~1/√P, far above 1e-10).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from theory.law import AssumptionError

__all__ = ["as_matrix", "check_balanced", "check_whitened", "check_zero_balanced"]


def as_matrix(a: object, name: str, *, shape: tuple[int | None, int | None] | None = None) -> np.ndarray:
    """``a`` as a finite float64 2-D array, or a ValueError naming ``name`` and the problem.

    >>> as_matrix([[1, 2]], "W").shape
    (1, 2)
    """
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
    if shape is not None:
        for axis, want in enumerate(shape):
            if want is not None and arr.shape[axis] != want:
                raise ValueError(f"{name} has shape {arr.shape}; expected {shape} (None = any)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; check the data or the step size that produced it")
    return arr


def check_whitened(sigma_xx: object, tol: float = 1e-10) -> None:
    """Raise unless Σxx = I to ``tol`` (max abs deviation).

    >>> check_whitened(np.eye(3))
    >>> check_whitened(2 * np.eye(2))
    Traceback (most recent call last):
    ...
    theory.law.AssumptionError: inputs are not whitened: max|Σxx − I| = 1 > 1e-10. Whiten exactly: X ← L⁻¹X with L = chol(XXᵀ/P) (simulate.whiten).
    """
    sxx = as_matrix(sigma_xx, "sigma_xx")
    if sxx.shape[0] != sxx.shape[1]:
        raise ValueError(f"sigma_xx must be square, got {sxx.shape}")
    dev = float(np.max(np.abs(sxx - np.eye(sxx.shape[0]))))
    if dev > tol:
        raise AssumptionError(
            f"inputs are not whitened: max|Σxx − I| = {dev:.3g} > {tol:g}. "
            "Whiten exactly: X ← L⁻¹X with L = chol(XXᵀ/P) (simulate.whiten)."
        )


def check_balanced(weights: Sequence[object], tol: float = 1e-10) -> None:
    """Raise unless W_l W_lᵀ = W_{l+1}ᵀ W_{l+1} for every consecutive pair (relative to the weights' scale).

    >>> check_balanced([np.array([[1.0, 0.0]]), np.array([[1.0]])])
    """
    mats = [as_matrix(w, f"W{i + 1}") for i, w in enumerate(weights)]
    for i in range(len(mats) - 1):
        lo, hi = mats[i], mats[i + 1]
        if hi.shape[1] != lo.shape[0]:
            raise ValueError(f"W{i + 2} has {hi.shape[1]} columns but W{i + 1} has {lo.shape[0]} rows")
        d = lo @ lo.T - hi.T @ hi
        scale = max(1.0, float(np.linalg.norm(lo) ** 2), float(np.linalg.norm(hi) ** 2))
        dev = float(np.max(np.abs(d))) / scale
        if dev > tol:
            raise AssumptionError(
                f"initialisation is not balanced: max|W{i + 1}W{i + 1}ᵀ − W{i + 2}ᵀW{i + 2}| / scale = {dev:.3g} "
                f"> {tol:g}. This law assumes (zero-)balanced layers; start from simulate.zero_balanced_init / "
                "balanced_deep_init, or use a law that does not assume balance."
            )


def check_zero_balanced(W1: object, W2: object, tol: float = 1e-10) -> None:
    """Two-layer zero-balanced condition W1W1ᵀ = W2ᵀW2 (Braun et al. 2022, §3)."""
    check_balanced([W1, W2], tol)
