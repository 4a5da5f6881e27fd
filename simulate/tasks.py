"""Regression tasks: data sets (X, Y) with exactly whitened inputs and prescribed input-output structure.

A `Task` holds inputs ``X ∈ R^{Ni×P}`` and targets ``Y ∈ R^{No×P}`` (columns are items) and exposes the
statistics every law uses: Σxx = XXᵀ/P, Σyx = YXᵀ/P, Σyy = YYᵀ/P (LAWS.md §0). Whitening is exact:
X ← L⁻¹X with L = chol(XXᵀ/P), which gives Σxx = I to round-off (≈ 1e-15).

Every random constructor takes an explicit ``seed``; nothing touches global random state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from theory.checks import as_matrix

__all__ = [
    "Task",
    "living_kingdom",
    "prescribed_task",
    "random_orthogonal",
    "random_regression",
    "task_pair",
    "task_sequence",
    "whiten",
]


@dataclass(frozen=True)
class Task:
    """A full-batch regression task. Validated at construction; arrays are read-only float64 copies.

    >>> task = random_regression(Ni=3, No=2, P=20, seed=0)
    >>> bool(task.is_whitened())
    True
    >>> task.sigma_yx.shape
    (2, 3)
    """

    X: np.ndarray
    Y: np.ndarray
    name: str = "task"
    _stats: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        x = as_matrix(self.X, "X").copy()
        y = as_matrix(self.Y, "Y").copy()
        if x.shape[1] != y.shape[1]:
            raise ValueError(f"X has {x.shape[1]} items (columns) but Y has {y.shape[1]}; columns are items")
        x.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "X", x)
        object.__setattr__(self, "Y", y)

    @property
    def Ni(self) -> int:
        return self.X.shape[0]

    @property
    def No(self) -> int:
        return self.Y.shape[0]

    @property
    def P(self) -> int:
        return self.X.shape[1]

    def _stat(self, key: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if key not in self._stats:
            m = a @ b.T / self.P
            m.setflags(write=False)
            self._stats[key] = m
        return self._stats[key]

    @property
    def sigma_xx(self) -> np.ndarray:
        return self._stat("xx", self.X, self.X)

    @property
    def sigma_yx(self) -> np.ndarray:
        return self._stat("yx", self.Y, self.X)

    @property
    def sigma_yy(self) -> np.ndarray:
        return self._stat("yy", self.Y, self.Y)

    def is_whitened(self, tol: float = 1e-10) -> bool:
        return bool(np.max(np.abs(self.sigma_xx - np.eye(self.Ni))) <= tol)

    def svd(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Compact SVD Σyx = Ũ diag(s̃) Ṽᵀ, singular values in decreasing order."""
        U, s, Vt = np.linalg.svd(self.sigma_yx, full_matrices=False)
        return U, s, Vt.T

    def irreducible_loss(self) -> float:
        """c = ½(tr Σyy − ‖Σyx‖²) for whitened inputs: the loss at the optimum W = Σyx."""
        return 0.5 * (float(np.trace(self.sigma_yy)) - float(np.sum(self.sigma_yx**2)))


def _rng(seed: int) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def whiten(X: np.ndarray) -> np.ndarray:
    """Exactly whitened copy of X: L⁻¹X with L = chol(XXᵀ/P), so that XXᵀ/P = I to round-off.

    >>> X = whiten(np.random.default_rng(0).normal(size=(3, 10)))
    >>> bool(np.allclose(X @ X.T / 10, np.eye(3), atol=1e-12))
    True
    """
    x = as_matrix(X, "X")
    if x.shape[1] < x.shape[0]:
        raise ValueError(f"cannot whiten {x.shape[0]} inputs from P = {x.shape[1]} items: need P ≥ Ni")
    try:
        L = np.linalg.cholesky(x @ x.T / x.shape[1])
    except np.linalg.LinAlgError:
        raise ValueError(
            "cannot whiten X: its input covariance is singular (rank < Ni); remove dependent inputs"
        ) from None
    return np.linalg.solve(L, x)


