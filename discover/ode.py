"""The ODE route to closed forms: find du/dt = f(u, params) on trajectory data, solve it, offer u(t).

Symbolic regression searches for u(t, params) directly; for the solution of an ODE that search is hard (the
logistic solution of `theory.modes.logistic_mode` has an exponential inside a quotient), while the right-hand
side is a short polynomial that sparse regression finds at once. `ode_route` therefore goes the long way round:

1. **Trajectories.** The rows that share the values of every feature except ``time`` form one trajectory,
   sorted by time. Those values are the trajectory's constants: parameters (such as s) and possibly the
   initial condition (such as u0). A trajectory needs 5 rows for step 2; fewer than 2 such trajectories, a
   ``time`` that is not a feature, or two rows of one trajectory at the same time are refused with a
   `ValueError` naming the column and the fix (a feature that changes along a trajectory splits it into
   single rows, and the message names the feature that does so).
2. **Derivatives** du/dt at each row of a trajectory with ≥ 5 rows, from that trajectory alone: the
   least-squares cubic through the `WINDOW` = 5 rows nearest in time (a window of consecutive rows, shifted
   inwards at the ends), differentiated at the row. The grid may be irregular. The cubic reproduces any
   cubic exactly, so for smooth u the error is O(h³ max|u⁗|) with h the window's time span (O(h⁴) at a
   centred row by symmetry; the ends set the order, checked in the tests), and noise of size σ is amplified
   to ≈ σ/h. Where u > 0 on every row the cubic is fitted to ln u and u' = u·(ln u)': learning curves grow
   and settle exponentially, which a cubic in ln u follows over windows where one in u cannot (on the
   ``logistic_mode_solution`` data, 0.05–0.2 apart with rates 2s up to 6, the relative error of u' falls from
   11–37 % to 4–18 % over seeds 0–9). These derivatives fix only the *structure* of f; the constants are
   refitted on u(t) itself in step 5.
3. **Right-hand side.** SINDy (`discover.backends.sindy`: sequentially thresholded least squares over a
   threshold sweep, each support refitted without bias) regresses du/dt on a library of terms in the state u
   and the parameters: first every monomial of degree ≤ 3 (`POLY_DEGREE`), then — because a law such as the
   depth-3 mode τu' = 3u^{4/3}(s − u) has no polynomial right-hand side — for each q in `FRACTIONAL_DENOMINATORS`
   the powers u^{k/q}, 0 ≤ k/q ≤ 3, alone and times each parameter (only where u > 0 on every row). Each
   library is a separate sweep (mixing u^{4/3} with u^{3/2} would make nearly collinear columns), and their
   supports are pooled. The fractional libraries are always swept, not only when the polynomial one "fails":
   with derivative errors of several per cent no absolute residual says that a library failed, while pooled
   supports compete on the same derivatives by the relative rule below (and a polynomial law reappears in
   them, as u^{3/3}, without harm). A support is kept when its relative residual r = ‖Θc − u'‖/‖u'‖ satisfies
   ``r ≤ SUPPORT_FACTOR · r_min + SUPPORT_SLACK`` with r_min the smallest over all supports: r_min measures
   the error of the derivative estimates themselves (a larger library cannot fit it away), so a right
   structure sits near r_min, a missing term raises r by the size of that term, and the slack (1 %)
   forgives the derivative error of coarse grids. The `max_supports` sparsest kept supports go on (ties by
   residual); their constants are refitted on u(t) anyway. (On ``logistic_mode_solution`` seeds 0–3 the
   right support, 2 terms, has r = 0.038–0.115, within 10 % of r_min, and is the sparsest kept.)

   **Initial condition.** A constant column c is taken as u(0) when it matches the state at t = 0 on the
   trajectories: u(0) is the row value where a trajectory has a row at t = 0, else the value at 0 of the
   local cubic of its first rows (extrapolated; of ln u where u > 0, as in step 2: on the problem's data the
   median mismatch of the u0 column is then 0.1–1.4 % against 6–32 % for a cubic in u). c matches when the median over trajectories of
   |u(0) − c| / (|u(0)| + |c|) is ≤ `IC_TOLERANCE` (5 %: the median ignores the few trajectories whose
   extrapolation is poor, and a false match only costs one more candidate graded on the data). Such a column
   is left out of the library (an autonomous f does not depend on where it started) and used as
   ``ics={u(0): c}``. When no column matches, each constant is tried in turn as u(0), and then a fitted
   constant shared by all trajectories; a note says so.
4. **Solve.** The fitted coefficients become symbols c0, c1, … and `sympy.dsolve` solves
   ``Eq(u(t).diff(t), f)`` with u(0) = u0 in a child process that is killed after ``dsolve_timeout`` seconds
   (SymPy cannot be interrupted inside a thread). The exact methods that are fast where they apply come first
   (hints ``1st_linear``, ``Bernoulli``, ``separable``): the general solution, then its constant of integration
   solved from u(0) = u0 on each branch, every root kept. dsolve's default order would spend 8 s in
   ``factorable`` on u' = c0·s·u + c1·u³ (its Bernoulli method: 2 s) and then refuse the initial condition
   ("too many solutions"). Only if none applies does dsolve run with ``ics`` and its default method. Each
   explicit branch is a candidate (the fit chooses); an implicit solution (``Eq`` not solved for u(t)), a
   failure or a timeout is a note. A Piecewise produced by symbolic coefficients (a branch for c0·s = 0) is
   replaced by its generic branch, the first whose condition holds for all but special values (c0·s ≠ 0, or
   True after c0 = 0); a note says so. Exponentials are expanded (exp(a + log b) → b·exp(a), which keeps the
   logistic solution real where b < 0) and square roots are also offered merged (`_real_forms`).

   Where SymPy 1.14 can integrate: linear, logistic and Bernoulli right-hand sides (u' = a·u + b,
   u' = a·s·u + b·u², u' = a·s·u + b·u³) in 0.1–3 s. The depth-3 mode u' = 3s·u^{4/3} − 3u^{7/3} has no
   explicit solution: with numeric coefficients dsolve returns t(u) implicitly (logs and an arctangent of
   u^{1/3}, LAWS.md §1.3) after ≈ 35 s, and with symbolic ones it fails inside ``integrate`` (a TypeError)
   after ≈ 18 s, so the route reports the right-hand side in ``OdeResult.rhs`` and a note, and no candidate.
5. **Constants.** The c_k are refitted by `scipy.optimize.least_squares` on the original (features → u) rows,
   starting from the SINDy values, evaluating with `discover.snapping.evaluate`. A solution that is not finite
   on every row at the fitted values is dropped with a note. Candidates come back with the fitted constants as
   ``Float`` atoms, best loss first; `discover.snapping.snap` then makes them exact.

**Stopping.** Supports are solved sparsest first, and the route stops at the first solution whose loss is
≤ ``stop_loss`` (default `STOP_FACTOR` = 4 times `discover.snapping.loss_floor`: an RMSE within twice the
float32 resolution of the data, which the float32 search of the main pipeline cannot improve on measurably;
the logistic problem's GD data, good to ≈ 1e-6, reach 0.35–2.7 floors). Without it every richer support costs
a dsolve call, most of which run to the timeout.

Measured (2 shared cores): ``logistic_mode_solution`` seeds 0–9, exact law after `discover.snapping.snap` in
10 of 10, 0.9–2.0 s per seed (the data's simulation not included).

Nothing here is random: ``seed`` is checked and recorded, and the same data give the same result.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from discover.backends.base import Budget, feature_symbols
from discover.progress import Reporter
from discover.snapping import evaluate, loss_floor, mse

__all__ = [
    "FRACTIONAL_DENOMINATORS",
    "IC_TOLERANCE",
    "POLY_DEGREE",
    "STOP_FACTOR",
    "SUPPORT_FACTOR",
    "SUPPORT_SLACK",
    "WINDOW",
    "OdeCandidate",
    "OdeResult",
    "local_fit",
    "ode_route",
    "solve_ode",
    "trajectories",
]

WINDOW = 5
POLY_DEGREE = 3
FRACTIONAL_DENOMINATORS = (2, 3)
SUPPORT_FACTOR = 2.0
SUPPORT_SLACK = 0.01
IC_TOLERANCE = 0.05
STOP_FACTOR = 4.0
# The local fit is a cubic (exact for cubics, so O(h³) for the derivative of a smooth u), or of lower degree on
# a trajectory of fewer rows.
_DEGREE = 3
# Where a residual is not finite during the constant fit, least squares sees this many times the data's scale:
# a large but finite penalty that steers it back to where the solution exists.
_PENALTY = 1e6


@dataclass(frozen=True)
class OdeCandidate:
    """One solution u(t) of a discovered right-hand side, with its constants fitted on the data.

    ``solution`` is in the feature symbols (`discover.backends.base.feature_symbols`) with ``Float`` constants;
    ``rhs`` is f in the state symbol (named like the target) and the parameter symbols; ``initial`` is the
    column used as u(0), or None where u(0) is a fitted constant; ``loss`` is the MSE of ``solution`` on the data.
    """

    solution: sp.Expr
    rhs: sp.Expr
    initial: str | None
    loss: float


@dataclass(frozen=True)
class OdeResult:
    """What `ode_route` found: ``candidates`` (best loss first), ``notes`` (what was tried and failed, and why)
    and ``rhs``: every right-hand side kept from SINDy and handed to dsolve, in order, with SINDy's coefficients
    (so a right-hand side that was found but could not be integrated is still visible).

    >>> OdeResult(candidates=(), notes=("dsolve timed out after 10 s",)).best is None
    True
    """

    candidates: tuple[OdeCandidate, ...]
    notes: tuple[str, ...]
    rhs: tuple[sp.Expr, ...] = ()

    @property
    def best(self) -> OdeCandidate | None:
        """The candidate of smallest loss, or None when there is none."""
        return self.candidates[0] if self.candidates else None


# -- step 1: trajectories ----------------------------------------------------------------------------------------


def trajectories(X: np.ndarray, features: Sequence[str], time: str) -> list[np.ndarray]:
    """Row indices of each trajectory, sorted by time: rows sharing the values of every feature but ``time``.

    Trajectories come in the order of their constants (lexicographic). Raises `ValueError` when ``time`` is not
    a feature, or when two rows of one trajectory share a time (a missing column that tells runs apart).

    >>> X = np.array([[0.2, 1.0], [0.0, 1.0], [0.0, 2.0], [0.1, 1.0]])
    >>> [rows.tolist() for rows in trajectories(X, ["t", "s"], "t")]
    [[1, 3, 0], [2]]
    """
    features = list(features)
    if time not in features:
        raise ValueError(
            f"time column {time!r} is not among the features {features}; pass time=<the name of the time feature>"
        )
    X = np.asarray(X, dtype=np.float64)
    k = features.index(time)
    constants = np.delete(X, k, axis=1)
    if constants.shape[1] == 0:
        groups = [np.arange(len(X))]
    else:
        _, inverse = np.unique(constants, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        groups = [np.flatnonzero(inverse == g) for g in range(int(inverse.max()) + 1)]
    out = []
    for rows in groups:
        rows = rows[np.argsort(X[rows, k], kind="stable")]
        times = X[rows, k]
        repeated = np.flatnonzero(np.diff(times) == 0)
        if repeated.size:
            values = {name: float(v) for name, v in zip(_others(features, time), constants[rows[0]], strict=True)}
            raise ValueError(
                f"two rows of the trajectory {values} share the time {time} = {times[repeated[0]]}: a trajectory "
                "must have one row per time; add the column that tells the runs apart to the features, or average "
                "repeated rows"
            )
        out.append(rows)
    return out


def _others(features: Sequence[str], time: str) -> list[str]:
    return [f for f in features if f != time]


def _check_trajectories(X: np.ndarray, features: Sequence[str], time: str, groups: list[np.ndarray]) -> None:
    usable = sum(len(rows) >= WINDOW for rows in groups)
    if usable >= 2:
        return
    # Name the features that split what should be trajectories: without such a feature, the other constants
    # would group the rows into 2 or more trajectories long enough for the derivatives.
    others = _others(features, time)
    varying = []
    for name in others:
        rest = [k for k, f in enumerate(features) if f in others and f != name]
        keys = np.asarray(X)[:, rest]
        sizes = np.unique(keys, axis=0, return_counts=True)[1] if rest else np.array([len(keys)])
        if np.sum(sizes >= WINDOW) >= 2 or (not rest and sizes[0] >= WINDOW):
            varying.append(f"{name} ({len(np.unique(np.asarray(X)[:, features.index(name)]))} distinct values)")
    hint = (
        f"; feature(s) {', '.join(varying)} vary along a trajectory — pass only constants of each run "
        "(parameters, the initial condition) as features besides time"
        if varying
        else "; record more times per run"
    )
    raise ValueError(
        f"the ODE route needs at least 2 trajectories with ≥ {WINDOW} rows each (rows sharing every feature but "
        f"{time!r}); found {usable} among {len(groups)}{hint}"
    )


# -- step 2: local polynomial fit ----------------------------------------------------------------------------------


def local_fit(times: np.ndarray, values: np.ndarray, at: float) -> tuple[float, float]:
    """Value and derivative at ``at`` of the least-squares cubic through the `WINDOW` rows nearest to ``at``.

    The window is `WINDOW` consecutive rows (fewer if the trajectory has fewer; the degree is then at most
    rows − 1); ``at`` may lie outside the rows (extrapolation). Exact for cubics, so for smooth data the
    derivative error is O(h³) with h the window's span. ``times`` must be sorted and distinct.

    >>> t = np.array([0.0, 0.1, 0.35, 0.4, 0.7, 1.0])
    >>> value, slope = local_fit(t, t**3 - t, 0.4)
    >>> round(value, 12), round(slope, 12)
    (-0.336, -0.52)
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    n = len(times)
    width = min(WINDOW, n)
    centre = int(np.searchsorted(times, at))
    start = min(max(centre - width // 2, 0), n - width)
    t_win, u_win = times[start : start + width], values[start : start + width]
    # Local coordinate scaled to the window, so the Vandermonde matrix is well conditioned at any time scale.
    scale = float(t_win[-1] - t_win[0]) or 1.0
    x = (t_win - at) / scale
    degree = min(_DEGREE, width - 1)
    coef = np.linalg.lstsq(np.vander(x, degree + 1, increasing=True), u_win, rcond=None)[0]
    return float(coef[0]), float(coef[1] / scale) if degree >= 1 else 0.0


# -- step 4: dsolve in a child process --------------------------------------------------------------------------


def solve_ode(
    rhs: sp.Expr, state: sp.Symbol, time: sp.Symbol, initial: sp.Expr, *, timeout: float
) -> tuple[list[sp.Expr], list[str]]:
    """Explicit solutions u(t) of ``du/dt = rhs`` (``rhs`` in ``state``) with u(0) = ``initial``, and notes.

    `sympy.dsolve` runs in a child process killed after ``timeout`` seconds. Each explicit branch is returned,
    exponentials expanded and a Piecewise replaced by its generic branch (with a note); an implicit solution,
    a failure of dsolve or the timeout gives a note and no solution.

    >>> u, t, a = sp.symbols("u t a", real=True)
    >>> solve_ode(-a * u, u, t, sp.Integer(2), timeout=30)
    ([2*exp(-a*t)], [])
    """
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"dsolve timeout must be a positive number of seconds, got {timeout!r}")
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    receive, send = context.Pipe(duplex=False)
    # The expressions themselves go to the child (as is under fork, pickled under spawn): no text is ever turned
    # back into an expression. Only expressions free of u(t) and plain strings come back.
    child = context.Process(target=_dsolve_child, args=(rhs, state, time, initial, send), daemon=True)
    child.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                solutions, notes = receive.recv()
            except EOFError:  # the child died without an answer
                solutions, notes = [], ["dsolve failed: the solving process ended without an answer"]
        else:
            solutions, notes = [], [f"dsolve timed out after {timeout:g} s for du/dt = {rhs}"]
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    return solutions, notes


def _dsolve_child(rhs: sp.Expr, state: sp.Symbol, time: sp.Symbol, initial: sp.Expr, send: Any) -> None:
    try:
        send.send(_dsolve(rhs, state, time, initial))
    except Exception as exc:  # anything SymPy raises becomes a note, never a crash of the caller
        send.send(([], [f"dsolve failed for du/dt = {rhs}: {type(exc).__name__}: {exc}"]))
    finally:
        send.close()


def _dsolve(rhs: sp.Expr, state: sp.Symbol, time: sp.Symbol, initial: sp.Expr) -> tuple[list[sp.Expr], list[str]]:
    u = sp.Function(state.name)(time)
    equation = sp.Eq(u.diff(time), rhs.xreplace({state: u}))
    notes: list[str] = []
    branches: list[Any] = []
    hints = sp.classify_ode(equation, u)
    # The closed-form methods first, general solution then u(0) per branch: dsolve's default order tries
    # 'factorable' and 'separable' first, which spend 8 s on a Bernoulli equation that its own method solves in 2.
    for hint in _FAST_HINTS:
        if hint in hints and not branches:
            try:
                general = sp.dsolve(equation, u, hint=hint)
            except (NotImplementedError, ValueError, TypeError):
                continue
            branches = _apply_initial(general, u, time, initial, equation.free_symbols, notes)
    if not branches:
        try:
            result = sp.dsolve(equation, u, ics={u.subs(time, 0): initial})
            branches = result if isinstance(result, list) else [result]
        except (NotImplementedError, ValueError) as exc:
            # dsolve refuses an initial condition that several constants satisfy (e.g. the two branches ±√ of a
            # Bernoulli equation): solve each branch of the general solution for its constant instead.
            branches = _apply_initial(sp.dsolve(equation, u), u, time, initial, equation.free_symbols, notes)
            notes.append(f"dsolve could not apply u(0) = {initial} ({exc}); solved each branch for its constant")
    solutions: list[sp.Expr] = []
    for branch in branches:
        if not _explicit(branch, u):
            notes.append(f"implicit solution only for du/dt = {rhs}: {branch}")
            continue
        solution, generic = _generic_branch(branch.rhs)
        if generic:
            notes.append(f"Piecewise solution for du/dt = {rhs}: took the generic branch ({generic})")
        for form in _real_forms(solution):
            if form not in solutions:
                solutions.append(form)
    return solutions, notes


# dsolve hints tried first, in this order, before dsolve's default: exact methods that are fast when they apply.
_FAST_HINTS = ("1st_linear", "Bernoulli", "separable")


def _explicit(branch: Any, u: sp.Expr) -> bool:
    return isinstance(branch, sp.Eq) and branch.lhs == u and not branch.rhs.has(u)


def _apply_initial(
    general: Any, u: sp.Expr, time: sp.Symbol, initial: sp.Expr, known: set[sp.Basic], notes: list[str]
) -> list[Any]:
    """Each explicit branch of a general solution (its generic Piecewise branch) with its constant of integration
    solved from u(0) = initial, every root kept (the fit on the data chooses); implicit branches as they are."""
    out = []
    for branch in general if isinstance(general, list) else [general]:
        constants = sorted(branch.free_symbols - known - {time}, key=lambda c: c.name)
        if not _explicit(branch, u) or len(constants) != 1:
            out.append(branch)
            continue
        solution, generic = _generic_branch(branch.rhs)
        if generic:
            notes.append(f"Piecewise general solution: took the generic branch ({generic})")
        for value in sp.solve(sp.Eq(solution.subs(time, 0), initial), constants[0]):
            out.append(sp.Eq(u, solution.subs(constants[0], value)))
    return out


def _generic_truth(condition: Any) -> bool | None:
    """Whether a Piecewise condition holds for generic values of the coefficients: an equation does not, an
    inequation and True do; None where it depends on the values (an inequality)."""
    if condition == sp.true or isinstance(condition, sp.Ne):
        return True
    if condition == sp.false or isinstance(condition, sp.Eq):
        return False
    if isinstance(condition, (sp.And, sp.Or)):
        parts = [_generic_truth(c) for c in condition.args]
        if isinstance(condition, sp.And):
            return False if False in parts else (None if None in parts else True)
        return True if True in parts else (None if None in parts else False)
    return None


def _generic_branch(expr: sp.Expr) -> tuple[sp.Expr, str]:
    """Each Piecewise replaced by the branch that holds for all but special values of the coefficients: the
    first whose condition is generically true (`_generic_truth`: c0 ≠ 0 is, c0 = 0 is not, True is), else the
    first that may hold; the message lists the conditions dropped."""
    dropped: list[str] = []

    def pick(*pairs: Any) -> sp.Expr:
        truth = [_generic_truth(condition) for _, condition in pairs]
        chosen = truth.index(True) if True in truth else (truth.index(None) if None in truth else 0)
        others = ", ".join(str(condition) for k, (_, condition) in enumerate(pairs) if k != chosen)
        dropped.append(f"kept the case {pairs[chosen][1]}, dropped {others}")
        return pairs[chosen][0]

    out = expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: pick(*e.args))
    return out, "; ".join(dropped)


