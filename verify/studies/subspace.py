"""Study: is there a universal weight subspace, and does distance from it predict forgetting? (issue 15, part 2)

Many two-layer networks of one architecture (`ContinualExperiment`, ``keep_weights``) are trained each on its own
task (its own teacher, ``task_seed`` = the model's index) from one shared initialisation, then on a second task at a
set cosine to the first; the forgetting of the first is measured. The weights after the first task are the models.

**Spectrum** (the procedure of Kaushik et al., arXiv:2512.05117, per layer): stack the N models' flattened W_l as
rows, centre across models, thin SVD along the model axis; the share of variance of the top k components, and k*,
the smallest k reaching ``share`` of it.

**Controls** (what the original lacked): an i.i.d. Gaussian null with the same shape, centred the same way (its
top-k share is ≈ k/(N − 1) when the row length is ≫ N); a mean-only baseline (k = 0); and leave-one-out: each
model's deviation is measured from a subspace fitted without it.

**Deviation** ‖W⊥‖/‖W‖ (`loo_deviation`, all layers together): W⊥ the part of W − mean left after projecting on the
top-k* subspace, both fitted without the model. The hypothesis F ≈ a·dev^b + c is fitted on a seeded two-thirds of
the models and scored on the rest (held-out R²), next to the same form in the controls' deviations (mean only, a
random k*-dimensional subspace) and the two laws of forgetting that lawbook computes per run (the minimum-norm
linear learner's and the student's lazy limit, `simulate.experiments.kernel_forgetting`); symbolic regression
searches F from all of them. The tasks' inputs lie in subspaces at similarity ρ (``input_similarity``): on shared
inputs every student that fits task 2 forgets the same (the forgetting study's phase 2a), and nothing about the
weights could matter.
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
    "fit_power_law",
    "loo_deviation",
    "run_study",
    "spectrum_shares",
    "summary_line",
    "write_study",
]

PAGE = "subspace.md"
OWNER = "study:subspace"


@dataclass(frozen=True)
class Plan:
    """The models and effort of a run of the study."""

    n_models: int
    width: int = 32
    activation: str = "tanh"
    gamma0: float = 1.0
    similarities: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9)  # second task's cosine, cycled over the models
    # the tasks' inputs lie in subspaces at this similarity (`ContinualExperiment`'s input_similarity), so that
    # task 2 does not pin the function on task 1's inputs and forgetting depends on the student; None: shared inputs
    input_similarity: float | None = 0.5
    n_in: int = 8
    items: int = 64
    steps: int = 1000
    eta0: float = 0.05
    share: float = 0.9  # k*: the smallest k whose top-k components hold this share of the variance
    null_draws: int = 20
    budget: str = "quick"
    name: str = "quick"


QUICK = Plan(n_models=60)
FULL = Plan(n_models=240, width=128, steps=3000, null_draws=100, budget="default", name="full")


def _centred(M: np.ndarray) -> np.ndarray:
    return M - M.mean(axis=0, keepdims=True)


def spectrum_shares(M: np.ndarray) -> np.ndarray:
    """Share of the centred variance in each component, largest first: σ_k²/Σσ² of the thin SVD of the rows of M
    (models) centred across models.

    >>> spectrum_shares(np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]])).round(6).tolist()  # one direction
    [1.0, 0.0]
    """
    s = np.linalg.svd(_centred(np.asarray(M, dtype=np.float64)), compute_uv=False)
    return s**2 / np.sum(s**2)


def top_k(shares: np.ndarray, share: float) -> int:
    """The smallest k with Σ_{i≤k} shares_i ≥ ``share``."""
    return int(np.searchsorted(np.cumsum(shares), share - 1e-12) + 1)


def loo_deviation(
    layers: Sequence[np.ndarray], k: int, *, basis: str = "fitted", rng: np.random.Generator | None = None
) -> np.ndarray:
    """Leave-one-out deviation of every model from the subspace of the others: ‖W⊥‖/‖W‖ over all layers, W⊥ the
    part of W − mean_{−i} outside the top-k right singular vectors of the others' centred rows (per layer).
    ``basis="random"``: a random k-dimensional subspace per layer instead (the control); ``k = 0``: the mean alone.

    >>> line = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [5.0, 5.0]])  # models on one line
    >>> loo_deviation([line], 1).round(12).tolist()
    [0.0, 0.0, 0.0, 0.0]
    >>> loo_deviation([line], 0).round(3).tolist()  # the mean alone: each model's offset from the others' mean
    [2.333, 0.5, 0.111, 0.6]
    """
    layers = [np.asarray(M, dtype=np.float64) for M in layers]
    N = layers[0].shape[0]
    if any(M.shape[0] != N for M in layers) or N < 3:
        raise ValueError("every layer needs the same number of models (rows), at least 3")
    if basis not in ("fitted", "random"):
        raise ValueError(f"basis must be 'fitted' or 'random', got {basis!r}")
    rng = rng if rng is not None else np.random.default_rng(0)
    out = np.empty(N)
    for i in range(N):
        off, total = 0.0, 0.0
        for M in layers:
            others = np.delete(M, i, axis=0)
            r = M[i] - others.mean(axis=0)
            if k:
                if basis == "fitted":
                    V = np.linalg.svd(_centred(others), full_matrices=False)[2][:k]
                else:
                    V = np.linalg.qr(rng.normal(size=(M.shape[1], k)))[0].T
                r = r - V.T @ (V @ r)
            off += float(r @ r)
            total += float(M[i] @ M[i])
        out[i] = np.sqrt(off / total)
    return out


def fit_power_law(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares a, b, c of y ≈ a·x^b + c (x > 0), from a grid of b refined by scipy.

    >>> x = np.linspace(0.1, 1, 30)
    >>> [round(v, 6) for v in fit_power_law(x, 2 * x**1.5 + 0.3)]
    [2.0, 1.5, 0.3]
    """
    from scipy.optimize import least_squares

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if np.any(x <= 0) or x.shape != y.shape:
        raise ValueError("x must be positive and shaped like y")

    def linear(b: float) -> tuple[np.ndarray, float]:  # a and c are linear given b
        A = np.column_stack([x**b, np.ones_like(x)])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        return coef, float(np.sum((A @ coef - y) ** 2))

    b0 = min(np.linspace(-3, 3, 121), key=lambda b: linear(b)[1])
    (a0, c0), _ = linear(b0)
    fit = least_squares(lambda p: p[0] * x ** p[1] + p[2] - y, [a0, b0, c0], xtol=1e-15, ftol=1e-15, gtol=1e-15)
    return float(fit.x[0]), float(fit.x[1]), float(fit.x[2])


