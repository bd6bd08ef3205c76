"""Read a REFI-QDA project (`.qdpx`) into memory: sources, codebook and codings.

What comes in: text sources (plain text from `PlainTextContent`, from a `plainTextPath` inside
the archive, or, where the plain text is missing or blank, the paragraphs of the `.docx`
rich-text source), the code tree as a codebook (see `qdc.codebook_from_codes`), every coding of
a text selection as a `Coding` whose coder is the name of the user who made it, variables on
sources as `metadata["attributes"]` and cases as `metadata["speakers"]`.

Offsets: a tool counts selection positions on its own text. The text is normalized the way
`precode ingest` normalizes (BOM dropped, CRLF and CR to LF, NFC) and every position is mapped
through the same steps, so a selection on a Windows tool's CRLF text lands on the same words.

The archive is read with `SafeArchive` (size, count and path checks) and the XML with defusedxml;
members that nothing points at are ignored, and paths that point outside the archive are never
followed. `pipeline.stages.import_qdpx` writes what is read here into a new run folder.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from pipeline import ingest
from pipeline.errors import (
    CodebookError,
    InputNotFoundError,
    UnsupportedFormatError,
)
from pipeline.ingest.archive import DEFAULT_LIMITS, Limits, SafeArchive
from pipeline.ingest.docx import read_docx
from pipeline.ingest.encoding import decode_raw, normalize_with_offsets
from pipeline.ingest.text import turns_from_text
from pipeline.language import detect_language
from pipeline.qdpx.qdaxml import kid, kid_text, kids, kids_in, norm_guid, parse
from pipeline.qdpx.qdc import codebook_from_codes, read_codebook_description, read_qdc
from pipeline.records import Codebook, Coding, Source, Turn

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass
class Project:
    """A project as read from a `.qdpx`, before anything is written."""

    name: str
    sources: list[Source]
    codebook: Codebook | None
    codings: list[Coding]
    users: list[str]
    warnings: list[str] = field(default_factory=list)


# -- reading --------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, path: Path, archive: SafeArchive, options: ingest.IngestOptions) -> None:
        self.path = path
        self.archive = archive
        self.options = options
        self.warnings: list[str] = []
        self.problems: Counter[str] = Counter()

    def label(self, member: str) -> str:
        return f"{self.path}!{member}"

    def project_member(self) -> str:
        names = self.archive.names()
        found = self.archive.find("project.qde")
        if found:
            return found
        top = [n for n in names if "/" not in n and n.lower().endswith(".qde")]
        anywhere = [n for n in names if n.lower().endswith(".qde")]
        for candidates in (top, anywhere):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise UnsupportedFormatError(
                    f"the archive holds several project files ({', '.join(candidates[:5])})",
                    path=self.path, hint="export one project per .qdpx file")
        raise UnsupportedFormatError(
            "the archive has no project.qde", path=self.path,
            hint="this does not look like a REFI-QDA project; export it again as .qdpx")

    def member_for(self, given: str) -> str | None:
        """The archive member a `plainTextPath`/`richTextPath` names, or None."""
        value = given.strip()
        if value.lower().startswith("internal://"):
            value = value[len("internal://"):]
        elif _SCHEME.match(value) or value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:",
                                                                                value):
            self.problems["source path(s) point outside the archive (precode reads only what is "
                          "inside it)"] += 1
            return None
        for candidate in (value, unquote(value)):
            for name in (f"sources/{candidate}", candidate):
                found = self.archive.find(name)
                if found:
                    return found
        self.problems["source path(s) name a file that the archive lacks"] += 1
        return None

    def decode(self, member: str) -> str:
        """A plain-text member as text, decoded as `precode ingest` decodes a .txt file but not
        yet normalized: selections count positions on it (see `normalize_with_offsets`)."""
        return decode_raw(self.archive.read(member), Path(self.label(member)),
                          hint="export the project again")[0]

    def docx_text(self, member: str) -> tuple[str, list[Turn]] | None:
        data = self.archive.read(member)
        if not zipfile.is_zipfile(io.BytesIO(data)):
            self.problems["rich-text (.docx) file(s) cannot be read"] += 1
            return None
        label = self.label(member)
        SafeArchive(data, label=label, limits=self.archive.limits).close()  # bomb checks
        try:
            return read_docx(Path(label), data, self.options.interviewer_names)
        except Exception:  # a broken or hostile .docx: python-docx and lxml raise anything
            self.problems["rich-text (.docx) file(s) cannot be read"] += 1
            return None


def read_qdpx(path: str | Path, options: ingest.IngestOptions | None = None,
              limits: Limits = DEFAULT_LIMITS) -> Project:
    """Everything a `.qdpx` project holds that precode uses, read safely into memory."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError("no such file", path=path, hint="check the path to the .qdpx")
    options = options or ingest.IngestOptions()
    with SafeArchive(path, label=path, limits=limits) as archive:
        reader = _Reader(path, archive, options)
        member = reader.project_member()
        root = parse(archive.read(member), label=reader.label(member), root="Project")
        return _project(reader, root)


