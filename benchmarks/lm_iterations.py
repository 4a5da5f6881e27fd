"""Operon's Levenberg–Marquardt constant fitting: rediscovery rate and time against ``optimizer_iterations``
(issue 12, item 4), over the discovery problems not marked slow, with discover()'s defaults otherwise.

For each iteration count and problem, seeds 0..N−1 run `verify.rediscovery.rediscover` with the quick budget; the
table prints, per iteration count, how many (problem, seed) runs put the law on the front and the median and total
seconds. lawbook's default is Operon's 10 (`discover.backends.operon`); the curve says what fewer would cost.

Run: python benchmarks/lm_iterations.py [--seeds 2] [--iterations 1 3 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

from discover import Budget
from discover.problems import PROBLEMS
from verify.rediscovery import rediscover


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--iterations", type=int, nargs="*", default=[1, 3, 10])
    args = parser.parse_args()
    problems = [p for p in PROBLEMS.values() if not p.slow and "operon" in p.options]
    print(f"problems: {', '.join(p.name for p in problems)}; seeds 0..{args.seeds - 1}; quick budget")
    print(f"{'iterations':>10s} {'found':>7s} {'median s':>9s} {'total s':>8s}  missed")
    for iterations in args.iterations:
        found, seconds, missed = 0, [], []
        for problem in problems:
            options = {**problem.options["operon"], "optimizer_iterations": iterations}
            variant = dataclasses.replace(problem, options={"operon": options}, _cache={})
            for seed in range(args.seeds):
                start = time.perf_counter()
                result = rediscover(variant, backend="operon", seed=seed, budget=Budget.quick())
                seconds.append(time.perf_counter() - start)
                found += result.found
                if not result.found:
                    missed.append(f"{problem.name}/{seed}")
        runs = len(problems) * args.seeds
        print(
            f"{iterations:10d} {found:3d}/{runs:<3d} {statistics.median(seconds):9.1f} {sum(seconds):8.1f}  "
            f"{', '.join(missed) or '-'}"
        )


if __name__ == "__main__":
    main()
