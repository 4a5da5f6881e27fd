"""Converged representations and the NTK of λ-balanced two-layer linear networks (Dominé et al., ICLR 2025).

Source: Dominé, Anguita, Proca, Braun, Kunin, Mediano & Saxe, "From lazy to rich: exact learning dynamics in deep
linear networks", ICLR 2025 (arXiv:2409.14623), the λ-balanced representations at convergence and the NTK. Every
formula below was derived here (the derivation follows); LAWS.md §8 (conservation), §9 (the authors' helper bug).

Setting: ŷ = W2 W1 x with Ni = Nh = No = d (square), whitened inputs Σxx = I, task Σyx = U S Vᵀ, and a
λ-balanced initialisation

    W2ᵀW2 − W1W1ᵀ = λ I,

which gradient flow conserves for any loss of W2W1 (LAWS.md §8; GD drifts it at O(η)).

**Representations at convergence (derived).** Suppose the run converges to a global minimum, W2W1 = Σyx. Then

    ΣyxᵀΣyx = W1ᵀ W2ᵀW2 W1 = W1ᵀ(W1W1ᵀ + λI)W1 = M² + λM,     M = W1ᵀW1,
    ΣyxΣyxᵀ = W2 W1W1ᵀ W2ᵀ = W2(W2ᵀW2 − λI)W2ᵀ = N² − λN,     N = W2W2ᵀ.

M ⪰ 0, and W1W1ᵀ = W2ᵀW2 − λI ⪰ −λI, so (W1 square: W1ᵀW1 and W1W1ᵀ share eigenvalues) every eigenvalue of M is
≥ max(0, −λ) > −λ/2 for λ ≠ 0, where x ↦ x² + λx is strictly increasing. M is therefore the unique such root, a
function of ΣyxᵀΣyx, so it shares its eigenvectors V (likewise N shares U), with eigenvalues from x² + λx = s²:

    W1ᵀW1 → V diag(√(s² + λ²/4) − λ/2) Vᵀ = (ΣyxᵀΣyx + λ²/4·I)^{1/2} − λ/2·I,
    W2W2ᵀ → U diag(√(s² + λ²/4) + λ/2) Uᵀ = (ΣyxΣyxᵀ + λ²/4·I)^{1/2} + λ/2·I.

This is the scalar statement b² − a² = λ, ab = s (a² = rep_in, b² = rep_out) mode by mode, and it holds for any
λ-balanced initialisation that converges (aligned or generic, small or not): the path does not enter. Limits:
λ → 0 gives rep_in = rep_out = s (the balanced, task-specific representation of Saxe et al.); λ → +∞ gives
rep_in ≈ s²/λ → 0 and rep_out ≈ λ: W2 stays ≈ √λ·(orthogonal) and W1 learns the task at a tiny scale.

**The empirical NTK (derived).** For f(x) = W2W1x and inputs X ∈ R^{d×P}, ∂f_o(x_μ)/∂W2[o', h] = δ_{oo'}(W1x_μ)_h
and ∂f_o(x_μ)/∂W1[h, i] = W2[o, h] x_μ[i]. Summing products of these over the parameters gives, with the outputs
flattened output-major (row o·P + μ, i.e. ``(W2W1X).ravel()``),

    K = J Jᵀ = I_No ⊗ XᵀW1ᵀW1X + W2W2ᵀ ⊗ XᵀX.

(No 1/P: with L = ½⟨‖y − ŷ‖²⟩ the flow of the outputs is τ dF/dt = −(1/P) K (F − Y).)

**Its change from an aligned initialisation (derived).** Take whitened X (XXᵀ = P·I) and a state whose W1ᵀW1 =
V diag(α) Vᵀ and W2W2ᵀ = U diag(β) Uᵀ. With e_i = XᵀV e_i/√P (orthonormal in R^P), XᵀW1ᵀW1X = P Σ α_i e_i e_iᵀ,
XᵀX = P Σ e_i e_iᵀ, so

    K = P Σ_{i,j} (α_i + β_j) (u_j ⊗ e_i)(u_j ⊗ e_i)ᵀ:

K has the eigenvalues P(α_i + β_j), one for each pair of modes, on eigenvectors that do not move. A λ-balanced
init aligned with the task and of one strength u0 in every mode has α = r0 − λ/2, β = r0 + λ/2, r0 = √(u0² + λ²/4)
(any W1 = a0·O1, W2 = b0·O2 with O1, O2 orthogonal has the same K0, aligned or not); at convergence
α_i + β_j = r_i + r_j with r_i = √(s_i² + λ²/4) — the ±λ/2 cancel. Hence, for d modes,

    ‖K∞ − K0‖_F / ‖K0‖_F = √(Σ_{ij} (r_i + r_j − 2 r0)²) / (2 d r0),
    kernel distance 1 − ⟨K0, K∞⟩/(‖K0‖‖K∞‖) = 1 − Σ_{ij} (r_i + r_j) / (d √(Σ_{ij} (r_i + r_j)²)),

the second independent of u0. Both are even in λ. Lazy: as |λ| → ∞, r_i + r_j − 2r0 ≈ (s_i² + s_j² − 2u0²)/|λ|,
so the relative change falls as λ⁻² (and the kernel distance as λ⁻⁴): the kernel is frozen and the network
trains like its linearisation. Rich: at λ = 0 the relative change is √(Σ(s_i + s_j − 2u0)²)/(2 d u0), of order
s/u0 ≫ 1 from a small initialisation. The law's derived forms are the two-mode case (s1, s2);
`aligned_ntk_change` evaluates any number of modes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from theory.checks import as_matrix, check_whitened
from theory.law import Assumption, AssumptionError, Law

__all__ = [
    "LAMBDA_RTOL",
    "aligned_ntk_change",
    "aligned_ntk_forms",
    "check_lambda_balanced",
    "converged_representation",
    "empirical_ntk",
    "kernel_distance",
    "lambda_balanced_representation",
    "ntk_change_from_modes",
    "relative_change",
]

s = sp.Symbol("s", positive=True)
s1 = sp.Symbol("s1", positive=True)
s2 = sp.Symbol("s2", positive=True)
lam = sp.Symbol("lam", real=True)
u0 = sp.Symbol("u0", positive=True)
rep_in = sp.Symbol("rep_in", nonnegative=True)
rep_out = sp.Symbol("rep_out", nonnegative=True)

# A builder from the identity (simulate.lambda_balanced_init) meets it to ~1e-15 relative; 1e-8 leaves room for
# accumulated round-off and still rejects an init that is not λ-balanced (off by O(1) relative).
LAMBDA_RTOL = 1e-8


def _rep(sv: sp.Expr, la: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    root = sp.sqrt(sv**2 + la**2 / 4)
    return root - la / 2, root + la / 2


def aligned_ntk_forms(svals: Sequence[sp.Expr], u0: sp.Expr, lam: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(relative change ‖K∞ − K0‖/‖K0‖, kernel distance) in closed form for a λ-balanced init of strength ``u0``
    in every mode (aligned, or any W1 = a0·O1, W2 = b0·O2), converged on a task with singular values ``svals``.

    >>> rel, dist = aligned_ntk_forms([s], u0, lam)     # one mode: K0 and K∞ are parallel
    >>> dist
    0
    >>> sp.simplify(rel - (sp.sqrt((4*s**2 + lam**2) / (4*u0**2 + lam**2)) - 1))
    0
    """
    d = len(svals)
    if d < 1:
        raise ValueError("aligned_ntk_forms needs at least one singular value")
    r = [sp.sqrt(v**2 + lam**2 / 4) for v in svals]
    r0 = sp.sqrt(u0**2 + lam**2 / 4)
    pairs = [r[i] + r[j] for i in range(d) for j in range(d)]
    rel = sp.sqrt(sum((p - 2 * r0) ** 2 for p in pairs)) / (2 * d * r0)
    if d == 1:  # one pair: K∞ ∝ K0 exactly, and SymPy would not cancel √(p²)/p on its own
        return sp.sqrt((4 * svals[0] ** 2 + lam**2) / (4 * u0**2 + lam**2)) - 1, sp.Integer(0)
    dist = 1 - sum(pairs) / (d * sp.sqrt(sum(p**2 for p in pairs)))
    return rel, dist


