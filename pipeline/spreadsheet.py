"""Spreadsheets for review: one row per segment, its suggestions, and empty columns to fill in.

Columns (`COLUMNS`, in this order; the same in CSV and in the `segments` sheet of the XLSX).
Written by precode:

    segment_id   the segment's id (`<source id>:<start>-<end>`)
    source       the source's name
    start, end   code-point offsets into the source's text
    speaker, role
    text         the segment's text
    codes        suggested code ids, best first, `; `-separated
    code_names   their names, in the same order
    scores       their scores (3 decimals), in the same order
    top_score    the best score, as a number to sort and filter by (empty: no suggestion)
    confirmed    codes already confirmed by decisions, as `code_id (coder)`

Left empty for the reviewer (`REVIEW_COLUMNS`):

    accept       code ids that apply, or `x` / `all` for every suggested code
    reject       code ids that do not apply, or `x` / `all`
    relabel      code ids (not among the suggestions) that apply instead
    coder        the reviewer's name
    note         free text

Lists in a cell are separated by `;`, `,` or spaces. `read_sheet` reads a filled-in sheet back
(CSV or XLSX) into `SheetRow`s; turning them into decisions is the review stage's job.
The XLSX also has a `codes` sheet listing the codebook, so reviewers can look ids up.
CSV is written as UTF-8 with a BOM, so Excel shows Chinese and accented text correctly, and
text cells that Excel would run as a formula (starting with `= + - @`) get a leading `'`.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import (
    CodebookError,
    InputNotFoundError,
    RunFolderError,
    UnsupportedFormatError,
)
from pipeline.records import Codebook
from pipeline.run_folder import atomic_write
from pipeline.run_folder.decisions import confirmed
from pipeline.run_folder.suggestions import FORMULA_START, SuggestionLine, safe_cell
from pipeline.run_folder.view import ExportResult, RunView, load_run

COLUMNS = ("segment_id", "source", "start", "end", "speaker", "role", "text", "codes",
           "code_names", "scores", "top_score", "confirmed", "accept", "reject", "relabel",
           "coder", "note")
REVIEW_COLUMNS = ("accept", "reject", "relabel", "coder", "note")
ALL_SUGGESTED = ("x", "all", "*")
_SPLIT = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class SheetRow:
    """A row read back from a review sheet; `line` is its row number (the header is 1)."""

    line: int
    segment_id: str
    codes: tuple[str, ...]
    accept: tuple[str, ...]
    reject: tuple[str, ...]
    relabel: tuple[str, ...]
    coder: str
    note: str
    marked_all: tuple[str, ...] = ()  # the columns (accept, reject) that said `x` / `all`


def sheet_rows(view: RunView, include: str = "both", min_score: float = 0.0,
               ) -> list[dict[str, Any]]:
    """The rows of the review sheet, as dicts keyed by `COLUMNS`."""
    names = {code.id: code.name for _, code in view.codebook.codes()}
    source_names = {s.id: s.name for s in view.sources}
    suggested: dict[str, list[SuggestionLine]] = {}
    if include in ("suggestions", "both"):
        for line in view.suggestions:
            if line.code is not None and line.score >= min_score:
                suggested.setdefault(line.segment_id, []).append(line)
    done: dict[str, list[str]] = {}
    if include in ("decisions", "both"):
        for decision in confirmed(view.decisions):
            done.setdefault(decision.segment_id, []).append(
                f"{decision.code_id} ({decision.coder})")

    base: dict[str, dict[str, Any]] = {}
    for segment in view.segments:
        base[segment.id] = {"segment_id": segment.id,
                            "source": source_names.get(segment.source_id, segment.source_id),
                            "start": segment.start, "end": segment.end,
                            "speaker": segment.speaker, "role": segment.role,
                            "text": segment.text}
    for line in view.suggestions:
        base.setdefault(line.segment_id, {"segment_id": line.segment_id, "source": line.source,
                                          "start": line.start, "end": line.end,
                                          "speaker": line.speaker, "role": line.role,
                                          "text": line.text})
    rows = []
    for segment_id, row in base.items():
        lines = sorted(suggested.get(segment_id, []), key=lambda s: (s.rank, -s.score))
        codes = [s.code for s in lines if s.code is not None]
        rows.append({
            **row,
            "codes": "; ".join(codes),
            "code_names": "; ".join(names.get(c, c) for c in codes),
            "scores": "; ".join(f"{s.score:.3f}" for s in lines),
            "top_score": round(max(s.score for s in lines), 3) if lines else None,
            "confirmed": "; ".join(done.get(segment_id, [])),
            **dict.fromkeys(REVIEW_COLUMNS, ""),
        })
    return rows


def export_sheet(run: str | Path, out: Path, fmt: str, include: str = "both",
                 min_score: float = 0.0) -> ExportResult:
    """Write the review sheet of `run` to `out` as csv or xlsx, atomically."""
    view = load_run(run)
    warnings = []
    if not view.segments and not view.suggestions:
        raise RunFolderError("the run has neither segments.jsonl nor suggestions.jsonl",
                             path=view.folder.path,
                             hint=f"run `precode segment {run}` (and `precode suggest`) first")
    if not view.suggestions and include != "decisions":
        warnings.append("the run has no suggestions.jsonl yet: the sheet lists segments only")
    rows = sheet_rows(view, include, min_score)
    if fmt == "csv":
        _write_csv(rows, out)
    else:
        _write_xlsx(rows, view.codebook, out)
    counts = {"rows": len(rows),
              "suggestions": sum(len(r["codes"].split("; ")) for r in rows if r["codes"])}
    return ExportResult(out, fmt, counts, warnings)


def _safe_cell(value: Any) -> Any:
    return safe_cell(value)


def _unescape(value: str) -> str:
    """Undo `safe_cell` for a cell read back (an id that began with a formula character)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _write_csv(rows: list[dict[str, Any]], out: Path) -> None:
    with atomic_write(out) as fh:
        fh.write("\ufeff")
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else _safe_cell(v) for k, v in row.items()})


