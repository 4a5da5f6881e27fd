"""Pins of what the Riccati (Theorem 3.1/3.2) and Fukumizu checks measured, against their documented recipes.

The committed reports pin the verdicts and the printed summaries, which show round-off below a floor ("< 1e-13"),
so a change of the recipe (a time grid, a spectrum, an architecture, an init scale) leaves them as they were. Each
test here rebuilds the measurement its check's docstring describes, from the public functions and the check's own
case builder, and requires the evidence to be exactly that number: the evidence must say what was measured, and
the summary must print it.
"""

from __future__ import annotations

import numpy as np

from simulate import decoupled_init, prescribed_task
from theory import get_law
from theory.decoupling import aligned_qqt
from theory.riccati import qqt, qqt_limit
from theory.riccati_checks import task_svd
from theory.riccati_fukumizu import qqt_fukumizu, qqt_fukumizu_mp
from verify.numbers import error_text
from verify.suite import run_check
from verify.suite.riccati import LONG_DIMS, LONG_SCALES, _coupled_case, _CouplingLog, coupling, independent_seeds


def test_aligned_evidence_is_the_documented_measurement():
    # docstring: four architectures (two with Ni ≠ No), spectrum 2 … 0.5, u0 ∈ [1e-3, 1], t/τ ∈ [0, 20]
    times = np.arange(41) * 0.5
    worst_c = worst_q = 0.0
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4), (3, 7, 9))):
        r = min(Ni, No)
        task_seed, init_seed = independent_seeds(0, k)
        task = prescribed_task(list(np.linspace(2.0, 0.5, r)), Ni=Ni, No=No, seed=task_seed)
        W1, W2 = decoupled_init(task, Nh, np.geomspace(1e-3, 1.0, r), seed=init_seed)
        cpl = coupling(W1[0], W2[0], task.sigma_yx)
        worst_c = max(worst_c, cpl.c, cpl.perp)
        worst_q = max(
            worst_q,
            float(
                np.abs(qqt(W1[0], W2[0], task.sigma_yx, times) - aligned_qqt(W1[0], W2[0], task.sigma_yx, times)).max()
            ),
        )
    result = run_check("riccati_qqt", "aligned_init_decouples", seed=0)
    assert result.evidence["max_coupling"] == worst_c
    assert result.evidence["max_error"] == worst_q
    assert f"⊥ mass) {error_text(worst_c, floor=1e-13)} (tol 1e-12)" in result.summary
    assert f"over t ≤ 20: {error_text(worst_q, floor=1e-13)} (tol 1e-12)" in result.summary


def test_long_times_evidence_is_the_distance_to_the_limit_at_1e4_and_1e6():
    worst, log = 0.0, _CouplingLog()
    for k, dims in enumerate(LONG_DIMS):
        task, inits = _coupled_case(0, k, dims, np.linspace(2.0, 0.5, min(dims[0], dims[2])), LONG_SCALES, log)
        for W1, W2 in inits:
            q = qqt(W1, W2, task.sigma_yx, [1e4, 1e6])
            assert np.all(np.isfinite(q))
            worst = max(worst, float(np.abs(q - qqt_limit(task.sigma_yx)).max()))
    result = run_check("riccati_qqt", "stable_at_long_times", seed=0)
    assert result.evidence["max_error"] == worst
    assert f"QQᵀ(∞)|: {error_text(worst, floor=1e-14)} (tol 1e-13)" in result.summary


def test_limits_evidence_covers_all_three_blocks_at_t_200_and_2000():
    law = get_law("riccati_limits")
    worst, log = 0.0, _CouplingLog()
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4))):
        task, inits = _coupled_case(0, k, (Ni, Nh, No), np.linspace(2.0, 0.5, min(Ni, No)), (1e-3, 0.1, 2.0), log)
        ts = task_svd(task.sigma_yx)
        # the three limits of Theorem 3.2, by hand: W2W1 → ŨS̃Ṽᵀ, W1ᵀW1 → ṼS̃Ṽᵀ, W2W2ᵀ → ŨS̃Ũᵀ
        S = np.diag(ts.s)
        args = {"U_tilde": ts.u_m, "S_tilde": S, "V_tilde": ts.v_m}
        blocks = []  # (rows, columns of QQᵀ, the law's limit)
        for name, rows, cols, by_hand in (
            ("W2W1_inf", slice(Ni, None), slice(None, Ni), ts.u_m @ S @ ts.v_m.T),
            ("W1tW1_inf", slice(None, Ni), slice(None, Ni), ts.v_m @ S @ ts.v_m.T),
            ("W2W2t_inf", slice(Ni, None), slice(Ni, None), ts.u_m @ S @ ts.u_m.T),
        ):
            value = law.numeric(name, **{a: args[a] for a in law.arguments(name)})
            # the law's lambdified limits and the hand-written products differ by round-off only
            assert np.allclose(value, by_hand, rtol=0, atol=1e-14)
            blocks.append((rows, cols, value))
        for W1, W2 in inits:
            q = qqt(W1, W2, task.sigma_yx, [200.0, 2000.0])
            for rows, cols, value in blocks:
                worst = max(worst, float(np.abs(q[:, rows, cols] - value).max()))
    result = run_check("riccati_limits", "theorem_3_2_limits", seed=0)
    assert result.evidence["max_error"] == worst
    assert f"at t = 200, 2000: {error_text(result.evidence['max_error'], floor=1e-14)} (tol 1e-13)" in result.summary


def test_fukumizu_evidence_is_float64_to_t3_and_mpmath_at_30_and_100():
    worst64 = worst_mp = 0.0
    log = _CouplingLog()
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4), (4, 6, 2), (3, 5, 3))):
        task, [(W1, W2)] = _coupled_case(0, k, (Ni, Nh, No), np.linspace(1.5, 0.5, min(Ni, No)), (0.05,), log)
        args = (W1, W2, task.sigma_yx)
        short, long = [0.0, 0.5, 1.0, 2.0, 3.0], [30.0, 100.0]
        worst64 = max(worst64, float(np.abs(qqt_fukumizu(*args, short) - qqt(*args, short)).max()))
        worst_mp = max(worst_mp, float(np.abs(qqt_fukumizu_mp(*args, long) - qqt(*args, long)).max()))
    result = run_check("fukumizu_qqt", "agrees_with_theorem_3_1", seed=0)
    assert result.evidence["float64"] == worst64
    assert result.evidence["mpmath"] == worst_mp
    assert f"float64 t ≤ 3: max diff {error_text(worst64, floor=2e-12)}" in result.summary
    assert f"mpmath t = 30, 100: {error_text(worst_mp, floor=1e-13)}" in result.summary
