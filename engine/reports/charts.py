"""matplotlib charts rendered to inline SVG (text kept as text, deterministic ids), or to PNG for the PDF."""
from __future__ import annotations

import io
import re
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "anjian", "font.size": 9,
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


def bar(name: str, title: str, labels: list[str], series: dict[str, list[float | None]], ylabel: str = "",
        horizontal: bool = False, fmt: str = "svg") -> str | bytes:
    """Grouped bar chart as an SVG string (or PNG bytes with ``fmt="png"``)."""
    with _LOCK:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (label, values) in enumerate(series.items()):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(labels))]
            vals = [v or 0 for v in values]
            (ax.barh if horizontal else ax.bar)(xs, vals, width, label=label)
        if horizontal:
            ax.set_yticks(range(len(labels)), labels)
            ax.invert_yaxis()
            ax.set_xlabel(ylabel)
        else:
            ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0, ha="right"
                          if len(labels) > 6 else "center")
            ax.set_ylabel(ylabel)
        ax.set_title(title)
        if len(series) > 1:
            ax.legend(frameon=False)
        return _render(fig, name, fmt)


def lines(name: str, title: str, labels: list[str], series: dict[str, list[float | None]], ylabel: str = "",
          fmt: str = "svg") -> str | bytes:
    """Line chart (None values leave gaps) as an SVG string (or PNG bytes with ``fmt="png"``)."""
    with _LOCK:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        for label, values in series.items():
            ax.plot(range(len(labels)), [float("nan") if v is None else v for v in values], marker="o", label=label)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(frameon=False)
        return _render(fig, name, fmt)
