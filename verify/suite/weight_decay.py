"""Checks of weight decay on the inputs' null space (theory.weight_decay): exact for GD and SGD, so tolerances are
round-off; the flow form at O(η); and the measured counter-check that Adam moves the null-space action.

Every run uses a rank-deficient regression task (d = 12 inputs of rank 4, the construction of the
nullspace_preservation checks) and compares the first layer's null-space action W1_k Q_x — a matrix, so the
comparison is entrywise, which implies the norms — with the law's f_k W1_0 Q_x at every recorded step.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import DeepLinear, Optimizer, Task, TwoLayer, gaussian_init, train
from theory.regression import nullspace_projector
from theory.weight_decay import nullspace_factor
from verify.agreement import agreement
from verify.figures import Curves
from verify.numbers import error_text
from verify.suite import Fault, check
from verify.suite.regression import _rank_deficient_task

# Exact laws: the only error is float64 round-off. Each step rounds every entry of W (a product and a sum, ≲ 2ε
# relative) and the projection W1Q_x adds ≈ d·ε·max|W| (d = 12); over K ≤ 2000 steps that grows at most linearly,
# ≤ (2K + d)·ε·max|W| ≈ 4e3·2.2e-16·5 ≈ 5e-12 for the weights here (max|W| ≲ 5). Observed: ≤ 1.3e-13. TOL is
# 20× that bound, so a fault is seen at ~1e-10 and round-off never is.
TOL = 1e-10
# Summaries print residuals below this floor as "< 1e-12" (round-off digits differ between machines): a hundredth
# of TOL and above the observed round-off (≤ 1.3e-13).
FLOOR = 1e-12


def _null_action(
    net: object, W0: list[np.ndarray], task: Task, opt: Optimizer, eta_sim: float, steps: np.ndarray
) -> np.ndarray:
    """W1_k Q_x of the first network at ``steps`` (the sim's clock counts steps, whatever η it really uses)."""
    traj = train(net, W0, task, eta=eta_sim, times=steps * eta_sim, optimizer=opt)
    return traj.weights[0][:, 0] @ nullspace_projector(task.X)


def _residual(measured: np.ndarray, W0_1: np.ndarray, Q: np.ndarray, f: np.ndarray, fault: Fault) -> float:
    predicted = fault.law(f)[:, None, None] * (W0_1 @ Q)[None]  # a law fault scales the predicted factor f_k
    return float(np.max(np.abs(measured - predicted)))


# gd_coupled_decay's planted faults, from the predictions' sizes (seed 0, printed in the summary as max|W1_0Q_x|):
# - law: δ moves the prediction by δ·f_k·max|W1_0Q_x|, largest at k = 0: 2.06δ for the shallow model; at δ = 1e-9,
#   2.1e-9 = 21× TOL (at 3e-11 it would pass: 6e-11).
# - rate: GD really steps with η(1 + δ), so f_k becomes (1 − ηλ(1 + δ))^k, off by kηλδ/(1 − ηλ)·f_k ≈ x e^{−x}·δ
#   relative (x = kηλ up to 2.25), at most δ/e at x = 1: 0.37·2.06δ = 0.76δ (shallow), 0.29δ (deep); at δ = 1e-8,
#   7.6e-9 = 76× TOL.
DECAY_LAW_FAULT = 1e-9
DECAY_RATE_FAULT = 1e-8


def gd_coupled_decay(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """GD with coupled decay λ: W1_kQ_x = (1 − ηλ)^k W1_0Q_x at every 100th step to step 2000, for the shallow model
    A (λ = 0.05, η = 0.5/λ_max(Σxx)), deep linear nets of depth 2 and 3 and a tanh two-layer net (λ = 0.5,
    η = 0.002); both λt = 2.25 and 2, so f decays to ≈ 0.1 and stays far above round-off."""
    task = _rank_deficient_task(seed)
    Q = nullspace_projector(task.X)
    steps = np.arange(0, 2001, 100)
    eta_shallow = 0.5 / float(np.linalg.eigvalsh(task.sigma_xx).max())
    runs = (
        ("shallow", DeepLinear((12, 6)), 1.0, eta_shallow, 0.05),
        ("depth 2", DeepLinear((12, 30, 6)), 0.3, 0.002, 0.5),
        ("depth 3", DeepLinear((12, 30, 30, 6)), 0.3, 0.002, 0.5),
        ("tanh 2-layer", TwoLayer((12, 30, 6), "tanh"), 0.3, 0.002, 0.5),
    )
    parts, worst, norm_worst = [], 0.0, 0.0
    for label, net, scale, eta, lam in runs:
        W0 = gaussian_init(net.sizes, scale, seed=seed)
        # a rate fault: the simulation steps with η(1 + δ) while the law (and the clock) use η
        measured = _null_action(net, W0, task, Optimizer("gd", weight_decay=lam), fault.rate(eta), steps)
        f = nullspace_factor(steps, eta, lam)
        res = _residual(measured, W0[0][0], Q, f, fault)
        worst = max(worst, res)
        n0 = float(np.linalg.norm(W0[0][0] @ Q))
        ratio = float(np.linalg.norm(measured[-1])) / n0
        norm_worst = max(norm_worst, abs(ratio / fault.law(f[-1]) - 1))
        parts.append(f"{label}: {error_text(res, floor=FLOOR)} (max|W1_0Q_x| {np.max(np.abs(W0[0][0] @ Q)):.3g})")
    summary = (
        f"max|W1_kQ_x − (1 − ηλ)^k W1_0Q_x| over k ≤ 2000 — {'; '.join(parts)} (tol {TOL:g}); at k = 2000 "
        f"‖W1Q_x‖/‖W1_0Q_x‖ matches (1 − ηλ)^k to {error_text(norm_worst, floor=1e-11)} relative"
    )
    return worst <= TOL, summary, {}


check("nullspace_weight_decay", "gd_coupled_decay", faults={"law": DECAY_LAW_FAULT, "rate": DECAY_RATE_FAULT})(
    gd_coupled_decay
)


# The row-space optimizers at depth 2 (scale 0.3, η = 0.004, 1000 steps). λ = 0.5 where the decay is (1 − ηλ)^k
# (λt = 2); λ = 0.05 where coupled decay passes through momentum μ = 0.9, whose rate is ≈ λ/(1 − μ) = 0.5 (the
# same λt = 2 in effect).
ROW_SPACE_RUNS = (
    ("SGD b=5", Optimizer("sgd", batch_size=5, seed=1)),
    ("heavy ball μ=0.9", Optimizer("gd", momentum=0.9)),
    ("Nesterov μ=0.9", Optimizer("gd", momentum=0.9, nesterov=True)),
    ("SGD b=5 coupled λ=0.5", Optimizer("sgd", batch_size=5, weight_decay=0.5, seed=2)),
    ("SGDW b=5 μ=0.9 λ=0.5", Optimizer("sgd", batch_size=5, momentum=0.9, weight_decay=0.5, decoupled=True, seed=3)),
    ("heavy ball coupled λ=0.05", Optimizer("gd", momentum=0.9, weight_decay=0.05)),
    ("Nesterov coupled λ=0.05", Optimizer("gd", momentum=0.9, nesterov=True, weight_decay=0.05)),
)
# Planted faults: law, δ·max|W1_0Q_x| = 0.78δ at k = 0, so δ = 1e-9 gives 7.8e-10 = 7.8× TOL. Rate: only the runs
# with decay see η; with (1 − ηλ)^k (ηλ = 2e-3, x = kηλ ≤ 2) the shift is ≤ δ/e·0.78 = 0.29δ, and the momentum
# recursions move by a like amount; δ = 1e-8 gives ≈ 2.9e-9 = 29× TOL.
ROW_LAW_FAULT = 1e-9
ROW_RATE_FAULT = 1e-8


def row_space_optimizers(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """SGD (minibatches of 5 of 20 items), heavy-ball and Nesterov momentum, without decay, preserve W1Q_x exactly;
    with decay it follows `nullspace_factor`: (1 − ηλ)^k for SGD (coupled) and SGDW (decoupled, momentum), the
    heavy-ball/Nesterov recursion on λx²/2 for coupled decay through momentum. Depth 2, every 100th step."""
    task = _rank_deficient_task(seed)
    Q = nullspace_projector(task.X)
    net = DeepLinear((12, 30, 6))
    W0 = gaussian_init(net.sizes, 0.3, seed=seed)
    steps = np.arange(0, 1001, 100)
    eta = 0.004
    parts, worst, f_end = [], 0.0, []
    for label, opt in ROW_SPACE_RUNS:
        measured = _null_action(net, W0, task, opt, fault.rate(eta), steps)  # a rate fault: the sim steps η(1 + δ)
        f = nullspace_factor(
            steps, eta, opt.weight_decay, momentum=opt.momentum, nesterov=opt.nesterov, decoupled=opt.decoupled
        )
        res = _residual(measured, W0[0][0], Q, f, fault)
        worst = max(worst, res)
        parts.append(f"{label} {error_text(res, floor=FLOOR)}")
        f_end.append(f"{f[-1]:.3g}")
    summary = (
        f"max|W1_kQ_x − f_k W1_0Q_x|, k ≤ 1000: {'; '.join(parts)} (tol {TOL:g}); f_1000 = {', '.join(f_end)}; "
        f"max|W1_0Q_x| {np.max(np.abs(W0[0][0] @ Q)):.3g}"
    )
    return worst <= TOL, summary, {}


check("nullspace_weight_decay", "row_space_optimizers", faults={"law": ROW_LAW_FAULT, "rate": ROW_RATE_FAULT})(
    row_space_optimizers
)


# Flow form: |(1 − ηλ)^k − e^{−λt}| = e^{−x}(1 − e^{k[ln(1 − ηλ) + ηλ]}) with x = λt = kηλ; since
# ln(1 − y) + y ≥ −y²/(2(1 − y)), it is ≤ e^{−x}·x·ηλ/(2(1 − ηλ)) ≤ ηλ/(2e(1 − ηλ)): the tolerance, a bound with
# no margin beyond round-off (1e-12), met at 0.994–0.999 of it (the bound is tight as η → 0). The clock fault reads the flow at t(1 + δ), moving it by
# x e^{−x}δ ≤ δ/e; δ = 0.01 gives 3.7e-3, twice the largest tolerance (1.8e-3 at η = 0.02) — this check resolves
# the flow form at O(η); the exact GD form is resolved at 1e-9 by gd_coupled_decay.
FLOW_LAM = 0.5
FLOW_ETAS = (0.02, 0.01, 0.005)
FLOW_CLOCK_FAULT = 0.01


def flow_limit(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """The shallow model under GD with coupled decay λ = 0.5 approaches the flow form ‖A(t)Q_x‖ = e^{−λt}‖A_0Q_x‖
    at O(η), t ≤ 4: the fitted order in η is 1, within the bound ηλ/(2e(1 − ηλ))."""
    task = _rank_deficient_task(seed)
    Q = nullspace_projector(task.X)
    net = DeepLinear((12, 6))
    W0 = gaussian_init(net.sizes, 1.0, seed=seed)
    n0 = float(np.linalg.norm(W0[0][0] @ Q))
    t_end = 4.0

    def simulate(eta: float) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(0, round(t_end / eta) + 1, round(FLOW_ETAS[0] / eta))
        measured = _null_action(net, W0, task, Optimizer("gd", weight_decay=FLOW_LAM), fault.rate(eta), steps)
        return steps * eta, (np.linalg.norm(measured, axis=(1, 2)) / n0)[:, None]

    def theory(t: np.ndarray) -> np.ndarray:
        return np.exp(-FLOW_LAM * fault.clock(np.asarray(t)))[:, None]  # a clock fault reads the flow at t(1 + δ)

    result = agreement(
        theory,
        simulate,
        FLOW_ETAS,
        tolerance=lambda eta: eta * FLOW_LAM / (2 * math.e * (1 - eta * FLOW_LAM)) + 1e-12,
    )
    pairs = zip(result.max_abs_error, result.etas, strict=True)
    consts = ", ".join(
        f"{e / (eta * FLOW_LAM):.4f} ≤ {1 / (2 * math.e * (1 - eta * FLOW_LAM)):.4f}" for e, eta in pairs
    )
    summary = f"‖A_kQ_x‖/‖A_0Q_x‖ against e^{{−λt}}: {result}; err/(ηλ) against its bound 1/(2e(1 − ηλ)): {consts}"
    return result.passed, summary, {"agreement": result, "ylabel": "‖A_t Q_x‖ / ‖A_0 Q_x‖"}


check("nullspace_weight_decay", "flow_limit", faults={"clock": FLOW_CLOCK_FAULT, "rate": FLOW_CLOCK_FAULT})(flow_limit)


# The Adam counter-check. Claimed: Adam moves W1Q_x by more than ADAM_CLAIM of max|W1_0Q_x| (measured, seed 0:
# 1.0 shallow, 0.38 depth 2, printed), while GD moves it by < TOL. ADAM_CLAIM is a quarter of the smaller
# measurement: a statement with room, not a tuned threshold. Planted faults:
# - law: the preservation law's prediction W1_0Q_x scaled by 1 + δ: GD's residual becomes δ·max|W1_0Q_x| ≥ 0.78δ,
#   at δ = 1e-9 7.8× TOL — the GD half of the check fails, as it must for a wrong law.
# - rate, δ = −0.999: every run steps with η/1000 while the clock counts η. Adam then moves W1Q_x by ≈ 1/1000 of
#   the measured amount (its step is ≈ η per coordinate), ≈ 4e-4 < ADAM_CLAIM: the Adam half fails, as it must
#   when the "Adam" run barely trains (a simulation that looks like preservation because it never moves).
ADAM_CLAIM = 0.1
ADAM_LAW_FAULT = 1e-9
ADAM_RATE_FAULT = -0.999
ADAM_LAM = 0.5


def adam_moves_nullspace(seed: int, fault: Fault) -> tuple[bool, str, dict]:
    """Measured, not a law: Adam changes W1Q_x (shallow model and depth 2, η = 0.004, 1000 steps, no decay) by more
    than a tenth of max|W1_0Q_x| while GD changes it by < round-off. The figure shows ‖W1_tQ_x‖ for GD, GD with
    coupled decay (the law dashed), SGD, Adam and AdamW (decoupled decay λ = 0.5, which does not follow the law)."""
    task = _rank_deficient_task(seed)
    Q = nullspace_projector(task.X)
    steps = np.arange(0, 1001, 50)
    eta = 0.004
    eta_sim = fault.rate(eta)  # a rate fault: every run steps with η(1 + δ)
    runs = (
        ("GD", Optimizer("gd")),
        (f"GD + coupled decay λ = {ADAM_LAM:g}", Optimizer("gd", weight_decay=ADAM_LAM)),
        ("SGD, batch 5", Optimizer("sgd", batch_size=5, seed=1)),
        ("Adam", Optimizer("adam")),
        (f"AdamW λ = {ADAM_LAM:g}", Optimizer("adam", weight_decay=ADAM_LAM, decoupled=True)),
    )
    models = (("shallow", DeepLinear((12, 6)), 1.0), ("depth 2", DeepLinear((12, 30, 6)), 0.3))
    norms = {label: np.empty((len(steps), len(models))) for label, _ in runs}
    law = np.empty((len(steps), len(models)))
    gd_res, adam_move, adamw_end = 0.0, [], []
    for j, (_, net, scale) in enumerate(models):
        W0 = gaussian_init(net.sizes, scale, seed=seed)
        start = W0[0][0] @ Q
        size = float(np.max(np.abs(start)))
        f = nullspace_factor(steps, eta, ADAM_LAM)
        law[:, j] = f * np.linalg.norm(start)
        for label, opt in runs:
            measured = _null_action(net, W0, task, opt, eta_sim, steps)
            norms[label][:, j] = np.linalg.norm(measured, axis=(1, 2))
            if label == "GD":
                gd_res = max(gd_res, float(np.max(np.abs(measured - fault.law(start)))))  # law fault: prediction
            elif label == "Adam":
                adam_move.append(float(np.max(np.abs(measured - start))) / size)
            elif label.startswith("AdamW"):
                adamw_end.append(norms[label][-1, j] / law[-1, j])
    ok = gd_res <= TOL and min(adam_move) > ADAM_CLAIM
    summary = (
        f"max|W1_kQ_x − W1_0Q_x|/max|W1_0Q_x| under Adam: {adam_move[0]:.3g} (shallow), {adam_move[1]:.3g} "
        f"(depth 2), claimed > {ADAM_CLAIM:g}; under GD max|W1_kQ_x − W1_0Q_x| {error_text(gd_res, floor=FLOOR)} "
        f"(tol {TOL:g}); AdamW (λ = {ADAM_LAM:g}) ends at {adamw_end[0]:.3g}× and {adamw_end[1]:.3g}× the decay "
        "law's ‖W1Q_x‖ — it follows no law"
    )
    curves = Curves(
        "nullspace_weight_decay: first-layer null-space action ‖W1_t Q_x‖ (shallow: ‖A_t Q_x‖) by optimizer (GD and SGD "
        "coincide, flat); "
        "law (1 − ηλ)^k ‖W1_0 Q_x‖ dashed",
        "t / τ = kη",
        "‖W1_t Q_x‖_F",
        tuple((label, steps * eta, norms[label]) for label, _ in runs),
        (steps * eta, law),
        theory_label=f"law, λ = {ADAM_LAM:g}",
        columns=tuple(label for label, _, _ in models),
    )
    return ok, summary, {"curves": curves}


check("nullspace_weight_decay", "adam_moves_nullspace", faults={"law": ADAM_LAW_FAULT, "rate": ADAM_RATE_FAULT})(
    adam_moves_nullspace
)
