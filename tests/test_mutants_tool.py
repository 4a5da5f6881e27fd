"""tools/mutants.py: the mutation-testing driver and its report (the mutmut run itself is `make mutants`, not a test)."""

import ast
import doctest
import importlib.util
import os
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
    assert "| theory/a.py | 3 | 0 | 1 | 1 | 0 | 1 | 0 | 0.0% |" in text
    assert "| theory/b.py | 3 | 1 | 1 | 0 | 1 | 0 | 0 | 66.7% |" in text
    assert "| **total** | 6 | 1 | 2 | 1 | 1 | 1 | 0 | 50.0% |" in text
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


def test_equivalent_verdicts_need_a_reason_for_each_mutant(tmp_path):
    with pytest.raises(ValueError, match=r"x_f__mutmut_1.*needs a one-line reason"):
        mutants.check_equivalent({"theory.a.x_f__mutmut_1": " "}, "eq")
    with pytest.raises(ValueError, match=r"expected a JSON object"):
        mutants.check_equivalent([], "eq")
    # the same check guards the ledger files
    entry = {"function_sha256": {}, "exit_codes": {}, "runs": [], "equivalent": {"theory.a.x_f__mutmut_1": ""}}
    mutants.write_ledger_entry("theory/a.py", entry, tmp_path)
    with pytest.raises(ValueError, match=r"a.py.json.*needs a one-line reason"):
        mutants.load_ledger(tmp_path)


def test_committed_ledger_loads_and_names_modules_that_exist():
    ledger = mutants.load_ledger()
    assert ledger, "tools/mutants_results/ is empty"
    for module, entry in ledger.items():
        assert (ROOT / module).is_file(), f"ledger entry for a module that does not exist: {module}"
        assert all(reason.strip() for reason in entry["equivalent"].values())
        # a verdict names a mutant of its own module
        prefix = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + "."  # mutmut drops __init__
        assert all(name.startswith(prefix) for name in entry["equivalent"]), module


def test_ledger_round_trip_and_merge_of_a_narrowed_rerun(tmp_path):
    h = {"f": "1", "g": "2"}
    first = mutants.merge_run(None, h, {"m.f__mutmut_1": 0, "m.g__mutmut_1": 1}, ["tests/a.py"], [])
    first["equivalent"] = {"m.f__mutmut_1": "same value"}
    mutants.write_ledger_entry("theory/m.py", first, tmp_path)
    assert (tmp_path / "theory" / "m.py.json").is_file()
    loaded = mutants.load_ledger(tmp_path)["theory/m.py"]
    assert loaded == first
    # a rerun of one mutant on the same source with a new test: only that code changes, the run is recorded
    again = mutants.merge_run(loaded, h, {"m.f__mutmut_1": 1, "m.g__mutmut_1": None}, ["tests/b.py"], ["m.f*"])
    assert again["exit_codes"] == {"m.f__mutmut_1": 1, "m.g__mutmut_1": 1}
    assert again["runs"] == [{"tests": ["tests/a.py"], "globs": []}, {"tests": ["tests/b.py"], "globs": ["m.f*"]}]
    assert again["equivalent"] == {"m.f__mutmut_1": "same value"}
    # g edited since: its old code is dropped (its numbering means nothing now), f's result is kept
    edited = mutants.merge_run(again, {"f": "1", "g": "3"}, {}, ["tests/b.py"], [])
    assert edited["exit_codes"] == {"m.f__mutmut_1": 1} and edited["function_sha256"] == {"f": "1", "g": "3"}


def test_function_digests_follow_the_body_not_the_rest_of_the_module():
    source = "import os\n\ndef f(x):\n    return x + 1\n\n\ndef g():\n    pass\n"
    before = mutants.function_digests(source)
    # another function edited, code added between: f's digest is unchanged, g's changes
    after = mutants.function_digests(source.replace("import os\n", "import os\nA = 1\n").replace("pass", "return 2"))
    assert after["x_f"] == before["x_f"] and after["x_g"] != before["x_g"]
    # a decorated function is listed (mutmut skips it, so it simply has no mutants), by its def line onward
    assert "x_h" in mutants.function_digests("@dec\ndef h():\n    pass\n")


