"""Templates (a fixed outer structure with searched parts) and shared expressions with per-dataset constants.

These are the two features PySR users ask for most (``TemplateExpressionSpec`` and parametric expressions),
built on top of *any* backend through a search callback::

    search(X_part: np.ndarray, z: np.ndarray, names: Sequence[str]) -> list[sp.Expr]

which runs the configured backend on the table (columns ``names``, target ``z``) and returns its Pareto front,
simplest first, in `discover.backends.base.feature_symbols` of ``names`` (constants as ``Float``, snapped or not).

**Templates** (`Template`, `fit_template`). ``Template(g(s) * h(n/p))`` fixes the outer structure; the parts ``g``
and ``h`` (SymPy undefined functions applied to expressions of the features) are searched, and template constants
(``Template(a*exp(b*t) + c, constants=(a, b, c))``) are fitted. The rules:

- *Exact inversion.* For each part the template is solved once, symbolically, for the part's value: every other
  part and every constant becomes a placeholder symbol and ``sympy.solve(template − y, v)`` gives ``v`` as a
  function of y, the other parts, the constants and the features. Solutions that contain ``I`` are dropped; at
  every use, solutions that are not finite on any row are dropped too (``log(−√q)``, the spurious branch of
  ``tanh``'s inverse). Exactly one must remain, else the part "cannot be isolated" (``sin(g(x))``: two branches,
  ``g(x)**2``: ±√y) and `fit_template` says so, naming the part.
- *Backfitting.* Parts start as constants, fitted with the template constants by `N_STARTS` seeded least-squares
  starts. Then, round after round, each part in turn (by name) is re-searched on its *pseudo-target*: the
  inverse evaluated row by row with the other parts and the constants at their current values. Rows where the
  pseudo-target is not finite, or beyond the float32 range of `discover.checks` (the search runs there), are
  dropped; at least ``max(MIN_ROWS, rows/2)`` must remain (a part fitted on a minority of rows is fitted on a
  biased subset). An argument that is not a bare feature becomes a derived column ``arg0``, ``arg1``, … (by
  position), mapped back to its expression by substitution. From the part's front we take the simplest row whose
  MSE on the pseudo-target is within `SELECT_FACTOR` (1.1) of the front's minimum plus the float32 floor, as
  ``Discovery.best`` does. The new part is kept only if the assembled loss does not rise (beyond the float32
  floor), so the loss never increases. At the end of each round every ``Float`` of the parts and every template
  constant are refitted *jointly* by `scipy.optimize.least_squares` (trust region, analytic Jacobian) on the full
  template.
- *Stopping.* After ``rounds`` rounds, or after the first round whose assembled loss ℓ' fails to beat the
  previous round's ℓ by the selection factor: stop when ``ℓ' + floor ≥ ℓ / SELECT_FACTOR``. Losses within a
  factor 1.1 are what ``Discovery.best`` treats as equal, so a round that gains less than that changes nothing
  the caller would select on; noise-free data keep improving by orders of magnitude and continue.
- *Pure parametric templates* (no parts) are fitted by nonlinear least squares from `N_STARTS` = 16 seeded starts
  (the first all ones, the others with independent signs and magnitudes 10^U(−1, 1)); the best is kept. A start
  lands in the basin of the global minimum when the constants that enter nonlinearly have the right signs and
  orders of magnitude: if that basin holds a fraction q of the starts, 16 starts all miss it with probability
  (1 − q)¹⁶, 1 % at q = 1/4 (two sign-sensitive constants). Linear constants (a and c of a·exp(b·t) + c) converge
  from any start.

A part whose pseudo-target is one number to float32 resolution (`discover.checks.constant_to_float32`) is set to
that number without a search (a search on a
constant target has nothing to regress, and `discover.discover` refuses one).

`fit_template` returns a `TemplateCandidate` for the final assembled expression and for every row of every part's
last front assembled with the other parts (each jointly refitted), so the caller can build a Pareto front. Rows
whose assembled expressions have the same structure once their Floats are abstracted (`abstract_constants`) are
one candidate, the best fitting: ``(k·g)·(h/k)`` is ``g·h`` with its scale split differently.

**Shared expressions** (`fit_shared`). One structure for every dataset (group), its constants refitted per group:

- *Structures.* ``search`` runs on each group's rows and on the pooled rows; every front expression has its
  ``Float`` atoms abstracted into parameters ``c0, c1, …`` (`abstract_constants`; exact numbers stay exact),
  structures equal after abstraction are merged, and the `max_structures` simplest are kept.
- *Fits.* For each structure and group, least squares (as above) from every set of values the structure had
  where it was found; if none gives a finite fit, from `N_STARTS` seeded random starts. A structure with no
  finite fit on some group is dropped, with the reason, into ``SharedCandidates.dropped``. The reported loss is
  the pooled MSE over all rows; a structure that fits one group but not another keeps a pooled loss far above the
  noise floor, so it is never mistaken for a shared law.

>>> import numpy as np, sympy as sp
>>> t, a, b = sp.symbols("t a b")
>>> T = np.linspace(0.0, 2.0, 30)
>>> [c] = fit_template(T[:, None], 3.0 * np.exp(-0.5 * T), ["t"], Template(a * sp.exp(b * t), constants=(a, b)))
>>> round(c.constants["a"], 9), round(c.constants["b"], 9)
(3.0, -0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import sympy as sp
from scipy.optimize import least_squares
from sympy.core.function import AppliedUndef

from discover.backends.base import feature_symbols
from discover.checks import MAX_MAGNITUDE, MIN_ROWS, check_seed, constant_to_float32
from discover.snapping import complexity, evaluate, loss_floor, mse

__all__ = [
    "N_STARTS",
    "SELECT_FACTOR",
    "DroppedStructure",
    "Search",
    "SharedCandidate",
    "SharedCandidates",
    "Template",
    "TemplateCandidate",
    "abstract_constants",
    "fit_shared",
    "fit_template",
]

Search = Callable[[np.ndarray, np.ndarray, Sequence[str]], list[sp.Expr]]

# The same factor as `discover.discovery.BEST_LOSS_FACTOR` (a test pins the equality); not imported from there,
# because discover.discovery imports this module.
SELECT_FACTOR = 1.1
N_STARTS = 16
# Random starts have magnitudes 10^U(-_START_DECADES, _START_DECADES): columns are non-dimensionalised (see
# discover.checks), so fitted constants are O(0.1–10).
_START_DECADES = 1.0
# A pseudo-target must be finite on at least this fraction of the rows (and on MIN_ROWS rows).
_MIN_FINITE_FRACTION = 0.5
# Least-squares tolerances: 1e-12 relative leaves noise-free fits at float64 rounding level of the predictions
# (the tests ask 1e-8 relative), and stays above machine epsilon (scipy warns below it).
_TOLERANCE = 1e-12
_MAX_EVALUATIONS = 2000
# Each start gets this many evaluations per parameter; only the best start is then polished to _MAX_EVALUATIONS.
# A start in the basin of its minimum converges in a few tens (measured: 7–55 for a·exp(b·t) + c); one that
# drifts along a degenerate valley (b → 0 with a → −∞, c → +∞: the straight-line limit) would use them all.
_START_EVALUATIONS = 50
# Internal symbol names contain '<', which no feature name (a Python identifier, discover.checks) can.
_TARGET = sp.Symbol("<y>", real=True)
_VALUE = sp.Symbol("<v>", real=True)


def _placeholder(name: str) -> sp.Symbol:
    return sp.Symbol(f"<{name}>", real=True)


# ---------------------------------------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    """A fixed outer structure: features, fitted ``constants`` and searched parts (undefined functions).

    ``expr`` is a SymPy expression; ``constants`` are the symbols in it that are fitted numbers; every other symbol
    must be a feature; a part is an undefined function (``g = sympy.Function("g")``) applied to expressions of the
    features only. Symbols are matched by name (assumptions are dropped: every one becomes ``real=True``, like
    `discover.backends.base.feature_symbols`). Checked at construction: see the module docstring for the rules.

    >>> s, n, p = sp.symbols("s n p")
    >>> g, h = sp.Function("g"), sp.Function("h")
    >>> Template(g(s) * h(n / p)).parts
    {'g': (s,), 'h': (n/p,)}
    >>> Template(g(s) * g(n))
    Traceback (most recent call last):
    ...
    ValueError: part g is used with different arguments, (n,) and (s,): a part name stands for one function of \
