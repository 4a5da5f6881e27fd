"""Mutation testing for lawbook: run mutmut 3 on a chosen part of the tree, then write reports/mutants.md.

`make mutants` runs this script (it is slow: every mutant re-runs the tests that reach the mutated function, so it is
not part of `make test`). Two sub-commands:

    python tools/mutants.py run [--paths theory/modes.py ...] [--tests tests/test_theory.py ...] [GLOB ...]
    python tools/mutants.py report [--out reports/mutants.md]

`run` takes mutmut's configuration from `[tool.mutmut]` in pyproject.toml (all of theory/, simulate/ and verify/,
tested by the non-slow part of the suite) and lets the command line narrow it, so that one module can be measured in
minutes: `--paths` mutates only these files or folders, `--tests` replaces `tests_dir`, and GLOBs (e.g. `theory.modes.*`)
select mutants by name. It always runs one mutant at a time (`--max-children 1`): the machine is shared.

mutmut's own results (`mutants/<path>.meta`) live in its scratch copy of the tree, which the next narrowed run
overwrites and a fresh clone does not have. So after each run, `run` merges them into a committed ledger, one JSON file
per mutated module under `tools/mutants_results/` (e.g. `tools/mutants_results/theory/modes.py.json`): the SHA-256 of
the source of every function when its mutants were run (mutant numbers follow a function's body, so a result holds
as long as that body is unchanged), each mutant's exit code, the test paths of every run that contributed, and the
hand-written verdicts on surviving mutants (`equivalent`: mutant name -> the reason no test can tell it apart). A run
replaces the codes of the mutants it tested and drops those of functions edited since. `report` reads the ledger and
writes a deterministic summary: per module the counts of each outcome and the score, then every surviving mutant with
its reason. A result whose function was edited since it was run is stale: it is not scored, and the function's
mutants count as not run. The score counts a mutant as caught when it was
killed or timed out (a mutant that makes a test hang is detected by the per-test timeout), and leaves out the mutants
listed as equivalent (no test can kill a mutant that computes the same thing) and those no test reaches.

Branches that ran mutants of the same module each change its ledger file. `.gitattributes` routes these files to a
three-way merge that works mutant by mutant (`merge_ledgers`); turn it on once per clone with

    git config merge.mutants-ledger.driver "python tools/mutants.py merge-ledger %O %A %B"

(without it, git merges the JSON as text and usually reports a conflict).

The pure part of the report is testable without mutmut:

>>> outcome_of_exit_code(1), outcome_of_exit_code(0), outcome_of_exit_code(33), outcome_of_exit_code(-24)
('killed', 'survived', 'no tests', 'timeout')
>>> tally({"a.f__mutmut_1": 1, "a.f__mutmut_2": 0}, equivalent={"a.f__mutmut_2"})
{'killed': 1, 'survived': 0, 'equivalent': 1, 'timeout': 0, 'no tests': 0, 'other': 0}
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEDGER_DIR = ROOT / "tools" / "mutants_results"
OUTCOMES = ("killed", "survived", "equivalent", "timeout", "no tests", "other")

# mutmut 3.3.1's meaning of a child's exit status (mutmut.__main__.status_by_exit_code): pytest's 1 is a failing
# test and 3 an internal error (killed), 0 all passed (survived), 5 no test collected and 33 no test reaches the
# function (no tests); the CPU-time limit ends a child with SIGXCPU (-24/24/152), then SIGKILL (-9), and mutmut's
# wall-clock watchdog with 36/255 (timeout). Anything else (a segfault, an interrupt, not run) is "other".
_KILLED = {1, 3}
_SURVIVED = {0}
_NO_TESTS = {33, 5}
_TIMEOUT = {36, -24, 24, 152, 255, -9}


def outcome_of_exit_code(code: int | None) -> str:
    """The outcome of one mutant from the exit status mutmut recorded for it (None: not run yet).

    >>> outcome_of_exit_code(None)
    'other'
    """
    if code in _KILLED:
        return "killed"
    if code in _SURVIVED:
        return "survived"
    if code in _NO_TESTS:
        return "no tests"
    if code in _TIMEOUT:
        return "timeout"
    return "other"


def tally(exit_codes: Mapping[str, int | None], equivalent: set[str]) -> dict[str, int]:
    """Count the outcomes of one module's mutants; a survivor (or timeout) listed in `equivalent` counts as equivalent.

    A listed mutant that was killed stays killed: the list then is wrong, and `report` says so.
    """
    counts = dict.fromkeys(OUTCOMES, 0)
    for name, code in exit_codes.items():
        outcome = outcome_of_exit_code(code)
        # a listed mutant computes what the original does; if it timed out, the machine was busy, not the test right
        if outcome in ("survived", "timeout") and name in equivalent:
            outcome = "equivalent"
        counts[outcome] += 1
    return counts


def score(counts: Mapping[str, int]) -> float | None:
    """Caught / (caught + survived), where caught = killed + timeout; None when there is nothing to score.

    >>> score({"killed": 19, "timeout": 0, "survived": 1})
    0.95
    >>> score({"killed": 0, "timeout": 0, "survived": 0}) is None
    True
    """
    caught = counts["killed"] + counts["timeout"]
    scored = caught + counts["survived"]
    return None if scored == 0 else caught / scored


def function_digests(source: str) -> dict[str, str]:
    r"""SHA-256 of the source text of every function mutmut can mutate, under mutmut's mangled name.

    Top-level functions are `x_<name>`, methods `xǁ<class>ǁ<name>`; the text runs from the `def` line to the end
    of the body (decorators are not part of it: mutmut leaves decorated functions alone).

    >>> sorted(function_digests("def f():\n    return 1\nclass C:\n    def g(self):\n        pass\n"))
    ['x_f', 'xǁCǁg']
    """
    lines = source.splitlines()
    digests: dict[str, str] = {}

    def add(name: str, node: ast.AST) -> None:
        text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        digests[name] = hashlib.sha256(text.encode()).hexdigest()

    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            add(f"x_{node.name}", node)
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    add(f"xǁ{node.name}ǁ{member.name}", member)
    return digests


def function_of(mutant: str) -> str:
    """The mangled function a mutant belongs to.

    >>> function_of("theory.modes.x_depth_rhs__mutmut_12"), function_of("verify.a.xǁAgreementǁpassed__mutmut_1")
    ('x_depth_rhs', 'xǁAgreementǁpassed')
    """
    return mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]


def current_codes(entry: Mapping, digests: Mapping[str, str]) -> tuple[dict[str, int | None], int]:
    """The exit codes of an entry whose functions are unchanged in the source (`digests`), and how many are stale.

    >>> entry = {"function_sha256": {"x_f": "a", "x_g": "b"}, "exit_codes": {"m.x_f__mutmut_1": 1, "m.x_g__mutmut_1": 0}}
    >>> current_codes(entry, {"x_f": "a", "x_g": "changed"})
    ({'m.x_f__mutmut_1': 1}, 1)
    """
    recorded = entry["function_sha256"]
    kept = {}
    for name, code in entry["exit_codes"].items():
        function = function_of(name)
        if function in digests and recorded.get(function) == digests[function]:
            kept[name] = code
    return kept, len(entry["exit_codes"]) - len(kept)


def check_equivalent(table: object, where: str) -> dict[str, str]:
    """Validate hand-written verdicts: a JSON object {mutant name: one-line reason}.

    >>> check_equivalent({"m.x_f__mutmut_1": "same value"}, "ledger")
    {'m.x_f__mutmut_1': 'same value'}
    """
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a JSON object {{mutant name: reason}}, got {type(table).__name__}")
    for name, reason in table.items():
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{where}: equivalent mutant {name!r} needs a one-line reason string, got {reason!r}")
    return dict(table)


def ledger_path(module: str, ledger_dir: Path = LEDGER_DIR) -> Path:
    """Where a module's results are kept: `theory/modes.py` -> tools/mutants_results/theory/modes.py.json."""
    return ledger_dir / f"{module}.json"


