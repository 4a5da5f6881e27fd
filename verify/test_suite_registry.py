"""The check registry of `verify.suite`: planted faults, registration, the runners and the shared helpers.

What a user of `lawbook verify` relies on: a fault changes exactly the quantity of its kind by exactly 1 + δ (a
sympy quantity by the float's exact value), a bad fault or registration is refused with a message naming the
problem, a planted fault is named in the check's summary, and an unknown law or check is answered with the known ones.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
import sympy as sp

from verify.agreement import Agreement
from verify.suite import (
    _REGISTRY,
    CHECKS,
    FAULTS,
    NO_FAULT,
    SLOW,
    Check,
    Fault,
    _load,
    check,
    identity,
    richardson,
    richardson_text,
    run_check,
    run_law,
)

# ---- Check and Fault ----------------------------------------------------------------------------------------------


def test_a_check_prints_its_verdict_law_name_and_summary():
    assert str(Check("logistic_mode", "x", True, "err 1e-3")) == "[PASS] logistic_mode.x: err 1e-3"
    assert str(Check("layer_balance", "y", False, "drift 2")) == "[FAIL] layer_balance.y: drift 2"


@pytest.mark.parametrize("kind", ["clock", "rate", "law"])
def test_a_fault_scales_only_the_quantity_of_its_kind_by_one_plus_delta(kind):
    fault = Fault(kind, 0.5)
    got = (fault.clock(2.0), fault.rate(4.0), fault.law(8.0))
    want = {"clock": (3.0, 4.0, 8.0), "rate": (2.0, 6.0, 8.0), "law": (2.0, 4.0, 12.0)}[kind]
    assert got == want
    arr = np.array([1.0, -2.0])
    np.testing.assert_array_equal(getattr(fault, kind)(arr), 1.5 * arr)


def test_no_fault_changes_nothing():
    x = sp.Symbol("x")
    assert (NO_FAULT.clock(2.0), NO_FAULT.rate(0.01), NO_FAULT.law(x)) == (2.0, 0.01, x)
    assert NO_FAULT.kind == "none" and NO_FAULT.size == 0


def test_a_symbolic_quantity_is_scaled_by_the_exact_value_of_the_float():
    # 0.1 is not 1/10 in binary: a 60-digit check must see the fault the float run sees, 1 + 0.1000000000000000055…
    x = sp.Symbol("x")
    scaled = Fault("law", 0.1).law(x)
    assert scaled == x * (1 + sp.Rational(0.1)) and scaled != x * sp.Rational(11, 10)
    matrix = Fault("clock", 0.5).clock(sp.Matrix([[x, 1]]))
    assert matrix == sp.Matrix([[sp.Rational(3, 2) * x, sp.Rational(3, 2)]])


def test_a_fault_prints_its_kind_sign_and_size():
    assert str(Fault("clock", 1e-6)) == "clock × (1 + 1e-06)"
    assert str(Fault("rate", -0.001)) == "rate × (1 − 0.001)"
    assert str(NO_FAULT) == "no fault"


@pytest.mark.parametrize(
    ("kind", "size", "match"),
    [
        ("tick", 1e-6, r"unknown fault kind 'tick'; known: clock, rate, law"),
        ("clock", float("inf"), r"fault size must be a finite number, got inf"),
        ("clock", float("nan"), r"fault size must be a finite number, got nan"),
        ("clock", "1e-6", r"fault size must be a finite number, got '1e-6'"),
        ("clock", 0.0, r"a fault of kind 'none' has size 0, and a planted fault a nonzero size"),
        ("none", 1e-6, r"a fault of kind 'none' has size 0, and a planted fault a nonzero size"),
    ],
)
def test_a_malformed_fault_is_refused(kind, size, match):
    with pytest.raises(ValueError, match=match):
        Fault(kind, size)


def test_an_integer_fault_size_is_accepted():
    assert Fault("rate", 1).rate(0.5) == 1.0


# ---- registration -------------------------------------------------------------------------------------------------

LAW = "registry_test_law"


@pytest.fixture
def scratch_law():
    """Register checks under a law of their own and remove them afterwards (the registry is global)."""
    yield LAW
    for table in (_REGISTRY, FAULTS, SLOW):
        table.pop(LAW, None)


def test_a_registered_check_returns_its_evidence_with_the_planted_fault_named(scratch_law):
    calls = []

    @check(scratch_law, "echo", faults={"clock": 1e-6, "law": 1e-3})
    def echo(seed, fault):
        """Documented check."""
        calls.append((seed, fault))
        time.sleep(0.002)
        return np.bool_(fault.kind == "none"), f"seed {seed}", {"seed": seed}

    started = time.perf_counter()
    plain = echo()
    elapsed = time.perf_counter() - started
    assert calls[-1] == (0, NO_FAULT)
    assert (plain.law, plain.name, plain.passed, plain.summary, plain.evidence) == (
        LAW,
        "echo",
        True,
        "seed 0",
        {"seed": 0},
    )
    # the check is timed: its own run time, at least the 2 ms it slept and at most the time around the call
    assert type(plain.passed) is bool and 0.002 <= plain.seconds <= elapsed
    planted = echo(7, Fault("clock", 1e-6))
    assert calls[-1] == (7, Fault("clock", 1e-6))
    assert planted.passed is False and planted.summary == "seed 7 [planted fault: clock × (1 + 1e-06)]"
    assert echo.__name__ == "echo" and echo.__doc__ == "Documented check."
    assert _REGISTRY[LAW]["echo"] is echo
    assert dict(FAULTS[LAW]["echo"]) == {"clock": 1e-6, "law": 1e-3}
    with pytest.raises(TypeError):
        FAULTS[LAW]["echo"]["rate"] = 1.0  # the declared faults are read-only
    assert LAW not in SLOW


def test_a_slow_check_is_marked_slow(scratch_law):
    check(scratch_law, "quick", faults={"rate": 1e-3})(lambda seed, fault: (True, "", {}))
    check(scratch_law, "long", faults={"rate": 1e-3}, slow=True)(lambda seed, fault: (True, "", {}))
    assert SLOW[LAW] == {"long"}


def test_a_check_without_a_fault_it_must_fail_on_is_refused(scratch_law):
    with pytest.raises(ValueError, match=r"check registry_test_law.none declares no fault it must fail on"):
        check(scratch_law, "none", faults={})
    with pytest.raises(ValueError, match="unknown fault kind 'drift'"):
        check(scratch_law, "bad", faults={"drift": 1e-3})
    with pytest.raises(ValueError, match="a planted fault a nonzero size"):
        check(scratch_law, "zero", faults={"clock": 0.0})


def test_a_check_registered_twice_is_refused(scratch_law):
    check(scratch_law, "twice", faults={"law": 1e-3})(lambda seed, fault: (True, "", {}))
    with pytest.raises(RuntimeError, match=r"check registry_test_law.twice registered twice"):
        check(scratch_law, "twice", faults={"law": 1e-3})(lambda seed, fault: (True, "", {}))


# ---- the registry and its runners ---------------------------------------------------------------------------------


def test_every_law_with_checks_is_listed_in_order_and_each_check_declares_faults():
    assert list(CHECKS) == sorted(CHECKS)
    assert {"layer_balance", "logistic_mode", "forgetting_task_distance", "depth_mode"} <= set(CHECKS)
    for law, checks in CHECKS.items():
        assert set(FAULTS[law]) == set(checks) and all(FAULTS[law].values()), law
    with pytest.raises(TypeError):
        CHECKS["new_law"] = {}  # the registry is read-only


def test_loading_the_registry_gives_every_registered_check_by_law_in_order():
    # `CHECKS` is built once at import; building it again must give the same read-only table
    loaded = _load()
    assert list(loaded) == sorted(_REGISTRY) == list(CHECKS)
    assert {law: dict(checks) for law, checks in loaded.items()} == {law: dict(c) for law, c in CHECKS.items()}
    with pytest.raises(TypeError):
        loaded["layer_balance"]["new"] = None


def test_an_unknown_law_or_check_is_answered_with_the_known_ones():
    with pytest.raises(KeyError, match=r"no checks for law 'no_such_law'; laws with checks: .*layer_balance"):
        run_check("no_such_law", "x")
    with pytest.raises(
        KeyError,
        match=r"law 'layer_balance' has no check 'x'; known: symbolic_drift_identity, gd_per_step_drift, gd_drift_is_order_eta",
    ):
        run_check("layer_balance", "x")
    with pytest.raises(KeyError, match=r"no checks for law 'no_such_law'; laws with checks: .*layer_balance"):
        run_law("no_such_law")


def test_an_unknown_law_is_answered_with_the_list_of_laws_with_checks():
    # the known laws, in the registry's (sorted) order, separated by ", ", for run_check and run_law alike
    listing = re.escape("laws with checks: " + ", ".join(CHECKS))
    with pytest.raises(KeyError, match=listing + r"\"?$"):
        run_check("no_such_law", "x")
    with pytest.raises(KeyError, match=listing + r"\"?$"):
        run_law("no_such_law")


def test_run_check_passes_seed_and_fault_to_the_check():
    law, name = "layer_balance", "gd_per_step_drift"
    seeded = run_check(law, name, seed=3)
    assert seeded.passed and (seeded.law, seeded.name) == (law, name)
    assert seeded.summary == CHECKS[law][name](3, NO_FAULT).summary
    kind, size = next(iter(FAULTS[law][name].items()))
    planted = run_check(law, name, 3, Fault(kind, size))
    assert not planted.passed and planted.summary.endswith(f"[planted fault: {Fault(kind, size)}]")


def test_run_law_runs_every_check_under_the_fault_given(monkeypatch):
    law = "layer_balance"
    full = run_law(law)
    assert [c.name for c in full] == list(CHECKS[law]) and all(c.passed for c in full)
    faulted = run_law(law, fault=Fault("law", 0.5))
    assert all(c.summary.endswith("[planted fault: law × (1 + 0.5)]") for c in faulted)
    assert [c.name for c in run_law(law, quick=True)] == list(CHECKS[law])  # none of its checks is slow
    # a check marked slow is skipped by quick, and only by quick
    monkeypatch.setitem(SLOW, law, {"gd_per_step_drift"})
    assert [c.name for c in run_law(law, quick=True)] == ["symbolic_drift_identity", "gd_drift_is_order_eta"]
    assert [c.name for c in run_law(law)] == list(CHECKS[law])


def test_run_law_and_run_check_default_to_seed_0_without_a_fault(scratch_law, monkeypatch):
    # the committed pages are made at seed 0 (`lawbook report`), and a bare call must reproduce them
    seen = []

    def echo(seed, fault):
        seen.append((seed, fault))
        return True, f"seed {seed}", {}

    import verify.suite

    registered = check(scratch_law, "echo", faults={"law": 1e-3})(echo)
    monkeypatch.setattr(verify.suite, "CHECKS", {scratch_law: {"echo": registered}})  # the loaded table is frozen
    assert [c.summary for c in run_law(scratch_law)] == ["seed 0"]
    assert run_check(scratch_law, "echo").summary == "seed 0"
    assert seen == [(0, NO_FAULT), (0, NO_FAULT)]


# ---- shared helpers -----------------------------------------------------------------------------------------------


def test_identity_decides_by_sixty_digit_evaluation_at_the_stated_points():
    x = sp.Symbol("x", positive=True)
    same = identity(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1), {"x": (0.1, 3)}, seed=1)
    assert same.level == "exact" and same.n_points == 200 and same.simplify == "not asked"
    off = identity(x * (1 + sp.Rational(1, 10**8)), x, {"x": (0.1, 3)}, seed=1)
    assert off.level != "exact"
    assert identity(x, x, {"x": (0.1, 3)}, seed=1, simplify_timeout=5.0).simplify != "skipped"


def test_identity_draws_its_points_from_the_seed_it_is_given():
    """The seed decides the points (as for every check): at seed 5 the verdict on x³ = x is the one `equivalent`
    gives at seed 5 with `IDENTITY_POINTS` points, and its measured numbers differ from seed 0's."""
    from verify.equivalence import equivalent
    from verify.suite import IDENTITY_POINTS

    x = sp.Symbol("x")
    at_5 = identity(x**3, x, {"x": (0.1, 1.0)}, seed=5)
    assert at_5 == equivalent(x**3, x, domain={"x": (0.1, 1.0)}, n_points=IDENTITY_POINTS, seed=5, simplify_timeout=0)
    at_0 = identity(x**3, x, {"x": (0.1, 1.0)}, seed=0)
    assert at_5.level == at_0.level == "none" and at_5.r2 != at_0.r2


