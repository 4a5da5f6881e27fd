"""Scalar modes with a conserved imbalance: the λ-balanced mode and Kunin's single neuron (the lazy–rich spectrum).

λ-mode (Dominé et al., ICLR 2025, arXiv:2409.14623; Saxe et al. 2014 App. A). Scalars a (first layer), b (second),
u = ab, whitened inputs, loss ½(s − ab)². Gradient flow: τ ȧ = b(s − u), τ ḃ = a(s − u). Then
d(b² − a²)/dt = (2ba − 2ab)(s − u)/τ = 0, so λ = b² − a² is conserved, and

    τ u̇ = (a² + b²)(s − u) = √(λ² + 4u²)(s − u),    since (a² + b²)² = (b² − a²)² + 4a²b².

λ = 0 gives 2u(s − u) (`logistic_mode`, u > 0). Time (derived here; its derivative is checked to be 1/rhs):
with c = λ/2, E = √(s² + c²), F(u) = (1/2E)·ln[(su + c² + E√(u² + c²))/(s − u)], t(u0 → u) = τ(F(u) − F(u0))
for u0, u < s; for u0, u > s the same with |s − u|.

Single neuron (Kunin et al., NeurIPS 2024, arXiv:2406.06158). f = a·wᵀx, whitened, target β*, s = ‖β*‖:
τ ȧ = wᵀ(β* − aw), τ ẇ = a(β* − aw), so δ = a² − ‖w‖² is conserved. With w = ρ·β*/s (aligned; the flow keeps it
aligned since ẇ ∝ β* − aw), τ ρ̇ = a(s − aρ), τ ȧ = ρ(s − aρ): the λ-mode with first layer ρ, second a, λ = δ,
u = aρ. With ν = (w·β*)/a = sρ/a: a²(1 − ν²/s²) = δ gives a² = δs²/(s² − ν²), u = a²ν/s = δsν/(s² − ν²), and

    τ ν̇ = s(aρ̇ − ρȧ)/a² = sδ(s − u)/a² = (s² − ν²)(s − u)/s = s² − δν − ν²   (Riccati).

Writing ν = (−δ + Dy)/2, D = √(δ² + 4s²): τ ẏ = (D/2)(1 − y²), so y = tanh(Dt/2τ + artanh y0) for |y0| < 1 and
coth(Dt/2τ + arcoth y0) for |y0| > 1, y0 = (δ + 2ν0)/D. Both are the one Möbius form (tanh addition theorem)

    y(t) = (y0 + T)/(1 + y0·T),   T = tanh(Dt/2τ),

real on both branches, which `single_neuron_delta`'s solution uses; the issue's tanh form is ``derived["tanh_form"]``.
For y0 < −1 the denominator vanishes at T = −1/y0 if that is < 1 (a passes through 0 and ν = sρ/a diverges): a real
blow-up of ν, not of the network. At δ = 0, D = 2s, y0 = ν0/s and ν = s·tanh(st/τ + artanh(ν0/s)) — a symbolic
reduction only: δ = 0 forces a² = ρ², i.e. ν ≡ ±s on every trajectory.

Link: u(t) = λsν(t)/(s² − ν(t)²) solves the λ-mode with ν0 = su0/b0², b0² = (λ + √(λ² + 4u0²))/2, i.e.
ν0 = s(√(λ² + 4u0²) − λ)/(2u0). At λ = 0 it is 0/0 (ν ≡ s); its limit is the logistic solution.

Kernel: the NTK of f = a wᵀx is K(x, x') = xᵀ(wwᵀ + a²I)x'. On data X (d×P, XXᵀ = P·I) the Gram is XᵀMX with
M = wwᵀ + a²I and ⟨XᵀM0X, XᵀMtX⟩_F = tr(M0 XXᵀ Mt XXᵀ) = P²⟨M0, Mt⟩_F: the cosine (and S) is the same on the
d×d matrix M. With w aligned, M/a² = q·β̂β̂ᵀ + I with q = ν²/s², so
S = 1 − (q0qt + q0 + qt + d)/√((q0² + 2q0 + d)(qt² + 2qt + d)): a function of ν0, ν(t) and d only.
"""

