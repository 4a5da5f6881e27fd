"""Target transforms and derived features (`discover.transforms`): the screen, the fitted k, the exact inverses.

Every expected answer is derived by hand from the law that made the data: exp(4·s·t) = 1 + s(s − a1 − a2)/(a1a2 − b0²)
for the coupling peak time (LAWS.md §2.5, `theory.decoupling.coupling_peak_time`), y² = x1² + x2² for a distance,
log y = −x²/2 − log √(2π) for the normal density.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from discover.backends.base import feature_symbols
from discover.problems import _peak_domain
from discover.snapping import evaluate
from discover.transforms import (
    TIE_SCORE,
    DerivedFeature,
    TargetTransform,
    TransformStep,
    derived_features,
    min_screen_rows,
    rank_transforms,
    screen,
    substitute,
    target_transforms,
)

PEAK_FEATURES = ["s", "a1", "a2", "b0"]
s, a1, a2, b0 = feature_symbols(PEAK_FEATURES)
t = sp.Symbol("t", real=True)
PEAK_LAW = sp.log(1 + s * (s - a1 - a2) / (a1 * a2 - b0**2)) / (4 * s)
PEAK_RATIONAL = 1 + s * (s - a1 - a2) / (a1 * a2 - b0**2)


def peak_table(seed: int = 0, rows: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """(X, t) for the coupling peak time on the problem's own domain, t from the closed form in float64."""
    draws = _peak_domain(np.random.default_rng(seed), rows)
    X = np.stack([draws[name] for name in PEAK_FEATURES], axis=1)
    s_, a1_, a2_, b0_ = X.T
    return X, np.log1p(s_ * (s_ - a1_ - a2_) / (a1_ * a2_ - b0_**2)) / (4 * s_)


@pytest.fixture(scope="module")
def peak_ranking():
    X, y = peak_table()
    offered = target_transforms(X, y, PEAK_FEATURES, target="t")
    return X, y, offered, rank_transforms(offered, X)


def by_name(ranking, name):
    return next((score, T) for score, T in ranking if T.name == name)


# -- (1) the coupling peak time -------------------------------------------------------------------------------


def test_peak_time_ranks_exp_4st_first_with_k_snapped_to_4(peak_ranking):
    _, _, _, ranking = peak_ranking
    score, best = ranking[0]
    assert best.name == "exp(4*s*t)"
    assert best.k == sp.Integer(4) and isinstance(best.k, sp.Integer)
    fitted = next(step.k_fitted for step in best.steps if step.kind == "exp")
    assert fitted != 4 and abs(fitted - 4) < 1e-4  # found by the search, then snapped
    # z is exactly a degree-2 rational function: the fit is at float64 round-off
    assert score < 1e-12
    # the untransformed target and its log are not rational: their best degree-2 fits are far worse
    assert by_name(ranking, "t")[0] > 1e6 * max(score, 1e-20) and by_name(ranking, "t")[0] > 1e-4
    assert by_name(ranking, "log(t)")[0] > 1e-4
    # the runner-up is not close either: the ranking separates the law's transform
    assert ranking[1][0] > 1e-6


@pytest.mark.parametrize("noise", [1e-8, 1e-6, 1e-4])
def test_peak_time_with_noise_still_ranks_exp_4st_first(noise):
    """Relative noise σ on t: exp(4·s·t) stays first (k = 4; the positive sign although exp(−4·s·t) fits alike).

    Noise σ on t is relative noise 4·s·t·σ on z = exp(4·s·t); the screen weighs rows relatively, so its MSE is
    ≈ mean((4·s·t)²)·σ² over a weighted variance of order 1 (measured: score = 1.25·mean((4st)²)·σ² on this table).
    The bounds, a factor 3 either way, tell that the score is the noise's and not round-off or a misfit."""
    X, y = peak_table(seed=1)
    y = y * (1 + noise * np.random.default_rng(1).normal(size=len(y)))
    ranking = rank_transforms(target_transforms(X, y, PEAK_FEATURES, target="t"), X)
    (score, best), (runner_up, _) = ranking[:2]
    assert best.name == "exp(4*s*t)" and best.k == 4
    expected = float(np.mean((4 * X[:, 0] * y) ** 2)) * noise**2
    assert expected / 3 < score < 3 * expected and runner_up > 1e3 * score


def test_peak_time_inverse_of_the_rational_function_is_the_law(peak_ranking):
    X, y, _, ranking = peak_ranking
    best = ranking[0][1]
    law = best.inverse(PEAK_RATIONAL)
    columns = dict(zip(PEAK_FEATURES, X.T, strict=True))
    got, want = evaluate(law, columns), evaluate(PEAK_LAW, columns)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got, y, rtol=1e-12, atol=0)  # and it is the data's t
    assert sp.simplify(law - PEAK_LAW) == 0
    assert best.forward(t) == sp.exp(4 * s * t)


