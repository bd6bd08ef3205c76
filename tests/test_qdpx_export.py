"""Export to REFI-QDA: schema-valid projects and codebooks, stable GUIDs, who coded what."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from pipeline.errors import UnsupportedFormatError
from pipeline.export import export_run
from pipeline.qdpx import read_qdc, write_qdc
from pipeline.qdpx.export import SUGGESTIONS_USER
from pipeline.qdpx.qdc import describe_code, read_description
from tests.test_qdpx_support import CODEBOOK, REFI, full_run, make_run

NS = {"q": "urn:QDA-XML:project:1.0"}


def _project(path: Path) -> tuple[bytes, ET.Element, zipfile.ZipFile]:
    archive = zipfile.ZipFile(path)
    data = archive.read("project.qde")
    return data, ET.fromstring(data), archive


def _selections(root: ET.Element) -> list[dict[str, str]]:
    users = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", NS)}
    codes = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", NS)}
    out = []
    for source in root.iterfind(".//q:TextSource", NS):
        for sel in source.iterfind("q:PlainTextSelection", NS):
            coding = sel.find("q:Coding", NS)
            assert coding is not None
            ref = coding.find("q:CodeRef", NS)
            assert ref is not None
            out.append({"source": source.get("name") or "", "start": sel.get("startPosition") or "",
                        "end": sel.get("endPosition") or "",
                        "user": users[coding.get("creatingUser")] or "",
                        "code": codes[ref.get("targetGUID")] or "",
                        "description": sel.findtext("q:Description", "", NS)})
    return out


def test_qdpx_export_project_validates_against_the_schema(tmp_path: Path) -> None:
    import xmlschema

    out = tmp_path / "out.qdpx"
    export_run(full_run(tmp_path / "run"), out)
    data, _, _ = _project(out)
    xmlschema.XMLSchema(str(REFI / "Project.xsd")).validate(data)


def test_qdpx_export_codebook_validates_and_converts_back(tmp_path: Path) -> None:
    import xmlschema

    data = write_qdc(CODEBOOK, "precode test")
    xmlschema.XMLSchema(str(REFI / "Codebook.xsd")).validate(data)
    back = read_qdc(data, label="x.qdc", name=CODEBOOK.name, version=CODEBOOK.version)
    assert back.themes == CODEBOOK.themes


def test_qdpx_export_archive_layout_and_plain_text(tmp_path: Path) -> None:
    out = tmp_path / "out.qdpx"
    result = export_run(full_run(tmp_path / "run"), out)
    _, root, archive = _project(out)
    names = archive.namelist()
    assert names[0] == "project.qde" and len(names) == 3
    paths = [s.get("plainTextPath") or "" for s in root.iterfind(".//q:TextSource", NS)]
    assert all(re.fullmatch(r"internal://[0-9a-f-]{36}\.txt", p) for p in paths)
    texts = {archive.read("sources/" + p.removeprefix("internal://")) for p in paths}
    assert all(not t.startswith(b"\xef\xbb\xbf") and b"\r" not in t for t in texts)
    assert "我們互相幫忙。\n".encode() in b"".join(texts)
    assert result.counts["sources"] == 2 and result.counts["codes"] == 3


def test_qdpx_export_nests_codes_under_themes_with_definitions(tmp_path: Path) -> None:
    out = tmp_path / "out.qdpx"
    export_run(full_run(tmp_path / "run"), out)
    _, root, _ = _project(out)
    themes = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    assert [t.get("name") for t in themes] == ["Attitudes toward recovery", "Peer support"]
    assert {t.get("isCodable") for t in themes} == {"false"}
    code = themes[0].find("q:Code", NS)
    assert code is not None and code.get("isCodable") == "true"
    description = code.findtext("q:Description", "", NS)
    assert description.startswith("Living well with symptoms.")
    assert "Include:\n- Symptoms remain but life goes on." in description
    assert description.endswith("precode id: coexisting")


def test_qdpx_export_suggestions_are_codings_by_a_dedicated_user(tmp_path: Path) -> None:
    out = tmp_path / "out.qdpx"
    export_run(full_run(tmp_path / "run"), out, include="suggestions", min_score=0.5)
    _, root, _ = _project(out)
    selections = _selections(root)
    by_user = [s for s in selections if s["user"] == SUGGESTIONS_USER]
    assert sorted(s["code"] for s in by_user) == ["Coexisting with illness",
                                                  "Peers helping peers"]  # 0.42 is below 0.5
    first = next(s for s in by_user if s["code"] == "Coexisting with illness")
    assert "score 0.910" in first["description"]
    assert 'codebook:example: "He still hears voices, and works."' in first["description"]
    assert not any(s["user"] == "Ann" for s in selections)  # decisions left out
    assert any(s["user"] == "A" for s in selections)  # codings.jsonl always goes


def test_qdpx_export_decisions_are_codings_by_the_reviewer(tmp_path: Path) -> None:
    out = tmp_path / "out.qdpx"
    result = export_run(full_run(tmp_path / "run"), out, include="decisions")
    _, root, _ = _project(out)
    selections = _selections(root)
    ann = [s for s in selections if s["user"] == "Ann"]
    assert [s["code"] for s in ann] == ["Coexisting with illness"]  # "hope" was retracted
    assert "clear case" in ann[0]["description"]
    assert not any(s["user"] == SUGGESTIONS_USER for s in selections)
    assert result.counts["decisions"] == 1 and result.counts["suggestions"] == 0


def test_qdpx_export_guids_are_stable_across_exports(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    export_run(run, tmp_path / "one.qdpx")
    export_run(run, tmp_path / "two.qdpx")
    assert (tmp_path / "one.qdpx").read_bytes() == (tmp_path / "two.qdpx").read_bytes()
    _, root, _ = _project(tmp_path / "one.qdpx")
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(guids) == len(set(guids))


def test_qdpx_export_participants_become_variables_and_cases(tmp_path: Path) -> None:
    out = tmp_path / "out.qdpx"
    export_run(full_run(tmp_path / "run"), out)
    _, root, _ = _project(out)
    variables = {v.get("name"): v.get("typeOfVariable")
                 for v in root.iterfind("q:Variables/q:Variable", NS)}
    assert variables == {"site": "Text", "profession": "Text", "years": "Integer"}
    cases = {c.get("name"): c for c in root.iterfind("q:Cases/q:Case", NS)}
    assert set(cases) == {"Nurse K", "護理師K"}
    assert cases["Nurse K"].findtext("q:VariableValue/q:IntegerValue", "", NS) == "12"
    source_b = root.find("q:Sources/q:TextSource[@name='b.txt']", NS)
    assert source_b is not None
    assert source_b.findtext("q:VariableValue/q:TextValue", "", NS) == "Taipei"


def test_qdpx_export_codebook_alone_as_qdc(tmp_path: Path) -> None:
    out = tmp_path / "book.qdc"
    result = export_run(full_run(tmp_path / "run"), out)
    assert result.format == "qdc"
    root = ET.fromstring(out.read_bytes())
    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"


def test_qdpx_export_description_reads_back_exactly() -> None:
    for _, code in CODEBOOK.codes():
        back = read_description(describe_code(code))
        assert (back.id, back.text) == (code.id, code.definition)
        assert back.lists.get("examples", ()) == code.examples
        assert back.lists.get("include", ()) == code.include


def test_qdpx_export_bad_options_are_precode_errors(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    with pytest.raises(UnsupportedFormatError, match="unknown export format"):
        export_run(run, tmp_path / "out.pdf")
    with pytest.raises(UnsupportedFormatError, match="--include"):
        export_run(run, tmp_path / "out.qdpx", include="everything")
    with pytest.raises(UnsupportedFormatError, match="--min-score"):
        export_run(run, tmp_path / "out.qdpx", min_score=2)
    assert not (tmp_path / "out.qdpx").exists()


def test_qdpx_export_skips_spans_it_cannot_place(tmp_path: Path) -> None:
    from pipeline.records import Coding

    run = make_run(tmp_path / "run", codings=[Coding("a.txt", 0, 5, "nope", "A"),
                                              Coding("zzz.txt", 0, 5, "hope", "A"),
                                              Coding("a.txt", 5, 99999, "hope", "A")])
    result = export_run(run, tmp_path / "out.qdpx")
    assert result.counts["codings"] == 0 and len(result.warnings) == 3