one argument list; give the other use its own name
    """

    expr: sp.Expr
    constants: tuple[sp.Symbol, ...] = ()
    _parts: dict[str, tuple[sp.Expr, ...]] = field(init=False, repr=False, compare=False)
    _calls: dict[str, sp.Expr] = field(init=False, repr=False, compare=False)
    _inverses: dict[str, tuple[sp.Expr, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.expr, str):
            raise TypeError(
                "Template takes a SymPy expression, not text (text is never parsed as code); build it with SymPy, "
                "e.g. s = sympy.Symbol('s'); g = sympy.Function('g'); Template(g(s) * sympy.exp(-s))"
            )
        if not isinstance(self.expr, sp.Expr):
            raise TypeError(f"Template.expr must be a SymPy expression, got {type(self.expr).__name__}")
        if isinstance(self.constants, (str, sp.Basic)) or not isinstance(self.constants, Iterable):
            raise TypeError(
                f"Template.constants must be a sequence of SymPy symbols, got {self.constants!r}; "
                "e.g. constants=(a, b) with a, b = sympy.symbols('a b')"
            )
        constants = tuple(self.constants)
        for constant in constants:
            if not isinstance(constant, sp.Symbol):
                raise TypeError(
                    f"Template constant {constant!r} must be a SymPy Symbol (e.g. sympy.Symbol('a')), "
                    f"got {type(constant).__name__}"
                )
        names = [c.name for c in constants]
        if len(set(names)) != len(names):
            raise ValueError(f"Template constants repeat a name: {names}")
        if self.expr.has(sp.Derivative, sp.Integral):
            raise ValueError(f"template {self.expr} has a derivative or an integral: only plain parts are supported")
        renamed = {s: sp.Symbol(s.name, real=True) for s in self.expr.free_symbols if isinstance(s, sp.Symbol)}
        expr = self.expr.xreplace(renamed)
        constants = tuple(sp.Symbol(name, real=True) for name in names)
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "constants", constants)

        symbol_names = {s.name for s in expr.free_symbols}
        unused = [name for name in names if name not in symbol_names]
        if unused:
            raise ValueError(f"Template constants {unused} do not appear in the template {expr}")
        parts, calls = _find_parts(expr, set(names), symbol_names)
        if not parts and not constants:
            raise ValueError(
                f"template {expr} has no searched part and no constant: there is nothing to fit "
                "(write a part as an undefined function, g = sympy.Function('g'), or list constants=)"
            )
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_calls", calls)
        object.__setattr__(self, "_inverses", {name: self._solve(name) for name in parts})

    @property
    def parts(self) -> dict[str, tuple[sp.Expr, ...]]:
        """Each part's name → its argument expressions (in the features), by name."""
        return dict(self._parts)

    @property
    def constant_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.constants)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the symbols that must be features: every symbol but the constants, sorted."""
        constants = set(self.constant_names)
        return tuple(sorted({s.name for s in self.expr.free_symbols} - constants))

    def check_features(self, features: Sequence[str]) -> None:
        """Refuse a template whose symbols are not all features or constants, or a constant named like a feature.

        >>> Template(sp.Function("g")(sp.Symbol("s")) + sp.Symbol("q")).check_features(["s"])
        Traceback (most recent call last):
        ...
        ValueError: template q + g(s) uses ['q'], which are neither features ['s'] nor constants []: list fitted \
