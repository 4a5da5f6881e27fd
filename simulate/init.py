"""Initialisations for batches of networks. Each returns a tuple of float64 arrays, one per layer,
of shape (batch, out, in) — W1 first — ready for `simulate.train`.

- `gaussian_init`: i.i.d. N(0, scale²) entries (small scale: rich regime; large: lazy).
- `zero_balanced_init`: W1W1ᵀ = W2ᵀW2 exactly (Braun et al. 2022), for any Ni, Nh, No.
- `decoupled_init`: aligned with the task's SVD with given mode strengths (Saxe et al. 2014).
- `balanced_deep_init`: W_{l+1}ᵀW_{l+1} = W_lW_lᵀ for every l, any depth; aligned with a task if one is given.
- `lambda_balanced_init`: square W2ᵀW2 − W1W1ᵀ = λI exactly, one layer small and random (Dominé et al. 2025).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulate.tasks import Task, _positive_int, _rng, random_orthogonal

__all__ = [
    "Weights",
    "balanced_deep_init",
    "decoupled_init",
    "gaussian_init",
    "lambda_balanced_init",
    "zero_balanced_init",
]

Weights = tuple[np.ndarray, ...]


def _sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least input and output widths (Ni, …, No), got {sizes!r}")
    return tuple(_positive_int(n, "layer width") for n in sizes)


def _scale(scale: float) -> float:
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"init scale must be a positive finite number, got {scale!r}")
    return float(scale)


def gaussian_init(sizes: Sequence[int], scale: float, *, seed: int, batch: int = 1) -> Weights:
    """Independent N(0, scale²) entries for a network with widths ``sizes = (Ni, N1, …, No)``.

    >>> [w.shape for w in gaussian_init((3, 5, 2), 0.1, seed=0, batch=4)]
    [(4, 5, 3), (4, 2, 5)]
    """
    sizes, scale, batch = _sizes(sizes), _scale(scale), _positive_int(batch, "batch")
    rng = _rng(seed)
    return tuple(scale * rng.normal(size=(batch, sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1))


def _match_sign(U: np.ndarray, V: np.ndarray, sigma_yx: np.ndarray | None) -> np.ndarray:
    """Flip U's first column if sign det(U Vᵀ) ≠ sign det Σyx (square case), so that B is invertible (§2.6)."""
    if sigma_yx is None:
        return U
    if U.shape[0] != V.shape[0]:
        raise ValueError("match_task applies only when Ni = No (the determinant condition of LAWS.md §2.6)")
    det_task = np.linalg.det(sigma_yx)
    if det_task == 0:
        raise ValueError("match_task: det Σyx = 0, so no sign can be matched; the task is rank-deficient")
    if np.sign(np.linalg.det(U) * np.linalg.det(V)) != np.sign(det_task):
        U = U.copy()
        U[:, 0] *= -1
    return U


def zero_balanced_init(
    Ni: int, Nh: int, No: int, scale: float, *, seed: int, batch: int = 1, match_task: Task | None = None
) -> Weights:
    """Random zero-balanced two-layer weights: W1 = R√S Vᵀ, W2 = U√S Rᵀ so that W1W1ᵀ = W2ᵀW2 = RSRᵀ.

    Every zero-balanced pair has this form; here U, V, R are Haar-random with r = min(Ni, Nh, No) columns and
    S = scale·diag(|N(0,1)| + 0.5), so W2W1(0) = U S Vᵀ has full rank r. With ``match_task`` (Ni = No) the sign
    of det W2W1(0) is matched to det Σyx, which makes Braun et al.'s B invertible (LAWS.md §2.6).

    >>> W1, W2 = zero_balanced_init(3, 4, 2, 0.1, seed=0)
    >>> bool(np.allclose(W1[0] @ W1[0].T, W2[0].T @ W2[0], atol=1e-15))
    True
    """
    Ni, Nh, No = _positive_int(Ni, "Ni"), _positive_int(Nh, "Nh"), _positive_int(No, "No")
    scale, batch = _scale(scale), _positive_int(batch, "batch")
    if match_task is not None and (match_task.Ni, match_task.No) != (Ni, No):
        raise ValueError(f"match_task has (Ni, No) = ({match_task.Ni}, {match_task.No}), the network ({Ni}, {No})")
    if match_task is not None and Ni != No:
        raise ValueError("match_task applies only when Ni = No (the determinant condition of LAWS.md §2.6)")
    rng = _rng(seed)
    r = min(Ni, Nh, No)
    W1 = np.empty((batch, Nh, Ni))
    W2 = np.empty((batch, No, Nh))
    for b in range(batch):
        U, V, R = random_orthogonal(No, r, rng), random_orthogonal(Ni, r, rng), random_orthogonal(Nh, r, rng)
        root = np.sqrt(scale * (np.abs(rng.normal(size=r)) + 0.5))
        if match_task is not None and r == Ni:  # with Nh < Ni, W2W1(0) is singular: no sign to match
            U = _match_sign(U, V, match_task.sigma_yx)
        W1[b] = R @ np.diag(root) @ V.T
        W2[b] = U @ np.diag(root) @ R.T
    return W1, W2


