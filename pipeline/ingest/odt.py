"""OpenDocument transcripts (`.odt`): paragraphs become lines; a bold lead-in is a speaker label.

The text is the paragraphs (`text:p`, `text:h`) in document order, tables and lists included
(each cell's paragraphs in turn, as for .docx), joined with `\\n`; a line break inside a
paragraph (Shift+Enter) starts a new line too, so offsets index what a reader sees in Writer.
White space follows the ODF rules: runs of spaces, tabs and newlines in the XML collapse to one
space, `text:s` adds spaces (`text:c` of them), `text:tab` is a tab. Footnotes, comments,
tracked deletions, drawings and cached list numbers are left out.

The package is opened with `SafeArchive`, the hardened zip reader of the .qdpx importer, so a
zip bomb, too many members, a lying header or a path that climbs out is refused by the same
limits. `content.xml` (and `styles.xml`, for bold styles) is parsed here with
`defusedxml.ElementTree` rather than with odfpy: odfpy opens the zip itself (the archive limits
would not apply to what it inflates), parses with `xml.dom.minidom`, and would be one more
dependency for what is a small walk over a few elements; defusedxml refuses entity
declarations (billion laughs, external entities) as the .qdpx reader does.

`Run`, `lines_from_runs` and `bold_label` are shared with the RTF reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from pipeline.errors import (
    MalformedTranscriptError,
    MissingDependencyError,
    UnsupportedFormatError,
)
from pipeline.ingest.archive import SafeArchive
from pipeline.ingest.bold import Run, lines_from_runs
from pipeline.ingest.speakers import find_turns
from pipeline.records import Turn

_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_DR3D = "{urn:oasis:names:tc:opendocument:xmlns:dr3d:1.0}"

_PARAGRAPHS = {f"{_TEXT}p", f"{_TEXT}h"}
# Inside a paragraph: not text a reader of the transcript sees as part of it.
_SKIP_INLINE = {f"{_TEXT}{name}" for name in (
    "note", "number", "bookmark", "bookmark-start", "bookmark-end", "reference-mark",
    "reference-mark-start", "reference-mark-end", "change", "change-start", "change-end",
    "ruby-text", "toc-mark", "alphabetical-index-mark", "user-index-mark",
)} | {f"{_OFFICE}annotation", f"{_OFFICE}annotation-end"}
# Between paragraphs: deleted text of tracked changes, forms, declarations.
_SKIP_BLOCK = {f"{_TEXT}tracked-changes", f"{_OFFICE}forms", f"{_TEXT}sequence-decls",
               f"{_TEXT}variable-decls", f"{_TEXT}user-field-decls", f"{_OFFICE}annotation"}
_STRONG = {"Strong_20_Emphasis", "Strong Emphasis"}  # bold by definition when styles.xml lacks it
_MAX_SPACES = 1000  # a text:s with text:c="1000000000" must not allocate a gigabyte
_WHITESPACE = re.compile(r"[ \t\r\n]+")
_REEXPORT = "open it in LibreOffice Writer (or Word) and save it again as .odt"


def read_odt(path: Path, data: bytes, interviewer_names: Sequence[str]) -> tuple[str, list[Turn]]:
    """The normalized text of a .odt transcript and its speaker turns."""
    try:
        from defusedxml import DefusedXmlException
        from defusedxml import ElementTree as SafeET
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("defusedxml is not installed", path=path,
                                     hint="pip install defusedxml") from exc

    content, styles = _read_package(path, data)

    def parse(member: str, raw: bytes) -> ET.Element:
        try:
            root: ET.Element = SafeET.fromstring(raw)
        except DefusedXmlException as exc:
            raise UnsupportedFormatError(
                f"refused: {member} declares entities or external references "
                f"({type(exc).__name__}); precode never expands them (they are how 'billion "
                "laughs' and file-stealing attacks work)", path=path, hint=_REEXPORT) from exc
        except ET.ParseError as exc:
            raise MalformedTranscriptError(
                f"not a readable OpenDocument text file: {member} is not well-formed XML "
                f"({exc}); the file is damaged or incomplete", path=path,
                hint=_REEXPORT) from exc
        return root

    root = parse("content.xml", content)
    style_roots = [root] + ([parse("styles.xml", styles)] if styles is not None else [])
    if root.tag != f"{_OFFICE}document-content":
        raise MalformedTranscriptError(
            f"not an OpenDocument text file: content.xml holds {root.tag!r}, not "
            "office:document-content", path=path, hint=_REEXPORT)
    body = root.find(f"{_OFFICE}body")
    office_text = body.find(f"{_OFFICE}text") if body is not None else None
    if office_text is None:
        kinds = sorted(child.tag.rpartition("}")[2] for child in body) if body is not None else []
        raise UnsupportedFormatError(
            "not an OpenDocument text document"
            + (f" (it is a {', '.join(kinds)} document)" if kinds else " (it has no body)"),
            path=path, hint="copy the transcript into a Writer text document and save it as .odt")

    walker = _Walker(_Styles(style_roots))
    try:
        walker.block(office_text)
    except RecursionError as exc:
        raise UnsupportedFormatError(
            "refused: content.xml is nested too deeply to be a transcript", path=path,
            hint=_REEXPORT) from exc
    full, lines = lines_from_runs(walker.rows)
    return full, find_turns(full, lines, interviewer_names)


def _read_package(path: Path, data: bytes) -> tuple[bytes, bytes | None]:
    """content.xml and styles.xml (None if absent) of the package, read within the limits."""
    try:
        with SafeArchive(data, label=path) as archive:
            manifest = archive.find("META-INF/manifest.xml")
            if manifest is not None and b"encryption-data" in archive.read(manifest):
                raise UnsupportedFormatError(
                    "the document is protected with a password", path=path,
                    hint="open it in LibreOffice, remove the password (File > Properties > "
                         "Security) and save it again as .odt")
            mimetype = archive.find("mimetype")
            if mimetype is not None:
                kind = archive.read(mimetype)[:200].decode("ascii", "replace").strip()
                if not kind.startswith("application/vnd.oasis.opendocument.text"):
                    raise UnsupportedFormatError(
                        f"not an OpenDocument text document (its type is {kind!r})", path=path,
                        hint="copy the transcript into a Writer text document and save it "
                             "as .odt")
            content = archive.find("content.xml")
            if content is None:
                if archive.find("word/document.xml") is not None:
                    raise MalformedTranscriptError(
                        "this is a Word document with the extension .odt", path=path,
                        hint="rename it to .docx")
                raise MalformedTranscriptError(
                    "not an OpenDocument text file: it has no content.xml", path=path,
                    hint=_REEXPORT)
            styles = archive.find("styles.xml")
            return archive.read(content), archive.read(styles) if styles is not None else None
    except UnsupportedFormatError as exc:
        if not exc.message.startswith(("refused:", "not a zip archive")):
            raise
        if exc.message.startswith("not a zip archive"):
            raise MalformedTranscriptError(
                f"not a readable OpenDocument text file: {exc.message}; the file is "
                "incomplete or is not an .odt", path=path,
                hint=f"the export or copy may have been cut off: {_REEXPORT}") from exc
        raise UnsupportedFormatError(
            exc.message, path=path,
            hint="this file is damaged or was built to attack the reader; "
                 f"{_REEXPORT}") from exc


def _is_bold(weight: str | None) -> bool | None:
    if weight is None:
        return None
    weight = weight.strip().lower()
    if weight.isdigit():
        return int(weight) >= 600
    return weight in ("bold", "bolder")


class _Styles:
    """Which text and paragraph styles are bold, parents followed."""

    def __init__(self, roots: Sequence[ET.Element]) -> None:
        # (family, name) -> (parent name, bold or None when the style does not say)
        self._styles: dict[tuple[str, str], tuple[str | None, bool | None]] = {}
        for root in roots:
            for section in (f"{_OFFICE}automatic-styles", f"{_OFFICE}styles"):
                for holder in root.findall(section):
                    for style in holder.findall(f"{_STYLE}style"):
                        name = style.get(f"{_STYLE}name")
                        if not name:
                            continue
                        family = style.get(f"{_STYLE}family", "")
                        props = style.find(f"{_STYLE}text-properties")
                        bold = None
                        if props is not None:
                            western = _is_bold(props.get(f"{_FO}font-weight"))
                            asian = _is_bold(props.get(f"{_STYLE}font-weight-asian"))
                            bold = None if western is None and asian is None else \
                                bool(western or asian)
                        self._styles.setdefault((family, name),
                                                (style.get(f"{_STYLE}parent-style-name"), bold))
        self._cache: dict[tuple[str, str], bool | None] = {}

    def bold(self, family: str, name: str | None) -> bool | None:
        """True/False if the style (or a parent) sets the weight; None if nothing says."""
        if not name:
            return None
        key = (family, name)
        if key not in self._cache:
            found: bool | None = None
            seen: set[str] = set()
            current: str | None = name
            while current and current not in seen:
                seen.add(current)
                entry = self._styles.get((family, current))
                if entry is None:
                    found = True if current in _STRONG else None
                    break
                if entry[1] is not None:
                    found = entry[1]
                    break
                current = entry[0]
            self._cache[key] = found
        return self._cache[key]


class _Walker:
    """Collects the lines of office:text as lists of runs."""

    def __init__(self, styles: _Styles) -> None:
        self.styles = styles
        self.rows: list[list[Run]] = []
        self._space = True  # the last character written was a collapsible space (or none yet)

    def block(self, element: ET.Element) -> None:
        for child in element:
            if child.tag in _PARAGRAPHS:
                self.paragraph(child)
            elif child.tag not in _SKIP_BLOCK and not child.tag.startswith((_DRAW, _DR3D)):
                self.block(child)  # tables, rows, cells, lists, sections, ...

    def paragraph(self, element: ET.Element) -> None:
        self.rows.append([])
        self._space = True  # leading white space of a paragraph is dropped
        bold = self.styles.bold("paragraph", element.get(f"{_TEXT}style-name")) or False
        self.inline(element, bold)

    def inline(self, element: ET.Element, bold: bool) -> None:
        self.text(element.text, bold)
        for child in element:
            tag = child.tag
            if tag == f"{_TEXT}s":
                self.literal(" " * _space_count(child.get(f"{_TEXT}c")), bold)
            elif tag == f"{_TEXT}tab":
                self.literal("\t", bold)
            elif tag == f"{_TEXT}line-break":
                self.rows.append([])
                self._space = True
            elif tag in _SKIP_INLINE or tag.startswith((_DRAW, _DR3D)):
                pass
            else:  # text:span, text:a, fields, text:meta, ruby base, soft page breaks, ...
                own = self.styles.bold("text", child.get(f"{_TEXT}style-name"))
                self.inline(child, bold if own is None else own)
            self.text(child.tail, bold)

    def text(self, value: str | None, bold: bool) -> None:
        if not value:
            return
        value = _WHITESPACE.sub(" ", value)
        if self._space and value.startswith(" "):
            value = value[1:]
        if value:
            self._space = value.endswith(" ")
            self._add(value, bold)

    def literal(self, value: str, bold: bool) -> None:
        self._space = False
        self._add(value, bold)

    def _add(self, value: str, bold: bool) -> None:
        self.rows[-1].append(Run(value, bold))


def _space_count(value: str | None) -> int:
    try:
        count = int(value) if value is not None else 1
    except ValueError:
        count = 1
    return max(1, min(count, _MAX_SPACES))