from __future__ import annotations

import sympy as sp

from theory.law import Assumption, AssumptionError, Law

__all__ = ["lambda_mode", "lambda_nu0", "neuron_kernel_distance", "single_neuron_delta"]

t = sp.Symbol("t", nonnegative=True)
tau = sp.Symbol("tau", positive=True)
s = sp.Symbol("s", positive=True)
u0 = sp.Symbol("u0", positive=True)
lam = sp.Symbol("lam", real=True)
u_sym = sp.Symbol("u", positive=True)
u = sp.Function("u", positive=True)(t)
delta = sp.Symbol("delta", real=True)
nu0 = sp.Symbol("nu0", real=True)
nu_sym = sp.Symbol("nu", real=True)
nu = sp.Function("nu", real=True)(t)
d = sp.Symbol("d", positive=True, integer=True)


def _mobius(dd: sp.Expr, n0: sp.Expr) -> sp.Expr:
    """ν(t) of the Riccati law τν̇ = s² − dd·ν − ν² from ν(0) = n0, in the Möbius form real on both branches."""
    D = sp.sqrt(dd**2 + 4 * s**2)
    y0 = (dd + 2 * n0) / D
    T = sp.tanh(D * t / (2 * tau))
    return (-dd + D * (y0 + T) / (1 + y0 * T)) / 2


def lambda_nu0(lam_value: sp.Expr = lam, u0_value: sp.Expr = u0) -> sp.Expr:
    """ν0 = s·u0/b0² of the single neuron that carries a λ-mode from u0: s(√(λ² + 4u0²) − λ)/(2u0).

    >>> lambda_nu0(0, 1)
    s
    """
    return s * (sp.sqrt(lam_value**2 + 4 * u0_value**2) - lam_value) / (2 * u0_value)


_nu_solution = _mobius(delta, nu0)
_D = sp.sqrt(delta**2 + 4 * s**2)
_tanh_form = (-delta + _D * sp.tanh(_D * t / (2 * tau) + sp.atanh((delta + 2 * nu0) / _D))) / 2
_nu_lam = _mobius(lam, lambda_nu0())
_lambda_solution = lam * s * _nu_lam / (s**2 - _nu_lam**2)

_c = lam / 2
_E = sp.sqrt(s**2 + _c**2)


def _antiderivative(x: sp.Expr) -> sp.Expr:
    return sp.log((s * x + _c**2 + _E * sp.sqrt(x**2 + _c**2)) / sp.Abs(s - x)) / (2 * _E)


_lambda_time = tau * (_antiderivative(u_sym) - _antiderivative(u0))


def _check_lambda(u0: float, s: float) -> None:
    if not (u0 > 0):
        raise AssumptionError(
            f"lambda_mode: u0 = {u0} must be > 0 (u = 0 is a fixed point when λ = 0, and u < 0 lies past the "
            "saddle). Start from an aligned init with ab > 0."
        )
    if not (s > 0):
        raise AssumptionError(f"lambda_mode: s = {s} must be > 0 (a zero singular value is never learned).")


def _check_neuron(s: float, delta: float, nu0: float) -> None:
    if not (s > 0):
        raise AssumptionError(f"single_neuron_delta: s = ‖β*‖ = {s} must be > 0 (a zero target is never learned).")
    if delta == 0 and abs(abs(nu0) - s) > 1e-12 * s:
        raise AssumptionError(
            f"single_neuron_delta: δ = 0 forces a² = ‖w‖², so ν0 = ±s, got ν0 = {nu0}. Pass the ν0 of an "
            "initialisation with a² − ‖w‖² = δ (ν0 = s·ρ0/a0)."
        )


_WHITENED = Assumption("whitened", "Inputs are whitened: Σxx = I exactly.")
_FLOW = Assumption("gradient_flow", "Gradient flow τ dW/dt = −∂L/∂W; GD with step η matches to O(η), τ = 1/η.")
_LAMBDA = Assumption(
    "lambda_balanced", "b² − a² = λ at init (conserved by the flow; GD drifts it by O(η²) per step, LAWS.md §8)."
)
_ALIGNED = Assumption("aligned", "w(0) is parallel to β* (it stays so): ν = (w·β*)/a describes the whole state.")