def _real_forms(expr: sp.Expr) -> list[sp.Expr]:
    """The solution in forms that NumPy can evaluate in real arithmetic where the solution is real.

    - exp(a + log b) → b·exp(a): dsolve writes the constant of integration inside the exponent, where its log
      has no real value when b < 0 (as for the logistic law), although the product does;
    - then, as a second form, square roots merged (√a·√b → √(ab), `sympy.powsimp` with ``force``): the
      Bernoulli solution of du/dt = s·u − u³ is a product of two roots of negative numbers. The merged form can
      differ from the original in sign where a and b are both negative, so both are offered and the fit decides.
    """
    expanded = expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.expand(e.args[0])))
    forms = [_rational_form(sp.expand_power_exp(expanded))]
    merged = _rational_form(sp.powsimp(forms[0], force=True))
    merged = merged.replace(
        lambda e: e.is_Pow and not e.exp.is_Integer, lambda e: sp.Pow(_rational_form(e.base), e.exp)
    )
    if merged != forms[0]:
        forms.append(merged)
    return forms


def _rational_form(expr: sp.Expr) -> sp.Expr:
    try:
        return sp.factor(sp.cancel(expr))
    except (sp.PolynomialError, NotImplementedError, TypeError):  # pragma: no cover - depends on the input
        return expr


