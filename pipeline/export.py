"""`precode export`: a run as a REFI-QDA project (`.qdpx`) or codebook (`.qdc`) for the QDA
tools, or as a review spreadsheet (`.csv`, `.xlsx`), chosen by format or file extension."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import UnsupportedFormatError
from pipeline.qdpx.export import export_qdpx, origin
from pipeline.qdpx.qdc import write_qdc
from pipeline.run_folder import atomic_write
from pipeline.run_folder.view import INCLUDE, ExportResult, load_run
from pipeline.spreadsheet import export_sheet

FORMATS = ("qdpx", "qdc", "csv", "xlsx")


def guess_format(out: Path, given: str | None) -> str:
    """The export format: given, or read from the file extension."""
    fmt = (given or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise UnsupportedFormatError(
            f"unknown export format {fmt or '(none)'!r}", path=out,
            hint=f"use --format with one of {', '.join(FORMATS)}, or an --out file ending "
                 "in one of them")
    return fmt


def export_run(run: str | Path, out: str | Path, fmt: str | None = None,
               include: str = "both", min_score: float = 0.0) -> ExportResult:
    """Export `run` to `out` in `fmt` (qdpx, qdc, csv or xlsx; default: from the extension)."""
    out = Path(out)
    result = _export(Path(run), out, guess_format(out, fmt), include, min_score)
    if out.suffix.lower() != f".{result.format}":
        result.warnings.append(f"{out.name} holds {result.format} but its name does not end in "
                               f".{result.format}; QDA tools and spreadsheets go by the name")
    return result


def _export(run: Path, out: Path, fmt: str, include: str, min_score: float) -> ExportResult:
    if include not in INCLUDE:
        raise UnsupportedFormatError(f"unknown --include value {include!r}",
                                     hint=f"use one of {', '.join(INCLUDE)}")
    if not 0.0 <= min_score <= 1.0:
        raise UnsupportedFormatError(f"--min-score must be between 0 and 1, not {min_score}",
                                     hint="scores are calibrated to [0, 1]; try 0.5")
    if fmt in ("csv", "xlsx"):
        return export_sheet(run, out, fmt, include=include, min_score=min_score)
    view = load_run(run)
    if fmt == "qdc":
        data = write_qdc(view.codebook, origin())
        with atomic_write(out, "wb") as fh:
            fh.write(data)
        codes = len(view.codebook.code_ids())
        return ExportResult(out, fmt, {"themes": len(view.codebook.themes), "codes": codes})
    return export_qdpx(view, out, include=include, min_score=min_score)
