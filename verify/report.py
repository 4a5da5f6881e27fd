"""Markdown verification reports: a pure function from results to text (and figures to bytes).

Nothing here writes files; `verify.cli` does, through `verify.publish`. What depends on the machine is kept off the
pages: wall times go to ``timings.json`` and package versions to ``ENVIRONMENT.md`` (each page links to it), so the
same seed and the same pinned packages give the same pages byte for byte.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

import sympy as sp

from discover import BEST_LOSS_FACTOR
from theory import Law
from verify.figures import Curves, curves_from_agreement, error_vs_eta_png, figure_name, theory_vs_simulation_png
from verify.suite import FAULTS, Check

__all__ = [
    "ENVIRONMENT_PAGE",
    "DiscoveryRow",
    "DiscoverySummary",
    "LawReport",
    "environment",
    "figures_for",
    "index_entry",
    "render_environment",
    "render_index",
    "render_law_page",
]

ENVIRONMENT_PAGE = "ENVIRONMENT.md"

PACKAGES = (
    "lawbook",
    "sympy",
    "numpy",
    "scipy",
    "mpmath",
    "torch",
    "pandas",
    "pyoperon",
    "pysindy",
    "hypothesis",
    "matplotlib",
)


def environment() -> dict[str, str]:
    """Python and package versions (a package that is not installed shows as 'absent').

    >>> sorted(environment())[:2]
    ['hypothesis', 'lawbook']
    """
    env = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = "absent"
    return env


@dataclass(frozen=True)
class DiscoveryRow:
    expr: str
    latex: str
    complexity: int
    loss: float
    level: str
    best: bool = False
    route: str = ""
    stage: str = ""
    heldout_r2: float | None = None
    at_floor: bool | None = None


@dataclass(frozen=True)
class DiscoverySummary:
    problem: str
    backend: str
    seed: int
    reference: str
    rows: tuple[DiscoveryRow, ...]
    rediscovered: bool
    settings: Mapping[str, object] = field(default_factory=dict)
    verdict: str = ""


@dataclass(frozen=True)
class LawReport:
    law: Law
    checks: tuple[Check, ...]
    figures: tuple[tuple[str, str], ...]  # (caption, path relative to the page)
    discovery: tuple[DiscoverySummary, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every check passed. Rediscovery is reported beside it, not inside it: a search that misses a
        law says something about the search budget, not about whether the law holds."""
        return bool(self.checks) and all(c.passed for c in self.checks)


def curves_for(law_name: str, checks: Sequence[Check]) -> Curves | None:
    """The simulated (GD) trajectories of a law's checks with the law's prediction: explicit ``curves`` evidence
    whose source is a simulation, else the series of the first theory-vs-simulation agreement (with its residual
    panel and the check's ``columns`` labels); None when no check simulated a trajectory. Curves of numerics
    (a closed form against another, no training) are not simulations: `figures_for` draws them separately."""
    explicit = [c.evidence["curves"] for c in checks if c.evidence.get("curves") is not None]
    curves = next((c for c in explicit if c.source == "simulation"), None)
    if curves is not None:
        return curves
    check = next((c for c in checks if "agreement" in c.evidence and c.evidence["agreement"].series), None)
    if check is None:
        return None
    ylabel = str(check.evidence.get("ylabel", check.name))
    return curves_from_agreement(
        check.evidence["agreement"],
        f"{law_name}.{check.name}: GD (solid) against the law (dashed)",
        ylabel,
        columns=tuple(check.evidence.get("columns", ())),
    )


def figures_for(law_name: str, checks: Sequence[Check]) -> list[tuple[str, str, Callable[[], bytes]]]:
    """(file name, caption, render) for a law's figures, derived from its checks' evidence.

    ``<law>_theory_vs_simulation.png`` shows GD runs (`curves_for`); ``<law>_theory_vs_numerics.png`` the first
    explicit curves of numerics (a closed form or a numerical solution that no training produced), so that a
    figure's name says what it holds; the explicit curves of any other check go to ``<law>_<check>.png``;
    ``<law>_error_vs_eta.png`` comes from the first agreement that fitted an order.
    """
    out: list[tuple[str, str, Callable[[], bytes]]] = []
    shown = [curves_for(law_name, checks)]
    explicit = [(c.name, c.evidence["curves"]) for c in checks if c.evidence.get("curves") is not None]
    shown.append(next((curves for _, curves in explicit if curves.source == "numerics"), None))
    for curves in shown:
        if curves is not None:
            out.append((figure_name(law_name, curves), curves.title, lambda c=curves: theory_vs_simulation_png(c)))
    # every further check's curves get a figure of their own, named for the check (a law's second measurement,
    # e.g. the kernel distance beside the trajectory, would otherwise be computed and never shown)
    for name, curves in explicit:
        if not any(curves is c for c in shown):
            out.append((f"{law_name}_{name}.png", curves.title, lambda c=curves: theory_vs_simulation_png(c)))
    ordered = [(c, c.evidence["agreement"]) for c in checks if "agreement" in c.evidence]
    ordered = [(c, a) for c, a in ordered if a.order is not None]
    if ordered:
        check, agr = ordered[0]
        title = f"{law_name}.{check.name}: error against η"
        out.append((f"{law_name}_error_vs_eta.png", title, lambda a=agr, t=title: error_vs_eta_png(a, t)))
    return out


