"""Tests of `discover`: the three backends, the Discovery record, and the validation of inputs.

The scientific target throughout is the logistic mode law's right-hand side (Saxe et al. 2014, eq. 13 at τ = 1),
du/dt = 2u(s − u), with u and s as feature columns.
"""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sympy as sp

import discover
from discover import BackendUnavailable, Budget, Candidate, Discovery, complexity, feature_symbols
from discover.backends import get_backend

u, s = feature_symbols(["u", "s"])
TRUTH = 2 * u * (s - u)
# Fixed so that the search is reproducible; every seed in 0..7 finds the law at this budget (measured).
SEED = 3


def equals_truth(expr: sp.Expr, truth: sp.Expr = TRUTH, tol: float = 1e-9) -> bool:
    """True when expand(expr − truth) is zero, up to float coefficients of at most ``tol`` in magnitude."""
    difference = sp.expand(expr - truth)
    return all(abs(float(c)) <= tol for c in difference.as_coefficients_dict().values())


def logistic_table(rows: int = 200, noise: float = 1e-6, seed: int = 0) -> pd.DataFrame:
    # Noise 1e-6: an order above float32 resolution of a target of size ~1, so the data are not exact.
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"u": rng.uniform(0.05, 2.0, rows), "s": rng.uniform(0.5, 3.0, rows)})
    table["du"] = 2 * table.u * (table.s - table.u) + noise * rng.standard_normal(rows)
    return table


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return logistic_table()


@pytest.fixture(scope="module")
def operon_runs(table: pd.DataFrame) -> tuple[Discovery, Discovery]:
    budget = Budget.quick()
    return (
        discover.discover(table, "du", seed=SEED, budget=budget),
        discover.discover(table, "du", seed=SEED, budget=budget),
    )


# -- operon -------------------------------------------------------------------------------------------------


def test_operon_rediscovers_the_logistic_rhs(operon_runs: tuple[Discovery, Discovery]) -> None:
    found, _ = operon_runs
    assert any(equals_truth(c.expr) for c in found.pareto), found.to_frame().to_string()
    # The snapped law is exact (rational constants), it is the one `best` picks, and it came from floats.
    assert sp.expand(found.best.expr - TRUTH) == 0
    assert found.best.raw.has(sp.Float)
    assert found.best.loss < 1e-11  # the 1e-6 noise: MSE ≈ 1e-12


def test_operon_front_is_a_strict_pareto_front(operon_runs: tuple[Discovery, Discovery]) -> None:
    found, _ = operon_runs
    complexities = [c.complexity for c in found.pareto]
    losses = [c.loss for c in found.pareto]
    assert complexities == sorted(set(complexities))
    assert all(a > b for a, b in itertools.pairwise(losses))
    assert all(c.complexity == complexity(c.expr) for c in found.pareto)
    assert {sym.name for c in found.pareto for sym in c.expr.free_symbols} <= {"u", "s"}


def test_operon_is_deterministic_for_a_seed(operon_runs: tuple[Discovery, Discovery]) -> None:
    first, second = operon_runs

    def fingerprint(d: Discovery) -> list[tuple[str, str, int, float]]:
        return [(sp.srepr(c.expr), sp.srepr(c.raw), c.complexity, c.loss) for c in d.pareto]

    assert fingerprint(first) == fingerprint(second)


def test_operon_records_its_settings(operon_runs: tuple[Discovery, Discovery]) -> None:
    found, _ = operon_runs
    engine = found.settings["backend"]
    assert engine["random_state"] == SEED and engine["n_threads"] == 1
    assert engine["generations"] == Budget.quick().generations
    assert engine["objectives"] == ["r2", "length"] and engine["optimizer"] == "lm"
    assert found.settings["budget"]["population_size"] == Budget.quick().population_size
    assert found.settings["rows"] == 200
    assert (found.backend, found.seed, found.target, found.features) == ("operon", SEED, "du", ("u", "s"))
    assert found.seconds > 0


