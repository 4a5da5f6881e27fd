"""Named discovery problems: a simulation recipe, the features and target it yields, and the law it should give.

Each `Problem` turns `simulate` runs into a (features → target) table with a fixed seed, names the backend
options that suit it, and carries its reference expression (from `theory`, in symbols named like the columns).
Whether a front contains the reference is decided in `verify.rediscovery`, never here.

Rates are measured, not assumed, with GD as close to gradient flow as each recipe needs:

- right-hand sides use the flow velocity at the simulated states (`Trajectory.mode_velocities`), which has no
  O(η) finite-difference bias;
- trajectories u(t) use Richardson extrapolation 2·u_GD(η/2) − u_GD(η), which removes the O(η) term (LAWS.md §0);
- forgetting uses losses after convergence, where the law is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp

__all__ = ["PROBLEMS", "Problem", "get_problem"]


@dataclass(frozen=True)
class Problem:
    """A discovery problem. ``make_data(seed)`` returns the table; ``reference`` is the law's expression in the
    feature symbols; ``options[backend]`` are the settings that suit this problem for that backend."""

    name: str
    law: str
    target: str
    features: tuple[str, ...]
    reference: sp.Expr
    make_data: Callable[[int], pd.DataFrame]
    options: Mapping[str, Mapping[str, Any]]
    description: str
    slow: bool = False
    sampler: Callable[[np.random.Generator, int], dict[str, np.ndarray]] | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(self.options)

    def data(self, seed: int = 0) -> pd.DataFrame:
        """The problem's table for ``seed`` (computed once per seed)."""
        if seed not in self._cache:
            frame = self.make_data(seed)
            missing = [c for c in (*self.features, self.target) if c not in frame.columns]
            if missing:
                raise RuntimeError(f"problem {self.name!r}: data recipe produced no column {missing}")
            self._cache[seed] = frame[[*self.features, self.target]].reset_index(drop=True)
        return self._cache[seed]

    def domain(self, seed: int = 0) -> Any:
        """Where a candidate must match the reference: the problem's ``sampler`` of the data's distribution when
        the data do not fill a box (``sampler(rng, n) -> {feature: n values}``), else the box the data span."""
        if self.sampler is not None:
            return self.sampler
        frame = self.data(seed)
        return {f: (float(frame[f].min()), float(frame[f].max())) for f in self.features}

    def run(self, backend: str | None = None, *, seed: int = 0, budget: Any = None, progress: Any = None) -> Any:
        """Run discovery on this problem's data with its options for ``backend`` (default: its first).

        ``progress`` is passed to `discover.discover` (a callable taking a `discover.ProgressEvent`, or None)."""
        from discover.discovery import discover

        backend = backend or self.backends[0]
        if backend == "pysr" and "pysr" not in self.options:
            options = _pysr_options(self.options.get("operon", {}))
        elif backend in self.options:
            options = dict(self.options[backend])
        else:
            raise ValueError(
                f"problem {self.name!r} has no settings for backend {backend!r}; use one of {(*self.backends, 'pysr')}"
            )
        return discover(
            self.data(seed),
            self.target,
            features=list(self.features),
            backend=backend,
            seed=seed,
            budget=budget,
            progress=progress,
            **options,
        )


def _pysr_options(operon: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a problem stated for Operon, for PySR: the same discover() options, with a fixed Operon
    grammar (``allowed_symbols``) turned into PySR's operator lists.

    >>> _pysr_options({"allowed_symbols": "add,mul,exp,constant,variable", "time": "t"})
    {'time': 't', 'binary_operators': ['+', '*'], 'unary_operators': ['exp']}
    """
    from discover.backends.pysr import pysr_operators

    options = {k: v for k, v in operon.items() if k != "allowed_symbols"}
    if "allowed_symbols" in operon:
        symbols = operon["allowed_symbols"]
        names = symbols.split(",") if isinstance(symbols, str) else list(symbols)
        options.update(pysr_operators([n for n in names if n not in ("constant", "variable")]))
    return options


def _plain(expr: sp.Expr, **values: int) -> sp.Expr:
    """The law's expression with parameters fixed (e.g. tau = 1) and plain real symbols named as before."""
    expr = expr.subs({s: values[s.name] for s in expr.free_symbols if s.name in values})
    return expr.xreplace({s: sp.Symbol(s.name, real=True) for s in expr.free_symbols})


def _subsample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=n, replace=False))
    return frame.iloc[rows]


