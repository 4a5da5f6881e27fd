"""Checks of `overparameterized_two_task_forgetting`: the expectation by Monte Carlo with intervals, its derivation
symbolically, and that GD's limit is the minimum-norm learner the law is about."""

from __future__ import annotations

import numpy as np
import sympy as sp

from simulate import DeepLinear, Task, train
from theory import get_law
from theory.overparameterized import min_norm_forgetting
from verify.figures import Curves
from verify.numbers import error_text
from verify.suite import Fault, check, identity

LAW = "overparameterized_two_task_forgetting"

# Monte Carlo design. p = 60 keeps 24 cells × 400 draws under half a second; the per-draw standard deviation of F is
# 0.03-0.28 over the grid (measured), so the standard error of a cell's mean is ≤ 0.014. A cell passes when the law
# lies within Z standard errors of the mean. Z = 4: a false alarm in one of 24 cells has probability ≤ 24 × 6.3e-5
# ≈ 1.5e-3 for an exact law, whatever the seed.
P = 60
NS = (6, 12, 24, 36, 48, 54)
COSINES = (-0.5, 0.0, 0.5, 0.9)
DRAWS = 400
Z = 4.0
# The planted law fault must move a cell beyond Z standard errors: the largest |law|/SE over the grid is ≈ 300
# (n = 54, s = 0: 1.71 against 0.0057), so δ ≥ (Z + |z|)/300 ≈ 0.014 is seen there; 0.03 is twice that.
LAW_FAULT = 0.03


