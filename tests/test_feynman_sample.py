"""The AI Feynman sample (`benchmarks.feynman_sample`) and the pure parts of its runner (`benchmarks.srbench_sample`).

Fast: no search runs here. The targets are checked against formulas written out by hand in NumPy, not against the
SymPy expressions the module parsed.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from benchmarks import feynman_sample as fs
from benchmarks.srbench_sample import _level, held_out_r2, summarize
from benchmarks.srbench_sample import main as runner_main

# float64 evaluation of the same formula in another order differs by a few ulps (~1e-15 relative); 1e-12 leaves
# 1000x for the longest chains (I.41.16, III.9.52) while any wrong constant or operator is far outside it.
RTOL = 1e-12


def _rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(fs.TABLE_CSV)))[1:]


# --- the sample ----------------------------------------------------------------------------------------------------


def test_the_sample_is_the_stated_seeded_uniform_draw_of_the_table_rows():
    names = [row[0] for row in _rows()]
    assert len(names) == 100 and names[0] == "I.6.2a" and names[-1] == "III.21.20"
    assert list(fs.EQUATIONS) == names  # table order, so an index drawn is a row of the table
    picked = np.random.default_rng(fs.SAMPLE_SEED).choice(100, size=20, replace=False)
    assert fs.SAMPLE_SEED == 10 and fs.SAMPLE_SIZE == 20
    assert fs.SAMPLE == tuple(names[i] for i in sorted(picked))
    assert fs.draw_sample(fs.SAMPLE_SEED + 1) != fs.SAMPLE  # the seed decides it: another seed, another sample


def test_draw_sample_refuses_a_size_outside_the_table():
    with pytest.raises(ValueError, match="size must be an integer from 1 to 100"):
        fs.draw_sample(0, 101)


# --- the equations -------------------------------------------------------------------------------------------------


def test_every_formula_uses_exactly_the_variables_its_row_lists():
    for row in _rows():
        eq = fs.EQUATIONS[row[0]]
        listed = row[5::3]
        assert tuple(eq.ranges) == tuple(listed), eq.name
        assert {s.name for s in eq.expr.free_symbols} == set(listed), eq.name
        assert all(s.is_real for s in eq.expr.free_symbols), eq.name
        assert eq.target == row[2] and eq.formula == row[3] and eq.number == int(row[1])
        assert dict(eq.columns) == {n: n for n in listed}  # every database name is already a column name


def test_a_row_that_lists_a_variable_its_formula_does_not_use_is_refused():
    header = fs.TABLE_CSV.splitlines()[0]
    with pytest.raises(
        ValueError, match=r"X\.1: the formula uses \['a'\] but the row lists the variables \['a', 'b'\]"
    ):
        fs._read_table(f"{header}\nX.1,1,f,2*a,2,a,1,5,b,1,5\n")
    with pytest.raises(ValueError, match="unknown name"):  # the parser refuses a name the row does not list
        fs._read_table(f"{header}\nX.1,1,f,2*a*c,2,a,1,5,b,1,5\n")
    with pytest.raises(ValueError, match="low < high"):
        fs._read_table(f"{header}\nX.1,1,f,2*a,1,a,5,1\n")


def test_the_variable_count_column_is_wrong_only_in_the_six_rows_documented():
    wrong = {row[0]: (int(row[4]), len(row[5::3])) for row in _rows() if int(row[4]) != len(row[5::3])}
    assert wrong == dict(fs.COUNT_ERRATA)


def test_the_database_spellings_arcsin_and_ln_are_read_as_asin_and_log():
    n, theta2 = fs.feature_symbols(["n", "theta2"])
    assert fs.get_equation("I.26.2").expr == sp.asin(n * sp.sin(theta2))
    assert fs.get_equation("I.44.4").expr.has(sp.log)
    assert fs.get_equation("I.6.2a").expr.has(sp.pi)  # pi is the constant, not a symbol


def test_column_name_makes_identifiers_that_the_parser_reads_as_symbols():
    assert [fs.column_name(n) for n in ("theta", "m_0", "lambda", "pi", "exp", "2x", "A vec")] == [
        "theta",
        "m_0",
        "lambda_",
        "pi_",
        "exp_",
        "_2x",
        "A_vec",
    ]
    with pytest.raises(ValueError, match="must not be empty"):
        fs.column_name(" ")


def test_an_unknown_equation_name_is_a_clear_error_with_suggestions():
    with pytest.raises(KeyError, match=r"no equation 'I\.6\.2c'.*did you mean I\.6\.2.*lists all 100"):
        fs.get_equation("I.6.2c")
    with pytest.raises(KeyError, match="no equation 'Newton'"):
        fs.make_table("Newton", 10, seed=0)
    with pytest.raises(TypeError, match="named by a string"):
        fs.get_equation(6.2)


# --- the tables ----------------------------------------------------------------------------------------------------

# Each formula written out by hand from the table's text, in NumPy, on the table's columns.
BY_HAND = {
    "I.6.2a": lambda c: np.exp(-(c["theta"] ** 2) / 2) / np.sqrt(2 * np.pi),
    "I.9.18": lambda c: (
        c["G"] * c["m1"] * c["m2"] / ((c["x2"] - c["x1"]) ** 2 + (c["y2"] - c["y1"]) ** 2 + (c["z2"] - c["z1"]) ** 2)
    ),
    "I.26.2": lambda c: np.arcsin(c["n"] * np.sin(c["theta2"])),
    "I.41.16": lambda c: (
        c["h"]
        / (2 * np.pi)
        * c["omega"] ** 3
        / (np.pi**2 * c["c"] ** 2 * (np.exp(c["h"] / (2 * np.pi) * c["omega"] / (c["kb"] * c["T"])) - 1))
    ),
    "I.44.4": lambda c: c["n"] * c["kb"] * c["T"] * np.log(c["V2"] / c["V1"]),
    "II.11.28": lambda c: 1 + c["n"] * c["alpha"] / (1 - c["n"] * c["alpha"] / 3),
    "II.35.21": lambda c: c["n_rho"] * c["mom"] * np.tanh(c["mom"] * c["B"] / (c["kb"] * c["T"])),
    "III.9.52": lambda c: (
        (c["p_d"] * c["Ef"] * c["t"] / (c["h"] / (2 * np.pi)))
        * np.sin((c["omega"] - c["omega_0"]) * c["t"] / 2) ** 2
        / ((c["omega"] - c["omega_0"]) * c["t"] / 2) ** 2
    ),
    "III.19.51": lambda c: (
        -c["m"] * c["q"] ** 4 / (2 * (4 * np.pi * c["epsilon"]) ** 2 * (c["h"] / (2 * np.pi)) ** 2) / c["n"] ** 2
    ),
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_targets_match_the_formula_written_by_hand(name):
    eq = fs.get_equation(name)
    table = fs.make_table(eq, 500, seed=3)
    expected = BY_HAND[name]({c: table[c].to_numpy() for c in eq.features})
    np.testing.assert_allclose(table[eq.target].to_numpy(), expected, rtol=RTOL, atol=0)


def test_the_by_hand_comparison_sees_a_wrong_formula():
    table = fs.make_table("I.44.4", 500, seed=3)
    wrong = table.n * table.kb * table.T * np.log(table.V1 / table.V2)  # ratio inverted
    assert not np.allclose(table.E_n, wrong, rtol=RTOL, atol=0)


def test_every_equation_samples_inside_its_ranges_with_the_target_last():
    for eq in fs.EQUATIONS.values():
        table = fs.make_table(eq, 200, seed=1)
        assert list(table.columns) == [*eq.features, eq.target]
        assert table.dtypes.eq(np.float64).all()
        assert np.isfinite(table.to_numpy()).all(), eq.name
        for column, (lo, hi) in eq.ranges.items():
            assert table[column].between(lo, hi).all(), (eq.name, column)


def test_each_variable_is_uniform_over_its_whole_range():
    eq = fs.get_equation("I.15.3x")  # ranges of different widths: x (5, 10), u (1, 2), c (3, 20), t (1, 2)
    n = 20_000
    table = fs.make_table(eq, n, seed=5)
    for column, (lo, hi) in eq.ranges.items():
        x = table[column].to_numpy()
        # U(lo, hi): mean (lo+hi)/2 with standard error (hi−lo)/√(12n); 5 standard errors.
        assert abs(x.mean() - (lo + hi) / 2) < 5 * (hi - lo) / math.sqrt(12 * n)
        # the extremes of n uniform draws are within (hi−lo)·10/n of the ends with probability 1 − e^−10.
        assert x.min() - lo < (hi - lo) * 10 / n and hi - x.max() < (hi - lo) * 10 / n


def test_same_seed_same_table_and_another_seed_another_table():
    a, b = fs.make_table("II.24.17", 50, seed=7), fs.make_table("II.24.17", 50, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.to_numpy(), fs.make_table("II.24.17", 50, seed=8).to_numpy())


def test_noise_is_srbench_target_noise_on_the_same_inputs():
    eq = fs.get_equation("I.12.1")
    clean, noisy = fs.make_table(eq, 20_000, seed=2), fs.make_table(eq, 20_000, seed=2, noise=0.01)
    pd.testing.assert_frame_equal(clean[list(eq.features)], noisy[list(eq.features)])
    residual = (noisy.F - clean.F).to_numpy()
    sigma = 0.01 * math.sqrt(float(np.mean(clean.F.to_numpy() ** 2)))
    # the sample standard deviation of n normal draws has relative standard error 1/√(2n) = 0.5 %; 3 % is 6 of them.
    assert abs(residual.std() / sigma - 1) < 0.03
    assert abs(residual.mean()) < 5 * sigma / math.sqrt(20_000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0, "seed": 0}, "n_rows must be a positive integer"),
        ({"n_rows": 2.5, "seed": 0}, "n_rows must be a positive integer"),
        ({"n_rows": 10, "seed": -1}, "seed must be a non-negative integer"),
        ({"n_rows": 10, "seed": 0, "noise": -0.1}, "noise must be a finite number >= 0"),
        ({"n_rows": 10, "seed": 0, "noise": math.nan}, "noise must be a finite number >= 0"),
    ],
)
def test_bad_table_arguments_are_refused_with_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fs.make_table("I.12.1", **kwargs)


# --- the runner's grading ------------------------------------------------------------------------------------------


def test_held_out_r2_is_one_for_the_law_and_minus_infinity_where_a_candidate_is_undefined():
    eq = fs.get_equation("I.29.4")  # k = omega/c
    table = fs.make_table(eq, 300, seed=4)
    omega = fs.feature_symbols(["omega"])[0]
    assert held_out_r2(eq.expr, table, "k") == pytest.approx(1.0, abs=1e-15)
    assert held_out_r2(omega, table, "k") < 0.9
    assert held_out_r2(sp.log(omega - 5), table, "k") == -math.inf  # log of a negative number on part of the rows


def test_grading_accepts_the_law_and_its_constants_and_rejects_a_near_miss():
    eq = fs.get_equation("II.34.2a")  # I = q*v/(2*pi*r)
    q, v, r = fs.feature_symbols(["q", "v", "r"])
    assert _level(q * v / (2 * sp.pi * r), eq) == "exact"
    assert _level(sp.Float(0.1591549430918953) * q * v / r + 3, eq) == "up_to_constants"
    assert _level(q * v / (2 * sp.pi * r) + sp.Float(1e-4) * q, eq) not in ("exact", "up_to_constants")


def test_summarize_counts_runs_and_ranks_an_undefined_r2_last():
    runs = [
        {"best_is_law": True, "law_on_front": True, "seconds": 3.0, "held_out_r2": 1.0},
        {"best_is_law": False, "law_on_front": True, "seconds": 1.0, "held_out_r2": -math.inf},
        {"best_is_law": False, "law_on_front": False, "seconds": 2.0, "held_out_r2": 0.9},
    ]
    s = summarize(runs)
    assert (s["best_is_law"], s["law_on_front"], s["runs"]) == (1, 2, 3)
    assert s["median_seconds"] == 2.0 and s["median_held_out_r2"] == 0.9
    with pytest.raises(ValueError, match="no runs"):
        summarize([])


def test_the_runner_refuses_an_unknown_equation_before_any_search(capsys):
    with pytest.raises(SystemExit) as exc:
        runner_main(["--equations", "I.6.2c"])
    assert exc.value.code == 2
    assert "unknown equation(s) ['I.6.2c']" in capsys.readouterr().err
