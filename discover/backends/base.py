"""The backend protocol: what a symbolic-regression engine must provide to `discover.discover`.

A backend is a small stateless object with a ``name``, the `Budget` fields it uses (``budget_fields``) and two
methods:

- ``settings(seed=..., budget=..., **options)`` validates the options (unknown ones raise `TypeError`) and
  returns every setting the run will use, fully resolved, so a `Discovery` records exactly what ran;
- ``fit(X, y, features, settings, progress=...)`` runs the engine with those resolved settings and returns its
  candidate expressions as `RawCandidate` records: SymPy expressions in `feature_symbols(features)` with the
  fitted constants as ``Float`` atoms, and the engine's *own* complexity and loss, kept for diagnostics only.
  It reports what it is doing to the `discover.progress.Reporter` (quiet unless the caller asked for progress).

Everything backend-independent happens in `discover.discovery`: the float64 loss, the one complexity measure,
constant snapping and the Pareto filter. So a new engine is a short file implementing `AbstractBackend`, and
results from different engines are comparable.

Engines are imported lazily, inside ``settings`` and ``fit``, never at import time; an engine that cannot be loaded raises
`BackendUnavailable` naming the fix.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import sympy as sp

from discover.progress import Reporter

__all__ = ["OPERATORS", "AbstractBackend", "BackendUnavailable", "Budget", "RawCandidate", "feature_symbols"]

# The operator vocabulary of `discover.discover(operators=...)`, in Operon's names; each backend maps it to its own.
OPERATORS: tuple[str, ...] = ("add", "sub", "mul", "div", "sqrt", "square", "exp", "log", "tanh", "sin", "cos", "pow")


class BackendUnavailable(RuntimeError):
    """A backend's engine cannot be loaded here. The message names the missing piece and the alternative."""


