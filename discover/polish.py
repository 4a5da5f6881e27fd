"""Float64 polishing of a candidate's constants: least squares on the data, starting from the engine's values.

Operon fits constants in float32 (relative error ≈ 1e-7), so a law with a constant that no snapping rule can make
exact (Euler's γ, a measured coupling) keeps residuals that are a smooth function of the features — the signature
of an approximation to `discover.floor`. Refitting the constants in float64 removes that: the residuals of a law
fall to the data's own error, while those of an approximation stay structured.

`polish` refits every `Float` atom of the expression (at most `MAX_CONSTANTS`; larger expressions are returned
unchanged) by `scipy.optimize.least_squares` (trust region, numeric Jacobian, evaluation by
`discover.snapping.evaluate`), and keeps the refit only if it lowers the MSE. Equal constants stay one constant
(they are the same atom of the SymPy tree).

>>> x = sp.Symbol("x")
>>> X = np.linspace(1, 2, 40)[:, None]
>>> polish(sp.Float(0.57721573) * x + sp.Float(1.0), X, 0.5772156649015329 * X[:, 0] + 1, ["x"])
0.577215664901533*x + 1.0
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import sympy as sp

from discover.snapping import evaluate

__all__ = ["MAX_CONSTANTS", "polish"]

# Beyond this many constants a candidate is not polished: it is no law of a few constants, and the refit costs more.
MAX_CONSTANTS = 12


def polish(expr: sp.Expr, X: np.ndarray, y: np.ndarray, features: Sequence[str]) -> sp.Expr:
    """``expr`` with its float constants refitted to (X, y) in float64 where that lowers the MSE."""
    from scipy.optimize import least_squares

    constants = sorted(expr.atoms(sp.Float), key=lambda f: (abs(float(f)), float(f)))
    if not constants or len(constants) > MAX_CONSTANTS:
        return expr
    prefix = "polish_c" + "_" * max((len(f) for f in features if f.startswith("polish_c")), default=0)  # no clash
    parameters = sp.symbols(f"{prefix}0:{len(constants)}")
    template = expr.xreplace(dict(zip(constants, parameters, strict=True)))
    columns = dict(zip(features, np.asarray(X, dtype=np.float64).T, strict=True))
    y = np.asarray(y, dtype=np.float64)

    def residuals(values: np.ndarray) -> np.ndarray:
        # the parameters are read as scalar columns: no SymPy tree is rebuilt per evaluation (rebuilding one, with
        # its automatic simplification, cost ≈ 6 ms a call and dominated whole discoveries)
        given = {**columns, **{p.name: float(v) for p, v in zip(parameters, values, strict=True)}}
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(evaluate(template, given), dtype=np.float64), y.shape) - y
        return np.where(np.isfinite(out), out, 1e150)

    start = np.array([float(c) for c in constants])
    before = float(np.mean(residuals(start) ** 2))
    if not math.isfinite(before):
        return expr
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # a trial step may overflow inside SciPy's own arithmetic (huge residuals): that step is rejected
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = least_squares(residuals, start, method="trf", x_scale="jac", max_nfev=50 * (len(start) + 1))
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - a degenerate Jacobian
        return expr
    after = float(np.mean(residuals(fit.x) ** 2))
    if not after < before:
        return expr
    return template.xreplace({p: sp.Float(float(v)) for p, v in zip(parameters, fit.x, strict=True)})
