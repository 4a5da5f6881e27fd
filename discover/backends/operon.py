"""Operon (pyoperon): multi-objective genetic programming, the default backend.

Operon (Burlacu, Kronberger & Kommenda, GECCO 2020) evolves expression trees with NSGA-II on two objectives,
accuracy (``r2``, with linear scaling) and size (``length``), and fits every tree's constants by
Levenberg–Marquardt (``optimizer="lm"``). We take its whole final Pareto front, not only the model it would pick.

Settings (each may be overridden by a keyword option of the same name; any other ``SymbolicRegressor``
parameter may be passed too):

- from the `Budget`: ``generations``, ``population_size``, ``max_length`` and ``max_time`` (``time_limit``);
- from the seed: ``random_state``; ``n_threads=1``, because Operon's parallel evaluation order depends on
  thread scheduling, so only a single thread makes the same seed give the same front;
- ``objectives=["r2", "length"]``, ``optimizer="lm"``, ``optimizer_iterations=10`` (pyoperon's default of 0
  would switch constant fitting off), ``allowed_symbols="add,sub,mul,div,constant,variable"`` (a string or a
  sequence of names), ``max_evaluations`` effectively unlimited so that ``generations`` is the budget.

**Precision.** Operon computes in float32: inputs are cast to float32 (values beyond float32's range are
refused) and fitted constants are accurate to about 1e-6 relative. lawbook recomputes every loss in float64
from the SymPy expression, and `discover.snapping` turns constants such as 1.9999997 into exact rationals.

**Expressions.** Each front tree is converted to SymPy node by node (Operon stores trees in postfix order; a
variable leaf carries a weight, so it becomes ``weight * symbol``), with the fitted constants kept at their
exact float32 values rather than parsed back from a rounded string. Operon names inputs ``X1, X2, …`` by
column index (one-based); we map them through their hashes to the feature symbols, and the tests check the
mapping by comparing the SymPy expression with Operon's own evaluation of the tree.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from discover.backends.base import AbstractBackend, BackendUnavailable, Budget, RawCandidate, check_options
from discover.backends.base import feature_symbols as _feature_symbols

__all__ = ["OperonBackend", "tree_to_sympy"]

_DEFAULTS: dict[str, Any] = {
    "objectives": ["r2", "length"],
    "optimizer": "lm",
    "optimizer_iterations": 10,
    "allowed_symbols": "add,sub,mul,div,constant,variable",
    "n_threads": 1,
    "max_evaluations": sys.maxsize,
}
# Set from the budget and the seed, never through options, so that a Discovery's settings cannot disagree.
_RESERVED = {"generations", "population_size", "max_length", "max_time", "random_state", "warm_start"}

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _regressor_class() -> type:
    try:
        from pyoperon.sklearn import SymbolicRegressor
    except Exception as exc:  # an ImportError, or a broken binary wheel
        raise BackendUnavailable(
            f"the 'operon' backend needs pyoperon, which failed to import ({exc!r}); "
            "install it with `pip install 'pyoperon>=0.6,<0.7'`"
        ) from exc
    return SymbolicRegressor


class OperonBackend(AbstractBackend):
    """Operon's NSGA-II symbolic regression; see the module docstring for every setting."""

    name: ClassVar[str] = "operon"

    def settings(self, *, seed: int, budget: Budget, **options: Any) -> dict[str, Any]:
        regressor = _regressor_class()
        known = set(inspect.signature(regressor).parameters) - _RESERVED
        reserved = sorted(set(options) & _RESERVED)
        if reserved:
            raise TypeError(f"backend 'operon': {reserved} are set by the budget and the seed, not by options")
        check_options(self.name, options, sorted(known))
        params = {**_DEFAULTS, **options}
        if not isinstance(params["allowed_symbols"], str):
            params["allowed_symbols"] = ",".join(params["allowed_symbols"])
        params["objectives"] = list(params["objectives"])
        params.update(
            generations=int(budget.generations),
            population_size=int(budget.population_size),
            max_length=int(budget.max_length),
            max_time=None if budget.time_limit is None else max(1, round(budget.time_limit)),
            random_state=int(seed),
        )
        return regressor(**params).get_params()

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        features: Sequence[str],
        *,
        seed: int,
        budget: Budget,
        **options: Any,
    ) -> list[RawCandidate]:
        params = self.settings(seed=seed, budget=budget, **options)
        for name, column in zip(features, np.asarray(X).T, strict=True):
            _check_float32_range(name, column)
        _check_float32_range("target", y)
        regressor = _regressor_class()(**params)
        regressor.fit(np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32))

        hashes = list(regressor.variables_)  # insertion order = column order (pyoperon sorts by index)
        if len(hashes) != len(features):
            raise RuntimeError(f"Operon reports {len(hashes)} input variables for {len(features)} features")
        variables = dict(zip(hashes, _feature_symbols(features), strict=True))
        return [
            RawCandidate(
                tree_to_sympy(entry["tree"], variables), int(entry["length"]), float(entry["mean_squared_error"])
            )
            for entry in regressor.pareto_front_
        ]


