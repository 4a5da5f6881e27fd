"""Pins on the equivalence engine's parts, each against a value derived by hand or by a second method.

verify/test_equivalence.py checks the verdicts on families of expressions; the tests here pin the pieces those
verdicts rest on, where a mutation run showed that nothing held them: the weighted affine fit (against numpy's least
squares), points undefined at one precision only, the imaginary-part tolerance, the precision escalation and its
depth, the minimum number of defined points and its message, the sampler's checks, the log-uniform draw, the
one-line summary of a `Verdict`, and the SymPy child's answer.
"""

import queue
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

import verify.equivalence as equivalence
from theory.parse import ExpressionSyntaxError
from verify.equivalence import LEVELS, Verdict, _affine_fit, _real, _sample, _simplify_zero, _suspect, equivalent

x, y = sp.symbols("x y")


def _columns(**columns):
    """A sampler that returns the same fixed columns at every draw (so the points of a verdict are known)."""

    def draw(rng, n):
        assert all(len(v) == n for v in columns.values()), "the fixed columns are built for n_points"
        return {name: np.asarray(v, dtype=float) for name, v in columns.items()}

    return draw


# -- the weighted affine fit -----------------------------------------------------------------------------------


def test_the_affine_fit_is_the_least_squares_line_weighted_by_the_local_scale():
    """k, c0 minimise Σ ((c_i − k·r_i − c0) / s_i)² with s_i = max(|c_i|, |r_i|, ν_i), and weight 1 where s_i = 0.

    The table mixes points where each of |c_i|, |r_i|, ν_i is the largest (alone or not, above and below 1), and one
    point where all three are 0, so that every part of the weight matters; numpy's least squares on the rows divided by s_i is the reference."""
    # the last three points: only c ≠ 0 (and below 1), only r ≠ 0, only ν ≠ 0
    r = [0.0, 1.0, 2.0, 3.0, 5.0, 0.25, -4.0, 0.0, 1.5, 0.0]
    c = [0.0, 2.5, 3.0, 7.5, 9.0, 0.4, -6.0, 0.7, 0.0, 0.0]
    nu = [0.0, 0.0, 1e-3, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.3]
    s = np.array([max(abs(a), abs(b), n) for a, b, n in zip(c, r, nu, strict=True)])
    s[s == 0] = 1.0  # the documented weight 1 where the values and their round-off are all 0
    design = np.column_stack([r, np.ones(len(r))]) / s[:, None]
    (k_ref, c0_ref), *_ = np.linalg.lstsq(design, np.array(c) / s, rcond=None)
    with mpmath.workdps(60):
        k, c0, residual = _affine_fit(
            [mpmath.mpf(v) for v in c], [mpmath.mpf(v) for v in r], [mpmath.mpf(v) for v in nu], 30, 1e-15
        )
        # the residual is the largest misfit relative to max(|c_i|, |k·r_i + c0|, guard_i), the guard being the
        # round-off ν_i·max(1, |k|) + 10⁻³⁰·(|k·r_i| + |c0|) (docstring of _affine_fit)
        fitted = [k * b + c0 for b in r]
        expected = max(
            abs(a - f) / max(abs(a), abs(f), n * max(1, abs(k)) + mpmath.mpf(10) ** -30 * (abs(k * b) + abs(c0)))
            for a, b, n, f in zip(c, r, nu, fitted, strict=True)
        )
    assert float(k) == pytest.approx(k_ref, rel=1e-12)
    assert float(c0) == pytest.approx(c0_ref, rel=1e-12)
    assert float(residual) == pytest.approx(float(expected), rel=1e-12)
    assert float(residual) > 0.05  # the table is not on a line: the fit is a compromise the weights decide


def test_the_held_out_r2_is_one_minus_the_residual_over_the_total_sum_of_squares():
    """R² = 1 − Σ(c − r)² / Σ(r − mean r)² on the held-out points (here the sampler gives the same points again),
    computed with numpy; for a constant reference it is 1 when the candidate equals it and −inf otherwise."""
    xs = np.linspace(0.0, 1.0, N)
    verdict = equivalent(x + x**3 / 10, x, domain=_columns(x=xs), simplify_timeout=0)
    c_values, r_values = xs + xs**3 / 10, xs
    expected = 1 - np.sum((c_values - r_values) ** 2) / np.sum((r_values - r_values.mean()) ** 2)
    assert verdict.r2 == pytest.approx(expected, rel=1e-12) and 0.9 < verdict.r2 < 0.999
    assert verdict.level == "none"  # not affine (x³), R² under 0.999
    constant = _columns(x=xs)
    assert equivalent(sp.Integer(3), sp.Integer(3) + 0 * x, domain=constant, simplify_timeout=0).r2 == 1.0
    assert equivalent(sp.Integer(4), sp.Integer(3) + 0 * x, domain=constant, simplify_timeout=0).r2 == float("-inf")


