"""RTF transcripts (`.rtf`): paragraphs become lines; a bold lead-in is a speaker label.

The text is the paragraphs (`\\par`; each table cell's paragraphs in turn, as for .docx)
joined with `\\n`; `\\line` starts a new line too, `\\tab` is a tab. Characters come from
`\\uN` escapes (negative N counts from 65536; the `\\ucN` fallback characters after each are
skipped) and from `\\'hh` bytes (and any raw 8-bit bytes) decoded with the code page in force:
the font's `\\fcharset`/`\\cpg` where it names one, else the document's `\\ansicpg` (cp950 for
Big5, cp936 for GBK, cp1252 for Western text). Consecutive bytes are decoded together, so the
two bytes of a Big5 or GBK character (`\\'b3\\'5c`, or `\\'a4W` with the trail byte written as
a plain character, as Word does) make one character. Destinations that are not body text (font,
colour and style tables, document info, pictures, headers and footers, footnotes, comments,
field instructions, list numbers, every `{\\*\\...}` group) and hidden text (`\\v`) are skipped.

A small tokenizer of our own rather than striprtf: striprtf drops character formatting, so a
label written in bold without a colon (as Word users type them, see the .docx reader) would be
lost; and it reads a truncated file without complaint. Here `\\b` ... `\\b0` is followed, a line
that starts with bold text that looks like a name gets it as a forced label, and a file whose
groups never close is refused as incomplete.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.errors import MalformedTranscriptError
from pipeline.ingest.bold import Run, lines_from_runs
from pipeline.ingest.speakers import find_turns
from pipeline.records import Turn

_TOKEN = re.compile(
    rb"\\(?P<word>[a-zA-Z]{1,32})(?P<arg>-?\d{1,10})? ?"  # control word, one space delimiter
    rb"|\\'(?P<hex>[0-9a-fA-F]{2})"
    rb"|\\(?P<symbol>[^a-zA-Z])"  # \\ \{ \} \~ \- \* ...; a malformed \' is ignored
    rb"|(?P<brace>[{}])"
    rb"|(?P<newline>[\r\n]+)"
    rb"|(?P<text>[^\\{}\r\n]+)"
)
# Groups whose content is not body text.
_DESTINATIONS = frozenset({
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata", "header", "headerl",
    "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "footnote", "annotation",
    "atnid", "atnauthor", "atndate", "atnref", "pntext", "pntxta", "pntxtb", "listtext",
    "listtable", "listoverridetable", "rsidtbl", "xmlnstbl", "themedata", "colorschememapping",
    "latentstyles", "datastore", "generator", "filetbl", "revtbl", "fldinst", "nonshppict", "shp",
    "shpinst", "sp", "sn", "sv", "txe", "xe", "tc", "template", "author", "operator", "title",
    "subject", "keywords", "comment", "doccomm", "company", "creatim", "revtim", "printim",
    "buptim", "userprops", "docvar", "wgrffmtfilter", "pgdsctbl", "protusertbl", "mmathPr", "falt",
    "panose", "fontemb", "fontfile", "bkmkstart", "bkmkend",
})
_SPECIAL = {
    "tab": "\t", "emdash": "\u2014", "endash": "\u2013", "emspace": "\u2003",
    "enspace": "\u2002", "qmspace": "\u2005", "bullet": "\u2022", "lquote": "\u2018",
    "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d", "zwj": "\u200d",
    "zwnj": "\u200c", "ltrmark": "\u200e", "rtlmark": "\u200f",
}
_SYMBOLS = {b"~": "\xa0", b"_": "\u2011", b"-": "", b"|": "", b":": ""}
_PARAGRAPH_ENDS = frozenset(("par", "sect", "cell", "nestcell"))
# \fcharsetN -> code page (0 ANSI, 1 default, 2 symbol: the document's code page).
_CHARSETS = {77: "mac_roman", 128: "cp932", 129: "cp949", 134: "gbk", 136: "cp950",
             161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255", 178: "cp1256",
             186: "cp1257", 204: "cp1251", 222: "cp874", 238: "cp1250", 255: "cp850"}
_CODE_PAGES = {10000: "mac_roman", 65001: "utf-8", 936: "gbk", 437: "cp437", 850: "cp850"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INCOMPLETE = ("export it again from the word processor (or open it in Word or LibreOffice "
               "and save it again as .rtf); the copy you have was cut off")


@dataclass(frozen=True)
class _State:
    """Group-scoped state: restored when the group closes."""

    skip: bool = False  # a destination that is not body text
    fonttbl: bool = False
    bold: bool = False
    hidden: bool = False
    uc: int = 1  # fallback characters after each \uN
    font: int | None = None


def code_page(number: int) -> str:
    """The Python codec of a Windows code page number (cp1252 when Python has none)."""
    name = _CODE_PAGES.get(number, f"cp{number}")
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name


def read_rtf(path: Path, data: bytes, interviewer_names: Sequence[str]) -> tuple[str, list[Turn]]:
    """The normalized text of a .rtf transcript and its speaker turns."""
    rows = _Parser(path).parse(data)
    full, lines = lines_from_runs(rows)
    return full, find_turns(full, lines, interviewer_names)


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = "cp1252"  # the document's (\ansicpg)
        self.default_font: int | None = None
        self.fonts: dict[int, str] = {}  # font number -> codec, where the font names one
        self.defining: int | None = None  # the font being defined in \fonttbl
        self.rows: list[list[Run]] = [[]]
        self.pending = bytearray()  # bytes not yet decoded
        self.pending_state = _State()
        self.skip_chars = 0  # \ucN fallback characters still to drop

    def parse(self, data: bytes) -> list[list[Run]]:
        start = len(data) - len(data.lstrip(b"\xef\xbb\xbf\r\n\t "))
        if not data[start:].startswith(b"{\\rtf"):
            looks = "a zip file (a .docx or .odt?)" if data.startswith(b"PK") else "something else"
            raise MalformedTranscriptError(
                f"not an RTF file: it does not start with {{\\rtf (it looks like {looks})",
                path=self.path,
                hint="open it in a word processor and save it again as .rtf (Rich Text Format), "
                     "or give it the extension of its real format")
        stack: list[_State] = []
        state = _State()
        pos, end = start, len(data)
        while pos < end:
            m = _TOKEN.match(data, pos)
            if m is None:  # a lone backslash at the very end
                break
            pos = m.end()
            kind = m.lastgroup
            raw: bytes | None = None  # text bytes, decoded later in the code page in force
            if kind == "text":
                raw = m.group("text")
            elif kind == "hex":
                raw = bytes((int(m.group("hex"), 16),))
            elif kind == "symbol" and m.group("symbol") in (b"\\", b"{", b"}"):
                raw = m.group("symbol")
            if raw is not None:
                if self.skip_chars:  # \ucN fallback: each byte, \'hh or \{ is one character
                    dropped = min(self.skip_chars, len(raw))
                    self.skip_chars -= dropped
                    raw = raw[dropped:]
                if raw and not state.skip and not state.hidden:
                    if self.pending and self.pending_state != state:
                        self._flush()
                    self.pending += raw
                    self.pending_state = state
            elif kind == "newline":
                continue  # line ends in the RTF source mean nothing
            elif kind == "brace":
                self.skip_chars = 0
                if m.group("brace") == b"{":
                    stack.append(state)
                    if data.startswith(b"\\*", pos):  # an ignorable destination
                        state = replace(state, skip=True)
                else:
                    self._flush()
                    state = stack.pop()
                    if not stack:  # the document group is closed: the rest is not RTF
                        break
            elif kind == "symbol":
                if self.skip_chars:
                    self.skip_chars -= 1
                    continue
                symbol = m.group("symbol")
                if state.skip or state.hidden:
                    continue
                if symbol in (b"\n", b"\r"):  # "\" before a line end is \par
                    self._end_paragraph()
                elif symbol in _SYMBOLS:
                    self._char(_SYMBOLS[symbol], state)
            else:
                word, arg = m.group("word").decode(), m.group("arg")
                if word == "bin":  # binary data follows: skip it unread
                    pos += max(0, int(arg or 0))
                    continue
                if self.skip_chars:
                    self.skip_chars -= 1
                    continue
                state = self._control(word, int(arg) if arg is not None else None, state)
        if stack:
            raise MalformedTranscriptError(
                f"the file is incomplete: {len(stack)} group(s) are never closed "
                "(it ends in the middle of the document)", path=self.path, hint=_INCOMPLETE)
        self._flush()
        while len(self.rows) > 1 and not self.rows[-1]:
            self.rows.pop()  # the empty line after the last \par
        return [[Run(_LONE_SURROGATE.sub("\ufffd", run.text), run.bold) for run in row]
                for row in self.rows]

    def _control(self, word: str, arg: int | None, state: _State) -> _State:
        if word in _DESTINATIONS:
            self._flush()
            return replace(state, skip=True, fonttbl=word == "fonttbl")
        if state.fonttbl:
            if word == "f" and arg is not None:
                self.defining = arg
            elif word == "fcharset" and arg is not None and self.defining is not None \
                    and arg in _CHARSETS:
                self.fonts.setdefault(self.defining, _CHARSETS[arg])
            elif word == "cpg" and arg is not None and self.defining is not None:
                self.fonts[self.defining] = code_page(arg)
            return state
        if word == "ansicpg" and arg is not None:
            self.encoding = code_page(arg)
        elif word in ("mac", "pc", "pca"):
            self.encoding = {"mac": "mac_roman", "pc": "cp437", "pca": "cp850"}[word]
        elif word == "deff":
            self.default_font = arg
        elif word == "uc" and arg is not None:
            return replace(state, uc=max(0, arg))
        elif word == "u" and arg is not None:
            if not state.skip and not state.hidden:
                self._char(chr(arg % 65536), state)  # \u-10 is U+FFF6
            self.skip_chars = state.uc
        elif word == "b":
            self._flush()
            return replace(state, bold=arg != 0)
        elif word == "v":
            self._flush()
            return replace(state, hidden=arg != 0)
        elif word == "plain":
            self._flush()
            return replace(state, bold=False, hidden=False, font=self.default_font)
        elif word == "f":
            self._flush()
            return replace(state, font=arg)
        elif state.skip or state.hidden:
            pass
        elif word in _PARAGRAPH_ENDS:
            self._end_paragraph()
        elif word == "line":
            self._flush()
            self.rows.append([])
        elif word in _SPECIAL:
            self._char(_SPECIAL[word], state)
        return state

    def _codec(self, state: _State) -> str:
        font = state.font if state.font is not None else self.default_font
        return self.fonts.get(font, self.encoding) if font is not None else self.encoding

    def _char(self, value: str, state: _State) -> None:
        self._flush()
        row = self.rows[-1]
        if value and "\udc00" <= value <= "\udfff" and row and row[-1].bold == state.bold \
                and "\ud800" <= row[-1].text[-1:] <= "\udbff":
            # A character outside the BMP comes as two \\uN escapes (a UTF-16 surrogate pair).
            pair = (row[-1].text[-1] + value).encode("utf-16-le", "surrogatepass")
            row[-1] = Run(row[-1].text[:-1] + pair.decode("utf-16-le"), state.bold)
            return
        self._add(value, state.bold)

    def _flush(self) -> None:
        if self.pending:
            raw = bytes(self.pending)
            self.pending.clear()
            self._add(raw.decode(self._codec(self.pending_state), "replace"),
                      self.pending_state.bold)

    def _add(self, value: str, bold: bool) -> None:
        if value:
            self.rows[-1].append(Run(value, bold))

    def _end_paragraph(self) -> None:
        self._flush()
        self.rows.append([])