def load_ledger(ledger_dir: Path = LEDGER_DIR) -> dict[str, dict]:
    """Module path -> its ledger entry (function_sha256, exit_codes, runs, equivalent), validated.

    >>> load_ledger(Path("/nonexistent"))
    {}
    """
    ledger: dict[str, dict] = {}
    if not ledger_dir.is_dir():
        return ledger
    for path in sorted(ledger_dir.rglob("*.py.json")):
        module = path.relative_to(ledger_dir).as_posix().removesuffix(".json")
        entry = json.loads(path.read_text())
        missing = {"function_sha256", "exit_codes", "runs", "equivalent"} - set(entry)
        if missing:
            raise ValueError(f"{path}: ledger entry lacks {sorted(missing)}; rewrite it with `tools/mutants.py run`")
        entry["equivalent"] = check_equivalent(entry["equivalent"], str(path))
        ledger[module] = entry
    return ledger


def merge_run(
    entry: Mapping | None,
    digests: Mapping[str, str],
    codes: Mapping[str, int | None],
    tests: Sequence[str],
    globs: Sequence[str],
) -> dict:
    """The ledger entry after a run on a source whose functions have `digests`.

    Codes of mutants this run tested replace the old ones; old codes of functions edited since are dropped (a
    mutant's number follows its function's body). Verdicts on equivalent mutants are kept (the report flags any
    that a test kills).

    >>> old = {"function_sha256": {"f": "a", "g": "b"}, "exit_codes": {"m.f__mutmut_1": 0, "m.g__mutmut_1": 0},
    ...        "runs": [], "equivalent": {}}
    >>> merge_run(old, {"f": "a", "g": "b"}, {"m.f__mutmut_1": 1, "m.g__mutmut_1": None}, ["t.py"], [])["exit_codes"]
    {'m.f__mutmut_1': 1, 'm.g__mutmut_1': 0}
    >>> merge_run(old, {"f": "a", "g": "new"}, {"m.g__mutmut_1": None}, ["t.py"], [])["exit_codes"]
    {'m.f__mutmut_1': 0, 'm.g__mutmut_1': None}
    """
    merged: dict[str, int | None] = {}
    runs: list = []
    if entry is not None:
        merged, _ = current_codes(entry, digests)
        runs = list(entry["runs"])
    for name, code in codes.items():
        if code is not None or name not in merged:
            merged[name] = code
    run = {"tests": list(tests), "globs": list(globs)}
    if run not in runs:
        runs.append(run)
    return {
        "function_sha256": dict(sorted(digests.items())),
        "exit_codes": dict(sorted(merged.items())),
        "runs": runs,
        "equivalent": dict(sorted((entry or {}).get("equivalent", {}).items())),
    }


