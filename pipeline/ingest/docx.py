"""Word transcripts (`.docx`): paragraphs become lines; a bold lead-in is a speaker label.

The text is the paragraphs joined with `\\n` (tables are read row by row, cells joined
with a tab), so offsets index what a reader sees in Word.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import MalformedTranscriptError, MissingDependencyError
from pipeline.ingest.encoding import normalize
from pipeline.ingest.speakers import MAX_LABEL_CHARS, Line, find_turns
from pipeline.records import Turn

_BOLD_LABEL = re.compile(rf"^\s*(?P<label>[^:：\n]{{1,{MAX_LABEL_CHARS}}}?)\s*[:：]?\s*$")


def read_docx(path: Path, interviewer_names: Sequence[str]) -> tuple[str, list[Turn]]:
    try:
        import docx  # python-docx
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("python-docx is not installed", path=path,
                                     hint="pip install python-docx") from exc
    from docx.opc.exceptions import OpcError

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OpcError) as exc:
        raise MalformedTranscriptError(
            f"not a readable Word document ({exc.__class__.__name__}: {exc})",
            path=path,
            hint="open it in Word or LibreOffice and save it again as .docx",
        ) from exc

    lines: list[Line] = []
    pos = 0
    for paragraph in _paragraphs(document):
        text = normalize(paragraph.text).replace("\n", " ")
        label, body = _bold_label(paragraph, text)
        lines.append(Line(pos, text, forced_label=label, forced_body=body))
        pos += len(text) + 1
    full = "\n".join(line.text for line in lines)
    return full, find_turns(full, lines, interviewer_names)


def _paragraphs(document: Any) -> Iterator[Any]:
    """Body paragraphs in document order, table cells included."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block
        elif isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    yield from cell.paragraphs


def _bold_label(paragraph: Any, text: str) -> tuple[str | None, int | None]:
    """A label written in bold at the start of the paragraph, with or without a colon."""
    bold = ""
    for run in paragraph.runs:
        if run.bold and run.text:
            bold += run.text
        else:
            break
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