@dataclass(frozen=True)
class StudyResult:
    plan: Plan
    models: pd.DataFrame  # one row per model: s, F, the two laws, the deviations
    spectra: dict[str, pd.DataFrame]  # per layer: component, share, null mean/min/max
    fits: pd.DataFrame  # per predictor: a, b, c, held-out R²
    discovery: pd.DataFrame
    k: int  # k* used for the deviations (the largest over the layers)
    seconds: dict[str, float]
    cost_note: str


def _models(plan: Plan, runner: Runner) -> tuple[pd.DataFrame, list[np.ndarray]]:
    from simulate import ContinualExperiment

    experiment = ContinualExperiment(n_in=plan.n_in, n_out=1, items=plan.items, steps=plan.steps, eta0=plan.eta0,
                                     n_records=2, keep_weights=True)  # fmt: skip
    inputs = {} if plan.input_similarity is None else {"input_similarity": plan.input_similarity}
    configs = [
        {"width": plan.width, "activation": plan.activation, "parameterization": "mup", "gamma0": plan.gamma0,
         "similarity": plan.similarities[i % len(plan.similarities)], "task_seed": i} | inputs
        for i in range(plan.n_models)
    ]  # fmt: skip
    table = runner.sweep(experiment, configs, [0])  # seed 0: one shared initialisation, the tasks differ
    ends = table[(table.phase == 0)].groupby("task_seed").last()
    layers = [np.stack(ends[f"W{layer}"].to_list()) for layer in (1, 2)]
    models = pd.DataFrame(
        {"s": ends.similarity, "F": ends.forgetting, "law": ends.forgetting_min_norm, "lazy": ends.forgetting_lazy}
    ).reset_index()
    return models, layers


