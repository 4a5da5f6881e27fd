"""Progress of a discovery, reported as values to a callable the caller passes in; lawbook itself never prints.

``discover(..., progress=callback)`` calls ``callback(event)`` with a frozen `ProgressEvent` as the work goes:

- ``"start"``: the table passed its checks (``detail`` says rows and features); then again before each search
  discovery runs (``detail`` names its route, stage and seed). Start events are never throttled;
- ``"search"``: the engine at work. Operon reports every generation (``step`` = generation, 0 … ``steps``, with
  the best loss of its current front); SINDy every threshold of its sweep (with the best loss so far); PySR,
  whose Julia search lawbook cannot observe, one event when it starts and one when it ends;
- ``"snap"``: lawbook snapping and measuring the engine's candidates, ``step`` of ``steps``;
- ``"done"``: the front is ready (``best_loss`` is the float64 loss of its most accurate candidate).

Events are throttled: at most one per `PROGRESS_INTERVAL` seconds within a stage, except that the first and the
last event of every stage always come, so a short run gives a handful of lines and a long one a steady trickle.
``progress=None`` (the default) is quiet: no event is built and no callback runs.

A command-line renderer is a one-liner, e.g. ``progress=lambda e: print(e, file=sys.stderr)``:

>>> print(ProgressEvent("operon", "search", step=12, steps=60, best_loss=1.25e-3, elapsed=3.4))
operon search: generation 12/60, best loss 0.00125, 3.4 s
>>> print(ProgressEvent("operon", "snap", step=3, steps=9, best_loss=None, elapsed=5.0))
operon snap: 3/9, 5.0 s
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["PROGRESS_INTERVAL", "STAGES", "ProgressCallback", "ProgressEvent", "Reporter"]

Stage = Literal["start", "search", "snap", "done"]
STAGES: tuple[str, ...] = ("start", "search", "snap", "done")
# At most two events a second within a stage: a terminal line that changes faster cannot be read, and the
# callback must cost nothing next to a generation (~20 ms for Operon at Budget.quick()).
PROGRESS_INTERVAL = 0.5


@dataclass(frozen=True)
class ProgressEvent:
    """One report of a running discovery. Validated at construction.

    - ``backend``: the backend's name; ``stage``: one of `STAGES`;
    - ``step`` of ``steps``: the generation (Operon), threshold (SINDy) or candidate (snapping), or None where
      the stage has no steps; ``steps`` is the last value ``step`` takes (Operon counts generations 0 … G);
    - ``best_loss``: the lowest mean squared error so far, in the target's units, or None where unknown. During
      ``"search"`` it is the engine's own (Operon: float32, ``(1 − R²)·var(y)`` of its linearly scaled front);
      at ``"done"`` it is lawbook's float64 loss of the front's most accurate candidate;
    - ``elapsed``: seconds since `discover` started; ``detail``: a short free text (may be empty).

    >>> ProgressEvent("sindy", "resting", None, None, None, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: ProgressEvent.stage must be one of ('start', 'search', 'snap', 'done'), got 'resting'
    """

    backend: str
    stage: Stage
    step: int | None
    steps: int | None
    best_loss: float | None
    elapsed: float
    detail: str = ""

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"ProgressEvent.stage must be one of {STAGES}, got {self.stage!r}")
        if (self.step is None) != (self.steps is None):
            raise ValueError("ProgressEvent.step and .steps must both be given or both be None")
        if not (isinstance(self.elapsed, (int, float)) and self.elapsed >= 0):
            raise ValueError(f"ProgressEvent.elapsed must be a number of seconds ≥ 0, got {self.elapsed!r}")

    def __str__(self) -> str:
        parts = []
        if self.step is not None:
            unit = "generation " if self.backend == "operon" and self.stage == "search" else ""
            parts.append(f"{unit}{self.step}/{self.steps}")
        if self.detail:
            parts.append(self.detail)
        if self.best_loss is not None:
            parts.append(f"best loss {self.best_loss:.3g}")
        parts.append(f"{self.elapsed:.1f} s")
        return f"{self.backend} {self.stage}: " + ", ".join(parts)


ProgressCallback = Callable[[ProgressEvent], None]


class Reporter:
    """What `discover` hands a backend: builds `ProgressEvent` records and throttles them for a callback.

    ``Reporter(None, ...)`` is quiet (``active`` is False) and its methods do nothing, so a backend can report
    unconditionally; a backend whose reporting has a cost (Operon's per-generation hook) checks ``active``.
    ``due(stage, step, steps)`` says whether an event now would be passed on (first or last of its stage, or
    `PROGRESS_INTERVAL` after the previous one), so a costly ``best_loss`` is computed only when it is shown.

    >>> events = []
    >>> r = Reporter(events.append, backend="sindy", interval=3600.0)
    >>> for k in range(5):
    ...     r.report("search", k, 4)
    >>> [e.step for e in events]  # the first and the last; the rest fall within the interval
    [0, 4]
    """

    def __init__(self, callback: ProgressCallback | None, *, backend: str, interval: float = PROGRESS_INTERVAL) -> None:
        if callback is not None and not callable(callback):
            raise TypeError(f"progress must be a callable taking a ProgressEvent, or None; got {callback!r}")
        if not (isinstance(interval, (int, float)) and math.isfinite(interval) and interval >= 0):
            raise ValueError(f"interval must be a finite number of seconds ≥ 0, got {interval!r}")
        self._callback = callback
        self._backend = backend
        self._interval = float(interval)
        self._start = time.perf_counter()
        self._stage: str | None = None
        self._last = -math.inf

    @property
    def active(self) -> bool:
        """True when events go somewhere."""
        return self._callback is not None

    def due(self, stage: Stage, step: int | None = None, steps: int | None = None) -> bool:
        """Whether `report` with these arguments would pass an event on now."""
        if self._callback is None:
            return False
        first = stage != self._stage or stage == "start"  # each search's announcement always passes
        last = step is not None and step == steps
        return first or last or time.perf_counter() - self._last >= self._interval

    def report(
        self,
        stage: Stage,
        step: int | None = None,
        steps: int | None = None,
        *,
        best_loss: float | None = None,
        detail: str = "",
    ) -> None:
        """Pass an event to the callback if it is `due`."""
        if not self.due(stage, step, steps):
            return
        now = time.perf_counter()
        self._stage, self._last = stage, now
        event = ProgressEvent(self._backend, stage, step, steps, best_loss, now - self._start, detail)
        self._callback(event)  # type: ignore[misc]  # due() is False when there is no callback
