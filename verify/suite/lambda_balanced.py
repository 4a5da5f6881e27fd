"""Checks of the λ-balanced representation law (Dominé et al., ICLR 2025; theory/lambda_balanced.py).

GD against the law at convergence. The law is exact for gradient flow, which conserves W2ᵀW2 − W1W1ᵀ = λI; GD
does not (LAWS.md §8), and for a task-aligned init the drift is exact and scalar: each mode (a, b, e = s − ab)
steps a ← a + ηbe, b ← b + ηae, so b² − a² ← (b² − a²)(1 − η²e²). Over a run, λ_∞ = λ∏(1 − η²e_k²) = λ(1 − ηJ) +
O(η²), with J = ∫e² dt along the flow τ du/dt = √(λ² + 4u²)(s − u), i.e. J = ∫_{u0}^{s} (s − u)/√(λ² + 4u²) du
= (s/2)[asinh(2s/|λ|) − asinh(2u0/|λ|)] − ¼[√(λ² + 4s²) − √(λ² + 4u0²)]. The run ends at ab = s exactly, so its
representation is the law at λ_∞ and the gap is the law's λ-derivative times −ηλJ:

    Δrep_in ≈ +ηλJ·rep_in/(2r),   Δrep_out ≈ −ηλJ·rep_out/(2r),   r = √(s² + λ²/4).

That first-order gap is the derived tolerance of the aligned checks (`gd_gap_coefficients`).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from simulate import DeepLinear, lambda_balanced_init, prescribed_task, train
from theory import get_law
from theory.lambda_balanced import (
    converged_representation,
    empirical_ntk,
    kernel_distance,
    ntk_change_from_modes,
    relative_change,
)
from verify.agreement import agreement
from verify.figures import Curves
from verify.numbers import error_text
from verify.suite import Fault, check, identity

LAW = "lambda_balanced_representation"


def _law():
    return get_law(LAW)


# -- the builder's identity -------------------------------------------------------------------------------------

# The builder forms W2 = Q(W1W1ᵀ + λI)^{1/2} (or W1 from W2) with an eigendecomposition, so W2ᵀW2 reproduces
# W1W1ᵀ + λI to a few ulps of its norm: ≈ d·ε ≈ 1e-15 relative for d = 4 (observed ≤ 1e-15). 1e-12 relative to
# ‖W2ᵀW2‖ + ‖W1W1ᵀ‖ + |λ|√d leaves a factor ~1000 for other BLAS builds.
IDENTITY_RTOL = 1e-12
# A law fault scales the predicted λ: the residual grows by δ|λ|√d, a fraction ≥ 0.3δ of the scale at |λ| = 3
# (scale ≈ 2·3√4 + O(scale²) ≈ 12–20): δ = 1e-10 gives ≥ 3e-11, 30× the tolerance; 1e-12 would pass.
IDENTITY_FAULT = 1e-10
BUILDER_LAMS = (-3.0, -0.5, 0.0, 0.5, 3.0)


def builder_identity(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """simulate.lambda_balanced_init meets W2ᵀW2 − W1W1ᵀ = λI for λ from −3 to 3, both small layers, scales 0.1
    and 1, d = 4 (3 draws each): residual relative to ‖W2ᵀW2‖ + ‖W1W1ᵀ‖ + |λ|√d."""
    worst, built = 0.0, 0
    d = 4
    for lam in BUILDER_LAMS:
        for small in ("auto", "W1", "W2"):
            for scale in (0.1, 1.0):
                try:
                    W1, W2 = lambda_balanced_init(d, lam, scale, seed=seed, batch=3, small=small)
                except ValueError:
                    # refused: λ < −σ_min(W1)² (small W1) or λ > σ_min(W2)² (small W2), tested in test_lambda_balanced
                    continue
                built += 1
                want = fault.law(lam) * np.eye(d)  # a law fault scales the predicted imbalance λ
                for w1, w2 in zip(W1, W2, strict=True):
                    g1, g2 = w1 @ w1.T, w2.T @ w2
                    scale_norm = np.linalg.norm(g2) + np.linalg.norm(g1) + abs(lam) * np.sqrt(d)
                    worst = max(worst, float(np.linalg.norm(g2 - g1 - want) / scale_norm))
    ok = worst <= IDENTITY_RTOL and built >= len(BUILDER_LAMS) * 2  # "auto" must build every λ at both scales
    # round-off (≤ 1e-15 observed) is shown below 1e-14, a hundredth of the tolerance
    summary = (
        f"{built} (λ, small layer, scale) settings × 3 draws built; max ‖W2ᵀW2 − W1W1ᵀ − λI‖_F / scale: "
        f"{error_text(worst, floor=1e-14)} (tol {IDENTITY_RTOL:g})"
    )
    return ok, summary, {}


check(LAW, "builder_identity", faults={"law": IDENTITY_FAULT})(builder_identity)


# -- symbolic: the defining equations and the two limits -----------------------------------------------------------

# Identities are decided at 200 random points to 60 digits with a relative threshold of 1e-15 (verify.equivalence):
# a closed form off by a relative 1e-12 misses rep_in·rep_out = s² by 1e-12 everywhere, 1000× the threshold.
SYMBOLIC_FAULT = 1e-12


def _vanishes(expr: sp.Expr, seed: int) -> bool:
    """expr = 0, decided numerically (never by an untimed simplify): |expr| < 1e-25 at 20 random points of s in
    [0.2, 4], evaluated to 30 digits (a limit off by a relative 1e-12 leaves ≥ 2e-13)."""
    rng = np.random.default_rng(seed)
    free = sorted(expr.free_symbols, key=lambda x: x.name)
    for _ in range(20):
        point = {x: sp.Float(rng.uniform(0.2, 4.0), 30) for x in free}
        if not abs(complex(expr.subs(point).evalf(30))) < 1e-25:
            return False
    return True


def symbolic(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """rep_in·rep_out = s² and rep_out − rep_in = λ (the scalar λ-balanced fixed point ab = s, b² − a² = λ) at 200
    random points; limits λ → 0 (both → s, the balanced representation), λ → +∞ (rep_in·λ/s² → 1, rep_out/λ → 1),
    λ → −∞ (mirrored); the NTK change is even in λ, falls as λ⁻² (lazy) and is (Σ(s_i + s_j − 2u0)²)^{1/2}/(4u0)
    at λ = 0 (rich); the kernel distance → 0 as λ → ∞."""
    law = _law()
    S = law.symbols
    s, lam, u0, s1, s2 = S["s"], S["lam"], S["u0"], S["s1"], S["s2"]
    rep_in = fault.law(law.targets["rep_in"])  # a law fault scales the closed form of W1ᵀW1's eigenvalue
    rep_out, change, dist = law.targets["rep_out"], law.targets["ntk_change"], law.targets["kernel_distance"]
    box = {"s": law.domain["s"], "lam": law.domain["lam"]}
    product = identity(rep_in * rep_out, s**2, box, seed)
    difference = identity(rep_out - rep_in, lam, box, seed)
    L = sp.Symbol("L", positive=True)  # λ = ±L with L → 0⁺ or ∞
    limits = {
        "λ→0: rep_in → s": sp.limit(rep_in.subs(lam, L), L, 0) - s,
        "λ→0: rep_out → s": sp.limit(rep_out.subs(lam, L), L, 0) - s,
        "λ→∞: rep_in·λ/s² → 1": sp.limit(rep_in.subs(lam, L) * L / s**2, L, sp.oo) - 1,
        "λ→∞: rep_out/λ → 1": sp.limit(rep_out.subs(lam, L) / L, L, sp.oo) - 1,
        "λ→−∞: rep_in/|λ| → 1": sp.limit(rep_in.subs(lam, -L) / L, L, sp.oo) - 1,
        "λ→−∞: rep_out·|λ|/s² → 1": sp.limit(rep_out.subs(lam, -L) * L / s**2, L, sp.oo) - 1,
        "λ→∞: kernel distance → 0": sp.limit(dist.subs(lam, L), L, sp.oo),
    }
    bad_limits = [k for k, v in limits.items() if not _vanishes(v, seed)]
    box_ntk = {k: law.domain[k] for k in ("s1", "s2", "u0", "lam")}
    even = identity(change.subs(lam, -lam), change, box_ntk, seed)
    # lazy: λ²·change → (Σ_ij (s_i² + s_j² − 2u0²)²)^{1/2}/d, d = 2, written out independently of the law's form
    pairs = [2 * s1**2 - 2 * u0**2, s1**2 + s2**2 - 2 * u0**2, s1**2 + s2**2 - 2 * u0**2, 2 * s2**2 - 2 * u0**2]
    lazy_rate = sp.sqrt(sum(p**2 for p in pairs)) / 2
    lazy = identity(sp.limit(change.subs(lam, L) * L**2, L, sp.oo), lazy_rate, box_ntk, seed)
    rich_pairs = [2 * s1 - 2 * u0, s1 + s2 - 2 * u0, s1 + s2 - 2 * u0, 2 * s2 - 2 * u0]
    rich = identity(change.subs(lam, 0), sp.sqrt(sum(p**2 for p in rich_pairs)) / (4 * u0), box_ntk, seed)
    levels = (product.level, difference.level, even.level, lazy.level, rich.level)
    ok = all(v == "exact" for v in levels) and not bad_limits
    summary = (
        f"rep_in·rep_out = s²: {product.level}; rep_out − rep_in = λ: {difference.level}; "
        f"{len(limits) - len(bad_limits)}/{len(limits)} limits hold{' (failed: ' + ', '.join(bad_limits) + ')' if bad_limits else ''}; "
        f"NTK change even in λ: {even.level}; λ²·change → lazy rate: {lazy.level}; change at λ = 0: {rich.level}"
    )
    return ok, summary, {"max_rel_residual": max(product.max_error, difference.max_error)}


check(LAW, "closed_forms_and_limits", faults={"law": SYMBOLIC_FAULT})(symbolic)


# -- the NTK's Kronecker form against a torch.func Jacobian ------------------------------------------------------

# Both sides sum O(Nh·Ni + No·Nh) = 20 products of O(1) numbers per entry: round-off ≈ 20ε·max|K| ≈ 5e-15·max|K|.
# 1e-12 relative to max|K| leaves a factor 200. A law fault scales the formula by 1 + δ: at δ = 1e-10 the error is
# 1e-10·max|K|, 100× the tolerance.
NTK_RTOL = 1e-12
NTK_FAULT = 1e-10


def _jacobian_ntk(W1: np.ndarray, W2: np.ndarray, X: np.ndarray) -> np.ndarray:
    """K = J Jᵀ with J the Jacobian of (W2W1X).ravel() in (W1, W2), by torch.func.jacrev (float64)."""
    from torch.func import jacrev

    x = torch.from_numpy(X)

    def outputs(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
        return (w2 @ w1 @ x).reshape(-1)  # row-major: output o, item μ at o·P + μ

    j1, j2 = jacrev(outputs, argnums=(0, 1))(torch.from_numpy(W1), torch.from_numpy(W2))
    J = torch.cat([j1.reshape(j1.shape[0], -1), j2.reshape(j2.shape[0], -1)], dim=1)
    return (J @ J.T).numpy()


def ntk_jacobian(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """theory.lambda_balanced.empirical_ntk (I ⊗ XᵀW1ᵀW1X + W2W2ᵀ ⊗ XᵀX) equals J Jᵀ from torch.func.jacrev, for a
    rectangular network (Ni, Nh, No) = (3, 4, 2) on P = 5 items and a square λ-balanced one (d = 3, λ = 1.5)."""
    rng = np.random.default_rng(seed)
    cases = [(rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 5)))]
    W1, W2 = lambda_balanced_init(3, 1.5, 0.5, seed=seed)
    cases.append((W1[0], W2[0], rng.normal(size=(3, 5))))
    worst = 0.0
    for w1, w2, x in cases:
        K = fault.law(empirical_ntk(w1, w2, x))  # a law fault scales the Kronecker formula
        ref = _jacobian_ntk(w1, w2, x)
        worst = max(worst, float(np.max(np.abs(K - ref)) / np.max(np.abs(ref))))
    ok = worst <= NTK_RTOL
    # round-off (≈ 1e-16 relative observed) is shown below 1e-14
    summary = f"max|K_formula − J Jᵀ| / max|J Jᵀ|: {error_text(worst, floor=1e-14)} (tol {NTK_RTOL:g}), 2 networks"
    return ok, summary, {}


check(LAW, "ntk_matches_jacobian", faults={"law": NTK_FAULT})(ntk_jacobian)


# -- GD from aligned λ-balanced inits: the derived O(η) gap ----------------------------------------------------------


def flow_error_integral(s: np.ndarray, lam: float, u0: float) -> np.ndarray:
    """J = ∫_0^∞ e(t)² dt/τ along the λ-mode flow from u0 to s: ∫_{u0}^{s} (s − u)/√(λ² + 4u²) du (λ ≠ 0).

    >>> round(float(flow_error_integral(np.array([1.0]), 2.0, 0.0)[0]), 10)   # asinh(1)/2 − (√8 − 2)/4
    0.2335800123
    """
    a = abs(lam)
    return (
        s / 2 * (np.arcsinh(2 * s / a) - np.arcsinh(2 * u0 / a))
        - (np.sqrt(lam**2 + 4 * s**2) - np.sqrt(lam**2 + 4 * u0**2)) / 4
    )


def gd_gap_coefficients(s: np.ndarray, lam: float, u0: float) -> tuple[np.ndarray, np.ndarray]:
    """(c_in, c_out): GD's converged rep_in − law ≈ η·c_in and rep_out − law ≈ η·c_out per mode, for an aligned
    λ-balanced init of strength u0 (module docstring): c = ±λJ·rep/(2r)."""
    r = np.sqrt(s**2 + lam**2 / 4)
    J = flow_error_integral(s, lam, u0)
    return lam * J * (r - lam / 2) / (2 * r), -lam * J * (r + lam / 2) / (2 * r)


ALIGNED_S = (3.0, 2.0, 1.0)
ALIGNED_LAMS = (-2.0, -0.5, 0.5, 2.0)
ALIGNED_U0 = 1e-2
ALIGNED_T = 16.0  # the slowest mode (s = 1) escapes u0 = 0.01 by t ≈ 2.3 and then converges at rate ≥ 2: e^{-27}
# η·√(4s_max² + λ²) ≤ 0.063 (the Hessian's top eigenvalue times η): the O(η²) part of the gap is a relative
# O(η·r) ≲ 3% (observed: the constants move by < 1% from η = 0.01 to 0.0025). The measured err/η must lie within
# ±GAP_MARGIN of the derived c: two-sided, so a GD that conserved λ (no gap) fails as well as a wrong law.
ALIGNED_ETAS = (0.01, 0.005, 0.0025)
GAP_MARGIN = 0.10


def _mode_values(W1: np.ndarray, W2: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """(…, 2d): v_iᵀW1ᵀW1v_i then u_iᵀW2W2ᵀu_i for each mode i."""
    h1 = np.einsum("...hi,ia->...ha", W1, V)
    h2 = np.einsum("...oh,oa->...ha", W2, U)
    return np.concatenate([np.sum(h1**2, axis=-2), np.sum(h2**2, axis=-2)], axis=-1)


def gd_aligned(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """GD from task-aligned λ-balanced inits (λ = ±0.5, ±2; s = 3, 2, 1; u0 = 0.01) to convergence: the modes of
    W1ᵀW1 and W2W2ᵀ against √(s² + λ²/4) ∓ λ/2 at three η, order 1, err/η within ±10% of the derived gap."""
    law = _law()
    task = prescribed_task(list(ALIGNED_S), Ni=3, No=3, seed=seed)
    U, svals, V = task.svd()
    inits = [lambda_balanced_init(task, lam, ALIGNED_U0, seed=seed, aligned=True) for lam in ALIGNED_LAMS]
    W0 = tuple(np.concatenate([w[i] for w in inits]) for i in range(2))

    def simulate(eta: float) -> tuple[np.ndarray, np.ndarray]:
        traj = train(DeepLinear((3, 3, 3)), W0, task, eta=eta, times=[0.0, ALIGNED_T])
        values = _mode_values(traj.weights[0][-1], traj.weights[1][-1], U, V)  # (networks, 2d)
        return np.array([ALIGNED_T]), values.reshape(1, -1)

    def theory(t: np.ndarray) -> np.ndarray:
        rows = [
            np.concatenate([law.numeric("rep_in", s=svals, lam=lam), law.numeric("rep_out", s=svals, lam=lam)])
            for lam in ALIGNED_LAMS
        ]
        return fault.law(np.concatenate(rows))[None, :]  # a law fault scales the predicted representations

    coeffs = np.concatenate([np.concatenate(gd_gap_coefficients(svals, lam, ALIGNED_U0)) for lam in ALIGNED_LAMS])
    c = float(np.max(np.abs(coeffs)))
    result = agreement(theory, simulate, ALIGNED_ETAS, tolerance=lambda eta: (1 + GAP_MARGIN) * c * eta)
    consts = [e / eta for e, eta in zip(result.max_abs_error, result.etas, strict=True)]
    close = all(abs(k / c - 1) <= GAP_MARGIN for k in consts)
    summary = f"{result}; err/η = {', '.join(f'{k:.4f}' for k in consts)} (derived {c:.4f} ± {GAP_MARGIN:.0%})"
    return result.passed and close, summary, {"agreement": result}


# Derived c = 2.1475 (rep_out of s = 3 at λ = ±2); measured err/η = 2.175, 2.161, 2.154 (seed-independent: the
# aligned modes do not see U, V, R). A law fault δ shifts the predicted mode values by δ·rep, up to δ·4.16 (rep_out
# at s = 3, |λ| = 2); at δ = 1e-3 that is 4.2e-3, 0.8× the finest gap (c·η = 5.4e-3), which moves the measured
# constants out of the ±10% band (observed 2.59, 2.99, 3.82) and breaks the order (0.72); at 1e-4 it would not.
check(LAW, "gd_aligned_gap", faults={"law": 1e-3})(gd_aligned)


# -- GD from generic λ-balanced inits --------------------------------------------------------------------------------

GENERIC_S = (3.0, 2.0, 1.0)
GENERIC_LAMS = (-2.0, -0.5, 0.0, 0.5, 2.0)
GENERIC_ETAS = (0.04, 0.02, 0.01)
# Random (non-aligned) inits have no scalar drift formula: the gap's constant is measured, 2.36·η at η = 0.04
# (seed 0; 1.99–2.82 over seeds 0–4), and bounded by 4·η. What the check asserts is the order: the gap halves with η (order
# 1 ± 0.15, ratios 2 ± 0.2), so the law is GD's η → 0 limit for generic λ-balanced inits too.
GENERIC_COEFF = 4.0


def gd_generic(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """GD from random λ-balanced inits (simulate.lambda_balanced_init, scale 0.1, λ from −2 to 2, two draws each)
    to convergence: W1ᵀW1 and W2W2ᵀ (all entries) against the law's matrices, and ‖K∞ − K0‖/‖K0‖ against the
    change to the law's K∞; the gap is O(η) (order fitted)."""
    task = prescribed_task(list(GENERIC_S), Ni=3, No=3, seed=seed)
    inits = [lambda_balanced_init(task, lam, 0.1, seed=seed + k, batch=2) for k, lam in enumerate(GENERIC_LAMS)]
    W0 = tuple(np.concatenate([w[i] for w in inits]) for i in range(2))
    lams = np.repeat(GENERIC_LAMS, 2)
    X = task.X

    def law_state(lam: float) -> tuple[np.ndarray, np.ndarray]:
        A, B = converged_representation(task.sigma_yx, lam, task.sigma_xx)
        return fault.law(A), fault.law(B)  # a law fault scales the predicted representations

    def k_of(gram_in: np.ndarray, gram_out: np.ndarray) -> np.ndarray:
        return np.kron(np.eye(3), X.T @ gram_in @ X) + np.kron(gram_out, X.T @ X)

    def simulate(eta: float) -> tuple[np.ndarray, np.ndarray]:
        traj = train(DeepLinear((3, 3, 3)), W0, task, eta=eta, times=[0.0, 16.0])
        rows = []
        for k in range(len(lams)):
            w1, w2 = traj.weights[0][-1, k], traj.weights[1][-1, k]
            K0 = empirical_ntk(W0[0][k], W0[1][k], X)
            rows.append(
                np.concatenate(
                    [(w1.T @ w1).ravel(), (w2 @ w2.T).ravel(), [relative_change(K0, empirical_ntk(w1, w2, X))]]
                )
            )
        return np.array([16.0]), np.concatenate(rows)[None, :]

    def theory(t: np.ndarray) -> np.ndarray:
        rows = []
        for k, lam in enumerate(lams):
            A, B = law_state(lam)
            K0 = empirical_ntk(W0[0][k], W0[1][k], X)
            rows.append(np.concatenate([A.ravel(), B.ravel(), [relative_change(K0, k_of(A, B))]]))
        return np.concatenate(rows)[None, :]

    result = agreement(theory, simulate, GENERIC_ETAS, tolerance=lambda eta: GENERIC_COEFF * eta)
    consts = [e / eta for e, eta in zip(result.max_abs_error, result.etas, strict=True)]
    finest = result.series[-1]
    sim_change = finest.simulated.reshape(len(lams), -1)[:, -1]  # the last column of each network: ‖ΔK‖/‖K0‖
    law_change = finest.theory.reshape(len(lams), -1)[:, -1]
    pick = [int(np.argmax(lams == v)) for v in (GENERIC_LAMS[0], 0.0, GENERIC_LAMS[-1])]
    changes = ", ".join(f"λ = {lams[k]:g}: {sim_change[k]:.4g} (law {law_change[k]:.4g})" for k in pick)
    summary = (
        f"{result}; err/η = {', '.join(f'{k:.3f}' for k in consts)} (bound {GENERIC_COEFF:g}, measured); "
        f"relative NTK change at η = {finest.eta:g}, first draw: {changes}"
    )
    return result.passed, summary, {"agreement": result}


