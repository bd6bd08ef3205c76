"""The command line, end to end: help texts, the sample corpus, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def _fast(cache: Path) -> list[str]:
    """Options for a quick run: the model-free embedder and a private cache."""
    return ["--set", "embed.backend=tfidf", "--set", f"embed.cache_dir={cache}"]


def _commands() -> list[list[str]]:
    """Every command path, e.g. ['ingest'], ['codebook', 'validate']."""
    out: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            out.append(path)

    walk(get_command(app), [])
    return out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p))
def test_cli_every_command_has_help_with_an_example(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example: precode " + " ".join(path) in result.output


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p))
def test_cli_every_command_is_in_the_readme(path: list[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "precode " + " ".join(path) in readme


def test_cli_python_dash_m_runs_the_same_app() -> None:
    result = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and "ingest" in result.stdout


EXPECTED_SPEAKERS = {
    "p01_nurse_day_ward.txt": {"Interviewer": "interviewer", "Nurse K": "participant"},
    "p02_social_worker_rehab_center.docx": {"Interviewer": "interviewer",
                                            "Social Worker I": "participant"},
    "p03_occupational_therapist_clubhouse.vtt": {"Researcher": "interviewer",
                                                 "Occupational Therapist L": "participant"},
    "p04_psychiatrist_general_hospital.srt": {"Interviewer": "interviewer",
                                              "Psychiatrist W": "participant"},
    "p05_case_manager_community_center.txt": {"Interviewer": "interviewer", "P05": "participant"},
    "p06_nurse_halfway_house.vtt": {"Moderator": "interviewer", "Nurse H": "participant"},
    "p07_social_worker_family_association.txt": {"Interviewer": "interviewer",
                                                 "Speaker 2": "participant"},
    "p08_occupational_therapist_workshop.md": {"Q": "interviewer", "P08": "participant"},
    "p09_nurse_rehab_center_zh.txt": {"訪談者": "interviewer", "護理師K": "participant"},
    "p10_social_worker_clubhouse_zh.txt": {"訪談者": "interviewer", "社工師L": "participant"},
    "p11_psychiatrist_day_ward_zh.txt": {"研究者": "interviewer", "精神科醫師C": "participant"},
    "p12_occupational_therapist_workshop_zh.docx": {"訪談者": "interviewer",
                                                    "職能治療師Y": "participant"},
    "p13_case_manager_community_zh.txt": {"訪談者": "interviewer", "個管師P": "participant"},
    "p14_psychologist_psychiatric_hospital.pdf": {"Interviewer": "interviewer",
                                                  "Psychologist M": "participant"},
    "p15_psychologist_halfway_house_zh.odt": {"訪談者": "interviewer", "心理師H": "participant"},
}


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_cli_ingest_and_segment_the_sample_corpus(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["ingest", str(sample_dir), "--out", str(out), "--participants",
                                 str(sample_dir / "participants.csv")])
    assert result.exit_code == 0, result.output
    sources = {s["name"]: s for s in _read(out / "sources.jsonl")}
    assert set(sources) == set(EXPECTED_SPEAKERS)  # README.md is not a transcript
    for name, speakers in EXPECTED_SPEAKERS.items():
        found = {t["speaker"]: t["role"] for t in sources[name]["turns"]}
        assert found == speakers, name
        assert sources[name]["metadata"]["speakers"]
    assert sources["p09_nurse_rehab_center_zh.txt"]["metadata"]["encoding"] == "cp950"
    assert sources["p09_nurse_rehab_center_zh.txt"]["language"] == "zh"
    assert "\r" not in sources["p05_case_manager_community_center.txt"]["text"]

    result = runner.invoke(app, ["segment", str(out)])
    assert result.exit_code == 0, result.output
    segments = _read(out / "segments.jsonl")
    texts = {name: s["text"] for name, s in sources.items()}
    assert {s["source_id"] for s in segments} == set(EXPECTED_SPEAKERS)
    for seg in segments:
        assert texts[seg["source_id"]][seg["start"]:seg["end"]] == seg["text"]
        assert seg["role"] == "participant"
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stages"]) == {"ingest", "segment"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])

    again = runner.invoke(app, ["segment", str(out)])
    assert "up to date" in again.output
    assert _read(out / "segments.jsonl") == segments  # stable ids and order


def test_cli_run_writes_the_suggestion_contract(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "run"
    args = ["run", str(sample_dir), "--out", str(out), *_fast(tmp_path / "cache")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = _read(out / "suggestions.jsonl")
    segments = {s["id"]: s for s in _read(out / "segments.jsonl")}
    assert {r["segment_id"] for r in rows} == set(segments)  # every segment appears
    for row in rows:
        assert list(row) == ["source", "segment_id", "start", "end", "speaker", "role", "text",
                             "code", "score", "rank", "method", "evidence"]
        assert 0.0 <= row["score"] <= 1.0 and row["rank"] >= 1
    csv_lines = (out / "suggestions.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0].startswith("\ufeffsource,segment_id,speaker,text,suggested,code_1,score_1")
    assert (out / "codebook.yaml").exists()
    rerun = runner.invoke(app, args)
    assert rerun.output.count("unchanged, skipped") == 3


def test_cli_train_then_suggest_with_the_model(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "run"
    sets = _fast(tmp_path / 'c')
    assert runner.invoke(app, ["run", str(sample_dir), "--out", str(out), *sets]).exit_code == 0
    model = tmp_path / "models" / "m"
    result = runner.invoke(app, ["train", str(out), "--gold",
                                 str(sample_dir / "gold" / "codings.csv"), "--coder", "A",
                                 "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert "cv_top1_accuracy" in result.output
    info = json.loads((model / "head.json").read_text())
    assert info["embedder"].startswith("hashed-ngrams:") and len(info["code_ids"]) == 14
    result = runner.invoke(app, ["suggest", str(out), "--model", str(model)])
    assert result.exit_code == 0, result.output
    methods = {r["method"] for r in _read(out / "suggestions.jsonl")}
    assert methods == {"trained:m"}
    result = runner.invoke(app, ["evaluate", str(out), "--gold",
                                 str(sample_dir / "gold" / "codings.csv"), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert "NOT A FAIR TEST" in result.output  # the model saw these sources in training
    again = runner.invoke(app, ["train", str(out), "--gold",
                                str(sample_dir / "gold" / "codings.csv"), "--out", str(model)])
    assert again.exit_code == 2 and "already exists" in again.output
    held = runner.invoke(app, ["train", str(out), "--gold", str(sample_dir / "gold" /
                                                                "codings.csv"),
                               "--exclude-source", "p03", "--exclude-source", "p06",
                               "--out", str(model), "--force"])
    assert held.exit_code == 0, held.output
    info = json.loads((model / "head.json").read_text())
    assert not any(s.startswith(("p03", "p06")) for s in info["training"]["sources"])
    runner.invoke(app, ["suggest", str(out), "--head", str(model), "--force"])
    fair = runner.invoke(app, ["evaluate", str(out), "--gold", str(sample_dir / "gold" /
                                                                   "codings.csv"),
                               "--source", "p03_occupational_therapist_clubhouse.vtt",
                               "--bootstrap", "0"])
    assert fair.exit_code == 0, fair.output
    assert "NOT A FAIR TEST" not in fair.output


def _assert_clean_error(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output


BAD_INPUTS = {
    "empty.txt": (b"", "empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "notes.pdf": (b"%PDF-1.4", "damaged or incomplete"),
    "notes.pages": (b"PK\x03\x04", "unsupported file type"),
    "broken.vtt": (b"WEBVTT\n\n00:00:01.000 --> nonsense\nhello\n", "malformed cue timing"),
    "broken.srt": (b"1\n00:00:01,000 -> 00:00:02,000\nhi\n", "malformed cue timing"),
    "broken.docx": (b"PK\x03\x04 not really a zip", "not a readable Word document"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_cli_bad_input_is_a_clean_error_and_writes_nothing(tmp_path: Path, name: str) -> None:
    data, message = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "run"
    result = runner.invoke(app, ["ingest", str(path), "--out", str(out)])
    _assert_clean_error(result, name, message)
    assert not out.exists()


def test_cli_missing_path_and_bad_codebook(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.txt"), "--out",
                                 str(tmp_path / "r")])
    _assert_clean_error(result, "nope.txt", "no such file")
    bad = tmp_path / "cb.yaml"
    bad.write_text("name: x\nversion: 1\nthemes:\n  - id: t\n    name: T\n    codes: []\n")
    _assert_clean_error(runner.invoke(app, ["codebook", "validate", str(bad)]),
                        "cb.yaml, line 6", "has no codes")


def test_cli_failed_stage_keeps_the_previous_outputs(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "run"
    assert runner.invoke(app, ["ingest", str(sample_dir / "p01_nurse_day_ward.txt"), "--out",
                               str(out)]).exit_code == 0
    before = (out / "sources.jsonl").read_bytes()
    (tmp_path / "bad.txt").write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(sample_dir / "p01_nurse_day_ward.txt"),
                                 str(tmp_path / "bad.txt"), "--out", str(out)])
    _assert_clean_error(result, "bad.txt")
    assert (out / "sources.jsonl").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_cli_unknown_config_key_and_old_run_folder(tmp_path: Path, sample_dir: Path) -> None:
    result = runner.invoke(app, ["ingest", str(sample_dir), "--out", str(tmp_path / "r"),
                                 "--set", "segment.unitt=turn"])
    _assert_clean_error(result, "unknown configuration key 'segment.unitt'")
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text('{"format_version": 0, "stages": {}}')
    _assert_clean_error(runner.invoke(app, ["segment", str(old)]), "format version 0")


def test_cli_suggest_with_a_missing_model_or_empty_codebook(tmp_path: Path,
                                                            sample_dir: Path) -> None:
    out = tmp_path / "run"
    sets = _fast(tmp_path / 'c')
    runner.invoke(app, ["ingest", str(sample_dir / "p01_nurse_day_ward.txt"), "--out", str(out)])
    runner.invoke(app, ["segment", str(out)])
    _assert_clean_error(runner.invoke(app, ["suggest", str(out), "--model",
                                            str(tmp_path / "nomodel"), *sets]),
                        "no such trained model folder")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    _assert_clean_error(runner.invoke(app, ["suggest", str(out), "--codebook", str(empty),
                                            *sets]), "the codebook is empty")


def test_cli_export_refuses_to_overwrite_a_file(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "run"
    runner.invoke(app, ["ingest", str(sample_dir / "p01_nurse_day_ward.txt"), "--out", str(out)])
    runner.invoke(app, ["segment", str(out)])
    sheet = tmp_path / "review.csv"
    sheet.write_text("my notes\n", encoding="utf-8")
    result = runner.invoke(app, ["export", str(out), "--out", str(sheet)])
    _assert_clean_error(result, "review.csv", "already exists", "--force")
    assert sheet.read_text(encoding="utf-8") == "my notes\n"


def _one_source_run(tmp_path: Path, sample_dir: Path) -> tuple[Path, Path, list[str]]:
    """A corpus folder holding p01 and a finished fast run of it: (corpus, run, options)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes((sample_dir / "p01_nurse_day_ward.txt").read_bytes())
    out = tmp_path / "run"
    sets = _fast(tmp_path / "c")
    assert runner.invoke(app, ["run", str(corpus), "--out", str(out), *sets]).exit_code == 0
    return corpus, out, sets


