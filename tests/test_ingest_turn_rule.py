"""One rule for every format: consecutive turns of one speaker are one turn, its pieces kept.

A label written again for the same speaker (a new paragraph, a new timestamp) and caption
cues of one speaker continue the turn; each piece keeps its span and time in `Turn.parts`, and
no segment or sentence takes in the label between two pieces.
"""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from pipeline.ingest import read
from pipeline.records import Source
from pipeline.segment import segment
from pipeline.suggest.context import context_texts
from tests.test_ingest_odt_rtf import _odt, _p, _rtf
from tests.test_ingest_pdf import Page, make_pdf

FIRST = "I went back to the ward after a long time away."
SECOND = "The others welcomed me as if nothing had changed."
EXCHANGE = (("Interviewer", "How was it?"), ("Psychiatrist A", FIRST),
            ("Psychiatrist A", SECOND), ("Interviewer", "And then?"))


def _files(tmp_path: Path) -> dict[str, Path]:
    """The same exchange in every format: the psychiatrist's answer in two labelled pieces."""
    files = {
        "txt": ("t.txt", f"Interviewer: How was it?\n[00:00:09] Psychiatrist A: {FIRST}\n"
                         f"(00:00:20) Psychiatrist A: {SECOND}\nInterviewer: And then?\n"),
        "md": ("t.md", f"**Interviewer:** How was it?\n\n**Psychiatrist A:** {FIRST}\n\n"
                       f"**Psychiatrist A:** {SECOND}\n\n**Interviewer:** And then?\n"),
        "vtt": ("t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>How was "
                         f"it?\n\n00:00:09.000 --> 00:00:15.000\n<v Psychiatrist A>{FIRST}\n\n"
                         f"00:00:20.000 --> 00:00:26.000\n<v Psychiatrist A>{SECOND}\n\n"
                         "00:00:27.000 --> 00:00:29.000\n<v Interviewer>And then?\n"),
        "srt": ("t.srt", "1\n00:00:01,000 --> 00:00:04,000\nInterviewer: How was it?\n\n"
                         f"2\n00:00:09,000 --> 00:00:15,000\nPsychiatrist A: {FIRST}\n\n"
                         f"3\n00:00:20,000 --> 00:00:26,000\nPsychiatrist A: {SECOND}\n\n"
                         "4\n00:00:27,000 --> 00:00:29,000\nInterviewer: And then?\n"),
    }
    out = {}
    for fmt, (name, text) in files.items():
        out[fmt] = tmp_path / name
        out[fmt].write_text(text, encoding="utf-8")
    document = docx.Document()
    for label, text in EXCHANGE:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}:").bold = True
        paragraph.add_run(f" {text}")
    out["docx"] = tmp_path / "t.docx"
    document.save(str(out["docx"]))
    out["odt"] = _odt(tmp_path, "".join(_p(f"{label}: {text}") for label, text in EXCHANGE))
    out["rtf"] = _rtf(tmp_path, "".join(f"{label}: {text}\\par\n" for label, text in EXCHANGE))
    lines = [(72.0, 700.0 - 20 * k, f"{label}: {text}") for k, (label, text) in
             enumerate(EXCHANGE)]
    out["pdf"] = tmp_path / "t.pdf"
    out["pdf"].write_bytes(make_pdf([Page(text=lines)]))
    return out


@pytest.mark.parametrize("fmt", ["txt", "md", "docx", "odt", "rtf", "pdf", "vtt", "srt"])
def test_ingest_turn_rule_consecutive_pieces_of_one_speaker_are_one_turn(
        tmp_path: Path, fmt: str) -> None:
    source = read(_files(tmp_path)[fmt])
    assert [t.speaker for t in source.turns] == ["Interviewer", "Psychiatrist A", "Interviewer"]
    turn = source.turns[1]
    assert [source.text[p.start:p.end] for p in turn.pieces()] == [FIRST, SECOND]
    assert turn.text_of(source.text).split() == f"{FIRST} {SECOND}".split()
    segments = [s for s in segment(source) if s.turn_index == 1]
    assert [s.text for s in segments] == [FIRST, SECOND]  # no label inside a segment
    assert all(source.text[s.start:s.end] == s.text for s in segments)
    context = context_texts(segments, [source], "turn")
    assert all("Psychiatrist A" not in t for t in context.turn)


@pytest.mark.parametrize("fmt", ["txt", "vtt", "srt"])
def test_ingest_turn_rule_keeps_the_time_of_each_piece(tmp_path: Path, fmt: str) -> None:
    turn = read(_files(tmp_path)[fmt]).turns[1]
    assert [p.time_start for p in turn.pieces()] == [9.0, 20.0]
    assert turn.time_start == 9.0


def test_ingest_turn_rule_a_sentence_across_caption_cues_stays_one_segment(
        tmp_path: Path) -> None:
    path = tmp_path / "c.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Nurse K>When I started on "
                    "the ward\n\n00:00:03.000 --> 00:00:06.000\n<v Nurse K>nobody talked about "
                    "recovery at all.\n", encoding="utf-8")
    source = read(path)
    (turn,) = source.turns
    assert len(turn.pieces()) == 2 and len(turn.runs(source.text)) == 1
    assert [s.text for s in segment(source)] == [
        "When I started on the ward nobody talked about recovery at all."]


def test_ingest_turn_rule_unlabelled_paragraphs_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "u.txt"
    path.write_text("First paragraph of notes.\n\nSecond paragraph of notes.\n", encoding="utf-8")
    source: Source = read(path)
    assert [t.speaker for t in source.turns] == ["unknown", "unknown"]
    assert all(not t.parts for t in source.turns)


def test_ingest_turn_rule_round_trips_through_json(tmp_path: Path) -> None:
    source = read(_files(tmp_path)["txt"])
    assert Source.from_dict(source.to_dict()) == source
    old = source.to_dict()  # a sources.jsonl of an earlier precode has no "parts"
    for turn in old["turns"]:
        del turn["parts"]
    assert Source.from_dict(old).turns[0] == source.turns[0]
