"""Throughput of batched GD: (network·steps)/second for 1,000 two-layer 8×16×8 linear networks trained as one
tensor program, against one network trained alone, and their ratio; and for one network (8-16-8, 24-24-24,
50-64-50) and for the batch, the compiled loops (`simulate.compiled`, numba) against the torch loop, each under
lawbook's thread policy (`simulate.threads`).

Run: python benchmarks/simulate_throughput.py [--steps N] [--batch B] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.linalg import hadamard

from simulate import DeepLinear, Task, gaussian_init, random_regression, train


def throughput(
    batch: int,
    steps: int,
    device: str,
    repeats: int = 3,
    sizes: tuple[int, ...] = (8, 16, 8),
    exactly_white: bool = False,
) -> float:
    task = random_regression(sizes[0], sizes[-1], 64, seed=0)
    if exactly_white:  # Hadamard inputs: X Xᵀ/P = I exactly, so the compiled loop skips the Σxx product
        X = hadamard(sizes[0]).astype(np.float64)
        task = Task(X, task.sigma_yx @ X, name="Σxx = I exactly")
    net = DeepLinear(sizes)
    W = gaussian_init(net.sizes, 0.1, seed=0, batch=batch)
    eta = 0.01
    times = np.array([0.0, steps * eta])
    train(net, W, task, eta=eta, times=np.array([0.0, 10 * eta]), device=device)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        train(net, W, task, eta=eta, times=times, device=device)
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return batch * steps / best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, float64")
    many = throughput(args.batch, args.steps, args.device)
    one = throughput(1, args.steps, args.device)
    print(f"batch of {args.batch} (8×16×8): {many:14,.0f} network·steps/s")
    print(f"one network alone:       {one:14,.0f} network·steps/s")
    print(f"ratio batched/alone:     {many / one:14.1f}×")
    if args.device == "cpu":  # one network: the compiled loop (simulate.compiled) against the torch loop it replaces
        import simulate.compiled as compiled

        # the last two: Σxx = I exactly (the product skipped), and a run 10× longer (the call's fixed cost, ≈ 0.5 ms,
        # spread over more steps)
        for batch, sizes, steps, white in (
            (1, (8, 16, 8), args.steps, False),
            (1, (24, 24, 24), args.steps, False),
            (1, (50, 64, 50), args.steps, False),
            (args.batch, (8, 16, 8), max(1, args.steps // 10), False),
            (1, (8, 16, 8), args.steps, True),
            (1, (8, 16, 8), 10 * args.steps, True),
        ):
            fast = throughput(batch, steps, "cpu", sizes=sizes, exactly_white=white)
            available, compiled.available = compiled.available, lambda: False
            try:
                slow = throughput(batch, steps, "cpu", sizes=sizes, exactly_white=white)
            finally:
                compiled.available = available
            name = "-".join(map(str, sizes))
            print(
                f"{batch:5d} × {name:9s} {steps:6d} steps{', Σxx = I' if white else '':9s} compiled {fast:11,.0f}  "
                f"torch {slow:11,.0f}  network·steps/s  ({fast / slow:5.1f}×)"
            )


if __name__ == "__main__":
    main()
