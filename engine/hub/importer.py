"""Reading bulk-import files (CSV, JSON, Excel) into rows for :meth:`HubService.upsert`.

* CSV: UTF-8 (a BOM is fine), first line the field names.
* JSON: a list of objects, or ``{"rows": [...]}``; JSON Lines (``.jsonl``) one object a line.
* Excel (``.xlsx``/``.xlsm``, read with openpyxl): the first sheet (or ``sheet``), first row the
  field names; empty rows are skipped.

Each reader yields ``(row_number, dict)`` where the number is what a person
finds in the file: the line in CSV/JSONL, the sheet row in Excel, the
position (1-based) in a JSON list.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from engine.errors import Invalid

FORMATS = ("csv", "json", "jsonl", "xlsx")


def detect_format(name: str) -> str:
    """The format from a file name's suffix (422 for anything else)."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("xlsm",):
        suffix = "xlsx"
    if suffix not in FORMATS:
        raise Invalid(f"cannot import '{name}'", errors=[{"field": "file", "message":
                                                          f"unsupported type '.{suffix}': use {list(FORMATS)}"}])
    return suffix


def read_rows(data: bytes, fmt: str, *, sheet: str | None = None) -> tuple[list[tuple[int, dict]], int]:
    """All rows of a file as ``[(row_number, row)]`` plus the number of rows (for a progress bar)."""
    if fmt == "csv":
        rows = _csv(data)
    elif fmt == "json":
        rows = _json(data)
    elif fmt == "jsonl":
        rows = _jsonl(data)
    elif fmt == "xlsx":
        rows = _xlsx(data, sheet)
    else:
        raise Invalid("unsupported format", errors=[{"field": "format", "message": f"one of {list(FORMATS)}"}])
    return rows, len(rows)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text",
                      errors=[{"field": "file", "message": f"not UTF-8 at byte {exc.start}"}]) from None


def _csv(data: bytes) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(_text(data), newline=""))
    if not reader.fieldnames:
        raise Invalid("empty CSV file", errors=[{"field": "file", "message": "no header line"}])
    out = []
    for row in reader:
        if None in row:  # more cells than header names
            extra = row.pop(None)
            row["(extra cells)"] = extra
        if all((v is None or str(v).strip() == "") for v in row.values()):
            continue
        out.append((reader.line_num, {k.strip(): v for k, v in row.items() if k is not None}))
    return out


def _json(data: bytes) -> list[tuple[int, dict]]:
    try:
        doc = json.loads(_text(data))
    except json.JSONDecodeError as exc:
        raise Invalid("invalid JSON", errors=[{"field": "file", "message": f"line {exc.lineno}: {exc.msg}"}]) from None
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        doc = doc["rows"]
    if not isinstance(doc, list):
        raise Invalid("JSON import needs a list of records",
                      errors=[{"field": "file", "message": "expected a list or {\"rows\": [...]}"}])
    return [(i, row) for i, row in enumerate(doc, start=1)]


def _jsonl(data: bytes) -> list[tuple[int, dict]]:
    out = []
    for i, line in enumerate(_text(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((i, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((i, f"invalid JSON: {exc.msg}"))  # validate_row reports it as a bad row
    return out


def _xlsx(data: bytes, sheet: str | None) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise Invalid("not a readable Excel workbook",
                      errors=[{"field": "file", "message": f"{type(exc).__name__}: {exc}"}]) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise Invalid("no such sheet", errors=[{"field": "sheet", "message": f"one of {wb.sheetnames}"}])
        ws = wb[sheet] if sheet else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if not header or all(h is None for h in header):
            raise Invalid("empty sheet", errors=[{"field": "file", "message": "no header row"}])
        names = [str(h).strip() if h is not None else "" for h in header]
        out = []
        for number, values in enumerate(it, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            row = {}
            for name, value in zip(names, values):
                if name:
                    row[name] = value
            out.append((number, row))
        return out
    finally:
        wb.close()


def upsert_file(hub, kind: str, name: str, data: bytes, *, sheet: str | None = None, batch_size: int = 500,
                source: str = "import", on_total=None, progress=None):
    """Read a file and upsert its rows; the report numbers rejected rows as they are in the file."""
    fmt = detect_format(name)
    rows, total = read_rows(data, fmt, sheet=sheet)
    if on_total:
        on_total(total)
    numbers = [n for n, _ in rows]
    report = hub.upsert(kind, (r for _, r in rows), source=source, batch_size=batch_size, progress=progress)
    for rej in report.rejected:  # upsert numbered rows 1..n; give the file's numbers back
        rej["row"] = numbers[rej["row"] - 1]
        if "duplicate_of" in rej:
            rej["duplicate_of"] = [numbers[n - 1] for n in rej["duplicate_of"]]
            for err in rej["errors"]:
                if err.get("rule") == "duplicate_key":
                    err["message"] = (f"same {err['field']} as line {', '.join(map(str, rej['duplicate_of']))} "
                                      f"of this file: keep one of them")
    return report
