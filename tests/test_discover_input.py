"""Tests of the checks `discover` runs on its table before any engine starts (`discover.checks`): each bad table
gets one clear error naming the column and the fix, and nothing from the engines reaches stdout or stderr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import discover
from discover import MAX_MAGNITUDE, MIN_MAGNITUDE, Budget

# PySR is included on purpose: it is not installed here, so a ValueError (not BackendUnavailable) from it shows
# that the check ran before any engine was loaded.
ALL_BACKENDS = ["sindy", "operon", "pysr"]


def logistic_table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"u": rng.uniform(0.05, 2.0, rows), "s": rng.uniform(0.5, 3.0, rows)})
    table["du"] = 2 * table.u * (table.s - table.u)
    return table


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return logistic_table()


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_huge_values_are_refused_by_column_without_lapack_noise(
    table: pd.DataFrame, backend: str, capfd: pytest.CaptureFixture[str]
) -> None:
    # Before the check, SINDy on this table failed inside LAPACK (LinAlgError, with "DLASCL" lines on stderr).
    with pytest.raises(ValueError, match=r"column 'u' reaches \|value\| = 1\.99e\+200.*rescale the column"):
        discover.discover(table * 1e200, "du", backend=backend, budget=Budget.quick())
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_tiny_values_are_refused_by_column(table: pd.DataFrame, backend: str) -> None:
    with pytest.raises(ValueError, match=r"column 'u' has \|value\| ≤ 1\.99e-30, below 1\.1e-19.*rescale"):
        discover.discover(table * 1e-30, "du", backend=backend, budget=Budget.quick())


def test_the_magnitude_bounds_are_derived_from_float32() -> None:
    f32 = np.finfo(np.float32)
    # A product of two columns, and a squared residual (up to twice the largest value), stay finite in float32 …
    assert np.isfinite(np.float32(2 * MAX_MAGNITUDE) ** 2)
    # … and a product of two columns at the lower bound stays a normal float32.
    assert np.float32(MIN_MAGNITUDE) ** 2 >= f32.smallest_normal
    assert MAX_MAGNITUDE == pytest.approx(9.22e18, rel=1e-3) and MIN_MAGNITUDE == pytest.approx(1.08e-19, rel=1e-2)


def test_the_bounds_are_inclusive_and_zero_columns_pass(table: pd.DataFrame) -> None:
    # Just inside the upper bound the table is searched; just outside it is refused.
    inside = table.assign(s=table.s / table.s.abs().max() * MAX_MAGNITUDE)
    assert discover.discover(inside, "du", backend="sindy", library=("poly", 2)).pareto
    outside = table.assign(s=table.s / table.s.abs().max() * MAX_MAGNITUDE * 1.01)
    with pytest.raises(ValueError, match="column 's' reaches"):
        discover.discover(outside, "du", backend="sindy", library=("poly", 2))
    # An all-zero feature has no scale to judge: it is accepted (the target is what must vary).
    assert discover.discover(table.assign(z=0.0), "du", backend="sindy", library=("poly", 2)).pareto


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize(("value", "shown"), [(0.0, "0"), (3.0, "3"), (-1.25e-3, "-0.00125")])
def test_a_constant_target_is_named_as_such(table: pd.DataFrame, backend: str, value: float, shown: str) -> None:
    message = f"target 'du' is constant (= {shown}) over all 200 rows: there is nothing to regress; check the column"
    with pytest.raises(ValueError) as info:
        discover.discover(table.assign(du=value), "du", backend=backend, budget=Budget.quick())
    assert str(info.value) == message


def test_non_finite_values_count_the_rows(table: pd.DataFrame) -> None:
    broken = table.copy()
    broken.loc[[3, 50, 199], "u"] = [np.nan, np.inf, -np.inf]
    with pytest.raises(ValueError, match=r"column 'u' has 3 non-finite value\(s\) \(NaN or ±inf\) in 200 rows"):
        discover.discover(broken, "du", backend="sindy")


def test_sindy_names_library_terms_that_overflow(table: pd.DataFrame, capfd: pytest.CaptureFixture[str]) -> None:
    # Columns of size 1e18 are within the range, but their 20th powers (1e360) overflow float64.
    large = table * 1e18
    with pytest.raises(ValueError, match=r"library term\(s\) u\*\*17, .* \(78 in all\) are not finite"):
        discover.discover(large, "du", backend="sindy", library=("poly", 20))
    assert capfd.readouterr() == ("", "")


def test_public_api_imports() -> None:
    from discover import Discovery
    from discover import discover as run

    assert run.__module__ == "discover.discovery" and Discovery.__module__ == "discover.discovery"
    missing = [name for name in discover.__all__ if not hasattr(discover, name)]
    assert missing == []
    assert {"discover", "Discovery", "Candidate", "Budget", "ProgressEvent", "BACKENDS"} <= set(discover.__all__)