def test_operon_trees_convert_to_sympy_exactly_as_operon_evaluates_them() -> None:
    # Three features in an asymmetric law, with non-commutative operators: a wrong variable mapping or a
    # swapped argument order would show up as a mismatch with Operon's own evaluation of the same trees.
    from pyoperon.sklearn import SymbolicRegressor

    from discover.backends.operon import tree_to_sympy

    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 2.0, (100, 3))
    y = np.exp(X[:, 0]) / X[:, 1] - X[:, 2] ** 3 + np.log(X[:, 1])
    reg = SymbolicRegressor(
        allowed_symbols="add,sub,mul,div,constant,variable,exp,log,sqrt,square,aq,pow,tanh",
        objectives=["r2", "length"],
        optimizer_iterations=5,
        max_length=25,
        generations=15,
        population_size=200,
        random_state=1,
        n_threads=1,
    )
    X32 = X.astype(np.float32)
    reg.fit(X32, y.astype(np.float32))
    symbols = feature_symbols(["a", "b", "c"])
    variables = dict(zip(reg.variables_, symbols, strict=True))
    assert len(reg.pareto_front_) > 3
    for entry in reg.pareto_front_:
        expr = tree_to_sympy(entry["tree"], variables)
        ours = np.broadcast_to(sp.lambdify(symbols, expr, "numpy")(*X32.astype(np.float64).T), (len(X),))
        # float64 input: pyoperon's evaluate_model wraps a float32 array without copying it, and the temporary it
        # wraps is freed before evaluation; given float64 it makes its own float32 copy (the same values here).
        theirs = reg.evaluate_model(entry["tree"], X32.astype(np.float64))
        finite = np.isfinite(theirs)
        # Operon evaluates in float32 (relative error ~1e-7 per operation); we evaluate the same tree in float64.
        np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-4, atol=1e-4, err_msg=str(expr))


def test_operon_refuses_unknown_and_reserved_options(table: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="generation"):
        discover.discover(table, "du", generation=5)
    with pytest.raises(TypeError, match="budget"):
        discover.discover(table, "du", population_size=5)


# -- sindy --------------------------------------------------------------------------------------------------


def test_sindy_recovers_the_logistic_rhs_in_a_degree_two_library(table: pd.DataFrame) -> None:
    found = discover.discover(table, "du", backend="sindy", library=("poly", 2))
    # Library [1, u, s, u², u·s, s²]: the sweep keeps u·s and u², with coefficients 2 and −2.
    assert sp.expand(found.best.expr - TRUTH) == 0
    # Unsnapped, the least-squares coefficients carry the 1e-6 noise: errors ~1e-7 (measured), so 1e-5 is safe.
    assert any(equals_truth(c.raw, tol=1e-5) and c.raw.has(sp.Float) for c in found.pareto)
    assert found.settings["backend"]["library"] == (("poly", 2),)


def test_each_backend_records_only_the_budget_fields_it_used(
    table: pd.DataFrame, operon_runs: tuple[Discovery, Discovery]
) -> None:
    # SINDy is a sparse regression, not a search: no Budget field changes what it does, so none is recorded,
    # and a report printing settings["budget"] cannot show a budget SINDy never spent.
    found = discover.discover(table, "du", backend="sindy", library=("poly", 2), budget=Budget.quick())
    assert found.settings["budget"] == {}
    assert dataclasses.asdict(Budget.quick()) == operon_runs[0].settings["budget"]
    fields = {f.name for f in dataclasses.fields(Budget)}
    for name in discover.BACKENDS:
        assert set(get_backend(name).budget_fields) <= fields


def test_sindy_sr3_optimizer_also_recovers_it(table: pd.DataFrame) -> None:
    found = discover.discover(table, "du", backend="sindy", library=("poly", 2), optimizer="sr3")
    assert sp.expand(found.best.expr - TRUTH) == 0


def test_sindy_custom_library_handles_non_integer_powers() -> None:
    # The balanced depth-3 mode law: du/dt = 3 u^{4/3} (s − u)/τ (Saxe et al. 2014, eq. 17 with N = 3).
    rng = np.random.default_rng(2)
    table = pd.DataFrame(
        {"u": rng.uniform(0.05, 2, 150), "s": rng.uniform(0.5, 3, 150), "tau": rng.uniform(0.5, 2, 150)}
    )
    table["du"] = 3 * table.u ** (4 / 3) * (table.s - table.u) / table.tau
    library = ["u**(4/3)*s/tau", "u**(7/3)/tau", "u**2/tau", "u*s/tau", ("poly", 1)]
    found = discover.discover(table, "du", backend="sindy", library=library)
    uu, ss, tau = feature_symbols(["u", "s", "tau"])
    truth = 3 * uu ** sp.Rational(4, 3) * (ss - uu) / tau
    assert sp.simplify(found.best.expr - truth) == 0


def test_sindy_validates_its_options(table: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="librar"):
        discover.discover(table, "du", backend="sindy", librar=("poly", 2))
    with pytest.raises(ValueError, match="optimizer"):
        discover.discover(table, "du", backend="sindy", optimizer="lasso")
    with pytest.raises(ValueError, match='unknown name "v"'):
        discover.discover(table, "du", backend="sindy", library=["u*v"])


