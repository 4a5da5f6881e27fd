"""Standard measurements of training runs (issue 13): continual-learning scores, weight geometry, kernels,
representations and curvature. Each function states its definition and its source; each is tested against a case
with a known answer (tests/test_measures.py).

Conventions: a batch of networks is the leading axis, as everywhere in `simulate` (weights (B, out, in)); items are
columns of X (Ni, P), as in `simulate.Task`; losses follow `simulate.ContinualTrajectory` (phase, task, network).
Continual-learning scores are written for losses (lower is better), so their signs are those of the accuracy
definitions with loss differences turned round: positive backward transfer means later tasks lowered the loss of
earlier ones.

>>> import numpy as np
>>> round(float(effective_rank(np.eye(3))), 12), stable_rank(np.eye(3))
(3.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch
from torch.func import jacrev, vjp, vmap

from simulate.networks import AbstractNetwork, TaskTensors, TwoLayer
from simulate.tasks import Task

__all__ = [
    "activation_sparsity",
    "backward_transfer",
    "effective_rank",
    "empirical_ntk",
    "feature_learning_rate",
    "forgetting",
    "forward_transfer",
    "hessian_trace",
    "kernel_alignment",
    "linear_cka",
    "ntk_change",
    "stable_rank",
    "target_alignment",
    "weight_distance",
]


def _final(losses: np.ndarray) -> np.ndarray:
    final = np.asarray(losses, dtype=np.float64)
    if final.ndim != 3 or final.shape[0] != final.shape[1] or final.shape[0] < 2:
        raise ValueError(
            "need the losses L_i(T_j) as an array (n_tasks after which, n_tasks on which, batch) with ≥ 2 tasks "
            f"(ContinualTrajectory.final_losses()), got shape {final.shape}"
        )
    return final


def forgetting(final_losses: np.ndarray, task: int = 0) -> np.ndarray:
    """F = L_task(after the last task) − L_task(after training on it), per network: the forgetting of LAWS.md §3
    (for two tasks, L_1(T_2) − L_1(T_1)). ``final_losses`` is L_i(T_j) of `ContinualTrajectory.final_losses`
    (after task j in rows, on task i in columns, networks last).

    >>> L = np.array([[[0.1], [2.0]], [[0.7], [0.2]]])  # after T1: L1 = 0.1; after T2: L1 = 0.7
    >>> forgetting(L).tolist()
    [0.6]
    """
    final = _final(final_losses)
    return final[-1, task] - final[task, task]


def backward_transfer(final_losses: np.ndarray) -> np.ndarray:
    """BWT = 1/(T−1) Σ_{i<T} [L_i(T_i) − L_i(T_T)]: Lopez-Paz & Ranzato (2017, GEM)'s backward transfer
    1/(T−1) Σ (R_{T,i} − R_{i,i}) with accuracies R replaced by losses (sign turned, so positive is good); for two
    tasks it is −forgetting.

    >>> L = np.array([[[0.1], [2.0]], [[0.7], [0.2]]])
    >>> backward_transfer(L).tolist()
    [-0.6]
    """
    final = _final(final_losses)
    T = final.shape[0]
    return np.mean([final[i, i] - final[-1, i] for i in range(T - 1)], axis=0)


def forward_transfer(final_losses: np.ndarray, initial_losses: np.ndarray) -> np.ndarray:
    """FWT = 1/(T−1) Σ_{i≥2} [L_i(init) − L_i(T_{i−1})]: how much training on the earlier tasks lowered the loss of
    task i before it was seen (Lopez-Paz & Ranzato 2017's R_{i−1,i} − b̄_i, with the loss at initialisation as the
    baseline b̄). ``initial_losses`` is L_i at initialisation, (n_tasks, batch) (`ContinualTrajectory.losses[0, 0]`).

    >>> L = np.array([[[0.1], [0.5]], [[0.7], [0.2]]])
    >>> forward_transfer(L, np.array([[1.0], [2.0]])).tolist()  # task 2: 2.0 at init, 0.5 after task 1
    [1.5]
    """
    final = _final(final_losses)
    initial = np.asarray(initial_losses, dtype=np.float64)
    if initial.shape != final.shape[1:]:
        raise ValueError(f"initial_losses must have shape (n_tasks, batch) = {final.shape[1:]}, got {initial.shape}")
    T = final.shape[0]
    return np.mean([initial[i] - final[i - 1, i] for i in range(1, T)], axis=0)


def _layers(weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(w, dtype=np.float64) for w in weights]


def weight_distance(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """‖θ_a − θ_b‖ = (Σ_l ‖W_l^a − W_l^b‖_F²)^½ per network, layers (B, out, in).

    >>> weight_distance([np.zeros((1, 2, 2))], [np.full((1, 2, 2), 0.5)]).tolist()
    [1.0]
    """
    a, b = _layers(a), _layers(b)
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b, strict=True)):
        raise ValueError("the two weight lists must have the same layers and shapes")
    return np.sqrt(sum(((x - y) ** 2).sum(axis=(-2, -1)) for x, y in zip(a, b, strict=True)))


def feature_learning_rate(W_t: np.ndarray, W_0: np.ndarray) -> np.ndarray:
    """‖W_t − W_0‖_F / ‖W_0‖_F per network, for one layer (the first: the features), the relative movement used to
    tell lazy from rich training (Chizat, Oyallon & Bach 2019: it vanishes in the lazy limit).

    >>> feature_learning_rate(np.full((1, 2, 2), 1.5), np.ones((1, 2, 2))).tolist()
    [0.5]
    """
    W_t, W_0 = np.asarray(W_t, dtype=np.float64), np.asarray(W_0, dtype=np.float64)
    if W_t.shape != W_0.shape:
        raise ValueError(f"W_t {W_t.shape} and W_0 {W_0.shape} must have the same shape")
    norm0 = np.linalg.norm(W_0, axis=(-2, -1))
    if np.any(norm0 == 0):
        raise ValueError("W_0 = 0: the relative change is undefined; use weight_distance for the absolute one")
    return np.linalg.norm(W_t - W_0, axis=(-2, -1)) / norm0


def effective_rank(M: np.ndarray) -> np.ndarray | float:
    """Roy & Vetterli (EUSIPCO 2007): exp(H(p)), p_k = σ_k / Σσ, H the Shannon entropy (0·log 0 = 0). Between 1
    and rank(M); equal to the rank when the non-zero singular values are equal. Not the stable rank.

    >>> round(float(effective_rank(np.diag([1.0, 1.0, 0.0]))), 12), round(float(effective_rank(np.diag([1.0, 0.0]))), 12)
    (2.0, 1.0)
    """
    s = np.linalg.svd(np.asarray(M, dtype=np.float64), compute_uv=False)
    total = s.sum(axis=-1, keepdims=True)
    if np.any(total == 0):
        raise ValueError("the zero matrix has no effective rank (Σσ = 0)")
    p = s / total
    entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)
    out = np.exp(entropy)
    return float(out) if out.ndim == 0 else out


def stable_rank(M: np.ndarray) -> np.ndarray | float:
    """‖M‖_F² / ‖M‖_2² (Rudelson & Vershynin 2007): at most rank(M), insensitive to tiny singular values, and a
    different quantity from `effective_rank` (diag(1, 0.1) has stable rank 1.01, effective rank 1.36).

    >>> round(float(stable_rank(np.diag([1.0, 0.1]))), 12), round(float(effective_rank(np.diag([1.0, 0.1]))), 3)
    (1.01, 1.356)
    """
    s = np.linalg.svd(np.asarray(M, dtype=np.float64), compute_uv=False)
    if np.any(s[..., 0] == 0):
        raise ValueError("the zero matrix has no stable rank (‖M‖_2 = 0)")
    out = (s**2).sum(axis=-1) / s[..., 0] ** 2
    return float(out) if out.ndim == 0 else out


def _tensors(weights: Sequence[np.ndarray | torch.Tensor]) -> list[torch.Tensor]:
    return [torch.tensor(np.asarray(w, dtype=np.float64)) for w in weights]  # copies: read-only arrays are fine


def empirical_ntk(network: AbstractNetwork, weights: Sequence[np.ndarray], X: np.ndarray) -> np.ndarray:
    """The empirical neural tangent kernel Θ = J Jᵀ of every network at ``weights`` on the items X (Ni, P):
    J = ∂ vec ŷ / ∂θ with ŷ's entries ordered (output o, item p), o-major, so Θ has shape (B, No·P, No·P)
    (Jacot, Gabriel & Hongler 2018). Computed by torch.func: ``jacrev`` of the network's output as a function of
    one network's weights (lawbook's networks are pure functions of their weights, so no ``functional_call`` is
    needed), ``vmap`` over the batch.

    For a two-layer linear network Θ((o,x),(o′,x′)) = δ_oo′ (W1x)·(W1x′) + (W2W2ᵀ)_oo′ x·x′ (tested).
    """
    W = _tensors(weights)
    Xt = torch.tensor(np.asarray(X, dtype=np.float64))
    if isinstance(network, TwoLayer) and network.origin is not None:
        network = replace(network, origin=None)  # the centring term is constant in θ: it does not enter J

    def single(*layers: torch.Tensor) -> torch.Tensor:
        return network.output([w[None] for w in layers], Xt)[0].reshape(-1)

    jac = vmap(jacrev(single, argnums=tuple(range(len(W)))))(*W)
    J = torch.cat([j.reshape(j.shape[0], j.shape[1], -1) for j in jac], dim=-1)
    return (J @ J.transpose(-1, -2)).numpy()


def ntk_change(K_0: np.ndarray, K_t: np.ndarray) -> np.ndarray:
    """‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F per network: the relative kernel change that separates lazy (→ 0 as width → ∞ in
    the NTK parameterisation, Jacot et al. 2018) from rich training (Geiger et al. 2019 use it to place the
    crossover).

    >>> ntk_change(np.eye(2)[None], 2 * np.eye(2)[None]).tolist()
    [1.0]
    """
    K_0, K_t = np.asarray(K_0, dtype=np.float64), np.asarray(K_t, dtype=np.float64)
    return np.linalg.norm(K_t - K_0, axis=(-2, -1)) / np.linalg.norm(K_0, axis=(-2, -1))


def kernel_alignment(K_1: np.ndarray, K_2: np.ndarray) -> np.ndarray:
    """A(K1, K2) = ⟨K1, K2⟩_F / (‖K1‖_F ‖K2‖_F) (Cristianini, Shawe-Taylor, Elisseeff & Kandola 2002): 1 for
    proportional kernels, invariant to scaling either.

    >>> kernel_alignment(np.eye(2)[None], 3 * np.eye(2)[None]).tolist()
    [1.0]
    """
    K_1, K_2 = np.asarray(K_1, dtype=np.float64), np.asarray(K_2, dtype=np.float64)
    inner = (K_1 * K_2).sum(axis=(-2, -1))
    return inner / (np.linalg.norm(K_1, axis=(-2, -1)) * np.linalg.norm(K_2, axis=(-2, -1)))


def target_alignment(K: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """A(Θ, y yᵀ) with y = vec Y in Θ's (output, item) order: how much of the kernel points at the targets
    (Cristianini et al. 2002; the kernel alignment that grows during feature learning, Baratin et al. 2021)."""
    y = np.asarray(Y, dtype=np.float64).reshape(-1)
    K = np.asarray(K, dtype=np.float64)
    if K.shape[-1] != y.size:
        raise ValueError(f"Θ is {K.shape[-2:]} but Y has {y.size} entries; order both as (output, item)")
    return kernel_alignment(K, np.outer(y, y))


def linear_cka(H_1: np.ndarray, H_2: np.ndarray) -> np.ndarray | float:
    """Linear centred kernel alignment (Kornblith, Norouzi, Lee & Hinton 2019, eq. for the linear kernel) between
    two representations of the same P items, rows = items: ‖H̃2ᵀH̃1‖_F² / (‖H̃1ᵀH̃1‖_F ‖H̃2ᵀH̃2‖_F), H̃ column-
    centred. Invariant to orthogonal maps and isotropic scaling of either, not to general invertible maps.

    >>> H = np.random.default_rng(0).normal(size=(20, 4))
    >>> round(float(linear_cka(H, 3 * H)), 12)
    1.0
    """
    A, B = np.asarray(H_1, dtype=np.float64), np.asarray(H_2, dtype=np.float64)
    if A.shape[:-1] != B.shape[:-1]:
        raise ValueError(f"the representations must hold the same items (rows): {A.shape} and {B.shape}")
    A = A - A.mean(axis=-2, keepdims=True)
    B = B - B.mean(axis=-2, keepdims=True)

    def gram(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.swapaxes(P, -1, -2) @ Q, axis=(-2, -1))

    denominator = gram(A, A) * gram(B, B)
    if np.any(denominator == 0):
        raise ValueError("a representation is constant over the items (zero after centring): CKA is undefined")
    out = gram(B, A) ** 2 / denominator
    return float(out) if out.ndim == 0 else out


def activation_sparsity(activations: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """The share of hidden activations with |φ(h)| ≤ ``tol`` over units and items, per network: activations
    (B, Nh, P) (`TwoLayer.hidden`). With ``tol`` = 0 it counts exact zeros (ReLU's inactive units); for smooth
    activations state a tolerance.

    >>> activation_sparsity(np.array([[[0.0, 1.0], [0.0, -2.0]]])).tolist()
    [0.5]
    """
    a = np.asarray(activations, dtype=np.float64)
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number ≥ 0, got {tol!r}")
    return (np.abs(a) <= tol).mean(axis=(-2, -1))


def hessian_trace(
    network: AbstractNetwork, weights: Sequence[np.ndarray], task: Task, *, n_probes: int = 100, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hutchinson's (1989) estimate of tr ∇²L(θ) per network, with its standard error: the mean of zᵀHz over
    ``n_probes`` Rademacher vectors z (E zᵀHz = tr H; Var = 2(‖H‖_F² − Σ H_ii²)), and std/√n_probes. Hz is a
    Hessian-vector product (torch.func ``vjp`` of the exact gradient), never the Hessian itself.

    Returns (estimate, standard error), each of shape (B,).
    """
    if isinstance(n_probes, bool) or not isinstance(n_probes, int) or n_probes < 2:
        raise ValueError(f"n_probes must be an integer ≥ 2 (the standard error needs two), got {n_probes!r}")
    W = _tensors(weights)
    data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)

    def loss(*layers: torch.Tensor) -> torch.Tensor:
        return network.loss(list(layers), data).sum()  # networks are independent: H is block-diagonal over them

    grad = torch.func.grad(loss, argnums=tuple(range(len(W))))
    # H is symmetric, so Hz is the vector-Jacobian product of the gradient: one linearisation serves every probe
    # (reverse over reverse; torch's forward-mode jvp loads deprecated TorchScript decompositions)
    _, hvp = vjp(grad, *W)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_probes):
        z = tuple(torch.as_tensor(rng.choice([-1.0, 1.0], size=tuple(w.shape))) for w in W)
        hz = hvp(z)
        samples.append(sum((a * b).sum(dim=(-2, -1)) for a, b in zip(z, hz, strict=True)).numpy())
    values = np.stack(samples)
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(n_probes)