def test_a_candidate_undefined_at_some_points_gets_no_affine_fit():
    """Where the candidate is undefined (and the reference is not) there is no line to fit: scale and offset are
    reported as 0 and the residual as infinite, so the verdict cannot read as "= 1·reference + 0"."""
    candidate = sp.sqrt(x)  # undefined for x < 0, where the reference x is defined
    verdict = equivalent(candidate, x, domain={"x": (-1.0, 1.0)}, simplify_timeout=0)
    assert verdict.level == "none"
    assert verdict.residual == float("inf") and verdict.max_error == float("inf")
    assert verdict.scale == 0.0 and verdict.offset == 0.0


def test_an_offset_of_exactly_one_is_up_to_constants_not_exact():
    """(x + 1) − x is exactly 1 at every point: the pointwise error is 1/(x + 1), not 0."""
    verdict = equivalent(x + 1, x, domain={"x": (1.0, 3.0)}, simplify_timeout=0)
    assert verdict.level == "up_to_constants"
    assert verdict.scale == pytest.approx(1.0, rel=1e-14) and verdict.offset == pytest.approx(1.0, rel=1e-14)
    # 1/(x + 1) on (1, 3) is at most 1/2 (at x = 1) and the 256 uniform draws come within a few % of x = 1
    assert 0.45 < verdict.max_error <= 0.5


def test_a_verdict_without_a_seed_is_the_verdict_of_seed_zero():
    """Reproducible by default: the same call gives the same numbers, those of seed=0 (and another seed's differ,
    the points being drawn afresh: the largest 1/(x + 1) depends on the smallest x drawn)."""
    box = {"x": (1.0, 3.0)}
    default = equivalent(x + 1, x, domain=box, simplify_timeout=0)
    assert default == equivalent(x + 1, x, domain=box, simplify_timeout=0, seed=0)
    assert default.max_error != equivalent(x + 1, x, domain=box, simplify_timeout=0, seed=1).max_error


# -- points undefined at one precision only, and the imaginary-part tolerance ------------------------------------
# A value is real when its imaginary part is at most 10^(5 − dps)·max(1, |real part|): 1e-55 at the 60 digits of
# the comparison, 1e-25 at the 30 digits of the round-off estimate and of the held-out draw. An imaginary part of
# 1e-40 is therefore round-off at 30 digits but not at 60.

N = 256
EVERY_FIFTH = np.arange(N) % 5 == 0  # 52 of the 256 points
X_SMALL = np.linspace(0.1, 0.3, N)  # |value| < 1: the tolerance is 10^(5 − dps) itself


def test_points_where_the_reference_is_undefined_at_one_precision_are_dropped():
    draw = _columns(x=X_SMALL, y=np.where(EVERY_FIFTH, 1e-40, 0.0))
    verdict = equivalent(x + 0 * y, x + sp.I * y, domain=draw, simplify_timeout=0)
    assert verdict.level == "exact"
    assert verdict.n_points == N - EVERY_FIFTH.sum() == 204


def test_a_candidate_undefined_at_one_precision_is_not_equivalent():
    draw = _columns(x=X_SMALL, y=np.where(EVERY_FIFTH, 1e-40, 0.0))
    verdict = equivalent(x + sp.I * y, x + 0 * y, domain=draw, simplify_timeout=0)
    assert verdict.max_error == float("inf") and not verdict.equivalent
    assert verdict.n_points == N  # the reference is defined everywhere: no point is dropped
    assert verdict.level == "numeric"  # the held-out draw is at 30 digits, where i·1e-40 is round-off


@pytest.mark.parametrize(
    ("x_values", "imaginary", "is_real"),
    [
        (X_SMALL, 0.5e-55, True),  # below 1e-55: round-off at 60 digits
        (X_SMALL, 1.5e-55, False),  # above it: not real at 60 digits
        (X_SMALL * 1e11, 1e-50, True),  # |value| ≈ 1e10 raises the tolerance to 1e-45
        (X_SMALL * 1e11, 1e-44, False),  # and not beyond
    ],
)
def test_an_imaginary_part_is_round_off_up_to_ten_to_the_five_minus_dps_of_the_value(x_values, imaginary, is_real):
    draw = _columns(x=x_values, y=np.full(N, imaginary))
    verdict = equivalent(x + sp.I * y, x + 0 * y, domain=draw, simplify_timeout=0)
    if is_real:
        assert verdict.level == "exact" and verdict.max_error < 1e-50, verdict
    else:
        assert verdict.max_error == float("inf") and verdict.level == "numeric", verdict


