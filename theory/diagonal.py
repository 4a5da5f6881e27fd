"""The implicit bias of the diagonal linear network (Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry &
Srebro, COLT 2020, arXiv:2002.09277): the scale of the initialisation moves the solution from ℓ2 to ℓ1.

Model w = u⊙u − v⊙v, u(0) = v(0) = α·1, gradient flow τ du/dt = −∂L/∂u, τ dv/dt = −∂L/∂v on the underdetermined
least squares L = (1/2n)‖Xw − y‖² (X ∈ R^{n×d}, n < d, full row rank), τ = 1/η for GD (LAWS.md §0).

Derivation (done here). With g = ∇_w L = Xᵀ(Xw − y)/n, ∂L/∂u = 2u⊙g and ∂L/∂v = −2v⊙g, so
u = α e^{−2G}, v = α e^{2G} with G(t) = ∫g dt/τ, and w = −2α² sinh(4G). G stays in the row space of X, so
w_i = 2α² sinh(β_i) with β = Xᵀμ for some μ ∈ R^n. If the flow converges to an interpolant (Xw = y), that point
satisfies the KKT conditions of

    min Q_α(w) subject to Xw = y,    Q_α(w) = α² Σ_i q(w_i/α²),   q(z) = 2 − √(4 + z²) + z·arcsinh(z/2),

because ∂Q_α/∂w_i = q′(w_i/α²) = arcsinh(w_i/(2α²)) = β_i ∈ range(Xᵀ); Q_α is strictly convex (q″(z) = 1/√(4 + z²)
> 0), so the interpolant is its unique minimiser. Limits: q(z) = z²/4 − z⁴/192 + … so Q_α ≈ ‖w‖²/(4α²) for
|w_i| ≪ α² (kernel regime, α → ∞); q(z) = |z| ln|z| − |z| + O(ln|z|), so Q_α/ln(1/α²) → ‖w‖₁ as α → 0 (rich).

`min_q_interpolant` solves the dual: w(μ) = 2α² sinh(Xᵀμ) with X w(μ) = y is the stationary point of the convex
φ(μ) = 2α² Σ cosh((Xᵀμ)_i) − yᵀμ, found by Newton's method with backtracking (Hessian 2α² X diag(cosh) Xᵀ ≻ 0).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.checks import as_regression
from theory.law import Assumption, Law

__all__ = ["diagonal_implicit_bias", "min_q_interpolant", "q_alpha"]

z = sp.Symbol("z", real=True)
alpha = sp.Symbol("alpha", positive=True)
w = sp.Symbol("w", real=True)
Q = sp.Symbol("Q", nonnegative=True)

_q = 2 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2)


def _matrix_inputs(X: object, y: object, alpha: float) -> tuple[np.ndarray, np.ndarray, float]:
    X, y = as_regression(X, y)
    n, d = X.shape
    if n >= d:
        raise ValueError(
            f"n = {n} ≥ d = {d}: the problem is not underdetermined, so there is no implicit bias to speak of"
        )
    if np.linalg.matrix_rank(X) < n:
        raise ValueError("X is not of full row rank: drop the dependent rows (Xw = y may have no solution)")
    if not (isinstance(alpha, (int, float, np.floating)) and np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number (the init scale), got {alpha!r}")
    return X, y, float(alpha)


def q_alpha(w: object, alpha: float) -> float:
    """Q_α(w) = α² Σ q(w_i/α²) (numpy).

    >>> round(q_alpha(np.array([1e-3]), 1.0) / (1e-6 / 4), 6)  # kernel limit: ≈ ‖w‖²/(4α²)
    1.0
    """
    x = np.asarray(w, dtype=np.float64) / alpha**2
    return float(alpha**2 * np.sum(2 - np.sqrt(4 + x**2) + x * np.arcsinh(x / 2)))


def min_q_interpolant(X: object, y: object, alpha: float, *, tol: float = 1e-12, max_iter: int = 200) -> np.ndarray:
    """argmin Q_α(w) subject to Xw = y, by Newton's method on the dual (module docstring), to a residual
    ‖Xw − y‖ ≤ tol·max(1, ‖y‖); raises RuntimeError if that is not reached.

    >>> X = np.array([[1.0, 1.0]])
    >>> min_q_interpolant(X, np.array([2.0]), 1.0).round(12).tolist()  # symmetric: the two coordinates share y
    [1.0, 1.0]
    """
    X, y, a = _matrix_inputs(X, y, alpha)
    mu = np.zeros(X.shape[0])
    scale = max(1.0, float(np.linalg.norm(y)))

    def phi(m: np.ndarray) -> float:
        return float(2 * a**2 * np.sum(np.cosh(X.T @ m)) - y @ m)

    for _ in range(max_iter):
        beta = X.T @ mu
        w = 2 * a**2 * np.sinh(beta)
        residual = X @ w - y
        if np.linalg.norm(residual) <= tol * scale:
            return w
        hessian = 2 * a**2 * (X * np.cosh(beta)) @ X.T
        step = np.linalg.solve(hessian, -residual)
        value, slope, t, size = phi(mu), float(residual @ step), 1.0, float(np.linalg.norm(residual))
        # Armijo backtracking on φ; near the solution φ's decrease falls below its round-off (φ is a sum of terms
        # up to 2α²cosh(β) ≫ its change), so a step that shrinks the residual enough is accepted as well
        with np.errstate(over="ignore", invalid="ignore"):  # a step too long overflows cosh: inf fails the test
            accepted = False
            while t > 1e-12 and not accepted:
                trial = mu + t * step
                accepted = phi(trial) <= value + 0.25 * t * slope or (
                    np.linalg.norm(X @ (2 * a**2 * np.sinh(X.T @ trial)) - y) <= (1 - 0.25 * t) * size
                )
                if not accepted:
                    t /= 2
        mu = mu + t * step
    raise RuntimeError(f"min_q_interpolant: Newton did not reach ‖Xw − y‖ ≤ {tol:g} in {max_iter} iterations")


diagonal_implicit_bias = Law(
    name="diagonal_implicit_bias",
    title="Diagonal linear networks converge to the minimiser of Q_α: ℓ2 at large init, ℓ1 at small",
    equation=sp.Eq(Q, alpha**2 * _q.subs(z, w / alpha**2)),
    symbols={"z": z, "alpha": alpha, "w": w, "Q": Q},
    assumptions=(
        Assumption("underdetermined", "X ∈ R^{n×d} of full row rank n < d, squared loss, y in the range of X."),
        Assumption("init", "u(0) = v(0) = α·1 (so w(0) = 0), w = u⊙u − v⊙v."),
        Assumption("gradient_flow", "Gradient flow run to convergence; GD with step η converges to a point O(η) away."),
    ),
    regime=(
        "exact for gradient flow that converges to an interpolant; GD's limit differs by O(η) (fitted order in "
        "`verify.suite.diagonal`); for each coordinate the summand is α²q(w_i/α²)"
    ),
    source="Woodworth et al., COLT 2020 (arXiv:2002.09277), Theorem 1; mirror-flow derivation redone here",
    domain={"z": (-20.0, 20.0), "alpha": (0.03, 3.0), "w": (-3.0, 3.0)},
    derived={"q": _q, "q_prime": sp.asinh(z / 2)},
)