def _mode_scalars(values: Sequence[float] | float, r: int, name: str) -> np.ndarray:
    v = np.broadcast_to(np.asarray(values, dtype=np.float64), (r,)).copy()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def decoupled_init(
    task: Task,
    Nh: int,
    u0: Sequence[float] | float,
    *,
    seed: int,
    imbalance: Sequence[float] | float = 0.0,
    batch: int = 1,
) -> Weights:
    """Two-layer weights aligned with the task SVD: W1 = R D_a Ṽᵀ, W2 = Ũ D_b Rᵀ, with a_α b_α = u0_α.

    ``imbalance`` sets a² − b² per mode (0: balanced, a = b = √u0). R ∈ R^{Nh×r} has random orthonormal columns
    (``seed``); r is the number of task modes. Needs Nh ≥ r.

    >>> from simulate.tasks import living_kingdom
    >>> task = living_kingdom()
    >>> W1, W2 = decoupled_init(task, Nh=8, u0=1e-3, seed=0)
    >>> U, s, V = task.svd()
    >>> np.round(np.diag(U.T @ W2[0] @ W1[0] @ V), 12)[:3].tolist()
    [0.001, 0.001, 0.001]
    """
    U, s, V = task.svd()
    r = s.size
    Nh, batch = _positive_int(Nh, "Nh"), _positive_int(batch, "batch")
    if Nh < r:
        raise ValueError(f"Nh = {Nh} < {r} task modes: a decoupled init needs one hidden direction per mode")
    u = _mode_scalars(u0, r, "u0")
    if np.any(u <= 0):
        raise ValueError(f"mode strengths u0 must be > 0 (u = 0 is a fixed point of the dynamics), got {u}")
    delta = _mode_scalars(imbalance, r, "imbalance")
    # a² − b² = δ and ab = u  ⇒  a² = (δ + √(δ² + 4u²))/2, which cancels for δ ≪ −u (a² → u²/|δ| is the difference
    # of two numbers of size |δ|); there the equal form 2u²/(√(δ² + 4u²) − δ) keeps every digit
    root = np.sqrt(delta**2 + 4 * u**2)
    a = np.sqrt(np.where(delta >= 0, (delta + root) / 2, 2 * u**2 / (root - delta)))
    b = u / a
    rng = _rng(seed)
    W1 = np.empty((batch, Nh, task.Ni))
    W2 = np.empty((batch, task.No, Nh))
    for k in range(batch):
        R = random_orthogonal(Nh, r, rng)
        W1[k] = R @ np.diag(a) @ V.T
        W2[k] = U @ np.diag(b) @ R.T
    return W1, W2