# -- logistic mode ------------------------------------------------------------------------------------------

_MODE_S = (3.0, 2.0, 1.0, 0.5)


def _mode_runs(depth: int, seed: int, eta: float, horizon: float, u0s: tuple[float, ...]) -> pd.DataFrame:
    from simulate import DeepLinear, balanced_deep_init, decoupled_init, prescribed_task, train

    r = len(_MODE_S)
    task = prescribed_task(list(_MODE_S), Ni=r, No=r, seed=seed)
    frames = []
    for k, u0 in enumerate(u0s):
        if depth == 2:
            W = decoupled_init(task, Nh=r, u0=u0, seed=seed + k)
        else:
            W = balanced_deep_init((r,) * (depth + 1), u0, seed=seed + k, task=task)
        times = np.arange(0, round(horizon / eta) + 1, round(0.05 / eta)) * eta
        frame = train(DeepLinear((r,) * (depth + 1)), W, task, eta=eta, times=times).mode_frame()
        frames.append(frame.assign(run=k))
    return pd.concat(frames, ignore_index=True)


def _logistic_rhs_data(seed: int) -> pd.DataFrame:
    frame = _mode_runs(2, seed, eta=0.01, horizon=8.0, u0s=(1e-3, 3e-2))
    # drop the plateau (u within 1e-3 of s): those rows carry no information about the rate
    frame = frame[np.abs(frame.s - frame.u) > 1e-3 * frame.s]
    return _subsample(frame, 300, seed)


