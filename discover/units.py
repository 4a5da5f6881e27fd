"""Optional units per column, to prune dimensionally impossible candidates.

A column's units are a `Dimension`: a product of base units with rational exponents, written as text such as
``"kg*m^2*s^-2"`` and read by `parse_units`. Every identifier is a base unit of its own: ``J`` is *not* converted to
``kg*m^2*s^-2`` and ``km`` is not ``1000*m`` (there is no SI table and no scale factor), so give related columns
their units in the same base names. ``"1"`` (or ``""``) is dimensionless.

**The rule** (`dimension_of`). A candidate is built from the columns, exact numbers, fitted constants and
functions. Its dimension follows from the dimensions of its leaves:

- a ``Float`` atom is a *fitted constant* and may carry any units: it is `ANY`, a wildcard. So a law with a
  dimensional constant (G in G·m1·m2/r², k_B in k_B·T) is never pruned: the constant absorbs the units;
- an exact number (``Integer``, ``Rational``, π, E, √2, log 2 …: any number with no ``Float`` in it) is
  dimensionless; a number built with a ``Float`` (``exp(1.3)``) is a fitted constant, `ANY`;
- ``Add``, ``Min``, ``Max``: every term that is not `ANY` has the same dimension, which is the result (`ANY` when
  all terms are `ANY`): metres cannot be added to seconds;
- ``Mul``: exponents add; `ANY` if any factor is `ANY` (the constant can make the product anything);
- ``Pow`` with an exact rational exponent scales the base's exponents (``sqrt(x**2 + y**2)`` is metres when x
  and y are); `ANY` stays `ANY`. Any other exponent (a symbol, a ``Float``, √2): base and exponent must both be
  dimensionless or `ANY`, and the result is dimensionless — m^0.37 has no meaning in a unit system with
  integer-rational exponents, and its value would depend on the unit chosen;
- transcendental functions (exp, log, sin, cos, tan, tanh, asin, …, and any other function without a rule
  below): every argument dimensionless or `ANY`, result dimensionless (exp(t) with t in seconds changes with the
  unit of time; exp(1.3·t) does not, as the constant carries 1/s);
- ``Abs`` keeps its argument's dimension; ``sign`` is dimensionless whatever its argument; ``floor`` and
  ``ceiling`` need a dimensionless (or `ANY`) argument, since where a quantity rounds depends on its unit;
  ``atan2(y, x)`` needs y and x to agree and is dimensionless.

When no assignment of units to the fitted constants makes the expression consistent, `dimension_of` raises
`DimensionError` naming the offending subexpression. `admissible` asks the question discovery needs: is the
candidate consistent, with the target's dimension (or `ANY`)?

>>> import sympy as sp
>>> m, v, E = sp.symbols("m v E", real=True)
>>> units = check_units({"m": "kg", "v": "m/s", "E": "kg*m^2*s^-2"}, ["m", "v"], "E")
>>> str(dimension_of(m * v**2 / 2, units))
'kg*m^2*s^-2'
>>> admissible(m * v + E, units, "E")
False
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Final

import sympy as sp

__all__ = [
    "ANY",
    "DIMENSIONLESS",
    "AnyDimension",
    "Dimension",
    "DimensionError",
    "admissible",
    "check_units",
    "dimension_of",
    "parse_units",
]


class DimensionError(ValueError):
    """An expression has no consistent dimension: the message names the subexpression and the disagreement."""


class Dimension(Mapping[str, Fraction]):
    """An immutable, hashable map from base-unit name to a nonzero `fractions.Fraction` exponent.

    Zero exponents are dropped, so equal dimensions compare and hash equal whatever way they were built.

    >>> speed = Dimension({"m": 1, "s": -1})
    >>> str(speed / Dimension({"s": 1})), str(speed ** Fraction(2)), str(speed / speed)
    ('m*s^-2', 'm^2*s^-2', '1')
    >>> (speed * Dimension({"s": 1})) == Dimension({"m": 1}), Dimension({}).is_dimensionless
    (True, True)
    """

    __slots__ = ("_exponents",)

    def __init__(self, exponents: Mapping[str, int | Fraction] | None = None) -> None:
        items: list[tuple[str, Fraction]] = []
        for name, exponent in (exponents or {}).items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"a base unit must be named by an identifier, got {name!r}")
            if isinstance(exponent, bool) or not isinstance(exponent, (int, Fraction)):
                raise TypeError(f"the exponent of {name!r} must be an int or a Fraction, got {exponent!r}")
            if exponent != 0:
                items.append((name, Fraction(exponent)))
        self._exponents: tuple[tuple[str, Fraction], ...] = tuple(sorted(items))

    def __getitem__(self, name: str) -> Fraction:
        for base, exponent in self._exponents:
            if base == name:
                return exponent
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (base for base, _ in self._exponents)

    def __len__(self) -> int:
        return len(self._exponents)

    def __hash__(self) -> int:
        return hash(self._exponents)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dimension):
            return self._exponents == other._exponents
        return NotImplemented

    def __mul__(self, other: Dimension) -> Dimension:
        if not isinstance(other, Dimension):
            return NotImplemented
        total = dict(self._exponents)
        for base, exponent in other._exponents:
            total[base] = total.get(base, Fraction(0)) + exponent
        return Dimension(total)

    def __truediv__(self, other: Dimension) -> Dimension:
        if not isinstance(other, Dimension):
            return NotImplemented
        return self * other ** Fraction(-1)

    def __pow__(self, exponent: int | Fraction) -> Dimension:
        if isinstance(exponent, bool) or not isinstance(exponent, (int, Fraction)):
            return NotImplemented
        return Dimension({base: e * Fraction(exponent) for base, e in self._exponents})

    @property
    def is_dimensionless(self) -> bool:
        """True when no base unit has a nonzero exponent."""
        return not self._exponents

    def __str__(self) -> str:
        if not self._exponents:
            return "1"
        parts = []
        for base, exponent in self._exponents:
            if exponent == 1:
                parts.append(base)
            elif exponent.denominator == 1:
                parts.append(f"{base}^{exponent.numerator}")
            else:
                parts.append(f"{base}^({exponent.numerator}/{exponent.denominator})")
        return "*".join(parts)

    def __repr__(self) -> str:
        return f"Dimension({str(self)!r})"


DIMENSIONLESS: Final = Dimension()


class AnyDimension:
    """The type of `ANY`: the dimension of a fitted constant, which may carry any units (a wildcard)."""

    _instance: AnyDimension | None = None

    def __new__(cls) -> AnyDimension:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"

    __str__ = __repr__


ANY: Final = AnyDimension()

# -- parsing -------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<name>[^\W\d]\w*)|(?P<int>\d+)|(?P<op>\*\*|[*/^()·+-]))")
_ALLOWED = (
    "allowed: base-unit identifiers (m, s, kg, K, J …; each its own base, no SI conversion), '*', '/', a space or "
    "'·' for multiplication, '^' or '**' with an integer (s^-2) or a parenthesised fraction (m^(1/2)), brackets, "
    "and '1' or '' for dimensionless"
)


def parse_units(text: str) -> Dimension:
    """The `Dimension` written in ``text``, read by a small allow-list parser (nothing is evaluated).

    Grammar: ``product := power (('*' | '/' | '·' | space) power)*``; ``power := atom [('^' | '**') exponent]``;
    ``atom := identifier | '1' | '(' product ')'``; ``exponent := ['-'] integer | '(' ['-'] integer ['/' integer]
    ')'``. Division and multiplication group left to right (``m/s*kg`` is m·kg/s). Any identifier is a base unit
    of its own (see the module docstring); there are no numeric scale factors.

    >>> parse_units("kg m^2 / s^2")
    Dimension('kg*m^2*s^-2')
    >>> parse_units("m^(1/2)·s**-1"), parse_units("1"), parse_units("")
    (Dimension('m^(1/2)*s^-1'), Dimension('1'), Dimension('1'))
    >>> parse_units("2*m")
    Traceback (most recent call last):
    ...
    ValueError: units '2*m': the number 2 at position 0 is not a unit (only '1', dimensionless, is); allowed: \
