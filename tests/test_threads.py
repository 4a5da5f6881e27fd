"""simulate.threads: the thread policy, its override, and that training runs under it and restores torch."""

import os

import numpy as np
import pytest
import torch

from simulate import DeepLinear, gaussian_init, random_regression, train
from simulate.threads import PARALLEL_FLOPS, THREADS_ENV, configured_threads, thread_policy, threads_for
from verify.cli import main


def test_small_work_gets_one_thread_and_large_work_every_core():
    assert threads_for(PARALLEL_FLOPS / 10, env={}) == 1
    assert threads_for(PARALLEL_FLOPS * 10, env={}) >= 1
    assert threads_for(PARALLEL_FLOPS * 10, env={THREADS_ENV: "2"}) == 2
    # large work keeps torch's own count (a user's OMP_NUM_THREADS), small work is still one thread
    assert threads_for(PARALLEL_FLOPS * 10, env={}, default=3) == 3
    assert threads_for(PARALLEL_FLOPS / 10, env={}, default=3) == 1


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_setting_names_the_variable(bad):
    with pytest.raises(ValueError, match=THREADS_ENV):
        configured_threads({THREADS_ENV: bad})
    assert configured_threads({THREADS_ENV: " "}) is None


def test_training_runs_under_the_policy_and_restores_torchs_setting(monkeypatch):
    seen = []
    original = torch.set_num_threads

    def spy(n):
        seen.append(n)
        original(n)

    before = torch.get_num_threads()
    monkeypatch.setattr(torch, "set_num_threads", spy)
    monkeypatch.setenv(THREADS_ENV, str(before + 1))
    task = random_regression(3, 3, 8, seed=0)
    net = DeepLinear((3, 4, 3))
    W = gaussian_init(net.sizes, 0.1, seed=0)
    train(net, W, task, eta=0.01, times=np.array([0.0, 0.05]))
    assert seen == [before + 1, before]  # set for the run, restored after it
    assert torch.get_num_threads() == before


def test_thread_policy_restores_after_an_error(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv(THREADS_ENV, str(before + 1))
    with pytest.raises(RuntimeError), thread_policy(1.0):
        assert torch.get_num_threads() == before + 1
        raise RuntimeError
    assert torch.get_num_threads() == before


def test_cli_threads_option(monkeypatch, capsys):
    monkeypatch.setenv(THREADS_ENV, "7")  # monkeypatch restores the variable's absence (or value) afterwards
    assert main(["--threads", "0", "laws"]) == 2
    assert "--threads must be a positive integer" in capsys.readouterr().err
    assert main(["--threads", "1", "laws"]) == 0
    assert os.environ[THREADS_ENV] == "1"