def test_results_of_edited_functions_are_not_scored_and_count_as_not_run():
    entry = {
        "function_sha256": {"x_f": "a", "x_g": "b"},
        "exit_codes": {"theory.a.x_f__mutmut_1": 1, "theory.a.x_g__mutmut_1": 0},
    }
    codes, dropped = mutants.current_codes(entry, {"x_f": "a", "x_g": "edited"})
    assert codes == {"theory.a.x_f__mutmut_1": 1} and dropped == 1
    text = mutants.render(
        {"theory/a.py": codes}, {}, command="c", generated={"theory/a.py": 2}, stale={"theory/a.py": dropped}
    )
    assert "| theory/a.py | 2 | 1 | 0 | 0 | 0 | 0 | 1 | 100.0% |" in text
    assert "dropped because their function was edited after the run (counted as not run): theory/a.py 1." in text
    assert "x_g__mutmut_1" not in text.split("## Surviving mutants")[1]


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
        "| theory/a.py | 7 | 0 | 0 | 0 | 0 | 0 | 7 | — |",
        "| theory/b.py | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 100.0% |",
        "| theory/c.py | 2 | 0 | 0 | 0 | 0 | 0 | 2 | — |",
    ]
    assert "| **total** | 10 | 1 | 0 | 0 | 0 | 0 | 9 | 100.0% |" in text  # modules not run are not scored


def test_globs_after_tests_are_mutant_names_and_a_missing_test_path_is_refused():
    tests, globs = mutants.split_tests_and_globs(
        ["verify/test_modes.py", "theory.modes.*"], ["theory.law.x_f__mutmut_1"]
    )
    assert tests == ["verify/test_modes.py"] and globs == ["theory.law.x_f__mutmut_1", "theory.modes.*"]
    with pytest.raises(SystemExit, match=r"'tests/test_nope.py' is neither a test path"):
        mutants.split_tests_and_globs(["tests/test_nope.py"], [])


def test_a_listed_equivalent_that_timed_out_is_not_counted_as_caught():
    # a timeout of a mutant that computes what the original does says the machine was busy, not that a test caught it
    counts = mutants.tally({"m.f__mutmut_1": -24, "m.f__mutmut_2": -24}, equivalent={"m.f__mutmut_1"})
    assert counts["equivalent"] == 1 and counts["timeout"] == 1


def test_the_watchdog_holds_each_child_to_its_own_estimate():
    # mutmut 3.3.1 stopped every child at the smallest estimate of any mutant in its file; the patched watchdog
    # stops a child only past 15 × (its own estimate + 1) seconds. Two real children, both started 20 s ago: the
    # one whose tests are estimated at 0 s (limit 15 s) is stopped with SIGXCPU, the one estimated at 10 s
    # (limit 165 s) keeps running.
    import datetime
    import signal
    import subprocess
    import threading
    import time

    import mutmut.__main__ as mm

    mutants.patch_mutmut_timing()
    data = mm.SourceFileMutationData(path="x.py")
    slow, fast = (subprocess.Popen(["sleep", "60"]) for _ in range(2))
    try:
        for child, estimate in ((fast, 0.0), (slow, 10.0)):
            data.register_pid(pid=child.pid, key=f"x.f__mutmut_{child.pid}", estimated_time_of_tests=estimate)
            data.start_time_by_pid[child.pid] = datetime.datetime.now() - datetime.timedelta(seconds=20)
        data.estimated_time_of_tests_by_mutant = {"x.f__mutmut_1": 0.0, "x.f__mutmut_2": 10.0}
        watch = mm.timeout_checker([(data, "x.f__mutmut_1", None), (data, "x.f__mutmut_2", None)])
        threading.Thread(target=watch, daemon=True).start()
        assert fast.wait(timeout=10) == -signal.SIGXCPU
        time.sleep(1.5)  # a further sweep of the watchdog
        assert slow.poll() is None
    finally:
        data.start_time_by_pid.clear()  # the daemon watchdog outlives the test: leave it no pid to signal
        for child in (slow, fast):
            child.kill()
            child.wait()


def _entry(digests, codes, equivalent=None, runs=None):
    return {"function_sha256": digests, "exit_codes": codes, "runs": runs or [], "equivalent": equivalent or {}}


def test_ledger_merge_takes_an_edited_function_with_its_results_and_keeps_both_branches_runs():
    base = _entry({"x_f": "a", "x_g": "b"}, {"m.x_f__mutmut_1": 0, "m.x_g__mutmut_1": 0})
    # ours edited f (its results reset to the new body's run); theirs killed g's mutant with a new test
    ours = _entry({"x_f": "a2", "x_g": "b"}, {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0, "m.x_g__mutmut_1": 0})
    ours["runs"] = [{"tests": ["t1.py"], "globs": []}]
    theirs = _entry({"x_f": "a", "x_g": "b"}, {"m.x_f__mutmut_1": 0, "m.x_g__mutmut_1": 1})
    theirs["runs"] = [{"tests": ["t2.py"], "globs": []}]
    entry, choices = mutants.merge_ledgers(base, ours, theirs)
    assert entry["function_sha256"] == {"x_f": "a2", "x_g": "b"}
    assert entry["exit_codes"] == {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0, "m.x_g__mutmut_1": 1}
    assert entry["runs"] == [{"tests": ["t1.py"], "globs": []}, {"tests": ["t2.py"], "globs": []}]
    assert choices == []
    # the same from the other side: theirs' edit of f wins over ours' unchanged body
    entry, _ = mutants.merge_ledgers(base, theirs, ours)
    assert entry["function_sha256"]["x_f"] == "a2" and entry["exit_codes"]["m.x_f__mutmut_2"] == 0


