"""Templates (fixed outer structure, searched parts) and shared structures with per-group constants.

Every search here is a real backend run through `discover.discover` (Operon at `Budget.quick()`, or SINDy where the
parts are polynomials); nothing is mocked. Expected values come from the data-generating laws, not from the code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

import discover
from discover import Budget, SnapSettings
from discover.snapping import evaluate, loss_floor
from discover.templates import (
    N_STARTS,
    SELECT_FACTOR,
    SharedCandidates,
    Template,
    abstract_constants,
    fit_shared,
    fit_template,
)

s, n, p, t, x = sp.symbols("s n p t x")
a, b, c = sp.symbols("a b c")
g, h = sp.Function("g"), sp.Function("h")
T_REAL = sp.Symbol("t", real=True)  # the symbol the backends' expressions use (feature_symbols)


def operon_search(seed: int, symbols: str = "add,sub,mul,div,exp,constant,variable"):
    """Operon at Budget.quick through discover(); unsnapped fronts (the template code refits every Float)."""

    def search(X, z, names):
        table = pd.DataFrame(X, columns=list(names))
        table["target_"] = z
        found = discover.discover(
            table,
            "target_",
            backend="operon",
            budget=Budget.quick(),
            seed=seed,
            allowed_symbols=symbols,
            snapping=SnapSettings(enabled=False),
        )
        return [candidate.expr for candidate in found.pareto]

    return search


def sindy_search(library=("poly", 3)):
    """SINDy on a polynomial library through discover() (deterministic, fast)."""

    def search(X, z, names):
        table = pd.DataFrame(X, columns=list(names))
        table["target_"] = z
        chosen = library(X) if callable(library) else library
        return [c.expr for c in discover.discover(table, "target_", backend="sindy", library=chosen).pareto]

    return search


def best(candidates):
    """`Discovery.best`'s rule on a list of candidates with ``loss`` and ``complexity``."""
    floor_loss = min(c.loss for c in candidates)
    ordered = sorted(candidates, key=lambda c: (c.complexity, c.loss))
    return next(c for c in ordered if c.loss <= SELECT_FACTOR * floor_loss + 1e-30)


def values(expr, **columns):
    return np.broadcast_to(np.asarray(evaluate(expr, columns), dtype=np.float64), next(iter(columns.values())).shape)


# ------------------------------------------------------------------------------------------------------- Template


def test_select_factor_is_the_best_loss_factor():
    assert SELECT_FACTOR == discover.BEST_LOSS_FACTOR


def test_template_records_parts_and_renames_symbols_to_real():
    template = Template(a * g(s) * h(n / p) + c, constants=(a, c))
    assert template.parts == {
        "g": (sp.Symbol("s", real=True),),
        "h": (sp.Symbol("n", real=True) / sp.Symbol("p", real=True),),
    }
    assert template.feature_names == ("n", "p", "s")
    assert template.constant_names == ("a", "c")
    assert all(symbol.is_real for symbol in template.expr.free_symbols)


@pytest.mark.parametrize(
    ("expr", "constants", "error", "message"),
    [
        ("g(s) * h(n)", (), TypeError, "not text"),
        (g(s), ("a",), TypeError, "must be a SymPy Symbol"),
        (g(s), a, TypeError, "sequence of SymPy symbols"),
        (g(a * s), (a,), ValueError, r"argument a\*s uses the constant\(s\) \['a'\]"),
        (g(h(s)), (), ValueError, "contains a part"),
        (g(s) + g(n), (), ValueError, "part g is used with different arguments"),
        (g(s, s), (), ValueError, "repeats an argument"),
        (g(sp.Integer(2)) * s, (), ValueError, "uses no feature"),
        (g(s) + a, (a, b), ValueError, r"constants \['b'\] do not appear"),
        (s**2 + n, (), ValueError, "nothing to fit"),
        (g(s) + sp.Symbol("g"), (), ValueError, "same name as a symbol"),
        (sp.Derivative(g(s), s), (), ValueError, "derivative"),
    ],
)
def test_template_refuses_malformed_templates(expr, constants, error, message):
    with pytest.raises(error, match=message):
        Template(expr, constants=constants)