def _lambda_rhs_data(seed: int) -> pd.DataFrame:
    """(u, s, lam) → du_dt for λ-balanced scalar modes: 3 decoupled two-layer networks of 8 modes each, s ~ U(0.5, 2),
    λ = b² − a² ~ U(−3, 3) per mode, u0 ~ U(0.01, 0.3)·s, GD at η = 0.01 to t = 6. The flow velocity at each GD state
    (`Trajectory.mode_velocities`) is the target, and λ is measured at that state (‖W2ᵀũ‖² − ‖W1ṽ‖²): GD drifts
    it by O(η²) per step (LAWS.md §8), so the row's own λ is the one the law applies to. Plateau rows (|s − u| <
    1e-3·s) are dropped; 300 rows are kept."""
    from simulate import DeepLinear, decoupled_init, prescribed_task, train

    rng = np.random.default_rng(seed)
    r, eta = 8, 0.01
    frames = []
    for k in range(3):
        s = np.sort(rng.uniform(0.5, 2.0, r))[::-1]
        lam = rng.uniform(-3.0, 3.0, r)
        u0 = rng.uniform(0.01, 0.3, r) * s
        task = prescribed_task(list(s), Ni=r, No=r, seed=seed + k)
        W = decoupled_init(task, Nh=r, u0=list(u0), imbalance=list(-lam), seed=seed + k)  # its imbalance is a² − b²
        times = np.arange(0, round(6.0 / eta) + 1, round(0.05 / eta)) * eta
        traj = train(DeepLinear((r, r, r)), W, task, eta=eta, times=times)
        U, _, V = task.svd()
        a2 = np.einsum("tbia->tba", np.einsum("tbij,ja->tbia", traj.weights[0], V) ** 2)
        b2 = np.einsum("tbja->tba", np.einsum("tbij,ia->tbja", traj.weights[1], U) ** 2)
        u = traj.mode_strengths()[:, 0]
        frames.append(
            pd.DataFrame(
                {
                    "u": u.ravel(),
                    "s": np.broadcast_to(s, u.shape).ravel(),
                    "lam": (b2 - a2)[:, 0].ravel(),
                    "du_dt": traj.mode_velocities()[:, 0].ravel(),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[np.abs(frame.s - frame.u) > 1e-3 * frame.s]
    return _subsample(frame, 300, seed)


def _depth3_rhs_data(seed: int) -> pd.DataFrame:
    frame = _mode_runs(3, seed, eta=0.01, horizon=12.0, u0s=(3e-2, 1e-1))
    frame = frame[np.abs(frame.s - frame.u) > 1e-3 * frame.s]
    return _subsample(frame, 300, seed)


def _logistic_solution_data(seed: int) -> pd.DataFrame:
    """u(t) for 24 modes with s ~ U(1, 3) and u0 log-uniform in [1e-3, 0.8·s], trained as one decoupled
    network (the modes are independent), by Richardson-extrapolated GD: 2·u(η/2) − u(η) cancels the O(η)
    error (LAWS.md §0), leaving O(η²). At η = 1e-3 that left the law's MSE at 0.5–3.5× the float32 loss floor
    (seeds 0–9), so no fit could be told from the law; at η = 5e-4 it is 1/16 of that (measured: ≤ 0.22× the floor,
    the error being O(η²) and the MSE its square). Each mode contributes rows up to twice its
    half-learning time (τ/2s) ln(s/u0), past which u sits on its plateau and says nothing about the law."""
    from simulate import DeepLinear, decoupled_init, prescribed_task, train

    rng = np.random.default_rng(seed)
    r = 24
    s = np.sort(rng.uniform(1.0, 3.0, r))[::-1]
    u0 = 10 ** rng.uniform(-3, np.log10(0.8 * s))
    horizon = 2 * np.log(s / u0) / s  # twice the half-learning time (τ = 1)
    task = prescribed_task(list(s), Ni=r, No=r, seed=seed)
    times = np.arange(0, round(float(horizon.max()) / 0.05) + 1) * 0.05
    runs = []
    for eta in (1e-3, 5e-4):
        W = decoupled_init(task, Nh=r, u0=u0, seed=seed)
        runs.append(train(DeepLinear((r, r, r)), W, task, eta=eta, times=times).mode_frame())
    frame = runs[1].copy()
    frame["u"] = 2 * runs[1].u.to_numpy() - runs[0].u.to_numpy()
    frame = frame[frame.t.to_numpy() <= horizon[frame["mode"].to_numpy()]]
    return _subsample(frame, 400, seed)


# -- forgetting -----------------------------------------------------------------------------------------------


def _forgetting_data(seed: int) -> pd.DataFrame:
    """L_i(T_j) for every pair (i, j) of 4 sequentially trained tasks, from 4 runs with different similarity
    and noise. Converged: η = 0.05 for 200τ per task; prescribed singular values ≥ 0.5 make every mode learned
    by ≈ (1/2·0.5) ln(0.5/1e-3) ≈ 6τ and converged to e^{−190} by the end of the phase."""
    from simulate import DeepLinear, Task, train_sequence, whiten, zero_balanced_init
    from theory.forgetting import task_distance

    rng = np.random.default_rng(seed)
    Ni, No, P = 4, 3, 24
    rows = []
    for run in range(4):
        X = whiten(rng.normal(size=(Ni, P)))
        tasks = []
        for _ in range(4):
            U = np.linalg.qr(rng.normal(size=(No, No)))[0]
            V = np.linalg.qr(rng.normal(size=(Ni, No)))[0]
            sigma = U @ np.diag(rng.uniform(0.5, 2.0, No)) @ V.T
            noise = rng.uniform(0.0, 1.0) * rng.normal(size=(No, P))
            noise -= noise @ X.T @ X / P  # keep Σyx exactly as prescribed: noise orthogonal to the inputs
            tasks.append(Task(X, sigma @ X + noise))
        W0 = zero_balanced_init(Ni, 6, No, 1e-3, seed=seed + run)
        result = train_sequence(DeepLinear((Ni, 6, No)), W0, tasks, eta=0.05, duration=200.0, n_records=2)
        final = result.final_losses()[:, :, 0]
        for j, tj in enumerate(tasks):
            for i, ti in enumerate(tasks):
                rows.append(
                    {"d": task_distance(ti.sigma_yx, tj.sigma_yx), "c": ti.irreducible_loss(), "L": final[j, i]}
                )
    return pd.DataFrame(rows)


# -- coupling peak time ----------------------------------------------------------------------------------------


def _peak_domain(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """n draws of (s, a1, a2, b0): s ~ U(0.5, 3), a_i/s log-uniform in [1e-3, 0.4] kept when a1 + a2 < 0.9·s,
    b0 = ρ√(a1a2) with ρ ~ U(−0.9, 0.9) (M0 positive definite). Not a box, so equivalence samples from here."""
    out: dict[str, list[float]] = {"s": [], "a1": [], "a2": [], "b0": []}
    while len(out["s"]) < n:
        s = float(rng.uniform(0.5, 3.0))
        a1, a2 = s * 10 ** rng.uniform(-3, np.log10(0.4), 2)
        if a1 + a2 >= 0.9 * s:
            continue
        for key, value in zip(out, (s, a1, a2, float(rng.uniform(-0.9, 0.9) * np.sqrt(a1 * a2))), strict=True):
            out[key].append(value)
    return {k: np.array(v) for k, v in out.items()}


def _peak_time_data(seed: int) -> pd.DataFrame:
    """t_peak of the coupling b(t) = M12(t) for 300 random 2×2 initialisations M0 = [[a1, b0], [b0, a2]]
    (`_peak_domain`) with equal singular values s (τ = 1), located on the exact solution by
    `theory.decoupling.located_peak_time` (grid, then Brent's root of db/dt) — not from the peak-time formula."""
    from theory.decoupling import located_peak_time

    draws = _peak_domain(np.random.default_rng(seed), 300)
    frame = pd.DataFrame(draws)
    frame["t_peak"] = [located_peak_time(*row) for row in frame[["s", "a1", "a2", "b0"]].itertuples(index=False)]
    return frame


# -- layer balance --------------------------------------------------------------------------------------------


def _balance_data(seed: int) -> pd.DataFrame:
    """States (a, b) of unbalanced scalar modes along gradient-flow trajectories, with a0² − b0² as target.

    GD changes a² − b² by η²(b² − a²)(s − ab)² per step (LAWS.md §8), i.e. by ≈ η·s²·|δ| over the learning
    phase: 4e-3 relative at η = 1e-3, enough to pull fitted constants off 1. The states are therefore
    Richardson-extrapolated, 2·x(η/2) − x(η) with η = 5e-4, which cancels the O(η) drift and leaves O(η²):
    measured 7e-7 relative at η = 1e-3, so ≈ 2e-7 here, at the float32 precision of the search."""
    from simulate import DeepLinear, decoupled_init, prescribed_task, train

    rng = np.random.default_rng(seed)
    frames = []
    for k in range(8):
        s = float(rng.uniform(0.5, 2.0))
        task = prescribed_task([s], Ni=1, No=1, seed=seed + k)
        delta = float(rng.uniform(-1.0, 1.0))
        W = decoupled_init(task, Nh=1, u0=float(rng.uniform(0.05, 0.5)), imbalance=delta, seed=seed)
        states = []
        for eta in (5e-4, 2.5e-4):
            traj = train(DeepLinear((1, 1, 1)), W, task, eta=eta, times=np.arange(0, 41) * 0.1)
            states.append(np.abs(np.stack([traj.weights[0][:, 0, 0, 0], traj.weights[1][:, 0, 0, 0]])))
        a, b = 2 * states[1] - states[0]
        frames.append(pd.DataFrame({"a": a, "b": b, "q": a[0] ** 2 - b[0] ** 2}))
    return pd.concat(frames, ignore_index=True)


# -- forgetting of an overparameterised learner ----------------------------------------------------------------


def _overparameterized_data(seed: int) -> pd.DataFrame:
    """Mean forgetting F of a minimum-norm linear learner after two tasks (theory.overparameterized) over a sweep
    of r = n/p (p = 50, n = 5 … 45) and teacher cosine s ∈ [−1, 1] (9 values): 81 cells of
    `simulate.experiments.OverparameterizedExperiment`, each a Monte Carlo mean to a standard error ≈ 0.01 (the
    per-draw σ ranges from 0.02 to 0.4 over the grid, so equal draw counts would make the noise 20× larger in one
    corner than another; discover()'s floor assumes one noise variance). The law is the noise-free expectation
    r(1 − 2s + r)."""
    from simulate import grid, sweep
    from simulate.experiments import OverparameterizedExperiment

    configs = grid(n=list(range(5, 50, 5)), p=[50], similarity=[float(v) for v in np.linspace(-1.0, 1.0, 9)])
    experiment = OverparameterizedExperiment(pilot=_PILOT, target_se=_TARGET_SE)
    table = sweep(experiment, configs, [seed], progress=False)
    return table[["r", "similarity", "F"]].rename(columns={"similarity": "s"})


_PILOT = 64
_TARGET_SE = 0.01


# -- diagonal network: the mirror map of Q_α ------------------------------------------------------------------


def _diagonal_mirror_data(seed: int) -> pd.DataFrame:
    """(zeta → z) along gradient-flow trajectories of diagonal networks w = u⊙u − v⊙v (`simulate.flow_diagonal`,
    DOP853 at relative tolerance 1e-12): for α = 0.03, 0.1, 0.3, 1, 3, a random 6 × 12 Gaussian problem with a
    3-sparse teacher each, read at 30 times from 0.01 to 200 (log-spaced), one row per coordinate and time:
    zeta = ln(u_i/v_i) and z = w_i/α². The law's implicit bias is the statement that zeta = q′(z) = asinh(z/2) (the
    mirror map of Q_α, in X's row space at convergence); the search is for its inverse z(zeta), which has no
    asinh. Rows with |zeta| > 3.5 are dropped (there z ≳ 33 and the table would be dominated by a few rows of the
    smallest α); 300 are kept. The identity holds along the flow to ≈ 6e-12 (measured), the integrator's accuracy."""
    from simulate.diagonal import flow_diagonal

    rng = np.random.default_rng(seed)
    frames = []
    for alpha in (0.03, 0.1, 0.3, 1.0, 3.0):
        X = rng.normal(size=(6, 12))
        teacher = np.zeros(12)
        teacher[:3] = 3.0 * rng.normal(size=3)
        times = np.concatenate([[0.0], np.geomspace(1e-2, 200.0, 30)])
        u, v = flow_diagonal(X, X @ teacher, alpha, times)
        frames.append(
            pd.DataFrame({"zeta": np.log(u[1:] / v[1:]).ravel(), "z": ((u[1:] ** 2 - v[1:] ** 2) / alpha**2).ravel()})
        )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[np.abs(frame.zeta) <= 3.5]
    return _subsample(frame, 300, seed)


# -- registry -------------------------------------------------------------------------------------------------


def _problems() -> dict[str, Problem]:
    from theory import get_law
    from theory.modes import depth_mode

    logistic = get_law("logistic_mode")
    d, c, a, b, r_, s_ = (sp.Symbol(n, real=True) for n in ("d", "c", "a", "b", "r", "s"))
    # Operon runs with discover()'s defaults (operator escalation, transforms, restarts): a problem says what its
    # data are (a time column for trajectories), never which operators the answer needs.
    defaults: dict[str, Any] = {}
    problems = [
        Problem(
            name="logistic_mode_rhs",
            law="logistic_mode",
            target="du_dt",
            features=("u", "s"),
            reference=_plain(logistic.targets["rhs"], tau=1),
            make_data=_logistic_rhs_data,
            options={"operon": defaults, "sindy": {"library": ("poly", 2)}},
            description="τ du/dt as a function of (u, s) from decoupled balanced two-layer networks (τ = 1)",
        ),
        Problem(
            name="logistic_mode_solution",
            law="logistic_mode",
            target="u",
            features=("t", "s", "u0"),
            reference=_plain(logistic.targets["solution"], tau=1),
            make_data=_logistic_solution_data,
            options={"operon": {"time": "t"}},
            description=(
                "u(t) from (t, s, u0), Richardson-extrapolated GD on decoupled modes (τ = 1), as trajectories "
                "(time column t): the ODE route finds du/dt by sparse regression and its solution by dsolve"
            ),
            slow=True,
        ),
        Problem(
            name="lambda_mode_rhs",
            law="lambda_mode",
            target="du_dt",
            features=("u", "s", "lam"),
            reference=_plain(get_law("lambda_mode").targets["rhs"], tau=1),
            make_data=_lambda_rhs_data,
            options={"operon": defaults},
            description="τ du/dt = √(λ² + 4u²)(s − u) from (u, s, λ) on λ-balanced decoupled two-layer networks (τ = 1)",
            slow=True,  # Budget.quick() at seed 0 finds it in 61 s (one core): over the 60 s of a fast test
        ),
        Problem(
            name="depth3_mode_rhs",
            law="depth_mode",
            target="du_dt",
            features=("u", "s"),
            reference=_plain(depth_mode.targets["rhs"].subs(depth_mode.symbols["N"], 3), tau=1),
            make_data=_depth3_rhs_data,
            options={
                "operon": defaults,
                # a generic library of cube-root powers u^{k/3} and s·u^{k/3}, k = 0..7 — not only the answer
                "sindy": {"library": tuple(f"u**({k}/3)" for k in range(8)) + tuple(f"s*u**({k}/3)" for k in range(8))},
            },
            description="τ du/dt for the balanced depth-3 mode, whose right-hand side has the power u^{4/3}",
            slow=True,
        ),
        Problem(
            name="forgetting_task_distance",
            law="forgetting_task_distance",
            target="L",
            features=("d", "c"),
            reference=d**2 / 2 + c,
            make_data=_forgetting_data,
            options={"operon": defaults, "sindy": {"library": ("poly", 2)}},
            description="loss of task i after converging on task j from the task distance d and the irreducible loss c",
        ),
        Problem(
            name="coupling_peak_time",
            law="coupling_peak_time",
            target="t_peak",
            features=("s", "a1", "a2", "b0"),
            reference=_plain(get_law("coupling_peak_time").equation.rhs, tau=1),
            make_data=_peak_time_data,
            options={"operon": defaults},
            description=(
                "time of the peak of the 2×2 coupling b(t) from (s, a1, a2, b0), exact solution (τ = 1): the "
                "transform exp(4·s·t_peak) (k = 4 fitted) makes it a ratio of quadratics, found by sparse rational "
                "regression and mapped back exactly"
            ),
            slow=True,
            sampler=_peak_domain,
        ),
        Problem(
            name="overparameterized_forgetting",
            law="overparameterized_two_task_forgetting",
            target="F",
            features=("r", "s"),
            reference=r_ * (1 - 2 * s_ + r_),
            make_data=_overparameterized_data,
            options={"operon": defaults, "sindy": {"library": ("poly", 2)}},
            description=(
                "mean forgetting of a minimum-norm linear learner after two tasks, from r = n/p and the teachers' "
                "cosine s (Monte Carlo means to a standard error of ≈ 0.01 per cell: noisy)"
            ),
        ),
        Problem(
            name="diagonal_mirror_map",
            law="diagonal_implicit_bias",
            target="z",
            features=("zeta",),
            reference=2 * sp.sinh(sp.Symbol("zeta", real=True)),  # the inverse of q′(z) = asinh(z/2); tested
            make_data=_diagonal_mirror_data,
            options={"operon": defaults},
            description=(
                "the diagonal network's mirror map: z = w/α² from zeta = ln(u/v) along gradient flow; the law says "
                "zeta = q′(z) = asinh(z/2), so z = 2·sinh(zeta), and q follows by integration"
            ),
        ),
        Problem(
            name="balance_conservation",
            law="layer_balance",
            target="q",
            features=("a", "b"),
            reference=a**2 - b**2,
            make_data=_balance_data,
            options={"operon": defaults, "sindy": {"library": ("poly", 2)}},
            description="the state function of (a, b) that keeps its initial value along the flow: a² − b²",
            slow=True,
        ),
    ]
    return {p.name: p for p in problems}


PROBLEMS: Mapping[str, Problem] = MappingProxyType(_problems())


def get_problem(name: str) -> Problem:
    """The problem registered under ``name``; an unknown name raises KeyError listing the known ones.

    >>> get_problem("logistic_mode_rhs").reference
    2*u*(s - u)
    """
    try:
        return PROBLEMS[name]
    except KeyError:
        raise KeyError(f"unknown discovery problem {name!r}; known: {', '.join(PROBLEMS)}") from None
