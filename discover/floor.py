"""The noise floor: when a candidate fits as well as the data allow, and discovery may stop.

A search cannot tell a law from an approximation by its loss alone: a noisy table never reaches loss 0, and a
noise-free one reaches it only to the precision of the engine's arithmetic. `discover.discover` therefore asks of
each candidate whether **what is left over looks like noise** — no structure that another search could still fit —
by three measurements on its residuals r = prediction − y:

1. **Precision.** ``train MSE ≤ loss_floor(y)``: float32 (Operon's arithmetic) cannot resolve a better fit
   (`discover.snapping.loss_floor`, 8 float32 ulps of the target's rms) — for an *exact* candidate, whose constants
   all snapped to exact numbers. A candidate that keeps float constants must also pass measurement 2: a flexible
   enough family gets below float32 resolution without being the law (a degree-3 rational fitted in float64 to
   sqrt(x) + z on [0.5, 2] did), and its residuals then have the structure of an approximation. Residuals at
   float64 round-off (``train MSE ≤ (FLOAT64_ULPS · 2⁻⁵² · rms(y))²``, 1024 ulps) are past testing: they are the
   arithmetic's, and they grow with |y| (so the magnitude test below would flag them), so such a candidate is
   precise whatever its constants.
2. **No structure.** Residuals of a law on noisy data are independent of the features; residuals of an approximation
   are a function of them, so neighbouring rows have similar residuals. With j(i) the nearest neighbour of row i in
   the standardised features and q the centred *ranks* of the residuals (ranks, because a few huge residuals of a
   heavy-tailed target would otherwise dominate the sum and hide the structure of the rest: a constant fitted to
   exp(4·s·t_peak), whose values span six decades, gave ρ ≈ 0 on raw residuals and 0.83 on ranks),

       ρ = Σ q_i q_j(i) / Σ q_i²

   is ≈ 0 (standard deviation ≈ √(2/n), the √2 from mutual neighbour pairs) for independent residuals and close to 1
   for smooth ones. Residuals count as structureless when ρ ≤ `RHO_SIGMAS`·√(2/n) (3 standard deviations: a law
   with pure noise is called an approximation about once in 700) **and** the candidate predicts better than the
   nearest row does: ``train MSE ≤ (1 + 3·√(2/n))·½·mean((y_i − y_j(i))²)``. The right side is the noise variance
   plus half the mean squared change of the law between neighbours, so a law always passes it (within its
   sampling error), while a candidate that explains little of a smooth target does not — whatever ρ says in a
   space too sparse for neighbours to be close.

   Neighbours are far apart in several dimensions, so a third, global measurement joins them: the residual ranks
   are regressed on a fixed basis — 1, the standardised features, their ranks, and (when there are at least four
   rows per basis term) all their products and squares — and the F-test of that regression must not reject "no
   relation" at level `F_TEST_LEVEL` (1e-3); nor may the ranks of the residuals' *magnitudes* |r| (the
   Breusch–Pagan idea, in Koenker's rank-robust spirit: noise of least squares has one variance everywhere, while an
   approximation's errors grow where the law is steep). For independent residuals each p-value is uniform, so the
   three tests together call a law an approximation about 0.5 % of the time. Measured on the coupling target
   exp(4·s·t_peak) (300 rows, 4 dimensions, values over six decades), where ρ alone has no power: the candidate
   ``2811 + 6s²/(5·a1·a2)`` (held-out R² 0.94, ρ = 0.15 below its bound of 0.24) has p = 4e-10 on the residuals;
   ``842 + 7s²/(9·a1·a2) + 3·b0²s²/(a1²a2²)`` (held-out R² 0.97, ρ = 0.003, p = 0.03 on the residuals) is caught
   by its magnitudes.
3. **No overfit.** On the held-out rows, which no search saw, the MSE must not exceed the training MSE by more than
   its sampling error: ``held-out MSE ≤ (1 + 3·√(2/n_h))·train MSE + loss_floor`` (for Gaussian residuals the MSE of
   n_h rows has relative standard deviation √(2/n_h)). Without held-out rows (tables too small to split) this
   measurement is skipped, and `Discovery` says so.

A candidate is **at the floor** when (1 or 2) and 3 hold. This is a statement about the sample: with noise, an
approximation whose bias is small against the noise is at the floor too, because no search could tell it apart
with these rows. It is never a proof that the expression is the law; `verify.equivalent` against a known law is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from discover.snapping import loss_floor

__all__ = ["FLOAT64_ULPS", "F_TEST_LEVEL", "RHO_SIGMAS", "FloorTest", "Residuals"]

RHO_SIGMAS = 3.0
F_TEST_LEVEL = 1e-3
FLOAT64_ULPS = 1024
# The quadratic basis is used when the rows number at least this many times its terms (else the linear one).
_ROWS_PER_TERM = 4


@dataclass(frozen=True)
class FloorTest:
    """What `Residuals.test` measured for one candidate (see the module docstring for the rule)."""

    train_mse: float
    heldout_mse: float | None
    heldout_r2: float | None
    rho: float
    rho_bound: float
    f_test_p: float
    scale_test_p: float
    precise: bool
    structureless: bool
    no_overfit: bool

    @property
    def at_floor(self) -> bool:
        return (self.precise or self.structureless) and self.no_overfit


class Residuals:
    """The neighbour structure of one table and its split, built once and used for every candidate.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, (300, 2)); y = X[:, 0] ** 2 + 0.01 * rng.normal(size=300)
    >>> train = np.arange(300) < 225
    >>> R = Residuals(X, y, train)
    >>> R.test(X[:, 0] ** 2).at_floor, R.test(X[:, 0]).at_floor
    (True, False)
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, train: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.y = np.asarray(y, dtype=np.float64)
        self.train = np.asarray(train, dtype=bool)
        self.held = ~self.train
        X = np.asarray(X, dtype=np.float64)
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        Z = (X - X.mean(axis=0)) / scale
        # k = 2: the nearest row other than the row itself (a duplicate row at distance 0 counts as a neighbour).
        _, index = cKDTree(Z).query(Z, k=2)
        self.neighbour = np.where(index[:, 0] == np.arange(len(Z)), index[:, 1], index[:, 0])
        self.floor = loss_floor(self.y[self.train])
        rms = float(np.sqrt(np.mean(self.y[self.train] ** 2)))
        self.roundoff = (FLOAT64_ULPS * 2.0**-52 * rms) ** 2
        self.rho_bound = RHO_SIGMAS * math.sqrt(2.0 / len(self.y))
        # What predicting each training row by its nearest row would cost: noise variance + ½ E[Δf²] (an upper bound).
        differences = self.y - self.y[self.neighbour]
        self.basis = _orthonormal_basis(Z)
        self.neighbour_mse = (1.0 + RHO_SIGMAS * math.sqrt(2.0 / len(self.y))) * 0.5 * float(np.mean(differences**2))
        n_held = int(self.held.sum())
        self.held_factor = 1.0 + 3.0 * math.sqrt(2.0 / n_held) if n_held else math.inf

    def test(self, prediction: np.ndarray, *, exact: bool = True) -> FloorTest:
        """The three measurements of the module docstring for a candidate's predictions on every row; ``exact``
        says whether the candidate's constants are all exact (else precision alone does not make it a law)."""
        with np.errstate(all="ignore"):
            r = np.broadcast_to(np.asarray(prediction, dtype=np.float64), self.y.shape) - self.y
            train_mse = float(np.mean(r[self.train] ** 2))
        finite = bool(np.all(np.isfinite(r)))
        rho = _neighbour_rank_correlation(r, self.neighbour) if finite else math.nan
        if not (math.isfinite(train_mse) and finite):
            return FloorTest(math.inf, None, None, math.nan, self.rho_bound, 0.0, 0.0, False, False, False)
        p_value = _f_test(r, self.basis)
        p_scale = _f_test(np.abs(r), self.basis)
        unstructured = rho <= self.rho_bound and min(p_value, p_scale) >= F_TEST_LEVEL
        heldout_mse = heldout_r2 = None
        no_overfit = True
        if self.held.any():
            with np.errstate(all="ignore"):
                heldout_mse = float(np.mean(r[self.held] ** 2))
            variance = float(np.var(self.y[self.held]))
            heldout_r2 = 1.0 - heldout_mse / variance if variance > 0 else None
            no_overfit = heldout_mse <= self.held_factor * train_mse + self.floor
        return FloorTest(
            train_mse=train_mse,
            heldout_mse=heldout_mse,
            heldout_r2=heldout_r2,
            rho=rho,
            rho_bound=self.rho_bound,
            f_test_p=p_value,
            scale_test_p=p_scale,
            precise=train_mse <= self.roundoff or (train_mse <= self.floor and (exact or unstructured)),
            structureless=unstructured and train_mse <= self.neighbour_mse,
            no_overfit=no_overfit,
        )


