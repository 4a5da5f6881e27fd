"""Sparse rational regression: the simplest ratios of polynomials P(x)/Q(x) that fit a target, without a search.

Many laws are rational functions of their variables, or become one after a transform of the target
(exp(−4·s·t_peak) = (a1a2 − b0²)/(a1a2 − b0² + s(s − a1 − a2)) for the coupling peak time). A rational function
is linear in its coefficients once multiplied out, z·Q(x) − P(x) = 0, so the coefficients of P and Q (monomials of
total degree ≤ d) are the right singular vector of the smallest singular value of the matrix A = [M, −z·M], M the
monomials evaluated on the rows (the Levy / linearised least-squares fit; its columns scaled to unit norm for
conditioning). On noise-free data whose target is such a ratio that singular value is at round-off.

**Sparsity.** The full fit has 2·C(n + d, d) coefficients (30 for 4 features at degree 2), almost all of them spurious
round-off. A path of sparser supports is built by backward elimination, as SINDy's sequential thresholding does for
polynomials: drop the term with the smallest scaled coefficient, refit, repeat down to one term in P and one in Q.
Every support on the path gives a candidate P/Q; its true residual (of P/Q, not of the linearised system) is
measured, and the candidates that are Pareto-optimal in (number of terms, residual) are returned, with float
coefficients for `discover.snapping` to make exact.

**Cost.** One SVD of a rows × (2·C(n + d, d)) matrix per step, as many steps as terms: 30 SVDs of 225 × 30 for the
coupling problem, a few milliseconds. Degree 3 is used too when the rows are at least four times its unknowns.

>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(0.5, 2.0, (200, 2))
>>> z = (X[:, 0] + 2 * X[:, 1]) / (1 + X[:, 0] * X[:, 1])
>>> found = sparse_rational(X, z, ["x", "y"])
>>> from discover.snapping import snap
>>> sp.simplify(snap(found[-1], X, z, ["x", "y"]))
(x + 2*y)/(x*y + 1)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import sympy as sp

from discover.backends.base import feature_symbols

__all__ = ["MAX_DEGREE", "monomials", "power_law", "sparse_rational"]

MAX_DEGREE = 3
# Rows per unknown below which a degree is not tried (a fit with as many unknowns as rows fits anything).
_ROWS_PER_UNKNOWN = 4


def monomials(X: np.ndarray, degree: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Every monomial of total degree ≤ ``degree`` in the columns of X, constant first, in a fixed order: their
    exponent tuples and their values (rows × monomials, each a product of columns). Shared with the transform
    screen (`discover.transforms`).

    >>> monomials(np.array([[2.0, 3.0]]), 2)
    ([(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)], array([[1., 2., 3., 4., 6., 9.]]))
    """
    n = X.shape[1]
    exponents: list[tuple[int, ...]] = []
    columns = []
    for total in range(degree + 1):
        for combination in itertools.combinations_with_replacement(range(n), total):
            exponents.append(tuple(combination.count(i) for i in range(n)))
            columns.append(np.prod(X[:, combination], axis=1) if combination else np.ones(len(X)))
    return exponents, np.stack(columns, axis=1)


