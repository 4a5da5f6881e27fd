"""Study: where does training turn from lazy to rich, and what does the boundary do to forgetting? (issue 15, part 1)

**Labels.** A run is *rich* when a measured quantity reaches a stated threshold: the relative change of its
empirical NTK on the first task's inputs from the initialisation to the end of the first task,
‖Θ_T − Θ_0‖_F/‖Θ_0‖_F (`simulate.measures.ntk_change`), at ``threshold``; or the first layer's relative movement
‖W1_T − W1_0‖_F/‖W1_0‖_F (`measures.feature_learning_rate`) at ``feature_threshold``. Both are reported, and the
labels' sensitivity to the thresholds is a table of the page.

**Critical values.** Along a sweep of one control (γ0, the output multiplier of `simulate.TwoLayer`; α, λ in the
anchors) the measure crosses the threshold once; `critical_value` places the crossing by interpolating
log(measure) against log(control) between the two grid points that bracket it, and marks a configuration whose
measure never crosses inside the grid as censored (NaN) rather than guessing. A configuration's critical value is
the crossing of its median over seeds (`median_critical`).

GD whose step η0·γ0² is past its stability bound raises (`simulate.train`); such grid points are left out and named
on the page (`_sweep_stable`), not allowed to sink the study.

**The boundary** is discovered as the critical γ0 of `ContinualExperiment` runs (two-layer tanh students in the NTK
parameterisation; tasks with inputs in subspaces at similarity ρ) as a function of width, init scale, learning rate
(at a fixed training time steps·η0), the inputs' intrinsic dimension and the number of items, by symbolic regression
on a seeded part of the configurations; every run of the held-out configurations is then labelled by the discovered
boundary and compared with its measured label (accuracy per configuration), next to power laws fitted on the same
configurations, one with the width exponent pinned at Geiger et al.'s 1/2.

**Depth** (`depth_runs`): deep linear networks of depths 2–4 from Gaussian inits of scale σ, the critical σ per
depth and width.

**Anchors**, each through the same `critical_value`:

- wide networks: the crossover at α·√width ≈ constant (Geiger, Spigler, Jacot & Wyart 2019, arXiv:1906.08034). In
  lawbook's γ0 (Chizat et al.'s 1/α, `TwoLayer`), NTK-parameterised, that is a critical γ0 ∝ √width: the fitted
  exponent of the critical γ0 in width is compared with 1/2, for every threshold.
- the diagonal network w = u⊙u − v⊙v (`theory.diagonal`): under gradient flow u² + v² = √(4α⁴ + w²), so its NTK
  4·X diag(u² + v²)Xᵀ at convergence is a function of w∞/α² alone (w∞ the minimiser of Q_α,
  `theory.diagonal.min_q_interpolant`), and the critical α² is exactly proportional to the target's scale |w*|.
- λ-balanced two-layer linear networks (`theory.lambda_balanced.aligned_ntk_change`): the relative NTK change at
  convergence falls as λ⁻² for |λ| ≫ s, so the critical |λ| is ∝ s for a fixed small init (exactly so only
  asymptotically: the page gives the closed form's own exponent next to the simulated one).

**Forgetting across the boundary** (Graldi et al., ICML 2025, arXiv:2506.16884, who report low forgetting while
effectively lazy and a sharp rise past a critical γ0 that moves with task similarity): μP students (where γ0 is
width-free, `TwoLayer`), two tasks with teachers at cosine s and inputs at similarity ρ; the forgetting F is
compared with the run's own lazy limit F_lazy (`simulate.experiments.kernel_forgetting`, the same network
linearised at its initialisation), and the critical γ0 is where F/F_lazy rises through 1 + ``forgetting_threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from verify.studies import Runner, figure_lines, md_table, publish_study, r_squared

__all__ = [
    "FULL",
    "PAGE",
    "QUICK",
    "Plan",
    "StudyResult",
    "anchor_fits",
    "critical_table",
    "critical_value",
    "depth_runs",
    "diagonal_anchor",
    "diagonal_problem",
    "lambda_anchor",
    "log_linear_fit",
    "log_linear_predict",
    "median_critical",
    "power_fit",
    "run_study",
    "summary_line",
    "write_study",
]

PAGE = "lazy_rich.md"
OWNER = "study:lazy-rich"


@dataclass(frozen=True)
class Plan:
    """The sweeps and effort of a run of the study."""

    widths: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    gamma0s: tuple[float, ...] = tuple(2.0**k for k in range(-3, 6))  # NTK parameterisation
    seeds: tuple[int, ...] = (0, 1)
    # one axis at a time around the base (init scale 1, η0 = base_eta0, rank 4), each at variant_widths × gamma0s
    variant_widths: tuple[int, ...] = (16, 64, 256)
    init_scales: tuple[float, ...] = (0.5, 2.0)
    eta0s: tuple[float, ...] = (0.025, 0.1)
    input_ranks: tuple[int, ...] = (2,)
    item_counts: tuple[int, ...] = (32, 128)  # items per task (the base has ``items``)
    base_eta0: float = 0.05
    time: float = 100.0  # training time per task, steps·η0 (the same function-space time at every η0)
    n_in: int = 8
    items: int = 64
    similarity: float = 0.5  # the boundary sweep's second task (it does not enter the first task's labels)
    input_similarity: float = 0.5
    threshold: float = 0.1  # rich: relative NTK change ≥ this
    feature_threshold: float = 0.1  # rich by the features: ‖W1 − W1(0)‖/‖W1(0)‖ ≥ this
    thresholds: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)
    feature_thresholds: tuple[float, ...] = (0.05, 0.1, 0.2)
    holdout: float = 1 / 3  # share of the boundary's configurations kept out of discovery
    # forgetting across the boundary (μP)
    forgetting_widths: tuple[int, ...] = (32, 128)
    forgetting_gamma0s: tuple[float, ...] = tuple(2.0**k for k in range(-4, 3))
    forgetting_similarities: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9)
    forgetting_input_similarities: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75)
    forgetting_seeds: tuple[int, ...] = (0, 1, 2)  # the onset of the rise varies from seed to seed
    forgetting_threshold: float = 0.1  # F/F_lazy ≥ 1 + this: forgetting has risen above its lazy limit
    # depth: deep linear networks, init scale σ (each layer N(0, σ²/fan_in)), trained to convergence
    depths: tuple[int, ...] = (2, 3, 4)
    depth_widths: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    depth_sigmas: tuple[float, ...] = tuple(2.0 ** (k / 2) for k in range(-4, 3))
    depth_steps: int = 5000
    # anchors
    diagonal_scales: tuple[float, ...] = (0.25, 1.0, 4.0)  # |w*| multipliers
    diagonal_ratios: tuple[float, ...] = tuple(float(v) for v in np.geomspace(1e-3, 1e2, 11))  # α²/scale
    lambda_scales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # s multipliers
    lambda_ratios: tuple[float, ...] = tuple(float(v) for v in np.geomspace(1e-2, 1e2, 13))  # λ/scale
    budget: str = "quick"
    name: str = "quick"


QUICK = Plan()
FULL = Plan(
    widths=(16, 32, 64, 128, 256, 512, 1024, 2048),
    gamma0s=tuple(2.0 ** (k / 2) for k in range(-4, 13)),
    seeds=(0, 1, 2, 3),
    variant_widths=(16, 64, 256, 1024),
    init_scales=(0.5, 0.75, 1.5, 2.0),
    eta0s=(0.0125, 0.025, 0.1),
    input_ranks=(1, 2, 3),
    item_counts=(16, 32, 128, 256),
    forgetting_widths=(32, 128, 512),
    forgetting_gamma0s=tuple(2.0 ** (k / 2) for k in range(-8, 5)),
    forgetting_similarities=(0.0, 0.2, 0.4, 0.6, 0.8, 0.9),
    forgetting_input_similarities=(0.1, 0.25, 0.5, 0.75, 0.9),
    forgetting_seeds=(0, 1, 2, 3, 4),
    budget="default",
    name="full",
)


# -- the mechanism: critical values and power laws ----------------------------------------------------------------


def critical_value(x: Sequence[float], y: Sequence[float], threshold: float, *, log_measure: bool = True) -> float:
    """The control value at which the measure ``y`` (at controls ``x`` > 0, any order) first crosses ``threshold``
    going up the grid, by linear interpolation of log y (``log_measure``; y and the threshold > 0) or of y itself
    against log x between the bracketing points; NaN when y stays on one side of the threshold over the whole grid
    (the crossing lies outside it: censored; `critical_table` says which side). The crossing may go either way (a
    measure that falls with the control, like the NTK change against λ, crosses downwards); a curve that crosses
    more than once gets its first crossing, and `critical_table` counts them.

    >>> x = np.array([1.0, 2.0, 4.0, 8.0])
    >>> round(critical_value(x, 0.01 * x**2, 0.16), 12)  # y = x²/100 reaches 0.16 at x = 4
    4.0
    >>> round(critical_value(x, 0.01 * x**2, 0.08), 6), critical_value(x, 0.01 * x**2, 5.0)
    (2.828427, nan)
    >>> round(critical_value(x, np.array([-1.0, 0.0, 2.0, 3.0]), 1.0, log_measure=False), 6)  # 2^1.5
    2.828427
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"x and y must be 1-d arrays of one length ≥ 2, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(x > 0) and np.all(np.isfinite(y)) and np.isfinite(threshold)):
        raise ValueError("controls must be finite and > 0, measures and the threshold finite")
    if log_measure and not (np.all(y > 0) and threshold > 0):
        raise ValueError("with log_measure the measures and the threshold must be > 0 (they are interpolated in "
                         "logs); pass log_measure=False for a measure that can be ≤ 0")  # fmt: skip
    order = np.argsort(x)
    lx = np.log(x[order])
    ly, lt = (np.log(y[order]), np.log(threshold)) if log_measure else (y[order], float(threshold))
    side = np.sign(ly - lt)
    for i in range(len(lx) - 1):
        if side[i] == 0:
            return float(np.exp(lx[i]))
        if side[i] != side[i + 1]:
            return float(np.exp(lx[i] + (lt - ly[i]) * (lx[i + 1] - lx[i]) / (ly[i + 1] - ly[i])))
    return float(np.exp(lx[-1])) if side[-1] == 0 else float("nan")