def _project(reader: _Reader, root: ET.Element) -> Project:
    users: dict[str, str] = {}
    for user in kids_in(root, "Users", "User"):
        guid = norm_guid(user.get("guid"))
        users[guid] = (user.get("name") or user.get("id") or guid).strip() or guid
    project_name = (root.get("name") or "").strip() or reader.path.stem
    codebook, code_ids = _codebook(root, reader.path, reader.warnings)

    variables: dict[str, str] = {}
    for variable in kids_in(root, "Variables", "Variable"):
        guid = norm_guid(variable.get("guid"))
        variables[guid] = (variable.get("name") or "").strip() or f"variable {guid[:8]}"

    sources: list[Source] = []
    codings: list[Coding] = []
    by_guid: dict[str, int] = {}  # source guid -> index in sources
    selection_source: dict[str, str] = {}
    names: set[str] = set()
    source_elements = list(kids_in(root, "Sources", "*"))
    skipped = Counter(el.tag for el in source_elements if el.tag in _OTHER_SOURCES)
    for element in source_elements:
        if element.tag != "TextSource":
            continue
        source, spans = _source(reader, element, names, variables)
        by_guid[norm_guid(element.get("guid"))] = len(sources)
        sources.append(source)
        for span in spans:
            selection_source[span.selection] = norm_guid(element.get("guid"))
            code_id = code_ids.get(span.code)
            if code_id is None:
                reader.problems["coding(s) skipped: they point at a code the codebook lacks"] += 1
                continue
            coder = users.get(span.user, span.user) or "unknown"
            codings.append(Coding(source.id, span.start, span.end, code_id, coder))
    for tag, count in skipped.items():
        reader.warnings.append(f"{count} {tag} element(s) skipped: precode reads text sources")

    _attach_cases(root, sources, by_guid, selection_source, variables)
    for reason, count in reader.problems.items():
        reader.warnings.append(f"{count} {reason}")
    codings = sorted(set(codings), key=lambda c: (c.source_id, c.start, c.end, c.code_id,
                                                  c.coder))
    coders = sorted({c.coder for c in codings} | set(users.values()))
    return Project(project_name, sources, codebook, codings, coders, reader.warnings)


@dataclass(frozen=True)
class _Span:
    """One coding as found in the project: offsets already mapped to the normalized text."""

    selection: str  # the selection's GUID ("" for a coding of the whole source)
    start: int
    end: int
    code: str  # the code's GUID
    user: str  # the creating user's GUID


def _span(selection: str, start: int, end: int, coding: ET.Element, user: str | None) -> _Span:
    ref = kid(coding, "CodeRef")
    return _Span(selection, start, end, norm_guid(ref.get("targetGUID") if ref is not None
                                                  else ""),
                 norm_guid(coding.get("creatingUser") or user))


def _codebook(root: ET.Element, path: Path, warnings: list[str],
              ) -> tuple[Codebook | None, dict[str, str]]:
    """The project's code tree as a codebook, and the map from code GUID to code id."""
    referenced = frozenset(norm_guid(ref.get("targetGUID")) for coding in root.iter("Coding")
                           for ref in kids(coding, "CodeRef"))
    description, name, version = read_codebook_description(kid_text(root, "Description"))
    code_book = kid(root, "CodeBook")
    return codebook_from_codes(
        kid(code_book, "Codes") if code_book is not None else None, label=str(path),
        name=name or (root.get("name") or "").strip() or path.stem, version=version or "1.0",
        description=description, referenced=referenced, warn=warnings.append)


