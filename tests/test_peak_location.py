"""`theory.decoupling.located_peak_time` finds the peak of |b(t)| to round-off, wherever the law's domain puts it.

It is the numerical reference that the closed form `coupling_peak_time` is checked against (verify/suite/
decoupling.py), so its own accuracy is pinned here against an independent reference: the closed form evaluated at 50
digits (mpmath) from the same float inputs, t* = τ/(4s)·ln(1 + s(s − a1 − a2)/Δ0), Δ0 = a1a2 − b0².
"""

import mpmath as mp
import numpy as np
import pytest

from theory import AssumptionError
from theory.decoupling import coupling_peak_time, located_peak_time

EPS = np.finfo(float).eps


def _closed_form_50_digits(s: float, a1: float, a2: float, b0: float, tau: float) -> float:
    with mp.workdps(50):
        s_, a1_, a2_, b0_, tau_ = (mp.mpf(x) for x in (s, a1, a2, b0, tau))
        d0 = a1_ * a2_ - b0_**2
        return float(tau_ / (4 * s_) * mp.log(1 + s_ * (s_ - a1_ - a2_) / d0))


def test_located_peak_is_at_round_off_over_the_laws_domain():
    # 60 draws from coupling_peak_time's sampling domain (s up to 4, τ from 0.5 to 2, so peaks from ~0.1 to ~10).
    # Brent's root of db/dt is asked for xtol = rtol = 1e-15; measured worst relative error 8.6e-16 over 200 draws.
    # 1e-13 leaves 100x for other platforms' libm and is 20x below what scipy's default tolerances (xtol 2e-12)
    # would allow at these times.
    rng = np.random.default_rng(0)
    box = coupling_peak_time.domain
    checked = 0
    while checked < 60:
        s, a1, a2, b0, tau = (rng.uniform(*box[k]) for k in ("s", "a1", "a2", "b0", "tau"))
        if a1 + a2 >= s:
            continue
        want = _closed_form_50_digits(s, a1, a2, b0, tau)
        assert located_peak_time(s, a1, a2, b0, tau) == pytest.approx(want, rel=1e-13, abs=0)
        checked += 1


@pytest.mark.parametrize("s", [0.5, 4.0])
@pytest.mark.parametrize("tau", [0.5, 2.0])
@pytest.mark.parametrize("gap", [1e-2, 1e-5, 1e-8])
def test_located_peak_of_a_nearly_rank_one_init(s, tau, gap):
    # a1 = a2 = a and b0 = a(1 − gap): λ_min(M0) = a·gap, condition number κ ≈ 2/gap. The peak then comes late,
    # (τ/4s)(ln(s/λ1) + ln(s/λ2)), only (τ/4s)·ln κ before the search horizon (τ/2s)·ln(s/λ_min) + 3τ/s: a search
    # that stops at the stronger eigenmode's learning time, or too soon for s < 1, misses it. Evaluating b(t) in
    # float64 loses about ε·κ relatively (Δ0 = λ1λ2 comes from a cancellation); measured 4e-10 at κ = 2e8, 2.3e-14
    # at 2e5. The tolerance is ε·κ.
    a = 0.01
    b0 = a * (1 - gap)
    kappa = 2 / gap
    want = _closed_form_50_digits(s, a, a, b0, tau)
    assert located_peak_time(s, a, a, b0, tau) == pytest.approx(want, rel=max(EPS * kappa, 1e-13), abs=0)


@pytest.mark.parametrize("s", [0.25, 1.0, 4.0])
def test_located_peak_of_a_tiny_init(s):
    # a1 = a2 = 1e-9, b0 = 2e-10 (λ = 0.8e-9, 1.2e-9): the small-initialisation regime at its extreme. The peak is
    # then at (τ/4s)·ln((s/λ1 − 1)(s/λ2 − 1)) ≈ (τ/2s)·ln(s/λ) ≈ 20τ/(2s), within (τ/2s)·λ/s of the bound
    # (τ/2s)·ln(s/λ_min) that the search must reach; a horizon short by a constant factor of the logarithm misses it.
    # κ(M0) = 1.5, so the tolerance is the 1e-13 of the domain test.
    want = _closed_form_50_digits(s, 1e-9, 1e-9, 2e-10, 1.0)
    assert located_peak_time(s, 1e-9, 1e-9, 2e-10) == pytest.approx(want, rel=1e-13, abs=0)


@pytest.mark.parametrize("s", [0.5, 1.0, 4.0])
def test_located_peak_just_after_the_start(s):
    # a1 + a2 = 0.9999·s, just inside the law's a1 + a2 < s: e^{4st*/τ} = (s/λ1 − 1)(s/λ2 − 1) is then ≈ 1 + 4e-4,
    # so t* ≈ 1e-4·τ/s lies inside the first cell of the search grid (3.35τ/s / 4000 = 8.4e-4·τ/s) and the grid's
    # maximum is at t = 0: the bracket must start at t = 0 itself. db/dt there is the small difference of terms of
    # size ~s·b0, so the root is found to a measured 7e-12 relative (s = 0.5, 1, 4); the tolerance allows 15x that.
    a, b0 = 0.9999 * s / 2, 0.02 * s
    want = _closed_form_50_digits(s, a, a, b0, 1.0)
    assert want < 2e-4 / s
    assert located_peak_time(s, a, a, b0) == pytest.approx(want, rel=1e-10, abs=0)


def test_an_uncoupled_init_has_no_peak_and_is_refused():
    # b0 = 0 makes b(t) ≡ 0 (b ∝ b0): there is no peak to locate, though the closed form still returns a time
    message = (
        r"^coupled initialisation: need b0 ≠ 0, got b0 = 0\. Then b\(t\) = 0 for all t and \|b\| has no peak \(the "
        r"formula still returns the time at which m11 \+ m22 = s\)\. Fix: draw A0 with non-orthogonal columns\.$"
    )
    with pytest.raises(AssumptionError, match=message):
        located_peak_time(1.0, 0.01, 0.02, 0.0)
    with pytest.raises(AssumptionError, match=r"coupled initialisation"):
        coupling_peak_time.check(s=1.0, a1=0.01, a2=0.02, b0=0.0)
