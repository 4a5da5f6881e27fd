"""The `Law` record: a closed-form law as a SymPy object with its symbols, assumptions, regime and source.

A law is modelled on a SymPy distribution: it declares its parameters (``symbols``, with SymPy assumptions
such as ``positive=True``), its sampling ``domain``, machine-checkable ``assumptions``, and its formulas.

- ``equation`` is a ``sympy.Eq`` whose left side is the quantity defined: a Symbol, or a Derivative for an ODE.
- ``solution`` (optional) is an ``Eq`` whose left side is the trajectory quantity, e.g. ``u(t)``.
- ``derived`` holds further named closed forms (learning times, limits, ...).

``numeric`` compiles any of these right-hand sides once (numpy or mpmath) and evaluates it with keyword
arguments named like the symbols, so a DataFrame whose columns are the symbol names plugs straight in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["Assumption", "AssumptionError", "Law", "function_free"]


class AssumptionError(ValueError):
    """A law was applied outside its assumptions. The message names the assumption and the fix."""


@dataclass(frozen=True)
class Assumption:
    """One assumption of a law: a prose statement and, where possible, a machine check.

    ``check`` takes keyword arguments (arrays, matrices) and raises `AssumptionError` when the assumption
    is definitely violated; it returns None otherwise (three-valued logic: undecidable means no raise).
    """

    name: str
    statement: str
    check: Callable[..., None] | None = None


def function_free(expr: sp.Expr) -> sp.Expr:
    """Replace applied undefined functions ``u(t)`` by plain symbols ``u`` (same name and assumptions).

    >>> t = sp.Symbol("t"); u = sp.Function("u", positive=True)(t)
    >>> function_free(2 * u)
    2*u
    """
    reps = {}
    for f in expr.atoms(sp.core.function.AppliedUndef):
        reps[f] = sp.Symbol(f.func.__name__, **_function_assumptions(f))
    return expr.xreplace(reps)


def _function_assumptions(f: sp.Basic) -> dict[str, bool]:
    keys = ("positive", "nonnegative", "real", "negative", "nonzero")
    out = {}
    for k in keys:
        v = getattr(f, f"is_{k}")
        if v is not None:
            out[k] = v
    return out


@dataclass(frozen=True)
class Law:
    """A closed-form law of learning dynamics.

    >>> from theory import get_law
    >>> law = get_law("logistic_mode")
    >>> law.targets["solution"].subs({law.symbols["t"]: 0})
    u0
    >>> round(float(law.numeric(t=1.0, tau=1.0, s=2.0, u0=0.01)), 6)
    0.430588
    """

    name: str
    title: str
    equation: sp.Eq | tuple[sp.Eq, ...]
    symbols: Mapping[str, sp.Symbol]
    assumptions: tuple[Assumption, ...]
    regime: str
    source: str
    domain: Mapping[str, tuple[float, float]]
    solution: sp.Eq | None = None
    derived: Mapping[str, sp.Expr] = field(default_factory=dict)
    exact: bool = True
    # init=False: dataclasses.replace(law, solution=...) must start an empty cache, not share the original's dict
    # (a shared one returned the original formula compiled under the same target name).
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        eqs = self.equation if isinstance(self.equation, tuple) else (self.equation,)
        for eq in eqs:
            if not isinstance(eq, sp.Equality):
                raise TypeError(f"law {self.name!r}: equation must be a sympy.Eq, got {type(eq).__name__}")
        for name, sym in self.symbols.items():
            if getattr(sym, "name", None) != name:
                raise ValueError(f"law {self.name!r}: symbol key {name!r} differs from its name {sym}")
        for name, (lo, hi) in self.domain.items():
            if name not in self.symbols:
                raise ValueError(f"law {self.name!r}: domain names unknown symbol {name!r}")
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"law {self.name!r}: domain of {name!r} must be a finite interval lo < hi")

    # -- formulas ------------------------------------------------------------------------------------------
    @property
    def equations(self) -> tuple[sp.Eq, ...]:
        return self.equation if isinstance(self.equation, tuple) else (self.equation,)

    @property
    def targets(self) -> dict[str, sp.Expr]:
        """Every closed form of the law by name, as expressions in plain symbols.

        ``rhs`` is the right side of the (first) equation, ``solution`` the trajectory, then ``derived``.
        """
        out: dict[str, sp.Expr] = {}
        rhs = self.equations[0].rhs
        if isinstance(rhs, sp.Expr):
            out["rhs"] = function_free(rhs)
        if self.solution is not None:
            out["solution"] = function_free(self.solution.rhs)
        out.update(self.derived)
        return out

    @property
    def default_target(self) -> str:
        return "solution" if self.solution is not None else "rhs"

    def arguments(self, target: str | None = None) -> tuple[str, ...]:
        """Names of the symbols the target depends on, sorted."""
        expr = self._target(target)
        return tuple(sorted(s.name for s in expr.free_symbols))

    def _target(self, target: str | None) -> sp.Expr:
        target = target or self.default_target
        targets = self.targets
        if target not in targets:
            raise KeyError(f"law {self.name!r} has no target {target!r}; known: {sorted(targets)}")
        return targets[target]

    # -- numerics ------------------------------------------------------------------------------------------
    def compiled(self, target: str | None = None, backend: str = "numpy") -> Callable[..., Any]:
        """The target compiled once (cached) for ``backend`` in {"numpy", "mpmath"}; call it with keywords.

        This is the raw formula: it does not check the symbols' assumptions, because numerical differentiation
        and analytic continuation legitimately step outside them (e.g. mpmath.diff at t = 0 evaluates at t < 0).
        `numeric` is the checked evaluator.
        """
        if backend not in ("numpy", "mpmath"):
            raise ValueError(f"unknown backend {backend!r}: use 'numpy' or 'mpmath'")
        target = target or self.default_target
        key = (target, backend)
        if key not in self._cache:
            expr = self._target(target)
            names = self.arguments(target)
            syms = [next(s for s in expr.free_symbols if s.name == n) for n in names]
            modules = [{"hyper": _hyper_numpy}, "scipy", "numpy"] if backend == "numpy" else ["mpmath"]
            fn = sp.lambdify(syms, expr, modules=modules)
            self._cache[key] = _KeywordFunction(self.name, target, names, fn, tuple(_sign_conditions(s) for s in syms))
        return self._cache[key]

    def numeric(self, target: str | None = None, backend: str = "numpy", **values: Any) -> Any:
        """Evaluate a target at keyword values named like the symbols (arrays broadcast).

        Extra keywords that the target does not use are refused, so a typo cannot pass silently. Each value is
        checked against its symbol's SymPy assumptions first (positive, nonnegative, negative, nonpositive,
        nonzero, real, integer): a value that definitely violates one (for arrays, any entry; NaN decides
        nothing) raises `AssumptionError` naming the symbol, the value and the assumption.

        >>> from theory import get_law
        >>> get_law("logistic_mode").numeric(t=1.0, tau=0.0, s=2.0, u0=0.01)
        Traceback (most recent call last):
        ...
        theory.law.AssumptionError: law 'logistic_mode', target 'solution': tau = 0.0 violates the assumption tau > 0 (the symbol is declared positive=True). Evaluate the law only inside its assumptions (law.domain gives the sampling ranges).
        """
        fn = self.compiled(target, backend)
        fn.check_values(values)
        return fn(**values)

    def check(self, **data: Any) -> None:
        """Run every machine-checkable assumption whose arguments are all present in ``data``."""
        import inspect

        for a in self.assumptions:
            if a.check is None:
                continue
            params = inspect.signature(a.check).parameters
            required = [p for p, v in params.items() if v.default is inspect.Parameter.empty]
            if all(p in data for p in required):
                a.check(**{p: data[p] for p in params if p in data})


def _hyper_numpy(a: tuple, b: tuple, z: Any) -> Any:
    """Generalised hypergeometric pFq for lambdify's numpy backend (SciPy has 2F1 only)."""
    import numpy as np
    import scipy.special

    if len(a) == 2 and len(b) == 1:
        return scipy.special.hyp2f1(a[0], a[1], b[0], z)
    import mpmath

    return np.vectorize(lambda x: float(mpmath.hyper(list(a), list(b), float(x))))(z)


