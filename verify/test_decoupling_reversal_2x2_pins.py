"""Pins of what the decoupling_2x2 and reversal_saddle checks record and how each half of a check fails alone.

The committed report rows (`verify/test_committed_reports.py`) fix the verdicts and summaries; these tests fix the rest
a user reads: the evidence each check returns (the API's raw record, the source of the report's figures), checked
against values derived here by hand (the reversal law u(t) = s·e^{−2st}/(2 − e^{−2st}), LAWS.md §3.2) or against the
committed page, and planted faults that break one half of a two-part check while the other half holds, so that each
half is shown to decide the verdict on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from theory import get_law
from verify.report import curves_for
from verify.suite import Fault, run_check
from verify.suite.decoupling import gd_error_coefficient
from verify.suite.modes import gd_error_constant

PAGES = Path(__file__).resolve().parents[1] / "reports"


@dataclass(frozen=True)
class _SymbolicOnly(Fault):
    """A law fault that scales the SymPy closed forms only: their float64 evaluations stay right."""

    def law(self, x: Any) -> Any:
        return super().law(x) if isinstance(x, sp.Basic) else x


@dataclass(frozen=True)
class _NumericOnly(Fault):
    """A law fault that scales the float64 predictions only: the SymPy closed forms stay right."""

    def law(self, x: Any) -> Any:
        return x if isinstance(x, sp.Basic) else super().law(x)


@dataclass(frozen=True)
class _OnlyTargets(Fault):
    """A law fault on the named targets of decoupling_2x2 only (e.g. the P = M⁻¹ entries, or the M entries)."""

    names: tuple[str, ...] = ()
    shift: bool = False  # add size·t instead of scaling: M(0) stays right, the ODE does not

    def law(self, x: Any) -> Any:
        law = get_law("decoupling_2x2")
        if not any(x == law.targets[n] for n in self.names):
            return x
        return x + self.size * law.symbols["t"] if self.shift else super().law(x)


def _reversal_u(t: np.ndarray, s: np.ndarray) -> np.ndarray:
    """u(t) = s·e^{−2st}/(2 − e^{−2st}) (τ = 1), written out here rather than taken from the law's code."""
    e = np.exp(-2.0 * s[None, :] * t[:, None])
    return s[None, :] * e / (2.0 - e)


# -- reversal_saddle -------------------------------------------------------------------------------------------------
def test_aligned_collapse_figure_is_the_closed_form_against_the_hand_law_on_t_up_to_5():
    check = run_check("reversal_saddle", "aligned_solution_collapses")
    curves = check.evidence["curves"]
    # the title is the caption of the page's numerics figure
    title = "reversal_saddle: aligned closed form (solid) vs the law (dashed), each old mode collapses to the saddle"
    assert curves.title == title
    assert f"*{title}*" in (PAGES / "reversal_saddle.md").read_text()
    assert (curves.xlabel, curves.ylabel) == ("t / τ", "ũ_αᵀ W2W1 ṽ_α")
    assert curves.source == "numerics"  # Theorem 3.1's closed form, no training
    assert curves.theory_label == "law u(t) = s·exp(−2st)/(2 − exp(−2st))"
    assert curves.columns == ("s = 2", "s = 1", "s = 0.5")
    # both curves on the 0.1τ grid of t ∈ [0, 5] (the collapse: every mode < 2e-3 by t = 5)
    grid = np.linspace(0.0, 5.0, 51)
    ((label, t_sim, u_sim),) = curves.simulated
    assert label == "aligned_qqt (closed form, no training)"
    t_law, u_law = curves.theory
    np.testing.assert_allclose(t_sim, grid, rtol=0, atol=1e-12)
    np.testing.assert_allclose(t_law, grid, rtol=0, atol=1e-12)
    want = _reversal_u(grid, np.array([2.0, 1.0, 0.5]))
    np.testing.assert_allclose(u_law, want, rtol=0, atol=1e-14)
    np.testing.assert_allclose(u_sim, want, rtol=0, atol=1e-13)
    assert np.abs(u_sim[-1]).max() < 2e-3