# -- the route -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Support:
    terms: tuple[sp.Expr, ...]
    coefficients: tuple[float, ...]
    residual: float  # relative: ‖Θc − u'‖ / ‖u'‖


def ode_route(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    time: str,
    *,
    seed: int = 0,
    max_supports: int = 5,
    dsolve_timeout: float = 10.0,
    stop_loss: float | None = None,
    target: str = "u",
) -> OdeResult:
    """Closed-form candidates u(t) for trajectory data, by way of the ODE they solve (see the module docstring).

    ``X`` (rows × features, float64) holds the ``time`` column and constants of each trajectory; ``y`` is the
    state, named ``target`` in the right-hand sides. Supports are solved sparsest first, and the search stops once a
    solution's loss is ≤ ``stop_loss`` (default `STOP_FACTOR` × `discover.snapping.loss_floor` (y): an RMSE within
    twice the float32 resolution of the data, which the float32 search of the main pipeline cannot improve on;
    a caller with a noise estimate passes its own). ``seed`` is validated and unused: nothing here is random.
    Raises `ValueError` for data that are not trajectories (naming the column and the fix) and for bad arguments.

    >>> t = np.tile(np.linspace(0.0, 1.0, 8), 2); a = np.repeat([0.5, 1.5], 8); u0 = np.repeat([2.0, 1.0], 8)
    >>> result = ode_route(np.column_stack([t, a, u0]), u0 * np.exp(-a * t), ["t", "a", "u0"], "t")
    >>> a_, u_ = feature_symbols(["a", "u"])
    >>> result.best.initial, round(float(result.best.rhs.coeff(a_ * u_)), 9), result.best.rhs.free_symbols == {a_, u_}
    ('u0', -1.0, True)
    >>> from discover.snapping import snap
    >>> snap(result.best.solution, np.column_stack([t, a, u0]), u0 * np.exp(-a * t), ["t", "a", "u0"])
    u0*exp(-a*t)
    """
    features = list(features)
    X, y = _check_input(X, y, features, seed, max_supports, dsolve_timeout)
    if not isinstance(target, str) or not target.isidentifier() or target in features:
        raise ValueError(f"target must be the name of the state column, not a feature {features}; got {target!r}")
    if stop_loss is not None and not (isinstance(stop_loss, (int, float)) and stop_loss >= 0):
        raise ValueError(f"stop_loss must be a number ≥ 0 or None, got {stop_loss!r}")
    groups = trajectories(X, features, time)
    _check_trajectories(X, features, time, groups)
    k_time = features.index(time)
    constants = _others(features, time)
    notes: list[str] = []
    short = sum(len(rows) < WINDOW for rows in groups)
    if short:
        notes.append(f"{short} trajectories with fewer than {WINDOW} rows: used for the constants, not for du/dt")
    usable = [rows for rows in groups if len(rows) >= WINDOW]
    rows = np.concatenate(usable)
    positive = bool(np.all(y > 0))
    slopes = np.concatenate([_slopes(X[r, k_time], y[r], positive) for r in usable])

    state = sp.Symbol(target, real=True)
    symbols = dict(zip(features, feature_symbols(features), strict=True))
    starts = np.array([_start(X[r, k_time], y[r], positive) for r in groups])
    matches = _initial_columns(X, features, time, groups, starts)
    if matches:
        attempts: list[str | None] = matches
    else:
        attempts = [*constants, None]
        notes.append(
            f"no feature matches u at t = 0 within {IC_TOLERANCE:.0%}; tried each of {constants} as u(0) "
            "in turn, then a fitted constant"
        )

    candidates: list[OdeCandidate] = []
    tried: list[sp.Expr] = []
    good_enough = STOP_FACTOR * loss_floor(y) if stop_loss is None else stop_loss
    for initial in attempts:
        parameters = [c for c in constants if c != initial]
        supports = _supports(X[rows], y[rows], slopes, features, parameters, state, max_supports, notes)
        for k, support in enumerate(supports):
            tried.append(
                sp.Add(*(sp.Float(c) * term for c, term in zip(support.coefficients, support.terms, strict=True)))
            )
            candidates.extend(
                _solve_and_fit(
                    support, X, y, features, symbols, state, symbols[time], initial, starts, dsolve_timeout, notes
                )
            )
            good = [c for c in candidates if c.loss <= good_enough]
            if good:
                skipped = len(supports) - k - 1 + sum(1 for _ in attempts[attempts.index(initial) + 1 :])
                if skipped:
                    notes.append(
                        f"stopped at du/dt = {good[0].rhs}: its solution fits within {good_enough:.2g}, as "
                        f"well as the data allow; {skipped} richer support(s) or initial conditions not solved"
                    )
                break
        else:
            continue
        break
    candidates.sort(key=lambda c: c.loss)
    return OdeResult(candidates=tuple(_distinct(candidates)), notes=tuple(notes), rhs=tuple(tried))