lambda_mode = Law(
    name="lambda_mode",
    title="λ-balanced scalar mode: τ du/dt = √(λ² + 4u²)(s − u)",
    equation=sp.Eq(u.diff(t), sp.sqrt(lam**2 + 4 * u**2) * (s - u) / tau),
    solution=sp.Eq(u, _lambda_solution),
    symbols={"t": t, "tau": tau, "s": s, "u0": u0, "lam": lam, "u": u_sym},
    assumptions=(
        _WHITENED,
        _LAMBDA,
        _FLOW,
        Assumption("positive_strength", "u0 > 0 and s > 0.", check=_check_lambda),
    ),
    regime=(
        "exact under gradient flow (λ ≠ 0 in the solution, which is 0/0 at λ = 0: there the limit is "
        "logistic_mode's solution); GD matches to O(η). |λ| ≫ s: lazy (u relaxes at rate ≈ |λ|); λ → 0: rich "
        "(logistic, sigmoidal)"
    ),
    source=(
        "Dominé et al., ICLR 2025 (arXiv:2409.14623); Saxe et al. 2014 App. A; the solution through the "
        "single-neuron Riccati law and t(u) derived here"
    ),
    domain={
        "t": (0.0, 8.0),
        "tau": (0.5, 2.0),
        "s": (0.2, 3.0),
        "u0": (1e-3, 0.5),
        "lam": (-3.0, 4.0),  # asymmetric: the midpoint must not be λ = 0, where the solution is 0/0
        "u": (0.01, 3.0),
    },
    derived={"time": _lambda_time, "nu0": lambda_nu0()},
)

single_neuron_delta = Law(
    name="single_neuron_delta",
    title="Single neuron f = a·wᵀx with conserved δ = a² − ‖w‖²: ν(t) = (w·β*)/a",
    equation=sp.Eq(nu.diff(t), (s**2 - delta * nu - nu**2) / tau),
    solution=sp.Eq(nu, _nu_solution),
    symbols={"t": t, "tau": tau, "s": s, "delta": delta, "nu0": nu0, "nu": nu_sym},
    assumptions=(
        _WHITENED,
        _ALIGNED,
        _FLOW,
        Assumption("target", "s = ‖β*‖ > 0; at δ = 0, ν0 = ±s.", check=_check_neuron),
    ),
    regime=(
        "exact under gradient flow for w(0) ∥ β*, all ν0 (tanh branch for |δ + 2ν0| < D, coth beyond, one Möbius "
        "form); for δ + 2ν0 < −D, ν diverges at a finite time (a crosses 0). The balanced case "
        "ν = s·tanh(st/τ + artanh(ν0/s)) is the symbolic reduction at δ = 0, not a trajectory (δ = 0 forces ν ≡ ±s)"
    ),
    source="Kunin et al., NeurIPS 2024 (arXiv:2406.06158), single-neuron solution; Riccati/Möbius form derived here",
    domain={"t": (0.0, 6.0), "tau": (0.5, 2.0), "s": (0.2, 3.0), "delta": (-3.0, 3.0), "nu0": (0.0, 2.0)},
    derived={
        "tanh_form": _tanh_form,
        "balanced": s * sp.tanh(s * t / tau + sp.atanh(nu0 / s)),
        "u_of_nu": delta * s * nu_sym / (s**2 - nu_sym**2),
    },
)


def neuron_kernel_distance(
    nu0_value: sp.Expr, nu_value: sp.Expr, s_value: sp.Expr = s, d_value: sp.Expr = d
) -> sp.Expr:
    """S = 1 − cos(K0, Kt) of the single neuron's NTK (module docstring), from q = ν²/s².

    >>> neuron_kernel_distance(1, 1, 1, 3)
    0
    """
    q0, qt = nu0_value**2 / s_value**2, nu_value**2 / s_value**2
    num = q0 * qt + q0 + qt + d_value
    return 1 - num / sp.sqrt((q0**2 + 2 * q0 + d_value) * (qt**2 + 2 * qt + d_value))