def _spectra(plan: Plan, layers: list[np.ndarray]) -> tuple[dict[str, pd.DataFrame], list[int]]:
    rng = np.random.default_rng(0)
    spectra, ks = {}, []
    for index, M in enumerate(layers, start=1):
        real = spectrum_shares(M)
        null = np.array([spectrum_shares(rng.normal(size=M.shape)) for _ in range(plan.null_draws)])
        n = len(real)
        spectra[f"W{index}"] = pd.DataFrame(
            {"component": np.arange(1, n + 1), "share": real, "cumulative": np.cumsum(real),
             "null_share": null.mean(axis=0)[:n], "null_cumulative": np.cumsum(null.mean(axis=0))[:n],
             "uniform_cumulative": np.arange(1, n + 1) / (M.shape[0] - 1)}
        )  # fmt: skip
        ks.append(top_k(real, plan.share))
    return spectra, ks


# a predictor "predicts" forgetting when its held-out R² reaches this (half the variance of held-out models)
USEFUL_R2 = 0.5
# the deviation, its two geometric controls, and the two laws of forgetting (`kernel_forgetting`): the minimum-norm
# linear learner's ("law"; on shared whitened inputs the task-distance law) and the student's lazy limit ("lazy")
PREDICTORS = ("dev", "dev_mean_only", "dev_random", "law", "lazy")


