"""Study: forgetting, linear to nonlinear (issue 13, items 4 and 5).

**Phase 1, linear, overparameterised.** A sweep of `OverparameterizedExperiment` over r = n/p and the teachers'
cosine s, each seed one table of Monte Carlo means (standard error ≈ 0.01 a cell): symbolic regression on each
seed's table alone must find `overparameterized_two_task_forgetting`, F = r(1 − 2s + r), at the exact level
(`verify.rediscovery`, the discovery problem ``overparameterized_forgetting`` with the sweep's table as its data).

**Phase 1, two-layer linear students.** `ContinualExperiment` with linear students: after the second task the
loss on the first must equal the task-distance law ½‖Σyx,2 − Σyx,1‖² + c_1 (Braun et al. 2022) to the
convergence error of the run, at every γ0 and width.

**Phase 2a, nonlinear students on shared inputs.** The same sweep with tanh and ReLU students (μP, γ0 from lazy
to rich). Here every student that fits task 2 on the shared items forgets the same: L_1 = ½/P Σ‖f(x) − y_1‖² over
the items that task 2 fits, so |L_1 − ½/P Σ‖y_2 − y_1‖²| ≤ 2√(law·ε2) + ε2 with ε2 the loss left on task 2,
whatever the architecture. A departure from the law within that bound is under-fitting, not a forgetting law.

**Phase 2b, separate input distributions.** Tasks whose inputs lie in subspaces at similarity ρ
(`ContinualExperiment` with ``input_similarity``), each trained to a loss tolerance: task 2 no longer fixes the
function on task 1's inputs, and the students' inductive bias decides the forgetting. Two laws are computed per
run (`simulate.experiments.kernel_forgetting`): the minimum-norm linear learner's forgetting (the linear law; on
shared whitened inputs it is the task-distance law) and the network's lazy limit (its empirical NTK at
initialisation, trained for the run's own steps). Symbolic regression looks for the departure D = F − linear law
from both laws' values, s, ρ, γ0, the width, the feature-learning rate, the NTK change and ε2. Each seed's table has
one row per configuration, so discover()'s held-out rows are held-out configurations; the held-out R² is reported
per seed with its spread.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from verify.studies import Runner, figure_lines, md_table, publish_study, r_squared

__all__ = ["FULL", "PAGE", "QUICK", "Plan", "StudyResult", "render_page", "run_study", "summary_line", "write_study"]

PAGE = "forgetting.md"


@dataclass(frozen=True)
class Plan:
    """The grid and effort of a run of the study."""

    widths: tuple[int, ...]
    gamma0s: tuple[float, ...]
    similarities: tuple[float, ...]
    activations: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int
    phase1_seeds: tuple[int, ...]
    phase1_n: tuple[int, ...] = tuple(range(5, 50, 5))
    phase1_p: int = 50
    n_in: int = 8
    items: int = 64
    eta0: float = 0.05
    input_similarities: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)  # ρ of phase 2b
    transfer_similarities: tuple[float, ...] = (0.0, 0.5)  # s of phase 2b
    transfer_items: int = 32  # items a task in phase 2b (inputs of rank n_in/2)
    tolerance: float = 1e-4  # phase 2b trains each task to this loss, ``steps`` at a time up to max_steps
    max_steps: int = 8000
    budget: str = "quick"
    name: str = "quick"


QUICK = Plan(
    widths=(64, 256),
    gamma0s=(0.03, 0.1, 0.3, 1.0),
    similarities=(-0.5, 0.0, 0.5, 0.9),
    activations=("linear", "tanh", "relu"),
    seeds=(0, 1, 2),
    steps=1000,
    phase1_seeds=tuple(range(10)),
)
FULL = Plan(
    widths=(64, 256, 1024),
    gamma0s=(0.01, 0.03, 0.1, 0.3, 1.0),
    similarities=(-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 0.9, 1.0),
    activations=("linear", "tanh", "relu"),
    seeds=tuple(range(5)),
    steps=3000,
    phase1_seeds=tuple(range(10)),
    input_similarities=(0.0, 0.25, 0.5, 0.75, 1.0),
    transfer_similarities=(-0.5, 0.0, 0.5, 0.9),
    max_steps=30000,
    budget="default",
    name="full",
)
# D's candidate inputs in phase 2b: the linear (minimum-norm) law and the lazy law, what the sweep controls or
# measures, and eps2, the loss left on task 2
FEATURES = ("law", "lazy", "s", "rho", "gamma0", "width", "feature_rate", "ntk_change", "eps2")


@dataclass(frozen=True)
class StudyResult:
    plan: Plan
    phase1: pd.DataFrame  # one row per seed: found, level, expression, seconds
    runs: pd.DataFrame  # one row per (configuration, seed): the end of training, shared inputs
    transfer: pd.DataFrame  # one row per (configuration, seed) of phase 2b: F, both laws, D = F − law, measures
    discoveries: pd.DataFrame  # one row per (activation, seed): best expression, complexity, held-out R²
    fronts: dict[str, pd.DataFrame]  # the seed-0 front per activation
    parity: dict[str, pd.DataFrame]  # held-out configurations of seed 0: measured and predicted D
    seconds: dict[str, float]
    cost_note: str  # how many runs this call computed, against those read from the cache


def _phase1(plan: Plan, runner: Runner) -> pd.DataFrame:
    from discover import Budget
    from discover.problems import PROBLEMS
    from simulate import grid
    from simulate.experiments import OverparameterizedExperiment
    from verify.rediscovery import rediscover

    configs = grid(n=list(plan.phase1_n), p=[plan.phase1_p], similarity=[float(v) for v in np.linspace(-1, 1, 9)])
    table = runner.sweep(OverparameterizedExperiment(), configs, list(plan.phase1_seeds))
    base = PROBLEMS["overparameterized_forgetting"]
    budget = Budget.quick() if plan.budget == "quick" else Budget.default()
    rows = []
    for seed in plan.phase1_seeds:
        mine = table[table.seed == seed][["r", "similarity", "F"]].rename(columns={"similarity": "s"})

        def data(_: int, frame: pd.DataFrame = mine) -> pd.DataFrame:
            return frame.reset_index(drop=True)

        problem = dataclasses.replace(base, make_data=data, _cache={})
        start = time.perf_counter()
        result = rediscover(problem, backend="operon", seed=seed, budget=budget)
        verdict = next((v for v in result.verdicts if v.equivalent), None)
        rows.append(
            {
                "seed": seed,
                "found": result.found,
                "level": verdict.level if verdict else "none",
                "expression": str(result.match.expr if result.match else result.discovery.best.expr),
                "seconds": time.perf_counter() - start,
            }
        )
    return pd.DataFrame(rows)


def _runs(plan: Plan, runner: Runner) -> pd.DataFrame:
    from simulate import ContinualExperiment, grid

    experiment = ContinualExperiment(
        n_in=plan.n_in, n_out=1, items=plan.items, steps=plan.steps, eta0=plan.eta0, n_records=3
    )
    configs = grid(
        width=list(plan.widths),
        activation=list(plan.activations),
        parameterization=["mup"],
        gamma0=list(plan.gamma0s),
        similarity=list(plan.similarities),
    )
    table = runner.sweep(experiment, configs, list(plan.seeds))
    keys = ["width", "activation", "gamma0", "similarity", "seed"]
    end = table[(table.phase == 1) & (table.step == plan.steps)].set_index(keys)
    first = table[(table.phase == 0) & (table.step == plan.steps)].set_index(keys)
    runs = pd.DataFrame(
        {
            "L1_after_T1": first.loss_0,
            "L1_after_T2": end.loss_0,
            "L2_after_T2": end.loss_1,
            "law": end.task_distance_law,
            "feature_rate": first.feature_rate,
            "ntk_change": end.ntk_change,
        }
    ).reset_index()
    runs["D"] = runs.L1_after_T2 - runs.law
    runs["eps2"] = runs.L2_after_T2
    return runs.rename(columns={"similarity": "s"})


def _transfer(plan: Plan, runner: Runner) -> pd.DataFrame:
    from simulate import ContinualExperiment, grid

    experiment = ContinualExperiment(
        n_in=plan.n_in, n_out=1, items=plan.transfer_items, steps=plan.steps, eta0=plan.eta0, n_records=2,
        tolerance=plan.tolerance, max_steps=plan.max_steps,
    )  # fmt: skip
    configs = grid(
        width=list(plan.widths),
        activation=list(plan.activations),
        parameterization=["mup"],
        gamma0=list(plan.gamma0s),
        similarity=list(plan.transfer_similarities),
        input_similarity=list(plan.input_similarities),
    )
    table = runner.sweep(experiment, configs, list(plan.seeds))
    keys = ["width", "activation", "gamma0", "similarity", "input_similarity", "seed"]
    first = table[table.phase == 0].groupby(keys).last()
    end = table[table.phase == 1].groupby(keys).last()
    runs = pd.DataFrame(
        {
            "F": end.forgetting,
            "law": end.forgetting_min_norm,
            "lazy": end.forgetting_lazy,
            "feature_rate": first.feature_rate,
            "ntk_change": end.ntk_change,
            "eps1": first.loss_0,
            "eps2": end.loss_1,
            "steps1": first.step,
            "steps2": end.step,
        }
    ).reset_index()
    runs["D"] = runs.F - runs.law
    runs["D_lazy"] = runs.F - runs.lazy
    return runs.rename(columns={"similarity": "s", "input_similarity": "rho"})


def _phase2(plan: Plan, runs: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Discovery of D = F − linear law on phase 2b's runs, one table per activation and seed."""
    from discover import Budget, discover
    from discover.snapping import evaluate

    budget = Budget.quick() if plan.budget == "quick" else Budget.default()
    rows, fronts, parity = [], {}, {}
    for activation in [a for a in plan.activations if a != "linear"]:
        found_by_seed: dict[int, tuple[Any, pd.DataFrame]] = {}
        for seed in plan.seeds:
            table = runs[(runs.activation == activation) & (runs.seed == seed)]
            frame = table[[*FEATURES, "D"]].astype(float).reset_index(drop=True)
            start = time.perf_counter()
            # one fixed operator set and one restart: the correction is searched, not the whole escalation
            found = discover(
                frame, "D", features=list(FEATURES), seed=seed, budget=budget, operators="add,sub,mul,div,exp,log",
                restarts=1, transforms=False,
            )  # fmt: skip
            best = found.best
            kernel_only = r_squared(frame.D.to_numpy(), (frame.lazy - frame.law).to_numpy())
            found_by_seed[seed] = (best.expr, frame)
            rows.append(
                {
                    "activation": activation,
                    "seed": seed,
                    "lazy_only_r2": kernel_only,
                    "expression": str(best.expr),
                    "complexity": best.complexity,
                    "terms": _terms(best.expr),
                    "heldout_r2": best.heldout_r2,
                    "train_mse": best.loss,
                    "D_variance": float(frame.D.var()),
                    "seconds": time.perf_counter() - start,
                }
            )
            if seed == plan.seeds[0]:
                fronts[activation] = pd.DataFrame(
                    [{"complexity": c.complexity, "loss": c.loss, "heldout_r2": c.heldout_r2, "expr": str(c.expr)}
                     for c in found.pareto]
                )  # fmt: skip
                train = _train_mask(found, len(frame))
                held = frame[~train]
                predicted = evaluate(best.expr, {f: held[f].to_numpy() for f in FEATURES})
                parity[activation] = pd.DataFrame(
                    {"measured": held.D.to_numpy(), "predicted": np.broadcast_to(predicted, len(held))}
                )
        # a law of the configuration, not of one seed's initialisations, predicts the other seeds' tables too (the
        # same configurations and tasks, other initial weights): each seed's expression on the others, unchanged
        for row in rows[-len(plan.seeds) :]:
            expr, _ = found_by_seed[row["seed"]]
            scores = [
                r_squared(other.D.to_numpy(), evaluate(expr, {f: other[f].to_numpy() for f in FEATURES}))
                for seed, (_, other) in found_by_seed.items()
                if seed != row["seed"]
            ]
            row["cross_seed_r2"] = float(np.median(scores)) if scores else np.nan
    return pd.DataFrame(rows), fronts, parity