def test_template_names_unknown_symbols_and_clashes_against_the_features():
    with pytest.raises(ValueError, match=r"uses \['q'\], which are neither features"):
        Template(g(s) + sp.Symbol("q")).check_features(["s"])
    with pytest.raises(ValueError, match=r"constants \['a'\] are also feature columns"):
        Template(g(s) + a, constants=(a,)).check_features(["s", "a"])
    Template(g(s) + a, constants=(a,)).check_features(["s"])  # the right features pass


# -------------------------------------------------------------------------------------------------- fit_template


def _rows(count: int, seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("outer", [g(x) ** 2, sp.sin(g(x))])
def test_a_part_that_cannot_be_isolated_is_named(outer):
    # ±√y and the two branches of asin are both real on this data: the part is not determined by the target.
    X = np.linspace(0.1, 1.0, 40)[:, None]
    y = 0.5 + 0.3 * X[:, 0]  # in (0, 1): every branch is real
    with pytest.raises(ValueError, match=r"g cannot be isolated in .*2 solutions that are real"):
        fit_template(X, y, ["x"], Template(outer), sindy_search())


def test_an_invertible_outer_function_is_inverted_exactly():
    # exp(g(x)) = y  ⇒  g = log y = 1/2 + x²: a polynomial, which SINDy finds exactly from the pseudo-target.
    X = np.linspace(-1.0, 1.5, 60)[:, None]
    y = np.exp(0.5 + X[:, 0] ** 2)
    candidates = fit_template(X, y, ["x"], Template(sp.exp(g(x))), sindy_search())
    chosen = best(candidates)
    fresh = np.linspace(-0.9, 1.4, 23)
    truth = np.exp(0.5 + fresh**2)
    assert np.max(np.abs(values(chosen.expr, x=fresh) / truth - 1)) < 1e-10  # float64 rounding of a few operations


def test_a_pseudo_target_finite_on_too_few_rows_is_refused():
    # exp(g(x)) = y needs y > 0; here y < 0 on 80 % of the rows, so log y exists on too few of them.
    X = np.linspace(0.0, 1.0, 50)[:, None]
    with pytest.raises(ValueError, match=r"pseudo-target of part g .* finite on 10 of 50 rows, fewer than the 25"):
        fit_template(X, X[:, 0] - 0.8, ["x"], Template(sp.exp(g(x))), sindy_search())


def test_parametric_template_recovers_constants_within_their_standard_errors():
    rng = np.random.default_rng(7)
    T = np.linspace(0.0, 5.0, 200)
    truth = {"a": 1.7, "b": -0.8, "c": 0.3}
    sigma = 0.01
    y = truth["a"] * np.exp(truth["b"] * T) + truth["c"] + sigma * rng.standard_normal(T.size)
    template = Template(a * sp.exp(b * t) + c, constants=(a, b, c))
    [fit] = fit_template(T[:, None], y, ["t"], template, seed=3)
    ahat, bhat, chat = (fit.constants[k] for k in "abc")
    # Standard errors from the Jacobian of the model at the fit: cov = s² (JᵀJ)⁻¹, s² = SSE / (n − p).
    J = np.column_stack([np.exp(bhat * T), ahat * T * np.exp(bhat * T), np.ones_like(T)])
    residual = ahat * np.exp(bhat * T) + chat - y
    s2 = residual @ residual / (T.size - 3)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(J.T @ J)))
    errors = np.abs(np.array([ahat, bhat, chat]) - np.array(list(truth.values())))
    assert np.all(errors < 3 * se), (errors, se)  # 3 standard errors: a two-sided 99.7 % interval per constant
    assert fit.loss == pytest.approx(np.mean(residual**2), rel=1e-12)
    assert fit.loss < 1.1 * sigma**2  # at the noise floor
    # The same seed gives the same fit.
    [again] = fit_template(T[:, None], y, ["t"], template, seed=3)
    assert again.constants == fit.constants
    assert N_STARTS >= 2