def _neighbour_rank_correlation(r: np.ndarray, neighbour: np.ndarray) -> float:
    """ρ of the module docstring: the correlation of the residuals' centred ranks with their neighbours' (0 when
    every residual is equal: nothing is left to explain)."""
    q = _centred_ranks(r)
    total = float(np.sum(q * q))
    return float(np.sum(q * q[neighbour]) / total) if total > 0 else 0.0


def _centred_ranks(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(values) - (len(values) + 1) / 2.0


def _orthonormal_basis(Z: np.ndarray) -> np.ndarray:
    """Q of the basis of the global test: 1, the standardised features, their ranks, and their products and squares
    when there are `_ROWS_PER_TERM` rows per term; constant columns (a feature with one value) drop out by rank."""
    n = len(Z)
    ranks = np.column_stack([_centred_ranks(c) for c in Z.T]) / max(n, 1)
    linear = np.column_stack([Z, ranks])
    columns = [np.ones(n), *linear.T]
    pairs = [linear[:, i] * linear[:, j] for i in range(linear.shape[1]) for j in range(i, linear.shape[1])]
    if n >= _ROWS_PER_TERM * (len(columns) + len(pairs)):
        columns += pairs
    B = np.column_stack(columns)
    U, sv, _ = np.linalg.svd(B, full_matrices=False)
    return U[:, sv > sv[0] * 1e-10]


def _f_test(r: np.ndarray, Q: np.ndarray) -> float:
    """p-value of the F-test that the residual ranks are unrelated to the basis with orthonormal columns Q."""
    from scipy.stats import f as f_distribution

    q = _centred_ranks(r)
    total = float(q @ q)
    m = Q.shape[1] - 1  # the constant column explains nothing of centred ranks
    n = len(q)
    if total == 0 or m < 1 or n - m - 1 < 1:
        return 1.0
    explained = float(np.sum((Q.T @ q) ** 2))
    r2 = min(explained / total, 1.0 - 1e-15)
    statistic = (r2 / m) / ((1.0 - r2) / (n - m - 1))
    return float(f_distribution.sf(statistic, m, n - m - 1))