def _terms(expr: Any) -> int:
    """Additive terms of the expression multiplied out (exponentials and logs kept whole)."""
    import sympy as sp

    return len(sp.Add.make_args(sp.expand(expr, power_exp=False, log=False)))


def _train_mask(found: Any, n: int) -> np.ndarray:
    """The rows discover() trained on (its seeded hold-out split), re-derived from the discovery's settings."""
    from discover.discovery import split_rows

    return split_rows(n, found.settings["holdout"], found.seed)


def run_study(
    plan: Plan = QUICK,
    *,
    cache: str | Path | None = None,
    scheduler: str = "serial",
    workers: int | None = None,
    progress: bool = True,
) -> StudyResult:
    """Run both phases of the study (module docstring) and return its tables."""
    runner = Runner(cache, scheduler, workers, progress)
    with runner.timed("phase 1 (sweep and discovery)"):
        phase1 = _phase1(plan, runner)
    with runner.timed("sweep of two-layer students, shared inputs"):
        runs = _runs(plan, runner)
    with runner.timed("sweep of two-layer students, separate inputs"):
        transfer = _transfer(plan, runner)
    with runner.timed("phase 2b discovery"):
        discoveries, fronts, parity = _phase2(plan, transfer)
    return StudyResult(plan, phase1, runs, transfer, discoveries, fronts, parity, runner.seconds, runner.cost_note())


