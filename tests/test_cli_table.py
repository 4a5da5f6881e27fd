"""`lawbook discover TABLE.csv --target y`: discovery on a user's own table from the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from theory.parse import parse_expression
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


@pytest.fixture()
def decay_csv(tmp_path):
    rng = np.random.default_rng(1)
    frames = []
    for group, (amplitude, rate, offset) in enumerate([(1.0, 0.5, 2.0), (3.0, 1.5, -1.0), (2.0, 0.8, 0.5)]):
        t = rng.uniform(0, 3, 60)
        frames.append(pd.DataFrame({"t": t, "y": amplitude * np.exp(-rate * t) + offset, "run": group}))
    path = tmp_path / "decay.csv"
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path


def test_a_parametric_template_from_the_command_line_fits_its_constants(decay_csv, capsys):
    # one run's rows: y = 3·exp(−1.5·t) − 1, the template a*exp(b*t) + c with a, b, c read as constants
    table = pd.read_csv(decay_csv)
    one = decay_csv.with_name("one.csv")
    table[table.run == 1].drop(columns="run").to_csv(one, index=False)
    assert main(["discover", str(one), "--target", "y", "--template", "a*exp(b*t) + c", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    best = next(r for r in out["pareto"] if r["best"])
    t = sp.Symbol("t")
    assert best["route"] == "template"
    assert sp.simplify(parse_expression(best["expr"], [t]) - (3 * sp.exp(-3 * t / 2) - 1)) == 0


def test_groups_from_the_command_line_share_one_structure(decay_csv, capsys):
    assert main(["discover", str(decay_csv), "--target", "y", "--groups", "run", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    best = next(r for r in out["pareto"] if r["best"])
    assert best["route"] == "shared" and best["at_floor"]
    assert "exp(" in best["expr"] and "t" in best["expr"]


def test_a_template_text_is_parsed_not_evaluated(energy_csv, capsys):
    assert main(["discover", str(energy_csv), "--target", "E", "--template", "__import__('os').getcwd()"]) == 2
    assert "'__import__' must be a Python identifier" in capsys.readouterr().err