def test_a_real_value_reached_through_complex_intermediates_is_real():
    """log(−x) − iπ = log x for x > 0: mpmath computes a complex value whose imaginary part cancels to 0."""
    verdict = equivalent(sp.log(-x) - sp.I * sp.pi, sp.log(x), domain={"x": (0.5, 2.0)}, simplify_timeout=0)
    assert verdict.level == "exact" and verdict.max_error < 1e-50, verdict


# -- precision escalation ---------------------------------------------------------------------------------------
# ((1 + x)² − 1)/2 = x + x²/2. For x < 1e-60 the candidate rounds to exactly 0 at both 30 and 60 digits; it is
# resolved at 120 digits (first escalation) for x > 1e-110 and at 240 digits (second) for x > 1e-230.

CANCELLING = ((1 + x) ** 2 - 1) / 2
ITS_VALUE = x + x**2 / 2


def test_a_candidate_that_rounds_to_zero_is_measured_again_at_higher_precision(monkeypatch):
    verdict = equivalent(CANCELLING, ITS_VALUE, domain={"x": (1e-90, 1e-65)}, simplify_timeout=0)
    assert verdict.level == "exact" and verdict.max_error < 1e-20, verdict
    # a relative difference of δ = 1e-6 survives the escalation: (1 + δ)·x against x is δ/(1 + δ) apart
    near = equivalent(CANCELLING * (1 + sp.Rational(1, 10**6)), ITS_VALUE, domain={"x": (1e-90, 1e-65)})
    assert near.max_error == pytest.approx(1e-6 / (1 + 1e-6), rel=1e-9) and near.level == "up_to_constants"
    # without the escalation the same identity is not recognised (the escalation is what accepts it)
    monkeypatch.setattr(equivalence, "ESCALATIONS", 0)
    assert equivalent(CANCELLING, ITS_VALUE, domain={"x": (1e-90, 1e-65)}, simplify_timeout=0).level != "exact"


def test_a_candidate_that_loses_all_its_digits_without_reaching_zero_is_measured_again(monkeypatch):
    """(1 + x)² − 1 − 2x = x²: at x ≈ 1e-47 its 30-digit value is −2x (not 0) and its 60-digit value is round-off,
    so only the size of ν (more than half the digits lost) can tell that the disagreement is round-off."""
    candidate, reference = (1 + x) ** 2 - 1 - 2 * x, x**2
    verdict = equivalent(candidate, reference, domain={"x": (1e-50, 1e-45)}, simplify_timeout=0)
    assert verdict.level == "exact" and verdict.max_error < 1e-20, verdict
    monkeypatch.setattr(equivalence, "ESCALATIONS", 0)
    assert equivalent(candidate, reference, domain={"x": (1e-50, 1e-45)}, simplify_timeout=0).level != "exact"


def test_a_point_that_agrees_is_not_measured_again():
    """At x ≈ 1e-20 the candidate loses 20 digits to cancellation (more than half of 30), but at 60 digits it still
    agrees with the reference to ≈ 10^(20 − 60): only a disagreement triggers the escalation, so the error reported
    is that 60-digit round-off, not the ≈ 1e-100 that a 120-digit re-measurement would give."""
    verdict = equivalent(CANCELLING, ITS_VALUE, domain={"x": (1e-22, 1e-18)}, simplify_timeout=0)
    assert verdict.level == "exact"
    assert 1e-45 < verdict.max_error < 1e-35, verdict


def test_the_escalation_doubles_the_precision_escalations_times_and_no_more(monkeypatch):
    """At x ≈ 1e-250 the candidate is still exactly 0 at 240 digits (30 doubled twice): with ESCALATIONS = 2 the
    identity stays unresolved (not exact), one more doubling (480 digits) resolves it."""
    box = {"x": (1e-260, 1e-250)}
    assert equivalent(CANCELLING, ITS_VALUE, domain=box, simplify_timeout=0).level != "exact"
    monkeypatch.setattr(equivalence, "ESCALATIONS", 3)
    assert equivalent(CANCELLING, ITS_VALUE, domain=box, simplify_timeout=0).level == "exact"


def test_a_point_undefined_at_the_higher_precision_keeps_its_first_measurement():
    """i·1e-100 is round-off at 30 and 60 digits but not at 120: the escalated evaluation of that point is
    undefined, so the point keeps its 60-digit comparison (0 against x: a difference) and the verdict is given."""
    draw = _columns(x=np.geomspace(1e-90, 1e-65, N), y=np.full(N, 1e-100))
    verdict = equivalent(CANCELLING + sp.I * y, ITS_VALUE + 0 * y, domain=draw, simplify_timeout=0)
    assert verdict.level != "exact" and verdict.max_error == pytest.approx(1.0), verdict


