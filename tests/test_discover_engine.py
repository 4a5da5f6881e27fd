"""The discovery engine: operator escalation, restarts, the held-out split, the noise floor and the verdict.

Each test can fail: a law that needs an operator is *not* found when the operator set is fixed without it, a wrong
model is *not* at the noise floor, pure noise is *not* called structure more often than the stated rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from discover import Budget, discover
from discover.discovery import ESCALATION, _restart_seed, _same_values, split_rows
from discover.floor import RHO_SIGMAS, Residuals

QUICK = Budget.quick()


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.uniform(0.5, 2.0, n), "z": rng.uniform(0.5, 2.0, n)})


# -- escalation --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqrt_law() -> tuple[pd.DataFrame, object, object]:
    """y = sqrt(x) + z: arithmetic cannot write it; the second stage (+ sqrt, square) can."""
    table = _table()
    table["y"] = np.sqrt(table.x) + table.z
    escalated = discover(table, "y", seed=0, budget=QUICK, transforms=False)
    fixed = discover(table, "y", seed=0, budget=QUICK, transforms=False, operators="add,sub,mul,div", restarts=1)
    return table, escalated, fixed


def test_escalation_finds_a_law_that_needs_a_later_operator_stage(sqrt_law) -> None:
    _, escalated, _ = sqrt_law
    x, z = sp.symbols("x z", real=True)
    assert sp.simplify(escalated.best.expr - (sp.sqrt(x) + z)) == 0
    assert escalated.verdict == "law found"
    assert escalated.best.stage == ESCALATION[1][0] and escalated.best.route == "direct"
    # the rational fit (no search) and then arithmetic did not reach the floor; discovery stopped at the stage that did
    searches = [(s["route"], s["stage"], s["reached_floor"]) for s in escalated.searches]
    assert searches == [
        ("rational", "power law", False),
        ("rational", "P/Q", False),
        ("direct", ESCALATION[0][0], False),
        ("direct", ESCALATION[1][0], True),
    ]


def test_a_fixed_operator_set_is_kept_and_then_the_law_is_not_found(sqrt_law) -> None:
    _, _, fixed = sqrt_law
    assert fixed.verdict == "best approximation only"
    assert not any(c.at_floor for c in fixed.pareto)
    assert [s["stage"] for s in fixed.searches] == ["fixed: add,sub,mul,div"]
    assert not any(c.expr.has(sp.sqrt(sp.Symbol("x", real=True))) for c in fixed.pareto)


def test_every_row_records_its_origin_and_its_held_out_fit(sqrt_law) -> None:
    _, escalated, _ = sqrt_law
    assert escalated.settings["train_rows"] == 150 and escalated.settings["rows"] == 200
    for c in escalated.pareto:
        assert c.found_by and c.found_by[0].startswith(f"{c.route}/{c.stage}/seed ")
        assert c.heldout_loss is not None and c.heldout_r2 is not None
    # the law predicts the rows no search saw: R² = 1 to float32-fitted constants at worst
    assert escalated.best.heldout_r2 > 1 - 1e-10
    frame = escalated.to_frame()
    assert {"route", "stage", "heldout_r2", "at_floor"} <= set(frame.columns)


def test_the_engine_option_that_fixes_operators_also_stops_escalation() -> None:
    table = _table()
    table["y"] = table.x * table.z + 1
    d = discover(table, "y", budget=QUICK, allowed_symbols="add,mul,constant,variable", restarts=1)
    assert [s["stage"] for s in d.searches] == ["fixed: allowed_symbols=add,mul,constant,variable"]
    assert d.verdict == "law found"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"operators": "add,sqroot"}, ValueError, r"unknown operator\(s\) \['sqroot'\]"),
        ({"operators": "add", "allowed_symbols": "add,variable"}, TypeError, "not both"),
        ({"operators": "add", "backend": "sindy"}, ValueError, "has no operators to choose"),
        ({"restarts": 0}, ValueError, "restarts must be a positive integer"),
        ({"holdout": 1.0}, ValueError, r"holdout must be a share of the rows in \[0, 1\)"),
        ({"time": "t"}, ValueError, "time column 't' is not among the features"),
        ({"groups": "g"}, KeyError, "groups column 'g' is not a column"),
        ({"time": "x", "template": sp.Function("g")(sp.Symbol("x"))}, ValueError, "applies to a plain discovery"),
        ({"template": "g(x)"}, TypeError, "template must be a discover.Template or a SymPy expression"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, error, message) -> None:
    table = _table(40)
    table["y"] = table.x + table.z
    with pytest.raises(error, match=message):
        discover(table, "y", budget=QUICK, **kwargs)


# -- restarts and the split ----------------------------------------------------------------------------------------


def test_restart_seeds_are_the_seed_first_then_distinct_and_reproducible() -> None:
    seeds = [_restart_seed(7, r) for r in range(4)]
    assert seeds[0] == 7 and len(set(seeds)) == 4
    assert seeds == [_restart_seed(7, r) for r in range(4)]
    assert all(0 <= s < 2**63 for s in seeds)


def test_a_deterministic_engine_runs_once_per_stage() -> None:
    table = _table()
    table["y"] = 2 * table.x * (table.z - table.x)
    d = discover(table, "y", backend="sindy", library=("poly", 2), restarts=3)
    assert d.settings["restarts"] == 1 and len(d.searches) == 1


def test_the_split_is_seeded_and_small_tables_are_not_split() -> None:
    a, b = split_rows(200, 0.25, 3), split_rows(200, 0.25, 3)
    assert np.array_equal(a, b) and int((~a).sum()) == 50
    assert not np.array_equal(a, split_rows(200, 0.25, 4))
    assert split_rows(12, 0.25, 0).all()  # 3 held-out rows would be too few
    table = _table(12)
    table["y"] = table.x + table.z
    d = discover(table, "y", backend="sindy", library=("poly", 1))
    assert d.settings["holdout"] == 0.0 and any("no held-out rows" in n for n in d.notes)
    assert d.best.heldout_r2 is None


def test_same_values_tells_equal_functions_from_near_misses() -> None:
    v = np.linspace(1, 2, 50)
    assert _same_values(v, v * (1 + 1e-14))
    assert not _same_values(v, v * (1 + 1e-7))  # a float32-fitted constant is a different candidate
    assert not _same_values(v, None)


# -- the noise floor ------------------------------------------------------------------------------------------------


def test_pure_noise_residuals_are_called_structured_at_about_the_stated_rate() -> None:
    # ρ ≤ 3·√(2/n) fails for independent residuals about once in 700 (a 3-sigma one-sided bound); over 300 noise
    # draws, more than 5 false alarms would mean the bound is wrong (P ≈ 1e-4 at the stated rate).
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 3))
    train = np.arange(200) < 150
    truth = X.sum(axis=1)
    alarms = 0
    for _ in range(300):
        y = truth + 0.1 * rng.normal(size=200)
        alarms += not Residuals(X, y, train).test(truth).structureless
    assert alarms <= 5, alarms


def test_a_smooth_misfit_is_structured_even_under_noise_of_its_size() -> None:
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (300, 2))
    truth = np.exp(X[:, 0]) + X[:, 1]
    y = truth + 0.01 * rng.normal(size=300)
    train = np.arange(300) < 225
    R = Residuals(X, y, train)
    law, approx = R.test(truth), R.test(1 + 1.72 * X[:, 0] + X[:, 1])
    assert law.at_floor and law.rho < RHO_SIGMAS * math.sqrt(2 / 300)
    assert not approx.at_floor and approx.rho > 0.5


def test_an_overfit_candidate_fails_on_the_held_out_rows() -> None:
    # A "candidate" that reproduces the training rows exactly (noise included) but not the held-out ones.
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, (200, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    train = np.arange(200) < 150
    memorised = np.where(train, y, X[:, 0] + 0.3)
    test = Residuals(X, y, train).test(memorised)
    assert test.precise and not test.no_overfit and not test.at_floor


def test_noisy_law_is_found_and_a_wrong_operator_set_is_not() -> None:
    rng = np.random.default_rng(3)
    table = _table(300, seed=3)
    table["y"] = table.x * table.z + 0.5 + 1e-3 * rng.normal(size=300)
    found = discover(table, "y", budget=QUICK, restarts=1, transforms=False)
    assert found.verdict == "law found"
    assert found.best.heldout_r2 > 0.999
    table["w"] = np.exp(2 * table.x) + 1e-3 * rng.normal(size=300)
    missed = discover(table, "w", features=["x"], budget=QUICK, operators="add,mul", restarts=1, transforms=False)
    assert missed.verdict == "best approximation only"
