"""Text → SymPy without evaluating the text: the one allow-list parser of the project.

``sympify`` and ``parse_expr`` run their input through ``eval``, so a string such as
``"__import__('os').system('…')"`` runs a shell command. Candidate expressions come from symbolic-regression
output, files and shared reports, so every place that turns text into an expression uses `parse_expression`,
which reads the text with Python's `ast` module (a parser, never an evaluator) and builds SymPy objects node by
node from an explicit allow-list:

- numbers: integer literals (`sympy.Integer`) and decimal literals (`sympy.Float` built from the literal's own
  text at max(15, its significant digits) digits, so ``0.1`` is the decimal 0.1 at float64 precision and what
  ``str`` prints of a float64-precision SymPy expression reads back as the same `Float`);
- ``+ - * / **`` and unary ``+ -`` (``^`` only with ``caret_is_power=True``, then read as ``**`` with its
  precedence: in Python ``^`` is XOR and binds looser than ``+``);
- the symbols the caller names, and the constants ``pi`` and ``E``;
- calls, with positional arguments only, of the functions in `FUNCTIONS`.

Everything else — attribute access, subscripts, keyword arguments, lambdas, comparisons, strings, unknown names —
is refused with `ExpressionSyntaxError` (a `ValueError`) quoting the offending part. Sizes are bounded *before*
anything is computed, so hostile text fails fast: at most `MAX_LENGTH` characters, `MAX_DEPTH` levels of
nesting and `MAX_NODES` syntax nodes, numbers of at most `MAX_DIGITS` digits (``9**9**9**9`` is refused before
SymPy tries to compute it), decimal literals within the float64 range.

>>> import sympy as sp
>>> parse_expression("s*u0*exp(2*s*t) / (s + u0*(exp(2*s*t) - 1))", ["s", "u0", "t"])
s*u0*exp(2*s*t)/(s + u0*(exp(2*s*t) - 1))
>>> parse_expression("x0^2 + 0.5*x1", ["x0", "x1"], caret_is_power=True)
x0**2 + 0.5*x1
>>> parse_expression("__import__('os').system('echo PWNED')", ["x"])
Traceback (most recent call last):
...
theory.parse.ExpressionSyntaxError: attribute access "__import__('os').system" is not allowed in "__import__('os')...
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import sympy as sp

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_LENGTH",
    "MAX_NODES",
    "ExpressionSyntaxError",
    "parse_expression",
]

# Size limits. They are far above what a law or a symbolic-regression front contains (the longest SymPy string
# of the project's laws and fronts is a few hundred characters, nesting < 20) and low enough that a refusal,
# and any acceptance, takes milliseconds.
MAX_LENGTH = 10_000
# Levels of nesting (brackets, function calls, powers, signs; a chain a + b - c + … or a*b/c*… counts as one
# level, so sums and products of any length are fine). 100 is far beyond any law or front, and keeps both the
# recursive build and SymPy's own recursion on nested objects far below Python's recursion limit.
MAX_DEPTH = 100
MAX_NODES = 5_000
# No number (literal, or computed from literals: a power, a product of coefficients) of more than 100 digits:
# such constants do not occur in learning-dynamics laws, and SymPy's exact arithmetic on them (square-free
# extraction in sqrt, roots) stays under ~5 ms per operation at this size, so a MAX_LENGTH text cannot spend
# more than about a second on them.
MAX_DIGITS = 100
# Raw text: Python's own parser refuses more than 200 nested brackets; refusing at 100 gives a clear message.
_MAX_BRACKETS = 100

FUNCTIONS: Mapping[str, tuple[Callable[..., sp.Expr], int]] = MappingProxyType(
    {  # name → (SymPy function, number of arguments)
        "exp": (sp.exp, 1),
        "log": (sp.log, 1),
        "sqrt": (sp.sqrt, 1),
        "cbrt": (sp.cbrt, 1),
        "sin": (sp.sin, 1),
        "cos": (sp.cos, 1),
        "tan": (sp.tan, 1),
        "sinh": (sp.sinh, 1),
        "cosh": (sp.cosh, 1),
        "tanh": (sp.tanh, 1),
        "asin": (sp.asin, 1),
        "acos": (sp.acos, 1),
        "atan": (sp.atan, 1),
        "asinh": (sp.asinh, 1),
        "acosh": (sp.acosh, 1),
        "atanh": (sp.atanh, 1),
        "Abs": (sp.Abs, 1),
        "abs": (sp.Abs, 1),
        "sign": (sp.sign, 1),
        "erf": (sp.erf, 1),
        "erfc": (sp.erfc, 1),
        "Min": (sp.Min, 2),  # bounds such as T²·min(1/√k, d/k)
        "Max": (sp.Max, 2),
    }
)
CONSTANTS: Mapping[str, sp.Expr] = MappingProxyType({"pi": sp.pi, "E": sp.E})


class ExpressionSyntaxError(ValueError):
    """Text that `parse_expression` refuses; ``fragment`` is the offending part of ``text``."""

    def __init__(self, message: str, text: str, fragment: str) -> None:
        super().__init__(message)
        self.text = text
        self.fragment = fragment


def parse_expression(
    text: str,
    symbols: Iterable[str | sp.Symbol] | Mapping[str, sp.Symbol] = (),
    *,
    caret_is_power: bool = False,
) -> sp.Expr:
    """The SymPy expression written in ``text``, built without evaluating the text (see the module docstring).

    ``symbols`` are the names the text may use: names (plain `Symbol`s are made), `Symbol` objects (kept with
    their assumptions) or a mapping name → `Symbol`. ``caret_is_power=True`` reads ``a^b`` as a power (SINDy
    writes ``x0^2``; it is read as ``**``, so ``-x^2`` is −(x²) and ``x^2 + y`` is x² + y); otherwise ``^`` is
    refused, since Python reads it as XOR.

    Raises `ExpressionSyntaxError` (a `ValueError`) quoting the refused part and saying what is allowed;
    `TypeError` if ``text`` is not a string; `ValueError` for a symbol name that is not an identifier or that
    shadows a function or constant.

    >>> t = sp.Symbol("t", positive=True)
    >>> e = parse_expression("exp(-2*t) + 1/3", [t])
    >>> e, e.free_symbols == {t}
    (1/3 + exp(-2*t), True)
    >>> parse_expression("x.__class__", ["x"])
    Traceback (most recent call last):
    ...
    theory.parse.ExpressionSyntaxError: attribute access "x.__class__" is not allowed in "x.__class__"; ...
    """
    if not isinstance(text, str):
        raise TypeError(f"an expression must be given as a string, got {type(text).__name__}")
    known = _known_symbols(symbols)
    if caret_is_power:  # before parsing: as an AST node '^' would bind looser than '+' (x^2 + y = x^(2 + y))
        text = text.replace("^", "**")
    _check_raw(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        fragment = _syntax_fragment(text.strip(), exc)
        detail = "" if exc.msg == "invalid syntax" else f" ({exc.msg})"
        raise _error(f'invalid syntax near "{fragment}"{detail}', text.strip(), fragment) from None
    except (ValueError, RecursionError, MemoryError):  # null bytes; CPython's parser stack guard on deep chains
        raise _error("the text is too deeply nested or malformed to parse", text, text) from None
    source = text.strip()
    _check_tree(tree, source)
    try:
        expr = _Builder(source, known).build(tree.body)
    except RecursionError:  # SymPy's own recursion on a nested object; MAX_DEPTH is meant to prevent it
        raise _error("the expression is too deeply nested to build", source, source) from None
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise _error("the expression is undefined (it contains a division by zero, nan or an infinity)", source, source)
    return expr


def _known_symbols(symbols: Iterable[str | sp.Symbol] | Mapping[str, sp.Symbol]) -> dict[str, sp.Symbol]:
    if isinstance(symbols, str):
        raise TypeError(f"symbols must be a collection of names, not the string {symbols!r}; e.g. [{symbols!r}]")
    items = symbols.values() if isinstance(symbols, Mapping) else symbols
    known: dict[str, sp.Symbol] = {}
    for item in items:
        if isinstance(item, sp.Symbol):
            symbol = item
        elif isinstance(item, str):
            symbol = sp.Symbol(item)
        else:
            raise TypeError(f"symbols must be names or sympy Symbols, got {item!r} ({type(item).__name__})")
        name = symbol.name
        if not name.isidentifier() or name.startswith("__"):
            raise ValueError(f"symbol name {name!r} must be a Python identifier that does not start with '__'")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ValueError(f"symbol name {name!r} is also a function or constant of the parser; rename it")
        if name in known and known[name] != symbol:
            raise ValueError(f"two different symbols are named {name!r}")
        known[name] = symbol
    return known


def _check_raw(text: str) -> None:
    """Limits that must hold before `ast.parse` runs (it recurses on the nesting of the text)."""
    if len(text) > MAX_LENGTH:
        raise _error(f"the text is {len(text)} characters long; the limit is {MAX_LENGTH}", text, text[:40])
    depth = 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
            if depth > _MAX_BRACKETS:
                raise _error(f"brackets nest more than {_MAX_BRACKETS} deep", text, text[max(0, i - 20) : i + 1])
        elif char in ")]}":
            depth -= 1


def _check_tree(tree: ast.Expression, text: str) -> None:
    """Node count and depth, measured without recursion so that a deep tree cannot exhaust the stack."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _error(f"the expression has more than {MAX_NODES} syntax nodes", text, text[:40])
        if depth > MAX_DEPTH:
            raise _error(f"the expression nests more than {MAX_DEPTH} levels deep", text, _fragment(text, node))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.operator, ast.unaryop, ast.expr_context)):
                continue
            same_chain = child is getattr(node, "left", None) and _chain_group(child) == _chain_group(node) != ""
            stack.append((child, depth if same_chain else depth + 1))