def _bands_png(
    result: StudyResult,
    table: pd.DataFrame,
    x: str,
    y: str,
    overlays: Sequence[tuple[str, str, Any]],
    xlabel: str,
    ylabel: str,
    title: str,
) -> bytes:
    """One panel per width (rows) and activation (columns): ``y`` against ``x`` per γ0, mean with the seeds' range
    as a band, and the ``overlays`` (label, line style, function of the panel's rows → a Series indexed by x)."""
    from verify.figures import _png, _style

    plan = result.plan
    widths, activations = sorted(plan.widths), list(plan.activations)
    with _style() as plt:
        fig, axes = plt.subplots(
            len(widths), len(activations), figsize=(4.2 * len(activations), 3.3 * len(widths)), sharey=True,
            squeeze=False,
        )  # fmt: skip
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(plan.gamma0s)))
        for row, width in zip(axes, widths, strict=True):
            for ax, activation in zip(row, activations, strict=True):
                mine = table[(table.activation == activation) & (table.width == width)]
                for color, gamma0 in zip(colors, plan.gamma0s, strict=True):
                    cell = mine[mine.gamma0 == gamma0].groupby(x)[y]
                    xs = np.array(sorted(cell.groups))
                    ax.plot(xs, cell.mean().to_numpy(), "o-", color=color, ms=3, label=f"γ0 = {gamma0:g}")
                    ax.fill_between(xs, cell.min().to_numpy(), cell.max().to_numpy(), color=color, alpha=0.2, lw=0)
                for label, style, line in overlays:
                    values = line(mine)
                    ax.plot(values.index, values.to_numpy(), style, color="k", lw=1, label=label)
                ax.set_title(title.format(activation=activation, width=width))
                ax.set_xlabel(xlabel)
            row[0].set_ylabel(ylabel)
        axes[0, -1].legend(fontsize=7)
        fig.tight_layout()
        return _png(fig, plt)


