"""Single-mode dynamics of deep linear networks (Saxe, McClelland & Ganguli, ICLR 2014, eqs. 8-17).

With whitened inputs (Σxx = I), an initialisation aligned with the SVD of Σyx (decoupled) and balanced
layers, every singular mode evolves on its own. For a two-layer network the mode strength u = ab obeys
the logistic law (LAWS.md §1.1)

    τ du/dt = 2u(s − u),      u(t) = s e^{2st/τ} / (e^{2st/τ} − 1 + s/u0),

and for N weight matrices with balanced scalars a_i = a, u = a^N (LAWS.md §1.3)

    τ du/dt = N u^{2−2/N} (s − u).

All formulas are in t/τ with τ = 1/η for gradient descent (LAWS.md §0): GD matches them to O(η), with
max |u_GD − u| ≈ 0.74·η·s² for the logistic law.
"""

from __future__ import annotations

import sympy as sp

from theory.law import Assumption, AssumptionError, Law

__all__ = ["depth_mode", "depth_mode_solution", "depth_mode_time", "logistic_mode"]

t = sp.Symbol("t", nonnegative=True)
tau = sp.Symbol("tau", positive=True)
s = sp.Symbol("s", positive=True)
u0 = sp.Symbol("u0", positive=True)
uf = sp.Symbol("uf", positive=True)
N = sp.Symbol("N", positive=True, integer=True)
u_sym = sp.Symbol("u", positive=True)
u = sp.Function("u", positive=True)(t)


def _check_strength(u0: float, s: float) -> None:
    if not (u0 > 0):
        raise AssumptionError(
            f"mode law: initial strength u0 = {u0} must be > 0 (u = 0 is a fixed point; a negative u0 lies "
            "on the other side of the saddle). Start from a small positive aligned initialisation."
        )
    if not (s > 0):
        raise AssumptionError(f"mode law: singular value s = {s} must be > 0 (a zero mode is never learned).")


_WHITENED = Assumption("whitened", "Inputs are whitened: Σxx = I exactly.")
_DECOUPLED = Assumption(
    "decoupled", "Weights are aligned with the SVD of Σyx (W1 = R D_a Vᵀ, W2 = U D_b Rᵀ), so modes evolve separately."
)
_BALANCED = Assumption("balanced", "Balanced scalars a = b (a_i = a_j for depth N); a² − b² is conserved by the flow.")
_FLOW = Assumption("gradient_flow", "Gradient flow τ dW/dt = −∂L/∂W; GD with step η matches to O(η), τ = 1/η.")
_POSITIVE = Assumption("positive_strength", "0 < u0 and s > 0.", check=_check_strength)

_logistic_solution = s * sp.exp(2 * s * t / tau) / (sp.exp(2 * s * t / tau) - 1 + s / u0)
_learning_time = tau / (2 * s) * sp.log(uf * (s - u0) / (u0 * (s - uf)))

logistic_mode = Law(
    name="logistic_mode",
    title="Logistic learning of one mode in a two-layer linear network",
    equation=sp.Eq(u.diff(t), 2 * u * (s - u) / tau),
    solution=sp.Eq(u, _logistic_solution),
    symbols={"t": t, "tau": tau, "s": s, "u0": u0, "uf": uf, "u": u_sym},
    assumptions=(_WHITENED, _DECOUPLED, _BALANCED, _FLOW, _POSITIVE),
    regime=(
        "exact under gradient flow for decoupled balanced initialisations; for GD, O(η) with "
        "max|u_GD − u| ≈ 0.74·η·s²; for random small initialisations only approximate (Saxe Fig. 3)"
    ),
    source="Saxe, McClelland & Ganguli, ICLR 2014 (arXiv:1312.6120), eqs. 8-12",
    domain={"t": (0.0, 10.0), "tau": (0.5, 2.0), "s": (0.2, 4.0), "u0": (1e-4, 0.1), "u": (0.01, 3.0)},
    derived={
        # time to go from u0 to uf (0 < u0 < uf < s), Saxe eq. 10
        "learning_time": _learning_time,
        # time until u = s/2: (τ/2s) ln(s/u0 − 1); the "(τ/2s) ln(s/ε)" of the paper is its small-u0 form
        "half_time": tau / (2 * s) * sp.log(s / u0 - 1),
    },
)

