"""Shared helpers for the scientific test modules."""

import pytest

from verify.suite import CHECKS, SLOW, run_check


def law_checks(law: str) -> list:
    """pytest parameters for every registered check of ``law`` (ids are the check names; slow ones marked)."""
    return [
        pytest.param(law, name, id=name, marks=[pytest.mark.slow] if name in SLOW.get(law, ()) else [])
        for name in CHECKS[law]
    ]


@pytest.fixture
def assert_check():
    def run(law: str, name: str, seed: int = 0):
        result = run_check(law, name, seed)
        print(result)  # the evidence shows with -rA / on failure
        assert result.passed, str(result)
        return result

    return run
