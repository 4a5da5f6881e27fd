"""What the peak-time and eq. 15 checks (verify/suite/decoupling.py: `peak_time`, `sigmoid_regime`,
`sigmoid_symbolic`) measure, record and draw.

`verify/test_must_fail.py` asserts their verdicts under the declared faults and `verify/test_committed_reports.py`
their printed rows. The evidence (the API's raw record, and the source of the report's figures) and the
documented setup are pinned here: the published form's error per ε, recomputed from the closed relation
published/exact = ln z/ln(1 + z) on the documented draws; the evidence scaled by a planted law fault exactly as
the fault says; each claim of the symbolic check failing on its own; and the figures' captions, axes and windows
against the committed report pages and against the curves' own values.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from verify.report import figures_for
from verify.suite import Fault, run_check
from verify.suite import decoupling as dec

REPORTS = Path(__file__).resolve().parents[1] / "reports"
PEAK = ("coupling_peak_time", "exact_and_published_vs_numeric_peak")
REGIME = ("small_init_sigmoid", "published_eq15_regime")
SYMBOLIC = ("small_init_sigmoid", "exact_form_and_rank_one_case")


def _report_captions(law: str) -> list[tuple[str, str]]:
    """(caption, file) of every figure embedded in the committed report page of ``law``."""
    return re.findall(r"!\[(.*?)\]\((.*?)\)", (REPORTS / f"{law}.md").read_text())


# -- coupling_peak_time ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 3])
def test_peak_rows_are_the_published_forms_worst_error_over_the_seeded_draws(seed):
    """The docstring's setup: per ε, 20 draws of A0 ∈ R^{4×2} for each s ∈ {1, 2, 3}, from the check's seed, in
    that order. On those draws the published form's relative error is 1 − ln z/ln(1 + z), z = s(s − a1 − a2)/Δ0
    (Δ0 = a1a2 − b0²), a relation independent of the numerical peak location: the rows must hold its maximum
    (to the located peak's 1e-12 noise) next to the bound `published_peak_bound(ε)`, for the ε of PEAK_EPS."""
    result = run_check(*PEAK, seed)
    rows = result.evidence["rows"]
    assert [r[0] for r in rows] == list(dec.PEAK_EPS)
    rng = np.random.default_rng(seed)
    for eps, worst_pub, bound in rows:
        expected = 0.0
        for s in (1.0, 2.0, 3.0):
            for m0 in dec._m0_draws(eps, s, 20, rng):
                a1, a2, b0 = m0[0, 0], m0[1, 1], m0[0, 1]
                z = s * (s - a1 - a2) / (a1 * a2 - b0**2)
                expected = max(expected, abs(1 - np.log(z) / np.log1p(z)))
        assert worst_pub == pytest.approx(expected, rel=1e-8), eps
        assert bound == dec.published_peak_bound(eps)
        assert worst_pub <= bound  # the check passes on these draws: each row within its bound


def test_peak_evidence_agrees_with_the_printed_summary():
    """The summary prints each row's bound to 2 digits and the exact-form errors under their floors: the evidence
    behind the page must be those numbers."""
    result = run_check(*PEAK, 0)
    ev = result.evidence
    assert result.passed
    for eps, _, bound in ev["rows"]:
        assert f"ε={eps:g}: " in result.summary
        assert f"(bound {bound:.2g})" in result.summary
    assert "max rel < 1e-12 (tol 1e-9)" in result.summary and ev["max_rel_exact"] < 1e-12
    assert "|b(t_peak)|: < 1e-13 (tol 1e-12)" in result.summary and ev["max_rel_b_peak"] < 1e-13


def test_peak_law_fault_shifts_both_recorded_relative_errors_by_its_size():
    """A law fault δ scales the exact t_peak and the |b_peak| formula by (1 + δ) (`Fault.law`): against the
    numerically located peak, whose noise is ≲ 1e-12, both recorded errors are relative, so they must read δ."""
    delta = 1e-6
    result = run_check(*PEAK, 0, Fault("law", delta))
    assert not result.passed
    assert result.evidence["max_rel_exact"] == pytest.approx(delta, rel=1e-5)
    assert result.evidence["max_rel_b_peak"] == pytest.approx(delta, rel=1e-5)


def test_peak_figure_is_the_published_error_against_its_bound_per_eps():
    """The theory-vs-numerics figure of the report page: its caption is the committed one; x is ε (log scale in y,
    one marker per measured ε); the solid curve is each row's measured error, the dashed one the bound."""
    result = run_check(*PEAK, 0)
    curves = result.evidence["curves"]
    figures = figures_for(PEAK[0], [result])
    assert [(caption, name) for name, caption, _ in figures] == _report_captions(PEAK[0])
    assert curves.title == "coupling_peak_time: relative error of the published t_peak"
    assert curves.xlabel == "init scale ε = mean(a1, a2)/s"
    assert curves.ylabel == "max |t_published − t_peak| / t_peak"
    assert curves.source == "numerics"
    assert curves.logy is True and curves.markers is True
    assert curves.theory_label == "bound 1 − ln z/ln(1 + z), z = (1 − 2ε)/ε²"
    ((label, x, y),) = curves.simulated
    assert label == "measured (peak of the exact b(t))"
    rows = result.evidence["rows"]
    np.testing.assert_array_equal(x, dec.PEAK_EPS)
    np.testing.assert_array_equal(y[:, 0], [r[1] for r in rows])
    tx, ty = curves.theory
    np.testing.assert_array_equal(tx, dec.PEAK_EPS)
    np.testing.assert_array_equal(ty[:, 0], [dec.published_peak_bound(e) for e in dec.PEAK_EPS])


# -- small_init_sigmoid: exact form --------------------------------------------------------------------------------
def test_sigmoid_symbolic_fails_on_the_residual_alone_and_prints_it():
    """A law fault of 3e-16 (one ulp-sized scaling of the exact form) is 1e14× the 1e-30 residual tolerance but
    below the identity's 1e-15 threshold: the rank-one identity still reads "exact", so only the residual claim can
    fail the check, and the printed relative residual is the fault's size."""
    result = run_check(*SYMBOLIC, 0, Fault("law", 3e-16))
    assert not result.passed
    assert "|law − m11(s1 = s2)| rel: 3e-16 (40 digits; tol 1e-30)" in result.summary
    assert "eq. 15 = exact at Δ0 = 0: exact" in result.summary


def test_sigmoid_symbolic_fails_on_the_rank_one_identity_alone():
    """At 1e-14 the identity no longer reads "exact" (it is off by a constant factor): the check fails, and the
    residual it prints is the fault's size, relative."""
    result = run_check(*SYMBOLIC, 0, Fault("law", 1e-14))
    assert not result.passed
    assert "rel: 1e-14 (40 digits; tol 1e-30)" in result.summary
    assert "eq. 15 = exact at Δ0 = 0: up_to_constants" in result.summary


# -- small_init_sigmoid: the regime of eq. 15 -----------------------------------------------------------------------
def test_regime_evidence_agrees_with_the_printed_summary():
    """One row per ε of SIGMOID_EPS, (ε, window max, window median, min and max of all-t/limit), printed with 3 and
    6 decimals: the evidence behind the page must be those numbers, and the verdict their reading."""
    result = run_check(*REGIME, 0)
    rows = result.evidence["rows"]
    assert [r[0] for r in rows] == list(dec.SIGMOID_EPS)
    for e, w, m, lo, hi in rows:
        assert f"ε={e:g}: window max {w:.3f} (median {m:.3f}), all-t/limit {lo:.6f}-{hi:.6f}" in result.summary
        assert m <= w <= dec.SIGMOID_WINDOW_COEFF and abs(lo - 1) <= 1e-6 and abs(hi - 1) <= 1e-6
    assert result.passed


def _first_draw_at(eps_wanted: float, s_wanted: float, seed: int) -> np.ndarray:
    """The first M0 the regime check draws at (ε, s): its draws go ε by ε, s ∈ {1, 2}, 20 each, from the seed."""
    rng = np.random.default_rng(seed)
    for eps in dec.SIGMOID_EPS:
        for s in (1.0, 2.0):
            draws = dec._m0_draws(eps, s, 20, rng)
            if (eps, s) == (eps_wanted, s_wanted):
                return draws[0]
    raise AssertionError("not drawn")


def test_regime_figure_is_the_first_draw_at_eps_001_and_s_1():
    """The figure of the report page shows eq. 15 (solid) against the exact a1(t) (dashed) for the first draw at
    s = 1, ε = 0.01: caption as committed, axes t/τ and a1(t); the exact curve starts at that draw's a1 and
    reaches s; eq. 15 ends at s·a1/(a1 + a2), the value the outside label prints."""
    result = run_check(*REGIME, 0)
    curves = result.evidence["curves"]
    figures = figures_for(REGIME[0], [run_check(*SYMBOLIC, 0), result])
    assert [(caption, name) for name, caption, _ in figures] == _report_captions(REGIME[0])
    assert curves.title == "small_init_sigmoid: eq. 15 (solid) vs the exact a1(t) (dashed), s = 1, ε = 0.01"
    assert (curves.xlabel, curves.ylabel) == ("t / τ", "a1(t) = m11(t)")
    assert curves.source == "numerics" and curves.theory_label == "exact (2×2 solution)"
    ((label, t, published),) = curves.simulated
    assert label == "eq. 15 (published)"
    t_exact, exact = curves.theory
    np.testing.assert_array_equal(t_exact, t)
    assert t[0] == 0.0
    m0 = _first_draw_at(1e-2, 1.0, 0)
    a1, a2 = m0[0, 0], m0[1, 1]
    assert exact[0, 0] == pytest.approx(a1, rel=1e-12)
    assert exact[-1, 0] == pytest.approx(1.0, rel=1e-7)  # a1(t) → s = 1
    assert published[-1, 0] == pytest.approx(a1 / (a1 + a2), rel=1e-6)
    window = curves.window
    assert window.lo == 0.0
    # hi is the half-learning time of the stronger mode: the logistic s/(1 + (s/λ1 − 1)e^{−2st}) is s/2 there
    lam1 = np.linalg.eigvalsh(m0)[1]
    assert 1 / (1 + (1 / lam1 - 1) * np.exp(-2 * window.hi)) == pytest.approx(0.5, rel=1e-12)
    assert window.inside == "eq. 15 claimed: t ≤ t_half(λ1), error ≤ 0.5·(λ2/λ1)·s"
    assert window.outside == f"t > t_half(λ1): not claimed; eq. 15 → s·a1/(a1 + a2) = {published[-1, 0]:.2f}"


# -- the verdicts, claim by claim, at their tolerances -----------------------------------------------------------
PEAK_ROWS = [(1e-3, 7.2e-8, 7.3e-8), (0.45, 2.7, 2.8)]


def test_peak_verdict_accepts_every_claim_at_exactly_its_tolerance():
    """The tolerances are inclusive: t_peak at 1e-9, |b_peak| at 1e-12 and each published error at its bound
    times (1 + 1e-6) (the bound's round-off allowance) all pass."""
    rows = [(e, b * (1 + 1e-6), b) for e, _, b in PEAK_ROWS]
    assert dec._peak_verdict(1e-9, 1e-12, rows) is True


@pytest.mark.parametrize(
    ("worst_exact", "worst_b", "rows"),
    [
        (np.nextafter(1e-9, 1), 0.0, PEAK_ROWS),  # the exact t_peak one ulp over its tolerance, alone
        (0.0, np.nextafter(1e-12, 1), PEAK_ROWS),  # |b_peak| one ulp over, alone
        # the first ε's published error just past its allowance, the last ε well inside: every ε counts
        (0.0, 0.0, [(1e-3, np.nextafter(7.3e-8 * (1 + 1e-6), 1), 7.3e-8), (0.45, 2.7, 2.8)]),
        (0.0, 0.0, [(1e-3, 7.2e-8, 7.3e-8), (0.45, 1.5 * 2.8, 2.8)]),  # the last ε 1.5× its bound
    ],
)
def test_peak_verdict_fails_on_any_single_claim_past_its_tolerance(worst_exact, worst_b, rows):
    assert not dec._peak_verdict(worst_exact, worst_b, rows)


def test_regime_verdict_accepts_the_window_bound_with_equality_and_the_limit_within_1e_6():
    """(i) is inclusive at SIGMOID_WINDOW_COEFF = 0.5; (ii) accepts a grid max within 1e-6 of the limit either
    side (|o − 1| is a multiple of 2⁻⁵² near 1 and never equals the double 1e-6, so no input sits on (ii)'s edge)."""
    per_eps = [(np.array([0.2, 0.5]), np.array([1 - 9.99e-7, 1 + 9.99e-7])), (np.array([0.0]), np.array([1.0]))]
    assert dec._regime_verdict(per_eps) is True


@pytest.mark.parametrize(
    "per_eps",
    [
        # the first ε's window error one ulp over 0.5, the last ε fine: every ε counts
        [(np.array([0.1, np.nextafter(0.5, 1)]), np.array([1.0, 1.0])), (np.array([0.0]), np.array([1.0]))],
        # the first ε's all-t max 2e-6 off its limit, on one draw of two
        [(np.array([0.1, 0.1]), np.array([1.0, 1 + 2e-6])), (np.array([0.0]), np.array([1.0]))],
        [(np.array([0.1]), np.array([1.0])), (np.array([0.0]), np.array([1 - 2e-6]))],  # the last ε, below 1
    ],
)
def test_regime_verdict_fails_when_one_eps_breaks_one_claim(per_eps):
    assert not dec._regime_verdict(per_eps)
