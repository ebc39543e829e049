"""matplotlib charts rendered to inline SVG (text kept as text, deterministic ids), or to PNG for the PDF."""
from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

# Chinese text (titles, area and department names) is drawn with the platform's own subset of Noto Sans CJK
# SC, the fallback of matplotlib's DejaVu Sans glyph by glyph: an air-gapped machine with only Python has no
# CJK font, and the PDF's PNG charts would show empty boxes. (The SVG keeps text as text; a browser uses
# its own fonts first.)
CJK_FONT = Path(__file__).with_name("fonts") / "AnjianSansSC-Regular.otf"
font_manager.fontManager.addfont(str(CJK_FONT))
plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "anjian", "font.size": 9,
                     "font.family": ["DejaVu Sans", "Anjian Sans SC"],
                     "axes.spines.top": False, "axes.spines.right": False})
_LOCK = threading.Lock()  # pyplot's figure manager is not thread-safe
_HEADER = re.compile(r"^.*?(<svg\b)", re.S)


def _svg(fig, name: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = _HEADER.sub(r"\1", buf.getvalue(), count=1)
    return text.replace("<svg ", f'<svg data-chart="{name}" role="img" ', 1)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _render(fig, name: str, fmt: str):
    return _png(fig) if fmt == "png" else _svg(fig, name)


FLAG = "#d4380d"    # a flagged group: red where the test says the rate is higher than the rest
PLAIN = "#1677ff"
MUTED = "#8c8c8c"


def bar(name: str, title: str, labels: list[str], series: dict[str, list[float | None]], ylabel: str = "",
        horizontal: bool = False, fmt: str = "svg", highlight: list[bool] | None = None,
        reference: tuple[float, str] | None = None) -> str | bytes:
    """Bar chart as an SVG string (or PNG bytes with ``fmt="png"``), one measure on its axis.

    Several ``series`` are grouped bars of the same measure. ``highlight`` marks bars (of a single
    series) drawn in red (flagged groups), ``reference`` draws a dashed line at a value with its
    label (the plant average the groups are compared with).
    """
    with _LOCK:
        fig, ax = plt.subplots(figsize=(6.4, 3.2 if not horizontal else max(3.2, 0.3 * len(labels) + 1.0)))
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (label, values) in enumerate(series.items()):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(labels))]
            vals = [v or 0 for v in values]
            kw = {}
            if highlight is not None and n == 1:
                kw["color"] = [FLAG if h else PLAIN for h in highlight]
            (ax.barh if horizontal else ax.bar)(xs, vals, width, label=label, **kw)
        if reference is not None and reference[0] is not None:
            value, text = reference
            (ax.axvline if horizontal else ax.axhline)(value, color=MUTED, linestyle="--", linewidth=1.2, label=text)
        if horizontal:
            ax.set_yticks(range(len(labels)), labels)
            ax.invert_yaxis()
            ax.set_xlabel(ylabel)
        else:
            ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0, ha="right"
                          if len(labels) > 6 else "center")
            ax.set_ylabel(ylabel)
        ax.set_title(title)
        handles, names = ax.get_legend_handles_labels()
        if highlight is not None and n == 1:
            # the bars' own legend entry takes the first bar's colour, which may be the flag's: say both
            from matplotlib.patches import Patch

            keep = [(h, t) for h, t in zip(handles, names) if t not in series]
            handles = [Patch(color=PLAIN)] + [h for h, _ in keep]
            names = [next(iter(series))] + [t for _, t in keep]
            if any(highlight):
                handles.append(Patch(color=FLAG))
                names.append("显著偏高 flagged (significant)")
        if len(handles) > 1 or reference is not None:  # beside the plot: never over a bar
            ax.legend(handles, names, frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _render(fig, name, fmt)


def panels(name: str, title: str, labels: list[str], measures: list[tuple[str, list[float | None], str]],
           fmt: str = "svg", highlight: list[bool] | None = None) -> str | bytes:
    """Side-by-side bar charts over the same groups, one measure per axis: ``measures`` is
    ``[(panel title, values, axis label)]`` (a count and a duration never share an axis)."""
    # More groups than fit side by side under a bar (their names would overlap): bars across, the groups
    # named once on the left, as the horizontal bar charts do.
    across = len(labels) > 6
    with _LOCK:
        size = (3.4 * len(measures), max(3.0, 0.28 * len(labels) + 1.2)) if across else (3.4 * len(measures), 3.0)
        fig, axes = plt.subplots(1, len(measures), figsize=size, squeeze=False, sharey=across)
        for ax, (sub, values, unit) in zip(axes[0], measures):
            colors = [FLAG if h else PLAIN for h in highlight] if highlight else PLAIN
            if across:
                ax.barh(range(len(labels)), [v or 0 for v in values], 0.7, color=colors)
                ax.set_yticks(range(len(labels)), labels)
                ax.set_xlabel(unit)
            else:
                ax.bar(range(len(labels)), [v or 0 for v in values], 0.7, color=colors)
                ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 4 else 0,
                              ha="right" if len(labels) > 4 else "center")
                ax.set_ylabel(unit)
            ax.set_title(sub, fontsize=9)
        if across:
            axes[0][0].invert_yaxis()  # the first group at the top, as it is listed
        fig.suptitle(title)
        fig.tight_layout()
        return _render(fig, name, fmt)


def lines(name: str, title: str, labels: list[str], series: dict[str, list[float | None]], ylabel: str = "",
          fmt: str = "svg", percent: bool = False) -> str | bytes:
    """Line chart (None values leave gaps) as an SVG string (or PNG bytes with ``fmt="png"``); every
    series is the same measure (``percent``: shares 0–1 shown as 0–100 %)."""
    with _LOCK:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        for label, values in series.items():
            ax.plot(range(len(labels)), [float("nan") if v is None else v for v in values], marker="o", label=label)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        if percent:
            from matplotlib.ticker import PercentFormatter

            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:  # a count drawn from zero: a dip from 150 to 95 must not look like a fall to nothing
            ax.set_ylim(bottom=0)
        ax.set_title(title)
        if len(series) > 1:
            ax.legend(frameon=False)
        return _render(fig, name, fmt)
