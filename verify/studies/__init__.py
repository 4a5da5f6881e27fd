"""Studies: research questions answered end to end on top of lawbook's four packages (DESIGN.md, "Studies").

A study is a sweep of training runs (`simulate.sweep`), measurements on each run, symbolic regression on the table
with the known law as baseline (`discover`), verification of what was found on held-out configurations and against
the laws that apply (`verify`), and a report page (`lawbook study NAME`).

- `verify.studies.forgetting`: forgetting of linear and nonlinear two-layer networks against the task-distance,
  overparameterised-forgetting, minimum-norm and lazy laws (issue 13).
- `verify.studies.implicit_bias`: null-space mass of shallow and deep linear models under GD, SGD, momentum and
  Adam, with weight decay and a balancing penalty, against the null-space and balance laws (issue 14).
- `verify.studies.lazy_rich`: the lazy–rich boundary of two-layer networks (critical γ0 discovered against width,
  init scale, learning rate, intrinsic dimension and number of items, held out by configuration), the critical init
  scale of deep linear networks by depth, the anchors (Geiger et al.'s α·√width, the diagonal network's α² against
  |w|, λ-balanced networks' |λ| against s) and forgetting across the boundary (issue 15, part 1).
- `verify.studies.subspace`: the spectrum of many trained networks' weights against a Gaussian null, and whether
  the leave-one-out distance from that subspace predicts forgetting (issue 15, part 2).

Every study module has the same face: ``QUICK`` and ``FULL`` plans, ``run_study(plan, cache=, scheduler=,
workers=, progress=)``, ``write_study(result, out, force=)``, ``PAGE`` (its page's file name) and
``summary_line(result)``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

STUDIES = ("forgetting", "implicit-bias", "lazy-rich", "subspace")

__all__ = ["STUDIES", "Runner", "figure_lines", "md_table", "publish_study", "r_squared", "study_module"]


@dataclass
class Runner:
    """Where and how a study's sweeps run (cache folder, scheduler, workers, progress bar), a count of the runs
    they computed against those read back from the cache, so that a page's stated cost says which it measured, and
    the seconds of each stage of the study (`timed`).

    >>> Runner().cost_note()
    '0 of 0 runs computed by this call (the rest read from the cache)'
    """

    cache: str | Path | None = None  # a Path after construction
    scheduler: str = "serial"
    workers: int | None = None
    progress: bool = True
    runs: int = 0
    computed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cache is not None:
            self.cache = Path(self.cache)  # a study's run_study passes its ``cache`` argument as given (str or Path)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Record the wall-clock seconds of the block under ``stage`` in `seconds` (in the order stages run)."""
        start = time.perf_counter()
        yield
        self.seconds[stage] = time.perf_counter() - start

    def sweep(self, experiment: Any, configs: Sequence[Mapping[str, Any]], seeds: Sequence[int],
              progress: bool | None = None) -> Any:  # fmt: skip
        """`simulate.sweep` with this runner's settings; counts the runs."""
        from simulate import sweep

        table = sweep(experiment, configs, seeds, cache=self.cache, scheduler=self.scheduler, workers=self.workers,
                      progress=self.progress if progress is None else progress)  # fmt: skip
        self.runs += table.attrs["runs"]
        self.computed += table.attrs["runs_computed"]
        return table

    def cost_note(self) -> str:
        return f"{self.computed} of {self.runs} runs computed by this call (the rest read from the cache)"


def study_module(name: str) -> ModuleType:
    """The module of the study called ``name`` (one of `STUDIES`).

    >>> study_module("implicit-bias").PAGE
    'implicit_bias.md'
    """
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; known: {', '.join(STUDIES)}")
    return importlib.import_module(f"verify.studies.{name.replace('-', '_')}")


def md_table(frame: Any) -> list[str]:
    """A pandas frame as the lines of a markdown table; floats to 4 significant digits, ``|`` in text escaped.

    >>> import pandas as pd
    >>> print("\\n".join(md_table(pd.DataFrame({"law": ["a|b"], "r2": [0.987654]}))))
    | law | r2 |
    |---|---|
    | a\\|b | 0.9877 |
    """
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [
            f"{row[c]:.4g}" if isinstance(row[c], (float, np.floating)) else str(row[c]).replace("|", "\\|")
            for c in cols
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def publish_study(
    out: Path | str,
    owner: str,
    page: str,
    render: Any,
    figures: Sequence[tuple[str, str, Any]],
    plan_name: str,
    *,
    force: bool = False,
) -> Path:
    """Publish a study's page and figures into ``out`` with the safety rules of `lawbook report`
    (`verify.publish`): ``figures`` are (caption, file name, function drawing the PNG); ``render(figures)`` gets
    their (caption, file name) pairs and returns the markdown, which ends with them (`figure_lines`)."""
    from verify.publish import ReportFile, publish

    files = [ReportFile(name, owner, draw) for _, name, draw in figures]
    text = render([(caption, name) for caption, name, _ in figures])
    files.append(ReportFile(page, owner, text.encode()))
    publish(out, files, owners={owner: {"plan": plan_name}}, force=force)
    return Path(out) / page


def figure_lines(figures: Sequence[tuple[str, str]]) -> list[str]:
    """The markdown of a page's figures section: each image with its caption below."""
    lines = ["## Figures", ""]
    for caption, filename in figures:
        lines += [f"![{caption}]({filename})", "", f"*{caption}*", ""]
    return lines


def r_squared(y: Any, predicted: Any) -> float:
    """Coefficient of determination 1 − Σ(y − ŷ)²/Σ(y − ȳ)² of ``predicted`` for ``y`` (a constant prediction is
    broadcast); negative when ŷ does worse than y's mean.

    >>> r_squared(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])), r_squared(np.array([1.0, 3.0]), 2.0)
    (0.5, 0.0)
    """
    y = np.asarray(y, dtype=np.float64)
    predicted = np.broadcast_to(np.asarray(predicted, dtype=np.float64), y.shape)
    return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))
