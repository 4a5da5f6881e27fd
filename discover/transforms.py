"""Search the target in a transformed space, and map every candidate back to the original target exactly.

Many closed forms are not built from + − × ÷ but become so after one invertible change of the target. The peak
time of the coupling, t = log(1 + s(s − a1 − a2)/(a1a2 − b0²))/(4s), is exp(4·t·s) = 1 + s(s − a1 − a2)/(a1a2 − b0²)
— a rational function of degree 2. A `TargetTransform` is such a change z = T(y): its ``values`` on the rows are
the table's new target, and ``inverse(g)`` turns a candidate g(features) for z into the exact SymPy expression
for y (log y → exp(g), 1/y → 1/g, y·x_j → g/x_j, exp(k·y·s) → log(g)/(k·s), …).

`target_transforms` builds the offered transforms (identity, log|y|, 1/y, y², y·x_j, y/x_j and exp(k·w) with k
fitted, for w = y, y·x_j, y/x_j), each composed of at most two steps; `rank_transforms` orders them by `screen`,
a cheap score: how well the best low-degree rational function of the features fits the transformed target.
A transform that is not applicable (a log of a target that changes sign, a ratio by a feature with zeros, a product
that units forbid) is *not offered*, and the reason is recorded in ``skipped``: nothing is refused silently.

`derived_features` offers, where units are given, the ratios and products of features that are dimensionless or
share the units of another feature (a search in them is mapped back by `substitute`).

**The screen.** ``screen(X, z)`` is the relative residual of the rational function P(x)/Q(x), with P and Q
polynomials of total degree ≤ ``degree`` (2 by default) in the features, that best fits z on the rows:
``mean(ρ²(z − P/Q)²) / mean(ρ²(z − c)²)``, the weighted MSE over the weighted variance (c the best constant, so a
constant fit scores 1). The row weights ρ = 1/max(|z|, median |z|) measure a row above the median relative to its
own size and a row below it relative to the median. With ρ = 1 this is MSE/var(z), but exp(k·w) spans up to 26
orders of magnitude, and plain MSE/var(z) is then the error on its few largest rows: measured on the peak-time
table, wrong transforms such as exp(6·t) and exp(−0.00027·t/b0) scored 4e-12 and 2e-15 that way; with ρ no wrong
transform scores below 2e-5 there (10 seeds).

The fit is linearised least squares (Sanathanan–Koerner): minimise ‖ω∘(z·Q − P)‖ with ω = ρ at first, then
ω = ρ/|Q_prev|, so the linearised residual approaches the actual one; `SCREEN_ITERATIONS` passes. Each pass is a
variable projection: for a given Q the best P is the projection of ω·z·Q onto ω·(polynomials), so Q's
coefficients, normalised to 1, are the smallest right singular vector of (I − Π)·ω·z·M (M the monomials) and P
follows. Each pass's *actual* residual of P/Q is scored, and the polynomial fit (Q = 1) too; the score is the
smallest, an honest upper bound on how well such a rational function fits. The features are divided by their rms
before the monomials are built, and monomials that coincide (a constant or repeated feature) are dropped (pivoted
QR), for conditioning. On noise-free data whose transformed target *is* such a rational function the score is at
round-off (1e-30 to 1e-12); otherwise it is the relative error of the best rational approximation. The denominator
is floored at (2⁻²³)²·mean(ρ²z²): a spread of z below float32 resolution is invisible to Operon's float32 search,
and a target constant up to round-off (y·x_j for y = c/x_j) then scores at round-off, as it should.

Cost: per pass, a QR of the rows × C(n + degree, degree) weighted monomials and one of the projected matrix of the
same size, and an SVD of its C × C factor, C = 21 for 5 features at degree 2 (the joint problem in (P, Q) would be
rows × 2C). ``screen`` needs rows ≥ 4·C (twice the 2C coefficients), else a fit cannot be told from interpolation.

**Fitting k** in exp(k·w): k minimises the screen of exp(k·w) over both signs and over |k|·max|w| in
[`EXP_MIN_ARGUMENT`, `EXP_MAX_ARGUMENT`] = [0.1, 30]: below, exp(k·w) ≈ 1 + k·w + (k·w)²/2 is barely more than w;
above, exp(k·w) leaves [e⁻³⁰, e³⁰] ≈ [1e-13, 1e13], inside the float32 range of `discover.checks` with room for a
product. The search is a grid of `K_GRID` points per sign in log|k| and a bounded Brent refinement between the best
point's neighbours, with `_SEARCH_ITERATIONS` passes per screen and on 3·2C rows spread evenly over the order of w
(tails kept); the chosen k is then screened on every row. Then k is snapped by the rule of `discover.snapping`: the
nearest integer, else the nearest rational p/q with q ≤ 12, is used when its score ≤ 1.05·(the fitted score) +
floor. The floor is float64 rounding, (8·2⁻⁵²)² relative, not float32's: the rational family absorbs a small error
in k, so that for a true k = 2.71 the nearest rational 19/7 scored 9e-12, below the float32 floor there (1.2e-11),
and yet is wrong. Since exp(−k·w) = 1/exp(k·w) is rational when exp(k·w) is, a negative k is replaced by −k when that
scores within a factor 4 (`_SIGN_FACTOR`): the two are the same law, but the screen normalises them differently.
The fitted value is kept in the step (``k_fitted``).

Measured (300 rows, 2 shared cores, CPU time): `target_transforms` + `rank_transforms` take 0.24 s for the four
features of the peak time and 0.34 s for five; exp(4·s·t) ranks first with k = 4 in 10 of 10 seeds of the
problem's domain, at 4e-30 to 6e-28, the runner-up at 2e-5 to 4e-3.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Generic, TypeVar, overload

import numpy as np
import scipy.linalg
import sympy as sp
from scipy.optimize import minimize_scalar

from discover.backends.base import feature_symbols
from discover.checks import MAX_MAGNITUDE, MIN_MAGNITUDE
from discover.rational import monomials
from discover.snapping import DEFAULT_MAX_DENOMINATOR, DEFAULT_REL_FACTOR, FLOAT32_ULPS, evaluate
from discover.units import Dimension, check_units

__all__ = [
    "DEFAULT_DEGREE",
    "EXP_MAX_ARGUMENT",
    "EXP_MIN_ARGUMENT",
    "K_GRID",
    "SCREEN_ITERATIONS",
    "TIE_SCORE",
    "DerivedFeature",
    "Offered",
    "TargetTransform",
    "TransformStep",
    "derived_features",
    "min_screen_rows",
    "rank_transforms",
    "screen",
    "substitute",
    "target_transforms",
]

DEFAULT_DEGREE = 2
SCREEN_ITERATIONS = 4
EXP_MIN_ARGUMENT = 0.1
EXP_MAX_ARGUMENT = 30.0
K_GRID = 10
# A Sanathanan–Koerner pass with fewer iterations for the many screens of the k search; the result is re-screened.
_SEARCH_ITERATIONS = 3
_SEARCH_ROWS_PER_UNKNOWN = 3
# The screen's denominator var(z) is floored at (2⁻²³·rms z)²: float32 resolution (module docstring).
_FLOAT32_UNIT_ROUNDOFF = 2.0**-23
_FLOAT64_UNIT_ROUNDOFF = 2.0**-52
# Screen scores at or below this tie in `rank_transforms`: a relative rms error under float32's unit roundoff 2⁻²³
# is below what Operon's float32 fit resolves. Measured: exact cases score 4e-30 to 6e-28 (peak time, 10 seeds), a
# target constant up to float64 rounding ≈ (2⁻⁵²/2⁻²³)² ≈ 3e-18 (the var(z) floor); exp(k·y·x1) for a true k = 2.71
# scores 7e-31 at 2.71, 5e-21 at k off by 4e-8 relative, 9e-12 at 19/7; wrong transforms of the peak time ≥ 2e-5.
TIE_SCORE = _FLOAT32_UNIT_ROUNDOFF**2
# The k search stops when the bracket in ln|k| is this narrow: snapping needs k to a few digits, a k that is not
# exact is then good to ≈ 1e-8 relative, below float32 resolution.
_K_XATOL = 1e-8
_MAX_STEPS = 2
# exp(k·w) and exp(−k·w) = 1/exp(k·w) fit alike but are normalised differently by the screen: on the peak-time
# table with relative noise 1e-8 … 1e-2 on t, exp(4·s·t) scored 2.2–2.7 times exp(−4·s·t). Within this factor
# the positive k is kept.
_SIGN_FACTOR = 4.0
# A monomial whose pivoted-QR diagonal is below this fraction of the largest is a combination of the others.
_RANK_TOLERANCE = 1e-10

T = TypeVar("T")


class Offered(Sequence[T], Generic[T]):
    """What a builder offers (a read-only sequence) and, in ``skipped``, what it left out: (name, reason) pairs.

    >>> offered = Offered(["a"], [("b", "not applicable")])
    >>> list(offered), offered.skipped
    (['a'], (('b', 'not applicable'),))
    """

    def __init__(self, items: Iterable[T], skipped: Iterable[tuple[str, str]] = ()) -> None:
        self._items: tuple[T, ...] = tuple(items)
        self.skipped: tuple[tuple[str, str], ...] = tuple(skipped)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"Offered({list(self._items)!r}, skipped={list(self.skipped)!r})"


# -- steps and transforms ------------------------------------------------------------------------------------

_KINDS = ("log", "reciprocal", "square", "times", "divide", "exp")


@dataclass(frozen=True)
class TransformStep:
    """One invertible step z = f(w) of a target transform.

    ``kind`` is one of ``log`` (z = log(sign·w)), ``reciprocal`` (1/w), ``square`` (w², inverted with the constant
    ``sign`` of w), ``times``/``divide`` (w·x, w/x for the feature named ``feature``) and ``exp`` (exp(k·w), with
    ``k`` exact or a Float, and ``k_fitted`` the value the search found before snapping).

    >>> g, w = sp.symbols("g w")
    >>> step = TransformStep("exp", k=sp.Integer(4))
    >>> step.forward(w), step.inverse(g)
    (exp(4*w), log(g)/4)
    """

    kind: str
    sign: int = 1
    feature: str | None = None
    k: sp.Expr | None = None
    k_fitted: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown transform step {self.kind!r}; known: {_KINDS}")
        if self.sign not in (1, -1):
            raise ValueError(f"sign must be 1 or -1, got {self.sign!r}")
        if (self.kind in ("times", "divide")) != (self.feature is not None):
            raise ValueError(f"a {self.kind!r} step {'needs' if self.feature is None else 'takes no'} feature")
        if self.kind == "exp":
            if not isinstance(self.k, sp.Expr) or not self.k.is_number or self.k.is_zero or not self.k.is_real:
                raise ValueError(f"an exp step needs a real nonzero SymPy number k, got {self.k!r}")
        elif self.k is not None:
            raise ValueError(f"a {self.kind!r} step takes no k")

    def _x(self) -> sp.Symbol:
        return feature_symbols([self.feature])[0]  # type: ignore[list-item]

    def forward(self, w: sp.Expr) -> sp.Expr:
        """z = f(w) as an expression."""
        if self.kind == "log":
            return sp.log(self.sign * w)
        if self.kind == "reciprocal":
            return 1 / w
        if self.kind == "square":
            return w**2
        if self.kind == "times":
            return w * self._x()
        if self.kind == "divide":
            return w / self._x()
        return sp.exp(self.k * w)

    def inverse(self, z: sp.Expr) -> sp.Expr:
        """w = f⁻¹(z) as an expression (on the branch the data lie on)."""
        if self.kind == "log":
            return self.sign * sp.exp(z)
        if self.kind == "reciprocal":
            return 1 / z
        if self.kind == "square":
            return self.sign * sp.sqrt(z)
        if self.kind == "times":
            return z / self._x()
        if self.kind == "divide":
            return z * self._x()
        return sp.log(z) / self.k


@dataclass(frozen=True)
class TargetTransform:
    """A change of target z = T(y), composed of at most two `TransformStep` records, with its values on the rows.

    ``name`` is T written in the target's name (``"exp(4*s*t)"``); ``values`` the transformed target, float64,
    finite on every row, read-only; ``inverse(g)`` the exact expression for y given a candidate g for z, and
    ``forward(y)`` the transform as an expression (``forward(inverse(g)) == g`` on the data's branch).

    >>> y = np.array([1.0, 2.0, 4.0]); X = np.array([[1.0], [2.0], [3.0]])
    >>> T = TargetTransform.build((TransformStep("times", feature="x"),), X, y, ["x"], "y")
    >>> T.name, T.values, T.inverse(sp.Symbol("x", real=True) ** 2)
    ('x*y', array([ 1.,  4., 12.]), x)
    """

    name: str
    values: np.ndarray = field(compare=False, repr=False)
    steps: tuple[TransformStep, ...] = ()
    target: str = "y"

    def __post_init__(self) -> None:
        if len(self.steps) > _MAX_STEPS:
            raise ValueError(f"a target transform composes at most {_MAX_STEPS} steps, got {len(self.steps)}")
        values = np.array(self.values, dtype=np.float64)
        if values.ndim != 1 or not np.all(np.isfinite(values)):
            raise ValueError(f"the values of transform {self.name!r} must be a finite 1-D array")
        values.flags.writeable = False
        object.__setattr__(self, "values", values)

    @classmethod
    def build(
        cls, steps: Sequence[TransformStep], X: np.ndarray, y: np.ndarray, features: Sequence[str], target: str
    ) -> TargetTransform:
        """The transform of these steps, its values computed from its forward expression on the table."""
        name, values = _forward_values(tuple(steps), X, y, features, target)
        return cls(name=name, values=values, steps=tuple(steps), target=target)

    @property
    def k(self) -> sp.Expr | None:
        """The k of an exp(k·w) step (exact when snapped), or None."""
        return next((step.k for step in self.steps if step.kind == "exp"), None)

    def forward(self, y: sp.Expr) -> sp.Expr:
        """The transformed target as an expression in ``y`` (a symbol or any expression)."""
        for step in self.steps:
            y = step.forward(y)
        return y

    def inverse(self, expr: sp.Expr) -> sp.Expr:
        """The exact expression for the original target given a candidate ``expr`` for the transformed one."""
        for step in reversed(self.steps):
            expr = step.inverse(expr)
        return expr


def _forward_values(
    steps: tuple[TransformStep, ...], X: np.ndarray, y: np.ndarray, features: Sequence[str], target: str
) -> tuple[str, np.ndarray]:
    """The name of the transform of these steps and its values on the table (NaN or inf where it does not exist),
    both from one forward expression, so that the name, ``forward`` and ``values`` cannot disagree."""
    expression: sp.Expr = sp.Symbol(target, real=True)
    for step in steps:
        expression = step.forward(expression)
    columns = {**dict(zip(features, np.asarray(X, dtype=np.float64).T, strict=True)), target: y}
    with np.errstate(all="ignore"):
        values = np.asarray(evaluate(expression, columns), dtype=np.float64)
    return str(expression), np.array(np.broadcast_to(values, np.shape(y)))


# -- the screen ----------------------------------------------------------------------------------------------


def _monomials(X: np.ndarray, degree: int) -> np.ndarray:
    """Every monomial of total degree ≤ ``degree`` in the columns of X (constant first): `discover.rational.monomials`."""
    return monomials(X, degree)[1]


def min_screen_rows(features: int, degree: int = DEFAULT_DEGREE) -> int:
    """The fewest rows `screen` accepts: twice its 2·C(n + degree, degree) coefficients (P and Q), so that a fit
    is not an interpolation (with fewer rows than coefficients every z would score 0).

    >>> min_screen_rows(4), min_screen_rows(5), min_screen_rows(3, degree=1)
    (60, 84, 16)
    """
    return 4 * math.comb(features + degree, degree)


class _Screen:
    """The monomials of one feature table, built once and reused for every target screened on it."""

    def __init__(self, X: np.ndarray, degree: int) -> None:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or not np.all(np.isfinite(X)):
            raise ValueError(f"X must be a finite 2-D array (rows, features), got shape {X.shape}")
        if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
            raise ValueError(f"degree must be a positive integer, got {degree!r}")
        rms = np.sqrt(np.mean(X**2, axis=0))
        M = _monomials(X / np.where(rms > 0, rms, 1.0), degree)
        needed = min_screen_rows(X.shape[1], degree)
        if len(X) < needed:
            raise ValueError(
                f"the screen fits {2 * M.shape[1]} coefficients (P and Q of degree {degree} in {X.shape[1]} features) "
                f"and needs at least {needed} rows to tell a fit from interpolation, got {len(X)}: "
                "use a smaller degree or more rows"
            )
        # Keep a linearly independent set of monomials (a constant or repeated feature makes some coincide), so
        # that the projection below is onto polynomials exactly: pivoted QR, dropping columns at round-off.
        R, pivots = scipy.linalg.qr(M, mode="r", pivoting=True)
        diagonal = np.abs(np.diag(R))
        keep = np.sort(pivots[: int(np.count_nonzero(diagonal > _RANK_TOLERANCE * diagonal[0]))])
        self.M = M[:, keep]

    def __call__(self, z: np.ndarray, iterations: int = SCREEN_ITERATIONS) -> float:
        return self.score_and_floor(z, iterations)[0]

    def score_and_floor(self, z: np.ndarray, iterations: int = SCREEN_ITERATIONS) -> tuple[float, float]:
        """The score, and the float64 rounding floor on the same scale: (`discover.snapping.FLOAT32_ULPS` ulp of
        float64 on every row)² over the score's denominator (module docstring, "Fitting k")."""
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (len(self.M),):
            raise ValueError(f"z must have one value per row ({len(self.M)}), got shape {z.shape}")
        if not np.all(np.isfinite(z)):
            return math.inf, 0.0
        rms = math.sqrt(float(np.mean(z**2)))
        if rms == 0:
            return 0.0, 0.0  # z ≡ 0: a polynomial
        z = z / rms
        # Row scales (module docstring): a row above the median |z| is measured relative to its own size, one
        # below it relative to the median, so a heavy tail cannot make the score that of a few rows.
        median = float(np.median(np.abs(z)))
        row = 1.0 / np.maximum(np.abs(z), median if median > 0 else 1.0)
        rz = row * z
        centre = float(np.sum(row * rz) / np.sum(row**2))  # the best constant in the weighted norm
        denominator = max(float(np.mean((rz - row * centre) ** 2)), _FLOAT32_UNIT_ROUNDOFF**2 * float(np.mean(rz**2)))
        M = self.M
        # Sanathanan–Koerner by variable projection: for weights ω and a given Q = M·q, the best P = M·p in
        # ‖ω(z·Q − P)‖ is a projection, so q is the smallest right singular vector of (I − Π_ωM)·ω·z·M — half
        # the columns of the joint problem in (p, q), and P then follows by the same projection.
        weights = row
        best = math.inf
        for iteration in range(iterations + 1):
            U = np.linalg.qr(weights[:, None] * M)[0]
            if iteration == 0:  # the polynomial fit, Q = 1
                residual = rz - U @ (U.T @ rz)
                best = float(np.mean(residual**2))
                continue
            Bz = (weights * z)[:, None] * M
            B = Bz - U @ (U.T @ Bz)
            q = np.linalg.svd(np.linalg.qr(B, mode="r"))[2][-1]
            Q = M @ q
            with np.errstate(all="ignore"):
                P = (U @ (U.T @ (weights * z * Q))) / weights
                residual_mse = float(np.mean((row * (z - P / Q)) ** 2))
            if math.isfinite(residual_mse):
                best = min(best, residual_mse)
            scale = np.abs(Q)
            if not np.all(scale > 0):
                break  # a zero of Q on a row: no weight for the next pass
            weights = row / scale
            weights /= weights.max()
        floor = (FLOAT32_ULPS * _FLOAT64_UNIT_ROUNDOFF) ** 2 * float(np.mean(rz**2))
        return best / denominator, floor / denominator


def screen(X: np.ndarray, z: np.ndarray, *, degree: int = DEFAULT_DEGREE) -> float:
    """The relative residual of the best rational function P/Q of degree ≤ ``degree`` in the features (module
    docstring: a weighted MSE/var(z), so that a heavy tail of z does not decide it).

    Round-off (≲ 1e-12) when z is such a rational function of the columns of X; ``inf`` when z is not finite.

    >>> rng = np.random.default_rng(0); X = rng.uniform(1, 2, (100, 2))
    >>> screen(X, (X[:, 0] + X[:, 1] ** 2) / (1 + X[:, 0] * X[:, 1])) < 1e-20
    True
    >>> screen(X, np.sin(3 * X[:, 0]) * np.exp(X[:, 1])) > 1e-6
    True
    """
    return _Screen(X, degree)(z)


# -- building the transforms ---------------------------------------------------------------------------------


def _usable(values: np.ndarray) -> str | None:
    """Why ``values`` cannot be a search target, or None when they can (finite, within `discover.checks` range)."""
    if not np.all(np.isfinite(values)):
        return "not finite on every row"
    largest = float(np.max(np.abs(values)))
    if largest > MAX_MAGNITUDE or 0 < largest < MIN_MAGNITUDE:
        return f"reaches |value| = {largest:.3g}, outside the float32 range that discover.checks allows"
    return None


def _constant_sign(y: np.ndarray, *, zeros: bool) -> int | None:
    if np.all(y > 0) or (zeros and np.all(y >= 0) and np.any(y > 0)):
        return 1
    if np.all(y < 0) or (zeros and np.all(y <= 0) and np.any(y < 0)):
        return -1
    return None


def _snap_k(k: float, score_of: Callable[[float], float], fitted_score: float, floor: float) -> sp.Expr:
    """The nearest integer, else the nearest rational p/q (q ≤ 12), when it scores within the snapping rule."""
    tolerance = DEFAULT_REL_FACTOR * fitted_score + floor
    proposals: list[sp.Expr] = []
    if round(k) != 0:
        proposals.append(sp.Integer(round(k)))
    fraction = Fraction(k).limit_denominator(DEFAULT_MAX_DENOMINATOR)
    if fraction.denominator > 1 and fraction != 0:
        proposals.append(sp.Rational(fraction.numerator, fraction.denominator))
    for proposal in proposals:
        if score_of(float(proposal)) <= tolerance:
            return proposal
    return sp.Float(k)


def _fit_k(w: np.ndarray, X: np.ndarray, degree: int) -> float:
    """The k minimising the screen of exp(k·w) (module docstring), searched on `_search_rows` of the table."""
    rows = _search_rows(w, 2 * math.comb(X.shape[1] + degree, degree))
    screener = _Screen(X[rows], degree)
    w = w[rows]
    largest = float(np.max(np.abs(w)))
    low, high = math.log(EXP_MIN_ARGUMENT / largest), math.log(EXP_MAX_ARGUMENT / largest)
    grid = np.linspace(low, high, K_GRID)

    def objective(log_k: float, sign: float) -> float:
        with np.errstate(all="ignore"):
            z = np.exp(sign * math.exp(log_k) * w)
        return math.log(max(screener(z, iterations=_SEARCH_ITERATIONS), 1e-300))

    scored = [(objective(u, sign), sign, i) for sign in (1.0, -1.0) for i, u in enumerate(grid)]
    best_value, sign, i = min(scored)
    bracket = (grid[max(i - 1, 0)], grid[min(i + 1, K_GRID - 1)])
    result = minimize_scalar(
        objective, bounds=bracket, args=(sign,), method="bounded", options={"xatol": _K_XATOL, "maxiter": 60}
    )
    return sign * math.exp(float(result.x) if result.fun <= best_value else float(grid[i]))


def _search_rows(w: np.ndarray, unknowns: int) -> np.ndarray:
    """Rows for the k search: ``_SEARCH_ROWS_PER_UNKNOWN`` per screen coefficient (all rows if fewer), evenly
    spaced in the order of w so that its whole range, tails included, is kept. The search screens exp(k·w) some
    60 times per w; on a third of the rows it costs a third, and the chosen k is then scored on every row."""
    size = _SEARCH_ROWS_PER_UNKNOWN * unknowns
    if len(w) <= size:
        return np.arange(len(w))
    order = np.argsort(w, kind="stable")
    return np.sort(order[np.linspace(0, len(w) - 1, size).round().astype(int)])


def target_transforms(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    *,
    target: str = "y",
    units: Mapping[str, str | Dimension] | None = None,
    degree: int = DEFAULT_DEGREE,
) -> Offered[TargetTransform]:
    """The target transforms worth searching in, each with its values; what is left out is in ``.skipped``.

    Offered: the identity; log|y| (y of constant sign, no zero); 1/y (no zero); y² (constant sign: the sign makes
    it invertible); y·x_j and y/x_j for each feature x_j without zeros; exp(k·w) for w = y and each offered y·x_j,
    y/x_j, with k fitted and snapped (module docstring). A transform whose values are not finite or leave the
    range of `discover.checks` is skipped. With ``units`` (every feature and the target, as for
    `discover.units.check_units`), y·x_j and y/x_j are offered only when they are dimensionless, and exp(k·w)
    only for dimensionless w, so that k is a pure number.

    >>> X = np.linspace(1, 2, 40)[:, None]; y = 3 / X[:, 0]
    >>> offered = target_transforms(X, y, ["x"])
    >>> [T.name for T in offered][:6]
    ['y', 'log(y)', '1/y', 'y**2', 'x*y', 'y/x']
    >>> offered = target_transforms(X, y, ["x"], units={"x": "m", "y": "1/m"})
    >>> ("y/x", "y/x has dimension m^-2, not dimensionless (units)") in offered.skipped
    True
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    features = list(features)
    if X.ndim != 2 or X.shape != (len(y), len(features)) or y.ndim != 1:
        raise ValueError(f"X must have shape (rows, {len(features)}) matching y of length {len(y)}; got {X.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite on every row (discover.checks refuses such tables first)")
    if target in features:
        raise ValueError(f"target {target!r} cannot also be a feature")
    dimensions = check_units(units, features, target) if units is not None else None
    screener = _Screen(X, degree)
    offered: list[TargetTransform] = []
    skipped: list[tuple[str, str]] = []

    def offer(steps: tuple[TransformStep, ...]) -> TargetTransform | None:
        name, values = _forward_values(steps, X, y, features, target)
        reason = _usable(values)
        if reason is not None:
            skipped.append((name, reason))
            return None
        transform = TargetTransform(name=name, values=values, steps=steps, target=target)
        offered.append(transform)
        return transform

    offer(())
    log_sign = _constant_sign(y, zeros=False)
    if log_sign is None:
        skipped.append((f"log({target})", f"{target} changes sign or has a zero"))
    else:
        offer((TransformStep("log", sign=log_sign),))
    if np.any(y == 0):
        skipped.append((f"1/{target}", f"{target} has a zero"))
    else:
        offer((TransformStep("reciprocal"),))
    square_sign = _constant_sign(y, zeros=True)
    if square_sign is None:
        skipped.append((f"{target}**2", f"{target} changes sign, so its square cannot be inverted"))
    else:
        offer((TransformStep("square", sign=square_sign),))
    scaled: list[TransformStep] = []  # the offered y·x_j, y/x_j: candidates for w in exp(k·w)
    for j, name in enumerate(features):
        for kind in ("times", "divide"):
            step = TransformStep(kind, feature=name)
            label = str(step.forward(sp.Symbol(target, real=True)))
            if np.any(X[:, j] == 0):
                skipped.append((label, f"{name} has a zero"))
                continue
            if dimensions is not None:
                dimension = dimensions[target] * dimensions[name] ** (1 if kind == "times" else -1)
                if not dimension.is_dimensionless:
                    skipped.append((label, f"{label} has dimension {dimension}, not dimensionless (units)"))
                    continue
            if offer((step,)) is not None:
                scaled.append(step)
    for inner in [None, *scaled]:
        inner_steps = () if inner is None else (inner,)
        w_name, w = _forward_values(inner_steps, X, y, features, target)
        label = f"exp(k*{w_name})"
        if inner is None and dimensions is not None and not dimensions[target].is_dimensionless:
            skipped.append((label, f"{target} has dimension {dimensions[target]}, not dimensionless (units)"))
            continue
        if float(np.ptp(w)) <= _FLOAT32_UNIT_ROUNDOFF * float(np.max(np.abs(w))):
            skipped.append((label, "w is constant (to float32 resolution), so exp(k*w) is too"))
            continue
        k_fit = _fit_k(w, X, degree)

        def score_of(k: float, w: np.ndarray = w) -> float:
            with np.errstate(all="ignore"):
                return screener(np.exp(k * w))

        with np.errstate(all="ignore"):
            fitted_score, floor = screener.score_and_floor(np.exp(k_fit * w))
        k = _snap_k(k_fit, score_of, fitted_score, floor)
        # exp(k·w) rational ⇔ exp(−k·w) rational (its reciprocal): the same law, and the positive k is kept when
        # it scores alike (module docstring)
        if k.is_negative and score_of(-float(k)) <= _SIGN_FACTOR * score_of(float(k)) + floor:
            k = -k
            k_fit = -k_fit
        offer((*inner_steps, TransformStep("exp", k=k, k_fitted=k_fit)))
    return Offered(offered, skipped)


def rank_transforms(
    transforms: Iterable[TargetTransform], X: np.ndarray, *, degree: int = DEFAULT_DEGREE
) -> list[tuple[float, TargetTransform]]:
    """(screen score, transform) pairs, best (lowest score) first.

    Scores at or below `TIE_SCORE` = 2⁻⁴⁶ ≈ 1.4e-14 (float32 resolution) count as equal and keep the given order
    (`target_transforms` lists the simplest first): for y = 3/x the identity, 1/y, y², y·x and y/x are all
    rational, at round-off, and the order among them would be that of float64 rounding, not of merit.

    >>> X = np.linspace(1, 2, 40)[:, None]
    >>> [(round(score, 3), T.name) for score, T in rank_transforms(target_transforms(X, np.exp(X[:, 0]), ["x"]), X)][0]
    (0.0, 'log(y)')
    """
    screener = _Screen(X, degree)
    scored = [(screener(transform.values), i, transform) for i, transform in enumerate(transforms)]
    ordered = sorted(scored, key=lambda item: (max(item[0], TIE_SCORE), item[1]))
    return [(score, transform) for score, _, transform in ordered]


# -- derived features ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DerivedFeature:
    """A ratio or product of two features: its column ``name``, its ``expr`` in the features, and ``values``."""

    name: str
    expr: sp.Expr
    values: np.ndarray = field(compare=False, repr=False)


def derived_features(
    X: np.ndarray, features: Sequence[str], units: Mapping[str, str | Dimension] | None
) -> Offered[DerivedFeature]:
    """Ratios x_i/x_j and products x_i·x_j (i < j) that are dimensionless or share the units of a third feature.

    Without units, none: the pairs grow quadratically with the features, and without units nothing says which
    combinations are physical, so the search gets the features as they are. ``units`` must give every feature
    (further keys, such as the target's, are ignored). A pair whose values are not finite (a ratio by a feature
    with a zero) or whose name is already a feature is skipped, with the reason, in ``.skipped``.

    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 5.0]])
    >>> units = {"x": "m", "t": "s", "v": "m/s", "y": "1"}
    >>> [d.name for d in derived_features(X, ["x", "t", "v"], units)]
    ['x_over_t', 'x_over_v', 't_times_v']
    >>> derived_features(X, ["x", "t", "v"], None)
    Offered([], skipped=[])
    """
    features = list(features)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(features):
        raise ValueError(f"X must have shape (rows, {len(features)}), got {X.shape}")
    if units is None:
        return Offered([])
    missing = [name for name in features if name not in units]
    if missing:
        raise ValueError(f'units are missing for feature(s) {missing}: give every feature units ("1" if none)')
    dimensions = check_units({name: units[name] for name in features}, features[:-1], features[-1])
    symbols = dict(zip(features, feature_symbols(features), strict=True))
    out: list[DerivedFeature] = []
    skipped: list[tuple[str, str]] = []
    for i, j in itertools.combinations(range(len(features)), 2):
        a, b = features[i], features[j]
        others = {dimensions[name] for name in features if name not in (a, b)}
        for word, dimension, expr, values in (
            (
                "over",
                dimensions[a] / dimensions[b],
                symbols[a] / symbols[b],
                X[:, i] / np.where(X[:, j] == 0, np.nan, X[:, j]),
            ),
            ("times", dimensions[a] * dimensions[b], symbols[a] * symbols[b], X[:, i] * X[:, j]),
        ):
            name = f"{a}_{word}_{b}"
            if not (dimension.is_dimensionless or dimension in others):
                continue  # the common case, not recorded: most pairs have units of their own
            reason = "already a feature's name" if name in features else _usable(values)
            if reason is not None:
                skipped.append((name, reason))
                continue
            out.append(DerivedFeature(name, expr, values))
    return Offered(out, skipped)


def substitute(expr: sp.Expr, derived: Iterable[DerivedFeature]) -> sp.Expr:
    """``expr`` with each derived feature's symbol (matched by name) replaced by its expression in the features.

    >>> x, t = sp.symbols("x t", real=True)
    >>> d = DerivedFeature("x_over_t", x / t, np.ones(1))
    >>> substitute(2 * sp.Symbol("x_over_t", real=True) ** 2, [d])
    2*x**2/t**2
    """
    by_name = {d.name: d.expr for d in derived}
    return expr.xreplace({s: by_name[s.name] for s in expr.free_symbols if s.name in by_name})
