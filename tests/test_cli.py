"""The lawbook CLI: exit codes and one-line errors."""

import json

import pytest

from verify.cli import main


def test_laws_lists_every_law(capsys):
    from theory import LAWS

    assert main(["laws", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(LAWS)


def test_verify_one_law_passes(capsys):
    assert main(["verify", "nullspace_preservation", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["passed"] for r in rows)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "no_such_law"], "unknown law 'no_such_law'"),
        (["verify", "--seed", "-3"], "seed must be a non-negative integer"),
        (["verify", "--seed", "abc"], "seed must be a non-negative integer"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
