"""Codebooks in QDA-XML: our themes and codes as nested `<Code>` elements, and back.

Export: each theme is a parent code (not codable) and its codes are children. A code's
`<Description>` is written for people reading it in their QDA tool and read back by precode:

    <definition>

    Include:
    - <item>

    Exclude:
    - <item>

    Examples:
    - <item>

    precode id: <code id>

The last line keeps our id through a trip into another tool and back, even if the analyst
renames the code there. Import works on any tool's code tree: every top-level code becomes a
theme; codable codes below it (at any depth) become its codes, a nested code named by its path
("parent > child"); a top-level code that codings use, or that has no children, is also a
code of its own theme. Codes without a
`precode id` get one made from their name (unique, `[a-z0-9_.-]`), codes without a
description get their path as definition, since a precode codebook needs one.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.codebook import codebook_to_yaml, parse_codebook
from pipeline.errors import CodebookError, UnsupportedFormatError
from pipeline.qdpx.qdaxml import (
    CODEBOOK_NS,
    Writer,
    is_true,
    kid,
    kid_text,
    kids,
    make_guid,
    norm_guid,
    parse,
)
from pipeline.records import Code, Codebook, Theme

MAX_DEPTH = 64
_SECTIONS = (("include", "Include"), ("exclude", "Exclude"), ("examples", "Examples"))
_ID_LINE = re.compile(r"(?:\A|\n\n)precode id: ([A-Za-z0-9][A-Za-z0-9_.\-]*)[ \t]*\Z")
_SECTION = {header: re.compile(rf"(?:\A|\n\n){header}:\n(- .*(?:\n(?:- |  ).*|\n  ?)*)\Z")
            for _, header in _SECTIONS}
_CODEBOOK_LINES = re.compile(
    r"(?:\A|\n\n)precode codebook: (\".*\")\nprecode codebook version: (\".*\")[ \t]*\Z")
_NOT_ID = re.compile(r"[^a-z0-9_.\-]+")
_VALID_ID = re.compile(r"^[a-z0-9](?:[a-z0-9_\-]|\.(?!\.|$))*$")


def code_guid(code_or_theme_id: str) -> str:
    return make_guid("code", code_or_theme_id)


# -- descriptions -----------------------------------------------------------------------------
def describe_code(code: Code) -> str:
    parts = [code.definition]
    for key, header in _SECTIONS:
        items: tuple[str, ...] = getattr(code, key)
        if items:
            parts.append(f"{header}:\n" + "\n".join("- " + item.replace("\n", "\n  ")
                                                    for item in items))
    parts.append(f"precode id: {code.id}")
    return "\n\n".join(parts)


def describe_theme(theme: Theme) -> str:
    return "\n\n".join([*([theme.description] if theme.description else []),
                        f"precode id: {theme.id}"])


def describe_codebook(codebook: Codebook) -> str:
    """The project description that carries the codebook's name and version."""
    lines = (f"precode codebook: {json.dumps(codebook.name, ensure_ascii=False)}\n"
             f"precode codebook version: {json.dumps(codebook.version, ensure_ascii=False)}")
    return "\n\n".join([*([codebook.description] if codebook.description else []), lines])


@dataclass
class Described:
    """A description read back: the free text, the sections, and our id if it had one."""

    text: str
    id: str | None = None
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)


def read_description(raw: str, sections: bool = True) -> Described:
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    out = Described(text)
    match = _ID_LINE.search(text)
    if match:
        out.id, text = match.group(1), text[:match.start()]
    if sections:
        for key, header in reversed(_SECTIONS):
            match = _SECTION[header].search(text)
            if match:
                out.lists[key] = _items(match.group(1))
                text = text[:match.start()]
    out.text = text.strip()
    return out


def _items(block: str) -> tuple[str, ...]:
    items: list[str] = []
    for line in block.split("\n"):
        if line.startswith("- "):
            items.append(line[2:])
        elif items:
            items[-1] += "\n" + line[2:]
    return tuple(item.strip() for item in items if item.strip())


