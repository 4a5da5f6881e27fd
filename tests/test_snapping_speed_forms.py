"""Snapping's cheap normal forms (monic normalisation in place of `sympy.factor`, split logs) and its admissibility hook."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from discover import SnapSettings, loss_floor, mse, snap
from discover.snapping import (
    _content,
    _expand,
    _monic,
    _normal_forms,
    _split_log,
    _tidy,
    _within_float32,
    snap_all,
)

a, b, c, d = sp.symbols("a b c d", real=True)
u, s = sp.symbols("u s", real=True)
x, z = sp.symbols("x z", real=True)

RNG = np.random.default_rng(11)
US = np.column_stack([RNG.uniform(0.05, 2.0, 200), RNG.uniform(0.5, 3.0, 200)])
XZ = np.column_stack([RNG.uniform(0.5, 2.0, 100), RNG.uniform(0.5, 2.0, 100)])


def f32(value: float) -> float:
    """A constant as a float32 engine reports it."""
    return float(np.float32(value))


def exact(expr: sp.Expr) -> bool:
    return not expr.has(sp.Float)


# -- the monic form --------------------------------------------------------------------------------------------


@given(
    scale=st.one_of(st.floats(min_value=0.02, max_value=50.0), st.floats(min_value=-50.0, max_value=-0.02)),
)
def test_a_rational_function_with_any_shared_scale_snaps_exactly(scale: float) -> None:
    # (2k·u + k)/(4k·s + 2k) with every coefficient float32-rounded: no constant is exact on its own, only their
    # ratios are; the monic form divides each sum by its largest coefficient, leaving ratios that snap.
    raw = (f32(2 * scale) * u + f32(scale)) / (f32(4 * scale) * s + f32(2 * scale))
    y = (2 * US[:, 0] + 1) / (4 * US[:, 1] + 2)
    out = snap(raw, US, y, ["u", "s"])
    assert exact(out), out
    assert sp.simplify(out - (2 * u + 1) / (4 * s + 2)) == 0


def test_the_monic_form_gathers_the_scales_in_front() -> None:
    form = _monic(_expand((6.0 * u + 3.0) / (8.0 * s + 4.0)))
    assert form.args[0] == sp.Float(0.75)  # 6/8: the numerator's largest coefficient over the denominator's
    assert sp.simplify(form / sp.Float(0.75) - (u + sp.Rational(1, 2)) / (s + sp.Rational(1, 2))) == 0
    # the chosen term's coefficient is an exact 1, not 1.0, so it needs no snapping
    (numerator,) = [arg for arg in form.args if arg.is_Add]
    assert u in numerator.args


def test_the_content_divides_by_the_largest_coefficient_not_the_first() -> None:
    # SymPy orders the tiny constant first; dividing by it would turn 4 and 2 into 4e9 and 2e9, which never snap.
    scale, primitive = _content(1e-9 + 4.0 * s + 2.0 * s**2)
    assert scale == sp.Float(4.0)
    assert primitive == s + 0.5 * s**2 + sp.Float(2.5e-10)


def test_content_of_products_and_integer_powers() -> None:
    scale, primitive = _content((2.0 * u + 4.0) * (3.0 * s + 1.0) ** 2)
    assert scale == sp.Float(4.0 * 9.0)
    assert primitive == (0.5 * u + 1) * (s + sp.Float(1 / 3)) ** 2
    # a fractional power keeps its base: the content of a negative base has no real fractional power
    assert _content((2.0 * u + 4.0) ** sp.Rational(1, 3)) == (1, (2.0 * u + 4.0) ** sp.Rational(1, 3))


def test_exact_forms_are_still_factored_and_tidied() -> None:
    forms = _normal_forms(2 * s * u - 2 * u**2)
    assert forms == (2 * s * u - 2 * u**2, 2 * u * (s - u))


def test_a_float_polynomial_is_normalised_without_factoring() -> None:
    # 29 terms with float coefficients in four variables: sympy.factor took 7.8 s on it (measured, idle core),
    # the monic form 0.05 s. The bound leaves a factor ~40 for a loaded machine and still fails with factor.
    poly = _expand(
        (1.1234567 * a + 2.3456789 * b + 0.7654321 * c + 1.9876543) ** 2
        * (0.3456789 * a - 1.2345678 * c + 0.8765432 * d + 0.4567891)
    )
    start = time.perf_counter()
    forms = _normal_forms(poly)
    assert time.perf_counter() - start < 2.0
    assert len(forms) == 2 and forms[1].args[0].is_Float  # the content in front of a monic polynomial
    point = {a: 0.3, b: -1.2, c: 0.7, d: 2.1}
    assert float(forms[1].subs(point)) == pytest.approx(float(poly.subs(point)), rel=1e-12)


# -- logs of a scaled argument ---------------------------------------------------------------------------------


def test_a_scale_inside_a_log_joins_the_constant_term() -> None:
    # a·log(b·s) + k with an arbitrary fitted b: as a·log(s) + (a·log b + k) the two constants are 3/2 and 2.
    b_fit = 1.4750005
    raw = f32(1.5) * sp.log(b_fit * s) + (2 - 1.5 * math.log(b_fit))
    y = 1.5 * np.log(US[:, 1]) + 2
    out = snap(raw, US, y, ["u", "s"])
    assert out == sp.Rational(3, 2) * sp.log(s) + 2


def test_split_log_only_takes_out_a_positive_float_content() -> None:
    assert _split_log(2.0 * s + 4.0) == sp.log(sp.Float(4.0)) + sp.log(0.5 * s + 1)  # the largest coefficient
    assert _split_log(-2.0 * s) == sp.log(-2.0 * s)  # log(−2) is not real: the log stays whole
    assert _split_log(2 * s) == sp.log(2 * s)  # an exact constant stays where it is


# -- choosing among forms --------------------------------------------------------------------------------------


def test_tidy_prefers_fewer_float_constants_to_a_smaller_size() -> None:
    # The monic form of this expression is smaller (16 nodes against 19) but brings back 7/9 as 0.7777…: the
    # expression with one float is kept.
    k = sp.Float(0.259083315884298)
    expr = sp.Mul(k, sp.Rational(7, 9) * s - sp.log(u) + sp.log(s) - 1, 1 / s)  # k·(…) alone would distribute
    assert len(expr.atoms(sp.Float)) == 1
    monic = _normal_forms(expr)[1]
    assert len(monic.atoms(sp.Float)) == 2
    assert _tidy(expr, lambda form: True, _normal_forms) == expr


# -- the admissibility hook ------------------------------------------------------------------------------------


def no_bare_sum(expr: sp.Expr) -> bool:
    """No sum of two bare symbols ``x + z``, anywhere."""
    return not any(e.is_Add and all(t.is_Symbol for t in e.args) for e in sp.preorder_traversal(expr))


def test_an_inadmissible_replacement_is_not_kept() -> None:
    raw = 1.0000001 * x + 0.9999999 * z
    y = XZ[:, 0] + XZ[:, 1]
    assert snap(raw, XZ, y, ["x", "z"]) == x + z
    out = snap(raw, XZ, y, ["x", "z"], admissible=no_bare_sum)
    assert no_bare_sum(out) and len(out.atoms(sp.Float)) == 1  # one constant snapped, the other kept
    assert mse(out, XZ, y, ["x", "z"]) < 1e-12


def test_an_inadmissible_normal_form_is_not_built_on() -> None:
    # Only the monic form c·(u + …)/(s + …) can snap this rational function (its constants share a scale); a
    # predicate refusing a product with a sum as a factor refuses that form, so the constants stay floats.
    def no_scaled_sum(expr: sp.Expr) -> bool:
        return not (expr.is_Mul and any(arg.is_Add for arg in expr.args))

    k = 0.7312345  # a scale that makes no single constant simple
    raw = (f32(2 * k) * u + f32(k)) / (f32(4 * k) * s + f32(2 * k))
    y = (2 * US[:, 0] + 1) / (4 * US[:, 1] + 2)
    assert exact(snap(raw, US, y, ["u", "s"]))
    out = snap(raw, US, y, ["u", "s"], admissible=no_scaled_sum)
    assert out == raw  # the expression given (itself a scaled sum: the engine's answer stays)


def test_the_expression_given_is_kept_when_nothing_is_admissible() -> None:
    raw = 2.0000003 * x
    assert snap(raw, XZ, 2 * XZ[:, 0], ["x", "z"], admissible=lambda expr: False) == raw


def test_snap_all_passes_the_hook_on() -> None:
    raws = [1.0000001 * x + 0.9999999 * z, 2.0000003 * x]
    y = XZ[:, 0] + XZ[:, 1]
    free, hooked = (snap_all(raws, XZ, y, ["x", "z"], SnapSettings(), admissible=h) for h in (None, no_bare_sum))
    assert free[0] == x + z and hooked[0] != x + z and no_bare_sum(hooked[0])


def test_a_hook_that_is_not_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="admissible must be a function"):
        snap(2.0000003 * x, XZ, 2 * XZ[:, 0], ["x", "z"], admissible="units")  # type: ignore[arg-type]


# -- constants that err together -------------------------------------------------------------------------------


def test_constants_off_together_snap_together() -> None:
    # Operon's raw front entry for depth3_mode_rhs, seed 3 (Budget.quick), on that table: expanded, exponent and
    # coefficient are both ~1.2e-7 relative off (3.0000004·s·u^1.3333335 − 3.0000004·u^2.3333335), compensating
    # on these rows: one at a time, largest first, stopped at 3·s·u^1.3333335 − 3.0000004·u^(7/3); both at once fit.
    from discover.problems import get_problem

    table = get_problem("depth3_mode_rhs").data(3)
    X, y = table[["u", "s"]].to_numpy(), table["du_dt"].to_numpy()
    raw = sp.Float(23.0627284899774) * u ** sp.Float(1.33333349227905) * (
        sp.Float(0.130080029368401) * s - sp.Float(0.130080029368401) * u
    ) + sp.Float(5.08626314399407e-8)
    out = snap(raw, X, y, ["u", "s"])
    assert sp.expand(out - 3 * u ** sp.Rational(4, 3) * (s - u)) == 0
    assert mse(out, X, y, ["u", "s"]) <= 1.05 * mse(raw, X, y, ["u", "s"]) + loss_floor(y)


def test_only_constants_within_float32_accuracy_are_snapped_together() -> None:
    assert _within_float32(3.00000039929171, 12) == 3
    assert _within_float32(float(np.float32(1 / 3)), 12) == sp.Rational(1, 3)
    assert _within_float32(3.00001, 12) is None  # 3e-6 relative: more than 8 float32 ulps away from 3


def test_factoring_is_kept_to_small_exact_coefficients():
    """Exact forms are factored when their coefficients are small (that is where it tidies a snapped law), and
    left expanded above `_MAX_FACTOR_COEFFICIENT`, where SymPy's multivariate factoring took minutes on a study's
    front; the rewrite would be the same kind of tidying either way, so nothing but the cost is lost."""
    from discover.snapping import _MAX_FACTOR_COEFFICIENT

    small = 2 * s * u - 2 * u**2
    assert _normal_forms(small)[-1] == 2 * u * (s - u)
    big = _MAX_FACTOR_COEFFICIENT + 1
    large = big * s * u - big * u**2
    assert _normal_forms(large) == (sp.expand(large),)
    # the cap is on each numerator and denominator, not on the size of the value
    assert _normal_forms(sp.Rational(1, big) * (s * u - u**2)) == (sp.expand(sp.Rational(1, big) * (s * u - u**2)),)