def _check_input(
    X: Any, y: Any, features: list[str], seed: Any, max_supports: Any, dsolve_timeout: Any
) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or X.shape != (len(y), len(features)):
        raise ValueError(f"X must have shape (rows, {len(features)}) matching y of length {len(y)}; got {X.shape}")
    if len(set(features)) != len(features):
        raise ValueError(f"feature names must be distinct, got {features}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite; drop or fill the rows with NaN or inf")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer ≥ 0, got {seed!r}")
    if isinstance(max_supports, bool) or not isinstance(max_supports, (int, np.integer)) or max_supports < 1:
        raise ValueError(f"max_supports must be a positive integer, got {max_supports!r}")
    if not (isinstance(dsolve_timeout, (int, float)) and math.isfinite(dsolve_timeout) and dsolve_timeout > 0):
        raise ValueError(f"dsolve_timeout must be a positive number of seconds, got {dsolve_timeout!r}")
    return X, y


def _slopes(times: np.ndarray, u: np.ndarray, positive: bool) -> np.ndarray:
    """du/dt at each row of one trajectory (step 2): from the local cubic of ln u when u > 0, else of u."""
    if positive:
        log_u = np.log(u)
        return np.array([local_fit(times, log_u, float(t))[1] for t in times]) * u
    return np.array([local_fit(times, u, float(t))[1] for t in times])