def balanced_deep_init(
    sizes: Sequence[int],
    scale: float | Sequence[float],
    *,
    seed: int,
    batch: int = 1,
    task: Task | None = None,
) -> Weights:
    """Balanced deep weights: W_1 = R_1 D Vᵀ, W_l = R_l D R_{l−1}ᵀ, W_L = U D R_{L−1}ᵀ, D = diag(d).

    Then W_lW_lᵀ = R_l D² R_lᵀ = W_{l+1}ᵀW_{l+1} for every l. Without ``task``, U and V are random and
    d = scale·(|N(0,1)| + 0.5)^{1/L}; with ``task``, U, V are its singular vectors and ``scale`` gives the
    end-to-end mode strengths u0 (d = u0^{1/L}), the aligned init of the depth-N mode law (LAWS.md §1.3).

    >>> Ws = balanced_deep_init((3, 4, 4, 2), 0.5, seed=1)
    >>> bool(np.allclose(Ws[1][0] @ Ws[1][0].T, Ws[2][0].T @ Ws[2][0], atol=1e-14))
    True
    """
    sizes, batch = _sizes(sizes), _positive_int(batch, "batch")
    L = len(sizes) - 1
    r = min(sizes)
    rng = _rng(seed)
    if task is not None:
        if (task.Ni, task.No) != (sizes[0], sizes[-1]):
            raise ValueError(f"task has (Ni, No) = ({task.Ni}, {task.No}) but sizes are {sizes}")
        U_t, s, V_t = task.svd()
        if min(sizes[1:-1], default=r) < s.size:
            raise ValueError(f"hidden widths {sizes[1:-1]} are smaller than the {s.size} task modes")
        r = s.size
        u = _mode_scalars(scale, r, "u0")
        if np.any(u <= 0):
            raise ValueError(f"mode strengths must be > 0, got {u}")
    weights = [np.empty((batch, sizes[i + 1], sizes[i])) for i in range(L)]
    for k in range(batch):
        if task is None:
            U, V = random_orthogonal(sizes[-1], r, rng), random_orthogonal(sizes[0], r, rng)
            d = (_scale(float(np.mean(scale))) * (np.abs(rng.normal(size=r)) + 0.5)) ** (1 / L)
        else:
            U, V, d = U_t, V_t, u ** (1 / L)
        Rs = [V] + [random_orthogonal(n, r, rng) for n in sizes[1:-1]] + [U]
        for i in range(L):
            weights[i][k] = Rs[i + 1] @ np.diag(d) @ Rs[i].T
    return tuple(weights)


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric PSD matrix (eigenvalues clipped at 0: round-off may leave −1e-17)."""
    w, E = np.linalg.eigh(m)
    return (E * np.sqrt(np.clip(w, 0.0, None))) @ E.T


def lambda_balanced_init(
    task_or_dims: Task | int,
    lam: float,
    scale: float,
    *,
    seed: int,
    batch: int = 1,
    small: str = "auto",
    aligned: bool = False,
) -> Weights:
    """Random square two-layer weights with W2ᵀW2 − W1W1ᵀ = λI exactly (to round-off), built from the identity.

    One layer is drawn small, with i.i.d. N(0, scale²) entries G, and the other completes the identity with a
    Haar-random orthogonal Q (LAWS.md §9: not the authors' helper, whose ``4*S`` should be ``4*S**2``):

    - ``small="W1"``: W1 = G, W2 = Q (W1W1ᵀ + λI)^{1/2}, so W2ᵀW2 = W1W1ᵀ + λI. Needs W1W1ᵀ + λI ⪰ 0, i.e.
      λ ≥ −σ_min(W1)²; a more negative λ is refused (use ``small="W2"``).
    - ``small="W2"``: W2 = G, W1 = (W2ᵀW2 − λI)^{1/2} Q, so W1W1ᵀ = W2ᵀW2 − λI. Needs λ ≤ σ_min(W2)².
    - ``small="auto"`` (default): W1 for λ ≥ 0 and W2 for λ < 0, which never refuses: the small layer has
      entries of size ``scale`` and the other ≈ √|λ|·(orthogonal), the small λ-balanced init of the lazy–rich
      studies.

    ``task_or_dims`` is the width d (Ni = Nh = No = d) or a square, whitened `Task`; with a task, sign det W2W1
    is matched to sign det Σyx by reflecting W2's first row (which leaves W2ᵀW2, hence the identity, unchanged),
    so that at λ = 0 the run need not cross a saddle (LAWS.md §2.6).

    ``aligned=True`` (needs a task) builds the task-aligned init instead: W1 = R diag(a) Ṽᵀ, W2 = Ũ diag(b) Rᵀ
    with R Haar-orthogonal, ab = ``scale`` (the strength u0 of every mode) and b² − a² = λ, from
    b² = √(u0² + λ²/4) + λ/2 and a² = u0²/b² (for λ ≥ 0; mirrored for λ < 0), a form without the cancellation of
    √(u0² + λ²/4) − |λ|/2, which loses the small square's digits at |λ| ≫ u0.

    >>> W1, W2 = lambda_balanced_init(3, lam=2.0, scale=0.1, seed=0)
    >>> bool(np.allclose(W2[0].T @ W2[0] - W1[0] @ W1[0].T, 2.0 * np.eye(3), atol=1e-13))
    True
    """
    if isinstance(task_or_dims, Task):
        task = task_or_dims
        if task.Ni != task.No:
            raise ValueError(
                f"lambda_balanced_init builds square networks (Ni = Nh = No), but the task has Ni = {task.Ni}, "
                f"No = {task.No}; use a square task (e.g. prescribed_task(s, Ni=d, No=d, seed=...))"
            )
        if not task.is_whitened():
            raise ValueError(
                "lambda_balanced_init: the task's inputs are not whitened (Σxx ≠ I), which the λ-balanced laws "
                "assume; build it with whitened inputs (simulate.whiten, prescribed_task)"
            )
        d = task.Ni
    else:
        task = None
        d = _positive_int(task_or_dims, "d")
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)) or not np.isfinite(lam):
        raise ValueError(f"lam must be a finite real number (the imbalance W2ᵀW2 − W1W1ᵀ = λI), got {lam!r}")
    lam = float(lam)
    scale, batch = _scale(scale), _positive_int(batch, "batch")
    if small not in ("auto", "W1", "W2"):
        raise ValueError(f"small must be 'auto', 'W1' or 'W2' (the layer drawn at `scale`), got {small!r}")
    which = ("W1" if lam >= 0 else "W2") if small == "auto" else small
    rng = _rng(seed)
    if aligned:
        if task is None:
            raise ValueError("aligned=True needs a task (its singular vectors): pass a Task as task_or_dims")
        return _lambda_aligned(task, lam, scale, rng, batch)
    W1 = np.empty((batch, d, d))
    W2 = np.empty((batch, d, d))
    eye = np.eye(d)
    for b in range(batch):
        G = scale * rng.normal(size=(d, d))
        Q = random_orthogonal(d, d, rng)
        gram = G @ G.T if which == "W1" else G.T @ G
        sigma_min_sq = float(np.linalg.eigvalsh(gram)[0])
        if which == "W1" and lam < -sigma_min_sq:
            raise ValueError(
                f"lambda_balanced_init: λ = {lam:g} < −σ_min(W1)² = {-sigma_min_sq:.3g}, so W2ᵀW2 = W1W1ᵀ + λI "
                "would not be positive semidefinite and no W2 exists. Fix: use small='W2' or small='auto' (W2 "
                "drawn small, W1 completed), or a larger scale, or λ ≥ −σ_min(W1)²."
            )
        if which == "W2" and lam > sigma_min_sq:
            raise ValueError(
                f"lambda_balanced_init: λ = {lam:g} > σ_min(W2)² = {sigma_min_sq:.3g}, so W1W1ᵀ = W2ᵀW2 − λI "
                "would not be positive semidefinite and no W1 exists. Fix: use small='W1' or small='auto' (W1 "
                "drawn small, W2 completed), or a larger scale, or λ ≤ σ_min(W2)²."
            )
        if which == "W1":
            W1[b], W2[b] = G, Q @ _psd_sqrt(gram + lam * eye)
        else:
            W1[b], W2[b] = _psd_sqrt(gram - lam * eye) @ Q, G
        if task is not None:
            det_task = np.linalg.det(task.sigma_yx)
            if det_task != 0 and np.sign(np.linalg.det(W2[b] @ W1[b])) == -np.sign(det_task):
                W2[b, 0] *= -1
    return W1, W2


def _lambda_aligned(task: Task, lam: float, u0: float, rng: np.random.Generator, batch: int) -> Weights:
    U, s, V = task.svd()
    d = task.Ni
    if s.size != d:
        raise ValueError(f"aligned=True needs a full-rank square task (d = {d} modes), got {s.size} singular values")
    big = np.sqrt(u0**2 + lam**2 / 4) + abs(lam) / 2  # the larger square; the smaller is u0²/big (product u0²)
    b_sq, a_sq = (big, u0**2 / big) if lam >= 0 else (u0**2 / big, big)
    a, b = np.full(d, np.sqrt(a_sq)), np.full(d, np.sqrt(b_sq))
    W1 = np.empty((batch, d, d))
    W2 = np.empty((batch, d, d))
    for k in range(batch):
        R = random_orthogonal(d, d, rng)
        W1[k] = R @ np.diag(a) @ V.T
        W2[k] = U @ np.diag(b) @ R.T
    return W1, W2
