"""The guards of `theory.parse.parse_expression`, pinned at their edges and by what they tell the user.

verify/test_parse.py shows that valid text round-trips and hostile text is refused; these tests pin each limit at
its boundary (the last accepted size and the first refused one, derived by hand), each refusal's message (the words
a user reads to find the problem and the fix) and the part of the text it quotes.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import sys

import pytest
import sympy as sp

from theory.parse import FUNCTIONS, MAX_DEPTH, MAX_DIGITS, MAX_LENGTH, MAX_NODES, ExpressionSyntaxError
from theory.parse import parse_expression as parse

XY = ["x", "y"]
x, y = sp.symbols("x y")


def refusal(text: str, symbols=XY, **options) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(text, symbols, **options)
    return info.value


# -- arguments ------------------------------------------------------------------------------------------------


def test_text_that_is_not_a_string_is_a_type_error_naming_its_type():
    with pytest.raises(TypeError, match="an expression must be given as a string, got Symbol"):
        parse(x, XY)
    with pytest.raises(TypeError, match="an expression must be given as a string, got int"):
        parse(3, XY)


def test_symbols_given_as_one_string_are_refused_with_the_list_to_write_instead():
    with pytest.raises(
        TypeError, match=re.escape("symbols must be a collection of names, not the string 'x'; e.g. ['x']")
    ):
        parse("x", "x")


def test_a_symbol_that_is_neither_name_nor_symbol_is_refused_naming_it_and_its_type():
    with pytest.raises(TypeError, match=re.escape("symbols must be names or sympy Symbols, got 3 (int)")):
        parse("x", ["x", 3])


def test_a_mapping_of_symbols_gives_its_symbols_with_their_assumptions():
    speed = sp.Symbol("v", positive=True)
    parsed = parse("sqrt(v**2)", {"v": speed})
    assert parsed == speed  # sqrt(v**2) = v only for a positive v: the mapping's Symbol, not a plain one
    assert parsed.is_positive


@pytest.mark.parametrize("name", ["1x", "x y", "__x", "__class__", ""])
def test_a_symbol_name_must_be_an_identifier_not_starting_with_two_underscores(name):
    message = f"symbol name {name!r} must be a Python identifier that does not start with '__'"
    with pytest.raises(ValueError, match=re.escape(message)):
        parse("1", [name])


def test_one_leading_underscore_is_a_valid_symbol_name():
    assert parse("_x + 1", ["_x"]) == sp.Symbol("_x") + 1


@pytest.mark.parametrize("name", ["pi", "E", "exp", "abs"])
def test_a_symbol_name_that_shadows_a_function_or_constant_is_refused_with_the_fix(name):
    message = f"symbol name {name!r} is also a function or constant of the parser; rename it"
    with pytest.raises(ValueError, match=re.escape(message)):
        parse("1", [name])


def test_two_different_symbols_of_one_name_are_refused_but_a_repeated_one_is_fine():
    positive = sp.Symbol("x", positive=True)
    with pytest.raises(ValueError, match="two different symbols are named 'x'"):
        parse("x", [x, positive])
    assert parse("x", ["x", "x"]) == x
    assert parse("x", [positive, positive]) == positive


# -- size limits, at their boundaries ----------------------------------------------------------------------------


def test_the_length_limit_admits_exactly_max_length_characters():
    assert parse("x" + " " * (MAX_LENGTH - 1), XY) == x  # MAX_LENGTH characters, blanks included
    text = "x + y" + " " * (MAX_LENGTH - 4)  # one more
    exc = refusal(text)
    assert f"the text is {MAX_LENGTH + 1} characters long; the limit is {MAX_LENGTH}" in str(exc)
    assert exc.fragment == "x + y" + " " * 35  # the first 40 characters


def test_bracket_nesting_is_refused_past_100_open_brackets_quoting_where():
    assert parse("(" * 100 + "x" + ")" * 100, XY) == x
    # closed brackets do not add up, and letters are not brackets
    assert parse(" + ".join(["(x)"] * 150), XY) == 150 * x
    assert parse("*".join(["X"] * 150), ["X"]) == sp.Symbol("X") ** 150
    for prefix in ("", "(x) + ", "X + ", "[x] and "):
        text = prefix + "(" * 101 + "x" + ")" * 101
        exc = refusal(text, ["x", "X"])
        assert "brackets nest more than 100 deep" in str(exc), text
        assert exc.fragment == "(" * 21  # the 20 characters before the 101st open bracket, and it
    # a closing bracket lowers the count by one, not to zero: 60 open, (y) opened and closed, then 41 more
    text = "(" * 60 + "x + (y) + " + "(" * 41 + "x" + ")" * 101
    assert "brackets nest more than 100 deep" in str(refusal(text))


def _balanced_sum_product(sign: str) -> str:
    # 50 groups of 50 names joined by 49 '+' each (99 nodes a group), the groups joined by 49 '*': 4999 nodes,
    # plus one node per sign. The nesting stays shallow (a chain is one level), so only the count can refuse it.
    group = "(" + "+".join(["x"] * 50) + ")"
    return sign + "*".join([group] * 50)


def _count_nodes(text: str) -> int:
    """The syntax nodes of ``text`` as the limit counts them: expressions, not operators or contexts."""
    skipped = (ast.Expression, ast.operator, ast.unaryop, ast.expr_context)
    return sum(not isinstance(node, skipped) for node in ast.walk(ast.parse(text, mode="eval")))


def test_the_node_limit_admits_exactly_max_nodes_nodes():
    accepted, refused = _balanced_sum_product("-"), _balanced_sum_product("--")
    assert (_count_nodes(accepted), _count_nodes(refused)) == (MAX_NODES, MAX_NODES + 1)
    assert parse(accepted, XY) == -((50 * x) ** 50)
    exc = refusal(refused)
    assert f"the expression has more than {MAX_NODES} syntax nodes" in str(exc)
    assert exc.fragment == refused[:40]


def test_nesting_is_measured_to_the_deepest_node_and_quotes_it():
    # sin(...(x + y)...) with k calls: the k-th call is at level k, the sum at k + 1, its names at k + 2
    depth_of_names = MAX_DEPTH - 2
    assert parse("sin(" * depth_of_names + "x + y" + ")" * depth_of_names, XY).count(sp.sin) == depth_of_names
    exc = refusal("sin(" * (MAX_DEPTH - 1) + "x + y" + ")" * (MAX_DEPTH - 1))
    assert f"the expression nests more than {MAX_DEPTH} levels deep" in str(exc)
    assert exc.fragment in ("x", "y")  # a name at level MAX_DEPTH + 1
    exc = refusal("sin(" * MAX_DEPTH + "x + y" + ")" * MAX_DEPTH)
    assert exc.fragment == "x + y"  # the sum at level MAX_DEPTH + 1


def test_left_nested_powers_count_as_nesting():
    # ((x**2)**2)**2 …: k powers put x at level k + 1
    k = MAX_DEPTH - 1
    assert parse("(" * k + "x" + ")**2" * k, XY) == x ** (2**k)
    with pytest.raises(ExpressionSyntaxError, match="nests more than 100 levels deep"):
        parse("(" * MAX_DEPTH + "x" + ")**2" * MAX_DEPTH, XY)


def test_right_nested_sums_count_as_nesting_unlike_a_flat_chain():
    # x + (x + (x + …)): each bracketed sum is one level deeper; k sums put the innermost names at level k + 1
    k = MAX_DEPTH - 1
    assert parse("x + (" * k + "x" + ")" * k, XY) == (k + 1) * x
    with pytest.raises(ExpressionSyntaxError, match="nests more than 100 levels deep"):
        parse("x + (" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, XY)


def test_operands_on_the_right_of_an_operator_are_measured_too():
    with pytest.raises(ExpressionSyntaxError, match="nests more than 100 levels deep"):
        parse("1 + " + "sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, XY)


def test_text_too_deep_for_pythons_own_parser_is_refused_as_such():
    text = "-" * 9000 + "x"  # no brackets, under MAX_LENGTH: CPython's parser gives up first
    exc = refusal(text)
    assert str(exc).startswith('the text is too deeply nested or malformed to parse in "-----')
    assert exc.text == text and exc.fragment == text


def test_a_build_that_runs_out_of_stack_is_refused_not_crashed():
    # A caller deep in its own recursion has little stack left: 90 nested calls are within MAX_DEPTH, but
    # building them needs more frames than are left here, and the refusal says so instead of a RecursionError.
    text = "sin(" * 90 + "x" + ")" * 90
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 120)
    try:
        exc = refusal(text)
    finally:
        sys.setrecursionlimit(limit)
    assert str(exc).startswith('the expression is too deeply nested to build in "sin(sin(')
    assert exc.text == text and exc.fragment == text
    assert parse(text, XY).count(sp.sin) == 90  # with the usual stack it is fine


# -- syntax errors ----------------------------------------------------------------------------------------------


def _python_column(text: str) -> int:
    """Where Python's own compiler places a syntax error (1-based column), for an independent expectation."""
    with pytest.raises(SyntaxError) as info:
        compile(text, "<text>", "eval")
    return info.value.offset


