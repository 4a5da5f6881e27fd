"""SINDy (pysindy): sparse regression of an ODE right-hand side on a library of candidate terms.

Sparse identification of nonlinear dynamics (Brunton, Proctor & Kutz, PNAS 2016) writes ``du/dt`` as a sparse
linear combination of library terms ``θ_k(features)``. Here the table already holds the state, the parameters
and the derivative (the target), so no differentiation is done: we use pysindy's feature library and sparse
optimizer directly, as one regression of the target on the library.

Options:

- ``library``: ``("poly", degree)`` for pysindy's ``PolynomialLibrary`` (all monomials of the features up to
  ``degree``, constant included; the default is ``("poly", 3)``), or a sequence of terms, each a SymPy
  expression in the features or a string parsed into one (``"u**(4/3)"``, ``"u*s/tau"``); a ``("poly", d)``
  entry inside the sequence adds the monomials. A term is its own SymPy counterpart: its column is the term
  evaluated on the data, so non-integer powers and quotients need no special support.
- ``optimizer``: ``"stlsq"`` (sequentially thresholded least squares, the default) or ``"sr3"`` (relaxed
  L0-regularised regression, ``reg_weight_lam = threshold² / 2`` so that it thresholds at the same level).
- ``thresholds``: the sparsity thresholds to sweep, or None for ``n_thresholds`` (default 40) values spaced
  geometrically from 10⁻⁶ to 1 times the largest least-squares coefficient, plus 0 (the full library).
- ``alpha`` (ridge strength of STLSQ, default 1e-6), ``max_iter`` (default 50),
  ``normalize_columns`` (default True: thresholds apply to coefficients of unit-norm columns, so terms of
  different scale compete fairly).

**The Pareto front.** Each threshold selects a support (a set of terms); every distinct non-empty support is
refitted by unregularised least squares (pysindy's ``unbias``) and reported as one candidate. lawbook then
measures, snaps and filters the candidates like those of any other backend.

The regression is deterministic: ``seed`` is recorded but unused, and no field of the `Budget` applies
(``budget_fields`` is empty, so ``Discovery.settings["budget"]`` is ``{}``); its effort is set by the options above.

**Progress.** One ``"search"`` event per threshold of the sweep (throttled), with the lowest loss so far.
A library column that is not finite on the data (a high power of a large column, say) is refused by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from discover.backends.base import AbstractBackend, BackendUnavailable, Budget, RawCandidate, check_options
from discover.backends.base import feature_symbols as _feature_symbols
from discover.progress import Reporter
from theory.parse import ExpressionSyntaxError, parse_expression

__all__ = ["SindyBackend", "library_terms"]

_DEFAULTS: dict[str, Any] = {
    "library": ("poly", 3),
    "optimizer": "stlsq",
    "thresholds": None,
    "n_thresholds": 40,
    "alpha": 1e-6,
    "max_iter": 50,
    "normalize_columns": True,
}
_OPTIMIZERS = ("stlsq", "sr3")
# The sweep spans this many decades below the largest least-squares coefficient.
_SWEEP_DECADES = 6
# An error message names at most this many offending library terms (a high degree can have hundreds).
_SHOWN_TERMS = 5


def _pysindy() -> Any:
    try:
        import pysindy
    except Exception as exc:
        raise BackendUnavailable(
            f"the 'sindy' backend needs pysindy, which failed to import ({exc!r}); install it with `pip install pysindy`"
        ) from exc
    return pysindy


class SindyBackend(AbstractBackend):
    """Sparse regression on a term library with a threshold sweep; see the module docstring for the options."""

    name: ClassVar[str] = "sindy"
    budget_fields: ClassVar[tuple[str, ...]] = ()

    def settings(self, *, seed: int, budget: Budget, **options: Any) -> dict[str, Any]:
        check_options(self.name, options, sorted(_DEFAULTS))
        params = {**_DEFAULTS, **options}
        if params["optimizer"] not in _OPTIMIZERS:
            raise ValueError(f"backend 'sindy': unknown optimizer {params['optimizer']!r}; use one of {_OPTIMIZERS}")
        if params["thresholds"] is not None:
            thresholds = [float(t) for t in params["thresholds"]]
            if not thresholds or any(not np.isfinite(t) or t < 0 for t in thresholds):
                raise ValueError("backend 'sindy': thresholds must be a non-empty sequence of finite numbers ≥ 0")
            params["thresholds"] = thresholds
        n = params["n_thresholds"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"backend 'sindy': n_thresholds must be a positive integer, got {n!r}")
        params["library"] = _library_spec(params["library"])
        return params

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        features: Sequence[str],
        settings: dict[str, Any],
        *,
        progress: Reporter,
    ) -> list[RawCandidate]:
        params = settings
        ps = _pysindy()
        terms, theta = _library(ps, params["library"], np.asarray(X, dtype=np.float64), features)
        y = np.asarray(y, dtype=np.float64)
        _check_columns(terms, theta)
        # A term that is zero on every row (e.g. built from an all-zero column) has no coefficient to find, and
        # pysindy's column normalisation would divide by its zero norm: it stays out of the regression.
        live = np.flatnonzero(np.any(theta != 0, axis=0))
        if live.size == 0:
            raise ValueError("backend 'sindy': every library term is zero on the data; choose another library")
        terms, theta = [terms[i] for i in live], theta[:, live]

        scale = np.linalg.norm(theta, axis=0) if params["normalize_columns"] else np.ones(theta.shape[1])
        scale[scale == 0] = 1.0
        full = np.linalg.lstsq(theta / scale, y, rcond=None)[0]
        thresholds = params["thresholds"]
        if thresholds is None:
            top = float(np.max(np.abs(full))) or 1.0
            thresholds = [0.0, *np.geomspace(top * 10.0**-_SWEEP_DECADES, top, params["n_thresholds"]).tolist()]

        supports: dict[tuple[bool, ...], np.ndarray] = {}
        best_loss = None
        for k, threshold in enumerate(sorted(thresholds), start=1):
            coef = _sparse_fit(ps, params, theta, y, threshold)
            support = tuple(bool(c) for c in coef != 0)
            if any(support) and support not in supports:
                supports[support] = coef
                loss = float(np.mean((theta @ coef - y) ** 2))
                best_loss = loss if best_loss is None else min(best_loss, loss)
            progress.report("search", k, len(thresholds), best_loss=best_loss, detail=f"{len(terms)} terms")

        candidates = []
        for coef in supports.values():
            expr = sp.Add(*(sp.Float(float(c)) * term for c, term in zip(coef, terms, strict=True) if c != 0))
            loss = float(np.mean((theta @ coef - y) ** 2))
            candidates.append(RawCandidate(expr, int(np.count_nonzero(coef)), loss))
        return candidates


def _check_columns(terms: Sequence[sp.Expr], theta: np.ndarray) -> None:
    """Refuse a library column that overflowed (least squares on it would fail inside LAPACK)."""
    bad = [str(term) for term, column in zip(terms, theta.T, strict=True) if not np.all(np.isfinite(column))]
    if bad:
        shown = ", ".join(bad[:_SHOWN_TERMS]) + (f", … ({len(bad)} in all)" if len(bad) > _SHOWN_TERMS else "")
        raise ValueError(
            f"backend 'sindy': library term(s) {shown} are not finite on the data (they overflow float64); "
            "rescale the columns or use a smaller polynomial degree"
        )


def _sparse_fit(ps: Any, params: dict[str, Any], theta: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    common = {"max_iter": params["max_iter"], "normalize_columns": params["normalize_columns"], "unbias": True}
    if params["optimizer"] == "stlsq":
        optimizer = ps.STLSQ(threshold=threshold, alpha=params["alpha"], **common)
    else:
        optimizer = ps.SR3(reg_weight_lam=threshold**2 / 2, regularizer="L0", relax_coeff_nu=1.0, **common)
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Expected in a sweep: the largest thresholds remove every term, and a few iterations may not settle.
        warnings.filterwarnings("ignore", message="Sparsity parameter is too big")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        optimizer.fit(theta, y)
    return np.asarray(optimizer.coef_, dtype=np.float64).reshape(-1)


def _library_spec(library: Any) -> tuple[Any, ...]:
    """Normalise the ``library`` option to a tuple of ("poly", degree) entries and SymPy terms / strings."""
    entries = [library] if _is_poly(library) else list(library) if isinstance(library, (list, tuple)) else None
    if entries is None or not entries:
        raise ValueError(f"backend 'sindy': library must be ('poly', degree) or a sequence of terms, got {library!r}")
    out: list[Any] = []
    for entry in entries:
        if _is_poly(entry):
            degree = entry[1]
            if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
                raise ValueError(f"backend 'sindy': polynomial degree must be a positive integer, got {degree!r}")
            out.append(("poly", degree))
        elif isinstance(entry, (str, sp.Expr)):
            out.append(entry)
        else:
            raise ValueError(
                f"backend 'sindy': library term {entry!r} is neither ('poly', degree), a string nor a SymPy expression"
            )
    return tuple(out)


def _is_poly(entry: Any) -> bool:
    return isinstance(entry, (list, tuple)) and len(entry) == 2 and entry[0] == "poly"


def library_terms(library: Any, features: Sequence[str]) -> list[sp.Expr]:
    """The SymPy terms of a library specification, in column order.

    >>> library_terms(["u**(4/3)", "u*s/tau"], ["u", "s", "tau"])
    [u**(4/3), s*u/tau]

    ``("poly", degree)`` entries give pysindy's monomials in pysindy's order (importing pysindy).
    """
    return _library(None, _library_spec(library), None, features)[0]


def _library(
    ps: Any, spec: tuple[Any, ...], X: np.ndarray | None, features: Sequence[str]
) -> tuple[list[sp.Expr], np.ndarray]:
    """Terms and, when ``X`` is given, their columns. Monomials come from pysindy's PolynomialLibrary."""
    symbols = _feature_symbols(features)
    by_name = dict(zip(features, symbols, strict=True))
    terms: list[sp.Expr] = []
    columns: list[np.ndarray] = []
    for entry in spec:
        if _is_poly(entry):
            powers = _poly_powers(ps, entry[1], len(features), X)
            for row in powers:
                terms.append(sp.Mul(*(s ** int(p) for s, p in zip(symbols, row, strict=True))))
            if X is not None:
                library = ps.PolynomialLibrary(degree=entry[1], include_bias=True)
                with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused by name in fit
                    columns.extend(np.asarray(library.fit_transform(X), dtype=np.float64).T)
        else:
            term = _parse_term(entry, by_name)
            terms.append(term)
            if X is not None:
                names = sorted(s.name for s in term.free_symbols)
                fn = sp.lambdify([by_name[n] for n in names], term, modules="numpy")
                with np.errstate(all="ignore"):
                    value = np.broadcast_to(
                        np.asarray(fn(*(X[:, features.index(n)] for n in names)), float), X[:, 0].shape
                    )
                if not np.all(np.isfinite(value)):
                    raise ValueError(f"backend 'sindy': library term {term} is not finite on every row of the data")
                columns.append(value)
    theta = np.column_stack(columns) if X is not None else np.empty((0, len(terms)))
    return terms, theta


def _poly_powers(ps: Any, degree: int, n_features: int, X: np.ndarray | None) -> np.ndarray:
    if ps is None:  # only the terms are wanted; still ask pysindy, so the order is pysindy's own
        ps = _pysindy()
    library = ps.PolynomialLibrary(degree=degree, include_bias=True)
    library.fit(X if X is not None else np.ones((2, n_features)))
    return np.asarray(library.powers_)


def _parse_term(term: str | sp.Expr, by_name: dict[str, sp.Symbol]) -> sp.Expr:
    if isinstance(term, str):  # the allow-list parser: a library option is text, never code
        try:
            expr = parse_expression(term, by_name)
        except ExpressionSyntaxError as err:
            raise ValueError(f"backend 'sindy': library term {term!r}: {err}") from None
    else:  # match the caller's symbols to ours by name, whatever their assumptions
        expr = term.xreplace({s: by_name[s.name] for s in term.free_symbols if s.name in by_name})
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in by_name)
    if unknown:
        raise ValueError(
            f"backend 'sindy': library term {term!r} uses {unknown}, which are not features {list(by_name)}"
        )
    return expr
