"""Symbolic regression that finds closed-form laws in tables, with every backend alike.

``discover(data, target)`` tries, cheapest first, until a candidate is at the noise floor (`discover.floor`): the
ODE route for trajectories (`discover.ode`), sparse rational regression and power laws (`discover.rational`) of the
target and of its transforms (`discover.transforms`), and searches by a backend — Operon (default), SINDy for ODE
right-hand sides, PySR where Julia is available — with operators escalated in stages and several seeds. Templates
and shared expressions with per-dataset constants are in `discover.templates`; optional units per column prune
dimensionally impossible candidates (`discover.units`). It returns a `Discovery`: a Pareto front of `Candidate`
expressions (SymPy, constants snapped to exact numbers where the data allow, each with its route, stage, held-out
R² and whether it is at the floor), its ``best`` choice, a verdict ("law found" / "best approximation only"), every
search it ran and the settings that reproduce it. Importing this package imports no engine: pyoperon, pysindy and
pysr are imported only when a backend is used.

``discover(..., progress=callback)`` reports `ProgressEvent` records while it works (`discover.progress`); the
table is checked before any engine starts (`discover.checks`).

>>> import discover
>>> discover.BACKENDS
('operon', 'sindy', 'pysr')
"""

from discover.backends import BACKENDS, get_backend
from discover.backends.base import OPERATORS, AbstractBackend, BackendUnavailable, Budget, RawCandidate, feature_symbols
from discover.checks import MAX_MAGNITUDE, MIN_MAGNITUDE, MIN_ROWS
from discover.discovery import BEST_LOSS_FACTOR, Candidate, Discovery, discover, pareto_front
from discover.progress import PROGRESS_INTERVAL, STAGES, ProgressCallback, ProgressEvent, Reporter
from discover.snapping import SnapSettings, complexity, loss_floor, mse, snap
from discover.templates import SharedCandidate, Template, TemplateCandidate, fit_shared, fit_template

__all__ = [
    "BACKENDS",
    "BEST_LOSS_FACTOR",
    "MAX_MAGNITUDE",
    "MIN_MAGNITUDE",
    "MIN_ROWS",
    "OPERATORS",
    "PROGRESS_INTERVAL",
    "STAGES",
    "AbstractBackend",
    "BackendUnavailable",
    "Budget",
    "Candidate",
    "Discovery",
    "ProgressCallback",
    "ProgressEvent",
    "RawCandidate",
    "Reporter",
    "SharedCandidate",
    "SnapSettings",
    "Template",
    "TemplateCandidate",
    "complexity",
    "discover",
    "feature_symbols",
    "fit_shared",
    "fit_template",
    "get_backend",
    "loss_floor",
    "mse",
    "pareto_front",
    "snap",
]
