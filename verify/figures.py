"""Report figures as PNG bytes: theory (dashed) over simulation or numerics, and error against η on log-log axes.

Pure functions from evidence to bytes; the CLI writes them. Every figure is drawn inside one fixed rc context
(matplotlib's defaults, DejaVu Sans — which ships inside matplotlib — fixed size, dpi and hash salt) so that
a user's matplotlibrc or a system font cannot change it; PNGs carry no software, version or date metadata; a
glyph that DejaVu Sans lacks is an error (font fallback differs between machines); and every text must lie
inside the figure (long titles are wrapped). The same evidence therefore gives the same bytes.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.agreement import Agreement

__all__ = [
    "RC",
    "SOURCES",
    "Curves",
    "Window",
    "curves_from_agreement",
    "error_vs_eta_png",
    "figure_name",
    "text_outside_figure",
    "theory_vs_simulation_png",
]

# what the solid curves of a figure are: GD runs ("simulation") or a closed form / numerical solution that no
# training produced ("numerics"); the figure's file name says which (`figure_name`)
SOURCES = ("simulation", "numerics")

RC: dict[str, Any] = {
    "font.family": ["DejaVu Sans"],  # one family, no fallback list: the glyphs drawn do not depend on the machine
    "mathtext.fontset": "dejavusans",
    "svg.hashsalt": "lawbook",  # fixed ids if a figure is ever saved as SVG
    "path.simplify": True,  # matplotlib's default, stated so that a matplotlibrc cannot change it
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": None,  # the figure size is the PNG size: no "tight" cropping that depends on text extents
    "figure.figsize": (6.4, 4.0),
    "text.usetex": False,  # TeX output depends on the TeX installation
    "axes.unicode_minus": True,
    "text.hinting": "force_autohint",  # matplotlib's default hinting, stated for the same reason as path.simplify
}

# PNG text chunks a figure may carry: none. ``metadata={"Software": None}`` drops the one matplotlib writes.
_PNG_METADATA = {"Software": None}


@dataclass(frozen=True)
class Window:
    """An x-range where the compared law is claimed to hold: shaded and labelled ``inside``; ``outside`` labels
    the rest of the axis (where the figure shows the law is not claimed)."""

    lo: float
    hi: float
    inside: str
    outside: str = ""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"a Window needs finite lo < hi, got lo={self.lo!r}, hi={self.hi!r}")
        if not self.inside:
            raise ValueError("a Window needs an `inside` label saying what is claimed there")


@dataclass(frozen=True)
class Curves:
    """Curves for a theory-vs-simulation (or theory-vs-numerics) figure.

    ``simulated`` is a list of (label, t, values (T, k)) drawn solid, ``theory`` one (t, values (T, k)) or None
    drawn dashed on top; ``source`` says what the solid curves are (one of `SOURCES`); ``columns`` names the k
    columns (e.g. ``"s = 2"``), written beside each curve's end; ``residuals`` (label, t, simulated − theory)
    are drawn in a panel below; ``window`` shades where the law is claimed to hold; ``logy`` for quantities that
    live at round-off; ``markers`` marks each solid curve's points (for a few measured points, not a trajectory); ``errorbars`` gives,
    per solid curve, the half-widths of its points' intervals (e.g. 2 standard errors of a Monte Carlo mean).

    >>> t = np.linspace(0, 1, 5)
    >>> c = Curves("title", "t", "u", (("GD", t, t[:, None]),), (t, t[:, None]), columns=("s = 1",))
    >>> c.source
    'simulation'
    """

    title: str
    xlabel: str
    ylabel: str
    simulated: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    theory: tuple[np.ndarray, np.ndarray] | None = None
    logy: bool = False
    theory_label: str = "theory"
    source: str = "simulation"
    columns: tuple[str, ...] = ()
    residuals: tuple[tuple[str, np.ndarray, np.ndarray], ...] = ()
    residual_label: str = "GD − law"
    window: Window | None = None
    markers: bool = False
    errorbars: tuple[np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        if self.errorbars and (
            len(self.errorbars) != len(self.simulated)
            or any(np.shape(e) != np.shape(v) for e, (_, _, v) in zip(self.errorbars, self.simulated, strict=False))
        ):
            raise ValueError("Curves.errorbars needs one array per solid curve, shaped like that curve's values")
        if self.source not in SOURCES:
            raise ValueError(f"Curves.source must be one of {SOURCES} (what the solid curves are), got {self.source!r}")
        if not self.simulated:
            raise ValueError("Curves needs at least one solid curve in `simulated`")
        widths = {np.asarray(v).reshape(len(t), -1).shape[1] for _, t, v in self.simulated}
        if self.columns and widths != {len(self.columns)}:
            raise ValueError(
                f"Curves.columns names {len(self.columns)} columns but the curves have {sorted(widths)}: "
                "give one label per column, or none"
            )


def curves_from_agreement(
    agreement: Agreement, title: str, ylabel: str, xlabel: str = "t / τ", columns: Sequence[str] = ()
) -> Curves:
    """GD curves at every η (solid), the law at the smallest η's times (dashed), and each η's GD − law below
    (each against the law at its own times, so no interpolation enters the residual)."""
    if not agreement.series:
        raise ValueError("curves_from_agreement needs an agreement that kept its series (the GD curves)")
    sims = tuple((f"GD η = {s.eta:g}", s.t, s.simulated) for s in agreement.series)
    residuals = tuple((f"η = {s.eta:g}", s.t, np.asarray(s.simulated) - np.asarray(s.theory)) for s in agreement.series)
    finest = min(agreement.series, key=lambda s: s.eta)
    return Curves(
        title,
        xlabel,
        ylabel,
        sims,
        (finest.t, finest.theory),
        theory_label="law",
        columns=tuple(columns),
        residuals=residuals,
    )


def figure_name(law_name: str, curves: Curves) -> str:
    """The file name of a law's curves figure: it says what the solid curves are.

    >>> t = np.zeros(2)
    >>> figure_name("small_init_sigmoid", Curves("", "", "", (("eq. 15", t, t),), source="numerics"))
    'small_init_sigmoid_theory_vs_numerics.png'
    """
    return f"{law_name}_theory_vs_{curves.source}.png"


@contextmanager
def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # "default" first: matplotlib's own defaults, whatever the user's matplotlibrc says; then lawbook's pins
    with plt.style.context("default"), matplotlib.rc_context(RC), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield plt
    missing = sorted({str(w.message) for w in caught if "missing from font" in str(w.message)})
    if missing:
        raise ValueError(f"figure text uses glyphs DejaVu Sans lacks ({'; '.join(missing)}): write them differently")
    for w in caught:  # anything else keeps its usual treatment (pytest turns it into an error)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def text_outside_figure(fig: Any) -> list[str]:
    """The texts of ``fig`` (titles, labels, legends, annotations, drawn tick labels) that leave the figure.

    Tick labels are judged through their axes' tight box, which holds only the ticks inside the view limits
    (matplotlib keeps labels of ticks beyond the limits, visible but not drawn).
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox

    def outside(e: Any) -> bool:
        # half a pixel: antialiased glyph edges may touch the border without being cut
        return e.x0 < box.x0 - 0.5 or e.y0 < box.y0 - 0.5 or e.x1 > box.x1 + 0.5 or e.y1 > box.y1 + 0.5

    ticks = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks()
        for label in (tick.label1, tick.label2)
    }
    out = []
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if id(text) in ticks or not text.get_visible() or not text.get_text():
            continue
        if outside(text.get_window_extent(renderer)):
            out.append(text.get_text())
    out += [f"tick labels of axes {i}" for i, ax in enumerate(fig.axes) if outside(ax.get_tightbbox(renderer))]
    return out


