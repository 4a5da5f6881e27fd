"""Quantities read off QQᵀ(t) (Braun et al. 2022, eqs. 6-9; LAWS.md §2.3).

QQᵀ = [[W1ᵀW1, W1ᵀW2ᵀ], [W2W1, W2W2ᵀ]] holds everything the exact solutions predict: the network function
W2W1, the input- and output-side Gram matrices, the loss, the representational similarity matrices

    RSM_I = Xᵀ W1ᵀW1 X,        RSM_O = Yᵀ (W2W2ᵀ)⁺ Y,

and the neural tangent kernel of ŷ = W2W1x, rows and columns indexed by (output i, item μ) with i major,

    NTK = I_No ⊗ XᵀW1ᵀW1X + W2W2ᵀ ⊗ XᵀX.

Every function takes a single QQᵀ (n, n) or a stack (nt, n, n), as returned by `theory.riccati.qqt`, and
keeps the leading time axis. With whitened inputs the loss is ½‖W2W1 − Σyx‖²_F + c, c = ½(tr Σyy − ‖Σyx‖²_F).

>>> import numpy as np
>>> q = np.array([[1.0, 2.0], [2.0, 4.0]])       # Ni = No = 1: W1 = 1, W2 = 2 (not balanced; any QQᵀ will do)
>>> float(network_function(q, n_in=1)[0, 0]), float(loss(q, [[3.0]], c=0.25))
(2.0, 0.75)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from theory.checks import as_matrix

__all__ = ["loss", "network_function", "ntk", "rsm_input", "rsm_output", "w1tw1", "w2w2t"]

# (W2W2ᵀ)⁺ cut-off relative to the largest eigenvalue: zero eigenvalues (No > Nm, rank ≤ Nh) come out at
# ~1e-16 relative; learned-versus-unlearned modes at init scale 1e-4 differ by ~1e-9, which must survive.
PINV_RTOL = 1e-12


def _stack(qqt: ArrayLike) -> np.ndarray:
    q = np.asarray(qqt, dtype=np.float64)
    if q.ndim not in (2, 3) or q.shape[-1] != q.shape[-2]:
        raise ValueError(f"qqt must be a square matrix or a stack of them, got shape {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("qqt contains NaN or infinite entries")
    return q


def _n_in(q: np.ndarray, n_in: int) -> int:
    if not (isinstance(n_in, (int, np.integer)) and 0 < n_in < q.shape[-1]):
        raise ValueError(f"n_in must be an integer with 0 < n_in < Ni + No = {q.shape[-1]}, got {n_in!r}")
    return int(n_in)


def network_function(qqt: ArrayLike, n_in: int) -> np.ndarray:
    """W2W1, the (No, Ni) lower-left block of QQᵀ (Braun eq. 6)."""
    q = _stack(qqt)
    k = _n_in(q, n_in)
    return q[..., k:, :k]


def w1tw1(qqt: ArrayLike, n_in: int) -> np.ndarray:
    """W1ᵀW1, the (Ni, Ni) upper-left block of QQᵀ."""
    q = _stack(qqt)
    k = _n_in(q, n_in)
    return q[..., :k, :k]


def w2w2t(qqt: ArrayLike, n_in: int) -> np.ndarray:
    """W2W2ᵀ, the (No, No) lower-right block of QQᵀ."""
    q = _stack(qqt)
    k = _n_in(q, n_in)
    return q[..., k:, k:]


def loss(
    qqt: ArrayLike, sigma_yx: ArrayLike, *, sigma_yy: ArrayLike | None = None, c: float | None = None
) -> np.ndarray:
    """L = ½‖W2W1 − Σyx‖²_F + c for whitened inputs, per time.

    Give ``sigma_yy`` (then c = ½(tr Σyy − ‖Σyx‖²_F)) or the constant ``c`` itself; with neither, c = 0 and the
    result is the loss up to the irreducible constant of the task (what Theorem 3.1 alone determines).

    >>> float(loss(np.zeros((2, 2)), [[1.0]], sigma_yy=[[1.5]]))     # W = 0: L = ½ tr Σyy
    0.75
    """
    if sigma_yy is not None and c is not None:
        raise ValueError("give sigma_yy or c, not both")
    syx = as_matrix(sigma_yx, "sigma_yx")
    q = _stack(qqt)
    n_out, n_in = syx.shape
    if q.shape[-1] != n_in + n_out:
        raise ValueError(
            f"qqt is {q.shape[-1]}×{q.shape[-1]} but sigma_yx is {syx.shape} (need Ni + No = {n_in + n_out})"
        )
    if sigma_yy is not None:
        syy = as_matrix(sigma_yy, "sigma_yy")
        if syy.shape != (n_out, n_out):
            raise ValueError(f"sigma_yy must have shape (No, No) = {(n_out, n_out)}, got {syy.shape}")
        c = 0.5 * (float(np.trace(syy)) - float(np.sum(syx**2)))
    diff = network_function(q, n_in) - syx
    return 0.5 * np.sum(diff**2, axis=(-2, -1)) + (0.0 if c is None else float(c))


def rsm_input(qqt: ArrayLike, X: ArrayLike) -> np.ndarray:
    """RSM_I = Xᵀ W1ᵀW1 X, (P, P) per time; ``X`` is (Ni, P), one column per item (Braun eq. 7)."""
    x = as_matrix(X, "X")
    return np.swapaxes(x, 0, 1) @ w1tw1(qqt, x.shape[0]) @ x


def rsm_output(qqt: ArrayLike, Y: ArrayLike) -> np.ndarray:
    """RSM_O = Yᵀ (W2W2ᵀ)⁺ Y, (P, P) per time; ``Y`` is (No, P), one column per item (Braun eq. 8).

    The pseudo-inverse drops eigenvalues below ``PINV_RTOL`` times the largest (exact zeros when No > Nm).
    """
    y = as_matrix(Y, "Y")
    q = _stack(qqt)
    gram = w2w2t(q, q.shape[-1] - y.shape[0])
    return y.T @ np.linalg.pinv(gram, rtol=PINV_RTOL, hermitian=True) @ y


def ntk(qqt: ArrayLike, X: ArrayLike) -> np.ndarray:
    """NTK = I_No ⊗ XᵀW1ᵀW1X + W2W2ᵀ ⊗ XᵀX, (No·P, No·P) per time, index (i, μ) ↦ i·P + μ (Braun eq. 9).

    >>> q = np.eye(3)                                   # Ni = 1, No = 2: W1ᵀW1 = 1, W2W2ᵀ = I
    >>> ntk(q, [[1.0, 2.0]]).shape
    (4, 4)
    """
    x = as_matrix(X, "X")
    q = _stack(qqt)
    n_in, p = x.shape
    n_out = q.shape[-1] - n_in
    k_in = rsm_input(q, x)  # (..., P, P)
    g = x.T @ x
    gram_out = w2w2t(q, n_in)  # (..., No, No)
    out = np.einsum("ij,...mn->...imjn", np.eye(n_out), k_in) + np.einsum("...ij,mn->...imjn", gram_out, g)
    return out.reshape(*q.shape[:-2], n_out * p, n_out * p)