def _start(times: np.ndarray, u: np.ndarray, positive: bool) -> float:
    """u at t = 0 of one trajectory: its row there, else the local cubic (of ln u when u > 0) extrapolated."""
    if times[0] == 0:
        return float(u[0])
    if positive:
        return math.exp(local_fit(times, np.log(u), 0.0)[0])
    return local_fit(times, u, 0.0)[0]


def _initial_columns(
    X: np.ndarray, features: list[str], time: str, groups: list[np.ndarray], start: np.ndarray
) -> list[str]:
    """Constant columns that equal u at t = 0 (the rule of step 3), best match first."""
    scored = []
    for name in _others(features, time):
        column = X[[r[0] for r in groups], features.index(name)]
        with np.errstate(invalid="ignore", divide="ignore"):
            error = np.abs(start - column) / (np.abs(start) + np.abs(column))
        error = np.where(np.isfinite(error), error, 0.0)  # 0/0: both are zero, a match
        score = float(np.median(error))
        if score <= IC_TOLERANCE:
            scored.append((score, name))
    return [name for _, name in sorted(scored)]


def _libraries(state: sp.Symbol, parameters: list[sp.Symbol], positive: bool) -> list[tuple[sp.Expr, ...]]:
    """The term libraries of step 3: the monomials of degree ≤ `POLY_DEGREE`, then per denominator q the powers
    u^{k/q} (0 ≤ k/q ≤ `POLY_DEGREE`), alone and times each parameter (only for a positive state)."""
    variables = [state, *parameters]
    monomials = [
        sp.Mul(*(v**p for v, p in zip(variables, powers, strict=True)))
        for degree in range(POLY_DEGREE + 1)
        for powers in _compositions(degree, len(variables))
    ]
    libraries = [tuple(monomials)]
    if positive:
        for q in FRACTIONAL_DENOMINATORS:
            powers = [state ** sp.Rational(k, q) for k in range(POLY_DEGREE * q + 1)]
            libraries.append(tuple(powers + [p * term for p in parameters for term in powers]))
    return libraries


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 1:
        return [(total,)]
    return [(first, *rest) for first in range(total, -1, -1) for rest in _compositions(total - first, parts - 1)]