def _fit_title(fig: Any, ax: Any, title: str) -> None:
    """Set ``title`` wrapped at the longest line width (in characters) that keeps it inside the figure once the
    layout is tightened (the title is centred on the axes, which move with the layout)."""
    renderer = fig.canvas.get_renderer()
    width = len(title)
    while True:
        ax.set_title(textwrap.fill(title, width) if width < len(title) else title)
        fig.tight_layout()
        e = ax.title.get_window_extent(renderer)
        if (e.x0 >= fig.bbox.x0 and e.x1 <= fig.bbox.x1) or width <= 20:
            return  # fits, or cannot be wrapped sensibly further: `_png` then refuses the figure by name
        width = max(20, int(width * 0.9))


def _png(fig: Any, plt: Any) -> bytes:
    outside = text_outside_figure(fig)
    if outside:
        plt.close(fig)
        raise ValueError(f"figure text does not fit the figure: {outside}; shorten or wrap it")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=_PNG_METADATA)
    plt.close(fig)
    return buf.getvalue()


def _label_columns(ax: Any, t: np.ndarray, v: np.ndarray, columns: Sequence[str]) -> None:
    """Write each column's label right of its curve's last point (the x range is widened to make room), unless the
    curves end close together (spread under half their largest): then above-right of where they are furthest apart."""
    spread = np.ptp(v, axis=1)
    k = len(t) - 1 if spread[-1] >= 0.5 * spread.max() else int(np.argmax(spread))
    at_end = k == len(t) - 1
    for j, label in enumerate(columns):
        offset = (4, 0) if at_end else (6, 4)
        ax.annotate(label, (t[k], v[k, j]), xytext=offset, textcoords="offset points", va="center", fontsize=8)
    if at_end:
        lo, hi = float(np.min(t)), float(np.max(t))
        ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.12 * (hi - lo))


