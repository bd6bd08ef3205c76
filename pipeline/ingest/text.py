"""Plain-text and Markdown transcripts (`.txt`, `.md`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.ingest.speakers import find_turns, split_lines
from pipeline.records import Turn

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


def turns_from_text(text: str, interviewer_names: Sequence[str],
                    markdown: bool = False) -> list[Turn]:
    lines = split_lines(text)
    skip = [i for i, line in enumerate(lines) if markdown and _MD_HEADING.match(line.text)]
    return find_turns(text, lines, interviewer_names, skip=skip)
