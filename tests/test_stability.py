"""The GD stability bound: the closed form against autograd Hessians, and GD just below / above it.

theory.stability derives λ_max = L·s_max^{2(L−1)/L} at the balanced global minimum (whitened inputs), so GD can
converge only for η < 2/λ_max; simulate.train refuses η beyond it unless allow_unstable=True.
"""

import numpy as np
import pytest
import torch

from simulate import DeepLinear, TwoLayer, decoupled_init, gaussian_init, prescribed_task, random_regression, train
from simulate.train import stability_bound
from theory import AssumptionError
from theory.stability import max_stable_eta, sharpness_at_minimum


def _orth(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return np.linalg.qr(rng.normal(size=(n, k)))[0]


def _balanced_minimum(sigma_yx: np.ndarray, widths: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Balanced factors of the best rank-k approximation of Σyx, k = min(rank, narrowest hidden width)."""
    U, s, Vt = np.linalg.svd(sigma_yx, full_matrices=False)
    k = min(len(s), *widths)
    U, s, V = U[:, :k], s[:k], Vt[:k].T
    L = len(widths) + 1
    D = np.diag(s ** (1 / L))
    R = [_orth(n, k, rng) for n in widths]
    return [R[0] @ D @ V.T] + [R[i] @ D @ R[i - 1].T for i in range(1, L - 1)] + [U @ D @ R[-1].T]


def _hessian_top(weights: list[np.ndarray], sigma_yx: np.ndarray, sigma_xx: np.ndarray) -> float:
    """Top eigenvalue of the Hessian of L = ½tr(WΣxxWᵀ) − tr(WΣyxᵀ) over all weight entries (autograd)."""
    shapes = [w.shape for w in weights]
    syx, sxx = torch.tensor(sigma_yx), torch.tensor(sigma_xx)

    def loss(p: torch.Tensor) -> torch.Tensor:
        ws, o = [], 0
        for sh in shapes:
            ws.append(p[o : o + sh[0] * sh[1]].reshape(sh))
            o += sh[0] * sh[1]
        W = ws[0]
        for m in ws[1:]:
            W = m @ W
        return 0.5 * ((W @ sxx) * W).sum() - (W * syx).sum()

    p = torch.tensor(np.concatenate([w.ravel() for w in weights]))
    return float(np.linalg.eigvalsh(torch.autograd.functional.hessian(loss, p).numpy())[-1])


@pytest.mark.parametrize(
    ("Ni", "No", "widths"),
    [(3, 2, [4]), (4, 3, [5, 6]), (3, 3, [3, 3, 3]), (4, 3, [2]), (4, 4, [2, 5])],  # last two: bottlenecks
)
@pytest.mark.parametrize("seed", [0, 1])
def test_sharpness_matches_autograd_hessian(Ni, No, widths, seed):
    rng = np.random.default_rng(seed)
    syx = rng.normal(size=(No, Ni))
    lam = _hessian_top(_balanced_minimum(syx, widths, rng), syx, np.eye(Ni))
    # both sides are exact; the autograd Hessian and eigvalsh carry ~1e-15 relative round-off (measured ≤ 3e-15)
    assert sharpness_at_minimum(syx, len(widths) + 1) == pytest.approx(lam, rel=1e-12)


def test_sharpness_one_layer_any_inputs():
    task = random_regression(4, 2, 30, seed=3, whitened=False)
    lam = _hessian_top([np.zeros((2, 4))], task.sigma_yx, task.sigma_xx)
    assert sharpness_at_minimum(task.sigma_yx, 1, task.sigma_xx) == pytest.approx(lam, rel=1e-12)


def test_sharpness_refuses_deep_non_whitened_and_bad_depth():
    with pytest.raises(AssumptionError, match="whitened"):
        sharpness_at_minimum([[1.0, 0.0]], 2, sigma_xx=np.diag([2.0, 1.0]))
    with pytest.raises(ValueError, match="depth"):
        max_stable_eta([[1.0]], 0)


def _one_mode(s: float = 3.0):
    task = prescribed_task([s], Ni=1, No=1, seed=0)
    return task, decoupled_init(task, Nh=1, u0=0.01, seed=0)


def test_refusal_fires_just_above_the_bound_and_not_just_below():
    task, W = _one_mode()
    net = DeepLinear((1, 1, 1))
    bound = stability_bound(net, task)
    assert bound == pytest.approx(1 / 3, rel=1e-15)  # η < 1/s for two layers
    train(net, W, task, eta=bound * (1 - 1e-6), times=[0.0])
    with pytest.raises(ValueError, match=r"η < 2/λ_max = 0\.333333.*allow_unstable=True"):
        train(net, W, task, eta=bound * (1 + 1e-6), times=[0.0])


def test_opt_in_trains_and_oscillates_beyond_the_bound():
    """The issue's case: η = 0.4 > 1/3 on a mode of strength 3 ends in a period-2 cycle around u = 3."""
    task, W = _one_mode()
    eta = 0.4
    traj = train(DeepLinear((1, 1, 1)), W, task, eta=eta, times=np.arange(90, 101) * eta, allow_unstable=True)
    u = traj.mode_strengths()[:, 0, 0]
    # period 2: u_{k+2} = u_k (the cycle is attracting; measured |Δ| ≤ 3e-8 after 90 steps), u_{k+1} far from u_k
    np.testing.assert_allclose(u[2:], u[:-2], atol=1e-6)
    assert np.all(np.abs(np.diff(u)) > 2.0)
    assert sorted(np.round(u[-2:], 2)) == [1.6, 3.9]


@pytest.mark.parametrize("widths", [[4], [3, 4]], ids=["two-layer", "depth-3"])
def test_bound_is_sharp_converges_below_not_above(widths):
    """From the balanced minimum perturbed by 1e-3: η = 0.98·bound converges to round-off, η = 1.02·bound does not.
    So the bound is the true threshold, not merely a sufficient one."""
    task = prescribed_task([3.0, 1.0], Ni=3, No=2, seed=0)
    net = DeepLinear((3, *widths, 2))
    rng = np.random.default_rng(1)
    W = [w + 1e-3 * rng.normal(size=w.shape) for w in _balanced_minimum(task.sigma_yx, widths, rng)]
    bound = stability_bound(net, task)
    c = task.irreducible_loss()
    excess = {}
    for f in (0.98, 1.02):
        eta = f * bound
        traj = train(net, W, task, eta=eta, times=np.array([0, 1999, 2000]) * eta, allow_unstable=True)
        excess[f] = traj.loss[1:, 0] - c
    # below: contraction |1 − ηλ_max| = 0.96 per step ⇒ 0.96^2000 ≈ 1e-36; only loss round-off (≈ 1e-15) remains
    assert np.all(np.abs(excess[0.98]) < 1e-12)
    # above: expansion 1.04 per step off the minimum; it settles on a cycle with loss excess ≈ 0.05–0.1 (measured)
    assert np.all(excess[1.02] > 1e-2)


def test_non_whitened_deep_has_no_bound_but_one_layer_does():
    task = random_regression(3, 2, 20, seed=0, whitened=False)
    assert stability_bound(DeepLinear((3, 4, 2)), task) is None
    assert stability_bound(DeepLinear((3, 2)), task) == pytest.approx(2 / np.linalg.eigvalsh(task.sigma_xx)[-1])


def test_deep_linear_on_non_whitened_inputs_uses_the_loss_window():
    task = random_regression(3, 2, 20, seed=0, whitened=False)
    net = DeepLinear((3, 4, 2))
    W = gaussian_init(net.sizes, 0.5, seed=0)
    train(net, W, task, eta=0.01, times=np.arange(0, 201, 50) * 0.01)
    with pytest.raises(FloatingPointError, match="rose"):
        train(net, W, task, eta=3.0, times=np.arange(0, 201, 50) * 3.0)


def test_nonlinear_loss_window_detection():
    task = random_regression(3, 2, 20, seed=0)
    net = TwoLayer((3, 8, 2), "tanh")
    W = gaussian_init(net.sizes, 0.5, seed=0)
    times = np.arange(0, 201, 50) * 0.05
    train(net, W, task, eta=0.05, times=times)  # small step: the loss decreases in every window
    with pytest.raises(FloatingPointError, match="loss of network 0 rose"):
        train(net, W, task, eta=5.0, times=np.arange(0, 201, 50) * 5.0)
    with pytest.raises(TypeError, match="allow_unstable"):
        train(net, W, task, eta=0.05, times=[0.0], allow_unstable=1)


def test_curvature_along_the_balanced_path_stays_below_the_value_at_the_target():
    """Module docstring: for one mode, L = ½(s − ab)² at a = b = √u has top Hessian eigenvalue u + |2u − s| ≤ 2s on
    0 ≤ u ≤ s, so the bound at the minimum is the sharpest point of the balanced path from small init."""
    s = 3.0
    for u in np.linspace(0.0, s, 31):
        p = torch.tensor([np.sqrt(u), np.sqrt(u)])
        H = torch.autograd.functional.hessian(lambda q: 0.5 * (s - q[0] * q[1]) ** 2, p).numpy()
        top = float(np.linalg.eigvalsh(H)[-1])
        assert top == pytest.approx(u + abs(2 * u - s), abs=1e-12)
        assert top <= sharpness_at_minimum([[s]], 2) + 1e-12