def write_ledger_entry(module: str, entry: Mapping, ledger_dir: Path = LEDGER_DIR) -> None:
    path = ledger_path(module, ledger_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n")


_RANK = {"killed": 4, "timeout": 3, "survived": 2, "no tests": 1, "other": 0}


def _rank(code: int | None) -> int:
    return -1 if code is None else _RANK[outcome_of_exit_code(code)]


def _three_way(base: object, ours: object, theirs: object) -> object:
    """The side that changed (theirs when both did): the usual rule of a three-way merge for one value."""
    return theirs if ours == base else ours


def merge_ledgers(base: Mapping | None, ours: Mapping, theirs: Mapping) -> tuple[dict, list[str]]:
    """Three-way merge of one module's ledger entry from two branches; returns the entry and what needed a choice.

    Per function, the body whose digest changed wins, with its mutants' codes (a branch that edited a function reset
    its results). Where both branches hold the same body, each mutant's code is merged three-way; when both re-ran
    it, the stronger outcome wins (killed > timeout > survived > no tests): tests are only ever added, so a mutant
    that one branch's tests kill is killed by the union. Runs are united; verdicts on equivalent mutants are merged
    key by key. A function that both branches edited keeps ours and is reported (its results go stale when the merged
    source differs from both, and the report then counts its mutants as not run).

    >>> base = {"function_sha256": {"x_f": "a"}, "exit_codes": {"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 0},
    ...         "runs": [], "equivalent": {}}
    >>> ours = {**base, "exit_codes": {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0}, "runs": [{"tests": ["a.py"]}]}
    >>> theirs = {**base, "exit_codes": {"m.x_f__mutmut_1": 0, "m.x_f__mutmut_2": 1},
    ...           "equivalent": {"m.x_f__mutmut_3": "same value"}}
    >>> entry, choices = merge_ledgers(base, ours, theirs)
    >>> entry["exit_codes"], entry["equivalent"], choices
    ({'m.x_f__mutmut_1': 1, 'm.x_f__mutmut_2': 1}, {'m.x_f__mutmut_3': 'same value'}, [])
    """
    base = base or {"function_sha256": {}, "exit_codes": {}, "runs": [], "equivalent": {}}
    choices: list[str] = []
    sides = (base, ours, theirs)
    by_function: list[dict[str, dict[str, int | None]]] = []
    for side in sides:
        grouped: dict[str, dict[str, int | None]] = {}
        for name, code in side["exit_codes"].items():
            grouped.setdefault(function_of(name), {})[name] = code
        by_function.append(grouped)
    digests: dict[str, str] = {}
    codes: dict[str, int | None] = {}
    functions = set(ours["function_sha256"]) | set(theirs["function_sha256"])
    for function in sorted(functions):
        d_base, d_ours, d_theirs = (side["function_sha256"].get(function) for side in sides)
        c_base, c_ours, c_theirs = (grouped.get(function, {}) for grouped in by_function)
        if d_ours != d_theirs:
            if d_ours not in (d_base, None) and d_theirs not in (d_base, None):
                choices.append(f"{function}: edited on both branches; kept ours")
            take_theirs = d_theirs is not None and (d_ours is None or d_ours == d_base)
            digests[function] = d_theirs if take_theirs else d_ours
            codes.update(c_theirs if take_theirs else c_ours)
            continue
        digests[function] = d_ours
        if d_base != d_ours:
            c_base = {}
        for name in sorted(set(c_ours) | set(c_theirs)):
            old = c_base.get(name)
            mine, other = c_ours.get(name, old), c_theirs.get(name, old)
            if mine != old and other != old:
                codes[name] = max(mine, other, key=_rank)
            else:
                codes[name] = _three_way(old, mine, other)
    runs = list(ours["runs"]) + [run for run in theirs["runs"] if run not in ours["runs"]]
    equivalent: dict[str, str] = {}
    for name in sorted(set(base["equivalent"]) | set(ours["equivalent"]) | set(theirs["equivalent"])):
        old, mine, other = (side["equivalent"].get(name) for side in sides)
        if mine is not None and other is not None and mine != other and old not in (mine, other):
            choices.append(f"{name}: two different equivalence reasons; kept ours")
            reason = mine
        else:
            reason = _three_way(old, mine, other)
        if reason is not None:
            equivalent[name] = reason
    entry = {
        "function_sha256": digests,
        "exit_codes": dict(sorted(codes.items())),
        "runs": runs,
        "equivalent": equivalent,
    }
    return entry, choices


def _merge_driver(base_path: Path, ours_path: Path, theirs_path: Path) -> int:
    """git merge driver: `python tools/mutants.py merge-ledger %O %A %B` writes the merged entry into %A."""
    sides = []
    for path in (base_path, ours_path, theirs_path):
        text = path.read_text() if path.exists() else ""
        sides.append(json.loads(text) if text.strip() else None)
    base, ours, theirs = sides
    if ours is None or theirs is None:
        print(f"merge-ledger: {ours_path if ours is None else theirs_path} is empty; merge it by hand", file=sys.stderr)
        return 1
    entry, choices = merge_ledgers(base, ours, theirs)
    for choice in choices:
        print(f"merge-ledger: {choice}", file=sys.stderr)
    ours_path.write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n")
    return 0


def read_meta(mutants_dir: Path) -> dict[str, dict[str, int | None]]:
    """Module path (e.g. 'theory/modes.py') -> {mutant name: exit code} from mutmut's `.meta` files."""
    results: dict[str, dict[str, int | None]] = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        module = meta.relative_to(mutants_dir).as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            results[module] = dict(codes)
    return results


def _is_dataclass_decorator(expression: object) -> bool:
    import libcst as cst

    if isinstance(expression, cst.Call):
        expression = expression.func
    if isinstance(expression, cst.Attribute):
        expression = expression.attr
    return isinstance(expression, cst.Name) and expression.value == "dataclass"


def patch_mutmut() -> None:
    r"""Let mutmut mutate the methods of `@dataclass` classes (idempotent).

    mutmut 3.3.1 leaves every decorated class and function alone: a decorator runs at definition time and may not
    survive being copied next to its mutants. For a dataclass that is needlessly strict: the decorator only reads the
    annotated fields, the methods are plain functions that mutmut's trampolines can stand in for, and mutations of
    the decorator's own arguments are never applied (mutmut keeps only mutations inside a function or method). Left
    alone, it hid methods such as `verify.suite.Fault.clock` and every `Law` method from the score. Decorated
    functions (`@property`, caches, registrations) stay skipped.

    >>> from mutmut.file_mutation import mutate_file_contents
    >>> source = "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass A:\n    x: int\n    def f(self):\n        return self.x + 1\n"
    >>> patch_mutmut(); len(mutate_file_contents("a.py", source)[1]) > 0
    True
    """
    import libcst as cst
    from mutmut import file_mutation

    visitor = file_mutation.MutationVisitor
    if getattr(visitor, "_lawbook_dataclasses", False):
        return
    original = visitor._skip_node_and_children

    def skip(self: object, node: object) -> bool:
        if isinstance(node, cst.ClassDef) and all(_is_dataclass_decorator(d.decorator) for d in node.decorators):
            return False
        return original(self, node)

    visitor._skip_node_and_children = skip
    visitor._lawbook_dataclasses = True


def wall_limit(estimate: float) -> float:
    """Seconds of wall time after which a mutant's child is stopped as a timeout: mutmut's rule, 15 × (estimate + 1),
    where the estimate is the clean wall time of that mutant's own tests.

    >>> wall_limit(0.0), wall_limit(3.0)
    (15.0, 60.0)
    """
    return 15.0 * (estimate + 1.0)


def patch_mutmut_timing() -> None:
    """Make mutmut 3.3.1's timeouts mean what they say (idempotent): two bugs made "timeout" a verdict of load.

    1. Test durations: its stats collector stores each report phase's duration, so the teardown's overwrites the
       test's: every estimate was ≈ 0 (CPU limit 30 s, wall limit 15 s, whatever the tests cost). Here a test's
       duration is the sum of its setup, call and teardown.
    2. The wall-clock watchdog compares every running child with the estimate of every mutant of its file (a loop
       variable leaks into the inner loop), so a child was stopped at the smallest estimate in the file. Here each
       child is held to its own mutant's estimate (`wall_limit`).

    Measured before the fix: 34 of the first 48 mutants of `verify.suite.riccati` (2 cores, load 6) were stopped as
    "timeouts" although they fail in under 10 s of CPU; those timeouts counted as caught.
    """
    import signal
    import time
    from datetime import datetime

    import mutmut
    import mutmut.__main__ as mm
    import pytest

    if getattr(mm, "_lawbook_timing", False):
        return

    class Durations:
        def __init__(self) -> None:
            self.total: dict[str, float] = {}

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item: object, call: object):  # type: ignore[no-untyped-def]
            yield  # after mutmut's own hook, which stored this phase's duration alone
            nodeid = item.nodeid  # type: ignore[attr-defined]
            self.total[nodeid] = self.total.get(nodeid, 0.0) + call.duration  # type: ignore[attr-defined]
            mutmut.duration_by_test[nodeid] = self.total[nodeid]

    execute = mm.PytestRunner.execute_pytest

    def execute_pytest(self: object, params: list[str], **kwargs: object) -> int:
        if "plugins" in kwargs:  # only the stats run passes plugins
            kwargs["plugins"] = [*kwargs["plugins"], Durations()]  # type: ignore[misc]
        return execute(self, params, **kwargs)

    def timeout_checker(mutants: Sequence[tuple[object, str, object]]):  # type: ignore[no-untyped-def]
        files = list({id(m): m for m, _, _ in mutants}.values())

        def watch() -> None:
            while True:
                time.sleep(1)
                now = datetime.now()
                for m in files:
                    with mm.START_TIMES_BY_PID_LOCK:
                        started = dict(m.start_time_by_pid)  # type: ignore[attr-defined]
                        estimates = dict(m.estimated_time_of_tests_by_pid)  # type: ignore[attr-defined]
                    for pid, start in started.items():
                        if (now - start).total_seconds() > wall_limit(estimates.get(pid, 0.0)):
                            try:
                                os.kill(pid, signal.SIGXCPU)
                            except ProcessLookupError:
                                pass

        return watch

    mm.PytestRunner.execute_pytest = execute_pytest
    mm.timeout_checker = timeout_checker
    mm._lawbook_timing = True