def test_aligned_collapse_fails_when_only_the_symbolic_closed_form_is_off():
    # u(t)·(1 + 1e-12) in SymPy only: its ODE and u0 = s identities fail while aligned_qqt still matches the numbers
    check = run_check("reversal_saddle", "aligned_solution_collapses", fault=_SymbolicOnly("law", 1e-12))
    assert not check.passed
    assert "ODE: exact" not in check.summary


def test_aligned_collapse_fails_when_only_the_predicted_numbers_are_off():
    # the predicted values ·(1 + 1e-12) (2e-12 at s = 2, 200× the 1e-14 tolerance) while the SymPy identities hold
    check = run_check("reversal_saddle", "aligned_solution_collapses", fault=_NumericOnly("law", 1e-12))
    assert not check.passed
    assert "ODE: exact; solution_u0(u0 = s) = solution: exact" in check.summary


def test_refusal_evidence_keeps_both_messages_and_both_singular_values():
    check = run_check("reversal_saddle", "theorem_3_1_refuses_reversal")
    messages, smin = check.evidence["messages"], check.evidence["sigma_min_B"]
    assert len(messages) == 2 and len(smin) == 2  # the reversal −Σa and the sign mismatch
    for message in messages:
        assert "Assumption 3.1" in message and "Fix" in message and "aligned_qqt" in message
    # σ_min(B) = 0 to round-off; the summary shows it below 1e-15, so must the record
    assert all(0 <= v < 1e-15 for v in smin)
    assert "σ_min(B): < 1e-15" in check.summary


def test_reversal_gd_records_the_0_05_grid_up_to_t_4_and_labels_the_figure():
    check = run_check("reversal_saddle", "gd_follows_until_escape")
    result = check.evidence["agreement"]
    assert result.etas == (0.01, 0.005, 0.0025)
    for series in result.series:  # the plain check records every 0.05τ, not every step, on t ≤ 4
        np.testing.assert_allclose(series.t, np.arange(81) * 0.05, rtol=0, atol=1e-12)
        # GD follows u(t) to O(η): within a few η of the hand-derived law
        np.testing.assert_allclose(series.theory, _reversal_u(series.t, np.array([2.0, 1.0, 0.5])), atol=1e-12)
        assert np.abs(series.simulated - series.theory).max() < 10 * series.eta
    _assert_figure_ylabel("reversal_saddle", check, "strength along the old mode ũ_αᵀW2W1ṽ_α")


def _assert_figure_ylabel(law: str, check, ylabel: str) -> None:
    """The check's evidence names the y axis, and that label reaches the law's figure (`curves_for`)."""
    assert check.evidence["ylabel"] == ylabel
    figure = curves_for(law, [check])
    assert figure is not None and figure.ylabel == ylabel


# -- decoupling_2x2 ----------------------------------------------------------------------------------------------
def test_two_by_two_gd_records_the_0_05_grid_up_to_t_8_and_labels_the_figure():
    check = run_check("decoupling_2x2", "gd_agreement")
    result = check.evidence["agreement"]
    assert result.etas == (0.01, 0.005, 0.0025)
    for series in result.series:
        np.testing.assert_allclose(series.t, np.arange(161) * 0.05, rtol=0, atol=1e-12)
        assert series.simulated.shape == series.theory.shape == (161, 12)  # m11, m12, m22 of 4 networks
    _assert_figure_ylabel("decoupling_2x2", check, "M = ŨᵀW2W1Ṽ entries (m11, m12, m22)")


