"""`precode review`, `train --decisions` and comparing reviewers, through the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluate import evaluate
from pipeline.review import DecisionLog
from pipeline.run_folder import RunFolder
from pipeline.run_folder.decisions import fold_decisions, reviewed_codes
from tests.test_review_support import TRUTH, fill_sheet, make_run, segment_ids

runner = CliRunner()


@pytest.fixture
def run(tmp_path: Path, fast_config: dict) -> RunFolder:
    return make_run(tmp_path / "run", fast_config)


def _review(run: RunFolder, keys: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["review", str(run.path), "--coder", "Ann", "--order",
                                 "document", *args], input=keys)
    return result.exit_code, result.output


def _log(run: RunFolder) -> list[dict]:
    path = run.file("decisions.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_review_cli_scripted_session_records_undoes_and_resumes(run: RunFolder) -> None:
    ids = segment_ids()
    # 1: accept the best suggestion; then a bad key; reject all; a note and a code from the
    # codebook with an accept; undo that; skip; quit.
    code, out = _review(run, "1\nzz\nr\nn came up twice\n2 c staff\nu\ns\nq\n")
    assert code == 0, out
    assert "done 0 · left 10" in out and "done 1 · left 9" in out
    assert "Interviewer" in out and "How was your week on the ward?" in out  # context
    assert "I keep hope for the future every day." in out
    assert "'zz' is not a key" in out
    assert "Saved: accept" in out and "Saved: reject all." in out
    assert "Undone:" in out and "3 segment(s) decided in this session, 1 undone" in out
    assert "Resume: precode review" in out
    lines = _log(run)
    assert {line["verdict"] for line in lines} <= {"accept", "reject", "relabel", "retract"}
    third = [line for line in lines if line["segment_id"] == ids[("s1", 2)]]
    assert {line["note"] for line in third if line["verdict"] != "retract"} == {"came up twice"}
    assert [line["verdict"] for line in third][-3:] == ["retract"] * 3
    log = DecisionLog(run.file("decisions.jsonl")).read()
    assert set(reviewed_codes(log)) == {("Ann", ids[("s1", 0)]), ("Ann", ids[("s1", 1)])}
    # Restart: the two decided segments are not shown again; the undone one is next.
    code, out = _review(run, "q\n")
    assert code == 0 and "Ann: 2 reviewed, 8 to go" in out
    assert "s1.txt · 126-159 · done 2 · left 8" in out  # the undone segment comes first


def test_review_cli_several_codes_and_choosing_from_a_list(run: RunFolder) -> None:
    code, out = _review(run, "c e\n9\n1 c pe\n2\n\nq\n")
    assert code == 0, out
    assert "Pick 1-" in out and "'9' is not one of" in out
    decided = fold_decisions(DecisionLog(run.file("decisions.jsonl")).read())
    confirmed = {d.code_id for d in decided if d.verdict in ("accept", "relabel")}
    assert len(confirmed) == 2  # suggestion 1 plus a code picked from the search


def test_review_cli_ctrl_c_and_end_of_input_keep_what_was_decided(
        run: RunFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    answers: Iterator[str] = iter(["1", "r"])

    def ask(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr("pipeline.cli.review._ask", ask)
    code, out = _review(run, "")
    assert code == 0 and "Stopped: 2 segment(s) decided" in out
    assert len(DecisionLog(run.file("decisions.jsonl")).read()) == 6
    monkeypatch.undo()
    code, out = _review(run, "1\n")  # input ends without q
    assert code == 0 and "Stopped: 1 segment(s)" in out and "Ann has reviewed 3" in out


def test_review_cli_options_and_errors(run: RunFolder) -> None:
    code, out = _review(run, "q\n", "--source", "s2.txt")
    assert code == 0 and "5 to go" in out and "s2.txt" in out
    code, out = _review(run, "q\n", "--order", "random", "--seed", "3")
    assert code == 0, out
    result = runner.invoke(app, ["review", str(run.path), "--coder", "Ann", "--order", "abc"])
    assert result.exit_code == 2 and "--order 'abc' is not an order" in result.output
    result = runner.invoke(app, ["review", str(run.path), "--coder", "Ann", "--code", "nope"])
    assert result.exit_code == 2 and "is not a code of the codebook" in result.output
    result = runner.invoke(app, ["review", str(run.path)])
    assert result.exit_code == 2 and "--coder" in result.output
    result = runner.invoke(app, ["review", str(run.path / "nope"), "--coder", "Ann"])
    assert result.exit_code == 2 and "not a run folder" in result.output
    assert "Traceback" not in result.output


def test_review_cli_from_sheet(run: RunFolder, tmp_path: Path) -> None:
    sheet = tmp_path / "review.csv"
    assert runner.invoke(app, ["export", str(run.path), "--out", str(sheet)]).exit_code == 0
    fill_sheet(sheet, {segment_ids()[("s1", 0)]: {"accept": "hope"}})
    result = runner.invoke(app, ["review", str(run.path), "--from-sheet", str(sheet),
                                 "--coder", "Ann"])
    assert result.exit_code == 0, result.output
    assert "1 with a decision by Ann" in result.output and "Appended 1 decision(s)" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("segment_id,codes,accept\ns1:0-5,,hope\n", encoding="utf-8")
    result = runner.invoke(app, ["review", str(run.path), "--from-sheet", str(bad),
                                 "--coder", "Ann"])
    assert result.exit_code == 2 and "lacks the columns" in result.output


def test_review_cli_train_on_decisions_and_compare_reviewers(run: RunFolder,
                                                             tmp_path: Path) -> None:
    ids = segment_ids()
    # Ann accepts the best suggestion everywhere; Ben agrees but on one segment and never
    # decides on the last two segments of s2.
    keys = "1\n" * 10
    assert _review(run, keys)[0] == 0
    log = DecisionLog(run.file("decisions.jsonl"))
    ann = reviewed_codes(log.read(), ["Ann"])
    assert len(ann) == 10
    from pipeline.records import Decision

    stamp = "2024-05-02T09:00:00+08:00"
    ben = []
    for key in TRUTH:
        if key in (("s2", 3), ("s2", 4)):
            continue
        codes = ann[("Ann", ids[key])] if key != ("s1", 0) else {"peer"}
        ben += [Decision(ids[key], c, "accept", "Ben", stamp) for c in sorted(codes)] or \
            [Decision(ids[key], None, "reject", "Ben", stamp)]
    log.append(ben)
    result = runner.invoke(app, ["evaluate", str(run.path), "--gold",
                                 str(run.file("decisions.jsonl")), "--coder", "Ann",
                                 "--against", "coder:Ben", "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    report = json.loads(run.file("evaluation.json").read_text(encoding="utf-8"))
    assert report["segments"]["evaluated"] == 8  # only segments both decided on
    assert report["overall"]["exact_match"] == pytest.approx(7 / 8)
    same = evaluate(run.path, run.file("decisions.jsonl"), coder="Ann", against="decisions:Ann",
                    draws=0, write=False).report
    assert same["overall"]["exact_match"] == 1.0
    machine = evaluate(run.path, run.file("decisions.jsonl"), coder="Ben", draws=0,
                       write=False).report  # suggestions against reviewer Ben
    assert machine["segments"]["evaluated"] == 8
    assert "compare reviewers" in machine["human_baseline"]["note"]
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(run.path), "--decisions",
                                 str(run.file("decisions.jsonl")), "--reviewer", "Ann",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "10 of them reviewed by Ann" in result.output
    result = runner.invoke(app, ["suggest", str(run.path), "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert len(log.read()) > 30  # re-scoring leaves the decisions as they were
    code, out_text = _review(run, "q\n", "--code", "peer")
    assert code == 0 and "trained:model" in out_text
    result = runner.invoke(app, ["train", str(run.path), "--out", str(tmp_path / "none")])
    assert result.exit_code == 2 and "nothing to train on" in result.output
