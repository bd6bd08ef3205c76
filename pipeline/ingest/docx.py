"""Word transcripts (`.docx`): paragraphs become lines; a bold lead-in is a speaker label.

The text is the paragraphs joined with `\\n` (tables are read row by row, cells joined
with a tab), so offsets index what a reader sees in Word.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import MalformedTranscriptError, MissingDependencyError
from pipeline.ingest.bold import Run, bold_label
from pipeline.ingest.encoding import normalize
from pipeline.ingest.speakers import Line, find_turns
from pipeline.records import Turn


def read_docx(path: Path, data: bytes, interviewer_names: Sequence[str]
              ) -> tuple[str, list[Turn]]:
    try:
        import docx  # python-docx
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("python-docx is not installed", path=path,
                                     hint="pip install python-docx") from exc
    from docx.opc.exceptions import OpcError

    try:
        document = docx.Document(io.BytesIO(data))
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
        label, body = bold_label([Run(r.text, bool(r.bold)) for r in paragraph.runs], text)
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