numbers in Template(..., constants=(...)), or add the column
        """
        unknown = sorted(set(self.feature_names) - set(features))
        if unknown:
            raise ValueError(
                f"template {self.expr} uses {unknown}, which are neither features {list(features)} nor constants "
                f"{list(self.constant_names)}: list fitted numbers in Template(..., constants=(...)), or add the column"
            )
        clash = sorted(set(self.constant_names) & set(features))
        if clash:
            raise ValueError(f"template constants {clash} are also feature columns; rename the constants")
        clash = sorted(set(self._parts) & set(features))
        if clash:
            raise ValueError(f"template parts {clash} are named like feature columns; rename the parts")

    def _solve(self, name: str) -> tuple[sp.Expr, ...]:
        """The template solved for part ``name``'s value, as expressions of ``<y>``, ``<other part>``, constants
        and features (complex branches dropped)."""
        replace = {call: (_VALUE if other == name else _placeholder(other)) for other, call in self._calls.items()}
        equation = self.expr.xreplace(replace) - _TARGET
        try:
            solutions = sp.solve(equation, _VALUE)
        except NotImplementedError as err:
            raise ValueError(f"{name} cannot be isolated in {self.expr}: SymPy cannot solve for it ({err})") from err
        real = tuple(s for s in solutions if isinstance(s, sp.Expr) and not s.has(sp.I) and not s.has(_VALUE))
        if not real:
            raise ValueError(
                f"{name} cannot be isolated in {self.expr}: solving for it gives no real solution; write the template "
                "so that the part can be recovered from the target (e.g. g(x) rather than sin(g(x)))"
            )
        return real

    def assemble(self, parts: Mapping[str, sp.Expr], constants: Mapping[str, float] | None = None) -> sp.Expr:
        """The template with each part replaced by its expression (in the features) and constants by Floats."""
        out = self.expr.xreplace({self._calls[name]: parts[name] for name in self._parts})
        if constants:
            out = out.xreplace({c: sp.Float(constants[c.name]) for c in self.constants})
        return out


def _find_parts(
    expr: sp.Expr, constants: set[str], symbol_names: set[str]
) -> tuple[dict[str, tuple[sp.Expr, ...]], dict[str, sp.Expr]]:
    parts: dict[str, tuple[sp.Expr, ...]] = {}
    calls: dict[str, sp.Expr] = {}
    for call in sorted(expr.atoms(AppliedUndef), key=sp.default_sort_key):
        name = call.func.__name__
        args = tuple(call.args)
        if name in parts and parts[name] != args:
            first, second = sorted([parts[name], args], key=str)
            raise ValueError(
                f"part {name} is used with different arguments, {first} and {second}: a part name stands for one "
                "function of one argument list; give the other use its own name"
            )
        if name in symbol_names:
            raise ValueError(f"part {name} has the same name as a symbol of the template; rename one of them")
        for arg in args:
            if arg.atoms(AppliedUndef):
                raise ValueError(
                    f"part {name}'s argument {arg} contains a part: arguments must be expressions of the features "
                    "only (write the composition as one part)"
                )
            used = sorted(s.name for s in arg.free_symbols if s.name in constants)
            if used:
                raise ValueError(
                    f"part {name}'s argument {arg} uses the constant(s) {used}: arguments must be expressions of the "
                    "features only; move the constant outside the part, or let the part absorb it"
                )
            if not arg.free_symbols:
                raise ValueError(
                    f"part {name}'s argument {arg} uses no feature: a part of a number is a number; make it a "
                    "template constant instead"
                )
        if len(set(args)) != len(args):
            raise ValueError(f"part {name} repeats an argument: {args}")
        parts[name] = args
        calls[name] = call
    return dict(sorted(parts.items())), dict(sorted(calls.items()))


@dataclass(frozen=True)
class TemplateCandidate:
    """One fitted template: ``expr`` (assembled, in the features, fitted constants as Floats), ``parts`` (part
    name → its expression, with its argument expressions substituted, so in the features), ``constants``
    (template constant name → value) and ``loss`` (MSE on the data, float64)."""

    expr: sp.Expr
    parts: dict[str, sp.Expr]
    constants: dict[str, float]
    loss: float

    @property
    def complexity(self) -> int:
        """Node count of ``expr`` (`discover.snapping.complexity`)."""
        return complexity(self.expr)


def fit_template(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    template: Template,
    search: Search | None = None,
    *,
    rounds: int = 4,
    seed: int = 0,
) -> list[TemplateCandidate]:
    """Fit ``template`` to ``y ≈ template(X)``: search its parts with ``search``, fit its constants.

    The rules (exact inversion, backfitting, the stopping rule, multi-start least squares) are in the module
    docstring. Returns candidates sorted by complexity, then loss; the last part-by-part state is among them.
    ``search`` may be None only for a template with no parts. ``seed`` draws the random least-squares starts.

    Raises `ValueError` for malformed data, a template symbol that is not a feature or constant, a part that cannot
    be isolated (naming it), or a pseudo-target finite on too few rows; `TypeError` for a wrong argument type.
    """
    X, y, names = _check_data(X, y, features)
    if not isinstance(template, Template):
        raise TypeError(
            f"template must be a discover.templates.Template, got {type(template).__name__}; "
            "build one from a SymPy expression, Template(g(s) * h(n / p))"
        )
    template.check_features(names)
    seed = check_seed(seed)
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    if template.parts and search is None:
        raise TypeError(f"template {template.expr} has parts {sorted(template.parts)}: pass a search callback")
    rng = np.random.default_rng(seed)
    columns = dict(zip(names, X.T, strict=True))
    floor = loss_floor(y)

    # Start: every part a constant, fitted with the template constants from N_STARTS starts.
    holders = {name: _placeholder(name) for name in template.parts}
    model = template.assemble(holders)
    params = (*template.constants, *holders.values())
    fitted = _fit_from_starts(model, params, _starts(rng, len(params)), columns, y)
    if fitted is None:
        raise ValueError(
            f"template {template.expr} has no finite least-squares fit on the data from {N_STARTS} starts "
            "(its value overflows or is undefined everywhere); check the template and the data"
        )
    values, loss = fitted
    constants = {c.name: v for c, v in zip(template.constants, values, strict=False)}
    parts = {name: sp.Float(v) for name, v in zip(holders, values[len(template.constants) :], strict=True)}
    if not template.parts:
        return [TemplateCandidate(template.assemble({}, constants), {}, constants, loss)]

    arguments = {name: _argument_columns(args, columns) for name, args in template.parts.items()}
    fronts: dict[str, list[sp.Expr]] = {}
    for _ in range(int(rounds)):
        previous = loss
        for name in template.parts:
            z = _pseudo_target(template, name, parts, constants, columns, y)
            arg_names, arg_exprs, arg_X = arguments[name]
            front = _search_part(name, search, arg_X[z.keep], z.values[z.keep], arg_names, arg_exprs)
            fronts[name] = front
            part_loss = [mse(e, X[z.keep], z.values[z.keep], names) for e in front]
            choice = _select(front, part_loss, loss_floor(z.values[z.keep]))
            trial = _loss(template.assemble({**parts, name: choice}), columns, y, constants)
            if trial <= loss + floor:
                parts[name], loss = choice, trial
        parts, constants, loss = _refit(template, parts, constants, columns, y, loss)
        if loss + floor >= previous / SELECT_FACTOR:
            break

    # One candidate per structure (Floats abstracted): rows that differ only in how a scale is split between
    # parts (g·h = (k·g)·(h/k)) are one candidate, the best fitting of them.
    candidates: dict[sp.Expr, tuple[dict[str, sp.Expr], dict[str, float], float]] = {}

    def keep(state: tuple[dict[str, sp.Expr], dict[str, float], float]) -> None:
        key = abstract_constants(template.assemble(state[0], state[1]))[0]
        if key not in candidates or state[2] < candidates[key][2]:
            candidates[key] = state

    keep((parts, constants, loss))
    for name, front in fronts.items():
        for row in front:
            trial = {**parts, name: row}
            start = _loss(template.assemble(trial), columns, y, constants)
            if math.isfinite(start):
                keep(_refit(template, trial, constants, columns, y, start))
    out = [
        TemplateCandidate(template.assemble(p, c), dict(p), dict(c), float(ell)) for p, c, ell in candidates.values()
    ]
    return sorted(out, key=lambda c: (c.complexity, c.loss))


class _PseudoTarget(NamedTuple):
    values: np.ndarray
    keep: np.ndarray


def _pseudo_target(
    template: Template,
    name: str,
    parts: Mapping[str, sp.Expr],
    constants: Mapping[str, float],
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
) -> _PseudoTarget:
    """The value part ``name`` must take on each row for the template to equal y, the rest held fixed."""
    values = {**columns, **constants, _TARGET.name: y}
    for other, expr in parts.items():
        if other != name:
            values[_placeholder(other).name] = _values(expr, columns, len(y))
    usable = []
    for solution in template._inverses[name]:
        z = _values(solution, values, len(y))
        if np.any(np.isfinite(z)):
            usable.append((solution, z))
    if len(usable) != 1:
        shown = ", ".join(str(s.xreplace({_TARGET: sp.Symbol("y")})) for s in template._inverses[name])
        if usable:
            raise ValueError(
                f"{name} cannot be isolated in {template.expr}: solving for it gives {len(usable)} solutions that are "
                f"real on the data ({shown}); a template must determine each part uniquely — write the part so that "
                f"it appears outside periodic or even functions (e.g. {name}(…) instead of sin({name}(…)) or "
                f"{name}(…)**2)"
            )
        raise ValueError(
            f"{name} cannot be isolated in {template.expr} on this data: no solution ({shown}) is real on any row"
        )
    z = usable[0][1]
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(z) & (np.abs(z) <= MAX_MAGNITUDE)
    needed = max(MIN_ROWS, math.ceil(_MIN_FINITE_FRACTION * len(y)))
    if int(keep.sum()) < needed:
        raise ValueError(
            f"the pseudo-target of part {name} (the template solved for it) is finite on {int(keep.sum())} of "
            f"{len(y)} rows, fewer than the {needed} needed; the template does not fit the data's range "
            "(e.g. a division by a part that crosses zero)"
        )
    return _PseudoTarget(z, keep)


def _argument_columns(
    args: Sequence[sp.Expr], columns: Mapping[str, np.ndarray]
) -> tuple[tuple[str, ...], tuple[sp.Expr, ...], np.ndarray]:
    """Column names, argument expressions and values: a bare feature keeps its name; others are ``arg<i>``."""
    names: list[str] = []
    for k, arg in enumerate(args):
        name = arg.name if isinstance(arg, sp.Symbol) else f"arg{k}"
        while name in names:
            name += "_"
        names.append(name)
    rows = len(next(iter(columns.values())))
    X = np.column_stack([_values(arg, columns, rows) for arg in args])
    bad = [str(a) for a, c in zip(args, X.T, strict=True) if not np.all(np.isfinite(c))]
    if bad:
        raise ValueError(f"part argument(s) {bad} are not finite on every row; choose arguments defined on the data")
    return tuple(names), tuple(args), X


def _search_part(
    name: str,
    search: Search,
    X: np.ndarray,
    z: np.ndarray,
    arg_names: Sequence[str],
    arg_exprs: Sequence[sp.Expr],
) -> list[sp.Expr]:
    """The part's front, in the features (arguments substituted). A constant pseudo-target needs no search."""
    if constant_to_float32(z):
        return [sp.Float(float(np.mean(z)))]
    front = search(X, z, list(arg_names))
    if not front:
        raise ValueError(f"the search returned no expression for part {name}")
    out = []
    by_name = dict(zip(arg_names, arg_exprs, strict=True))
    for expr in front:
        _check_found(expr, by_name, f"for part {name}")
        out.append(expr.xreplace({s: by_name[s.name] for s in expr.free_symbols}))
    return sorted(out, key=complexity)


