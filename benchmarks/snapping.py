"""Cost of lawbook's post-processing of a search: snapping every raw candidate of Operon's front (`discover.snapping.snap_all`)
and measuring its loss (`discover.mse`), next to the search itself, on the Operon discovery problems.

For each problem and seed, the search runs once (`discover.backends.get_backend("operon").fit`, the problem's
options); then the raw front is snapped and measured ``--repeats`` times and the best time is kept. The figures
show how much of a discovery is not search. Before the tree-walking evaluator (`discover.snapping.evaluate`)
every loss compiled the candidate with `sympy.lambdify`.

Measured 2026-11-28 (2 shared cores, OMP_NUM_THREADS=1; the same raw fronts snapped by the old and the new code,
interleaved, best of 3): the 12 quick fronts took 7.0–9.2 s with `sympy.factor` as the rational normal form and
1.9–3.3 s with the monic normalisation (`discover.snapping._monic`), most of it on ``coupling_peak_time`` and
``logistic_mode_solution``; a ``coupling_peak_time`` front at 100 generations × 500 took 2.8–6.2 s and 1.1–1.5 s
(of which ``factor`` of float polynomials had been 2.05 s of 2.81). The snapped fronts of the other problems were
unchanged but for one rewrite of equal size (``exp(a)·exp(b)`` as ``exp(a + b)``).

Run: python benchmarks/snapping.py [--seeds 2] [--budget quick|default] [--repeats 3]
"""

from __future__ import annotations

import argparse
import inspect
import time

from discover import Budget, Reporter, SnapSettings, discover, mse
from discover.backends import get_backend
from discover.checks import check_table
from discover.problems import PROBLEMS
from discover.snapping import snap_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--budget", choices=("quick", "default"), default="quick")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    budget = Budget.quick() if args.budget == "quick" else Budget.default()
    engine = get_backend("operon")
    # a problem's options are discover()'s (e.g. ``time`` for the ODE route) and the engine's; the raw front here is
    # the direct search's, so only the engine's go to it
    route_options = set(inspect.signature(discover).parameters)
    print(f"budget {args.budget}; seeds 0..{args.seeds - 1}; best of {args.repeats}")
    print(f"{'problem':26s} {'seed':>4s} {'raw':>4s} {'search s':>9s} {'snap+loss s':>12s} {'share':>6s}")
    total_search = total_post = 0.0
    for name, problem in PROBLEMS.items():
        if "operon" not in problem.backends:
            continue
        for seed in range(args.seeds):
            names, X, y = check_table(problem.data(seed), problem.target, list(problem.features))
            options = {k: v for k, v in problem.options.get("operon", {}).items() if k not in route_options}
            settings = engine.settings(seed=seed, budget=budget, **options)
            start = time.perf_counter()
            quiet = Reporter(None, backend="operon")
            raw = [candidate.expr for candidate in engine.fit(X, y, names, settings, progress=quiet)]
            search = time.perf_counter() - start
            post = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                snapped = snap_all(raw, X, y, names, SnapSettings())
                [mse(e, X, y, names) for e in snapped]
                post = min(post, time.perf_counter() - start)
            total_search, total_post = total_search + search, total_post + post
            print(f"{name:26s} {seed:>4d} {len(raw):>4d} {search:>9.2f} {post:>12.3f} {post / (search + post):>6.1%}")
    print(f"total: search {total_search:.1f} s, snapping and losses {total_post:.1f} s")


if __name__ == "__main__":
    main()
