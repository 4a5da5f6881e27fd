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

**Precision.** Operon computes in float32: inputs are cast to float32 (columns beyond the range that
`discover.checks` derives from float32's are refused) and fitted constants are accurate to about 1e-6 relative. lawbook recomputes every loss in float64
from the SymPy expression, and `discover.snapping` turns constants such as 1.9999997 into exact rationals.

**Expressions.** Each front tree is converted to SymPy node by node (Operon stores trees in postfix order; a
variable leaf carries a weight, so it becomes ``weight * symbol``), with the fitted constants kept at their
exact float32 values rather than parsed back from a rounded string. Operon names inputs ``X1, X2, …`` by
column index (one-based); we map them through their hashes to the feature symbols, and the tests check the
mapping by comparing the SymPy expression with Operon's own evaluation of the tree.

**Progress.** Operon's algorithm takes a callback that it calls after every generation (``Run(rng, callback,
…)``), but pyoperon's ``SymbolicRegressor.fit`` passes none. When progress is asked for, we run pyoperon's own
``fit`` function unchanged except for the namespace it looks names up in: there, the algorithm classes are
wrapped so that ``Run`` receives our callback, which reports the generation and the best loss of the current
front. Nothing global is modified (other threads using pyoperon are unaffected), and the tests check that the
front is identical with and without progress. Without progress, ``SymbolicRegressor.fit`` runs as it is.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from discover.backends.base import AbstractBackend, BackendUnavailable, Budget, RawCandidate, check_options
from discover.backends.base import feature_symbols as _feature_symbols
from discover.checks import check_magnitude
from discover.progress import Reporter

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
# The algorithm classes pyoperon's fit instantiates (NSGA-II for several objectives, plain GP for one).
_ALGORITHMS = ("NSGA2Algorithm", "GeneticProgrammingAlgorithm")


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
    budget_fields: ClassVar[tuple[str, ...]] = ("generations", "population_size", "max_length", "time_limit")
    operator_options: ClassVar[tuple[str, ...]] = ("allowed_symbols",)

    def operators(self, names: Sequence[str]) -> dict[str, Any]:
        """Operon's ``allowed_symbols`` for the operators ``names`` (Operon's own names), constants and variables."""
        return {"allowed_symbols": ",".join([*names, "constant", "variable"])}

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
        settings: dict[str, Any],
        *,
        progress: Reporter,
    ) -> list[RawCandidate]:
        for name, column in zip(features, np.asarray(X).T, strict=True):
            check_magnitude(name, column)
        check_magnitude("target", np.asarray(y))
        regressor = _regressor_class()(**settings)
        X32, y32 = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32)
        if progress.active:
            _fit_reporting(regressor, X32, y32, progress)
        else:
            regressor.fit(X32, y32)

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


def _fit_reporting(regressor: Any, X: np.ndarray, y: np.ndarray, progress: Reporter) -> None:
    """``regressor.fit(X, y)`` by pyoperon's own code, with a callback that reports each generation."""
    import pyoperon
    import pyoperon.sklearn

    generations = int(regressor.generations)
    objective = next(iter(regressor.objectives))
    variance = float(np.var(y.astype(np.float64)))
    calls: list[int] = []
    raised: list[BaseException] = []

    def report(algorithm: Any) -> None:
        try:
            _report(algorithm)
        except BaseException as err:
            # Operon ends its search when the callback raises, but then returns as if the search were complete and
            # drops the exception: a Ctrl-C (or a failing user callback) would silently truncate the search and the
            # caller would get the partial front as the result. Keep the exception and raise it once Operon returns.
            raised.append(err)
            raise

    def _report(algorithm: Any) -> None:
        generation = int(algorithm.Generation)
        calls.append(generation)
        if not progress.due("search", generation, generations):
            return
        best_loss = None
        front = algorithm.BestFront
        if objective == "r2" and front:
            # Operon's r2 fitness is −R² of the linearly scaled model, whose MSE is (1 − R²)·var(y).
            best_loss = max(0.0, 1.0 + min(ind.GetFitness(0) for ind in front)) * variance
        progress.report("search", generation, generations, best_loss=best_loss)

    namespace = types.ModuleType("pyoperon_with_progress")
    namespace.__dict__.update(vars(pyoperon))
    for name in _ALGORITHMS:
        setattr(namespace, name, _with_callback(getattr(pyoperon, name), report))
    fit = pyoperon.sklearn.SymbolicRegressor.fit
    if fit.__closure__ is not None or "op" not in fit.__code__.co_names:
        raise RuntimeError("this pyoperon's SymbolicRegressor.fit has changed: lawbook cannot report its progress")
    reporting_fit = types.FunctionType(
        fit.__code__, {**vars(pyoperon.sklearn), "op": namespace}, fit.__name__, fit.__defaults__
    )
    reporting_fit(regressor, X, y)
    if raised:
        raise raised[0]
    if not calls:
        raise RuntimeError("Operon ran without calling lawbook's progress callback: this pyoperon is not supported")


def _with_callback(algorithm_class: type, report: Callable[[Any], None]) -> type:
    """A stand-in for an Operon algorithm class whose ``Run`` calls ``report(algorithm)`` after each generation."""

    class WithCallback:
        def __init__(self, *args: Any) -> None:
            self._algorithm = algorithm_class(*args)

        def Run(self, rng: Any, callback: Any = None, threads: int = 0, warm_start: bool = False) -> None:
            if callback is not None:
                raise RuntimeError("pyoperon passed its own callback to Run: lawbook cannot add its progress report")
            algorithm = self._algorithm
            algorithm.Run(rng, lambda: report(algorithm), threads, warm_start)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._algorithm, name)

    return WithCallback


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
