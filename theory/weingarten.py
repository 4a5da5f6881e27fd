"""Exact expectations over Haar-random orthogonal matrices by Weingarten calculus (Collins & Śniady 2006;
Collins & Matsumoto 2017, "Weingarten calculus via orthogonality relations").

For Q Haar on O(N) and 2k entries,

    E[Q_{i1 j1} ⋯ Q_{i2k j2k}] = Σ_{σ, τ} Wg(σ, τ; N) Δ_σ(i) Δ_τ(j),

summed over pairs of perfect matchings σ, τ of the 2k positions, where Δ_σ(i) = 1 when i agrees on every pair of
σ. Wg(σ, τ) depends only on the coset type of (σ, τ): the union of two matchings is a set of even cycles, and the
type is the partition of k given by their half-lengths. Wg is the inverse of the Gram matrix N^{#cycles(σ ∪ τ)},
which here is solved on class functions (one equation per partition of k), so Wg is a rational function of N
exact for N ≥ k (the Gram matrix is invertible there).

`expect_traces` applies this to a product of traces of words in a Haar matrix ``H`` (or a p × m block of one,
e.g. a Haar-random orthonormal frame), its transpose and fixed matrices: each pairing turns the product into a
product of traces of words in the fixed matrices, which the caller evaluates. An odd number of Haar letters gives 0.

>>> import sympy as sp
>>> N = sp.Symbol("N", positive=True)
>>> expect_traces([(("H", False),), (("H", False),)], N, lambda kind, word: N if not word else None)  # E[tr(Q)²]
1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache

import sympy as sp

__all__ = ["Letter", "expect_traces", "matchings", "weingarten"]

Letter = tuple[str, bool]  # (name, transposed); the Haar matrix is named "H"
Word = tuple[Letter, ...]


@cache
def matchings(n: int) -> tuple[tuple[int, ...], ...]:
    """All perfect matchings of range(n) as partner arrays (n even); (n − 1)!! of them.

    >>> len(matchings(8))
    105
    """
    if n % 2:
        raise ValueError(f"matchings of an odd number of points ({n}) do not exist")

    def build(free: tuple[int, ...]) -> list[dict[int, int]]:
        if not free:
            return [{}]
        first, rest = free[0], free[1:]
        out = []
        for i, other in enumerate(rest):
            for tail in build(rest[:i] + rest[i + 1 :]):
                out.append({first: other, other: first, **tail})
        return out

    return tuple(tuple(m[i] for i in range(n)) for m in build(tuple(range(n))))


def _coset_type(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Half-lengths of the cycles of the union of two perfect matchings, sorted descending."""
    seen, lengths = set(), []
    for start in range(len(a)):
        if start in seen:
            continue
        length, point, use_a = 0, start, True
        while True:
            seen.add(point)
            point = a[point] if use_a else b[point]
            use_a = not use_a
            length += 1
            if point == start and use_a:
                break
        lengths.append(length // 2)
    return tuple(sorted(lengths, reverse=True))


@cache
def weingarten(k: int, N: sp.Symbol) -> dict[tuple[int, ...], sp.Expr]:
    """The orthogonal Weingarten function for 2k entries as {coset type: Wg(type; N)}, exact for N ≥ k.

    >>> N = sp.Symbol("N", positive=True)
    >>> weingarten(1, N)
    {(1,): 1/N}
    >>> sp.factor(weingarten(2, N)[(1, 1)])
    (N + 1)/(N*(N - 1)*(N + 2))
    """
    ms = matchings(2 * k)
    identity = ms[0]
    types = sorted({_coset_type(m, identity) for m in ms})
    rep = {t: next(m for m in ms if _coset_type(m, identity) == t) for t in types}
    unknowns = sp.symbols(f"w0:{len(types)}")
    index = {t: i for i, t in enumerate(types)}
    equations = []
    for t in types:  # (G · Wg)(σ_t, identity) = δ(σ_t, identity), grouped by the type of τ
        lhs = sum(N ** len(_coset_type(rep[t], m)) * unknowns[index[_coset_type(m, identity)]] for m in ms)
        equations.append(sp.Eq(lhs, 1 if t == (1,) * k else 0))
    solution = sp.solve(equations, unknowns, dict=True)[0]
    return {t: sp.factor(solution[unknowns[index[t]]]) for t in types}


def _reverse(word: Word) -> Word:
    return tuple((name, not transposed) for name, transposed in reversed(word))


def expect_traces(
    traces: Sequence[Word],
    N: sp.Symbol,
    evaluate: Callable[[str, Word], sp.Expr],
) -> sp.Expr:
    """E over the Haar matrix H of Π tr(word): ``traces`` are cyclic words of letters (name, transposed).

    H is an N × N Haar orthogonal matrix, or a block of one (then fixed letters next to H's rows and columns have
    the block's sizes). ``evaluate(kind, word)`` returns the trace of a word of fixed letters that a pairing closes
    into a cycle, where kind is "row" or "col": the space of H's row or column index that the cycle runs in (so an
    empty word is that space's dimension). Words are read in matrix order; a letter's flag marks a transpose.

    >>> N = sp.Symbol("N", positive=True)
    >>> P = ("P", False)
    >>> trace_P = lambda kind, word: N if not word else sp.Symbol("d")  # P a projector of rank d
    >>> sp.simplify(expect_traces([(P, ("H", False), P, ("H", True))], N, trace_P))  # E tr(P H P Hᵀ) = d²/N
    d**2/N
    """
    # Haar entry e has its row index in slot 2e and its column index in slot 2e + 1
    entries = 0
    segment: dict[int, tuple[int, Word]] = {}  # slot → (slot across the fixed letters, the word read from here)
    closed: list[Word] = []  # traces without a Haar letter
    for word in traces:
        haar = [i for i, (name, _) in enumerate(word) if name == "H"]
        if not haar:
            closed.append(tuple(word))
            continue
        sides = []  # per Haar letter: (its left slot, its right slot)
        for i in haar:
            row, col = 2 * entries, 2 * entries + 1
            entries += 1
            sides.append((col, row) if word[i][1] else (row, col))
        for j, i in enumerate(haar):
            nxt = haar[(j + 1) % len(haar)]
            between = word[i + 1 : nxt] if nxt > i else word[i + 1 :] + word[:nxt]
            right, left = sides[j][1], sides[(j + 1) % len(haar)][0]
            segment[right] = (left, tuple(between))
            segment[left] = (right, _reverse(tuple(between)))
    fixed = sp.Integer(1)
    for word in closed:
        fixed *= evaluate("closed", word)
    if entries % 2:
        return sp.Integer(0)
    if not entries:
        return fixed
    k = entries // 2
    wg = weingarten(k, N)

    def cycles(rows_matched: tuple[int, ...], cols_matched: tuple[int, ...]) -> tuple[tuple[str, Word], ...]:
        partner = {}
        for e, f in enumerate(rows_matched):
            partner[2 * e] = 2 * f
        for e, f in enumerate(cols_matched):
            partner[2 * e + 1] = 2 * f + 1
        seen, loops = set(), []
        for start in segment:
            if start in seen:
                continue
            word: Word = ()
            slot = start
            while True:
                other, piece = segment[slot]
                word += piece
                seen.update((slot, other))
                slot = partner[other]
                if slot == start:
                    break
            loops.append(("col" if start % 2 else "row", word))
        return tuple(sorted(loops))

    counts: Counter = Counter()  # (coset type, the pairing's cycles) → how many (σ, τ) give them
    ms = matchings(2 * k)
    for sigma in ms:
        for tau in ms:
            counts[(_coset_type(sigma, tau), cycles(sigma, tau))] += 1
    values: dict[tuple[str, Word], sp.Expr] = {}
    terms = []
    for (kind_of_pair, loops), count in counts.items():
        for loop in loops:
            if loop not in values:
                values[loop] = evaluate(*loop)
        terms.append(sp.Mul(count, wg[kind_of_pair], *(values[loop] for loop in loops)))
    return sp.cancel(fixed * sp.Add(*terms))
