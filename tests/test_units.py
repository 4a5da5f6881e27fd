"""Units per column (`discover.units`): the Dimension algebra, the allow-list parser, the column check, and the
dimensional rule that prunes candidates.

The expected dimensions are derived by hand from the physics of each example (kinetic energy is kg·m²/s²,
Coulomb's force kg·m/s², …), not read from the code's output.
"""

from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from discover.units import (
    ANY,
    DIMENSIONLESS,
    Dimension,
    DimensionError,
    admissible,
    check_units,
    dimension_of,
    parse_units,
)

m, v, E, t, x, y, c, q1, q2, eps, r, F, theta, n = sp.symbols("m v E t x y c q1 q2 eps r F theta n", real=True)
ENERGY = Dimension({"kg": 1, "m": 2, "s": -2})
FORCE = Dimension({"kg": 1, "m": 1, "s": -2})
UNITS = {
    "m": "kg",
    "v": "m/s",
    "c": "m s^-1",
    "E": "kg*m^2/s^2",
    "t": "s",
    "x": "m",
    "y": "m",
    "q1": "C",
    "q2": "C",
    "eps": "C^2 s^2 kg^-1 m^-3",  # vacuum permittivity: C²/(N·m²), N = kg·m/s²
    "r": "m",
    "F": "kg m / s^2",
    "theta": "1",
    "n": "1",
}


# -- Dimension ------------------------------------------------------------------------------------------------


def test_dimension_algebra_drops_zeros_and_compares_by_value():
    speed = Dimension({"m": 1, "s": -1})
    assert speed * Dimension({"s": 1}) == Dimension({"m": 1})
    assert (speed / speed).is_dimensionless and speed / speed == DIMENSIONLESS
    assert speed ** Fraction(1, 2) == Dimension({"m": Fraction(1, 2), "s": Fraction(-1, 2)})
    assert Dimension({"m": 1, "s": 0}) == Dimension({"m": 1})
    assert hash(Dimension({"s": -1, "m": 1})) == hash(speed)
    assert len({speed, Dimension({"m": 1, "s": -1})}) == 1
    assert str(Dimension({"s": -2, "m": 1})) == "m*s^-2" and str(DIMENSIONLESS) == "1"
    assert dict(speed) == {"m": Fraction(1), "s": Fraction(-1)}
    assert speed != Dimension({"m": 1})


def test_dimension_refuses_bad_entries():
    with pytest.raises(ValueError, match="identifier"):
        Dimension({"2m": 1})
    with pytest.raises(TypeError, match="int or a Fraction"):
        Dimension({"m": 0.5})


@given(
    st.dictionaries(
        st.sampled_from(["m", "s", "kg", "K", "mol", "A_1"]),
        st.fractions(min_value=-4, max_value=4, max_denominator=6),
        max_size=5,
    )
)
def test_str_parses_back_to_the_same_dimension(exponents):
    dimension = Dimension(exponents)
    assert parse_units(str(dimension)) == dimension


# -- parse_units ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kg*m^2*s^-2", ENERGY),
        ("kg m^2 / s^2", ENERGY),
        ("kg·m**2·s**-2", ENERGY),
        ("J", Dimension({"J": 1})),  # no SI conversion: J is a base of its own
        ("(m/s)^2", Dimension({"m": 2, "s": -2})),
        ("m/s/s", Dimension({"m": 1, "s": -2})),
        ("m/s*kg", Dimension({"m": 1, "kg": 1, "s": -1})),  # left to right: (m/s)·kg
        ("m^(1/2)", Dimension({"m": Fraction(1, 2)})),
        ("m^(-3/2) s", Dimension({"m": Fraction(-3, 2), "s": 1})),
        ("1/s", Dimension({"s": -1})),
        ("1", DIMENSIONLESS),
        ("", DIMENSIONLESS),
        ("  ", DIMENSIONLESS),
        ("m/m", DIMENSIONLESS),
    ],
)
def test_parse_units_reads_the_grammar(text, expected):
    assert parse_units(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2*m", "the number 2"),
        ("m^", "ends where"),
        ("m^x", "expected an integer exponent"),
        ("m^1.5", "'.'"),
        ("m^^2", "expected an integer exponent"),
        ("(m", "ends where"),
        ("m)", "unexpected '\\)'"),
        ("m$", "'\\$'"),
        ("m^2^3", "chained exponent"),
        ("m^(1/0)", "positive integer denominator"),
        ("m^(1/2 s", "closing the exponent"),
        ("m^(1/2", "ends where"),
        ("m+s", "unexpected '\\+'"),
        ("()", "expected a unit"),
        ("__import__('os')", "not part of the units grammar"),
    ],
)
def test_parse_units_names_the_offending_text(text, complaint):
    with pytest.raises(ValueError, match=complaint) as info:
        parse_units(text)
    message = str(info.value)
    assert repr(text) in message and "allowed:" in message


