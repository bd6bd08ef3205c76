"""The `export`, `import` and `codebook export|import` commands; the sample corpus end to end."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.codebook import load_codebook
from pipeline.config import REFERENCE_CODEBOOK
from pipeline.qdpx.export import SUGGESTIONS_USER
from pipeline.records import Coding, Decision
from pipeline.run_folder import RunFolder
from pipeline.stages import ingest_stage, segment_stage
from tests.conftest import SAMPLE
from tests.test_qdpx_support import REFI, full_run, jsonl

runner = CliRunner()


@pytest.mark.parametrize("command", [["export"], ["import"], ["codebook", "export"],
                                     ["codebook", "import"]])
def test_qdpx_cli_help_has_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert f"Example: precode {' '.join(command)} " in result.output


def test_qdpx_cli_export_then_import(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "p.qdpx"),
                                 "--min-score", "0.5"])
    assert result.exit_code == 0, result.output
    assert "2 suggestions, 1 decisions, 1 codings, 3 users" in result.output
    result = runner.invoke(app, ["import", str(tmp_path / "p.qdpx"), "--out",
                                 str(tmp_path / "back"), "--no-segment"])
    assert result.exit_code == 0, result.output
    coders = sorted({row["coder"] for row in jsonl(tmp_path / "back" / "codings.jsonl")})
    assert coders == ["A", "Ann", SUGGESTIONS_USER]


def test_qdpx_cli_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    result = runner.invoke(app, ["export", str(run), "--out", str(tmp_path / "x.docx")])
    assert result.exit_code == 2 and "unknown export format" in result.output
    result = runner.invoke(app, ["import", str(tmp_path / "missing.qdpx"), "--out",
                                 str(tmp_path / "r")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["export", str(tmp_path / "nothing"), "--out",
                                 str(tmp_path / "y.qdpx")])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_qdpx_cli_codebook_export_and_import(tmp_path: Path) -> None:
    qdc = tmp_path / "rps.qdc"
    result = runner.invoke(app, ["codebook", "export", str(REFERENCE_CODEBOOK), "--out",
                                 str(qdc)])
    assert result.exit_code == 0, result.output
    back = tmp_path / "back.yaml"
    original = load_codebook(REFERENCE_CODEBOOK)
    result = runner.invoke(app, ["codebook", "import", str(qdc), "--out", str(back), "--name",
                                 original.name, "--version", original.version])
    assert result.exit_code == 0, result.output
    imported = load_codebook(back)
    assert imported.themes == original.themes
    assert (imported.name, imported.version) == (original.name, original.version)


def test_qdpx_cli_sample_corpus_exports_validates_and_reimports(tmp_path: Path) -> None:
    import xmlschema

    run = tmp_path / "demo"
    ingest_stage([SAMPLE], run, participants=SAMPLE / "participants.csv")
    segment_stage(run)
    folder = RunFolder(run)
    segments = folder.segments()
    codebook = load_codebook(REFERENCE_CODEBOOK)
    codes = codebook.code_ids()
    names = {s.id: s.name for s in folder.sources()}
    folder.write_jsonl("suggestions.jsonl", [
        {"source": names[s.source_id], "segment_id": s.id, "start": s.start, "end": s.end,
         "speaker": s.speaker, "role": s.role, "text": s.text, "code": codes[i % len(codes)],
         "score": round((i * 37 % 100) / 100, 2), "rank": 1, "method": "prototype",
         "evidence": [{"text": "an example", "similarity": 0.5, "origin": "codebook:example"}]}
        for i, s in enumerate(segments)])
    folder.write_jsonl("decisions.jsonl", [
        Decision(segments[0].id, codes[0], "accept", "A", "2024-05-01T10:00:00+08:00")])
    gold = [Coding(names[s.source_id], s.start, s.end, codes[1], "B") for s in segments[:5]]
    folder.write_jsonl("codings.jsonl", gold)

    out = tmp_path / "demo.qdpx"
    result = runner.invoke(app, ["export", str(run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    xmlschema.XMLSchema(str(REFI / "Project.xsd")).validate(
        zipfile.ZipFile(out).read("project.qde"))
    result = runner.invoke(app, ["import", str(out), "--out", str(tmp_path / "back"),
                                 "--no-segment"])
    assert result.exit_code == 0, result.output

    back = RunFolder(tmp_path / "back")
    original = folder.sources()
    assert [(s.id, s.text, s.metadata.get("speakers")) for s in back.sources()] == \
        [(s.id, s.text, s.metadata.get("speakers")) for s in original]
    # REFI-QDA has no place for a codebook's language or its editions in other languages: the
    # project carries the codebook as written in its own language.
    assert load_codebook(tmp_path / "back" / "codebook.yaml") == \
        replace(codebook, language="", editions=())
    codings = set(back.read_jsonl("codings.jsonl", Coding))
    assert set(gold) <= codings
    assert Coding(segments[0].source_id, segments[0].start, segments[0].end, codes[0],
                  "A") in codings
    assert sum(c.coder == SUGGESTIONS_USER for c in codings) == len(segments)