def test_at_an_exact_zero_the_error_is_the_value_relative_to_its_round_off():
    """At x = 1, sin(πx) is sin of a rounded π: about 1e-60 at 60 digits and 1e-30 at 30. Its rewrite
    −sin(π(x − 1)) is exactly 0 there, so e = |r|/max(|r|, ν) with ν = |r − r'|, computed here with mpmath."""
    with mpmath.workdps(60):
        r = mpmath.sin(mpmath.pi)
    with mpmath.workdps(30):
        r_lo = mpmath.sin(mpmath.pi)
    with mpmath.workdps(60):
        expected = abs(r) / max(abs(r), abs(r - r_lo))
    draw = _columns(x=np.where(np.arange(N) % 2 == 0, 1.0, np.linspace(0.1, 0.9, N)))
    verdict = equivalent(-sp.sin(sp.pi * (x - 1)), sp.sin(sp.pi * x), domain=draw, simplify_timeout=0)
    assert verdict.level == "exact"
    # every other point is a well-conditioned rewrite (e ≈ 1e-59); the zero gives the largest error, ≈ 1e-30
    assert verdict.max_error == pytest.approx(float(expected), rel=1e-9)
    assert 1e-32 < verdict.max_error < 1e-28


# -- how many defined points a verdict needs --------------------------------------------------------------------

ROOT_OF_X = sp.sqrt(x)  # undefined (not real) for x < 0


def _fixed(values):
    return _columns(x=values)


def test_a_hundred_defined_points_give_a_verdict_and_ninety_nine_do_not():
    keep = np.arange(1, N, 2)[:100]  # every other point from the second on, so the first point is undefined
    values = np.full(N, -0.5)
    values[keep] = np.linspace(0.2, 2.0, 100)
    verdict = equivalent(ROOT_OF_X, ROOT_OF_X, domain=_fixed(values), simplify_timeout=0)
    assert verdict.n_points == 100 and verdict.level == "exact"
    values[keep[-1]] = -0.5  # 99 defined points
    message = (
        r"the reference is undefined \(not finite or not real\) at 157 of 256 points of the domain; "
        r"restrict the domain to where the law holds"
    )
    with pytest.raises(ValueError, match=message):
        equivalent(ROOT_OF_X, ROOT_OF_X, domain=_fixed(values), simplify_timeout=0)


def test_the_held_out_draw_also_needs_a_hundred_defined_points():
    """The first draw is fine; the held-out draw (the second call of the sampler) has 99 defined points."""
    good = np.linspace(0.1, 2.0, N)
    bad = np.full(N, -0.5)
    bad[1::2][:99] = np.linspace(0.1, 2.0, 99)
    draws = iter([good, bad])

    def sampler(rng, n):
        return {"x": next(draws)}

    message = r"undefined \(not finite or not real\) at 157 of 256 points of the domain; restrict the domain"
    with pytest.raises(ValueError, match=message):
        equivalent(ROOT_OF_X, ROOT_OF_X, domain=sampler, simplify_timeout=0)
    # with exactly 100 defined held-out points the verdict is given, and its R² comes from them
    bad[1::2][99] = 1.0
    draws = iter([good, bad])
    assert equivalent(ROOT_OF_X, ROOT_OF_X, domain=sampler, simplify_timeout=0).level == "exact"


# -- the sampler and the box draw -------------------------------------------------------------------------------


def test_a_sampler_must_give_n_finite_values_per_symbol():
    a = sp.Symbol("a")
    with pytest.raises(ValueError, match=r"the domain sampler must give 256 finite values for 'a', got \(255,\)"):
        equivalent(a, a, domain=lambda rng, n: {"a": rng.uniform(1, 2, n - 1)}, simplify_timeout=0)

    def with_a_nan(rng, n):
        values = rng.uniform(1, 2, n)
        values[7] = np.nan
        return {"a": values}

    with pytest.raises(ValueError, match=r"the domain sampler must give 256 finite values for 'a', got \(256,\)"):
        equivalent(a, a, domain=with_a_nan, simplify_timeout=0)


def test_a_sampler_may_give_exact_fractions():
    """Values are read as float64 numbers whatever their Python type (here fractions.Fraction)."""
    a = sp.Symbol("a")
    verdict = equivalent(
        2 * a - a, a, domain=lambda rng, n: {"a": [Fraction(k + 1, 7) for k in range(n)]}, simplify_timeout=0
    )
    assert verdict.level == "exact" and verdict.reference_scale == pytest.approx(256 / 7)


