"""Report figures as PNG bytes: theory (dashed) over simulation, and error against η on log-log axes.

Pure functions from evidence to bytes; the CLI writes them. PNGs carry no timestamp or version metadata, so the
same evidence gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verify.agreement import Agreement

__all__ = ["Curves", "curves_from_agreement", "error_vs_eta_png", "theory_vs_simulation_png"]


@dataclass(frozen=True)
class Curves:
    """Curves for a theory-vs-simulation figure. ``simulated`` is a list of (label, t, values (T, k)) and
    ``theory`` one (t, values (T, k)) or None; ``logy`` for quantities that live at round-off."""

    title: str
    xlabel: str
    ylabel: str
    simulated: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    theory: tuple[np.ndarray, np.ndarray] | None = None
    logy: bool = False
    theory_label: str = "theory"


def curves_from_agreement(agreement: Agreement, title: str, ylabel: str, xlabel: str = "t / τ") -> Curves:
    """GD curves at every η (solid) and the law at the smallest η's times (dashed)."""
    sims = tuple((f"GD η = {s.eta:g}", s.t, s.simulated) for s in agreement.series)
    finest = min(agreement.series, key=lambda s: s.eta)
    return Curves(title, xlabel, ylabel, sims, (finest.t, finest.theory))


def _png(fig: object) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(fig)  # type: ignore[arg-type]
    return buf.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def theory_vs_simulation_png(curves: Curves) -> bytes:
    """Simulated curves (solid, one colour per run) with the law dashed in black on top."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, t, values) in enumerate(curves.simulated):
        v = np.asarray(values).reshape(len(t), -1)
        for j in range(v.shape[1]):
            ax.plot(t, v[:, j], color=colours[i % len(colours)], lw=1.6, alpha=0.8, label=label if j == 0 else None)
    if curves.theory is not None:
        t, values = curves.theory
        v = np.asarray(values).reshape(len(t), -1)
        for j in range(v.shape[1]):
            ax.plot(t, v[:, j], "k--", lw=1.2, label=curves.theory_label if j == 0 else None)
    if curves.logy:
        ax.set_yscale("log")
    ax.set(title=curves.title, xlabel=curves.xlabel, ylabel=curves.ylabel)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def error_vs_eta_png(agreement: Agreement, title: str) -> bytes:
    """Max abs error against η (log-log) with the tolerance and the fitted power law."""
    plt = _pyplot()
    eta = np.asarray(agreement.etas)
    err = np.asarray(agreement.max_abs_error)
    fig, ax = plt.subplots(figsize=(5.0, 3.8))
    ax.loglog(eta, err, "o-", label="max |GD − theory|")
    ax.loglog(eta, agreement.tolerance, "s:", color="grey", label="tolerance")
    if agreement.order is not None:
        c = np.exp(np.mean(np.log(err) - agreement.order * np.log(eta)))
        grid = np.geomspace(eta.min(), eta.max(), 20)
        ax.loglog(grid, c * grid**agreement.order, "k--", lw=1, label=f"fit: order {agreement.order:.3f}")
    ax.set(title=title, xlabel="η", ylabel="max abs error")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return _png(fig)


def pick(evidence: Sequence[dict], key: str) -> object | None:
    """The first evidence entry holding ``key``."""
    for e in evidence:
        if key in e:
            return e[key]
    return None