def _source(reader: _Reader, element: ET.Element, names: set[str], variables: dict[str, str],
            ) -> tuple[Source, list[_Span]]:
    guid = norm_guid(element.get("guid"))
    plain_path = element.get("plainTextPath") or ""
    raw = kid_text(element, "PlainTextContent")
    if not raw.strip() and plain_path:
        member = reader.member_for(plain_path)
        if member is not None:
            raw = reader.decode(member)
    metadata: dict[str, object] = {"file": reader.path.name, "format": "qdpx",
                                   "qdpx_guid": guid}
    turns: list[Turn] | None = None
    text, offsets = normalize_with_offsets(raw)
    rich = element.get("richTextPath") or ""
    if not text.strip() and rich:  # blank plain text: read the rich text instead
        member = reader.member_for(rich)
        found = reader.docx_text(member) if member and member.lower().endswith(".docx") else None
        if found is not None and found[0].strip():
            (text, turns), offsets = found, list(range(len(found[0]) + 1))
            metadata["text_from"] = "docx"
    if not text.strip():
        reader.problems["source(s) have no text (neither plain text nor a readable .docx); "
                        "they are kept, empty"] += 1

    name = _unique((element.get("name") or "").strip()
                   or PurePosixPath(unquote(plain_path.replace("\\", "/"))).name
                   or f"source {guid[:8]}", names)
    attributes = _values(element, variables)
    if attributes:
        metadata["attributes"] = attributes
    if turns is None:
        turns = turns_from_text(text, reader.options.interviewer_names) if text.strip() else []
    language = detect_language(text, reader.options.language) if text else "en"
    source = Source(id=name, name=name, text=text, turns=tuple(turns), language=language,
                    metadata=metadata)

    spans: list[_Span] = []
    limit = len(offsets) - 1
    for selection in kids(element, "PlainTextSelection"):
        try:
            a, b = int(selection.get("startPosition", "")), int(selection.get("endPosition", ""))
        except ValueError:
            reader.problems["selection(s) skipped: their positions are not numbers"] += 1
            continue
        a, b = min(a, b), max(a, b)
        if a < 0 or b > limit:
            reader.problems["selection(s) skipped: they reach past the end of their text"] += 1
            continue
        start, end = offsets[a], offsets[b]
        if end <= start:
            reader.problems["selection(s) skipped: they are empty"] += 1
            continue
        spans += [_span(norm_guid(selection.get("guid")), start, end, coding,
                        selection.get("creatingUser")) for coding in kids(selection, "Coding")]
    if text:  # codes on the whole source
        spans += [_span("", 0, len(text), coding, element.get("creatingUser"))
                  for coding in kids(element, "Coding")]
    return source, spans


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    taken.add(candidate)
    return candidate


def _values(element: ET.Element, variables: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in kids(element, "VariableValue"):
        ref = kid(value, "VariableRef")
        guid = norm_guid(ref.get("targetGUID") if ref is not None else "")
        name = variables.get(guid, f"variable {guid[:8]}")
        content = [child for child in value if child.tag != "VariableRef"]
        text = "".join(content[0].itertext()) if content else ""
        out[name] = text if content and content[0].tag == "TextValue" else text.strip()
    return out


def _attach_cases(root: ET.Element, sources: list[Source], by_guid: dict[str, int],
                  selection_source: dict[str, str], variables: dict[str, str]) -> None:
    """Cases become `metadata["speakers"][case name]` on every source they refer to."""
    speakers: dict[int, dict[str, dict[str, str]]] = {}
    for case in kids_in(root, "Cases", "Case"):
        guid = norm_guid(case.get("guid"))
        name = (case.get("name") or "").strip() or f"case {guid[:8]}"
        values = _values(case, variables)
        targets = [norm_guid(ref.get("targetGUID")) for ref in kids(case, "SourceRef")]
        targets += [selection_source.get(norm_guid(ref.get("targetGUID")), "")
                    for ref in kids(case, "SelectionRef")]
        for target in dict.fromkeys(targets):
            if target in by_guid:
                speakers.setdefault(by_guid[target], {}).setdefault(name, {}).update(values)
    for index, found in speakers.items():
        source = sources[index]
        sources[index] = Source(source.id, source.name, source.text, source.turns,
                                source.language, {**source.metadata, "speakers": found})


def read_codebook_file(path: str | Path, limits: Limits = DEFAULT_LIMITS,
                       ) -> tuple[Codebook, list[str]]:
    """The codebook of a `.qdc` file, or of the code tree of a `.qdpx` project."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError("no such file", path=path,
                                 hint="give a .qdc codebook or a .qdpx project")
    warnings: list[str] = []
    if path.suffix.lower() != ".qdpx":
        if path.stat().st_size > limits.max_member_bytes:
            raise UnsupportedFormatError("the file is too large for a codebook", path=path,
                                         hint="give a .qdc codebook exported by a QDA tool")
        return read_qdc(path.read_bytes(), label=str(path), name=path.stem,
                        warn=warnings.append), warnings
    with SafeArchive(path, label=path, limits=limits) as archive:
        reader = _Reader(path, archive, ingest.IngestOptions())
        member = reader.project_member()
        root = parse(archive.read(member), label=reader.label(member), root="Project")
    codebook, _ = _codebook(root, path, warnings)
    if codebook is None:
        raise CodebookError("the project has no codable codes", path=path,
                            hint="export a project that has a codebook")
    return codebook, warnings