def _select(front: Sequence[sp.Expr], losses: Sequence[float], floor: float) -> sp.Expr:
    """The simplest row with loss ≤ SELECT_FACTOR × minimum + floor (``Discovery.best``'s rule)."""
    finite = [ell for ell in losses if math.isfinite(ell)]
    if not finite:
        raise ValueError(f"no expression of the part's front is finite on its pseudo-target: {list(front)}")
    bound = SELECT_FACTOR * min(finite) + floor
    return next(e for e, ell in zip(front, losses, strict=True) if ell <= bound)


def _refit(
    template: Template,
    parts: Mapping[str, sp.Expr],
    constants: Mapping[str, float],
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
    loss: float,
) -> tuple[dict[str, sp.Expr], dict[str, float], float]:
    """Refit every Float of the parts and every template constant jointly; keep the old values if not better."""
    structures, params, start = {}, list(template.constants), [constants[c.name] for c in template.constants]
    for name, expr in parts.items():
        structure, symbols, values = abstract_constants(expr, prefix=f"<{name}>")
        structures[name] = structure
        params.extend(symbols)
        start.extend(values)
    model = template.assemble(structures)
    fitted = _fit_from_starts(model, tuple(params), [np.array(start, dtype=np.float64)], columns, y)
    if fitted is None or not fitted[1] < loss:
        return dict(parts), dict(constants), loss
    values, new_loss = fitted
    by_symbol = {p: sp.Float(v) for p, v in zip(params, values, strict=True)}
    new_constants = {c.name: float(v) for c, v in zip(template.constants, values, strict=False)}
    new_parts = {name: s.xreplace(by_symbol) for name, s in structures.items()}
    return new_parts, new_constants, new_loss