def test_constant_expressions_with_a_sampler_domain_are_compared():
    """No symbol: the sampler has nothing to draw, and the two constants are still compared at every point."""
    assert equivalent(sp.Integer(3), sp.Integer(3), domain=lambda rng, n: {}, simplify_timeout=0).level == "exact"
    verdict = equivalent(sp.Integer(3), sp.Integer(1), domain=lambda rng, n: {}, simplify_timeout=0)
    assert verdict.level == "up_to_constants" and verdict.offset == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("lo", "hi", "below", "share"),
    [
        (1e-6, 1.0, 1e-3, 0.5),  # six decades, log-uniform: half the draws below the geometric middle
        (1e-3, 10.0, 1e-1, 0.5),  # four decades (lo < 1): log-uniform as well
        (1.0, 100.0, 10.0, 9 / 99),  # exactly two decades: uniform, 9/99 of the draws below 10
        (1.0, 100.5, 10.0, 0.4989),  # just over two decades: log-uniform, log(10)/log(100.5) below 10
    ],
)
def test_an_interval_over_two_decades_is_sampled_log_uniformly(lo, hi, below, share):
    draws = _sample({"t": (lo, hi)}, ["t"], 20_000, np.random.default_rng(0))[:, 0]
    assert draws.min() >= lo and draws.max() <= hi
    # binomial standard deviation of the share: ≤ 0.5/√20000 ≈ 0.0035; 0.02 is more than five of them
    assert np.mean(draws < below) == pytest.approx(share, abs=0.02)


# -- the verdict's summary and order ----------------------------------------------------------------------------


def _verdict(level):
    return Verdict(
        level=level,
        max_error=1.5e-3,
        residual=2.5e-20,
        scale=2.0,
        offset=-0.5,
        r2=0.9995,
        threshold=1e-15,
        n_points=256,
        digits=30,
        simplify="nonzero",
        reference_scale=3.0,
    )


def test_the_verdict_summary_shows_the_numbers_behind_each_level():
    settings = "256 points at 30 digits; simplify: nonzero"
    assert str(_verdict("exact")) == f"exact (max rel. error 1.50e-03; {settings})"
    assert str(_verdict("up_to_constants")) == (
        f"up_to_constants (= 2·reference + -0.5, residual 2.50e-20; {settings})"
    )
    assert str(_verdict("numeric")) == f"numeric (max rel. error 1.50e-03, held-out R² 0.999500; {settings})"
    assert str(_verdict("none")) == f"none (max rel. error 1.50e-03, held-out R² 0.999500; {settings})"


def test_at_least_orders_the_levels_and_refuses_an_unknown_one():
    at_least = {
        "exact": {"exact", "up_to_constants", "numeric", "none"},
        "up_to_constants": {"up_to_constants", "numeric", "none"},
        "numeric": {"numeric", "none"},
        "none": {"none"},
    }
    for level, weaker in at_least.items():
        assert {other for other in LEVELS if _verdict(level).at_least(other)} == weaker, level
        assert _verdict(level).equivalent == (level in ("exact", "up_to_constants"))
    with pytest.raises(ValueError, match=r"unknown level 'close'; levels are \('exact', 'up_to_constants', "):
        _verdict("exact").at_least("close")


# -- the SymPy second opinion -----------------------------------------------------------------------------------


def test_the_simplify_child_answers_whether_the_difference_simplifies_to_zero():
    """The child's work, run in this process: True for sin² + cos² − 1, False for x − 1."""
    answers = queue.Queue()
    _simplify_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, answers)
    _simplify_zero(x - 1, answers)
    assert answers.get_nowait() is True and answers.get_nowait() is False


class _Unsimplifiable(sp.Function):
    """A function whose simplification raises, as a SymPy bug would."""

    def _eval_simplify(self, **kwargs):
        raise RuntimeError("simplify failed")


def test_a_simplify_that_raises_is_reported_as_error():
    assert equivalence.simplify_opinion(_Unsimplifiable(x), sp.Integer(0), timeout=60) == "error"


# -- input errors ---------------------------------------------------------------------------------------------


def test_a_domain_that_is_neither_a_box_nor_a_sampler_is_refused_by_type():
    with pytest.raises(TypeError, match=r"domain must map symbol names to \(lo, hi\), got list"):
        equivalent(x, x, domain=[(0.0, 1.0)], simplify_timeout=0)


def test_a_refused_string_keeps_its_text_and_offending_fragment():
    """The error names which argument was refused and keeps parse_expression's text and fragment, so a caller can
    point at the offending part."""
    with pytest.raises(ExpressionSyntaxError, match=r'^reference: unknown name "y"') as refused:
        equivalent("x", "y + 1", domain={"x": (0.0, 1.0)}, simplify_timeout=0)
    assert refused.value.text == "y + 1" and refused.value.fragment == "y"


