"""Bold lead-in speaker labels, as word processors write them (.docx, .odt, .rtf).

A paragraph that starts with bold text that looks like a name (`**Nurse K:** ...`, also
without a colon) is labelled by it, whatever the label rules for typed text would say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.ingest.encoding import normalize
from pipeline.ingest.speakers import MAX_LABEL_CHARS, Line

_BOLD_LABEL = re.compile(rf"^\s*(?P<label>[^:：\n]{{1,{MAX_LABEL_CHARS}}}?)\s*[:：]?\s*$")


@dataclass(frozen=True)
class Run:
    """A piece of a line's text and whether it is set in bold."""

    text: str
    bold: bool


def bold_label(runs: Sequence[Run], text: str) -> tuple[str | None, int | None]:
    """A label written in bold at the start of a line, with or without a colon.

    `text` is the line's normalized text (the runs joined); returns the label and the offset in
    the line where the utterance begins, or (None, None). The rules are those of the .docx
    reader: the bold lead-in must not be the whole line, and must look like a name (at most
    four words, `MAX_LABEL_CHARS` characters, no colon inside).
    """
    bold = ""
    for run in runs:
        if not run.text:
            continue
        if not run.bold:
            break
        bold += run.text
    bold = normalize(bold).replace("\n", " ")
    if not bold.strip() or len(bold) >= len(text.rstrip()) or not text.startswith(bold):
        return None, None
    m = _BOLD_LABEL.match(bold)
    if not m or len(m.group("label").split()) > 4:
        return None, None
    body = len(bold)
    rest = text[body:]
    if not bold.rstrip().endswith((":", "：")) and rest.lstrip().startswith((":", "：")):
        body += len(rest) - len(rest.lstrip()) + 1  # "**Nurse K**: text"
    while body < len(text) and text[body] in " \t":
        body += 1
    return m.group("label").strip(), body


def lines_from_runs(rows: Iterable[Sequence[Run]]) -> tuple[str, list[Line]]:
    """The normalized text of `rows` (one line each, joined with `\\n`) and its `Line`s, each
    with its bold lead-in label forced."""
    lines: list[Line] = []
    pos = 0
    for runs in rows:
        text = normalize("".join(run.text for run in runs)).replace("\n", " ")
        label, body = bold_label(runs, text)
        lines.append(Line(pos, text, forced_label=label, forced_body=body))
        pos += len(text) + 1
    return "\n".join(line.text for line in lines), lines
