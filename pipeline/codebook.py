"""Codebooks: load and validate the YAML format, with errors that name the key and line.

Layout: `name`, `version`, optional `description` and `language`, and `themes`, each theme
with `id`, `name`, optional `description` and `codes`; each code with `id`, `name`,
`definition` and optional lists `include`, `exclude`, `examples`. Optional `editions` lists
the same codebook in other languages (file names relative to this file, or inline codebooks),
with the same theme and code ids. Validation works on PyYAML's node tree so every message
can point at the line to fix.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import CodebookError, InputNotFoundError
from pipeline.language import detect_language
from pipeline.records import Code, Codebook, Theme

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_TOP = {"name": True, "version": True, "description": False, "language": False,
        "editions": False, "themes": True}
_THEME = {"id": True, "name": True, "description": False, "codes": True}
_CODE = {"id": True, "name": True, "definition": True, "include": False, "exclude": False,
         "examples": False}


def load_codebook(path: str | Path, *, editions: bool = True) -> Codebook:
    """Read and validate a codebook file (and the editions it names, unless `editions` is
    False: an edition's own editions are never followed)."""
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such codebook file", path=path,
                                 hint="check the path; the reference codebook is "
                                      "configs/codebooks/recovery_peer_support.yaml")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError("a codebook must be UTF-8 text", path=path,
                            hint="re-save the file as UTF-8") from exc
    return parse_codebook(text, path, editions=editions)


def parse_codebook(text: str, path: str | Path = "<codebook>", *,
                   editions: bool = True) -> Codebook:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CodebookError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                            line=mark.line + 1 if mark else None,
                            hint="fix the YAML syntax (indentation, a missing colon or quote)"
                            ) from None
    if root is None:
        raise CodebookError("the codebook is empty", path=path,
                            hint="see configs/codebooks/recovery_peer_support.yaml for the layout")
    return _Validator(str(path), follow_editions=editions).codebook(root)


