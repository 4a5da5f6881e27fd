"""`discover`: find a closed form for a column of a table with symbolic regression, the same way for every backend.

A backend (Operon by default, SINDy for ODE right-hand sides, PySR where Julia is available) proposes candidate
expressions; `discover` decides *what to search* and treats every candidate identically:

- **What to search** (`discover` lists the routes and their order): operator stages from arithmetic upwards
  (`ESCALATION`), transformed targets mapped back exactly (`discover.transforms`), the ODE route for trajectories
  (`discover.ode`), templates and shared expressions (`discover.templates`), several independent seeds; it stops
  when a candidate is at the noise floor (`discover.floor`).
- **Every candidate**: constants snapped to exact numbers where the fit allows (`discover.snapping.snap`); the one
  complexity (SymPy node count, `discover.snapping.complexity`) and the one loss (MSE on the training rows, float64,
  from the SymPy expression); held-out MSE and R²; whether it is at the noise floor; the searches that found it.
- **The Pareto front**: simplest first, one candidate per complexity, each strictly more accurate than every
  simpler one; candidates with identical values on every row are merged (the simplest is kept).

`Discovery.best` is the simplest candidate at the noise floor; if none is, the simplest whose loss is within
`BEST_LOSS_FACTOR` (1.1) of the front's minimum, plus the float32 loss floor: with noise, a candidate with p
spurious extra constants fits n rows better by a factor ≈ 1 − p/n, so the slack forgives up to p ≈ n/10 of them,
while a candidate whose RMSE is 5 % worse than the best is not chosen. `Discovery.verdict` is ``"law found"`` when
`best` is at the floor and ``"best approximation only"`` otherwise. `Discovery.select` applies another factor.

Expressions use plain SymPy symbols named exactly like the columns, with ``real=True``
(`discover.backends.base.feature_symbols`); `Discovery.symbols` hands them out by name.

Why discover does not grade fronts with `verify.equivalent`: the layers import one way (``discover`` ← ``verify``),
so candidates are merged here by their values on the rows (`_same_values`), and graded against a known law in
`verify.rediscovery`.
"""

from __future__ import annotations

import itertools
import math
import time as clock
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from dataclasses import replace as dataclasses_replace
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp

from discover.backends import get_backend
from discover.backends.base import OPERATORS, Budget, feature_symbols
from discover.checks import MIN_ROWS, check_seed, check_table, constant_to_float32
from discover.floor import Residuals
from discover.polish import polish
from discover.progress import ProgressCallback, Reporter
from discover.snapping import SnapSettings, complexity, evaluate, mse, snap

__all__ = [
    "BEST_LOSS_FACTOR",
    "DEFAULT_HOLDOUT",
    "DEFAULT_RESTARTS",
    "ESCALATION",
    "MIN_ROWS",
    "Candidate",
    "Discovery",
    "discover",
    "pareto_front",
    "split_rows",
]

BEST_LOSS_FACTOR = 1.1