def test_a_syntax_error_quotes_ten_characters_either_side_of_pythons_column():
    text = "x + y + x + y + x +* 2 + y + x + y + x + y"
    column = _python_column(text) - 1
    near = text[column - 10 : column + 10]
    exc = refusal(text)
    assert str(exc).startswith(f'invalid syntax near "{near}" in "{text}";'), str(exc)
    assert exc.fragment == near and exc.text == text
    assert "(invalid syntax)" not in str(exc)  # Python's generic message adds nothing


def test_a_syntax_error_in_indented_text_quotes_the_text_as_stripped():
    text = "x + y + x + y + x +* 2 + y + x + y + x + y"
    column = _python_column(text) - 1
    exc = refusal("   " + text + "  ")
    assert exc.fragment == text[column - 10 : column + 10] and exc.text == text


def test_a_syntax_error_at_the_first_column_quotes_the_start():
    text = ") + x + y + x + y + x"
    assert _python_column(text) == 1
    assert refusal(text).fragment == text[:10]


def test_a_syntax_error_says_pythons_reason_when_it_has_one():
    exc = refusal("x + (y")
    assert "invalid syntax near \"x + (y\" ('(' was never closed)" in str(exc)


def test_a_syntax_error_on_a_later_line_quotes_the_first_60_characters():
    text = "(x + y + x + y + x + y + x + y + x + y + x + y + x + y + x + y + x\n+* 2)"
    exc = refusal(text)
    assert exc.fragment == text[:60]


