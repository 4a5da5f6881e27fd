"""Cost of a sweep (`simulate.sweeps.sweep` of `ContinualExperiment`) against the raw batched training of the same
networks (the `simulate.train` calls alone, same tasks, same initialisations, same steps): issue 13 asks for a
sweep within 2× of the raw simulation. The sweep's extra work is the measurements (feature-learning rate at every
record, forgetting, and with ``ntk=True`` two empirical NTKs per run) and the table.

Run: python benchmarks/sweep_throughput.py [--seeds 8] [--steps 2000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from simulate import ContinualExperiment, TwoLayer, grid, sweep, train


def raw(experiment: ContinualExperiment, configs: list[dict], seeds: list[int]) -> None:
    """The training alone: what a hand-written loop over the grid would run."""
    steps = np.unique(np.linspace(0, experiment.steps, experiment.n_records).round().astype(np.int64))
    for config in configs:
        net = TwoLayer(
            (experiment.n_in, config["width"], experiment.n_out),
            config["activation"],
            parameterization=config["parameterization"],
            gamma0=config["gamma0"],
        )
        draws = [net.init(seed=s) for s in seeds]
        weights = [np.concatenate([d[k] for d in draws]) for k in range(2)]
        net = net.centered_at(weights)
        eta = net.learning_rate(experiment.eta0)
        for task in experiment.tasks(config["similarity"], 0):
            weights = [w[-1] for w in train(net, weights, task, eta=eta, times=steps * eta).weights]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    configs = grid(
        width=[64, 256], activation=["tanh", "relu"], parameterization=["mup"], gamma0=[0.1, 1.0], similarity=[0.5]
    )
    seeds = list(range(args.seeds))
    print(f"{len(configs)} configurations × {len(seeds)} seeds, 2 tasks × {args.steps} steps, 8 → width → 1, 64 items")
    print(f"{'measurements':>22s} {'sweep s':>8s} {'raw s':>7s} {'ratio':>6s}")
    for ntk in (False, True):
        experiment = ContinualExperiment(n_in=8, n_out=1, items=64, steps=args.steps, n_records=11, ntk=ntk)
        best_sweep = best_raw = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            sweep(experiment, configs, seeds, progress=False)
            best_sweep = min(best_sweep, time.perf_counter() - start)
            start = time.perf_counter()
            raw(dataclasses.replace(experiment), configs, seeds)
            best_raw = min(best_raw, time.perf_counter() - start)
        label = "records + NTK" if ntk else "records"
        print(f"{label:>22s} {best_sweep:8.2f} {best_raw:7.2f} {best_sweep / best_raw:5.2f}×")


if __name__ == "__main__":
    main()