def _cubic_runs(eta):
    """Runs sin t + η + η² + 8·η³ at t = k·η: two Richardson levels leave exactly η³ (8/8, closed form)."""
    t = np.arange(round(1 / eta) + 1) * eta
    return t, np.sin(t) + eta + eta**2 + 8 * eta**3


def test_richardson_helper_extrapolates_twice_with_a_cubic_tolerance_in_the_scale():
    etas = (0.25, 0.125, 0.0625, 0.03125, 0.015625)
    result = richardson(np.sin, _cubic_runs, etas, coeff=1.5, scale=2.0)
    assert result.extrapolation == 2 and result.expected_order == 3.0 and result.etas == etas[:3]
    assert result.tolerance == pytest.approx([1.5 * e**3 * 16 for e in etas[:3]], rel=1e-15)
    assert result.max_abs_error == pytest.approx([e**3 for e in etas[:3]], rel=1e-7) and result.passed


def test_richardson_text_gives_the_measured_constant_against_the_bound():
    result = Agreement((0.5, 0.25), (0.25, 0.03125), (0.0, 0.0), (1.0, 1.0), None, None, 0.15, (), extrapolation=2)
    # err/(η³ s⁴) with s = 2: 0.25/(0.125·16) = 0.125, 0.03125/(0.015625·16) = 0.125
    assert richardson_text(result, 1.5, 2.0) == (
        "PASS: Richardson-2 max|err| η=0.5: 0.25 (tol 1), η=0.25: 0.0312 (tol 1); "
        "err/(η³ s⁴) = 0.125, 0.125 (bound 1.5)"
    )
    assert richardson_text(result, 0.75, 2.0, name="σ").endswith("err/(η³ σ⁴) = 0.125, 0.125 (bound 0.75)")


def test_a_fault_whose_kind_and_size_disagree_is_refused_with_the_rule():
    for kind, size in (("none", 1e-6), ("clock", 0.0)):
        with pytest.raises(
            ValueError, match=r"^a fault of kind 'none' has size 0, and a planted fault a nonzero size$"
        ):
            Fault(kind, size)
