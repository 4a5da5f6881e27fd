"""Exact continual learning through a sequence of tasks (Braun et al. 2022, §6; LAWS.md §2.2, §3.1).

Train on Σ¹yx for a time T1, then on Σ²yx for T2, and so on, each phase starting where the previous one
ended. Zero balance is conserved by the flow, and under zero balance QQᵀ is fixed by W2W1 alone
(W1ᵀW1 = ((W2W1)ᵀW2W1)^{1/2}), which is all Theorem 3.1 needs: so each phase is
`theory.riccati.qqt_from_product` started from the end-of-phase network function, with no need to
recover W1 and W2 themselves. Along the way the loss of every task is reported,
L_i = ½‖W2W1 − Σⁱyx‖²_F + c_i, with c_i = ½(tr Σⁱyy − ‖Σⁱyx‖²_F) if Σⁱyy is given and c_i = 0 otherwise.

>>> import numpy as np
>>> tasks = [np.diag([2.0, 1.0]), np.diag([1.0, 2.0])]
>>> run = continual_qqt(0.05 * np.eye(2), 0.05 * np.eye(2), tasks, durations=[30.0, 30.0], t=[30.0, 60.0])
>>> np.round(run.losses, 6)                       # rows: times; columns: tasks (forgetting of task 0)
array([[0., 1.],
       [1., 0.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from theory.checks import as_matrix, as_times
from theory.decoupling import aligned_qqt
from theory.law import AssumptionError
from theory.riccati import qqt, qqt_from_product
from theory.riccati_checks import B_TOL
from theory.riccati_readout import loss

__all__ = ["ContinualTrajectory", "continual_qqt"]


@dataclass(frozen=True)
class ContinualTrajectory:
    """Exact trajectory through a task sequence.

    ``t`` (nt,) global times; ``phase`` (nt,) index of the task being trained at each time (a boundary time
    belongs to the phase that ends there, the last time of the last phase to the last phase); ``qqt``
    (nt, Ni+No, Ni+No); ``losses`` (nt, n_tasks), the loss of every task at every time; ``boundaries``
    (n_tasks + 1,) the phase start times and the final time.
    """

    t: np.ndarray
    phase: np.ndarray
    qqt: np.ndarray
    losses: np.ndarray
    boundaries: np.ndarray


def _phase_qqt(
    k: int, w21: np.ndarray, sigma: np.ndarray, times: np.ndarray, aligned_fallback: bool, b_tol: float
) -> np.ndarray:
    try:
        try:
            return qqt_from_product(w21, sigma, times, b_tol=b_tol)
        except AssumptionError as err:
            if not (aligned_fallback and "Assumption 3.1" in str(err)):
                raise
            # any zero-balanced factorisation of the end state will do: W1 = S^{1/2}Vᵀ, W2 = US^{1/2}
            u, s, vt = np.linalg.svd(w21, full_matrices=False)
            root = np.sqrt(s)[:, None]
            return aligned_qqt(root * vt, u * root.T, sigma, times)
    except AssumptionError as err:
        raise AssumptionError(f"phase {k} (training on task {k}): {err}") from None


def continual_qqt(
    W1_0: ArrayLike,
    W2_0: ArrayLike,
    tasks: Sequence[ArrayLike],
    durations: Sequence[float],
    t: ArrayLike,
    tau: float = 1.0,
    *,
    sigma_yy: Sequence[ArrayLike] | None = None,
    sigma_xx: ArrayLike | None = None,
    aligned_fallback: bool = False,
    b_tol: float = B_TOL,
) -> ContinualTrajectory:
    """QQᵀ and every task's loss at global times ``t`` while training on ``tasks[0]``, ``tasks[1]``, … in turn.

    Phase k trains on ``tasks[k]`` (Σyx, all of shape (No, Ni)) for ``durations[k]`` (same units as ``t``);
    ``t`` must lie in [0, Σ durations]. The first phase checks every assumption of `theory.riccati.qqt` on
    (W1_0, W2_0); later phases start from the previous phase's exact end state, and a singular B there
    (e.g. a reversal Σ_{k+1} = −Σ_k after convergence) raises `AssumptionError` naming the phase, unless
    ``aligned_fallback`` is set and the state is aligned with the new task (then `aligned_qqt` is used).
    """
    w1 = as_matrix(W1_0, "W1_0")
    w2 = as_matrix(W2_0, "W2_0")
    sigmas = [as_matrix(s, f"tasks[{k}]") for k, s in enumerate(tasks)]
    if not sigmas:
        raise ValueError("tasks must contain at least one Σyx")
    if any(s.shape != sigmas[0].shape for s in sigmas):
        raise ValueError(f"all tasks must have the same shape (No, Ni); got {[s.shape for s in sigmas]}")
    dur = np.asarray(durations, dtype=np.float64).ravel()
    if dur.size != len(sigmas) or not np.all(np.isfinite(dur)) or np.any(dur <= 0):
        raise ValueError(f"durations must be {len(sigmas)} finite times > 0, one per task; got {durations!r}")
    if sigma_yy is not None and len(sigma_yy) != len(sigmas):
        raise ValueError(f"sigma_yy must give one Σyy per task ({len(sigmas)}), got {len(sigma_yy)}")
    T = as_times(t, 1.0)
    bounds = np.concatenate([[0.0], np.cumsum(dur)])
    if T.max() > bounds[-1] * (1 + 1e-12):
        raise ValueError(f"t must lie in [0, sum(durations)] = [0, {bounds[-1]:g}], got max t = {T.max():g}")
    phase = np.clip(np.searchsorted(bounds, T, side="left") - 1, 0, len(sigmas) - 1)
    n = w1.shape[1] + w2.shape[0]
    out = np.empty((T.size, n, n))
    w21 = None
    for k, sigma in enumerate(sigmas):
        local = np.concatenate([T[phase == k] - bounds[k], [dur[k]]])
        if k == 0:
            q = qqt(w1, w2, sigma, local, tau, sigma_xx=sigma_xx, b_tol=b_tol)
        else:
            q = _phase_qqt(k, w21, sigma, local / tau, aligned_fallback, b_tol)
        out[phase == k] = q[:-1]
        w21 = q[-1, w1.shape[1] :, : w1.shape[1]]
    yy = sigma_yy if sigma_yy is not None else [None] * len(sigmas)
    losses = np.stack([loss(out, s, sigma_yy=y) for s, y in zip(sigmas, yy, strict=True)], axis=1)
    return ContinualTrajectory(t=T, phase=phase, qqt=out, losses=losses, boundaries=bounds)