def test_a_box_key_that_text_cannot_name_does_not_stop_a_string_from_being_read():
    """parse_expression refuses a symbol name starting with "__"; such a box key is left out of the names a string
    may use instead of making every string unreadable."""
    a, hidden = sp.Symbol("a"), sp.Symbol("__h")
    box = {"a": (1.0, 2.0), "__h": (1.0, 2.0)}
    assert equivalent("a + 1", a + 1 + hidden - hidden, domain=box, simplify_timeout=0).level == "exact"


def test_the_smallest_allowed_settings_give_a_verdict_with_threshold_ten_to_minus_half_the_digits():
    """MIN_POINTS = 200 points and 20 digits are allowed (one less is refused, naming the setting); the threshold is
    10^(−digits/2): 1e-10 at 20 digits, 1e-15 at the default 30, 1e-20 at 40."""
    box = {"x": (1.0, 2.0)}
    smallest = equivalent(sp.exp(x), sp.exp(x), domain=box, n_points=200, digits=20, simplify_timeout=0)
    assert smallest.level == "exact" and smallest.n_points == 200 and smallest.digits == 20
    assert smallest.threshold == pytest.approx(1e-10, rel=1e-12)
    assert equivalent(x, x, domain=box, simplify_timeout=0).threshold == pytest.approx(1e-15, rel=1e-12)
    assert equivalent(x, x, domain=box, digits=40, simplify_timeout=0).threshold == pytest.approx(1e-20, rel=1e-12)
    with pytest.raises(ValueError, match=r"n_points must be ≥ 200 for a verdict, got 199"):
        equivalent(x, x, domain=box, n_points=199, simplify_timeout=0)
    with pytest.raises(
        ValueError, match=r"digits must be ≥ 20 so that round-off stays far below the threshold, got 19"
    ):
        equivalent(x, x, domain=box, digits=19, simplify_timeout=0)


def test_a_difference_hidden_in_the_round_off_at_a_zero_is_measured_again_and_seen_in_full(monkeypatch):
    """At x = 1 the reference sin(πx) is round-off (≈ 1e-61 at 60 digits, ν ≈ 1e-31 from its 30-digit value). A
    candidate 1e-40 there differs by ≈ 1e-40/ν ≈ 1e-9 of that round-off: above the threshold, so the point is
    measured again at 120/60 digits, where ν ≈ 1e-61 and the difference is the whole value (error ≈ 1)."""
    spike = -sp.sin(sp.pi * (x - 1)) + sp.Float("1e-40") * sp.exp(-(10**6) * (x - 1) ** 2)
    draw = _columns(x=np.where(np.arange(N) % 2 == 0, 1.0, np.linspace(0.1, 0.9, N)))
    verdict = equivalent(spike, sp.sin(sp.pi * x), domain=draw, simplify_timeout=0)
    assert verdict.level != "exact" and verdict.max_error == pytest.approx(1.0), verdict
    # without escalation the same point is judged against the 30-digit round-off only
    monkeypatch.setattr(equivalence, "ESCALATIONS", 0)
    unescalated = equivalent(spike, sp.sin(sp.pi * x), domain=draw, simplify_timeout=0)
    assert 1e-11 < unescalated.max_error < 1e-7, unescalated


def test_an_affine_image_that_crosses_zero_at_a_sample_point_is_up_to_constants():
    """2x − 3 against x, with x = 1.5 (where 2x − 3 = 0) among the points: there the fitted value k·1.5 + c0 is
    round-off of terms of size 3, and the residual is judged against that round-off (10⁻³⁰·(|k·r| + |c0|)), not
    against the value 0 — else an exact affine image would be refused wherever it crosses zero."""
    xs = np.linspace(0.5, 2.5, N)
    xs[::8] = 1.5
    verdict = equivalent(2 * x - 3, x, domain=_columns(x=xs), simplify_timeout=0)
    assert verdict.level == "up_to_constants" and verdict.residual < 1e-28, verdict
    assert verdict.scale == pytest.approx(2.0, rel=1e-14) and verdict.offset == pytest.approx(-3.0, rel=1e-14)


def test_a_constant_candidate_has_scale_zero_and_its_value_as_offset():
    """A constant is no scaled image of a varying reference: k is set to 0 (c0 is then the constant itself), and
    the level cannot be up_to_constants."""
    verdict = equivalent(sp.Integer(5) + 0 * x, x, domain={"x": (0.5, 2.5)}, simplify_timeout=0)
    assert verdict.scale == 0.0 and verdict.offset == pytest.approx(5.0, rel=1e-14)
    assert verdict.level == "none"