def theory_vs_simulation_png(curves: Curves) -> bytes:
    """The solid curves (thick and light, one colour per run) with the law thin, dashed and black on top, so
    both stay visible where they agree; a residual panel below when ``curves.residuals`` is given."""
    with _style() as plt:
        if curves.residuals:
            fig, (ax, rax) = plt.subplots(
                2, 1, figsize=(6.4, 5.2), sharex=True, gridspec_kw={"height_ratios": (3, 1.3)}
            )
        else:
            fig, ax = plt.subplots(figsize=(6.4, 4.0))
            rax = None
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        if curves.window is not None:
            w = curves.window
            ax.axvspan(w.lo, w.hi, color="tab:green", alpha=0.12, lw=0, label=w.inside)
            if w.outside:
                ax.text(
                    0.98, 0.04, w.outside, transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="dimgrey"
                )
        for i, (label, t, values) in enumerate(curves.simulated):
            v = np.asarray(values).reshape(len(t), -1)
            for j in range(v.shape[1]):
                style = {"marker": "o", "ms": 7, "lw": 1.0} if curves.markers else {"lw": 3.0, "alpha": 0.45}
                ax.plot(t, v[:, j], color=colours[i % len(colours)], label=label if j == 0 else None, **style)
                if curves.errorbars:
                    half = np.asarray(curves.errorbars[i]).reshape(len(t), -1)[:, j]
                    ax.errorbar(t, v[:, j], yerr=half, fmt="none", ecolor=colours[i % len(colours)], capsize=3)
        if curves.theory is not None:
            t, values = curves.theory
            v = np.asarray(values).reshape(len(t), -1)
            for j in range(v.shape[1]):
                ax.plot(t, v[:, j], "k--", lw=0.9, label=curves.theory_label if j == 0 else None)
        if curves.columns:
            t, values = curves.theory if curves.theory is not None else curves.simulated[0][1:]
            _label_columns(ax, np.asarray(t), np.asarray(values).reshape(len(t), -1), curves.columns)
        if curves.logy:
            ax.set_yscale("log")
        ax.set(ylabel=curves.ylabel)
        ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)
        last = ax
        if rax is not None:
            for i, (label, t, values) in enumerate(curves.residuals):
                v = np.asarray(values).reshape(len(t), -1)
                for j in range(v.shape[1]):
                    rax.plot(t, v[:, j], color=colours[i % len(colours)], lw=1.0, label=label if j == 0 else None)
            rax.axhline(0.0, color="k", lw=0.6)
            rax.set(ylabel=curves.residual_label)
            rax.grid(alpha=0.3)
            last = rax
        last.set(xlabel=curves.xlabel)
        _fit_title(fig, ax, curves.title)
        return _png(fig, plt)


def error_vs_eta_png(agreement: Agreement, title: str) -> bytes:
    """Max abs error against η (log-log) with the tolerance and the fitted power law."""
    eta = np.asarray(agreement.etas)
    err = np.asarray(agreement.max_abs_error)
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(5.0, 3.8))
        ax.loglog(eta, err, "o-", label="max |GD − theory|")
        ax.loglog(eta, agreement.tolerance, "s:", color="grey", label="tolerance")
        if agreement.order is not None:
            c = np.exp(np.mean(np.log(err) - agreement.order * np.log(eta)))
            grid = np.geomspace(eta.min(), eta.max(), 20)
            ax.loglog(grid, c * grid**agreement.order, "k--", lw=1, label=f"fit: order {agreement.order:.3f}")
        ax.set(xlabel="η", ylabel="max abs error")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
        _fit_title(fig, ax, title)
        return _png(fig, plt)


def pick(evidence: Sequence[dict], key: str) -> object | None:
    """The first evidence entry holding ``key``."""
    for e in evidence:
        if key in e:
            return e[key]
    return None
