"""Pins of the null-space checks of `verify.suite.regression` beyond their committed report rows: the figure of
`deep_first_layer` (what `verify.report.curves_for` draws for the law) and the time grid it records."""

from __future__ import annotations

import numpy as np

from verify.report import curves_for
from verify.suite import run_check
from verify.suite.regression import DRIFT_FLOOR


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