def _supports(
    X: np.ndarray,
    u: np.ndarray,
    slopes: np.ndarray,
    features: list[str],
    parameters: list[str],
    state: sp.Symbol,
    max_supports: int,
    notes: list[str],
) -> list[_Support]:
    from discover.backends.sindy import SindyBackend

    names = [state.name, *parameters]
    table = np.column_stack([u, *(X[:, features.index(p)] for p in parameters)])
    symbols = feature_symbols(names)
    positive = bool(np.all(u > 0))
    if not positive:
        notes.append("the state is not positive on every row: no fractional powers in the library")
    backend = SindyBackend()
    norm = float(np.linalg.norm(slopes)) or 1.0
    found: dict[frozenset[sp.Expr], _Support] = {}
    for library in _libraries(symbols[0], list(symbols[1:]), positive):
        settings = backend.settings(seed=0, budget=Budget.quick(), library=library)
        try:
            raw = backend.fit(table, slopes, names, settings, progress=Reporter(None, backend="sindy"))
        except ValueError as err:  # a column that overflows: this library cannot be used on these data
            notes.append(f"library skipped: {err}")
            continue
        for candidate in raw:
            terms, coefficients = _split_terms(candidate.expr)
            residual = math.sqrt(candidate.loss * len(slopes)) / norm
            key = frozenset(terms)
            if key not in found or residual < found[key].residual:
                found[key] = _Support(terms, coefficients, residual)
    if not found:
        return []
    floor = min(s.residual for s in found.values())
    kept = [s for s in found.values() if s.residual <= SUPPORT_FACTOR * floor + SUPPORT_SLACK]
    kept.sort(key=lambda s: (len(s.terms), s.residual))
    return kept[:max_supports]