# A law fault δ shifts the predicted matrices by up to δ·4.16 (rep_out at s = 3, λ = 2) and, through K∞, the
# predicted relative NTK changes (1.3–65 here; 65 at λ = 0, seed 0) by ≈ δ·65 = 0.065 at δ = 1e-3: three times the
# finest gap (0.023), so the errors stop halving (observed order 0.29); at 1e-4 (0.0065) the ratios would survive.
check(LAW, "gd_generic_order", faults={"law": 1e-3})(gd_generic)


# -- the NTK change across a λ sweep (the figure) ----------------------------------------------------------------------

SWEEP_S = (2.0, 0.5)
SWEEP_U0 = 0.05
SWEEP_LAMS = tuple(float(v) for v in np.geomspace(1e-2, 1e2, 9))
# η = ETA_SCALED/√(4s_max² + λ²): η times the Hessian's top eigenvalue at the minimum is 0.05 for every λ, so the
# relative GD gap is the same at every λ; the run lasts SWEEP_RATES/√(4s_min² + λ²) (the slowest mode's final rate
# is √(4s_min² + λ²)), 40 rates: escape from u0 (≤ ln(s/u0) ≈ 2.3) plus e^{-37} of convergence.
ETA_SCALED = 0.05
SWEEP_RATES = 40.0
# The run's converged NTK is the law evaluated at its own final per-mode imbalance (ab = s exactly, b² − a² = λ_i∞)
# up to the convergence remainder e^{-37} and round-off: observed ≤ 4.2e-13 relative (the change at |λ| = 100 is
# a 5e-4 difference of kernels of size ~λ, which costs three digits), shown below 1e-10; the tolerance is 1e-9.
SHARP_RTOL = 1e-9
# Against the law at the initial λ, the gap is the drift's: GD's first-order prediction (λ_i∞ = λ(1 − ηJ_i)) plus
# O(η²) — a relative η·r ≈ 2.5% here; 1.5× the first-order gap plus the sharp floor bounds it.
GAP_FACTOR = 1.5
# 1 − cos of kernels whose cosine is computed to ≈ 1e-15: a distance error below 1e-13 is round-off
DIST_FLOOR = 1e-13


