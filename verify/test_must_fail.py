"""Every registered check must be able to fail (issue 9): each is run under every fault it declares (a clock, a
learning rate or a quantity of the law off by a stated relative δ) and must report FAIL.

A check that declares a fault but never threads it into its computation passes under it, and fails here; a
check registered without any fault fails `test_every_check_declares_a_fault`.
"""

from __future__ import annotations

import pytest

from verify.suite import CHECKS, FAULTS, SLOW, Fault, check, run_check


def _planted() -> list:
    return [
        pytest.param(
            law,
            name,
            Fault(kind, size),
            id=f"{law}.{name}[{kind}={size:g}]",
            marks=[pytest.mark.slow] if name in SLOW.get(law, ()) else [],
        )
        for law, checks in CHECKS.items()
        for name in checks
        for kind, size in FAULTS[law][name].items()
    ]


def test_every_check_declares_a_fault():
    missing = [f"{law}.{name}" for law, checks in CHECKS.items() for name in checks if not FAULTS[law][name]]
    assert not missing, f"checks that declare no fault they must fail on: {', '.join(missing)}"


@pytest.mark.parametrize(("law", "name", "fault"), _planted())
def test_check_fails_under_its_planted_fault(law: str, name: str, fault: Fault):
    result = run_check(law, name, seed=0, fault=fault)
    print(result)
    assert not result.passed, f"{law}.{name} passed with a planted fault ({fault}): {result.summary}"


def test_faults_are_validated():
    with pytest.raises(ValueError, match="unknown fault kind 'tau'"):
        Fault("tau", 1e-6)
    with pytest.raises(ValueError, match="finite"):
        Fault("clock", float("nan"))
    with pytest.raises(ValueError, match="nonzero size"):
        Fault("clock", 0.0)


def test_a_check_without_a_fault_it_must_fail_on_is_refused():
    with pytest.raises(ValueError, match="declares no fault it must fail on"):
        check("logistic_mode", "never_registered", faults={})
    with pytest.raises(ValueError, match="unknown fault kind"):
        check("logistic_mode", "never_registered", faults={"tau": 1e-6})