def _chain_group(node: ast.AST) -> str:
    """Which left-associated chain a binary node continues: sums (+ −), products (* /), or none."""
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return "sum"
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return "product"
    return ""


_OPERATORS: Mapping[type, str] = MappingProxyType(
    {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.BitXor: "^"}
)
_ALLOWED = (
    "numbers, the symbols {symbols}, the constants pi and E, + - * / ** and calls of "
    + ", ".join(FUNCTIONS)
    + " with positional arguments"
)


class _Builder:
    def __init__(self, text: str, known: dict[str, sp.Symbol]) -> None:
        self.text, self.known = text, known

    def refuse(self, what: str, node: ast.AST) -> ExpressionSyntaxError:
        fragment = _fragment(self.text, node)
        allowed = "allowed: " + _ALLOWED.format(symbols=sorted(self.known) or "(none)")
        return _error(f'{what} "{fragment}" is not allowed', self.text, fragment, allowed)

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.known:
                return self.known[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            if node.id in FUNCTIONS:
                raise self.refuse("a function without its argument", node)
            raise self.refuse("unknown name", node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand)
            return self.compute(operator.neg, [operand], node) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        kinds = {
            ast.Attribute: "attribute access",
            ast.Subscript: "a subscript",
            ast.Lambda: "a lambda",
            ast.Compare: "a comparison",
            ast.BoolOp: "a boolean operator",
            ast.IfExp: "a conditional expression",
            ast.NamedExpr: "an assignment",
            ast.JoinedStr: "an f-string",
            ast.Starred: "star-unpacking",
        }
        what = next((v for k, v in kinds.items() if isinstance(node, k)), None)
        if what is None and isinstance(node, (ast.UnaryOp, ast.BinOp)):
            op = node.op
            what = f"the operator {type(op).__name__}"
            if isinstance(op, ast.FloorDiv):
                what = "floor division '//' (write '/')"
        raise self.refuse(what or f"a {type(node).__name__} node", node)

    def number(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        literal = _fragment(self.text, node, limit=None).replace("_", "")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(f"a {type(value).__name__} literal", node)
        if isinstance(value, int):
            if len(str(value)) > MAX_DIGITS:  # < 4300 digits here: Python's own limit has been passed already
                raise self.refuse(f"an integer of more than {MAX_DIGITS} digits", node)
            return sp.Integer(value)
        # The literal's decimal text, not the binary float Python made of it, at max(15, its significant digits
        # without trailing zeros) digits: float64 precision unless more digits are written. Trailing zeros do
        # not count because SymPy prints a float64-precision Float with them (1e14 as 100000000000000.0),
        # and reading that back must give the same Float. Range is that of float64: SymPy would otherwise
        # spend unbounded time on a literal such as 1e-999999999.
        mantissa = literal.lower().split("e")[0]
        significant = mantissa.replace(".", "").strip("0")
        if math.isinf(value) or (value == 0 and significant):
            raise self.refuse("a decimal literal outside the float64 range", node)
        return sp.Float(literal, dps=max(15, len(significant)))

    def binary(self, node: ast.BinOp) -> sp.Expr:
        if isinstance(node.op, ast.BitXor):  # with caret_is_power the text had '**' in its place
            fragment = _fragment(self.text, node)
            what = f"'^' in \"{fragment}\" is XOR in Python (write '**' for a power, or parse with caret_is_power=True)"
            raise _error(what, self.text, fragment)
        if isinstance(node.op, ast.Pow):
            base, exponent = self.build(node.left), self.build(node.right)
            self.check_power(base, exponent, node)
            return self.checked(self.compute(operator.pow, (base, exponent), node), node)
        # A chain a + b - c + … (or a*b/c*…) is walked in a loop, not by recursion on its length, and built left
        # to right exactly as Python would group it (0.83/29 is not 0.83*(1/29) in floating point).
        chain = [node]
        while _chain_group(chain[-1].left) == _chain_group(node):
            chain.append(chain[-1].left)
        operation = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
        result = self.build(chain[-1].left)
        for link in reversed(chain):
            right = self.build(link.right)
            result = self.checked(self.compute(operation[type(link.op)], (result, right), link), link)
        return result

    def checked(self, result: sp.Expr, node: ast.AST) -> sp.Expr:
        """Bound the numbers SymPy computed for ``node`` before they are used further.

        Products and powers grow coefficients (x*10**99*10**99), functions of decimals leave the float64 range
        (exp(1e30), whose exp would take unbounded time): every number at the top level of the result, where
        SymPy collects them, is held to MAX_DIGITS digits or to the float64 range.
        """
        for part in (result, *result.args):
            if isinstance(part, sp.Rational) and _digits(part) > MAX_DIGITS:
                raise self.refuse(f"a computed number of more than {MAX_DIGITS} digits", node)
            if isinstance(part, sp.Float) and part != 0:
                _, _, exponent, bits = part._mpf_
                if not -1074 <= exponent + bits <= 1024:  # |value| ≈ 2**(exponent + bits); float64's range
                    raise self.refuse("a computed number outside the float64 range", node)
        return result

    def check_power(self, base: sp.Expr, exponent: sp.Expr, node: ast.BinOp) -> None:
        """Refuse before computing a power whose numbers would exceed MAX_DIGITS (9**9**9**9, (2*x)**10**9).

        A rational coefficient p/q raised to k has floor(|k|·log10 max(|p|, q)) + 1 digits in its larger part, so
        2**332 (100 digits) is computed and 2**333 (101) refused, and 0, 1 and -1 (log10 1 = 0) pass at any power.
        A decimal coefficient is not held to digits: mpmath raises it to any power at its own precision in
        microseconds, and `checked` then holds the result to the float64 range.
        """
        if not exponent.is_Number:
            return
        coefficient = base if base.is_Number else base.as_coeff_Mul()[0]
        if not isinstance(coefficient, sp.Rational):
            return
        log10_base = math.log10(max(abs(int(coefficient.p)), int(coefficient.q)))
        if abs(float(exponent)) * log10_base >= MAX_DIGITS:
            raise self.refuse(f"a power whose value would have more than {MAX_DIGITS} digits", node)

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            self.build(node.func)  # refuses an attribute, subscript, lambda… by its own name, quoting it
            raise self.refuse("a call of something other than a function name", node)
        name = node.func.id
        if name not in FUNCTIONS:
            fragment = _fragment(self.text, node)
            allowed = "allowed functions: " + ", ".join(FUNCTIONS)
            raise _error(f'unknown function "{name}"', self.text, fragment, allowed)
        if node.keywords:
            raise self.refuse("a keyword argument", node.keywords[0])
        function, arity = FUNCTIONS[name]
        if len(node.args) != arity:
            raise self.refuse(f"{name} takes {arity} argument(s), not {len(node.args)}:", node)
        return self.checked(self.compute(function, [self.build(arg) for arg in node.args], node), node)

    def compute(self, function: Callable[..., sp.Expr], args: Iterable[sp.Expr], node: ast.AST) -> sp.Expr:
        """``function(*args)``; SymPy's own numeric failures (erfc(1e300) overflows) become refusals."""
        try:
            return function(*args)
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            raise self.refuse(f"a value that cannot be computed ({type(exc).__name__}: {exc})", node) from None


def _digits(number: sp.Rational) -> int:
    """Decimal digits of the larger of |numerator| and denominator, without converting it to text.

    From the bit length b: the number lies in [2**(b-1), 2**b), so it has ceil(b·log10 2) digits or one fewer.

    >>> _digits(sp.Integer(10**99)), _digits(sp.Integer(10**99 - 1)), _digits(sp.Rational(1, 1000))
    (100, 99, 4)
    """
    larger = max(abs(int(number.p)), int(number.q))
    estimate = math.ceil(larger.bit_length() * math.log10(2))
    return estimate if larger >= 10 ** (estimate - 1) else estimate - 1


def _fragment(text: str, node: ast.AST, limit: int | None = 60) -> str:
    segment = ast.get_source_segment(text, node) or text
    if limit is not None and len(segment) > limit:
        segment = segment[: limit - 1] + "…"
    return segment


def _syntax_fragment(text: str, exc: SyntaxError) -> str:
    if exc.offset is None or exc.lineno != 1:
        return text[:60]
    start = max(0, exc.offset - 1)
    return text[max(0, start - 10) : start + 10] or text[:60]


def _error(message: str, text: str, fragment: str, allowed: str | None = None) -> ExpressionSyntaxError:
    shown = text if len(text) <= 80 else text[:79] + "…"
    if allowed is None:
        allowed = "an expression may use " + _ALLOWED.format(symbols="given by the caller")
    return ExpressionSyntaxError(f'{message} in "{shown}"; {allowed}', text, fragment)
