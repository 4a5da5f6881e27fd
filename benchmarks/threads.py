"""lawbook's thread policy (`simulate.threads`) against torch's default of one thread per core, on an idle machine
and under a bounded synthetic load that this script starts and stops itself.

The work: `simulate.train` on 8-16-8 linear networks (64 items), batches of 1, 100, 1,000 and 10,000 networks, and
one 24-24-24 network; figures are network·steps per second, best of ``--repeats``. The load is ``--load`` processes
(default: one per core) spinning on Python arithmetic, started before and killed after the loaded measurements.

Run: python benchmarks/threads.py [--repeats 3] [--load N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np
import torch

from simulate import DeepLinear, gaussian_init, random_regression, train
from simulate.threads import THREADS_ENV


def _spin() -> None:  # pragma: no cover - runs in the load processes
    x = 0
    while True:
        x = (x * 1103515245 + 12345) % 2147483648


def _rate(sizes: tuple[int, ...], batch: int, steps: int, repeats: int) -> float:
    task = random_regression(sizes[0], sizes[-1], 64, seed=0)
    net = DeepLinear(sizes)
    W = gaussian_init(net.sizes, 0.1, seed=0, batch=batch)
    eta = 0.01
    train(net, W, task, eta=eta, times=np.array([0.0, 5 * eta]))  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        train(net, W, task, eta=eta, times=np.array([0.0, steps * eta]))
        best = min(best, time.perf_counter() - start)
    return batch * steps / best


CASES = (
    ((8, 16, 8), 1, 2000),
    ((24, 24, 24), 1, 2000),
    ((8, 16, 8), 100, 1000),
    ((8, 16, 8), 1000, 300),
    ((8, 16, 8), 10000, 40),
)


def measure(repeats: int) -> list[tuple[float, float]]:
    """(torch default, lawbook policy) rates per case; the default is forced through LAWBOOK_THREADS = cores."""
    cores = str(os.cpu_count() or 1)
    out = []
    for sizes, batch, steps in CASES:
        os.environ[THREADS_ENV] = cores
        default = _rate(sizes, batch, steps, repeats)
        del os.environ[THREADS_ENV]
        policy = _rate(sizes, batch, steps, repeats)
        out.append((default, policy))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    os.environ.pop(THREADS_ENV, None)
    print(f"torch {torch.__version__}, {os.cpu_count()} cores; network·steps/s, best of {args.repeats}")
    idle = measure(args.repeats)
    context = multiprocessing.get_context("spawn")
    load = [context.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for proc in load:
        proc.start()
    try:
        time.sleep(1.0)
        loaded = measure(args.repeats)
    finally:
        for proc in load:
            proc.kill()
            proc.join()
    print(
        f"{'network':10s} {'batch':>6s} | {'idle: default':>14s} {'policy':>10s} {'ratio':>6s} | "
        f"{f'load {args.load}: default':>16s} {'policy':>10s} {'ratio':>6s}"
    )
    for (sizes, batch, _), (d0, p0), (d1, p1) in zip(CASES, idle, loaded, strict=True):
        name = "-".join(map(str, sizes))
        print(f"{name:10s} {batch:6d} | {d0:14.3g} {p0:10.3g} {p0 / d0:6.2f} | {d1:16.3g} {p1:10.3g} {p1 / d1:6.2f}")


if __name__ == "__main__":
    main()
