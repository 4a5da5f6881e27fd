"""The `lawbook` command line: a thin argparse layer over the verification suite.

Exit codes: 0 when everything verified (or, for ``discover``, the law was rediscovered; for ``verify
--must-fail``, every planted fault was caught), 1 when a verification failed (or the law is not on the front, or
a check missed a planted fault), 2 for usage errors or bad input, including a backend that cannot run
here (PySR without Julia) and a report that would overwrite files lawbook did not write; 130 when interrupted.
Progress goes to stderr, one line per law with its elapsed time; results go to stdout. Names are checked before
anything heavy (torch, the engines) is imported, so a typo fails at once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits with 2 on its own; keep that but one line
        raise _UsageError(message)


# One range for every subcommand: numpy, torch and Operon all take seeds below 2**63 (`discover` checks the same).
SEED_LIMIT = 2**63


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer below 2**63, got {text!r}") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer below 2**63, got {value}")
    return value


def _add_common(p: argparse.ArgumentParser, *, seed: bool = True) -> None:
    if seed:
        p.add_argument(
            "--seed",
            type=_seed,
            default=0,
            help="seed of every random draw (tasks, initialisations, search), 0 ≤ N < 2**63 (default 0)",
        )
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("lawbook")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lawbook", description="Verify closed-form laws of learning dynamics against simulation.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch threads for all work (default: lawbook's policy, one thread but for large batches; "
        "same as LAWBOOK_THREADS=N)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    _add_common(sub.add_parser("laws", help="list the laws with their source and regime"), seed=False)
    p_verify = sub.add_parser("verify", help="run the verification checks of the given laws (default: all)")
    p_verify.add_argument("laws", nargs="*", metavar="LAW")
    _add_common(p_verify)
    planted = p_verify.add_mutually_exclusive_group()
    planted.add_argument(
        "--plant",
        type=_fault,
        metavar="KIND=SIZE",
        help="run the checks with a planted fault, to see which ones resolve it: KIND is clock (the law read at "
        "t·(1+SIZE)), rate (GD stepping with η·(1+SIZE)) or law (a quantity of the law × (1+SIZE))",
    )
    planted.add_argument(
        "--must-fail",
        action="store_true",
        help="run every check under each fault it declares it must resolve; exit 0 only if each one FAILS",
    )
    p_report = sub.add_parser("report", help="verify the laws and write markdown pages with figures (default: all)")
    p_report.add_argument("laws", nargs="*", metavar="LAW")
    _add_common(p_report)
    p_report.add_argument("--quick", action="store_true", help="skip the discovery problems marked slow")
    p_report.add_argument("--out", type=_out_dir, default=Path("reports"), help="output directory (default: reports/)")
    p_report.add_argument(
        "--force", action="store_true", help="overwrite files in the output directory that lawbook did not write"
    )
    p_study = sub.add_parser(
        "study", help="run a study (sweep, measurements, discovery, held-out checks) and write its page"
    )
    p_study.add_argument("name", choices=_studies(), metavar="STUDY", help=f"one of {', '.join(_studies())}")
    p_study.add_argument("--quick", action="store_true", help="the small plan: a few minutes on 2 cores")
    p_study.add_argument(
        "--out", type=_out_dir, default=Path("reports/studies"), help="output directory (default: reports/studies/)"
    )
    p_study.add_argument(
        "--cache",
        type=_out_dir,
        default=Path(".lawbook-cache/sweeps"),
        help="sweep cache (default: .lawbook-cache/sweeps/)",
    )
    p_study.add_argument(
        "--scheduler", default="serial", help="serial (default), processes, dask (a local cluster) or tcp://HOST:PORT"
    )
    p_study.add_argument("--workers", type=int, default=None, help="processes for --scheduler processes or dask")
    p_study.add_argument(
        "--force", action="store_true", help="overwrite files in the output directory that lawbook did not write"
    )
    p_sim = sub.add_parser(
        "simulate", help="the simulated trajectories behind a law's checks, with the law's curve, as CSV"
    )
    p_sim.add_argument("law", metavar="LAW")
    _add_common(p_sim)
    p_disc = sub.add_parser(
        "discover",
        help="rediscover a problem's law, or find one in your CSV table, by symbolic regression; print the front",
        description="PROBLEM is a registered discovery problem (its law is known and every row is graded against "
        "it), or the path of a CSV table (then --target is required and the verdict is the noise-floor rule's).",
    )
    p_disc.add_argument("problem", metavar="PROBLEM|TABLE.csv")
    table = p_disc.add_argument_group("table mode (a CSV file instead of a problem)")
    table.add_argument("--target", help="the column to explain")
    table.add_argument("--features", nargs="+", metavar="COL", help="feature columns (default: all others)")
    table.add_argument("--time", metavar="COL", help="time column of trajectory data: adds the ODE route")
    table.add_argument("--units", nargs="+", metavar="COL=UNIT", help="units of every used column, e.g. t=s v=m/s")
    table.add_argument("--operators", metavar="OPS", help="fix the operators (e.g. add,sub,mul,div,exp): no escalation")
    table.add_argument("--restarts", type=int, default=None, help="independent searches per stage (default 3)")
    table.add_argument("--no-transforms", action="store_true", help="do not search transformed targets")
    table.add_argument("--groups", metavar="COL", help="one expression for all groups, constants fitted per group")
    table.add_argument("--template", metavar="EXPR", help="outer structure, e.g. 'g*h' with --part g=s --part h=n/p")
    table.add_argument(
        "--part", action="append", default=[], metavar="NAME=ARG", help="a searched part of --template and its argument"
    )
    p_disc.add_argument(
        "--backend",
        choices=("operon", "sindy", "pysr"),
        default=None,
        help="search engine (default: the problem's first, operon for most)",
    )
    _add_common(p_disc)
    p_disc.add_argument("--quick", action="store_true", help="small budget (Operon: 60 generations of 300)")
    return p


def _out_dir(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("--out needs a directory name, got an empty string")
    return Path(text)


def _laws(args: argparse.Namespace) -> int:
    from theory import LAWS

    rows = [
        {"name": law.name, "title": law.title, "exact": law.exact, "source": law.source, "regime": law.regime}
        for law in LAWS.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['name']:28s} {r['title']}")
    return 0


def _law_names(requested: Sequence[str]) -> list[str]:
    """The requested laws, each once in the order given (all laws with checks when none), refused when unknown
    (before the suite, and with it torch, is imported) or without checks."""
    from theory import LAWS

    names = list(dict.fromkeys(requested))
    unknown = [n for n in names if n not in LAWS]
    if unknown:
        raise _UsageError(f"unknown law {unknown[0]!r}; known laws: {', '.join(LAWS)}")
    from verify.suite import CHECKS

    names = names or list(CHECKS)
    unchecked = [n for n in names if n not in CHECKS]
    if unchecked:
        raise _UsageError(f"law {unchecked[0]!r} has no verification checks yet; laws with checks: {', '.join(CHECKS)}")
    return names


def _run_laws(
    names: Sequence[str], seed: int, quick: bool, fault: Any = None
) -> tuple[dict[str, list], dict[str, float]]:
    """Run every law's checks (under ``fault`` if given) with one progress line per law on stderr; returns checks
    and wall times."""
    from verify.suite import NO_FAULT, run_law

    results, seconds = {}, {}
    for name in names:
        start = time.perf_counter()
        checks = run_law(name, seed=seed, quick=quick, fault=fault or NO_FAULT)
        seconds[name] = time.perf_counter() - start
        ok = all(c.passed for c in checks)
        print(f"[{seconds[name]:6.1f}s] {name}: {'PASS' if ok else 'FAIL'}", file=sys.stderr)
        results[name] = checks
    return results, seconds


def _fault(text: str) -> Any:
    from verify.suite import FAULT_KINDS, Fault

    kind, sep, size = text.partition("=")
    try:
        value = float(size)
    except ValueError:
        value = None
    if not sep or kind not in FAULT_KINDS or value is None:
        raise argparse.ArgumentTypeError(
            f"a planted fault is KIND=SIZE with KIND one of {', '.join(FAULT_KINDS)} and SIZE a number "
            f"(e.g. clock=1e-6), got {text!r}"
        )
    try:
        return Fault(kind, value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _must_fail(names: Sequence[str], seed: int, as_json: bool) -> int:
    """Each check of ``names`` under each fault it declares (`verify.suite.FAULTS`): the check must FAIL."""
    from verify.suite import FAULTS, Fault, run_check

    rows = []
    for law in names:
        start = time.perf_counter()
        for name, faults in FAULTS[law].items():
            for kind, size in faults.items():
                c = run_check(law, name, seed, Fault(kind, size))
                rows.append(
                    {
                        "law": law,
                        "check": name,
                        "fault": kind,
                        "size": size,
                        "failed": not c.passed,
                        "summary": c.summary,
                    }
                )
        print(f"[{time.perf_counter() - start:6.1f}s] {law}: planted faults run", file=sys.stderr)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            verdict = "FAILS as required" if r["failed"] else "MISSED the fault"
            print(f"[{verdict}] {r['law']}.{r['check']} with {r['fault']} × (1 + {r['size']:g}): {r['summary']}")
        missed = sum(not r["failed"] for r in rows)
        print(f"{len(rows) - missed} of {len(rows)} planted faults caught ({len(names)} laws, seed {seed})")
    return 0 if all(r["failed"] for r in rows) else 1


def _verify(args: argparse.Namespace) -> int:
    names = _law_names(args.laws)
    if args.must_fail:
        return _must_fail(names, args.seed, args.json)
    by_law, _ = _run_laws(names, args.seed, quick=False, fault=args.plant)
    results = [c for checks in by_law.values() for c in checks]
    if args.json:
        rows = [{"law": c.law, "check": c.name, "passed": c.passed, "summary": c.summary} for c in results]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for c in results:
            print(c)
        n_fail = sum(not c.passed for c in results)
        print(f"{len(results) - n_fail} passed, {n_fail} failed ({len(names)} laws, seed {args.seed})")
    return 0 if all(c.passed for c in results) else 1


def _simulate(args: argparse.Namespace) -> int:
    """Run one law's checks and print the curves its report draws, in long form: source, t, component, value
    (``source`` is the GD run, e.g. ``GD η = 0.005``, or ``theory``). The CSV is plain (a header row, then data,
    as `pandas.read_csv` expects); the law, seed and quantity go with ``--json``."""
    (name,) = _law_names([args.law])
    from verify.report import curves_for

    by_law, _ = _run_laws([name], args.seed, quick=False)
    curves = curves_for(name, by_law[name])
    if curves is None:
        raise _UsageError(f"no check of {name!r} simulates a trajectory; `lawbook verify {name}` shows its evidence")
    series = list(curves.simulated) + ([("theory", *curves.theory)] if curves.theory is not None else [])
    records = [
        {"source": label, "t": float(t[i]), "component": k, "value": float(v)}
        for label, t, values in series
        for i, row in enumerate(np.asarray(values).reshape(len(t), -1))
        for k, v in enumerate(row)
    ]
    if args.json:
        print(json.dumps({"law": name, "seed": args.seed, "ylabel": curves.ylabel, "records": records}, indent=1))
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["source", "t", "component", "value"])
        writer.writerows([r["source"], f"{r['t']:.10g}", r["component"], f"{r['value']:.17g}"] for r in records)
    return 0 if all(c.passed for c in by_law[name]) else 1


class _Progress:
    """Discovery progress on a text stream, for work that lasts: nothing in the first ``delay`` seconds (a short
    search prints only its closing line), then, on a terminal, one status line rewritten in place, and in a log
    (not a terminal) one line per ``interval`` seconds. The line is `discover.ProgressEvent`'s own one-liner:
    stage, generation, best loss, elapsed seconds.

    >>> import io
    >>> from discover import ProgressEvent
    >>> log = io.StringIO()
    >>> show = _Progress(log, label="logistic_mode_rhs", delay=2.0, interval=5.0)
    >>> for g, t in [(0, 0.1), (10, 2.5), (20, 4.0), (30, 7.6)]:
    ...     show(ProgressEvent("operon", "search", step=g, steps=60, best_loss=0.5 / (g + 1), elapsed=t))
    >>> print(log.getvalue(), end="")
    [logistic_mode_rhs] operon search: generation 10/60, best loss 0.0455, 2.5 s
    [logistic_mode_rhs] operon search: generation 30/60, best loss 0.0161, 7.6 s
    """

    def __init__(self, stream: Any, *, label: str, delay: float = 2.0, interval: float = 5.0) -> None:
        self.stream, self.label, self.delay, self.interval = stream, label, delay, interval
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.shown: float | None = None  # elapsed time of the last line written
        self.dirty = False  # a status line is on the terminal and must be cleared

    def __call__(self, event: Any) -> None:
        if event.elapsed < self.delay:
            return
        if not self.tty and self.shown is not None and event.elapsed - self.shown < self.interval:
            return
        self.shown = event.elapsed
        line = f"[{self.label}] {event}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line[:200])
            self.dirty = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.dirty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.dirty = False


def _rediscover(problem: Any, backend: str | None, seed: int, budget: Any) -> tuple[Any, Any]:
    """Rediscover ``problem`` with one progress line on stderr; returns the `Rediscovery` and the
    `DiscoverySummary` that `lawbook discover` prints and report pages show."""
    import sympy as sp

    from verify.rediscovery import rediscover
    from verify.report import DiscoveryRow, DiscoverySummary

    start = time.perf_counter()
    show = _Progress(sys.stderr, label=f"{getattr(problem, 'name', problem)}/{backend or 'default'}")
    try:
        result = rediscover(problem, backend=backend, seed=seed, budget=budget, progress=show)
    finally:
        show.close()
    d = result.discovery
    elapsed = time.perf_counter() - start
    print(
        f"[{elapsed:6.1f}s] discover {result.problem.name}/{d.backend}: {'FOUND' if result.found else 'NOT FOUND'}",
        file=sys.stderr,
    )
    rows = tuple(
        DiscoveryRow(
            str(c.expr),
            sp.latex(c.expr),
            c.complexity,
            c.loss,
            v.level,
            c is d.best,
            c.route,
            c.stage,
            c.heldout_r2,
            c.at_floor,
        )
        for c, v in zip(d.pareto, result.verdicts, strict=True)
    )
    settings = {**_effort(d.settings), "rows": d.settings["rows"], "law's own loss": f"{result.reference_loss:.3g}"}
    summary = DiscoverySummary(
        result.problem.name, d.backend, seed, str(result.problem.reference), rows, result.found, settings, d.verdict
    )
    return result, summary


def _effort(settings: Mapping[str, Any]) -> dict[str, str]:
    """What set the search effort of a discovery, as its backend recorded it: the budget fields it used, or, for
    a backend that uses none (SINDy, a deterministic sparse regression), the settings that do."""
    used = settings["budget"]
    engine = settings["backend"]
    if used:
        out = {"budget": ", ".join(f"{k} {v}" for k, v in used.items() if v is not None)}
    else:
        out = {"budget": "none (a deterministic sparse regression)"}
        out.update({k: str(engine[k]) for k in ("library", "optimizer", "n_thresholds") if k in engine})
    if "allowed_symbols" in engine:
        out["operators"] = str(engine["allowed_symbols"])
    return out


def _discover(args: argparse.Namespace) -> int:
    from discover import BackendUnavailable, Budget
    from discover.problems import PROBLEMS

    table_options = ("target", "features", "time", "units", "operators", "restarts", "groups", "template")
    if args.problem.endswith(".csv") or Path(args.problem).is_file():
        try:
            return _discover_table(args)
        except BackendUnavailable as err:
            raise _UsageError(str(err)) from None
    given = [f"--{k.replace('_', '-')}" for k in table_options if getattr(args, k) is not None] + (
        ["--part"] if args.part else []
    )
    if given:
        raise _UsageError(f"{', '.join(given)} apply to a CSV table, not to the problem {args.problem!r}")
    if args.problem not in PROBLEMS:
        raise _UsageError(f"unknown problem {args.problem!r}; known problems: {', '.join(PROBLEMS)}")
    try:
        result, summary = _rediscover(
            args.problem, args.backend, args.seed, Budget.quick() if args.quick else Budget.default()
        )
    except BackendUnavailable as err:
        raise _UsageError(str(err)) from None
    rows = [
        {
            "complexity": r.complexity,
            "loss": r.loss,
            "expr": r.expr,
            "best": r.best,
            "verdict": r.level,
            "route": r.route,
            "stage": r.stage,
            "heldout_r2": r.heldout_r2,
            "at_floor": r.at_floor,
        }
        for r in summary.rows
    ]
    if args.json:
        out = {
            "problem": summary.problem,
            "backend": summary.backend,
            "seed": summary.seed,
            "found": summary.rediscovered,
            "discovery_verdict": summary.verdict,
            "reference": summary.reference,
            "pareto": rows,
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(f"{summary.problem} ({summary.backend}, seed {summary.seed}); reference: {summary.reference}")
        print(f"{'complexity':>10}  {'loss (MSE)':>10}  {'verdict':15}  {'route / stage':28}  expression")
        for r in rows:
            mark = "  <- best" if r["best"] else ""
            where = f"{r['route']} / {r['stage']}"[:28]
            print(f"{r['complexity']:>10}  {r['loss']:>10.3e}  {r['verdict']:15}  {where:28}  {r['expr']}{mark}")
        print(f"discovery's own verdict (without the reference): {summary.verdict}")
        print(result.summary())
    return 0 if summary.rediscovered else 1


def _discover_table(args: argparse.Namespace) -> int:
    """`lawbook discover TABLE.csv --target y …`: discovery on a user's table; prints the front with each row's
    route, stage and held-out R², and the verdict. Exit 0 when the verdict is "law found", 1 otherwise."""
    import pandas as pd

    from discover import Budget, discover

    if not args.target:
        raise _UsageError(f"a table needs --target COLUMN (the columns of {args.problem} are read from its header)")
    path = Path(args.problem)
    if not path.is_file():
        raise _UsageError(f"no such table: {path}")
    data = pd.read_csv(path)
    options: dict[str, Any] = {}
    if args.backend:
        options["backend"] = args.backend
    if args.units:
        options["units"] = dict(_pair(text, "--units") for text in args.units)
    if args.operators:
        options["operators"] = args.operators
    if args.restarts is not None:
        options["restarts"] = args.restarts
    if args.template:
        features = args.features or [c for c in data.columns if c not in (args.target, args.groups)]
        options["template"] = _template(args.template, [_pair(text, "--part") for text in args.part], features)
    elif args.part:
        raise _UsageError("--part describes a part of --template; give --template too")
    start = time.perf_counter()
    show = _Progress(sys.stderr, label=f"{path.name}/{args.target}")
    try:
        d = discover(
            data,
            args.target,
            features=args.features,
            seed=args.seed,
            budget=Budget.quick() if args.quick else Budget.default(),
            progress=show,
            transforms=not args.no_transforms,
            time=args.time,
            groups=args.groups,
            **options,
        )
    finally:
        show.close()
    print(f"[{time.perf_counter() - start:6.1f}s] discover {path.name} → {args.target}: {d.verdict}", file=sys.stderr)
    best = d.best
    rows = [
        {
            "complexity": c.complexity,
            "loss": c.loss,
            "heldout_r2": c.heldout_r2,
            "at_floor": c.at_floor,
            "route": c.route,
            "stage": c.stage,
            "found_by": list(c.found_by),
            "expr": str(c.expr),
            "best": c is best,
        }
        for c in d.pareto
    ]
    if args.json:
        out = {
            "table": str(path),
            "target": d.target,
            "seed": d.seed,
            "verdict": d.verdict,
            "pareto": rows,
            "searches": list(d.searches),
            "notes": list(d.notes),
            "seconds": d.seconds,
        }
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    else:
        print(f"{path.name}: {d.target} from {', '.join(d.features)} (seed {d.seed}); verdict: {d.verdict}")
        print(
            f"{'complexity':>10}  {'loss (MSE)':>10}  {'held-out R²':>11}  {'floor':5}  {'route / stage':28}  expression"
        )
        for r in rows:
            r2 = "-" if r["heldout_r2"] is None else f"{r['heldout_r2']:.9f}"
            where = f"{r['route']} / {r['stage']}"[:28]
            mark = "  <- best" if r["best"] else ""
            print(
                f"{r['complexity']:>10}  {r['loss']:>10.3e}  {r2:>11}  {'yes' if r['at_floor'] else 'no':5}  "
                f"{where:28}  {r['expr']}{mark}"
            )
        for note in d.notes:
            print(f"note: {note}")
        print(f"{len(d.searches)} search(es), {d.seconds:.1f} s")
    return 0 if d.verdict == "law found" else 1


def _pair(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise _UsageError(f"{option} takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _template(text: str, parts: Sequence[tuple[str, str]], features: Sequence[str]) -> Any:
    """A `discover.templates.Template` from text, read by the allow-list parser (never evaluated): the part names
    stand for searched functions of the arguments given with --part; every other unknown name is a constant."""
    import ast

    import sympy as sp

    from discover.backends.base import feature_symbols
    from discover.templates import Template
    from theory.parse import CONSTANTS, FUNCTIONS, parse_expression

    symbols = dict(zip(features, feature_symbols(features), strict=True))
    try:
        names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        names = set()  # parse_expression below names the error
    part_names = [name for name, _ in parts]
    constants = sorted(names - set(symbols) - set(part_names) - set(FUNCTIONS) - set(CONSTANTS))
    known = {**symbols, **{n: sp.Symbol(n) for n in [*part_names, *constants]}}
    outer = parse_expression(text, known)
    calls = {
        known[name]: sp.Function(name)(*[parse_expression(a, symbols) for a in arg.split(";")]) for name, arg in parts
    }
    return Template(outer.xreplace(calls), constants=[known[c] for c in constants])


def _run_discovery(names: Sequence[str], seed: int, quick: bool) -> tuple[dict[str, list], dict[str, float]]:
    """Rediscover every problem of the given laws with each of its backends at `Budget.quick()` (the budget
    the tests assert); ``quick`` skips the problems marked slow. Progress on stderr, one line per run."""
    from discover import Budget
    from discover.problems import PROBLEMS

    summaries: dict[str, list] = {}
    seconds: dict[str, float] = {}
    for problem in PROBLEMS.values():
        if problem.law not in names or (quick and problem.slow):
            continue
        for backend in problem.backends:
            start = time.perf_counter()
            _, summary = _rediscover(problem, backend, seed, Budget.quick())
            seconds[f"{problem.name}/{backend}"] = time.perf_counter() - start
            summaries.setdefault(problem.law, []).append(summary)
    return summaries, seconds


def _report(args: argparse.Namespace) -> int:
    names = _law_names(args.laws)
    from theory import get_law
    from verify.publish import ReportFile, check_destination, publish
    from verify.report import (
        ENVIRONMENT_PAGE,
        LawReport,
        environment,
        figures_for,
        index_entry,
        render_environment,
        render_index,
        render_law_page,
    )

    # fail now, not after minutes of checks (figure names are known only later; publish checks those)
    known = [f"{n}.md" for n in names] + ["README.md", ENVIRONMENT_PAGE, "timings.json"]
    _, old = check_destination(args.out, force=args.force, names=known)
    by_law, seconds = _run_laws(names, args.seed, args.quick)
    discoveries, discovery_seconds = _run_discovery(names, args.seed, args.quick)
    files: list[ReportFile] = []
    reports, entries = [], {}
    for name in names:
        figures = []
        for filename, caption, render in figures_for(name, by_law[name]):
            files.append(ReportFile(filename, name, render))
            figures.append((caption, filename))
        report = LawReport(get_law(name), tuple(by_law[name]), tuple(figures), tuple(discoveries.get(name, ())))
        files.append(ReportFile(f"{name}.md", name, render_law_page(report, seed=args.seed, quick=args.quick).encode()))
        reports.append(report)
        entries[name] = index_entry(report, seed=args.seed, quick=args.quick)
    # The index lists every law page in the directory: this run's and those kept from earlier runs.
    kept = {k: v for k, v in (old.owners.items() if old else ()) if k in _page_owners(old) and k not in entries}
    files.append(ReportFile("README.md", "index", render_index({**kept, **entries}).encode()))
    files.append(ReportFile(ENVIRONMENT_PAGE, "environment", render_environment(environment()).encode()))
    timings = {
        "seed": args.seed,
        "quick": args.quick,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "discovery_seconds": {k: round(v, 3) for k, v in discovery_seconds.items()},
    }
    files.append(ReportFile("timings.json", "timings", (json.dumps(timings, indent=2) + "\n").encode(), volatile=True))
    publish(args.out, files, owners=entries, force=args.force)
    ok = all(r.passed for r in reports)
    if args.json:
        print(json.dumps([{"law": r.law.name, "passed": r.passed} for r in reports], indent=2))
    else:
        print(f"{sum(r.passed for r in reports)} of {len(reports)} laws verified; pages in {args.out}/")
    return 0 if ok else 1


def _studies() -> tuple[str, ...]:
    from verify.studies import STUDIES

    return STUDIES


def _study(args: argparse.Namespace) -> int:
    from verify.publish import check_destination
    from verify.studies import study_module

    if args.workers is not None and args.workers < 1:
        raise _UsageError(f"--workers must be a positive integer, got {args.workers}")
    study = study_module(args.name)
    check_destination(args.out, force=args.force, names=[study.PAGE])  # fail now, not after the sweep
    plan = study.QUICK if args.quick else study.FULL
    result = study.run_study(
        plan, cache=args.cache, scheduler=args.scheduler, workers=args.workers, progress=sys.stderr.isatty()
    )
    page = study.write_study(result, args.out, force=args.force)
    print(f"study {args.name} ({plan.name}): {study.summary_line(result)}; page {page}")
    return 0


def _page_owners(manifest: Any) -> set[str]:
    """The laws that have a page in a report directory, by its manifest."""
    if manifest is None:
        return set()
    return {owner for name, (owner, _) in manifest.files.items() if name == f"{owner}.md"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lawbook`` console script; returns the exit code.

    >>> main(["verify", "no_such_law"])
    2
    """
    try:
        args = _parser().parse_args(argv)
        if args.threads is not None:
            if args.threads < 1:
                raise _UsageError(f"--threads must be a positive integer, got {args.threads}")
            from simulate.threads import THREADS_ENV

            os.environ[THREADS_ENV] = str(args.threads)
        if args.command == "laws":
            return _laws(args)
        if args.command == "report":
            return _report(args)
        if args.command == "discover":
            return _discover(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "study":
            return _study(args)
        return _verify(args)
    except BrokenPipeError:  # the reader stopped early (`lawbook simulate LAW | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except SystemExit as done:  # --help and --version print and exit 0; the caller still gets a code
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:  # one line, not a traceback; reports are swapped in whole, so none is half-written
        print("lawbook: interrupted; no report was half-written", file=sys.stderr)
        return 130
    except _UsageError as err:
        print(f"lawbook: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"lawbook: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
