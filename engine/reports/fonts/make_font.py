"""Rebuild ``AnjianSansSC-Regular.otf``: the simplified-Chinese glyphs the report's charts draw with.

Plants are air-gapped and a machine with only Python has no CJK font, so matplotlib would draw every
Chinese character of a chart (titles, area and department names) as an empty box in the PDF's PNGs.
The platform ships this subset of Noto Sans CJK SC instead: every character of GB 2312 (the 6,763
hanzi of everyday use and its symbols), the CJK and full-width punctuation, and a few unit signs; about
1.5 MB. Latin text keeps matplotlib's DejaVu Sans; this font is its fallback (engine/reports/charts.py).

The subset is a Modified Version under the SIL Open Font License 1.1 (OFL.txt beside it) and is renamed,
as the licence asks of modified fonts. Run on a machine with Debian's fonts-noto-cjk::

    .venv/bin/python engine/reports/fonts/make_font.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

FAMILY = "Anjian Sans SC"
OUT = Path(__file__).with_name("AnjianSansSC-Regular.otf")
SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def gb2312() -> set[str]:
    """Every character GB 2312 encodes (rows 1–9 symbols, 16–87 hanzi)."""
    chars = set()
    for hi in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def characters() -> str:
    chars = gb2312()
    chars |= {chr(c) for c in range(0x3000, 0x3040)}   # CJK punctuation
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}   # full-width forms
    chars |= set("℃㎡㎥³²±×÷≤≥‰·—…“”‘’")
    return "".join(sorted(chars))


def main(source: str = SOURCE) -> None:
    collection = TTCollection(source)
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    options = subset.Options()
    options.layout_features = []  # matplotlib shapes no OpenType features; they would double the size
    options.name_IDs = [0, 13, 14]  # copyright and licence; the names are ours (below)
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    names = font["name"]
    for name_id, value in ((1, FAMILY), (2, "Regular"), (3, f"{FAMILY} Regular (Noto Sans CJK SC subset)"),
                           (4, f"{FAMILY} Regular"), (6, "AnjianSansSC-Regular")):
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    font["CFF "].cff.fontNames = ["AnjianSansSC-Regular"]
    font.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(characters()):,} characters)")


if __name__ == "__main__":
    main(*sys.argv[1:])
