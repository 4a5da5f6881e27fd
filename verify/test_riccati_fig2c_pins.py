"""Pins of what the Fig. 2C checks (``gd_agreement_fig2c``, ``gd_agreement_richardson`` of riccati_qqt) record and
draw, against independent computations: the figure's architecture is the documented one and its curves are GD and
Theorem 3.1 computed here by `simulate.train` and `theory.riccati.qqt`; the evidence holds the numbers the summary
prints and the figure of errors against η reads; the redraw count is the one the draw made.

The committed row (verify/test_committed_reports.py) pins the printed extrema only; a change of the figure, of the
agreement record or of a count that happens to be 0 at the page's seed leaves it as it was. Each test runs its
check once (the 56-architecture check is about a minute on one core).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from simulate import DeepLinear, Task, train
from theory.riccati import qqt
from theory.riccati_checks import task_svd
from verify.agreement import fit_order
from verify.report import curves_for, figures_for
from verify.suite import run_check
from verify.suite.riccati import (
    FIG2C_ETAS,
    N_ARCHITECTURES,
    RICHARDSON_ARCHITECTURES,
    RICHARDSON_MAX_DIM,
    TOL_COEFF,
    coupling,
    random_architectures,
)

PAGE = Path(__file__).resolve().parents[1] / "reports" / "riccati_qqt.md"


def _modes(sigma_yx: np.ndarray, Ni: int, q: np.ndarray) -> np.ndarray:
    """ũ_αᵀ W2W1 ṽ_α for every recorded time, W2W1 being the lower-left block of QQᵀ."""
    ts = task_svd(sigma_yx)
    w21 = q[:, Ni:, :Ni]
    return np.stack([ts.u_m[:, a] @ w21 @ ts.v_m[:, a] for a in range(ts.n_m)], axis=-1)


def test_fig2c_figure_and_evidence_are_the_measurement_the_page_shows():
    result = run_check("riccati_qqt", "gd_agreement_fig2c", 0)
    archs = random_architectures(N_ARCHITECTURES, 0)
    # the figure: the first architecture with Ni ≠ No and an init scale below 1e-2 (a small-init, rectangular one),
    # titled as the committed page's caption
    a = next(a for a in archs if a.Ni != a.No and a.scale < 0.01)
    curves = curves_for("riccati_qqt", [result])
    assert curves is result.evidence["curves"]
    caption = re.search(r"!\[(riccati_qqt: GD \(solid\) vs Theorem 3\.1[^\]]*)\]", PAGE.read_text()).group(1)
    assert curves.title == caption
    assert f"(Ni, Nh, No) = ({a.Ni}, {a.Nh}, {a.No}), scale {a.scale:.0e}" in caption
    assert figures_for("riccati_qqt", [result])[0][:2] == ("riccati_qqt_theory_vs_simulation.png", caption)
    assert (curves.xlabel, curves.ylabel) == ("t / τ", "mode strength ũ_αᵀ W2W1 ṽ_α")
    assert [label for label, _, _ in curves.simulated] == [f"GD η = {eta:g}" for eta in FIG2C_ETAS]
    times = np.linspace(0.0, 16.0, 321)  # t/τ ≤ 16 every 0.05
    th_t, th_modes = curves.theory
    np.testing.assert_allclose(th_t, times, rtol=0, atol=1e-12)
    # the dashed curves are Theorem 3.1's mode strengths of that architecture (the same float64 evaluation)
    np.testing.assert_allclose(th_modes, _modes(a.sigma_yx, a.Ni, qqt(a.W1, a.W2, a.sigma_yx, times)), atol=1e-13)
    # the solid ones are GD: `simulate.train` of that architecture (unpadded, torch) at the two coarser η
    X = np.eye(a.Ni) * np.sqrt(a.Ni)
    task = Task(X, a.sigma_yx @ X)
    gd = {}
    for (_, t, sim), eta in zip(curves.simulated[:2], FIG2C_ETAS[:2], strict=True):
        traj = train(DeepLinear((a.Ni, a.Nh, a.No)), (a.W1, a.W2), task, eta=eta, times=times)
        W1, W2 = traj.weights[0][:, 0], traj.weights[1][:, 0]
        Q = np.concatenate([np.swapaxes(W1, -1, -2), W2], axis=-2)
        gd[eta] = Q @ np.swapaxes(Q, -1, -2)
        np.testing.assert_allclose(t, times, rtol=0, atol=1e-12)
        # two GD loops over ≤ 3200 steps of O(1) numbers, differing in summation order only: round-off
        np.testing.assert_allclose(sim, _modes(a.sigma_yx, a.Ni, gd[eta]), rtol=0, atol=1e-11)

    # the evidence: per-η, per-architecture errors whose maxima the summary prints, and the record the error-vs-η
    # figure reads (tolerances of the derived bound, relative errors, ratios, fitted order)
    errors, agr = result.evidence["errors"], result.evidence["agreement"]
    assert errors.shape == (len(FIG2C_ETAS), N_ARCHITECTURES)
    worst = errors.max(axis=1)
    printed = re.search(r"η=0\.05: (\S+), η=0\.005: (\S+), η=0\.0005: ([^;]+);", result.summary).groups()
    assert [f"{w:.3g}" for w in worst] == list(printed)
    assert agr.etas == FIG2C_ETAS and agr.max_abs_error == tuple(worst)
    s_max2 = np.array([np.linalg.svd(a.sigma_yx, compute_uv=False)[0] ** 2 for a in archs])
    np.testing.assert_allclose(agr.max_rel_error, (errors / s_max2).max(axis=1), rtol=1e-15)
    b_min = np.array([coupling(a.W1, a.W2, a.sigma_yx).b_min for a in archs])
    bound = TOL_COEFF * np.max(s_max2 * (1.0 + np.log(2.0 / b_min)))  # 0.82·η·s̃_max²·(1 + ln(2/σ_min(B)))
    np.testing.assert_allclose(agr.tolerance, [bound * eta for eta in FIG2C_ETAS], rtol=1e-12)
    np.testing.assert_allclose(agr.ratios, worst[:-1] / worst[1:], rtol=1e-15)
    assert agr.order == pytest.approx(fit_order(FIG2C_ETAS, worst), rel=1e-15)
    assert (agr.expected_order, agr.order_tol) == (1.0, 0.15)
    # the agreement keeps, per η, the figure's architecture's curves: its recorded times, GD and Theorem 3.1 modes
    assert [s.eta for s in agr.series] == list(FIG2C_ETAS)
    for s, (_, _, sim) in zip(agr.series, curves.simulated, strict=True):
        np.testing.assert_allclose(s.t, times, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(s.simulated, sim)
        np.testing.assert_array_equal(s.theory, th_modes)
    orders = result.evidence["orders"]
    np.testing.assert_allclose(orders, [fit_order(FIG2C_ETAS, errors[:, i]) for i in range(len(archs))], rtol=1e-15)
    assert f"per-architecture order {orders.min():.3f}-{orders.max():.3f};" in result.summary
    assert result.evidence["couplings"] == [coupling(a.W1, a.W2, a.sigma_yx) for a in archs]
    # errors of the figure's architecture at the two coarser η, measured here from `simulate.train` and qqt
    i = archs.index(a)
    theory = qqt(a.W1, a.W2, a.sigma_yx, times)
    for j, eta in enumerate(FIG2C_ETAS[:2]):
        assert errors[j, i] == pytest.approx(np.abs(gd[eta] - theory).max(), abs=1e-11)


def test_fig2c_richardson_counts_the_redrawn_inits_and_keeps_its_agreement():
    """At seed 9 the Richardson check's draw redraws one init (case 5, below a floor): the summary says so, and
    its evidence is the extrapolated agreement whose errors and tolerances the summary prints."""
    archs = random_architectures(RICHARDSON_ARCHITECTURES, 9, max_dim=RICHARDSON_MAX_DIM)
    assert [a.redrawn for a in archs].count(1) == 1 and sum(a.redrawn for a in archs) == 1
    result = run_check("riccati_qqt", "gd_agreement_richardson", 9)
    assert "(1 redrawn to reach the floors)" in result.summary
    agr = result.evidence["agreement"]
    assert agr.extrapolation == 2 and agr.expected_order == 3.0
    assert str(agr) in result.summary


def test_fig2c_counts_the_redrawn_inits():
    """At seed 3 one of the 56 Fig. 2C inits is drawn again (below a floor): the summary says 1 was redrawn."""
    assert [a.redrawn for a in random_architectures(N_ARCHITECTURES, 3) if a.redrawn] == [1]
    result = run_check("riccati_qqt", "gd_agreement_fig2c", 3)
    assert "(floor 0.1; 1 redrawn to reach it and σ_min(B) ≥ 0.001)" in result.summary
