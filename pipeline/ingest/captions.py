"""Subtitle transcripts (`.vtt` from Zoom and Teams, `.srt`), parsed with webvtt-py.

Zoom writes `Name: text` in each cue; Teams writes `<v Name>text</v>`. Consecutive cues of
one speaker merge into one turn and keep the first cue's start and the last cue's end time.
The source text is rendered as `Speaker: utterance` paragraphs, readable in any QDA tool.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import MalformedTranscriptError
from pipeline.ingest.speakers import match_label, parse_timestamp, role_for
from pipeline.records import Turn, TurnPart

_TIME_VTT = r"(?:\d{1,2}:)?\d{2}:\d{2}\.\d{3}"
_TIME_SRT = r"\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}"
_TIMING = {
    "vtt": re.compile(rf"^\s*{_TIME_VTT}\s+-->\s+{_TIME_VTT}(\s|$)"),
    "srt": re.compile(rf"^\s*{_TIME_SRT}\s*-->\s*{_TIME_SRT}\s*$"),
}
# Anything that looks like a timing line: a time then an arrow, or two bare clock times.
_TIMING_LIKE = re.compile(
    r"^\s*\d[\d:.,]*\s*-+>|^\s*\d{1,2}:\d{2}[\d:.,]*\s+\d{1,2}:\d{2}[\d:.,]*\s*$")
_VOICE = re.compile(r"<v(?:\.[^\s>]+)*\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")


@dataclass
class _Cue:
    speaker: str | None
    text: str
    start: float | None
    end: float | None


def read_captions(raw: str, path: Path, fmt: str,
                  interviewer_names: Sequence[str]) -> tuple[str, list[Turn]]:
    _check_timings(raw, path, fmt)
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.from_buffer(io.StringIO(raw), format=fmt).captions
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        raise MalformedTranscriptError(
            f"not a valid {fmt.upper()} file ({exc})", path=path,
            hint=f"check the file in a text editor; a {fmt.upper()} file is a list of cues "
                 "with a timing line such as 00:00:01.000 --> 00:00:04.000",
        ) from exc
    cues = [_cue(c) for c in captions]
    cues = [c for c in cues if c.text]
    if not cues:
        raise MalformedTranscriptError(
            f"no captions with text found in this {fmt.upper()} file", path=path,
            hint="check that the export contains the transcript, not only a header",
        )
    return _render(cues, interviewer_names)


def _check_timings(raw: str, path: Path, fmt: str) -> None:
    lines = raw.split("\n")
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise MalformedTranscriptError(
            "a WebVTT file must start with the line 'WEBVTT'", path=path, line=1,
            hint="if this is an SRT file, rename it to .srt; otherwise re-export it",
        )
    for number, line in enumerate(lines, 1):
        if _TIMING_LIKE.search(line) and not _TIMING[fmt].match(line):
            raise MalformedTranscriptError(
                f"malformed cue timing {line.strip()!r}", path=path, line=number,
                hint="a timing line reads like 00:01:02.500 --> 00:01:05.000",
            )


def _cue(caption: Any) -> _Cue:
    raw = caption.raw_text
    voice = _VOICE.search(raw)
    text = " ".join(_TAG.sub("", raw).split())
    speaker = voice.group(1).strip() if voice else None
    if speaker is None:
        found = match_label(text)
        if found:
            speaker, text = found[0], text[found[1]:].strip()
    return _Cue(speaker, text, parse_timestamp(caption.start), parse_timestamp(caption.end))


def _render(cues: list[_Cue], interviewer_names: Sequence[str]) -> tuple[str, list[Turn]]:
    # Consecutive cues of one speaker are one turn (a cue without a speaker continues the
    # previous speaker's); each cue stays a part of it, with its own times.
    groups: list[tuple[str | None, list[_Cue]]] = []
    for cue in cues:
        speaker = cue.speaker or (groups[-1][0] if groups else None)
        if groups and groups[-1][0] == speaker:
            groups[-1][1].append(cue)
        else:
            groups.append((speaker, [cue]))
    parts: list[str] = []
    turns: list[Turn] = []
    pos = 0
    for speaker_name, group in groups:
        speaker = speaker_name or "unknown"
        prefix = f"{speaker}: " if speaker_name else ""
        start = pos + len(prefix)
        body = " ".join(c.text for c in group)
        pieces: list[TurnPart] = []
        offset = start
        for c in group:
            pieces.append(TurnPart(offset, offset + len(c.text), c.start, c.end))
            offset += len(c.text) + 1
        parts.append(prefix + body)
        turns.append(Turn(speaker, role_for(speaker, interviewer_names), start,
                          start + len(body), group[0].start, group[-1].end,
                          parts=tuple(pieces) if len(pieces) > 1 else ()))
        pos += len(prefix) + len(body) + 2
    return "\n\n".join(parts), turns
