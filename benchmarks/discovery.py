"""Rediscovery rate and time per problem and backend over seeds: the figures behind `verify/test_rediscovery.py`.

For each discovery problem and each backend it has settings for, runs `verify.rediscovery.rediscover` with seeds
0..N−1 (each seed draws new data and seeds the search) and prints how many fronts contain the law (level
``exact`` or ``up_to_constants``), how often `Discovery.best` is the law, and the median search seconds (data
generation excluded: `Discovery.seconds` times the search and the snapping).

Run: python benchmarks/discovery.py [--seeds 10] [--budget quick|default] [--problems NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

from discover import Budget
from discover.problems import PROBLEMS
from verify.rediscovery import rediscover


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", choices=("quick", "default"), default="quick")
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS), choices=list(PROBLEMS), metavar="NAME")
    args = parser.parse_args()
    budget = Budget.quick() if args.budget == "quick" else Budget.default()

    print(f"budget {args.budget}: {budget}; seeds 0..{args.seeds - 1}")
    print(f"{'problem':26s} {'backend':7s} {'on front':>9s} {'best':>6s} {'median s':>9s}  seeds missed")
    start = time.perf_counter()
    for name in args.problems:
        for backend in PROBLEMS[name].backends:
            found, best, seconds, misses = 0, 0, [], []
            for seed in range(args.seeds):
                result = rediscover(name, backend=backend, seed=seed, budget=budget, simplify_timeout=0)
                d = result.discovery
                found += result.found
                best += result.verdicts[d.pareto.index(d.best)].equivalent
                seconds.append(d.seconds)
                if not result.found:
                    misses.append(str(seed))
            print(
                f"{name:26s} {backend:7s} {found:>4d}/{args.seeds:<4d} {best:>3d}/{args.seeds:<2d} "
                f"{statistics.median(seconds):>9.2f}  {' '.join(misses) or '-'}",
                flush=True,
            )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
