"""`discover.snapping.evaluate`, the tree-walking evaluator behind every loss: it must give SymPy's own numerical
translation (`sympy.lambdify` with NumPy, the independent reference) on any expression the backends produce."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from discover import mse
from discover.snapping import evaluate

x, y = sp.symbols("x y")
# Points that cross the awkward places: negative values (log, fractional powers), zero (division), large values
# (overflow of exp) and small ones.
XS = np.array([-3.0, -1.0, -0.25, 0.0, 0.3, 1.0, 2.5, 40.0, 800.0])
YS = np.array([0.5, -2.0, 3.0, 1.5, -0.7, 0.0, 12.0, -5.0, 2.0])
COLUMNS = {"x": XS, "y": YS}

UNARY = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.tanh, sp.sinh, sp.cosh, sp.atan, sp.asin, sp.acos, sp.Abs)
UNARY += (sp.floor, sp.ceiling, sp.sign, sp.sqrt, sp.cbrt, lambda a: a**2, lambda a: 1 / a)
# Six decimals: lambdify prints a Float with 15 significant digits, so the reference sees the same float64 only for
# constants that 15 digits represent exactly (evaluate uses every bit of the Float).
constants = st.floats(-5, 5).map(lambda v: sp.Float(round(v, 6))) | st.sampled_from([sp.pi, sp.E, sp.Rational(2, 3)])
leaves = st.sampled_from([x, y]) | constants


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda fa: fa[0](fa[1]))
    binary = st.tuples(st.sampled_from([sp.Add, sp.Mul, sp.Pow]), children, children).map(lambda fab: fab[0](*fab[1:]))
    return unary | binary


expressions = st.recursive(leaves, _extend, max_leaves=8)


def _reference(expr: sp.Expr) -> np.ndarray:
    function = sp.lambdify([x, y], expr, modules="numpy")
    with np.errstate(all="ignore"):
        out = np.broadcast_to(np.asarray(function(XS, YS)), XS.shape)
    return np.where(out.imag != 0, np.nan, out.real) if np.iscomplexobj(out) else out.astype(np.float64)


def _has_non_real_constant(expr: sp.Expr) -> bool:
    """Whether a constant subexpression has a non-zero imaginary part ((-1.0)**π, asin(3))."""
    for node in sp.preorder_traversal(expr):
        if node.is_number and not node.is_Atom:
            try:
                if complex(node.evalf()).imag != 0:
                    return True
            except (TypeError, ValueError):  # an infinity or an interval: left to the checks above
                continue
    return False


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_evaluate_agrees_with_sympys_numpy_translation(expr: sp.Expr) -> None:
    if not expr.free_symbols or expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return  # constants are covered below; mse refuses infinities before evaluating
    if expr.atoms(sp.AccumBounds):  # atan(oo) folds to an interval, which lambdify cannot print; evaluate gives it
        with np.errstate(all="ignore"):  # NaN, so such a candidate's loss is inf (1**NaN = 1 may leave a row finite)
            assert not np.isfinite(np.asarray(evaluate(expr, COLUMNS), dtype=np.float64)).all()
        return
    with np.errstate(all="ignore"):
        got = np.broadcast_to(np.asarray(evaluate(expr, COLUMNS), dtype=np.float64), XS.shape)
    if expr.has(sp.I) or _has_non_real_constant(expr):
        # a non-real constant (log(-2) = log 2 + iπ, (-1.0)**π): NaN here, so the candidate's loss is inf. NumPy may
        # give a real number on some rows (0·I, a complex power times x = 0), which is no real value of the law.
        assert not np.isfinite(got).all(), (expr, got)
        return
    want = _reference(expr)
    # floor, ceiling and sign jump at integers (sign at 0): where their argument is within round-off of a jump, the
    # reference's 15-digit printing of a constant (floor(1.66666666666667*x) at x = −3) lands on the other side.
    # Those rows compare two legitimate roundings of one number, not evaluate's arithmetic: leave them out.
    near_jump = np.zeros(XS.shape, dtype=bool)
    for node in expr.atoms(sp.floor, sp.ceiling, sp.sign):
        with np.errstate(all="ignore"):  # an argument may be ±inf or NaN (floor(exp(800))): not near a jump
            argument = np.broadcast_to(np.asarray(evaluate(node.args[0], COLUMNS), dtype=np.float64), XS.shape)
            near_jump |= np.abs(argument - np.round(argument)) <= 1e-9 * np.maximum(np.abs(argument), 1.0)
    # sin, cos and tan of a huge argument are ill-conditioned (absolute error |arg|·1e-16, sin(x**exp(π)) at x = 800
    # has |arg| = 1e67): one ulp of a constant flips them. Rows where an argument exceeds 1e4 (error 1e-12 there,
    # under the 1e-9 tolerance below) compare roundings, not arithmetic: leave them out.
    for node in expr.atoms(sp.sin, sp.cos, sp.tan):
        with np.errstate(all="ignore"):
            argument = np.broadcast_to(np.asarray(evaluate(node.args[0], COLUMNS), dtype=np.float64), XS.shape)
            near_jump |= ~(np.abs(argument) <= 1e4)
    got, want = got[~near_jump], want[~near_jump]
    finite = np.isfinite(want)
    # The same points have a value; NaN and ±inf may differ in kind (0·inf vs inf−inf in another order).
    assert np.array_equal(np.isfinite(got), finite), (expr, got, want)
    # lambdify may order a sum or product differently: a relative 1e-16 per operation, amplified by the tree's
    # exp/pow/sin of large arguments; 1e-9 relative (absolute below 1) is far below any loss difference snapping
    # judges.
    scale = np.maximum(np.abs(want[finite]), 1.0)
    assert np.all(np.abs(got[finite] - want[finite]) <= 1e-9 * scale), (expr, got, want)


def test_constants_evaluate_to_their_real_value_and_non_real_ones_to_nan() -> None:
    assert evaluate(sp.sqrt(2) * sp.pi, {}) == pytest.approx(4.442882938158366, rel=1e-15)
    assert evaluate(sp.Rational(1, 3), {}) == 1 / 3
    assert np.isnan(evaluate(x + sp.asin(sp.pi), COLUMNS)).all()


def test_min_max_and_a_node_without_a_rule_are_evaluated() -> None:
    np.testing.assert_array_equal(evaluate(sp.Min(x, y, 1), COLUMNS), np.minimum(np.minimum(XS, YS), 1))
    np.testing.assert_array_equal(evaluate(sp.Max(x, 0), COLUMNS), np.maximum(XS, 0))
    # erf has no rule in evaluate: SymPy's SciPy translation evaluates that subtree (math.erf as the reference)
    import math

    got = evaluate(2 * sp.erf(x / 4), COLUMNS)
    np.testing.assert_allclose(got, [2 * math.erf(v / 4) for v in XS], rtol=1e-14)


def test_a_candidate_not_real_on_some_row_has_infinite_loss() -> None:
    X = np.column_stack([XS, YS])
    assert mse(sp.sqrt(x), X, np.zeros(len(XS)), ["x", "y"]) == float("inf")  # sqrt of a negative x
    assert mse(sp.log(y**2 + 1), X, np.log(YS**2 + 1), ["x", "y"]) == 0.0