def random_orthogonal(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """n×k matrix with orthonormal columns, Haar-distributed (QR of a Gaussian with sign fix)."""
    q, r = np.linalg.qr(rng.normal(size=(n, max(k, 1))))
    return (q * np.sign(np.diag(r)))[:, :k]


def random_regression(Ni: int, No: int, P: int, *, seed: int, noise: float = 1.0, whitened: bool = True) -> Task:
    """Gaussian inputs (exactly whitened if asked) and targets Y = A X + noise·N(0, 1) with A ~ N(0, 1/Ni)."""
    Ni, No, P = _positive_int(Ni, "Ni"), _positive_int(No, "No"), _positive_int(P, "P")
    rng = _rng(seed)
    X = rng.normal(size=(Ni, P))
    if whitened:
        X = whiten(X)
    A = rng.normal(size=(No, Ni)) / np.sqrt(Ni)
    Y = A @ X + noise * rng.normal(size=(No, P))
    return Task(X, Y, name=f"random_regression(Ni={Ni}, No={No}, P={P}, seed={seed})")


def prescribed_task(
    s: Sequence[float],
    Ni: int,
    No: int,
    *,
    seed: int,
    U: np.ndarray | None = None,
    V: np.ndarray | None = None,
    P: int | None = None,
) -> Task:
    """A whitened task with Σyx = U diag(s) Vᵀ exactly (random orthonormal U, V unless given).

    Y = Σyx X makes Σyx = Σyx·Σxx = Σyx; Σyy = Σyx Σyxᵀ, so the irreducible loss is 0.

    >>> t = prescribed_task([3.0, 1.0], Ni=3, No=2, seed=0)
    >>> np.round(t.svd()[1], 12).tolist()
    [3.0, 1.0]
    """
    Ni, No = _positive_int(Ni, "Ni"), _positive_int(No, "No")
    svals = np.asarray(s, dtype=np.float64)
    r = svals.size
    if svals.ndim != 1 or r == 0 or r > min(Ni, No):
        raise ValueError(f"need 1 ≤ len(s) ≤ min(Ni, No) = {min(Ni, No)} singular values, got {svals.shape}")
    if not np.all(np.isfinite(svals)) or np.any(svals < 0):
        raise ValueError(f"singular values must be finite and non-negative, got {svals}")
    rng = _rng(seed)
    U = random_orthogonal(No, r, rng) if U is None else as_matrix(U, "U", shape=(No, r))
    V = random_orthogonal(Ni, r, rng) if V is None else as_matrix(V, "V", shape=(Ni, r))
    for name, m in (("U", U), ("V", V)):
        if not np.allclose(m.T @ m, np.eye(r), atol=1e-10):
            raise ValueError(f"{name} must have orthonormal columns ({name}ᵀ{name} = I)")
    P = 2 * Ni if P is None else _positive_int(P, "P")
    X = whiten(rng.normal(size=(Ni, P)))
    sigma = U @ np.diag(svals) @ V.T
    return Task(X, sigma @ X, name=f"prescribed_task(s={svals.tolist()}, seed={seed})")


# The 8-item hierarchical domain of Saxe et al. (2014, 2019): items at the leaves of a binary tree
# (plants/animals → trees, flowers, birds, fish) with one feature per node of the tree.
KINGDOM_ITEMS = ("oak", "pine", "rose", "daisy", "robin", "canary", "salmon", "sunfish")
KINGDOM_FEATURES = (
    "grow",
    "roots", "move",
    "bark", "petals", "fly", "swim",
    "is_oak", "is_pine", "is_rose", "is_daisy", "is_robin", "is_canary", "is_salmon", "is_sunfish",
)  # fmt: skip


def living_kingdom() -> Task:
    """The 8-item hierarchical "living kingdom" task with one-hot item inputs and 15 binary features.

    Inputs are √8·e_i so that Σxx = I exactly. The singular values of Σyx are ordered by the hierarchy:
    one for the root, one for plants vs animals, two for the four sub-groups, four item-specific ones.

    >>> np.round(living_kingdom().svd()[1], 3).tolist()
    [1.369, 0.935, 0.612, 0.612, 0.354, 0.354, 0.354, 0.354]
    """
    P = len(KINGDOM_ITEMS)
    Yf = np.zeros((len(KINGDOM_FEATURES), P))
    Yf[0, :] = 1  # everything grows
    Yf[1, :4] = 1  # plants have roots
    Yf[2, 4:] = 1  # animals move
    for g in range(4):  # bark, petals, fly, swim
        Yf[3 + g, 2 * g : 2 * g + 2] = 1
    Yf[7:, :] = np.eye(P)
    return Task(np.sqrt(P) * np.eye(P), Yf, name="living_kingdom")


def task_pair(Ni: int, No: int, P: int, similarity: float, *, seed: int, noise: float = 0.0) -> tuple[Task, Task]:
    """Two whitened tasks on shared inputs with target maps A_b = ρA_a + √(1−ρ²)A' (ρ = ``similarity``)."""
    return tuple(task_sequence(2, Ni, No, P, similarity, seed=seed, noise=noise))  # type: ignore[return-value]


def task_sequence(
    n_tasks: int, Ni: int, No: int, P: int, similarity: float, *, seed: int, noise: float = 0.0
) -> list[Task]:
    """``n_tasks`` whitened tasks on shared inputs X with targets Y_k = A_k X + noise·N(0, 1).

    A_1 ~ N(0, 1/Ni) and A_{k+1} = ρ A_k + √(1−ρ²) A'_k with independent A'_k, so consecutive tasks have
    expected correlation ρ ∈ [−1, 1] (ρ = 1: identical, ρ = 0: independent, ρ = −1: reversal). With noise > 0
    each task has a positive irreducible loss c_k.

    >>> a, b = task_pair(3, 2, 12, similarity=-1.0, seed=0)
    >>> bool(np.allclose(a.sigma_yx, -b.sigma_yx))
    True
    """
    n_tasks = _positive_int(n_tasks, "n_tasks")
    if not (np.isfinite(similarity) and -1.0 <= similarity <= 1.0):
        raise ValueError(f"similarity must lie in [-1, 1], got {similarity}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite standard deviation ≥ 0, got {noise}")
    Ni, No, P = _positive_int(Ni, "Ni"), _positive_int(No, "No"), _positive_int(P, "P")
    rng = _rng(seed)
    X = whiten(rng.normal(size=(Ni, P)))
    A = rng.normal(size=(No, Ni)) / np.sqrt(Ni)
    tasks = []
    for k in range(n_tasks):
        if k:
            A = similarity * A + np.sqrt(1 - similarity**2) * rng.normal(size=(No, Ni)) / np.sqrt(Ni)
        Y = A @ X + (noise * rng.normal(size=(No, P)) if noise > 0 else 0.0)
        tasks.append(Task(X, Y, name=f"task_{k}(ρ={similarity}, noise={noise}, seed={seed})"))
    return tasks
