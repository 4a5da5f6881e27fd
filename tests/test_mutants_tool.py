"""tools/mutants.py: the mutation-testing driver and its report (the mutmut run itself is `make mutants`, not a test)."""

import ast
import doctest
import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_tool():
    # tools/ is a folder of scripts, not a package: load the file as a module
    spec = importlib.util.spec_from_file_location("lawbook_tools_mutants", ROOT / "tools" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mutants = _load_tool()


def test_docstring_examples_run():
    # tools/ is outside the doctest paths of `make test`; run its examples here
    result = doctest.testmod(mutants, raise_on_error=False)
    assert result.attempted >= 8 and result.failed == 0


def test_report_is_sorted_scored_and_lists_each_survivor_with_its_change():
    results = {
        "theory/b.py": {"theory.b.x_g__mutmut_2": 0, "theory.b.x_g__mutmut_1": 1, "theory.b.x_g__mutmut_3": 36},
        "theory/a.py": {"theory.a.x_f__mutmut_2": 0, "theory.a.x_f__mutmut_1": 0, "theory.a.x_f__mutmut_3": 33},
    }
    equivalent = {"theory.a.x_f__mutmut_1": "same value"}
    changes = {"theory.a.x_f__mutmut_2": "`a` ⟶ `b`"}
    text = mutants.render(results, equivalent, command="make mutants", changes=changes)
    # a.py: 1 survivor, 1 equivalent, 1 unreached -> nothing caught, score 0; b.py: killed + timeout of 3 scored
    assert "| theory/a.py | 3 | 0 | 1 | 1 | 0 | 1 | 0.0% |" in text
    assert "| theory/b.py | 3 | 1 | 1 | 0 | 1 | 0 | 66.7% |" in text
    assert "| **total run** | 6 | 1 | 2 | 1 | 1 | 1 | 50.0% |" in text
    assert text.index("theory/a.py") < text.index("theory/b.py")
    survivors = text.split("## Surviving mutants")[1].split("## Equivalent")[0]
    assert "- `theory.a.x_f__mutmut_2`: `a` ⟶ `b`" in survivors and "theory.b.x_g__mutmut_2" in survivors
    assert "x_f__mutmut_1" not in survivors
    assert "- `theory.a.x_f__mutmut_1`:  — same value" in text
    # the same input renders the same bytes, whatever the order of the mappings
    shuffled = {k: dict(reversed(list(v.items()))) for k, v in reversed(list(results.items()))}
    assert mutants.render(shuffled, equivalent, command="make mutants", changes=changes) == text


def test_report_flags_an_equivalent_listing_that_a_test_killed():
    text = mutants.render({"m.py": {"m.x_f__mutmut_1": 1}}, {"m.x_f__mutmut_1": "same"}, command="c")
    assert "Listed as equivalent but killed (the list is wrong): `m.x_f__mutmut_1`" in text


def test_mutant_changes_rebuilds_the_changed_line_from_the_source(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f(x):\n    y = 2\n    return x + y\n")
    from mutmut.file_mutation import mutate_file_contents

    _, names = mutate_file_contents(str(source), source.read_text())
    changes = mutants.mutant_changes(source, [f"m.{n}" for n in names])
    assert sorted(changes.values()) == sorted(set(changes.values())), "two mutants with the same change"
    assert "`return x + y` ⟶ `return x - y`" in changes.values()
    assert "`y = 2` ⟶ `y = 3`" in changes.values()


def test_equivalent_list_needs_a_reason_for_each_mutant(tmp_path):
    path = tmp_path / "eq.json"
    path.write_text(json.dumps({"theory.a.x_f__mutmut_1": " "}))
    with pytest.raises(ValueError, match=r"x_f__mutmut_1.*needs a one-line reason"):
        mutants.load_equivalent(path)
    path.write_text("[]")
    with pytest.raises(ValueError, match=r"expected a JSON object"):
        mutants.load_equivalent(path)


def test_committed_equivalent_list_loads():
    assert all(reason.strip() for reason in mutants.load_equivalent().values())


def test_mutmut_configuration_names_paths_that_exist():
    tomllib = pytest.importorskip("tomllib")  # standard library from Python 3.11; lawbook supports 3.10
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    for key in ("paths_to_mutate", "tests_dir", "also_copy"):
        missing = [p for p in config[key] if not (ROOT / p).exists()]
        assert not missing, f"[tool.mutmut] {key} names paths that do not exist: {missing}"


def test_deselected_subprocess_tests_exist():
    # a renamed test would silently stop being deselected and break mutmut's stats run
    for test_id in mutants.SUBPROCESS_TESTS:
        path, name = test_id.split("::")
        tree = ast.parse((ROOT / path).read_text())
        assert name in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, test_id


def test_modules_not_run_are_listed_with_their_mutant_count_in_order():
    results = {"theory/b.py": {"theory.b.x_g__mutmut_1": 1}}
    text = mutants.render(results, {}, command="c", generated={"theory/a.py": 7, "theory/b.py": 1, "theory/c.py": 2})
    rows = [line for line in text.splitlines() if line.startswith("| theory/")]
    assert rows == [
        "| theory/a.py | 7 | not run | | | | | |",
        "| theory/b.py | 1 | 1 | 0 | 0 | 0 | 0 | 100.0% |",
        "| theory/c.py | 2 | not run | | | | | |",
    ]
    assert "| **total run** | 1 | 1 |" in text  # modules not run are not counted as scored
