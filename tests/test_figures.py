"""Report figures: same evidence, same bytes; no PNG metadata; text inside the figure; what the curves are;
and round-off errors printed as '< floor'."""

import re
import struct
import zlib

import numpy as np
import pytest

from verify.agreement import agreement
from verify.figures import (
    Curves,
    Window,
    curves_from_agreement,
    error_vs_eta_png,
    figure_name,
    text_outside_figure,
    theory_vs_simulation_png,
)
from verify.numbers import error_text, roundoff_floor
from verify.report import curves_for, figures_for
from verify.suite import Check

# chunks a PNG must have or may have without carrying text: header, palette/transparency, physical size, data, end
ALLOWED_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"pHYs", b"IDAT", b"IEND"}


def _chunks(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out, i = [], 8
    while i < len(png):
        (n,) = struct.unpack(">I", png[i : i + 4])
        kind = png[i + 4 : i + 8]
        assert zlib.crc32(png[i + 4 : i + 8 + n]) == struct.unpack(">I", png[i + 8 + n : i + 12 + n])[0]
        out.append(kind)
        i += 12 + n
    return out


def _agreement():
    def theory(t):
        return np.stack([np.tanh(t[:, 0]), 2 * np.tanh(t[:, 1])], axis=1)

    def simulate(eta):
        t = np.repeat(np.arange(0, 2 + eta / 2, eta)[:, None], 2, axis=1)
        return t, theory(t) + eta * np.sin(t)  # an O(η) error, like GD against its flow

    return agreement(theory, simulate, (0.02, 0.01, 0.005), tolerance=lambda eta: 2 * eta)


def _curves(title="u against t", **kw):
    t = np.linspace(0, 4, 50)
    v = np.stack([np.tanh(t), 2 * np.tanh(t)], axis=1)
    return Curves(title, "t / τ", "u", (("GD η = 0.01", t, v + 0.01),), (t, v), **kw)


def test_same_curves_same_bytes_and_no_text_chunks():
    curves = _curves(columns=("s = 1", "s = 2"), window=Window(0.0, 1.5, "claimed here", "not claimed"))
    a, b = theory_vs_simulation_png(curves), theory_vs_simulation_png(curves)
    assert a == b
    assert set(_chunks(a)) <= ALLOWED_CHUNKS, f"unexpected chunks {set(_chunks(a)) - ALLOWED_CHUNKS}"
    agr = _agreement()
    c, d = error_vs_eta_png(agr, "error against η"), error_vs_eta_png(agr, "error against η")
    assert c == d and set(_chunks(c)) <= ALLOWED_CHUNKS


def test_user_rc_settings_do_not_change_the_bytes():
    import matplotlib

    curves = _curves()
    plain = theory_vs_simulation_png(curves)
    with matplotlib.rc_context({"font.size": 20, "lines.linewidth": 5, "figure.dpi": 50, "font.family": "serif"}):
        assert theory_vs_simulation_png(curves) == plain


def test_long_title_is_wrapped_to_fit():
    title = "a title far longer than one line of a 6.4 inch figure can hold, " * 3
    png = theory_vs_simulation_png(_curves(title.strip()))
    assert len(png) > 1000  # rendered: `_png` refuses a figure whose text leaves it


def test_text_outside_figure_finds_a_cut_title():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_title("x" * 200)
    try:
        assert text_outside_figure(fig) == ["x" * 200, "tick labels of axes 0"]
        ax.set_title("short")
        assert text_outside_figure(fig) == []
    finally:
        plt.close(fig)


def test_missing_glyph_is_an_error():
    with pytest.raises(ValueError, match="DejaVu Sans lacks"):
        theory_vs_simulation_png(_curves("\N{CJK UNIFIED IDEOGRAPH-6C34} u"))


def test_curves_are_checked():
    t = np.zeros(3)
    with pytest.raises(ValueError, match="source must be one of"):
        Curves("", "", "", (("a", t, t),), source="theory")
    with pytest.raises(ValueError, match="one label per column"):
        Curves("", "", "", (("a", t, np.zeros((3, 2))),), columns=("s = 1",))
    with pytest.raises(ValueError, match="lo < hi"):
        Window(1.0, 0.0, "claimed")
    with pytest.raises(ValueError, match="errorbars needs one array per solid curve"):
        Curves("", "", "", (("a", t, t),), errorbars=(np.zeros(4),))


def test_errorbars_are_drawn():
    t = np.linspace(0.0, 1.0, 4)
    plain = theory_vs_simulation_png(Curves("mean", "α", "F", (("MC", t, t),), (t, t), markers=True))
    barred = theory_vs_simulation_png(
        Curves("mean", "α", "F", (("MC", t, t),), (t, t), markers=True, errorbars=(np.full(4, 0.2),))
    )
    assert barred.startswith(b"\x89PNG") and barred != plain


def test_residuals_are_gd_minus_law_at_each_eta():
    agr = _agreement()
    curves = curves_from_agreement(agr, "t", "u", columns=("s = 1", "s = 2"))
    assert [label for label, _, _ in curves.residuals] == ["η = 0.02", "η = 0.01", "η = 0.005"]
    for (_, t, r), s in zip(curves.residuals, agr.series, strict=True):
        np.testing.assert_array_equal(t, s.t)
        np.testing.assert_array_equal(r, s.simulated - s.theory)
        assert np.max(np.abs(r)) <= s.eta  # the O(η) error put in by `_agreement`


def _check(name, passed=True, **evidence):
    return Check("law", name, passed, "summary", evidence)


def test_figure_names_say_what_the_curves_are():
    t = np.linspace(0, 1, 5)
    numerics = Curves("numerics", "t", "u", (("eq. 15", t, t),), (t, t), source="numerics")
    checks = [
        _check("closed_form", curves=numerics),
        _check("gd", agreement=_agreement(), columns=("s = 1", "s = 2")),
    ]
    names = [name for name, _, _ in figures_for("law", checks)]
    assert names == ["law_theory_vs_simulation.png", "law_theory_vs_numerics.png", "law_error_vs_eta.png"]
    assert curves_for("law", checks[:1]) is None  # numerics are not a simulation
    assert curves_for("law", checks).columns == ("s = 1", "s = 2")
    assert figure_name("x", numerics) == "x_theory_vs_numerics.png"


def test_every_further_check_with_curves_gets_a_figure_named_for_the_check():
    t = np.linspace(0, 1, 5)
    trajectory = Curves("trajectory", "t", "u", (("GD", t, t[:, None]),), (t, t[:, None]))
    kernel = Curves("kernel", "t", "S", (("GD", t, t[:, None]),), (t, t[:, None]))
    numerics = Curves("numerics", "t", "u", (("eq. 15", t, t),), (t, t), source="numerics")
    checks = [
        _check("gd", curves=trajectory),
        _check("closed_form", curves=numerics),
        _check("kernel_distance", curves=kernel),
    ]
    figures = figures_for("law", checks)
    assert [name for name, _, _ in figures] == [
        "law_theory_vs_simulation.png",
        "law_theory_vs_numerics.png",
        "law_kernel_distance.png",
    ]
    assert [caption for _, caption, _ in figures] == ["trajectory", "numerics", "kernel"]


def test_logistic_mode_evidence_labels_each_curve_by_s():
    from verify.suite import run_check

    c = run_check("logistic_mode", "gd_agreement", seed=0)
    assert curves_for("logistic_mode", [c]).columns == ("s = 3", "s = 2", "s = 1")


def test_error_text_shows_round_off_below_its_floor():
    assert error_text(3.9e-14, floor=1e-12) == error_text(7.4e-14, floor=1e-12) == "< 1e-12"
    assert error_text(0.0057213, floor=1e-13, digits=3) == "0.00572"
    assert error_text(1.26e-12, floor=1e-12) == "1.3e-12"
    assert error_text(float("nan"), floor=1e-12) == "nan"
    assert roundoff_floor(100) == 1e-13
    with pytest.raises(ValueError, match="floor must be"):
        error_text(1e-14, floor=0.0)
    with pytest.raises(ValueError, match="digits"):
        error_text(1e-14, floor=1e-13, digits=17)
    with pytest.raises(TypeError, match="real number"):
        error_text("1e-14", floor=1e-13)
    with pytest.raises(ValueError, match="ops"):
        roundoff_floor(0)


# fast checks whose summaries used to print round-off digits (e.g. 3.9e-14 here, 7.4e-14 on another machine)
ROUNDOFF_CHECKS = [
    ("nullspace_preservation", "shallow_limit"),
    ("nullspace_preservation", "deep_first_layer"),
    ("forgetting_task_distance", "continual_3_tasks"),
    ("forgetting_task_distance", "loss_identity_along_trajectory"),
    ("layer_balance", "gd_per_step_drift"),
    ("riccati_limits", "theorem_3_2_limits"),
    ("decoupling_2x2", "agrees_with_theorem_3_1"),
    ("reversal_saddle", "aligned_solution_collapses"),
    ("coupling_peak_time", "exact_and_published_vs_numeric_peak"),
    ("fukumizu_qqt", "agrees_with_theorem_3_1"),
]
# a measured number below 1e-12 (not a stated floor "< 1e-13", tolerance "tol 1e-13" or "limit 1e-15")
ROUNDOFF_NUMBER = re.compile(r"(?<!< )(?<!tol )(?<!limit )(?<![\d.])\d(?:\.\d+)?e-(?:1[3-9]|[2-9]\d)")


@pytest.mark.parametrize(("law", "name"), ROUNDOFF_CHECKS)
def test_summaries_print_no_round_off_digits(law, name):
    from verify.suite import run_check

    summary = run_check(law, name, seed=0).summary
    assert not ROUNDOFF_NUMBER.findall(summary), summary
    assert "< 1e-" in summary or "< 1.5e-" in summary  # the floor the round-off is below is stated


def test_refusal_summary_quotes_no_round_off_singular_value():
    from verify.suite import run_check

    check = run_check("reversal_saddle", "theorem_3_1_refuses_reversal", seed=0)
    assert check.passed and not ROUNDOFF_NUMBER.findall(check.summary), check.summary
    assert "σ_min(B) = " in check.evidence["messages"][0]  # the full message is kept in the evidence


def test_round_off_figure_is_the_same_whatever_the_thread_count():
    """The null-space drift is pure round-off (the law says 0): its digits change with BLAS summation order, so the
    figure draws it clipped at its stated floor. Before that clip, 1 and 2 torch threads gave different PNGs."""
    import hashlib

    import torch

    from verify.report import figures_for
    from verify.suite import run_check

    before = torch.get_num_threads()
    digests = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            check = run_check("nullspace_preservation", "deep_first_layer", 0)
            digests.append([hashlib.sha256(render()).hexdigest() for _, _, render in figures_for("x", [check])])
    finally:
        torch.set_num_threads(before)
    assert digests[0] and digests[0] == digests[1]