def test_a_wrong_exp_transform_does_not_reach_round_off(peak_ranking):
    """exp(k·t) without the factor s: no k makes it rational (s varies), so its score stays far from round-off."""
    _, _, _, ranking = peak_ranking
    score, wrong = next((score, T) for score, T in ranking if T.steps and T.steps[0].kind == "exp")
    assert wrong.forward(t).free_symbols == {t}  # exp(k·t)
    assert score > 1e-8


def test_exp_of_a_target_that_is_not_exponential_rational_scores_far_from_round_off():
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 2.0, (200, 2))
    y = np.sin(3 * X[:, 0]) * X[:, 1] + X[:, 0]
    offered = target_transforms(X, y, ["x1", "x2"])
    exp_scores = [score for score, T in rank_transforms(offered, X) if T.k is not None]
    assert len(exp_scores) == 5  # exp(k·y), exp(k·y·x_j), exp(k·y/x_j)
    assert min(exp_scores) > 1e-6


def test_a_non_integer_k_is_fitted_and_not_forced_onto_a_nearby_rational():
    """y = log(1 + x1·x2)/(2.71·x1): exp(2.71·y·x1) = 1 + x1·x2. 19/7 ≈ 2.714 is the nearest rational with q ≤ 12 and
    must be refused by the snapping rule, since it moves the fit far above round-off."""
    rng = np.random.default_rng(2)
    X = rng.uniform(0.5, 2.0, (200, 2))
    y = np.log1p(X[:, 0] * X[:, 1]) / (2.71 * X[:, 0])
    ranking = rank_transforms(target_transforms(X, y, ["x1", "x2"]), X)
    score, best = ranking[0]
    assert best.steps[0] == TransformStep("times", feature="x1") and best.k.is_Float
    assert abs(float(best.k) - 2.71) < 1e-6
    assert score < 1e-12


# -- (2), (3) other laws --------------------------------------------------------------------------------------


def test_distance_ranks_the_square_first():
    rng = np.random.default_rng(3)
    X = rng.uniform(-2.0, 2.0, (200, 2))
    y = np.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2)
    ranking = rank_transforms(target_transforms(X, y, ["x1", "x2"]), X)
    score, best = ranking[0]
    assert best.name == "y**2" and score < 1e-20
    x1, x2 = feature_symbols(["x1", "x2"])
    assert best.inverse(x1**2 + x2**2) == sp.sqrt(x1**2 + x2**2)
    assert ranking[1][0] > 1e-8


def test_negative_target_square_inverts_with_the_sign():
    rng = np.random.default_rng(4)
    X = rng.uniform(-2.0, 2.0, (200, 2))
    y = -np.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2)
    score, best = rank_transforms(target_transforms(X, y, ["x1", "x2"]), X)[0]
    x1, x2 = feature_symbols(["x1", "x2"])
    assert best.name == "y**2" and score < 1e-20
    assert best.inverse(x1**2 + x2**2) == -sp.sqrt(x1**2 + x2**2)


def test_normal_density_ranks_the_log_first():
    rng = np.random.default_rng(5)
    X = rng.uniform(-3.0, 3.0, (200, 1))
    y = np.exp(-(X[:, 0] ** 2) / 2) / np.sqrt(2 * np.pi)
    ranking = rank_transforms(target_transforms(X, y, ["x"]), X)
    score, best = ranking[0]
    assert best.name == "log(y)" and score < 1e-20
    (x,) = feature_symbols(["x"])
    law = best.inverse(-(x**2) / 2 - sp.log(sp.sqrt(2 * sp.pi)))
    np.testing.assert_allclose(evaluate(law, {"x": X[:, 0]}), y, rtol=1e-13)
    assert sp.simplify(law - sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)) == 0


# -- (5) forward and inverse round trip -----------------------------------------------------------------------


