"""Law's construction guards and backend choice: the errors a law author reads and the type a caller gets back."""

import dataclasses

import pytest
import sympy as sp

from theory import get_law


def test_equation_that_is_not_an_eq_is_refused_naming_its_type():
    law = get_law("logistic_mode")
    with pytest.raises(TypeError, match=r"equation must be a sympy\.Eq, got Symbol"):
        dataclasses.replace(law, equation=sp.Symbol("x"))


def test_symbol_key_differing_from_its_name_is_refused_naming_both():
    law = get_law("logistic_mode")
    symbols = dict(law.symbols)
    symbols["zz"] = sp.Symbol("yy")
    with pytest.raises(ValueError, match=r"symbol key 'zz' differs from its name yy"):
        dataclasses.replace(law, symbols=symbols)


def test_empty_domain_interval_lo_equal_hi_is_refused():
    law = get_law("logistic_mode")
    name = next(iter(law.domain))
    domain = dict(law.domain)
    domain[name] = (1.0, 1.0)
    with pytest.raises(ValueError, match=r"must be a finite interval lo < hi"):
        dataclasses.replace(law, domain=domain)


def test_numeric_with_mpmath_backend_returns_an_mpmath_number():
    mpmath = pytest.importorskip("mpmath")
    law = get_law("logistic_mode")
    out = law.numeric(backend="mpmath", t=0.0, tau=1.0, s=2.0, u0=0.01)
    assert isinstance(out, mpmath.mpf)
    assert float(out) == pytest.approx(0.01)


def test_symbol_entry_that_is_not_a_symbol_is_refused_as_a_mismatch():
    law = get_law("logistic_mode")
    symbols = dict(law.symbols)
    symbols["zz"] = 3.0
    with pytest.raises(ValueError, match=r"symbol key 'zz' differs from its name 3\.0"):
        dataclasses.replace(law, symbols=symbols)