@dataclass(frozen=True)
class Candidate:
    """One expression of a Pareto front: ``expr`` (snapped), its ``complexity`` and ``loss`` (MSE on the training
    rows, float64), and ``raw``, the expression as the backend returned it (float constants, before snapping).

    Where it came from: ``route`` (``"direct"``, ``"transform"``, ``"ode"``, ``"template"``, ``"shared"``),
    ``stage`` (the operator set searched, e.g. ``"arithmetic"`` or ``"+exp,log"``, or the transform), and
    ``found_by``: every search that produced this same expression (``route/stage/seed``), the first one first.
    How it fits: ``heldout_loss`` and ``heldout_r2`` on the rows no search saw (None without a held-out split),
    ``rho`` (the neighbour correlation of its residuals) and ``at_floor`` (`discover.floor`).

    >>> u = sp.Symbol("u")
    >>> Candidate(2 * u, complexity=3, loss=0.0).raw
    2*u
    """

    expr: sp.Expr
    complexity: int
    loss: float
    raw: sp.Expr | None = None
    route: str = "direct"
    stage: str = ""
    found_by: tuple[str, ...] = ()
    heldout_loss: float | None = None
    heldout_r2: float | None = None
    rho: float | None = None
    at_floor: bool | None = None

    @property
    def origin(self) -> str:
        """Where the candidate came from: route, operator stage and restart seed, e.g. ``direct/arithmetic/seed 0``."""
        return self.found_by[0] if self.found_by else self.route

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
    searches: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``"law found"`` when `best` is at the noise floor (`discover.floor`: its residuals are indistinguishable
        from noise or below float32 resolution, and it fits the held-out rows as well as the training rows), else
        ``"best approximation only"``."""
        return "law found" if self.best.at_floor else "best approximation only"

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
        """The simplest candidate at the noise floor (`Candidate.at_floor`); if none is, the simplest with loss
        ≤ `BEST_LOSS_FACTOR` × minimum loss + ``loss_floor``."""
        return next((c for c in self.pareto if c.at_floor), None) or self.select(BEST_LOSS_FACTOR)

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
        """The front as a table: complexity, loss, expr and raw (as strings), route, stage, held-out R², whether
        at the noise floor, and which row is ``best``."""
        best = self.best
        return pd.DataFrame(
            {
                "complexity": [c.complexity for c in self.pareto],
                "loss": [c.loss for c in self.pareto],
                "expr": [str(c.expr) for c in self.pareto],
                "raw": [str(c.raw) for c in self.pareto],
                "route": [c.route for c in self.pareto],
                "stage": [c.stage for c in self.pareto],
                "heldout_r2": [c.heldout_r2 for c in self.pareto],
                "at_floor": [c.at_floor for c in self.pareto],
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


# Operator escalation: the stages searched in turn, each adding operators to the previous ones (Operon's names).
ESCALATION: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("arithmetic", ("add", "sub", "mul", "div")),
    ("+sqrt,square", ("sqrt", "square")),
    ("+exp,log", ("exp", "log")),
    ("+tanh,sin,cos", ("tanh", "sin", "cos")),
    ("+pow", ("pow",)),
)
DEFAULT_RESTARTS = 3
DEFAULT_HOLDOUT = 0.25
# Per stage, the best-ranked transformed targets searched (`discover.transforms.rank_transforms`), and how much better
# than the untransformed target a transform's screening score must be for its search to be worth the time.
TRANSFORMS_SEARCHED = 2
TRANSFORM_GAIN = 1e-2


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
    operators: Sequence[str] | str | None = None,
    restarts: int = DEFAULT_RESTARTS,
    holdout: float = DEFAULT_HOLDOUT,
    transforms: bool = True,
    time: str | None = None,
    units: Mapping[str, str] | None = None,
    template: Any = None,
    groups: str | None = None,
    **backend_options: Any,
) -> Discovery:
    """Search for ``target ≈ f(features)`` in ``data`` and return the Pareto front of closed forms.

    ``features`` defaults to every column but ``target`` (and ``groups``). ``backend`` is one of
    ``discover.BACKENDS``; ``backend_options`` go to it (see `discover.backends.operon`, `.sindy`, `.pysr`; unknown
    ones raise `TypeError`). ``budget`` (default `Budget.default()`) is the effort of *one* search; ``snapping``
    defaults to `SnapSettings()`. The same data, seed, budget and options give the same result (no time limit
    set), with or without progress.

    **Rows.** A seeded ``holdout`` share of the rows (default 25 %) is kept out of every search and of snapping;
    each candidate's held-out MSE and R² are measured on it. Tables with fewer than `MIN_ROWS` training or 5
    held-out rows are not split (a note says so).

    **Routes and the stopping rule.** Searches run in this order, and discovery stops as soon as some candidate is
    *at the noise floor* (`discover.floor`: its residuals are below float32 resolution or indistinguishable from
    noise, and it fits the held-out rows as well as the training rows):

    1. the **ODE route**, when ``time`` names the time column of trajectory data (`discover.ode`): the right-hand
       side du/dt is found by sparse regression, solved by SymPy, and its solution u(t) is a candidate;
    2. for each operator **stage** of `ESCALATION` (arithmetic; then + sqrt, square; + exp, log; + tanh, sin,
       cos; + pow) — or the one fixed set given by ``operators`` (names of ``discover.OPERATORS``) or by the
       engine's own operator option (Operon's ``allowed_symbols``) — the **direct** search; then, if still not
       there, the **transform** route (``transforms=True``, `discover.transforms`): the target is transformed
       (log y, 1/y, y², y·x, y/x, exp(k·y) with k fitted …), the transforms are ranked by a cheap rational-fit
       screen, the best `TRANSFORMS_SEARCHED` that beat the untransformed target's screen by `TRANSFORM_GAIN`
       are searched with the stage's operators, and every candidate is mapped back to the original target exactly.
    3. the stages again with the next of ``restarts`` independent seeds (the first is ``seed``), breadth first:
       a law that needs a late stage costs one search per earlier stage, not ``restarts`` of them. The first pass
       (when there are restarts) searches with `Budget.first_pass` (half the generations, half the population), the
       later ones with ``budget``: cheap breadth first, depth where breadth failed.

    Before the stages, when the grammar is open (escalation, not a fixed operator set or an engine whose grammar is
    its library, like SINDy's), the **rational** route (`discover.rational`, no search) fits a power law c·Πx^a
    (least squares in logs, for positive data) and P(x)/Q(x) (sparse rational regression) to the target, and P/Q
    to its best-ranked transforms; with a fixed grammar only the direct search
    (and the ODE route, when asked for) runs, so that no candidate uses an operator outside it.

    A deterministic engine (SINDy) runs each search once. ``template`` (a `discover.templates.Template`) replaces
    the routes by a search for the template's parts; ``groups`` (a column name) searches one expression shared by
    every group with its constants fitted per group (`discover.templates`). ``units`` (column → unit text, e.g.
    ``{"t": "s", "v": "m/s"}``, every used column) prunes dimensionally impossible candidates and adds the ratios
    and products of features that share units as derived features (`discover.units`, `discover.transforms`).

    Every candidate of every search is snapped (`discover.snapping.snap`), measured on the training rows and on
    the held-out rows, and the fronts are merged into one Pareto front; candidates with identical values on every
    row are one candidate, the simplest, whose ``found_by`` lists every search that found it. `Discovery.verdict`
    says ``"law found"`` or ``"best approximation only"``; ``Discovery.searches`` lists every search with its
    seconds and whether it reached the floor; ``Discovery.notes`` what was skipped and why.

    ``progress``, if given, is called with a `discover.ProgressEvent` as the work goes (each search starts with a
    ``"start"`` event naming it); None (the default) is quiet.

    The table is checked before any engine runs (`discover.checks`). Raises `ValueError` for an unknown backend,
    a non-finite value (naming the column and counting the rows), a column whose magnitude is outside the range
    float32 search can handle (naming the column, its magnitude and the fix), a constant target, too few rows, an
    unknown operator or bad ``restarts``/``holdout``; `KeyError` naming a target or feature that is not a column,
    `TypeError` for a non-numeric column, and `discover.BackendUnavailable` when the engine cannot be loaded.

    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"u": rng.uniform(0.1, 2, 100), "s": rng.uniform(0.5, 3, 100)})
    >>> table["du"] = 2 * table.u * (table.s - table.u)
    >>> result = discover(table, "du", backend="sindy", library=("poly", 2))
    >>> result.best.expr, result.verdict, result.best.route
    (2*u*(s - u), 'law found', 'direct')
    """
    engine = get_backend(backend)
    seed = check_seed(seed)
    budget = Budget.default() if budget is None else budget
    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a discover.Budget, got {type(budget).__name__}")
    snapping = SnapSettings() if snapping is None else snapping
    if not isinstance(snapping, SnapSettings):
        raise TypeError(f"snapping must be a discover.SnapSettings, got {type(snapping).__name__}")
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
        raise ValueError(f"restarts must be a positive integer, got {restarts!r}")
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout < 1:
        raise ValueError(f"holdout must be a share of the rows in [0, 1), got {holdout!r}")
    if groups is not None:
        if groups not in data.columns:
            raise KeyError(f"groups column {groups!r} is not a column of the data; columns: {list(data.columns)}")
        if features is None:
            features = [c for c in data.columns if c not in (target, groups)]
        elif groups in features:
            raise ValueError(f"the groups column {groups!r} cannot also be a feature")
    names, X, y = check_table(data, target, features)
    if time is not None and time not in names:
        raise ValueError(f"time column {time!r} is not among the features {names}; add it or pass time=None")
    unit_map = None
    if units is not None:
        from discover.units import check_units

        unit_map = check_units(units, names, target)
    if template is not None:
        from discover.templates import Template

        if isinstance(template, sp.Expr):
            template = Template(template)
        elif not isinstance(template, Template):
            raise TypeError(
                f"template must be a discover.Template or a SymPy expression, got {type(template).__name__}"
            )
        if groups is not None:
            raise ValueError(
                "give template= or groups=, not both: a shared structure with per-group constants is "
                "searched, not a template"
            )
    if time is not None and (template is not None or groups is not None):
        raise ValueError("time= (the ODE route) applies to a plain discovery, not with template= or groups=")
    stages = _stages(engine, operators, backend_options)
    # The rational and transform routes write expressions with any operator (a division, a log mapped back): they run
    # only when the grammar is open, i.e. escalated, not when the operators are fixed or the engine has a library.
    open_grammar = stages[0][0] == ESCALATION[0][0]
    transforms = bool(transforms) and open_grammar

    session = _Session(
        engine=engine,
        X=X,
        y=y,
        names=names,
        target=target,
        train=split_rows(len(y), float(holdout), seed),
        budget=budget,
        snapping=snapping,
        reporter=Reporter(progress, backend=backend),
        options=backend_options,
        units=unit_map,
        start=clock.perf_counter(),
    )
    if holdout > 0 and session.train.all():
        session.notes.append(f"no held-out rows: {len(y)} rows are too few to keep {holdout:.0%} of them out")
    session.reporter.report("start", detail=f"{len(y)} rows, {len(names)} feature(s) → {target}")
    seeds = [seed] if not engine.budget_fields else [_restart_seed(seed, r) for r in range(int(restarts))]

    if groups is not None:
        session.shared(np.asarray(data[groups]), stages, seed)
    elif template is not None:
        session.template(template, stages, seed)
    else:
        if time is not None:
            session.ode(time, seed)
        if open_grammar and not session.reached():
            session.rational(transforms, seed)
        # Breadth first: every stage once, then the restarts, so that a law needing a late stage costs one search
        # per earlier stage, not `restarts` of them.
        for restart, restart_seed in enumerate(seeds):
            session.budget = budget.first_pass() if restart == 0 and len(seeds) > 1 else budget
            for stage in stages:
                if session.reached():
                    break
                session.search("direct", stage, restart_seed)
                if transforms and not session.reached():
                    session.transformed(stage, restart_seed)

    pareto = session.front()
    if not pareto:
        raise RuntimeError(f"backend {backend!r} returned no candidate with a finite loss on the data")
    seconds = clock.perf_counter() - session.start
    session.reporter.report("done", best_loss=pareto[-1].loss, detail=f"{len(pareto)} candidate(s) on the front")
    return Discovery(
        pareto=pareto,
        backend=backend,
        seed=seed,
        seconds=seconds,
        settings={
            # the engine's settings for ``budget``, ``seed`` and the first stage; each search's own seed, budget
            # pass and operators are in ``searches``
            "backend": engine.settings(seed=seed, budget=budget, **{**backend_options, **stages[0][1]}),
            "budget": engine.used_budget(budget),
            "snapping": asdict(snapping),
            "rows": len(y),
            "train_rows": int(session.train.sum()),
            "holdout": float(holdout) if not session.train.all() else 0.0,
            "restarts": len(seeds),
            "stages": [{"name": name, "options": dict(options)} for name, options in stages],
            "transforms": transforms,
            "rational": open_grammar,
            "time": time,
            "units": dict(units) if units is not None else None,
            "best_loss_factor": BEST_LOSS_FACTOR,
        },
        features=tuple(names),
        target=target,
        loss_floor=session.residuals.floor,
        searches=tuple(session.searches),
        notes=tuple(session.notes),
    )


def _stages(engine: Any, operators: Sequence[str] | str | None, options: Mapping[str, Any]) -> list[tuple[str, dict]]:
    """The operator stages to search: the escalation, or one fixed set (the user's, or an engine without operators)."""
    fixed = [k for k in engine.operator_options if k in options]
    if operators is not None:
        if fixed:
            raise TypeError(f"give the operators either as operators= or as {fixed}, not both")
        names = operators.split(",") if isinstance(operators, str) else list(operators)
        names = [n.strip() for n in names]
        unknown = [n for n in names if n not in OPERATORS]
        if unknown or not names:
            raise ValueError(f"unknown operator(s) {unknown or names}; known: {', '.join(OPERATORS)}")
        try:
            return [("fixed: " + ",".join(names), engine.operators(names))]
        except NotImplementedError:
            raise ValueError(
                f"backend {engine.name!r} has no operators to choose (its grammar is its library)"
            ) from None
    if fixed:
        return [("fixed: " + ", ".join(f"{k}={options[k]}" for k in fixed), {})]
    try:
        engine.operators(ESCALATION[0][1])
    except NotImplementedError:
        return [("library", {})]
    out, names = [], []
    for stage, added in ESCALATION:
        names = [*names, *added]
        out.append((stage, engine.operators(names)))
    return out


def _restart_seed(seed: int, restart: int) -> int:
    """The search seed of restart ``restart`` (0: ``seed`` itself; others derived, independent streams)."""
    if restart == 0:
        return seed
    return int(np.random.SeedSequence([seed, restart]).generate_state(1, dtype=np.uint64)[0] >> 1)


def split_rows(n: int, holdout: float, seed: int) -> np.ndarray:
    """A seeded boolean mask of the training rows (all rows when the table is too small to split): the split
    `discover` makes for ``seed``, so a caller can find the rows a discovery held out.

    >>> int((~split_rows(100, 0.25, 0)).sum())
    25
    """
    held = round(n * holdout)
    if held < 5 or n - held < MIN_ROWS:
        return np.ones(n, dtype=bool)
    order = np.random.default_rng([seed, 0x5EED]).permutation(n)
    train = np.ones(n, dtype=bool)
    train[order[:held]] = False
    return train


@dataclass
class _Session:
    """The state of one `discover` call: the table and its split, every candidate so far, every search run."""

    engine: Any
    X: np.ndarray
    y: np.ndarray
    names: list[str]
    target: str
    train: np.ndarray
    budget: Budget
    snapping: SnapSettings
    reporter: Reporter
    options: Mapping[str, Any]
    units: Any
    start: float

    def __post_init__(self) -> None:
        self.residuals = Residuals(self.X, self.y, self.train)
        self.columns = dict(zip(self.names, self.X.T, strict=True))
        self.pool: list[Candidate] = []
        self.searches: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self._ranked: list | None = None
        self._derived: list | None = None

    # -- searches -------------------------------------------------------------------------------------------------

    def run_engine(
        self, X: np.ndarray, y: np.ndarray, names: Sequence[str], stage_options: Mapping[str, Any], seed: int
    ) -> list[sp.Expr]:
        """One search by the engine on (X, y) (training rows only); its candidates' expressions."""
        settings = self.engine.settings(seed=seed, budget=self.budget, **{**self.options, **stage_options})
        raw = self.engine.fit(X, y, list(names), settings, progress=self.reporter)
        return [r.expr for r in raw]

    def search(self, route: str, stage: tuple[str, Mapping[str, Any]], seed: int) -> None:
        """The direct search at an operator stage (with the derived features when units give some)."""
        name, options = stage
        X, names, back = self.search_columns()
        Xt, yt = X[self.train], self.y[self.train]
        self.timed(route, name, seed, lambda: [back(e) for e in self.run_engine(Xt, yt, names, options, seed)])

    def transformed(self, stage: tuple[str, Mapping[str, Any]], seed: int) -> None:
        """The best-ranked transforms of the target, searched at this stage and mapped back exactly."""
        name, options = stage
        X, names, back = self.search_columns()
        Xt = X[self.train]
        for transform in self.ranked_transforms():
            label = f"{name}; target {transform.name}"
            self.timed(
                "transform",
                label,
                seed,
                lambda t=transform: [
                    back(t.inverse(e))
                    for e in _constant_or(t.values, lambda X, z, n: self.run_engine(X, z, n, options, seed), Xt, names)
                ],
            )
            if self.reached():
                return

    def rational(self, transforms: bool, seed: int) -> None:
        """Sparse rational regression (`discover.rational`) of the target and of its best-ranked transforms."""
        from discover.rational import power_law, sparse_rational

        X, names, back = self.search_columns()
        Xt = X[self.train]
        yt = self.y[self.train]
        self.timed("rational", "power law", seed, lambda: [back(e) for e in power_law(Xt, yt, names)])
        if self.reached():
            return
        self.timed("rational", "P/Q", seed, lambda: [back(e) for e in sparse_rational(Xt, yt, names)])
        if not transforms or self.reached():
            return
        for transform in self.ranked_transforms():
            values = transform.values  # the transforms are built on the training rows only
            self.timed(
                "rational",
                f"P/Q; target {transform.name}",
                seed,
                lambda t=transform, v=values: [back(t.inverse(e)) for e in _constant_or(v, sparse_rational, Xt, names)],
            )
            if self.reached():
                return

    def ranked_transforms(self) -> list[Any]:
        """The transforms worth a search: ranked by `discover.transforms.rank_transforms` on the training rows, the
        best `TRANSFORMS_SEARCHED` whose screen beats the untransformed target's by `TRANSFORM_GAIN`."""
        if self._ranked is None:
            from discover.transforms import min_screen_rows, rank_transforms, target_transforms

            self._ranked = []
            X, names, _ = self.search_columns()
            Xt, yt = X[self.train], self.y[self.train]
            if len(yt) < min_screen_rows(len(names)):
                self.notes.append(
                    f"transforms not screened: {len(yt)} training rows, the screen needs {min_screen_rows(len(names))}"
                )
                return self._ranked
            started = clock.perf_counter()
            offered = target_transforms(Xt, yt, names, target=self.target, units=self.units)
            ranked = rank_transforms(offered, Xt)
            identity = next((score for score, t in ranked if not t.steps), 1.0)
            chosen = [t for score, t in ranked if t.steps and score <= TRANSFORM_GAIN * identity]
            self._ranked = chosen[:TRANSFORMS_SEARCHED]
            shown = ", ".join(f"{t.name} ({score:.2g})" for score, t in ranked[:4])
            self.notes.append(
                f"transforms ranked by the rational screen in {clock.perf_counter() - started:.2f} s "
                f"(untransformed {identity:.2g}): {shown}; searched: {[t.name for t in self._ranked] or 'none'}"
            )
        return self._ranked

    def search_columns(self) -> tuple[np.ndarray, list[str], Callable[[sp.Expr], sp.Expr]]:
        """The columns a search sees: the features, plus with units their dimensionally meaningful ratios and
        products; and the map of a candidate back to the features."""
        if self.units is None:
            return self.X, self.names, lambda e: e
        if self._derived is None:
            from discover.transforms import derived_features

            self._derived = derived_features(self.X, self.names, self.units)
        if not self._derived:
            return self.X, self.names, lambda e: e
        from discover.transforms import substitute

        X = np.column_stack([self.X, *[d.values for d in self._derived]])
        names = [*self.names, *[d.name for d in self._derived]]
        return X, names, lambda e: substitute(e, self._derived)

    def ode(self, time: str, seed: int) -> None:
        from discover.ode import ode_route

        def candidates() -> list[sp.Expr]:
            result = ode_route(self.X[self.train], self.y[self.train], self.names, time, seed=seed, target=self.target)
            self.notes.extend(f"ode route: {note}" for note in result.notes)
            self.notes.extend(f"ode route: right-hand side tried: d{self.target}/d{time} = {rhs}" for rhs in result.rhs)
            return [c.solution for c in result.candidates]

        self.timed("ode", "sindy + dsolve", seed, candidates)

    def template(self, template: Any, stages: list[tuple[str, dict]], seed: int) -> None:
        from discover.templates import fit_template

        def part_search(X: np.ndarray, z: np.ndarray, names: Sequence[str]) -> list[sp.Expr]:
            return self.nested_search(X, z, names, stages, seed)

        def candidates() -> list[sp.Expr]:
            found = fit_template(self.X[self.train], self.y[self.train], self.names, template, part_search, seed=seed)
            return [c.expr for c in found]

        self.timed("template", str(getattr(template, "expr", template)), seed, candidates)

    def shared(self, groups: np.ndarray, stages: list[tuple[str, dict]], seed: int) -> None:
        from discover.templates import fit_shared

        def part_search(X: np.ndarray, z: np.ndarray, names: Sequence[str]) -> list[sp.Expr]:
            return self.nested_search(X, z, names, stages, seed)

        # The floor's neighbours and its F-test basis must see the groups: residuals of one structure fitted per
        # group are compared within a group (a group code as an extra column keeps nearest rows in their group).
        codes = np.unique(groups, return_inverse=True)[1].astype(np.float64)
        self.residuals = Residuals(np.column_stack([self.X, codes]), self.y, self.train)
        stage = stages[0] if len(stages) == 1 else ("escalation", {})

        started = clock.perf_counter()
        labels = groups[self.train]
        found = fit_shared(self.X[self.train], self.y[self.train], self.names, labels, part_search, seed=seed)
        for c in found:
            prediction = np.full(len(self.y), np.nan)
            for g in np.unique(groups):
                if g in c.values:
                    rows = groups == g
                    prediction[rows] = evaluate(c.per_group_expr(g), {k: v[rows] for k, v in self.columns.items()})
            self.add_measured(
                c.structure, c.structure, prediction, "shared", stage[0], f"shared/seed {seed}", exact=False
            )
        self.log("shared", stage[0], seed, started, len(found))

    def nested_search(
        self, X: np.ndarray, z: np.ndarray, names: Sequence[str], stages: list[tuple[str, dict]], seed: int
    ) -> list[sp.Expr]:
        """A search for a part of a template or a group's structure: a `discover` of its own with the same engine,
        budget, grammar and routes, one seed, no held-out rows (the outer discovery holds its rows out)."""
        frame = pd.DataFrame(dict(zip(names, np.asarray(X, dtype=np.float64).T, strict=True)))
        frame["z__"] = z
        options = dict(self.options)
        if len(stages) == 1 and stages[0][1]:
            options.update(stages[0][1])
        found = discover(
            frame,
            "z__",
            backend=self.engine.name,
            seed=seed,
            budget=self.budget,
            # the part's constants are refitted with the whole template; the assembled candidates are snapped here
            snapping=SnapSettings(enabled=False),
            restarts=1,
            holdout=0.0,
            **options,
        )
        return [c.expr for c in found.pareto]

    def timed(self, route: str, stage: str, seed: int, produce: Callable[[], list[sp.Expr]]) -> None:
        started = clock.perf_counter()
        self.reporter.report("start", detail=f"{route} search, {stage}, seed {seed}")
        expressions = produce()
        self.add(expressions, route, stage, f"{route}/{stage}/seed {seed}")
        self.log(route, stage, seed, started, len(expressions))

    def log(self, route: str, stage: str, seed: int, started: float, produced: int) -> None:
        self.searches.append(
            {
                "route": route,
                "stage": stage,
                "seed": seed,
                "seconds": round(clock.perf_counter() - started, 3),
                "candidates": produced,
                "budget": self.engine.used_budget(self.budget) if route in ("direct", "transform") else {},
                "reached_floor": self.reached(),
            }
        )

    # -- measuring ------------------------------------------------------------------------------------------------

    def add(self, expressions: Sequence[sp.Expr], route: str, stage: str, label: str) -> None:
        """Snap, measure and keep a search's candidates (in the original features and target)."""
        Xt, yt = self.X[self.train], self.y[self.train]
        usable = [e for e in expressions if isinstance(e, sp.Expr) and math.isfinite(mse(e, Xt, yt, self.names))]
        admissible = self.admissible
        for k, raw in enumerate(usable, start=1):
            if admissible is not None and not admissible(raw):
                continue
            expr = polish(raw, Xt, yt, self.names)
            if self.snapping.enabled:
                expr = snap(
                    expr,
                    Xt,
                    yt,
                    self.names,
                    max_denominator=self.snapping.max_denominator,
                    rel_factor=self.snapping.rel_factor,
                    alpha=self.snapping.alpha,
                    admissible=admissible,
                )
            self.reporter.report("snap", k, len(usable))
            with np.errstate(all="ignore"):
                prediction = np.asarray(evaluate(expr, self.columns), dtype=np.float64)
            self.add_measured(expr, raw, prediction, route, stage, label)

    @property
    def admissible(self) -> Callable[[sp.Expr], bool] | None:
        if self.units is None:
            return None
        from discover.units import admissible

        return lambda e: admissible(e, self.units, self.target)

    def add_measured(
        self,
        expr: sp.Expr,
        raw: sp.Expr,
        prediction: np.ndarray,
        route: str,
        stage: str,
        label: str,
        *,
        exact: bool | None = None,
    ) -> None:
        """Keep a measured candidate (merged with an earlier one of identical values); ``exact`` says whether its
        constants are all exact (default: no Float in it; a shared structure's per-group constants are fitted)."""
        exact = not expr.has(sp.Float) if exact is None else exact
        test = self.residuals.test(prediction, exact=exact)
        if not math.isfinite(test.train_mse):
            return
        values = np.broadcast_to(prediction, self.y.shape)
        for i, other in enumerate(self.pool):
            if _same_values(values, other.values):
                if complexity(expr) < other.complexity:
                    self.pool[i] = self.candidate(expr, raw, test, route, stage, (label, *other.found_by), values)
                elif label not in other.found_by:
                    self.pool[i] = dataclasses_replace(other, found_by=(*other.found_by, label))
                return
        self.pool.append(self.candidate(expr, raw, test, route, stage, (label,), values))

    def candidate(
        self,
        expr: sp.Expr,
        raw: sp.Expr,
        test: Any,
        route: str,
        stage: str,
        found_by: tuple[str, ...],
        values: np.ndarray,
    ) -> _PooledCandidate:
        return _PooledCandidate(
            expr=expr,
            complexity=complexity(expr),
            loss=test.train_mse,
            raw=raw,
            route=route,
            stage=stage,
            found_by=found_by,
            heldout_loss=test.heldout_mse,
            heldout_r2=test.heldout_r2,
            rho=test.rho,
            at_floor=test.at_floor,
            values=values,
        )

    def reached(self) -> bool:
        return any(c.at_floor for c in self.pool)

    def front(self) -> tuple[Candidate, ...]:
        return pareto_front(c.plain() for c in self.pool)


@dataclass(frozen=True)
class _PooledCandidate(Candidate):
    """A candidate with its predictions on every row, kept while a discovery runs (to merge identical ones)."""

    values: np.ndarray | None = field(default=None, compare=False, repr=False)

    def plain(self) -> Candidate:
        fields = {f.name: getattr(self, f.name) for f in dataclass_fields(Candidate)}
        return Candidate(**fields)


def _constant_or(
    z: np.ndarray,
    fit: Callable[[np.ndarray, np.ndarray, Sequence[str]], list[sp.Expr]],
    X: np.ndarray,
    names: Sequence[str],
) -> list[sp.Expr]:
    """``fit(X, z, names)``, or, for a transformed target that is constant to float32 resolution (y·x for y = c/x),
    that constant: a search on a constant learns nothing and `discover.checks` refuses one."""
    if constant_to_float32(z):
        return [sp.Float(float(np.mean(z)))]
    return fit(X, z, names)


def _same_values(a: np.ndarray, b: np.ndarray | None) -> bool:
    """Whether two candidates are the same function on the data: equal values on every row to 1e-12 relative
    (float64 round-off of different but equal arrangements; a fitted constant that differs in its 7th digit, as
    float32 search leaves them, is a different candidate)."""
    if b is None:
        return False
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-300)
    return bool(np.max(np.abs(a - b)) <= 1e-12 * scale)