def _write_xlsx(rows: list[dict[str, Any]], codebook: Codebook, out: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    def put(sheet: Any, r: int, c: int, value: Any) -> None:
        if isinstance(value, str):
            cell = sheet.cell(r, c, ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"  # never a formula, whatever the text starts with
        else:
            sheet.cell(r, c, value)

    book = Workbook()
    sheet = book.active
    sheet.title = "segments"
    for c, name in enumerate(COLUMNS, 1):
        put(sheet, 1, c, name)
        sheet.cell(1, c).font = Font(bold=True)
    for r, row in enumerate(rows, 2):
        for c, name in enumerate(COLUMNS, 1):
            put(sheet, r, c, row[name])
        sheet.cell(r, COLUMNS.index("text") + 1).alignment = Alignment(wrap_text=True,
                                                                       vertical="top")
    widths = {"segment_id": 28, "source": 24, "text": 70, "codes": 30, "code_names": 40,
              "confirmed": 24, "accept": 20, "reject": 20, "relabel": 20, "note": 30}
    for c, name in enumerate(COLUMNS, 1):
        sheet.column_dimensions[sheet.cell(1, c).column_letter].width = widths.get(name, 10)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions

    codes = book.create_sheet("codes")
    for c, name in enumerate(("id", "name", "theme", "definition"), 1):
        put(codes, 1, c, name)
        codes.cell(1, c).font = Font(bold=True)
    for r, (theme, code) in enumerate(codebook.codes(), 2):
        for c, value in enumerate((code.id, code.name, theme.name, code.definition), 1):
            put(codes, r, c, value)
    with atomic_write(out, "wb") as fh:
        book.save(fh)


# -- reading back -----------------------------------------------------------------------------
def read_sheet(path: str | Path, codebook: Codebook | None = None) -> list[SheetRow]:
    """The rows of a filled-in review sheet (.csv or .xlsx), checked against `codebook`."""
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such review sheet", path=path,
                                 hint="give the .csv or .xlsx written by `precode export`")
    try:
        table = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_csv(path)
    except UnicodeDecodeError as exc:
        raise UnsupportedFormatError("the review sheet is not UTF-8 text", path=path,
                                     hint="save it from your spreadsheet as 'CSV UTF-8'") from exc
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnsupportedFormatError(f"cannot read the review sheet ({exc})", path=path,
                                     hint="save it again as .xlsx or as 'CSV UTF-8'") from exc
    if not table:
        raise RunFolderError("the review sheet is empty", path=path,
                             hint="give the sheet written by `precode export`")
    header = [str(h or "").strip().lower() for h in table[0]]
    missing = [c for c in ("segment_id", "codes", *REVIEW_COLUMNS) if c not in header]
    if missing:
        raise RunFolderError(f"the review sheet lacks the columns {', '.join(missing)}",
                             path=path, line=1,
                             hint=f"keep the header row as exported: {', '.join(COLUMNS)}")
    known = set(codebook.code_ids()) if codebook else None
    out = []
    for number, cells in enumerate(table[1:], 2):
        row = {name: _text(cells[i]) if i < len(cells) else "" for i, name in enumerate(header)}
        if not row["segment_id"]:
            continue
        suggested = tuple(c for c in _SPLIT.split(row["codes"]) if c)
        lists = {key: _codes(row[key], suggested, allow_all=key != "relabel")
                 for key in ("accept", "reject", "relabel")}
        if known is not None:
            unknown = sorted({c for codes in lists.values() for c in codes} - known)
            if unknown:
                raise CodebookError(f"unknown code id(s) {', '.join(unknown)}", path=path,
                                    line=number, hint="use code ids from the `codes` column "
                                                      "or the codebook")
        marked = tuple(key for key in ("accept", "reject")
                       if any(c.lower() in ALL_SUGGESTED for c in _SPLIT.split(row[key])))
        out.append(SheetRow(number, _unescape(row["segment_id"]), suggested, lists["accept"],
                            lists["reject"], lists["relabel"], row["coder"], row["note"],
                            marked))
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _codes(cell: str, suggested: tuple[str, ...], allow_all: bool) -> tuple[str, ...]:
    items = [c for c in _SPLIT.split(cell) if c]
    if allow_all and any(c.lower() in ALL_SUGGESTED for c in items):
        return suggested
    return tuple(dict.fromkeys(items))


def _read_csv(path: Path) -> list[list[Any]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.reader(fh)]


def _read_xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise ValueError(str(exc)) from exc
    try:
        sheet = book["segments"] if "segments" in book.sheetnames else book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
