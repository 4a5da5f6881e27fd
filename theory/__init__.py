"""Closed-form laws of learning dynamics as SymPy objects. Pure mathematics: no I/O, no simulation, no randomness.

>>> from theory import get_law
>>> sorted(LAWS)[:3]
['coupling_peak_time', 'cyclic_forgetting_two_tasks', 'decoupling_2x2']
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from theory import (
    balance,
    decoupling,
    diagonal,
    forgetting,
    lambda_balanced,
    lazy_rich,
    linear_forgetting,
    modes,
    orthogonal_forgetting,
    overparameterized,
    regression,
    riccati,
    riccati_fukumizu,
    weight_decay,
)
from theory.law import Assumption, AssumptionError, Law
from theory.parse import ExpressionSyntaxError, parse_expression

__all__ = ["LAWS", "Assumption", "AssumptionError", "ExpressionSyntaxError", "Law", "get_law", "parse_expression"]


def _collect(*modules: object) -> Mapping[str, Law]:
    laws: dict[str, Law] = {}
    for module in modules:
        for law in vars(module).values():
            if isinstance(law, Law):
                if law.name in laws and laws[law.name] is not law:
                    raise RuntimeError(f"two laws are named {law.name!r}")
                laws[law.name] = law
    return MappingProxyType(dict(sorted(laws.items())))


LAWS: Mapping[str, Law] = _collect(
    modes,
    forgetting,
    balance,
    regression,
    riccati,
    riccati_fukumizu,
    decoupling,
    lambda_balanced,
    weight_decay,
    lazy_rich,
    overparameterized,
    linear_forgetting,
    orthogonal_forgetting,
    diagonal,
)


def get_law(name: str) -> Law:
    """The law registered under ``name``; an unknown name raises KeyError listing the known ones.

    >>> get_law("logistic_mode").name
    'logistic_mode'
    """
    try:
        return LAWS[name]
    except KeyError:
        raise KeyError(f"unknown law {name!r}; known laws: {', '.join(LAWS)}") from None
