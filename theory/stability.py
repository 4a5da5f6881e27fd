"""Linear stability of gradient descent at the global minimum of a deep linear network (the GD step-size bound).

GD ``W ← W − η ∇L`` can converge to a minimum only if that minimum is linearly stable: every eigenvalue λ of the
loss Hessian there must satisfy |1 − ηλ| < 1, i.e. η < 2/λ_max (the classical condition for GD on a quadratic;
the Hessian's null directions, such as the rescaling symmetries W_l → W_l G, are neutral and do not matter).

Derivation (LAWS.md §0 conventions, whitened inputs Σxx = I). At a global minimum the end-to-end map is
W = W_L ⋯ W_1 = Σyx and the residual vanishes, so the Hessian is JᵀJ with J the differential of the product,
J(dW_1, …, dW_L) = Σ_l W_{L:l+1} dW_l W_{l−1:1}. Its nonzero eigenvalues are those of

    JJᵀ M = Σ_l (W_{L:l+1} W_{L:l+1}ᵀ) M (W_{l−1:1}ᵀ W_{l−1:1}),       M ∈ R^{No×Ni}.

At the *balanced* minimum (W_{l+1}ᵀW_{l+1} = W_l W_lᵀ, which gradient flow from a small or zero-balanced init
approaches) with Σyx = ŨS̃Ṽᵀ, W_{L:l+1}W_{L:l+1}ᵀ = Ũ S̃^{2(L−l)/L} Ũᵀ and W_{l−1:1}ᵀW_{l−1:1} = Ṽ S̃^{2(l−1)/L} Ṽᵀ,
so M = ũ_i ṽ_jᵀ is an eigenvector with eigenvalue Σ_l s_i^{2(L−l)/L} s_j^{2(l−1)/L}. The largest is at i = j = 1:

    λ_max = L · s_max^{2(L−1)/L},       GD converges to the target only if  η < 2/λ_max = 2 / (L s_max^{2(L−1)/L}).

For L = 2 this is λ_max = 2 s_max and η < 1/s_max; for L = 1 (linear regression) the Hessian is Σxx ⊗ I, so
λ_max = λ_max(Σxx) for any inputs, whitened or not. With a bottleneck (a hidden width k < rank Σyx) the minimum is
the top-k truncation of Σyx, the residual no longer vanishes, and λ_max is still L s_max^{2(L−1)/L} (the residual
lies in the discarded modes, which the top mode's curvature does not see). All of this is checked against
torch.autograd Hessians of random tasks, with and without bottleneck, in tests/test_stability.py.

What the bound means. It is the necessary condition for the minimum to be linearly stable: beyond it GD cannot
converge to the target (it oscillates, e.g. in a period-2 cycle around it, or diverges). It says nothing about
the path: along a balanced trajectory from small init the top curvature of one mode of strength u < s is
u + |2u − s| ≤ 2s (two layers), below the value at the target, so a run beyond the bound first learns and then
fails to settle. An unbalanced (e.g. large random) init can meet sharper regions earlier, so η below the bound is
necessary, not sufficient, for convergence from an arbitrary init.

Not covered: depth L ≥ 2 with non-whitened inputs (the minimum W = ΣyxΣxx⁻¹ and the Hessian then mix Σxx with the
factors, and no closed form in the singular values exists); `max_stable_eta` refuses that case.

>>> max_stable_eta([[3.0]], depth=2)   # one mode of strength 3, two layers: η < 1/3
0.3333333333333333
>>> sp.simplify(SHARPNESS.subs({L: 2}))
2*s
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from theory.checks import as_matrix, check_whitened
from theory.law import AssumptionError

__all__ = ["SHARPNESS", "max_stable_eta", "sharpness_at_minimum"]

L = sp.Symbol("L", integer=True, positive=True)
s = sp.Symbol("s", positive=True)

SHARPNESS: sp.Expr = L * s ** (2 * (L - 1) / L)
"""λ_max of the loss Hessian at the balanced global minimum, depth L, largest singular value s of Σyx, Σxx = I."""


def sharpness_at_minimum(sigma_yx: ArrayLike, depth: int, sigma_xx: ArrayLike | None = None) -> float:
    """λ_max of the Hessian of L = ½⟨‖y − W_L⋯W_1x‖²⟩ at the balanced global minimum (module docstring).

    ``sigma_xx`` None means whitened inputs. Depth 1 accepts any Σxx (λ_max = λ_max(Σxx)); depth ≥ 2 needs
    Σxx = I and raises `AssumptionError` otherwise.

    >>> sharpness_at_minimum(np.diag([3.0, 1.0]), depth=2)
    6.0
    >>> round(sharpness_at_minimum([[8.0]], depth=3), 12)   # 3 · 8^{4/3} = 48
    48.0
    >>> sharpness_at_minimum([[1.0]], depth=1, sigma_xx=[[4.0]])
    4.0
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive integer (number of weight layers), got {depth!r}")
    syx = as_matrix(sigma_yx, "sigma_yx")
    if sigma_xx is not None:
        n_in = syx.shape[1]
        sxx = as_matrix(sigma_xx, "sigma_xx", shape=(n_in, n_in))
        if depth == 1:
            return float(np.linalg.eigvalsh(0.5 * (sxx + sxx.T))[-1])
        try:
            check_whitened(sxx, n_in)
        except AssumptionError as err:
            raise AssumptionError(
                f"{err} The closed-form GD stability bound for depth {depth} ≥ 2 holds for Σxx = I only; "
                "otherwise compute the Hessian of your loss numerically."
            ) from None
    if depth == 1:
        return 1.0
    s_max = float(np.linalg.svd(syx, compute_uv=False)[0])
    return depth * s_max ** (2.0 * (depth - 1) / depth)


def max_stable_eta(sigma_yx: ArrayLike, depth: int, sigma_xx: ArrayLike | None = None) -> float:
    """2/λ_max: GD can converge to the balanced global minimum only for η below this (inf when Σyx = 0).

    >>> max_stable_eta(np.diag([3.0, 1.0]), depth=2)
    0.3333333333333333
    >>> max_stable_eta(np.zeros((2, 2)), depth=2)
    inf
    """
    lam = sharpness_at_minimum(sigma_yx, depth, sigma_xx)
    return 2.0 / lam if lam > 0 else float("inf")
