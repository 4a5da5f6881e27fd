"""Checks of forgetting from task distance (LAWS.md §3.1) against a continual-learning simulation."""

from __future__ import annotations

import functools

import numpy as np

from simulate import DeepLinear, task_sequence, train_sequence, zero_balanced_init
from theory import get_law
from theory.forgetting import task_distance
from verify.figures import Curves
from verify.numbers import error_text
from verify.suite import Fault, check

# Recipe of LAWS.md §3.1: shared whitened X (Ni = 4, P = 40), three tasks with noisy targets (No = 3), Nh = 6,
# small zero-balanced init, GD η = 0.02 for 300τ per task. Convergence: the slowest mode has s_min ≈ 0.1-0.3
# and starts at u0 ≈ 1e-3, so it is half-learned by (1/2s) ln(s/u0) ≈ 25τ and then relaxes as e^{−2st} with
# 2s ≥ 0.2: after 300τ its residual is e^{−55} — far below the 1e-6 the test asks for. The remaining error is
# round-off in the loss (≈ 1e-15).
NI, NO, NH, P, ETA, DURATION = 4, 3, 6, 40, 0.02, 300.0
TOL = 1e-6
# What the law predicts here are converged losses, the t → ∞ limits of the phases: they depend neither on η nor on
# the clock (GD's fixed point is the flow's for any stable η, and 300τ is long past every relaxation), so a clock
# or rate fault is a symmetry of this comparison and Richardson extrapolation has nothing to cancel (GD's error is
# the convergence residual plus round-off, not a power series in η). Its resolution is that of its tolerance: a
# law fault δ on the predicted L_i(T_j) = ½‖Σⱼ − Σᵢ‖² + c_i moves it by δ·max L_i(T_j) = 3.85δ (seed 0), so
# δ = 1e-6 gives 3.85e-6, 3.85× TOL; 3e-7 gives 1.15× (no margin). (The measured error, 7.5e-15 at seed 0 and at
# most 2.6e-11 over seeds 0-5, would support a tolerance near 1e-9 and so a resolution near 1e-9; TOL is kept.)
CONTINUAL_FAULT = 1e-6


@functools.lru_cache(maxsize=4)
def _run(seed: int):
    tasks = task_sequence(3, NI, NO, P, similarity=0.3, seed=seed, noise=0.5)
    W0 = zero_balanced_init(NI, NH, NO, 1e-3, seed=seed)
    run = train_sequence(DeepLinear((NI, NH, NO)), W0, tasks, eta=ETA, duration=DURATION, n_records=31)
    return tasks, run


