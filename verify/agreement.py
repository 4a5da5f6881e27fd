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

**Resolution, and Richardson extrapolation.** A plain comparison cannot see a wrong law whose error is below
GD's own O(η) error: for one mode of strength 3 at η = 0.0025 that is 1.7e-2, so a rate or clock off by 1e-4
passes. GD's global error has an expansion in whole powers of η (explicit Euler on a smooth flow), so combining
runs at η, η/2, η/4, … cancels its leading terms: ``extrapolation=k`` replaces the runs by their k-level
Richardson extrapolation (level m: R ← (2^{p+m−1}·R(η/2) − R(η)) / (2^{p+m−1} − 1), p = ``order``), whose error is
O(η^{order+k}), and checks that order instead. For the logistic mode, k = 2 at η = 0.0025 … 0.000625 leaves 1.6e-7,
so a clock off by 1e-6 (an error of 6e-6) fails; see `verify/test_agreement.py`.
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
    extrapolation: int = 0

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
        what = f"Richardson-{self.extrapolation} " if self.extrapolation else ""
        return f"{'PASS' if self.passed else 'FAIL'}: {what}max|err| {rows}{order}"


def agreement(
    theory: Callable[[np.ndarray], np.ndarray],
    simulate: Callable[[float], tuple[np.ndarray, np.ndarray]],
    etas: Sequence[float],
    *,
    tolerance: Callable[[float], float],
    order: float | None = 1.0,
    order_tol: float = 0.15,
    ratio_tol: float = 0.1,
    extrapolation: int = 0,
) -> Agreement:
    """Compare ``theory(t)`` with ``simulate(eta) -> (t, values)`` at each step size.

    ``theory`` is called with the simulated times and must return an array of the same shape as the
    simulated values. ``tolerance(eta)`` is the allowed max abs error at that η (derive it, never guess it).

    ``extrapolation=k`` (needs ``order``) compares the law with the k-level Richardson extrapolation of the runs
    (module docstring): ``etas`` must then halve exactly from one to the next, the run at η/2 must record every
    time of the run at η (and the ones between), and the result has one entry per η that has k finer runs, with
    expected order ``order + k``; ``tolerance(eta)`` is then for the extrapolated error.

    >>> import numpy as np
    >>> def sim(eta):  # Euler for du/dt = -u from u(0) = 1
    ...     k = np.arange(int(round(1 / eta)) + 1)
    ...     return k * eta, (1 - eta) ** k
    >>> result = agreement(lambda t: np.exp(-t), sim, [0.01, 0.005, 0.0025], tolerance=lambda eta: 0.2 * eta)
    >>> result.passed, round(result.order, 2)
    (True, 1.0)
    """
    etas = tuple(float(e) for e in etas)
    if isinstance(extrapolation, bool) or not isinstance(extrapolation, int) or extrapolation < 0:
        raise ValueError(f"extrapolation must be a whole number of Richardson levels ≥ 0, got {extrapolation!r}")
    if extrapolation and order is None:
        raise ValueError("Richardson extrapolation needs the order of the error it cancels; pass order=1.0 for GD")
    if order is not None and not order > 0:
        raise ValueError(
            f"order is the power of η in GD's error and must be positive, got {order!r}; pass order=1.0 for GD, "
            "or order=None for a law that GD meets exactly"
        )
    if len(etas) < (3 + extrapolation if order is not None else 1):
        raise ValueError(
            f"an order check needs at least three step sizes (LAWS.md §0), plus one per Richardson level "
            f"({3 + extrapolation} here), got {len(etas)}; pass order=None for a law that GD meets exactly"
        )
    if extrapolation and any(abs(a / b - 2.0) > 1e-12 for a, b in itertools.pairwise(etas)):
        raise ValueError(f"Richardson extrapolation needs step sizes that halve exactly, got {etas}")
    runs = []
    for eta in etas:
        t, sim = simulate(eta)
        t_arr, sim = np.asarray(t, dtype=np.float64), np.asarray(sim, dtype=np.float64)
        if t_arr.ndim == 0 or sim.ndim == 0 or t_arr.shape[0] != sim.shape[0]:
            raise ValueError(f"simulate returned times of shape {t_arr.shape} for values of shape {sim.shape}")
        if not np.all(np.isfinite(sim)):
            raise ValueError(f"non-finite simulated values at η = {eta}")
        runs.append((eta, t_arr, sim))
    abs_err, rel_err, tols, series = [], [], [], []
    for i, (eta, t_arr, sim) in enumerate(runs[: len(runs) - extrapolation]):
        compared = sim
        if extrapolation:
            assert order is not None  # refused above
            compared = _richardson(runs[i : i + extrapolation + 1], order)
        pred = np.asarray(theory(t_arr), dtype=np.float64)
        if pred.shape != sim.shape:
            raise ValueError(f"theory returned shape {pred.shape} but the simulation {sim.shape} at η = {eta}")
        if not np.all(np.isfinite(pred)):
            raise ValueError(f"non-finite theory values at the times of η = {eta}")
        diff = np.abs(pred - compared)
        abs_err.append(float(diff.max()))
        scale = np.maximum(np.abs(pred), np.finfo(np.float64).tiny)
        rel_err.append(float((diff / scale).max()))
        tols.append(float(tolerance(eta)))
        time_axis = t_arr if t_arr.ndim == 1 else t_arr.reshape(t_arr.shape[0], -1)[:, 0]
        series.append(Series(eta, time_axis, sim.reshape(len(time_axis), -1), pred.reshape(len(time_axis), -1)))
    compared_etas = etas[: len(etas) - extrapolation]
    fitted = None
    ratios: tuple[float, ...] = ()
    expected = None if order is None else order + extrapolation
    if order is not None:
        fitted = fit_order(compared_etas, abs_err)
        ratios = tuple(a / b for a, b in itertools.pairwise(abs_err))
    return Agreement(
        compared_etas,
        tuple(abs_err),
        tuple(rel_err),
        tuple(tols),
        fitted,
        expected,
        order_tol,
        ratios,
        ratio_tol,
        tuple(series),
        extrapolation,
    )


def _richardson(runs: Sequence[tuple[float, np.ndarray, np.ndarray]], order: float) -> np.ndarray:
    """Richardson extrapolation of runs at η, η/2, η/4, … to the times of the first (coarsest) run.

    Each finer run is sampled at the coarse times (every 2^j-th record, checked against the times); level m
    combines neighbours as (2^{p+m−1}·R(η/2) − R(η)) / (2^{p+m−1} − 1), cancelling the η^{p+m−1} error term.
    """
    t0 = runs[0][1].reshape(len(runs[0][1]), -1)[:, 0]
    values = []
    for j, (eta, t, sim) in enumerate(runs):
        step = 2**j
        sampled_t, sampled = t.reshape(len(t), -1)[::step, 0], sim[::step]
        if sampled_t.shape != t0.shape or not np.allclose(
            sampled_t, t0, rtol=0, atol=1e-9 * max(1.0, np.abs(t0).max())
        ):
            raise ValueError(
                f"for Richardson extrapolation the run at η = {eta:g} must record every time of the coarsest run "
                "and each time halfway between (record at all multiples of the step, e.g. times = k·η)"
            )
        values.append(sampled)
    for m in range(1, len(values)):
        w = 2.0 ** (order + m - 1)
        values = [(w * fine - coarse) / (w - 1.0) for coarse, fine in itertools.pairwise(values)]
    return values[0]
