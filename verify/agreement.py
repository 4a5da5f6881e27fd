"""Theory against simulation: error at several step sizes, the fitted order in η, and a derived tolerance.

GD is the explicit-Euler discretisation of gradient flow, so over a fixed horizon its global error is O(η)
(LAWS.md §0). A check therefore has two parts:

1. at every η the max error is below a tolerance derived from η (e.g. 1.2·η·s_max² for one mode, whose
   observed constant is 0.745); and
2. the errors fall at the expected rate: the least-squares slope of log(error) against log(η) is
   ``order`` ± ``order_tol``, and the ratio of consecutive errors is (η_i/η_{i+1})^order within ± ``ratio_tol``
   relative (for halvings: 2 ± 0.2).

A law that is exact for GD itself (null-space preservation, the balance drift) is checked with ``order=None``
and an absolute tolerance: its errors are round-off and have no rate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Agreement", "Series", "agreement", "fit_order"]


def fit_order(etas: Sequence[float], errors: Sequence[float]) -> float:
    """Least-squares slope of log(error) against log(η).

    >>> round(fit_order([0.1, 0.05, 0.025], [0.4, 0.2, 0.1]), 12)
    1.0
    """
    e = np.asarray(etas, dtype=np.float64)
    r = np.asarray(errors, dtype=np.float64)
    if e.size < 2 or e.size != r.size:
        raise ValueError("fit_order needs at least two step sizes, one error for each")
    if np.any(e <= 0) or np.any(r <= 0) or not np.all(np.isfinite(r)):
        raise ValueError(f"step sizes and errors must be positive and finite to fit an order, got errors {r}")
    return float(np.polyfit(np.log(e), np.log(r), 1)[0])


@dataclass(frozen=True)
class Series:
    """Simulated and predicted values at one step size, shaped (T, k) over the recorded times ``t`` (T,)."""

    eta: float
    t: np.ndarray
    simulated: np.ndarray
    theory: np.ndarray


@dataclass(frozen=True)
class Agreement:
    """The evidence of one theory-vs-simulation comparison (``series`` keeps the curves for figures)."""

    etas: tuple[float, ...]
    max_abs_error: tuple[float, ...]
    max_rel_error: tuple[float, ...]
    tolerance: tuple[float, ...]
    order: float | None
    expected_order: float | None
    order_tol: float
    ratios: tuple[float, ...]
    ratio_tol: float = 0.1
    series: tuple[Series, ...] = ()

    @property
    def within_tolerance(self) -> bool:
        return all(e <= t for e, t in zip(self.max_abs_error, self.tolerance, strict=True))

    @property
    def order_ok(self) -> bool:
        if self.expected_order is None:
            return True
        if self.order is None:
            return False
        want = [(a / b) ** self.expected_order for a, b in zip(self.etas[:-1], self.etas[1:], strict=True)]
        # consecutive ratios: halving η must divide the error by 2^order, within a relative ratio_tol (2 ± 0.2)
        ratio_ok = all(abs(r - w) <= w * self.ratio_tol for r, w in zip(self.ratios, want, strict=True))
        return abs(self.order - self.expected_order) <= self.order_tol and ratio_ok

    @property
    def passed(self) -> bool:
        return self.within_tolerance and self.order_ok

    def __str__(self) -> str:
        rows = ", ".join(
            f"η={e:g}: {a:.3g} (tol {t:.3g})"
            for e, a, t in zip(self.etas, self.max_abs_error, self.tolerance, strict=True)
        )
        order = "" if self.order is None else f"; order {self.order:.3f} (expected {self.expected_order})"
        return f"{'PASS' if self.passed else 'FAIL'}: max|err| {rows}{order}"


def agreement(
    theory: Callable[[np.ndarray], np.ndarray],
    simulate: Callable[[float], tuple[np.ndarray, np.ndarray]],
    etas: Sequence[float],
    *,
    tolerance: Callable[[float], float],
    order: float | None = 1.0,
    order_tol: float = 0.15,
    ratio_tol: float = 0.1,
) -> Agreement:
    """Compare ``theory(t)`` with ``simulate(eta) -> (t, values)`` at each step size.

    ``theory`` is called with the simulated times and must return an array of the same shape as the
    simulated values. ``tolerance(eta)`` is the allowed max abs error at that η (derive it, never guess it).

    >>> import numpy as np
    >>> def sim(eta):  # Euler for du/dt = -u from u(0) = 1
    ...     k = np.arange(int(round(1 / eta)) + 1)
    ...     return k * eta, (1 - eta) ** k
    >>> result = agreement(lambda t: np.exp(-t), sim, [0.01, 0.005, 0.0025], tolerance=lambda eta: 0.2 * eta)
    >>> result.passed, round(result.order, 2)
    (True, 1.0)
    """
    etas = tuple(float(e) for e in etas)
    if len(etas) < (3 if order is not None else 1):
        raise ValueError("an order check needs at least three step sizes (LAWS.md §0); pass order=None otherwise")
    abs_err, rel_err, tols, series = [], [], [], []
    for eta in etas:
        t, sim = simulate(eta)
        sim = np.asarray(sim, dtype=np.float64)
        pred = np.asarray(theory(np.asarray(t, dtype=np.float64)), dtype=np.float64)
        if pred.shape != sim.shape:
            raise ValueError(f"theory returned shape {pred.shape} but the simulation {sim.shape} at η = {eta}")
        if not (np.all(np.isfinite(pred)) and np.all(np.isfinite(sim))):
            raise ValueError(f"non-finite values at η = {eta}: theory finite={np.isfinite(pred).all()}")
        diff = np.abs(pred - sim)
        abs_err.append(float(diff.max()))
        scale = np.maximum(np.abs(pred), np.finfo(np.float64).tiny)
        rel_err.append(float((diff / scale).max()))
        tols.append(float(tolerance(eta)))
        t_arr = np.asarray(t, dtype=np.float64)
        time_axis = t_arr if t_arr.ndim == 1 else t_arr.reshape(t_arr.shape[0], -1)[:, 0]
        series.append(Series(eta, time_axis, sim.reshape(len(time_axis), -1), pred.reshape(len(time_axis), -1)))
    fitted = None
    ratios: tuple[float, ...] = ()
    if order is not None:
        fitted = fit_order(etas, abs_err)
        ratios = tuple(a / b for a, b in itertools.pairwise(abs_err))
    return Agreement(
        etas, tuple(abs_err), tuple(rel_err), tuple(tols), fitted, order, order_tol, ratios, ratio_tol, tuple(series)
    )
