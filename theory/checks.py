"""The input checks of `theory`: one module, one signature per check, one tolerance semantics.

Bad shapes, non-finite numbers, text where numbers belong and float64 overflow are programming errors and raise
`ValueError` (or `TypeError`) naming the argument; a violated assumption of a law raises `AssumptionError` (also a
`ValueError`) whose message names the assumption and the fix.

Conventions:

- Every converter takes the value first and its name second: ``as_matrix(a, "W1_0")``, ``as_times(t, tau)``.
- Every tolerance is **relative** to the natural scale of the quantity compared and is called ``rtol``:
  whitening compares Σxx with I (scale 1, so max|Σxx − I| ≤ rtol), balance compares W_lW_lᵀ with W_{l+1}ᵀW_{l+1}
  relative to the sum of their Frobenius norms. A check compares after dividing the matrices by their largest
  entry, so weights ×1e200 or ×1e-200 give the same verdict as weights ×1 instead of an overflow (NaN) or an
  underflow (0) that would pass silently.
- Checks are three-valued in spirit: they raise only when the condition is definitely violated.

Checks that belong to one theorem stay with it (`theory.riccati_checks`: full rank of W2W1(0), Braun Assumption
3.1 and the task SVD).

>>> check_zero_balanced(np.eye(2), 2 * np.eye(2))
Traceback (most recent call last):
...
theory.law.AssumptionError: zero-balanced initialisation (balanced layers): ‖W1W1ᵀ − W2ᵀW2‖_F / (‖W1W1ᵀ‖_F + ‖W2ᵀW2‖_F) = 0.6 > rtol = 1e-08. The exact solutions (Braun Theorem 3.1, Fukumizu, the mode laws) hold only for balanced layers W_lW_lᵀ = W_{l+1}ᵀW_{l+1}. Fix: build the initialisation as W1 = R S^{1/2} Vᵀ, W2 = U S^{1/2} Rᵀ (R with orthonormal columns), e.g. simulate.zero_balanced_init / balanced_deep_init, or use a law that does not assume balance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from theory.law import AssumptionError

__all__ = [
    "BALANCE_RTOL",
    "WHITEN_RTOL",
    "as_matrix",
    "as_regression",
    "as_times",
    "check_balanced",
    "check_finite",
    "check_shapes",
    "check_whitened",
    "check_zero_balanced",
]

# An SVD-built (zero-)balanced initialisation is balanced to ~1e-15 relative; 1e-8 leaves room for accumulated
# round-off while keeping the model error caused by residual imbalance at the 1e-8 relative level.
BALANCE_RTOL = 1e-8
# Exact Cholesky whitening gives XXᵀ/P = I to ~1e-15 per entry (LAWS.md §0); 1e-9 allows for large P and Ni and
# still rejects approximately whitened data, which is off by ~1/√P ≫ 1e-9.
WHITEN_RTOL = 1e-9


def _float_array(a: object, name: str) -> np.ndarray:
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name} must be numbers (an array or a float), got the text {a!r}")
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be real numbers (an array or a float), got {a!r}: {err}") from None


def as_matrix(a: ArrayLike, name: str, *, shape: tuple[int | None, int | None] | None = None) -> np.ndarray:
    """``a`` as a finite, non-empty float64 2-D array of the given ``shape`` (None = any), else an error naming ``name``.

    >>> as_matrix([[1, 2]], "W").shape
    (1, 2)
    >>> as_matrix("abc", "W1_0")
    Traceback (most recent call last):
    ...
    TypeError: W1_0 must be numbers (an array or a float), got the text 'abc'
    """
    arr = _float_array(a, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if shape is not None:
        for axis, want in enumerate(shape):
            if want is not None and arr.shape[axis] != want:
                raise ValueError(f"{name} has shape {arr.shape}; expected {shape} (None = any)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; check the data or the step size that produced it")
    return arr


def as_regression(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """A regression problem's inputs X (n, d) and targets y (n,) as finite float64 arrays, else ValueError.

    >>> as_regression([[1.0, 2.0]], [3.0])[1].tolist()
    [3.0]
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"need X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X or y contains NaN or inf")
    return X, y


def as_times(t: ArrayLike, tau: float) -> np.ndarray:
    """Times ``t`` (scalar or 1-D, finite, ≥ 0) divided by ``tau`` (finite, > 0), as a 1-D float64 array.

    >>> as_times([0.0, 2.0], tau=2.0)
    array([0., 1.])
    >>> as_times("abc", 1.0)
    Traceback (most recent call last):
    ...
    TypeError: t must be numbers (an array or a float), got the text 'abc'
    """
    tt = np.atleast_1d(_float_array(t, "t"))
    if tt.ndim != 1:
        raise ValueError(f"t must be a scalar or a 1-D array of times, got shape {tt.shape}")
    if not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ValueError("t must contain finite times ≥ 0 (the solutions run forward from the initialisation)")
    tau_f = _float_array(tau, "tau")
    if tau_f.ndim != 0 or not (np.isfinite(tau_f) and tau_f > 0):
        raise ValueError(f"tau must be a finite number > 0, got {tau!r}")
    return tt / float(tau_f)


def check_shapes(W1_0: np.ndarray, W2_0: np.ndarray, sigma_yx: np.ndarray) -> tuple[int, int, int]:
    """(Ni, Nh, No) for W1 ∈ R^{Nh×Ni}, W2 ∈ R^{No×Nh}, Σyx ∈ R^{No×Ni}; ValueError if they do not fit.

    >>> check_shapes(np.ones((4, 3)), np.ones((2, 4)), np.ones((2, 3)))
    (3, 4, 2)
    """
    n_hidden, n_in = W1_0.shape
    n_out, n_hidden2 = W2_0.shape
    if n_hidden2 != n_hidden:
        raise ValueError(f"W2_0 has {n_hidden2} columns but W1_0 has {n_hidden} rows (both must be Nh)")
    if sigma_yx.shape != (n_out, n_in):
        raise ValueError(f"sigma_yx must have shape (No, Ni) = {(n_out, n_in)}, got {sigma_yx.shape}")
    return n_in, n_hidden, n_out


