"""Layer balance (LAWS.md §8)."""

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from simulate import DeepLinear, TaskTensors, gaussian_init, random_regression
from theory import get_law
from theory.balance import gd_drift, imbalance
from verify.conftest import law_checks
from verify.suite import Fault, run_check

law = get_law("layer_balance")


@pytest.mark.parametrize(("law_name", "name"), law_checks("layer_balance"))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def test_symbolic_check_detects_a_wrong_drift():
    """The symbolic identity is not vacuous: a first-order drift ηG_lG_lᵀ leaves a non-zero residual."""
    sym = law.symbols
    Wl, Wn, eta = sym["W_l"], sym["W_next"], sym["eta"]
    H = sp.MatrixSymbol("H", Wn.shape[0], Wl.shape[1])
    Gl, Gn = Wn.T * H, H * Wl.T
    before = law.equations[1].rhs
    after = before.xreplace({Wl: Wl - eta * Gl, Wn: Wn - eta * Gn})
    wrong = eta * (Gl * Gl.T - Gn.T * Gn)
    assert sp.expand(after - before - wrong) != sp.ZeroMatrix(*before.shape)


@given(seed=st.integers(0, 10_000), depth=st.integers(2, 4), eta=st.floats(1e-3, 0.1), whitened=st.booleans())
def test_drift_identity_for_random_networks(seed, depth, eta, whitened):
    task = random_regression(Ni=3, No=2, P=12, seed=seed, whitened=whitened)
    sizes = (3,) + (4,) * (depth - 1) + (2,)
    net = DeepLinear(sizes)
    W = [torch.from_numpy(w) for w in gaussian_init(sizes, 0.7, seed=seed)]
    G = net.grads(W, TaskTensors.from_task(task, torch.device("cpu"), torch.float64))
    after = [w - eta * g for w, g in zip(W, G, strict=True)]
    for d0, d1, pred in zip(
        imbalance([w[0].numpy() for w in W]),
        imbalance([w[0].numpy() for w in after]),
        gd_drift([g[0].numpy() for g in G], eta),
        strict=True,
    ):
        # round-off of products of O(1) matrices: ≈ 1e-15; 1e-12 is a wide but still failing-on-error bound
        np.testing.assert_allclose(d1 - d0, pred, atol=1e-12)


def test_numeric_law_matches_helper():
    rng = np.random.default_rng(0)
    g1, g2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    np.testing.assert_allclose(law.numeric("rhs", G_l=g1, G_next=g2, eta=0.1), gd_drift([g1, g2], 0.1)[0])


def test_bad_input():
    with pytest.raises(ValueError, match="columns"):
        imbalance([np.ones((3, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="positive"):
        gd_drift([np.ones((2, 2))] * 2, -1.0)


def test_check_helpers_agree_with_the_library_helpers():
    """The checks compute D_l and the law's drift independently of `imbalance` and `gd_drift` (the helpers they
    verify, which must not supply their own tolerance); both routes must give the same matrices."""
    from verify.suite.balance import _imbalances, _law_drifts

    rng = np.random.default_rng(3)
    ws = [rng.normal(size=(5, 4)), rng.normal(size=(5, 5)), rng.normal(size=(3, 5))]
    gs = [rng.normal(size=w.shape) for w in ws]
    for mine, theirs in zip(_imbalances(ws), imbalance(ws), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-14, atol=1e-14)  # same products: equal to round-off
    for mine, theirs in zip(_law_drifts(gs, 0.05), gd_drift(gs, 0.05), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-14, atol=1e-16)


def test_drift_check_figure_is_its_comparison():
    """The drift figure of ``gd_drift_is_order_eta`` draws what the check compares: max_l,ij |D_l(t) − D_l(0)| of
    each run, whose maximum over t is the agreement's error at that η (the law's D_l(0) is computed from the init,
    the figure's from the run's first record: the same float64 products)."""
    result = run_check("layer_balance", "gd_drift_is_order_eta")
    drawn = [float(v.max()) for _, _, v in result.evidence["curves"].simulated]
    np.testing.assert_allclose(drawn, result.evidence["agreement"].max_abs_error, rtol=0, atol=1e-15)


def test_rate_fault_is_a_symmetry_of_conservation():
    """Why ``gd_drift_is_order_eta`` declares no rate fault: GD stepping η·(1 + 1e-3) still conserves D_l as
    η → 0, and its drift/η moves by about 1e-3 relative (the order fit allows ±15%), so the check passes; the
    per-step check resolves the same rate error ten million times smaller (STEP_FAULT = 1e-10)."""
    clean = run_check("layer_balance", "gd_drift_is_order_eta")
    fast = run_check("layer_balance", "gd_drift_is_order_eta", fault=Fault("rate", 1e-3))
    assert clean.passed and fast.passed
    moved = np.array(fast.evidence["agreement"].max_abs_error) / np.array(clean.evidence["agreement"].max_abs_error)
    assert np.all(np.abs(moved - 1) < 5e-3)  # ≈ 1e-3 (the time the drift accumulates over), not 0: it did step faster
    assert np.all(moved != 1)
    assert not run_check("layer_balance", "gd_per_step_drift", fault=Fault("rate", 1e-3)).passed