# -- what is refused, and the message that names it ---------------------------------------------------------------

ALLOWED_XY = (
    "allowed: numbers, the symbols ['x', 'y'], the constants pi and E, + - * / ** and calls of "
    + ", ".join(FUNCTIONS)
    + " with positional arguments"
)


@pytest.mark.parametrize(
    ("text", "message", "fragment"),
    [
        ("x and y", 'a boolean operator "x and y" is not allowed', "x and y"),
        ("(y := x)", 'an assignment "y := x" is not allowed', "y := x"),
        ("f'{x}'", "an f-string \"f'{x}'\" is not allowed", "f'{x}'"),
        ("exp(*x)", 'star-unpacking "*x" is not allowed', "*x"),
        ("x.real", 'attribute access "x.real" is not allowed', "x.real"),
        ("x.real(2)", 'attribute access "x.real" is not allowed', "x.real"),
        ("x[0]", 'a subscript "x[0]" is not allowed', "x[0]"),
        ("lambda: x", 'a lambda "lambda: x" is not allowed', "lambda: x"),
        ("x < y", 'a comparison "x < y" is not allowed', "x < y"),
        ("x if y else x", 'a conditional expression "x if y else x" is not allowed', "x if y else x"),
        ("[x]", 'a List node "[x]" is not allowed', "[x]"),
        ("{x}", 'a Set node "{x}" is not allowed', "{x}"),
        ("x & y", 'the operator BitAnd "x & y" is not allowed', "x & y"),
        ("~x", 'the operator Invert "~x" is not allowed', "~x"),
        ("not x", 'the operator Not "not x" is not allowed', "not x"),
        ("x @ y", 'the operator MatMult "x @ y" is not allowed', "x @ y"),
        ("x % y", 'the operator Mod "x % y" is not allowed', "x % y"),
        ("x // y", "floor division '//' (write '/') \"x // y\" is not allowed", "x // y"),
        ("True + x", 'a bool literal "True" is not allowed', "True"),
        ("None", 'a NoneType literal "None" is not allowed', "None"),
        ("x + 's'", "a str literal \"'s'\" is not allowed", "'s'"),
        ("x + 1j", 'a complex literal "1j" is not allowed', "1j"),
        ("x + exp", 'a function without its argument "exp" is not allowed', "exp"),
        ("x + z", 'unknown name "z" is not allowed', "z"),
        ("(x + 1)(2)", 'a call of something other than a function name "(x + 1)(2)" is not allowed', "(x + 1)(2)"),
        ("exp(x, base=2)", 'a keyword argument "base=2" is not allowed', "base=2"),
        ("exp(x, y)", 'exp takes 1 argument(s), not 2: "exp(x, y)" is not allowed', "exp(x, y)"),
        ("log()", 'log takes 1 argument(s), not 0: "log()" is not allowed', "log()"),
        ("1e400 + x", 'a decimal literal outside the float64 range "1e400" is not allowed', "1e400"),
    ],
)
def test_each_refused_construct_is_named_quoted_and_followed_by_what_is_allowed(text, message, fragment):
    exc = refusal(text)
    assert str(exc) == f'{message} in "{text}"; {ALLOWED_XY}'
    assert exc.fragment == fragment and exc.text == text