def _split_terms(expr: sp.Expr) -> tuple[tuple[sp.Expr, ...], tuple[float, ...]]:
    """A SINDy candidate Σ c_k θ_k as its terms θ_k and coefficients c_k."""
    terms, coefficients = [], []
    for addend in sp.Add.make_args(expr):
        coefficient, term = addend.as_coeff_Mul()
        terms.append(term)
        coefficients.append(float(coefficient))
    return tuple(terms), tuple(coefficients)


def _solve_and_fit(
    support: _Support,
    X: np.ndarray,
    y: np.ndarray,
    features: list[str],
    symbols: dict[str, sp.Symbol],
    state: sp.Symbol,
    time: sp.Symbol,
    initial: str | None,
    starts: np.ndarray,
    timeout: float,
    notes: list[str],
) -> list[OdeCandidate]:
    taken = {*features, state.name}
    names = _fresh_names(len(support.terms) + (initial is None), taken)
    c = [sp.Symbol(name, real=True) for name in names]
    rhs_template = sp.Add(*(ck * term for ck, term in zip(c, support.terms, strict=False)))
    start = list(support.coefficients)
    if initial is None:
        ic: sp.Expr = c[-1]
        start.append(float(np.median(starts)))
    else:
        ic = symbols[initial]
    # The library's symbols are named like the columns with real=True, as are ours: replace by name to be safe.
    by_name = {**symbols, state.name: state}
    rhs_template = rhs_template.xreplace({s: by_name[s.name] for s in rhs_template.free_symbols if s.name in by_name})
    solutions, solve_notes = solve_ode(rhs_template, state, time, ic, timeout=timeout)
    notes.extend(solve_notes)
    out = []
    for solution in solutions:
        fitted = _fit_constants(solution, c, start, X, y, features)
        if fitted is None:
            notes.append(f"solution {solution} is not finite on every row at its fitted constants: dropped")
            continue
        values = dict(zip(c, (sp.Float(v) for v in fitted), strict=True))
        expr = solution.xreplace(values)
        out.append(
            OdeCandidate(
                solution=expr,
                rhs=rhs_template.xreplace(values),
                initial=initial,
                loss=mse(expr, X, y, features),
            )
        )
    return out


