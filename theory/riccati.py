"""Exact matrix dynamics of two-layer linear networks (Braun, Dominé, Fitzgerald & Saxe 2022, §3).

With whitened inputs (Σxx = I) and a zero-balanced initialisation (W1W1ᵀ = W2ᵀW2), the stacked weights
Q = [W1ᵀ; W2] obey τ dQ/dt = FQ − ½QQᵀQ with F = [[0, Σyxᵀ], [Σyx, 0]], so that

    τ d(QQᵀ)/dt = F QQᵀ + QQᵀ F − (QQᵀ)²,      QQᵀ = [[W1ᵀW1, W1ᵀW2ᵀ], [W2W1, W2W2ᵀ]],

a matrix Riccati equation. Fukumizu (1998) solved it (Braun eq. 5, `theory.riccati_fukumizu`); Braun et al.
rewrote the solution in a form that contains only decaying exponentials (Theorem 3.1, eqs. 11-12; LAWS.md §2.2):
with compact SVDs W2W1(0) = USVᵀ and Σyx = ŨS̃Ṽᵀ, B = UᵀŨ + VᵀṼ, C = UᵀŨ − VᵀṼ, E1 = e^{−S̃t/τ}, E2 = E1²,

    QQᵀ(t) = Z [4E1B⁻¹S⁻¹B⁻ᵀE1 + (I − E2)S̃⁻¹ − E1B⁻¹C(E2 − I)S̃⁻¹CᵀB⁻ᵀE1
                + 4(t/τ)E1B⁻¹(VᵀṼ⊥Ṽ⊥ᵀV + UᵀŨ⊥Ũ⊥ᵀU)B⁻ᵀE1]⁻¹ Zᵀ,
    Z = [Ṽ(I − E1CᵀB⁻ᵀE1) + 2Ṽ⊥Ṽ⊥ᵀVB⁻ᵀE1 ; Ũ(I + E1CᵀB⁻ᵀE1) + 2Ũ⊥Ũ⊥ᵀUB⁻ᵀE1].

Ũ⊥ completes Ũ when No > Ni and Ṽ⊥ completes Ṽ when Ni > No (the paper has the inequality reversed for Ũ⊥).
Theorem 3.2: as t → ∞, W2W1 → Σyx, W1ᵀW1 → ṼS̃Ṽᵀ and W2W2ᵀ → ŨS̃Ũᵀ whatever the init scale.
Read the blocks out with `theory.riccati_readout`; chain tasks with `theory.riccati_continual`.

>>> import numpy as np
>>> W1, W2, sigma = 0.1 * np.eye(2), 0.1 * np.eye(2), np.diag([2.0, 1.0])
>>> np.round(qqt(W1, W2, sigma, t=[0.0, 50.0])[:, 2:, :2], 6)   # W2W1 at t = 0 and at convergence
array([[[0.01, 0.  ],
        [0.  , 0.01]],
<BLANKLINE>
       [[2.  , 0.  ],
        [0.  , 1.  ]]])
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike
from sympy.core.sympify import _sympify

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
from theory.riccati_checks import (
    B_NONSINGULAR,
    B_TOL,
    FULL_RANK,
    GRADIENT_FLOW,
    RANK_RTOL,
    RESCALE_FIX,
    WHITENED,
    ZERO_BALANCED,
    TaskSVD,
    check_b_nonsingular,
    check_full_rank,
    task_svd,
)

__all__ = ["MatrixExp", "qqt", "qqt_from_product", "qqt_limit", "riccati_limits", "riccati_qqt"]


class MatrixExp(sp.MatrixExpr):
    """The matrix exponential e^X of a square matrix expression (SymPy's ``exp`` is scalar-only).

    It lambdifies to ``scipy.linalg.expm`` (numpy backends) or ``mpmath.expm``, and ``doit`` evaluates it
    for explicit matrices.

    >>> MatrixExp(sp.Matrix([[0, 1], [0, 0]])).doit()
    Matrix([
    [1, 1],
    [0, 1]])
    """

    def __new__(cls, arg: sp.Basic) -> MatrixExp:
        arg = _sympify(arg)  # strict: never parses strings into expressions
        if not getattr(arg, "is_Matrix", False) or not arg.is_square:
            raise TypeError(f"MatrixExp needs a square matrix expression, got {arg!r}")
        return super().__new__(cls, arg)

    @property
    def arg(self) -> sp.MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple[sp.Expr, sp.Expr]:
        return self.arg.shape

    def doit(self, **hints: object) -> sp.Basic:
        arg = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        return arg.exp() if isinstance(arg, sp.MatrixBase) else MatrixExp(arg)

    def _eval_transpose(self) -> MatrixExp:
        return MatrixExp(self.arg.T)

    def _numpycode(self, printer: object) -> str:
        return f"{printer._module_format('scipy.linalg.expm')}({printer._print(self.arg)})"

    _pythoncode = _numpycode

    def _mpmathcode(self, printer: object) -> str:
        return f"{printer._module_format('mpmath.expm')}({printer._print(self.arg)})"

    def _sympystr(self, printer: object) -> str:
        return f"exp({printer._print(self.arg)})"


# -- symbols (LAWS.md §2 notation) -------------------------------------------------------------------------
t = sp.Symbol("t", nonnegative=True)
tau = sp.Symbol("tau", positive=True)
Ni, Nh, No, Nm = sp.symbols("Ni Nh No Nm", integer=True, positive=True)
QQt = sp.MatrixSymbol("QQt", Ni + No, Ni + No)
F = sp.MatrixSymbol("F", Ni + No, Ni + No)
sigma_yx = sp.MatrixSymbol("sigma_yx", No, Ni)
U, S, V = sp.MatrixSymbol("U", No, Nm), sp.MatrixSymbol("S", Nm, Nm), sp.MatrixSymbol("V", Ni, Nm)
U_tilde, S_tilde, V_tilde = (
    sp.MatrixSymbol("U_tilde", No, Nm),
    sp.MatrixSymbol("S_tilde", Nm, Nm),
    sp.MatrixSymbol("V_tilde", Ni, Nm),
)
U_tilde_perp = sp.MatrixSymbol("U_tilde_perp", No, No - Nm)
V_tilde_perp = sp.MatrixSymbol("V_tilde_perp", Ni, Ni - Nm)
W2W1_inf = sp.MatrixSymbol("W2W1_inf", No, Ni)
W1tW1_inf = sp.MatrixSymbol("W1tW1_inf", Ni, Ni)
W2W2t_inf = sp.MatrixSymbol("W2W2t_inf", No, No)


def _theorem_3_1() -> sp.MatrixExpr:
    # (I − E2)S̃⁻¹ is written S̃⁻¹ − E2S̃⁻¹ (and likewise for Z) so the expression needs no identity of
    # symbolic size: lambdify then takes only the matrices, t and tau.
    B = U.T * U_tilde + V.T * V_tilde
    C = U.T * U_tilde - V.T * V_tilde
    E1 = MatrixExp(-S_tilde * t / tau)
    E2 = MatrixExp(-2 * S_tilde * t / tau)
    Binv, St_inv = B.I, S_tilde.I
    perp = V.T * V_tilde_perp * V_tilde_perp.T * V + U.T * U_tilde_perp * U_tilde_perp.T * U
    bracket = (
        4 * E1 * Binv * S.I * Binv.T * E1
        + (St_inv - E2 * St_inv)
        - E1 * Binv * C * (E2 * St_inv - St_inv) * C.T * Binv.T * E1
        + 4 * (t / tau) * E1 * Binv * perp * Binv.T * E1
    )
    top = V_tilde - V_tilde * E1 * C.T * Binv.T * E1 + 2 * V_tilde_perp * V_tilde_perp.T * V * Binv.T * E1
    bottom = U_tilde + U_tilde * E1 * C.T * Binv.T * E1 + 2 * U_tilde_perp * U_tilde_perp.T * U * Binv.T * E1
    Z = sp.BlockMatrix([[top], [bottom]])
    return Z * bracket.I * Z.T


_MATRIX_SYMBOLS = {m.name: m for m in (QQt, F, sigma_yx, U, S, V, U_tilde, S_tilde, V_tilde)}
_MATRIX_SYMBOLS.update({m.name: m for m in (U_tilde_perp, V_tilde_perp, W2W1_inf, W1tW1_inf, W2W2t_inf)})

riccati_qqt = Law(
    name="riccati_qqt",
    title="Exact QQᵀ(t) of a zero-balanced two-layer linear network (numerically stable form)",
    equation=sp.Eq(QQt, _theorem_3_1()),
    symbols={"t": t, "tau": tau, **_MATRIX_SYMBOLS},
    assumptions=(WHITENED, ZERO_BALANCED, FULL_RANK, B_NONSINGULAR, GRADIENT_FLOW),
    regime=(
        "exact under gradient flow for any Ni, Nh ≥ Nm, No with B nonsingular. GD matches to O(η) (Braun Fig. 2C, "
        "verify/suite/riccati.py: 56 random architectures, dims 2-20, 42 with Ni ≠ No, init scales 1e-3 to 1, "
        "s̃ ∈ [0.75, 1.5], t ≤ 8τ): max|QQᵀ_GD − QQᵀ| = 5.7e-2, 5.7e-3, 5.7e-4 at η = 0.05, 5e-3, 5e-4, per-"
        "architecture fitted order 1.000-1.036, err ≤ 0.56·η·s̃_max². Only decaying exponentials appear, so it "
        "stays finite and equals the Theorem 3.2 limit to 4e-16 at t/τ = 1e4 for init scales 1e-4 to 3"
    ),
    source=(
        "Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), Theorem 3.1, eqs. 11-12; "
        "Ũ⊥ completes Ũ when No > Ni (the paper's inequality is reversed); LAWS.md §2.2"
    ),
    domain={"t": (0.0, 10.0), "tau": (0.5, 2.0)},
    derived={
        # τ d(QQᵀ)/dt, with F = [[0, Σyxᵀ], [Σyx, 0]]: the Riccati equation the solution satisfies
        "riccati_rhs": (F * QQt + QQt * F - QQt * QQt) / tau,
        "F": sp.BlockMatrix([[sp.ZeroMatrix(Ni, Ni), sigma_yx.T], [sigma_yx, sp.ZeroMatrix(No, No)]]),
    },
)

riccati_limits = Law(
    name="riccati_limits",
    title="Convergence of the network function and of both hidden-layer Gram matrices (Theorem 3.2)",
    equation=(
        sp.Eq(W2W1_inf, U_tilde * S_tilde * V_tilde.T),
        sp.Eq(W1tW1_inf, V_tilde * S_tilde * V_tilde.T),
        sp.Eq(W2W2t_inf, U_tilde * S_tilde * U_tilde.T),
    ),
    symbols={"t": t, "tau": tau, **_MATRIX_SYMBOLS},
    assumptions=(WHITENED, ZERO_BALANCED, FULL_RANK, B_NONSINGULAR, GRADIENT_FLOW),
    regime=(
        "exact limit t → ∞ of Theorem 3.1: the zero-balanced network is 'rich' (W1ᵀW1 → ṼS̃Ṽᵀ) at every init "
        "scale. Convergence is exponential at rate 2s̃_min/τ when Σyx has rank Nm (with a t·e^{−2s̃t/τ} transient "
        "for Ni ≠ No); an aligned mode with a zero singular value of Σyx decays only like u0/(1 + 2u0 t/τ) "
        "(derived). Theorem 3.1 at t/τ = 200 and 2000 matches these limits to 2e-16 for init scales 1e-3 to 2, and "
        "at t/τ = 1e4 to 4e-16 for init scales 1e-4 to 3"
    ),
    source="Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), Theorem 3.2; LAWS.md §2.3",
    domain={"t": (0.0, 10.0), "tau": (0.5, 2.0)},
    derived={
        "W2W1_inf": U_tilde * S_tilde * V_tilde.T,
        "W1tW1_inf": V_tilde * S_tilde * V_tilde.T,
        "W2W2t_inf": U_tilde * S_tilde * U_tilde.T,
    },
)


# -- numerics ----------------------------------------------------------------------------------------------
def _growth(s_tilde: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(1 − e^{−2s̃T})/s̃ for every (time, mode), with its limit 2T at s̃ = 0; shape (len(T), Nm)."""
    st = s_tilde[None, :] * T[:, None]
    safe = np.where(s_tilde > 0, s_tilde, 1.0)[None, :]
    return np.where(s_tilde[None, :] > 0, -np.expm1(-2.0 * st) / safe, 2.0 * T[:, None])


def _b_matrix(u: np.ndarray, v: np.ndarray, task: TaskSVD) -> tuple[np.ndarray, TaskSVD]:
    """B = UᵀŨ + VᵀṼ, choosing the signs of Σyx's null pairs (ũ, ṽ) to make B best conditioned.

    A pair with s̃ = 0 may be flipped to (ũ, −ṽ) without changing Σyx; Theorem 3.1 holds for any such
    choice that keeps B nonsingular (the solution is continuous in Σyx), so pick the best one greedily.
    """
    v_task = task.v.copy()
    for j in np.flatnonzero(task.s == 0.0):
        best, best_smin = None, -1.0
        for sign in (1.0, -1.0):
            trial = v_task.copy()
            trial[:, j] = sign * v_task[:, j]
            smin = np.linalg.svd(u.T @ task.u_m + v.T @ trial[:, : task.n_m], compute_uv=False)[-1]
            if smin > best_smin:
                best, best_smin = trial, smin
        v_task = best
    task = TaskSVD(u=task.u, s=task.s, v=v_task)
    return u.T @ task.u_m + v.T @ task.v_m, task


def qqt_from_product(
    w21_0: ArrayLike, sigma_yx: ArrayLike, t: ArrayLike, tau: float = 1.0, *, b_tol: float = B_TOL
) -> np.ndarray:
    """Theorem 3.1 from the initial network function alone: QQᵀ(t) for a zero-balanced init with W2W1(0) = w21_0.

    Under zero balance W1ᵀW1 = (W1ᵀW2ᵀW2W1)^{1/2}, so W2W1(0) fixes QQᵀ(0) and hence the whole trajectory
    (independent of Nh ≥ Nm). Used to chain tasks (`theory.riccati_continual`), where only QQᵀ is kept.

    >>> w = np.diag([0.01, 0.02])
    >>> np.allclose(qqt_from_product(w, np.diag([2.0, 1.0]), [0.0])[0, 2:, :2], w)
    True
    """
    w21 = as_matrix(w21_0, "w21_0")
    syx = as_matrix(sigma_yx, "sigma_yx")
    if syx.shape != w21.shape:
        raise ValueError(f"sigma_yx must have the shape of W2W1(0), {w21.shape}; got {syx.shape}")
    T = as_times(t, tau)
    check_full_rank(w21)
    u, s, vt = np.linalg.svd(w21, full_matrices=False)
    b, task = _b_matrix(u, vt.T, task_svd(syx))
    check_b_nonsingular(b, w21, syx, tol=b_tol)
    return check_finite(_stable_qqt(u, s, vt.T, b, task, T), "QQᵀ(t)", RESCALE_FIX)


def _stable_qqt(u: np.ndarray, s: np.ndarray, v: np.ndarray, b: np.ndarray, task: TaskSVD, T: np.ndarray) -> np.ndarray:
    # Every time-dependent factor is a decaying exponential e^{−s̃T} ≤ 1 (or T·e^{−2s̃T}), so time cannot overflow;
    # the scale can (a tiny or huge init with a nearly singular B), and is then reported with the rescaling fix
    # (check_finite) instead of a bare RuntimeWarning.
    with np.errstate(over="ignore", invalid="ignore"):
        c = u.T @ task.u_m - v.T @ task.v_m
        b_inv = np.linalg.inv(b)
        p1 = b_inv @ np.diag(1.0 / s) @ b_inv.T
        p2 = b_inv @ c  # B⁻¹C; its transpose is CᵀB⁻ᵀ
        perp = v.T @ task.v_perp @ task.v_perp.T @ v + u.T @ task.u_perp @ task.u_perp.T @ u
        p3 = b_inv @ perp @ b_inv.T
        e1 = np.exp(-task.s[None, :] * T[:, None])  # (nt, Nm)
        g = _growth(task.s, T)  # (I − E2)S̃⁻¹ on the diagonal
        outer = e1[:, :, None] * e1[:, None, :]
        bracket = (
            4.0 * outer * p1
            + np.einsum("tk,kl->tkl", g, np.eye(task.n_m))
            + outer * ((p2[None] * g[:, None, :]) @ p2.T)
            + 4.0 * T[:, None, None] * outer * p3
        )
        # B⁻¹S⁻¹B⁻ᵀ ~ 1/(s_min·σ_min(B)²) passes 1.8e308 for a tiny init with a nearly singular B, and solving with
        # an infinite bracket returns QQᵀ = 0 without a word: refuse it here
        check_finite(bracket, "the bracket of Theorem 3.1 (4E1B⁻¹S⁻¹B⁻ᵀE1 + …)", RESCALE_FIX)
        mid = outer * p2.T  # E1 CᵀB⁻ᵀ E1
        top = task.v_m - task.v_m @ mid + 2.0 * (task.v_perp @ task.v_perp.T @ v @ b_inv.T)[None] * e1[:, None, :]
        bottom = task.u_m + task.u_m @ mid + 2.0 * (task.u_perp @ task.u_perp.T @ u @ b_inv.T)[None] * e1[:, None, :]
        z = np.concatenate([top, bottom], axis=1)  # (nt, Ni+No, Nm)
        out = z @ np.linalg.solve(bracket, np.swapaxes(z, 1, 2))
        return 0.5 * out + 0.5 * np.swapaxes(out, 1, 2)  # halve first: the sum of two entries near 1.8e308 overflows


def qqt(
    W1_0: ArrayLike,
    W2_0: ArrayLike,
    sigma_yx: ArrayLike,
    t: ArrayLike,
    tau: float = 1.0,
    *,
    sigma_xx: ArrayLike | None = None,
    balance_rtol: float = BALANCE_RTOL,
    rank_rtol: float = RANK_RTOL,
    b_tol: float = B_TOL,
) -> np.ndarray:
    """QQᵀ(t) = [[W1ᵀW1, W1ᵀW2ᵀ], [W2W1, W2W2ᵀ]] at every time in ``t`` (Braun Theorem 3.1, stable form).

    Shapes: W1_0 (Nh, Ni), W2_0 (No, Nh), sigma_yx (No, Ni), t scalar or (nt,); returns (nt, Ni+No, Ni+No).
    Checks on entry: finite inputs of matching shapes (ValueError); Σxx = I if ``sigma_xx`` is given; zero
    balance to ``balance_rtol``; rank W2W1(0) = min(Ni, No) to ``rank_rtol``; σ_min(B) > ``b_tol``
    (Assumption 3.1). Violations raise `AssumptionError` naming the assumption and the fix.

    >>> W1 = np.array([[0.1, 0.0, 0.0]])          # Ni = 3, Nh = 1, No = 1
    >>> W2 = np.array([[0.1]])
    >>> q = qqt(W1, W2, [[1.0, 0.5, 0.0]], t=[0.0, 1.0, 1e4])
    >>> q.shape
    (3, 4, 4)
    >>> np.round(q[-1, 3, :3], 6)                  # W2W1 → Σyx (Theorem 3.2)
    array([1. , 0.5, 0. ])
    """
    w1 = as_matrix(W1_0, "W1_0")
    w2 = as_matrix(W2_0, "W2_0")
    syx = as_matrix(sigma_yx, "sigma_yx")
    n_in, n_hidden, _ = check_shapes(w1, w2, syx)
    T = as_times(t, tau)
    check_whitened(sigma_xx, n_in)
    check_zero_balanced(w1, w2, rtol=balance_rtol)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by check_finite, with the fix
        w21 = check_finite(w2 @ w1, "W2W1(0) = W2_0 @ W1_0", RESCALE_FIX)
    check_full_rank(w21, n_hidden=n_hidden, rtol=rank_rtol)
    u, s, vt = np.linalg.svd(w21, full_matrices=False)
    b, task = _b_matrix(u, vt.T, task_svd(syx))
    check_b_nonsingular(b, w21, syx, tol=b_tol)
    return check_finite(_stable_qqt(u, s, vt.T, b, task, T), "QQᵀ(t)", RESCALE_FIX)


def qqt_limit(sigma_yx: ArrayLike) -> np.ndarray:
    """lim_{t→∞} QQᵀ(t) = [[ṼS̃Ṽᵀ, ṼS̃Ũᵀ], [ŨS̃Ṽᵀ, ŨS̃Ũᵀ]] (Theorem 3.2), valid under Theorem 3.1's assumptions.

    >>> qqt_limit([[3.0]])
    array([[3., 3.],
           [3., 3.]])
    """
    syx = as_matrix(sigma_yx, "sigma_yx")
    task = task_svd(syx)
    half = np.concatenate([task.v_m, task.u_m], axis=0) * np.sqrt(task.s)[None, :]
    return half @ half.T