# ---------------------------------------------------------------------------------------------------------- shared


def _check_found(expr: Any, names: Iterable[str], what: str) -> None:
    """Refuse what a search callback returned unless it is a SymPy expression in the columns it was given."""
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"the search must return SymPy expressions; got {type(expr).__name__} {what}")
    known = set(names)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in known)
    if unknown:
        raise ValueError(f"the search returned {expr} {what}, using {unknown}, not among the columns {sorted(known)}")


def abstract_constants(expr: sp.Expr, *, prefix: str = "c") -> tuple[sp.Expr, tuple[sp.Symbol, ...], tuple[float, ...]]:
    """Replace every distinct ``Float`` of ``expr`` by a parameter ``{prefix}0, {prefix}1, …`` (``real=True``).

    Returns (structure, parameters, their values in ``expr``). Exact numbers (Integers, Rationals, π) stay. The
    numbering is canonical: parameters are numbered in a pre-order walk that visits the arguments of a sum or a
    product sorted by their structure (every Float masked alike), so it does not depend on the constants'
    values — except between arguments of identical structure, ordered by value. Equal Floats become one
    parameter.

    >>> t = sp.Symbol("t")
    >>> abstract_constants(1.5 * sp.exp(-0.25 * t) + 0.5)
    (c0*exp(c1*t) + c2, (c0, c1, c2), (1.5, -0.25, 0.5))
    >>> abstract_constants(7.0 * sp.exp(-3.0 * t) + 2.0)[0] == abstract_constants(1.5 * sp.exp(-0.25 * t) + 0.5)[0]
    True
    """
    floats = sorted(expr.atoms(sp.Float), key=float)
    if not floats:
        return expr, (), ()
    holders = {f: sp.Dummy(f"f{k}") for k, f in enumerate(floats)}
    masked = expr.xreplace(holders)
    mask = sp.Symbol("<C>")
    mask_all = {d: mask for d in holders.values()}
    order: list[sp.Dummy] = []

    def visit(node: sp.Basic) -> None:
        if node in mask_all:
            if node not in order:
                order.append(node)
            return
        args = node.args
        if node.is_Add or node.is_Mul:
            args = sorted(args, key=lambda a: (sp.srepr(a.xreplace(mask_all)), sp.default_sort_key(a)))
        for arg in args:
            visit(arg)

    visit(masked)
    value_of = {d: float(f) for f, d in holders.items()}
    params = tuple(sp.Symbol(f"{prefix}{k}", real=True) for k in range(len(order)))
    structure = masked.xreplace(dict(zip(order, params, strict=True)))
    return structure, params, tuple(value_of[d] for d in order)