def _teachers(cosine: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit teachers with ⟨w1*, w2*⟩ = cosine (the inputs are isotropic, so any such pair gives the same law)."""
    w1, w2 = np.zeros(P), np.zeros(P)
    w1[0] = 1.0
    w2[0], w2[1] = cosine, np.sqrt(1.0 - cosine**2)
    return w1, w2


def monte_carlo(seed: int) -> dict[tuple[int, float], tuple[float, float]]:
    """(mean, standard error) of F over `DRAWS` Gaussian draws per (n, s) cell; the same inputs serve every s."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in NS:
        X1, X2 = rng.normal(size=(DRAWS, n, P)), rng.normal(size=(DRAWS, n, P))
        for cosine in COSINES:
            F = min_norm_forgetting(X1, X2, *_teachers(cosine))
            out[(n, cosine)] = (float(F.mean()), float(F.std(ddof=1) / np.sqrt(DRAWS)))
    return out


def expectation(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """Monte Carlo means over 24 cells (n/p from 0.1 to 0.9, s from −0.5 to 0.9) cover the law within 4 standard
    errors, and resolve the form without the (n/p)² term."""
    law = get_law(LAW)
    cells = monte_carlo(seed)
    worst, worst_wrong, rows = 0.0, 0.0, []
    for (n, cosine), (mean, se) in cells.items():
        predicted = fault.law(float(law.numeric("rhs", n=n, p=P, s=cosine)))  # a law fault scales the prediction
        without_square = (n / P) * (1 - 2 * cosine)  # a wrong law: the large-p form without its r² term
        worst = max(worst, abs(mean - predicted) / se)
        worst_wrong = max(worst_wrong, abs(mean - without_square) / se)
        rows.append((n / P, cosine, mean, se))
    ok = worst <= Z and worst_wrong > Z
    summary = (
        f"{len(cells)} cells (p = {P}, n/p = {NS[0] / P:.1f} … {NS[-1] / P:.1f}, s = {', '.join(map(str, COSINES))}), "
        f"{DRAWS} draws each: max |mean − law|/SE = {worst:.2f} (≤ {Z:g}); the form r(1 − 2s) without r² is off by "
        f"up to {worst_wrong:.0f} SE (must exceed {Z:g}); SE per cell {min(r[3] for r in rows):.4f} … "
        f"{max(r[3] for r in rows):.4f}"
    )
    ratios = np.array([n / P for n in NS])
    simulated = np.array([[cells[(n, c)][0] for c in COSINES] for n in NS])
    dense = np.linspace(0.05, 0.95, 91)
    curves = Curves(
        f"{LAW}: E[F] against n/p (Monte Carlo means of {DRAWS} draws, p = {P}; law dashed)",
        "n / p",
        "forgetting F = ‖w2 − w1*‖² − ‖w1 − w1*‖²",
        (("Monte Carlo", ratios, simulated),),
        (dense, np.stack([dense * (1 - 2 * c + dense) for c in COSINES], axis=1)),
        columns=tuple(f"s = {c:g}" for c in COSINES),
        markers=True,
    )
    return ok, summary, {"curves": curves, "cells": rows}


check(LAW, "monte_carlo_expectation", faults={"law": LAW_FAULT})(expectation)


def derivation(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """The expectation assembled from E[R] = (n/p)I: (1 − r)² − (1 − r) + 2r(1 − s) = r(1 − 2s + r), and the
    law's (n, p) form equals its ratio form at r = n/p."""
    law = get_law(LAW)
    r, s, n, p = (law.symbols[k] for k in ("r", "s", "n", "p"))
    assembled = (1 - r) ** 2 - (1 - r) + 2 * r * (1 - s)
    box = {"r": (0.01, 0.99), "s": (-1.0, 1.0)}
    first = identity(assembled, fault.law(law.derived["ratio_form"]), box, seed)  # a law fault scales the law side
    second = identity(
        law.equation.rhs, law.derived["ratio_form"].subs(r, n / p), {"n": (1, 50), "p": (60, 200), "s": (-1, 1)}, seed
    )
    ok = first.level == "exact" and second.level == "exact"
    summary = (
        f"(1 − r)² − (1 − r) + 2r(1 − s) = r(1 − 2s + r): {first.level} (max rel residual "
        f"{error_text(first.max_error, floor=1e-30)}); (n/p)(1 − 2s + n/p) = ratio form at r = n/p: {second.level}"
    )
    return ok, summary, {"verdicts": (first, second), "assembled": sp.srepr(assembled)}


check(LAW, "derivation", faults={"law": 1e-12})(derivation)

# GD to convergence reaches the projection (LAWS.md §6.1) to round-off: the contraction 1 − η λ_min⁺ per step is run
# to 1e-16, leaving ≈ steps·ε·‖w‖ ≲ 1e-12 of accumulated round-off; 1e-10 is a hundred times that.
GD_TOL = 1e-10


def gd_limit(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """Two tasks trained by GD (`simulate.train`, one linear layer, zero init, to convergence on each) end where the
    law's learner ends: F from the GD weights equals `min_norm_forgetting` on the same draws."""
    rng = np.random.default_rng(seed)
    p, n, cosine = 30, 10, 0.3
    w1, w2 = np.zeros(p), np.zeros(p)
    w1[0], w2[0], w2[1] = 1.0, cosine, np.sqrt(1 - cosine**2)
    worst, values = 0.0, []
    for _ in range(2):
        X1, X2 = rng.normal(size=(n, p)), rng.normal(size=(n, p))
        weights, ends = (np.zeros((1, p)),), []
        for X, teacher in ((X1, w1), (X2, w2)):
            task = Task(X.T, (X @ teacher)[None, :])
            lam = np.linalg.eigvalsh(task.sigma_xx)
            lam_pos = lam[lam > 1e-9 * lam.max()]
            eta = 1.0 / lam.max()  # stable (< 2/λ_max); contraction per step on the row space: 1 − η λ_min⁺
            steps = int(np.ceil(np.log(1e-16) / np.log(1 - eta * lam_pos.min())))
            traj = train(DeepLinear((p, 1)), weights, task, eta=eta, times=[0.0, steps * eta])
            weights = (traj.weights[0][-1, 0],)
            ends.append(weights[0][0])
        gd = float(np.sum((ends[1] - w1) ** 2) - np.sum((ends[0] - w1) ** 2))
        law = fault.law(float(min_norm_forgetting(X1[None], X2[None], w1, w2)[0]))  # a law fault scales the law's F
        worst = max(worst, abs(gd - law))
        values.append(law)
    ok = worst <= GD_TOL
    summary = (
        f"p = {p}, n = {n}, s = {cosine}, 2 draws: |F_GD − F_min-norm| {error_text(worst, floor=1e-12)} "
        f"(tol {GD_TOL:g}); F = {', '.join(f'{v:.4f}' for v in values)}"
    )
    return ok, summary, {}


# GD's limit does not depend on η (any stable step reaches the projection), so a rate fault is a symmetry of this
# check; the law fault scales the predicted F (0.2-0.6 here) by 1 + 1e-6, i.e. by ≥ 2e-7, 2000× GD_TOL.
check(LAW, "gd_limit", faults={"law": 1e-6})(gd_limit)
