"""`theory.decoupling.located_peak_time` finds the peak of |b(t)| to round-off, wherever the law's domain puts it.

It is the numerical reference that the closed form `coupling_peak_time` is checked against (verify/suite/
decoupling.py), so its own accuracy is pinned here against an independent reference: the closed form evaluated at 50
digits (mpmath) from the same float inputs, t* = τ/(4s)·ln(1 + s(s − a1 − a2)/Δ0), Δ0 = a1a2 − b0².
"""

import mpmath as mp
import numpy as np
import pytest

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