@dataclass(frozen=True)
class Budget:
    """How much search a backend may spend. Validated at construction.

    - ``generations``: evolutionary generations (Operon) or iterations (PySR ``niterations``);
    - ``population_size``: individuals per population (Operon; PySR ``population_size``);
    - ``max_length``: the largest expression, in the engine's own node count (Operon ``max_length``,
      PySR ``maxsize``);
    - ``time_limit``: wall-clock seconds after which the engine stops early, or None. A run that hits it
      depends on the speed of the machine, so it is *not* reproducible; the presets leave it unset.

    Each backend declares in ``budget_fields`` which of these it uses, and `discover.discover` records only
    those in ``Discovery.settings["budget"]``. SINDy is a deterministic sparse regression, not a search: it uses
    none of them (its ``budget_fields`` is empty; see `discover.backends.sindy`).

    >>> Budget.quick().generations < Budget.default().generations
    True
    >>> Budget(generations=0)
    Traceback (most recent call last):
    ...
    ValueError: Budget.generations must be a positive integer, got 0
    """

    generations: int = 120
    population_size: int = 600
    max_length: int = 30
    time_limit: float | None = None

    def __post_init__(self) -> None:
        for name in ("generations", "population_size", "max_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Budget.{name} must be a positive integer, got {value!r}")
        if self.max_length < 3:
            raise ValueError(
                f"Budget.max_length must be at least 3 (one operation on two leaves), got {self.max_length}"
            )
        if self.time_limit is not None and not (
            isinstance(self.time_limit, (int, float)) and math.isfinite(self.time_limit) and self.time_limit > 0
        ):
            raise ValueError(f"Budget.time_limit must be a positive number of seconds or None, got {self.time_limit!r}")

    @classmethod
    def quick(cls) -> Budget:
        """A small search (about a second for two features with Operon): for tests and laws of a few nodes."""
        return cls(generations=60, population_size=300, max_length=20)

    @classmethod
    def default(cls) -> Budget:
        """The search used when none is given: laws of up to about 30 nodes, 5–20 s per Operon search on one core
        for 2–5 features. `discover.discover` runs several searches (stages, transforms, restarts); its first pass
        over the stages uses `first_pass` of this budget."""
        return cls()

    def first_pass(self) -> Budget:
        """Half the generations and half the population (a quarter of the effort): the budget of discovery's first,
        broad pass over the operator stages, so that a law needing a late stage is reached cheaply.

        >>> Budget.default().first_pass()
        Budget(generations=60, population_size=300, max_length=30, time_limit=None)
        """
        return Budget(
            generations=max(1, self.generations // 2),
            population_size=max(1, self.population_size // 2),
            max_length=self.max_length,
            time_limit=self.time_limit,
        )


class RawCandidate(NamedTuple):
    """One expression as an engine reports it, before lawbook snaps, measures and filters it.

    ``complexity`` and ``loss`` are the engine's own measures (e.g. Operon's tree length and float32 MSE);
    `discover.discover` recomputes both with the shared measures and keeps only ``expr``.
    """

    expr: sp.Expr
    complexity: int
    loss: float


def feature_symbols(features: Sequence[str]) -> tuple[sp.Symbol, ...]:
    """The SymPy symbols of the feature columns: named exactly like the columns, with ``real=True``.

    Every backend builds its expressions from these, so candidates from any engine share their symbols.
    Note that ``Symbol("u", real=True) != Symbol("u")``: substitute by name, or take the symbols from here.

    >>> feature_symbols(["u", "s"])
    (u, s)
    >>> feature_symbols(["u"])[0].is_real
    True
    """
    return tuple(sp.Symbol(name, real=True) for name in features)


class AbstractBackend(abc.ABC):
    """A symbolic-regression engine behind `discover.discover`. Subclasses are small and stateless."""

    name: ClassVar[str]
    # The `Budget` fields this engine's settings are derived from (the others it ignores).
    budget_fields: ClassVar[tuple[str, ...]]
    # The options through which a user fixes this engine's operators (then `discover` does not escalate them);
    # empty for an engine without operators (SINDy's library is its grammar).
    operator_options: ClassVar[tuple[str, ...]] = ()

    def operators(self, names: Sequence[str]) -> dict[str, Any]:
        """The engine options that restrict the search to the operators ``names`` (from `OPERATORS`).

        An engine without operators raises `NotImplementedError`; `discover` then runs one stage.
        """
        raise NotImplementedError(f"backend {self.name!r} has no operator set to choose")

    @abc.abstractmethod
    def settings(self, *, seed: int, budget: Budget, **options: Any) -> dict[str, Any]:
        """Every setting ``fit`` will use for these arguments; unknown options raise `TypeError`."""

    @abc.abstractmethod
    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        features: Sequence[str],
        settings: dict[str, Any],
        *,
        progress: Reporter,
    ) -> list[RawCandidate]:
        """Candidate expressions for ``y ≈ f(X)``, in the symbols `feature_symbols(features)`.

        ``X`` is float64 of shape (rows, len(features)); ``y`` float64 of shape (rows,), all finite and within
        the range `discover.checks` allows. ``settings`` is what this backend's ``settings`` returned.
        The same arguments must give the same candidates (the seed is the only source of randomness), whether
        ``progress`` is active or not.
        """

    def used_budget(self, budget: Budget) -> dict[str, Any]:
        """The fields of ``budget`` this backend uses, by name: what ``Discovery.settings["budget"]`` records.

        >>> from discover.backends import get_backend
        >>> get_backend("sindy").used_budget(Budget.quick())
        {}
        >>> get_backend("operon").used_budget(Budget.quick())
        {'generations': 60, 'population_size': 300, 'max_length': 20, 'time_limit': None}
        """
        return {name: getattr(budget, name) for name in self.budget_fields}


def check_options(backend: str, options: dict[str, Any], allowed: Sequence[str]) -> None:
    """Refuse options a backend does not know, listing the ones it does (so a typo cannot pass silently)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"backend {backend!r} got unknown option(s) {unknown}; known options: {sorted(allowed)}")