def _sweep_runs(seed: int, lams: tuple[float, ...]) -> list[dict]:
    task = prescribed_task(list(SWEEP_S), Ni=2, No=2, seed=seed)
    U, svals, V = task.svd()
    out = []
    for lam in lams:
        eta = ETA_SCALED / np.sqrt(4 * svals[0] ** 2 + lam**2)
        steps = int(np.ceil(SWEEP_RATES / np.sqrt(4 * svals[-1] ** 2 + lam**2) / eta))
        W = lambda_balanced_init(task, lam, SWEEP_U0, seed=seed, aligned=True)
        traj = train(DeepLinear((2, 2, 2)), W, task, eta=eta, times=[0.0, steps * eta])
        w1, w2 = traj.weights[0][:, 0], traj.weights[1][:, 0]
        K0, K1 = empirical_ntk(w1[0], w2[0], task.X), empirical_ntk(w1[-1], w2[-1], task.X)
        modes, modes0 = _mode_values(w1[-1], w2[-1], U, V), _mode_values(w1[0], w2[0], U, V)
        out.append(
            {
                "lam": lam,
                "eta": eta,
                "svals": svals,
                "change": relative_change(K0, K1),
                "distance": kernel_distance(K0, K1),
                "lam_final": modes[2:] - modes[:2],  # b_i² − a_i² at the end: the run's own conserved quantity
                "init_modes": (modes0[:2], modes0[2:]),
            }
        )
    return out


