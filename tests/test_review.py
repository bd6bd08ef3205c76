"""Review: the decision log, ordering, sessions (keys, undo, resume, blind coding), refits,
the spreadsheet route, and training on decisions. Hand-built runs, TF-IDF, no model."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import CodebookError, ConfigError, RunFolderError
from pipeline.records import Decision, Segment
from pipeline.review import DecisionLog, ReviewFilter, ReviewSession, import_sheet, load_review
from pipeline.review.order import order_rows, uncertainty
from pipeline.review.trainer import Refitter, blend_weight
from pipeline.run_folder import RunFolder
from pipeline.run_folder.decisions import fold_decisions, reviewed_codes
from pipeline.spreadsheet import export_sheet
from pipeline.suggest import SavedHead
from pipeline.suggest.training import Examples
from pipeline.train import train
from tests.test_review_support import TRUTH, fill_sheet, fixed_clock, make_run, segment_ids


@pytest.fixture
def run(tmp_path: Path, fast_config: dict) -> RunFolder:
    return make_run(tmp_path / "run", fast_config)


def _d(segment: str, code: str | None, verdict: str, coder: str = "A") -> Decision:
    return Decision(segment, code, verdict, coder, "2024-05-01T10:00:00+08:00")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- the log -----------------------------------------------------------------------------------


def test_review_log_appends_whole_lines_in_one_write_then_fsyncs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    calls: list[str] = []
    real_write, real_fsync = os.write, os.fsync
    monkeypatch.setattr(os, "write", lambda fd, b: (calls.append("write"), real_write(fd, b))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    assert log.append([_d("s:0-1", "hope", "accept"), _d("s:0-1", "peer", "reject")]) == 2
    assert calls[-2:] == ["write", "fsync"] and calls.count("write") == 1
    assert log.append([]) == 0
    log.append([_d("s:0-1", "hope", "retract")])
    assert [d.verdict for d in log.read()] == ["accept", "reject", "retract"]
    assert (tmp_path / "decisions.jsonl").read_bytes().endswith(b"\n")


def test_review_log_cuts_a_torn_last_line_and_keeps_a_whole_one(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(path)
    log.append([_d("s:0-1", "hope", "accept")])
    with path.open("ab") as fh:
        fh.write(b'{"segment_id": "s:0-1", "code_id": "pe')  # killed mid-write
    assert len(log.read()) == 1  # the torn line is the decision being written: not read
    log.append([_d("s:0-1", "peer", "accept")])
    assert [d.code_id for d in log.read()] == ["hope", "peer"]
    with path.open("ab") as fh:  # a whole record whose newline an editor dropped
        fh.write(json.dumps(_d("s:0-1", "staff", "reject").to_dict()).encode())
    log.append([_d("s:0-1", "hope", "retract")])
    assert [d.code_id for d in log.read()] == ["hope", "peer", "staff", "hope"]


def test_review_log_bad_line_names_the_file_and_line(tmp_path: Path, run: RunFolder) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_text(json.dumps(_d("s:0-1", "hope", "accept").to_dict()) + "\nnot json\n")
    with pytest.raises(RunFolderError, match="line 2"):
        DecisionLog(path).read()
    path.write_text(json.dumps(_d("s:0-1", "hope", "maybe").to_dict()) + "\n")
    with pytest.raises(RunFolderError, match="unknown verdict 'maybe'"):
        DecisionLog(path).read()
    seg = segment_ids()[("s1", 0)]
    path.write_text(json.dumps(_d(seg, "gardening", "accept").to_dict()) + "\n")
    data = load_review(run.path)
    with pytest.raises(RunFolderError, match="code 'gardening' is not in the codebook"):
        DecisionLog(path).read(data.segments, data.codebook)


def test_review_fold_counts_reviewed_segments() -> None:
    log = [_d("a", "hope", "accept"), _d("a", "peer", "reject"), _d("b", "hope", "accept"),
           _d("b", "hope", "retract"), _d("c", "staff", "reject"), _d("a", "hope", "accept", "B")]
    assert reviewed_codes(log) == {("A", "a"): {"hope"}, ("A", "c"): set(), ("B", "a"): {"hope"}}
    assert reviewed_codes(log, ["B"]) == {("B", "a"): {"hope"}}


# -- order and filters -------------------------------------------------------------------------


def test_review_order_uncertain_document_random() -> None:
    proba = np.array([[0.9, 0.1], [0.31, 0.05], [0.02, 0.01], [0.5, 0.28]])
    segs = [Segment(f"s:{i}-{i + 1}", "s", i, i + 1, "x", "P", "participant", 0)
            for i in range(4)]
    assert list(np.round(uncertainty(proba, 0.3), 2)) == [0.2, 0.01, 0.28, 0.02]
    assert order_rows(range(4), "uncertain", proba, 0.3, segs) == [1, 3, 0, 2]
    assert order_rows([3, 0, 2], "document", proba, 0.3, segs) == [0, 2, 3]
    first = order_rows(range(4), "random", proba, 0.3, segs, seed=5)
    assert sorted(first) == [0, 1, 2, 3]
    assert order_rows(range(4), "random", proba, 0.3, segs, seed=5) == first
    resumed = order_rows([r for r in range(4) if r != first[0]], "random", proba, 0.3, segs, 5)
    assert resumed == first[1:]  # a resumed session continues the same sequence
    with pytest.raises(ConfigError, match="unknown order"):
        order_rows(range(4), "alphabetical", proba, 0.3, segs)


def test_review_filters_by_source_code_and_score(run: RunFolder) -> None:
    data = load_review(run.path)
    everything = ReviewFilter().rows(data.segments, data.sources, data.scored.proba,
                                     data.scored.code_ids, data.codebook)
    assert len(everything) == 10
    s2 = ReviewFilter(sources=("s2.txt",)).rows(data.segments, data.sources, data.scored.proba,
                                                data.scored.code_ids, data.codebook)
    assert {data.segments[r].source_id for r in s2} == {"s2"}
    top = data.scored.proba.max(axis=1)
    high = ReviewFilter(min_score=float(np.median(top))).rows(
        data.segments, data.sources, data.scored.proba, data.scored.code_ids, data.codebook)
    assert high and all(top[r] >= np.median(top) for r in high)
    peer = ReviewFilter(codes=("peer",)).rows(data.segments, data.sources, data.scored.proba,
                                              data.scored.code_ids, data.codebook)
    column = list(data.scored.code_ids).index("peer")
    for r in peer:
        assert column in np.argsort(-data.scored.proba[r])[:3]
    with pytest.raises(ConfigError, match="--source 'nope'"):
        ReviewFilter(sources=("nope",)).rows(data.segments, data.sources, data.scored.proba,
                                             data.scored.code_ids, data.codebook)
    with pytest.raises(ConfigError, match="--code 'nope'"):
        ReviewFilter(codes=("nope",)).rows(data.segments, data.sources, data.scored.proba,
                                           data.scored.code_ids, data.codebook)


# -- sessions ----------------------------------------------------------------------------------


def test_review_session_keys_write_the_log(run: RunFolder) -> None:
    session = ReviewSession(load_review(run.path), "A", order="document", clock=fixed_clock)
    assert (session.done, session.left) == (0, 10)
    row = session.current()
    assert row is not None
    shown = session.shown(row)
    assert [s.key for s in shown] == [1, 2, 3] and shown[0].score >= shown[1].score
    assert shown[0].evidence  # why it was suggested
    session.note(row, "  about  the future ")
    step = session.decide(row, accept=[shown[0].key], codes=["staff"])
    verdicts = {(d.code_id, d.verdict) for d in step.decisions}
    expected = {(shown[0].code.id, "accept")} | {(s.code.id, "reject") for s in shown[1:]}
    if "staff" not in {s.code.id for s in shown}:
        expected |= {("staff", "relabel")}
    else:
        expected = {(c, "accept" if c in (shown[0].code.id, "staff") else "reject")
                    for c, _ in expected}
    assert verdicts == expected
    assert {d.note for d in step.decisions} == {"about the future"}
    assert (session.done, session.left) == (1, 9) and session.current() != row
    second = session.current()
    assert second is not None
    session.decide(second, reject_all=True)
    lines = _lines(run.file("decisions.jsonl"))
    assert len(lines) == len(step.decisions) + 3
    assert set(lines[0]) == {"segment_id", "code_id", "verdict", "coder", "timestamp", "note"}
    assert all(line["coder"] == "A" and line["timestamp"] == fixed_clock() for line in lines)
    with pytest.raises(ConfigError, match="no suggestion 4"):
        session.decide(session.current() or 0, accept=[4])
    with pytest.raises(ConfigError, match="reject all cannot"):
        session.decide(session.current() or 0, accept=[1], reject_all=True)


def test_review_session_undo_retracts_and_works_across_sessions(run: RunFolder) -> None:
    data = load_review(run.path)
    session = ReviewSession(data, "A", order="document")
    first = session.current()
    assert first is not None
    session.decide(first, accept=[1])
    second = session.current()
    assert second is not None
    session.decide(second, accept=[2])
    step = session.undo()
    assert step is not None and step.row == second
    assert {d.verdict for d in step.decisions} == {"retract"} and len(step.decisions) == 3
    assert session.current() == second  # shown again
    assert session.done == 1
    # A new session (a restart) can undo what the last one decided.
    again = ReviewSession(data, "A", order="document")
    assert again.done == 1 and again.current() == second
    assert again.undo() is not None and again.done == 0 and again.current() == first
    assert again.undo() is None
    log = DecisionLog(run.file("decisions.jsonl")).read()
    assert not fold_decisions(log)  # everything retracted, nothing rewritten
    assert len(log) == 12


def test_review_session_resumes_and_coders_are_blind(run: RunFolder) -> None:
    data = load_review(run.path)
    ann = ReviewSession(data, "Ann", order="uncertain")
    decided = []
    for _ in range(3):
        row = ann.current()
        assert row is not None
        ann.decide(row, accept=[1])
        decided.append(row)
    resumed = ReviewSession(data, "Ann", order="uncertain")
    assert resumed.done == 3 and resumed.left == 7
    assert not set(resumed.queue) & set(decided)
    ben = ReviewSession(data, "Ben", order="uncertain")
    assert ben.done == 0 and ben.left == 10 and not ben.others_on(decided[0])
    seeing = ReviewSession(data, "Ben", order="uncertain", blind=False)
    assert {d.coder for d in seeing.others_on(decided[0])} == {"Ann"}


def test_review_session_skip_and_search(run: RunFolder) -> None:
    session = ReviewSession(load_review(run.path), "A", order="document")
    first = session.current()
    assert first is not None
    session.skip(first)
    assert session.current() != first and session.left == 10  # skipped, not decided
    assert [c.id for _, c in session.search("peer")] == ["peer"]
    assert [c.id for _, c in session.search("Coexisting")] == ["living_with_illness"]
    assert [c.id for _, c in session.search("living_with")] == ["living_with_illness"]
    assert [c.id for _, c in session.search("train")] == ["staff"]  # from the definition
    assert session.search("gardening") == [] and session.search("  ") == []
    with pytest.raises(ConfigError, match="empty"):
        ReviewSession(session.data, "  ")


# -- refits ------------------------------------------------------------------------------------


def test_review_refit_in_the_background_updates_scores(run: RunFolder) -> None:
    data = load_review(run.path)
    session = ReviewSession(data, "A", order="uncertain", retrain_every=4)
    ids = {v: k for k, v in segment_ids().items()}
    before = session.proba.copy()
    for _ in range(4):
        row = session.current()
        assert row is not None
        truth = TRUTH[ids[data.segments[row].id]]
        shown = session.shown(row)
        keys = [s.key for s in shown if s.code.id in truth]
        extra = sorted(truth - {s.code.id for s in shown})
        session.decide(row, keys, extra, reject_all=not truth)
    assert session.refitter is not None
    session.refitter.wait(30)
    session.current()
    assert session.refit is not None and session.refit.reviewed == 4
    assert any("Refitted on 4 reviewed segments" in m for m in session.messages)
    w = blend_weight(4)
    assert np.allclose(session.proba, w * session.refit.proba + (1 - w) * before)
    assert session.method.endswith("refit on 4 decisions")
    row = session.current()
    assert row is not None
    assert all(s.evidence for s in session.shown(row))  # evidence from the refitted head
    # A restarted session refits at once on what this coder decided before.
    again = ReviewSession(data, "A", retrain_every=4)
    assert again.refitter is not None and (again.refitter.busy or again.refitter.poll())


def test_review_refit_takes_well_under_a_second_for_300_decisions() -> None:
    rng = np.random.default_rng(0)
    n, dim, k = 600, 384, 14
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    segs = [Segment(f"s{i % 6}:{i}-{i + 1}", f"s{i % 6}", i, i + 1, "x", "P", "participant", 0)
            for i in range(n)]
    codes = [f"c{j}" for j in range(k)]
    examples = Examples(vectors[:140], np.eye(k, dtype=np.int8)[np.arange(140) % k],
                        ["example"] * 140, [i % k for i in range(140)])
    refitter = Refitter(vectors, segs, codes, examples)
    labels = {i: {codes[int(rng.integers(k))]} if i % 3 else set() for i in range(300)}
    refitter.fit(labels)  # warm up imports
    started = time.perf_counter()
    result = refitter.fit(labels)
    elapsed = time.perf_counter() - started
    assert result.reviewed == 300 and result.proba.shape == (n, k)
    assert elapsed < 2.0, f"refit took {elapsed:.2f}s"  # ~0.15s on a laptop core


# -- the spreadsheet route ---------------------------------------------------------------------


def test_review_sheet_import_reads_decisions_once(run: RunFolder, tmp_path: Path) -> None:
    sheet = tmp_path / "review.csv"
    export_sheet(run.path, sheet, "csv")
    ids = segment_ids()
    fill_sheet(sheet, {
        ids[("s1", 0)]: {"accept": "hope", "note": "clear case"},
        ids[("s1", 1)]: {"accept": "peer", "relabel": "staff", "reject": "hope"},
        ids[("s1", 2)]: {"reject": "x"},
        ids[("s2", 0)]: {"accept": "peer", "coder": "Ben"},
        ids[("s2", 3)]: {"note": "a note alone"},
    })
    result = import_sheet(run.path, sheet, "Ann", clock=fixed_clock)
    assert (result.rows, result.decided, result.empty) == (10, 3, 6)
    assert result.other_coders == {"Ben": 1}
    assert any("Ben (1)" in w for w in result.warnings)
    assert any("a note without a decision" in w for w in result.warnings)
    log = DecisionLog(run.file("decisions.jsonl")).read()
    assert {d.coder for d in log} == {"Ann"} and len(log) == result.appended
    by = {(d.segment_id, d.code_id): d for d in log}
    assert by[(ids[("s1", 0)], "hope")].note == "clear case"
    assert by[(ids[("s1", 1)], "staff")].verdict == "relabel"
    assert by[(ids[("s1", 1)], "hope")].verdict == "reject"
    assert reviewed_codes(log)[("Ann", ids[("s1", 2)])] == set()
    again = import_sheet(run.path, sheet, "Ann")
    assert again.appended == 0 and again.unchanged == 3


@pytest.mark.parametrize(("cells", "message"), [
    ({"accept": "peer", "reject": "peer"}, "both in accept and in reject"),
    ({"accept": "gardening"}, "unknown code id"),
    ({"segment_id": "s1:0-5", "accept": "peer"}, "not a segment of this run"),
])
def test_review_sheet_bad_rows_stop_the_import_with_the_row(
        run: RunFolder, tmp_path: Path, cells: dict[str, str], message: str) -> None:
    sheet = tmp_path / "review.csv"
    export_sheet(run.path, sheet, "csv")
    ids = segment_ids()
    fill_sheet(sheet, {ids[("s1", 0)]: {"accept": "hope"}, ids[("s1", 1)]: cells})
    with pytest.raises((RunFolderError, CodebookError), match=message) as err:
        import_sheet(run.path, sheet, "Ann")
    assert err.value.line is not None and str(sheet) in err.value.render()
    assert not run.file("decisions.jsonl").exists()  # nothing written


# -- training on decisions ---------------------------------------------------------------------


def test_review_train_on_decisions_alone_and_with_gold(run: RunFolder, tmp_path: Path) -> None:
    ids = segment_ids()
    log = DecisionLog(run.file("decisions.jsonl"))
    log.append([_d(ids[key], code, "accept", "Ann") for key, codes in TRUTH.items()
                for code in sorted(codes) if key[0] == "s1"])
    log.append([_d(ids[("s1", 2)], "hope", "reject", "Ann"),
                _d(ids[("s2", 0)], "peer", "accept", "Ben")])
    result = train(run.path, None, tmp_path / "m", decisions=run.file("decisions.jsonl"),
                   reviewers=["Ann"])
    t = result.training
    assert t["reviewers"] == ["Ann"] and t["reviewed_segments"] == 5 and t["gold"] is None
    assert t["segments"] == 5 and t["coded_segments"] == 4 and t["sources"] == ["s1"]
    head = SavedHead.load(tmp_path / "m")
    assert any(o.startswith("coded:s1:") for o in head.evidence_origins)
    both = train(run.path, None, tmp_path / "m2", decisions=log.read())
    assert both.training["reviewers"] == ["Ann", "Ben"] and both.training["segments"] == 6
    with pytest.raises(ConfigError, match="nothing to train on"):
        train(run.path, None, tmp_path / "m3")
    with pytest.raises(RunFolderError, match="no decisions by 'Cy'"):
        train(run.path, None, tmp_path / "m3", decisions=log.read(), reviewers=["Cy"])


# A project whose participants say things the codebook's examples do not: "sunrise" for hope,
# "clubhouse buddies" for peer support, "case manager" for staff. Zero-shot misses them;
# a head trained on a reviewer's decisions in three transcripts learns them and gets a fourth
# transcript that nobody reviewed right.
JARGON = {
    "hope": ["Every sunrise is a new chance for {n}.", "{n} talks about the sunrise days ahead.",
             "For {n} the sunrise means starting over.", "{n} waits for a sunrise morning."],
    "peer": ["The clubhouse buddies walk with {n}.", "{n} calls the clubhouse buddies at night.",
             "Clubhouse buddies sat with {n} all afternoon.", "{n} and the buddies cook together."],
    "staff": ["The case manager drives {n} to appointments.",
              "{n}'s case manager fills in the forms.",
              "A case manager visits {n} every Monday.", "{n} phones the case manager often."],
    "": ["Lunch for {n} was rice again.", "{n} mentioned the bus was late."],
}


def _jargon_run(path: Path, config: dict) -> tuple[RunFolder, dict[str, set[str]]]:
    transcripts, truth = {}, {}
    for k, (sid, name) in enumerate((("r1", "Mei"), ("r2", "Wen"), ("r3", "Jun"),
                                     ("held", "Lin"))):
        sentences = []
        for code, templates in JARGON.items():
            for t in range(len(templates)):
                sentence = templates[(t + k) % len(templates)].format(n=name)
                sentences.append(sentence)
                truth[(sid, sentence)] = {code} - {""}
        transcripts[sid] = [("Interviewer", "interviewer", ["Tell me about this year."]),
                            ("Nurse", "participant", sentences)]
    run = make_run(path, config, transcripts=transcripts)
    labels = {s.id: truth[(s.source_id, s.text)] for s in run.segments()}
    return run, labels


def test_review_training_on_decisions_improves_held_out_figures(tmp_path: Path,
                                                                 fast_config: dict) -> None:
    from pipeline.embed import make_embedder
    from pipeline.metrics import topk_accuracy
    from pipeline.suggest import score_segments

    run, labels = _jargon_run(tmp_path / "run", fast_config)
    data = load_review(run.path)
    session = ReviewSession(data, "Ann", order="uncertain",
                            where=ReviewFilter(sources=("r1", "r2", "r3")))
    while (row := session.current()) is not None:  # a reviewer who codes like the truth
        truth = labels[data.segments[row].id]
        shown = session.shown(row)
        keys = [s.key for s in shown if s.code.id in truth]
        session.decide(row, keys, sorted(truth - {s.code.id for s in shown}),
                       reject_all=not truth)
    assert session.done == 42
    train(run.path, None, tmp_path / "model", decisions=run.file("decisions.jsonl"))
    held = [s for s in data.segments if s.source_id == "held"]
    truths = [labels[s.id] for s in held]
    embedder = make_embedder(data.config["embed"])
    head = SavedHead.load(tmp_path / "model", embedder.fingerprint, data.codebook.code_ids())
    zero = score_segments(held, data.sources, data.codebook, embedder, data.config["suggest"])
    trained = score_segments(held, data.sources, data.codebook, embedder,
                             data.config["suggest"], head)
    before = topk_accuracy(zero.proba, truths, list(zero.code_ids))
    after = topk_accuracy(trained.proba, truths, list(trained.code_ids))
    assert after >= 0.9 and after > before + 0.2, (before, after)


def test_review_screen_shows_a_long_chinese_segment_whole(tmp_path: Path,
                                                          fast_config: dict) -> None:
    """Chinese has no spaces to wrap at: the screen folds long lines instead of cutting them
    with an ellipsis, which could hide the segment under review."""
    from rich.console import Console

    from pipeline.codebook import load_codebook
    from pipeline.config import REFERENCE_CODEBOOK
    from pipeline.records import Source, Turn
    from pipeline.review.terminal import segment_view
    from tests.conftest import write_run

    question = "訪談者：您怎麼看復元？"
    answer = ("我覺得復元不是症狀完全消失，" * 6 + "那一個月我發現我很喜歡聽病人講他們的故事，"
              "也慢慢懂得陪伴比治療更重要。" + "後來我們一起去公園散步，" * 6)
    text = f"{question}\n護理師K：{answer}"
    start = text.index("那一個月")
    end = text.index("重要。") + 3
    source = Source("zh.txt", "zh.txt", text, (
        Turn("訪談者", "interviewer", 4, len(question)),
        Turn("護理師K", "participant", len(question) + 6, len(text))), language="zh")
    segment = Segment(f"zh.txt:{start}-{end}", "zh.txt", start, end, text[start:end],
                      "護理師K", "participant", 1)
    run = write_run(tmp_path / "run", fast_config, [source], [segment],
                    load_codebook(REFERENCE_CODEBOOK))
    session = ReviewSession(load_review(run.path), "A", order="document")
    out = Console(width=70, record=True, color_system=None)
    row = session.current()
    assert row is not None
    out.print(segment_view(session, row))
    screen = "".join(out.export_text().split())
    assert segment.text in screen


def test_review_undo_at_once_in_two_places_retracts_once(tmp_path: Path) -> None:
    """Several processes (here: threads, each with its own file handle) undo the same segment
    at the same moment: reading what stands and appending the retractions is one locked step,
    so the undos happen one after another, each retracting what still stood, and the log
    holds no retraction of something already retracted."""
    import threading

    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(path)
    log.append([_d("s", "hope", "reject")])  # an earlier verdict, then the one to undo
    log.append([_d("s", "hope", "accept"), _d("s", "peer", "reject")])
    start = threading.Barrier(4)
    done: list[list[Decision]] = []

    def undo() -> None:
        start.wait()
        done.append(DecisionLog(path).retract("s", "A", "2024-05-01T10:00:00+08:00"))

    workers = [threading.Thread(target=undo) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    retracts = [d for d in log.read() if d.verdict == "retract"]
    assert sorted(len(r) for r in done) == [0, 0, 1, 2] and len(retracts) == 3
    assert fold_decisions(log.read()) == []
