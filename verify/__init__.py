"""Verification: theory against simulation (`agreement`) and discovered expressions against laws (`equivalent`).

The test modules in this folder (`pytest verify`) are the scientific regression suite; `verify.cli` is the
`lawbook` command.

>>> import sympy as sp
>>> from verify import equivalent
>>> x = sp.Symbol("x")
>>> equivalent(2 * (x + 1), 2 * x + 2, domain={"x": (0, 1)}, simplify_timeout=0).level
'exact'
"""

from verify.agreement import Agreement, agreement, fit_order
from verify.equivalence import Verdict, equivalent

__all__ = ["Agreement", "Verdict", "agreement", "equivalent", "fit_order"]