def test_without_symbols_the_message_says_there_are_none():
    assert "allowed: numbers, the symbols (none), the constants pi and E" in str(refusal("x", ()))


def test_an_unknown_function_is_named_with_the_list_of_functions():
    exc = refusal("sin(x) + gamma(x)")
    expected = 'unknown function "gamma" in "sin(x) + gamma(x)"; allowed functions: ' + ", ".join(FUNCTIONS)
    assert str(exc) == expected
    assert exc.fragment == "gamma(x)"


def test_a_caret_is_refused_as_xor_with_both_fixes():
    exc = refusal("x ^ y")
    assert str(exc).startswith(
        "'^' in \"x ^ y\" is XOR in Python (write '**' for a power, or parse with caret_is_power=True) in \"x ^ y\"; "
        "an expression may use numbers, the symbols given by the caller, the constants pi and E, + - * / ** and "
        "calls of exp, log,"
    ), str(exc)
    assert exc.fragment == "x ^ y"
    assert parse("x ^ y", XY, caret_is_power=True) == x**y


def test_long_fragments_are_cut_at_60_characters_and_long_texts_at_80():
    attribute = "x." + "a" * 70
    exc = refusal(attribute)
    assert exc.fragment == attribute[:59] + "…"
    assert f'attribute access "{attribute[:59]}…" is not allowed in "{attribute}"; allowed' in str(exc)  # 72 ≤ 80
    text = "x + " * 20 + attribute  # 152 characters: shown as its first 79 and an ellipsis
    assert f'is not allowed in "{text[:79]}…"; allowed' in str(refusal(text))
    text = "x." + "a" * 78  # exactly 80: shown whole
    assert f'is not allowed in "{text}"; allowed' in str(refusal(text))
    text = "x." + "a" * 79  # 81: cut
    assert f'is not allowed in "{text[:79]}…"; allowed' in str(refusal(text))
    text = "y + x." + "a" * 58  # a fragment of exactly 60 characters is quoted whole
    assert refusal(text).fragment == text[4:]


def test_an_indented_refusal_quotes_the_offending_part_of_the_stripped_text():
    exc = refusal("   x + y.real  ")
    assert exc.fragment == "y.real" and exc.text == "x + y.real"


# -- what is accepted, and the numbers it may hold -------------------------------------------------------------


def test_constants_signs_and_chains_group_as_python_does():
    assert parse("pi", XY) is sp.pi and parse("E", XY) is sp.E
    assert parse("+x", XY) == x and parse("-x", XY) == -x and parse("-(-x)", XY) == x
    assert parse("x - y - x", XY) == -y  # (x - y) - x, not x - (y - x)
    assert parse("8/4/2", XY) == 1 and parse("2**3**2", XY) == 512  # left- and right-associative
    assert parse("1 + 2*3 - 4/2", XY) == 5


def test_integer_literals_of_up_to_max_digits_digits():
    largest = "9" * MAX_DIGITS
    assert parse(largest, XY) == int(largest)
    assert parse(f"x*{largest}", XY) == int(largest) * x  # and it stays allowed once multiplied by a symbol
    text = "1" + "0" * MAX_DIGITS
    exc = refusal(text)
    assert f'an integer of more than {MAX_DIGITS} digits "{text[:59]}…" is not allowed' in str(exc)


def test_decimal_literals_keep_all_their_written_digits():
    digits = "0." + "1234567891" * 8  # 80 significant digits, longer than a quoted fragment
    assert parse(digits, XY) == sp.Float(digits, dps=80)
    assert parse("1_000.5", XY) == sp.Float("1000.5")
    # digits grouped with underscores: 19 significant digits, so 19-digit precision (underscores are not digits)
    grouped = parse("1_234_567_890.123_456_789", XY)
    assert grouped == sp.Float("1234567890.123456789", dps=19) and grouped._prec == sp.Float(1, dps=19)._prec
    # 17 significant digits, with either exponent letter: 17-digit precision, not float64's 15
    for text in ("1.2345678901234567E5", "1.2345678901234567e-5"):
        parsed = parse(text, XY)
        assert parsed == sp.Float(text.lower(), dps=17) and parsed != sp.Float(text.lower(), dps=15), text


def test_decimal_literals_within_float64_range_and_zero_are_accepted():
    for text in ("0.0", "0e5", "0.000e-7"):
        assert parse(f"x + {text}", XY) == x, text
    assert parse("5e-324", XY) == sp.Float("5e-324")  # the smallest float64 subnormal
    for text in ("2e-324", "1e-400", "1e309"):  # float() gives 0.0 or inf for these
        assert "a decimal literal outside the float64 range" in str(refusal(f"x + {text}")), text


