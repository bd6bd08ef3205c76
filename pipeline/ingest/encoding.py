"""Bytes to canonical text: detect the encoding, then normalize newlines and Unicode.

The normalized text is what every offset in precode indexes, so this is the one place that
decides it: BOM stripped, CRLF and CR turned into LF, Unicode NFC. `normalize` gives the text;
`normalize_with_offsets` gives the same text and maps offsets counted on the raw text onto it
(for selections a QDA tool counted on its own copy, see `pipeline.qdpx.import_`).
"""

from __future__ import annotations

import codecs
import itertools
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from pipeline.errors import DecodingError, EmptyInputError, UnsupportedFormatError

# Legacy encodings our users' files come in, besides UTF-8/UTF-16: Traditional Chinese
# (Big5, and Microsoft's superset CP950, Taiwan) and Western Windows (cp1252).
LEGACY_ENCODINGS = ("cp950", "big5", "cp1252")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(data: bytes, path: Path) -> str:
    """The encoding of `data`: a BOM, else strict UTF-8, else the best legacy candidate."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise UnsupportedFormatError(
            "this looks like a binary file (it contains NUL bytes), not a transcript",
            path=path,
            hint="export the transcript as .txt, .docx, .vtt or .srt; UTF-16 text needs a BOM",
        )
    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is not None and best.encoding in LEGACY_ENCODINGS:
        # CP950 is Microsoft's superset of Big5 and decodes what Taiwanese editors write.
        return "cp950" if best.encoding in ("big5", "cp950") else best.encoding
    # Too little text for statistics (a one-line answer): the first legacy encoding that
    # decodes strictly. CP950 first: cp1252 decodes almost any bytes, CP950 rejects most
    # Western text (an accented letter followed by a space is not a valid CP950 pair).
    for name in ("cp950", "cp1252"):
        try:
            data.decode(name)
            return name
        except UnicodeDecodeError:
            continue
    raise DecodingError(
            "the bytes are not valid UTF-8, UTF-16, Big5/CP950 or cp1252 text",
            path=path,
            hint="re-save the file as UTF-8, or name its encoding with --encoding",
        )


def normalize(text: str) -> str:
    """Canonical text: LF newlines, NFC, no BOM."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def normalize_with_offsets(raw: str) -> tuple[str, list[int]]:
    """`normalize(raw)`, and where each offset counted on `raw` lands in it.

    `offsets[i]` is the normalized offset of raw offset `i` (for `i` in `0..len(raw)`). The
    text is always `normalize(raw)` (tests/test_qdpx_normalization.py checks it); `normalize`
    stays the fast path for callers that need no offsets.
    """
    out: list[str] = []
    offsets = [0] * (len(raw) + 1)
    i, n = 0, len(raw)
    while i < n and raw[i] == "\ufeff":
        i += 1
    while i < n:
        offsets[i] = len(out)
        if raw[i] == "\r":
            out.append("\n")
            i += 1
            if i < n and raw[i] == "\n":
                offsets[i] = len(out)
                i += 1
            continue
        out.append(raw[i])
        i += 1
    offsets[n] = len(out)
    text = "".join(out)
    if unicodedata.is_normalized("NFC", text):
        return text, offsets
    return _nfc_with_offsets(text, offsets)


def _nfc_with_offsets(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """NFC per run of a base character and its combining marks, offsets mapped along."""
    starts = [i for i, ch in enumerate(text) if i == 0 or not unicodedata.combining(ch)]
    starts.append(len(text))
    pieces: list[str] = []
    inner = [0] * (len(text) + 1)
    length = 0
    for a, b in itertools.pairwise(starts):
        piece = unicodedata.normalize("NFC", text[a:b])
        for k in range(a, b):
            inner[k] = length + min(k - a, len(piece))
        pieces.append(piece)
        length += len(piece)
    inner[len(text)] = length
    joined = "".join(pieces)
    whole = unicodedata.normalize("NFC", text)
    if joined != whole:  # composition across base characters (rare, e.g. Hangul jamo)
        scale = len(whole) / max(1, len(text))
        return whole, [min(len(whole), round(o * scale)) for o in offsets]
    return joined, [inner[o] for o in offsets]


_REENCODE = "re-save the file as UTF-8, or give the right encoding with --encoding"


def decode_raw(data: bytes, path: Path, encoding: str | None = None, *,
               hint: str = _REENCODE) -> tuple[str, str]:
    """`data` decoded (with `encoding`, else the detected one) but not yet normalized; returns
    (text, encoding used). For callers that map offsets counted on the raw text; `hint` is
    what a `DecodingError` tells the user to do."""
    name = encoding or detect_encoding(data, path)
    try:
        return data.decode(name), name
    except LookupError as exc:
        raise DecodingError(f"unknown encoding {name!r}", path=path,
                            hint="use a Python codec name such as utf-8, cp950 or cp1252") from exc
    except UnicodeDecodeError as exc:
        raise DecodingError(f"cannot decode byte {exc.start} as {name}: {exc.reason}",
                            path=path, hint=hint) from exc


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode and normalize `data` read from `path`; returns (text, encoding used)."""
    if not data.strip():
        raise EmptyInputError("the file is empty", path=path,
                              hint="check that the export finished, or remove the file")
    text, name = decode_raw(data, path, encoding)
    text = normalize(text)
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if controls > max(2, len(text) // 100):
        raise UnsupportedFormatError(
            f"this looks like a binary file ({controls} control characters after decoding as "
            f"{name}), not a transcript",
            path=path,
            hint="export the transcript as .txt, .docx, .vtt or .srt",
        )
    if not text.strip():
        raise EmptyInputError("the file contains only whitespace", path=path,
                              hint="check that the export finished, or remove the file")
    return text, name
