"""Sparse rational regression, float64 polishing, and the noise floor against candidates built to fool it."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from discover.discovery import split_rows
from discover.floor import Residuals
from discover.polish import polish
from discover.problems import get_problem
from discover.rational import sparse_rational
from discover.snapping import evaluate, mse, snap

PEAK = get_problem("coupling_peak_time")
S, A1, A2, B0 = sp.symbols("s a1 a2 b0", real=True)
# exp(−4·s·t_peak) for τ = 1: the law t = log(1 + s(s − a1 − a2)/(a1a2 − b0²))/(4s) solved for the exponential.
PEAK_RATIO = (A1 * A2 - B0**2) / (A1 * A2 - B0**2 + S * (S - A1 - A2))


def _peak(seed: int) -> tuple[np.ndarray, np.ndarray]:
    frame = PEAK.data(seed)
    X = frame[list(PEAK.features)].to_numpy()
    return X, np.exp(-4 * frame.t_peak.to_numpy() * frame.s.to_numpy())


@pytest.mark.parametrize("seed", [0, 1])
def test_the_coupling_ratio_is_found_exactly_by_sparse_rational_regression(seed: int) -> None:
    X, z = _peak(seed)
    names = list(PEAK.features)
    candidates = sparse_rational(X, z, names)
    snapped = [snap(c, X, z, names) for c in candidates]
    # the ratio is on the path, and snapping makes every constant exact: the difference simplifies to zero
    assert any(sp.simplify(c - PEAK_RATIO) == 0 for c in snapped), snapped
    assert min(mse(c, X, z, names) for c in candidates) < 1e-25


def test_a_target_that_is_no_rational_function_is_not_fitted_to_round_off() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, (300, 2))
    z = np.exp(3 * X[:, 0]) * X[:, 1]
    best = min(mse(c, X, z, ["x", "y"]) for c in sparse_rational(X, z, ["x", "y"]))
    # e^{3x} over [0.5, 2] spans e^{4.5} ≈ 90: a degree ≤ 3 ratio misses it by far more than round-off
    assert best > 1e-8 * np.var(z)


def test_sparse_rational_refuses_mismatched_shapes_and_skips_degrees_the_rows_cannot_support() -> None:
    with pytest.raises(ValueError, match="X must have shape"):
        sparse_rational(np.ones((10, 2)), np.ones(9), ["x", "y"])
    # 12 rows, 2 features: degree 1 has 2·3 unknowns (needs 24 rows): no degree fits, nothing is returned
    assert sparse_rational(np.random.default_rng(0).uniform(1, 2, (12, 2)), np.ones(12), ["x", "y"]) == []


def test_polish_refits_float32_constants_in_float64_and_keeps_exact_ones() -> None:
    x = sp.Symbol("x")
    X = np.linspace(0.5, 3.0, 60)[:, None]
    gamma = 0.5772156649015329
    y = gamma * np.exp(-X[:, 0]) + 2 * X[:, 0]
    rough = sp.Float(float(np.float32(gamma))) * sp.exp(-x) + 2 * x
    polished = polish(rough, X, y, ["x"])
    constant = next(iter(polished.atoms(sp.Float)))
    assert abs(float(constant) - gamma) < 1e-14 < abs(float(np.float32(gamma)) - gamma)
    assert polished.has(2 * x)  # the exact coefficient is not a Float: it stays
    assert mse(polished, X, y, ["x"]) < 1e-28


def test_the_floor_is_not_fooled_by_heavy_tailed_misfits_or_by_a_flexible_approximation() -> None:
    # Candidates that Operon returned for exp(4·s·t_peak) (values over six decades) with held-out R² of 0.94 and
    # 0.97: residuals of a 30 % misfit that looked like noise to a plain neighbour correlation.
    frame = PEAK.data(1)
    X = frame[list(PEAK.features)].to_numpy()
    z = np.exp(4 * frame.t_peak.to_numpy() * frame.s.to_numpy())
    R = Residuals(X, z, split_rows(len(z), 0.25, 1))
    columns = dict(zip(PEAK.features, X.T, strict=True))
    for misfit in (
        2811 + 6 * S**2 / (5 * A1 * A2),
        842 + 7 * S**2 / (9 * A1 * A2) + 3 * B0**2 * S**2 / (A1**2 * A2**2),
    ):
        test = R.test(evaluate(misfit, columns))
        assert not test.at_floor, (misfit, test)
    law = 1 + S * (S - A1 - A2) / (A1 * A2 - B0**2)
    assert R.test(evaluate(law, columns)).at_floor
    # A degree-3 rational with float coefficients fits sqrt(x) + y below float32 resolution: not a law.
    rng = np.random.default_rng(0)
    X2 = rng.uniform(0.5, 2.0, (200, 2))
    y2 = np.sqrt(X2[:, 0]) + X2[:, 1]
    approx = sparse_rational(X2, y2, ["x", "y"], degree=3)[-1]
    R2 = Residuals(X2, y2, split_rows(200, 0.25, 0))
    test = R2.test(evaluate(approx, {"x": X2[:, 0], "y": X2[:, 1]}), exact=False)
    assert test.train_mse <= R2.floor and not test.at_floor, test


def test_the_normal_density_constant_snaps_to_one_over_root_two_pi() -> None:
    # AI Feynman I.6.2a, f = exp(−θ²/2)/√(2π): the constant as float32 search leaves it, and as the rational route
    # (float64) leaves it; 2.5066 = √(2π) is none of π, e, √2, √3, ln 2 times a small rational.
    theta = sp.Symbol("theta")
    X = np.linspace(-3, 3, 80)[:, None]
    y = np.exp(-(X[:, 0] ** 2) / 2) / np.sqrt(2 * np.pi)
    for fitted in (float(np.float32(1 / np.sqrt(2 * np.pi))), 0.398942280401432):
        snapped = snap(sp.Float(fitted) * sp.exp(-(theta**2) / 2), X, y, ["theta"])
        assert sp.simplify(snapped - sp.exp(-(theta**2) / 2) / sp.sqrt(2 * sp.pi)) == 0