def _latex(expr: sp.Basic) -> str:
    return sp.latex(expr)


def _statement(law: Law) -> list[str]:
    lines = ["## Statement", ""]
    for eq in law.equations:
        lines += ["```math", _latex(eq), "```", ""]
    if law.solution is not None:
        lines += ["Solution:", "", "```math", _latex(law.solution), "```", ""]
    if law.derived:
        lines += ["Derived closed forms:", ""]
        for name, expr in law.derived.items():
            lines += [f"- `{name}`:", "", "  ```math", f"  {_latex(expr)}", "  ```", ""]
    return lines


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _mode(quick: bool) -> str:
    return "quick (discovery problems marked slow skipped)" if quick else "full"


def check_row(c: Check) -> str:
    """One row of a page's check table: name, verdict, the planted faults it must fail at, and its evidence."""
    faults = ", ".join(f"{kind} {size:g}" for kind, size in FAULTS.get(c.law, {}).get(c.name, {}).items())
    return f"| `{c.name}` | {'PASS' if c.passed else '**FAIL**'} | {faults} | {_escape(c.summary)} |"


def render_law_page(report: LawReport, *, seed: int, quick: bool = False) -> str:
    """The markdown page of one law: verdict first, then statement, assumptions, figures, discovery, and the run
    (seed and mode; the package versions are on `ENVIRONMENT_PAGE`, which the page links)."""
    law = report.law
    verdict = "PASS" if report.passed else "FAIL"
    n_pass = sum(c.passed for c in report.checks)
    lines = [
        f"# {law.name}: {law.title}",
        "",
        f"**Verdict: {verdict}** — {n_pass} of {len(report.checks)} checks passed"
        + (
            f"; rediscovered in {sum(d.rediscovered for d in report.discovery)} of {len(report.discovery)} "
            "discovery problems."
            if report.discovery
            else "."
        ),
        "",
        "| check | result | must fail at | evidence |",
        "|---|---|---|---|",
    ]
    lines += [check_row(c) for c in report.checks]
    lines += [
        "",
        "*Must fail at*: the planted faults under which each check is asserted to FAIL (`verify/test_must_fail.py`; "
        "run them with `lawbook verify --must-fail`): the law read at t·(1 + δ) (clock), gradient descent stepping "
        "with η·(1 + δ) (rate), or a quantity of the law × (1 + δ) (law), for the δ given.",
        "",
    ]
    lines += _statement(law)
    lines += ["## Assumptions and regime", ""]
    for a in law.assumptions:
        mark = " (machine-checked)" if a.check is not None else ""
        lines.append(f"- **{a.name}**{mark}: {a.statement}")
    lines += ["", f"**Regime.** {law.regime}", "", f"**Source.** {law.source}", ""]
    if law.domain:
        dom = ", ".join(f"{k} ∈ [{lo:g}, {hi:g}]" for k, (lo, hi) in law.domain.items())
        lines += [f"**Sampling domain.** {dom}", ""]
    if report.figures:
        lines += ["## Figures", ""]
        for caption, path in report.figures:
            lines += [f"![{caption}]({path})", "", f"*{caption}*", ""]
    for d in report.discovery:
        lines += _discovery_section(d)
    lines += [
        "## Run",
        "",
        f"Seed {seed}, {_mode(quick)} run. Package versions: [{ENVIRONMENT_PAGE}]({ENVIRONMENT_PAGE}).",
        "",
    ]
    return "\n".join(lines)