def test_cli_run_checks_everything_before_changing_the_run(tmp_path: Path,
                                                           sample_dir: Path) -> None:
    corpus, out, sets = _one_source_run(tmp_path, sample_dir)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (corpus / "b.txt").write_bytes((sample_dir / "p05_case_manager_community_center.txt")
                                   .read_bytes())
    bad = tmp_path / "dup.yaml"
    bad.write_text("name: x\nversion: 1\nthemes:\n  - id: t\n    name: T\n    codes:\n"
                   "      - {id: t, name: C, definition: d}\n")
    result = runner.invoke(app, ["run", str(corpus), "--out", str(out), "--codebook", str(bad),
                                 *sets])
    _assert_clean_error(result, "dup.yaml", "duplicate id")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    result = runner.invoke(app, ["run", str(corpus), "--out", str(out), "--unit", "paragraph",
                                 *sets])
    _assert_clean_error(result, "'segment.unit' must be one of")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_cli_reingest_removes_stale_outputs_but_keeps_decisions(tmp_path: Path,
                                                                sample_dir: Path) -> None:
    corpus, out, sets = _one_source_run(tmp_path, sample_dir)
    (out / "decisions.jsonl").write_text('{"keep": "me"}\n')
    (corpus / "b.txt").write_text("Interviewer: Hello?\n\nNurse K: Hi, I work nights on the "
                                  "ward and I have a lot to say about recovery.\n")
    result = runner.invoke(app, ["ingest", str(corpus), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (out / "segments.jsonl").exists() and not (out / "suggestions.jsonl").exists()
    assert (out / "decisions.jsonl").read_text() == '{"keep": "me"}\n'
    assert runner.invoke(app, ["run", str(corpus), "--out", str(out), *sets]).exit_code == 0
    (out / "evaluation.json").write_text("{}")
    assert runner.invoke(app, ["suggest", str(out), "--threshold", "0.5"]).exit_code == 0
    assert not (out / "evaluation.json").exists()  # figures of the old suggestions


def test_cli_warns_about_skipped_files_and_missing_speaker_labels(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.pages").write_bytes(b"PK\x03\x04")
    (corpus / "t.txt").write_text("\n".join(
        f"INTERVIEWER - question {i}?\nRESPONDENT - answer number {i} is long enough."
        for i in range(5)) + "\n")
    result = runner.invoke(app, ["ingest", str(corpus), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "1 file(s) skipped" in result.output and "notes.pages" in result.output
    assert "t.txt: no speaker labels recognised" in result.output


def test_cli_suggest_in_chunks_writes_the_same_files(tmp_path: Path, sample_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring chunk by chunk (bounded memory) gives exactly what one pass gives."""

    out = tmp_path / "run"
    sets = _fast(tmp_path / 'c')
    source = str(sample_dir / "p05_case_manager_community_center.txt")
    assert runner.invoke(app, ["run", source, "--out", str(out), *sets]).exit_code == 0
    whole = {n: (out / n).read_bytes() for n in ("suggestions.jsonl", "suggestions.csv")}
    monkeypatch.setattr("pipeline.stages.suggest.SUGGEST_CHUNK", 7)
    assert runner.invoke(app, ["suggest", str(out), "--force", *sets]).exit_code == 0
    assert {n: (out / n).read_bytes() for n in whole} == whole


def test_cli_changing_one_setting_keeps_the_runs_other_settings(tmp_path: Path,
                                                                sample_dir: Path) -> None:
    out = tmp_path / "run"
    source = str(sample_dir / "p05_case_manager_community_center.txt")
    assert runner.invoke(app, ["run", source, "--out", str(out), *_fast(tmp_path / "c"),
                               "--set", "suggest.top_k=5", "--set",
                               "segment.fragment_policy=keep"]).exit_code == 0
    assert runner.invoke(app, ["suggest", str(out), "--threshold", "0.2"]).exit_code == 0
    assert runner.invoke(app, ["segment", str(out), "--unit", "turn"]).exit_code == 0
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert config["embed"]["backend"] == "hashed-ngrams" and config["suggest"]["top_k"] == 5
    assert config["suggest"]["threshold"] == 0.2
    assert config["segment"] == {**config["segment"], "unit": "turn", "fragment_policy": "keep"}


def test_cli_a_torn_last_decision_does_not_block_export(tmp_path: Path, sample_dir: Path) -> None:
    """A crash mid-append leaves a torn last line: it is skipped, the rest is kept."""
    out = tmp_path / "run"
    source = str(sample_dir / "p05_case_manager_community_center.txt")
    sets = _fast(tmp_path / 'c')
    assert runner.invoke(app, ["run", source, "--out", str(out), *sets]).exit_code == 0
    segment = _read(out / "segments.jsonl")[0]["id"]
    good = json.dumps({"segment_id": segment, "code_id": "maintaining_hope", "verdict": "accept",
                       "coder": "Ann", "timestamp": "2026-11-25T10:00:00", "note": ""})
    (out / "decisions.jsonl").write_text(good + '\n{"segment_id": "p05', encoding="utf-8")
    result = runner.invoke(app, ["export", str(out), "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 0, result.output
    assert "1 decisions" in result.output


def test_cli_suggestions_csv_never_holds_a_live_formula(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "@home.txt").write_text(
        'Interviewer: Tell me about recovery.\n\nNurse K: =HYPERLINK("http://x.example","x") '
        "I have a client who hears voices but works every day.\n", encoding="utf-8")
    out = tmp_path / "run"
    sets = _fast(tmp_path / 'c')
    assert runner.invoke(app, ["run", str(corpus), "--out", str(out), *sets]).exit_code == 0
    import csv as csv_module

    rows = list(csv_module.reader((out / "suggestions.csv").open(encoding="utf-8-sig")))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "@", "+", "-")) for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    sheet = tmp_path / "review.csv"
    assert runner.invoke(app, ["export", str(out), "--out", str(sheet)]).exit_code == 0
    from pipeline.spreadsheet import read_sheet

    assert read_sheet(sheet)[0].segment_id.startswith("@home.txt:")


def test_cli_jobs_gives_the_same_run_and_the_same_clean_errors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (corpus / name).write_text(f"Interviewer: Hi?\nNurse K: text of {name}, long enough.\n"
                                   "Interviewer: And?\nNurse K: Then I went home. It was late.\n")
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"run{jobs}"
        assert runner.invoke(app, ["ingest", str(corpus), "--out", str(out), "--jobs", jobs,
                                   "-q"]).exit_code == 0
        assert runner.invoke(app, ["segment", str(out), "-j", jobs, "-q"]).exit_code == 0
        outputs.append({n: (out / n).read_bytes() for n in ("sources.jsonl", "segments.jsonl")})
    assert outputs[0] == outputs[1]
    (corpus / "bad.vtt").write_bytes(b"WEBVTT\n\n00:00:01.000 --> nonsense\nhello\n")
    for command in (["ingest", str(corpus), "--out"], ["run", str(corpus), *_fast(tmp_path),
                                                       "--out"]):
        result = runner.invoke(app, [*command, str(tmp_path / "new"), "--jobs", "2"])
        _assert_clean_error(result, "bad.vtt", "malformed cue timing")
        assert not (tmp_path / "new").exists()
    result = runner.invoke(app, ["ingest", str(corpus), "--out", str(tmp_path / "x"), "--jobs",
                                 "-1"])
    assert result.exit_code == 2 and "--jobs" in result.output


def test_cli_ctrl_c_is_one_line_and_status_130(tmp_path: Path, sample_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("pipeline.cli.run.run_pipeline", interrupted)
    result = runner.invoke(app, ["run", str(sample_dir), "--out", str(tmp_path / "run"),
                                 *_fast(tmp_path / "c")])
    assert result.exit_code == 130
    assert result.output.strip().splitlines() == [
        "Interrupted. Finished embedding batches are cached; run the same command again to "
        "resume."]


# `python -c` this, then the arguments of a `precode` command: the command runs as usual, but
# once the segment stage has written its first source to its temporary file (the rest are
# with the worker pool), it prints "paused" and waits on its stdin, where a Ctrl-C matters.
# `parallel_map` is replaced wherever a module holds it, so it does not matter which module
# of `pipeline.stages` the segment stage lives in.
_PAUSE_IN_SEGMENT = """
import contextlib, pathlib, sys
import pipeline.cli, pipeline.stages

real_map = pipeline.stages.parallel_map
out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1])

@contextlib.contextmanager
def parallel_map(*args, **kwargs):
    with real_map(*args, **kwargs) as map_:
        def paused(func, items):
            for n, result in enumerate(map_(func, items)):
                yield result
                if n == 0 and any(out.glob(".segments.jsonl.*.tmp")):
                    print("paused", flush=True)
                    sys.stdin.readline()
        yield paused

holders = [(module, name) for module in list(sys.modules.values())
           if getattr(module, "__name__", "").startswith("pipeline")
           for name, value in list(vars(module).items()) if value is real_map]
if not holders:
    sys.exit("no module holds pipeline.stages.parallel_map")
for module, name in holders:
    setattr(module, name, parallel_map)
sys.argv[0] = "precode"
pipeline.cli.main()
"""


def test_cli_sigint_stops_a_run_cleanly(tmp_path: Path, sample_dir: Path) -> None:
    """A real Ctrl-C (SIGINT) in the middle of `precode run --jobs 2`: one line, status 130,
    no temporary file left, nothing half-written, and the same command then finishes the run.

    The signal is sent once the run is where it matters, never on a timer: in the segment
    stage, its temporary file begun, workers running (see `_PAUSE_IN_SEGMENT`)."""
    import queue
    import signal
    import threading

    out = tmp_path / "run"
    command = ["run", str(sample_dir), "--out", str(out), "--jobs", "2", "-q",
               *_fast(tmp_path / "cache")]
    # Started as an interactive shell starts a command: Ctrl-C not ignored, whatever this
    # process' own disposition is. A child inherits an ignored SIGINT, and pytest itself runs
    # with SIGINT ignored when a non-interactive shell started it in the background (`cmd &`).
    proc = subprocess.Popen([sys.executable, "-c", _PAUSE_IN_SEGMENT, *command], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    said: queue.Queue[str] = queue.Queue()

    def watch() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, ""):
            said.put(line)
            if line == "paused\n":
                return
        said.put("")  # the run ended without pausing

    threading.Thread(target=watch, daemon=True).start()
    try:
        while (line := said.get(timeout=120)) not in ("paused\n", ""):
            pass
    except queue.Empty:
        line = ""
    if line != "paused\n":
        proc.kill()
        pytest.fail(f"the run never reached the segment stage: {proc.communicate()[1]}")
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] \
        == [next(out.glob(".segments.jsonl.*.tmp")).name]  # segments.jsonl half-written
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    # -SIGINT: CPython ends by its own SIGINT when a Ctrl-C hit code run by exec() (as in
    # dataclasses), even once handled; a shell shows 130 for both.
    assert proc.returncode in (130, -signal.SIGINT), stderr
    assert [line for line in stderr.splitlines() if not line.startswith("Warning:")] == [
        "Interrupted. Finished embedding batches are cached; run the same command again to "
        "resume."]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not (out / "segments.jsonl").exists()
    stages = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]
    assert "ingest" in stages and "segment" not in stages
    again = subprocess.run([sys.executable, "-m", "pipeline", *command], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (out / "suggestions.jsonl").exists()
