"""Speaker labels in typed transcripts, and the roles they imply.

Handles `Name: text` lines (ASCII or full-width colon), timestamps around the label
(`[00:12:05]`, `(12:05)`, `00:12:05`), Otter-style exports (`Name  0:03` on a line of its
own, then the utterance), continuation lines without a label, and files with no labels.
A label is a short name whose words are capitalized (`Nurse K`, `Social Worker I`, `P03`,
`Speaker 2`) or a short CJK name; "My goal is simple: work." is text, not a speaker. In a file
with several labelled lines, a label seen only once is demoted to text, because a real
speaker speaks more than once and a one-off capitalized phrase before a colon usually is not.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.records import Turn

_TS = r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?(?!\d)"
_TS_WRAPPED = rf"(?:\[{_TS}\]|\({_TS}\)|{_TS})"
_WORD = r"(?:[^\W_]|\#)[\w.'\-\#]*"  # checked by _is_label: capitalized, a letter somewhere
# An optional note in parentheses after the name: "P1 (Nurse)", "Interviewer (Anna)".
_NOTE = r"(?:[ ]\((?=[^)\n]*[^\W\d_])[^()\n]{1,24}\))"
_LATIN_LABEL = rf"{_WORD}(?:[ ]{_WORD}){{0,3}}{_NOTE}?"
# A CJK name, optionally with a short note in brackets: "社工師(陳)", "個管師【林】".
_CJK_NOTE = r"(?:[ ]?[(（【\[][^()（）【】\[\]\n]{1,8}[)）】\]])"
_CJK_LABEL = (r"[\u3400-\u9fff\uf900-\ufaff][\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]{0,7}"
              rf"{_CJK_NOTE}?")
_LABEL = rf"(?:{_LATIN_LABEL}|{_CJK_LABEL})"
_EMPH = r"(?:\*\*|__)?"

# [ts] Label [ts]: text      (markdown bold around the label is allowed)
LABEL_LINE = re.compile(
    rf"^[ \t]*(?:(?P<ts1>{_TS_WRAPPED})[ \t]*)?{_EMPH}(?P<label>{_LABEL}){_EMPH}"
    rf"(?:[ \t]*(?P<ts2>{_TS_WRAPPED}))?[ \t]*{_EMPH}[:：](?!\d){_EMPH}[ \t]*"
    rf"(?:(?P<ts3>{_TS_WRAPPED})[ \t]*)?"
)
# Otter.ai: "Speaker Name  0:03" alone on a line, the utterance on the following lines.
OTTER_LINE = re.compile(rf"^(?P<label>{_LATIN_LABEL}|{_CJK_LABEL})[ \t]{{2,}}(?P<ts2>{_TS})[ \t]*$")

DEFAULT_INTERVIEWER_NAMES = (
    "Interviewer", "Moderator", "Facilitator", "Researcher", "I", "Q", "INT",
    # The same roles as Taiwanese transcripts label them, and in Simplified characters.
    "訪談者", "訪問者", "訪員", "訪談員", "研究者", "研究員", "主持人",
    "访谈者", "访问者", "访员", "访谈员", "研究员",
)
_CJK_NAME = re.compile(r"[\u3400-\u9fff]")
_SUFFIX = re.compile(r"\s?[A-Za-z0-9０-９Ａ-Ｚ]{1,3}")
MAX_LABEL_CHARS = 32


@dataclass(frozen=True)
class Line:
    """One line of the normalized text, with its offset; `label_end` forces a label (docx bold)."""

    start: int
    text: str
    forced_label: str | None = None
    forced_body: int | None = None  # offset within the line where the utterance begins


def split_lines(text: str) -> list[Line]:
    lines, pos = [], 0
    for raw in text.split("\n"):
        lines.append(Line(pos, raw))
        pos += len(raw) + 1
    return lines


def parse_timestamp(value: str | None) -> float | None:
    if not value:
        return None
    parts = value.strip("[]()").replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def role_for(speaker: str, interviewer_names: Iterable[str]) -> str:
    """`interviewer` when the label is (or starts with) an interviewer name, else `participant`."""
    if speaker == "unknown":
        return "unknown"
    label = _PAREN.sub("", speaker).strip().casefold()  # "Interviewer (Anna)" -> interviewer
    for name in interviewer_names:
        key = name.strip().casefold()
        if label == key:
            return "interviewer"
        # "Interviewer 2", "Moderator B": a name plus a short suffix.
        if len(key) > 2 and label.startswith(key + " ") and len(label) - len(key) <= 4:
            return "interviewer"
        # "訪談者1", "訪談者A": Chinese labels take the suffix without a space.
        if _CJK_NAME.search(key) and label.startswith(key) and \
                _SUFFIX.fullmatch(label[len(key):]):
            return "interviewer"
    return "participant"


@dataclass
class _Open:
    speaker: str
    start: int
    end: int
    time: float | None


@dataclass(frozen=True)
class _Candidate:
    label: str
    body: int  # offset of the utterance within the line
    time: float | None
    certain: bool  # forced (bold), timestamped or Otter-style: never demoted


def _is_label(label: str) -> bool:
    """A speaker name: short, has a letter, and every word capitalized (or a CJK name)."""
    name = _PAREN.sub("", label).strip()
    if len(name) > MAX_LABEL_CHARS or not any(ch.isalpha() for ch in name):
        return False
    if _CJK_START.match(name):
        return True
    return all(word[0].isupper() or word[0].isdigit() or word[0] == "#"
               for word in name.split())


_PAREN = re.compile(r"\s*(?:\([^()]*\)|（[^（）]*）|【[^【】]*】|\[[^\[\]]*\])\s*$")


_CJK_START = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def match_label(text: str) -> tuple[str, int, float | None, bool] | None:
    """(label, offset where the utterance starts, time, has timestamp) for a `Name: text` line."""
    m = LABEL_LINE.match(text)
    if m and _is_label(m.group("label").strip()):
        ts = m.group("ts1") or m.group("ts2") or m.group("ts3")
        return m.group("label").strip(), m.end(), parse_timestamp(ts), ts is not None
    return None


def _candidate(line: Line) -> _Candidate | None:
    """The label a line starts with, if any."""
    if line.forced_label is not None and line.forced_body is not None:
        return _Candidate(line.forced_label, line.forced_body, None, True)
    found = match_label(line.text)
    if found:
        label, body, time, stamped = found
        return _Candidate(label, body, time, stamped)
    m = OTTER_LINE.match(line.text)
    if m and _is_label(m.group("label").strip()):
        return _Candidate(m.group("label").strip(), len(line.text),
                          parse_timestamp(m.group("ts2")), True)
    return None


def find_turns(text: str, lines: Sequence[Line], interviewer_names: Sequence[str],
               skip: Iterable[int] = ()) -> list[Turn]:
    """Turns of a typed transcript. `skip` holds indexes of lines that belong to no turn."""
    skipped = set(skip)
    candidates = {i: _candidate(line) for i, line in enumerate(lines) if i not in skipped}
    counts = Counter(c.label for c in candidates.values() if c is not None)
    if sum(counts.values()) >= 4:
        for i, cand in list(candidates.items()):
            if cand and counts[cand.label] == 1 and not cand.certain and \
                    role_for(cand.label, interviewer_names) != "interviewer":
                candidates[i] = None
    labelled = any(c is not None for c in candidates.values())

    turns: list[Turn] = []
    current: _Open | None = None

    def close() -> None:
        nonlocal current
        if current is not None and current.end > current.start:
            role = role_for(current.speaker, interviewer_names)
            turns.append(Turn(current.speaker, role, current.start, current.end,
                              time_start=current.time))
        current = None

    for i, line in enumerate(lines):
        if i in skipped:
            close()
            continue
        cand = candidates.get(i)
        if cand is not None:
            close()
            current = _Open(cand.label, line.start + cand.body, line.start + cand.body, cand.time)
            _extend(current, line, cand.body)
            continue
        if not line.text.strip():
            # A blank line ends an unlabelled paragraph, but a labelled turn may go on
            # (Otter puts the utterance below the label; typists leave blank lines inside).
            if current is not None and (current.speaker == "unknown" or not labelled):
                close()
            continue
        if current is None:
            current = _Open("unknown", line.start, line.start, None)
        _extend(current, line, 0)
    close()
    return merge_same_speaker([_strip(text, t) for t in turns if text[t.start:t.end].strip()])


def merge_same_speaker(turns: Sequence[Turn]) -> list[Turn]:
    """One rule for every format: consecutive turns of one named speaker are one turn.

    A transcript may write a speaker's label again for each paragraph or each timestamp
    (`[00:00:09] Psychiatrist A: ...` then `(00:00:20) Psychiatrist A: ...`), as caption files
    split a speaker's talk into cues; either way it is one turn of talk. The merged turn keeps
    each piece's span and time in `parts`. Unlabelled paragraphs (speaker `unknown`) stay apart:
    nothing says they are one person's.
    """
    out: list[Turn] = []
    for turn in turns:
        prev = out[-1] if out else None
        if prev is None or turn.speaker != prev.speaker or turn.speaker == "unknown":
            out.append(turn)
            continue
        out[-1] = Turn(prev.speaker, prev.role, prev.start, turn.end, prev.time_start,
                       turn.time_end, parts=prev.pieces() + turn.pieces())
    return out


def _extend(current: _Open, line: Line, body: int) -> None:
    content = line.text[body:].rstrip()
    if content:
        if current.end == current.start:
            lead = len(line.text[body:]) - len(line.text[body:].lstrip())
            current.start = line.start + body + lead
        current.end = line.start + len(content) + body


def _strip(text: str, turn: Turn) -> Turn:
    span = text[turn.start:turn.end]
    lead = len(span) - len(span.lstrip())
    trail = len(span) - len(span.rstrip())
    if lead == 0 and trail == 0:
        return turn
    return Turn(turn.speaker, turn.role, turn.start + lead, turn.end - trail,
                turn.time_start, turn.time_end)
