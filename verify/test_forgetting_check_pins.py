"""Pins of what the forgetting checks record (their evidence and figure) and of their verdict logic.

The committed reports pin the checks' verdicts and printed summaries; these tests pin the rest a user reads: the
raw evidence must agree with the printed numbers and with the law, the figure must show the three phases with the
law's plateaus and the captions of reports/forgetting_task_distance.md, and the continual and identity checks must
fail when only one of their two comparisons is off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from verify.numbers import error_text
from verify.report import curves_for
from verify.suite import Fault, run_check
from verify.suite.forgetting import DURATION, TOL, _identity_verdict

LAW = "forgetting_task_distance"
REPORT = Path(__file__).resolve().parents[1] / "reports" / f"{LAW}.md"


def test_continual_evidence_agrees_with_its_summary_and_the_law():
    continual = run_check(LAW, "continual_3_tasks", seed=0)
    ev = continual.evidence
    final, predicted = np.asarray(ev["final_losses"]), np.asarray(ev["predicted"])
    assert final.shape == predicted.shape == (3, 3)  # (phase j, task i)
    # the recorded max error is the one between the recorded losses and predictions, and the one the summary prints
    assert ev["max_error"] == float(np.max(np.abs(final - predicted)))
    assert f"max_ij |L_i(T_j) − law|: {error_text(ev['max_error'], floor=1e-12)} (tol {TOL:g})" in continual.summary
    # the forgetting printed from the simulation is final[2, 0] − final[1, 0]; by the law, c_0 cancels from it, so
    # the predicted plateaus give the same number (½(‖Σ₂ − Σ₀‖² − ‖Σ₁ − Σ₀‖²))
    assert f"sim {final[2, 0] - final[1, 0]:.6f}" in continual.summary
    assert f"law {predicted[2, 0] - predicted[1, 0]:.6f}" in continual.summary
    # after converging on task j its own loss is its irreducible loss c_j, printed as c_i
    c = np.diag(predicted)
    assert f"c_i = {np.round(c, 6).tolist()}" in continual.summary


def test_continual_figure_shows_three_phases_with_the_law_plateaus():
    continual = run_check(LAW, "continual_3_tasks", seed=0)
    curves = curves_for(LAW, [continual])
    assert curves is continual.evidence["curves"]  # the law's figure is this check's explicit curves
    caption = f"*{curves.title}*"
    assert caption in REPORT.read_text().splitlines()  # the committed report's figure caption
    assert curves.title == f"{LAW}: GD through 3 tasks in turn, loss of each task"
    assert curves.xlabel == f"t / τ ({DURATION:g} τ per task)"
    assert curves.ylabel == "loss L_i"
    assert curves.theory_label == "law: ½‖Σⱼ − Σᵢ‖² + cᵢ after converging on task j"
    assert curves.logy is False  # O(1) losses with plateaus: a linear axis
    assert [label for label, _, _ in curves.simulated] == ["task 0", "task 1", "task 2"]
    t_theory, plateau = curves.theory
    predicted = np.asarray(continual.evidence["predicted"])
    T = len(t_theory) // 3
    assert plateau.shape == (3 * T, 3)
    for j in range(3):
        phase = slice(j * T, (j + 1) * T)
        # each phase's dashed plateau is the law's L_i(T_j) for every task i
        assert np.array_equal(plateau[phase], np.broadcast_to(predicted[j], (T, 3)))
        # phase j runs from j·300τ to (j+1)·300τ on one time axis
        assert t_theory[phase][0] == pytest.approx(j * DURATION)
        assert t_theory[phase][-1] == pytest.approx((j + 1) * DURATION)
    assert np.all(np.diff(t_theory) >= 0)
    final = np.asarray(continual.evidence["final_losses"])
    for i, (_, t, values) in enumerate(curves.simulated):
        assert t is t_theory or np.array_equal(t, t_theory)
        assert values.shape == (3 * T, 1)
        # each task's curve ends every phase at the loss recorded as final for that phase
        assert values[[T - 1, 2 * T - 1, 3 * T - 1], 0] == pytest.approx(final[:, i], abs=0)


def test_continual_fails_on_the_per_task_losses_alone():
    # A law fault of 5e-7 moves the largest predicted loss (3.85 at seed 0) by 1.9e-6, past TOL = 1e-6, while the
    # forgetting of task 0, |−1.914| · 5e-7 = 9.6e-7, stays within TOL: the check must fail on L_i(T_j) alone.
    result = run_check(LAW, "continual_3_tasks", seed=0, fault=Fault("law", 5e-7))
    assert result.evidence["max_error"] > TOL
    sim = float(result.summary.split("sim ")[1].split(",")[0])
    law = float(result.summary.split("law ")[1].split(";")[0])
    assert abs(sim - law) < TOL
    assert not result.passed


def test_loss_identity_evidence_is_the_printed_error():
    result = run_check(LAW, "loss_identity_along_trajectory", seed=0)
    worst = result.evidence["max_error"]
    assert f"(½‖W − Σᵢ‖² + c_i)|: {error_text(worst, floor=1e-14)};" in result.summary
    assert 0 <= worst <= 1e-12


# The identity check's second claim (the simulator's recorded losses equal the item losses) is one no planted fault
# reaches: its verdict is a pure function, tested here at its boundary. The tolerance 1e-12 is exact float64
# input; the next float above it is the smallest error that must fail.
ABOVE = float(np.nextafter(1e-12, 1.0))


def test_loss_identity_passes_at_its_tolerance_inclusive():
    assert _identity_verdict(0.0, 0.0)
    assert _identity_verdict(1e-12, 1e-12)


@pytest.mark.parametrize("recorded", [ABOVE, 1e-9, 0.5])
def test_loss_identity_fails_on_the_recorded_losses_alone(recorded):
    # a simulator whose recorded losses are off (by a hair, by 1e-9, by half a unit of loss) while the law's
    # identity holds to round-off: the continual check would read wrong losses, so this check must fail
    assert not _identity_verdict(1e-15, recorded)


@pytest.mark.parametrize("worst", [ABOVE, 1e-9, 0.5])
def test_loss_identity_fails_on_the_law_side_alone(worst):
    assert not _identity_verdict(worst, 1e-15)
