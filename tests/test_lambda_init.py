"""simulate.lambda_balanced_init: the identity W2ᵀW2 − W1W1ᵀ = λI, shapes, seeds, refusals, and the authors' bug."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulate import lambda_balanced_init, prescribed_task, random_regression


def _residual(W1, W2, lam):
    """max over the batch of ‖W2ᵀW2 − W1W1ᵀ − λI‖_F / (‖W2ᵀW2‖_F + ‖W1W1ᵀ‖_F + |λ|√d)."""
    d = W1.shape[-2]
    out = 0.0
    for w1, w2 in zip(W1, W2, strict=True):
        g1, g2 = w1 @ w1.T, w2.T @ w2
        scale = np.linalg.norm(g1) + np.linalg.norm(g2) + abs(lam) * np.sqrt(d)
        out = max(out, np.linalg.norm(g2 - g1 - lam * np.eye(d)) / scale)
    return out


@given(
    lam=st.floats(-50.0, 50.0, allow_nan=False),
    scale=st.floats(1e-3, 3.0),
    d=st.integers(1, 5),
    seed=st.integers(0, 10_000),
)
def test_identity_holds_to_roundoff_for_any_lambda(lam, scale, d, seed):
    W1, W2 = lambda_balanced_init(d, lam, scale, seed=seed, batch=2)
    assert W1.shape == W2.shape == (2, d, d)
    # eigendecomposition-based square root: a few ulps of the largest term (≈ 1e-15 relative); 1e-12 leaves room
    assert _residual(W1, W2, lam) <= 1e-12
    small = W1 if lam >= 0 else W2  # "auto" draws the layer that can be small at `scale`
    assert np.max(np.abs(small)) <= 10 * scale  # N(0, scale²) entries: |z| < 10 with overwhelming probability


@pytest.mark.parametrize(("small", "lam"), [("W1", 0.7), ("W1", -0.001), ("W2", -0.7), ("W2", 0.001)])
def test_explicit_small_layer(small, lam):
    W1, W2 = lambda_balanced_init(3, lam, 0.5, seed=1, small=small)
    assert _residual(W1, W2, lam) <= 1e-12
    drawn = W1 if small == "W1" else W2
    again = lambda_balanced_init(3, 0.0, 0.5, seed=1, small=small)
    # the small layer is the N(0, scale²) draw itself, the same for every λ at a given seed
    np.testing.assert_array_equal(drawn, again[0] if small == "W1" else again[1])


def test_seed_reproducible_and_distinct():
    a = lambda_balanced_init(3, 1.0, 0.1, seed=5, batch=2)
    b = lambda_balanced_init(3, 1.0, 0.1, seed=5, batch=2)
    c = lambda_balanced_init(3, 1.0, 0.1, seed=6, batch=2)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a[0], c[0])
    assert not np.allclose(a[0][0], a[0][1])  # the batch holds independent draws


def test_refuses_lambda_outside_the_small_layers_range():
    W1 = lambda_balanced_init(3, 0.0, 0.1, seed=0, small="W1")[0][0]
    sigma_min_sq = np.linalg.eigvalsh(W1 @ W1.T)[0]
    with pytest.raises(ValueError, match=r"σ_min\(W1\)².*small='W2'"):
        lambda_balanced_init(3, -2 * sigma_min_sq - 1e-3, 0.1, seed=0, small="W1")
    with pytest.raises(ValueError, match=r"σ_min\(W2\)².*small='W1'"):
        lambda_balanced_init(3, 1.0, 0.1, seed=0, small="W2")
    lambda_balanced_init(3, -1.0, 0.1, seed=0)  # "auto" builds it with W2 small instead


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lam": float("nan")}, "lam must be a finite"),
        ({"lam": float("inf")}, "lam must be a finite"),
        ({"scale": 0.0}, "init scale"),
        ({"scale": float("nan")}, "init scale"),
        ({"small": "W3"}, "small must be"),
        ({"aligned": True}, "aligned=True needs a task"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"lam": 1.0, "scale": 0.1} | kwargs
    with pytest.raises(ValueError, match=match):
        lambda_balanced_init(3, args.pop("lam"), args.pop("scale"), seed=0, **args)


def test_bad_tasks():
    with pytest.raises(ValueError, match="square"):
        lambda_balanced_init(prescribed_task([1.0], Ni=3, No=2, seed=0), 1.0, 0.1, seed=0)
    raw = random_regression(Ni=2, No=2, P=20, seed=0, whitened=False)
    with pytest.raises(ValueError, match="not whitened"):
        lambda_balanced_init(raw, 1.0, 0.1, seed=0)
    with pytest.raises(ValueError, match="positive integer"):
        lambda_balanced_init(0, 1.0, 0.1, seed=0)


def test_task_sign_is_matched_without_breaking_the_identity():
    task = prescribed_task([2.0, 1.0, 0.5], Ni=3, No=3, seed=3)
    sign = np.sign(np.linalg.det(task.sigma_yx))
    for lam in (-1.0, 0.0, 1.0):
        W1, W2 = lambda_balanced_init(task, lam, 0.1, seed=0, batch=6)
        assert _residual(W1, W2, lam) <= 1e-12
        assert all(np.sign(np.linalg.det(w2 @ w1)) == sign for w1, w2 in zip(W1, W2, strict=True))


@pytest.mark.parametrize("lam", [-1e4, -2.0, 0.0, 0.5, 1e4])
def test_aligned_init(lam):
    task = prescribed_task([3.0, 2.0, 1.0], Ni=3, No=3, seed=0)
    U, _, V = task.svd()
    W1, W2 = lambda_balanced_init(task, lam, 0.01, seed=0, aligned=True, batch=2)
    for w1, w2 in zip(W1, W2, strict=True):
        # aligned with every mode at strength u0 = 0.01: W2W1 = 0.01·ŨṼᵀ (to round-off of entries ~√|λ|·0.01/√|λ|)
        np.testing.assert_allclose(w2 @ w1, 0.01 * U @ V.T, atol=1e-15 * max(1.0, abs(lam)))
    # the stable form keeps the identity to round-off even at |λ| = 1e4, where √(u0² + λ²/4) − |λ|/2 = 1e-8 would
    # keep only half of its digits
    assert _residual(W1, W2, lam) <= 1e-12
    a_sq = np.sum((W1[0] @ V) ** 2, axis=0) if lam >= 0 else np.sum((U.T @ W2[0]) ** 2, axis=1)
    np.testing.assert_allclose(a_sq, 0.01**2 / (np.sqrt(0.01**2 + lam**2 / 4) + abs(lam) / 2), rtol=1e-13)


def _authors_factors(S, lam):
    """The authors' helper's singular values of W2 and W1 (Dominé et al. code, utils.get_lambda_balanced):
    √((√(λ² + 4S) ± λ)/2), with S the target's singular values — the identity needs 4S² there (LAWS.md §9)."""
    S2 = np.sqrt((np.sqrt(lam**2 + 4 * S) + lam) / 2)
    S1 = np.sqrt((np.sqrt(lam**2 + 4 * S) - lam) / 2)
    return S1, S2