base-unit identifiers (m, s, kg, K, J …; each its own base, no SI conversion), '*', '/', a space or '·' for \
multiplication, '^' or '**' with an integer (s^-2) or a parenthesised fraction (m^(1/2)), brackets, and '1' or '' \
for dimensionless
    """
    if not isinstance(text, str):
        raise TypeError(f"units must be given as text such as 'm/s', got {type(text).__name__} {text!r}")
    if not text.strip():
        return DIMENSIONLESS
    return _UnitsParser(text).parse()


class _UnitsParser:
    """Recursive descent over the tokens of one units string (see `parse_units` for the grammar)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, position)
        position = 0
        stripped_end = len(text.rstrip())
        while position < stripped_end:
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                bad = text[position:].lstrip()[:1]
                where = len(text) - len(text[position:].lstrip())
                raise self.error(f"the character {bad!r} at position {where} is not part of the units grammar")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        self.index = 0

    def error(self, message: str) -> ValueError:
        return ValueError(f"units {self.text!r}: {message}; {_ALLOWED}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise self.error("it ends where a unit or an exponent was expected")
        self.index += 1
        return token

    def parse(self) -> Dimension:
        result = self.product()
        token = self.peek()
        if token is not None:
            raise self.error(f"unexpected {token[1]!r} at position {token[2]}")
        return result

    def product(self) -> Dimension:
        result = self.power()
        while True:
            token = self.peek()
            if token is None or token[1] == ")":
                return result
            if token[1] in ("*", "·", "/"):
                self.take()
                factor = self.power()
                result = result / factor if token[1] == "/" else result * factor
            elif token[0] in ("name", "int") or token[1] == "(":
                result = result * self.power()  # juxtaposition: "kg m^2"
            else:
                raise self.error(f"unexpected {token[1]!r} at position {token[2]}")

    def power(self) -> Dimension:
        base = self.atom()
        token = self.peek()
        if token is not None and token[1] in ("^", "**"):
            self.take()
            base = base ** self.exponent()
            following = self.peek()
            if following is not None and following[1] in ("^", "**"):
                raise self.error(f"a chained exponent at position {following[2]}; use brackets, e.g. (m^2)^3")
        return base

    def atom(self) -> Dimension:
        kind, value, position = self.take()
        if kind == "name":
            return Dimension({value: 1})
        if kind == "int":
            if value != "1":
                raise self.error(
                    f"the number {value} at position {position} is not a unit (only '1', dimensionless, is)"
                )
            return DIMENSIONLESS
        if value == "(":
            inner = self.product()
            closing = self.take()
            if closing[1] != ")":  # pragma: no cover - product() stops only at ')' or the end
                raise self.error(f"expected ')' at position {closing[2]}")
            return inner
        raise self.error(f"expected a unit at position {position}, found {value!r}")

    def exponent(self) -> Fraction:
        token = self.take()
        if token[1] == "(":
            value = self.signed_integer()
            token = self.take()
            if token[1] == "/":
                denominator = self.take()
                if denominator[0] != "int" or int(denominator[1]) == 0:
                    raise self.error(f"expected a positive integer denominator at position {denominator[2]}")
                value = value / int(denominator[1])
                token = self.take()
            if token[1] != ")":
                raise self.error(f"expected ')' closing the exponent at position {token[2]}")
            return value
        self.index -= 1
        return self.signed_integer()

    def signed_integer(self) -> Fraction:
        sign = 1
        token = self.take()
        if token[1] in ("-", "+"):
            sign = -1 if token[1] == "-" else 1
            token = self.take()
        if token[0] != "int":
            raise self.error(
                f"expected an integer exponent at position {token[2]}, found {token[1]!r} "
                "(a fraction goes in brackets: m^(1/2))"
            )
        return Fraction(sign * int(token[1]))


# -- checking the columns ------------------------------------------------------------------------------------


def _as_dimension(name: str, value: str | Dimension) -> Dimension:
    if isinstance(value, Dimension):
        return value
    if isinstance(value, str):
        try:
            return parse_units(value)
        except ValueError as exc:
            raise ValueError(f"units of column {name!r}: {exc}") from None
    raise TypeError(f"units of column {name!r} must be text such as 'm/s' or a Dimension, got {type(value).__name__}")


def check_units(units: Mapping[str, str | Dimension], features: Sequence[str], target: str) -> dict[str, Dimension]:
    """The `Dimension` of every used column (features, then target), read from ``units``.

    Every used column must have units (``"1"`` for a dimensionless one), and every key must be a used column: a
    missing or a stray key raises `ValueError` naming it and the fix, so that a typo cannot switch pruning off.

    >>> check_units({"t": "s", "s": "1/s", "y": "1"}, ["t", "s"], "y")
    {'t': Dimension('s'), 's': Dimension('s^-1'), 'y': Dimension('1')}
    >>> check_units({"t": "s"}, ["t", "s"], "y")
    Traceback (most recent call last):
    ...
    ValueError: units are missing for column(s) ['s', 'y']: give every feature and the target units (use "1" for a \
dimensionless column)
    """
    if not isinstance(units, Mapping):
        raise TypeError(f"units must be a mapping of column name to units text, got {type(units).__name__}")
    used = [*features, target]
    stray = [key for key in units if key not in used]
    if stray:
        raise ValueError(
            f"units are given for {stray}, which are not used columns {used}: remove them or fix the column names"
        )
    missing = [name for name in used if name not in units]
    if missing:
        raise ValueError(
            f"units are missing for column(s) {missing}: give every feature and the target units "
            '(use "1" for a dimensionless column)'
        )
    return {name: _as_dimension(name, units[name]) for name in used}


# -- the dimension of an expression --------------------------------------------------------------------------

DimensionOrAny = Dimension | AnyDimension


def dimension_of(expr: sp.Expr, units: Mapping[str, str | Dimension]) -> Dimension | AnyDimension:
    """The dimension of ``expr`` when its symbols (matched by name) have ``units``, or `ANY`.

    Raises `DimensionError` naming the offending subexpression when no units of the fitted constants make it
    consistent (the rules are in the module docstring), and `ValueError` for a symbol without units.

    >>> t, x, y = sp.symbols("t x y", real=True)
    >>> units = {"t": "s", "x": "m", "y": "m"}
    >>> dimension_of(sp.exp(1.3 * t), units), dimension_of(sp.sqrt(x**2 + y**2), units)
    (Dimension('1'), Dimension('m'))
    >>> dimension_of(sp.exp(t), units)
    Traceback (most recent call last):
    ...
    discover.units.DimensionError: exp(t): the argument t has dimension s; it must be dimensionless (or contain a \
fitted constant to carry the units)
    """
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expr must be a SymPy expression, got {type(expr).__name__} (parse text with theory.parse)")
    dimensions = {name: _as_dimension(name, value) for name, value in units.items()}
    return _dimension(expr, dimensions)


def _require_dimensionless(node: sp.Basic, argument: sp.Basic, dimension: DimensionOrAny, what: str) -> None:
    if dimension is not ANY and not dimension.is_dimensionless:  # type: ignore[union-attr]
        raise DimensionError(
            f"{node}: {what} {argument} has dimension {dimension}; it must be dimensionless "
            "(or contain a fitted constant to carry the units)"
        )


def _agree(node: sp.Basic, args: Sequence[sp.Basic], dimensions: Sequence[DimensionOrAny]) -> DimensionOrAny:
    known = [(arg, d) for arg, d in zip(args, dimensions, strict=True) if d is not ANY]
    if not known:
        return ANY
    first_arg, first = known[0]
    for arg, d in known[1:]:
        if d != first:
            raise DimensionError(f"{node}: the terms disagree: {first_arg} has dimension {first}, {arg} has {d}")
    return first


def _dimension(node: sp.Basic, units: Mapping[str, Dimension]) -> DimensionOrAny:
    if isinstance(node, sp.Symbol):
        if node.name not in units:
            raise ValueError(f"symbol {node.name!r} has no units; give units for column {node.name!r}")
        return units[node.name]
    if node.is_number:
        # A number with a Float in it is (built from) a fitted constant; one without is exact.
        return ANY if node.has(sp.Float) else DIMENSIONLESS
    args = node.args
    if isinstance(node, (sp.Add, sp.Min, sp.Max)):
        return _agree(node, args, [_dimension(a, units) for a in args])
    if isinstance(node, sp.Mul):
        result: DimensionOrAny = DIMENSIONLESS
        for factor in args:
            d = _dimension(factor, units)  # every factor is checked, even after an ANY
            result = ANY if (result is ANY or d is ANY) else result * d  # type: ignore[operator]
        return result
    if isinstance(node, sp.Pow):
        base, exponent = args
        base_dimension = _dimension(base, units)
        if isinstance(exponent, sp.Rational):  # Integer or Rational: exact
            if base_dimension is ANY:
                return ANY
            return base_dimension ** Fraction(int(exponent.p), int(exponent.q))  # type: ignore[operator]
        _require_dimensionless(node, exponent, _dimension(exponent, units), "the exponent")
        _require_dimensionless(node, base, base_dimension, "the base (raised to a non-rational power)")
        return DIMENSIONLESS
    if isinstance(node, sp.Abs):
        return _dimension(args[0], units)
    if isinstance(node, sp.sign):
        _dimension(args[0], units)
        return DIMENSIONLESS
    if isinstance(node, sp.atan2):
        _agree(node, args, [_dimension(a, units) for a in args])
        return DIMENSIONLESS
    if isinstance(node, sp.Function):  # exp, log, sin, tanh, floor, … and any other function
        for argument in args:
            _require_dimensionless(node, argument, _dimension(argument, units), "the argument")
        return DIMENSIONLESS
    raise DimensionError(
        f"{node}: no dimension rule for a {type(node).__name__} node; "
        "supported: numbers, symbols, +, *, powers, Min/Max, Abs, sign, atan2 and functions of dimensionless arguments"
    )


def admissible(expr: sp.Expr, units: Mapping[str, str | Dimension], target: str) -> bool:
    """True when ``expr`` has a consistent dimension that is `ANY` or the dimension of column ``target``.

    >>> G, m1, m2, r, F = sp.symbols("G m1 m2 r F", real=True)
    >>> units = {"m1": "kg", "m2": "kg", "r": "m", "F": "kg*m/s^2"}
    >>> admissible(6.674e-11 * m1 * m2 / r**2, units, "F"), admissible(m1 * m2 / r**2, units, "F")
    (True, False)
    """
    if target not in units:
        raise ValueError(f"the target {target!r} has no units; give units for column {target!r}")
    try:
        dimension = dimension_of(expr, units)
    except DimensionError:
        return False
    return dimension is ANY or dimension == _as_dimension(target, units[target])
