"""Pins of what the layer-balance checks record (their evidence and figure) against what they print and document.

The committed report pins each check's verdict and printed row, which show round-off below a floor ("< 1.5e-14") and
three significant figures, so a change of the recipe (the time grid, the number of steps summed into a tolerance, the
scale a tolerance is taken from, a figure label) leaves it as it was. Each test here rebuilds a number the check's
docstring describes, by hand and from the public functions (the chain rule of the loss, `theory.balance.imbalance`),
and requires the evidence or the summary to be exactly that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from simulate import DeepLinear, gaussian_init, random_regression, train
from theory import get_law
from theory.balance import imbalance
from verify.numbers import error_text
from verify.report import curves_for, figures_for
from verify.suite import Fault, run_check

LAW = "layer_balance"
REPORT = Path(__file__).resolve().parents[1] / "reports" / f"{LAW}.md"
# the recipe of both GD checks (verify/suite/balance.py): Ni = 4, No = 3, P = 30 non-whitened items, widths 4-5-5-3,
# Gaussian init of scale 0.5, all drawn from the seed
SIZES = (4, 5, 5, 3)
DRIFT_ETAS = (0.005, 0.0025, 0.00125)  # the step sizes of gd_drift_is_order_eta, its docstring


def _gd(seed: int, eta: float, steps: int):
    """GD on the checks' task and init, recorded at every step k = 0 … steps."""
    task = random_regression(Ni=4, No=3, P=30, seed=seed, whitened=False)
    W0 = gaussian_init(SIZES, 0.5, seed=seed)
    return task, train(DeepLinear(SIZES), W0, task, eta=eta, times=np.arange(steps + 1) * eta)


# ---- symbolic_drift_identity --------------------------------------------------------------------------------------


def test_symbolic_evidence_is_the_printed_residual_zero():
    result = run_check(LAW, "symbolic_drift_identity")
    assert result.passed
    assert result.evidence == {"residual": "0"}
    assert result.summary.endswith(f"= {result.evidence['residual']}")


def test_symbolic_residual_under_a_wrong_drift_is_minus_delta_times_the_second_order_change():
    """Under a law fault δ the check prints what is left: one GD step with G_l = W_{l+1}ᵀH, G_{l+1} = HW_lᵀ (H the
    gradient of the loss in the end-to-end map, No × Ni) changes D_l by, expanding by hand,
    (W_l − ηW_{l+1}ᵀH)(…)ᵀ − (W_{l+1} − ηHW_lᵀ)ᵀ(…) − D_l = η²(W_{l+1}ᵀHHᵀW_{l+1} − W_lHᵀHW_lᵀ) (the η terms
    cancel), so the residual against (1 + δ) times that is −δ times it, in the symbols the docstring names."""
    delta = 1e-12
    result = run_check(LAW, "symbolic_drift_identity", fault=Fault("law", delta))
    assert not result.passed
    sym = get_law(LAW).symbols
    Wl, Wn, eta = sym["W_l"], sym["W_next"], sym["eta"]
    H = sp.MatrixSymbol("H", Wn.shape[0], Wl.shape[1])
    # the fault scales SymPy quantities by the float's exact value (verify/suite/__init__.py, Fault._scale)
    expected = sp.expand(-sp.Rational(delta) * eta**2 * (Wn.T * H * H.T * Wn - Wl * H.T * H * Wl.T))
    assert result.evidence == {"residual": str(expected)}
    assert result.summary.startswith(f"D(W − ηG) − D(W) − η²(G_lG_lᵀ − G_{{l+1}}ᵀG_{{l+1}}) = {expected}")


# ---- gd_per_step_drift --------------------------------------------------------------------------------------------


def test_per_step_evidence_is_the_printed_error_and_largest_predicted_drift():
    result = run_check(LAW, "gd_per_step_drift")
    ev = result.evidence
    assert set(ev) == {"max_error", "max_drift"}
    assert f"largest predicted entry {ev['max_drift']:.3g}," in result.summary
    # the tolerance is 1e-13·max|D| (1.49 at seed 0) and the error is shown below a tenth of it
    assert f"|ΔD − η²(GGᵀ − GᵀG)|: {error_text(ev['max_error'], floor=1.49e-14)} (tol 1.5e-13)" in result.summary
    assert 0 <= ev["max_error"] <= 1.5e-13


@pytest.mark.parametrize("seed", [0, 149])
def test_per_step_tolerance_scales_with_the_seeds_largest_imbalance_and_never_below_1e_13(seed):
    """The round-off of D_l = W_lW_lᵀ − W_{l+1}ᵀW_{l+1} grows with its entries: the tolerance is 1e-13·max|D_l|
    over the 200 steps, but at least 1e-13. Seed 149 is a draw whose imbalances all stay below 1 (0.94), where the
    floor applies; seed 0's reach 1.49."""
    _, traj = _gd(seed, 0.05, 200)
    scale = max(float(np.max(np.abs(d))) for k in range(200) for d in imbalance([w[k, 0] for w in traj.weights]))
    assert (scale < 1) == (seed == 149)
    result = run_check(LAW, "gd_per_step_drift", seed=seed)
    assert result.summary.endswith(f"max|D| {scale:.3g}")
    assert f"(tol {1e-13 * max(1.0, scale):.2g});" in result.summary