class DroppedStructure(NamedTuple):
    """A structure `fit_shared` could not fit to every group, and why."""

    structure: sp.Expr
    reason: str


@dataclass(frozen=True)
class SharedCandidate:
    """One structure shared by every group: its ``parameters`` and their ``values`` per group, the pooled
    ``loss`` (MSE over all rows), ``complexity`` (node count of ``structure``) and ``group_losses`` (MSE per group).
    """

    structure: sp.Expr
    parameters: tuple[sp.Symbol, ...]
    values: dict[Hashable, tuple[float, ...]]
    loss: float
    complexity: int
    group_losses: dict[Hashable, float]

    def per_group_expr(self, group: Hashable) -> sp.Expr:
        """The structure with ``group``'s fitted values as Floats.

        >>> t, c0 = sp.symbols("t c0")
        >>> SharedCandidate(c0 * t, (c0,), {"a": (2.0,)}, 0.0, 3, {"a": 0.0}).per_group_expr("a")
        2.0*t
        """
        if group not in self.values:
            raise KeyError(f"unknown group {group!r}; groups: {list(self.values)}")
        return self.structure.xreplace(
            {p: sp.Float(v) for p, v in zip(self.parameters, self.values[group], strict=True)}
        )


class SharedCandidates(list):
    """The list `fit_shared` returns (simplest first), with ``dropped``: the structures left out, with reasons."""

    def __init__(self, candidates: Iterable[SharedCandidate], dropped: Iterable[DroppedStructure] = ()) -> None:
        super().__init__(candidates)
        self.dropped: tuple[DroppedStructure, ...] = tuple(dropped)