def read_codebook_description(raw: str) -> tuple[str, str | None, str | None]:
    """(description, name, version) from a project description written by `describe_codebook`."""
    text = raw.replace("\r\n", "\n").strip()
    match = _CODEBOOK_LINES.search(text)
    if not match:
        return text, None, None
    try:
        name, version = json.loads(match.group(1)), json.loads(match.group(2))
    except json.JSONDecodeError:
        return text, None, None
    return text[:match.start()].strip(), str(name), str(version)


# -- export -----------------------------------------------------------------------------------
def add_codes(w: Writer, parent: ET.Element, codebook: Codebook) -> None:
    """`<Codes>` under `parent`: themes as parent codes, codes as their children."""
    codes = w.sub(parent, "Codes")
    for theme in codebook.themes:
        node = w.sub(codes, "Code", guid=code_guid(theme.id), name=theme.name, isCodable=False)
        w.sub(node, "Description", describe_theme(theme))
        for code in theme.codes:
            child = w.sub(node, "Code", guid=code_guid(code.id), name=code.name, isCodable=True)
            w.sub(child, "Description", describe_code(code))


def write_qdc(codebook: Codebook, origin: str) -> bytes:
    """A `.qdc` codebook document (QDA-XML codebook 1.0)."""
    w = Writer(CODEBOOK_NS)
    root = w.element("CodeBook", origin=origin)
    add_codes(w, root, codebook)
    return w.serialize(root)


# -- import -----------------------------------------------------------------------------------
@dataclass
class _Node:
    guid: str
    name: str
    codable: bool
    description: str
    children: list[_Node]


def _nodes(parent: ET.Element, label: str, depth: int = 0) -> list[_Node]:
    if depth > MAX_DEPTH:
        raise UnsupportedFormatError(f"codes are nested more than {MAX_DEPTH} levels deep",
                                     path=label, hint="flatten the code tree in your QDA tool")
    out = []
    for element in kids(parent, "Code"):
        guid = norm_guid(element.get("guid"))
        name = (element.get("name") or "").strip() or f"code {guid[:8] or '?'}"
        out.append(_Node(guid, name, is_true(element.get("isCodable")),
                         kid_text(element, "Description"), _nodes(element, label, depth + 1)))
    return out


