"""The decoupling checks (verify/suite/decoupling.py) resolve what their tolerances say they resolve.

`verify/test_must_fail.py` runs each check under the fault it declares, sized with a clear margin over its
tightest tolerance; a check whose verdict joins several conditions can still drop one of them, or loosen a
tolerance that is not printed, and pass that test. Each test here plants a fault (or builds an input) that only
one condition of a check can see, with its size derived from that condition's tolerance, and asserts FAIL.
"""

import numpy as np
import pytest
import sympy as sp

from verify.suite import NO_FAULT, Fault, run_check
from verify.suite import decoupling as dec
from verify.suite.decoupling import gd_error_coefficient
from verify.suite.modes import gd_error_constant


def test_ode_identities_are_sampled_inside_positive_definite_m0():
    """The 2×2 solution holds for M0 ≻ 0 (b0² < a1·a2): the sampler of the identity checks draws the box's a1, a2
    and a coupling b0 = c·√(a1a2) with c spread over (−0.9, 0.9), one value per point."""
    n = 4000
    values = dec._positive_m0("decoupling_2x2")(np.random.default_rng(0), n)
    a1, a2, b0 = values["a1"], values["a2"], values["b0"]
    assert b0.shape == a1.shape == (n,)
    c = b0 / np.sqrt(a1 * a2)
    assert np.all(np.abs(c) < 0.9)
    # uniform on (−0.9, 0.9): with 4000 draws both tails are reached to within 0.01 (probability of missing one:
    # (1 − 0.01/1.8)^4000 ≈ 2e-10)
    assert c.min() < -0.89 and c.max() > 0.89


def test_peak_check_resolves_a_b_peak_formula_off_by_less_than_the_t_peak_tolerance():
    """Two claims of the peak check have their own tolerances: the exact t_peak (1e-9 relative) and the |b_peak|
    formula (1e-12 relative; |b| at its quadratic maximum does not depend on the root's position). A law fault of
    1e-10 moves both by 1e-10 relative: inside the t_peak tolerance, 100× outside the |b_peak| one, so the check
    fails on |b_peak| alone."""
    result = run_check("coupling_peak_time", "exact_and_published_vs_numeric_peak", 0, Fault("law", 1e-10))
    assert result.evidence["max_rel_exact"] <= 1e-9
    assert 0.5e-10 <= result.evidence["max_rel_b_peak"] <= 2e-10
    assert not result.passed


def test_reversal_gd_starts_from_the_converged_strengths():
    """The reversal runs start at the converged state of Σa: along the old modes the strengths are s̃ = 2, 1, 0.5
    (three distinct modes), in GD and in the law u(0) = s alike."""
    simulate, theory, _, s = dec._reversal_runs(0, NO_FAULT, every_step=False)
    assert s == (2.0, 1.0, 0.5)
    t, u = simulate(0.05)
    np.testing.assert_allclose(u[0], [2.0, 1.0, 0.5], rtol=1e-12)
    np.testing.assert_allclose(theory(t[:1]), [[2.0, 1.0, 0.5]], rtol=1e-12)


def test_two_by_two_gd_runs_cover_the_documented_networks_and_window():
    """The plain 2×2 GD comparison records 4 networks × (m11, m12, m22) every 0.05τ up to 8τ, the very times and
    networks over which its error prediction η·max|E| is derived (a network or a time outside them would be
    compared against a prediction not made for it); the law's columns line up with GD's."""
    simulate, theory, _, s = dec._two_by_two_runs(0, NO_FAULT, every_step=False)
    assert s == (2.0, 1.0)
    t, vals = simulate(0.05)
    np.testing.assert_allclose(t[:, 0], np.arange(161) * 0.05, rtol=0, atol=1e-12)
    assert vals.shape == (161, 12) == theory(t).shape


