"""The report's charts, drawn with matplotlib and returned as SVG text to inline.

Figures are made with matplotlib's object API (`Figure`, no pyplot), so no window, no global
backend switch and no state shared with a user's notebook; text stays text in the SVG
(`svg.fonttype: none`), so it is sharp in print and small on disk. Labels are code and
theme ids, which are ASCII by the codebook's rules, and numbers: transcript text never goes
into a chart. A missing glyph would still only log a warning, which is silenced here so that
a large run cannot flood the console. Output is deterministic (fixed hash salt, no date).
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import count
from typing import Any

import numpy as np

STYLE: Any = {  # matplotlib rcParams (typed Any: rc_context wants literal keys)
    "svg.fonttype": "none",
    "svg.hashsalt": "precode",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
}
# Colour-blind safe (Okabe-Ito), distinct in greyscale print when paired with the labels.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
_ids = count(1)


@contextmanager
def _quiet() -> Iterator[None]:
    logger = logging.getLogger("matplotlib")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_svg(fig: Any, title: str) -> str:
    """The figure as an `<svg>` element to inline: no XML prolog, ids made unique per figure
    (several inline SVGs share one id space), and a title for screen readers."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE), _quiet():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    prefix = f"f{next(_ids)}-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return svg.replace("<svg ", '<svg role="img" ', 1).replace(
        ">", f"><title>{safe_title}</title>", 1).strip()


def _theme_colours(themes: Sequence[str]) -> dict[str, str]:
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(dict.fromkeys(themes))}


def frequency_chart(codes: Sequence[str], segments: Sequence[int], sources: Sequence[int],
                    themes: Sequence[str], n_sources: int) -> str:
    """Segments and sources per code, side by side, coloured by theme (codebook order)."""
    import matplotlib

    with matplotlib.rc_context(STYLE), _quiet():
        height = max(2.4, 0.28 * len(codes) + 1.3)
        fig = _figure(9.5, height)
        left, right = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
        colours = _theme_colours(themes)
        y = np.arange(len(codes))
        bar_colours = [colours[t] for t in themes]
        left.barh(y, segments, color=bar_colours)
        right.barh(y, sources, color=bar_colours)
        left.set_yticks(y, list(codes))
        left.invert_yaxis()
        for ax, values, title in ((left, segments, "Segments with the code"),
                                  (right, sources, f"Sources with the code (of {n_sources})")):
            ax.set_title(title, loc="left")
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
            ax.set_axisbelow(True)
            top = max(values) if len(values) and max(values) else 1
            ax.set_xlim(0, top * 1.15)
            for yi, v in zip(y, values, strict=True):
                ax.text(v + top * 0.01, yi, str(v), va="center", fontsize=8)
        right.set_xlim(0, max(n_sources, 1) * 1.12)
        from matplotlib.patches import Patch

        handles = [Patch(color=c, label=t) for t, c in colours.items()]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)),
                   frameon=False, title="theme")
        return to_svg(fig, "Code frequency: segments and sources per code")


def heatmap(matrix: np.ndarray, codes: Sequence[str], title: str, unit: str) -> str:
    """A code co-occurrence heatmap; the diagonal (each code with itself) is left blank."""
    import matplotlib

    n = len(codes)
    with matplotlib.rc_context(STYLE), _quiet():
        side = min(11.0, max(4.0, 0.36 * n + 2.6))
        fig = _figure(side + 0.8, side)
        ax = fig.subplots()
        shown = matrix.astype(float).copy()
        np.fill_diagonal(shown, np.nan)
        cmap = matplotlib.colormaps["Blues"].copy()
        cmap.set_bad("#eeeeee")
        top = np.nanmax(shown) if n > 1 and np.isfinite(np.nanmax(shown)) else 1.0
        image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=max(top, 1.0))
        ax.set_xticks(range(n), list(codes), rotation=60, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(n), list(codes))
        ax.spines[:].set_visible(False)
        ax.set_title(title, loc="left")
        if n <= 24:
            for i in range(n):
                for j in range(n):
                    if i != j and matrix[i, j]:
                        dark = shown[i, j] > 0.6 * top
                        ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center",
                                fontsize=7, color="white" if dark else "#222222")
        from matplotlib.ticker import MaxNLocator

        bar = fig.colorbar(image, ax=ax, shrink=0.6)
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
        bar.set_label(f"{unit} with both codes")
        return to_svg(fig, f"Code co-occurrence {title.lower()}")


def threshold_curve(rows: Sequence[Mapping[str, Any]], run_threshold: float | None) -> str:
    """Precision, recall and F1 (micro) per threshold, from evaluation.json's sweep."""
    import matplotlib

    def series(key: str) -> list[float]:
        return [np.nan if r.get(key) is None else float(r[key]) for r in rows]

    with matplotlib.rc_context(STYLE), _quiet():
        fig = _figure(6.4, 3.6)
        ax = fig.subplots()
        x = [float(r["threshold"]) for r in rows]
        for key, name, style in (("micro_precision", "precision", "-o"),
                                 ("micro_recall", "recall", "-s"),
                                 ("micro_f1", "F1 (micro)", "-^")):
            ax.plot(x, series(key), style, markersize=4, linewidth=1.6, label=name)
        if run_threshold is not None:
            ax.axvline(float(run_threshold), color="#888888", linestyle="--", linewidth=1)
            ax.text(float(run_threshold), 1.02, " run threshold", fontsize=8, color="#555555",
                    transform=ax.get_xaxis_transform())
        ax.set_xlabel("threshold (calibrated score)")
        ax.set_ylim(0, 1.05)
        ax.grid(color="#dddddd", linewidth=0.6)
        ax.legend(frameon=False, loc="best")
        return to_svg(fig, "Precision, recall and F1 by threshold")


def review_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    """Per code: suggestions confirmed, not confirmed and not yet reviewed, plus codes added."""
    import matplotlib

    with matplotlib.rc_context(STYLE), _quiet():
        codes = [r["code"] for r in rows]
        fig = _figure(8.0, max(2.4, 0.26 * len(codes) + 1.4))
        ax = fig.subplots()
        y = np.arange(len(codes))
        left = np.zeros(len(codes))
        for key, name, colour, hatch in (("confirmed", "confirmed", "#009E73", ""),
                                         ("not_confirmed", "not confirmed", "#D55E00", "//"),
                                         ("pending", "not reviewed", "#cccccc", ""),
                                         ("added", "added in review", "#0072B2", "..")):
            values = np.array([r[key] for r in rows], dtype=float)
            ax.barh(y, values, left=left, color=colour, hatch=hatch, label=name,
                    edgecolor="white", linewidth=0.5)
            left += values
        ax.set_yticks(y, codes)
        ax.invert_yaxis()
        ax.set_xlabel("segments")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.legend(loc="outside lower center", ncols=4, frameon=False)
        return to_svg(fig, "Review progress per code")
