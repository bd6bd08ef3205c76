"""Reading transcript files into `Source` objects, each format by its reader.

`read(path)` reads one file; `read_all(paths)` expands folders (sorted, README and hidden
files skipped) and gives each source a stable id: its path relative to the folder it was
found in. The CLI's `precode ingest` writes exactly what these return.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import EmptyInputError, InputNotFoundError, UnsupportedFormatError
from pipeline.ingest.captions import read_captions
from pipeline.ingest.docx import read_docx
from pipeline.ingest.encoding import decode
from pipeline.ingest.odt import read_odt
from pipeline.ingest.pdf import read_pdf
from pipeline.ingest.rtf import read_rtf
from pipeline.ingest.speakers import DEFAULT_INTERVIEWER_NAMES
from pipeline.ingest.text import turns_from_text
from pipeline.language import detect_language
from pipeline.records import Source

SUPPORTED = (".txt", ".md", ".docx", ".odt", ".rtf", ".pdf", ".vtt", ".srt")
# Formats read from their bytes by a reader of their own: (path, bytes, interviewer names) ->
# (normalized text, turns). The others are decoded text (see `decode`).
BINARY_READERS = {".docx": read_docx, ".odt": read_odt, ".rtf": read_rtf, ".pdf": read_pdf}
_NOT_TRANSCRIPTS = re.compile(r"^(readme|license|licence|changelog|notice)(\.|$)", re.I)


@dataclass(frozen=True)
class IngestOptions:
    interviewer_names: Sequence[str] = DEFAULT_INTERVIEWER_NAMES
    encoding: str | None = None  # None: detect
    language: str = "auto"  # "auto": zh when CJK characters dominate, else en
    metadata: dict[str, object] = field(default_factory=dict)


def read(path: str | Path, options: IngestOptions | None = None, *,
         name: str | None = None) -> Source:
    """Read one transcript file into a normalized `Source`."""
    options = options or IngestOptions()
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such file", path=path,
                                 hint="check the path; folders are searched for "
                                      + ", ".join(SUPPORTED))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFormatError(
            f"unsupported file type {suffix or '(no extension)'!r}", path=path,
            hint=f"precode reads {', '.join(SUPPORTED)} (and .qdpx via `precode import`); "
                 "convert the file or leave it out",
        )
    data = path.read_bytes()
    metadata: dict[str, object] = {"file": path.name, "format": suffix.lstrip(".")}
    if suffix in BINARY_READERS:
        if not data:
            raise EmptyInputError("the file is empty", path=path,
                                  hint="check that the export finished, or remove the file")
        text, turns = BINARY_READERS[suffix](path, data, options.interviewer_names)
    else:
        raw, encoding = decode(data, path, options.encoding)
        metadata["encoding"] = encoding
        if suffix in (".vtt", ".srt"):
            text, turns = read_captions(raw, path, suffix.lstrip("."), options.interviewer_names)
        else:
            text, turns = raw, turns_from_text(raw, options.interviewer_names,
                                               markdown=suffix == ".md")
    if not turns:
        raise EmptyInputError("no text to code was found", path=path,
                              hint="check that the file holds the transcript itself")
    metadata.update(options.metadata)
    source_name = name or path.name
    return Source(id=source_name, name=source_name, text=text, turns=tuple(turns),
                  language=detect_language(text, options.language), metadata=metadata)


def find_files(paths: Iterable[str | Path],
               skipped: list[Path] | None = None) -> list[tuple[Path, str]]:
    """(file, name) for every transcript under `paths`, in sorted order per argument.

    Files in a folder that precode cannot read are left out; pass a list as `skipped` to learn
    which (README-like and hidden files are not reported).
    """
    found: list[tuple[Path, str]] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise InputNotFoundError("no such file or folder", path=root,
                                     hint="check the path and try again")
        if root.is_file():
            found.append((root, root.name))
            continue
        inside = sorted(
            p for p in root.rglob("*")
            if p.is_file() and p.suffix.lower() in SUPPORTED
            and not _NOT_TRANSCRIPTS.match(p.name)
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if skipped is not None:
            skipped.extend(sorted(
                p for p in root.rglob("*")
                if p.is_file() and p.suffix.lower() not in SUPPORTED
                and not _NOT_TRANSCRIPTS.match(p.name)
                and not any(part.startswith(".") for part in p.relative_to(root).parts)))
        if not inside:
            raise EmptyInputError(
                "no transcripts found in this folder", path=root,
                hint=f"precode looks for {', '.join(SUPPORTED)} files (README files are skipped)",
            )
        found.extend((p, p.relative_to(root).as_posix()) for p in inside)
    counts = Counter(name for _, name in found)  # not list.count: a corpus may be huge
    duplicates = sorted(n for n, k in counts.items() if k > 1)
    if duplicates:
        raise UnsupportedFormatError(
            f"two inputs would get the same source name: {', '.join(duplicates)}",
            hint="pass the folder that contains both instead of the files one by one, "
                 "or rename one of them",
        )
    return found


def read_all(paths: Iterable[str | Path], options: IngestOptions | None = None) -> list[Source]:
    """Read every transcript under `paths` (files or folders)."""
    return [read(path, options, name=name) for path, name in find_files(paths)]