def _forgetting_png(result: StudyResult) -> bytes:
    law = ("task-distance law", "--", lambda t: t.groupby("s").law.mean())
    return _bands_png(result, result.runs, "s", "L1_after_T2", [law], "teachers' cosine s",
                      "loss on task 1 after task 2", "{activation}, width {width}")  # fmt: skip


def _inputs_png(result: StudyResult) -> bytes:
    plan = result.plan
    s, lazy_gamma = plan.transfer_similarities[0], min(plan.gamma0s)
    table = result.transfer[result.transfer.s == s]
    overlays = [
        ("linear law", "--", lambda t: t.groupby("rho").law.mean()),
        (f"lazy law, γ0 = {lazy_gamma:g}", ":", lambda t: t[t.gamma0 == lazy_gamma].groupby("rho").lazy.mean()),
    ]
    return _bands_png(result, table, "rho", "F", overlays, "input similarity ρ", "forgetting of task 1",
                      "{activation}, width {width}, s = " + f"{s:g}")  # fmt: skip


def _departure_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    tr = result.transfer
    tr = tr[(tr.rho > 0) & (tr.rho < 1)]  # as the page's table: ρ = 0 forgets ≈ 0, ρ = 1 pins a linear student
    tr = tr.assign(lazy_gap=(tr.F - tr.lazy).abs() / tr.F.abs(), law_gap=(tr.F - tr.law).abs() / tr.F.abs())
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        colors = plt.cm.tab10(np.arange(len(result.plan.activations)))
        for color, activation in zip(colors, result.plan.activations, strict=True):
            cell = tr[tr.activation == activation].groupby("gamma0")
            g = np.array(sorted(cell.groups))
            ax.plot(g, cell.lazy_gap.median().to_numpy(), "o-", color=color, ms=3, label=f"{activation}: lazy law")
            ax.plot(g, cell.law_gap.median().to_numpy(), "s--", color=color, ms=3, label=f"{activation}: linear law")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("γ0 (output multiplier; lazy ← → rich)")
        ax.set_ylabel("|F − law| / F, median (0 < ρ < 1)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        return _png(fig, plt)


def _parity_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    names = list(result.parity)
    with _style() as plt:
        fig, axes = plt.subplots(1, max(1, len(names)), figsize=(4.0 * max(1, len(names)), 3.8))
        axes = np.atleast_1d(axes)
        for ax, activation in zip(axes, names, strict=False):
            table = result.parity[activation]
            if table.empty:  # too few configurations for discover() to hold any out
                ax.set_title(f"{activation}: no held-out configurations")
                continue
            ax.plot(table.measured, table.predicted, "o", ms=4)
            lo = float(min(table.measured.min(), table.predicted.min()))
            hi = float(max(table.measured.max(), table.predicted.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            ax.set_title(f"{activation}: held-out configurations")
            ax.set_xlabel("measured D")
            ax.set_ylabel("discovered D")
        fig.tight_layout()
        return _png(fig, plt)


def render_page(result: StudyResult, figures: Sequence[tuple[str, str]]) -> str:
    """The study's markdown page: setup and cost, phase 1, phase 2, fronts, figures; every number from ``result``."""
    plan, runs = result.plan, result.runs
    linear = runs[runs.activation == "linear"]
    found = int((result.phase1.level == "exact").sum())
    lines = [
        "# Study: forgetting, linear to nonlinear",
        "",
        f"Plan `{plan.name}`: students {plan.n_in} → width → 1 on {plan.items} whitened items, μP with output "
        f"multiplier γ0 ∈ {list(plan.gamma0s)}, widths {list(plan.widths)}, activations {list(plan.activations)}, "
        f"teachers' cosine s ∈ {list(plan.similarities)}, {plan.steps} steps of η0 = {plan.eta0} per task "
        f"(η = η0·γ0²·width), seeds {list(plan.seeds)}; symbolic regression with the `{plan.budget}` budget.",
        "",
        "Cost on this machine: "
        + "; ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
        + f"; {sum(result.seconds.values()):.0f} s in all; {result.cost_note}.",
        "",
        "## Phase 1: the overparameterised law from a sweep",
        "",
        f"Each seed's table (r = n/p for n ∈ {list(plan.phase1_n)}, p = {plan.phase1_p}; 9 cosines; Monte Carlo "
        "standard error ≈ 0.01 a cell) searched alone for F(r, s). "
        f"**Exact rediscovery of r(1 − 2s + r) in {found} of {len(result.phase1)} seeds.**",
        "",
        *md_table(result.phase1[["seed", "level", "expression", "seconds"]]),
        "",
        "## Phase 1: two-layer linear students follow the task-distance law",
        "",
    ]
    if len(linear):
        rel = (linear.D.abs() / linear.law).max()
        bound = 2 * np.sqrt(linear.law * linear.L2_after_T2) + linear.L2_after_T2
        lines += [
            f"Over {len(linear)} linear-student runs (every γ0, width, s and seed) the loss on task 1 after task 2 "
            f"matches ½‖Σyx,2 − Σyx,1‖² to a relative {rel:.1e} at worst. The run's own convergence error bounds "
            "the difference: with ε2 the loss left on task 2, |L − law| ≤ 2√(law·ε2) + ε2 (the student is ε2 from "
            f"Σyx,2 in loss); the largest |L − law| / bound is {(linear.D.abs() / bound).max():.3f} (≤ 1: the law "
            "holds to the numerics).",
            "",
        ]
    lines += ["## Phase 2a: on shared inputs every student that fits task 2 forgets the same", ""]
    for activation in [a for a in plan.activations if a != "linear"]:
        mine = runs[runs.activation == activation]
        by_gamma = mine.assign(rel=(mine.D / mine.law).abs()).groupby("gamma0").rel.mean()
        bound = 2 * np.sqrt(mine.law * mine.eps2) + mine.eps2
        beyond = int((mine.D.abs() > bound).sum())
        lines.append(
            f"- **{activation}**: mean |L − law|/law "
            + ", ".join(f"{v:.3f} at γ0 = {g:g}" for g, v in by_gamma.items())
            + f"; the loss left on task 2 is ε2 = {mine.eps2.median():.1e} (median), and {beyond} of {len(mine)} "
            "runs depart from the law by more than that residual allows (2√(law·ε2) + ε2)."
        )
    lines += [
        "",
        "This is necessarily so: the loss on task 1 is measured on the items that task 2 fits, so a student ε2 "
        "from task 2's targets there is within 2√(law·ε2) + ε2 of ½/P Σ‖y2 − y1‖² whatever its architecture "
        "(for linear teachers and whitened inputs that is the task-distance law). On shared inputs a nonlinear "
        "student's departure from the law measures how well it fits task 2, not a forgetting law of its own; "
        "forgetting that depends on the student needs inputs task 2 does not constrain (phase 2b).",
        "",
    ]
    tr = result.transfer
    lines += [
        "## Phase 2b: separate input distributions",
        "",
        f"Each task's {plan.transfer_items} inputs lie in a subspace of rank {plan.n_in // 2}, consecutive "
        f"subspaces at input similarity ρ ∈ {list(plan.input_similarities)} (‖U1ᵀU2‖²/m = ρ exactly), teachers at "
        f"cosine s ∈ {list(plan.transfer_similarities)}; each task is trained to loss {plan.tolerance:g}, "
        f"{plan.steps} steps at a time up to {plan.max_steps}. Two laws per run: the **linear law** (the "
        "minimum-norm linear learner's forgetting) and the **lazy law** (the student's own empirical NTK at "
        "initialisation, trained by GD for the run's steps: exact for the linearised network).",
        "",
    ]
    if len(tr):
        reached = (tr.eps2 <= plan.tolerance * (1 + 1e-9)).mean()
        mid = tr[(tr.rho > 0) & (tr.rho < 1)]  # ρ = 0: nothing reaches task 1; ρ = 1: a linear student is pinned
        table = (
            mid.assign(gap_lazy=(mid.F - mid.lazy).abs() / mid.F.abs().clip(lower=1e-12),
                       gap_law=(mid.F - mid.law).abs() / mid.F.abs().clip(lower=1e-12))
            .groupby(["activation", "gamma0"])
            .agg(F_mean=("F", "mean"), rel_gap_lazy=("gap_lazy", "median"), rel_gap_linear=("gap_law", "median"),
                 ntk_change=("ntk_change", "median"), eps2_median=("eps2", "median"))
            .reset_index()
        )  # fmt: skip
        lines += [
            f"{100 * reached:.0f} % of the runs reached the tolerance on task 2 (the rest stopped at "
            f"{plan.max_steps} steps; the lazy law uses each run's own steps, so it is not biased by that). "
            "Median relative gaps |F − law|/F over s, widths, seeds and 0 < ρ < 1:",
            "",
            *md_table(table),
            "",
        ]
        same = tr[(tr.activation == "linear") & (tr.rho == 1)]
        if len(same):
            bound = 2 * np.sqrt(same.law * same.eps2) + same.eps2 + same.eps1
            lines += [
                f"- **linear students, ρ = 1** (task 2's inputs span task 1's subspace, so a linear student that "
                f"fits task 2 is pinned there): |F − linear law| ≤ 2√(law·ε2) + ε2 + ε1 in "
                f"{int((np.abs(same.F - same.law) <= bound * (1 + 1e-9) + 1e-12).sum())} of {len(same)} runs, "
                f"largest ratio to the bound {(np.abs(same.F - same.law) / bound).max():.2f}.",
            ]
        for activation in plan.activations:
            mine = table[table.activation == activation].sort_values("gamma0")
            if len(mine) >= 2:
                lo, hi = mine.iloc[0], mine.iloc[-1]
                lines.append(
                    f"- **{activation}**: the gap to the lazy law grows from {lo.rel_gap_lazy:.1e} at γ0 = "
                    f"{lo.gamma0:g} to {hi.rel_gap_lazy:.1e} at γ0 = {hi.gamma0:g} "
                    f"({hi.rel_gap_lazy / max(lo.rel_gap_lazy, 1e-300):.0f}× over a {hi.gamma0 / lo.gamma0:.0f}× "
                    f"range of γ0); the gap to the linear law is {lo.rel_gap_linear:.1e} to {hi.rel_gap_linear:.1e}."
                )
        lines += [
            "",
            "Lazy students forget as their initial tangent kernel predicts, and the departure from that kernel "
            "law is the feature-learning correction, which grows with γ0 (Chizat et al.: O(γ0) for smooth "
            "students; tested in tests/test_continual_inputs.py). The linear law is a different learner's: a "
            "nonlinear student departs from it even when lazy, by its kernel's geometry.",
            "",
        ]
    lines += [
        "Discovery of the departure D = F − linear law from (linear law, lazy law, s, ρ, γ0, width, feature rate, NTK "
        "change, ε2), one table per seed (one row per configuration, so held-out rows are held-out configurations). "
        "`lazy_only_r2` is the baseline with nothing fitted: R² of D = lazy law − linear law on the seed's whole "
        "table (negative: worse than D's mean). `cross_seed_r2` is the median R² of the seed's expression, "
        f"unchanged, on the other {len(plan.seeds) - 1} seeds' tables (same configurations and tasks, other initial "
        "weights): a law of the configuration predicts them too, a fit of one seed's initialisations does not. The "
        "held-out R² is that of discover()'s choice, which prefers candidates at the noise floor on all rows, so it "
        "is slightly optimistic.",
        "",
    ]
    if len(result.discoveries):
        summary = (
            result.discoveries.groupby("activation")
            .agg(
                heldout_r2_median=("heldout_r2", "median"),
                heldout_r2_min=("heldout_r2", "min"),
                heldout_r2_max=("heldout_r2", "max"),
                complexity_median=("complexity", "median"),
                terms_median=("terms", "median"),
                cross_seed_r2_median=("cross_seed_r2", "median"),
                cross_seed_r2_min=("cross_seed_r2", "min"),
            )
            .reset_index()
        )
        lines += [*md_table(summary), "", "Per seed:", "", *md_table(result.discoveries), ""]
        met = (summary.heldout_r2_min >= 0.95) & (summary.terms_median <= 10)
        lines.append("Goal (held-out R² ≥ 0.95 in every seed, ≤ 10 terms):")
        for i, row in summary.iterrows():
            general = "it generalises" if row.cross_seed_r2_median >= 0.95 else "it does not generalise"
            lines.append(
                f"- **{row.activation}**: {'met' if met[i] else 'not met'}; held-out R² {row.heldout_r2_min:.3f} to "
                f"{row.heldout_r2_max:.3f} over seeds, median {row.terms_median:g} terms; a seed's expression on the "
                f"other seeds' tables: median R² {row.cross_seed_r2_median:.3f}, so {general} across "
                "initialisations at R² ≥ 0.95."
            )
        lines.append("")
    for activation, front in result.fronts.items():
        lines += [f"Front of seed {plan.seeds[0]}, {activation}:", "", *md_table(front), ""]
    lines += figure_lines(figures)
    return "\n".join(lines)


def write_study(result: StudyResult, out: Path, *, force: bool = False) -> Path:
    """Publish the page and its figures into ``out`` with the same safety rules as `lawbook report`."""
    figures = [
        ("Loss on task 1 after task 2 against the teachers' cosine, mean and seed range; dashed: the law",
         "forgetting_vs_similarity.png", lambda: _forgetting_png(result)),
        ("Separate input distributions: forgetting against the input similarity ρ, mean and seed range; dashed: "
         "the linear law, dotted: the lazy law", "forgetting_vs_input_similarity.png", lambda: _inputs_png(result)),
        ("Separate input distributions: relative gap to the lazy law and to the linear law against γ0",
         "forgetting_departure.png", lambda: _departure_png(result)),
        ("Discovered departure against measured, held-out configurations of the first seed",
         "forgetting_parity.png", lambda: _parity_png(result)),
    ]  # fmt: skip
    return publish_study(
        out, "study:forgetting", PAGE, lambda pairs: render_page(result, pairs), figures, result.plan.name, force=force
    )


def summary_line(result: StudyResult) -> str:
    """What `lawbook study forgetting` prints when done."""
    found = int((result.phase1.level == "exact").sum())
    return f"phase 1 exact in {found} of {len(result.phase1)} seeds"