class _Ids:
    """Hands out unique ids: reserved ones (from `precode id` lines) first, then made ones."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, candidates: Iterable[str], fallback: str) -> str:
        options = [c for c in candidates if _VALID_ID.match(c)] or [fallback]
        for candidate in options:
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
        number = 2
        while f"{options[0]}_{number}" in self.taken:
            number += 1
        self.taken.add(f"{options[0]}_{number}")
        return f"{options[0]}_{number}"


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ID.sub("_", ascii_text.lower()).strip("_.-")


def codebook_from_codes(codes: ET.Element | None, *, label: str, name: str, version: str,
                        description: str = "", referenced: frozenset[str] = frozenset(),
                        warn: Callable[[str], None] = lambda _: None,
                        ) -> tuple[Codebook | None, dict[str, str]]:
    """A codebook from a `<Codes>` element, and the map from (normalized) GUID to code id.

    `referenced` holds GUIDs that codings point at: such codes are kept even if not codable.
    Returns (None, {}) when there is no code to keep.
    """
    roots = _nodes(codes, label) if codes is not None else []
    ids = _Ids()
    guid_to_id: dict[str, str] = {}
    explicit: dict[int, str] = {}  # id(node) -> its `precode id`, reserved before any other
    for top in roots:
        for node in [top, *(node for node, _ in _descendants(top))]:
            own = read_description(node.description, sections=False).id
            if own and own not in ids.taken:
                ids.taken.add(own)
                explicit[id(node)] = own

    themes: list[Theme] = []
    dropped = 0
    for top in roots:
        theme_text = read_description(top.description, sections=False)
        # A codable top-level code is a theme; it is also a code of its own if something is
        # coded with it, or if it has no children (then it is nothing but a code).
        keep_self = top.guid in referenced or (top.codable and not top.children)
        members: list[tuple[_Node, list[_Node]]] = []
        if keep_self:
            members.append((top, [top]))
        for node, path in _descendants(top):
            if node.codable or node.guid in referenced:
                members.append((node, path))
            elif not node.children:
                dropped += 1
        codes_out = []
        for node, path in members:
            codes_out.append(_code(node, path, top, ids, explicit, guid_to_id))
        if not codes_out:
            warn(f"code group {top.name!r} has no codable code; it is left out")
            continue
        theme_id = explicit.get(id(top))
        if theme_id is None:
            base = slug(top.name)
            theme_id = ids.take([base, f"{base}_theme"] if not keep_self else [f"{base}_theme"],
                                fallback=f"theme_{_hex(top.guid, ids)}")
        themes.append(Theme(id=theme_id, name=top.name, description=theme_text.text,
                            codes=tuple(codes_out)))
    if dropped:
        warn(f"{dropped} code(s) marked not codable and with no codings were left out")
    if not themes:
        return None, {}
    codebook = Codebook(name=name, version=version, themes=tuple(themes),
                        description=description)
    try:  # the codebook must load again from the YAML we write
        parse_codebook(codebook_to_yaml(codebook), label)
    except CodebookError as exc:  # pragma: no cover - a bug, not a user error
        raise CodebookError(f"the imported codebook does not validate: {exc.message}",
                            path=label, hint="please report this with the file") from exc
    return codebook, guid_to_id


def _descendants(top: _Node) -> list[tuple[_Node, list[_Node]]]:
    """Every code below `top`, in document order, with its path from `top`'s child down."""
    out: list[tuple[_Node, list[_Node]]] = []

    def walk(node: _Node, path: list[_Node]) -> None:
        out.append((node, path))
        for child in node.children:
            walk(child, [*path, child])

    for child in top.children:
        walk(child, [child])
    return out


def _code(node: _Node, path: list[_Node], top: _Node, ids: _Ids, explicit: dict[int, str],
          guid_to_id: dict[str, str]) -> Code:
    described = read_description(node.description)
    code_id = explicit.get(id(node)) if node is not top else None
    if code_id is None:
        names = [slug(n.name) for n in path]
        candidates = [".".join(names[i:]) for i in range(len(names) - 1, -1, -1)]
        if node is not top:
            candidates.append(".".join([slug(top.name), *names]))
        code_id = ids.take(candidates, fallback=f"code_{_hex(node.guid, ids)}")
    if node.guid:
        guid_to_id.setdefault(node.guid, code_id)
    name = " > ".join(n.name for n in path)
    full_path = " > ".join([top.name] + ([] if node is top else [n.name for n in path]))
    return Code(id=code_id, name=name, definition=described.text or full_path,
                include=described.lists.get("include", ()),
                exclude=described.lists.get("exclude", ()),
                examples=described.lists.get("examples", ()))


def _hex(guid: str, ids: _Ids) -> str:
    return slug(guid.replace("-", ""))[:8] or str(len(ids.taken) + 1)


def read_qdc(data: bytes, *, label: str, name: str, version: str = "1.0",
             warn: Callable[[str], None] = lambda _: None) -> Codebook:
    """A codebook from the bytes of a `.qdc` file."""
    root = parse(data, label=label, root="CodeBook")
    codebook, _ = codebook_from_codes(kid(root, "Codes"), label=label, name=name,
                                      version=version, warn=warn)
    if codebook is None:
        raise CodebookError("the codebook has no codable codes", path=label,
                            hint="export the codebook again with its codes")
    return codebook
