"""theory.weingarten: exact Haar-orthogonal expectations against known values and Monte Carlo."""

import numpy as np
import pytest
import sympy as sp

from theory.weingarten import expect_traces, matchings, weingarten

N = sp.Symbol("N", positive=True)
H, Ht = ("H", False), ("H", True)


def _identity_only(kind, word):
    assert not word
    return N


def test_matchings_count_and_are_perfect():
    for n in (2, 4, 6, 8):
        ms = matchings(n)
        assert len(ms) == np.prod(np.arange(n - 1, 0, -2))
        assert all(sorted(m) == list(range(n)) and all(m[m[i]] == i != m[i] for i in range(n)) for m in ms)
    with pytest.raises(ValueError, match="odd"):
        matchings(3)


def test_known_moments():
    # E tr(Q) = 0, E tr(Q)² = 1, E tr(Q²) = 1, E tr(Q)⁴ = 3 (N ≥ 4: Diaconis–Shahshahani), E tr(QQᵀ) = N
    assert expect_traces([(H,)], N, _identity_only) == 0
    assert sp.simplify(expect_traces([(H,), (H,)], N, _identity_only)) == 1
    assert sp.simplify(expect_traces([(H, H)], N, _identity_only)) == 1
    assert sp.simplify(expect_traces([(H,)] * 4, N, _identity_only)) == 3
    assert sp.simplify(expect_traces([(H, Ht)], N, _identity_only)) == N
    # E Q11⁴ = 3/(N(N + 2)): the entry is tr(E11 Q)
    e11 = ("E", False)
    value = expect_traces([(e11, H)] * 4, N, lambda kind, word: 1 if word else N)
    assert sp.simplify(value - 3 / (N * (N + 2))) == 0


def test_weingarten_inverts_the_gram_matrix():
    n = 3
    ms = matchings(2 * n)
    wg = weingarten(n, N)
    from theory.weingarten import _coset_type

    gram = sp.Matrix(len(ms), len(ms), lambda i, j: N ** len(_coset_type(ms[i], ms[j])))
    W = sp.Matrix(len(ms), len(ms), lambda i, j: wg[_coset_type(ms[i], ms[j])])
    value = 7
    assert (gram * W).subs(N, value) == sp.eye(len(ms))


def test_a_mixed_word_against_monte_carlo():
    # E tr(A Q B Qᵀ A Q B Qᵀ) for fixed symmetric A, B at N = 5, exact against 200,000 Haar draws (SE-based)
    rng = np.random.default_rng(0)
    n = 5
    A = np.diag([1.0, 2.0, 0.0, -1.0, 0.5])
    B = np.diag([0.3, 0.0, 1.0, 1.0, -2.0])
    mats = {"A": A, "B": B}

    def trace_of(kind, word):
        M = np.eye(n)
        for name, transposed in word:
            M = M @ (mats[name].T if transposed else mats[name])
        return sp.Rational(str(np.trace(M)))

    word = (("A", False), H, ("B", False), Ht, ("A", False), H, ("B", False), Ht)
    exact = float(expect_traces([word], sp.Integer(n), trace_of))
    q, r = np.linalg.qr(rng.normal(size=(200_000, n, n)))
    Q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    M = A @ Q @ B @ Q.transpose(0, 2, 1)
    samples = np.trace(M @ M, axis1=1, axis2=2)
    assert abs(samples.mean() - exact) <= 4 * samples.std(ddof=1) / np.sqrt(samples.size)
