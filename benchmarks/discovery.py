"""Rediscovery rate and time per problem and backend over seeds: the figures behind `verify/test_rediscovery.py`.

For each discovery problem and each backend it has settings for, runs `verify.rediscovery.rediscover` with seeds
0..N−1 (each seed draws new data and seeds the search) with discover()'s defaults (operator escalation, rational and
transform routes, restarts; the budget preset chosen here) and prints:

- ``on front``: seeds whose front contains the law (level ``exact`` or ``up_to_constants``);
- ``best``: seeds whose `Discovery.best` is the law; ``verdict``: seeds where discovery itself said "law found";
- ``median s``: the median of `Discovery.seconds` (search, snapping and measuring; data generation excluded);
- ``routes``: which route / stage produced the law's row, with counts.

Run: python benchmarks/discovery.py [--seeds 10] [--budget quick|default] [--problems NAME ...] [--json PATH]

Measured (2026-11-28, default budget, seeds 0–9, 2 cores shared with a second benchmark): every problem and backend
10/10 on the front, 10/10 as `best`, 10/10 "law found"; median seconds 0.04–1.8 except depth3_mode_rhs with Operon
(54.7 s: its u^{4/3} needs the last stage, pow); median over problems 0.3 s; 796 s in all.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import time

from discover import Budget
from discover.problems import PROBLEMS
from verify.rediscovery import rediscover


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", choices=("quick", "default"), default="default")
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS), choices=list(PROBLEMS), metavar="NAME")
    parser.add_argument("--json", metavar="PATH", help="write every run's figures to this JSON file")
    args = parser.parse_args()
    budget = Budget.quick() if args.budget == "quick" else Budget.default()

    print(f"budget {args.budget}: {budget}; seeds 0..{args.seeds - 1}")
    print(
        f"{'problem':26s} {'backend':7s} {'on front':>9s} {'best':>6s} {'verdict':>8s} {'median s':>9s}  "
        "routes of the law's row; seeds missed"
    )
    start = time.perf_counter()
    records = []
    medians = []
    for name in args.problems:
        for backend in PROBLEMS[name].backends:
            found, best, said, seconds, misses = 0, 0, 0, [], []
            routes: collections.Counter[str] = collections.Counter()
            for seed in range(args.seeds):
                result = rediscover(name, backend=backend, seed=seed, budget=budget, simplify_timeout=0)
                d = result.discovery
                found += result.found
                best += result.verdicts[d.pareto.index(d.best)].equivalent
                said += d.verdict == "law found"
                seconds.append(d.seconds)
                if result.found:
                    routes[f"{result.match.route}/{result.match.stage}"] += 1
                else:
                    misses.append(str(seed))
                records.append(
                    {
                        "problem": name,
                        "backend": backend,
                        "seed": seed,
                        "found": result.found,
                        "best_is_law": bool(result.verdicts[d.pareto.index(d.best)].equivalent),
                        "verdict": d.verdict,
                        "seconds": d.seconds,
                        "route": result.match.route if result.found else None,
                        "stage": result.match.stage if result.found else None,
                        "searches": len(d.searches),
                    }
                )
            median = statistics.median(seconds)
            medians.append(median)
            shown = ", ".join(f"{k} ×{v}" for k, v in routes.most_common()) or "-"
            print(
                f"{name:26s} {backend:7s} {found:>4d}/{args.seeds:<4d} {best:>3d}/{args.seeds:<2d} "
                f"{said:>4d}/{args.seeds:<3d} {median:>9.2f}  {shown}; missed: {' '.join(misses) or '-'}",
                flush=True,
            )
    print(f"median over problems of the median seconds: {statistics.median(medians):.1f} s")
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle, indent=1)


if __name__ == "__main__":
    main()
