"""theory.checks: one module of input checks, scale-free tolerances, clear errors (issue 8, items 4 and 5)."""

import ast
import pathlib

import numpy as np
import pytest
import sympy as sp

from theory import AssumptionError
from theory.checks import as_matrix, as_times, check_balanced, check_whitened, check_zero_balanced
from theory.riccati import MatrixExp, qqt, qqt_from_product
from theory.riccati_checks import check_full_rank
from theory.riccati_fukumizu import qqt_fukumizu

W1 = np.array([[0.1, 0.0], [0.0, 0.2]])
W2 = np.array([[0.1, 0.0], [0.0, 0.2]])
SIGMA = np.diag([2.0, 1.0])


def test_no_function_is_defined_twice_in_theory():
    """DESIGN.md: no two functions share a name with different meanings (as_matrix, check_whitened and
    check_zero_balanced used to exist in both theory.checks and theory.riccati_checks with different signatures)."""
    seen: dict[str, str] = {}
    for path in sorted(pathlib.Path("theory").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                assert node.name not in seen, f"{node.name} defined in {seen.get(node.name)} and {path}"
                seen[node.name] = str(path)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_balance_and_rank_checks_are_scale_free(scale):
    # before: W1W1ᵀ overflowed to inf, inf − inf = NaN, and NaN > rtol is False, so the check passed silently
    check_zero_balanced(scale * W1, scale * W2)
    with pytest.raises(AssumptionError, match="balanced initialisation"):
        check_zero_balanced(scale * W1, 2 * scale * W2)
    with pytest.raises(AssumptionError, match="balanced initialisation"):
        check_balanced([scale * W1, scale * W2, 2 * scale * W2])
    check_full_rank(scale * np.diag([1.0, 0.5]))


def test_qqt_with_huge_weights_names_the_overflow_not_rank():
    with pytest.raises(ValueError, match=r"W2W1\(0\) = W2_0 @ W1_0 overflows float64.*scale-covariant"):
        qqt(1e200 * W1, 1e200 * W2, SIGMA, t=[0.0, 1.0])
    # the rescaling the message proposes is exact: c²·qqt(W/c, W/c, Σ/c², c²t) = qqt(W, W, Σ, t) at a safe c
    with pytest.raises(ValueError, match=r"QQᵀ\(0\) = Q0 Q0ᵀ overflows float64"):
        qqt_fukumizu(1e200 * W1, 1e200 * W2, SIGMA, t=[0.0, 1.0])
    c, t = 10.0, np.array([0.0, 0.3, 2.0])
    np.testing.assert_allclose(
        c**2 * qqt(W1, W2, SIGMA / c**2, t * c**2), qqt(c * W1, c * W2, SIGMA, t), rtol=1e-10, atol=1e-12
    )


def test_times_and_matrices_name_the_argument():
    with pytest.raises(TypeError, match=r"^t must be numbers.*'abc'"):
        qqt(W1, W2, SIGMA, t="abc")
    with pytest.raises(TypeError, match=r"^W1_0 must be numbers"):
        qqt("abc", W2, SIGMA, t=[0.0])
    with pytest.raises(TypeError, match=r"^tau must be"):
        as_times([0.0], "x")
    with pytest.raises(ValueError, match="tau must be a finite number > 0"):
        qqt_fukumizu(W1, W2, SIGMA, t=[0.0], tau=0.0)
    with pytest.raises(ValueError, match="t must contain finite times ≥ 0"):
        qqt_from_product(W2 @ W1, SIGMA, t=[-1.0])
    with pytest.raises(ValueError, match="must not be empty"):
        as_matrix(np.zeros((0, 2)), "X")
    with pytest.raises(ValueError, match=r"W has shape \(1, 2\); expected \(2, None\)"):
        as_matrix([[1.0, 2.0]], "W", shape=(2, None))


def test_one_tolerance_semantics_rtol():
    check_whitened(np.eye(2) + 5e-10)  # within WHITEN_RTOL = 1e-9
    with pytest.raises(AssumptionError, match="rtol = 1e-12"):
        check_whitened(np.eye(2) + 5e-10, rtol=1e-12)
    check_zero_balanced(W1, W2 * (1 + 1e-12))
    with pytest.raises(AssumptionError, match="rtol = 1e-14"):
        check_zero_balanced(W1, W2 * (1 + 1e-12), rtol=1e-14)


def test_matrix_exp_does_not_parse_strings():
    with pytest.raises(sp.SympifyError):
        MatrixExp("Matrix([[0, 1], [0, 0]])")
    assert MatrixExp(sp.Matrix([[0, 1], [0, 0]])).doit() == sp.Matrix([[1, 1], [0, 1]])