def _discovery_section(d: DiscoverySummary) -> list[str]:
    """One discovery problem: the verdict in words, the front with a verdict per row, the rule that picks the
    marked row, and the settings the backend actually used."""
    equivalent = [r for r in d.rows if r.level in ("exact", "up_to_constants")]
    if d.rediscovered:
        found = ", ".join(f"{r.complexity} (`{r.level}`)" for r in equivalent)
        outcome = f"**Rediscovered: yes.** The front has a row equivalent to the reference at complexity {found}."
    else:
        outcome = (
            "**Rediscovered: no.** No row of the front is equivalent to the reference; equivalent means level "
            "`exact` or `up_to_constants` in `verify.equivalence`."
        )
    lines = [
        f"## Discovery: `{d.problem}` ({d.backend}, seed {d.seed})",
        "",
        f"Reference: `{d.reference}`. {outcome}",
        "",
        "| complexity | loss (MSE) | held-out R² | at floor | found by (route / stage) | expression | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in d.rows:
        best = " (best)" if r.best else ""
        r2 = "–" if r.heldout_r2 is None else f"{r.heldout_r2:.9g}"
        floor = "–" if r.at_floor is None else ("yes" if r.at_floor else "no")
        where = f"{r.route} / {r.stage}" if r.route else "–"
        lines.append(
            f"| {r.complexity} | {r.loss:.3g} | {r2} | {floor} | {_escape(where)} | ${_escape(r.latex)}$ | "
            f"{r.level}{best} |"
        )
    lines += [
        "",
        "(best): the simplest row at the noise floor (`discover.floor`: residuals below float32 resolution or "
        "without structure, and the held-out rows fitted as well as the training rows); if no row is, the simplest "
        f"row whose loss is at most {BEST_LOSS_FACTOR:g} × the smallest loss on the front plus the data's float32 "
        "evaluation floor (`discover.Discovery.best`). Loss: MSE on the training rows; held-out R² on the rows no "
        "search saw.",
    ]
    if d.verdict:
        lines += ["", f"Discovery's own verdict, without the reference: **{d.verdict}**."]
    if d.settings:
        lines += ["", "Settings: " + "; ".join(f"{k} {v}" for k, v in d.settings.items()) + "."]
    lines.append("")
    return lines


def index_entry(report: LawReport, *, seed: int, quick: bool = False) -> dict[str, object]:
    """What the index shows of one law, kept in the report's manifest so that a later run of other laws can
    rebuild the index without re-running this one."""
    return {
        "passed": report.passed,
        "checks": f"{sum(c.passed for c in report.checks)}/{len(report.checks)}",
        "discovery": f"{sum(d.rediscovered for d in report.discovery)}/{len(report.discovery)}"
        if report.discovery
        else "—",
        "seed": seed,
        "quick": quick,
        "source": report.law.source,
    }


def render_index(entries: Mapping[str, Mapping[str, object]]) -> str:
    """reports/README.md: one row per law page in the directory (from `index_entry`), with its verdict, the seed
    and mode it was made with, and a link to the page."""
    n_pass = sum(bool(e["passed"]) for e in entries.values())
    lines = [
        "# lawbook verification reports",
        "",
        f"{n_pass} of {len(entries)} laws verified. Regenerate with `make report`; package versions in "
        f"[{ENVIRONMENT_PAGE}]({ENVIRONMENT_PAGE}).",
        "",
        "| law | verdict | checks | discovery | seed | run | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in sorted(entries.items()):
        lines.append(
            f"| [{name}]({name}.md) | {'PASS' if e['passed'] else '**FAIL**'} | {e['checks']} | {e['discovery']} | "
            f"{e['seed']} | {'quick' if e['quick'] else 'full'} | {_escape(str(e['source']))} |"
        )
    lines.append("")
    return "\n".join(lines)


def render_environment(env: Mapping[str, str]) -> str:
    """ENVIRONMENT.md: the Python and package versions of the latest run (`environment`). The pages leave them
    out so that a page changes only when its science does; `make` installs the versions pinned in
    ``constraints.txt``, so a fresh clone reproduces this file too on the same Python.

    >>> print(render_environment({"python": "3.11.7", "sympy": "1.14.0"}))
    # Environment of the latest report run
    <BLANKLINE>
    | package | version |
    |---|---|
    | python | 3.11.7 |
    | sympy | 1.14.0 |
    <BLANKLINE>
    """
    lines = ["# Environment of the latest report run", "", "| package | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in env.items()]
    lines.append("")
    return "\n".join(lines)
