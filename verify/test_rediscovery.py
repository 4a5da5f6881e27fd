"""Rediscovery of every problem's law by symbolic regression, graded by the equivalence engine.

Budgets are `Budget.quick()` (Operon: 60 generations of 300) with seed 0: the tests assert that a modest search
finds the law, not that the largest one does. The rate over seeds is measured by `benchmarks/discovery.py`.
"""

import pytest

from discover import Budget
from discover.problems import PROBLEMS
from verify.rediscovery import rediscover

CASES = [
    pytest.param(name, backend, id=f"{name}-{backend}", marks=[pytest.mark.slow] if problem.slow else [])
    for name, problem in PROBLEMS.items()
    for backend in problem.backends
]


@pytest.mark.parametrize(("name", "backend"), CASES)
def test_front_contains_the_law(name, backend):
    result = rediscover(name, backend=backend, seed=0, budget=Budget.quick())
    print(result.summary())
    for row, verdict in zip(result.discovery.pareto, result.verdicts, strict=True):
        print(f"  {row.complexity:3d}  {row.loss:.3e}  {row.expr}  ->  {verdict}")
    assert result.found, result.summary()
    # discovery's own verdict, made without the reference, agrees: the law's row is at the noise floor
    assert result.discovery.verdict == "law found", [(c.expr, c.at_floor, c.rho) for c in result.discovery.pareto]
    # the law must also be what the front recommends (`Discovery.best`), not a row that fits worse than another
    best = result.verdicts[result.discovery.pareto.index(result.discovery.best)]
    assert best.equivalent, f"best row {result.discovery.best.expr} is {best}"
