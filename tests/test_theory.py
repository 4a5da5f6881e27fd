"""Unit tests of the theory core: registry, Law record, numeric compilation, validation."""

import numpy as np
import pytest
import sympy as sp

from theory import LAWS, AssumptionError, Law, get_law
from theory.checks import check_balanced, check_whitened


def test_registry_and_unknown_law():
    for name in ("logistic_mode", "depth_mode", "forgetting_task_distance", "layer_balance", "nullspace_preservation"):
        assert get_law(name).name == name
    with pytest.raises(KeyError, match=r"known laws: .*logistic_mode"):
        get_law("logistc_mode")


@pytest.mark.parametrize("law", list(LAWS.values()), ids=list(LAWS))
def test_every_law_is_complete(law):
    assert law.title and law.regime and law.source and law.assumptions
    for eq in law.equations:
        assert isinstance(eq, sp.Equality)
        assert isinstance(eq.lhs, (sp.Symbol, sp.Derivative, sp.MatrixSymbol, sp.MatMul))
    for name, (lo, hi) in law.domain.items():
        assert lo < hi and name in law.symbols


def test_equation_left_sides():
    logistic = get_law("logistic_mode")
    assert isinstance(logistic.equation.lhs, sp.Derivative)
    assert logistic.solution.lhs.func.__name__ == "u"


def test_numeric_is_cached_and_checks_arguments():
    law = get_law("logistic_mode")
    assert law.compiled() is law.compiled()
    assert law.compiled("solution", "mpmath") is not law.compiled("solution", "numpy")
    with pytest.raises(TypeError, match="missing"):
        law.numeric(t=1.0, s=1.0)
    with pytest.raises(TypeError, match="unexpected"):
        law.numeric(t=1.0, tau=1.0, s=1.0, u0=0.1, x=3)
    with pytest.raises(KeyError, match="no target"):
        law.numeric("nope", t=1.0)
    with pytest.raises(ValueError, match="backend"):
        law.compiled(backend="jax")


def test_numeric_broadcasts_arrays():
    law = get_law("logistic_mode")
    out = law.numeric(t=np.linspace(0, 1, 5), tau=1.0, s=np.array([[1.0], [2.0]]), u0=0.01)
    assert out.shape == (2, 5)


def test_law_validates_itself():
    s = sp.Symbol("s")
    with pytest.raises(TypeError, match=r"sympy\.Eq"):
        Law("x", "x", s, {"s": s}, (), "", "", {})
    with pytest.raises(ValueError, match="domain"):
        Law("x", "x", sp.Eq(s, 1), {"s": s}, (), "", "", {"q": (0.0, 1.0)})
    with pytest.raises(ValueError, match="finite interval"):
        Law("x", "x", sp.Eq(s, 1), {"s": s}, (), "", "", {"s": (1.0, 0.0)})


def test_assumption_checks():
    check_whitened(np.eye(3))
    with pytest.raises(AssumptionError, match="whiten"):
        check_whitened(np.eye(3) * 1.01)
    with pytest.raises(AssumptionError, match="balanced initialisation"):
        check_balanced([np.ones((2, 2)), 2 * np.ones((2, 2))])
    with pytest.raises(ValueError, match="NaN"):
        check_whitened(np.full((2, 2), np.nan))
    assert issubclass(AssumptionError, ValueError)


def test_theory_imports_nothing_of_the_other_packages():
    """Data flows one way (DESIGN.md): importing theory must not import simulate, discover, verify or torch."""
    import subprocess
    import sys

    code = "import sys, theory; print(sorted({m.split('.')[0] for m in sys.modules} & {'simulate', 'discover', 'verify', 'torch'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
