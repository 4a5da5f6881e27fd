"""Rediscovery: run a discovery problem and grade every expression of its Pareto front against the law.

A problem (`discover.problems`) is rediscovered when its front contains an expression `equivalent` to the
reference at level ``exact`` or ``up_to_constants``. Every row gets its own `Verdict`, so a report can show
where on the front the law sits and what the simpler and richer rows are instead.

The domain of the comparison is the box the data span (`Problem.domain`): a candidate is only asked to be
the law where it was fitted.

>>> from discover import Budget
>>> result = rediscover("forgetting_task_distance", backend="sindy", seed=0, budget=Budget.quick())
>>> result.found, str(result.match.expr)
(True, 'c + d**2/2')
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from discover import Budget, Candidate, Discovery, ProgressCallback, mse
from discover.problems import Problem, get_problem
from verify.equivalence import Verdict, equivalent, simplify_opinion

__all__ = ["Rediscovery", "rediscover"]


@dataclass(frozen=True)
class Rediscovery:
    """A problem's `Discovery` with the `Verdict` of each Pareto row (same order) against its reference."""

    problem: Problem
    discovery: Discovery
    verdicts: tuple[Verdict, ...]

    @property
    def found(self) -> bool:
        """Whether some row is the law (``exact`` or ``up_to_constants``)."""
        return self.match is not None

    @property
    def match(self) -> Candidate | None:
        """The simplest row that is the law, or None."""
        return next((c for c, v in zip(self.discovery.pareto, self.verdicts, strict=True) if v.equivalent), None)

    @property
    def reference_loss(self) -> float:
        """The law's own MSE on the problem's data: the loss a front containing the law would reach."""
        data = self.problem.data(self.discovery.seed)
        features = list(self.problem.features)
        return mse(self.problem.reference, data[features].to_numpy(), data[self.problem.target].to_numpy(), features)

    def summary(self) -> str:
        """One line: problem, backend, seed, whether found (and as what), seconds."""
        d = self.discovery
        what = f"found {self.match.expr}" if self.found else f"not found (best {d.best.expr})"
        return f"{self.problem.name} [{d.backend}, seed {d.seed}]: {what}; {len(d.pareto)} rows, {d.seconds:.1f} s"


def rediscover(
    problem: str | Problem,
    *,
    backend: str | None = None,
    seed: int = 0,
    budget: Budget | None = None,
    simplify_timeout: float = 2.0,
    progress: ProgressCallback | None = None,
) -> Rediscovery:
    """Run ``problem`` with ``backend`` (default: the problem's first) and grade its front.

    The SymPy second opinion (``simplify_timeout`` seconds, ≤ 0 to skip) is asked only for rows that the
    numbers already call equivalent: for the others it could only repeat "nonzero" at a cost. ``progress``
    receives the search's `discover.ProgressEvent` values (None: quiet).
    """
    problem = get_problem(problem) if isinstance(problem, str) else problem
    discovery = problem.run(backend, seed=seed, budget=budget, progress=progress)
    domain = problem.domain(seed)
    verdicts = []
    for row in discovery.pareto:
        verdict = equivalent(row.expr, problem.reference, domain=domain, seed=seed, simplify_timeout=0)
        if verdict.equivalent and simplify_timeout > 0:
            verdict = replace(verdict, simplify=simplify_opinion(row.expr, problem.reference, simplify_timeout))
        verdicts.append(verdict)
    return Rediscovery(problem=problem, discovery=discovery, verdicts=tuple(verdicts))