def test_a_difference_below_the_threshold_is_exact_and_reported():
    """x·(1 + 10⁻¹⁶) against x: a relative difference below the 1e-15 threshold is not resolved (exact), and the
    verdict reports it: δ/(1 + δ) at every point."""
    verdict = equivalent(x * (1 + sp.Rational(1, 10**16)), x, domain={"x": (1.0, 2.0)}, simplify_timeout=0)
    assert verdict.level == "exact"
    assert verdict.max_error == pytest.approx(1e-16 / (1 + 1e-16), rel=1e-9)


def test_too_few_defined_points_in_the_first_draw_is_refused_even_if_the_held_out_draw_is_fine():
    bad = np.full(N, -0.5)
    bad[1::2][:99] = np.linspace(0.1, 2.0, 99)
    draws = iter([bad, np.linspace(0.1, 2.0, N)])
    with pytest.raises(ValueError, match=r"undefined \(not finite or not real\) at 157 of 256 points of the domain"):
        equivalent(ROOT_OF_X, ROOT_OF_X, domain=lambda rng, n: {"x": next(draws)}, simplify_timeout=0)


@pytest.mark.parametrize("bad", [sp.nan, x + sp.zoo, -sp.oo, x - sp.oo], ids=["nan", "zoo", "-oo", "x-oo"])
def test_nan_and_every_infinity_are_refused(bad):
    with pytest.raises(ValueError, match="contains nan or an infinity"):
        equivalent(bad, x, domain={"x": (0.0, 1.0)}, simplify_timeout=0)


def test_errors_name_the_wrong_type_and_the_way_out():
    with pytest.raises(TypeError, match=r"candidate must be a SymPy expression, an Eq or a string, got list"):
        equivalent([1, 2], x, domain={"x": (0.0, 1.0)}, simplify_timeout=0)
    message = (
        r"with a sampler domain, candidate and reference cannot both be strings: the symbols they may use are "
        r"unknown; pass one of them as a SymPy expression, or give a box domain \{name: \(lo, hi\)\}"
    )
    with pytest.raises(ValueError, match=message):
        equivalent("a", "a", domain=lambda rng, n: {"a": rng.uniform(1, 2, n)}, simplify_timeout=0)


# -- the boundaries of the verdict's comparisons (each threshold is inclusive, as documented) -----------------------
def test_a_relative_difference_of_exactly_the_threshold_is_still_exact():
    """The level "exact" means a max relative difference ≤ 10^(−digits/2): x·(1 − t) against x, with t = float(1e-15)
    an exact binary fraction (every product and quotient below is exact at 60 digits), differs by exactly t."""
    t = 10.0 ** (-30 / 2)
    verdict = equivalent(x * (1 - sp.Rational(t)), x, domain={"x": (1.0, 2.0)}, simplify_timeout=0)
    assert verdict.threshold == t and verdict.max_error == t
    assert verdict.level == "exact", verdict
    above = equivalent(x * (1 - sp.Rational(2 * t)), x, domain={"x": (1.0, 2.0)}, simplify_timeout=0)
    assert above.level == "up_to_constants" and above.scale == pytest.approx(1 - 2 * t, rel=0, abs=1e-17)


def test_a_slope_resolved_at_exactly_the_threshold_is_no_slope():
    """k is kept only if the part k·(r − mean r) it explains exceeds threshold·max|c|: for c = (0, ½), r = (0, 1) the
    weighted fit gives k = ½ and |k|·spread(r) = ¼ = threshold·max|c| at threshold ½, so the candidate is a constant
    (k = 0, c0 = mean c = ¼); just below that threshold the slope ½ stands."""
    c, r, nu = [mpmath.mpf(0), mpmath.mpf(0.5)], [mpmath.mpf(0), mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(0)]
    with mpmath.workdps(60):
        k, c0, _ = _affine_fit(c, r, nu, 30, 0.5)
        assert k == 0 and c0 == mpmath.mpf(0.25)
        k, c0, residual = _affine_fit(c, r, nu, 30, 0.499)
        assert k == mpmath.mpf(0.5) and c0 == 0 and residual == 0