@pytest.mark.parametrize(("s", "u0", "horizon"), [(3.0, 1e-3, 8.0), (2.0, 0.01, 6.0), (1.0, 0.5, 4.0)])
def test_gd_error_coefficient_of_a_scalar_mode_matches_the_mode_derivation(s, u0, horizon):
    """For one balanced scalar mode (W1 = W2 = √u0) the matrix derivation of GD's first-order error reduces to
    `verify.suite.modes.gd_error_constant`, derived separately from GD's one-step map of u = a² (c = max|E|/s²).
    Both integrate their ODEs with DOP853 at rtol 1e-11 (E to ≈ 1e-9 relative): they must agree to 1e-8, far
    tighter than the 3-digit doctest, so a loosened integration tolerance or a wrong ½J f term shows."""
    a = np.sqrt(np.array([[u0]]))
    E = gd_error_coefficient(a, a, np.array([[s]]), np.linspace(0.0, horizon, 20001))
    assert E.shape == (20001, 1, 1)
    assert float(np.abs(E).max()) / s**2 == pytest.approx(gd_error_constant(2, s, u0, horizon), rel=1e-8)


def test_gd_error_coefficient_refuses_each_malformed_input_with_the_shapes_it_needs():
    """Every malformed input is refused with a ValueError naming the expected shapes (W1 (Nh, Ni), W2 (No, Nh),
    sigma_yx (No, Ni)) or the expected times, not with whatever numpy error the integration would meet later."""
    W1, W2, syx, t = np.ones((4, 2)), np.ones((3, 4)), np.ones((3, 2)), np.array([0.0, 1.0])
    shapes = r"need W1 \(Nh, Ni\), W2 \(No, Nh\) and sigma_yx \(No, Ni\)"
    for bad in (
        (np.ones(4), W2, syx),  # W1 a vector
        (W1[..., None], W2, syx),  # W1 3-d, its first two sizes fitting the others
        (W1, W2[..., None], syx),  # W2 3-d, likewise
        (W1, W2, syx[:, :1]),  # sigma_yx (No, 1) for (No, Ni)
        (W1, np.ones((3, 5)), syx),  # W2 (No, Nh + 1): the hidden sizes disagree
    ):
        with pytest.raises(ValueError, match=shapes):
            gd_error_coefficient(*bad, t)
    times = "t must be a non-empty 1-d array of finite times ≥ 0"
    for bad_t in (np.array([[0.0, 1.0]]), np.array([]), np.array([0.0, np.inf]), np.array([0.0, np.nan])):
        with pytest.raises(ValueError, match=times):
            gd_error_coefficient(W1, W2, syx, bad_t)
    # the refusal quotes what it got
    with pytest.raises(ValueError, match=r"got shape \(1, 2\)"):
        gd_error_coefficient(W1, W2, syx, np.array([[0.0, 1.0]]))


def test_identity_checks_sample_the_same_points_for_the_same_seed():
    """A check's symbolic verdicts are reproducible: the identity helper draws its random points from the check's
    seed (DESIGN.md: randomness only through an explicit seed), so two runs at one seed evaluate the very same points
    and another seed evaluates others."""
    x = sp.Symbol("x", positive=True)

    def recorded(seed):
        drawn = []

        def draw(rng, n):
            drawn.append(rng.uniform(0.5, 2.0, n))
            return {"x": drawn[-1]}

        assert dec._identity(2 * x, x + x, draw, seed) == "exact"
        return np.concatenate(drawn)

    first = recorded(4)
    np.testing.assert_array_equal(first, recorded(4))
    assert not np.array_equal(first, recorded(5))


def test_converged_state_is_balanced_reproducible_and_learns_the_task():
    """The reversal checks start from the converged, balanced network of Σa = Ũ diag(s) Ṽᵀ: W2W1 = Σa and
    W1W1ᵀ = W2ᵀW2 (a fixed point of the flow), with the hidden rotation R drawn from the seed: the same seed gives
    the same network."""
    s = (2.0, 1.0, 0.5)
    task, W1, W2 = dec._converged(s, 5, 3)
    assert W1.shape == (5, 3) and W2.shape == (3, 5)
    np.testing.assert_allclose(W2 @ W1, task.sigma_yx, atol=1e-14)
    np.testing.assert_allclose(W1 @ W1.T, W2.T @ W2, atol=1e-14)
    np.testing.assert_allclose(np.linalg.svd(W2 @ W1, compute_uv=False), s, atol=1e-14)
    again = dec._converged(s, 5, 3)
    np.testing.assert_array_equal(W1, again[1])
    np.testing.assert_array_equal(W2, again[2])
