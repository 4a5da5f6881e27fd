"""The committed report pages are what the code computes now.

`reports/` is the published record of every check's verdict and numbers; `lawbook report` regenerates it and the
same seed gives the same bytes on any machine (DESIGN.md). These tests re-run every check at the seed its law's page
names and compare its row of the check table, so a change to a check, a law or a simulation that moves a reported
number (or a verdict, or the planted faults) cannot land with a stale page: regenerate with `lawbook report`.
One test per check (not per law) keeps a failure pointed at its check, and lets mutation testing re-run only the
check a mutant touches. Discovery sections and figures are left to `make report` (a search per problem is minutes,
not seconds).
"""

import difflib
import re
from pathlib import Path

import pytest

from verify.report import check_row
from verify.suite import CHECKS, run_check

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def _committed(law: str, reports: Path) -> tuple[int, dict[str, str]]:
    """The seed of `law`'s committed page and its check rows by check name (in the page's order)."""
    text = (reports / f"{law}.md").read_text()
    seed = re.search(r"^Seed (\d+), full run\.", text, re.M)
    assert seed, f"reports/{law}.md names no seed of a full run; regenerate it with `lawbook report`"
    table = text.split("| check | result | must fail at | evidence |")[1].split("\n\n")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return int(seed.group(1)), {row.split("`")[1]: row for row in rows}


def stale_row(law: str, name: str, reports: Path = REPORTS) -> str:
    """A diff of the committed row of check `law.name` against a re-run at the page's seed ('' when current)."""
    seed, committed = _committed(law, reports)
    now = check_row(run_check(law, name, seed))
    before = [committed[name]] if name in committed else []
    return "\n".join(difflib.unified_diff(before, [now], "committed", "now", lineterm=""))


def test_every_law_with_checks_has_a_committed_page():
    missing = [law for law in CHECKS if not (REPORTS / f"{law}.md").is_file()]
    assert not missing, f"no committed page for {missing}: run `lawbook report`"


@pytest.mark.parametrize("law", sorted(CHECKS))
def test_committed_table_lists_every_check_in_order(law):
    _, rows = _committed(law, REPORTS)
    assert list(rows) == list(CHECKS[law]), (
        f"reports/{law}.md lists checks {list(rows)}, the suite registers {list(CHECKS[law])}: run `lawbook report`"
    )


@pytest.mark.parametrize(
    ("law", "name"), [(law, name) for law in sorted(CHECKS) for name in CHECKS[law]], ids=lambda v: v
)
def test_committed_check_row_is_current(law, name):
    diff = stale_row(law, name)
    assert not diff, f"reports/{law}.md is stale (run `lawbook report`):\n{diff}"


def test_a_changed_digit_in_a_committed_row_is_seen(tmp_path):
    # the comparison can fail: one digit changed in a committed row shows up in the diff, with the row
    law = "logistic_mode"
    page = (REPORTS / f"{law}.md").read_text()
    _, rows = _committed(law, REPORTS)
    name, row = list(rows.items())[-1]
    digit = re.search(r"\d(?=\.\d)", row)
    changed = row[: digit.start()] + str((int(digit.group()) + 1) % 10) + row[digit.end() :]
    (tmp_path / f"{law}.md").write_text(page.replace(row, changed))
    diff = stale_row(law, name, tmp_path)
    assert f"-{changed}" in diff.splitlines() and f"+{row}" in diff.splitlines()