@pytest.mark.parametrize("k", [1, 3])
def test_a_point_that_cancels_below_its_round_off_is_judged_against_nu_times_max_1_k(k):
    """c = (−2k, δ, 2k) against r = (−2, 0, 2) with round-off ν = 1.5 at the middle point only. By hand: the
    weights are 1/(2k)², 1/ν², 1/(2k)², so the fit has slope k and offset c0 = δ·w/(2/(2k)² + w), w = 1/ν². The
    middle point (values δ, c0 far below ν) is judged against its guard ν·max(1, |k|) + 10⁻³⁰·|c0|, the ends against
    2k: for k = 1 the middle decides, for k = 3 an end does (a guard ν/|k| would make the middle decide)."""
    delta, noise = mpmath.mpf(1e-6), mpmath.mpf(1.5)
    with mpmath.workdps(60):
        c = [mpmath.mpf(-2 * k), delta, mpmath.mpf(2 * k)]
        r = [mpmath.mpf(-2), mpmath.mpf(0), mpmath.mpf(2)]
        fit_k, c0, residual = _affine_fit(c, r, [mpmath.mpf(0), noise, mpmath.mpf(0)], 30, 1e-15)
        w = 1 / noise**2
        hand_c0 = delta * w / (2 / mpmath.mpf(2 * k) ** 2 + w)
        middle = (delta - hand_c0) / (noise * max(1, k) + mpmath.mpf(10) ** -30 * hand_c0)
        ends = hand_c0 / (2 * k)
        assert fit_k == pytest.approx(k, rel=1e-40)
        assert c0 == pytest.approx(hand_c0, rel=1e-40)
        assert residual == pytest.approx(max(middle, ends), rel=1e-30)
        assert (middle > ends) == (k == 1)


def test_a_difference_of_exactly_the_threshold_is_not_re_measured():
    """`_suspect`: a point is re-measured only if its values differ by *more* than the threshold (then it must also
    have lost half its digits). c = ¾, r = 1 differ by exactly ¼: not suspect at threshold ¼, suspect just below."""
    c, r, nu = mpmath.mpf(0.75), mpmath.mpf(1), mpmath.mpf(0.5)
    assert not _suspect(c, r, c, r, nu, 0.25)
    assert _suspect(c, r, c, r, nu, 0.2499)


def test_a_point_that_lost_exactly_threshold_of_its_size_is_re_measured():
    """`_suspect`: among differing points, one whose round-off ν reaches threshold·max(|c|, |r|) is re-measured
    (≥), one just under it (with no value rounded to 0) is a real difference: c = ½, r = 1, threshold ¼."""
    c, r = mpmath.mpf(0.5), mpmath.mpf(1)
    assert _suspect(c, r, c, r, mpmath.mpf(0.25), 0.25)
    assert not _suspect(c, r, c, r, mpmath.mpf(0.2499), 0.25)


def test_an_imaginary_part_of_exactly_the_tolerance_is_round_off():
    """`_real` keeps a complex value as real while |Im| ≤ 10^(−dps+5)·max(1, |Re|): at exactly that bound too."""
    with mpmath.workdps(30):
        bound = mpmath.mpf(10) ** (-mpmath.mp.dps + 5)
        assert _real(lambda: mpmath.mpc(1, bound), []) == 1
        assert _real(lambda: mpmath.mpc(1, 2 * bound), []) is None


def test_a_fitted_value_that_cancels_is_judged_against_ten_to_the_minus_digits_of_its_terms():
    """Where k·r_i + c0 cancels (k·r_i ≈ −c0, both large) the misfit is judged against 10^(−digits)·(|k·r_i| + |c0|),
    the round-off of forming it at ``digits`` digits. c = (−2, δ, 2) against r = (8, 10, 12) at digits = 2: the fit
    (numpy's weighted least squares as reference) is close to c = r − 10, the middle point's values δ and k·10 + c0
    are far below 10⁻²·(|k·10| + |c0|) ≈ 0.2, and that guard decides the residual."""
    c, r = [-2.0, 1e-3, 2.0], [8.0, 10.0, 12.0]
    s = np.array([max(abs(a), abs(b)) for a, b in zip(c, r, strict=True)])
    design = np.column_stack([r, np.ones(3)]) / s[:, None]
    (k_ref, c0_ref), *_ = np.linalg.lstsq(design, np.array(c) / s, rcond=None)
    with mpmath.workdps(60):
        k, c0, residual = _affine_fit(
            [mpmath.mpf(v) for v in c], [mpmath.mpf(v) for v in r], [mpmath.mpf(0)] * 3, 2, 1e-15
        )
        fitted = [k * b + c0 for b in r]
        guard = mpmath.mpf(10) ** -2 * (abs(k * r[1]) + abs(c0))
        middle = abs(c[1] - fitted[1]) / guard
        ends = max(abs(c[i] - fitted[i]) / max(abs(c[i]), abs(fitted[i])) for i in (0, 2))
    assert float(k) == pytest.approx(k_ref, rel=1e-12) and float(c0) == pytest.approx(c0_ref, rel=1e-12)
    assert 0.15 < guard < 0.25 and abs(fitted[1]) < guard and middle > ends
    assert residual == pytest.approx(middle, rel=1e-30)
