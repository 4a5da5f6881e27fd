"""Studies: research questions answered end to end on top of lawbook's four packages (DESIGN.md, "Studies").

A study is a sweep of training runs (`simulate.sweep`), measurements on each run, symbolic regression on the table
with the known law as baseline (`discover`), verification of what was found on held-out configurations and against
the laws that apply (`verify`), and a report page (`lawbook study NAME`).

- `verify.studies.forgetting`: forgetting of linear and nonlinear two-layer networks against the task-distance and
  overparameterised-forgetting laws (issue 13).
"""

STUDIES = ("forgetting",)

__all__ = ["STUDIES"]
