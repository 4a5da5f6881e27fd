"""Weight decay on the inputs' null space (theory.weight_decay): the registered checks, the law's symbolic limits,
and `nullspace_factor` against the recursions derived independently by eliminating the momentum buffer."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import AssumptionError, get_law
from theory.regression import nullspace_projector
from theory.weight_decay import nullspace_factor, predicted_nullspace
from verify.conftest import law_checks

LAW = get_law("nullspace_weight_decay")
S = LAW.symbols


@pytest.mark.parametrize(("law_name", "name"), law_checks("nullspace_weight_decay"))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


def test_no_decay_is_nullspace_preservation():
    """λ = 0 turns the first-layer equation into nullspace_preservation's W1(t)Q_x = W1(0)Q_x, and the shallow one
    into A_kQ_x = A_0Q_x."""
    keep = get_law("nullspace_preservation").equations[1]
    first, shallow = (eq.subs(S["lam"], 0).doit() for eq in LAW.equations)
    assert first.xreplace({S["W1_k"]: keep.lhs.args[0]}) == keep
    assert shallow == sp.Eq(S["A_k"] * S["Q_x"], S["A_0"] * S["Q_x"])
    assert LAW.equations[0].subs(S["lam"], sp.Rational(1, 10)).doit() != first  # λ > 0 changes it


def test_gd_factor_tends_to_the_flow_form():
    """(1 − ηλ)^{t/η} → e^{−λt} as η → 0 (τ = 1), and its first-order gap is −ηλ²t/2·e^{−λt} (the regime)."""
    eta, lam, t = S["eta"], S["lam"], S["t"]
    gd = LAW.derived["factor"].subs(S["k"], t / eta)
    flow = LAW.derived["flow_factor"].subs(S["tau"], 1)
    assert sp.simplify(sp.limit(gd, eta, 0) - flow) == 0
    gap = sp.series(sp.log(gd) - sp.log(flow), eta, 0, 2).removeO()
    assert sp.simplify(gap + eta * lam**2 * t / 2) == 0


@given(
    eta=st.floats(1e-3, 0.5),
    lam=st.floats(0.0, 1.9),
    mu=st.floats(0.0, 0.95),
    n=st.integers(1, 60),
)
def test_momentum_factor_matches_the_eliminated_recursions(eta, lam, mu, n):
    """Heavy ball: x_{k+1} = (1 + μ − ηλ)x_k − μx_{k−1}, x_{−1} = x_0; Nesterov: x_{k+1} = (1 + μ − ηλ(1 + μ))x_k
    − μ(1 − ηλ)x_{k−1}, x_1 = 1 − ηλ(1 + μ) (module docstring's derivation, eliminating the buffer)."""
    ks = np.arange(n + 1)
    heavy, nest = [1.0], [1.0, 1 - eta * lam * (1 + mu)]
    prev = 1.0
    for _ in range(n):
        heavy.append((1 + mu - eta * lam) * heavy[-1] - mu * prev)
        prev = heavy[-2]
    for _ in range(n - 1):
        nest.append((1 + mu - eta * lam * (1 + mu)) * nest[-1] - mu * (1 - eta * lam) * nest[-2])
    # both sides are O(1) sums of n ≤ 60 terms with |x| ≤ ~1 for these ranges: round-off ≲ 1e-13
    np.testing.assert_allclose(nullspace_factor(ks, eta, lam, momentum=mu), heavy, rtol=0, atol=1e-10)
    if mu > 0:
        got = nullspace_factor(ks, eta, lam, momentum=mu, nesterov=True)
        np.testing.assert_allclose(got, nest[: n + 1], rtol=0, atol=1e-10)
    # decoupled decay with momentum, and λ = 0 with anything: the plain factor
    np.testing.assert_allclose(
        nullspace_factor(ks, eta, lam, momentum=mu, decoupled=True), (1 - eta * lam) ** ks, rtol=1e-12
    )
    assert np.all(nullspace_factor(ks, eta, 0.0, momentum=mu) == 1.0)


def test_factor_agrees_with_the_law_numeric():
    ks = np.array([0, 1, 7, 300])
    np.testing.assert_allclose(
        nullspace_factor(ks, 0.01, 0.5), LAW.numeric("factor", k=ks, eta=0.01, lam=0.5), rtol=1e-14
    )


def test_predicted_nullspace():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 9))
    W = rng.normal(size=(4, 6))
    pred = predicted_nullspace(W, X, [0, 3], eta=0.1, lam=1.0)
    Q = nullspace_projector(X)
    assert pred.shape == (2, 4, 6)
    np.testing.assert_allclose(pred[1], 0.9**3 * W @ Q, rtol=0, atol=1e-14)
    np.testing.assert_allclose(pred[0] @ X, 0, atol=1e-12)  # the null-space action never meets the data


def test_assumptions_refuse_adam_and_coupled_momentum():
    with pytest.raises(AssumptionError, match="Adam"):
        LAW.check(optimizer="adam")
    with pytest.raises(AssumptionError, match="heavy-ball"):
        LAW.check(optimizer="sgd", momentum=0.9)
    LAW.check(optimizer="sgd", momentum=0.9, decoupled=True)  # SGDW keeps (1 − ηλ)^k
    LAW.check(optimizer="gd")
    with pytest.raises(ValueError, match="unknown optimizer"):
        LAW.check(optimizer="lbfgs")


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([-1], 0.1, 0.5), {}, ValueError, "non-negative whole"),
        (([1.5], 0.1, 0.5), {}, ValueError, "non-negative whole"),
        (([np.nan], 0.1, 0.5), {}, ValueError, "non-negative whole"),
        (([[1, 2]], 0.1, 0.5), {}, ValueError, "1-D"),
        (([1], 0.0, 0.5), {}, AssumptionError, "eta > 0"),
        (([1], 0.1, -0.5), {}, AssumptionError, "lam ≥ 0"),
        (([1], 0.1, 0.5), {"momentum": 1.0}, AssumptionError, r"\[0, 1\)"),
        (([1], 0.1, float("inf")), {}, ValueError, "finite"),
        (([1], 0.1, 0.5), {"nesterov": True}, ValueError, "momentum > 0"),
    ],
)
def test_factor_bad_inputs(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        nullspace_factor(*args, **kwargs)


def test_numeric_refuses_negative_decay_and_shapes():
    with pytest.raises(AssumptionError, match="lam"):
        LAW.numeric("factor", k=1, eta=0.1, lam=-1.0)
    with pytest.raises(ValueError, match="shape"):
        predicted_nullspace(np.ones((2, 5)), np.ones((4, 3)), [0], eta=0.1, lam=0.1)
