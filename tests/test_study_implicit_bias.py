"""The implicit-bias study end to end on a small plan, its law check failing on a wrong simulation, and its command line."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from verify.cli import main
from verify.studies import Runner, implicit_bias, study_module

SMALL = dataclasses.replace(
    implicit_bias.QUICK,
    widths=(8,),
    init_scales=(0.5,),
    noises=(0.1,),
    seeds=(0, 1, 2, 3),
    n_in=8,
    rank=3,
    n_out=2,
    items=16,
    steps=300,
    n_records=6,
    resamples=500,
    reference=(("width", 8), ("init_scale", 0.5), ("noise", 0.1)),
    discovery_init_scales=(0.3, 0.5, 1.0),
    discovery_widths=(8, 16),
    name="test",
)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return implicit_bias.run_study(SMALL, cache=tmp_path_factory.mktemp("cache"), progress=False)


@pytest.mark.slow
def test_the_study_checks_every_covered_run_and_writes_its_page(result, tmp_path):
    laws = result.laws
    # GD, SGD, momentum × (none, coupled, decoupled decay): 9 cells, each over 4 seeds × (1 shallow + 2 deep)
    assert len(laws) == 9 and (laws.runs == 4 * 3).all()
    assert (laws.worst_residual <= implicit_bias.LAW_TOLERANCE).all()
    drift = result.balance_drift  # GD's O(η) balance drift: halving η halves it (measured ratio ≈ 0.5)
    assert np.all(np.abs(drift.ratio - 0.5) < 0.1)
    table = result.table
    assert set(table.architecture) == {"shallow", "deep-2", "deep-3"} and (table.seeds == 4).all()
    assert {"null_mass_ci", "support_error_ci", "explained_by"} <= set(table.columns)
    shallow_gd = result.runs[(result.runs.depth == 1) & (result.runs.optimizer == "gd")
                             & (result.runs.intervention == "none")]  # fmt: skip
    masses = shallow_gd.groupby("seed").null_mass
    np.testing.assert_allclose(masses.last(), masses.first(), rtol=1e-12)  # the law, read off the table
    assert set(result.paired.optimizer) == set(SMALL.optimizers)
    verdicts = {"deeper has less", "deeper has more", "no difference resolved"}
    paired = result.paired
    assert set(paired.end_verdict) <= verdicts and set(paired.training_verdict) <= verdicts
    gd = paired[paired.optimizer == "gd"]  # GD keeps the shallow mass, so the training change is the deep one's
    runs = result.runs[(result.runs.optimizer == "gd") & (result.runs.intervention == "none")]
    deep2 = runs[runs.depth == 2].groupby("seed").null_mass
    assert gd[gd.architecture == "deep-2"].training_change.iloc[0] == pytest.approx(
        (deep2.last() - deep2.first()).mean(), rel=1e-9
    )
    assert set(result.optimizer_effect.architecture) == {"shallow", "deep-2", "deep-3"}
    disc = result.discovery.iloc[0]
    assert disc.heldout_configurations == 5 and np.isfinite(disc.train_mse)
    assert np.isfinite(disc.m0_r2) and np.isfinite(disc.affine_m0_r2)  # the baselines the page compares with
    # a fresh cache: every run is computed once; the drift and discovery sweeps share some with the main one
    computed, total = map(int, re.match(r"(\d+) of (\d+) runs computed", result.cost_note).groups())
    assert 0 < computed < total
    page = implicit_bias.write_study(result, tmp_path / "studies")
    text = page.read_text()
    assert "All 108 covered runs hold their law" in text
    for name in ("implicit_bias_mass.png", "implicit_bias_support.png", "implicit_bias_spectrum.png"):
        assert (tmp_path / "studies" / name).stat().st_size > 1000


def test_the_law_check_catches_a_wrong_simulation(monkeypatch):
    """A simulation with a hidden decay of 1e-6 on W1 (a wrong gradient) fails the check that the real one passes."""
    from simulate.networks import DeepLinear

    configs = SMALL.configs(depth=[2], optimizer=["gd"], intervention=["none"])
    honest = implicit_bias._laws(implicit_bias._sweep(SMALL, configs, Runner(progress=False)))
    assert (honest.worst_residual <= implicit_bias.LAW_TOLERANCE).all()
    grads = DeepLinear.grads

    def leaky(self, weights, data):
        out = grads(self, weights, data)
        out[0] = out[0] + 1e-6 * weights[0]
        return out

    monkeypatch.setattr(DeepLinear, "grads", leaky)
    wrong = implicit_bias._laws(implicit_bias._sweep(SMALL, configs, Runner(progress=False)))
    assert (wrong.worst_residual > implicit_bias.LAW_TOLERANCE).all()


def test_studies_are_found_by_name_and_the_command_line_refuses_bad_input(tmp_path, capsys):
    assert study_module("implicit-bias") is implicit_bias
    with pytest.raises(ValueError, match="unknown study"):
        study_module("lottery")
    assert main(["study", "implicit-bias", "--workers", "0", "--out", str(tmp_path / "o")]) == 2
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "implicit_bias.md").write_text("someone else's page\n")
    assert main(["study", "implicit-bias", "--quick", "--out", str(tmp_path / "taken")]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
