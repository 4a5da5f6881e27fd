"""Tests of `discover`'s progress reports: what events come, in which order, throttled, and that reporting
changes nothing about the result. The data are the logistic mode law's right-hand side, du/dt = 2u(s − u)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import sympy as sp

import discover
from discover import PROGRESS_INTERVAL, Budget, Discovery, ProgressEvent, Reporter
from discover.backends import get_backend

# Every seed in 0..7 finds the law at Budget.quick() (tests/test_discover_backends.py); any seed will do here.
SEED = 3


def logistic_table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"u": rng.uniform(0.05, 2.0, rows), "s": rng.uniform(0.5, 3.0, rows)})
    # Noise 1e-6: an order above float32 resolution of a target of size ~1, so the data are not exact.
    table["du"] = 2 * table.u * (table.s - table.u) + 1e-6 * rng.standard_normal(rows)
    return table


def fingerprint(d: Discovery) -> list[tuple[str, str, int, float]]:
    return [(sp.srepr(c.expr), sp.srepr(c.raw), c.complexity, c.loss) for c in d.pareto]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return logistic_table()


@pytest.fixture(scope="module")
def operon_with_and_without_progress(table: pd.DataFrame) -> tuple[Discovery, Discovery, list[ProgressEvent]]:
    # One Operon search (a fixed operator set, one seed): the rational route would find this law without one.
    fixed = {"operators": "add,sub,mul,div", "restarts": 1}
    events: list[ProgressEvent] = []
    loud = discover.discover(table, "du", seed=SEED, budget=Budget.quick(), progress=events.append, **fixed)
    quiet = discover.discover(table, "du", seed=SEED, budget=Budget.quick(), **fixed)
    return loud, quiet, events


def test_operon_front_is_the_same_with_and_without_progress(operon_with_and_without_progress) -> None:
    loud, quiet, _ = operon_with_and_without_progress
    # The reporting run goes through Operon's per-generation callback; the quiet one through pyoperon's own fit.
    assert fingerprint(loud) == fingerprint(quiet)


def test_operon_reports_stages_in_order_and_generations_to_the_last(operon_with_and_without_progress) -> None:
    loud, _, events = operon_with_and_without_progress
    stages = [e.stage for e in events]
    assert stages[0] == "start" and stages[-1] == "done"
    # Stages come in blocks, in the order start, search, snap, done.
    assert [stage for stage, _ in itertools.groupby(stages)] == ["start", "search", "snap", "done"]
    search = [e for e in events if e.stage == "search"]
    generations = Budget.quick().generations
    assert all(e.backend == "operon" and e.steps == generations for e in search)
    steps = [e.step for e in search]
    # Generation 0 and the last generation come from inside Operon's run: only its callback can report them.
    assert steps[0] == 0 and steps[-1] == generations and steps == sorted(set(steps))
    assert all(a.elapsed <= b.elapsed for a, b in itertools.pairwise(events))
    # Throttled: within the search, consecutive events (but the last) are at least the interval apart.
    gaps = [b.elapsed - a.elapsed for a, b in itertools.pairwise(search[:-1])]
    assert all(gap >= PROGRESS_INTERVAL for gap in gaps), gaps
    snap = [e for e in events if e.stage == "snap"]
    assert snap[-1].step == snap[-1].steps
    assert events[-1].best_loss == loud.pareto[-1].loss


def test_operon_search_reports_its_best_loss_from_r2(operon_with_and_without_progress, table: pd.DataFrame) -> None:
    _, _, events = operon_with_and_without_progress
    search = [e for e in events if e.stage == "search"]
    first, last = search[0].best_loss, search[-1].best_loss
    assert first is not None and last is not None
    variance = float(np.var(table.du))
    # Generation 0 is random trees: their best MSE is a sizable part of var(y), far from the law's noise level.
    assert first > 1e-3 * variance
    # The law is found by the last generation: its MSE is (1 − R²)·var(y) with R² in float32, so it is zero up
    # to a few float32 ulps of R² (FLOAT32_ULPS = 8 units of 2⁻²³, as in discover.snapping.loss_floor).
    assert last <= 8 * 2.0**-23 * variance


def test_operon_calls_back_every_generation_when_not_throttled(table: pd.DataFrame) -> None:
    engine = get_backend("operon")
    settings = engine.settings(seed=0, budget=Budget(generations=7, population_size=50, max_length=10))
    events: list[ProgressEvent] = []
    X, y = table[["u", "s"]].to_numpy(), table.du.to_numpy()
    engine.fit(X, y, ["u", "s"], settings, progress=Reporter(events.append, backend="operon", interval=0.0))
    # fit runs with the settings it is given (7 generations), reporting generations 0 … 7 once each.
    assert [e.step for e in events] == list(range(8))


def test_sindy_reports_each_threshold_and_the_same_front(table: pd.DataFrame) -> None:
    events: list[ProgressEvent] = []
    loud = discover.discover(table, "du", backend="sindy", library=("poly", 2), progress=events.append)
    quiet = discover.discover(table, "du", backend="sindy", library=("poly", 2))
    assert fingerprint(loud) == fingerprint(quiet)
    search = [e for e in events if e.stage == "search"]
    thresholds = loud.settings["backend"]["n_thresholds"] + 1  # the geometric sweep plus threshold 0
    assert search[0].step == 1 and search[-1].step == search[-1].steps == thresholds
    # The engine's best loss is that of a least-squares fit on its support; snapping may raise it, by at most
    # the factor rel_factor (1.05) plus the float32 floor (discover.snapping), and the front keeps the lowest.
    engine_best, front_best = search[-1].best_loss, loud.pareto[-1].loss
    assert engine_best <= front_best * (1 + 1e-9) <= (1.05 * engine_best + loud.loss_floor) * (1 + 1e-9)


def test_library_calls_are_quiet_without_progress(table: pd.DataFrame, capfd: pytest.CaptureFixture[str]) -> None:
    discover.discover(table, "du", backend="sindy", library=("poly", 2))
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert not Reporter(None, backend="sindy").active


def test_progress_must_be_callable(table: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="progress must be a callable"):
        discover.discover(table, "du", backend="sindy", progress="stderr")


def test_progress_event_validates_and_renders_one_line() -> None:
    event = ProgressEvent("sindy", "search", step=3, steps=41, best_loss=2.5e-3, elapsed=0.25, detail="6 terms")
    assert str(event) == "sindy search: 3/41, 6 terms, best loss 0.0025, 0.2 s"
    with pytest.raises(ValueError, match="stage"):
        ProgressEvent("sindy", "fitting", None, None, None, 0.0)
    with pytest.raises(ValueError, match="both"):
        ProgressEvent("sindy", "snap", 1, None, None, 0.0)
    with pytest.raises(ValueError, match="elapsed"):
        ProgressEvent("sindy", "done", None, None, None, -1.0)
    with pytest.raises(ValueError, match="interval"):
        Reporter(print, backend="sindy", interval=-1.0)


def test_a_problem_passes_progress_on() -> None:
    from discover.problems import get_problem

    events: list[ProgressEvent] = []
    found = get_problem("forgetting_task_distance").run("sindy", seed=0, budget=Budget.quick(), progress=events.append)
    assert events[0].stage == "start" and events[-1].stage == "done"
    assert events[-1].best_loss == found.pareto[-1].loss


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_an_exception_in_the_progress_callback_stops_the_search_and_reaches_the_caller(
    table: pd.DataFrame, error: type[BaseException]
) -> None:
    # Operon ends its search when the callback raises but then returns normally and drops the exception: without
    # lawbook re-raising it, Ctrl-C during a search (Python raises KeyboardInterrupt inside the callback) truncated
    # the search silently and the partial front came back as the result.
    engine = get_backend("operon")
    settings = engine.settings(seed=0, budget=Budget(generations=40, population_size=50, max_length=10))
    steps: list[int] = []

    def callback(event: ProgressEvent) -> None:
        steps.append(event.step)
        if event.step == 3:
            raise error("stop here")

    X, y = table[["u", "s"]].to_numpy(), table.du.to_numpy()
    with pytest.raises(error, match="stop here"):
        engine.fit(X, y, ["u", "s"], settings, progress=Reporter(callback, backend="operon", interval=0.0))
    assert steps == [0, 1, 2, 3]  # the search ended at the raising generation, not after all 40
