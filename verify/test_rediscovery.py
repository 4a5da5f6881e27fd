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
    if result.problem.expect == "unbeaten":  # the closed form is measured out of reach (see the problem)
        law_loss = result.reference_loss
        print(f"  reference loss {law_loss:.3e}")
        assert law_loss < result.discovery.pareto[-1].loss, "a front row fits the data better than the law"
        return
    assert result.found, result.summary()
    # the law must also be what the front recommends (`Discovery.best`), not a row that fits worse than another
    best = result.verdicts[result.discovery.pareto.index(result.discovery.best)]
    assert best.equivalent, f"best row {result.discovery.best.expr} is {best}"
