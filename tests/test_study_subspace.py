"""The subspace study: its spectral and deviation tools on cases with known answers, and the study end to end."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from verify.cli import main
from verify.studies import subspace

SMALL = dataclasses.replace(subspace.QUICK, n_models=24, width=8, steps=300, null_draws=5, name="test")


def test_a_gaussian_null_spreads_its_variance_evenly():
    """Rows ≫ long i.i.d. Gaussian, centred: each of the N − 1 components holds ≈ 1/(N − 1) (the control's
    premise); a matrix of rank 2 plus a mean holds all of it in 2 (the check can tell them apart)."""
    rng = np.random.default_rng(0)
    shares = subspace.spectrum_shares(rng.normal(size=(20, 20000)))
    np.testing.assert_allclose(shares[:19], 1 / 19, rtol=0.1)
    assert shares[19] < 1e-20
    low = rng.normal(size=(20, 2)) @ rng.normal(size=(2, 50)) + rng.normal(size=50)
    assert subspace.top_k(subspace.spectrum_shares(low), 0.999999) == 2


def test_leave_one_out_deviation_measures_what_leaves_the_others_subspace():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(30, 3)))[0].T  # a 3-dimensional subspace of R^30
    mean = rng.normal(size=30)
    rows = rng.normal(size=(12, 3)) @ basis + mean
    np.testing.assert_allclose(subspace.loo_deviation([rows], 3), 0, atol=1e-12)  # everyone inside: 0
    off = np.linalg.qr(np.column_stack([basis.T, rng.normal(size=30)]))[0][:, 3]  # a unit vector off the subspace
    rows[5] = rows[5] + 0.5 * off
    dev = subspace.loo_deviation([rows], 3)
    assert dev[5] == pytest.approx(0.5 / np.linalg.norm(rows[5]), rel=1e-9)
    assert np.all(np.delete(dev, 5) > 0)  # the outlier now tilts everyone else's leave-one-out subspace a little
    assert subspace.loo_deviation([rows], 0)[5] > dev[5]  # the mean alone explains less
    random = subspace.loo_deviation([rows], 3, basis="random")
    assert np.median(random) > 10 * np.median(dev)  # a random subspace of the same size is no substitute
    with pytest.raises(ValueError, match="at least 3"):
        subspace.loo_deviation([rows[:2]], 1)


def test_the_power_law_fit_recovers_its_parameters_and_refuses_bad_x():
    x = np.linspace(0.05, 2, 40)
    a, b, c = subspace.fit_power_law(x, 0.7 * x**-0.5 - 1.2)
    assert (a, b, c) == pytest.approx((0.7, -0.5, -1.2), rel=1e-6)
    with pytest.raises(ValueError, match="positive"):
        subspace.fit_power_law(np.array([0.0, 1.0]), np.array([1.0, 2.0]))


@pytest.mark.slow
def test_the_study_runs_end_to_end_and_writes_its_page(tmp_path):
    result = subspace.run_study(SMALL, cache=tmp_path / "cache", progress=False)
    assert len(result.models) == 24 and set(result.models.s) == set(SMALL.similarities)
    assert set(result.spectra) == {"W1", "W2"}
    for table in result.spectra.values():
        np.testing.assert_allclose(table.cumulative.iloc[-1], 1.0, rtol=1e-12)
    fits = result.fits.set_index("predictor")
    # the student's lazy law is the known driver of its forgetting (the forgetting study's phase 2b): at γ0 = 1 it
    # still explains most of it, and more than the minimum-norm linear learner's law does
    assert fits.loc["lazy", "heldout_r2"] > 0.5
    assert np.isfinite(fits.heldout_r2).all() and len(fits) == len(subspace.PREDICTORS)
    page = subspace.write_study(result, tmp_path / "studies").read_text()
    assert "Spectrum against its controls" in page and "held-out R²" in page
    for name in ("subspace_spectrum.png", "subspace_deviation.png"):
        assert (tmp_path / "studies" / name).stat().st_size > 1000


def test_the_command_line_knows_the_study(tmp_path):
    assert main(["study", "subspace", "--workers", "0", "--out", str(tmp_path / "o")]) == 2
