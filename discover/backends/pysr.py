"""PySR: regularised evolution in Julia (SymbolicRegression.jl), an optional backend.

PySR (Cranmer 2023, arXiv:2305.01582) needs a Julia runtime, which it installs and starts when ``pysr`` is
first imported. So lawbook never imports pysr at import time: this module imports it inside the backend, and
*any* failure to import (pysr not installed — ``pip install lawbook[pysr]`` — or Julia not downloadable, as on
machines without network access) raises `BackendUnavailable`, which names Julia and suggests
``backend="operon"``.

Settings (keyword options of the same name override them; any other ``PySRRegressor`` parameter may be passed):

- from the `Budget`: ``niterations = generations``; ``population_size = budget.population_size // populations``
  (the budget counts all individuals; ``populations`` defaults to 15); ``maxsize = max(7, max_length)`` (PySR
  refuses less than 7); ``timeout_in_seconds = time_limit``;
- from the seed: ``random_state``, with ``deterministic=True`` and serial execution (``parallelism="serial"``, or
  ``procs=0, multithreading=False`` in older PySR), the only way PySR reproduces a run;
- ``binary_operators=["+", "-", "*", "/"]``, ``unary_operators=[]``, ``parsimony=0.0032``,
  ``temp_equation_file=True`` (no files left in the working directory), ``progress=False``, ``verbosity=0``.

**Progress.** PySR's search runs inside Julia, where lawbook cannot observe it: the backend reports one
``"search"`` event when the search starts and one, with the best loss, when it ends.

PySR's hall of fame (its best expression at each complexity) is the candidate list. Variables are passed to
PySR as ``x0, x1, …`` (PySR refuses some names) and renamed to the feature symbols.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from discover.backends.base import AbstractBackend, BackendUnavailable, Budget, RawCandidate, check_options
from discover.backends.base import feature_symbols as _feature_symbols
from discover.progress import Reporter
from theory.parse import parse_expression

__all__ = ["PySRBackend", "pysr_operators"]

# lawbook's operator names (Operon's) → PySR's.
_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}
_UNARY = {"sqrt": "sqrt", "square": "square", "exp": "exp", "log": "log", "tanh": "tanh", "sin": "sin", "cos": "cos"}


def pysr_operators(names: Sequence[str]) -> dict[str, list[str]]:
    """PySR's operator options for lawbook's operator names.

    >>> pysr_operators(["add", "mul", "exp"])
    {'binary_operators': ['+', '*'], 'unary_operators': ['exp']}
    """
    unknown = [n for n in names if n not in _BINARY and n not in _UNARY]
    if unknown:
        raise ValueError(f"no PySR operator for {unknown}; known: {sorted({*_BINARY, *_UNARY})}")
    return {
        "binary_operators": [_BINARY[n] for n in names if n in _BINARY],
        "unary_operators": [_UNARY[n] for n in names if n in _UNARY],
    }


_DEFAULTS: dict[str, Any] = {
    "binary_operators": ["+", "-", "*", "/"],
    "unary_operators": [],
    "parsimony": 0.0032,
    "populations": 15,
    "temp_equation_file": True,
    "progress": False,
    "verbosity": 0,
}
_RESERVED = {"niterations", "population_size", "maxsize", "timeout_in_seconds", "random_state", "deterministic"}
_PYSR_MIN_MAXSIZE = 7


def _regressor_class() -> type:
    try:
        from pysr import PySRRegressor
    except (Exception, SystemExit) as exc:  # not installed, Julia download failed, Julia failed to start, ...
        raise BackendUnavailable(
            f"the 'pysr' backend needs PySR and its Julia runtime, which could not be loaded here ({exc!r}). "
            "Install them with `pip install lawbook[pysr]` on a machine where Julia can be installed "
            '(PySR downloads Julia on first import), or use backend="operon".'
        ) from exc
    return PySRRegressor


class PySRBackend(AbstractBackend):
    """PySR's symbolic regression in deterministic serial mode; see the module docstring for the settings."""

    name: ClassVar[str] = "pysr"
    budget_fields: ClassVar[tuple[str, ...]] = ("generations", "population_size", "max_length", "time_limit")
    operator_options: ClassVar[tuple[str, ...]] = ("binary_operators", "unary_operators")

    def operators(self, names: Sequence[str]) -> dict[str, Any]:
        """PySR's binary and unary operator lists for the operators ``names`` (lawbook's vocabulary)."""
        return pysr_operators(names)

    def settings(self, *, seed: int, budget: Budget, **options: Any) -> dict[str, Any]:
        regressor = _regressor_class()
        known = set(inspect.signature(regressor).parameters)
        reserved = sorted(set(options) & _RESERVED)
        if reserved:
            raise TypeError(f"backend 'pysr': {reserved} are set by the budget and the seed, not by options")
        check_options(self.name, options, sorted(known - _RESERVED))
        params = {**_DEFAULTS, **options}
        params.update(
            niterations=int(budget.generations),
            population_size=max(2, int(budget.population_size) // int(params["populations"])),
            maxsize=max(_PYSR_MIN_MAXSIZE, int(budget.max_length)),
            timeout_in_seconds=budget.time_limit,
            random_state=int(seed),
            deterministic=True,
        )
        if "parallelism" in known:
            params.setdefault("parallelism", "serial")
        else:  # PySR < 1.0
            params.setdefault("procs", 0)
            params.setdefault("multithreading", False)
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
        model = _regressor_class()(**settings)
        placeholders = [f"x{i}" for i in range(len(features))]
        iterations = int(settings["niterations"])
        progress.report("search", 0, iterations, detail="PySR search started (no progress from inside Julia)")
        model.fit(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), variable_names=placeholders)
        progress.report("search", iterations, iterations, best_loss=float(model.equations_["loss"].min()))
        rename = dict(zip(placeholders, _feature_symbols(features), strict=True))
        candidates = []
        for row in model.equations_.itertuples():
            expr = row.sympy_format  # PySR stores SymPy objects; text goes through the allow-list parser
            if not isinstance(expr, sp.Basic):
                expr = parse_expression(str(expr), placeholders)
            expr = expr.xreplace({s: rename[s.name] for s in expr.free_symbols if s.name in rename})
            candidates.append(RawCandidate(expr, int(row.complexity), float(row.loss)))
        return candidates