@pytest.mark.parametrize("sign", [1, -1])
def test_inverse_of_forward_is_the_identity_for_every_offered_transform(sign):
    rng = np.random.default_rng(6)
    names = ["x1", "x2", "x3"]
    X = rng.uniform(0.5, 2.0, (120, 3))
    x1, x2, x3 = feature_symbols(names)
    truth = sign * (1 + x1) * sp.exp(x2 / 2) / (2 + x3)  # some law with a constant sign, not one the screen favours
    columns = dict(zip(names, X.T, strict=True))
    y = evaluate(truth, columns)
    offered = target_transforms(X, y, names)
    kinds = {tuple(step.kind for step in T.steps) for T in offered}
    assert kinds == {(), ("log",), ("reciprocal",), ("square",), ("times",), ("divide",), ("exp",)} | {
        ("times", "exp"),
        ("divide", "exp"),
    }
    assert len(offered) == 1 + 3 + 2 * 3 + (1 + 2 * 3)
    for T in offered:
        g = T.forward(truth)  # the candidate a perfect search would return for T's target
        np.testing.assert_allclose(evaluate(g, columns), T.values, rtol=1e-12, err_msg=T.name)
        np.testing.assert_allclose(evaluate(T.inverse(g), columns), y, rtol=1e-10, err_msg=T.name)