def test_wrong_parametric_template_does_not_reach_the_noise():
    # The check above can fail: without the offset c, a·exp(b·t) misses the data by far more than the noise.
    rng = np.random.default_rng(7)
    T = np.linspace(0.0, 5.0, 200)
    y = 1.7 * np.exp(-0.8 * T) + 0.3 + 0.01 * rng.standard_normal(T.size)
    [fit] = fit_template(T[:, None], y, ["t"], Template(a * sp.exp(b * t), constants=(a, b)))
    assert fit.loss > 10 * 0.01**2  # measured: 68 σ²


def test_additive_template_cannot_express_a_product_but_the_product_template_can():
    # y = s·n + noise. The best additive fit g(s) + h(n) of s·n, for independent s and n, leaves the interaction
    # (s − E s)(n − E n), whose mean square is var(s)·var(n) (ANOVA decomposition): ≈ 1/9 for s, n ~ U(1, 3),
    # a thousand times the noise variance 1e-4. The product template g(s)·h(n) reaches the noise.
    rng = np.random.default_rng(11)
    S, N = rng.uniform(1, 3, 300), rng.uniform(1, 3, 300)
    sigma = 0.01
    noise = sigma * rng.standard_normal(S.size)
    y = S * N + noise
    X = np.column_stack([S, N])
    additive = fit_template(X, y, ["s", "n"], Template(g(s) + h(n)), sindy_search())
    product = fit_template(X, y, ["s", "n"], Template(g(s) * h(n)), sindy_search())
    interaction = np.var(S) * np.var(N)
    truth_loss = np.mean(noise**2)  # the loss of the law itself on these rows
    assert min(c.loss for c in additive) > 0.8 * interaction > 500 * truth_loss
    # The product family contains the law, so its least-squares fit is at most the law's loss (up to rounding).
    assert min(c.loss for c in product) <= truth_loss * (1 + 1e-9)
    chosen = best(product)
    S2, N2 = np.meshgrid(np.linspace(1, 3, 7), np.linspace(1, 3, 7))
    # Fitted with noise 0.01 on 300 rows: the law is recovered to about σ/√n ≈ 1e-3 relative.
    assert np.max(np.abs(values(chosen.expr, s=S2.ravel(), n=N2.ravel()) / (S2 * N2).ravel() - 1)) < 1e-2


@pytest.mark.slow
def test_product_template_recovers_both_parts_with_operon():
    # y = (2 + s²)·exp(−n/p) with the template g(s)·h(n/p): g ∝ 2 + s² and h ∝ exp(−n/p), to float64 precision
    # after the joint least-squares refit (noise-free data).
    rng = np.random.default_rng(1)
    S, N, P = rng.uniform(0.5, 2, 200), rng.uniform(0.5, 3, 200), rng.uniform(1, 3, 200)
    y = (2 + S**2) * np.exp(-N / P)
    candidates = fit_template(
        np.column_stack([S, N, P]), y, ["s", "n", "p"], Template(g(s) * h(n / p)), operon_search(0)
    )
    chosen = best(candidates)
    fresh = np.random.default_rng(2)
    S2, N2, P2 = fresh.uniform(0.5, 2, 100), fresh.uniform(0.5, 3, 100), fresh.uniform(1, 3, 100)
    truth = (2 + S2**2) * np.exp(-N2 / P2)
    assert np.max(np.abs(values(chosen.expr, s=S2, n=N2, p=P2) / truth - 1)) < 1e-8
    ratio_g = values(chosen.parts["g"], s=S2) / (2 + S2**2)
    ratio_h = values(chosen.parts["h"], n=N2, p=P2) / np.exp(-N2 / P2)
    assert np.ptp(ratio_g) < 1e-8 * abs(ratio_g[0])
    assert np.ptp(ratio_h) < 1e-8 * abs(ratio_h[0])
    assert chosen.loss <= loss_floor(y)
    # The simpler rows of the fronts come back too, for a Pareto front.
    assert len(candidates) > 1
    assert min(c.complexity for c in candidates) < chosen.complexity


