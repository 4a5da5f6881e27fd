"""Forgetting when the second task is a random orthogonal transformation of the first (Goldfarb, Evron, Weinberger,
Soudry & Hand, ICLR 2024, arXiv:2401.12617; issue 11, item 7).

Setting: p parameters; task 1 has d ≤ p samples, the rows of X ∈ R^{d×p} orthonormal (any such X: the law does not
depend on it), noiseless targets y = X w* =: u. Task 2 is task 1 with every input x mapped to O x and the same
targets, where O acts as a Haar-random rotation R ∈ O(m) on a uniformly random m-dimensional subspace (orthonormal
frame U ∈ R^{p×m}) and as the identity elsewhere: O = I − UUᵀ + U R Uᵀ. Dissimilarity α = m/p, overparameterisation
β = 1 − d/p. Zero init; each task is trained to convergence by GD or gradient flow, which lands on the minimum-norm
correction (LAWS.md §6.1). Forgetting uses LAWS.md §6.2's normalisation, the mean over the T = 2 tasks of the
squared residual norm (task 2's is 0 after training on it): F = ½‖X w2 − y‖².

Per instance (derived here). w1 = Xᵀu; task 2's inputs are X Oᵀ (orthonormal rows), so
w2 = w1 + O Xᵀ(u − X Oᵀ w1), and with A = X O Xᵀ ∈ R^{d×d}:

    X w2 − y = A (u − Aᵀ u),        F = ½ ‖A (I − Aᵀ) u‖².

Expectation over O (derived here). O's law is invariant under conjugation by any orthogonal matrix, so E_O[F]
depends on X and w* only through ‖u‖ = ‖X w*‖: E_O[F] = ‖X w*‖² · F̄(p, d, m), and F̄ is also the worst case over
unit w* (attained for w* in X's row space). With K = I − A, 2d·F̄ = E[tr KKᵀ − 2 tr K²Kᵀ + tr (KKᵀ)²], a polynomial
of degree 8 in U and 4 in R. Weingarten calculus (`theory.weingarten`) over O(p) for U and then over O(m) for R
gives F̄ as a rational function, exact for p ≥ 4 and m ≥ 2 (below that the Weingarten functions of order 4 and 2
are not the Gram inverses used); `derive_expected_forgetting` repeats the derivation (≈ 4 s). For m = 1, R = ±1
(task 2 reflects the inputs along a random direction with probability ½) and the exact form is
`derived["reflection"]` = (d + 2)(4d² − 4dp + 16d + p² − 6p + 24)/(p(p + 2)(p + 4)(p + 6)); the m ≥ 2 form read at
m = 1 is off by 4 % at p = 6, d = 3 (0.0301 against 0.03125).

Limits (derived from the exact form, checked symbolically in verify): d = p gives F̄ = m/p = α at every p (the
second task then rotates the whole solution, and E[O] = (1 − α)I); as p → ∞ at fixed α, δ = d/p = 1 − β:

    F̄ → ½[α²(1 − α)² + δ(2α − 11α² + 16α³ − 6α⁴) + δ²(−6α + 30α² − 32α³ + 10α⁴) + δ³(6α − 20α² + 18α³ − 5α⁴)],

so in the highly overparameterised limit β → 1 the forgetting is ½α²(1 − α)²: largest at intermediate similarity
α = ½ and zero for identical (α = 0) or fully rotated (α = 1) tasks. At p → ∞ the forgetting is non-monotone in
α exactly when β exceeds β_c ≈ 0.9174 (a real root of the discriminant of ∂F̄/∂α; measured in verify), and
monotone increasing in α (decreasing in similarity) below it — the paper's qualitative claim, made quantitative.

The paper's own theorem was not available here to compare constants; its normalisation may differ from LAWS.md's
by the factor ½.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from theory.law import Assumption, AssumptionError, Law
from theory.weingarten import Letter, expect_traces

__all__ = [
    "derive_expected_forgetting",
    "orthogonal_task_forgetting",
    "per_instance_forgetting",
    "sequential_forgetting",
]

p, d, m = sp.symbols("p d m", positive=True, integer=True)
alpha, beta = sp.symbols("alpha beta", nonnegative=True)
F = sp.Symbol("F", nonnegative=True)

# Numerator of 2·F̄ as Σ_{i,j} C[i][j](p)·d^i·m^j, from `derive_expected_forgetting` (the check re-derives it).
_C = (
    (
        2 * p * (p + 1) * (p**4 - 7 * p**3 + 78 * p**2 - 168 * p + 288),
        p**6 - 28 * p**5 + 47 * p**4 - 324 * p**3 - 60 * p**2 - 240 * p - 576,
        p * (p**5 - 2 * p**4 + 50 * p**3 - 15 * p**2 + 230 * p + 240),
        -2 * p * (p**2 - p + 12) * (p**2 + p + 2),
        p**2 * (p**2 + p + 2),
    ),
    (
        -2 * (p + 1) * (12 * p**4 - 49 * p**3 + 294 * p**2 - 168 * p + 288),
        2 * p**6 - 3 * p**5 + 168 * p**4 - 33 * p**3 + 728 * p**2 + 1124 * p + 192,
        -11 * p**5 - 223 * p**3 - 267 * p**2 - 302 * p - 240,
        2 * (8 * p**4 + 9 * p**3 + 37 * p**2 + 46 * p + 24),
        -p * (2 * p + 1) * (3 * p + 2),
    ),
    (
        -2 * p * (p + 1) * (p**3 - 27 * p**2 + 42 * p - 288),
        -2 * (3 * p**5 - 3 * p**4 + 129 * p**3 + 191 * p**2 + 198 * p + 144),
        2 * (15 * p**4 + 24 * p**3 + 106 * p**2 + 162 * p + 36),
        -4 * (8 * p**3 + 13 * p**2 + 9 * p + 18),
        2 * p * (5 * p + 6),
    ),
    (
        2 * (p + 1) * (p**3 - 16 * p**2 - 72),
        2 * (3 * p**4 + 5 * p**3 + 48 * p**2 + 77 * p + 30),
        -20 * p**3 - 46 * p**2 - 39 * p - 42,
        2 * (9 * p**2 + 17 * p - 6),
        -5 * p - 6,
    ),
)
_DENOMINATOR = p * (p - 3) * (p - 2) * (p - 1) * (p + 1) * (p + 2) * (p + 4) * (p + 6)
_exact = sum(c * d**i * m**j for i, row in enumerate(_C) for j, c in enumerate(row)) / (2 * _DENOMINATOR)

_delta = 1 - beta
_large_p = (
    alpha**2 * (1 - alpha) ** 2
    + _delta * (2 * alpha - 11 * alpha**2 + 16 * alpha**3 - 6 * alpha**4)
    + _delta**2 * (-6 * alpha + 30 * alpha**2 - 32 * alpha**3 + 10 * alpha**4)
    + _delta**3 * (6 * alpha - 20 * alpha**2 + 18 * alpha**3 - 5 * alpha**4)
) / 2


def derive_expected_forgetting(reflection: bool = False) -> sp.Expr:
    """F̄(p, d, m) = E_O[½‖A(I − Aᵀ)u‖²]/‖u‖² derived by Weingarten calculus (two stages: the frame U over O(p),
    then the rotation R over O(m)); ≈ 4 s. Returns the factored rational function in the module's p, d, m.

    With ``reflection``, m = 1: R = ±1 with equal probability (O(1)), so E[R^k] = 1 for even k and 0 for odd k
    replaces the O(m) Weingarten stage, which needs m ≥ 2; the result is in p and d."""
    U, Ut = ("H", False), ("H", True)
    P, S, St = ("P", False), ("S", False), ("S", True)
    names: dict[tuple[Letter, ...], sp.Symbol] = {}

    def canonical(word: tuple[Letter, ...]) -> tuple[Letter, ...]:  # one name per trace: rotations and transposes
        flipped = tuple((name, not t) for name, t in reversed(word))
        return min(w[i:] + w[:i] for w in (word, flipped) for i in range(len(w)))

    def frame_stage(kind: str, word: tuple[Letter, ...]) -> sp.Expr:
        if kind == "row":  # words in the projector P = XᵀX of rank d; the empty word is the identity of R^p
            return d if word else p
        if not word:
            return m
        return names.setdefault(canonical(word), sp.Symbol(f"_T{len(names)}"))

    K = (P, U, S, Ut)  # K = P U S Uᵀ P restricted to X's row space is I − A with S = I − R
    Kt = (P, U, St, Ut)
    terms = ((1, K + Kt), (-2, K + K + Kt), (1, K + Kt + K + Kt))  # tr KKᵀ − 2 tr K²Kᵀ + tr (KKᵀ)²
    first = sum(weight * expect_traces([word], p, frame_stage) for weight, word in terms)
    words_of = {symbol: word for word, symbol in names.items()}
    poly = sp.Poly(sp.expand(sp.cancel(first)), *words_of)
    total = sp.Integer(0)
    for powers, coefficient in poly.terms():
        words = [words_of[s] for s, n in zip(words_of, powers, strict=True) for _ in range(n)]
        letters = sum(len(w) for w in words)
        value = sp.Integer(0)
        for pick in itertools.product((False, True), repeat=letters):  # S = I − R: each letter is I or −R
            chosen, sign, rotation_words = iter(pick), 1, []
            for word in words:
                kept = []
                for _, transposed in word:
                    if next(chosen):
                        sign, kept = -sign, [*kept, ("H", transposed)]
                rotation_words.append(tuple(kept))
            if reflection:
                value += sign * (1 - sum(map(len, rotation_words)) % 2)
            else:
                value += sign * expect_traces(rotation_words, m, lambda kind, word: m)
        total += coefficient * (value.subs(m, 1) if reflection else value)
    return sp.factor(sp.cancel(total / (2 * d)))


def _orthonormal_rows(X: np.ndarray, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] > X.shape[1]:
        raise ValueError(f"{name} must have shape (d, p) with d ≤ p, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or inf")
    err = np.abs(X @ X.T - np.eye(X.shape[0])).max()
    if err > 1e-10:
        raise AssumptionError(
            f"orthogonal_task_forgetting: the rows of {name} must be orthonormal (max |XXᵀ − I| = {err:.2e}); "
            "orthonormalise them (e.g. Q from a QR of Xᵀ) or whiten the task"
        )
    return X


def per_instance_forgetting(X: np.ndarray, O: np.ndarray, w_star: np.ndarray) -> float:
    """F = ½‖A(I − Aᵀ)u‖², A = X O Xᵀ, u = X w*: the closed form for one draw of O.

    >>> X = np.eye(2)[:1]; O = np.array([[0.0, -1.0], [1.0, 0.0]])  # task 2 rotates the only sample by 90°
    >>> per_instance_forgetting(X, O, np.array([1.0, 0.0]))  # A = 0: task 2 erases nothing it shares, F = 0
    0.0
    """
    X = _orthonormal_rows(X)
    O, w_star = np.asarray(O, dtype=np.float64), np.asarray(w_star, dtype=np.float64)
    dim = X.shape[1]
    if O.shape != (dim, dim) or w_star.shape != (dim,):
        raise ValueError(f"need O ({dim}, {dim}) and w* ({dim},), got {O.shape} and {w_star.shape}")
    err = np.abs(O.T @ O - np.eye(dim)).max()
    if not np.isfinite(err) or err > 1e-10:
        raise AssumptionError(f"orthogonal_task_forgetting: O must be orthogonal (max |OᵀO − I| = {err:.2e})")
    A, u = X @ O @ X.T, X @ w_star
    return 0.5 * float(np.sum((A @ (u - A.T @ u)) ** 2))


def sequential_forgetting(X1: np.ndarray, y1: np.ndarray, X2: np.ndarray, y2: np.ndarray) -> float:
    """½(‖X1 w2 − y1‖² − ‖X1 w1 − y1‖²) for the learner that starts at 0 and converges on each task in turn (each
    step the minimum-norm correction w ← w + X⁺(y − X w), LAWS.md §6.1); any X of full row rank.

    >>> X1 = np.array([[1.0, 0.0]]); X2 = np.array([[0.6, 0.8]])
    >>> round(sequential_forgetting(X1, np.array([1.0]), X2, np.array([0.0])), 12)  # w2 = (0.64, −0.48)
    0.0648
    """
    X1, X2 = np.asarray(X1, dtype=np.float64), np.asarray(X2, dtype=np.float64)
    y1, y2 = np.asarray(y1, dtype=np.float64), np.asarray(y2, dtype=np.float64)
    if X1.ndim != 2 or X2.ndim != 2 or X1.shape[1] != X2.shape[1]:
        raise ValueError(f"need X1 (n1, p) and X2 (n2, p), got {X1.shape} and {X2.shape}")
    if y1.shape != (X1.shape[0],) or y2.shape != (X2.shape[0],):
        raise ValueError(f"need y1 ({X1.shape[0]},) and y2 ({X2.shape[0]},), got {y1.shape} and {y2.shape}")
    if not all(np.all(np.isfinite(a)) for a in (X1, X2, y1, y2)):
        raise ValueError("inputs or targets contain NaN or inf")
    w1 = np.linalg.pinv(X1) @ y1
    w2 = w1 + np.linalg.pinv(X2) @ (y2 - X2 @ w1)
    return 0.5 * float(np.sum((X1 @ w2 - y1) ** 2) - np.sum((X1 @ w1 - y1) ** 2))


def _check_sizes(p: float, d: float, m: float) -> None:
    p, d, m = (np.asarray(v) for v in (p, d, m))
    if not (np.all(p >= 4) and np.all((d >= 1) & (d <= p)) and np.all((m >= 2) & (m <= p))):
        raise AssumptionError(
            f"orthogonal_task_forgetting: the exact form needs p ≥ 4, 1 ≤ d ≤ p and 2 ≤ m ≤ p (got p = {p}, d = {d}, "
            f"m = {m}); for m = 1 (R = ±1, a reflection with probability ½) use the derived form 'reflection'"
        )


orthogonal_task_forgetting = Law(
    name="orthogonal_task_forgetting",
    title="Forgetting when task 2 is task 1 under a random orthogonal map on an m-dim subspace: E_O[F]/‖Xw*‖²",
    equation=sp.Eq(F, _exact),
    symbols={"p": p, "d": d, "m": m, "alpha": alpha, "beta": beta, "F": F},
    assumptions=(
        Assumption(
            "realizable", "One teacher w* for both tasks (noiseless); F is per unit ‖X w*‖² (sup over unit w*)."
        ),
        Assumption("orthonormal_rows", "Task 1's inputs X ∈ R^{d×p} have orthonormal rows (whitened samples)."),
        Assumption(
            "random_rotation",
            "Task 2 = task 1 with inputs x ↦ O x, same targets; O = I − UUᵀ + URUᵀ, U a uniformly random "
            "m-dimensional frame and R Haar on O(m); F̄ is the expectation over O.",
            check=_check_sizes,
        ),
        Assumption("converged", "Zero init, each task trained to convergence (the projections of LAWS.md §6.1)."),
    ),
    regime=(
        "exact in expectation over O at every p ≥ 4, 1 ≤ d ≤ p, 2 ≤ m ≤ p (derived here by Weingarten calculus); one "
        "draw fluctuates around it"
    ),
    source=(
        "Goldfarb, Evron, Weinberger, Soudry & Hand, ICLR 2024 (arXiv:2401.12617), setting; per-instance form and "
        "exact expectation derived here (theory/orthogonal_forgetting.py), normalisation of LAWS.md §6.2"
    ),
    domain={"p": (8, 40), "d": (1, 8), "m": (2, 8), "alpha": (0.0, 1.0), "beta": (0.0, 1.0)},
    derived={
        "reflection": (d + 2) * (4 * d**2 - 4 * d * p + 16 * d + p**2 - 6 * p + 24) / (p * (p + 2) * (p + 4) * (p + 6)),
        "large_p": _large_p,
        "overparameterized_limit": alpha**2 * (1 - alpha) ** 2 / 2,
        "full_rank": alpha,
    },
)