@given(
    kind=st.sampled_from(["log", "reciprocal", "square", "times", "divide", "exp"]),
    sign=st.sampled_from([1, -1]),
    k=st.sampled_from([sp.Integer(4), sp.Rational(-2, 3), sp.Float(0.37)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_step_inverts_its_forward_on_random_values(kind, sign, k, seed):
    rng = np.random.default_rng(seed)
    w_values = sign * rng.uniform(0.1, 3.0, 20)  # constant sign, as the steps that need one require
    x_values = rng.uniform(0.5, 2.0, 20) * rng.choice([-1.0, 1.0], 20)  # a feature without zeros
    step = TransformStep(
        kind,
        sign=sign if kind in ("log", "square") else 1,
        feature="x" if kind in ("times", "divide") else None,
        k=k if kind == "exp" else None,
    )
    w, g = sp.Symbol("w", real=True), sp.Symbol("g", real=True)
    columns = {"w": w_values, "x": x_values}
    forward = np.asarray(evaluate(step.forward(w), columns))
    back = evaluate(step.inverse(g), {"g": forward, "x": x_values})
    np.testing.assert_allclose(back, w_values, rtol=1e-12)


# -- (6) units ------------------------------------------------------------------------------------------------


def test_with_units_only_dimensionless_products_and_exponents_are_offered():
    """t in seconds and s, a1, a2, b0 rates in 1/s: t·x_j is dimensionless, t/x_j is s², and exp(k·t) would need k
    in 1/s. So exactly the identity, log, 1/t, t², the four t·x_j and their four exponentials are offered."""
    X, y = peak_table(rows=120)
    units = {"t": "s", "s": "1/s", "a1": "1/s", "a2": "1/s", "b0": "s^-1"}
    offered = target_transforms(X, y, PEAK_FEATURES, target="t", units=units)
    names = [T.name for T in offered]
    assert names[:8] == ["t", "log(t)", "1/t", "t**2", "s*t", "a1*t", "a2*t", "b0*t"]
    assert len(names) == 12 and all(T.k is not None for T in offered[8:])
    assert [T.steps[0].feature for T in offered[8:]] == PEAK_FEATURES
    reasons = dict(offered.skipped)
    assert reasons["t/s"] == "t/s has dimension s^2, not dimensionless (units)"
    assert reasons["exp(k*t)"] == "t has dimension s, not dimensionless (units)"
    assert offered[8].name == "exp(4*s*t)"


def test_with_units_a_dimensionless_target_keeps_exp_of_itself():
    X, y = peak_table(rows=120)
    units = {"t": "1", "s": "1", "a1": "1", "a2": "1", "b0": "1"}
    offered = target_transforms(X, y, PEAK_FEATURES, target="t", units=units)
    assert len(offered) == 1 + 3 + 2 * 4 + (1 + 2 * 4) and offered.skipped == ()


def test_units_must_cover_every_column():
    X, y = peak_table(rows=120)
    with pytest.raises(ValueError, match=r"missing for column\(s\) \['t'\]"):
        target_transforms(X, y, PEAK_FEATURES, target="t", units={"s": "1", "a1": "1", "a2": "1", "b0": "1"})


# -- what is skipped, and why ---------------------------------------------------------------------------------


def test_inapplicable_transforms_are_skipped_with_a_reason():
    rng = np.random.default_rng(7)
    X = rng.uniform(-1.0, 1.0, (60, 2))
    X[0, 1] = 0.0
    y = X[:, 0] + 0.5 * X[:, 1]
    y[1] = 0.0
    offered = target_transforms(X, y, ["x1", "x2"])
    reasons = dict(offered.skipped)
    assert reasons["log(y)"] == "y changes sign or has a zero"
    assert reasons["1/y"] == "y has a zero"
    assert reasons["y**2"] == "y changes sign, so its square cannot be inverted"
    assert reasons["x2*y"] == reasons["y/x2"] == "x2 has a zero"
    assert [T.name for T in offered if T.k is None] == ["y", "x1*y", "y/x1"]


def test_a_transform_outside_the_float32_range_is_skipped():
    X = np.linspace(1.0, 2.0, 40)[:, None]
    y = 1e-12 * X[:, 0]  # 1/y reaches 1e12, y² only 4e-24 — below √(smallest normal float32)
    reasons = dict(target_transforms(X, y, ["x"]).skipped)
    assert "outside the float32 range" in reasons["y**2"]
    assert "1/y" not in reasons


def test_a_constant_w_gives_no_exponential():
    X = np.linspace(1.0, 2.0, 40)[:, None]
    offered = target_transforms(X, 3.0 / X[:, 0], ["x"])
    assert dict(offered.skipped)["exp(k*x*y)"] == "w is constant (to float32 resolution), so exp(k*w) is too"


def test_bad_tables_are_refused():
    X = np.ones((40, 2))
    with pytest.raises(ValueError, match="shape"):
        target_transforms(X, np.ones(39), ["a", "b"])
    with pytest.raises(ValueError, match="finite"):
        target_transforms(X, np.full(40, np.nan), ["a", "b"])
    with pytest.raises(ValueError, match="cannot also be a feature"):
        target_transforms(X, np.arange(40.0), ["a", "y"])


# -- the screen -----------------------------------------------------------------------------------------------


def test_screen_is_round_off_for_rational_functions_and_not_otherwise():
    rng = np.random.default_rng(8)
    X = rng.uniform(0.5, 2.0, (150, 3))
    x1, x2, x3 = X.T
    assert screen(X, (1 + x1 * x2 - x3**2) / (2 + x1 * x3)) < 1e-20  # degree (2, 2)
    assert screen(X, x1**2 * x2 + x3) > 1e-8  # degree 3: not within degree 2 ...
    assert screen(X, x1**2 * x2 + x3, degree=3) < 1e-20  # ... but within degree 3
    assert screen(X, np.exp(x1) * x2) > 1e-8
    assert screen(X, np.full(150, 2.5) + 1e-17 * x1) < 1e-12  # constant up to round-off: the var(z) floor
    assert screen(X, np.zeros(150)) == 0.0
    assert screen(X, np.where(x1 > 1, np.inf, x1)) == np.inf


def test_screen_score_is_relative_and_a_constant_fit_scores_about_one():
    rng = np.random.default_rng(9)
    X = rng.uniform(0.5, 2.0, (150, 1))
    noise = rng.normal(size=150)
    assert 0.5 < screen(X, noise) <= 1.0  # nothing to explain: about the variance
    assert screen(X, 1e6 * noise) == pytest.approx(screen(X, noise), rel=1e-9)  # scale-free


def test_screen_needs_enough_rows_and_a_valid_degree():
    X = np.random.default_rng(10).uniform(size=(40, 4))
    with pytest.raises(ValueError, match=r"needs at least 60 rows.*smaller degree"):
        screen(X, X[:, 0])
    assert screen(X, X[:, 0], degree=1) < 1e-20
    with pytest.raises(ValueError, match="degree"):
        screen(X, X[:, 0], degree=0)
    with pytest.raises(ValueError, match="one value per row"):
        screen(X, X[:5, 0], degree=1)


def test_screen_tolerates_a_repeated_or_constant_feature():
    rng = np.random.default_rng(11)
    x = rng.uniform(0.5, 2.0, 100)
    X = np.stack([x, x, np.ones(100)], axis=1)
    assert screen(X, 1 / (1 + x)) < 1e-20
    assert screen(X, np.exp(x)) > 1e-10


def test_round_off_scores_tie_and_keep_the_simplest_first():
    """y = 3/x is rational, and so are 1/y, y², y·x (constant) and y/x: all at round-off, ranked in the given order
    although their float64 round-off differs (1e-31 to 1e-18); log y = log 3 − log x is not rational."""
    X = np.linspace(1.0, 2.0, 40)[:, None]
    ranking = rank_transforms(target_transforms(X, 3 / X[:, 0], ["x"]), X)
    assert all(score <= TIE_SCORE for score, _ in ranking[:5])
    assert [T.name for _, T in ranking[:5]] == ["y", "1/y", "y**2", "x*y", "y/x"]
    assert next(score for score, T in ranking if T.name == "log(y)") > TIE_SCORE


def test_min_screen_rows_counts_the_coefficients():
    """P and Q of degree 2 in 4 features have C(6, 2) = 15 coefficients each: 30 unknowns, so 60 rows."""
    assert min_screen_rows(4) == 60 and min_screen_rows(1, degree=3) == 16
    X = np.random.default_rng(13).uniform(size=(59, 4))
    with pytest.raises(ValueError, match="at least 60 rows"):
        screen(X, X[:, 0])
    assert screen(X[:, :3][:40], X[:40, 0]) < 1e-20  # 3 features need 40


# -- the records ----------------------------------------------------------------------------------------------


def test_steps_and_transforms_validate_themselves():
    with pytest.raises(ValueError, match="unknown transform step"):
        TransformStep("sqrt")
    with pytest.raises(ValueError, match="sign"):
        TransformStep("log", sign=2)
    with pytest.raises(ValueError, match="needs feature"):
        TransformStep("times")
    with pytest.raises(ValueError, match="takes no feature"):
        TransformStep("log", feature="x")
    with pytest.raises(ValueError, match="nonzero"):
        TransformStep("exp", k=sp.Integer(0))
    with pytest.raises(ValueError, match="real nonzero SymPy number"):
        TransformStep("exp", k=sp.Symbol("k"))
    with pytest.raises(ValueError, match="takes no k"):
        TransformStep("log", k=sp.Integer(1))
    steps = (TransformStep("reciprocal"),) * 3
    with pytest.raises(ValueError, match="at most 2 steps"):
        TargetTransform("deep", np.ones(3), steps)
    with pytest.raises(ValueError, match="finite"):
        TargetTransform("bad", np.array([1.0, np.inf]), ())


def test_transform_values_are_read_only_and_compare_by_steps():
    X = np.linspace(1.0, 2.0, 40)[:, None]
    y = X[:, 0] ** 2
    T = TargetTransform.build((TransformStep("log"),), X, y, ["x"], "y")
    with pytest.raises(ValueError, match="read-only"):
        T.values[0] = 0.0
    np.testing.assert_allclose(T.values, 2 * np.log(X[:, 0]), rtol=1e-14)
    assert T == TargetTransform.build((TransformStep("log"),), X, 2 * y, ["x"], "y")  # same transform
    assert hash(T) == hash(TargetTransform.build((TransformStep("log"),), X, y, ["x"], "y"))


# -- derived features -----------------------------------------------------------------------------------------


def test_derived_features_with_units_keep_dimensionless_and_shared_units():
    """Features x [m], t [s], v [m/s], m1, m2 [kg]. By hand: x/t is m/s (v's units), x/v is s (t's), t·v is m (x's),
    m1/m2 is dimensionless; every other pair (x·t, x/m1, m1·m2, …) has units no third feature has."""
    rng = np.random.default_rng(12)
    names = ["x", "t", "v", "m1", "m2"]
    X = rng.uniform(0.5, 2.0, (30, 5))
    units = {"x": "m", "t": "s", "v": "m/s", "m1": "kg", "m2": "kg", "E": "kg m^2 s^-2"}
    derived = derived_features(X, names, units)
    assert [d.name for d in derived] == ["x_over_t", "x_over_v", "t_times_v", "m1_over_m2"]
    symbols = dict(zip(names, feature_symbols(names), strict=True))
    assert derived[0].expr == symbols["x"] / symbols["t"]
    np.testing.assert_allclose(derived[2].values, X[:, 1] * X[:, 2], rtol=1e-15)
    assert derived.skipped == ()
    # a candidate in derived features maps back into the features
    candidate = sp.Symbol("m1_over_m2", real=True) * sp.Symbol("x_over_t") ** 2
    assert substitute(candidate, derived) == symbols["m1"] * symbols["x"] ** 2 / (symbols["m2"] * symbols["t"] ** 2)


def test_derived_features_without_units_are_none_and_bad_ones_are_skipped():
    X = np.array([[1.0, 0.0, 2.0], [2.0, 1.0, 3.0]])
    assert list(derived_features(X, ["a", "b", "c"], None)) == []
    offered = derived_features(X, ["a", "b", "c"], {"a": "1", "b": "1", "c": "m"})
    assert [d.name for d in offered] == ["a_times_b"]
    assert offered.skipped == (("a_over_b", "not finite on every row"),)
    clash = derived_features(X, ["a", "b", "a_times_b"], {"a": "1", "b": "1", "a_times_b": "m"})
    assert ("a_times_b", "already a feature's name") in clash.skipped
    with pytest.raises(ValueError, match=r"missing for feature\(s\) \['c'\]"):
        derived_features(X, ["a", "b", "c"], {"a": "1", "b": "1"})
    assert substitute(sp.Symbol("q") + 1, [DerivedFeature("p", sp.Symbol("a"), np.ones(1))]) == sp.Symbol("q") + 1
