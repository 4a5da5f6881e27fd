"""Constant snapping, and the measures shared by every backend: complexity, loss, and the float32 loss floor.

Symbolic regression returns fitted constants (``1.9999997*u*s``); theory has exact ones (``2*u*s``). `snap`
rewrites an expression into a cheap normal form, then replaces each float constant by the simplest nearby
exact number — the nearest integer, else the nearest rational of denominator ≤ ``max_denominator``, else
``(p/q)·k`` and then ``(p/q)/k`` for k in π, e, √2, √3, ln 2, √(2π) with 1 ≤ |p|, q ≤ 4 (so 1/(4π) ≈ 0.0795775,
the normal density's 1/√(2π) and
3 ln 2/2 are found) — keeping a replacement only if the fit stays as good::

    new MSE ≤ rel_factor · (MSE of the unsnapped expression) + floor.

The constants that lie within float32 accuracy of an exact number are first replaced all at once (fitted
constants can err together, so that each alone fits worse than all), then each remaining one, largest first.
An optional ``admissible`` predicate (a units check) must also accept every replacement and every form.

- ``rel_factor = 1.05`` (`DEFAULT_REL_FACTOR`), widened where the data are few by a nested-model F-test at level
  ``alpha = 0.01`` (`DEFAULT_ALPHA`). The expression given has k fitted constants (polished to the least-squares
  optimum on the n rows); a replacement fixing Δk of them is a nested model, and if the exact values are the true
  ones, (RSS_new − RSS)/Δk ÷ RSS/(n − k) follows Fisher's F(Δk, n − k). So a replacement is kept while
  new MSE ≤ MSE · max(rel_factor, 1 + Δk·F_{1−α}(Δk, n − k)/(n − k)) + floor: true exact constants pass in
  99 % of noisy tables, whatever n. The fixed 1.05 alone failed on small noisy tables (a fit of p constants beats
  the true ones by ≈ p/n, and χ² fluctuations of Δk constants add Δk/n more: with 3 constants on 61 rows the law
  of `overparameterized_forgetting` was kept in 2 of 10 Monte Carlo tables; with the test, 7 of 10, and 10 of 10
  with the joint replacement of `_snap_constants`). A
  constant moved by δ standard errors costs δ²/n of the MSE, so the accepted move is ≈ √F ≈ 2.6 standard errors
  for one constant (α = 0.01), as before at n ≈ 140. Noise-free data are judged by the floor, as before.
- ``floor = (FLOAT32_ULPS · 2⁻²³ · rms(y))²`` (`loss_floor`), with ``FLOAT32_ULPS = 8``: Operon fits in float32,
  whose unit roundoff is 2⁻²³ ≈ 1.2e-7, and its Levenberg–Marquardt constants are good to a few ulp (≈ 1e-6
  relative). Below this floor two fits are indistinguishable, so noise-free data still snap.
- ``max_denominator = 12`` (`DEFAULT_MAX_DENOMINATOR`): the exact constants of the shipped laws are small
  rationals, e.g. the depth-N exponent 2 − 2/N (4/3 at N = 3); denominators up to 12 cover N ≤ 12. Larger
  denominators approximate any number, and would make snapping meaningless. For the same reason the multiples
  of irrational constants are restricted to a few small ones (π/2, 2π, √2/2, 3e/4, 1/(4π), …): with noisy data a
  dense set of candidates would always offer a spurious match such as 10√2/7 ≈ 2.0203 for a fitted 2.02. The
  118 distinct irrational candidates lie between 1/(4π) ≈ 0.080 and 4π ≈ 12.6, a span of 5.1 in ln; a constant
  known to relative standard error σ and accepted within ~3σ meets a spurious one with probability ≈ 118·6σ/5.1
  ≈ 140σ: negligible for noise-free data (σ ~ 1e-6), about 1.4 % at σ = 1e-4.

Every comparison is in float64 on the data given, so the judgement does not depend on the engine.

The measures:

- `complexity`: the number of nodes of the SymPy expression tree (`sympy.preorder_traversal`); a number or a
  symbol is one node. ``2*u*(s - u)`` is ``Mul(2, u, Add(s, Mul(-1, u)))``: 8 nodes.
- `mse`: the mean squared error of an expression on (X, y), float64, by `evaluate` (a walk over the tree).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_MAX_DENOMINATOR",
    "DEFAULT_REL_FACTOR",
    "FLOAT32_ULPS",
    "SnapSettings",
    "complexity",
    "evaluate",
    "loss_floor",
    "mse",
    "snap",
    "snap_all",
    "tolerance_factor",
]

DEFAULT_MAX_DENOMINATOR = 12
DEFAULT_REL_FACTOR = 1.05
DEFAULT_ALPHA = 0.01
FLOAT32_ULPS = 8
_FLOAT32_UNIT_ROUNDOFF = 2.0**-23

# Irrational constants tried, as (p/q)·k and then (p/q)/k with 1 ≤ |p|, q ≤ _SIMPLE_MULTIPLE, after integers and
# rationals.
_SIMPLE_CONSTANTS: tuple[sp.Expr, ...] = (sp.pi, sp.E, sp.sqrt(2), sp.sqrt(3), sp.log(2), sp.sqrt(2 * sp.pi))
_SIMPLE_CONSTANT_VALUES = tuple(float(constant) for constant in _SIMPLE_CONSTANTS)
_SIMPLE_MULTIPLE = 4
# At most this many rounds of substitution: replacing one constant can merge terms into a new float.
_MAX_ROUNDS = 3
# Rewriting (expand/factor) is skipped above this many nodes: it can be slow and rarely helps there.
_MAX_REWRITE_NODES = 200
# ... and factorisation is skipped when an exact coefficient's numerator or denominator exceeds this: SymPy's
# multivariate factoring (Wang's algorithm) grows with the coefficients' height and the number of symbols, and on a
# 5-symbol front with coefficients like 1907 and 13918 it ran for minutes (a forgetting-study search). Snapped
# laws' coefficients are small (2, 3/2, 13/8), which is where factoring tidies anything.
_MAX_FACTOR_COEFFICIENT = 100


@dataclass(frozen=True)
class SnapSettings:
    """How `discover.discover` snaps constants; ``SnapSettings(enabled=False)`` keeps the raw expressions.

    >>> SnapSettings().max_denominator
    12
    """

    enabled: bool = True
    max_denominator: int = DEFAULT_MAX_DENOMINATOR
    rel_factor: float = DEFAULT_REL_FACTOR
    alpha: float = DEFAULT_ALPHA

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_denominator, bool)
            or not isinstance(self.max_denominator, int)
            or self.max_denominator < 1
        ):
            raise ValueError(f"max_denominator must be a positive integer, got {self.max_denominator!r}")
        if not (math.isfinite(self.rel_factor) and self.rel_factor >= 1):
            raise ValueError(f"rel_factor must be a finite number ≥ 1, got {self.rel_factor!r}")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be a test level in (0, 1), got {self.alpha!r}")


def complexity(expr: sp.Basic) -> int:
    """Node count of the expression tree: the one complexity measure of all backends.

    >>> u, s = sp.symbols("u s")
    >>> complexity(2 * u * (s - u)), complexity(sp.expand(2 * u * (s - u))), complexity(u)
    (8, 10, 1)
    """
    return sum(1 for _ in sp.preorder_traversal(expr))


def loss_floor(y: np.ndarray) -> float:
    """The smallest MSE difference that float32 fitting can resolve: ``(FLOAT32_ULPS · 2⁻²³ · rms(y))²``.

    >>> loss_floor(np.ones(4)) == (8 * 2.0**-23) ** 2
    True
    """
    y = np.asarray(y, dtype=np.float64)
    rms = float(np.sqrt(np.mean(y**2))) if y.size else 0.0
    return (FLOAT32_ULPS * _FLOAT32_UNIT_ROUNDOFF * rms) ** 2


def mse(expr: sp.Expr, X: np.ndarray, y: np.ndarray, features: Sequence[str]) -> float:
    """Mean squared error of ``expr`` on the rows of ``X`` (columns named ``features``), in float64.

    Symbols are matched to columns by name. A value that is not finite (a pole, a log of a negative number)
    makes the loss ``inf``.

    >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([2.0, 4.0, 6.0])
    >>> mse(2 * sp.Symbol("x"), X, y, ["x"]), mse(sp.Integer(4), X, y, ["x"])
    (0.0, 2.6666666666666665)
    """
    return _Evaluator(X, y, features).mse(expr)


# SymPy functions and their NumPy counterparts, for `evaluate`. Together with Add, Mul and Pow these cover every
# node of the backends' grammars (`discover.backends.operon._FUNCTIONS`: Operon's sqrt, cbrt and square are powers).
_UFUNCS: dict[type, Callable[..., np.ndarray]] = {
    sp.exp: np.exp,
    sp.log: np.log,
    sp.sin: np.sin,
    sp.cos: np.cos,
    sp.tan: np.tan,
    sp.asin: np.arcsin,
    sp.acos: np.arccos,
    sp.atan: np.arctan,
    sp.sinh: np.sinh,
    sp.cosh: np.cosh,
    sp.tanh: np.tanh,
    sp.Abs: np.abs,
    sp.floor: np.floor,
    sp.ceiling: np.ceil,
    sp.sign: np.sign,
}


def evaluate(expr: sp.Expr, columns: Mapping[str, np.ndarray]) -> np.ndarray | float:
    """The real value of ``expr`` with each symbol replaced by the column of that name, by walking the tree.

    Each node is one NumPy operation in float64; no code is generated (`sympy.lambdify` prints and executes source),
    so evaluating a candidate costs microseconds, not the milliseconds of a compile: snapping evaluates thousands.
    Where the real value does not exist (log of a negative number, a negative base to a fractional power, a
    constant such as asin(3)) the result is NaN, as in NumPy. A node with no rule here (erf,
    Piecewise, …; none of Operon's grammar) is handed to `sympy.lambdify` (SciPy, then NumPy) as a subtree.

    >>> x = sp.Symbol("x")
    >>> evaluate(2 * sp.exp(-x) + sp.Rational(1, 2), {"x": np.array([0.0, np.log(2)])})
    array([2.5, 1.5])
    >>> evaluate(sp.sqrt(2) * sp.pi, {})
    4.442882938158366
    """
    if expr.is_Symbol:
        return columns[expr.name]
    if isinstance(expr, sp.AccumBounds):  # an interval (SymPy's atan(oo) − …, sin(oo)): no single real value
        return math.nan
    if expr.is_number:
        try:
            return float(expr)
        except TypeError:  # not real (asin(3), I): no real value, as NumPy's NaN for arrays
            return math.nan
    args = [evaluate(a, columns) for a in expr.args]
    if expr.is_Add:
        return functools.reduce(np.add, args)
    if expr.is_Mul:
        return functools.reduce(np.multiply, args)
    if expr.is_Pow:
        return np.power(*args)
    if isinstance(expr, (sp.Min, sp.Max)):
        return functools.reduce(np.minimum if isinstance(expr, sp.Min) else np.maximum, args)
    ufunc = _UFUNCS.get(type(expr))
    if ufunc is not None and len(args) == 1:
        return ufunc(args[0])
    return _evaluate_by_sympy(expr, columns)


def _evaluate_by_sympy(expr: sp.Expr, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """A node with no rule in `evaluate` (erf, Piecewise, a user's library term …): SymPy's NumPy translation of the
    subtree, compiled once; a value that comes out complex is not real there (NaN)."""
    symbols = sorted(expr.free_symbols, key=lambda symbol: symbol.name)
    function = sp.lambdify(symbols, expr, modules=["scipy", "numpy"])
    out = np.asarray(function(*(columns[symbol.name] for symbol in symbols)))
    if np.iscomplexobj(out):
        out = np.where(out.imag != 0, np.nan, out.real)
    return out


class _Evaluator:
    """Evaluates expressions on one table; symbols are matched to columns by name, not by assumptions."""

    def __init__(self, X: np.ndarray, y: np.ndarray, features: Sequence[str]) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.features = tuple(features)
        if self.X.ndim != 2 or self.X.shape != (len(self.y), len(self.features)):
            raise ValueError(
                f"X must have shape (rows, {len(self.features)}) matching y of length {len(self.y)}; got {self.X.shape}"
            )
        self.columns = dict(zip(self.features, self.X.T, strict=True))

    def predict(self, expr: sp.Expr) -> np.ndarray:
        """Values of ``expr`` on every row, float64 (its symbols are features: `mse` checks them first)."""
        with np.errstate(all="ignore"):
            out = np.asarray(evaluate(expr, self.columns), dtype=np.float64)
        return np.broadcast_to(out, self.y.shape)

    def mse(self, expr: sp.Expr) -> float:
        """The float64 MSE, or ``inf`` where the expression is not finite (or not numeric) on some row."""
        unknown = sorted({s.name for s in expr.free_symbols} - set(self.columns))
        if unknown:
            raise ValueError(
                f"expression {expr} uses {unknown}, which are not among the features {list(self.features)}"
            )
        if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return math.inf  # e.g. a constant snapped to 0 under a division: not a usable candidate
        try:
            prediction = self.predict(expr)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return math.inf  # e.g. an unevaluated SymPy object in the result: not a usable candidate
        with np.errstate(all="ignore"):
            value = float(np.mean((prediction - self.y) ** 2))
        return value if math.isfinite(value) else math.inf


def snap(
    expr: sp.Expr,
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    *,
    max_denominator: int = DEFAULT_MAX_DENOMINATOR,
    rel_factor: float = DEFAULT_REL_FACTOR,
    alpha: float = DEFAULT_ALPHA,
    admissible: Callable[[sp.Expr], bool] | None = None,
) -> sp.Expr:
    """Replace float constants by exact numbers where the fit stays as good (see the module docstring).

    The expression is first brought to cheap normal forms — ``expand`` (products of fitted constants collapse to
    one constant per term) and, where float constants remain, the monic form of `_monic` (numerator and
    denominator each divided by one of their own coefficients, which removes the scale they share) — each form is
    snapped, and the simplest result that fits is returned. An expression whose loss is not finite on the data is
    returned unchanged.

    ``admissible``, if given, is a further condition on every expression snapping builds: a replacement is kept
    only if the result fits *and* ``admissible(result)`` is true, and a normal form that is not admissible is not
    snapped. (A units check is the use: snapping a fitted 0.99 to 1 removes a constant that could have carried
    units, and may leave a candidate that is dimensionally impossible.) The expression given is always a possible
    answer, admissible or not: it is what the engine found.

    >>> x = sp.Symbol("x")
    >>> X = np.linspace(0.5, 2.0, 50)[:, None]
    >>> snap(2.0000003 * x, X, 2 * X[:, 0], ["x"])
    2*x
    >>> snap(0.33333334 * x, X, X[:, 0] / 3, ["x"])
    x/3
    >>> snap(1.2345 * x, X, 1.2345 * X[:, 0], ["x"])
    1.2345*x
    >>> snap(2.0000003 * x, X, 2 * X[:, 0], ["x"], admissible=lambda e: e.has(sp.Float))  # keep a fitted constant
    2.0000003*x
    """
    SnapSettings(max_denominator=max_denominator, rel_factor=rel_factor, alpha=alpha)  # validates
    if admissible is not None and not callable(admissible):
        raise TypeError(f"admissible must be a function of a SymPy expression returning a bool, got {admissible!r}")
    evaluator = _Evaluator(X, y, features)
    reference = evaluator.mse(expr)
    if not math.isfinite(reference):
        return expr
    floor = loss_floor(evaluator.y)
    fitted = len(expr.atoms(sp.Float))
    rows = len(evaluator.y)

    def tolerance(candidate: sp.Expr) -> float:
        fixed = fitted - len(candidate.atoms(sp.Float))
        return tolerance_factor(fixed, fitted, rows, rel_factor=rel_factor, alpha=alpha) * reference + floor

    def accept(candidate: sp.Expr) -> bool:
        """The candidate fits as well as the expression given, and is admissible (fit first: it is cheap)."""
        return evaluator.mse(candidate) <= tolerance(candidate) and (admissible is None or bool(admissible(candidate)))

    def acceptable_form(form: sp.Expr) -> bool:
        """A rewrite is exact up to rounding: one whose constants are exact is judged by admissibility alone."""
        if form.has(sp.Float):
            return accept(form)  # a rewrite can lose accuracy to cancellation; do not build on it then
        return admissible is None or bool(admissible(form))

    # Rewriting is a good part of snapping's cost; a form whose constants all stay floats comes back unchanged
    # and is tidied to the forms computed here, so remember them for this call.
    normal_forms = functools.cache(_normal_forms)
    results = [expr]
    if complexity(expr) <= _MAX_REWRITE_NODES:
        for form in normal_forms(expr):
            if acceptable_form(form):
                snapped = _snap_constants(form, accept, max_denominator)
                results.append(_tidy(snapped, acceptable_form, normal_forms))
    elif admissible is None or admissible(expr):
        results.append(_snap_constants(expr, accept, max_denominator))
    return min(results, key=_rank)


@functools.cache
def tolerance_factor(
    fixed: int, fitted: int, rows: int, *, rel_factor: float = DEFAULT_REL_FACTOR, alpha: float = DEFAULT_ALPHA
) -> float:
    """The factor on the unsnapped MSE that a replacement fixing ``fixed`` of ``fitted`` constants may reach on
    ``rows`` rows: max(rel_factor, 1 + Δk·F_{1−α}(Δk, n − k)/(n − k)), the nested-model F-test of the module
    docstring (rel_factor alone when nothing is fixed or the rows do not exceed the constants).

    >>> round(tolerance_factor(3, 3, 61), 3), tolerance_factor(1, 2, 10_000)
    (1.214, 1.05)
    """
    if fixed <= 0 or rows <= fitted:
        return rel_factor
    from scipy.stats import f

    dof = rows - fitted
    return max(rel_factor, 1 + fixed * float(f.ppf(1 - alpha, fixed, dof)) / dof)


_expand = functools.partial(
    sp.expand, deep=True, mul=True, multinomial=True, power_exp=False, power_base=False, log=False
)


def _normal_forms(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """The expanded expression, then its monic form (float constants) or its factored form, inside functions too
    (exact constants).

    ``sympy.factor`` of a polynomial with float coefficients converts them to rationals of large numerators and
    factors over the integers: most of the cost of snapping (2.0 of 2.9 s on a ``coupling_peak_time`` front), for
    a purpose `_monic` serves without factorisation. Exact coefficients are small integers after snapping, and
    factoring them is cheap (ms) and tidies ``2*s*u - 2*u**2`` into ``2*u*(s - u)``; larger exact coefficients
    (above ``_MAX_FACTOR_COEFFICIENT``) are left expanded, since factoring them can take minutes.
    """
    expanded = _expand(expr)
    forms = [expanded]
    if expanded.has(sp.Float):
        split = expanded.replace(sp.log, _split_log).replace(_is_fractional_power_of_sum, _split_power)
        rewritten = _monic(_expand(split))
    elif all(
        abs(r.p) <= _MAX_FACTOR_COEFFICIENT and r.q <= _MAX_FACTOR_COEFFICIENT for r in expanded.atoms(sp.Rational)
    ):
        try:
            # deep: the arguments of functions too, so that log(a/D + b/D − c/D), as a rational fit mapped back
            # through exp gives it, becomes log((a + b − c)/D) (82 nodes → 38 for the coupling peak time)
            rewritten = sp.factor(expanded, deep=True)
        except (sp.PolynomialError, NotImplementedError, TypeError):  # pragma: no cover - depends on the input
            rewritten = expanded
    else:
        rewritten = expanded
    if rewritten != expanded:
        forms.append(rewritten)
    return tuple(forms)


def _monic(expr: sp.Expr) -> sp.Expr:
    """``c · N/D`` with ``N/D`` = ``together(expr)`` and each sum in N and D divided by its largest coefficient.

    A rational function found by an engine with linear scaling carries an arbitrary scale k shared by numerator and
    denominator: ``(2k·u + k)/(4k·s + 2k)``, whose constants are all floats though the law's are exact. Dividing
    each sum by one of its own coefficients leaves that sum's coefficient ratios, which k does not change, and
    gathers the scales into one constant ``c`` in front: ``0.5·(u + 0.5)/(s + 0.5)``, where every constant can
    snap. The coefficient divided by is the one of largest magnitude (the first such term in SymPy's order on a
    tie): a spurious tiny term, which an engine leaves often, would otherwise blow the others up. This is
    ``sympy.factor``'s normalisation (monic factors and a content in front) without factoring anything.

    >>> u, s = sp.symbols("u s")
    >>> _monic((4.0 * u + 2.0) / (8.0 * s + 4.0))
    0.5*(u + 0.5)/(s + 0.5)
    >>> _monic(2.0 * u * s - 4.0 * u**2)
    -4.0*(-0.5*s*u + u**2)
    """
    numerator, denominator = sp.fraction(sp.together(expr))
    numerator_scale, numerator = _content(_expand(numerator))
    denominator_scale, denominator = _content(denominator)
    scale = numerator_scale / denominator_scale
    body = numerator / denominator
    if scale == 1:
        return body
    # Number · Add would be distributed back over the terms: keep it apart, as sympy.factor does.
    return sp.Mul(scale, body, evaluate=False) if body.is_Add else scale * body


def _split_log(argument: sp.Expr) -> sp.Expr:
    """``log(c·p) = log(c) + log(p)`` for the positive float content ``c`` of the argument (`_content`), else the
    log unchanged.

    The identity holds for every ``p`` when c > 0 (principal branch), so the value does not change. An engine's
    ``a·log(b·s) + k`` has three constants where two suffice: split and expanded it is ``a·log(s) + (a·log b + k)``,
    whose constants can snap (the fitted b is arbitrary). ``sympy.factor`` did this as a side effect.

    >>> s = sp.Symbol("s")
    >>> _split_log(2.0 * s)
    log(s) + 0.693147180559945
    >>> _split_log(-2.0 * s), _split_log(2 * s)
    (log(-2.0*s), log(2*s))
    """
    scale, rest = _content(argument)
    if isinstance(scale, sp.Float) and scale > 0 and rest != 1:
        return sp.log(scale) + sp.log(rest)
    return sp.log(argument)


def _is_fractional_power_of_sum(expr: sp.Basic) -> bool:
    return bool(expr.is_Pow and expr.base.is_Add and expr.exp.is_Rational and not expr.exp.is_Integer)


def _split_power(power: sp.Pow) -> sp.Expr:
    """``(c·p)^q = c^q·p^q`` for the positive float content ``c`` of a sum raised to a fractional power (`_content`),
    else the power unchanged.

    The identity holds for every ``p`` when c > 0 (principal branch), so the value does not change. An engine's
    ``k·sqrt(a·x² + b·y²)`` has three constants where two suffice (k√a and b/a): split, the scale joins the
    constant in front, where it can snap with it, and the sum keeps only its coefficient ratios.

    >>> x, y = sp.symbols("x y")
    >>> _split_power(sp.sqrt(28.0 * x**2 + 112.0 * y**2))
    10.5830052442584*sqrt(0.25*x**2 + y**2)
    >>> _split_power(sp.sqrt(-2.0 * x + 1))  # c < 0: (c·p)^q ≠ c^q·p^q on the principal branch
    sqrt(1 - 2.0*x)
    """
    scale, rest = _content(power.base)
    if isinstance(scale, sp.Float) and scale > 0 and rest != power.base:
        return scale**power.exp * rest**power.exp
    return power


def _content(expr: sp.Expr) -> tuple[sp.Number, sp.Expr]:
    """``(c, p)`` with ``expr == c·p``: each sum, also as a factor of a product or raised to an integer power,
    divided by its coefficient of largest magnitude (see `_monic`)."""
    if expr.is_Add:
        coefficients = [term.as_coeff_Mul()[0] for term in expr.args]
        scale = max(coefficients, key=lambda c: abs(float(c)))  # max keeps the first of equals
        if scale == 0:  # pragma: no cover - SymPy drops zero terms
            return sp.Integer(1), expr
        terms = []
        for coefficient, term in zip(coefficients, expr.args, strict=True):
            ratio = coefficient / scale
            if abs(float(ratio)) == 1.0:  # the chosen term, and any with an equal coefficient: an exact ±1, not ±1.0
                ratio = sp.Integer(1 if float(ratio) > 0 else -1)
            terms.append(ratio * term.as_coeff_Mul()[1])
        return scale, sp.Add(*terms)
    if expr.is_Mul:
        scale, parts = sp.Integer(1), []
        for factor in expr.args:
            factor_scale, factor = _content(factor)
            scale, parts = scale * factor_scale, [*parts, factor]
        return scale, sp.Mul(*parts)
    if expr.is_Pow and expr.exp.is_Integer:
        scale, base = _content(expr.base)
        return scale**expr.exp, base**expr.exp
    return expr.as_coeff_Mul()


def _snap_constants(expr: sp.Expr, fits: Callable[[sp.Expr], bool], max_denominator: int) -> sp.Expr:
    """Each float constant, largest first, replaced by its simplest proposal that ``fits``; up to `_MAX_ROUNDS`.

    First, all constants are replaced at once, kept if that fits: fitted constants can err together so that each
    exact value alone fits worse than all of them. Twice: every constant within float32 accuracy of an exact number
    by it (``3.0000004·s·u^1.3333335`` has both off by 1e-7 relative, in compensating directions); then every
    constant by its simplest proposal (on noisy data, 1.024·r² + 0.982·r for r² + r: the exact set passes the F-test
    of `snap` where each alone does not; measured on the 10 Monte Carlo tables of the forgetting study, 7 snapped to
    the law without this step, 10 with it).
    """
    current = expr
    joint = (
        lambda value: _within_float32(value, max_denominator),
        lambda value: _proposals(value, max_denominator)[0],
    )
    for propose in joint:
        together = {}
        for value in current.atoms(sp.Float):
            proposal = propose(float(value))
            if proposal is not None:
                together[value] = proposal
        if len(together) > 1:  # a single one is tried first anyway below
            trial = current.xreplace(together)
            if fits(trial):
                current = trial
    for _ in range(_MAX_ROUNDS):
        changed = False
        for value in sorted(current.atoms(sp.Float), key=lambda f: (-abs(float(f)), float(f))):
            if value not in current.atoms(sp.Float):
                continue  # merged away by an earlier replacement in this round
            for proposal in _proposals(float(value), max_denominator):
                trial = current.xreplace({value: proposal})
                if fits(trial):
                    current, changed = trial, True
                    break
        if not changed:
            break
    return current


def _proposals(value: float, max_denominator: int) -> tuple[sp.Expr, ...]:
    """Exact numbers near ``value``, simplest first: the nearest integer, a small rational, a multiple of π, …"""
    return tuple(proposal for proposal, _ in _proposals_and_values(value, max_denominator))


@functools.lru_cache(maxsize=4096)
def _proposals_and_values(value: float, max_denominator: int) -> tuple[tuple[sp.Expr, float], ...]:
    """`_proposals` with their float values (no evalf of π multiples later).

    Cached: the same fitted constant is proposed for in every normal form and every round of a snap.
    """
    integer = round(value)
    out: list[tuple[sp.Expr, float]] = [(sp.Integer(integer), float(integer))]
    fraction = Fraction(value).limit_denominator(max_denominator)
    if fraction.denominator > 1:
        out.append((sp.Rational(fraction.numerator, fraction.denominator), float(fraction)))
    for power in (1, -1):  # (p/q)·k first, then (p/q)/k
        for constant, number in zip(_SIMPLE_CONSTANTS, _SIMPLE_CONSTANT_VALUES, strict=True):
            ratio = Fraction(value / number**power).limit_denominator(_SIMPLE_MULTIPLE)
            if 1 <= abs(ratio.numerator) <= _SIMPLE_MULTIPLE:
                proposal = sp.Rational(ratio.numerator, ratio.denominator) * constant**power
                out.append((proposal, float(ratio) * number**power))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _within_float32(value: float, max_denominator: int) -> sp.Expr | None:
    """The simplest proposal within float32 fitting accuracy of ``value`` (``FLOAT32_ULPS`` units of roundoff,
    relative, as in `loss_floor`), or None."""
    for proposal, number in _proposals_and_values(value, max_denominator):
        if abs(number - value) <= FLOAT32_ULPS * _FLOAT32_UNIT_ROUNDOFF * abs(value):
            return proposal
    return None


def _tidy(
    expr: sp.Expr,
    acceptable: Callable[[sp.Expr], bool],
    normal_forms: Callable[[sp.Expr], tuple[sp.Expr, ...]],
) -> sp.Expr:
    """The best of the expression and its acceptable normal forms (equal up to rounding), by `_rank`.

    A rewrite can bring back float constants (the monic form divides exact coefficients by a float one), so the
    number of float constants ranks before the size, as in `snap`'s final choice.
    """
    forms = [expr]
    if complexity(expr) <= _MAX_REWRITE_NODES:
        for rewrite in normal_forms(expr):
            if rewrite not in forms and acceptable(rewrite):
                forms.append(rewrite)
    return min(forms, key=_rank)


def _rank(expr: sp.Expr) -> tuple[int, int]:
    """Fewest float constants first (the most exact), then the smallest; `min` keeps the first of equals."""
    return len(expr.atoms(sp.Float)), complexity(expr)


def snap_all(
    expressions: Sequence[sp.Expr],
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    settings: SnapSettings,
    *,
    admissible: Callable[[sp.Expr], bool] | None = None,
) -> list[sp.Expr]:
    """`snap` each expression with ``settings`` and ``admissible`` (the raw expressions when snapping is disabled).

    >>> x = sp.Symbol("x")
    >>> X = np.linspace(0.5, 2.0, 50)[:, None]
    >>> snap_all([2.0000003 * x, 1.9999998 * x], X, 2 * X[:, 0], ["x"], SnapSettings())
    [2*x, 2*x]
    >>> snap_all([2.0000003 * x], X, 2 * X[:, 0], ["x"], SnapSettings(enabled=False))
    [2.0000003*x]
    """
    if not settings.enabled:
        return list(expressions)
    return [
        snap(
            e,
            X,
            y,
            features,
            max_denominator=settings.max_denominator,
            rel_factor=settings.rel_factor,
            alpha=settings.alpha,
            admissible=admissible,
        )
        for e in expressions
    ]