def _check_float32_range(name: str, values: np.ndarray) -> None:
    if np.any(np.abs(values) > _FLOAT32_MAX):
        raise ValueError(
            f"column {name!r} has values beyond float32's range (±{_FLOAT32_MAX:.3g}); Operon computes in float32"
        )


def _subtract(*args: sp.Expr) -> sp.Expr:
    return -args[0] if len(args) == 1 else args[0] - sp.Add(*args[1:])


def _divide(*args: sp.Expr) -> sp.Expr:
    return 1 / args[0] if len(args) == 1 else args[0] / sp.Mul(*args[1:])


# Operon's node types as SymPy functions of the children, first argument first. Operon's cbrt is the real
# cube root; SymPy's cbrt is the principal one, equal for the non-negative arguments met in practice.
_FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "Add": sp.Add,
    "Mul": sp.Mul,
    "Sub": _subtract,
    "Div": _divide,
    "Fmin": sp.Min,
    "Fmax": sp.Max,
    "Aq": lambda a, b: a / sp.sqrt(1 + b**2),
    "Pow": lambda a, b: a**b,
    "Powabs": lambda a, b: sp.Abs(a) ** b,
    "Abs": sp.Abs,
    "Acos": sp.acos,
    "Asin": sp.asin,
    "Atan": sp.atan,
    "Cbrt": sp.cbrt,
    "Ceil": sp.ceiling,
    "Cos": sp.cos,
    "Cosh": sp.cosh,
    "Exp": sp.exp,
    "Floor": sp.floor,
    "Log": sp.log,
    "Logabs": lambda a: sp.log(sp.Abs(a)),
    "Log1p": lambda a: sp.log(1 + a),
    "Sin": sp.sin,
    "Sinh": sp.sinh,
    "Sqrt": sp.sqrt,
    "Sqrtabs": lambda a: sp.sqrt(sp.Abs(a)),
    "Tan": sp.tan,
    "Tanh": sp.tanh,
    "Square": lambda a: a**2,
}


def tree_to_sympy(tree: Any, variables: dict[int, sp.Symbol]) -> sp.Expr:
    """Convert an Operon tree to SymPy. ``variables`` maps each variable hash to its symbol.

    Operon stores a tree in postfix order: a function node follows its children, and its first argument is
    the subtree that ends just before it. So a stack evaluation pops the first argument first.
    """
    stack: list[sp.Expr] = []
    for node in tree.Nodes:
        kind = node.Type.name
        if kind == "Constant":
            stack.append(sp.Float(node.Value))
        elif kind == "Variable":
            stack.append(sp.Float(node.Value) * variables[node.HashValue])
        elif kind in _FUNCTIONS:
            args = [stack.pop() for _ in range(node.Arity)]
            stack.append(_FUNCTIONS[kind](*args))
        else:
            raise NotImplementedError(f"Operon node type {kind!r} has no SymPy counterpart in lawbook")
    if len(stack) != 1:
        raise RuntimeError(f"malformed Operon tree: {len(stack)} expressions left after conversion")
    return stack[0]