def fit_shared(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    groups: np.ndarray,
    search: Search,
    *,
    seed: int = 0,
    max_structures: int = 20,
) -> SharedCandidates:
    """One expression structure for every group (dataset), its Float constants refitted per group.

    The rules are in the module docstring. ``groups`` labels each row (any hashable values NumPy can sort); there
    must be at least two groups of at least `discover.MIN_ROWS` rows each. ``seed`` draws the random starts used
    where the found values fail. Returns a `SharedCandidates` list sorted by complexity then pooled loss.
    """
    X, y, names = _check_data(X, y, features)
    seed = check_seed(seed)
    if isinstance(max_structures, bool) or not isinstance(max_structures, (int, np.integer)) or max_structures < 1:
        raise ValueError(f"max_structures must be a positive integer, got {max_structures!r}")
    labels, members = _check_groups(groups, len(y))
    rng = np.random.default_rng(seed)
    prefix = "c"
    while any(n.startswith(prefix) and n[len(prefix) :].isdigit() for n in names):
        prefix += "_"

    found: dict[sp.Expr, list[tuple[float, ...]]] = {}
    for rows in [*members, np.ones(len(y), dtype=bool)]:
        front = search(X[rows], y[rows], list(names))
        for expr in front:
            _check_found(expr, names, "for the shared structure")
            structure, _, values = abstract_constants(expr, prefix=prefix)
            starts = found.setdefault(structure, [])
            if values not in starts:
                starts.append(values)
    kept = sorted(found, key=complexity)[: int(max_structures)]

    candidates, dropped = [], []
    for structure in kept:
        count = sum(1 for s in structure.free_symbols if s.name not in names)
        params = tuple(sp.Symbol(f"{prefix}{k}", real=True) for k in range(count))
        values, group_loss, failed = {}, {}, None
        for label, rows in zip(labels, members, strict=True):
            columns = dict(zip(names, X[rows].T, strict=True))
            starts = [np.array(v, dtype=np.float64) for v in found[structure]]
            fitted = _fit_from_starts(structure, params, starts, columns, y[rows])
            if fitted is None and params:
                fitted = _fit_from_starts(structure, params, _starts(rng, len(params)), columns, y[rows])
            if fitted is None:
                failed = f"no finite least-squares fit on group {label!r} from the found values nor {N_STARTS} starts"
                break
            values[label], group_loss[label] = tuple(float(v) for v in fitted[0]), fitted[1]
        if failed:
            dropped.append(DroppedStructure(structure, failed))
            continue
        pooled = sum(group_loss[g] * int(m.sum()) for g, m in zip(labels, members, strict=True)) / len(y)
        candidates.append(SharedCandidate(structure, params, values, float(pooled), complexity(structure), group_loss))
    candidates.sort(key=lambda c: (c.complexity, c.loss))
    return SharedCandidates(candidates, dropped)


