"""The `lawbook` command line: a thin argparse layer over the verification suite.

Exit codes: 0 when everything verified, 1 when a verification failed, 2 for usage errors or bad input.
Progress goes to stderr, one line per law with its elapsed time; results go to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits with 2 on its own; keep that but one line
        raise _UsageError(message)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lawbook", description="Verify closed-form laws of learning dynamics against simulation.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("laws", help="list the laws with their source and regime").add_argument("--json", action="store_true")
    for name, helptext in (
        ("verify", "run the verification checks of the given laws (default: all)"),
        ("report", "verify the laws and print a summary (markdown pages arrive with the report issue)"),
    ):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("laws", nargs="*", metavar="LAW")
        sp.add_argument("--seed", type=_seed, default=0)
        sp.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    return p


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


def _verify(args: argparse.Namespace) -> int:
    from theory import LAWS
    from verify.suite import CHECKS, run_law

    names = args.laws or list(CHECKS)
    unknown = [n for n in names if n not in LAWS]
    if unknown:
        raise _UsageError(f"unknown law {unknown[0]!r}; known laws: {', '.join(LAWS)}")
    unchecked = [n for n in names if n not in CHECKS]
    if unchecked:
        raise _UsageError(f"law {unchecked[0]!r} has no verification checks yet; laws with checks: {', '.join(CHECKS)}")
    results = []
    for name in names:
        start = time.perf_counter()
        checks = run_law(name, seed=args.seed)
        ok = all(c.passed for c in checks)
        print(f"[{time.perf_counter() - start:6.1f}s] {name}: {'PASS' if ok else 'FAIL'}", file=sys.stderr)
        results.extend(checks)
    if args.json:
        rows = [{"law": c.law, "check": c.name, "passed": c.passed, "summary": c.summary} for c in results]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for c in results:
            print(c)
        n_fail = sum(not c.passed for c in results)
        print(f"{len(results) - n_fail} passed, {n_fail} failed ({len(names)} laws, seed {args.seed})")
    return 0 if all(c.passed for c in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lawbook`` console script; returns the exit code.

    >>> main(["verify", "no_such_law"])
    2
    """
    try:
        args = _parser().parse_args(argv)
        if args.command == "laws":
            return _laws(args)
        return _verify(args)
    except _UsageError as err:
        print(f"lawbook: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"lawbook: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