def test_two_by_two_vs_theorem_records_the_error_the_summary_prints():
    check = run_check("decoupling_2x2", "agrees_with_theorem_3_1")
    assert "< 1e-13 (tol 1e-12)" in check.summary
    assert 0 <= check.evidence["max_error"] < 1e-13
    # under the declared fault δ the recorded error is δ·max|M| over t ≤ 10: M rises from its small init to diag(s̃),
    # so max|M| = s1 = 2 of s̃ = (2, 1) (the larger of the two spectra (2, 1), (1.5, 1.5)) and the error is 2δ = 2e-11
    faulted = run_check("decoupling_2x2", "agrees_with_theorem_3_1", fault=Fault("law", 1e-11))
    assert abs(faulted.evidence["max_error"] / 1e-11 - 2.0) < 1e-3


def test_two_by_two_odes_records_a_reproducible_round_off_residual():
    first = run_check("decoupling_2x2", "solution_satisfies_odes", seed=3)
    again = run_check("decoupling_2x2", "solution_satisfies_odes", seed=3)
    # 30-digit residuals: the summary shows them below 1e-25; a seed fixes the points and so the number
    assert 0 <= first.evidence["riccati_residual"] < 1e-25
    assert first.evidence["riccati_residual"] == again.evidence["riccati_residual"]


def test_two_by_two_odes_fails_when_only_the_inverse_entries_are_off():
    # P = M⁻¹ entries ·(1 + 1e-12): the Lyapunov identities and P(0) = M0⁻¹ fail, the Riccati residual is round-off
    check = run_check(
        "decoupling_2x2", "solution_satisfies_odes", fault=_OnlyTargets("law", 1e-12, ("p11", "p22", "p12"))
    )
    assert not check.passed
    assert "Lyapunov equations exact, exact, exact" not in check.summary
    assert check.evidence["riccati_residual"] < 1e-20


def test_two_by_two_odes_fails_when_only_the_m_entries_are_off():
    # m11, m22, m12 ·(1 + 1e-12): M(0) misses M0 by ~1e-12 of it, while the P identities stay exact
    check = run_check(
        "decoupling_2x2", "solution_satisfies_odes", fault=_OnlyTargets("law", 1e-12, ("solution", "m22", "m12"))
    )
    assert not check.passed
    assert "Lyapunov equations exact, exact, exact, P(0) = M0⁻¹ exact, exact, exact" in check.summary
    assert 1e-14 < check.evidence["riccati_residual"] < 1e-10


def test_two_by_two_odes_fails_when_m_starts_right_but_breaks_its_ode():
    # m + 1e-12·t: M(0) = M0 holds, dM/dt is off by 1e-12 at every point, not only the last one drawn
    fault = _OnlyTargets("law", 1e-12, ("solution", "m22", "m12"), shift=True)
    check = run_check("decoupling_2x2", "solution_satisfies_odes", fault=fault)
    assert not check.passed
    assert 1e-14 < check.evidence["riccati_residual"] < 1e-10


def test_reversal_gd_fails_a_clock_error_of_1e_3_through_the_derived_error_band_alone():
    # a clock off by 1e-3 stays within the agreement tolerance, but its error is no longer GD's own first-order error:
    # err/(η·max|E|) = 1.000, 0.952, 0.880, out of the ±10% band at the finest η (the comment on REVERSAL_GD_FAULT)
    check = run_check("reversal_saddle", "gd_follows_until_escape", fault=Fault("clock", 1e-3))
    assert check.evidence["agreement"].passed
    assert not check.passed
    assert "0.880" in check.summary


def test_two_by_two_gd_fails_a_gd_more_accurate_than_its_derived_error():
    # the band is two-sided: a clock 2e-4 slow cancels part of GD's error (err/(η·max|E|) = 0.966, 0.929, 0.857),
    # which the agreement tolerance (an upper bound) lets through and the ±10% band does not
    check = run_check("decoupling_2x2", "gd_agreement", fault=Fault("clock", -2e-4))
    assert check.evidence["agreement"].passed
    assert not check.passed
    assert "0.857" in check.summary