def test_parse_units_refuses_non_text():
    with pytest.raises(TypeError, match="text"):
        parse_units(3)


# -- check_units ----------------------------------------------------------------------------------------------


def test_check_units_gives_every_used_column_in_order():
    out = check_units({"y": "m", "t": "s", "v": Dimension({"m": 1, "s": -1})}, ["t", "v"], "y")
    assert list(out) == ["t", "v", "y"]
    assert out["v"] * out["t"] == out["y"]


def test_check_units_names_missing_and_stray_columns():
    with pytest.raises(ValueError, match=r"missing for column\(s\) \['y'\].*\"1\""):
        check_units({"t": "s"}, ["t"], "y")
    with pytest.raises(ValueError, match=r"\['tt'\].*not used columns"):
        check_units({"t": "s", "y": "m", "tt": "s"}, ["t"], "y")
    with pytest.raises(ValueError, match=r"units of column 't'.*the number 3"):
        check_units({"t": "3 s", "y": "m"}, ["t"], "y")
    with pytest.raises(TypeError, match="column 't'"):
        check_units({"t": 1.0, "y": "m"}, ["t"], "y")
    with pytest.raises(TypeError, match="mapping"):
        check_units(["t", "y"], ["t"], "y")


# -- the dimensional rule -------------------------------------------------------------------------------------


def test_feynman_style_laws_get_their_physical_dimension():
    units = UNITS
    assert dimension_of(m * v**2 / 2, units) == ENERGY  # kinetic energy
    assert dimension_of(m * c**2, units) == ENERGY  # rest energy
    assert dimension_of(q1 * q2 / (4 * sp.pi * eps * r**2), units) == FORCE  # Coulomb (Feynman I.12.2)
    assert dimension_of(m / sp.sqrt(1 - v**2 / c**2), units) == Dimension({"kg": 1})  # relativistic mass (I.10.7)
    assert dimension_of(sp.sqrt(x**2 + y**2), units) == Dimension({"m": 1})  # distance (I.8.14, shifted)
    assert dimension_of(sp.exp(-(theta**2) / 2) / sp.sqrt(2 * sp.pi), units) == DIMENSIONLESS  # I.6.2a
    assert dimension_of(x / t - v, units) == Dimension({"m": 1, "s": -1})


def test_inconsistent_expressions_are_refused_with_the_subexpression_named():
    with pytest.raises(DimensionError, match=r"E \+ m\*v: the terms disagree") as info:
        dimension_of(m * v + E, UNITS)
    assert "kg*m*s^-1" in str(info.value) and "kg*m^2*s^-2" in str(info.value)
    with pytest.raises(DimensionError, match=r"exp\(t\): the argument t has dimension s"):
        dimension_of(sp.exp(t), UNITS)
    with pytest.raises(
        DimensionError, match=r"1 - v\*\*2: the terms disagree: 1 has dimension 1, -v\*\*2 has m\^2\*s\^-2"
    ):
        dimension_of(m / sp.sqrt(1 - v**2), UNITS)  # v² in m²/s² added to 1
    with pytest.raises(DimensionError, match="the exponent"):
        dimension_of(theta**t, UNITS)  # a dimensional exponent
    with pytest.raises(DimensionError, match="non-rational power"):
        dimension_of(r**n, UNITS)  # metres to a symbolic power
    with pytest.raises(DimensionError, match="non-rational power"):
        dimension_of(r ** sp.sqrt(2), UNITS)
    with pytest.raises(DimensionError, match="floor"):
        dimension_of(sp.floor(t), UNITS)
    with pytest.raises(DimensionError, match="terms disagree"):
        dimension_of(sp.Max(x, t), UNITS)
    with pytest.raises(DimensionError, match="terms disagree"):
        dimension_of(sp.atan2(x, t), UNITS)
    # an error inside a product with a fitted constant is still an error
    with pytest.raises(DimensionError, match=r"exp\(t\)"):
        dimension_of(sp.Float(1.5) * sp.exp(t), UNITS)


