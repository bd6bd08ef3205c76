"""QDA-XML plumbing: hardened parsing, tolerant names, stable GUIDs, and serializing.

Parsing goes through defusedxml: a document that declares entities (the "billion laughs"
expansion, or an external entity that would read a local file or a URL) is refused, never
expanded. Real tools differ in small ways, and reading tolerates them: namespaces are
dropped after the root is checked (so `urn:QDA-XML:codebook:1:0` reads like `1.0`), GUIDs
compare without braces and case, and carriage returns inside `PlainTextContent` are kept so
that offsets counted by a Windows tool on its CRLF text still line up.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from pipeline.errors import UnsupportedFormatError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/precode/refi-qda")
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PLAIN_TEXT = re.compile(
    rb"(<(?:[A-Za-z_][\w.\-]*:)?PlainTextContent(?:\s[^>]*)?(?<!/)>)(.*?)"
    rb"(</(?:[A-Za-z_][\w.\-]*:)?PlainTextContent\s*>)", re.S)
_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.S)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")


def make_guid(kind: str, *parts: object) -> str:
    """A GUID that depends only on what it names: the same run exports the same GUIDs."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join([kind, *map(str, parts)])))


def norm_guid(value: str | None) -> str:
    """A GUID as compared on import: no braces, no surrounding space, lower case."""
    return (value or "").strip().strip("{}").strip().lower()


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (control characters)."""
    return _INVALID_XML.sub("", text)


def xsd_datetime(value: str | None) -> str | None:
    """An ISO timestamp as xsd:dateTime (`2024-05-01T12:00:00+08:00`), or None if unreadable."""
    if not value:
        return None
    text = value.strip()
    if re.match(r".*[+-]\d{4}$", text):  # 2024-05-01T12:00:00+0800 -> +08:00
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    out = parsed.isoformat(timespec="seconds")
    return out[:-6] + "Z" if out.endswith("+00:00") else out


# -- reading ----------------------------------------------------------------------------------
def _keep_carriage_returns(data: bytes) -> bytes:
    """Write each CR inside PlainTextContent as `&#13;` so the parser keeps it.

    XML parsers turn CRLF into LF, but a tool that wrote CRLF text counted its offsets on
    the CRLF text; keeping the CR lets the importer map those offsets exactly.
    """
    if b"\r" not in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data
    declared = _DECLARED.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (
            b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1"):
        return data

    def body(match: re.Match[bytes]) -> bytes:
        pieces = _CDATA.split(match.group(2))
        for i, piece in enumerate(pieces):
            pieces[i] = (piece.replace(b"\r", b"]]>&#13;<![CDATA[") if i % 2
                         else piece.replace(b"\r", b"&#13;"))
        return match.group(1) + b"".join(pieces) + match.group(3)

    return _PLAIN_TEXT.sub(body, data)


def parse(data: bytes, *, label: str, root: str) -> ET.Element:
    """Parse a QDA-XML document safely and return its root with namespaces dropped.

    `root` is the local name the document must have (`Project` or `CodeBook`).
    """
    try:
        element: ET.Element = SafeET.fromstring(_keep_carriage_returns(data))
    except DefusedXmlException as exc:
        raise UnsupportedFormatError(
            f"refused: the XML declares entities or external references ({type(exc).__name__}); "
            "precode never expands them (they are how 'billion laughs' and file-stealing "
            "attacks work)", path=label,
            hint="export the project again from your QDA tool; QDA-XML needs no entities") from exc
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise UnsupportedFormatError(f"not well-formed XML ({exc})", path=label, line=line,
                                     hint="the file is damaged; export it again") from exc
    namespace, name = split_tag(element.tag)
    if name != root or (namespace and not namespace.lower().startswith("urn:qda-xml:")):
        found = f"{{{namespace}}}{name}" if namespace else name
        raise UnsupportedFormatError(
            f"this is not a QDA-XML {root} document (the root element is {found!r})",
            path=label, hint="give a REFI-QDA .qdpx project or .qdc codebook")
    for node in element.iter():
        if isinstance(node.tag, str):
            node.tag = split_tag(node.tag)[1]
        if any(key.startswith("{") for key in node.attrib):
            node.attrib = {split_tag(k)[1]: v for k, v in node.attrib.items()}
    return element


def split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def kids(element: ET.Element, name: str) -> Iterator[ET.Element]:
    """The children called `name` (`*`: all of them)."""
    return (child for child in element if name in ("*", child.tag))


def kids_in(element: ET.Element, container: str, name: str) -> Iterator[ET.Element]:
    """The `name` children of `element`'s `container` child (`Users` > `User`), if any."""
    holder = kid(element, container)
    return kids(holder, name) if holder is not None else iter(())


def kid(element: ET.Element, name: str) -> ET.Element | None:
    return next(kids(element, name), None)


def kid_text(element: ET.Element, name: str) -> str:
    child = kid(element, name)
    return "".join(child.itertext()) if child is not None else ""


def is_true(value: str | None, default: bool = True) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "1")


# -- writing ----------------------------------------------------------------------------------
class Writer:
    """Builds a document in one default namespace, attributes in schema order, None left out.

    Tags stay unqualified in the tree and the root carries `xmlns`, which is what the XML
    means and spares ElementTree's prefix machinery (it cannot pair a default namespace with
    unqualified attributes).
    """

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def element(self, tag: str, **attrs: Any) -> ET.Element:
        return ET.Element(tag, {"xmlns": self.namespace, **self._attrs(attrs)})

    def sub(self, parent: ET.Element, tag: str, text: str | None = None,
            **attrs: Any) -> ET.Element:
        child = ET.SubElement(parent, tag, self._attrs(attrs))
        if text is not None:
            child.text = clean(text)
        return child

    @staticmethod
    def _attrs(attrs: dict[str, Any]) -> dict[str, str]:
        out = {}
        for key, value in attrs.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            out[key] = clean(str(value))
        return out

    @staticmethod
    def serialize(root: ET.Element) -> bytes:
        ET.indent(root, space="  ")
        body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