# (SymPy assumption, violation test on a numpy array, readable condition). Order: strongest first, so that a
# positive=True symbol (which is also nonnegative, nonzero and real) is reported as "> 0".
_SIGN_TESTS: tuple[tuple[str, Callable[[Any], Any], str], ...] = (
    ("positive", lambda x: x <= 0, "> 0"),
    ("negative", lambda x: x >= 0, "< 0"),
    ("nonnegative", lambda x: x < 0, "≥ 0"),
    ("nonpositive", lambda x: x > 0, "≤ 0"),
    ("nonzero", lambda x: x == 0, "≠ 0"),
)


def _sign_conditions(sym: sp.Basic) -> tuple[str, ...]:
    """The machine-checkable SymPy assumptions of ``sym`` (empty for matrix symbols and unconstrained ones)."""
    if not isinstance(sym, sp.Symbol):
        return ()
    out = [name for name in ("real", "integer") if getattr(sym, f"is_{name}") is True]
    for name, _, _ in _SIGN_TESTS:
        if getattr(sym, f"is_{name}") is True:
            out.append(name)
            break  # the strongest sign condition implies the weaker ones
    return tuple(out)


def _violation(value: Any, conditions: tuple[str, ...]) -> tuple[str, Any, str] | None:
    """(assumption, first violating entry, condition text) if ``value`` definitely violates one, else None.

    Vectorised (no per-element Python loop); NaN compares False everywhere, so it decides nothing.
    """
    import numpy as np

    arr = np.asarray(value)
    if arr.dtype == object:  # mpmath numbers or SymPy values: only real mpf/int/float entries are decidable here
        try:
            arr = arr.astype(np.complex128)
        except (TypeError, ValueError):
            return None
    if arr.dtype.kind not in "biufc":
        return None
    if arr.dtype.kind == "c":
        off_real = arr.imag != 0
        if np.any(off_real):  # every condition checked here (sign, integer, real) implies a real value
            return "real", arr[off_real].flat[0], "real"
        arr = arr.real
    if "integer" in conditions and arr.dtype.kind == "f":
        frac = np.isfinite(arr) & (arr != np.round(arr))
        if np.any(frac):
            return "integer", arr[frac].flat[0], "an integer"
    for name, test, text in _SIGN_TESTS:
        if name in conditions:
            bad = test(arr)
            if np.any(bad):
                return name, arr[bad].flat[0], text
    return None


