"""Experiments for `simulate.sweeps`: the runs that lawbook's studies are made of (issue 13).

`ContinualExperiment` trains two-layer networks (`TwoLayer`: any activation, parameterisation and γ0) on a sequence
of teacher tasks with an exactly set similarity, and records the losses of every task through training with the
standard measurements of `simulate.measures`.

>>> from simulate.sweeps import sweep
>>> exp = ContinualExperiment(n_in=4, n_out=1, items=16, steps=20, n_records=3)
>>> table = sweep(exp, [{"width": 8, "activation": "tanh", "parameterization": "ntk", "gamma0": 1.0,
...                      "similarity": 0.5}], seeds=[0, 1], progress=False)
>>> table.shape[0], sorted(set(table.phase))  # 2 seeds × 2 phases × 3 records
(12, [0, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulate import measures
from simulate.networks import TwoLayer
from simulate.sweeps import Experiment
from simulate.tasks import Task, _rng, random_orthogonal, whiten
from simulate.train import train
from theory.forgetting import task_distance

__all__ = [
    "CONTINUAL_AXES",
    "ContinualExperiment",
    "OverparameterizedExperiment",
    "kernel_forgetting",
    "subspaces_at_similarity",
    "teachers_at_cosine",
]

# the configuration of one continual run: what `ContinualExperiment.run` reads from each configuration
CONTINUAL_AXES = ("width", "activation", "parameterization", "gamma0", "similarity")


def teachers_at_cosine(A: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """A matrix B with ‖B‖_F = ‖A‖_F and cos(A, B) = ⟨A, B⟩_F/(‖A‖‖B‖) = ``cosine`` exactly: B = cA + √(1−c²)A⊥,
    A⊥ a random direction orthogonal to A (Gram–Schmidt) scaled to ‖A‖.

    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(2, 3)); B = teachers_at_cosine(A, 0.3, rng)
    >>> round(float((A * B).sum() / np.linalg.norm(A) / np.linalg.norm(B)), 12)
    0.3
    """
    if not (np.isfinite(cosine) and -1 <= cosine <= 1):
        raise ValueError(f"cosine must lie in [-1, 1], got {cosine!r}")
    norm = np.linalg.norm(A)
    if norm == 0:
        raise ValueError("A = 0 has no direction to set a cosine against")
    G = rng.normal(size=A.shape)
    G -= (G * A).sum() / norm**2 * A
    if np.linalg.norm(G) == 0:  # A is a single number: no orthogonal direction exists
        raise ValueError("A has one entry: only cosines ±1 are possible; use a teacher with ≥ 2 entries")
    return cosine * A + np.sqrt(1 - cosine**2) * G * (norm / np.linalg.norm(G))


def _cosine_chain(first: np.ndarray, cosine: float, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` matrices from ``first``, each at Frobenius cosine ``cosine`` to the one before (`teachers_at_cosine`)."""
    chain = [first]
    for _ in range(count - 1):
        chain.append(teachers_at_cosine(chain[-1], cosine, rng))
    return chain


