"""The input checks of `discover.discover`, one function per check, run before any engine starts.

A table is refused, with a message naming the column and the fix, when it could not give a meaningful search:

- a missing, repeated, non-numeric or non-identifier column; fewer than `discover.MIN_ROWS` rows;
- a non-finite value (NaN or ±inf) in a used column (the message counts the rows);
- a used column whose magnitude is outside ``[MIN_MAGNITUDE, MAX_MAGNITUDE]`` (an all-zero column excepted);
- a target that is constant: every expression then fits it with one constant, and there is nothing to learn.

**The range.** Operon, the default engine, computes in float32, whose largest value is F ≈ 3.40e38 and whose
smallest normal value is T ≈ 1.18e-38. The search multiplies columns (a square or a product of two columns is the
least a law of a few nodes needs) and its loss squares residuals ``y − ŷ``, which are up to twice the largest
value. Both stay finite and normal in float32 when every column obeys

    max |value| ≤ MAX_MAGNITUDE = √(F / 4) ≈ 9.2e18   and   max |value| ≥ MIN_MAGNITUDE = √T ≈ 1.1e-19.

Beyond these bounds Operon's fitness is inf or flushed to zero, and a float64 least-squares step (SINDy) on a
degree-3 library of such columns overflows or underflows as well (at 1e200, LAPACK fails outright). The same
range holds for every backend, so that a table acceptable to one engine is acceptable to all and their results
stay comparable. Data outside it need rescaling — non-dimensionalise each column by its typical size — which
symbolic regression is invariant to up to the constants.

>>> import pandas as pd
>>> table = pd.DataFrame({"u": [float(k) for k in range(10)], "y": [0.0] * 10})
>>> check_table(table, "y", None)
Traceback (most recent call last):
...
ValueError: target 'y' is constant (= 0) over all 10 rows: there is nothing to regress; check the column
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MAX_MAGNITUDE",
    "MIN_MAGNITUDE",
    "MIN_ROWS",
    "check_magnitude",
    "check_seed",
    "check_table",
    "constant_to_float32",
]

# Fewer rows cannot tell an expression with a few constants from one that interpolates the data.
MIN_ROWS = 10
_FLOAT32 = np.finfo(np.float32)
MAX_MAGNITUDE = math.sqrt(float(_FLOAT32.max) / 4)
MIN_MAGNITUDE = math.sqrt(float(_FLOAT32.smallest_normal))


def check_seed(seed: Any) -> int:
    """The seed as a Python int; anything but an integer in [0, 2**63) raises `ValueError`.

    >>> check_seed(3)
    3
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    return int(seed)


def check_magnitude(name: str, values: np.ndarray) -> None:
    """Refuse a column whose largest magnitude is outside [`MIN_MAGNITUDE`, `MAX_MAGNITUDE`] (zero is fine).

    >>> check_magnitude("u", np.array([1.0, -3e20]))
    Traceback (most recent call last):
    ...
    ValueError: column 'u' reaches |value| = 3e+20, above 9.2e+18 = √(float32 max / 4), where a product of two \
such values overflows float32, which Operon computes in (every backend is held to this range); rescale the \
column (divide it by its typical size, i.e. non-dimensionalise it)
    """
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest > MAX_MAGNITUDE:
        raise ValueError(
            f"column {name!r} reaches |value| = {largest:.3g}, above {MAX_MAGNITUDE:.2g} = √(float32 max / 4), "
            "where a product of two such values overflows float32, which Operon computes in (every backend is held "
            "to this range); rescale the column (divide it by its typical size, i.e. non-dimensionalise it)"
        )
    if 0 < largest < MIN_MAGNITUDE:
        raise ValueError(
            f"column {name!r} has |value| ≤ {largest:.3g}, below {MIN_MAGNITUDE:.2g} = √(smallest normal float32), "
            "where a product of two such values underflows float32, which Operon computes in (every backend is held "
            "to this range); rescale the column (divide it by its typical size, i.e. non-dimensionalise it)"
        )


def constant_to_float32(values: np.ndarray) -> bool:
    """Whether a derived target (a transformed target, a template part's pseudo-target) is one number to float32
    resolution: its spread is at most 2⁻²³ of its largest magnitude. Such a target is that constant — a search on
    it has nothing to regress (and `check_table` refuses an exactly constant one).

    >>> constant_to_float32(np.array([3.0, 3.0 + 1e-15])), constant_to_float32(np.array([3.0, 3.001]))
    (True, False)
    """
    values = np.asarray(values, dtype=np.float64)
    spread = float(np.max(values) - np.min(values))
    return spread <= 2.0**-23 * max(float(np.max(np.abs(values))), 1e-300)


def check_table(data: Any, target: str, features: Sequence[str] | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Validate the table and return (feature names, X float64 (rows, features), y float64 (rows,)).

    ``features`` None means every column but ``target``. See the module docstring for what is refused.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    columns = list(data.columns)
    if target not in columns:
        raise KeyError(f"target {target!r} is not a column of the data; columns: {columns}")
    if features is None:
        names = [c for c in columns if c != target]
    else:
        if isinstance(features, str):
            raise TypeError(f"features must be a sequence of column names, not the string {features!r}")
        names = list(features)
        missing = [n for n in names if n not in columns]
        if missing:
            raise KeyError(f"features {missing} are not columns of the data; columns: {columns}")
    if not names:
        raise ValueError("no features: give at least one column besides the target")
    if target in names:
        raise ValueError(f"target {target!r} cannot also be a feature")
    if len(set(names)) != len(names):
        raise ValueError(f"features repeat a column: {names}")
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"feature name {name!r} must be a Python identifier: it becomes a SymPy symbol name")
    for name in [*names, target]:
        if columns.count(name) > 1:
            raise ValueError(f"column {name!r} appears more than once in the data")
        dtype = data[name].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(f"column {name!r} must be numeric, got dtype {dtype}")
    if len(data) < MIN_ROWS:
        raise ValueError(f"need at least {MIN_ROWS} rows to tell expressions apart, got {len(data)}")
    X = data[names].to_numpy(dtype=np.float64)
    y = data[target].to_numpy(dtype=np.float64)
    for name, column in zip([*names, target], [*X.T, y], strict=True):
        bad = int(np.count_nonzero(~np.isfinite(column)))
        if bad:
            raise ValueError(
                f"column {name!r} has {bad} non-finite value(s) (NaN or ±inf) in {len(column)} rows; "
                "drop or fill those rows first"
            )
    for name, column in zip([*names, target], [*X.T, y], strict=True):
        check_magnitude(name, column)
    if np.all(y == y[0]):
        raise ValueError(
            f"target {target!r} is constant (= {y[0]:.6g}) over all {len(y)} rows: there is nothing to regress; "
            "check the column"
        )
    return names, X, y
