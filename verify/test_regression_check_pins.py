"""Pins of the null-space checks of `verify.suite.regression` beyond their committed report rows: the figure of
`deep_first_layer` (what `verify.report.curves_for` draws for the law) and the time grid it records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulate import gaussian_init
from verify.report import curves_for
from verify.suite import Fault, run_check
from verify.suite.regression import DRIFT_FLOOR, TOL, _rank_deficient_task


def test_deep_check_draws_the_first_layer_drift_of_depths_2_and_3_on_a_log_axis():
    check = run_check("nullspace_preservation", "deep_first_layer")
    curves = curves_for("nullspace_preservation", [check])
    assert curves is check.evidence["curves"]
    assert curves.title == (
        "nullspace_preservation: GD's first-layer null-space drift max|W1(t)Q_x − W1(0)Q_x| (law: 0)"
    )
    assert curves.xlabel == "t / τ"
    assert curves.ylabel == "max abs deviation (< 1e-12 drawn at 1e-12)"
    assert curves.logy is True  # round-off-sized values
    assert curves.theory is None  # the law's 0 has no place on a log axis
    # (12, 30, 6) has two weight layers, (12, 30, 30, 6) three
    assert [label for label, _, _ in curves.simulated] == ["depth 2", "depth 3"]


def test_deep_drift_is_recorded_every_0_4_tau_up_to_4_tau_and_agrees_with_the_summary():
    """η = 0.002, a record every 200 steps up to step 2000: t = 0, 0.4, …, 4.0 τ; the summary says the drift is
    below the 1e-12 floor, so every drawn point sits at the floor."""
    check = run_check("nullspace_preservation", "deep_first_layer")
    assert "max|W1(t)Q_x − W1(0)Q_x|: < 1e-12" in check.summary
    for _, t, values in check.evidence["curves"].simulated:
        np.testing.assert_allclose(t, 0.4 * np.arange(11), rtol=1e-12, atol=1e-12)
        assert values.shape == (11, 1)
        assert np.all(values == DRIFT_FLOOR)


# -- the verdicts: each half decides alone --------------------------------------------------------------------------
def _projector(seed: int) -> np.ndarray:
    """Q_x = I − XX⁺ of the check's task, by NumPy's pseudo-inverse (not theory.regression's projector)."""
    X = _rank_deficient_task(seed).X
    return np.eye(X.shape[0]) - X @ np.linalg.pinv(X)


@dataclass(frozen=True)
class _RangeOnly(Fault):
    """A law fault on the range-space part x(I − Q_x) of a predicted map only: its null-space part xQ_x stays right.

    The limit Â = YX⁺ + A0Q_x is then off by δ·YX⁺ while the preserved mass A0Q_x (all null space) is untouched."""

    seed: int = 0

    def law(self, x: Any) -> Any:
        return x + self.size * (x - x @ _projector(self.seed))


@dataclass(frozen=True)
class _EndToEndOnly(Fault):
    """A law fault on the predicted end-to-end mass W_{L:2}(t)W1(0)Q_x only (6 output rows); W1(0)Q_x (30 rows) stays
    right."""

    def law(self, x: Any) -> Any:
        return super().law(x) if np.shape(x)[-2] == 6 else x


def test_shallow_check_fails_when_only_the_predicted_limit_is_off():
    # δ = 1e-8 on YX⁺ (max|YX⁺| ≈ 2): the limit is off by ≈ 2e-8 ≫ TOL, the preserved mass stays round-off
    check = run_check("nullspace_preservation", "shallow_limit", fault=_RangeOnly("law", 1e-8))
    assert not check.passed
    assert "max|AQ_x − A0Q_x|: < 1e-12" in check.summary
    worst = float(re.search(r"max\|A_GD − \(YX⁺ \+ A0Q_x\)\|: ([0-9.e+-]+)", check.summary).group(1))
    assert TOL < worst < 1e-7


def test_deep_check_fails_when_only_the_predicted_end_to_end_mass_is_off():
    # δ = 1e-9 on W_{L:2}W1(0)Q_x only (max ≈ 0.6): off by ≈ 6e-10 > TOL while W1's drift stays round-off
    check = run_check("nullspace_preservation", "deep_first_layer", fault=_EndToEndOnly("law", 1e-9))
    assert not check.passed
    assert "max|W1(t)Q_x − W1(0)Q_x|: < 1e-12" in check.summary
    assert "max|AQ_x − W_{L:2}W1(0)Q_x|: < 1e-12" not in check.summary


# -- the shallow check's setup ----------------------------------------------------------------------------------------
def test_shallow_check_runs_gd_to_round_off_on_its_worst_conditioned_task():
    """The step count comes from the slowest contraction 1 − ηλ_min⁺ (η = 1/λmax), so GD reaches round-off even
    where λ_min⁺ is small: seed 42 has the smallest λ_min⁺ of seeds 0-299 (0.51 against λmax 8.7, 608 steps)."""
    task = _rank_deficient_task(42)
    lam = np.linalg.eigvalsh(task.sigma_xx)
    assert 0.5 < lam[lam > 1e-6].min() < 0.52 and np.abs(lam[:8]).max() < 1e-14  # rank 4: eight zero eigenvalues
    check = run_check("nullspace_preservation", "shallow_limit", seed=42)
    assert check.passed
    assert "max|A_GD − (YX⁺ + A0Q_x)|: < 1e-12" in check.summary


def test_shallow_summary_prints_the_largest_limit_and_mass_over_both_init_scales():
    """max|Â| and max|A0Q_x| are maxima over the inits of scale 0.1 and 1, computed here with NumPy's pinv
    (Â = YX⁺ + A0Q_x). At seed 1 the largest |Â| comes from the scale-0.1 init (2.47 against 2.41 at scale 1)."""
    for seed in (0, 1):
        task = _rank_deficient_task(seed)
        Q = _projector(seed)
        fit = task.Y @ np.linalg.pinv(task.X)
        limits, masses = [], []
        for scale in (0.1, 1.0):
            A0 = gaussian_init((12, 6), scale, seed=seed)[0][0]
            limits.append(np.abs(fit + A0 @ Q).max())
            masses.append(np.abs(A0 @ Q).max())
        summary = run_check("nullspace_preservation", "shallow_limit", seed=seed).summary
        assert summary.endswith(f"max|Â| {max(limits):.3g}, max|A0Q_x| {max(masses):.3g}")
        if seed == 1:
            assert limits[0] > limits[1] and f"max|Â| {max(limits):.3g}" == "max|Â| 2.47"