def sparse_rational(
    X: np.ndarray, z: np.ndarray, features: Sequence[str], *, degree: int | None = None
) -> list[sp.Expr]:
    """Rational-function candidates for ``z ≈ P(X)/Q(X)``, simplest first (see the module docstring).

    ``degree`` fixes the total degree of P and Q; None tries every degree up to `MAX_DEGREE` that the rows allow.
    Returns expressions in `discover.backends.base.feature_symbols(features)` with float coefficients; an empty list
    when no degree fits the number of rows.
    """
    X = np.asarray(X, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    if X.ndim != 2 or X.shape != (len(z), len(features)):
        raise ValueError(f"X must have shape (rows, {len(features)}) matching z of length {len(z)}; got {X.shape}")
    degrees = [degree] if degree is not None else list(range(1, MAX_DEGREE + 1))
    symbols = feature_symbols(features)
    found: list[tuple[int, float, sp.Expr]] = []
    for d in degrees:
        if len(z) < _ROWS_PER_UNKNOWN * 2 * math.comb(len(features) + d, d):
            continue
        with np.errstate(all="ignore"):
            exponents, M = monomials(X, d)
        found += _path(M, z, exponents, symbols)
    front: list[sp.Expr] = []
    best = math.inf
    for _terms, residual, expr in sorted(found, key=lambda item: (item[0], item[1])):
        if residual < best:
            front.append(expr)
            best = residual
    return front


def _path(
    M: np.ndarray, z: np.ndarray, exponents: list[tuple[int, ...]], symbols: Sequence[sp.Symbol]
) -> list[tuple[int, float, sp.Expr]]:
    """Backward elimination from the full support, on the monomials M: (number of terms, residual MSE of P/Q, P/Q)
    for each support."""
    if not np.all(np.isfinite(M)):
        return []
    A = np.column_stack([M, -z[:, None] * M])
    norms = np.linalg.norm(A, axis=0)
    usable = norms > 0
    m = len(exponents)
    active = np.flatnonzero(usable)
    out = []
    while active.size >= 2:
        in_p, in_q = active[active < m], active[active >= m]
        if in_p.size == 0 or in_q.size == 0:
            break
        scaled = A[:, active] / norms[active]
        _, _, vt = np.linalg.svd(scaled, full_matrices=False)
        v = vt[-1]
        coefficients = np.zeros(2 * m)
        coefficients[active] = v / norms[active]
        residual, expr = _candidate(coefficients, M, z, exponents, symbols)
        if expr is not None:
            out.append((int(active.size), residual, expr))
        # drop the term whose scaled coefficient is smallest, keeping at least one term in P and one in Q
        order = np.argsort(np.abs(v))
        for k in order:
            column = active[k]
            if (column < m and in_p.size > 1) or (column >= m and in_q.size > 1):
                active = np.delete(active, k)
                break
        else:
            break
    return out


def _candidate(
    coefficients: np.ndarray,
    M: np.ndarray,
    z: np.ndarray,
    exponents: list[tuple[int, ...]],
    symbols: Sequence[sp.Symbol],
) -> tuple[float, sp.Expr | None]:
    m = len(exponents)
    p, q = coefficients[:m], coefficients[m:]
    with np.errstate(all="ignore"):
        values = (M @ p) / (M @ q)
        residual = float(np.mean((values - z) ** 2))
    if not math.isfinite(residual):
        return math.inf, None
    # Divide by Q's largest coefficient: the ratio is unchanged, and the constants come out near simple numbers.
    scale = q[np.argmax(np.abs(q))]

    def polynomial(c: np.ndarray) -> sp.Expr:
        return sp.Add(
            *(
                sp.Float(float(value / scale)) * sp.Mul(*(s**k for s, k in zip(symbols, e, strict=True)))
                for value, e in zip(c, exponents, strict=True)
                if value != 0
            )
        )

    return residual, polynomial(p) / polynomial(q)


def power_law(X: np.ndarray, z: np.ndarray, features: Sequence[str]) -> list[sp.Expr]:
    """The monomial ``z ≈ c·Π x_j^a_j`` by least squares in log space, when it applies: every feature positive
    and z of one sign (otherwise ``[]``). Monomials are the commonest laws of physics (I.39.22 of the AI Feynman
    table, p = n·k_B·T/V, is one) and a rational fit needs a term of degree Σ|a_j|; this is one least-squares
    solve of rows × (features + 1). Exponents and the constant come back as floats for `discover.snapping`.

    >>> X = np.random.default_rng(0).uniform(1, 3, (50, 2))
    >>> from discover.snapping import snap
    >>> z = 3 * X[:, 0] ** 2 / X[:, 1] ** 0.5
    >>> snap(power_law(X, z, ["x", "y"])[0], X, z, ["x", "y"])
    3*x**2/sqrt(y)
    """
    X = np.asarray(X, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    sign = 1.0 if np.all(z > 0) else -1.0 if np.all(z < 0) else 0.0
    if sign == 0.0 or not np.all(X > 0) or len(z) <= X.shape[1] + 1:
        return []
    A = np.column_stack([np.ones(len(z)), np.log(X)])
    coefficients = np.linalg.lstsq(A, np.log(sign * z), rcond=None)[0]
    symbols = feature_symbols(features)
    monomial = sp.Mul(*(s ** sp.Float(float(a)) for s, a in zip(symbols, coefficients[1:], strict=True)))
    return [sp.Float(sign * math.exp(coefficients[0])) * monomial]
