"""Pins of the coupled-init helpers of the Fig. 2C checks (verify/suite/riccati.py) against hand-computed values and
their documented contracts: the coupling measures C, ⊥ and B of Theorem 3.1 as defined, the draws are the documented
ones (shapes, ranges, independent streams, redraws), and the padded GD is plain GD.

The registered checks reach these helpers only through whole 56-architecture runs whose printed summaries show
extrema; each test here calls a helper directly on a small case whose answer is known by hand or by a second method.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulate import prescribed_task, zero_balanced_init
from verify.suite import riccati
from verify.suite.riccati import (
    B_DRAW_FLOOR,
    COUPLING_FLOOR,
    MAX_REDRAWS,
    S_RANGE,
    SCALE_RANGE,
    Coupling,
    _Arch,
    _padded_gd,
    _qqt_of,
    _task_for,
    coupled_init,
    coupling,
    independent_seeds,
    is_coupled,
    product_coupling,
    random_architectures,
)


def _rot(theta: float) -> np.ndarray:
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


@pytest.mark.parametrize(("theta", "phi"), [(0.3, -0.5), (1.0, 0.2), (0.0, 0.7)])
def test_coupling_of_rotated_singular_vectors_is_the_hand_computed_c_and_b(theta, phi):
    """Σyx = diag(2, 1) (Ũ = Ṽ = I) and W2W1 = R(θ) diag(3, 0.5) R(φ)ᵀ: UᵀŨ − VᵀṼ = R(−θ) − R(−φ), whose squared
    Frobenius norm is 4(1 − cos(θ − φ)), so ‖C‖_F/√2 = √(2(1 − cos(θ − φ))); B = R(−θ) + R(−φ) is
    2cos((θ − φ)/2) times a rotation, so σ_min(B) = 2|cos((θ − φ)/2)|; no ⊥ terms (Ni = No). The SVD's joint sign
    choices (U D, V D) change neither norm."""
    w21 = _rot(theta) @ np.diag([3.0, 0.5]) @ _rot(phi).T
    k = product_coupling(w21, np.diag([2.0, 1.0]))
    # a handful of 2×2 SVDs and products of O(1) numbers: round-off ≈ 1e-15
    assert k.c == pytest.approx(np.sqrt(2.0 * (1.0 - np.cos(theta - phi))), abs=1e-13)
    assert k.b_min == pytest.approx(2.0 * abs(np.cos((theta - phi) / 2.0)), abs=1e-13)
    assert k.perp == pytest.approx(0.0, abs=1e-13)


@pytest.mark.parametrize("alpha", [0.4, 1.1])
def test_coupling_of_a_tilted_input_direction_is_the_hand_computed_perp_c_and_b(alpha):
    """Ni = 3, No = 2, Σyx = [[2, 0, 0], [0, 1, 0]] (Ṽ = e1, e2; Ṽ⊥ = e3). W2W1 = diag(3, 0.5)·Vᵀ with V's first
    column tilted by α towards e3: Ṽ⊥ᵀV = [sin α, 0], so ⊥ = |sin α|/√2; UᵀŨ − VᵀṼ = diag(1 − cos α, 0), so
    ‖C‖_F/√2 = (1 − cos α)/√2; B = diag(1 + cos α, 2), σ_min(B) = 1 + cos α."""
    V = np.array([[np.cos(alpha), 0.0], [0.0, 1.0], [np.sin(alpha), 0.0]])
    sigma = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    W1 = V.T  # (Nh = 2, Ni = 3)
    W2 = np.diag([3.0, 0.5])  # (No = 2, Nh = 2): W2W1 = diag(3, 0.5) Vᵀ
    k = coupling(W1.tolist(), W2.tolist(), sigma)  # nested lists are accepted (converted to float64 arrays)
    assert k.perp == pytest.approx(abs(np.sin(alpha)) / np.sqrt(2.0), abs=1e-13)
    assert k.c == pytest.approx((1.0 - np.cos(alpha)) / np.sqrt(2.0), abs=1e-13)
    assert k.b_min == pytest.approx(1.0 + np.cos(alpha), abs=1e-13)
    # the transposed problem (Ni = 2, No = 3) puts the tilt on the output side: Ũ⊥ᵀU carries the same ⊥ mass
    kt = coupling(W2.T, W1.T, sigma.T)
    assert kt.perp == pytest.approx(abs(np.sin(alpha)) / np.sqrt(2.0), abs=1e-13)
    assert kt.c == pytest.approx(k.c, abs=1e-13) and kt.b_min == pytest.approx(k.b_min, abs=1e-13)


def test_coupling_refusals_name_the_shapes_and_the_rank_fix():
    with pytest.raises(ValueError, match=r"^W2 @ W1 has shape \(2, 2\) but Σyx has \(3, 2\); pass matching sizes$"):
        product_coupling(np.eye(2), np.eye(3, 2))
    with pytest.raises(
        ValueError,
        match=r"^coupling needs a full-rank Σyx \(singular values \[2\. 0\.\]\): the signs of its null pairs, and so "
        r"C, are chosen by theory\.riccati\.qqt; measure coupling on a task without zero singular values$",
    ):
        product_coupling(np.eye(2), np.diag([2.0, 0.0]))


def test_is_coupled_needs_each_floor_and_includes_it():
    """Coupled means ‖C‖_F/√Nm ≥ COUPLING_FLOOR, ⊥ mass ≥ COUPLING_FLOOR unless Ni = No, and σ_min(B) ≥
    B_DRAW_FLOOR; each floor is inclusive ("≥") and each condition alone can refuse."""
    at = Coupling(COUPLING_FLOOR, COUPLING_FLOOR, B_DRAW_FLOOR)
    assert is_coupled(at, square=False) and is_coupled(at, square=True)
    below = np.nextafter(COUPLING_FLOOR, 0.0)
    assert not is_coupled(Coupling(below, 1.0, 1.0), square=True)
    assert not is_coupled(Coupling(below, 1.0, 1.0), square=False)
    assert not is_coupled(Coupling(1.0, below, 1.0), square=False)
    assert is_coupled(Coupling(1.0, 0.0, 1.0), square=True)  # a square init has no ⊥ terms to require
    assert not is_coupled(Coupling(1.0, 1.0, np.nextafter(B_DRAW_FLOOR, 0.0)), square=True)
    assert not is_coupled(Coupling(1.0, 1.0, np.nextafter(B_DRAW_FLOOR, 0.0)), square=False)


def test_independent_seeds_keep_the_task_and_give_a_new_init_per_redraw():
    task_seed, init_seed = independent_seeds(5, 3)
    assert independent_seeds(5, 3, redraw=0) == (task_seed, init_seed)
    redraws = [independent_seeds(5, 3, redraw=r) for r in range(1, MAX_REDRAWS + 1)]
    assert {t for t, _ in redraws} == {task_seed}
    inits = {init_seed} | {i for _, i in redraws}
    assert len(inits) == MAX_REDRAWS + 1 and task_seed not in inits
    # seeds are valid for numpy and torch generators: non-negative 32-bit words
    assert all(0 <= s < 2**32 for s in (task_seed, *inits))


def test_independently_seeded_task_and_init_are_coupled():
    """The point of the two streams: a task and an init drawn from them are coupled (C far from 0, ⊥ mass far from
    0), while the same integer seed aligns them to round-off (tests/test_riccati_coupling.py)."""
    for k in range(6):
        task_seed, init_seed = independent_seeds(0, k)
        task = prescribed_task([1.5, 1.2, 0.8], Ni=4, No=3, seed=task_seed)
        (W1,), (W2,) = zero_balanced_init(4, 5, 3, 0.1, seed=init_seed)
        cpl = coupling(W1, W2, task.sigma_yx)
        assert cpl.c >= COUPLING_FLOOR and cpl.perp >= COUPLING_FLOOR, (k, cpl)


def test_coupled_init_reflects_along_the_top_left_singular_vector():
    """The documented fix of a sign mismatch: W2 ← (I − 2uuᵀ)W2 with u the top left singular vector of W2W1(0)."""
    task = prescribed_task([2.0, 1.0, 0.5], Ni=3, No=3, seed=0)
    seen = 0
    for seed in range(12):
        (raw1,), (raw2,) = zero_balanced_init(3, 4, 3, 0.1, seed=seed)
        _, W2, flipped = coupled_init(task, 4, 0.1, seed=seed)
        if not flipped:
            np.testing.assert_array_equal(W2, raw2)
            continue
        seen += 1
        u = np.linalg.svd(raw2 @ raw1)[0][:, 0]
        # one Householder product of O(0.3) numbers: round-off ≈ 1e-16
        np.testing.assert_allclose(W2, (np.eye(3) - 2.0 * np.outer(u, u)) @ raw2, rtol=0, atol=1e-15)
    assert seen  # a generic square init has the wrong sign half the time


def test_coupled_init_leaves_inits_without_a_sign_to_match_alone():
    """No reflection where Assumption 3.1's sign condition does not apply: Nh < Ni = No (W2W1(0) is singular, so
    its determinant has no sign) and a Σyx with a zero singular value (theory.riccati chooses that pair's sign)."""
    wide = prescribed_task([2.0, 1.0, 0.5], Ni=3, No=3, seed=1)
    null = prescribed_task([2.0, 1.0, 0.0], Ni=3, No=3, seed=1)
    for seed in range(8):
        (raw1,), (raw2,) = zero_balanced_init(3, 2, 3, 0.1, seed=seed)
        W1, W2, flipped = coupled_init(wide, 2, 0.1, seed=seed)
        assert not flipped
        np.testing.assert_array_equal(W1, raw1)
        np.testing.assert_array_equal(W2, raw2)
        (raw1,), (raw2,) = zero_balanced_init(3, 3, 3, 0.1, seed=seed)
        W1, W2, flipped = coupled_init(null, 3, 0.1, seed=seed)
        assert not flipped
        np.testing.assert_array_equal(W2, raw2)


def test_random_architectures_draw_the_documented_shapes_ranges_and_streams():
    """``random_architectures``' docstring: Ni, No ∈ [2, max_dim], every fourth square and the rest Ni ≠ No,
    Nh ∈ [min(Ni, No), max_dim], s̃ ∈ S_RANGE, a log-uniform scale in SCALE_RANGE, the task from the case's task
    stream and the init from its init stream (`independent_seeds`, redrawn until coupled)."""
    n, seed, max_dim = 120, 3, 4
    archs = random_architectures(n, seed, max_dim=max_dim)
    assert len(archs) == n
    for k, a in enumerate(archs):
        assert (a.Ni == a.No) == (k % 4 == 0), k
        assert 2 <= a.Ni <= max_dim and 2 <= a.No <= max_dim and min(a.Ni, a.No) <= a.Nh <= max_dim
        s = np.linalg.svd(a.sigma_yx, compute_uv=False)
        assert a.sigma_yx.shape == (a.No, a.Ni) and np.all((s >= S_RANGE[0]) & (s <= S_RANGE[1]))
        assert SCALE_RANGE[0] <= a.scale <= SCALE_RANGE[1]
        task = prescribed_task(s.tolist(), Ni=a.Ni, No=a.No, seed=independent_seeds(seed, k)[0])
        # the same draw with singular values read back through an SVD: round-off ≈ 1e-15
        np.testing.assert_allclose(a.sigma_yx, task.sigma_yx, rtol=0, atol=1e-13)
        W1, W2, flipped = coupled_init(task, a.Nh, a.scale, seed=independent_seeds(seed, k, a.redrawn)[1])
        np.testing.assert_allclose(a.W1, W1, rtol=0, atol=1e-15)
        np.testing.assert_allclose(a.W2, W2, rtol=0, atol=1e-15)
        assert a.flipped == flipped
        assert is_coupled(coupling(a.W1, a.W2, a.sigma_yx), a.Ni == a.No)
    # the ranges are covered, not only respected: both ends of the dimensions, Nh at its lower and upper bound
    assert {a.Ni for a in archs} == {a.No for a in archs} == {2, 3, 4}
    assert any(a.Nh == min(a.Ni, a.No) < max(a.Ni, a.No) for a in archs) and any(a.Nh == max_dim for a in archs)
    s_all = np.concatenate([np.linalg.svd(a.sigma_yx, compute_uv=False) for a in archs])
    assert s_all.min() < 0.8 and s_all.max() > 1.45  # uniform on [0.75, 1.5]: 300+ draws reach both ends
    # log-uniform on [1e-3, 1]: a third of the scales per decade (a uniform draw would put 1% below 1e-2)
    frac = [np.mean([(lo <= a.scale < 10 * lo) for a in archs]) for lo in (1e-3, 1e-2, 1e-1)]
    assert all(0.2 <= f <= 0.47 for f in frac), frac


def test_random_architectures_redraw_only_uncoupled_inits_and_count_them():
    """Seed 9's 24 architectures of dims ≤ 10 (the Richardson check's draw) redraw case 5 once: the init of the
    first stream is below a floor, the next one is used, and ``redrawn`` says how many were dropped."""
    archs = random_architectures(24, 9, max_dim=10)
    assert [k for k, a in enumerate(archs) if a.redrawn] == [5] and archs[5].redrawn == 1
    a = archs[5]
    task = prescribed_task(
        np.linalg.svd(a.sigma_yx, compute_uv=False).tolist(), Ni=a.Ni, No=a.No, seed=independent_seeds(9, 5)[0]
    )
    W1, W2, _ = coupled_init(task, a.Nh, a.scale, seed=independent_seeds(9, 5)[1])
    assert not is_coupled(coupling(W1, W2, task.sigma_yx), a.Ni == a.No)


def test_random_architectures_give_up_after_max_redraws_with_a_message(monkeypatch):
    """If no init can be coupled (here: a B floor above ‖B‖ ≤ 2, which no init reaches), the draw stops after
    MAX_REDRAWS + 1 inits and says which case failed and why that means a bug."""
    monkeypatch.setattr(riccati, "B_DRAW_FLOOR", 2.5)
    with pytest.raises(
        RuntimeError,
        match=rf"^case 0 of seed 3: {MAX_REDRAWS + 1} inits drawn, none coupled to ≥ {COUPLING_FLOOR}; a random init "
        r"is coupled with probability near 1, so the drawing code is wrong$",
    ):
        random_architectures(2, 3, max_dim=4)


def test_qqt_of_stacks_w1_transposed_over_w2():
    """QQᵀ with Q = [W1ᵀ; W2], for one matrix pair and a stack of them (leading axes are batch axes)."""
    W1 = np.array([[1.0, 2.0]])  # Nh = 1, Ni = 2
    W2 = np.array([[3.0], [4.0]])  # No = 2
    expected = np.outer([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])  # [[1, 2, 3, 4], [2, 4, 6, 8], …] by hand
    np.testing.assert_array_equal(_qqt_of(W1, W2), expected)
    stacked = _qqt_of(np.stack([W1, 2.0 * W1]), np.stack([W2, -W2]))
    assert stacked.shape == (2, 4, 4)
    np.testing.assert_array_equal(stacked[0], expected)
    q = np.array([2.0, 4.0, -3.0, -4.0])
    np.testing.assert_array_equal(stacked[1], np.outer(q, q))


def test_task_for_is_whitened_with_the_architectures_sigma_yx():
    """The task handed to `simulate.train` for one architecture: Σxx = I (whitened, P = Ni items) and its Σyx."""
    for a in random_architectures(4, 0, max_dim=6):
        task = _task_for(a)
        assert (task.Ni, task.No, task.P) == (a.Ni, a.No, a.Ni)
        # √Ni² / Ni in float64: within one ulp of 1
        np.testing.assert_allclose(task.sigma_xx, np.eye(a.Ni), rtol=0, atol=1e-15)
        np.testing.assert_allclose(task.sigma_yx, a.sigma_yx, rtol=1e-15, atol=0)


def _plain_gd(a: _Arch, eta: float, n_steps: int, every: int) -> list[np.ndarray]:
    """GD on the architecture's own (unpadded) shapes: E = W2W1 − Σyx, W1 −= ηW2ᵀE, W2 −= ηEW1ᵀ."""
    W1, W2, out = a.W1.copy(), a.W2.copy(), []
    for k in range(n_steps + 1):
        if k % every == 0:
            out.append(_qqt_of(W1, W2))
        E = W2 @ W1 - a.sigma_yx
        W1, W2 = W1 - eta * W2.T @ E, W2 - eta * E @ W1.T
    return out


def test_padded_gd_is_plain_gd_of_each_architecture_at_the_recorded_times():
    """Three architectures of different shapes trained as one zero-padded batch give each one's own GD, recorded at
    t = 0, record_dt, …, horizon (the module docstring's claim that the padding is exact)."""
    archs = random_architectures(3, 4, max_dim=6)  # (5, 6, 5), (4, 6, 5), (6, 5, 3): padding on every side
    assert len({(a.Ni, a.Nh, a.No) for a in archs}) == 3
    eta, horizon, record_dt = 0.02, 1.0, 0.1
    padded = _padded_gd(archs, eta, horizon, record_dt)
    for a, q in zip(archs, padded, strict=True):
        ref = np.stack(_plain_gd(a, eta, 50, 5))
        assert q.shape == (11, a.Ni + a.No, a.Ni + a.No)
        np.testing.assert_array_equal(q[0], _qqt_of(a.W1, a.W2))  # t = 0 is the init itself
        # the same 50 steps, batched vs unbatched matmuls: round-off of O(1) numbers, ≈ 1e-15
        np.testing.assert_allclose(q, ref, rtol=0, atol=1e-13)


def test_padded_gd_refuses_weights_outside_their_declared_shape():
    """The padding must stay zero; weights larger than the declared (Ni, Nh, No) break the embedding and are
    refused by name rather than trained as a different network."""
    a = random_architectures(1, 0, max_dim=2)[0]  # (2, 2, 2)
    bad = _Arch(2, 1, 2, a.scale, a.sigma_yx, a.W1, a.W2)  # Nh declared 1, but W1 and W2 have 2 hidden units
    with pytest.raises(
        AssertionError, match=r"^zero padding of architecture 0 became nonzero: the embedding is not exact$"
    ):
        _padded_gd([bad], 0.01, 0.05, 0.05)


def test_coupling_measures_extended_precision_inputs_in_float64():
    """Weights and tasks held in another real dtype (here long double, which numpy's SVD refuses) are converted to
    float64 first: the coupling is that of the float64 values."""
    task = prescribed_task([1.5, 1.0], Ni=3, No=2, seed=independent_seeds(2)[0])
    W1, W2, _ = coupled_init(task, 3, 0.1, seed=independent_seeds(2)[1])
    ref = coupling(W1, W2, task.sigma_yx)
    ext = coupling(W1.astype(np.longdouble), W2.astype(np.longdouble), task.sigma_yx)
    assert ext == ref  # float64 → long double → float64 is exact
    assert product_coupling(W2 @ W1, task.sigma_yx.astype(np.longdouble)) == ref


def test_b_min_is_the_smallest_singular_value_when_there_are_several():
    """Σyx = diag(4, 3, 2, 1) (Ũ = Ṽ = I), V = I and U rotating the planes (1, 2) by θ and (3, 4) by ψ: B = Uᵀ + I
    has singular values |1 + e^{iθ}| = 2cos(θ/2) (twice) and 2cos(ψ/2) (twice), so σ_min(B) = 2cos(ψ/2) for ψ > θ
    (not the second largest, 2cos(θ/2)); ‖C‖_F² = ‖Uᵀ − I‖_F² = 4(1 − cos θ) + 4(1 − cos ψ) over Nm = 4."""
    theta, psi = 0.9, 2.0
    U = np.zeros((4, 4))
    U[:2, :2], U[2:, 2:] = _rot(theta), _rot(psi)
    k = product_coupling(U @ np.diag([5.0, 3.5, 2.0, 0.5]), np.diag([4.0, 3.0, 2.0, 1.0]))
    assert k.b_min == pytest.approx(2.0 * np.cos(psi / 2.0), abs=1e-13)
    assert k.c == pytest.approx(np.sqrt(4.0 * (1.0 - np.cos(theta)) + 4.0 * (1.0 - np.cos(psi))) / 2.0, abs=1e-13)


def test_default_case_is_zero_and_default_dims_are_fig2c_s_2_to_20():
    """`independent_seeds(seed)` is case 0 (what the property tests of verify/test_riccati.py draw), and
    `random_architectures(n, seed)` draws Fig. 2C's dims 2-20."""
    assert independent_seeds(7) == independent_seeds(7, 0)
    assert independent_seeds(7, redraw=1) == independent_seeds(7, 0, 1)
    dims = [d for a in random_architectures(56, 0) for d in (a.Ni, a.Nh, a.No)]
    assert min(dims) == 2 and max(dims) == 20


def test_random_architectures_draw_at_most_max_redraws_plus_one_inits(monkeypatch):
    """The loop draws exactly MAX_REDRAWS + 1 = 21 inits per case. With σ_min(B)'s floor set between the 21st
    init's σ_min(B) and all earlier ones (case 0 of seed 4: 1.380 against ≤ 1.294), the 21st is used (20 redrawn);
    with it set so that only the 22nd would pass (seed 1: 1.976 against ≤ 1.603), the draw gives up."""
    monkeypatch.setattr(riccati, "B_DRAW_FLOOR", 0.5 * (1.2944595879655765 + 1.3801232125972975))
    (a,) = random_architectures(1, 4, max_dim=4)
    assert a.redrawn == MAX_REDRAWS
    monkeypatch.setattr(riccati, "B_DRAW_FLOOR", 0.5 * (1.6027126066877198 + 1.97605935940401))
    with pytest.raises(RuntimeError, match=rf"^case 0 of seed 1: {MAX_REDRAWS + 1} inits drawn"):
        random_architectures(1, 1, max_dim=4)


def test_padded_gd_refuses_nonzero_padding_in_either_layer():
    """Each layer's padding is checked on its own: an input column beyond Ni (W1 only) or an output row beyond No
    (W2 only) is refused as well."""
    sigma = np.diag([1.5, 1.0])
    (W1,), (W2,) = zero_balanced_init(2, 2, 2, 0.3, seed=0)
    only_w1 = _Arch(1, 2, 2, 0.3, sigma, W1, W2)  # W1's second column lies beyond Ni = 1; W2 fits (2, 2)
    only_w2 = _Arch(2, 2, 1, 0.3, sigma, W1, W2)  # W2's second row lies beyond No = 1; W1 fits (2, 2)
    for bad in (only_w1, only_w2):
        with pytest.raises(AssertionError, match=r"^zero padding of architecture 0 became nonzero"):
            _padded_gd([bad], 0.01, 0.05, 0.05)


@pytest.mark.parametrize("dims", [(4, 2, 2), (2, 4, 2), (2, 2, 4)], ids=["Ni", "Nh", "No"])
def test_padded_gd_pads_to_the_largest_dimension_whichever_it_is(dims):
    """The common padded size is the largest of Ni, Nh, No over the batch: an architecture whose largest dimension
    is its input, hidden or output one trains as plain GD."""
    Ni, Nh, No = dims
    task = prescribed_task([1.5, 0.8], Ni=Ni, No=No, seed=independent_seeds(1)[0])
    (W1,), (W2,) = zero_balanced_init(Ni, Nh, No, 0.3, seed=independent_seeds(1)[1])
    a = _Arch(Ni, Nh, No, 0.3, task.sigma_yx, W1, W2)
    # 20 steps of O(1) numbers, batched vs unbatched matmuls: round-off ≈ 1e-15
    np.testing.assert_allclose(_padded_gd([a], 0.05, 1.0, 0.25)[0], np.stack(_plain_gd(a, 0.05, 20, 5)), atol=1e-13)