def critical_table(
    frame: pd.DataFrame,
    control: str,
    measure: str,
    threshold: float,
    keys: Sequence[str],
    *,
    log_measure: bool = True,
) -> pd.DataFrame:
    """`critical_value` of ``measure`` along ``control`` for every group of ``keys``: one row per group with the
    keys, ``critical`` (NaN where censored), ``crossings`` (how many times the curve crosses the threshold: more
    than one flags a non-monotone curve, whose first crossing is taken) and ``side`` (``"above"`` or ``"below"``:
    where a censored curve stays relative to the threshold; ``""`` when it crosses).

    >>> f = pd.DataFrame({"w": [1, 1, 2, 2, 3, 3], "g": [1.0, 4.0] * 3, "m": [0.1, 0.4, 0.05, 0.2, 0.01, 0.02]})
    >>> t = critical_table(f, "g", "m", 0.2, ["w"])
    >>> t.critical.round(6).tolist(), t.side.tolist(), t.crossings.tolist()
    ([2.0, 4.0, nan], ['', '', 'below'], [1, 1, 0])
    """
    rows = []
    for key, group in frame.groupby(list(keys), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        group = group.sort_values(control)
        y = group[measure].to_numpy(dtype=float)
        crit = critical_value(group[control].to_numpy(dtype=float), y, threshold, log_measure=log_measure)
        signs = np.where(y >= threshold, 1, -1)  # reaching the threshold counts as crossing it
        side = "" if np.isfinite(crit) else ("above" if y[0] > threshold else "below")
        rows.append({**dict(zip(keys, key, strict=True)), "critical": crit,
                     "crossings": int(np.sum(signs[1:] != signs[:-1])), "side": side})  # fmt: skip
    return pd.DataFrame(rows)


def median_critical(
    frame: pd.DataFrame,
    control: str,
    measure: str,
    threshold: float,
    keys: Sequence[str],
    *,
    log_measure: bool = True,
) -> pd.DataFrame:
    """A configuration's critical value: where the median over its seeds of ``measure`` (at each ``control``)
    crosses ``threshold`` (`critical_table` of the median curve; NaN where that curve does not cross inside the
    grid). The crossing of the median curve, not the median of the seeds' crossings, which has no value when some
    seeds never cross.

    >>> f = pd.DataFrame({"w": 1, "seed": [0, 0, 1, 1, 2, 2], "g": [1.0, 4.0] * 3, "m": [0.1, 0.4, 0.1, 0.1, 0.1, 0.4]})
    >>> median_critical(f, "g", "m", 0.2, ["w"]).critical.round(6).tolist()  # seed 1 never crosses; the median does
    [2.0]
    """
    curve = frame.groupby([*keys, control], sort=True)[measure].median().reset_index()
    return critical_table(curve, control, measure, threshold, keys, log_measure=log_measure)


def power_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least squares of log y = log c + b·log x: the constant c, the exponent b, and b's 95 % interval from the
    t distribution of the slope (n − 2 degrees of freedom; NaN half-width with fewer than 3 points).

    >>> fit = power_fit([1.0, 4.0, 16.0], [3.0, 6.0, 12.0])
    >>> round(fit["c"], 12), round(fit["b"], 12), round(fit["half_width"], 12)
    (3.0, 0.5, 0.0)
    """
    from scipy import stats

    lx, ly = np.log(np.asarray(x, dtype=np.float64)), np.log(np.asarray(y, dtype=np.float64))
    if lx.shape != ly.shape or lx.size < 2 or not (np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))):
        raise ValueError("power_fit needs ≥ 2 finite, positive (x, y) pairs of one shape")
    b, a = np.polyfit(lx, ly, 1)
    n = lx.size
    half = float("nan")
    if n > 2:
        resid = ly - (a + b * lx)
        se = np.sqrt(np.sum(resid**2) / (n - 2) / np.sum((lx - lx.mean()) ** 2))
        half = float(stats.t.ppf(0.975, n - 2) * se)
    return {"c": float(np.exp(a)), "b": float(b), "half_width": half, "n": n}


# -- the boundary sweep -------------------------------------------------------------------------------------------

BASE = {"init_scale": 1.0, "input_rank": 4}


def _variants(plan: Plan) -> list[tuple[str, dict[str, float], tuple[int, ...]]]:
    """(name, the axes that differ from the base, widths) of every arm of the boundary sweep."""
    out = [("base", {}, plan.widths)]
    out += [(f"init scale {v:g}", {"init_scale": v}, plan.variant_widths) for v in plan.init_scales]
    out += [(f"η0 {v:g}", {"eta0": v}, plan.variant_widths) for v in plan.eta0s]
    out += [(f"input rank {v}", {"input_rank": v}, plan.variant_widths) for v in plan.input_ranks]
    out += [(f"items {v}", {"items": v}, plan.variant_widths) for v in plan.item_counts]
    return out


def _sweep_stable(
    runner: Runner, experiment: object, configs: list[dict], seeds: Sequence[int]
) -> tuple[pd.DataFrame, list[dict]]:
    """The sweep of ``configs``; if GD is unstable in some (the step η0·γ0² grows past 2/λ_max at large γ0), each
    configuration is swept alone and the unstable ones are returned apart instead of sinking the whole sweep (the
    cache keeps every finished run, so nothing is computed twice)."""

    def cached() -> int:
        return len(list(runner.cache.glob("*.parquet"))) if runner.cache is not None else 0

    before = cached()
    try:
        return runner.sweep(experiment, configs, seeds), []
    except FloatingPointError:
        runner.computed += cached() - before  # runs the failed sweep finished and cached: computed by this call
        tables, failed = [], []
        for config in configs:
            try:
                tables.append(runner.sweep(experiment, [config], seeds, progress=False))
            except FloatingPointError:
                failed.append(config)
        return pd.concat(tables, ignore_index=True), failed


def _boundary_runs(plan: Plan, runner: Runner) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first task's end of every run of the boundary sweep, and the (variant, width, γ0) where GD was
    unstable (left out)."""
    from simulate import ContinualExperiment

    frames, unstable = [], []
    for name, change, widths in _variants(plan):
        axes = {**BASE, "eta0": plan.base_eta0, "items": plan.items, **change}
        experiment = ContinualExperiment(
            n_in=plan.n_in, n_out=1, items=int(axes["items"]), steps=round(plan.time / axes["eta0"]),
            eta0=axes["eta0"], n_records=2, input_rank=int(axes["input_rank"]),
        )  # fmt: skip
        configs = [
            {"width": w, "activation": "tanh", "parameterization": "ntk", "gamma0": g, "similarity": plan.similarity,
             "input_similarity": plan.input_similarity, "init_scale": axes["init_scale"]}
            for w in widths for g in plan.gamma0s
        ]  # fmt: skip
        table, failed = _sweep_stable(runner, experiment, configs, plan.seeds)
        unstable += [{"variant": name, "width": c["width"], "gamma0": c["gamma0"]} for c in failed]
        first = table[table.phase == 0].groupby(["width", "gamma0", "seed"], sort=True).last().reset_index()
        first = first[["width", "gamma0", "seed", "ntk_change", "feature_rate", "loss_0"]].copy()
        first.insert(0, "variant", name)
        first["eta0"], first["input_rank"], first["items"] = axes["eta0"], axes["input_rank"], axes["items"]
        first["init_scale"] = axes["init_scale"]
        frames.append(first)
    return pd.concat(frames, ignore_index=True), pd.DataFrame(unstable, columns=["variant", "width", "gamma0"])


# a discovered critical value is called predictive when its held-out R² in logs reaches this
USEFUL_R2 = 0.5
# the boundaries scored on held-out configurations: the discovered expression; Geiger's √width with the other axes'
# exponents fitted (a power law with the width exponent pinned at 1/2); the same power law with every exponent free;
# one constant critical γ0
BOUNDARIES = ("discovered", "geiger", "power_law", "constant")
CONFIG = ["variant", "width", "init_scale", "eta0", "input_rank", "items"]
FEATURES = ["width", "init_scale", "eta0", "input_rank", "items"]


def log_linear_fit(
    frame: pd.DataFrame, features: Sequence[str], target: str, pinned: dict[str, float] | None = None
) -> dict[str, float]:
    """Least squares of log target = log c + Σ b_f·log f over ``features`` (all > 0), with the exponents in
    ``pinned`` held at their values; returns {"c": c, f: b_f, …}. A feature constant in ``frame`` gets exponent 0
    (it cannot be fitted there).

    >>> f = pd.DataFrame({"n": [1.0, 4.0, 16.0, 4.0], "a": [1.0, 1.0, 1.0, 2.0]})
    >>> f["y"] = 3 * np.sqrt(f.n) * f.a**2
    >>> {k: round(v, 9) for k, v in log_linear_fit(f, ["n", "a"], "y", pinned={"n": 0.5}).items()}
    {'c': 3.0, 'n': 0.5, 'a': 2.0}
    """
    pinned = dict(pinned or {})
    y = np.log(frame[target].to_numpy(dtype=float)) - sum(b * np.log(frame[f].to_numpy(dtype=float))
                                                          for f, b in pinned.items())  # fmt: skip
    free = [f for f in features if f not in pinned and frame[f].nunique() > 1]
    A = np.column_stack([np.ones(len(frame)), *[np.log(frame[f].to_numpy(dtype=float)) for f in free]])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    out = {"c": float(np.exp(coef[0]))}
    for f in features:
        out[f] = float(pinned[f]) if f in pinned else (float(coef[1 + free.index(f)]) if f in free else 0.0)
    return out


def log_linear_predict(fit: dict[str, float], frame: pd.DataFrame) -> np.ndarray:
    """c·Π f^b_f of a `log_linear_fit` on the rows of ``frame``."""
    out = np.full(len(frame), fit["c"])
    for f, b in fit.items():
        if f != "c":
            out = out * frame[f].to_numpy(dtype=float) ** b
    return out


def _base_axes(plan: Plan, widths: Sequence[float]) -> pd.DataFrame:
    """The boundary's features (`FEATURES`) at the base sweep's axes, one row per width."""
    frame = pd.DataFrame({"width": np.asarray(widths, dtype=float)})
    return frame.assign(**{k: float(v) for k, v in BASE.items()}, eta0=plan.base_eta0, items=float(plan.items))[
        FEATURES
    ]


def _evaluate_boundary(expr: object, frame: pd.DataFrame) -> np.ndarray:
    """A discovered boundary's critical γ0 on every row of ``frame`` (its `FEATURES` columns)."""
    from discover.snapping import evaluate

    return np.broadcast_to(evaluate(expr, {f: frame[f].to_numpy(dtype=float) for f in FEATURES}), len(frame))


def _split(table: pd.DataFrame, share: float, groups: Sequence[str] | None = None) -> np.ndarray:
    """A seeded mask holding out about ``share`` of the rows of ``table``; with ``groups``, whole groups of rows
    that share those columns' values (so that near-duplicates, such as configurations differing only in an axis
    with no effect, never sit on both sides)."""
    rng = np.random.default_rng(0)
    keys = table[list(groups)].astype(str).agg("|".join, axis=1) if groups else pd.Series(np.arange(len(table)))
    unique = keys.unique()
    chosen = set(unique[rng.permutation(len(unique))[: round(share * len(unique))]])
    return keys.isin(chosen).to_numpy()


# the split's groups: every axis but η0, which does not move the boundary at a fixed training time (measured)
SPLIT_GROUPS = ["width", "init_scale", "input_rank", "items"]


def _fit_boundaries(plan: Plan, configs: pd.DataFrame, held: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """Every boundary of `BOUNDARIES` fitted on the configurations not ``held`` (with a crossing), its value at
    every configuration, and the held-out R² of log critical γ0 of each."""

    info = _discover_critical(plan, configs.assign(heldout=held), "critical", FEATURES)
    if "expression" not in info:
        raise ValueError(f"too few configurations to discover the boundary: {info['train_configurations']} for "
                         f"training and {info['heldout_configurations']} held out with a critical γ0 inside the grid "
                         "(discover needs 10 and 2); add configurations or widen the γ0 grid")  # fmt: skip
    train = configs[~held & configs.critical.notna()]
    geiger = log_linear_fit(train, FEATURES, "critical", pinned={"width": 0.5})
    free = log_linear_fit(train, FEATURES, "critical")
    values = pd.DataFrame({
        "discovered": _evaluate_boundary(info["expression"], configs),
        "geiger": log_linear_predict(geiger, configs), "power_law": log_linear_predict(free, configs),
        "constant": float(np.exp(np.mean(np.log(train.critical)))),
    }, index=configs.index)  # fmt: skip
    test = held & configs.critical.notna().to_numpy()
    for name in BOUNDARIES[1:]:
        info[f"heldout_log_r2_{name}"] = r_squared(np.log(configs.critical[test]), np.log(values[name][test]))
    info.update(geiger=geiger, power_law=free, constant=float(values.constant.iloc[0]))
    return values, info


def _label_accuracy(plan: Plan, runs: pd.DataFrame, configs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, the share of its runs (γ0 × seeds) whose measured label (NTK change ≥ threshold) each
    boundary gets right (rich ⇔ γ0 ≥ the boundary's critical γ0)."""
    labelled = runs.merge(configs, on=CONFIG)
    rich = labelled.ntk_change >= plan.threshold
    right = pd.DataFrame({name: (labelled.gamma0 >= labelled[name]) == rich for name in BOUNDARIES})
    accuracy = right.groupby([labelled[c] for c in CONFIG], sort=True).mean().reset_index()
    accuracy["runs"] = labelled.groupby(CONFIG, sort=True).size().to_numpy()
    return configs[[*CONFIG, "critical", "heldout"]].merge(accuracy, on=CONFIG)


def _boundary(plan: Plan, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The critical γ0 per configuration (the crossing of the median over seeds), its discovered form and the
    baselines fitted on a seeded part of the configurations (whole groups, `SPLIT_GROUPS`), label accuracy per
    configuration; and the same fits scored on a second split that holds out the widest widths (extrapolation)."""
    configs = median_critical(runs, "gamma0", "ntk_change", plan.threshold, CONFIG)
    held = _split(configs, plan.holdout, SPLIT_GROUPS)
    values, info = _fit_boundaries(plan, configs, held)
    configs = pd.concat([configs.assign(heldout=held), values], axis=1)
    accuracy = _label_accuracy(plan, runs, configs)
    wide = max(plan.variant_widths)
    splits = [(f"random, by configuration group ({int(held.sum())} held out)", configs, accuracy, info)]
    far = (configs.width >= wide).to_numpy()
    far_values, far_info = _fit_boundaries(plan, configs[[*CONFIG, "critical"]], far)
    far_configs = pd.concat([configs[[*CONFIG, "critical"]].assign(heldout=far), far_values], axis=1)
    splits.append((f"widths ≥ {wide} held out ({int(far.sum())}), fitted on narrower",
                   far_configs, _label_accuracy(plan, runs, far_configs), far_info))  # fmt: skip
    rows = []
    for name, _, acc, sinfo in splits:
        part = acc[acc.heldout]
        for boundary in BOUNDARIES:
            r2 = sinfo["heldout_log_r2"] if boundary == "discovered" else sinfo[f"heldout_log_r2_{boundary}"]
            rows.append({"split": name, "boundary": boundary, "label accuracy": float(part[boundary].mean()),
                         "log critical γ0 R²": r2,
                         "form": str(sinfo["expression"]) if boundary == "discovered" else (
                             _power_text(sinfo[boundary]) if boundary != "constant" else f"{sinfo['constant']:.3g}")})  # fmt: skip
    info["splits"] = pd.DataFrame(rows)
    return configs, accuracy, info


def _exponents(plan: Plan, runs: pd.DataFrame, info: dict) -> pd.DataFrame:
    """Geiger's anchor: the exponent of the critical γ0 in width, base variant, for every threshold of both labels,
    from each width's crossing of its median over seeds (one point per width: the seeds of a width are not
    independent draws of the width effect), over all widths and over widths ≥ 64; and the discovered expression's
    own exponent."""

    base = runs[runs.variant == "base"]
    widths = np.array(sorted(base.width.unique()))
    wide = widths[widths >= 64] if np.sum(widths >= 64) >= 3 else widths[-3:]
    rows = []
    for label, measure, thresholds in (("NTK change", "ntk_change", plan.thresholds),
                                       ("feature movement", "feature_rate", plan.feature_thresholds)):  # fmt: skip
        for threshold in thresholds:
            crit = median_critical(base, "gamma0", measure, threshold, ["width"]).dropna(subset=["critical"])
            row = {"label": label, "threshold": threshold, "widths crossing": f"{len(crit)} of {len(widths)}"}
            for name, subset in (("all", widths), ("wide", wide)):
                part = crit[crit.width.isin(subset)]
                fit = power_fit(part.width, part.critical) if part.width.nunique() >= 3 else None
                row[f"b ({name})"] = np.nan if fit is None else fit["b"]
                row[f"± ({name})"] = np.nan if fit is None else fit["half_width"]
            row["1/2 rejected (all)"] = bool(abs(row["b (all)"] - 0.5) > row["± (all)"])
            rows.append(row)
    grid = np.array(widths, dtype=float)
    values = _evaluate_boundary(info["expression"], _base_axes(plan, grid))
    info["discovered_exponent"] = power_fit(grid, values)["b"] if np.all(values > 0) else float("nan")
    info["discovered_exponent_wide"] = (
        power_fit(grid[grid >= wide[0]], values[grid >= wide[0]])["b"] if np.all(values > 0) else float("nan")
    )
    info["wide_from"] = int(wide[0])
    return pd.DataFrame(rows)


def _sensitivity(plan: Plan, runs: pd.DataFrame) -> pd.DataFrame:
    """Share of runs labelled rich at each threshold, and agreement of the NTK and feature labels."""
    rows = []
    for t in plan.thresholds:
        for f in plan.feature_thresholds:
            ntk, feat = runs.ntk_change >= t, runs.feature_rate >= f
            rows.append({"NTK threshold": t, "feature threshold": f, "rich by NTK": float(ntk.mean()),
                         "rich by features": float(feat.mean()), "labels agree": float((ntk == feat).mean())})  # fmt: skip
    return pd.DataFrame(rows)


# -- forgetting across the boundary -------------------------------------------------------------------------------


def _forgetting_runs(plan: Plan, runner: Runner) -> pd.DataFrame:
    from simulate import ContinualExperiment

    experiment = ContinualExperiment(n_in=plan.n_in, n_out=1, items=plan.items, steps=round(plan.time / plan.base_eta0),
                                     eta0=plan.base_eta0, n_records=2)  # fmt: skip
    configs = [
        {"width": w, "activation": "tanh", "parameterization": "mup", "gamma0": g, "similarity": s,
         "input_similarity": rho}
        for w in plan.forgetting_widths for g in plan.forgetting_gamma0s for s in plan.forgetting_similarities
        for rho in plan.forgetting_input_similarities
    ]  # fmt: skip
    table = runner.sweep(experiment, configs, plan.forgetting_seeds)
    keys = ["width", "gamma0", "similarity", "input_similarity", "seed"]
    end = table.groupby(keys, sort=True).last().reset_index()
    out = end[[*keys, "forgetting", "forgetting_lazy", "ntk_change", "ntk_change_last"]].rename(
        columns={"similarity": "s", "input_similarity": "rho"}
    )
    out["ratio"] = out.forgetting / out.forgetting_lazy
    return out


def _discover_critical(plan: Plan, table: pd.DataFrame, target: str, features: list[str]) -> dict:
    """Symbolic regression of a critical value on the configurations not held out (``table.heldout``), scored on
    the held-out ones (R², also in logs); censored (NaN) configurations are left out of both."""
    from discover import Budget, discover
    from discover.checks import MIN_ROWS
    from discover.snapping import evaluate

    usable = table[target].notna()
    train, test = table[~table.heldout & usable], table[table.heldout & usable]
    info: dict = {"censored": int((~usable).sum()), "configurations": len(table), "train_configurations": len(train),
                  "heldout_configurations": len(test)}  # fmt: skip
    if len(train) < MIN_ROWS or len(test) < 2:  # discover needs MIN_ROWS rows to tell expressions apart
        return info
    budget = Budget.quick() if plan.budget == "quick" else Budget.default()
    found = discover(train[[*features, target]].astype(float), target, features=features, seed=0, budget=budget,
                     restarts=1, holdout=0.0)  # fmt: skip
    pred = np.broadcast_to(evaluate(found.best.expr, {f: test[f].to_numpy(dtype=float) for f in features}), len(test))
    positive = bool(np.all(pred > 0))
    info.update(expression=found.best.expr, complexity=found.best.complexity, heldout_r2=r_squared(test[target], pred),
                heldout_log_r2=r_squared(np.log(test[target]), np.log(pred)) if positive else float("nan"),
                train_configurations=len(train), heldout_configurations=len(test))  # fmt: skip
    return info


def _forgetting_boundary(plan: Plan, runs: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    keys = ["width", "s", "rho"]
    # F can be ≤ 0 (a second task that helps the first), so the ratio is interpolated as it is, not in logs
    table = median_critical(runs, "gamma0", "ratio", 1 + plan.forgetting_threshold, keys, log_measure=False)
    table = table.rename(columns={"critical": "gamma_F", "crossings": "F_crossings", "side": "F_side"})
    table["gamma_ntk"] = median_critical(runs, "gamma0", "ntk_change_last", plan.threshold, keys).critical.to_numpy()
    high = runs[runs.gamma0 == runs.gamma0.max()].groupby(keys)
    table["F_ratio_at_max"] = high.ratio.median().to_numpy()
    held = _split(table, plan.holdout)
    table["heldout"] = held
    info: dict = {}
    for target in ("gamma_ntk", "gamma_F"):
        info[target] = _discover_critical(plan, table, target, ["s", "rho", "width"])
    return table, info


# -- depth ------------------------------------------------------------------------------------------------------

DEPTH_S = (2.0, 1.0, 0.5)  # the depth arm's task: whitened, Σyx with these singular values (3 → 3)


def depth_runs(
    depths: Sequence[int], widths: Sequence[int], sigmas: Sequence[float], seeds: Sequence[int], steps: int
) -> pd.DataFrame:
    """Relative NTK change of deep linear networks ŷ = W_L ⋯ W_1 x (3 → width → … → 3, ``depth`` layers) from an
    init with N(0, σ²/fan_in) entries to the end of ``steps`` GD steps on a whitened task with singular values
    `DEPTH_S` (24 items), one row per (depth, width, σ, seed), with the final loss (the runs are meant to converge;
    the page reports the largest). The step is η = 0.5/(λ0 + λ*): λ0 the largest eigenvalue of the initial NTK
    over the items' count (the function-space curvature at the start), λ* = L·s_max^{2(L−1)/L} the top mode's at
    a balanced solution, so η·λ ≤ 0.5 at both ends of training.

    >>> table = depth_runs([2], [8], [0.25, 2.0], [0], 2000)
    >>> bool(table.change.iloc[0] > 1 > table.change.iloc[1]), bool(table.loss.max() < 1e-8)
    (True, True)
    """
    from simulate import DeepLinear, gaussian_init, measures, prescribed_task, train

    task = prescribed_task(list(DEPTH_S), Ni=3, No=3, seed=0, P=24)
    P = task.X.shape[1]
    rows = []
    for depth in depths:
        for width in widths:
            sizes = (3, *([width] * (depth - 1)), 3)
            net = DeepLinear(sizes)
            star = depth * max(DEPTH_S) ** (2 * (depth - 1) / depth)
            for sigma in sigmas:
                draws = [gaussian_init(sizes, 1.0, seed=seed) for seed in seeds]
                W = [np.concatenate([d[i] for d in draws]) * sigma / np.sqrt(sizes[i]) for i in range(depth)]
                K0 = measures.empirical_ntk(net, W, task.X)
                eta = 0.5 / (np.linalg.eigvalsh(K0)[:, -1].max() / P + star)
                traj = train(net, W, task, eta=eta, times=[0.0, steps * eta])
                K1 = measures.empirical_ntk(net, [w[-1] for w in traj.weights], task.X)
                change = measures.ntk_change(K0, K1)
                for b, seed in enumerate(seeds):
                    rows.append({"depth": depth, "width": width, "sigma": sigma, "seed": seed,
                                 "change": float(change[b]), "loss": float(traj.loss[-1, b]), "eta": eta})  # fmt: skip
    return pd.DataFrame(rows)


def _depth_boundary(plan: Plan, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    keys = ["depth", "width"]
    table = median_critical(runs, "sigma", "change", plan.threshold, keys).rename(columns={"critical": "sigma_c"})
    table["heldout"] = _split(table, plan.holdout)
    fits = []
    for depth, part in table.dropna().groupby("depth"):
        if len(part) >= 2:
            fit = power_fit(part.width, part.sigma_c)
            fits.append({"depth": depth, "c": fit["c"], "b": fit["b"], "half_width": fit["half_width"]})
    return table, pd.DataFrame(fits), _discover_critical(plan, table, "sigma_c", keys)


# -- anchors ------------------------------------------------------------------------------------------------------


def diagonal_problem(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The diagonal anchor's problem: X (8 × 24, Gaussian, seeded) and a 3-sparse w* = (1, −0.7, 0.4, 0, …)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, 24))
    w = np.zeros(24)
    w[:3] = (1.0, -0.7, 0.4)  # sparse: where ℓ1 and ℓ2 interpolants differ most
    return X, w


def diagonal_anchor(
    scales: Sequence[float], ratios: Sequence[float], seed: int = 0, *, step: float = 0.05
) -> pd.DataFrame:
    """Relative NTK change of the diagonal network from u = v = α·1 to convergence, by GD (`train_diagonal`) and
    by theory (K∞ = 4·X diag(√(4α⁴ + w∞²))Xᵀ with w∞ = `min_q_interpolant`, K0 = 8α²·XXᵀ-shaped), for targets
    y = X·(scale·w*) and α² = ratio·scale. GD's step is ``step``/(λ_max(XᵀX/n)·(α² + scale)): the flow is invariant
    under (α², w) → (cα², cw) with time/c, and so is GD with this step, so any departure from α*² ∝ scale is
    the simulation's, not the discretisation's.

    >>> table = diagonal_anchor([1.0], [0.01, 10.0])
    >>> bool(table.change_gd.iloc[0] > 1 > table.change_gd.iloc[1])  # small α: rich; large α: lazy
    True
    """
    from simulate.diagonal import train_diagonal
    from theory.diagonal import min_q_interpolant

    X, w_star = diagonal_problem(seed)
    n = X.shape[0]
    top = float(np.linalg.eigvalsh(X.T @ X / n).max())
    rows = []
    for scale in scales:
        y = X @ (scale * w_star)
        for ratio in ratios:
            a2 = ratio * scale
            alpha = np.sqrt(a2)
            run = train_diagonal(X, y, alpha, eta=step / (top * (a2 + scale)), tol=1e-10)
            K0 = 8 * a2 * (X @ X.T)
            K_gd = 4 * (X * (run.u**2 + run.v**2)) @ X.T
            w_theory = min_q_interpolant(X, y, alpha)
            K_theory = 4 * (X * np.sqrt(4 * a2**2 + w_theory**2)) @ X.T
            rows.append({"scale": scale, "ratio": ratio, "alpha2": a2, "steps": run.steps,
                         "change_gd": float(np.linalg.norm(K_gd - K0) / np.linalg.norm(K0)),
                         "change_theory": float(np.linalg.norm(K_theory - K0) / np.linalg.norm(K0))})  # fmt: skip
    return pd.DataFrame(rows)


LAMBDA_S = (2.0, 0.5)  # the task's singular values at scale 1
LAMBDA_U0 = 0.05  # the init's strength, fixed while s is scaled


def lambda_anchor(
    scales: Sequence[float], ratios: Sequence[float], seed: int = 0, *, step: float = 0.05
) -> pd.DataFrame:
    """Relative NTK change of λ-balanced, task-aligned two-layer linear networks (2 × 2 × 2, init strength u0 =
    `LAMBDA_U0`), trained by GD to convergence on a task with singular values scale·`LAMBDA_S`, at λ = ratio·scale,
    against the closed form `aligned_ntk_change`. GD's step and length follow the λ-balanced suite's figure
    (η·(top Hessian eigenvalue) = ``step``, 40 slowest rates), so its gap to the flow is the same relative O(η) at
    every λ.

    >>> table = lambda_anchor([1.0], [0.1, 100.0])
    >>> bool(table.change_gd.iloc[0] > 1 > table.change_gd.iloc[1]), bool(abs(table.gap).max() < 0.05)
    (True, True)
    """
    from simulate import DeepLinear, lambda_balanced_init, prescribed_task, train
    from theory.lambda_balanced import aligned_ntk_change, empirical_ntk, relative_change

    rows = []
    for scale in scales:
        svals = scale * np.array(LAMBDA_S)
        task = prescribed_task(list(svals), Ni=2, No=2, seed=seed)
        for ratio in ratios:
            lam = ratio * scale
            eta = step / np.sqrt(4 * svals[0] ** 2 + lam**2)
            steps = int(np.ceil(40.0 / np.sqrt(4 * svals[-1] ** 2 + lam**2) / eta))
            W = lambda_balanced_init(task, lam, LAMBDA_U0, seed=seed, aligned=True)
            traj = train(DeepLinear((2, 2, 2)), W, task, eta=eta, times=[0.0, steps * eta])
            w1, w2 = traj.weights[0][:, 0], traj.weights[1][:, 0]
            change = relative_change(empirical_ntk(w1[0], w2[0], task.X), empirical_ntk(w1[-1], w2[-1], task.X))
            theory = aligned_ntk_change(svals, LAMBDA_U0, lam)[0]
            rows.append({"scale": scale, "ratio": ratio, "lam": lam, "change_gd": change, "change_theory": theory,
                         "gap": change / theory - 1})  # fmt: skip
    return pd.DataFrame(rows)


def anchor_fits(table: pd.DataFrame, control: str, threshold: float) -> tuple[pd.DataFrame, dict]:
    """Critical ``control`` per scale of an anchor's table (`diagonal_anchor`, `lambda_anchor`) where the relative
    NTK change crosses ``threshold``, from GD (``change_gd``) and from theory (``change_theory``), and the
    exponent of each in the scale (`power_fit`; None with fewer than two crossings)."""
    out = {}
    crit = {}
    for source in ("gd", "theory"):
        c = critical_table(table, control, f"change_{source}", threshold, ["scale"])
        crit[source] = c.critical.to_numpy()
        ok = np.isfinite(crit[source])
        out[source] = power_fit(c.scale[ok], crit[source][ok]) if ok.sum() >= 2 else None
    frame = pd.DataFrame({"scale": sorted(table.scale.unique()), f"critical {control} (GD)": crit["gd"],
                          f"critical {control} (theory)": crit["theory"]})  # fmt: skip
    frame["critical/scale (GD)"] = frame[f"critical {control} (GD)"] / frame.scale
    return frame, out


# -- the study ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyResult:
    plan: Plan
    runs: pd.DataFrame  # boundary sweep: one row per run (end of the first task)
    unstable: pd.DataFrame  # (variant, width, γ0) of the boundary sweep where GD was unstable: left out
    configs: pd.DataFrame  # per configuration: critical γ0, discovered, baselines, held-out flag
    accuracy: pd.DataFrame  # per configuration: label accuracy of the discovered boundary and the baselines
    boundary: dict
    exponents: pd.DataFrame
    sensitivity: pd.DataFrame
    forgetting_runs: pd.DataFrame
    forgetting: pd.DataFrame
    forgetting_info: dict
    depth_runs: pd.DataFrame
    depth: pd.DataFrame  # per (depth, width): critical σ (NaN: censored), held-out flag
    depth_fits: pd.DataFrame  # per depth: σ_c ∝ width^b
    depth_info: dict
    diagonal: pd.DataFrame
    diagonal_fit: tuple[pd.DataFrame, dict]
    lam: pd.DataFrame
    lambda_fit: tuple[pd.DataFrame, dict]
    seconds: dict[str, float]
    cost_note: str


def run_study(
    plan: Plan = QUICK,
    *,
    cache: str | Path | None = None,
    scheduler: str = "serial",
    workers: int | None = None,
    progress: bool = True,
) -> StudyResult:
    """Run the boundary sweep, discover the boundary, check it against the anchors, and measure forgetting
    across it."""
    runner = Runner(cache, scheduler, workers, progress)
    with runner.timed("boundary sweep"):
        runs, unstable = _boundary_runs(plan, runner)
    with runner.timed("boundary discovery"):
        configs, accuracy, info = _boundary(plan, runs)
        exponents = _exponents(plan, runs, info)
        sensitivity = _sensitivity(plan, runs)
    with runner.timed("forgetting sweep"):
        forgetting_runs = _forgetting_runs(plan, runner)
    with runner.timed("forgetting boundary"):
        forgetting, forgetting_info = _forgetting_boundary(plan, forgetting_runs)
    with runner.timed("depth"):
        deep = depth_runs(plan.depths, plan.depth_widths, plan.depth_sigmas, plan.seeds, plan.depth_steps)
        depth, depth_fits, depth_info = _depth_boundary(plan, deep)
    with runner.timed("anchors"):
        diagonal = diagonal_anchor(plan.diagonal_scales, plan.diagonal_ratios)
        lam = lambda_anchor(plan.lambda_scales, plan.lambda_ratios)
        diagonal_fit = anchor_fits(diagonal, "alpha2", plan.threshold)
        lambda_fit = anchor_fits(lam, "lam", plan.threshold)
    return StudyResult(plan, runs, unstable, configs, accuracy, info, exponents, sensitivity, forgetting_runs, forgetting,
                       forgetting_info, deep, depth, depth_fits, depth_info, diagonal, diagonal_fit, lam, lambda_fit,
                       runner.seconds, runner.cost_note())  # fmt: skip


# -- the page -----------------------------------------------------------------------------------------------------


def _phase_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    base = result.runs[result.runs.variant == "base"]
    grid = base.groupby(["gamma0", "width"]).ntk_change.median().unstack()
    widths, gammas = grid.columns.to_numpy(dtype=float), grid.index.to_numpy(dtype=float)
    crit = result.configs[result.configs.variant == "base"]
    fine = np.geomspace(widths.min(), widths.max(), 100)
    base_axes = _base_axes(result.plan, fine)
    disc = _evaluate_boundary(result.boundary["expression"], base_axes)
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        mesh = ax.pcolormesh(widths, gammas, np.log10(grid.to_numpy()), shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label="log10 relative NTK change (median over seeds)")
        ax.plot(
            crit.width,
            crit.critical,
            "wo",
            ms=6,
            mec="k",
            label=f"measured critical γ0 (NTK change {result.plan.threshold:g})",
        )
        ax.plot(fine, disc, "w-", lw=2, label="discovered boundary")
        geiger = log_linear_predict(result.boundary["geiger"], base_axes)
        ax.plot(fine, geiger, "r--", lw=1.2, label="Geiger: ∝ √width (other exponents fitted)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlabel("width")
        ax.set_ylabel("γ0 (NTK parameterisation)")
        ax.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        return _png(fig, plt)


def _forgetting_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    runs, plan = result.forgetting_runs, result.plan
    rhos = sorted(runs.rho.unique())
    with _style() as plt:
        fig, axes = plt.subplots(1, len(rhos), figsize=(4.0 * len(rhos), 3.8), sharey=True)
        axes = np.atleast_1d(axes)
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(plan.forgetting_similarities)))
        for ax, rho in zip(axes, rhos, strict=True):
            for color, s in zip(colors, plan.forgetting_similarities, strict=True):
                for style, width in zip(("-", "--", ":"), plan.forgetting_widths, strict=False):
                    part = runs[(runs.rho == rho) & (runs.s == s) & (runs.width == width)]
                    ratio = (part.forgetting / part.forgetting_lazy).groupby(part.gamma0).median()
                    ax.plot(ratio.index, ratio.values, style, color=color, marker="o", ms=3,
                            label=f"s = {s:g}, width {width}")  # fmt: skip
            ax.axhspan(1 - plan.forgetting_threshold, 1 + plan.forgetting_threshold, color="grey", alpha=0.15)
            ax.set_xscale("log", base=2)
            ax.set_title(f"inputs at similarity ρ = {rho:g}")
            ax.set_xlabel("γ0 (μP)")
        axes[0].set_ylabel("forgetting / its lazy limit")
        axes[-1].legend(fontsize=6, ncol=2)
        fig.tight_layout()
        return _png(fig, plt)


def _anchors_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    with _style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8))
        for ax, table, label in ((axes[0], result.diagonal, "α²/|w*| scale"), (axes[1], result.lam, "λ/s scale")):
            for scale, part in table.groupby("scale"):
                ax.plot(part.ratio, part.change_gd, "o", ms=4, label=f"GD, scale {scale:g}")
                ax.plot(part.ratio, part.change_theory, "k-", lw=0.8)
            ax.axhline(result.plan.threshold, color="grey", lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel("relative NTK change at convergence")
            ax.legend(fontsize=7)
        axes[0].set_title("diagonal network (line: Q_α minimiser)")
        axes[1].set_title("λ-balanced linear network (line: closed form)")
        fig.tight_layout()
        return _png(fig, plt)


def _discovery_line(what: str, d: dict) -> str:
    """One sentence on a discovered critical value (`_discover_critical`'s record)."""
    if "expression" not in d:
        return (f"{what}: too few configurations with a crossing inside the grid "
                f"({d['train_configurations']} for training, {d['heldout_configurations']} held out, of "
                f"{d['configurations']}) to discover it with a held-out part.")  # fmt: skip
    verdict = (
        "predictive" if d["heldout_log_r2"] >= USEFUL_R2 else f"not predictive (held-out R² in logs < {USEFUL_R2})"
    )
    return (f"{what}, discovered on {d['train_configurations']} configurations: `{d['expression']}` (complexity "
            f"{d['complexity']}); on {d['heldout_configurations']} held-out configurations R² {d['heldout_r2']:.3f}, "
            f"in logs {d['heldout_log_r2']:.3f}: {verdict}.")  # fmt: skip


def _onset_text(ft: pd.DataFrame, column: str, symbol: str) -> str:
    """Median γ_F per value of ``column``, a configuration that never rises counting as beyond the grid."""
    parts = []
    for value, part in ft.groupby(column):
        median = float(np.median(part.onset))
        parts.append(f"{symbol} = {value:g}: " + ("none in the grid" if not np.isfinite(median) else f"{median:.3g}"))
    return "; ".join(parts)


def _forgetting_verdict(result: StudyResult) -> list[str]:
    """What the forgetting table says about Graldi et al.'s claim, every clause computed from the table."""
    from scipy import stats

    plan, ft, runs = result.plan, result.forgetting.copy(), result.forgetting_runs
    theta = plan.forgetting_threshold
    low = runs[runs.gamma0 == runs.gamma0.min()]
    lazy_gap = (low.forgetting / low.forgetting_lazy - 1).abs()
    rises = ft[ft.F_ratio_at_max > 1 + theta]
    falls = ft[ft.F_ratio_at_max < 1 - theta]
    # the onset γ_F with the censored ones placed where they lie: never rising (below) beyond the top of the grid,
    # already risen at the grid's first γ0 (above) below its bottom
    ft["onset"] = ft.gamma_F.where(ft.F_side == "", np.where(ft.F_side == "below", np.inf, 0.0))
    lines = [
        f"- **Lazy:** at γ0 = {runs.gamma0.min():g} a run forgets what its linearisation forgets to "
        f"{lazy_gap.median():.2g} relative (median over runs; largest {lazy_gap.max():.2g}; the gap is O(γ0), "
        "measured in the forgetting study).",
        f"- **Past the boundary** forgetting **rises** above its lazy limit (by more than {theta:g} at the largest "
        f"γ0) in {len(rises)} of {len(ft)} configurations (median ratio "
        f"{rises.F_ratio_at_max.median() if len(rises) else float('nan'):.2f}) and **falls** below it in "
        f"{len(falls)}" + (f" (ρ ∈ {sorted(falls.rho.unique().tolist())}, s ∈ {sorted(falls.s.unique().tolist())})"
                           ": whether feature learning raises or lowers forgetting depends on the similarities."
                           if len(falls) else "."),
    ]  # fmt: skip
    trend = []
    for column, symbol in (("s", "s"), ("rho", "ρ")):
        r, pvalue = stats.spearmanr(ft[column], ft.onset)
        trend.append(f"{symbol}: Spearman {r:+.2f} (p = {pvalue:.2g})")
    lines.append(
        f"- **Onset γ_F against similarity** (a configuration that never rises counts as beyond the grid). By "
        f"teacher cosine: {_onset_text(ft, 's', 's')}. By input similarity: {_onset_text(ft, 'rho', 'ρ')}. Rank "
        f"correlation over configurations, {'; '.join(trend)}."
    )
    both = ft[np.isfinite(ft.onset) & (ft.onset > 0) & ft.gamma_ntk.notna()]
    later, earlier = int((both.onset > 2 * both.gamma_ntk).sum()), int((both.onset < both.gamma_ntk / 2).sum())
    lines += [
        f"- Of the {len(both)} configurations with both a rise and a kernel boundary γ_NTK in the grid, forgetting "
        f"rises more than a grid step (×2) after the kernel boundary in {later}, more than a step before it in "
        f"{earlier}, and within a step in {len(both) - later - earlier}.",
        "",
    ]
    return lines


def _unstable_text(unstable: pd.DataFrame) -> str:
    if unstable.empty:
        return "GD stable at every grid point"
    where = ", ".join(f"{r.variant} width {r.width} γ0 {r.gamma0:g}" for r in unstable.itertuples())
    return f"GD unstable, so left out, at {where}"


def _power_text(fit: dict[str, float]) -> str:
    return f"{fit['c']:.3g}" + "".join(f"·{f}^{b:.3g}" for f, b in fit.items() if f != "c" and b != 0)


def _axis_effects(configs: pd.DataFrame) -> str:
    """How far each variant moves the critical γ0 from the base at the same width (median ratio)."""
    base = configs[configs.variant == "base"].set_index("width").critical
    parts = []
    for variant, part in configs[configs.variant != "base"].groupby("variant", sort=True):
        ratio = (part.set_index("width").critical / base.reindex(part.width).to_numpy()).dropna()
        if len(ratio):
            parts.append(f"{variant} ×{ratio.median():.3g}")
    return ("Critical γ0 of each variant over the base's at the same width (median over widths): "
            + "; ".join(parts) + ".")  # fmt: skip


def _geiger_verdict(result: StudyResult) -> str:
    """What the exponents say about Geiger et al.'s 1/2, every clause computed."""
    ex, info, plan = result.exponents, result.boundary, result.plan
    main = ex[(ex.label == "NTK change") & (ex.threshold == plan.threshold)].iloc[0]
    ntk = ex[ex.label == "NTK change"].dropna(subset=["b (all)"])
    rejected = ", ".join(f"{r.label} {r.threshold:g}" for r in ex[ex["1/2 rejected (all)"]].itertuples()) or "none"
    drift = ""
    if len(ntk) >= 2:
        lo, hi = ntk.iloc[0], ntk.iloc[-1]
        moved = abs(lo["b (all)"] - hi["b (all)"]) > lo["± (all)"] + hi["± (all)"]
        drift = (
            f" From NTK threshold {lo.threshold:g} to {hi.threshold:g} the exponent over all widths goes from "
            f"{lo['b (all)']:.3f} to {hi['b (all)']:.3f}"
            + (": more than both intervals together, so the NTK change is not a function of γ0/√width alone at "
               "these widths (if it were, the exponent would not depend on the threshold)." if moved else
               ", within their intervals.")
        )  # fmt: skip
    return (
        f"**Agreement with the anchor.** At the study's threshold the exponent is {main['b (all)']:.3f} ± "
        f"{main['± (all)']:.3f} over all widths and {main['b (wide)']:.3f} ± {main['± (wide)']:.3f} over widths ≥ "
        f"{info['wide_from']} (few points: an interval that holds 1/2 fails to reject it, no more). Labels whose "
        f"all-width interval rejects 1/2: {rejected}.{drift} The discovered boundary's exponent "
        f"{info['discovered_exponent']:.3f} differs from 1/2 by {info['discovered_exponent'] - 0.5:+.3f}; on held-out "
        f"configurations the power law with the width exponent pinned at 1/2 scores R² {info['heldout_log_r2_geiger']:.3f} "
        f"in log critical γ0 against {info['heldout_log_r2_power_law']:.3f} with it free (table above)."
    )


def _fit_text(fit: dict | None) -> str:
    return "n/a (fewer than two crossings)" if fit is None else f"{fit['b']:.4f} ± {fit['half_width']:.4f}"


def render_page(result: StudyResult, figures: Sequence[tuple[str, str]]) -> str:
    """The study's markdown page; every number comes from ``result``."""
    plan, info = result.plan, result.boundary
    acc = result.accuracy
    held = acc[acc.heldout]
    lines = [
        "# Study: the lazy–rich boundary and forgetting across it",
        "",
        f"Plan `{plan.name}`. Cost on this machine: "
        + "; ".join(f"{n} {v:.0f} s" for n, v in result.seconds.items())
        + f"; {sum(result.seconds.values()):.0f} s in all; {result.cost_note}.",
        "",
        "## Setting and labels",
        "",
        f"Two-layer tanh students {plan.n_in} → width → 1 (`simulate.ContinualExperiment`), NTK parameterisation, "
        f"`items` per task (base {plan.items}) in a subspace of rank `input_rank` (base 4), trained by GD for the time "
        f"steps·η0 = {plan.time:g} on the first task (base η0 = {plan.base_eta0:g}; final loss on it: median "
        f"{result.runs.loss_0.median():.2g}, largest {result.runs.loss_0.max():.2g}); seeds {list(plan.seeds)}. A run "
        f"is **rich** when its relative NTK change on the first task's inputs reaches {plan.threshold:g} (main "
        f"label), or when its first layer moved by {plan.feature_threshold:g} of its norm (second label). The "
        "labels' sensitivity, over all runs of the boundary sweep:",
        "",
        *md_table(result.sensitivity),
        "",
        "## The boundary: critical γ0",
        "",
        f"For each configuration the critical γ0 is where the NTK change crosses {plan.threshold:g} "
        f"(log–log interpolation on the grid γ0 ∈ {[float(g) for g in plan.gamma0s]}); the configuration's value is "
        f"the crossing of the median over seeds ({info['censored']} configurations whose median does not cross "
        f"inside the grid, left out; {_unstable_text(result.unstable)}). Symbolic regression on "
        f"{info['train_configurations']} configurations (width, init scale, η0, input rank, items); "
        f"{info['heldout_configurations']} held out with all their runs, in whole groups that differ only in η0 "
        "(which does not move the boundary, below), so no held-out configuration has a twin in training:",
        "",
        f"**critical γ0 = `{info['expression']}`** (complexity {info['complexity']}).",
        "",
        "Baselines fitted on the same configurations: **Geiger**, a power law in every axis with the width "
        f"exponent pinned at 1/2 ({_power_text(info['geiger'])}); **power law**, the same with every exponent free "
        f"({_power_text(info['power_law'])}); **constant**, one critical γ0 ({info['constant']:.3g}).",
        "",
        "Held-out scores: the accuracy of the lazy/rich label (γ0 ≥ boundary ⇒ rich, against the measured label; "
        "mean over held-out configurations, coarse on a factor-2 grid) and the R² of log critical γ0. The second "
        "split refits everything on the narrower widths and scores the widest (extrapolation in width):",
        "",
        *md_table(info["splits"]),
        "",
        "Label accuracy by held-out configuration (first split):",
        "",
        *md_table(held[["variant", "width", "critical", *BOUNDARIES, "runs"]]),
        "",
        "Every configuration's critical γ0 and the boundaries' values (held-out ones marked):",
        "",
        *md_table(
            result.configs[
                ["variant", "width", "critical", "crossings", "side", "discovered", "geiger", "power_law", "heldout"]
            ]
        ),
        "",
        _axis_effects(result.configs),
        "",
        "## Depth: deep linear networks",
        "",
        f"Deep linear networks 3 → width → … → 3 (depth L ∈ {list(plan.depths)}, widths "
        f"{list(plan.depth_widths)}), entries N(0, σ²/fan_in) at σ ∈ {[round(v, 4) for v in plan.depth_sigmas]}, "
        f"GD for {plan.depth_steps} steps on a whitened task with singular values {list(DEPTH_S)} (largest final "
        f"loss {result.depth_runs.loss.max():.2g}). Without an output multiplier or centring, a large init is not "
        "the lazy limit here (the network must first undo its initial function): the NTK change falls as σ grows "
        "to a plateau that shrinks with width, so a configuration whose plateau stays above the threshold has no "
        f"crossing (censored). Critical σ where the change falls through {plan.threshold:g}:",
        "",
        *md_table(result.depth),
        "",
        "σ_c ∝ width^b per depth (95 % interval):",
        "",
        *md_table(result.depth_fits),
        "",
        _discovery_line("σ_c from (depth, width)", result.depth_info),
        "",
        "## Anchors",
        "",
        "### Wide networks: α·√width ≈ constant (Geiger, Spigler, Jacot & Wyart 2019)",
        "",
        "γ0 is Chizat et al.'s 1/α, so the anchor is a critical γ0 ∝ width^b with b = 1/2 (in μP, whose γ0 is the "
        "NTK parameterisation's γ0/√width exactly, the boundary is width-free). Fitted exponents of the per-seed "
        "critical γ0 in width (base variant, 95 % interval):",
        "",
        *md_table(result.exponents),
        "",
        f"The discovered boundary's own exponent (base axes): {info['discovered_exponent']:.3f} over all widths, "
        f"{info['discovered_exponent_wide']:.3f} over widths ≥ {info['wide_from']}; Geiger's value is 0.5.",
        "",
        _geiger_verdict(result),
        "",
    ]
    for title, (frame, fits), exact in (
        ("### Diagonal network: α² against |w| (Woodworth et al. 2020)", result.diagonal_fit,
         "u² + v² = √(4α⁴ + w²) along the flow, so the converged NTK is a function of w∞/α² alone and the critical "
         "α² is exactly proportional to the target's scale (exponent 1). The problem and GD's step are invariant "
         "under the same rescaling, so the simulated exponent is 1 by construction: a consistency check of the "
         "mechanism; the informative number is GD's gap to the theory"),
        ("### λ-balanced linear networks: |λ| against s (Dominé et al. 2025)", result.lambda_fit,
         f"the change falls as λ⁻² once |λ| ≫ s (init strength fixed at u0 = {LAMBDA_U0:g}), so the critical λ is "
         "∝ s up to u0's correction; the closed form's own exponent is the reference"),
    ):  # fmt: skip
        table = result.diagonal if "Diagonal" in title else result.lam
        gaps = np.abs(table.change_gd / table.change_theory - 1).to_numpy()
        gap, at = float(gaps.max()), float(table.change_theory.iloc[int(np.argmax(gaps))])
        crit = frame.iloc[:, 1] / frame.iloc[:, 2] - 1  # GD's critical value over the theory's, per scale
        lines += [
            title,
            "",
            f"Theory: {exact}. The same critical-value mechanism at NTK change {plan.threshold:g}, on GD runs and on "
            "the theory's converged kernel:",
            "",
            *md_table(frame),
            "",
            f"Exponent in the scale: GD {_fit_text(fits['gd'])}, theory {_fit_text(fits['theory'])}. GD's critical "
            f"value differs from the theory's by at most {np.abs(crit).max():.2g} (relative); the largest gap in "
            f"the NTK change itself is {gap:.2g}, where the change is {at:.2g}. Both are GD's first-order error: "
            "halving the step halves them (tested: the diagonal network's critical value, the λ-balanced network's "
            "largest gap; `tests/test_study_lazy_rich.py`).",
            "",
        ]
    fi = result.forgetting_info
    ft = result.forgetting
    lines += [
        "## Forgetting across the boundary",
        "",
        f"μP students, widths {list(plan.forgetting_widths)}, seeds {list(plan.forgetting_seeds)}, γ0 ∈ "
        f"{[float(g) for g in plan.forgetting_gamma0s]}, "
        f"second teacher at cosine s ∈ {list(plan.forgetting_similarities)}, inputs at similarity ρ ∈ "
        f"{list(plan.forgetting_input_similarities)}. F is compared with the run's lazy limit F_lazy (the same "
        f"network linearised at its initialisation); γ_F is where F/F_lazy rises through "
        f"1 + {plan.forgetting_threshold:g} (Graldi et al.'s rise; NaN where it never does inside the grid: F_side "
        "says whether the ratio stayed below or was already above), γ_NTK where the relative NTK change on the "
        f"first task's inputs, from the initialisation to the end of the second task, reaches {plan.threshold:g} "
        "(crossings of the median over seeds; NaN: no crossing inside the grid). F/F_lazy at the largest γ0:",
        "",
        *md_table(
            ft[["width", "s", "rho", "gamma_ntk", "gamma_F", "F_side", "F_crossings", "F_ratio_at_max", "heldout"]]
        ),
        "",
    ]
    lines += _forgetting_verdict(result)
    lines.append("- " + _discovery_line("γ_NTK, the kernel's boundary through the second task, from (s, ρ, width)",
                                        fi["gamma_ntk"]))  # fmt: skip
    lines.append("- " + _discovery_line("γ_F, where forgetting rises above its lazy limit, from (s, ρ, width)",
                                        fi["gamma_F"]))  # fmt: skip
    lines += ["", *figure_lines(figures)]
    return "\n".join(lines)


def write_study(result: StudyResult, out: Path, *, force: bool = False) -> Path:
    """Publish the page and its figures into ``out`` with the same safety rules as `lawbook report`."""
    figures = [
        ("Phase diagram of the base sweep: relative NTK change over width × γ0, the measured critical γ0, the "
         "discovered boundary and Geiger's c·√width", "lazy_rich_phase.png", lambda: _phase_png(result)),
        ("Forgetting over its lazy limit against γ0 (μP), one panel per input similarity ρ, one colour per "
         "teacher cosine s (band: within the threshold)", "lazy_rich_forgetting.png", lambda: _forgetting_png(result)),
        ("Anchors: relative NTK change at convergence of the diagonal network against α²/scale and of the "
         "λ-balanced network against λ/scale, GD (points) and theory (lines); grey: the threshold",
         "lazy_rich_anchors.png", lambda: _anchors_png(result)),
    ]  # fmt: skip
    return publish_study(
        out, OWNER, PAGE, lambda pairs: render_page(result, pairs), figures, result.plan.name, force=force
    )


def summary_line(result: StudyResult) -> str:
    """What `lawbook study lazy-rich` prints when done."""
    held = result.accuracy[result.accuracy.heldout]
    return (
        f"boundary {result.boundary['expression']}: held-out label accuracy {held.discovered.mean():.3f} "
        f"(Geiger's √width {held.geiger.mean():.3f})"
    )
