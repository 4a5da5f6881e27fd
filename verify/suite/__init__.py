"""The verification suite: for every law, named checks that return evidence (never bare booleans).

One check is one function ``(seed) -> Check``. The same functions are asserted by ``pytest verify`` and run
by ``lawbook verify``/``lawbook report``, so what the report shows is exactly what the tests assert.

Every check must be able to fail (issue 9). Each one is registered with the planted faults it must resolve: a
`Fault` of a stated kind and relative size δ (the law's clock off by 1e-6, say), which the check threads into its
own computation, and under which it must report FAIL. ``verify/test_must_fail.py`` runs every registered check
under each of its declared faults; a check cannot be registered without one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

__all__ = [
    "CHECKS",
    "FAULTS",
    "FAULT_KINDS",
    "IDENTITY_POINTS",
    "NO_FAULT",
    "SLOW",
    "Check",
    "Fault",
    "check",
    "identity",
    "richardson",
    "richardson_text",
    "run_check",
    "run_law",
]


@dataclass(frozen=True)
class Check:
    """The outcome of one check: pass/fail, a one-line summary with the numbers, and the raw evidence."""

    law: str
    name: str
    passed: bool
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.law}.{self.name}: {self.summary}"


# What each kind of planted fault changes. A check chooses where a kind applies (which quantity is "the law's
# value", which run is "the simulation") and says so in a comment at the point where it calls the fault.
FAULT_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "clock": "the law is read at time t·(1 + δ): its time scale (τ, or the learning rate it assumes) off by δ",
        "rate": "the simulation steps with learning rate η·(1 + δ) while its clock still counts steps of η",
        "law": "a quantity of the law (its closed form, one side of an identity, a predicted value, an exponent) "
        "is multiplied by 1 + δ",
    }
)


@dataclass(frozen=True)
class Fault:
    """A planted error of relative size ``size`` of one of the `FAULT_KINDS`, for showing that a check fails.

    Each method is the identity unless the fault is of its kind, so a check calls all that apply to it:

    >>> f = Fault("clock", 1e-6)
    >>> f.clock(2.0), f.rate(0.01), f.law(3.0)
    (2.000002, 0.01, 3.0)
    >>> import sympy as sp
    >>> Fault("law", 0.5).law(sp.Symbol("x"))
    3*x/2
    """

    kind: str
    size: float

    def __post_init__(self) -> None:
        if self.kind != "none" and self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if not (isinstance(self.size, (int, float)) and math.isfinite(self.size)):
            raise ValueError(f"fault size must be a finite number, got {self.size!r}")
        if (self.kind == "none") != (self.size == 0):
            raise ValueError("a fault of kind 'none' has size 0, and a planted fault a nonzero size")

    def _scale(self, kind: str, x: Any) -> Any:
        if self.kind != kind:
            return x
        if isinstance(x, (sp.Basic, sp.MatrixBase)):
            return x * (1 + sp.Rational(self.size))  # the float's exact value: no rounding in 60-digit checks
        return x * (1 + self.size)

    def clock(self, t: Any) -> Any:
        """The time at which the law is read: t·(1 + δ) under a clock fault."""
        return self._scale("clock", t)

    def rate(self, eta: Any) -> Any:
        """The learning rate the simulation really steps with: η·(1 + δ) under a rate fault."""
        return self._scale("rate", eta)

    def law(self, x: Any) -> Any:
        """A quantity of the law: x·(1 + δ) under a law fault."""
        return self._scale("law", x)

    def __str__(self) -> str:
        return (
            "no fault"
            if self.kind == "none"
            else f"{self.kind} × (1 {'+' if self.size > 0 else '−'} {abs(self.size):g})"
        )


NO_FAULT = Fault("none", 0.0)

_REGISTRY: dict[str, dict[str, Callable[..., Check]]] = {}
SLOW: dict[str, set[str]] = {}
FAULTS: dict[str, dict[str, Mapping[str, float]]] = {}


def check(
    law: str, name: str, *, faults: Mapping[str, float], slow: bool = False
) -> Callable[[Callable[[int, Fault], tuple[bool, str, dict]]], Callable[..., Check]]:
    """Register ``fn(seed, fault) -> (passed, summary, evidence)`` as check ``name`` of ``law``.

    Call it after the function, ``check(law, name, faults=...)(fn)``, not as a decorator: mutmut (``make mutants``)
    leaves decorated functions unmutated, and the checks are the code whose mutation score matters most.

    ``faults`` maps each fault kind the check resolves to the relative size δ at which it must FAIL (stated in
    the check's comments with how the size follows from its tolerance); at least one is required. ``slow``
    checks run under pytest's ``slow`` marker and are skipped by ``--quick``.
    """
    if not faults:
        raise ValueError(f"check {law}.{name} declares no fault it must fail on: every check must be able to fail")
    for kind, size in faults.items():
        Fault(kind, size)  # validates both

    def wrap(fn: Callable[[int, Fault], tuple[bool, str, dict]]) -> Callable[..., Check]:
        def run(seed: int = 0, fault: Fault = NO_FAULT) -> Check:
            start = time.perf_counter()
            passed, summary, evidence = fn(seed, fault)
            if fault.kind != "none":
                summary = f"{summary} [planted fault: {fault}]"
            return Check(law, name, bool(passed), summary, evidence, time.perf_counter() - start)

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        if name in _REGISTRY.setdefault(law, {}):
            raise RuntimeError(f"check {law}.{name} registered twice")
        _REGISTRY[law][name] = run
        FAULTS.setdefault(law, {})[name] = MappingProxyType(dict(faults))
        if slow:
            SLOW.setdefault(law, set()).add(name)
        return run

    return wrap


# Symbolic claims in checks are decided numerically, never by an untimed `sp.simplify` (which can hang for more than
# 30 minutes on a wrong formula, issue 9). 200 points is the smallest sample `equivalent` accepts; each identity
# then takes well under a second.
IDENTITY_POINTS = 200


def identity(lhs: Any, rhs: Any, domain: Any, seed: int, simplify_timeout: float = 0.0) -> Any:
    """`verify.equivalent`'s verdict on lhs = rhs over ``domain`` (a box or a sampler): 60-digit evaluation at
    `IDENTITY_POINTS` points, ``"exact"`` when the identity holds; SymPy's opinion only if ``simplify_timeout`` > 0."""
    from verify.equivalence import equivalent

    return equivalent(lhs, rhs, domain=domain, n_points=IDENTITY_POINTS, seed=seed, simplify_timeout=simplify_timeout)


def richardson(
    theory: Callable[[Any], Any], simulate: Callable[[float], Any], etas: Any, coeff: float, scale: float
) -> Any:
    """`verify.agreement` of GD at ``etas`` (halving) with ``theory`` after two Richardson levels: order 3,
    within ``coeff``·η³·``scale``⁴ (``scale`` the largest singular value, u ~ s and η·s dimensionless)."""
    from verify.agreement import agreement

    return agreement(theory, simulate, etas, tolerance=lambda eta: coeff * eta**3 * scale**4, extrapolation=2)


def richardson_text(result: Any, coeff: float, scale: float, name: str = "s") -> str:
    """``result`` and its measured constants err/(η³ ``name``⁴) against the bound ``coeff``, for a summary."""
    consts = [e / (eta**3 * scale**4) for e, eta in zip(result.max_abs_error, result.etas, strict=True)]
    return f"{result}; err/(η³ {name}⁴) = {', '.join(f'{k:.3f}' for k in consts)} (bound {coeff:g})"


def _load() -> Mapping[str, Mapping[str, Callable[[int], Check]]]:
    from verify.suite import (  # noqa: F401  (registers the checks)
        balance,
        decoupling,
        diagonal,
        forgetting,
        lambda_balanced,
        lazy_rich,
        linear_forgetting,
        modes,
        orthogonal_forgetting,
        overparameterized,
        regression,
        riccati,
        riccati_continual,
        weight_decay,
    )

    return MappingProxyType({k: MappingProxyType(v) for k, v in sorted(_REGISTRY.items())})


def run_check(law: str, name: str, seed: int = 0, fault: Fault = NO_FAULT) -> Check:
    """Run one registered check, with a planted ``fault`` if given (see `FAULTS` for the ones it must resolve)."""
    checks = CHECKS.get(law)
    if checks is None:
        raise KeyError(f"no checks for law {law!r}; laws with checks: {', '.join(CHECKS)}")
    if name not in checks:
        raise KeyError(f"law {law!r} has no check {name!r}; known: {', '.join(checks)}")
    return checks[name](seed, fault)


def run_law(law: str, seed: int = 0, quick: bool = False, fault: Fault = NO_FAULT) -> list[Check]:
    """Run every check of one law (with ``quick``, skip the checks registered as slow), under ``fault`` if given."""
    if law not in CHECKS:
        raise KeyError(f"no checks for law {law!r}; laws with checks: {', '.join(CHECKS)}")
    return [fn(seed, fault) for name, fn in CHECKS[law].items() if not (quick and name in SLOW.get(law, ()))]


CHECKS = _load()