# ---- gd_drift_is_order_eta ----------------------------------------------------------------------------------------


def test_drift_figure_is_the_pages_figure_labelled_with_what_it_draws():
    check = run_check(LAW, "gd_drift_is_order_eta")
    curves = curves_for(LAW, [check])
    assert curves is check.evidence["curves"]  # the law's figure is this check's explicit curves
    drawn = "max_l,ij |D_l(t) − D_l(0)|"  # the drift of every entry of every D_l from its conserved value
    assert curves.title == f"{LAW}: GD's drift of the conserved imbalances, {drawn} (law: 0, O(η) in GD)"
    assert curves.xlabel == "t / τ"  # every law is written in t/τ (DESIGN.md)
    assert curves.ylabel == drawn
    assert curves.theory is None  # the law's drift is 0: no dashed curve
    # the committed page shows this figure under this caption
    (name, caption, _), *_ = figures_for(LAW, [check])
    assert (name, caption) == (f"{LAW}_theory_vs_simulation.png", curves.title)
    lines = REPORT.read_text().splitlines()
    assert f"![{curves.title}]({name})" in lines
    assert f"*{curves.title}*" in lines


def test_drift_runs_cover_t_in_0_to_2_in_steps_of_eta():
    """The docstring's horizon t ∈ [0, 2], every GD step recorded: the figure's curves and the agreement's series
    (the error-vs-η figure's source) both run over t = kη, k = 0 … 2/η."""
    check = run_check(LAW, "gd_drift_is_order_eta")
    agreement = check.evidence["agreement"]
    assert agreement.etas == DRIFT_ETAS
    drawn = check.evidence["curves"].simulated
    assert [label for label, _, _ in drawn] == [f"GD η = {eta:g}" for eta in DRIFT_ETAS]
    for eta, (_, t, values), series in zip(DRIFT_ETAS, drawn, agreement.series, strict=True):
        grid = np.arange(int(2 / eta + 0.5) + 1) * eta
        assert grid[-1] == pytest.approx(2.0, abs=1e-12)
        np.testing.assert_allclose(t, grid, rtol=0, atol=1e-12)
        np.testing.assert_allclose(series.t, grid, rtol=0, atol=1e-12)
        assert values.shape == (len(grid), 1)
        assert series.simulated.shape == (len(grid), 2 * 5 * 5)  # every entry of D_1, D_2 (5 × 5 each)


def test_drift_tolerance_is_the_triangle_bound_summed_over_every_step():
    """The tolerance at η is Σ_k max_l ‖η²(G_lG_lᵀ − G_{l+1}ᵀG_{l+1})‖₂ over the steps k = 0 … 2/η − 1 that move
    D_l (docstring). Rebuilt here at η = 0.005 with the gradients written out by the chain rule: for
    W = W₃W₂W₁ and L = ½⟨‖y − Wx‖²⟩, H = WΣxx − Σyx and G₁ = (W₃W₂)ᵀH, G₂ = W₃ᵀHW₁ᵀ, G₃ = H(W₂W₁)ᵀ."""
    eta = DRIFT_ETAS[0]
    steps = int(2 / eta + 0.5)
    task, traj = _gd(0, eta, steps)
    W1, W2, W3 = (w[:steps, 0] for w in traj.weights)  # the weights before each step
    H = W3 @ W2 @ W1 @ task.sigma_xx - task.sigma_yx
    G1 = np.swapaxes(W3 @ W2, -1, -2) @ H
    G2 = np.swapaxes(W3, -1, -2) @ H @ np.swapaxes(W1, -1, -2)
    G3 = H @ np.swapaxes(W2 @ W1, -1, -2)

    def change(Ga, Gb):  # η²(G_lG_lᵀ − G_{l+1}ᵀG_{l+1}) at every step, its spectral norm
        d = eta**2 * (Ga @ np.swapaxes(Ga, -1, -2) - np.swapaxes(Gb, -1, -2) @ Gb)
        return np.linalg.norm(d, 2, axis=(-2, -1))

    terms = np.maximum(change(G1, G2), change(G2, G3))
    bound = float(np.sum(terms))
    check = run_check(LAW, "gd_drift_is_order_eta")
    # the same sums of products in another order: equal to round-off (≈ 1e-16 per step, 400 steps)
    assert check.evidence["agreement"].tolerance[0] == pytest.approx(bound, rel=1e-12)
    # every step counts: the last one's term (3.4e-7 at seed 0, the gradients decay along the run) is ≈ 1e-4 of the
    # bound, far outside the round-off allowed above
    assert terms[-1] > 1e-6 * bound