def mutant_changes(source_path: Path, names: Sequence[str]) -> dict[str, str]:
    """Mutant name -> its change as `old ⟶ new` (the changed lines, stripped), regenerated from the source.

    mutmut keeps every mutant as a function next to the original in mutants/<path>; a later run that narrows
    `--paths` overwrites that copy, so the change is rebuilt from the original source with mutmut's own generator
    (deterministic: the same source gives the same numbered mutants).
    """
    import libcst as cst
    from mutmut.file_mutation import mutate_file_contents

    patch_mutmut()
    code, _ = mutate_file_contents(str(source_path), source_path.read_text())
    module = cst.parse_module(code)
    functions: dict[str, list[str]] = {}
    for node in module.body:
        members = node.body.body if isinstance(node, cst.ClassDef) else [node]
        for member in members:
            if isinstance(member, cst.FunctionDef):
                # the body only: the `def` line differs between every mutant and the original by its name
                body = module.code_for_node(member.body).splitlines()
                functions[member.name.value] = body
    changes = {}
    for name in names:
        short = name.rsplit(".", 1)[-1]
        original = functions[short.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"]
        diff = list(difflib.ndiff(original, functions[short]))
        old = " ".join(line[2:].strip() for line in diff if line.startswith("- "))
        new = " ".join(line[2:].strip() for line in diff if line.startswith("+ "))
        changes[name] = f"`{old}` ⟶ `{new}`"
    return changes


def generated_mutants() -> dict[str, int]:
    """Module path -> how many mutants mutmut generates for it, over [tool.mutmut]'s paths less do_not_mutate."""
    import fnmatch

    import mutmut
    import mutmut.__main__ as mm
    from mutmut.file_mutation import mutate_file_contents

    patch_mutmut()
    cwd = Path.cwd()
    os.chdir(ROOT)  # mutmut reads pyproject.toml and walks the paths relative to the working directory
    try:
        mm.ensure_config_loaded()
        config = mutmut.config
        counts = {}
        for root, filename in mm.walk_all_files():
            path = Path(root) / filename
            if path.suffix != ".py" or any(fnmatch.fnmatch(str(path), p) for p in config.do_not_mutate):
                continue
            _, names = mutate_file_contents(str(path), path.read_text())
            if names:
                counts[path.as_posix()] = len(names)
    finally:
        os.chdir(cwd)
    return counts


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def render(
    results: Mapping[str, Mapping[str, int | None]],
    equivalent: Mapping[str, str],
    *,
    command: str,
    changes: Mapping[str, str] | None = None,
    generated: Mapping[str, int] | None = None,
    stale: Mapping[str, int] | None = None,
) -> str:
    """The markdown summary: a table per module, the total, then every survivor and every equivalent mutant.

    `results` holds the current codes only (`current_codes`); `generated` is how many mutants mutmut makes of each
    module now, so the ones without a result are counted as not run; `stale` counts the dropped results per module.

    >>> text = render({"theory/a.py": {"theory.a.x_f__mutmut_1": 1}}, {}, command="make mutants")
    >>> "| theory/a.py | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 100.0% |" in text
    True
    """
    lines = [
        "# Mutation testing",
        "",
        f"Generated by `python tools/mutants.py report` from the ledger that `{command}` keeps in tools/mutants_results/",
        "(mutmut 3.3.1, one worker; the tests given to each module's runs are listed there).",
        "Score = (killed + timeout) / (killed + timeout + survived); equivalent mutants (listed below with the reason",
        "no test can tell them apart from the original), mutants that no test reaches and mutants not run (never, or",
        "not since their function was edited) are left out of the score.",
        "",
        "| module | mutants | killed | survived | equivalent | timeout | no tests | not run | score |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    total = dict.fromkeys(OUTCOMES, 0)
    n_mutants = n_not_run = 0
    survivors: list[str] = []
    generated = generated or {}
    stale = stale or {}
    for module in sorted(set(results) | set(generated)):
        codes = results.get(module, {})
        counts = tally(codes, set(equivalent))
        for key in OUTCOMES:
            total[key] += counts[key]
        made = max(generated.get(module, 0), len(codes))
        not_run = made - len(codes) + counts["other"]
        n_mutants += made
        n_not_run += not_run
        lines.append(
            f"| {module} | {made} | {counts['killed']} | {counts['survived']} | {counts['equivalent']} | "
            f"{counts['timeout']} | {counts['no tests']} | {not_run} | {_percent(score(counts))} |"
        )
        survivors += [n for n, c in codes.items() if outcome_of_exit_code(c) == "survived" and n not in equivalent]
    lines.append(
        f"| **total** | {n_mutants} | {total['killed']} | {total['survived']} | {total['equivalent']} | "
        f"{total['timeout']} | {total['no tests']} | {n_not_run} | {_percent(score(total))} |"
    )
    dropped = {m: n for m, n in sorted(stale.items()) if n}
    if dropped:
        lines += [
            "",
            "Results dropped because their function was edited after the run (counted as not run): "
            + ", ".join(f"{m} {n}" for m, n in dropped.items())
            + ".",
        ]
    lines += ["", "## Surviving mutants (not yet killed, not shown equivalent)", ""]
    changes = changes or {}
    lines += [f"- `{n}`: {changes.get(n, '')}".rstrip(": ") for n in sorted(survivors)] or ["None."]
    seen = {n for codes in results.values() for n in codes}
    lines += ["", "## Equivalent mutants", ""]
    lines += [f"- `{n}`: {changes.get(n, '')} — {equivalent[n]}" for n in sorted(equivalent) if n in seen] or ["None."]
    wrong = sorted(
        n for n in equivalent if any(outcome_of_exit_code(codes.get(n)) == "killed" for codes in results.values())
    )
    if wrong:
        lines += ["", "Listed as equivalent but killed (the list is wrong): " + ", ".join(f"`{n}`" for n in wrong)]
    return "\n".join(lines) + "\n"


# Tests that start a fresh Python process which imports the mutated packages. In mutmut's stats run that process hits a
# trampoline without mutmut's configuration and crashes, so these cannot take part; they test import hygiene and the
# command-line process, not the laws, and `make test` still runs them.
SUBPROCESS_TESTS = (
    "tests/test_cli.py::test_unknown_names_are_refused_before_torch_is_imported",
    "tests/test_discover_backends.py::test_importing_discover_imports_no_engine",
    "tests/test_report.py::test_interrupt_prints_one_line_and_leaves_the_report",
    "tests/test_theory.py::test_theory_imports_nothing_of_the_other_packages",
)

# Options for every pytest run mutmut makes (it calls pytest.main in-process, which reads PYTEST_ADDOPTS): the slow
# scientific checks are left out (each mutant re-runs every test that reaches it; the slow ones would make a run
# take days), pytest's cache is not written into mutants/, and no traceback is formatted (mutmut reads only the exit
# status, and pytest parses the whole source file for each traceback entry: the mutated copy of verify/suite/riccati.py
# has 69 000 lines, and formatting one failure cost 4.5 s of CPU, more than most checks take to run).
#
# A module given to --tests for its doctests is collected from mutants/, where every mutant is a copy of its function
# with its docstring: `-k` keeps the examples of the original (`x_f__mutmut_orig`, whose examples call the trampoline,
# so they test the mutant under test) and drops the hundreds of copies (measured: 5 of 86 doctests of the mutated
# verify/suite/riccati.py are originals).
PYTEST_OPTIONS = ["-m", "not slow", "-p", "no:cacheprovider", "--tb=no", "-k", "not __mutmut_ or __mutmut_orig"] + [
    f"--deselect={t}" for t in SUBPROCESS_TESTS
]


def _run(paths: Sequence[str], tests: Sequence[str], globs: Sequence[str], deselect: Sequence[str] = ()) -> None:
    # mutmut reads pyproject.toml from the working directory and copies the tree into ./mutants.
    os.chdir(ROOT)
    options = PYTEST_OPTIONS + [f"--deselect={t}" for t in deselect]
    os.environ["PYTEST_ADDOPTS"] = " ".join(shlex.quote(o) for o in options)
    import mutmut
    import mutmut.__main__ as mm

    mm.ensure_config_loaded()
    # mutmut 3.3.1 records which test reached a function through `item._nodeid`, a private attribute that pytest 9
    # no longer has (it is `nodeid`). Without it the stats run fails at the first teardown; restore the old name.
    from _pytest.nodes import Node

    if not hasattr(Node, "_nodeid"):
        Node._nodeid = property(lambda node: node.nodeid)
    patch_mutmut()
    patch_mutmut_timing()
    if paths:
        # Narrow by excluding the other files from mutation, not by shrinking paths_to_mutate: mutmut copies only
        # paths_to_mutate into mutants/, and a half-copied package would import the original from the editable
        # install instead of the mutant.
        wanted = [Path(p) for p in paths]
        for source in mm.walk_source_files():
            if not any(source == w or w in source.parents for w in wanted):
                mutmut.config.do_not_mutate.append(str(source))
    if tests:
        mutmut.config.tests_dir = list(tests)
    # mutmut keeps the map test -> functions it reaches in mutants/mutmut-stats.json and, when the file exists, only
    # re-runs the tests it has not seen. That map was made with the trampolines of the previous run's --paths and the
    # previous version of each test, so a narrowed run on other modules would find no test (or too few) for their
    # functions and report false survivors. Every run collects it afresh.
    (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    mutated = {p.as_posix() for p in mm.walk_source_files()} - set(mutmut.config.do_not_mutate)
    # The digests of the source that mutmut copies now, not of the source after the run: a function edited while the
    # run goes on must not be credited with the results of its old body.
    digests_at_start = {module: function_digests((ROOT / module).read_text()) for module in mutated}
    mm._run(list(globs), 1)
    ledger = load_ledger()
    for module, codes in read_meta(ROOT / "mutants").items():
        if module not in mutated:
            continue
        digests = digests_at_start[module]
        entry = merge_run(ledger.get(module), digests, codes, tests or mutmut.config.tests_dir, globs)
        write_ledger_entry(module, entry)


def split_tests_and_globs(tests: Sequence[str], globs: Sequence[str]) -> tuple[list[str], list[str]]:
    """Mutant-name globs written after `--tests` (argparse gives them to `--tests`) back to the globs.

    A test path must exist (under the project root); a mutant name is dotted, with no `/` and no `.py`
    (`theory.modes.x_f__mutmut_3`, `'theory.modes.*'`). Anything else is refused, naming it.

    >>> split_tests_and_globs(["tests/test_theory.py", "theory.modes.x_f*"], [])
    (['tests/test_theory.py'], ['theory.modes.x_f*'])
    """
    paths, names = [], list(globs)
    for item in tests:
        if (ROOT / item.split("::")[0]).exists():
            paths.append(item)
        elif "." in item and "/" not in item and not item.endswith(".py"):
            names.append(item)
        else:
            raise SystemExit(f"--tests: {item!r} is neither a test path under {ROOT} nor a mutant name glob")
    return paths, names


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `run` (mutmut, one worker) or `report` (write the summary)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run mutmut (one worker) on [tool.mutmut], narrowed by the options")
    p_run.add_argument("--paths", nargs="*", default=[], help="mutate only these files or folders")
    p_run.add_argument("--tests", nargs="*", default=[], help="pytest paths to run (replaces tests_dir)")
    p_run.add_argument(
        "--deselect", nargs="*", default=[], help="test ids to leave out (e.g. one failing on the branch)"
    )
    p_run.add_argument("globs", nargs="*", help="mutant-name globs, e.g. 'theory.modes.*' (default: all)")
    p_merge = sub.add_parser(
        "merge-ledger", help="git merge driver for ledger files: merge-ledger %%O %%A %%B (see .gitattributes)"
    )
    p_merge.add_argument("base", type=Path)
    p_merge.add_argument("ours", type=Path, help="written with the merged entry")
    p_merge.add_argument("theirs", type=Path)
    p_report = sub.add_parser("report", help="write the summary of mutmut's results")
    p_report.add_argument("--out", type=Path, default=ROOT / "reports" / "mutants.md")
    p_report.add_argument("--ledger", type=Path, default=LEDGER_DIR, help="the results ledger (one JSON per module)")
    p_report.add_argument(
        "--command", dest="run_command", default="make mutants", help="the run command, named in the report"
    )
    p_report.add_argument("--notes", type=Path, help="a markdown file of measurements, appended verbatim")
    args = parser.parse_args(argv)
    if args.command == "run":
        tests, globs = split_tests_and_globs(args.tests, args.globs)
        _run(args.paths, tests, globs, args.deselect)
        return 0
    if args.command == "merge-ledger":
        return _merge_driver(args.base, args.ours, args.theirs)
    ledger = load_ledger(args.ledger)
    if not ledger:
        raise SystemExit(f"no mutation results in {args.ledger}: run `python tools/mutants.py run` first")
    results: dict[str, dict[str, int | None]] = {}
    stale: dict[str, int] = {}
    for module, entry in ledger.items():
        source = ROOT / module
        digests = function_digests(source.read_text()) if source.exists() else {}
        results[module], stale[module] = current_codes(entry, digests)
    equivalent = {name: reason for entry in ledger.values() for name, reason in entry["equivalent"].items()}
    changes: dict[str, str] = {}
    for module, codes in results.items():
        listed = [n for n, c in codes.items() if outcome_of_exit_code(c) == "survived" or n in equivalent]
        if listed:
            changes.update(mutant_changes(ROOT / module, listed))
    text = render(
        results, equivalent, command=args.run_command, changes=changes, generated=generated_mutants(), stale=stale
    )
    if args.notes is not None:
        text += "\n" + args.notes.read_text()
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
