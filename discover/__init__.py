"""Symbolic regression that rediscovers closed-form laws from simulated data, with every backend alike.

``discover(data, target)`` runs a backend — Operon (default), SINDy for ODE right-hand sides, PySR where Julia is
available — and returns a `Discovery`: a Pareto front of `Candidate` expressions (SymPy, constants snapped to
exact numbers where the data allow), its ``best`` choice, and the settings that reproduce it. Importing this
package imports no engine: pyoperon, pysindy and pysr are imported only when a backend is used.

>>> import discover
>>> discover.BACKENDS
('operon', 'sindy', 'pysr')
"""

from discover.backends import BACKENDS, get_backend
from discover.backends.base import AbstractBackend, BackendUnavailable, Budget, RawCandidate, feature_symbols
from discover.discovery import BEST_LOSS_FACTOR, MIN_ROWS, Candidate, Discovery, discover, pareto_front
from discover.snapping import SnapSettings, complexity, loss_floor, mse, snap

__all__ = [
    "BACKENDS",
    "BEST_LOSS_FACTOR",
    "MIN_ROWS",
    "AbstractBackend",
    "BackendUnavailable",
    "Budget",
    "Candidate",
    "Discovery",
    "RawCandidate",
    "SnapSettings",
    "complexity",
    "discover",
    "feature_symbols",
    "get_backend",
    "loss_floor",
    "mse",
    "pareto_front",
    "snap",
]