def test_computed_integers_are_held_to_max_digits_digits():
    assert parse("10**50*10**49", XY) == 10**99  # 100 digits
    exc = refusal("10**50*10**50")  # 101 digits
    assert f'a computed number of more than {MAX_DIGITS} digits "10**50*10**50" is not allowed' in str(exc)
    assert "a computed number of more than" in str(refusal("x/10**50/10**50"))  # in the denominator too


@pytest.mark.parametrize("argument", [709.5, 710.0, -744.6, -745.5])
def test_computed_decimals_are_held_to_the_float64_range(argument):
    # exp(a) is accepted exactly when float64 can hold it: math.exp overflows past ~709.78 and underflows to 0.0
    # below ~-745.13 (half the smallest subnormal)
    try:
        representable = math.exp(argument) != 0.0
    except OverflowError:
        representable = False
    text = f"exp({argument})"
    if representable:
        assert float(parse(text, XY)) == pytest.approx(math.exp(argument), rel=1e-12)
    else:
        assert f'a computed number outside the float64 range "{text}" is not allowed' in str(refusal(text))


def test_integer_powers_are_refused_exactly_when_their_value_passes_max_digits_digits():
    assert len(str(2**332)) == 100 and len(str(2**333)) == 101
    assert parse("2**332", XY) == 2**332
    assert parse("(2/3)**-209", XY) == sp.Rational(3, 2) ** 209  # 3**209: 100 digits
    for text in ("2**333", "(1/2)**333", "(2/3)**-210", "(2*x)**333", "10**100"):  # 101 digits (3**210 too)
        assert f'a power whose value would have more than {MAX_DIGITS} digits "{text}" is not allowed' in str(
            refusal(text)
        ), text


def test_powers_of_symbols_zero_and_units_and_decimals_are_not_held_to_digits():
    assert parse("x**1000", XY) == x**1000
    assert parse("(-x)**1001", XY) == -(x**1001)
    assert parse("0**1000 + 1**1000 + (-1)**1001", XY) == 0
    assert parse("2**x", XY) == 2**x
    assert parse("0.5**200", XY) == pytest.approx(0.5**200, rel=1e-14)
    assert "outside the float64 range" in str(refusal("(2.0*x)**(10**9)"))


def test_a_value_the_functions_cannot_compute_is_refused_naming_the_error():
    exc = refusal("erfc(1e300)")
    assert re.match(r'a value that cannot be computed \(OverflowError: .+\) "erfc\(1e300\)" is not allowed', str(exc))


@pytest.mark.parametrize(
    "text", ["1/(x - x)", "log(0)", "0**-1", "0*log(0)", "x + atanh(1)", "x - atanh(-1)", "atanh(-1)"]
)
def test_undefined_values_are_refused_and_named(text):
    message = "the expression is undefined (it contains a division by zero, nan or an infinity)"
    assert str(refusal(text)).startswith(f'{message} in "{text}"')


@pytest.mark.parametrize(
    ("text", "message", "fragment"),
    [
        ("x + 2**333", "a power whose value would have more than 100 digits", "2**333"),
        ("x + 10.0**400", "a computed number outside the float64 range", "10.0**400"),
        ("x + 1e308*1e308", "a computed number outside the float64 range", "1e308*1e308"),
        ("y + 10**50*10**50", "a computed number of more than 100 digits", "10**50*10**50"),
        ("x + exp(710.0)", "a computed number outside the float64 range", "exp(710.0)"),
        ("x + 2.5/0.0", "a value that cannot be computed (ZeroDivisionError: )", "2.5/0.0"),
        ("x + erfc(1e300)", "a value that cannot be computed (OverflowError: ", "erfc(1e300)"),
        ("x + (y ^ x)", "'^' in \"y ^ x\" is XOR in Python", "y ^ x"),
        ("x + (x + 1)(2)", "a call of something other than a function name", "(x + 1)(2)"),
        ("x + exp(x, y)", "exp takes 1 argument(s), not 2:", "exp(x, y)"),
        ("x + 1" + "0" * 100, "an integer of more than 100 digits", "1" + "0" * 58 + "…"),
    ],
)
def test_a_refusal_inside_a_larger_expression_quotes_only_the_offending_part(text, message, fragment):
    exc = refusal(text)
    assert str(exc).startswith(message), str(exc)
    assert exc.fragment == fragment and exc.text == text
