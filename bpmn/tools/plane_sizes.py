"""One table of the library's planes: how large each is at 1:1 and whether it fits a laptop.

Every plane of a diagram (the process's own and each collapsed sub-process's, as bpmn-js shows them
when a designer drills down) is measured by ``engine/layout_check.py`` — the same measure the layout
test applies (``LAPTOP`` 1366 x 768 at zoom >= ``MIN_ZOOM`` 0.7):

    .venv/bin/python bpmn/tools/plane_sizes.py bpmn/*.bpmn

prints the markdown table that bpmn/README.md carries under "Checked" (a test compares them).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.layout_check import LAPTOP, MIN_ZOOM, layout_figures  # noqa: E402

HEADER = (f"| diagram | plane | width × height at 1:1 (px) | largest zoom that fits {LAPTOP[0]} × {LAPTOP[1]} "
          f"| flows | labels crossed |\n|---|---|---|---|---|---|")


def plane_rows(paths) -> list[tuple[str, str, str, int, int, float, int, int]]:
    """(diagram, plane id, plane name, width, height, zoom, flows, labels crossed) per plane, in the
    order of the files and of the planes in each file."""
    rows = []
    for path in sorted(Path(p) for p in paths):
        for plane in layout_figures(path).planes:
            rows.append((path.stem, plane.element, plane.name, round(plane.width), round(plane.height),
                         plane.zoom, plane.flows, plane.labels_crossed))
    return rows


def plane_table(paths) -> str:
    """The markdown table of ``plane_rows`` (a zoom below ``MIN_ZOOM`` is marked as not fitting)."""
    lines = [HEADER]
    for diagram, element, name, w, h, zoom, flows, crossed in plane_rows(paths):
        fits = f"{zoom:.2f}" if zoom >= MIN_ZOOM else f"**{zoom:.2f}** (below {MIN_ZOOM})"
        plane = f"`{element}` {name}" if element != diagram else f"`{element}` {name} (process)"
        lines.append(f"| `{diagram}` | {plane} | {w} × {h} | {fits} | {flows} | {crossed} |")
    return "\n".join(lines)


if __name__ == "__main__":
    args = sys.argv[1:] or sorted(str(p) for p in (ROOT / "bpmn").glob("*.bpmn"))
    print(plane_table(args))
