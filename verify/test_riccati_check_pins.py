"""Pins of what the Riccati (Theorem 3.1/3.2) and Fukumizu checks measured, against their documented recipes.

The committed reports pin the verdicts and the printed summaries, which show round-off below a floor ("< 1e-13"),
so a change of the recipe (a time grid, a spectrum, an architecture, an init scale) leaves them as they were. Each
test here rebuilds the measurement its check's docstring describes, from the public functions and the check's own
case builder, and requires the evidence to be exactly that number: the evidence must say what was measured, and
the summary must print it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulate import decoupled_init, prescribed_task
from theory import get_law
from theory.decoupling import aligned_qqt
from theory.riccati import qqt, qqt_limit
from theory.riccati_checks import task_svd
from theory.riccati_fukumizu import qqt_fukumizu, qqt_fukumizu_mp
from verify.numbers import error_text
from verify.report import curves_for, figures_for
from verify.suite import NO_FAULT, run_check
from verify.suite.riccati import (
    LONG_DIMS,
    LONG_SCALES,
    RICHARDSON_RECORD,
    TOL_COEFF,
    TOL_FLOOR,
    _coupled_case,
    _CouplingLog,
    _extrapolation_runs,
    _fukumizu_verdict,
    constants_in_band,
    coupling,
    evaluation_error,
    independent_seeds,
    random_architectures,
)


# Seeds beyond 0: at seed 0 the largest coupling is the last architecture's, and round-off maxima on a coarser or
# finer time grid coincide; at seed 2 neither holds, so the evidence must be the running maximum on the 41 times.
@pytest.mark.parametrize("seed", [0, 2])
def test_aligned_evidence_is_the_documented_measurement(seed):
    # docstring: four architectures (two with Ni ≠ No), spectrum 2 … 0.5, u0 ∈ [1e-3, 1], t/τ ∈ [0, 20]
    times = np.arange(41) * 0.5
    worst_c = worst_perp = worst_q = 0.0
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4), (3, 7, 9))):
        r = min(Ni, No)
        task_seed, init_seed = independent_seeds(seed, k)
        task = prescribed_task(list(np.linspace(2.0, 0.5, r)), Ni=Ni, No=No, seed=task_seed)
        W1, W2 = decoupled_init(task, Nh, np.geomspace(1e-3, 1.0, r), seed=init_seed)
        cpl = coupling(W1[0], W2[0], task.sigma_yx)
        worst_c, worst_perp = max(worst_c, cpl.c), max(worst_perp, cpl.perp)
        worst_q = max(
            worst_q,
            float(
                np.abs(qqt(W1[0], W2[0], task.sigma_yx, times) - aligned_qqt(W1[0], W2[0], task.sigma_yx, times)).max()
            ),
        )
    result = run_check("riccati_qqt", "aligned_init_decouples", seed=seed)
    np.testing.assert_allclose(result.evidence["times"], times, rtol=0, atol=1e-15)
    assert result.evidence["max_c"] == worst_c
    assert result.evidence["max_perp"] == worst_perp
    assert result.evidence["max_coupling"] == max(worst_c, worst_perp)
    assert result.evidence["max_error"] == worst_q
    assert f"⊥ mass) {error_text(max(worst_c, worst_perp), floor=1e-13)} (tol 1e-12)" in result.summary
    assert f"over t ≤ 20: {error_text(worst_q, floor=1e-13)} (tol 1e-12)" in result.summary


# at seed 0 the worst distance is a round-off step (4.4e-16) that many spectra share; at seed 1 it is not
@pytest.mark.parametrize("seed", [0, 1])
def test_long_times_evidence_is_the_distance_to_the_limit_at_1e4_and_1e6(seed):
    worst, log = 0.0, _CouplingLog()
    for k, dims in enumerate(LONG_DIMS):
        task, inits = _coupled_case(seed, k, dims, np.linspace(2.0, 0.5, min(dims[0], dims[2])), LONG_SCALES, log)
        for W1, W2 in inits:
            q = qqt(W1, W2, task.sigma_yx, [1e4, 1e6])
            assert np.all(np.isfinite(q))
            worst = max(worst, float(np.abs(q - qqt_limit(task.sigma_yx)).max()))
    result = run_check("riccati_qqt", "stable_at_long_times", seed=seed)
    assert result.evidence["times"] == [1e4, 1e6]
    assert result.evidence["max_error"] == worst
    assert f"QQᵀ(∞)|: {error_text(worst, floor=1e-14)} (tol 1e-13)" in result.summary


# The block errors are round-off steps (2.2e-16, 4.4e-16) that many cases share at seed 0; at seeds 2, 3 and 35 the
# worst one sits in a block, an architecture or an init that seed 0 does not single out.
@pytest.mark.parametrize("seed", [0, 2, 3, 35])
def test_limits_evidence_covers_all_three_blocks_at_t_200_and_2000(seed):
    law = get_law("riccati_limits")
    worst, log = 0.0, _CouplingLog()
    by_block = dict.fromkeys(("W2W1_inf", "W1tW1_inf", "W2W2t_inf"), 0.0)
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4))):
        task, inits = _coupled_case(seed, k, (Ni, Nh, No), np.linspace(2.0, 0.5, min(Ni, No)), (1e-3, 0.1, 2.0), log)
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
            blocks.append((name, rows, cols, value))
        for W1, W2 in inits:
            q = qqt(W1, W2, task.sigma_yx, [200.0, 2000.0])
            for name, rows, cols, value in blocks:
                err = float(np.abs(q[:, rows, cols] - value).max())
                worst, by_block[name] = max(worst, err), max(by_block[name], err)
    result = run_check("riccati_limits", "theorem_3_2_limits", seed=seed)
    # docstring: t/τ = 200 and 2000, three architectures, init scales 1e-3, 0.1, 2
    assert result.evidence["times"] == [200.0, 2000.0]
    assert result.evidence["scales"] == (1e-3, 0.1, 2.0)
    assert result.evidence["architectures"] == ((3, 3, 3), (5, 4, 3), (2, 4, 4))
    assert result.evidence["block_errors"] == by_block
    assert result.evidence["max_error"] == worst
    assert f"at t = 200, 2000: {error_text(result.evidence['max_error'], floor=1e-14)} (tol 1e-13)" in result.summary


# at seed 0 the worst differences come from one architecture and one time; at seeds 5, 7, 14 and 19 from others
@pytest.mark.parametrize("seed", [0, 5, 7, 14, 19])
def test_fukumizu_evidence_is_float64_to_t3_and_mpmath_at_30_and_100(seed):
    worst64 = worst_mp = 0.0
    log = _CouplingLog()
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4), (4, 6, 2), (3, 5, 3))):
        task, [(W1, W2)] = _coupled_case(seed, k, (Ni, Nh, No), np.linspace(1.5, 0.5, min(Ni, No)), (0.05,), log)
        args = (W1, W2, task.sigma_yx)
        short, long = [0.0, 0.5, 1.0, 2.0, 3.0], [30.0, 100.0]
        worst64 = max(worst64, float(np.abs(qqt_fukumizu(*args, short) - qqt(*args, short)).max()))
        worst_mp = max(worst_mp, float(np.abs(qqt_fukumizu_mp(*args, long) - qqt(*args, long)).max()))
    result = run_check("fukumizu_qqt", "agrees_with_theorem_3_1", seed=seed)
    assert result.evidence["times_float64"] == [0.0, 0.5, 1.0, 2.0, 3.0]
    assert result.evidence["times_mpmath"] == [30.0, 100.0]
    assert result.evidence["float64"] == worst64
    assert result.evidence["mpmath"] == worst_mp
    assert f"float64 t ≤ 3: max diff {error_text(worst64, floor=2e-12)}" in result.summary
    assert f"{log}; float64 t ≤ 3" in result.summary  # the couplings of exactly these five draws
    assert f"mpmath t = 30, 100: {error_text(worst_mp, floor=1e-13)}" in result.summary


def test_gd_constant_band_is_closed_at_both_ends():
    # constants_in_band's documented band: "at or below TOL_COEFF everywhere and at least TOL_FLOOR somewhere"
    assert constants_in_band(np.array([TOL_FLOOR, 0.01]))
    assert constants_in_band(np.array([[TOL_COEFF, 0.3]]))
    assert not constants_in_band(np.array([np.nextafter(TOL_FLOOR, 0.0)]))
    assert not constants_in_band(np.array([np.nextafter(TOL_COEFF, 1.0)]))


def test_evaluation_allowance_is_eps_times_s_max_over_b_min_squared():
    # EVAL_COEFF·ε·s̃_max/σ_min(B)² with EVAL_COEFF = 1 (the comment above `evaluation_error`)
    eps = np.finfo(float).eps
    assert evaluation_error(0.01, 1.5) == pytest.approx(eps * 1.5 / 1e-4, rel=1e-14)
    assert evaluation_error(0.005, 1.5) == pytest.approx(4 * evaluation_error(0.01, 1.5), rel=1e-14)  # ∝ 1/σ_min²
    assert evaluation_error(0.01, 3.0) == pytest.approx(2 * evaluation_error(0.01, 1.5), rel=1e-14)  # ∝ s̃_max
    # it covers the float64 errors measured against the 30-digit form: 7.7e-10 at σ_min(B) = 3e-4 (seed 19) and
    # 3.6e-10 at 6e-4 (seed 12), with QQᵀ's scale s̃_max = 1.5
    assert evaluation_error(3e-4, 1.5) >= 7.7e-10 and evaluation_error(6e-4, 1.5) >= 3.6e-10


def _smallest_b(seed: int, spectrum_top: float, scale: float, dims) -> float:
    log = _CouplingLog()
    b = []
    for k, (Ni, Nh, No) in enumerate(dims):
        s = np.linspace(spectrum_top, 0.5, min(Ni, No))
        task, [(W1, W2)] = _coupled_case(seed, k, (Ni, Nh, No), s, (scale,), log)
        b.append(coupling(W1, W2, task.sigma_yx).b_min)
    return min(b)


# seeds whose draws come close enough to a singular B (Assumption 3.1) that qqt's float64 allowance shows in the
# printed tolerance (at seed 0 σ_min(B) ≥ 0.09 and it rounds away)
@pytest.mark.parametrize("seed", [5, 19])
def test_fukumizu_tolerances_add_qqts_evaluation_allowance_at_the_smallest_b(seed):
    dims = ((3, 3, 3), (5, 4, 3), (2, 4, 4), (4, 6, 2), (3, 5, 3))
    allowance = np.finfo(float).eps * 1.5 / _smallest_b(seed, 1.5, 0.05, dims) ** 2
    tol64, tol_mp = 1e-11 + allowance, 1e-12 + allowance
    assert tol64 > 1.05e-11  # the allowance is visible at two digits at this seed
    result = run_check("fukumizu_qqt", "agrees_with_theorem_3_1", seed=seed)
    assert result.passed, result.summary
    assert f"(tol {tol64:.2g}); mpmath t = 30, 100" in result.summary
    assert result.summary.endswith(f"(tol {tol_mp:.2g})")


# seed 0 as committed; 7 and 18 draw σ_min(B) small enough that the allowance shows, and a worst residual at a time
# and an architecture that seed 0 does not single out; seeds 12 and 19 are the ones the allowance was measured at
@pytest.mark.parametrize("seed", [0, 7, 12, 18, 19])
def test_sympy_check_prints_the_riccati_residual_of_central_differences_and_its_tolerance(seed):
    # docstring: coupled inits of three architectures, spectrum 1.5 … 0.5, scale 0.1; the SymPy form against qqt at
    # t = 0, 0.7, 3, 8, and the Riccati equation τ dQQᵀ/dt = F QQᵀ + QQᵀF − (QQᵀ)² by central differences (h = 1e-4)
    f = get_law("riccati_qqt").compiled()
    worst_form = worst_ode = allowance = 0.0
    log = _CouplingLog()
    for k, (Ni, Nh, No) in enumerate(((3, 3, 3), (5, 4, 3), (2, 4, 4))):
        task, [(W1, W2)] = _coupled_case(seed, k, (Ni, Nh, No), np.linspace(1.5, 0.5, min(Ni, No)), (0.1,), log)
        allowance = max(allowance, np.finfo(float).eps * 1.5 / coupling(W1, W2, task.sigma_yx).b_min ** 2)
        u, s, vt = np.linalg.svd(W2 @ W1, full_matrices=False)
        ts = task_svd(task.sigma_yx)
        args = {"U": u, "S": np.diag(s), "V": vt.T, "U_tilde": ts.u_m, "S_tilde": np.diag(ts.s), "V_tilde": ts.v_m}
        args |= {"U_tilde_perp": ts.u_perp, "V_tilde_perp": ts.v_perp, "tau": 1.0}
        F = np.block([[np.zeros((Ni, Ni)), task.sigma_yx.T], [task.sigma_yx, np.zeros((No, No))]])
        for t in (0.0, 0.7, 3.0, 8.0):
            q = qqt(W1, W2, task.sigma_yx, [max(t - 1e-4, 0.0), t, t + 1e-4])
            worst_form = max(worst_form, float(np.abs(f(t=t, **args) - q[1]).max()))
            if t:
                rhs = F @ q[1] + q[1] @ F - q[1] @ q[1]  # by hand, not the law's lambdified riccati_rhs
                worst_ode = max(worst_ode, float(np.abs((q[2] - q[0]) / 2e-4 - rhs).max()))
    tol_form, tol_ode = 1e-13 + allowance, 1e-7 + allowance / 5e-5  # the allowance over h/2 for the difference
    result = run_check("riccati_qqt", "sympy_equation_matches_numeric", seed=seed)
    assert result.passed, result.summary
    assert result.evidence["times"] == (0.0, 0.7, 3.0, 8.0)
    assert result.evidence["form_error"] == worst_form
    # the law's lambdified right-hand side and the one written by hand above agree to round-off
    assert result.evidence["residual"] == pytest.approx(worst_ode, rel=1e-6)
    assert f"|SymPy form − qqt|: {error_text(worst_form, floor=1e-14)} (tol {tol_form:.2g})" in result.summary
    assert f"Riccati residual ≤ {worst_ode:.1e} (tol {tol_ode:.2g};" in result.summary


def test_rank_deficient_gd_checks_feed_the_pages_figures_labelled_entries_of_qqt():
    # the committed page's captions (reports/fukumizu_qqt.md) come from gd_agreement_rank_deficient's agreement
    page = (Path(__file__).resolve().parents[1] / "reports" / "fukumizu_qqt.md").read_text()
    gd = run_check("fukumizu_qqt", "gd_agreement_rank_deficient")
    figures = figures_for("fukumizu_qqt", [gd])
    assert [(name, caption) for name, caption, _ in figures] == [
        (
            "fukumizu_qqt_theory_vs_simulation.png",
            "fukumizu_qqt.gd_agreement_rank_deficient: GD (solid) against the law (dashed)",
        ),
        ("fukumizu_qqt_error_vs_eta.png", "fukumizu_qqt.gd_agreement_rank_deficient: error against η"),
    ]
    assert all(f"*{caption}*" in page for _, caption, _ in figures)
    # both GD checks of the law record entries of QQᵀ, and say so on the figure's y axis
    for check in (gd, run_check("fukumizu_qqt", "gd_agreement_richardson")):
        assert check.evidence["ylabel"] == "entries of QQᵀ"
        curves = curves_for("fukumizu_qqt", [check])
        assert curves is not None and curves.ylabel == "entries of QQᵀ"
        assert curves.title == f"fukumizu_qqt.{check.name}: GD (solid) against the law (dashed)"


def test_extrapolation_runs_of_one_architecture_are_gd_and_theorem_3_1_at_the_recorded_times():
    [a] = random_architectures(1, 0, max_dim=3)
    theory, simulate = _extrapolation_runs([a], 0.4, NO_FAULT)
    eta = 0.01
    t, values = simulate(eta)
    n = a.Ni + a.No
    recorded = np.arange(0.4 / (RICHARDSON_RECORD * eta) + 1) * RICHARDSON_RECORD * eta  # every 4th step, to 0.4τ
    assert values.shape == t.shape == (len(recorded), n * n)
    np.testing.assert_allclose(t, np.broadcast_to(recorded[:, None], t.shape), rtol=0, atol=1e-15)
    # GD written out by hand: E = W2W1 − Σyx, W1 ← W1 − ηW2ᵀE, W2 ← W2 − ηEW1ᵀ, QQᵀ of Q = [W1ᵀ; W2]
    W1, W2, by_hand = a.W1.copy(), a.W2.copy(), []
    for step in range(round(0.4 / eta) + 1):
        if step % RICHARDSON_RECORD == 0:
            Q = np.concatenate([W1.T, W2])
            by_hand.append((Q @ Q.T).ravel())
        E = W2 @ W1 - a.sigma_yx
        W1, W2 = W1 - eta * W2.T @ E, W2 - eta * E @ W1.T
    np.testing.assert_allclose(values, np.array(by_hand), rtol=0, atol=1e-12)
    np.testing.assert_allclose(theory(t), qqt(a.W1, a.W2, a.sigma_yx, recorded).reshape(len(recorded), -1), atol=0)


def test_fukumizu_verdict_fails_on_each_clause_alone_and_passes_at_its_tolerances():
    ok64, ok_mp = (1e-11, 1e-11), (1e-12, 1e-12)  # errors equal to their tolerances pass ("within")
    assert _fukumizu_verdict(True, ok64, ok_mp)
    assert not _fukumizu_verdict(False, ok64, ok_mp)  # inits not coupled: the C and ⊥ terms were not exercised
    assert not _fukumizu_verdict(True, (np.nextafter(1e-11, 1.0), 1e-11), ok_mp)  # float64 comparison alone
    assert not _fukumizu_verdict(True, ok64, (np.nextafter(1e-12, 1.0), 1e-12))  # mpmath comparison alone
