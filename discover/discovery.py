"""`discover`: rediscover a closed form from a table with symbolic regression, the same way for every backend.

A backend (Operon by default, SINDy for ODE right-hand sides, PySR where Julia is available) proposes candidate
expressions; lawbook then treats them identically:

1. **snaps** their constants to exact numbers where the fit allows (`discover.snapping.snap`);
2. **measures** each with the one complexity (SymPy node count, `discover.snapping.complexity`) and the one loss
   (mean squared error on the given rows, float64, from the SymPy expression);
3. keeps the **Pareto front**: simplest first, one candidate per complexity, each strictly more accurate than
   every simpler one.

`Discovery.best` picks the simplest candidate whose loss is within `BEST_LOSS_FACTOR` (1.1) of the front's
minimum, plus the float32 loss floor: with noise, a candidate with p spurious extra constants fits n rows better
by a factor ≈ 1 − p/n, so the slack forgives up to p ≈ n/10 of them, while a candidate whose RMSE is 5 % worse
than the best is not chosen. The floor (`discover.snapping.loss_floor`) makes losses that float32 fitting cannot
tell apart count as equal. `Discovery.select` applies another factor.

Expressions use plain SymPy symbols named exactly like the columns, with ``real=True``
(`discover.backends.base.feature_symbols`); `Discovery.symbols` hands them out by name.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp

from discover.backends import get_backend
from discover.backends.base import Budget, RawCandidate, feature_symbols
from discover.checks import MIN_ROWS, check_seed, check_table
from discover.progress import ProgressCallback, Reporter
from discover.snapping import SnapSettings, complexity, loss_floor, mse, snap

__all__ = ["BEST_LOSS_FACTOR", "MIN_ROWS", "Candidate", "Discovery", "discover", "pareto_front"]

BEST_LOSS_FACTOR = 1.1


@dataclass(frozen=True)
class Candidate:
    """One expression of a Pareto front: ``expr`` (snapped), its ``complexity`` and ``loss`` (MSE, float64),
    and ``raw``, the expression as the backend returned it (float constants, before snapping).

    >>> u = sp.Symbol("u")
    >>> Candidate(2 * u, complexity=3, loss=0.0).raw
    2*u
    """

    expr: sp.Expr
    complexity: int
    loss: float
    raw: sp.Expr | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.expr, sp.Expr):
            raise TypeError(f"Candidate.expr must be a SymPy expression, got {type(self.expr).__name__}")
        if self.raw is None:
            object.__setattr__(self, "raw", self.expr)
        if not (isinstance(self.loss, float) and self.loss >= 0) or math.isnan(self.loss):
            raise ValueError(f"Candidate.loss must be a float ≥ 0, got {self.loss!r}")


@dataclass(frozen=True)
class Discovery:
    """The result of `discover`: a Pareto front of candidates and everything needed to reproduce it.

    ``pareto`` is ordered simplest first, one candidate per complexity, losses strictly decreasing (checked).
    ``settings`` holds every setting used: ``budget`` (only the `Budget` fields the backend used, by name:
    ``{}`` for SINDy, which is not a search), ``backend`` (the engine's resolved parameters, e.g. Operon's
    ``generations`` or SINDy's ``library`` and ``thresholds``), ``snapping``, ``rows`` and ``best_loss_factor``.
    ``seconds`` is the wall time of search plus snapping.

    >>> u = sp.Symbol("u", real=True)
    >>> d = Discovery(pareto=(Candidate(u, 1, 0.5), Candidate(2 * u, 3, 1e-12), Candidate(2 * u + 1e-7, 5, 0.95e-12)),
    ...               backend="operon", seed=0, seconds=1.0, settings={}, features=("u",), target="y")
    >>> d.best.expr
    2*u
    >>> d.select(factor=1.0).complexity
    5
    """

    pareto: tuple[Candidate, ...]
    backend: str
    seed: int
    seconds: float
    settings: dict[str, Any]
    features: tuple[str, ...]
    target: str
    loss_floor: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "pareto", tuple(self.pareto))
        object.__setattr__(self, "features", tuple(self.features))
        if not self.pareto:
            raise ValueError("a Discovery needs at least one candidate")
        for simpler, richer in itertools.pairwise(self.pareto):
            if not (simpler.complexity < richer.complexity and simpler.loss > richer.loss):
                raise ValueError(
                    "pareto must be ordered by strictly increasing complexity and strictly decreasing loss; "
                    f"got ({simpler.complexity}, {simpler.loss:.3g}) before ({richer.complexity}, {richer.loss:.3g})"
                )

    @property
    def best(self) -> Candidate:
        """The simplest candidate with loss ≤ `BEST_LOSS_FACTOR` × minimum loss + ``loss_floor``."""
        return self.select(BEST_LOSS_FACTOR)

    def select(self, factor: float) -> Candidate:
        """The simplest candidate with loss ≤ ``factor`` × minimum loss + ``loss_floor`` (``factor`` ≥ 1)."""
        if not factor >= 1:
            raise ValueError(f"factor must be ≥ 1, got {factor!r}")
        bound = factor * self.pareto[-1].loss + self.loss_floor
        return next(c for c in self.pareto if c.loss <= bound)

    @property
    def symbols(self) -> dict[str, sp.Symbol]:
        """The symbols the expressions use, by feature name."""
        return dict(zip(self.features, feature_symbols(self.features), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """The front as a table: complexity, loss, expr and raw (as strings), and which row is ``best``."""
        best = self.best
        return pd.DataFrame(
            {
                "complexity": [c.complexity for c in self.pareto],
                "loss": [c.loss for c in self.pareto],
                "expr": [str(c.expr) for c in self.pareto],
                "raw": [str(c.raw) for c in self.pareto],
                "best": [c is best for c in self.pareto],
            }
        )


def pareto_front(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    """Simplest first, one per complexity, each strictly better than every simpler one.

    Ties (equal complexity and loss) go to the candidate whose raw expression is smaller, then by text.

    >>> u = sp.Symbol("u")
    >>> front = pareto_front([Candidate(u + 1, 3, 0.1), Candidate(u, 1, 1.0), Candidate(2 * u, 3, 0.2),
    ...                       Candidate(u**2 + u, 5, 0.3)])
    >>> [c.expr for c in front]
    [u, u + 1]
    """
    front: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.complexity, c.loss, complexity(c.raw), sp.srepr(c.expr))):
        if not front or c.loss < front[-1].loss:
            front.append(c)
    return tuple(front)


def discover(
    data: pd.DataFrame,
    target: str,
    *,
    features: Sequence[str] | None = None,
    backend: str = "operon",
    seed: int = 0,
    budget: Budget | None = None,
    snapping: SnapSettings | None = None,
    progress: ProgressCallback | None = None,
    **backend_options: Any,
) -> Discovery:
    """Search for ``target ≈ f(features)`` in ``data`` and return the Pareto front of closed forms.

    ``features`` defaults to every column but ``target``. ``backend`` is one of ``discover.BACKENDS``;
    ``backend_options`` go to it (see `discover.backends.operon`, `.sindy`, `.pysr` for each one's options;
    unknown ones raise `TypeError`). ``budget`` defaults to `Budget.default()`; ``snapping`` to `SnapSettings()`.
    The same data, seed, budget and options give the same front (no time limit set), with or without progress.

    ``progress``, if given, is called with a `discover.ProgressEvent` as the work goes (search generations,
    snapping, done; throttled to about two a second, see `discover.progress`); None (the default) is quiet.

    The table is checked before any engine runs (`discover.checks`). Raises `ValueError` for an unknown backend,
    a non-finite value (naming the column and counting the rows), a column whose magnitude is outside the range
    float32 search can handle (naming the column, its magnitude and the fix), a constant target, or too few rows;
    `KeyError` naming a target or feature that is not a column, `TypeError` for a non-numeric column, and
    `discover.BackendUnavailable` when the engine cannot be loaded (PySR without Julia).

    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"u": rng.uniform(0.1, 2, 100), "s": rng.uniform(0.5, 3, 100)})
    >>> table["du"] = 2 * table.u * (table.s - table.u)
    >>> result = discover(table, "du", backend="sindy", library=("poly", 2))
    >>> result.best.expr
    2*u*(s - u)
    """
    reporter = Reporter(progress, backend=backend)
    engine = get_backend(backend)
    seed = check_seed(seed)
    budget = Budget.default() if budget is None else budget
    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a discover.Budget, got {type(budget).__name__}")
    snapping = SnapSettings() if snapping is None else snapping
    if not isinstance(snapping, SnapSettings):
        raise TypeError(f"snapping must be a discover.SnapSettings, got {type(snapping).__name__}")
    names, X, y = check_table(data, target, features)

    start = time.perf_counter()
    reporter.report("start", detail=f"{len(y)} rows, {len(names)} feature(s) → {target}")
    engine_settings = engine.settings(seed=seed, budget=budget, **backend_options)
    raw = engine.fit(X, y, names, engine_settings, progress=reporter)
    pareto = _measure(raw, X, y, names, snapping, reporter)
    seconds = time.perf_counter() - start
    if not pareto:
        raise RuntimeError(f"backend {backend!r} returned no candidate with a finite loss on the data")
    reporter.report("done", best_loss=pareto[-1].loss, detail=f"{len(pareto)} candidate(s) on the front")

    return Discovery(
        pareto=pareto,
        backend=backend,
        seed=seed,
        seconds=seconds,
        settings={
            "backend": engine_settings,
            "budget": engine.used_budget(budget),
            "snapping": asdict(snapping),
            "rows": len(y),
            "best_loss_factor": BEST_LOSS_FACTOR,
        },
        features=tuple(names),
        target=target,
        loss_floor=loss_floor(y),
    )


def _measure(
    raw: Sequence[RawCandidate],
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    snapping: SnapSettings,
    progress: Reporter,
) -> tuple[Candidate, ...]:
    usable = [r.expr for r in raw if math.isfinite(mse(r.expr, X, y, names))]
    snapped = []
    for k, expr in enumerate(usable, start=1):
        if snapping.enabled:
            expr = snap(expr, X, y, names, max_denominator=snapping.max_denominator, rel_factor=snapping.rel_factor)
        snapped.append(expr)
        progress.report("snap", k, len(usable))
    candidates = [
        Candidate(expr=e, complexity=complexity(e), loss=mse(e, X, y, names), raw=r)
        for e, r in zip(snapped, usable, strict=True)
    ]
    return pareto_front(c for c in candidates if math.isfinite(c.loss))
