"""Numbers in check summaries that read the same on every machine.

An error at the round-off level (say 3.9e-14) is a machine-dependent digit string: BLAS summation order, fused
multiply-add and libm differ between machines at the 1e-16 relative level, and an error made of round-off inherits
all of that. Such a number carries one piece of information — "this is round-off, far below the tolerance" — so a
summary shows it as ``< floor``, with a floor the check derives and states. An error far above its floor (a GD
vs gradient-flow error of 5.72e-3, a published formula off by 7.2e-8) is deterministic to many more digits than
it is shown with, so it is printed with a few significant digits.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["EPS", "error_text", "roundoff_floor"]

EPS = float(np.finfo(np.float64).eps)  # 2.2e-16: the spacing of float64 numbers at 1


def roundoff_floor(ops: float, scale: float = 1.0) -> float:
    """The power of ten at or above ``ops·ε·scale``, float64's round-off bound for ``ops`` operations on numbers of
    size ``scale``; an error below it says only "round-off", so `error_text` prints it as ``< floor``.

    >>> roundoff_floor(100)  # 100 · 2.2e-16 = 2.2e-14
    1e-13
    >>> roundoff_floor(10, scale=3.0)
    1e-14
    """
    if not (math.isfinite(ops) and ops >= 1):
        raise ValueError(f"roundoff_floor needs a finite operation count ops ≥ 1, got {ops!r}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"roundoff_floor needs a finite positive scale, got {scale!r}")
    return float(10.0 ** math.ceil(math.log10(ops * EPS * scale)))


def error_text(value: float, floor: float, digits: int = 2) -> str:
    """``value`` as a summary shows it: ``< floor`` when below ``floor``, else with ``digits`` significant digits.

    ``nan`` and ``inf`` are shown as such (a failing check must still say what it saw).

    >>> error_text(3.9e-14, floor=1e-12)
    '< 1e-12'
    >>> error_text(0.0057213, floor=1e-12, digits=3)
    '0.00572'
    >>> error_text(7.2456e-8, floor=1e-12)
    '7.2e-08'
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"error_text formats a real number, got {type(value).__name__}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 6:
        raise ValueError(f"digits must be an int from 1 to 6 (more would print round-off), got {digits!r}")
    if not (isinstance(floor, (int, float)) and math.isfinite(floor) and floor > 0):
        raise ValueError(
            f"floor must be a finite positive number (the round-off level the check states), got {floor!r}"
        )
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if abs(value) < floor:
        return f"< {floor:.2g}"
    return f"{value:.{digits}g}"