def _fits(plan: Plan, models: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    train = np.zeros(len(models), dtype=bool)
    train[rng.permutation(len(models))[: (2 * len(models)) // 3]] = True
    rows = []
    for predictor in PREDICTORS:
        x, y = models[predictor].to_numpy(), models.F.to_numpy()
        a, b, c = fit_power_law(x[train], y[train])
        rows.append({"predictor": predictor, "a": a, "b": b, "c": c,
                     "train_r2": r_squared(y[train], a * x[train] ** b + c),
                     "heldout_r2": r_squared(y[~train], a * x[~train] ** b + c)})  # fmt: skip
    return pd.DataFrame(rows)


def _discovery(plan: Plan, models: pd.DataFrame) -> pd.DataFrame:
    from discover import Budget, discover

    budget = Budget.quick() if plan.budget == "quick" else Budget.default()
    found = discover(models[[*PREDICTORS, "F"]].astype(float), "F", features=list(PREDICTORS), seed=0, budget=budget,
                     operators="add,sub,mul,div,sqrt", restarts=1, transforms=False)  # fmt: skip
    best = found.best
    return pd.DataFrame([{"expression": str(best.expr), "complexity": best.complexity, "train_mse": best.loss,
                          "heldout_r2": best.heldout_r2}])  # fmt: skip


def run_study(
    plan: Plan = QUICK,
    *,
    cache: str | Path | None = None,
    scheduler: str = "serial",
    workers: int | None = None,
    progress: bool = True,
) -> StudyResult:
    """Train the models, take their spectra against the controls, and test deviation against forgetting."""
    runner = Runner(cache, scheduler, workers, progress)
    with runner.timed("training"):
        models, layers = _models(plan, runner)
    with runner.timed("spectra and deviations"):
        spectra, ks = _spectra(plan, layers)
        k = max(ks)  # one k* for every layer: the largest, so that no layer's subspace is cut short
        models["dev"] = loo_deviation(layers, k)
        models["dev_mean_only"] = loo_deviation(layers, 0)
        models["dev_random"] = loo_deviation(layers, k, basis="random", rng=np.random.default_rng(1))
    with runner.timed("fits and discovery"):
        fits = _fits(plan, models)
        discovery = _discovery(plan, models)
    return StudyResult(plan, models, spectra, fits, discovery, k, runner.seconds, runner.cost_note())


def _spectrum_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    with _style() as plt:
        fig, axes = plt.subplots(1, len(result.spectra), figsize=(5.0 * len(result.spectra), 3.8))
        axes = np.atleast_1d(axes)
        for ax, (name, table) in zip(axes, result.spectra.items(), strict=True):
            ax.plot(table.component, table.cumulative, "o-", ms=3, label="trained models")
            ax.plot(table.component, table.null_cumulative, "s--", ms=3, label="Gaussian null (same shape)")
            ax.plot(table.component, table.uniform_cumulative, "k:", lw=1, label="k/(N − 1)")
            ax.axhline(result.plan.share, color="grey", lw=0.8)
            ax.set_title(f"{name}: cumulative variance share")
            ax.set_xlabel("components k")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        return _png(fig, plt)


def _deviation_png(result: StudyResult) -> bytes:
    from verify.figures import _png, _style

    models, fits = result.models, result.fits.set_index("predictor")
    with _style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
        for ax, predictor in zip(axes, ("dev", "lazy"), strict=True):
            x = models[predictor].to_numpy()
            ax.scatter(x, models.F, s=10, c=models.s, cmap="viridis")
            grid = np.linspace(x.min(), x.max(), 100)
            a, b, c = fits.loc[predictor, ["a", "b", "c"]]
            ax.plot(grid, a * grid**b + c, "k--", lw=1,
                    label=f"{a:.3g}·x^{b:.2f} + {c:.2g}, held-out R² {fits.loc[predictor, 'heldout_r2']:.2f}")  # fmt: skip
            ax.set_xlabel("deviation ‖W⊥‖/‖W‖ (leave-one-out)" if predictor == "dev" else "lazy law")
            ax.set_ylabel("forgetting F")
            ax.legend(fontsize=7)
        fig.tight_layout()
        return _png(fig, plt)


def render_page(result: StudyResult, figures: Sequence[tuple[str, str]]) -> str:
    """The study's markdown page; every number comes from ``result``."""
    plan, k = result.plan, result.k
    fits = result.fits.set_index("predictor")
    lines = [
        "# Study: the universal subspace and forgetting",
        "",
        f"Plan `{plan.name}`: {plan.n_models} two-layer {plan.activation} networks {plan.n_in} → {plan.width} → 1 "
        f"(μP, γ0 = {plan.gamma0:g}), one shared initialisation, each trained {plan.steps} steps on its own linear "
        f"teacher ({plan.items} items), then on a second teacher at cosine s ∈ {list(plan.similarities)} (cycled "
        f"over the models), the tasks' inputs in subspaces at similarity ρ = {plan.input_similarity}. The models "
        "are the weights after the first task.",
        "",
        "Cost on this machine: "
        + "; ".join(f"{n} {v:.0f} s" for n, v in result.seconds.items())
        + f"; {sum(result.seconds.values()):.0f} s in all; {result.cost_note}.",
        "",
        "## Spectrum against its controls",
        "",
    ]
    for name, table in result.spectra.items():
        kk = top_k(table.share.to_numpy(), plan.share)
        lines.append(
            f"- **{name}** ({plan.n_models} models): k* = {kk} components hold {plan.share:.0%} of the centred "
            f"variance; the top {kk} hold {table.cumulative.iloc[kk - 1]:.3f} of the trained models' variance, "
            f"{table.null_cumulative.iloc[kk - 1]:.3f} of a Gaussian null's of the same shape ({plan.null_draws} "
            f"draws) and k/(N − 1) = {kk / (plan.n_models - 1):.3f}; top component alone: "
            f"{table.share.iloc[0]:.3f} against {table.null_share.iloc[0]:.3f}."
        )
    W1 = result.spectra.get("W1")
    if W1 is not None and len(W1) >= plan.n_in:
        lines.append(
            f"- The first layer's top {plan.n_in} components (n_in, the teachers' input dimension) hold "
            f"{W1.cumulative.iloc[plan.n_in - 1]:.3f} of its variance (null: {W1.null_cumulative.iloc[plan.n_in - 1]:.3f}). "
            "From one shared initialisation, a first-layer gradient W2ᵀEXᵀ varies between tasks mostly through an "
            "n_in-dimensional factor, so a low-dimensional common subspace is expected here without any "
            "universality: a reading to test, not a law."
        )
    lines += [
        "",
        f"Deviations use k* = {k} (the largest over the layers), leave-one-out.",
        "",
        "## Does deviation predict forgetting?",
        "",
        "F ≈ a·x^b + c fitted on two-thirds of the models (seeded) and scored on the rest, for the deviation from "
        f"the fitted subspace and for the controls: the mean alone (k = 0), a random {k}-dimensional subspace, "
        "and the two laws lawbook computes per run: the minimum-norm linear learner's forgetting (`law`) and the "
        "student's lazy limit (`lazy`).",
        "",
        *md_table(result.fits),
        "",
    ]
    dev, law = fits.loc["dev", "heldout_r2"], max(fits.loc["law", "heldout_r2"], fits.loc["lazy", "heldout_r2"])
    best_control = max(fits.loc[p, "heldout_r2"] for p in ("dev_mean_only", "dev_random"))
    if dev < USEFUL_R2:
        verdict = (
            f"The deviation does not predict forgetting on held-out models (R² below {USEFUL_R2}); the "
            "hypothesis F ≈ a·dev^b + c is refuted here"
        )
    elif dev > best_control + 0.05:
        verdict = "The fitted subspace's deviation predicts forgetting, and better than its controls"
    else:
        verdict = "The deviation predicts forgetting no better than its controls (within 0.05 in R²)"
    lines.append(
        f"Held-out R²: deviation {dev:.3f}, best geometric control {best_control:.3f}, best law {law:.3f}. {verdict}"
        + (f"; the laws of forgetting do ({law:.3f})." if law >= USEFUL_R2 and law > dev else ".")
    )
    disc = result.discovery.iloc[0]
    lines += [
        "",
        f"Symbolic regression of F from (deviation, mean-only deviation, random-subspace deviation, linear law, "
        f"lazy law): "
        f"`{disc.expression}` (complexity {disc.complexity}), held-out R² {disc.heldout_r2:.3f}.",
        "",
    ]
    lines += figure_lines(figures)
    return "\n".join(lines)


def write_study(result: StudyResult, out: Path, *, force: bool = False) -> Path:
    """Publish the page and its figures into ``out`` with the same safety rules as `lawbook report`."""
    figures = [
        ("Cumulative variance share of the centred models per layer, against a Gaussian null of the same shape",
         "subspace_spectrum.png", lambda: _spectrum_png(result)),
        ("Forgetting against the leave-one-out deviation and against the lazy law, with the fitted power "
         "law (colour: the second task's cosine)", "subspace_deviation.png", lambda: _deviation_png(result)),
    ]  # fmt: skip
    return publish_study(
        out, OWNER, PAGE, lambda pairs: render_page(result, pairs), figures, result.plan.name, force=force
    )


def summary_line(result: StudyResult) -> str:
    """What `lawbook study subspace` prints when done."""
    fits = result.fits.set_index("predictor")
    return (
        f"deviation held-out R² {fits.loc['dev', 'heldout_r2']:.3f} against the lazy law's "
        f"{fits.loc['lazy', 'heldout_r2']:.3f}"
    )
