"""Builders shared by the review tests: a small hand-made run scored with TF-IDF (no tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.records import Code, Codebook, Segment, Source, Theme, Turn
from pipeline.run_folder import RunFolder
from tests.conftest import write_run

CODEBOOK = Codebook("tiny", "1", (
    Theme("recovery", "Recovery", "How recovery happens.", (
        Code("hope", "Maintaining hope", "Hope for the future keeps a person going.",
             examples=("I keep hope that things get better.", "Hope keeps her going.")),
        Code("living_with_illness", "Coexisting with illness",
             "Living a good life while symptoms remain.",
             examples=("He still hears voices but he works.",)),
    )),
    Theme("support", "Support", "Who supports whom.", (
        Code("peer", "Peer support", "Peers and peer workers support each other.",
             examples=("My peers support me.", "The peer worker shares her story.")),
        Code("staff", "Staff support", "Staff of the ward help and train people.",
             examples=("The staff were kind.", "Nurses train the new workers.")),
    )),
))

# Source id -> turns: (speaker, role, sentences). Participant sentences become segments.
TRANSCRIPTS: dict[str, list[tuple[str, str, list[str]]]] = {
    "s1": [
        ("Interviewer", "interviewer", ["How was your week on the ward?"]),
        ("Nurse", "participant", ["I keep hope for the future every day.",
                                  "My peers support me when I struggle.",
                                  "We also talked about the weather."]),
        ("Interviewer", "interviewer", ["And the staff?"]),
        ("Nurse", "participant", ["The staff at the ward were kind to us.",
                                  "He still hears voices but he works in the bakery."]),
    ],
    "s2": [
        ("Interviewer", "interviewer", ["What do peer workers do?"]),
        ("Social Worker", "participant", ["Peer workers share their own stories.",
                                          "Hope keeps people going through bad days.",
                                          "The staff train new peer workers."]),
        ("Interviewer", "interviewer", ["Anything else?"]),
        ("Social Worker", "participant", ["Lunch was noodles again.",
                                          "She lives with her symptoms and still paints."]),
    ],
}
# What a careful coder would say: segment (source, index among its participant sentences).
TRUTH: dict[tuple[str, int], set[str]] = {
    ("s1", 0): {"hope"}, ("s1", 1): {"peer"}, ("s1", 2): set(), ("s1", 3): {"staff"},
    ("s1", 4): {"living_with_illness"}, ("s2", 0): {"peer"}, ("s2", 1): {"hope"},
    ("s2", 2): {"staff", "peer"}, ("s2", 3): set(), ("s2", 4): {"living_with_illness"},
}


Transcript = list[tuple[str, str, list[str]]]


def build_source(sid: str, transcript: Transcript | None = None) -> tuple[Source, list[Segment]]:
    text, turns, segments = "", [], []
    for speaker, role, sentences in transcript or TRANSCRIPTS[sid]:
        text += f"{speaker}: "
        start = len(text)
        for k, sentence in enumerate(sentences):
            if k:
                text += " "
            if role == "participant":
                s = len(text)
                segments.append(Segment(f"{sid}:{s}-{s + len(sentence)}", sid, s,
                                        s + len(sentence), sentence, speaker, role, len(turns)))
            text += sentence
        turns.append(Turn(speaker, role, start, len(text)))
        text += "\n"
    return Source(sid, f"{sid}.txt", text, tuple(turns)), segments


def make_run(path: Path, config: dict[str, Any], suggest: bool = True,
             transcripts: dict[str, Transcript] | None = None) -> RunFolder:
    """The two-source run (or `transcripts`), segments by hand, suggestions scored for real
    (TF-IDF)."""
    sources, segments = [], []
    for sid, transcript in (transcripts or TRANSCRIPTS).items():
        source, segs = build_source(sid, transcript)
        sources.append(source)
        segments += segs
    run: RunFolder = write_run(path, config, sources, segments, CODEBOOK, suggest)
    return run


def segment_ids() -> dict[tuple[str, int], str]:
    return {(sid, i): seg.id for sid in TRANSCRIPTS
            for i, seg in enumerate(build_source(sid)[1])}


def fill_sheet(path: Path, cells: dict[str, dict[str, str]]) -> None:
    """Fill in review columns of an exported CSV sheet, by segment id, as a reviewer would."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.update(cells.get(row["segment_id"], {}))
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def fixed_clock() -> str:
    return "2024-05-01T10:00:00+08:00"
