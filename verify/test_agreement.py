"""`verify.agreement` must fail on wrong laws: both of its conditions bite, and Richardson extrapolation resolves
rate and clock errors that a plain O(η) comparison cannot see."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from theory import get_law
from verify.agreement import agreement
from verify.suite.modes import LOGISTIC_SETTING, RICHARDSON_ETAS, _mode_gd, logistic_richardson

# Euler for du/dt = −u, u(0) = 1, over t ∈ [0, 1]: global error ≈ (t e^{−t}/2)·η ≤ 0.184·η.
EULER_ETAS = (0.01, 0.005, 0.0025)


def _euler(eta: float) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(round(1 / eta) + 1)
    return k * eta, (1 - eta) ** k


def test_both_conditions_are_required():
    exact = agreement(lambda t: np.exp(-t), _euler, EULER_ETAS, tolerance=lambda eta: 0.2 * eta)
    assert exact.passed and exact.within_tolerance and exact.order_ok
    # right order, tolerance too tight: the error 0.184·η exceeds 0.1·η
    tight = agreement(lambda t: np.exp(-t), _euler, EULER_ETAS, tolerance=lambda eta: 0.1 * eta)
    assert tight.order_ok and not tight.within_tolerance and not tight.passed
    # within a loose tolerance, but a law off by a constant 1e-3 has no rate: its error does not halve with η
    offset = agreement(lambda t: np.exp(-t) + 1e-3, _euler, EULER_ETAS, tolerance=lambda eta: 1.0)
    assert offset.within_tolerance and not offset.order_ok and not offset.passed


# The logistic checks' setting and comparisons (verify/suite/modes.py): the Richardson one is the registered
# check `logistic_mode.gd_agreement_richardson`; the plain one uses the 1.2·η·s² tolerance of the measured 0.745·η·s².
S, U0, HORIZON = LOGISTIC_SETTING
PLAIN_COEFF = 1.2


@functools.cache
def _logistic_runs() -> dict[float, tuple[np.ndarray, np.ndarray]]:
    _, simulate = _mode_gd("logistic_mode", 2, S, U0, HORIZON, seed=0)
    return {eta: simulate(eta) for eta in RICHARDSON_ETAS}


def _logistic_law(clock: float = 1.0, rate: float = 1.0):
    law = get_law("logistic_mode")
    s = np.array(S)[None, :]
    return lambda t: law.numeric(t=t * clock, tau=1.0, s=s * rate, u0=U0)


def _compare(theory, extrapolation: int):
    runs = _logistic_runs()
    if extrapolation:
        return logistic_richardson(theory, runs.__getitem__)
    tol = lambda eta: PLAIN_COEFF * eta * max(S) ** 2  # noqa: E731
    return agreement(theory, runs.__getitem__, RICHARDSON_ETAS[:3], tolerance=tol)


def test_richardson_extrapolated_gd_meets_the_law_at_order_three():
    result = _compare(_logistic_law(), extrapolation=2)
    assert result.passed, str(result)
    assert result.expected_order == 3 and abs(result.order - 3) < 0.15
    assert max(result.max_abs_error) < 2e-5  # against 0.067 for the raw run at η = 0.01


@pytest.mark.parametrize(
    ("perturbation", "law"),
    [
        ("clock × (1 + 1e-6)", _logistic_law(clock=1 + 1e-6)),
        ("clock × (1 − 1e-6)", _logistic_law(clock=1 - 1e-6)),
        ("rates × (1 + 1e-6)", _logistic_law(rate=1 + 1e-6)),
        ("clock × (1 + 1e-4)", _logistic_law(clock=1 + 1e-4)),
    ],
)
def test_a_law_off_by_one_part_in_a_million_fails_only_with_richardson(perturbation, law):
    # A relative clock or rate error δ moves u by ≈ δ·max|t·du/dt| ≈ δ·6 here: 6e-6 at δ = 1e-6, far above the
    # extrapolated error 1.6e-7 at the finest η, far below the plain O(η) error 1.7e-2.
    assert not _compare(law, extrapolation=2).passed, perturbation
    if "1e-6" in perturbation:
        assert _compare(law, extrapolation=0).passed, f"the plain comparison was not expected to see {perturbation}"


def test_extrapolation_is_validated():
    with pytest.raises(ValueError, match="halve exactly"):
        agreement(np.exp, _euler, (0.01, 0.004, 0.002, 0.001), tolerance=lambda e: 1.0, extrapolation=1)
    with pytest.raises(ValueError, match="plus one per Richardson level"):
        agreement(np.exp, _euler, EULER_ETAS, tolerance=lambda e: 1.0, extrapolation=1)
    with pytest.raises(ValueError, match="needs the order"):
        agreement(np.exp, _euler, EULER_ETAS, tolerance=lambda e: 1.0, order=None, extrapolation=1)

    def sparse(eta: float) -> tuple[np.ndarray, np.ndarray]:  # records only t = 0, 0.5, 1: no halfway times
        t, u = _euler(eta)
        keep = np.isin(np.round(t, 12), [0.0, 0.5, 1.0])
        return t[keep], u[keep]

    with pytest.raises(ValueError, match="must record every time"):
        agreement(
            lambda t: np.exp(-t), sparse, (0.01, 0.005, 0.0025, 0.00125), tolerance=lambda e: 1.0, extrapolation=1
        )


def test_richardson_on_euler_gains_one_order_per_level():
    etas = (0.02, 0.01, 0.005, 0.0025, 0.00125)
    for level in (0, 1, 2):
        result = agreement(
            lambda t: np.exp(-t), _euler, etas[: 3 + level], tolerance=lambda e: 1.0, extrapolation=level
        )
        assert abs(result.order - (1 + level)) < 0.1, (level, result.order)