def test_two_by_two_odes_passes_at_every_seed():
    # the 20 mpmath points are drawn inside the law's box with M0 ≻ 0 (|b0| < ½√(a1·a2)) for any seed
    for seed in range(8):
        check = run_check("decoupling_2x2", "solution_satisfies_odes", seed=seed)
        assert check.passed, (seed, check.summary)
        assert check.evidence["riccati_residual"] < 1e-25


def test_two_by_two_vs_theorem_records_the_documented_setup():
    # the docstring's comparison: 5 inits at scales 0.05·s and 0.5·s, s̃ = (2, 1) and (1.5, 1.5), every 0.1τ of t ≤ 10
    evidence = run_check("decoupling_2x2", "agrees_with_theorem_3_1").evidence
    np.testing.assert_allclose(evidence["times"], np.arange(101) * 0.1, rtol=0, atol=1e-12)
    assert evidence["spectra"] == ((2.0, 1.0), (1.5, 1.5))
    assert evidence["scales"] == (0.05, 0.5)
    assert evidence["inits"] == 5


# -- the Richardson checks and GD's first-order error ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("law", "name", "constants"),
    [
        # the measured err/(η³ s⁴) the committed pages print (and the comments above the checks' bounds state)
        ("decoupling_2x2", "gd_agreement_richardson", ("0.011", "0.011", "0.011")),
        ("reversal_saddle", "gd_follows_until_escape_richardson", ("0.334", "0.317", "0.309")),
    ],
)
def test_richardson_checks_record_the_twice_extrapolated_agreement_their_summary_prints(law, name, constants):
    """The evidence holds the Richardson-2 agreement itself (the API's record of the errors the row prints): its three
    extrapolated levels at η = 0.01, 0.005, 0.0025 of order 3, and errors whose constants err/(η³ s_max⁴), s_max = 2,
    are the ones on the page."""
    check = run_check(law, name)
    result = check.evidence["agreement"]
    assert result.extrapolation == 2 and result.expected_order == 3.0
    assert result.etas == (0.01, 0.005, 0.0025)
    assert result.passed and check.passed
    assert check.summary.startswith(str(result) + "; err/(η³ s⁴) = ")
    measured = tuple(f"{e / (eta**3 * 2.0**4):.3f}" for e, eta in zip(result.max_abs_error, result.etas, strict=True))
    assert measured == constants


def test_gd_error_coefficient_integrates_a_horizon_of_exactly_one_time_unit():
    """Only t = 0 alone needs no integration: up to t = 1 the first-order error of a scalar mode grows from 0 and
    matches the separate mode derivation (`gd_error_constant`, c = max|E|/s²) as at every other horizon."""
    s, u0 = 1.0, 0.5
    a = np.sqrt(np.array([[u0]]))
    E = gd_error_coefficient(a, a, np.array([[s]]), np.linspace(0.0, 1.0, 20001))
    assert E[0, 0, 0] == 0.0
    assert float(np.abs(E).max()) / s**2 == pytest.approx(gd_error_constant(2, s, u0, 1.0), rel=1e-8)
    assert float(np.abs(E).max()) > 0.01


def test_gd_error_coefficient_accepts_exact_rational_inputs():
    """Weights, Σyx and times may be given as exact rationals (fractions.Fraction, as SymPy's exact values convert):
    they are read as float64, so the result equals the one for the same values given as floats."""
    w, syx, t = [[Fraction(1, 30)]], [[Fraction(3)]], [Fraction(0), Fraction(1, 2), Fraction(1)]
    exact = gd_error_coefficient(w, w, syx, t)
    floats = gd_error_coefficient(np.array([[1 / 30]]), np.array([[1 / 30]]), np.array([[3.0]]), np.array([0, 0.5, 1]))
    assert exact.dtype == np.float64 and exact.shape == (3, 1, 1)
    np.testing.assert_array_equal(exact, floats)