def test_fitted_constants_carry_any_units():
    assert dimension_of(sp.exp(sp.Float(1.3) * t), UNITS) == DIMENSIONLESS
    assert dimension_of(sp.Float(2.5) * m * v, UNITS) is ANY
    assert dimension_of(sp.Float(1.0) + sp.Float(2.0), UNITS) is ANY
    assert dimension_of(sp.exp(sp.Float(1.3)), UNITS) is ANY  # a number built from a fitted constant
    assert dimension_of(sp.Float(2.0) ** sp.Rational(1, 2), UNITS) is ANY
    assert dimension_of(x + sp.Float(0.5), UNITS) == Dimension({"m": 1})  # the constant takes metres
    with pytest.raises(DimensionError):
        dimension_of(r ** sp.Float(2.0), UNITS)  # a fitted exponent on metres: snap it first


def test_exact_numbers_are_dimensionless():
    for number in (sp.Integer(3), sp.Rational(1, 4), sp.pi, sp.E, sp.sqrt(2), sp.log(2)):
        assert dimension_of(number, UNITS) == DIMENSIONLESS
    assert dimension_of(sp.sqrt(2) * x, UNITS) == Dimension({"m": 1})


def test_abs_sign_and_functions():
    assert dimension_of(sp.Abs(v), UNITS) == Dimension({"m": 1, "s": -1})
    assert dimension_of(sp.sign(v), UNITS) == DIMENSIONLESS
    assert dimension_of(sp.atan2(x, y), UNITS) == DIMENSIONLESS
    assert dimension_of(sp.tanh(x / y) + sp.sin(theta) + sp.log(n), UNITS) == DIMENSIONLESS


def test_a_symbol_without_units_and_a_node_without_a_rule():
    with pytest.raises(ValueError, match="'z' has no units"):
        dimension_of(sp.Symbol("z") * x, UNITS)
    with pytest.raises(DimensionError, match="no dimension rule"):
        dimension_of(sp.Piecewise((x, x > 0), (y, True)), UNITS)
    with pytest.raises(TypeError, match="SymPy expression"):
        dimension_of("x + y", UNITS)


def test_symbols_are_matched_by_name():
    assert dimension_of(sp.Symbol("x") * sp.Symbol("x", positive=True), UNITS) == Dimension({"m": 2})


def test_admissible_compares_with_the_target():
    m1, m2 = sp.symbols("m1 m2", real=True)
    units = {"m1": "kg", "m2": "kg", "r": "m", "F": "kg*m/s^2"}
    assert admissible(sp.Float(6.674e-11) * m1 * m2 / r**2, units, "F")  # G is fitted: never pruned
    assert not admissible(m1 * m2 / r**2, units, "F")  # kg²/m² is not a force
    assert not admissible(m1 + r, units, "F")  # inconsistent
    energy = {"m": "kg", "v": "m/s", "E": "kg*m^2/s^2"}
    assert admissible(m * v**2 / 2, energy, "E")
    assert not admissible(m * v / 2, energy, "E")
    assert not admissible(m * v + sp.Symbol("E"), energy, "E")
    with pytest.raises(ValueError, match="target 'F' has no units"):
        admissible(m1, {"m1": "kg"}, "F")