def test_ledger_merge_of_one_mutant_rerun_on_both_branches_keeps_the_stronger_outcome():
    base = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": None, "m.x_f__mutmut_2": 36, "m.x_f__mutmut_3": 1})
    ours = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 0, "m.x_f__mutmut_3": 1})
    theirs = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 36, "m.x_f__mutmut_3": 0})
    entry, _ = mutants.merge_ledgers(base, ours, theirs)
    # 1: both re-ran, killed beats survived; 2: only ours re-ran (a pre-fix timeout survived), ours is the news;
    # 3: only theirs re-ran and it survived (a narrower test set): the latest result stands
    assert entry["exit_codes"] == {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0, "m.x_f__mutmut_3": 0}


def test_ledger_merge_reports_a_function_edited_on_both_branches_and_conflicting_reasons():
    base = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": 0}, {"m.x_f__mutmut_1": "old", "m.x_f__mutmut_9": "gone"})
    ours = _entry({"x_f": "a2"}, {"m.x_f__mutmut_1": 1}, {"m.x_f__mutmut_1": "mine", "m.x_f__mutmut_9": "gone"})
    theirs = _entry({"x_f": "a3"}, {"m.x_f__mutmut_1": 0}, {"m.x_f__mutmut_1": "theirs"})
    entry, choices = mutants.merge_ledgers(base, ours, theirs)
    assert entry["function_sha256"] == {"x_f": "a2"} and entry["exit_codes"] == {"m.x_f__mutmut_1": 1}
    # a verdict that theirs deleted is deleted; the two rewritten reasons are a choice, named
    assert entry["equivalent"] == {"m.x_f__mutmut_1": "mine"}
    assert choices == [
        "x_f: edited on both branches; kept ours",
        "m.x_f__mutmut_1: two different equivalence reasons; kept ours",
    ]


def test_gitattributes_names_the_ledger_merge_driver_that_the_tool_implements():
    # .gitattributes routes the ledger files to the driver; `git config merge.mutants-ledger.driver` (README of
    # tools/mutants.py) turns it on. Without the config git falls back to its text merge.
    lines = (ROOT / ".gitattributes").read_text().splitlines()
    assert "tools/mutants_results/**/*.json merge=mutants-ledger" in lines
    assert "merge-ledger %O %A %B" in mutants.__doc__


def test_merge_driver_writes_the_merged_entry_into_ours(tmp_path):
    import json

    base = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 0})
    ours = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0})
    theirs = _entry({"x_f": "a"}, {"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 1})
    paths = []
    for name, entry in (("O", base), ("A", ours), ("B", theirs)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(entry))
    assert mutants.main(["merge-ledger", *map(str, paths)]) == 0
    merged = json.loads(paths[1].read_text())
    assert merged["exit_codes"] == {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 1}
    paths[2].write_text("")
    assert mutants.main(["merge-ledger", *map(str, paths)]) == 1


def test_git_merge_of_two_branches_that_reran_one_module_uses_the_driver(tmp_path):
    import json
    import shutil
    import subprocess
    import sys

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, env={**os.environ, **env})

    ledger = tmp_path / "tools" / "mutants_results" / "theory" / "m.py.json"
    ledger.parent.mkdir(parents=True)

    def write(codes):
        ledger.write_text(json.dumps(_entry({"x_f": "a"}, codes), indent=1) + "\n")

    git("init", "-q", "-b", "main")
    shutil.copy(ROOT / ".gitattributes", tmp_path / ".gitattributes")
    driver = f"{sys.executable} {ROOT / 'tools' / 'mutants.py'} merge-ledger %O %A %B"
    git("config", "merge.mutants-ledger.driver", driver)
    write({"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 0})
    git("add", "-A")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "other")
    write({"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 1})
    git("commit", "-qam", "theirs")
    git("checkout", "-q", "main")
    write({"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0})
    git("commit", "-qam", "ours")
    git("merge", "-q", "--no-edit", "other")  # a text merge of these adjacent lines would conflict
    assert json.loads(ledger.read_text())["exit_codes"] == {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 1}
