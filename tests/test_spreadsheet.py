"""Review spreadsheets: the column layout, CSV and XLSX, and reading a filled-in sheet back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.errors import CodebookError, RunFolderError
from pipeline.export import export_run
from pipeline.records import Segment
from pipeline.run_folder import RunFolder
from pipeline.spreadsheet import COLUMNS, read_sheet
from tests.test_qdpx_support import CODEBOOK, full_run, make_run, sources, span


def _run_with_segments(path: Path) -> Path:
    full_run(path)
    a = sources()[0]
    segments = []
    for needle in ("Recovery is living well with symptoms.", "I keep hoping, café and all."):
        start, end = span(a.text, needle)
        segments.append(Segment(f"a.txt:{start}-{end}", "a.txt", start, end, needle, "Nurse K",
                                "participant", 1))
    RunFolder(path).write_jsonl("segments.jsonl", segments)
    return path


def _csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_spreadsheet_csv_has_one_row_per_segment_with_suggestions(tmp_path: Path) -> None:
    out = tmp_path / "review.csv"
    result = export_run(_run_with_segments(tmp_path / "run"), out)
    rows = _csv_rows(out)
    assert list(rows[0]) == list(COLUMNS)
    by_id = {r["segment_id"]: r for r in rows}
    assert len(rows) == 3 == result.counts["rows"]  # 2 segments + 1 segment known by suggestion
    first = rows[0]
    assert first["codes"] == "coexisting; hope"
    assert first["code_names"] == "Coexisting with illness; Maintaining hope"
    assert first["scores"] == "0.910; 0.420" and first["top_score"] == "0.91"
    assert first["confirmed"] == "coexisting (Ann)"
    assert all(first[c] == "" for c in ("accept", "reject", "relabel", "coder", "note"))
    uncoded = next(r for r in by_id.values() if r["text"].startswith("I keep hoping"))
    assert uncoded["codes"] == "" and uncoded["top_score"] == ""
    assert any(r["text"] == "我們互相幫忙。" for r in rows)


def test_spreadsheet_min_score_and_include(tmp_path: Path) -> None:
    run = _run_with_segments(tmp_path / "run")
    export_run(run, tmp_path / "a.csv", min_score=0.5, include="suggestions")
    first = _csv_rows(tmp_path / "a.csv")[0]
    assert first["codes"] == "coexisting" and first["confirmed"] == ""


def test_spreadsheet_csv_guards_against_formulas(tmp_path: Path) -> None:
    a = sources()[0]
    text = a.text + "=SUM(1+1) is what she said.\n"
    src = [type(a)(a.id, a.name, text, (), "en", {})]
    start = text.index("=SUM")
    seg = Segment(f"a.txt:{start}-{len(text) - 1}", "a.txt", start, len(text) - 1,
                  text[start:-1], "Nurse K", "participant", 1)
    run = make_run(tmp_path / "run", srcs=src)
    RunFolder(run).write_jsonl("segments.jsonl", [seg])
    export_run(run, tmp_path / "f.csv")
    assert _csv_rows(tmp_path / "f.csv")[0]["text"] == "'=SUM(1+1) is what she said."
    export_run(run, tmp_path / "f.xlsx")
    from openpyxl import load_workbook

    cell = load_workbook(tmp_path / "f.xlsx")["segments"]["G2"]
    assert cell.value == "=SUM(1+1) is what she said." and cell.data_type == "s"


def test_spreadsheet_xlsx_layout_and_codes_sheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "review.xlsx"
    export_run(_run_with_segments(tmp_path / "run"), out, fmt="xlsx")
    book = load_workbook(out)
    assert book.sheetnames == ["segments", "codes"]
    header = [c.value for c in book["segments"][1]]
    assert header == list(COLUMNS)
    assert book["segments"].freeze_panes == "A2"
    assert [r[0] for r in book["codes"].iter_rows(min_row=2, values_only=True)] == \
        CODEBOOK.code_ids()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_spreadsheet_filled_in_sheet_reads_back(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"review.{fmt}"
    export_run(_run_with_segments(tmp_path / "run"), out)
    fill = {0: {"accept": "x", "coder": "Ann", "note": "both fit"},
            1: {"reject": "peer_help", "relabel": "hope; coexisting", "coder": "Ann"}}
    if fmt == "csv":
        rows = _csv_rows(out)
        for index, values in fill.items():
            rows[index].update(values)
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    else:
        from openpyxl import load_workbook

        book = load_workbook(out)
        sheet = book["segments"]
        for index, values in fill.items():
            for key, value in values.items():
                sheet.cell(index + 2, COLUMNS.index(key) + 1, value)
        book.save(out)
    back = read_sheet(out, CODEBOOK)
    assert back[0].accept == ("coexisting", "hope") and back[0].note == "both fit"
    assert back[1].reject == ("peer_help",) and back[1].relabel == ("hope", "coexisting")
    assert back[1].line == 3 and back[2].accept == ()


def test_spreadsheet_read_back_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("segment_id,codes,accept,reject,relabel,coder,note\n"
                    "a.txt:0-5,hope,nope,,,Ann,\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="nope") as info:
        read_sheet(path, CODEBOOK)
    assert info.value.line == 2
    path.write_text("segment_id,text\n", encoding="utf-8")
    with pytest.raises(RunFolderError, match="lacks the columns"):
        read_sheet(path)


def test_spreadsheet_needs_segments_or_suggestions(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    with pytest.raises(RunFolderError, match="neither segments"):
        export_run(run, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_spreadsheet_unreadable_sheets_are_precode_errors(tmp_path: Path) -> None:
    from pipeline.errors import UnsupportedFormatError

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(UnsupportedFormatError, match="cannot read the review sheet"):
        read_sheet(broken)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("segment_id,codes\ncaf\xe9,\n".encode("latin-1"))
    with pytest.raises(UnsupportedFormatError, match="not UTF-8"):
        read_sheet(latin)