@dataclass(frozen=True)
class _KeywordFunction:
    law: str
    target: str
    names: tuple[str, ...]
    fn: Callable[..., Any]
    conditions: tuple[tuple[str, ...], ...] = ()

    def _check_names(self, values: Mapping[str, Any]) -> None:
        missing = [n for n in self.names if n not in values]
        extra = [n for n in values if n not in self.names]
        if missing or extra:
            raise TypeError(
                f"law {self.law!r}, target {self.target!r} takes {list(self.names)}; "
                f"missing {missing}, unexpected {extra}"
            )

    def check_values(self, values: Mapping[str, Any]) -> None:
        """Raise `AssumptionError` if a value definitely violates its symbol's SymPy assumptions."""
        self._check_names(values)
        for name, conds in zip(self.names, self.conditions, strict=False):
            found = _violation(values[name], conds) if conds else None
            if found is not None:
                assumption, bad, text = found
                cond = f"{name} {text}" if text[0] in "<>≥≤≠" else f"{name} is {text}"
                shown = bad.item() if hasattr(bad, "item") else bad
                where = "" if _is_scalar(values[name]) else " (an entry of the array given)"
                raise AssumptionError(
                    f"law {self.law!r}, target {self.target!r}: {name} = {shown!r}{where} violates the assumption "
                    f"{cond} (the symbol is declared {assumption}=True). Evaluate the law only inside its "
                    "assumptions (law.domain gives the sampling ranges)."
                )

    def __call__(self, **values: Any) -> Any:
        self._check_names(values)
        try:
            return self.fn(*(values[n] for n in self.names))
        except ZeroDivisionError as err:
            args = ", ".join(f"{n}={values[n]!r}" for n in self.names if _is_scalar(values[n]))
            raise ValueError(
                f"law {self.law!r}, target {self.target!r} divides by zero at {args or 'the values given'}: "
                "the closed form is singular there (a pole, e.g. an infinite learning time, or a point where only its "
                "limit exists). Evaluate at a nearby point, or take the limit with sympy.limit on law.targets."
            ) from err


def _is_scalar(value: Any) -> bool:
    import numpy as np

    return np.ndim(value) == 0
