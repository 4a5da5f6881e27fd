"""simulate.sweeps.sweep: one table whatever the scheduler, a cache that resumes and repeats for free, clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from simulate import measures
from simulate.experiments import ContinualExperiment, teachers_at_cosine
from simulate.sweeps import code_version, grid, run_key, sweep

EXP = ContinualExperiment(n_in=4, n_out=2, items=16, steps=30, n_records=4, eta0=0.05)
CONFIGS = grid(width=[8, 32], activation=["tanh"], parameterization=["mup"], gamma0=[0.3, 1.0], similarity=[0.0, 0.8])
SEEDS = [0, 1]


@pytest.fixture(scope="module")
def serial():
    return sweep(EXP, CONFIGS, SEEDS, progress=False)


def test_the_table_is_tidy(serial):
    assert list(serial.columns[:6]) == ["width", "activation", "parameterization", "gamma0", "similarity", "seed"]
    assert len(serial) == len(CONFIGS) * len(SEEDS) * 2 * 4  # × 2 phases × 4 records
    run = serial[(serial.width == 8) & (serial.gamma0 == 1.0) & (serial.similarity == 0.0) & (serial.seed == 1)]
    first = run[run.phase == 0]
    assert first.loss_0.iloc[-1] < first.loss_0.iloc[0]  # task 0 is learned in phase 0
    end = run.iloc[-1]
    assert end.forgetting == pytest.approx(end.loss_0 - first.loss_0.iloc[-1], rel=1e-12)


def test_a_row_is_what_a_direct_run_gives(serial):
    """The sweep adds nothing and loses nothing: one run done by hand gives the same numbers."""
    config = CONFIGS[3]
    direct = EXP.run([(config, 1)])[0]
    rows = serial[(serial[list(config)] == pd.Series(config)).all(axis=1) & (serial.seed == 1)]
    pd.testing.assert_frame_equal(rows[direct.columns].reset_index(drop=True), direct, check_exact=False, rtol=1e-13)


@pytest.mark.slow
def test_process_pool_and_dask_give_the_same_table(serial):
    pool = sweep(EXP, CONFIGS, SEEDS, scheduler="processes", workers=2, progress=False)
    pd.testing.assert_frame_equal(pool, serial, check_exact=True)
    dask = sweep(EXP, CONFIGS, SEEDS, scheduler="dask", workers=2, progress=False)
    pd.testing.assert_frame_equal(dask, serial, check_exact=True)


class _Interrupted(ContinualExperiment):
    """Fails on its second unit, like a Ctrl-C in the middle of a sweep."""

    calls = 0

    def run(self, items):
        type(self).calls += 1
        if type(self).calls == 2:
            raise KeyboardInterrupt
        return super().run(items)


def test_the_cache_resumes_an_interrupted_sweep_and_repeats_for_free(tmp_path, serial, monkeypatch):
    flaky = _Interrupted(**{f.name: getattr(EXP, f.name) for f in dataclasses.fields(EXP)})
    with pytest.raises(KeyboardInterrupt):
        sweep(flaky, CONFIGS, SEEDS, cache=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.parquet"))) == len(SEEDS)  # the first unit's runs were kept
    resumed = sweep(flaky, CONFIGS, SEEDS, cache=tmp_path, progress=False)
    assert type(flaky).calls == 1 + 1 + (len(CONFIGS) - 1)  # every unit once, the first not again
    pd.testing.assert_frame_equal(resumed, serial, check_exact=True)
    cached = pd.read_parquet(next(tmp_path.glob("*.parquet")))  # an ordinary Parquet file
    assert "loss_0" in cached.columns

    def must_not_run(self, items):
        raise AssertionError("a cached sweep ran a unit again")

    monkeypatch.setattr(_Interrupted, "run", must_not_run)
    again = sweep(flaky, CONFIGS, SEEDS, cache=tmp_path, progress=False)
    pd.testing.assert_frame_equal(again, serial, check_exact=True)


def test_the_cache_key_sees_every_setting():
    config = CONFIGS[0]
    version = code_version(EXP)
    key = run_key(EXP, config, 0, version)
    assert run_key(EXP, config, 1, version) != key
    assert run_key(EXP, {**config, "gamma0": 0.31}, 0, version) != key
    assert run_key(dataclasses.replace(EXP, steps=31), config, 0, version) != key
    assert run_key(EXP, config, 0, version + "x") != key
    assert run_key(EXP, dict(reversed(list(config.items()))), 0, version) == key  # order of the dict is not content


def test_teachers_have_the_cosine_they_are_given():
    for s in (-1.0, -0.3, 0.0, 0.7, 1.0):
        tasks = EXP.tasks(s, task_seed=3)
        A = [t.sigma_yx for t in tasks]
        cos = (A[0] * A[1]).sum() / np.linalg.norm(A[0]) / np.linalg.norm(A[1])
        assert cos == pytest.approx(s, abs=1e-12)
    with pytest.raises(ValueError, match="cosine"):
        teachers_at_cosine(np.ones((2, 2)), 1.5, np.random.default_rng(0))


def test_forgetting_grows_as_the_teachers_part(serial):
    """A sanity law of the setting: with identical teachers (cosine 1) the second phase goes on learning task 0
    (forgetting < 0, GD's loss decreases), with orthogonal ones task 0 is forgotten (> 0)."""
    same = EXP.run([({**CONFIGS[0], "similarity": 1.0}, 0)])[0]
    apart = EXP.run([({**CONFIGS[0], "similarity": 0.0}, 0)])[0]
    assert same.forgetting.iloc[0] < 0 < apart.forgetting.iloc[0]
    assert measures.forgetting(np.array([[[0.0], [1.0]], [[0.5], [0.0]]]))[0] == 0.5


def test_bad_sweeps_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="scheduler"):
        sweep(EXP, CONFIGS, SEEDS, scheduler="slurm", progress=False)
    with pytest.raises(ValueError, match="same parameters"):
        sweep(EXP, [CONFIGS[0], {"width": 8}], SEEDS, progress=False)
    with pytest.raises(ValueError, match="seed"):
        sweep(EXP, [{**CONFIGS[0], "seed": 1}], SEEDS, progress=False)
    with pytest.raises(ValueError, match="repeat"):
        sweep(EXP, [CONFIGS[0], CONFIGS[0]], SEEDS, progress=False)
    with pytest.raises(TypeError, match="scalar"):
        sweep(EXP, [{**CONFIGS[0], "width": [8]}], SEEDS, progress=False)
    with pytest.raises(ValueError, match="distinct integers"):
        sweep(EXP, CONFIGS, [0, 0], progress=False)
    with pytest.raises(ValueError, match="lacks"):
        sweep(EXP, [{"width": 8}], SEEDS, progress=False)
    with pytest.raises(TypeError, match="list of values"):
        grid(width=8)