def test_sindy_library_text_is_parsed_never_run(table: pd.DataFrame, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = ["__import__('os').system('touch pwned')", "u.__class__", "open('pwned', 'w')"]
    for text in hostile:  # sp.parse_expr, used here before, ran each of these
        with pytest.raises(ValueError, match="library term"):
            discover.discover(table, "du", backend="sindy", library=[text, "u"])
    assert not list(tmp_path.iterdir())


# -- pysr ---------------------------------------------------------------------------------------------------


def _pysr_unavailable_reason() -> str | None:
    try:
        get_backend("pysr").settings(seed=0, budget=Budget.quick())
    except BackendUnavailable as exc:
        return str(exc)
    return None


def test_pysr_without_julia_raises_backend_unavailable(table: pd.DataFrame) -> None:
    reason = _pysr_unavailable_reason()
    if reason is None:
        pytest.skip("PySR and Julia are available on this machine, so BackendUnavailable cannot be observed")
    with pytest.raises(BackendUnavailable) as info:
        discover.discover(table, "du", backend="pysr", budget=Budget.quick())
    assert isinstance(info.value, RuntimeError)
    assert "Julia" in str(info.value) and 'backend="operon"' in str(info.value)


def test_pysr_rediscovers_the_logistic_rhs_where_julia_is_available(table: pd.DataFrame) -> None:
    reason = _pysr_unavailable_reason()
    if reason is not None:
        pytest.skip(f"PySR unavailable: {reason}")
    found = discover.discover(
        table, "du", backend="pysr", seed=SEED, budget=Budget(generations=40, population_size=450)
    )
    assert any(equals_truth(c.expr) for c in found.pareto), found.to_frame().to_string()


# -- laziness, records, validation --------------------------------------------------------------------------


def test_importing_discover_imports_no_engine() -> None:
    code = "import discover, sys; print(sorted(m for m in ('pyoperon', 'pysindy', 'pysr') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_discovery_checks_its_front_and_picks_best() -> None:
    good = (Candidate(u, 1, 1.0), Candidate(2 * u, 3, 1e-3), Candidate(2 * u + s / 1000, 7, 0.99e-3))
    d = Discovery(good, backend="sindy", seed=0, seconds=0.1, settings={}, features=("u", "s"), target="du")
    assert d.best.expr == 2 * u  # within BEST_LOSS_FACTOR of the minimum, and simpler
    assert d.select(1.0).complexity == 7
    assert d.to_frame()["best"].tolist() == [False, True, False]
    assert d.symbols == {"u": u, "s": s}
    with pytest.raises(ValueError, match="strictly"):
        Discovery(good[::-1], backend="sindy", seed=0, seconds=0.1, settings={}, features=("u",), target="du")
    with pytest.raises(ValueError, match="at least one"):
        Discovery((), backend="sindy", seed=0, seconds=0.1, settings={}, features=("u",), target="du")


def test_budget_presets_and_validation() -> None:
    quick, default = Budget.quick(), Budget.default()
    assert quick.generations * quick.population_size < default.generations * default.population_size
    with pytest.raises(ValueError, match="population_size"):
        Budget(population_size=-1)
    with pytest.raises(ValueError, match="time_limit"):
        Budget(time_limit=0)
    with pytest.raises(ValueError, match="max_length"):
        Budget(max_length=2)


def test_unknown_backend_lists_the_known_ones(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="operon, sindy, pysr"):
        discover.discover(table, "du", backend="eureqa")


def test_missing_target_or_features_are_named(table: pd.DataFrame) -> None:
    with pytest.raises(KeyError, match="'dv'"):
        discover.discover(table, "dv", backend="sindy")
    with pytest.raises(KeyError, match=r"\['w', 'z'\]"):
        discover.discover(table, "du", features=["u", "w", "z"], backend="sindy")
    with pytest.raises(ValueError, match="cannot also be a feature"):
        discover.discover(table, "du", features=["u", "du"], backend="sindy")
    with pytest.raises(TypeError, match="not the string"):
        discover.discover(table, "du", features="u", backend="sindy")


@pytest.mark.parametrize("column", ["s", "du"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_name_their_column(table: pd.DataFrame, column: str, bad: float) -> None:
    broken = table.copy()
    broken.loc[5, column] = bad
    with pytest.raises(ValueError, match=f"column '{column}' has 1 non-finite"):
        discover.discover(broken, "du", backend="sindy")


def test_too_few_rows_and_non_numeric_columns_are_refused(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=f"at least {discover.MIN_ROWS} rows"):
        discover.discover(table.head(discover.MIN_ROWS - 1), "du", backend="sindy")
    labelled = table.assign(label="a")
    with pytest.raises(TypeError, match="'label' must be numeric"):
        discover.discover(labelled, "du", backend="sindy")
    with pytest.raises(ValueError, match="seed"):
        discover.discover(table, "du", backend="sindy", seed=-1)
