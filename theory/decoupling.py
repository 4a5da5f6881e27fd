"""Decoupling dynamics in the task basis (Braun et al. 2022, Theorem 5.1, App. E; LAWS.md §2.4-2.5, §3.2).

For Ni = No and the A-parameterised initialisation W1 = A0Ṽᵀ, W2 = ŨA0ᵀ (automatically zero-balanced), the
network function in the task basis, M = AᵀA (W2W1 = ŨMṼᵀ), obeys the Riccati equation τṀ = S̃M + MS̃ − 2M²,
and P = M⁻¹ the *linear* Lyapunov equation τṖ = 2I − S̃P − PS̃ (derived), hence

    M(t) = [e^{−S̃t/τ} M0⁻¹ e^{−S̃t/τ} + (I − e^{−2S̃t/τ}) S̃⁻¹]⁻¹                          (Braun eq. 13),
    P_ij(t) = e^{−(s_i+s_j)t/τ} P_ij(0) + δ_ij (1 − e^{−2s_i t/τ})/s_i.

For a 2×2 task with M0 = [[a1, b0], [b0, a2]] (Δ0 = a1a2 − b0² > 0) this gives m11(t) (the paper's a1(t)),
m22(t) (a2(t)) and the coupling m12(t) (b(t)) explicitly (`decoupling_2x2`). For equal singular values
s1 = s2 = s, db/dt = 0 solves in closed form (derived here): with K = s² − s(a1 + a2) + Δ0 = det(sI − M0),

    t_peak = τ/(4s) · ln(K/Δ0) = τ/(4s) · ln(1 + s(s − a1 − a2)/(a1a2 − b0²)),

exactly the mean of the half-learning times (τ/2s) ln((s − λ_i)/λ_i) of the two eigenmodes λ_i of M0. The
published form τ/(4s) ln(s(s − a1 − a2)/Δ0) drops the "1 +" (`coupling_peak_time`), an approximation
with relative error 1 − ln z/ln(1 + z), z = s(s − a1 − a2)/Δ0. Braun eq. 15,
a1(t) = s a1/(e^{−2st/τ}(s − a1 − a2) + a1 + a2), is the exact solution when Δ0 = 0 (rank-one M0) and is
otherwise off by O(s) once the second eigenmode is learned (`small_init_sigmoid`). Reversal learning
(`reversal_saddle`, `aligned_qqt`) is the aligned case in which every mode starts at negative strength.

>>> round(float(coupling_peak_time.numeric(s=2.0, a1=0.01, a2=0.02, b0=0.005, tau=1.0)), 6)
1.252744
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from theory.checks import BALANCE_RTOL, as_matrix, as_times, check_shapes, check_whitened, check_zero_balanced
from theory.law import Assumption, AssumptionError, Law, function_free
from theory.riccati_checks import GRADIENT_FLOW, WHITENED, ZERO_BALANCED, task_svd

__all__ = [
    "aligned_qqt",
    "aligned_strengths",
    "coupling_peak_time",
    "decoupled_m",
    "decoupling_2x2",
    "located_peak_time",
    "reversal_saddle",
    "small_init_sigmoid",
]

t = sp.Symbol("t", nonnegative=True)
tau = sp.Symbol("tau", positive=True)
s, s1, s2 = sp.symbols("s s1 s2", positive=True)
a1, a2 = sp.symbols("a1 a2", positive=True)
b0 = sp.Symbol("b0", real=True)
t_peak = sp.Symbol("t_peak", positive=True)
u_sym, u0 = sp.Symbol("u", nonnegative=True), sp.Symbol("u0", positive=True)
m11, m22 = sp.Function("m11", positive=True)(t), sp.Function("m22", positive=True)(t)
m12 = sp.Function("m12", real=True)(t)
p11, p22 = sp.Function("p11", positive=True)(t), sp.Function("p22", positive=True)(t)
p12 = sp.Function("p12", real=True)(t)
u = sp.Function("u", nonnegative=True)(t)
# the plain symbols that function_free gives for the trajectory functions (same names and assumptions)
_plain = {f.func.__name__: function_free(f) for f in (m11, m22, m12, p11, p22, p12)} | {"u": u_sym}


def _check_m0(a1: float, a2: float, b0: float) -> None:
    if not (a1 > 0 and a2 > 0 and a1 * a2 > b0**2):
        raise AssumptionError(
            f"positive-definite M0: need a1 > 0, a2 > 0 and a1·a2 > b0² (M0 = A0ᵀA0 with A0 of full column "
            f"rank), got a1 = {a1}, a2 = {a2}, b0 = {b0}. Fix: initialise A0 with full column rank."
        )


def _check_peak(s: float, a1: float, a2: float) -> None:
    if not (a1 + a2 < s):
        raise AssumptionError(
            f"interior coupling peak: need a1 + a2 < s, got a1 + a2 = {a1 + a2} ≥ s = {s}. Then |b(t)| decreases "
            "from t = 0 and there is no peak at t > 0. Fix: use a smaller initialisation (or report t_peak = 0)."
        )


_A_PARAM = Assumption(
    "a_parameterisation",
    "Ni = No; W1 = A0Ṽᵀ and W2 = ŨA0ᵀ with A0 ∈ R^{Nh×Ni} of full column rank (zero-balanced automatically).",
)
_M0_PD = Assumption("m0_positive_definite", "M0 = A0ᵀA0 ≻ 0: a1, a2 > 0 and a1a2 > b0².", check=_check_m0)
_EQUAL_S = Assumption("equal_singular_values", "Equal task singular values s1 = s2 = s.")
_PEAK = Assumption("interior_peak", "a1 + a2 < s, so |b(t)| rises before it decays.", check=_check_peak)


def _check_coupled(b0: float) -> None:
    if b0 == 0:
        raise AssumptionError(
            "coupled initialisation: need b0 ≠ 0, got b0 = 0. Then b(t) = 0 for all t and |b| has no peak (the "
            "formula still returns the time at which m11 + m22 = s). Fix: draw A0 with non-orthogonal columns."
        )


_COUPLED = Assumption("coupled_init", "b0 ≠ 0: the coupling starts non-zero (b(t) ∝ b0).", check=_check_coupled)

# -- the explicit 2×2 solution ---------------------------------------------------------------------------------
_d0 = a1 * a2 - b0**2
_e1, _e2 = sp.exp(-2 * s1 * t / tau), sp.exp(-2 * s2 * t / tau)
_P11 = _e1 * a2 / _d0 + (1 - _e1) / s1
_P22 = _e2 * a1 / _d0 + (1 - _e2) / s2
_P12 = -sp.exp(-(s1 + s2) * t / tau) * b0 / _d0
_detP = _P11 * _P22 - _P12**2

decoupling_2x2 = Law(
    name="decoupling_2x2",
    title="Exact decoupling of a 2×2 task-basis network function (Riccati and Lyapunov forms)",
    equation=(
        sp.Eq(m11.diff(t), (2 * s1 * m11 - 2 * (m11**2 + m12**2)) / tau),
        sp.Eq(m22.diff(t), (2 * s2 * m22 - 2 * (m22**2 + m12**2)) / tau),
        sp.Eq(m12.diff(t), ((s1 + s2) * m12 - 2 * m12 * (m11 + m22)) / tau),
        sp.Eq(p11.diff(t), (2 - 2 * s1 * p11) / tau),
        sp.Eq(p22.diff(t), (2 - 2 * s2 * p22) / tau),
        sp.Eq(p12.diff(t), -(s1 + s2) * p12 / tau),
    ),
    solution=sp.Eq(m11, _P22 / _detP),
    symbols={
        "t": t,
        "tau": tau,
        "s1": s1,
        "s2": s2,
        "a1": a1,
        "a2": a2,
        "b0": b0,
        **{n: v for n, v in _plain.items() if n != "u"},
    },
    assumptions=(WHITENED, _A_PARAM, _M0_PD, GRADIENT_FLOW),
    regime=(
        "exact under gradient flow: the Lyapunov residuals simplify to 0 (SymPy) and the Riccati residuals are "
        "< 1e-20 at 30 digits; equals Theorem 3.1 (ŨᵀW2W1Ṽ) to 1.6e-15. GD with Nh = 4 and random non-decoupled "
        "A0 (scale 0.05·s_max, s̃ = (2, 1), t ≤ 8τ) matches to O(η): max error 9.2e-3, 4.6e-3, 2.3e-3 at "
        "η = 0.01, 0.005, 0.0025 (order 1.00)"
    ),
    source=(
        "Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), Theorem 5.1, eq. 13 and App. E; "
        "Lyapunov form for P = M⁻¹ derived (LAWS.md §2.4-2.5)"
    ),
    domain={
        "t": (0.0, 10.0),
        "tau": (0.5, 2.0),
        "s1": (0.2, 4.0),
        "s2": (0.2, 4.0),
        "a1": (0.01, 2.0),
        "a2": (0.01, 2.0),
        "b0": (-0.005, 0.005),  # |b0| < min(a1, a2)/2 keeps M0 ≻ 0 everywhere in the box
    },
    derived={
        "m22": _P11 / _detP,
        "m12": -_P12 / _detP,
        "p11": _P11,
        "p22": _P22,
        "p12": _P12,
    },
)

# -- equal singular values: peak time of the coupling and the sigmoid of eq. 15 ------------------------------------
_K = s**2 - s * (a1 + a2) + _d0  # det(sI − M0)

coupling_peak_time = Law(
    name="coupling_peak_time",
    title="Time at which the off-diagonal coupling |b(t)| peaks (equal singular values)",
    equation=sp.Eq(t_peak, tau / (4 * s) * sp.log(1 + s * (s - a1 - a2) / _d0)),
    symbols={"t_peak": t_peak, "s": s, "a1": a1, "a2": a2, "b0": b0, "tau": tau},
    assumptions=(WHITENED, _A_PARAM, _M0_PD, _EQUAL_S, _PEAK, _COUPLED, GRADIENT_FLOW),
    regime=(
        "exact under gradient flow for s1 = s2 = s with a1 + a2 < s (the exact form is derived: db/dt = 0 where "
        "m11 + m22 = s). Measured against the peak of the exact b(t) located numerically (grid + Brent root of "
        "db/dt) for 420 random A0 ∈ R^{4×2}, mean(a1, a2) = ε·s with ε from 1e-3 to 0.45, s ∈ {1, 2, 3}: relative "
        "error ≤ 4e-14. The published form (derived['published']) is an approximation, always early: its relative "
        "error is exactly 1 − ln z/ln(1 + z), z = s(s − a1 − a2)/Δ0 ≥ (1 − 2ε)/ε², measured max 7.2e-8 at ε = 1e-3, "
        "1.1e-5 at 1e-2, 2.8e-3 at 0.1, 2.3e-2 at 0.2, 0.11 at 0.3, 0.72 at 0.4 and 2.7 at 0.45 (diverging as "
        "a1 + a2 → s). So it is accurate to < 1% only for ε ≲ 0.15"
    ),
    source=(
        "Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), App. E (published form); exact "
        "form derived here from the explicit 2×2 solution (LAWS.md §2.5)"
    ),
    domain={"s": (0.5, 4.0), "a1": (0.001, 0.2), "a2": (0.001, 0.2), "b0": (-5e-4, 5e-4), "tau": (0.5, 2.0)},
    derived={
        "published": tau / (4 * s) * sp.log(s * (s - a1 - a2) / _d0),
        # |b| at its peak: b0 s²/(2√(Δ0 K) + s(a1 + a2) − 2Δ0)
        "b_peak": b0 * s**2 / (2 * sp.sqrt(_d0 * _K) + s * (a1 + a2) - 2 * _d0),
    },
)


@functools.cache
def _coupling_functions() -> tuple[Any, Any]:
    """m12 of `decoupling_2x2` and its t-derivative as numpy functions of (t, tau, s1, s2, a1, a2, b0)."""
    sym = decoupling_2x2.symbols
    args = [sym[n] for n in ("t", "tau", "s1", "s2", "a1", "a2", "b0")]
    m12 = decoupling_2x2.targets["m12"]
    return sp.lambdify(args, m12, "numpy"), sp.lambdify(args, m12.diff(sym["t"]), "numpy")


def located_peak_time(s: float, a1: float, a2: float, b0: float, tau: float = 1.0) -> float:
    """The time at which |b(t)| = |m12(t)| of the exact 2×2 solution peaks (s1 = s2 = s), located numerically,
    independently of the closed form `coupling_peak_time`: the largest |b| on a 4001-point grid up to both
    eigenmodes' learning, (τ/2s) ln(s/λ_min) + 3τ/s (logistic times, LAWS.md §1.1), then Brent's root of
    db/dt (xtol 1e-15) between the grid neighbours. Checks the law's assumptions (M0 ≻ 0, a1 + a2 < s) first.

    >>> round(located_peak_time(2.0, 0.01, 0.02, 0.005), 6)   # the closed form gives 1.252744 too
    1.252744
    """
    from scipy.optimize import brentq

    coupling_peak_time.check(s=s, a1=a1, a2=a2, b0=b0)
    m12, dm12 = _coupling_functions()
    lam_min = np.linalg.eigvalsh(np.array([[a1, b0], [b0, a2]]))[0]
    grid = np.linspace(0.0, tau * (np.log(s / lam_min) / (2 * s) + 3 / s), 4001)
    k = int(np.argmax(np.abs(m12(grid, tau, s, s, a1, a2, b0))))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    return float(brentq(lambda x: dm12(x, tau, s, s, a1, a2, b0), lo, hi, xtol=1e-15, rtol=1e-15))


_x = sp.exp(-2 * s * t / tau)
_sigmoid_exact = (
    s * (s * _x * a1 + (1 - _x) * _d0) / (s**2 * _x**2 + s * (a1 + a2) * _x * (1 - _x) + (1 - _x) ** 2 * _d0)
)

small_init_sigmoid = Law(
    name="small_init_sigmoid",
    title="On-diagonal element a1(t) for equal singular values; Braun eq. 15 as its rank-one case",
    equation=sp.Eq(_plain["m11"], _sigmoid_exact),
    symbols={"t": t, "tau": tau, "s": s, "a1": a1, "a2": a2, "b0": b0, "m11": _plain["m11"]},
    assumptions=(WHITENED, _A_PARAM, _M0_PD, _EQUAL_S, GRADIENT_FLOW),
    regime=(
        "the equation is exact (m11 of decoupling_2x2 at s1 = s2 = s). The published eq. 15 (derived['published']) "
        "is an approximation: it equals (a1/(a1 + a2))·(logistic started at a1 + a2 = λ1 + λ2), and it is exact only "
        "for Δ0 = a1a2 − b0² = 0 (rank-one M0, e.g. Nh = 1). It tends to s·a1/(a1 + a2) instead of s, so for Δ0 > 0 "
        "it fails once the weaker eigenmode λ2 of M0 is learned. Measured (200 random A0 ∈ R^{4×2}, mean(a1, a2) = "
        "ε·s, ε = 1e-3, 1e-2, 0.1, 0.3, 1, s ∈ {1, 2}): up to the half-learning time of the stronger eigenmode λ1, "
        "max|eq.15 − exact| ≤ 0.5·(λ2/λ1)·s (measured constant ≤ 0.46, median 0.26 at small ε; the window is "
        "empty once λ1 ≥ s/2); over all t its largest error is its t → ∞ limit s·a2/(a1 + a2) (ratio 1.000000 in "
        "every draw). Small initial weights alone do not make eq. 15 accurate; a nearly rank-one M0 (λ2 ≪ λ1) "
        "does, up to t_half(λ1)"
    ),
    source="Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), eq. 15; exact form derived (LAWS.md §2.5)",
    domain={
        "t": (0.0, 10.0),
        "tau": (0.5, 2.0),
        "s": (0.5, 4.0),
        "a1": (0.001, 0.2),
        "a2": (0.001, 0.2),
        "b0": (-5e-4, 5e-4),  # |b0| < min(a1, a2)/2 keeps M0 ≻ 0 everywhere in the box
    },
    derived={"published": s * a1 / (_x * (s - a1 - a2) + a1 + a2)},
)

# -- reversal learning: the aligned flow collapses to the saddle ---------------------------------------------------
reversal_saddle = Law(
    name="reversal_saddle",
    title="Reversal learning: each mode of the converged network decays into the saddle at 0",
    equation=sp.Eq(u.diff(t), -2 * u * (s + u) / tau),
    solution=sp.Eq(u, s * sp.exp(-2 * s * t / tau) / (2 - sp.exp(-2 * s * t / tau))),
    symbols={"t": t, "tau": tau, "s": s, "u": u_sym, "u0": u0},
    assumptions=(
        WHITENED,
        ZERO_BALANCED,
        GRADIENT_FLOW,
        Assumption(
            "reversal",
            "Start converged on Σa (W1 = R√S̃Ṽᵀ, W2 = Ũ√S̃Rᵀ) and train on Σb = −Σa, so B = 0; u is the "
            "strength along the old mode (ũᵀW2W1ṽ), and the new target along it is −s.",
        ),
    ),
    regime=(
        "exact under gradient flow (u → 0: the network never learns −Σ, the loss tends to ½‖Σ‖² + c; aligned_qqt "
        "matches it to 3e-15 and reaches W2W1 = 0 by t = 40τ for s̃ = 2, 1, 0.5). GD follows it to O(η) before "
        "escaping (max error 2.0e-2, 9.7e-3, 4.8e-3 at η = 0.01, 0.005, 0.0025 for t ≤ 4τ, order 1.02), but only "
        "until O(η) imbalance or round-off lets it escape: t_esc ≈ τ ln(1/δ)/s1 for a perturbation δ (LAWS.md §3.2, "
        "not re-measured here: escape at t ≈ 36 with η = 0.01 from round-off alone); compare up to the escape only"
    ),
    source="Braun, Dominé, Fitzgerald & Saxe, NeurIPS 2022 (arXiv:2209.09975), §6 and App. G; LAWS.md §3.2",
    domain={"t": (0.0, 10.0), "tau": (0.5, 2.0), "s": (0.2, 4.0), "u0": (0.01, 4.0)},
    derived={
        # general start u(0) = u0 > 0 on the reversed mode (u0 = s is the converged network)
        "solution_u0": s * u0 * sp.exp(-2 * s * t / tau) / (u0 * (1 - sp.exp(-2 * s * t / tau)) + s),
    },
)


# -- numerics ------------------------------------------------------------------------------------------------------
def decoupled_m(m0: ArrayLike, s_tilde: ArrayLike, t: ArrayLike, tau: float = 1.0) -> np.ndarray:
    """M(t) of Theorem 5.1 for any Nm, via the Lyapunov solution P(t); shape (nt, Nm, Nm).

    ``m0`` is M0 = A0ᵀA0 (symmetric positive definite), ``s_tilde`` the singular values of Σyx (> 0).

    >>> np.round(decoupled_m([[0.01]], [2.0], [0.0, 20.0])[:, 0, 0], 6)   # a single logistic mode
    array([0.01, 2.  ])
    """
    m = as_matrix(m0, "m0")
    st = np.asarray(s_tilde, dtype=np.float64).ravel()
    if m.shape != (st.size, st.size) or not np.allclose(m, m.T):
        raise ValueError(f"m0 must be a symmetric ({st.size}, {st.size}) matrix, got shape {m.shape}")
    if not (np.all(np.isfinite(st)) and np.all(st > 0)):
        raise ValueError("s_tilde must be finite singular values > 0")
    if np.linalg.eigvalsh(m)[0] <= 0:
        raise AssumptionError("m0_positive_definite: M0 = A0ᵀA0 must be positive definite (A0 of full column rank).")
    T = as_times(t, tau)
    decay = np.exp(-(st[None, :, None] + st[None, None, :]) * T[:, None, None])
    p = decay * np.linalg.inv(m)[None] + np.einsum(
        "tk,kl->tkl", -np.expm1(-2.0 * st[None, :] * T[:, None]) / st, np.eye(st.size)
    )
    return np.linalg.inv(p)


def aligned_strengths(u0: ArrayLike, s_tilde: ArrayLike, t: ArrayLike, tau: float = 1.0) -> np.ndarray:
    """Mode strengths u_i(t) of an aligned zero-balanced network, τu̇ = 2|u|(s̃ − u); shape (nt, Nm).

    u0 > 0 follows the logistic law to s̃; u0 < 0 (a reversed mode) decays to the saddle at 0 and never
    crosses it (u = s̃u0e^{−2s̃t}/(s̃ − u0(1 − e^{−2s̃t}))); u0 = 0 stays; s̃ = 0 gives u0/(1 + 2|u0|t).

    >>> np.round(aligned_strengths([0.01, -2.0], [2.0, 2.0], [0.0, 1.0]), 6)   # learning / reversed mode
    array([[ 0.01    , -2.      ],
           [ 0.430588, -0.018485]])
    """
    u_init = np.asarray(u0, dtype=np.float64).ravel()
    st = np.asarray(s_tilde, dtype=np.float64).ravel()
    if u_init.shape != st.shape or not (np.all(np.isfinite(u_init)) and np.all(np.isfinite(st)) and np.all(st >= 0)):
        raise ValueError("u0 and s_tilde must be finite vectors of equal length, with s_tilde ≥ 0")
    T = as_times(t, tau)
    x = np.exp(-2.0 * st[None, :] * T[:, None])
    one_minus_x = np.where(st[None, :] > 0, -np.expm1(-2.0 * st[None, :] * T[:, None]), 0.0)
    growth = np.where(st[None, :] > 0, one_minus_x / np.where(st > 0, st, 1.0)[None, :], 2.0 * T[:, None])
    # divide through by s̃ so the s̃ = 0 limit u0/(1 + 2|u0|t) is the same expression
    # np.where evaluates both branches: the one not taken may divide by 0 (e.g. the reversal formula at
    # u0 = s̃ > 0, where 1 − u0·growth underflows to 0 at long times), and its value is discarded
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = u_init / (u_init * growth + x)
        neg = u_init * x / (1.0 - u_init * growth)
    return np.where(u_init[None, :] >= 0, pos, neg)


def aligned_qqt(
    W1_0: ArrayLike,
    W2_0: ArrayLike,
    sigma_yx: ArrayLike,
    t: ArrayLike,
    tau: float = 1.0,
    *,
    sigma_xx: ArrayLike | None = None,
    balance_rtol: float = BALANCE_RTOL,
    align_rtol: float = 1e-8,
) -> np.ndarray:
    """QQᵀ(t) for a zero-balanced init aligned with Σyx = ŨS̃Ṽᵀ (W2W1(0) = Ũ diag(u0) Ṽᵀ, any signs, any rank).

    This is the exact solution where Theorem 3.1 fails because B is singular: modes with u0 < 0 (reversal
    learning, Σyx = −W2W1(0)) collapse to the saddle. Alignment is checked to ``align_rtol`` relative to ‖W2W1(0)‖
    (the default leaves room for SVD round-off); with repeated singular values of Σyx the check uses the SVD
    basis numpy returns.

    >>> sa = np.diag([2.0, 1.0])
    >>> W1, W2 = np.sqrt(sa), np.sqrt(sa)                       # converged on Σa
    >>> q = aligned_qqt(W1, W2, -sa, [0.0, 1.0, 50.0])            # reversal: train on −Σa
    >>> np.round(q[:, 2:, :2].diagonal(axis1=1, axis2=2), 6)      # diag of W2W1 collapses to 0
    array([[2.      , 1.      ],
           [0.018485, 0.072579],
           [0.      , 0.      ]])
    """
    w1 = as_matrix(W1_0, "W1_0")
    w2 = as_matrix(W2_0, "W2_0")
    syx = as_matrix(sigma_yx, "sigma_yx")
    n_in, _, _ = check_shapes(w1, w2, syx)
    check_whitened(sigma_xx, n_in)
    check_zero_balanced(w1, w2, rtol=balance_rtol)
    T = as_times(t, tau)
    task = task_svd(syx)
    w21 = w2 @ w1
    d = task.u_m.T @ w21 @ task.v_m
    u_init = np.diag(d).copy()
    resid = float(np.linalg.norm(w21 - task.u_m @ np.diag(u_init) @ task.v_m.T))
    scale = float(np.linalg.norm(w21))
    if resid > align_rtol * max(scale, np.finfo(np.float64).tiny):
        raise AssumptionError(
            f"aligned initialisation: ‖W2W1(0) − Ũ diag(ŨᵀW2W1(0)Ṽ) Ṽᵀ‖/‖W2W1(0)‖ = {resid / scale:.3g} > "
            f"align_rtol = {align_rtol:g}, so the modes do not evolve separately. Fix: use theory.riccati.qqt "
            "(Theorem 3.1), which needs only B = UᵀŨ + VᵀṼ nonsingular."
        )
    u_t = aligned_strengths(u_init, task.s, T, tau=1.0)
    half_in = task.v_m[None] * np.sqrt(np.abs(u_t))[:, None, :]
    half_out = task.u_m[None] * (np.sign(u_t) * np.sqrt(np.abs(u_t)))[:, None, :]
    z = np.concatenate([half_in, half_out], axis=1)  # QQᵀ = z zᵀ with mode signs carried by the output half
    return z @ np.swapaxes(z, 1, 2)