def _rep_pair(svals: np.ndarray, lam: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(√(s² + λ²/4) − λ/2, √(s² + λ²/4) + λ/2) per mode, the smaller one as s²/(larger): at |λ| = 100 the
    difference form would lose 4 of its digits to cancellation, visible in the sharp comparison."""
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), np.shape(svals))
    big = np.sqrt(svals**2 + lam**2 / 4) + np.abs(lam) / 2
    small = svals**2 / big
    return np.where(lam >= 0, small, big), np.where(lam >= 0, big, small)


def ntk_sweep(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """GD from aligned λ-balanced inits (s = 2, 0.5; u0 = 0.05) for λ = ±10^{−2…2}: the relative NTK change
    ‖K∞ − K0‖/‖K0‖ and kernel distance (measured with theory.lambda_balanced.empirical_ntk) against the law's closed forms."""
    law = _law()
    lams = SWEEP_LAMS + tuple(-v for v in SWEEP_LAMS)
    runs = _sweep_runs(seed, lams)
    worst_sharp, worst_gap_ratio, worst_dist = 0.0, 0.0, 0.0
    for run in runs:
        sv, lam = run["svals"], run["lam"]
        predicted = fault.law(  # a law fault scales the law's relative change
            float(law.numeric("ntk_change", s1=sv[0], s2=sv[1], u0=SWEEP_U0, lam=lam))
        )
        run["law"] = predicted
        a0, b0 = _rep_pair(np.full(2, SWEEP_U0), lam)  # the law's init, strength u0 in both modes
        # the law at the run's own final imbalance per mode (exact for the aligned run): the sharp comparison
        sharp = fault.law(ntk_change_from_modes(*run["init_modes"], *_rep_pair(sv, run["lam_final"]))[0])
        worst_sharp = max(worst_sharp, abs(run["change"] - sharp) / sharp)
        # the first-order GD prediction λ_i∞ = λ(1 − ηJ_i): the derived size of the gap to the law at λ
        # (both ends from the mode formula, so the allowance does not move with the law under test)
        lam_first = lam * (1 - run["eta"] * flow_error_integral(sv, lam, SWEEP_U0))
        first_change, first_dist = ntk_change_from_modes(a0, b0, *_rep_pair(sv, lam_first))
        flow_change, flow_dist = ntk_change_from_modes(a0, b0, *_rep_pair(sv, lam))
        allowed = GAP_FACTOR * abs(first_change - flow_change) + SHARP_RTOL * flow_change
        worst_gap_ratio = max(worst_gap_ratio, abs(run["change"] - predicted) / allowed)
        law_dist = fault.law(float(law.numeric("kernel_distance", s1=sv[0], s2=sv[1], lam=lam)))
        # the distance 1 − cos is computed from cos to ≈ 1e-15 (its round-off); DIST_FLOOR absorbs that
        allowed_dist = GAP_FACTOR * abs(first_dist - flow_dist) + DIST_FLOOR
        worst_dist = max(worst_dist, abs(run["distance"] - law_dist) / allowed_dist)
    ok = worst_sharp <= SHARP_RTOL and worst_gap_ratio <= 1.0 and worst_dist <= 1.0
    rich, lazy = runs[0], runs[len(SWEEP_LAMS) - 1]
    n = len(SWEEP_LAMS)  # runs[i + n] is runs[i] at −λ: GD's λ ↔ −λ mirror (W1 ↔ W2ᵀ) is exact up to round-off
    odd = max(abs(runs[i]["change"] - runs[i + n]["change"]) / runs[i]["change"] for i in range(n))
    summary = (
        f"{len(runs)} runs, λ = ±0.01 … ±100: GD vs the law at the run's own final imbalance, max rel err "
        f"{error_text(worst_sharp, floor=1e-10)} (tol {SHARP_RTOL:g}); vs the law at the initial λ, max "
        f"|gap|/(1.5·derived first-order gap) = {worst_gap_ratio:.2f} (≤ 1), for the kernel distance "
        f"{worst_dist:.2f} (≤ 1); GD's |change(λ) − change(−λ)|/change: "
        f"{error_text(odd, floor=1e-10)}; relative change {rich['change']:.4g} at λ = {rich['lam']:g} (law "
        f"{rich['law']:.4g}) → {lazy['change']:.3g} at λ = {lazy['lam']:g} (law {lazy['law']:.3g})"
    )
    grid = np.geomspace(1e-2, 1e2, 121)
    law_curve = law.numeric("ntk_change", s1=SWEEP_S[0], s2=SWEEP_S[1], u0=SWEEP_U0, lam=grid)
    pos = [r for r in runs if r["lam"] > 0]
    neg = [r for r in runs if r["lam"] < 0]
    curves = Curves(
        f"{LAW}: relative NTK change ‖K∞ − K0‖/‖K0‖ against λ (GD from aligned λ-balanced inits, s = 2, 0.5, "
        f"u0 = {SWEEP_U0:g}); rich at λ = 0, lazy as |λ| → ∞",
        "log₁₀ |λ|",
        "‖K∞ − K0‖_F / ‖K0‖_F",
        (
            ("GD, λ > 0", np.log10([r["lam"] for r in pos]), np.array([r["change"] for r in pos])[:, None]),
            (
                "GD, λ < 0 (on top of λ > 0: even)",
                np.log10([-r["lam"] for r in neg]),
                np.array([r["change"] for r in neg])[:, None],
            ),
        ),
        (np.log10(grid), np.asarray(law_curve)[:, None]),
        logy=True,
        theory_label="law (even in λ)",
        markers=True,
    )
    return ok, summary, {"curves": curves}


# A law fault δ scales both predictions; the sharp comparison's error becomes ≈ δ, so δ = 1e-7 is 100× its
# tolerance (1e-9); 1e-10 would pass.
check(LAW, "ntk_change_sweep", faults={"law": 1e-7})(ntk_sweep)