def _check_groups(groups: Any, rows: int) -> tuple[list[Hashable], list[np.ndarray]]:
    groups = np.asarray(groups)
    if groups.shape != (rows,):
        raise ValueError(f"groups must label each of the {rows} rows (shape ({rows},)), got shape {groups.shape}")
    try:
        unique = np.unique(groups)
    except TypeError as err:
        raise TypeError(f"group labels must be sortable values of one kind: {err}") from err
    if unique.dtype.kind == "f" and np.any(np.isnan(unique)):
        raise ValueError("groups contains NaN: label every row")
    if len(unique) < 2:
        raise ValueError(
            f"fit_shared needs at least two groups, got {len(unique)}; for one dataset use discover.discover"
        )
    members = [groups == u for u in unique]
    small = {u.item() if hasattr(u, "item") else u: int(m.sum()) for u, m in zip(unique, members, strict=True)}
    small = {u: n for u, n in small.items() if n < MIN_ROWS}
    if small:
        raise ValueError(f"groups {small} have fewer than {MIN_ROWS} rows each: too few to fit constants per group")
    labels = [u.item() if hasattr(u, "item") else u for u in unique]
    return labels, members


# ---------------------------------------------------------------------------------------------------------- fitting


def _check_data(X: Any, y: Any, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    if isinstance(features, str):
        raise TypeError(f"features must be a sequence of column names, not the string {features!r}")
    names = tuple(features)
    if len(set(names)) != len(names):
        raise ValueError(f"features repeat a name: {list(names)}")
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"feature name {name!r} must be a Python identifier: it becomes a SymPy symbol name")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or X.shape != (len(y), len(names)):
        raise ValueError(f"X must have shape (rows, {len(names)}) and y shape (rows,); got {X.shape} and {y.shape}")
    if len(y) < MIN_ROWS:
        raise ValueError(f"need at least {MIN_ROWS} rows to fit, got {len(y)}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite (no NaN or ±inf); drop or fill those rows first")
    feature_symbols(names)  # every name is a valid symbol name
    return X, y, names


def _values(expr: sp.Expr, columns: Mapping[str, Any], rows: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = np.asarray(evaluate(expr, columns), dtype=np.float64)
    return np.broadcast_to(out, (rows,))


def _loss(expr: sp.Expr, columns: Mapping[str, np.ndarray], y: np.ndarray, constants: Mapping[str, float]) -> float:
    prediction = _values(expr, {**columns, **constants}, len(y))
    with np.errstate(all="ignore"):
        value = float(np.mean((prediction - y) ** 2))
    return value if math.isfinite(value) else math.inf


def _starts(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """N_STARTS starts: all ones, then independent signs and magnitudes 10^U(−1, 1)."""
    starts = [np.ones(count)]
    for _ in range(N_STARTS - 1):
        signs = rng.choice([-1.0, 1.0], size=count)
        starts.append(signs * 10.0 ** rng.uniform(-_START_DECADES, _START_DECADES, size=count))
    return starts


def _fit_from_starts(
    model: sp.Expr,
    params: Sequence[sp.Symbol],
    starts: Sequence[np.ndarray],
    columns: Mapping[str, np.ndarray],
    y: np.ndarray,
) -> tuple[tuple[float, ...], float] | None:
    """Least squares of ``model`` (parameters ``params``) from each start; the best (values, MSE), or None."""
    if not params:
        loss = _loss(model, columns, y, {})
        return ((), loss) if math.isfinite(loss) else None
    names = [p.name for p in params]
    gradient = [sp.diff(model, p) for p in params]
    rows = len(y)

    def residuals(theta: np.ndarray) -> np.ndarray:
        return _values(model, {**columns, **dict(zip(names, theta, strict=True))}, rows) - y

    def jacobian(theta: np.ndarray) -> np.ndarray:
        values = {**columns, **dict(zip(names, theta, strict=True))}
        J = np.column_stack([_values(g, values, rows) for g in gradient])
        return np.where(np.isfinite(J), J, 0.0)  # a direction with no finite derivative is not followed

    def solve(start: np.ndarray, budget: int) -> tuple[tuple[float, ...], float]:
        with np.errstate(all="ignore"):  # a trial step may overflow; trf then shrinks its trust region
            result = least_squares(
                residuals,
                start,
                jac=jacobian,
                method="trf",
                x_scale="jac",
                ftol=_TOLERANCE,
                xtol=_TOLERANCE,
                gtol=_TOLERANCE,
                max_nfev=budget,
            )
        with np.errstate(all="ignore"):
            loss = float(np.mean(residuals(result.x) ** 2))
        return tuple(float(v) for v in result.x), loss if math.isfinite(loss) else math.inf

    best: tuple[tuple[float, ...], float] | None = None
    for start in starts:
        if not np.all(np.isfinite(residuals(start))):
            continue
        fitted = solve(start, _START_EVALUATIONS * len(params)) if len(starts) > 1 else solve(start, _MAX_EVALUATIONS)
        if math.isfinite(fitted[1]) and (best is None or fitted[1] < best[1]):
            best = fitted
    if best is not None and len(starts) > 1:
        polished = solve(np.array(best[0]), _MAX_EVALUATIONS)
        if polished[1] <= best[1]:
            best = polished
    return best
