"""Null-space preservation (LAWS.md §7.1-7.2)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.regression import nullspace_projector, shallow_limit
from verify.conftest import law_checks


@pytest.mark.parametrize(("law_name", "name"), law_checks("nullspace_preservation"))
def test_registered_checks(law_name, name, assert_check):
    assert_check(law_name, name)


@given(seed=st.integers(0, 10_000), d=st.integers(3, 10), r=st.integers(1, 3), k=st.integers(1, 4))
def test_shallow_limit_fits_range_and_keeps_nullspace(seed, d, r, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(d, r)) @ rng.normal(size=(r, 2 * d))
    Y = rng.normal(size=(k, d)) @ X
    A0 = rng.normal(size=(k, d))
    A = shallow_limit(X, Y, A0)
    Q = nullspace_projector(X)
    # Q is a projector with XᵀQ = 0; residuals are round-off of pinv on well-conditioned draws (≲ 1e-10)
    np.testing.assert_allclose(Q @ Q, Q, atol=1e-9)
    np.testing.assert_allclose(X.T @ Q, 0, atol=1e-9 * np.abs(X).max())
    np.testing.assert_allclose(A @ Q, A0 @ Q, atol=1e-9)
    np.testing.assert_allclose(A @ X, Y, atol=1e-8 * max(1.0, np.abs(Y).max()))


def test_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        shallow_limit(np.ones((3, 4)), np.ones((2, 5)), np.ones((2, 3)))