def _fresh_names(count: int, taken: set[str]) -> list[str]:
    names, k = [], 0
    while len(names) < count:
        if f"c{k}" not in taken:
            names.append(f"c{k}")
        k += 1
    return names


def _fit_constants(
    solution: sp.Expr, c: list[sp.Symbol], start: list[float], X: np.ndarray, y: np.ndarray, features: list[str]
) -> np.ndarray | None:
    from scipy.optimize import least_squares

    columns = dict(zip(features, X.T, strict=True))
    present = [k for k, ck in enumerate(c) if ck in solution.free_symbols]
    scale = float(np.sqrt(np.mean(y**2))) or 1.0

    def residuals(values: np.ndarray) -> np.ndarray:
        trial = dict(columns)
        trial.update({c[k].name: float(v) for k, v in zip(present, values, strict=True)})
        with np.errstate(all="ignore"):
            r = np.broadcast_to(np.asarray(evaluate(solution, trial), dtype=np.float64), y.shape) - y
        return np.where(np.isfinite(r), r, _PENALTY * scale)

    x0 = np.array([start[k] for k in present], dtype=np.float64)
    if present:
        fit = least_squares(residuals, x0, method="lm" if len(y) >= len(x0) else "trf", xtol=1e-15, ftol=1e-15)
        x = fit.x
    else:
        x = x0
    with np.errstate(all="ignore"):
        final = dict(columns)
        final.update({c[k].name: float(v) for k, v in zip(present, x, strict=True)})
        value = np.asarray(evaluate(solution, final), dtype=np.float64)
    if not np.all(np.isfinite(value)):
        return None
    fitted = np.array(start, dtype=np.float64)
    fitted[present] = x
    return fitted


def _distinct(candidates: list[OdeCandidate]) -> list[OdeCandidate]:
    seen, out = set(), []
    for candidate in candidates:
        if candidate.solution not in seen:
            seen.add(candidate.solution)
            out.append(candidate)
    return out
