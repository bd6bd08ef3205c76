"""The run-level stages: parallel ingest and segment (`jobs`), and failures that change nothing."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import pipeline.errors as errors
from pipeline import ingest
from pipeline.errors import ConfigError, EmptyInputError, PrecodeError
from pipeline.ingest.participants import Participants
from pipeline.records import Source, Turn
from pipeline.stages import ingest_stage, parallel_map, resolve_jobs, segment_stage
from tests.conftest import SAMPLE

OUTPUTS = ("sources.jsonl", "segments.jsonl")
ERRORS = sorted((c for c in vars(errors).values()
                 if isinstance(c, type) and issubclass(c, PrecodeError)), key=lambda c: c.__name__)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_stages_errors_survive_pickling_with_path_line_and_hint(cls: type[PrecodeError]) -> None:
    """A worker process sends its error back pickled: the CLI must print the same message."""
    error = cls("it broke", path=Path("/data/a.txt"), line=7, hint="fix it")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert (back.message, back.path, back.line, back.hint) == ("it broke", "/data/a.txt", 7,
                                                               "fix it")
    assert back.render() == error.render() == str(back)


def test_stages_jobs_2_writes_the_same_files_as_jobs_1(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    participants = SAMPLE / "participants.csv"
    first = ingest_stage([SAMPLE], one, participants=participants, jobs=1)
    second = ingest_stage([SAMPLE], two, participants=participants, jobs=2)
    assert (first.counts, first.warnings) == (second.counts, second.warnings)
    assert segment_stage(one, jobs=1).counts == segment_stage(two, jobs=2).counts
    for name in OUTPUTS:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    # The number of workers is not part of a stage's identity: nothing to redo.
    assert ingest_stage([SAMPLE], one, participants=participants, jobs=2).skipped
    assert segment_stage(one, jobs=2).skipped


def test_stages_a_worker_error_is_the_same_error_and_changes_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.txt", "c.txt", "d.txt"):
        (corpus / name).write_text(f"Interviewer: Hi?\nNurse K: text of {name}, long enough.\n")
    out = tmp_path / "run"
    ingest_stage([corpus], out)
    before = _snapshot(out)
    (corpus / "b.txt").write_bytes(b"")
    for jobs in (1, 2):
        with pytest.raises(EmptyInputError) as info:
            ingest_stage([corpus], out, jobs=jobs)
        assert info.value.path == str(corpus / "b.txt")
        assert "b.txt" in info.value.render() and "How to fix" in info.value.render()
        assert _snapshot(out) == before  # no half file, no temp file, manifest unchanged
    with pytest.raises(EmptyInputError):
        ingest_stage([corpus], tmp_path / "new" / "run", jobs=2)
    assert not (tmp_path / "new").exists()  # a failed first ingest leaves no folder behind


def test_stages_ctrl_c_during_ingest_or_segment_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    ingest_stage([SAMPLE / "p01_nurse_day_ward.txt",
                  SAMPLE / "p05_case_manager_community_center.txt"], out)
    segment_stage(out)
    before = _snapshot(out)
    calls = []

    def interrupted(*args: object, **kwargs: object) -> Source:
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    real = ingest.read
    monkeypatch.setattr(ingest, "read", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_stage([SAMPLE], out)
    assert _snapshot(out) == before
    monkeypatch.setattr("pipeline.stages.segment.segment",
                        lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        segment_stage(out, force=True)
    assert _snapshot(out) == before


def test_stages_resolve_jobs() -> None:
    assert resolve_jobs(1) == 1 and resolve_jobs(3) == 3
    assert resolve_jobs(0) == (os.cpu_count() or 1)
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="jobs must be 0 or a positive"):
            resolve_jobs(bad)  # type: ignore[arg-type]


def test_stages_parallel_map_keeps_input_order() -> None:
    items = [[3, 1], [2], [], [5, 5, 5]] * 10
    with parallel_map(2) as map_:
        assert list(map_(sum, items)) == [sum(i) for i in items]
    with parallel_map(1) as map_:
        assert map_ is map


def _source(name: str, *speakers: str) -> Source:
    text = "".join(f"{s}: words\n" for s in speakers)
    turns, at = [], 0
    for s in speakers:
        turns.append(Turn(s, "participant", at + len(s) + 2, at + len(s) + 7))
        at += len(s) + 8
    return Source(id=name, name=name, text=text, turns=tuple(turns))


def test_stages_participants_are_applied_one_source_at_a_time(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("source,speaker,role_title\n"
                   "a,,first\n"          # the stem 'a' names the last source having it
                   ",Ann,nurse\n"
                   "zzz,,none\n"
                   "b.txt,Bob,doctor\n"
                   "b.txt,,second\n"
                   "b.txt,,third\n")     # later rows win
    names = ["a.txt", "sub/a.md", "b.txt"]
    table = Participants(csv, names)
    got = [table.apply(_source(n, "Ann", "Bob")) for n in names]
    assert "attributes" not in got[0].metadata
    assert got[1].metadata["attributes"] == {"role_title": "first"}
    assert got[2].metadata == {"speakers": {"Ann": {"role_title": "nurse"},
                                            "Bob": {"role_title": "doctor"}},
                               "attributes": {"role_title": "third"}}
    assert table.unmatched() == [
        f"{csv}, line 4: matches no ingested source (source=zzz, speaker=-); skipped"]


def test_stages_a_pool_that_hangs_while_stopping_is_left_behind() -> None:
    """CPython's Pool.terminate() can hang joining its task handler; stopping must not."""
    import threading
    import time

    from pipeline.stages.parallel import _terminate

    class Stuck:
        joined = False

        def terminate(self) -> None:
            threading.Event().wait()  # never returns

        def join(self) -> None:
            self.joined = True

    class Fine(Stuck):
        def terminate(self) -> None:
            pass

    started = time.perf_counter()
    stuck = Stuck()
    _terminate(stuck, patience=0.2)
    assert time.perf_counter() - started < 2 and not stuck.joined
    fine = Fine()
    _terminate(fine, patience=5)
    assert fine.joined
