"""Gradient descent (and other optimizers) for batches of networks, recorded at requested times t/τ.

GD step k is at t/τ = kη (LAWS.md §0): ``times`` are given in units of τ and must be multiples of η.
The plain-GD loop does one batched gradient evaluation and an in-place update per step; recording is a copy into
a preallocated buffer at the requested steps, and losses are evaluated after the loop in one batched call.
Other optimizers (`simulate.optim.Optimizer`: SGD, momentum, Adam, weight decay) run `torch.optim` on the same
hand-written gradients, with the same recording; their time convention is stated in `simulate.optim`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from simulate.networks import AbstractNetwork, DeepLinear, TaskTensors
from simulate.optim import Optimizer, minibatch, minibatch_indices
from simulate.tasks import Task
from simulate.threads import thread_policy
from theory.stability import max_stable_eta

__all__ = ["GD", "Trajectory", "stability_bound", "steps_for_times", "train"]

GD = Optimizer()  # full-batch gradient descent, W ← W − η∇L: the default

# Loss-window instability detection (networks without a closed-form bound). Stable GD never increases the loss
# (descent lemma: L(k+1) ≤ L(k) − η(1 − ηλ/2)‖∇L‖² while η < 2/λ along the step), so an increase over a window
# beyond round-off means η exceeds 2/λ somewhere on the path. The window is odd so that a period-2 oscillation
# (the usual first sign of instability) compares its two phases, whose losses differ, rather than one phase twice.
LOSS_WINDOW = 25
# Round-off of a loss evaluation is ≈ (number of summed terms)·ε·(size of the terms) ≲ 1e-13 relative for the
# sizes used here; 1e-10 relative (to the window's starting loss) plus 1e-12 of the initial loss (for losses
# converged to round-off level, whose relative noise is large) stays above it and flags any genuine increase.
LOSS_RTOL = 1e-10
LOSS_ATOL_REL_INITIAL = 1e-12


def steps_for_times(times: Sequence[float] | np.ndarray, eta: float) -> np.ndarray:
    """GD step indices k with kη = t for each requested time; a time off the η-grid is an error.

    >>> steps_for_times([0.0, 0.5, 1.0], 0.25).tolist()
    [0, 2, 4]
    """
    if not (isinstance(eta, (int, float, np.floating)) and np.isfinite(eta) and eta > 0):
        raise ValueError(f"step size eta must be a positive finite number, got {eta!r}")
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"times must be a non-empty 1-D sequence of t/τ values, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and ≥ 0 (they are t/τ = kη)")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must be strictly increasing")
    k = np.rint(t / eta)
    off = np.abs(k * eta - t) > 1e-9 * np.maximum(1.0, t)
    if np.any(off):
        raise ValueError(
            f"time {t[off][0]!r} is not a multiple of eta = {eta!r}; GD step k is at t/τ = kη, so record at "
            "multiples of eta (e.g. np.arange(K + 1) * eta)"
        )
    return k.astype(np.int64)


def stability_bound(network: AbstractNetwork, task: Task) -> float | None:
    """The largest stable GD step for ``network`` on ``task`` (η < bound), or None where no closed form applies.

    For a `DeepLinear` network it is 2/λ_max of the loss Hessian at the balanced global minimum,
    `theory.stability.max_stable_eta`: 2/λ_max(Σxx) for one layer (any inputs) and 2/(L s_max^{2(L−1)/L}) for
    depth L ≥ 2 with whitened inputs. Deeper networks on non-whitened inputs and nonlinear networks have none.

    >>> from simulate import prescribed_task
    >>> stability_bound(DeepLinear((1, 1, 1)), prescribed_task([3.0], Ni=1, No=1, seed=0))
    0.3333333333333333
    """
    if not isinstance(network, DeepLinear):
        return None
    if network.n_layers == 1:
        return max_stable_eta(task.sigma_yx, 1, task.sigma_xx)
    if not task.is_whitened():
        return None
    return max_stable_eta(task.sigma_yx, network.n_layers)


def _refuse_unstable(network: AbstractNetwork, task: Task, eta: float) -> None:
    bound = stability_bound(network, task)
    if bound is not None and eta >= bound:
        depth = network.n_layers
        what = (
            "λ_max(Σxx)"
            if depth == 1
            else f"L·s_max^(2(L−1)/L) = {2.0 / bound:.6g} with L = {depth}, s_max = {task.svd()[1][0]:.6g}"
        )
        raise ValueError(
            f"eta = {eta!r} is beyond the GD stability bound η < 2/λ_max = {bound:.6g} (λ_max = {what}, the top "
            "eigenvalue of the loss Hessian at the balanced global minimum; theory.stability). At this step size the "
            "minimum is linearly unstable and GD cannot converge to the target: it oscillates or diverges. "
            f"Fix: use eta < {bound:.6g}, or pass allow_unstable=True to study edge-of-stability dynamics on purpose."
        )


def _device(device: str | torch.device) -> torch.device:
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but torch reports no CUDA device; use device='cpu'")
    return dev


def _weights_to_tensors(
    network: AbstractNetwork, weights0: Sequence[np.ndarray], device: torch.device, dtype: torch.dtype
) -> list[torch.Tensor]:
    if len(weights0) != network.n_layers:
        raise ValueError(f"{network} has {network.n_layers} layers but {len(weights0)} weight arrays were given")
    batch = None
    out = []
    for i, (w, shape) in enumerate(zip(weights0, network.shapes(), strict=True)):
        a = np.asarray(w, dtype=np.float64)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3 or a.shape[1:] != shape:
            raise ValueError(f"W{i + 1} must have shape (batch, {shape[0]}, {shape[1]}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"W{i + 1} contains NaN or inf")
        if batch is not None and a.shape[0] != batch:
            raise ValueError(f"W{i + 1} has batch {a.shape[0]} but W1 has batch {batch}")
        batch = a.shape[0]
        out.append(torch.tensor(a, dtype=dtype, device=device))
    return out


@dataclass(frozen=True)
class Trajectory:
    """Weights of every network at the recorded times.

    ``t`` has shape (T,) in units of τ (step k at kη, whatever the optimizer); ``weights[l]`` has shape
    (T, batch, out, in); ``loss`` (T, batch) is the full-batch data loss (without any weight-decay term);
    ``optimizer`` is the one that trained them.
    """

    network: AbstractNetwork
    task: Task
    eta: float
    t: np.ndarray
    weights: tuple[np.ndarray, ...]
    loss: np.ndarray
    optimizer: Optimizer = GD
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def batch(self) -> int:
        return self.loss.shape[1]

    def end_to_end(self) -> np.ndarray:
        """W = W_L ⋯ W_1 at every time, shape (T, batch, No, Ni) (linear networks only)."""
        if not isinstance(self.network, DeepLinear):
            raise TypeError(f"end_to_end() needs a DeepLinear network, not {type(self.network).__name__}")
        if "W" not in self._cache:
            w = self.weights[0]
            for m in self.weights[1:]:
                w = m @ w
            self._cache["W"] = w
        return self._cache["W"]

    def velocity(self) -> np.ndarray:
        """Gradient-flow velocity τ dW/dt = −Σ_l W_{L:l+1} G_l W_{l−1:1} of the end-to-end map at every recorded
        state, shape (T, batch, No, Ni) (linear networks only).

        This is the exact right-hand side of the flow evaluated at the simulated weights, so it measures the
        law's rate without the O(η) bias of finite differences of GD iterates.
        """
        if not isinstance(self.network, DeepLinear):
            raise TypeError(f"velocity() needs a DeepLinear network, not {type(self.network).__name__}")
        if "dW" not in self._cache:
            data = TaskTensors.from_task(self.task, torch.device("cpu"), torch.float64)
            ws = [torch.from_numpy(w.reshape(-1, *w.shape[2:])) for w in self.weights]
            gs = self.network.grads(ws, data)
            dW = torch.zeros_like(self.network.end_to_end(ws))
            for i, g in enumerate(gs):
                term = g if i == 0 else g @ self.network.end_to_end(ws[:i])
                if i < len(ws) - 1:
                    term = self.network.end_to_end(ws[i + 1 :]) @ term
                dW -= term
            self._cache["dW"] = dW.numpy().reshape(self.end_to_end().shape)
        return self._cache["dW"]

    def mode_velocities(self, task: Task | None = None) -> np.ndarray:
        """du_α/dt = ũ_αᵀ (dW/dt) ṽ_α at every recorded state, shape (T, batch, r), in units of 1/τ."""
        U, _, V = (task or self.task).svd()
        return np.einsum("ia,tbij,ja->tba", U, self.velocity(), V)

    def mode_strengths(self, task: Task | None = None) -> np.ndarray:
        """u_α = ũ_αᵀ W ṽ_α for the task's singular modes, shape (T, batch, r)."""
        U, _, V = (task or self.task).svd()
        return np.einsum("ia,tbij,ja->tba", U, self.end_to_end(), V)

    def loss_on(self, task: Task) -> np.ndarray:
        """The loss of every recorded network on another task, shape (T, batch)."""
        self.network.check_task(task)
        data = TaskTensors.from_task(task, torch.device("cpu"), torch.float64)
        ws = [torch.from_numpy(w.reshape(-1, *w.shape[2:])) for w in self.weights]
        return self.network.loss(ws, data).numpy().reshape(self.loss.shape)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per recorded time per network, columns t, tau, eta, network, loss."""
        T, B = self.loss.shape
        return pd.DataFrame(
            {
                "t": np.repeat(self.t, B),
                "tau": 1.0,
                "eta": self.eta,
                "network": np.tile(np.arange(B), T),
                "loss": self.loss.ravel(),
            }
        )

    def mode_frame(self) -> pd.DataFrame:
        """Tidy frame of mode strengths: one row per time, network and mode; columns t, tau, network, mode, s,
        u0, u, du_dt — the symbol names of the mode laws, so ``law.numeric(**df[["t", "tau", "s", "u0"]])``
        works. u0 is the strength at the first recorded time, which must be t = 0; du_dt is the flow velocity
        at the recorded state (`mode_velocities`)."""
        if self.t[0] != 0:
            raise ValueError("mode_frame needs the trajectory recorded at t = 0 (for u0)")
        u = self.mode_strengths()
        T, B, r = u.shape
        s = self.task.svd()[1]
        return pd.DataFrame(
            {
                "t": np.repeat(self.t, B * r),
                "tau": 1.0,
                "network": np.tile(np.repeat(np.arange(B), r), T),
                "mode": np.tile(np.arange(r), T * B),
                "s": np.tile(s, T * B),
                "u0": np.tile(u[0].ravel(), T),
                "u": u.ravel(),
                "du_dt": self.mode_velocities().ravel(),
            }
        )


def train(
    network: AbstractNetwork,
    weights0: Sequence[np.ndarray],
    task: Task,
    *,
    eta: float,
    times: Sequence[float] | np.ndarray,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    allow_unstable: bool = False,
    optimizer: Optimizer = GD,
) -> Trajectory:
    """Train from ``weights0`` on ``task`` with ``optimizer`` (default: full-batch GD), recorded at ``times``
    (t/τ, multiples of ``eta``; step k is at kη for every optimizer — see `simulate.optim` for what that time
    means beyond GD). Each network of the batch has its own optimizer state (torch.optim's state is elementwise).

    Step-size safety for plain GD (no momentum, no weight decay), unless ``allow_unstable=True``:

    - where a closed-form bound exists (`stability_bound`: linear networks), ``eta`` at or beyond it is refused
      with a ValueError giving the bound, since GD then cannot converge to the target;
    - elsewhere (nonlinear networks, deep linear ones on non-whitened inputs) the loss is evaluated every
      ``LOSS_WINDOW`` steps, and a loss that rose over a window raises FloatingPointError naming the step.

    Full-batch GD with weight decay λ (no momentum) is GD on L + (λ/2)Σ‖W_l‖², which stable steps never raise: the
    loss-window watch runs on that objective (the bounds of `stability_bound` are for λ = 0, so none is refused).
    SGD, momentum and Adam get neither check (their loss is not monotone even when they are stable), and
    ``allow_unstable=True`` is refused for them as meaningless. NaN or inf anywhere raises FloatingPointError in
    every case.

    >>> from simulate import DeepLinear, prescribed_task, decoupled_init
    >>> task = prescribed_task([2.0], Ni=1, No=1, seed=0)
    >>> W = decoupled_init(task, Nh=1, u0=0.01, seed=0)
    >>> traj = train(DeepLinear((1, 1, 1)), W, task, eta=0.01, times=[0.0, 5.0])
    >>> round(float(traj.mode_strengths()[-1, 0, 0]), 3)
    2.0
    >>> traj = train(DeepLinear((1, 1, 1)), W, task, eta=0.01, times=[0.0, 5.0], optimizer=Optimizer("adam"))
    >>> traj.optimizer.torch_name
    'Adam'
    """
    network.check_task(task)
    steps = steps_for_times(times, eta)
    if not isinstance(allow_unstable, bool):
        raise TypeError(f"allow_unstable must be True or False, got {allow_unstable!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a simulate.Optimizer (e.g. Optimizer('adam')), got {optimizer!r}")
    if allow_unstable and not optimizer.is_descent:
        raise ValueError(
            f"allow_unstable=True switches off GD's step-size checks, and optimizer {optimizer} has none (its loss "
            "is not monotone even when stable; only NaN/inf detection applies, always). Fix: drop allow_unstable."
        )
    if optimizer.batch_size is not None and optimizer.batch_size > task.P:
        raise ValueError(f"batch_size {optimizer.batch_size} exceeds the task's {task.P} items; use ≤ {task.P}")
    if not allow_unstable and optimizer.is_plain_gd:
        _refuse_unstable(network, task, eta)
    watch = (
        not allow_unstable
        and optimizer.is_descent
        and (optimizer.weight_decay > 0 or stability_bound(network, task) is None)
    )
    dev = _device(device)
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
    W = _weights_to_tensors(network, weights0, dev, dtype)
    data = TaskTensors.from_task(task, dev, dtype)
    record = [torch.empty((len(steps), *w.shape), dtype=dtype, device=dev) for w in W]
    n_steps = int(steps[-1])
    record_steps = [int(k) for k in steps]  # Python ints: the per-step comparison stays a cheap int compare
    # ≈ 6 flops per weight and item a step (forward, backward, update): lawbook's thread policy (simulate.threads)
    flops = 6.0 * task.P * sum(w.numel() for w in W)
    with torch.no_grad(), thread_policy(flops):
        if optimizer.is_plain_gd and not watch and _compiled_applies(network, W, dev, dtype):
            from simulate.compiled import gd_two_layer

            records = gd_two_layer(
                W[0].numpy(), W[1].numpy(), data.sigma_xx.numpy(), data.sigma_yx.numpy(), eta, np.array(record_steps)
            )
            for buf, values in zip(record, records, strict=True):
                buf.copy_(torch.from_numpy(values))
        elif optimizer.is_plain_gd:
            _gd_loop(network, W, data, eta, n_steps, record_steps, record, watch)
        else:
            _optimizer_loop(network, W, data, eta, n_steps, record_steps, record, watch, optimizer)
        flat = [r.reshape(-1, *r.shape[2:]) for r in record]
        loss = network.loss(flat, data).reshape(len(steps), -1)
    weights = tuple(r.cpu().to(torch.float64).numpy() for r in record)
    loss_np = loss.cpu().to(torch.float64).numpy()
    if not (np.all(np.isfinite(loss_np)) and all(np.all(np.isfinite(w)) for w in weights)):
        why = (
            "GD is stable only for η < 2/λ_max of the loss Hessian; reduce eta or the init scale"
            if optimizer.is_descent
            else f"reduce eta or the init scale ({optimizer} has no closed-form stability bound)"
        )
        raise FloatingPointError(f"training diverged (NaN or inf) with eta = {eta}: {why}")
    return Trajectory(network, task, float(eta), np.asarray(times, dtype=np.float64), weights, loss_np, optimizer)


def _compiled_applies(network: AbstractNetwork, W: list[torch.Tensor], dev: torch.device, dtype: torch.dtype) -> bool:
    """Whether `simulate.compiled` runs this plain-GD training: two-layer linear, CPU float64, small (measured)."""
    from simulate import compiled

    return (
        type(network) is DeepLinear
        and dev.type == "cpu"
        and dtype == torch.float64
        and compiled.applies(network.sizes, W[0].shape[0])
        and compiled.available()
    )


def _gd_loop(
    network: AbstractNetwork,
    W: list[torch.Tensor],
    data: TaskTensors,
    eta: float,
    n_steps: int,
    record_steps: list[int],
    record: list[torch.Tensor],
    watch: bool,
) -> None:
    """Plain full-batch GD, W ← W − η∇L in place: the default path, kept minimal for throughput."""
    j = 0
    loss_0 = network.loss(W, data) if watch else None
    loss_prev = loss_0
    for k in range(n_steps + 1):
        if watch and k and k % LOSS_WINDOW == 0:
            loss_prev = _check_window(network.loss(W, data), loss_prev, loss_0, k, eta)
        if k == record_steps[j]:
            for buf, w in zip(record, W, strict=True):
                buf[j].copy_(w)
            j += 1
            if k == n_steps:
                break
        for w, g in zip(W, network.grads(W, data), strict=True):
            w.add_(g, alpha=-eta)


def _optimizer_loop(
    network: AbstractNetwork,
    W: list[torch.Tensor],
    data: TaskTensors,
    eta: float,
    n_steps: int,
    record_steps: list[int],
    record: list[torch.Tensor],
    watch: bool,
    optimizer: Optimizer,
) -> None:
    """`torch.optim` on the hand-written gradients: p.grad = ∂L/∂W (of the step's minibatch), then opt.step()."""
    opt = optimizer.build(W, eta)
    shrink = 1.0 - eta * optimizer.decay_before_step  # SGD's decoupled decay W ← (1 − ηλ)W (1 when none)
    wd = optimizer.weight_decay

    def objective() -> torch.Tensor:  # what full-batch GD with decay descends: L + (λ/2)Σ‖W_l‖²
        return network.loss(W, data) + 0.5 * wd * sum((w * w).sum(dim=(-2, -1)) for w in W)

    draws = (
        minibatch_indices(int(data.X.shape[1]), optimizer.batch_size, optimizer.seed)
        if optimizer.batch_size is not None
        else None
    )
    j = 0
    loss_0 = objective() if watch else None
    loss_prev = loss_0
    for k in range(n_steps + 1):
        if watch and k and k % LOSS_WINDOW == 0:
            loss_prev = _check_window(objective(), loss_prev, loss_0, k, eta, what="L + (λ/2)Σ‖W_l‖²")
        if k == record_steps[j]:
            for buf, w in zip(record, W, strict=True):
                buf[j].copy_(w)
            j += 1
            if k == n_steps:
                break
        step_data = data if draws is None else minibatch(data, torch.from_numpy(next(draws)).to(data.X.device))
        grads = network.grads(W, step_data)
        for w, g in zip(W, grads, strict=True):
            if shrink != 1.0:
                w.mul_(shrink)
            w.grad = g
        opt.step()
    for w in W:
        w.grad = None


def _check_window(
    loss_now: torch.Tensor, loss_prev: torch.Tensor, loss_0: torch.Tensor, k: int, eta: float, what: str = "loss"
) -> torch.Tensor:
    """Raise if any network's loss (or the ``what`` watched) rose over the last window (tolerances at LOSS_RTOL);
    return the new reference."""
    rose = loss_now > loss_prev * (1 + LOSS_RTOL) + LOSS_ATOL_REL_INITIAL * loss_0
    if not bool(torch.all(torch.isfinite(loss_now))) or bool(torch.any(rose)):
        b = int(torch.nonzero(rose | ~torch.isfinite(loss_now))[0, 0])
        raise FloatingPointError(
            f"GD is unstable at eta = {eta!r}: the {what} of network {b} rose from {float(loss_prev[b]):.6g} to "
            f"{float(loss_now[b]):.6g} over steps {k - LOSS_WINDOW}..{k} (stable GD never increases the {what}, so η "
            "exceeds 2/λ_max of the loss Hessian along the path). Fix: reduce eta or the init scale, or pass "
            "allow_unstable=True to study edge-of-stability dynamics on purpose."
        )
    return loss_now