_rep_in, _rep_out = _rep(s, lam)
_ntk_change, _kernel_distance = aligned_ntk_forms([s1, s2], u0, lam)


# -- numerics ---------------------------------------------------------------------------------------------------


def _finite_real(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _square(sigma_yx: ArrayLike) -> np.ndarray:
    syx = as_matrix(sigma_yx, "sigma_yx")
    if syx.shape[0] != syx.shape[1]:
        raise AssumptionError(
            f"square network: sigma_yx has shape {syx.shape}, but the λ-balanced representation law is stated for "
            "Ni = Nh = No (there W1ᵀW1 and W1W1ᵀ share their eigenvalues, which fixes the root). Fix: use a square "
            "task, or pad the smaller side with zero rows/columns of Σyx and treat the padded modes as s = 0."
        )
    return syx


def _rep_values(sq: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """(√(s² + λ²/4) − λ/2, √(s² + λ²/4) + λ/2) from s² ≥ 0, without the cancellation of the difference form:
    the smaller one is s²/(√(s² + λ²/4) + |λ|/2) (their product is s²)."""
    root = np.sqrt(sq + lam**2 / 4)
    big = root + abs(lam) / 2
    small = np.divide(sq, big, out=np.zeros_like(sq), where=big > 0)  # 0 only for s = λ = 0, where both are 0
    return (small, big) if lam >= 0 else (big, small)


def converged_representation(
    sigma_yx: ArrayLike, lam: float, sigma_xx: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(W1ᵀW1, W2W2ᵀ) at convergence from a λ-balanced init: (ΣᵀΣ + λ²/4)^{1/2} − λ/2, (ΣΣᵀ + λ²/4)^{1/2} + λ/2.

    Square Σyx only (AssumptionError otherwise); ``sigma_xx``, if given, must be I (whitened inputs).

    >>> A, B = converged_representation(np.diag([3.0, 1.0]), lam=0.0)   # balanced: both are S
    >>> np.round(A, 12).tolist(), np.round(B, 12).tolist()
    ([[3.0, 0.0], [0.0, 1.0]], [[3.0, 0.0], [0.0, 1.0]])
    >>> A, B = converged_representation([[2.0]], lam=3.0)   # a² = 1, b² = 4: b² − a² = 3, ab = 2
    >>> float(A[0, 0]), float(B[0, 0])
    (1.0, 4.0)
    """
    syx = _square(sigma_yx)
    la = _finite_real(lam, "lam")
    check_whitened(sigma_xx, syx.shape[1])
    out = []
    for gram, side in ((syx.T @ syx, 0), (syx @ syx.T, 1)):
        w, E = np.linalg.eigh(gram)
        vals = _rep_values(np.clip(w, 0.0, None), la)[side]  # eigh may return −1e-17 for a zero mode
        out.append((E * vals) @ E.T)
    return out[0], out[1]


def check_lambda_balanced(W1: ArrayLike, W2: ArrayLike, lam: float, rtol: float = LAMBDA_RTOL) -> None:
    """λ-balanced layers: ‖W2ᵀW2 − W1W1ᵀ − λI‖_F ≤ rtol·(‖W2ᵀW2‖_F + ‖W1W1ᵀ‖_F + |λ|√Nh).

    >>> check_lambda_balanced(np.eye(2), np.sqrt(3.0) * np.eye(2), 2.0)
    >>> check_lambda_balanced(np.eye(2), np.eye(2), 2.0)
    Traceback (most recent call last):
    ...
    theory.law.AssumptionError: λ-balanced initialisation: ‖W2ᵀW2 − W1W1ᵀ − λI‖_F = 2.83, 0.5 of the scale ‖W2ᵀW2‖ + ‖W1W1ᵀ‖ + |λ|√Nh > rtol = 1e-08. Fix: build the weights from the identity, e.g. simulate.lambda_balanced_init(task, lam, scale, seed=...), or decoupled_init(task, Nh, u0, imbalance=-lam, ...) for an aligned one.
    """
    w1 = as_matrix(W1, "W1")
    w2 = as_matrix(W2, "W2", shape=(None, w1.shape[0]))
    la = _finite_real(lam, "lam")
    g1, g2 = w1 @ w1.T, w2.T @ w2
    err = float(np.linalg.norm(g2 - g1 - la * np.eye(w1.shape[0])))
    scale = float(np.linalg.norm(g2) + np.linalg.norm(g1) + abs(la) * np.sqrt(w1.shape[0]))
    if err > rtol * scale:
        raise AssumptionError(
            f"λ-balanced initialisation: ‖W2ᵀW2 − W1W1ᵀ − λI‖_F = {err:.3g}, {err / scale:.3g} of the scale "
            f"‖W2ᵀW2‖ + ‖W1W1ᵀ‖ + |λ|√Nh > rtol = {rtol:g}. Fix: build the weights from the identity, e.g. "
            "simulate.lambda_balanced_init(task, lam, scale, seed=...), or decoupled_init(task, Nh, u0, "
            "imbalance=-lam, ...) for an aligned one."
        )


def empirical_ntk(W1: ArrayLike, W2: ArrayLike, X: ArrayLike) -> np.ndarray:
    """The empirical NTK of f(x) = W2W1x on the columns of X: I_No ⊗ XᵀW1ᵀW1X + W2W2ᵀ ⊗ XᵀX, (No·P) × (No·P).

    Rows are output-major (o·P + μ), the order of ``(W2 @ W1 @ X).ravel()``; K = J Jᵀ with J the Jacobian of
    that vector in all weights, with no 1/P (module docstring).

    >>> K = empirical_ntk(np.eye(1), 2 * np.eye(1), np.array([[1.0, 2.0]]))   # (1 + 4)·xᵀx'
    >>> K.tolist()
    [[5.0, 10.0], [10.0, 20.0]]
    """
    w1 = as_matrix(W1, "W1")
    w2 = as_matrix(W2, "W2", shape=(None, w1.shape[0]))
    x = as_matrix(X, "X", shape=(w1.shape[1], None))
    h = w1 @ x
    return np.kron(np.eye(w2.shape[0]), h.T @ h) + np.kron(w2 @ w2.T, x.T @ x)


def kernel_distance(K0: ArrayLike, K1: ArrayLike) -> float:
    """1 − ⟨K0, K1⟩_F / (‖K0‖_F ‖K1‖_F), from the definition (0: same direction; LAWS.md §9).

    >>> kernel_distance(np.eye(2), 3 * np.eye(2))
    0.0
    """
    a = as_matrix(K0, "K0")
    b = as_matrix(K1, "K1", shape=a.shape)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("kernel_distance is undefined for a zero kernel (no direction to compare)")
    return float(max(0.0, 1.0 - np.sum(a * b) / (na * nb)))


def relative_change(K0: ArrayLike, K1: ArrayLike) -> float:
    """‖K1 − K0‖_F / ‖K0‖_F.

    >>> relative_change(np.eye(2), 3 * np.eye(2))
    2.0
    """
    a = as_matrix(K0, "K0")
    b = as_matrix(K1, "K1", shape=a.shape)
    na = np.linalg.norm(a)
    if na == 0:
        raise ValueError("relative_change from a zero kernel is undefined; start from a nonzero initialisation")
    return float(np.linalg.norm(b - a) / na)


def ntk_change_from_modes(
    alpha0: ArrayLike, beta0: ArrayLike, alpha: ArrayLike, beta: ArrayLike
) -> tuple[float, float]:
    """(relative change, kernel distance) between two task-aligned states, from their mode values: W1ᵀW1 =
    V diag(α) Vᵀ, W2W2ᵀ = U diag(β) Uᵀ give K = P Σ_ij (α_i + β_j)(u_j ⊗ e_i)(u_j ⊗ e_i)ᵀ (module docstring).

    >>> ntk_change_from_modes([1.0], [1.0], [2.0], [2.0])
    (1.0, 0.0)
    """
    vals = []
    for name, v in (("alpha0", alpha0), ("beta0", beta0), ("alpha", alpha), ("beta", beta)):
        arr = np.atleast_1d(np.asarray(v, dtype=np.float64))
        if arr.ndim != 1 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a finite 1-D array of mode values, got {v!r}")
        vals.append(arr)
    if len({v.size for v in vals}) != 1:
        raise ValueError(f"mode arrays differ in length: {[v.size for v in vals]}")
    k0 = vals[0][:, None] + vals[1][None, :]
    k1 = vals[2][:, None] + vals[3][None, :]
    n0, n1 = np.linalg.norm(k0), np.linalg.norm(k1)
    if n0 == 0 or n1 == 0:
        raise ValueError("a zero kernel has no relative change or direction; start from a nonzero state")
    return float(np.linalg.norm(k1 - k0) / n0), float(max(0.0, 1.0 - np.sum(k0 * k1) / (n0 * n1)))


def aligned_ntk_change(svals: ArrayLike, u0: float, lam: float) -> tuple[float, float]:
    """(‖K∞ − K0‖/‖K0‖, kernel distance) for a λ-balanced init of strength ``u0`` in every mode, converged on a
    task with singular values ``svals`` (any number of modes; the law's derived forms are the two-mode case).

    >>> rel, dist = aligned_ntk_change([2.0, 0.5], u0=0.05, lam=0.0)
    >>> round(rel, 4), round(dist, 4)
    (26.2393, 0.0794)
    """
    sv = np.atleast_1d(np.asarray(svals, dtype=np.float64))
    if sv.ndim != 1 or sv.size == 0 or not np.all(np.isfinite(sv)) or np.any(sv < 0):
        raise ValueError(f"svals must be a non-empty 1-D array of finite singular values ≥ 0, got {svals!r}")
    u = _finite_real(u0, "u0")
    if u <= 0:
        raise AssumptionError(f"u0 = {u} must be > 0: the initial kernel of a zero-strength balanced init is 0")
    la = _finite_real(lam, "lam")
    a0, b0 = _rep_values(np.full(sv.size, u * u), la)
    a, b = _rep_values(sv**2, la)
    return ntk_change_from_modes(a0, b0, a, b)


def _check_square_task(sigma_yx: ArrayLike) -> None:
    _square(sigma_yx)


def _check_balance(W1: ArrayLike, W2: ArrayLike, lam: float) -> None:
    check_lambda_balanced(W1, W2, lam)


lambda_balanced_representation = Law(
    name="lambda_balanced_representation",
    title="Converged representations and NTK change of λ-balanced two-layer linear networks",
    equation=(sp.Eq(rep_in, _rep_in), sp.Eq(rep_out, _rep_out)),
    symbols={"s": s, "s1": s1, "s2": s2, "lam": lam, "u0": u0, "rep_in": rep_in, "rep_out": rep_out},
    assumptions=(
        Assumption("whitened", "Inputs are whitened: Σxx = I exactly.", check=check_whitened),
        Assumption(
            "square",
            "Ni = Nh = No = d (then W1ᵀW1 and W1W1ᵀ share their spectrum, which fixes the root).",
            check=_check_square_task,
        ),
        Assumption(
            "lambda_balanced",
            "W2ᵀW2 − W1W1ᵀ = λI at initialisation (conserved by gradient flow; GD drifts it at O(η), LAWS.md §8).",
            check=_check_balance,
        ),
        Assumption(
            "converged",
            "The run reaches a global minimum W2W1 = Σyx (gradient flow or GD with η < 2/λ_max of the Hessian, "
            "whose top eigenvalue at the minimum is 2√(s_max² + λ²/4); beyond that GD still converges but sheds the "
            "imbalance, e.g. λ = 10 → eigenvalues −1.0, 0.19 at η = 0.3 for s = 2, 1). At λ = 0 an init with sign det W2W1 ≠ "
            "sign det Σyx must cross a saddle (LAWS.md §2.6); for λ ≠ 0 a mode passes u = 0 at speed |λ|s.",
        ),
        Assumption(
            "aligned_for_ntk",
            "The NTK forms (ntk_change, kernel_distance) assume an init of one strength u0 in every mode, e.g. "
            "task-aligned W1 = R a0 Vᵀ, W2 = U b0 Rᵀ (or any a0·O1, b0·O2 with O1, O2 orthogonal), and whitened X.",
        ),
    ),
    regime=(
        "exact at convergence under gradient flow, for any λ-balanced init that converges (aligned or generic, "
        "small or large); GD ends O(η) away because its imbalance drifts (aligned: λ_∞ = λ∏(1 − η²e_k²) per mode). "
        "Lazy as |λ| → ∞ (relative NTK change ∝ λ⁻²), rich at λ = 0 (change ≈ s/u0 from a small init)"
    ),
    source=(
        "Dominé et al., ICLR 2025 (arXiv:2409.14623), λ-balanced representations and NTK; the converged forms, "
        "the NTK's Kronecker form and its aligned change are derived here (module docstring)"
    ),
    domain={"s": (0.2, 4.0), "s1": (0.2, 4.0), "s2": (0.2, 4.0), "lam": (-10.0, 10.0), "u0": (1e-3, 0.1)},
    derived={
        "rep_in": _rep_in,
        "rep_out": _rep_out,
        "ntk_change": _ntk_change,
        "kernel_distance": _kernel_distance,
    },
)
