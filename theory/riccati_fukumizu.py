"""Fukumizu's (1998) solution of the matrix Riccati equation (Braun et al. 2022, eq. 5; LAWS.md §2.1).

For whitened inputs and a zero-balanced initialisation, with Q0 = [W1ᵀ(0); W2(0)] and F = [[0, Σyxᵀ], [Σyx, 0]],

    QQᵀ(t) = e^{Ft/τ} Q0 [I + ½ Q0ᵀ (e^{Ft/τ}F⁻¹e^{Ft/τ} − F⁻¹) Q0]⁻¹ Q0ᵀ e^{Ft/τ}.

The bracket equals I + Q0ᵀK(t)Q0 with K(t) = ∫₀^{t/τ} e^{2Fs} ds = V diag((e^{2ft/τ} − 1)/(2f)) Vᵀ for
F = V diag(f) Vᵀ (the f = 0 entries are t/τ). That integral form needs no F⁻¹, so it holds for Ni ≠ No,
rank-deficient Σyx and any rank of W2W1(0), and I + Q0ᵀKQ0 ⪰ I is always invertible.

It contains growing exponentials e^{ft}: in float64 it loses digits as e^{2 f_max t/τ} grows and has none left
once e^{2 f_max t/τ} > 1/ε (2 f_max t/τ > 36; measured: 4e-9 error at 2f_max t/τ = 30, 0.8 at 60), so
`qqt_fukumizu` refuses times beyond that instead of returning garbage, and `qqt_fukumizu_mp` evaluates it with
enough mpmath digits to be a reference at long times. Use `theory.riccati.qqt` (Theorem 3.1) in production.

>>> import numpy as np
>>> W1, W2 = 0.1 * np.eye(2), 0.1 * np.eye(2)
>>> sigma = np.diag([2.0, 1.0])
>>> np.allclose(qqt_fukumizu(W1, W2, sigma, [0.5, 3.0]), qqt_fukumizu_mp(W1, W2, sigma, [0.5, 3.0]), atol=1e-12)
True
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from theory.checks import (
    BALANCE_RTOL,
    as_matrix,
    as_times,
    check_finite,
    check_shapes,
    check_whitened,
    check_zero_balanced,
)
from theory.law import Law
from theory.riccati import F, MatrixExp, Nh, Ni, No, QQt, t, tau
from theory.riccati_checks import GRADIENT_FLOW, RESCALE_FIX, WHITENED, ZERO_BALANCED

__all__ = ["MAX_GROWTH", "fukumizu_qqt", "qqt_fukumizu", "qqt_fukumizu_mp"]

# e^{2 f_max t/τ} beyond 1/ε: the O(1) identity in I + Q0ᵀKQ0 is below the round-off of K's largest entries
MAX_GROWTH = float(-np.log(np.finfo(np.float64).eps))


class _Eye(sp.Identity):
    """Identity of symbolic size that lambdify can print (SymPy's numpy printer refuses symbolic sizes)."""

    def _numpycode(self, printer: object) -> str:
        return f"{printer._module_format('numpy.eye')}({printer._print(self.rows)})"

    def _mpmathcode(self, printer: object) -> str:
        return f"{printer._module_format('mpmath.eye')}({printer._print(self.rows)})"


Q0 = sp.MatrixSymbol("Q0", Ni + No, Nh)
K = sp.MatrixSymbol("K", Ni + No, Ni + No)
_E = MatrixExp(F * t / tau)
_I = _Eye(Nh)

fukumizu_qqt = Law(
    name="fukumizu_qqt",
    title="Fukumizu's closed form of QQᵀ(t) for a zero-balanced two-layer linear network",
    equation=sp.Eq(QQt, _E * Q0 * (_I + Q0.T * (_E * F.I * _E - F.I) * Q0 / 2).I * Q0.T * _E),
    symbols={"t": t, "tau": tau, "QQt": QQt, "F": F, "Q0": Q0, "K": K, "Nh": Nh},
    assumptions=(WHITENED, ZERO_BALANCED, GRADIENT_FLOW),
    regime=(
        "exact under gradient flow for any Ni, Nh, No and any rank (integral form). GD matches to O(η): with "
        "Nh = 1 < Nm, where Theorem 3.1 does not apply, max_t≤6 |QQᵀ_GD − QQᵀ| = 1.9e-2, 9.5e-3, 4.8e-3 at "
        "η = 0.02, 0.01, 0.005 (order 0.99). float64 loses digits as e^{2 f_max t/τ} grows (agreement with "
        "Theorem 3.1: 7e-13 at 2 f_max t/τ = 18, 4e-9 at 30, 0.8 at 60), so qqt_fukumizu refuses 2 f_max t/τ > 36; "
        "the mpmath evaluator with 2 f_max t/(τ ln 10) extra digits agrees with Theorem 3.1 to 2e-15 at t/τ = 30 "
        "and 100"
    ),
    source="Fukumizu 1998; Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), eq. 5; LAWS.md §2.1",
    domain={"t": (0.0, 10.0), "tau": (0.5, 2.0)},
    derived={
        # the same solution with the bracket written as I + Q0ᵀ K Q0, K = ∫₀^{t/τ} e^{2Fs} ds
        "integral_form": _E * Q0 * (_I + Q0.T * K * Q0).I * Q0.T * _E,
        # K(t) = ½(e^{Ft/τ}F⁻¹e^{Ft/τ} − F⁻¹) where F is invertible (Ni = No, Σyx nonsingular)
        "K": (_E * F.I * _E - F.I) / 2,
    },
)


def _setup(W1_0: ArrayLike, W2_0: ArrayLike, sigma_yx: ArrayLike, sigma_xx: ArrayLike | None, balance_rtol: float):
    w1 = as_matrix(W1_0, "W1_0")
    w2 = as_matrix(W2_0, "W2_0")
    syx = as_matrix(sigma_yx, "sigma_yx")
    n_in, _, n_out = check_shapes(w1, w2, syx)
    check_whitened(sigma_xx, n_in)
    check_zero_balanced(w1, w2, rtol=balance_rtol)
    f_mat = np.block([[np.zeros((n_in, n_in)), syx.T], [syx, np.zeros((n_out, n_out))]])
    q0 = np.concatenate([w1.T, w2], axis=0)
    with np.errstate(all="ignore"):  # a non-finite product is reported by check_finite, with the fix
        check_finite(q0 @ q0.T, "QQᵀ(0) = Q0 Q0ᵀ", RESCALE_FIX)
    return q0, f_mat


def qqt_fukumizu(
    W1_0: ArrayLike,
    W2_0: ArrayLike,
    sigma_yx: ArrayLike,
    t: ArrayLike,
    tau: float = 1.0,
    *,
    sigma_xx: ArrayLike | None = None,
    balance_rtol: float = BALANCE_RTOL,
) -> np.ndarray:
    """QQᵀ(t) from Fukumizu's solution in float64 (integral form), shape (nt, Ni+No, Ni+No).

    Valid for any Nh and any rank of W2W1(0); accuracy degrades like ε·e^{2 f_max t/τ} (f_max = largest
    singular value of Σyx), and times with e^{2 f_max t/τ} > 1/ε (2 f_max t/τ > 36, no correct digit left)
    raise ValueError.

    >>> q = qqt_fukumizu([[0.1, 0.0]], [[0.1]], [[1.0, 0.0]], [0.0, 15.0])   # Nh = 1 < Ni: any rank is fine
    >>> round(float(q[-1, 2, 0]), 8)
    1.0
    """
    q0, f_mat = _setup(W1_0, W2_0, sigma_yx, sigma_xx, balance_rtol)
    T = as_times(t, tau)
    f, vecs = np.linalg.eigh(f_mat)
    f_max = float(np.max(np.abs(f)))
    if 2.0 * f_max * float(T.max()) > MAX_GROWTH:
        raise ValueError(
            f"qqt_fukumizu: e^(2 f_max t/τ) exceeds 1/ε at t/τ = {T.max():g} (f_max = {f_max:.3g}), so float64 "
            "keeps no correct digit. "
            "Use theory.riccati.qqt (Theorem 3.1, only decaying exponentials) or qqt_fukumizu_mp."
        )
    y = vecs.T @ q0  # Q0 in F's eigenbasis, (n, Nh)
    # K's entry (e^{2ft} − 1)/(2f) tends to t/τ as f → 0. A zero eigenvalue of F that eigh returns as ±ε·f_max
    # needs no special case (expm1 keeps it accurate to ε·f_max·t/τ ≤ 36ε), and treating such "small" ones as
    # zero against an absolute threshold was wrong for a small-scale task (Σyx ~ 1e-16: every mode was zeroed).
    # Only an exact 0 needs the limit; `safe` keeps 0/0 out of the discarded branch.
    ft = f[None, :] * T[:, None]
    safe = np.where(f != 0.0, f, 1.0)
    k = np.where(f[None, :] != 0.0, np.expm1(2.0 * ft) / (2.0 * safe[None, :]), T[:, None])
    m = np.eye(y.shape[1])[None] + np.einsum("ia,ti,ib->tab", y, k, y)
    a = vecs[None] @ (np.exp(ft)[:, :, None] * y[None])  # e^{Ft}Q0, (nt, n, Nh)
    try:
        out = a @ np.linalg.solve(m, np.swapaxes(a, 1, 2))
    except np.linalg.LinAlgError:
        # I + Q0ᵀKQ0 ⪰ I exactly, so a singular matrix means the growing exponentials swamped float64
        raise ValueError(
            f"qqt_fukumizu: float64 lost all precision by t/τ = {T.max():g} (e^(2 f_max t/τ) with f_max = "
            f"{f_max:.3g}). Use theory.riccati.qqt (Theorem 3.1) or qqt_fukumizu_mp."
        ) from None
    return 0.5 * (out + np.swapaxes(out, 1, 2))


def qqt_fukumizu_mp(
    W1_0: ArrayLike,
    W2_0: ArrayLike,
    sigma_yx: ArrayLike,
    t: ArrayLike,
    tau: float = 1.0,
    *,
    dps: int | None = None,
    sigma_xx: ArrayLike | None = None,
    balance_rtol: float = BALANCE_RTOL,
    as_mpmath: bool = False,
) -> np.ndarray | list[mpmath.matrix]:
    """High-precision reference: Fukumizu's solution evaluated with mpmath, returned as float64 (nt, n, n).

    The float64 inputs are taken as exact binary numbers. By default the working precision is
    30 + 2 f_max t_max/(τ ln 10) decimal digits: the growing exponentials cancel down to the O(1) answer, and
    that many digits leave ~30 correct ones after the cancellation. ``as_mpmath=True`` returns the list of
    mpmath matrices instead of rounding to float64.

    >>> q = qqt_fukumizu_mp([[0.1]], [[0.1]], [[2.0]], [100.0])   # 2·2·100/ln 10 ≈ 174 extra digits
    >>> float(q[0, 1, 0])
    2.0
    """
    q0_np, f_np = _setup(W1_0, W2_0, sigma_yx, sigma_xx, balance_rtol)
    T = as_times(t, tau)
    f_max = float(np.linalg.norm(f_np, 2))
    if dps is None:
        dps = 30 + math.ceil(2.0 * f_max * float(T.max()) / math.log(10.0))
    n, n_hidden = q0_np.shape
    results: list[mpmath.matrix] = []
    with mpmath.workdps(int(dps)):
        q0 = mpmath.matrix(q0_np.tolist())
        f_vals, vecs = mpmath.eigsy(mpmath.matrix(f_np.tolist()))
        # K's entry (e^{2ft} − 1)/(2f) tends to t/τ as f → 0; mpmath has no underflow, so an eigenvalue that eigsy
        # returns as ~10^(−dps)·f_max instead of 0 is computed accurately, and only an exact 0 needs the limit (an
        # absolute threshold zeroed every mode of a task with f_max < 10^(−dps/2)).
        y = vecs.T * q0
        for tt in T:
            tm = mpmath.mpf(float(tt))
            e = [mpmath.exp(f_vals[i] * tm) for i in range(n)]
            k = [tm if f_vals[i] == 0 else mpmath.expm1(2 * f_vals[i] * tm) / (2 * f_vals[i]) for i in range(n)]
            ky = mpmath.matrix(n, n_hidden)
            ey = mpmath.matrix(n, n_hidden)
            for i in range(n):
                for j in range(n_hidden):
                    ky[i, j] = k[i] * y[i, j]
                    ey[i, j] = e[i] * y[i, j]
            m = mpmath.eye(n_hidden) + y.T * ky
            a = vecs * ey
            results.append(a * mpmath.inverse(m) * a.T)
    if as_mpmath:
        return results
    return np.array([[[float(r[i, j]) for j in range(n)] for i in range(n)] for r in results])
