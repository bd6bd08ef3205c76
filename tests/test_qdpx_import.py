"""Import from REFI-QDA: the real samples, tool quirks, CRLF offsets, .docx text, the run folder."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.codebook import load_codebook
from pipeline.errors import RunFolderError, UnsupportedFormatError
from pipeline.qdpx import read_qdpx
from pipeline.qdpx.import_ import normalize_with_offsets, read_codebook_file
from pipeline.records import Coding, Source
from pipeline.run_folder import RunFolder
from pipeline.stages import import_qdpx
from tests.test_qdpx_support import SAMPLES, jsonl, needs_samples, project, write_zip

G = "8e0f1c2a-0000-4000-8000-{:012d}"  # hand-made GUIDs


def _text(sources: list[Source], coding: Coding) -> str:
    return next(s for s in sources if s.id == coding.source_id).text[coding.start:coding.end]


# -- the real samples -------------------------------------------------------------------------
SAMPLE_COUNTS = {  # file: (sources, themes, codes, codings, users)
    "atlas-ti-23-win_codes-only.qdpx": (0, 1, 2, 0, ["ATLAS.ti", "Enric Llagostera"]),
    "nvivo-15-mac_docx-sources.qdpx": (2, 3, 259, 0, ["chrisp", "cp"]),
    "qc-1.3_coded-text.qdpx": (2, 3, 259, 205, ["cp"]),
}


@needs_samples
@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_qdpx_import_real_samples(name: str) -> None:
    found = read_qdpx(SAMPLES / name)
    sources, themes, codes, codings, users = SAMPLE_COUNTS[name]
    assert found.codebook is not None
    assert (len(found.sources), len(found.codebook.themes), len(found.codebook.code_ids()),
            len(found.codings), found.users) == (sources, themes, codes, codings, users)


@needs_samples
def test_qdpx_import_real_sample_codings_land_on_the_coded_lines() -> None:
    found = read_qdpx(SAMPLES / "qc-1.3_coded-text.qdpx")
    assert {c.coder for c in found.codings} == {"cp"}
    first = found.codings[0]
    assert (first.source_id, first.start, first.end, first.code_id) == (
        "board_2017.txt", 320, 400, "fun")
    assert _text(found.sources, first).startswith("This district goal is engage every student")
    codebook = found.codebook
    assert codebook is not None
    names = {code.id: code.name for _, code in codebook.codes()}
    # the same name under two parents gets two ids, and nested names show their path
    assert names["programming"] == "competencies > programming"
    assert names["cs_as_programming.programming"] == "framings > cs_as_programming > programming"


@needs_samples
def test_qdpx_import_real_samples_nested_codes_and_empty_docx_sources() -> None:
    atlas = read_qdpx(SAMPLES / "atlas-ti-23-win_codes-only.qdpx")
    assert atlas.codebook is not None
    theme = atlas.codebook.themes[0]
    assert (theme.id, theme.name) == ("commits", "Commits")
    assert [c.name for c in theme.codes] == ["2022-05-10T02:05:59Z 19e4dce",
                                             "2022-02-11T10:39:25Z cdbfd92"]
    nvivo = read_qdpx(SAMPLES / "nvivo-15-mac_docx-sources.qdpx")
    assert [s.text.strip() for s in nvivo.sources] == ["", ""]  # the .docx files are empty too
    assert any("have no text" in w for w in nvivo.warnings)


@needs_samples
def test_qdpx_import_writes_a_run_folder_that_later_stages_read(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = import_qdpx(SAMPLES / "qc-1.3_coded-text.qdpx", out)
    run = RunFolder(out)
    manifest = run.manifest()
    assert set(manifest["stages"]) == {"ingest", "import", "segment"}
    assert len(load_codebook(out / "codebook.yaml").code_ids()) == 259
    codings = run.read_jsonl("codings.jsonl", Coding)
    assert len(codings) == result.counts["codings"] == 205
    assert run.segments() and result.counts["segments"] == len(run.segments())
    assert not [p for p in tmp_path.iterdir() if p.name != "run"]  # no temp folder left
    with pytest.raises(RunFolderError, match="not empty"):
        import_qdpx(SAMPLES / "qc-1.3_coded-text.qdpx", out)


@needs_samples
def test_qdpx_import_codebook_of_a_project(tmp_path: Path) -> None:
    codebook, _ = read_codebook_file(SAMPLES / "atlas-ti-23-win_codes-only.qdpx")
    assert codebook.name == "target-atlas-project" and len(codebook.code_ids()) == 2


# -- quirks of real tools ---------------------------------------------------------------------
def _quirky_project(namespace: str, guid_style: str) -> str:
    def g(n: int, style: str) -> str:
        value = G.format(n)
        return {"upper-braces": "{" + value.upper() + "}", "lower": value}[style]

    return project(
        f'<Users><User guid="{g(1, guid_style)}" name="Mei" /></Users>'
        f'<CodeBook><Codes><Code guid="{g(2, guid_style)}" name="Recovery" isCodable="true">'
        f'<Code guid="{g(3, guid_style)}" name="Hope" isCodable="true">'
        f'<Description>Belief in change.</Description></Code></Code></Codes></CodeBook>'
        f'<Sources><TextSource guid="{g(4, guid_style)}" name="int one" '
        f'plainTextPath="internal://{G.format(4)}.txt">'
        f'<PlainTextSelection guid="{g(5, guid_style)}" startPosition="8" endPosition="12">'
        f'<Coding guid="{g(6, guid_style)}" creatingUser="{g(1, "lower")}">'
        f'<CodeRef targetGUID="{g(3, "lower")}" /></Coding></PlainTextSelection>'
        f'</TextSource></Sources>', namespace=namespace)


@pytest.mark.parametrize(("inner", "namespace", "guid_style"), [
    ("project.qde", "urn:QDA-XML:project:1.0", "lower"),
    ("My Study.qde", "urn:QDA-XML:project:1:0", "upper-braces"),
])
def test_qdpx_import_tolerates_tool_quirks(tmp_path: Path, inner: str, namespace: str,
                                           guid_style: str) -> None:
    archive = write_zip(tmp_path / "quirky.qdpx", {
        inner: _quirky_project(namespace, guid_style),
        f"sources/{G.format(4)}.txt": "We have hope here.",
        "sources/.root": b"",
        "thumbnails/unexpected.png": b"\x89PNG",
    })
    found = read_qdpx(archive)
    assert [s.name for s in found.sources] == ["int one"]
    assert found.codings == [Coding("int one", 8, 12, "hope", "Mei")]
    assert _text(found.sources, found.codings[0]) == "hope"
    assert found.codebook is not None and found.codebook.themes[0].codes[0].definition == \
        "Belief in change."


CRLF_RAW = "Interviewer: Hi\r\nNurse K: Recovery is living well.\r\nNurse K: Peers help me.\r\n"


def _selection(n: int, needle: str, raw: str = CRLF_RAW) -> str:
    start = raw.index(needle)
    return (f'<PlainTextSelection guid="{G.format(n)}" startPosition="{start}" '
            f'endPosition="{start + len(needle)}"><Coding guid="{G.format(n + 50)}" '
            f'creatingUser="{G.format(1)}"><CodeRef targetGUID="{G.format(3)}" /></Coding>'
            f'</PlainTextSelection>')


def _coded_project(source: str) -> str:
    return project(
        f'<Users><User guid="{G.format(1)}" name="Mei" /></Users>'
        f'<CodeBook><Codes><Code guid="{G.format(3)}" name="Peer" isCodable="true" /></Codes>'
        f'</CodeBook><Sources>{source}</Sources>')


@pytest.mark.parametrize("where", ["file", "content", "cdata"])
def test_qdpx_import_maps_offsets_counted_on_crlf_text(tmp_path: Path, where: str) -> None:
    selections = _selection(10, "Recovery is living well.") + _selection(11, "Peers help me.")
    members: dict[str, bytes | str] = {}
    if where == "file":
        body = (f'<TextSource guid="{G.format(4)}" name="crlf" plainTextPath="crlf.txt">'
                f'{selections}</TextSource>')
        members["sources/crlf.txt"] = ("\ufeff" + CRLF_RAW).encode("utf-8")  # BOM, too
    else:
        content = CRLF_RAW if where == "content" else f"<![CDATA[{CRLF_RAW}]]>"
        body = (f'<TextSource guid="{G.format(4)}" name="crlf"><PlainTextContent>{content}'
                f'</PlainTextContent>{selections}</TextSource>')
    members["project.qde"] = _coded_project(body).encode("utf-8")
    found = read_qdpx(write_zip(tmp_path / "crlf.qdpx", members))
    source = found.sources[0]
    assert source.text == CRLF_RAW.replace("\r\n", "\n")
    assert [_text(found.sources, c) for c in found.codings] == ["Recovery is living well.",
                                                                "Peers help me."]
    assert [(t.speaker, len(t.pieces())) for t in source.turns] == [("Interviewer", 1),
                                                                    ("Nurse K", 2)]


def test_qdpx_import_offsets_through_normalization() -> None:
    raw = "\ufeffa\r\nb\rc\ne\u0301x"  # BOM, CRLF, CR, LF, decomposed é
    text, offsets = normalize_with_offsets(raw)
    assert text == "a\nb\nc\néx"
    assert text[offsets[raw.index("x")]] == "x"
    assert text[offsets[raw.index("c")]] == "c"
    assert offsets[len(raw)] == len(text)


def test_qdpx_import_docx_text_when_plain_text_is_blank(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Interviewer: Hi there.")
    document.add_paragraph("Nurse K: Recovery is living well.")
    buffer = io.BytesIO()
    document.save(buffer)
    text = "Interviewer: Hi there.\nNurse K: Recovery is living well."
    body = (f'<TextSource guid="{G.format(4)}" name="word" plainTextPath="internal://w.txt" '
            f'richTextPath="internal://w.docx">{_selection(10, "Recovery", text)}</TextSource>')
    archive = write_zip(tmp_path / "docx.qdpx", {"project.qde": _coded_project(body),
                                                 "sources/w.txt": "\n",
                                                 "sources/w.docx": buffer.getvalue()})
    found = read_qdpx(archive)
    assert found.sources[0].text == text
    assert found.sources[0].metadata["text_from"] == "docx"
    assert [_text(found.sources, c) for c in found.codings] == ["Recovery"]


def test_qdpx_import_odd_selections_are_skipped_with_a_warning(tmp_path: Path) -> None:
    raw = "Nurse K: Peers help me."
    body = (f'<TextSource guid="{G.format(4)}" name="s"><PlainTextContent>{raw}'
            f'</PlainTextContent>'
            f'<PlainTextSelection guid="{G.format(10)}" startPosition="5" endPosition="999">'
            f'<Coding guid="{G.format(60)}"><CodeRef targetGUID="{G.format(3)}" /></Coding>'
            f'</PlainTextSelection>'
            f'<PlainTextSelection guid="{G.format(11)}" startPosition="14" endPosition="9">'
            f'<Coding guid="{G.format(61)}"><CodeRef targetGUID="{G.format(99)}" /></Coding>'
            f'</PlainTextSelection></TextSource>'
            f'<PDFSource guid="{G.format(5)}" name="scan" />')
    found = read_qdpx(write_zip(tmp_path / "odd.qdpx", {"project.qde": _coded_project(body)}))
    assert found.codings == []
    joined = " | ".join(found.warnings)
    assert "reach past the end" in joined and "a code the codebook lacks" in joined
    assert "PDFSource" in joined


def test_qdpx_import_not_a_project_is_a_precode_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.qdpx"
    plain.write_text("just text", encoding="utf-8")
    with pytest.raises(UnsupportedFormatError, match="not a zip"):
        read_qdpx(plain)
    with pytest.raises(UnsupportedFormatError, match=r"no project\.qde"):
        read_qdpx(write_zip(tmp_path / "b.qdpx", {"readme.txt": "hi"}))
    with pytest.raises(UnsupportedFormatError, match="not well-formed"):
        read_qdpx(write_zip(tmp_path / "c.qdpx", {"project.qde": "<Project"}))
    with pytest.raises(UnsupportedFormatError, match="not a QDA-XML Project"):
        read_qdpx(write_zip(tmp_path / "d.qdpx", {"project.qde": "<html/>"}))


def test_qdpx_import_run_folder_without_segments(tmp_path: Path) -> None:
    body = (f'<TextSource guid="{G.format(4)}" name="s.txt"><PlainTextContent>'
            f'{CRLF_RAW}</PlainTextContent>{_selection(10, "Peers help me.")}</TextSource>')
    archive = write_zip(tmp_path / "p.qdpx", {"project.qde": _coded_project(body)})
    import_qdpx(archive, tmp_path / "run", segment=False)
    rows = jsonl(tmp_path / "run" / "codings.jsonl")
    start = CRLF_RAW.replace("\r\n", "\n").index("Peers help me.")
    assert rows == [{"source_id": "s.txt", "start": start, "end": start + 14, "code_id": "peer",
                     "coder": "Mei"}]


def test_qdpx_import_qdc_with_old_namespace_and_braced_guids(tmp_path: Path) -> None:
    qdc = tmp_path / "book.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1:0" origin="some tool"><Codes>'
        f'<Code guid="{{{G.format(1).upper()}}}" name="Peer support" isCodable="true">'
        f'<Code guid="{{{G.format(2).upper()}}}" name="Mutual help" isCodable="true">'
        '<Description>Peers help each other.\r\n\r\nExamples:\r\n- We cook for each other.'
        '</Description></Code>'
        f'<Code guid="{G.format(3)}" name="Folder only" isCodable="false" /></Code>'
        '</Codes></CodeBook>', encoding="utf-8")
    codebook, warnings = read_codebook_file(qdc)
    assert codebook.name == "book"
    code = codebook.themes[0].codes[0]
    assert (code.id, code.name, code.definition, code.examples) == (
        "mutual_help", "Mutual help", "Peers help each other.", ("We cook for each other.",))
    assert any("not codable" in w for w in warnings)


@pytest.mark.parametrize("docx", [b"not a zip at all", b"PK\x03\x04broken zip"])
def test_qdpx_import_unreadable_docx_is_a_warning(tmp_path: Path, docx: bytes) -> None:
    body = (f'<TextSource guid="{G.format(4)}" name="word" richTextPath="internal://w.docx" />')
    archive = write_zip(tmp_path / "bad.qdpx", {"project.qde": _coded_project(body),
                                                "sources/w.docx": docx})
    found = read_qdpx(archive)
    assert found.sources[0].text == ""
    assert any(".docx) file(s) cannot be read" in w for w in found.warnings)
