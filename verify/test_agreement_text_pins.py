"""What an `Agreement` prints: one row per step size, or a refusal when its rows do not line up.

`Agreement` is also built by hand (verify/suite/riccati.py assembles one from its own measurements); its printed form
pairs each η with its error and tolerance, so evidence whose tuples have different lengths must be refused rather
than printed with rows silently dropped.
"""

from __future__ import annotations

import pytest

from verify.agreement import Agreement


def _evidence(etas, errors, tolerances) -> Agreement:
    return Agreement(tuple(etas), tuple(errors), tuple(errors), tuple(tolerances), None, None, 0.15, ())


def test_agreement_prints_one_row_per_step_size():
    text = str(_evidence((0.1, 0.05), (0.02, 0.01), (0.04, 0.02)))
    assert text == "PASS: max|err| η=0.1: 0.02 (tol 0.04), η=0.05: 0.01 (tol 0.02)"


@pytest.mark.parametrize(
    ("etas", "errors", "tolerances"),
    [
        ((0.1, 0.05), (0.02,), (0.04,)),  # an η without its error and tolerance
        ((0.1,), (0.02, 0.01), (0.04, 0.02)),  # errors and tolerances without their η
    ],
)
def test_agreement_with_rows_that_do_not_line_up_is_refused_when_printed(etas, errors, tolerances):
    evidence = _evidence(etas, errors, tolerances)
    with pytest.raises(ValueError, match=r"zip\(\) argument \d is (shorter|longer) than argument"):
        str(evidence)
