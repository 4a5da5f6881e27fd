"""Cost of the exact solution against simulation: Theorem 3.1 (`theory.riccati.qqt`) evaluated at 1,000 times for
a 50×64×50 linear network, against full-batch GD (`simulate.train`, η = 1e-3) recording QQᵀ at the same times,
and their ratio. Also prints how far GD is from the exact solution there (O(η), LAWS.md §0).

Run: python benchmarks/riccati.py [--n-times N] [--horizon T] [--eta ETA] [--repeats R]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from simulate import DeepLinear, prescribed_task, train, zero_balanced_init
from theory.riccati import qqt


def best_of(repeats: int, fn) -> tuple[float, object]:
    """Smallest wall time of ``repeats`` calls of ``fn()`` and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-times", type=int, default=1000)
    p.add_argument("--horizon", type=float, default=10.0, help="last time t/τ (the times are evenly spaced)")
    p.add_argument("--eta", type=float, default=1e-3)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    Ni, Nh, No = 50, 64, 50
    task = prescribed_task(np.linspace(3.0, 0.5, Ni).tolist(), Ni=Ni, No=No, seed=0)
    W1, W2 = zero_balanced_init(Ni, Nh, No, 1e-2, seed=0, match_task=task)
    # evenly spaced times on the GD grid t = kη
    steps = np.rint(np.linspace(args.horizon / args.n_times, args.horizon, args.n_times) / args.eta)
    times = steps * args.eta
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, float64; Ni = No = {Ni}, Nh = {Nh}")
    print(f"{args.n_times} times up to t/τ = {times[-1]:g}; GD at η = {args.eta:g} ({int(steps[-1])} steps)")

    t_theory, q = best_of(args.repeats, lambda: qqt(W1[0], W2[0], task.sigma_yx, times))
    net = DeepLinear((Ni, Nh, No))
    t_gd, traj = best_of(args.repeats, lambda: train(net, (W1, W2), task, eta=args.eta, times=times))
    Q = np.concatenate([np.swapaxes(traj.weights[0][:, 0], 1, 2), traj.weights[1][:, 0]], axis=1)
    err = float(np.abs(Q @ np.swapaxes(Q, 1, 2) - q).max())

    print(f"qqt (Theorem 3.1) at {args.n_times} times: {t_theory:10.4f} s")
    print(f"GD to the same times:           {t_gd:10.4f} s")
    print(f"ratio GD / qqt:                 {t_gd / t_theory:10.1f}×")
    print(f"max|QQᵀ_GD − QQᵀ| over the times: {err:.2e} (O(η) discretisation error)")


if __name__ == "__main__":
    main()