# -- depth N ------------------------------------------------------------------------------------------------


def _depth_rhs(n: sp.Expr, uu: sp.Expr) -> sp.Expr:
    return n * uu ** (2 - 2 / n) * (s - uu) / tau


def depth_mode_time(n: int) -> sp.Expr:
    """Closed form t(u) − t(u0): the time for a depth-n balanced mode to grow from u0 to uf.

    N = 1 and 2 are elementary; N = 3 uses the derived logarithm/arctangent antiderivative (LAWS.md §1.3);
    every other N ≥ 3 uses the hypergeometric antiderivative (τ/N) s^{−(2−2/N)} x^b/b ₂F₁(1, b; b+1; x),
    x = u/s, b = 2/N − 1, whose derivative is exactly 1/(N u^{2−2/N}(s − u)/τ).

    >>> depth_mode_time(2).equals(logistic_mode.derived["learning_time"])
    True
    """
    n = _check_depth(n)
    if n == 1:
        return tau * sp.log((s - u0) / (s - uf))
    if n == 2:
        return _learning_time
    if n == 3:
        c = sp.cbrt(s)

        def g(v: sp.Expr) -> sp.Expr:
            return (
                -1 / (s * v)
                + (
                    -sp.log(c - v) / (3 * c)
                    + sp.log(v**2 + c * v + c**2) / (6 * c)
                    - sp.atan((2 * v + c) / (sp.sqrt(3) * c)) / (sp.sqrt(3) * c)
                )
                / s
            )

        return tau * (g(sp.cbrt(uf)) - g(sp.cbrt(u0)))
    b = sp.Rational(2, n) - 1

    def h(uu: sp.Expr) -> sp.Expr:
        x = uu / s
        return tau / n * s ** (-(2 - sp.Rational(2, n))) * x**b / b * sp.hyper([1, b], [b + 1], x)

    return h(uf) - h(u0)


def depth_mode_solution(n: int) -> sp.Expr | None:
    """Explicit u(t) where one exists in elementary functions (N = 1, 2); None otherwise (t(u) is implicit)."""
    n = _check_depth(n)
    if n == 1:
        return s + (u0 - s) * sp.exp(-t / tau)
    if n == 2:
        return _logistic_solution
    return None


def _check_depth(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"depth N must be an integer ≥ 1 (number of weight matrices), got {n!r}")
    return n


depth_mode = Law(
    name="depth_mode",
    title="Balanced depth-N mode dynamics of a deep linear network",
    equation=sp.Eq(u.diff(t), _depth_rhs(N, u)),
    symbols={"t": t, "tau": tau, "s": s, "u0": u0, "uf": uf, "u": u_sym, "N": N},
    assumptions=(_WHITENED, _DECOUPLED, _BALANCED, _FLOW, _POSITIVE),
    regime=(
        "exact under gradient flow for decoupled balanced initialisations of N weight matrices; GD is O(η) "
        "(max|u_GD − u| = 2.0e-2 at η = 0.01 for N = 3, s = 2, u0 = 0.05). For N ≥ 3 the small-init learning "
        "time grows as a power u0^{−(N−2)/N}, not logarithmically"
    ),
    source="Saxe, McClelland & Ganguli, ICLR 2014 (arXiv:1312.6120), eqs. 13-17; t(u) for N ≥ 3 derived (LAWS.md §1.3)",
    domain={"t": (0.0, 10.0), "tau": (0.5, 2.0), "s": (0.2, 4.0), "u0": (1e-3, 0.1), "u": (0.01, 3.0), "N": (1, 6)},
    derived={f"time_N{n}": depth_mode_time(n) for n in (1, 2, 3, 4)},
)