@pytest.mark.parametrize("lam", [-1.0, 0.0, 2.0])
def test_authors_helper_bug_is_reproduced_and_avoided(lam):
    S = np.array([3.0, 2.0, 0.5])
    S1, S2 = _authors_factors(S, lam)
    # their factors are λ-balanced (S2² − S1² = λ) but W2W1 = U diag(S1·S2) Vᵀ has singular values √S, not S
    np.testing.assert_allclose(S2**2 - S1**2, lam, atol=1e-14)
    np.testing.assert_allclose(S1 * S2, np.sqrt(S), rtol=1e-14)
    assert np.max(np.abs(S1 * S2 - S)) > 0.4
    # from the identity (4S²) the product is S: what lambda_balanced_init(aligned=True) builds, mode by mode
    task = prescribed_task(list(S), Ni=3, No=3, seed=0, U=np.eye(3), V=np.eye(3))  # Σyx = diag(S)
    for strength in S:
        W1, W2 = lambda_balanced_init(task, lam, float(strength), seed=0, aligned=True)
        np.testing.assert_allclose(np.linalg.svd(W2[0] @ W1[0], compute_uv=False), strength, rtol=1e-13)
    fixed_S1 = np.sqrt((np.sqrt(lam**2 + 4 * S**2) - lam) / 2)
    fixed_S2 = np.sqrt((np.sqrt(lam**2 + 4 * S**2) + lam) / 2)
    np.testing.assert_allclose(fixed_S1 * fixed_S2, S, rtol=1e-14)