def test_fit_template_refuses_bad_arguments():
    X = np.linspace(0, 1, 20)[:, None]
    with pytest.raises(TypeError, match="pass a search callback"):
        fit_template(X, X[:, 0], ["x"], Template(g(x)))
    with pytest.raises(TypeError, match=r"must be a discover\.templates\.Template"):
        fit_template(X, X[:, 0], ["x"], g(x))
    with pytest.raises(ValueError, match="rounds must be a positive integer"):
        fit_template(X, X[:, 0], ["x"], Template(g(x)), sindy_search(), rounds=0)
    with pytest.raises(ValueError, match=r"shape \(rows, 2\)"):
        fit_template(X, X[:, 0], ["x", "y"], Template(g(x)), sindy_search())


# ------------------------------------------------------------------------------------------------ shared structures


def test_abstract_constants_numbers_parameters_independently_of_their_values():
    first, params, found = abstract_constants(1.5 * sp.exp(-0.25 * t) + 0.5)
    second, _, other = abstract_constants(-7.0 * sp.exp(3.0 * t) + 2.0)
    assert first == second
    assert found == (1.5, -0.25, 0.5) and other == (-7.0, 3.0, 2.0)
    # Substituting the values back gives the expression found.
    assert first.xreplace(dict(zip(params, map(sp.Float, found), strict=True))) == 1.5 * sp.exp(-0.25 * t) + 0.5
    # Exact numbers stay exact; the prefix names the parameters.
    structure, params, _ = abstract_constants(2 * t + sp.pi * 0.5 + 1.25 * t**2, prefix="k")
    assert structure.has(sp.Integer(2)) and [q.name for q in params] == ["k0", "k1"]
    assert abstract_constants(2 * t) == (2 * t, (), ())


def test_shared_structure_different_laws_is_not_reported_as_fitting_all():
    # Group "lin" follows 1.37 + 0.73 t, group "cub" follows 0.91 − 0.53 t + 2.11 t³. The line fits "lin" to
    # rounding but not "cub", so its pooled loss stays far above the float32 floor; the cubic fits both.
    T = np.linspace(0.0, 2.0, 40)
    y = np.concatenate([1.37 + 0.73 * T, 0.91 - 0.53 * T + 2.11 * T**3])
    groups = np.array(["lin"] * 40 + ["cub"] * 40)
    found = fit_shared(np.concatenate([T, T])[:, None], y, ["t"], groups, sindy_search())
    assert isinstance(found, SharedCandidates) and found.dropped == ()
    floor = loss_floor(y)
    line = next(c for c in found if c.complexity == 5 and len(c.parameters) == 2)  # c0*t + c1
    assert line.group_losses["lin"] <= floor
    assert line.group_losses["cub"] > 1e6 * floor and line.loss > 1e6 * floor
    fits_all = [c for c in found if c.loss <= floor]
    assert fits_all and all(c.structure.has(T_REAL**3) for c in fits_all)
    cubic = fits_all[0]
    expr = cubic.per_group_expr("cub")
    assert np.max(np.abs(values(expr, t=T) - (0.91 - 0.53 * T + 2.11 * T**3))) < 1e-9
    with pytest.raises(KeyError, match="unknown group 'other'"):
        cubic.per_group_expr("other")


def test_shared_structure_that_cannot_be_evaluated_on_a_group_is_dropped_with_a_reason():
    # Group 0 (t > 0) is searched with √t in the library and gives c0·√t; group 1 has t < 0, where √t is not real,
    # so that structure has no finite fit there and is dropped, with the reason.
    T0, T1 = np.linspace(1.0, 2.0, 30), np.linspace(-2.0, -1.0, 30)
    y = np.concatenate([1.37 * np.sqrt(T0), 0.5 * T1 + 1.0])  # 1.37: no exact number snaps to it
    groups = np.array([0] * 30 + [1] * 30)

    def library(X):
        return [("poly", 1), sp.sqrt(sp.Symbol("t"))] if np.all(X > 0) else ("poly", 1)

    found = fit_shared(np.concatenate([T0, T1])[:, None], y, ["t"], groups, sindy_search(library))
    reasons = {str(d.structure): d.reason for d in found.dropped}
    assert "c0*sqrt(t)" in reasons and "no finite least-squares fit on group 1" in reasons["c0*sqrt(t)"]
    assert found and all(not c.structure.has(sp.sqrt(T_REAL)) for c in found)


