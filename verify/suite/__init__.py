"""The verification suite: for every law, named checks that return evidence (never bare booleans).

One check is one function ``(seed) -> Check``. The same functions are asserted by ``pytest verify`` and run
by ``lawbook verify``/``lawbook report``, so what the report shows is exactly what the tests assert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["CHECKS", "IDENTITY_POINTS", "SLOW", "Check", "check", "identity", "run_check", "run_law"]


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


_REGISTRY: dict[str, dict[str, Callable[[int], Check]]] = {}
SLOW: dict[str, set[str]] = {}


def check(
    law: str, name: str, *, slow: bool = False
) -> Callable[[Callable[[int], tuple[bool, str, dict]]], Callable[[int], Check]]:
    """Register ``fn(seed) -> (passed, summary, evidence)`` as check ``name`` of ``law``; ``slow`` checks run
    under pytest's ``slow`` marker and are skipped by ``--quick``."""

    def wrap(fn: Callable[[int], tuple[bool, str, dict]]) -> Callable[[int], Check]:
        def run(seed: int = 0) -> Check:
            start = time.perf_counter()
            passed, summary, evidence = fn(seed)
            return Check(law, name, bool(passed), summary, evidence, time.perf_counter() - start)

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        if name in _REGISTRY.setdefault(law, {}):
            raise RuntimeError(f"check {law}.{name} registered twice")
        _REGISTRY[law][name] = run
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


def _load() -> Mapping[str, Mapping[str, Callable[[int], Check]]]:
    from verify.suite import balance, decoupling, forgetting, modes, regression, riccati, riccati_continual  # noqa: F401  (registers the checks)

    return MappingProxyType({k: MappingProxyType(v) for k, v in sorted(_REGISTRY.items())})


def run_check(law: str, name: str, seed: int = 0) -> Check:
    """Run one registered check."""
    checks = CHECKS.get(law)
    if checks is None:
        raise KeyError(f"no checks for law {law!r}; laws with checks: {', '.join(CHECKS)}")
    if name not in checks:
        raise KeyError(f"law {law!r} has no check {name!r}; known: {', '.join(checks)}")
    return checks[name](seed)


def run_law(law: str, seed: int = 0, quick: bool = False) -> list[Check]:
    """Run every check of one law (with ``quick``, skip the checks registered as slow)."""
    if law not in CHECKS:
        raise KeyError(f"no checks for law {law!r}; laws with checks: {', '.join(CHECKS)}")
    return [fn(seed) for name, fn in CHECKS[law].items() if not (quick and name in SLOW.get(law, ()))]


CHECKS = _load()