def check_finite(value: np.ndarray, what: str, fix: str) -> np.ndarray:
    """``value`` unchanged if finite; otherwise ValueError: ``what`` overflowed float64 although its inputs were
    finite, with the ``fix``.

    >>> with np.errstate(over="ignore"):   # callers compute the product without a warning, then check it
    ...     square = np.array([1e200]) ** 2
    >>> check_finite(square, "W2W1(0)", "rescale the weights")
    Traceback (most recent call last):
    ...
    ValueError: W2W1(0) overflows float64 (max ≈ 1.8e308): its inputs are finite but it is not. Fix: rescale the weights.
    """
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{what} overflows float64 (max ≈ 1.8e308): its inputs are finite but it is not. Fix: {fix}.")
    return value


def check_whitened(sigma_xx: ArrayLike | None, n_in: int | None = None, rtol: float = WHITEN_RTOL) -> None:
    """Whitened inputs: max|Σxx − I| ≤ ``rtol`` (the scale of I is 1). None means "not given": nothing to check.

    >>> check_whitened(None)
    >>> check_whitened(np.eye(3), n_in=3)
    >>> check_whitened(2 * np.eye(2))
    Traceback (most recent call last):
    ...
    theory.law.AssumptionError: whitened inputs: the inputs are not whitened, max|Σxx − I| = 1 > rtol = 1e-09. The exact solutions assume Σxx = I. Fix: whiten the inputs exactly, X ← L⁻¹X with L = chol(XXᵀ/P) (simulate.whiten; LAWS.md §0).
    """
    if sigma_xx is None:
        return
    sxx = as_matrix(sigma_xx, "sigma_xx")
    n = sxx.shape[0] if n_in is None else n_in
    if sxx.shape != (n, n):
        raise ValueError(f"sigma_xx must have shape (Ni, Ni) = {(n, n)}, got {sxx.shape}")
    err = float(np.max(np.abs(sxx - np.eye(n))))
    if err > rtol:
        raise AssumptionError(
            f"whitened inputs: the inputs are not whitened, max|Σxx − I| = {err:.3g} > rtol = {rtol:g}. The exact solutions assume Σxx = I. "
            "Fix: whiten the inputs exactly, X ← L⁻¹X with L = chol(XXᵀ/P) (simulate.whiten; LAWS.md §0)."
        )


def _imbalance(lo: np.ndarray, hi: np.ndarray) -> float:
    """‖lo loᵀ − hiᵀhi‖_F / (‖lo loᵀ‖_F + ‖hiᵀhi‖_F), computed on lo/c, hi/c with c the largest |entry|.

    The ratio is invariant under the common rescaling, which keeps the Gram matrices in range (≤ Nh·1 per entry)
    for any finite weights: without it, weights ×1e200 overflow to inf − inf = NaN, and NaN > rtol is False.
    """
    c = max(float(np.max(np.abs(lo))), float(np.max(np.abs(hi))))
    if c == 0.0:
        return 0.0
    lo, hi = lo / c, hi / c
    g1, g2 = lo @ lo.T, hi.T @ hi
    return float(np.linalg.norm(g1 - g2) / (np.linalg.norm(g1) + np.linalg.norm(g2)))


def check_balanced(weights: Sequence[ArrayLike], rtol: float = BALANCE_RTOL) -> None:
    """Balanced layers: W_lW_lᵀ = W_{l+1}ᵀW_{l+1} for every consecutive pair, to ``rtol`` relative (Frobenius).

    >>> check_balanced([np.array([[1.0, 0.0]]), np.array([[1.0]])])
    >>> check_balanced([1e200 * np.eye(2), 1e200 * np.eye(2)])   # no overflow: the check is scale-free
    """
    mats = [as_matrix(w, f"W{i + 1}") for i, w in enumerate(weights)]
    for i in range(len(mats) - 1):
        lo, hi = mats[i], mats[i + 1]
        if hi.shape[1] != lo.shape[0]:
            raise ValueError(f"W{i + 2} has {hi.shape[1]} columns but W{i + 1} has {lo.shape[0]} rows")
        err = _imbalance(lo, hi)
        if err > rtol:
            a, b = f"W{i + 1}", f"W{i + 2}"
            raise AssumptionError(
                f"zero-balanced initialisation (balanced layers): ‖{a}{a}ᵀ − {b}ᵀ{b}‖_F / (‖{a}{a}ᵀ‖_F + ‖{b}ᵀ{b}‖_F) = {err:.3g} > "
                f"rtol = {rtol:g}. The exact solutions (Braun Theorem 3.1, Fukumizu, the mode laws) hold only for "
                "balanced layers W_lW_lᵀ = W_{l+1}ᵀW_{l+1}. Fix: build the initialisation as W1 = R S^{1/2} Vᵀ, "
                "W2 = U S^{1/2} Rᵀ (R with orthonormal columns), e.g. simulate.zero_balanced_init / "
                "balanced_deep_init, or use a law that does not assume balance."
            )


def check_zero_balanced(W1_0: ArrayLike, W2_0: ArrayLike, rtol: float = BALANCE_RTOL) -> None:
    """Two-layer zero-balanced initialisation W1W1ᵀ = W2ᵀW2 (Braun et al. 2022, §3): `check_balanced` of the pair.

    >>> check_zero_balanced(np.eye(2), np.eye(2))
    """
    check_balanced([W1_0, W2_0], rtol)