@pytest.mark.slow
def test_shared_exponential_structure_with_operon():
    # Three datasets y = A·exp(−k·t) + C: the structure c0·exp(c1·t) + c2 is found, with each group's constants
    # to 1e-6 relative (noise-free data; the float64 least-squares refit reaches rounding level).
    T = np.linspace(0.0, 4.0, 40)
    laws = {"a": (1.37, 0.83, 0.21), "b": (2.61, 0.47, -0.35), "c": (0.74, 1.29, 0.58)}
    y = np.concatenate([A * np.exp(-k * T) + C for A, k, C in laws.values()])
    groups = np.repeat(list(laws), T.size)
    found = fit_shared(np.tile(T, 3)[:, None], y, ["t"], groups, operon_search(0))
    A_, B_, C_ = (sp.Wild(k, exclude=[T_REAL]) for k in "ABC")
    pattern = A_ * sp.exp(B_ * T_REAL) + C_
    matches = [(cand, cand.structure.match(pattern)) for cand in found if len(cand.parameters) == 3]
    matches = [(cand, m) for cand, m in matches if m and all(m[w].free_symbols for w in (A_, B_, C_))]
    assert matches, [str(cand.structure) for cand in found]
    cand, m = matches[0]
    assert cand.loss <= loss_floor(y)
    for group, (A, k, C) in laws.items():
        substitute = dict(zip(cand.parameters, map(sp.Float, cand.values[group]), strict=True))
        got = [float(m[w].xreplace(substitute)) for w in (A_, B_, C_)]
        assert got == pytest.approx([A, -k, C], rel=1e-6)


def test_fit_shared_refuses_bad_groups():
    T = np.linspace(0.0, 1.0, 30)[:, None]
    with pytest.raises(ValueError, match="at least two groups"):
        fit_shared(T, T[:, 0], ["t"], np.zeros(30), sindy_search())
    with pytest.raises(ValueError, match=r"groups \{1: 5\} have fewer than 10 rows"):
        fit_shared(T, T[:, 0], ["t"], np.array([0] * 25 + [1] * 5), sindy_search())
    with pytest.raises(ValueError, match=r"groups must label each of the 30 rows"):
        fit_shared(T, T[:, 0], ["t"], np.zeros(29), sindy_search())
    with pytest.raises(ValueError, match="max_structures must be a positive integer"):
        fit_shared(T, T[:, 0], ["t"], np.array([0, 1] * 15), sindy_search(), max_structures=0)


def test_starts_whose_steps_overflow_do_not_warn_or_fail():
    # With t up to 200, a start with b ≳ 1.8 makes exp(b·t)² overflow float64 inside the optimizer's cost; that
    # start must just lose (pytest turns the RuntimeWarning into an error), and a good start must still win.
    T = np.linspace(0.0, 200.0, 100)
    y = 2.0 * np.exp(-0.1 * T) + 0.5
    [fit] = fit_template(T[:, None], y, ["t"], Template(a * sp.exp(b * t) + c, constants=(a, b, c)), seed=0)
    assert [fit.constants[k] for k in "abc"] == pytest.approx([2.0, -0.1, 0.5], rel=1e-9)


def test_a_part_whose_pseudo_target_is_constant_is_a_constant_without_a_search():
    # y = s² + 1 with the template g(s) + h(n): once g is found, y − g(s) is the same number on every row. A
    # search on a constant target is refused by discover() ("nothing to regress"), so h is set to that number.
    rng = np.random.default_rng(0)
    S, N = rng.uniform(1, 2, 50), rng.uniform(1, 2, 50)
    searched = []
    inner = sindy_search()

    def search(X, z, names):
        searched.append(tuple(names))
        return inner(X, z, names)

    candidates = fit_template(np.column_stack([S, N]), S**2 + 1, ["s", "n"], Template(g(s) + h(n)), search)
    chosen = best(candidates)
    assert set(searched) == {("s",)}  # h was never searched
    assert chosen.parts["h"].is_number
    assert chosen.loss <= loss_floor(S**2 + 1)