class _Validator:
    def __init__(self, path: str, follow_editions: bool = True) -> None:
        self.path = path
        self.follow_editions = follow_editions
        self.seen: dict[str, int] = {}

    def fail(self, node: yaml.Node, message: str, hint: str) -> CodebookError:
        return CodebookError(message, path=self.path, line=node.start_mark.line + 1, hint=hint)

    def mapping(self, node: yaml.Node, spec: dict[str, bool], where: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping of keys",
                            hint=f"write it as key: value lines ({', '.join(spec)})")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key not in spec:
                raise self.fail(key_node, f"unknown key {key!r} in {where}",
                                hint=f"valid keys: {', '.join(spec)}")
            if key in out:
                raise self.fail(key_node, f"key {key!r} appears twice in {where}",
                                hint="remove one of them")
            out[key] = value_node
        for key, required in spec.items():
            if required and key not in out:
                raise self.fail(node, f"{where} is missing the required key {key!r}",
                                hint=f"add '{key}:' to {where}")
        return out

    def string(self, node: yaml.Node, where: str, allow_empty: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, f"{where} must be text",
                            hint="write a single line of text, quoted if it contains a colon")
        value = str(node.value).strip()
        if not value and not allow_empty:
            raise self.fail(node, f"{where} is empty", hint="write some text or remove the key")
        return value

    def strings(self, node: yaml.Node, where: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where} must be a list", hint="write one '- item' per line")
        if not node.value:
            raise self.fail(node, f"{where} is an empty list",
                            hint="add at least one item or remove the key")
        return tuple(self.string(item, f"an item of {where}") for item in node.value)

    def identifier(self, node: yaml.Node, where: str) -> str:
        value = self.string(node, where)
        if not _ID.match(value):
            raise self.fail(node, f"{where} {value!r} is not a valid id",
                            hint="use letters, digits, '_', '-' or '.', no spaces")
        if value in self.seen:
            raise self.fail(node, f"duplicate id {value!r} (first used on line {self.seen[value]})",
                            hint="every theme and code needs its own id")
        self.seen[value] = node.start_mark.line + 1
        return value

    def codebook(self, root: yaml.Node) -> Codebook:
        top = self.mapping(root, _TOP, "the codebook")
        themes_node = top["themes"]
        if not isinstance(themes_node, yaml.SequenceNode) or not themes_node.value:
            raise self.fail(themes_node, "'themes' must be a non-empty list",
                            hint="add at least one theme with codes")
        themes = tuple(self.theme(n) for n in themes_node.value)
        book = Codebook(
            name=self.string(top["name"], "'name'"),
            version=self.string(top["version"], "'version'"),
            description=self.string(top["description"], "'description'", allow_empty=True)
            if "description" in top else "",
            themes=themes,
            language=self.language(top["language"]) if "language" in top else "",
        )
        if "editions" in top and self.follow_editions:
            book = replace(book, editions=self.editions(top["editions"], book))
        return book

    def language(self, node: yaml.Node) -> str:
        value = self.string(node, "'language'")
        if not _LANGUAGE.match(value):
            raise self.fail(node, f"'language' must be a language code, not {value!r}",
                            hint="e.g. en, zh, zh-TW (ISO 639-1, optionally with a region)")
        return value

    def editions(self, node: yaml.Node, book: Codebook) -> tuple[Codebook, ...]:
        """The codebook in other languages: file names (relative to this file) or inline."""
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "'editions' must be a list of codebook files",
                            hint="e.g. editions: [my_codebook.zh-TW.yaml]")
        out = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                relative = self.string(item, "an edition's file name")
                target = Path(self.path).parent / relative
                if not target.is_file():
                    raise self.fail(item, f"the edition {relative!r} is not a file",
                                    hint=f"put it next to {Path(self.path).name} or fix the "
                                         "name")
                if target.resolve() == Path(self.path).resolve():
                    raise self.fail(item, "a codebook cannot be its own edition",
                                    hint="list the same codebook in other languages")
                edition = load_codebook(target, editions=False)
                name = relative
            else:
                edition = _Validator(self.path, follow_editions=False).codebook(item)
                name = edition.name
            mine = {code.id: theme.id for theme, code in book.codes()}
            theirs = {code.id: theme.id for theme, code in edition.codes()}
            if mine != theirs:
                differ = sorted(set(mine.items()) ^ set(theirs.items()))
                shown = ", ".join(f"{code} (theme {theme})" for code, theme in differ[:6])
                raise self.fail(item, f"the edition {name!r} does not have the same codes in "
                                      f"the same themes as this codebook; they differ in: "
                                      f"{shown}",
                                hint="an edition is the same codebook in another language: "
                                     "give every theme and code the same id")
            if edition.language and book.language and \
                    edition.language.split("-")[0] == book.language.split("-")[0]:
                raise self.fail(item, f"the edition {name!r} is in {edition.language}, the "
                                      "language of this codebook",
                                hint="editions are the same codebook in other languages")
            out.append(edition)
        return tuple(out)

    def theme(self, node: yaml.Node) -> Theme:
        fields = self.mapping(node, _THEME, "a theme")
        theme_id = self.identifier(fields["id"], "theme id")
        where = f"theme {theme_id!r}"
        codes_node = fields["codes"]
        if not isinstance(codes_node, yaml.SequenceNode) or not codes_node.value:
            raise self.fail(codes_node, f"{where} has no codes",
                            hint="give every theme a non-empty 'codes' list")
        return Theme(
            id=theme_id,
            name=self.string(fields["name"], f"the name of {where}"),
            description=self.string(fields["description"], f"the description of {where}",
                                    allow_empty=True) if "description" in fields else "",
            codes=tuple(self.code(n, where) for n in codes_node.value),
        )

    def code(self, node: yaml.Node, theme_where: str) -> Code:
        fields = self.mapping(node, _CODE, f"a code of {theme_where}")
        code_id = self.identifier(fields["id"], "code id")
        where = f"code {code_id!r}"
        lists: dict[str, Any] = {
            key: self.strings(fields[key], f"'{key}' of {where}")
            for key in ("include", "exclude", "examples") if key in fields
        }
        return Code(
            id=code_id,
            name=self.string(fields["name"], f"the name of {where}"),
            definition=self.string(fields["definition"], f"the definition of {where}"),
            **lists,
        )


def codebook_to_yaml(codebook: Codebook) -> str:
    """The YAML text of a codebook, in the layout `load_codebook` reads (editions inline, so
    the text stands alone)."""
    return yaml.safe_dump(_codebook_data(codebook), allow_unicode=True, sort_keys=False,
                          width=100)


def _codebook_data(codebook: Codebook) -> dict[str, Any]:
    data: dict[str, Any] = {"name": codebook.name, "version": codebook.version}
    if codebook.description:
        data["description"] = codebook.description
    if codebook.language:
        data["language"] = codebook.language
    if codebook.editions:
        data["editions"] = [_codebook_data(edition) for edition in codebook.editions]
    data["themes"] = []
    for theme in codebook.themes:
        t: dict[str, Any] = {"id": theme.id, "name": theme.name}
        if theme.description:
            t["description"] = theme.description
        t["codes"] = []
        for code in theme.codes:
            c: dict[str, Any] = {"id": code.id, "name": code.name, "definition": code.definition}
            for key in ("include", "exclude", "examples"):
                if getattr(code, key):
                    c[key] = list(getattr(code, key))
            t["codes"].append(c)
        data["themes"].append(t)
    return data


def codebook_languages(codebook: Codebook) -> set[str]:
    """The languages a codebook and its editions are written in (base codes: "zh-TW" -> "zh"),
    from their `language` keys, else guessed from their text as ingest guesses a transcript's."""
    out = set()
    for book in (codebook, *codebook.editions):
        if book.language:
            out.add(book.language.split("-")[0].lower())
        else:
            text = " ".join(f"{code.name} {code.definition} {' '.join(code.examples)}"
                            for _, code in book.codes())
            out.add(detect_language(text))
    return out
