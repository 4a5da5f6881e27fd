"""The noise floor: when a candidate fits as well as the data allow, and discovery may stop.

A search cannot tell a law from an approximation by its loss alone: a noisy table never reaches loss 0, and a
noise-free one reaches it only to the precision of the engine's arithmetic. `discover.discover` therefore asks of
each candidate whether **what is left over looks like noise** — no structure that another search could still fit —
by three measurements on its residuals r = prediction − y:

1. **Precision.** ``train MSE ≤ loss_floor(y)``: float32 (Operon's arithmetic) cannot resolve a better fit
   (`discover.snapping.loss_floor`, 8 float32 ulps of the target's rms).
2. **No structure.** Residuals of a law on noisy data are independent of the features; residuals of an approximation
   are a smooth function of them, so neighbouring rows have similar residuals. With j(i) the nearest neighbour of row i
   in the standardised features, the statistic

       ρ = Σ r_i r_j(i) / Σ r_i²

   is ≈ 0 (standard deviation ≈ √(2/n), the √2 from mutual neighbour pairs) for independent residuals and close to 1
   for smooth ones. Residuals count as structureless when ρ ≤ `RHO_SIGMAS`·√(2/n) (3 standard deviations: a law
   with pure noise is called an approximation about once in 700).
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

__all__ = ["RHO_SIGMAS", "FloorTest", "Residuals"]

RHO_SIGMAS = 3.0


@dataclass(frozen=True)
class FloorTest:
    """What `Residuals.test` measured for one candidate (see the module docstring for the rule)."""

    train_mse: float
    heldout_mse: float | None
    heldout_r2: float | None
    rho: float
    rho_bound: float
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
        self.rho_bound = RHO_SIGMAS * math.sqrt(2.0 / len(self.y))
        n_held = int(self.held.sum())
        self.held_factor = 1.0 + 3.0 * math.sqrt(2.0 / n_held) if n_held else math.inf

    def test(self, prediction: np.ndarray) -> FloorTest:
        """The three measurements of the module docstring for a candidate's predictions on every row."""
        with np.errstate(all="ignore"):
            r = np.broadcast_to(np.asarray(prediction, dtype=np.float64), self.y.shape) - self.y
            train_mse = float(np.mean(r[self.train] ** 2))
            total = float(np.sum(r**2))
            rho = float(np.sum(r * r[self.neighbour]) / total) if total > 0 else 0.0
        if not math.isfinite(train_mse):
            return FloorTest(math.inf, None, None, math.nan, self.rho_bound, False, False, False)
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
            precise=train_mse <= self.floor,
            structureless=math.isfinite(rho) and rho <= self.rho_bound,
            no_overfit=no_overfit,
        )