def forgetting_continual(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """L_i(T_j) from a 3-task continual simulation equals ½‖Σⱼ − Σᵢ‖² + c_i for all i, j (to 1e-6),
    and the forgetting L_a(T_c) − L_a(T_b) equals ½(‖Σ_c − Σ_a‖² − ‖Σ_b − Σ_a‖²)."""
    law = get_law("forgetting_task_distance")
    tasks, run = _run(seed)
    final = run.final_losses()[:, :, 0]  # (phase j, task i)
    n = len(tasks)
    d = np.array([[task_distance(tasks[i].sigma_yx, tasks[j].sigma_yx) for i in range(n)] for j in range(n)])
    c = np.array([t.irreducible_loss() for t in tasks])
    predicted = fault.law(law.numeric(d=d, c=c[None, :]))  # a law fault scales every predicted L_i(T_j)
    err = float(np.max(np.abs(final - predicted)))
    forgetting_sim = final[2, 0] - final[1, 0]
    forgetting_law = fault.law(law.numeric("forgetting", d_ab=d[1, 0], d_ac=d[2, 0]))  # and the forgetting
    err_f = abs(forgetting_sim - forgetting_law)
    ok = err <= TOL and err_f <= TOL and float(np.min(c)) > 0
    summary = (
        # round-off over 45000 GD steps on O(1) losses (7e-15 observed): shown below 1e-12, 1e-6 of the tol; the
        # forgetting agrees to that, so 6 decimals of the O(1) values are the same on every machine
        f"max_ij |L_i(T_j) − law|: {error_text(err, floor=1e-12)} (tol {TOL:g}); forgetting of task 0 by task 2 "
        f"after 1: sim {forgetting_sim:.6f}, law {forgetting_law:.6f}; c_i = {np.round(c, 6).tolist()}"
    )
    # figure: every task's loss through the three phases, with the law's plateau L_i(T_j) dashed in each phase
    t = np.concatenate([p * DURATION + ph.t for p, ph in enumerate(run.phases)])
    sim = run.losses[:, :, :, 0].reshape(-1, n)
    plateau = np.repeat(predicted, len(run.phases[0].t), axis=0)
    curves = Curves(
        "forgetting_task_distance: GD through 3 tasks in turn, loss of each task",
        "t / τ (300 τ per task)",
        "loss L_i",
        tuple((f"task {i}", t, sim[:, i : i + 1]) for i in range(n)),
        (t, plateau),
        logy=False,
        theory_label="law: ½‖Σⱼ − Σᵢ‖² + cᵢ after converging on task j",
    )
    return ok, summary, {"final_losses": final, "predicted": predicted, "max_error": err, "curves": curves}


check("forgetting_task_distance", "continual_3_tasks", faults={"law": CONTINUAL_FAULT})(forgetting_continual)


def item_loss(W: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    """½⟨‖y − Wx‖²⟩ averaged over the items (the columns of X, Y): the loss from its definition, with no
    covariance identity in between."""
    return 0.5 * float(np.mean(np.sum((Y - W @ X) ** 2, axis=0)))


def loss_identity_error(law_loss, tasks, end_to_end: np.ndarray) -> float:
    """max over the networks W and tasks i of |item loss − law_loss(W, task)|: the check's comparison, taking the
    law's loss as a function so that a test can hand it a wrong one."""
    return max(abs(item_loss(W, task.X, task.Y) - law_loss(W, task)) for W in end_to_end for task in tasks)


def _law_loss(W: np.ndarray, task) -> float:
    """The law ½‖W − Σᵢ‖² + c_i (LAWS.md §3.1), from its SymPy equation."""
    law = get_law("forgetting_task_distance")
    return float(law.numeric(d=task_distance(task.sigma_yx, W), c=task.irreducible_loss()))


# A law fault δ on the law's loss ½‖W − Σᵢ‖² + c_i moves it by δ·L_i(W); the largest loss along the run is 3.85
# (seed 0), so δ = 1e-12 gives 3.85e-12, 3.85× the 1e-12 tolerance; 3e-13 gives 1.15× (no margin). An identity in
# W holds whatever the dynamics: clock and rate are no faults of it.
IDENTITY_FAULT = 1e-12


def _identity_verdict(worst: float, recorded: float) -> bool:
    """The identity check's verdict: the law's loss within 1e-12 of the item loss (`worst`) AND the simulator's
    recorded losses within 1e-12 of the item losses (`recorded`, which the continual check reads). Each claim can
    fail alone; no planted fault reaches the recorded losses, so this is where their claim is tested.

    >>> _identity_verdict(1e-15, 1e-15), _identity_verdict(1e-15, 1e-9), _identity_verdict(1e-9, 1e-15)
    (True, False, False)
    """
    # both sides are sums of ≤ 40·3 terms of size O(1): round-off is a few 1e-16 (observed ≈ 1e-15); 1e-12 leaves
    # three orders of margin and is still ten orders below a wrong constant (c_i ≈ 0.1-1) or factor (½)
    return worst <= 1e-12 and recorded <= 1e-12


def loss_identity(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """L_i(W) = ½‖W − Σᵢ‖² + c_i for every recorded W of every phase, with L_i computed from task i's items
    (X, Y) directly: an identity (whitened inputs), to round-off. The simulator's recorded losses must match the
    item losses too, since the continual check reads them."""
    tasks, run = _run(seed)
    worst, recorded = 0.0, 0.0
    for p, phase in enumerate(run.phases):
        W = phase.end_to_end()[:, 0]
        # a law fault scales the law's side of the identity
        worst = max(worst, loss_identity_error(lambda w, task: fault.law(_law_loss(w, task)), tasks, W))
        for i, task in enumerate(tasks):
            items = np.array([item_loss(w, task.X, task.Y) for w in W])
            recorded = max(recorded, float(np.max(np.abs(run.losses[p, :, i, 0] - items))))
    ok = _identity_verdict(worst, recorded)
    summary = (
        f"max |L_i(W(t)) from items − (½‖W − Σᵢ‖² + c_i)|: {error_text(worst, floor=1e-14)}; recorded losses vs "
        f"items: {error_text(recorded, floor=1e-14)} (tol 1e-12)"
    )
    return ok, summary, {"max_error": worst}


check("forgetting_task_distance", "loss_identity_along_trajectory", faults={"law": IDENTITY_FAULT})(loss_identity)
