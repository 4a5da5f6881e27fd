"""Cost of an equivalence verdict (`verify.equivalent`) with and without SymPy's second opinion, and of polishing a
candidate's constants (`discover.polish`), the two costs of issue 12's item 4.

The verdict is numeric (60-digit evaluation at 256 points); SymPy's opinion (``simplify_timeout`` > 0) runs
`sympy.simplify` on the difference in a child process and is opt-in since issue 12. Polishing refits the constants of
a candidate by least squares; each residual evaluation walks the expression tree with the constants read as
scalars (before, each evaluation rebuilt the SymPy tree with the new constants, ≈ 6 ms a call, and a discovery of
`diagonal_mirror_map` spent 140 of its 150 s there; now 10.7 s in all, same front).

Measured 2026-11-29 (2 shared cores, OMP_NUM_THREADS=1): see the closing note of issue 12 and the README.

Run: python benchmarks/equivalence.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy as sp

from discover.polish import polish
from theory import get_law
from verify.equivalence import equivalent


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    logistic = get_law("logistic_mode")
    t, s, u0, tau = (logistic.symbols[k] for k in ("t", "s", "u0", "tau"))
    solution = logistic.targets["solution"]
    # the same law written with tanh: u = s/2·(1 + tanh(s t/τ + ½ ln(u0/(s − u0))))
    with_tanh = s / 2 * (1 + sp.tanh(s * t / tau + sp.log(u0 / (s - u0)) / 2))
    box = {"t": (0.0, 5.0), "s": (0.5, 3.0), "u0": (0.01, 0.4), "tau": (0.5, 2.0)}
    decoupling = get_law("decoupling_2x2")
    rhs = decoupling.targets["solution"] if "solution" in decoupling.targets else decoupling.equation
    rhs = rhs.rhs if isinstance(rhs, sp.Eq) else rhs
    expanded = sp.expand(rhs)
    dbox = {name: decoupling.domain[name] for name in sorted({v.name for v in rhs.free_symbols})}
    cases = (("logistic, tanh rewrite", with_tanh, solution, box), ("decoupling_2x2, expanded", expanded, rhs, dbox))
    print(f"{'verdict':28s} {'level':>6s} {'numeric only s':>15s} {'with opinion s':>15s}  opinion")
    for name, candidate, reference, domain in cases:
        level = equivalent(candidate, reference, domain=domain).level
        fast = _best(lambda c=candidate, r=reference, d=domain: equivalent(c, r, domain=d), args.repeats)
        start = time.perf_counter()
        asked = equivalent(candidate, reference, domain=domain, simplify_timeout=5.0)
        slow = time.perf_counter() - start
        print(f"{name:28s} {level:>6s} {fast:15.3f} {slow:15.3f}  {asked.simplify}")

    x = np.linspace(0.1, 3.0, 300)
    zeta = sp.Symbol("zeta", real=True)
    candidate = sp.Float(1.0003) * sp.exp(sp.Float(0.9998) * zeta) - sp.Float(0.9991) * sp.exp(-sp.Float(1.0002) * zeta)
    y = 2 * np.sinh(x)
    seconds = _best(lambda: polish(candidate, x[:, None], y, ["zeta"]), args.repeats)
    print(f"polish of a 4-constant candidate on 300 rows: {seconds * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
