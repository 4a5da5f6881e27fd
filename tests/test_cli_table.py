"""`lawbook discover TABLE.csv --target y`: discovery on a user's own table from the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from verify.cli import main


@pytest.fixture()
def energy_csv(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"m": rng.uniform(1, 5, 120), "v": rng.uniform(1, 5, 120)})
    table["E"] = table.m * table.v**2 / 2
    path = tmp_path / "energy.csv"
    table.to_csv(path, index=False)
    return path


def test_a_table_law_is_found_and_the_row_says_which_route_found_it(energy_csv, capsys):
    assert main(["discover", str(energy_csv), "--target", "E", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "law found"
    best = next(r for r in out["pareto"] if r["best"])
    assert best["expr"] == "m*v**2/2" and best["route"] == "rational" and best["at_floor"]
    assert best["heldout_r2"] == pytest.approx(1.0, abs=1e-12)
    assert out["searches"][0]["route"] == "rational"


def test_units_prune_and_a_fixed_operator_set_that_cannot_write_the_law_exits_1(energy_csv, capsys):
    argv = ["discover", str(energy_csv), "--target", "E", "--quick", "--units", "m=kg", "v=m/s", "E=kg*m^2/s^2"]
    assert main([*argv, "--operators", "add,sub", "--restarts", "1"]) == 1
    text = capsys.readouterr().out
    assert "verdict: best approximation only" in text
    assert main(argv) == 0
    assert "verdict: law found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "a table needs --target COLUMN"),
        (["--target", "E", "--part", "g=m"], "--part describes a part of --template"),
        (["--target", "E", "--units", "m"], "--units takes NAME=VALUE"),
        (["--target", "E", "--units", "m=kg", "v=m/s"], "units"),
        (["--target", "E", "--operators", "add,root"], "unknown operator"),
        (["--target", "nope"], "target 'nope' is not a column"),
    ],
)
def test_table_usage_errors_exit_2_naming_the_problem(energy_csv, capsys, extra, message):
    assert main(["discover", str(energy_csv), "--quick", *extra]) == 2
    assert message in capsys.readouterr().err


def test_table_options_are_refused_for_a_problem(capsys):
    assert main(["discover", "logistic_mode_rhs", "--target", "du_dt"]) == 2
    assert "apply to a CSV table" in capsys.readouterr().err


def test_a_missing_table_file_is_named(tmp_path, capsys):
    assert main(["discover", str(tmp_path / "absent.csv"), "--target", "y"]) == 2
    assert "no such table" in capsys.readouterr().err