def subspaces_at_similarity(
    n: int, m: int, similarity: float, count: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """``count`` orthonormal frames U_k (n × m), each at input similarity ρ = ``similarity`` to the one before:
    U_{k+1} = √ρ·U_k + √(1−ρ)·V with V an orthonormal frame orthogonal to U_k (random), so that
    U_kᵀU_{k+1} = √ρ·I: every principal angle between the subspaces is arccos √ρ and ‖U_kᵀU_{k+1}‖²_F/m = ρ
    exactly (ρ = 1: the same subspace; ρ = 0: orthogonal subspaces). Needs n ≥ 2m.

    >>> U = subspaces_at_similarity(6, 2, 0.3, 2, np.random.default_rng(0))
    >>> round(float(np.sum((U[0].T @ U[1]) ** 2) / 2), 12), bool(np.allclose(U[1].T @ U[1], np.eye(2)))
    (0.3, True)
    """
    if not (np.isfinite(similarity) and 0 <= similarity <= 1):
        raise ValueError(f"input similarity must lie in [0, 1] (the mean squared cosine of the principal angles), "
                         f"got {similarity!r}")  # fmt: skip
    if not (1 <= m and 2 * m <= n):
        raise ValueError(f"subspaces of rank {m} at any similarity need n ≥ 2m inputs, got n = {n}; lower input_rank")
    frames = [random_orthogonal(n, m, rng)]
    for _ in range(count - 1):
        U = frames[-1]
        G = rng.normal(size=(n, m))
        V, _ = np.linalg.qr(G - U @ (U.T @ G))
        frames.append(np.sqrt(similarity) * U + np.sqrt(1 - similarity) * V)
    return frames


def kernel_forgetting(
    K: np.ndarray,
    targets: Sequence[np.ndarray],
    *,
    eta: float | None = None,
    steps: np.ndarray | None = None,
    rcond: float = 1e-10,
) -> np.ndarray:
    """Forgetting of task 0 by a model linear in its parameters, with tangent kernel K, trained by GD on tasks
    0, 1, …, T−1 in turn on the squared loss ½/P_k Σ‖ŷ − y‖² from ŷ = 0.

    Task k moves the function everywhere by f ← f + K(·, X_k) G_k (Y_k − f(X_k)), with K_kk = K(X_k, X_k) = VΛVᵀ
    and G_k = V g(Λ) Vᵀ: g(λ) = 1/λ at convergence (``steps=None``: kernel regression, f ← f + K(·, X_k)
    K_kk⁺ r), and g(λ) = (1 − (1 − ηλ/P_k)^n)/λ after n GD steps of size η (``steps[b, k]`` = n for network b),
    which is the linearised model's GD exactly (its residual on X_k is (I − ηK_kk/P_k)^n r). Eigenvalues below
    ``rcond``·λ_max count as 0: those directions of K_kk do not move f anywhere (K(·, X_k)v = 0 when K_kk v = 0,
    K being positive semi-definite).

    ``K`` has shape (B, No·N, No·N) over the tasks' items stacked in order (N = Σ P_k, P_k the items of task k),
    entries ordered (output o, item), o-major, as `measures.empirical_ntk` returns them; ``targets`` are the
    tasks' Y_k (No, P_k). Returns L_0(after task T−1) − L_0(after task 0), shape (B,).

    Two kernels give two laws: the linear kernel XᵀX ⊗ I at convergence is the minimum-norm linear learner (with
    shared whitened inputs, the task-distance law's forgetting ½‖Σyx,T − Σyx,0‖²), and a network's empirical NTK
    at initialisation with its η and steps is the network's lazy limit (Jacot et al. 2018; Chizat, Oyallon &
    Bach 2019: the output multiplier γ0 → 0).

    One output, one item per task with targets 1 then 3: orthogonal items do not interfere, the same item twice
    is overwritten (½·(3 − 1)² = 2), and one step of η = ½ on each task goes half way each time (f = 0 → ½ on
    task 0, then ½ → 1.75 on task 1; forgetting ½·0.75² − ½·0.5²):

    >>> Y = [np.array([[1.0]]), np.array([[3.0]])]
    >>> kernel_forgetting(np.eye(2)[None], Y).tolist(), kernel_forgetting(np.ones((1, 2, 2)), Y).tolist()
    ([0.0], [2.0])
    >>> kernel_forgetting(np.ones((1, 2, 2)), Y, eta=0.5, steps=np.array([[1, 1]])).tolist()
    [0.15625]
    """
    K = np.asarray(K, dtype=np.float64)
    sizes = [np.asarray(y).shape[1] for y in targets]
    No, N = np.asarray(targets[0]).shape[0], sum(sizes)
    if K.ndim != 3 or K.shape[1:] != (No * N, No * N) or not np.all(np.isfinite(K)):
        raise ValueError(f"K must be finite with shape (B, {No * N}, {No * N}) for {No} outputs and {N} items, "
                         f"got shape {K.shape}")  # fmt: skip
    if (steps is None) != (eta is None):
        raise ValueError("give eta and steps together (GD for that many steps), or neither (convergence)")
    if steps is not None:
        steps = np.asarray(steps)
        if steps.shape != (K.shape[0], len(sizes)) or np.any(steps < 0):
            raise ValueError(f"steps must be non-negative counts of shape (B, T) = {(K.shape[0], len(sizes))}, "
                             f"got {steps.shape}")  # fmt: skip
        if not (np.isfinite(eta) and eta > 0):
            raise ValueError(f"eta must be a finite step > 0, got {eta!r}")
    starts = np.cumsum([0, *sizes])
    blocks = [(o * N + np.arange(starts[k], starts[k + 1])) for k in range(len(sizes)) for o in range(No)]
    index = [np.concatenate(blocks[k * No : (k + 1) * No]) for k in range(len(sizes))]  # task k's entries, o-major
    ys = [np.asarray(y, dtype=np.float64).reshape(-1) for y in targets]
    f = np.zeros((K.shape[0], No * N))
    first = None
    for k, (idx, y) in enumerate(zip(index, ys, strict=True)):
        lam, V = np.linalg.eigh(K[:, idx][:, :, idx])
        keep = lam > rcond * lam[:, -1:]
        safe = np.where(keep, lam, 1.0)
        if steps is None:
            g = np.where(keep, 1 / safe, 0.0)
        else:
            decay = (1 - eta * safe / sizes[k]) ** steps[:, k : k + 1]
            g = np.where(keep, (1 - decay) / safe, 0.0)
        r = (y - f[:, idx])[..., None]
        coef = V @ (g[..., None] * (np.swapaxes(V, -1, -2) @ r))
        f = f + (K[:, :, idx] @ coef)[..., 0]
        loss0 = 0.5 * ((f[:, index[0]] - ys[0]) ** 2).sum(axis=1) / sizes[0]
        if k == 0:
            first = loss0
    return loss0 - first


@dataclass(frozen=True)
class ContinualExperiment(Experiment):
    """Two-layer students trained on ``n_tasks`` tasks in turn, ``steps`` GD steps each (or on to ``tolerance``),
    from the parameterisation's initialisation (`TwoLayer.init`, centred at it so that ŷ = 0 at the start,
    `TwoLayer.centered_at`) with its step rule η = `TwoLayer.learning_rate`(``eta0``).

    **Targets.** Y_k = f_k(X_k): ``teacher="linear"`` has f_k(x) = A_k x with A_1 ~ N(0, 1/n_in) and each
    A_{k+1} at Frobenius cosine ``similarity`` to A_k (`teachers_at_cosine`, exact); ``teacher="tanh"`` has
    f_k(x) = a·tanh(B_k x)/√m (m = ``teacher_width``, B_1 ~ N(0, 1/n_in), a ~ N(0, 1) shared) with the first
    layers B_k at that cosine.

    **Inputs.** Without ``input_similarity`` in the configuration all tasks share one whitened X (``n_in`` ×
    ``items``, Gaussian then whitened). With it, task k's inputs are X_k = U_k Z_k: fresh whitened Z_k
    (m × ``items``, m = ``input_rank``, default n_in // 2) in an m-dimensional subspace U_k, consecutive subspaces
    at similarity ρ = ``input_similarity`` (`subspaces_at_similarity`: ‖U_kᵀU_{k+1}‖²_F/m = ρ exactly), so
    Σxx,k = U_kU_kᵀ. The input distributions' similarity ρ and the teachers' similarity s are then set
    separately. The tasks depend on the configuration and its ``task_seed`` (0 if it has none), not on the seed:
    the seeds of one configuration are initialisations of the same tasks, trained together as one batch.

    **Length.** Each phase runs ``steps`` steps. With ``tolerance`` set, every network whose loss on the current
    task is still above it trains on, ``steps`` more at a time, until it is at or below it or the phase reaches
    ``max_steps`` (each network alone: a run's length depends on its own configuration and seed, never on the
    batch it shares).

    **Configuration** (`CONTINUAL_AXES`, plus optional ``task_seed``, ``input_similarity`` and ``init_scale``, a
    factor on both layers' initial weights, default 1): width, activation, parameterization, gamma0, similarity.

    **Rows** (one per recorded time: ``n_records`` in a phase's first ``steps``, then the end of each extra
    round): ``phase`` (task being trained, 0-based), ``step`` within the phase, ``t`` (global step·η0, the time in
    units of the base step), ``loss_<k>`` for every task k, ``feature_rate`` (`measures.feature_learning_rate` of
    W1 against the initialisation), and per run (repeated on its rows): ``forgetting`` (`measures.forgetting` of
    task 0); ``forgetting_min_norm``, the forgetting of the minimum-norm linear learner fitting each task to
    convergence (`kernel_forgetting` with the linear kernel); ``task_distance_law``: the loss on task 0 after the
    last task that the task-distance law (Braun et al. 2022, LAWS.md §3) gives a linear student trained to
    convergence, ½‖Σyx,last − Σyx,0‖²_F + c_0 (c_0 task 0's irreducible loss for a linear map; NaN with
    ``input_similarity``, where the law's shared whitened inputs are not given); unless ``ntk=False``,
    ``ntk_change`` (`measures.ntk_change` on task 0's inputs between the initialisation and the end of the first
    phase), ``ntk_change_last`` (the same from the initialisation to the end of the last phase) and
    ``forgetting_lazy``, the forgetting of the network's lazy limit (`kernel_forgetting` with its
    empirical NTK at initialisation on all tasks' inputs, the run's η and its steps in every phase: what the
    network linearised at its initialisation would forget after the same training); with ``keep_weights``,
    ``W1`` and ``W2``: the weights the row's phase ended with, each flattened row-major (arrays in the cells).
    """

    n_in: int = 8
    n_out: int = 1
    items: int = 64
    n_tasks: int = 2
    steps: int = 1000
    eta0: float = 0.05
    n_records: int = 11
    teacher: str = "linear"
    teacher_width: int = 16
    ntk: bool = True
    keep_weights: bool = False
    input_rank: int = 0
    tolerance: float | None = None
    max_steps: int = 0
    name: str = "continual"

    def __post_init__(self) -> None:
        self.require_positive_ints("n_in", "n_out", "items", "n_tasks", "steps", "n_records", "teacher_width")
        if self.n_records < 2 or self.n_tasks < 2:
            raise ValueError("n_records and n_tasks must be at least 2")
        if self.teacher not in ("linear", "tanh"):
            raise ValueError(f"unknown teacher {self.teacher!r}; use 'linear' or 'tanh'")
        if not (np.isfinite(self.eta0) and self.eta0 > 0):
            raise ValueError(f"eta0 must be a finite step > 0, got {self.eta0!r}")
        if isinstance(self.input_rank, bool) or not isinstance(self.input_rank, int) or self.input_rank < 0:
            raise ValueError(f"input_rank must be a non-negative integer (0: n_in // 2), got {self.input_rank!r}")
        if 2 * self.rank > self.n_in or self.rank > self.items:
            raise ValueError(f"input_rank {self.rank} needs n_in ≥ 2·rank and items ≥ rank (n_in = {self.n_in}, "
                             f"items = {self.items})")  # fmt: skip
        if self.tolerance is not None:
            if not (np.isfinite(self.tolerance) and self.tolerance > 0):
                raise ValueError(f"tolerance must be a finite loss > 0 (or None), got {self.tolerance!r}")
            if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < self.steps:
                raise ValueError(f"with a tolerance, max_steps must be an integer ≥ steps = {self.steps}, got "
                                 f"{self.max_steps!r}")  # fmt: skip
        elif self.max_steps:
            raise ValueError("max_steps caps the training to a tolerance: set tolerance too, or leave max_steps at 0")

    @property
    def rank(self) -> int:
        """m, the rank of each task's inputs when the configuration sets ``input_similarity``."""
        return self.input_rank or max(1, self.n_in // 2)

    def tasks(self, similarity: float, task_seed: int, input_similarity: float | None = None) -> list[Task]:
        """The task sequence of a configuration (class docstring)."""
        rng = _rng(task_seed)
        if input_similarity is None:
            X = whiten(rng.normal(size=(self.n_in, self.items)))
            inputs = [X] * self.n_tasks
        else:
            frames = subspaces_at_similarity(self.n_in, self.rank, float(input_similarity), self.n_tasks, rng)
            inputs = [U @ whiten(rng.normal(size=(self.rank, self.items))) for U in frames]
        if self.teacher == "linear":
            A = rng.normal(size=(self.n_out, self.n_in)) / np.sqrt(self.n_in)
            maps = _cosine_chain(A, similarity, self.n_tasks, rng)
            targets = [A @ X for A, X in zip(maps, inputs, strict=True)]
        else:
            B = rng.normal(size=(self.teacher_width, self.n_in)) / np.sqrt(self.n_in)
            a = rng.normal(size=(self.n_out, self.teacher_width))
            firsts = _cosine_chain(B, similarity, self.n_tasks, rng)
            targets = [a @ np.tanh(B @ X) / np.sqrt(self.teacher_width) for B, X in zip(firsts, inputs, strict=True)]
        where = "" if input_similarity is None else f", inputs at similarity {input_similarity}"
        return [
            Task(X, Y, name=f"{self.teacher} teacher {k} (cosine {similarity}{where})")
            for k, (X, Y) in enumerate(zip(inputs, targets, strict=True))
        ]

    def _phase(
        self, net: TwoLayer, W0: list[np.ndarray], weights: list[np.ndarray], tasks: list[Task], k: int
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Train phase k (on task k). Per network b: its recorded steps (R_b,), losses on every task (R_b, T), first layers
        (R_b, Nh, Ni); and the final weights of all networks."""
        eta = net.learning_rate(self.eta0)
        grid = np.unique(np.linspace(0, self.steps, self.n_records).round().astype(np.int64))
        task = tasks[k]
        phase = train(net, weights, task, eta=eta, times=grid * eta)
        losses = np.stack([phase.loss_on(t) for t in tasks], axis=-1)  # (R, B, T)
        B = losses.shape[1]
        steps = [grid.copy() for _ in range(B)]
        loss = [losses[:, b] for b in range(B)]
        first = [phase.weights[0][:, b] for b in range(B)]
        final = [w[-1].copy() for w in phase.weights]
        done = self.steps
        while self.tolerance is not None and done < self.max_steps:
            active = np.flatnonzero(np.array([row[-1, k] for row in loss]) > self.tolerance)
            if not active.size:
                break
            chunk = min(self.steps, self.max_steps - done)
            sub = net.centered_at([w[active] for w in W0])
            more = train(sub, [w[active] for w in final], task, eta=eta, times=[0.0, chunk * eta])
            extra = np.stack([more.loss_on(t) for t in tasks], axis=-1)[-1]  # (A, T)
            for i, b in enumerate(active):
                steps[b] = np.append(steps[b], done + chunk)
                loss[b] = np.vstack([loss[b], extra[i]])
                first[b] = np.concatenate([first[b], more.weights[0][-1, i][None]])
            for layer, w in enumerate(more.weights):
                final[layer][active] = w[-1]
            done += chunk
        return steps, loss, first, final

    def run(self, items: Sequence[tuple[Mapping[str, Any], int]]) -> list[pd.DataFrame]:
        config = self.unit_config(items, CONTINUAL_AXES)
        seeds = [seed for _, seed in items]
        net = TwoLayer(
            (self.n_in, int(config["width"]), self.n_out),
            str(config["activation"]),
            parameterization=str(config["parameterization"]),
            gamma0=float(config["gamma0"]),
        )
        scale = float(config.get("init_scale", 1.0))
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"init_scale must be a finite factor > 0 on the initial weights, got {scale!r}")
        # each run's init from its own seed only, both layers times init_scale
        draws = [[scale * w for w in net.init(seed=seed)] for seed in seeds]
        W0 = [np.concatenate([d[layer] for d in draws]) for layer in range(2)]
        net = net.centered_at(W0)
        rho = config.get("input_similarity")
        tasks = self.tasks(float(config["similarity"]), int(config.get("task_seed", 0)), rho)
        weights, phases, finals = W0, [], []
        for k in range(len(tasks)):
            steps, loss, first, weights = self._phase(net, W0, weights, tasks, k)
            phases.append((steps, loss, first))
            finals.append([w.copy() for w in weights])
        after_first = finals[0]
        B = len(seeds)
        ends = np.stack([np.stack([loss[b][-1] for b in range(B)], axis=-1) for _, loss, _ in phases])  # (P, T, B)
        forgetting = measures.forgetting(ends)
        X_all = np.concatenate([t.X for t in tasks], axis=1)
        Y = [t.Y for t in tasks]
        linear_kernel = np.kron(np.eye(self.n_out), X_all.T @ X_all)[None]
        min_norm = float(kernel_forgetting(linear_kernel, Y)[0])
        law = np.nan
        if rho is None:
            law = 0.5 * task_distance(tasks[0].sigma_yx, tasks[-1].sigma_yx) ** 2 + tasks[0].irreducible_loss()
        ntk_change, ntk_change_last, lazy = np.full(B, np.nan), np.full(B, np.nan), np.full(B, np.nan)
        if self.ntk:
            trained = np.array([[int(steps[b][-1]) for steps, _, _ in phases] for b in range(B)])
            K = measures.empirical_ntk(net, W0, X_all)
            lazy = kernel_forgetting(K, Y, eta=net.learning_rate(self.eta0), steps=trained)
            K0 = measures.empirical_ntk(net, W0, tasks[0].X)
            K1 = measures.empirical_ntk(net, after_first, tasks[0].X)
            ntk_change = measures.ntk_change(K0, K1)
            ntk_change_last = measures.ntk_change(K0, measures.empirical_ntk(net, finals[-1], tasks[0].X))
        frames = []
        for b in range(B):
            rows: dict[str, Any] = {"phase": [], "step": [], "t": [], "feature_rate": []}
            losses, offset = [], 0
            for p, (steps, loss, first) in enumerate(phases):
                rate = measures.feature_learning_rate(first[b], np.broadcast_to(W0[0][b], first[b].shape))
                rows["phase"] += [p] * len(steps[b])
                rows["step"] += steps[b].tolist()
                rows["t"] += ((offset + steps[b]) * self.eta0).tolist()
                rows["feature_rate"] += rate.tolist()
                losses.append(loss[b])
                offset += int(steps[b][-1])
            frame = pd.DataFrame(rows)
            losses = np.concatenate(losses)
            for k in range(len(tasks)):
                frame[f"loss_{k}"] = losses[:, k]
            frame["forgetting"] = forgetting[b]
            frame["forgetting_min_norm"] = min_norm
            frame["forgetting_lazy"] = lazy[b]
            frame["ntk_change"] = ntk_change[b]
            frame["ntk_change_last"] = ntk_change_last[b]
            frame["task_distance_law"] = law
            if self.keep_weights:  # each row: the weights its phase ended with, flattened row-major per layer
                phase_of_row = frame.phase.to_numpy()
                for layer in range(2):
                    frame[f"W{layer + 1}"] = [finals[p][layer][b].ravel() for p in phase_of_row]
            frames.append(frame)
        return frames


@dataclass(frozen=True)
class OverparameterizedExperiment(Experiment):
    """The minimum-norm linear learner after two tasks (`theory.overparameterized.min_norm_forgetting`): one
    configuration {n, p, similarity} gives the Monte Carlo mean forgetting F over Gaussian task draws, to a fixed
    precision. A pilot of ``pilot`` draws estimates the per-draw standard deviation σ, and the cell gets
    max(pilot, ⌈(σ/``target_se``)²⌉) draws, so every mean carries a standard error ≈ ``target_se`` (σ ranges 20×
    over a typical grid; symbolic regression's noise floor assumes one noise variance).

    Teachers are unit vectors w1* = e1, w2* = s·e1 + √(1 − s²)·e2 (cosine s exactly; the law is rotation
    invariant). Each cell's draws come from a generator seeded by (seed, n, p, s), never by its place in the grid.

    Rows (one per run): ``r`` = n/p, ``F`` (mean), ``F_se`` (its standard error), ``draws``.

    >>> from simulate.sweeps import sweep
    >>> t = sweep(OverparameterizedExperiment(), [{"n": 10, "p": 50, "similarity": 0.0}], [0], progress=False)
    >>> round(float(t.r[0]), 2), bool(abs(t.F[0] - 0.2 * 1.2) < 5 * t.F_se[0])  # the law r(1 − 2s + r)
    (0.2, True)
    """

    pilot: int = 64
    target_se: float = 0.01
    name: str = "overparameterized_forgetting"

    def __post_init__(self) -> None:
        if isinstance(self.pilot, bool) or not isinstance(self.pilot, int) or self.pilot < 2:
            raise ValueError(f"pilot must be an integer ≥ 2, got {self.pilot!r}")
        if not (np.isfinite(self.target_se) and self.target_se > 0):
            raise ValueError(f"target_se must be a finite standard error > 0, got {self.target_se!r}")

    def run(self, items: Sequence[tuple[Mapping[str, Any], int]]) -> list[pd.DataFrame]:
        frames = []
        for config, seed in items:
            n, p, cos = int(config["n"]), int(config["p"]), float(config["similarity"])
            if not (0 < n < p) or not -1 <= cos <= 1:
                raise ValueError(f"need 0 < n < p and a cosine in [−1, 1], got n = {n}, p = {p}, similarity = {cos}")
            rng = np.random.default_rng([seed, n, p, round((cos + 1) * 1e9)])
            values = _forgetting_draws(rng, n, p, cos, self.pilot, self.target_se)
            se = values.std(ddof=1) / np.sqrt(values.size)
            frames.append(pd.DataFrame({"r": [n / p], "F": [values.mean()], "F_se": [se], "draws": [values.size]}))
        return frames


def _forgetting_draws(rng: np.random.Generator, n: int, p: int, cos: float, pilot: int, target_se: float) -> np.ndarray:
    """Per-draw forgetting of the minimum-norm learner: a pilot, then enough draws for ``target_se``."""
    from theory.overparameterized import min_norm_forgetting

    w1, w2 = np.zeros(p), np.zeros(p)
    w1[0], w2[0], w2[1] = 1.0, cos, np.sqrt(max(0.0, 1.0 - cos * cos))
    first = min_norm_forgetting(rng.normal(size=(pilot, n, p)), rng.normal(size=(pilot, n, p)), w1, w2)
    extra = max(0, int(np.ceil((first.std(ddof=1) / target_se) ** 2)) - pilot)
    if not extra:
        return first
    more = min_norm_forgetting(rng.normal(size=(extra, n, p)), rng.normal(size=(extra, n, p)), w1, w2)
    return np.concatenate([first, more])
