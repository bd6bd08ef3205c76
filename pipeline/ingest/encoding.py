"""Bytes to canonical text: detect the encoding, then normalize newlines and Unicode.

The normalized text is what every offset in precode indexes, so this is the one place that
decides it: BOM stripped, CRLF and CR turned into LF, Unicode NFC.
"""

from __future__ import annotations

import codecs
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


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode and normalize `data` read from `path`; returns (text, encoding used)."""
    if not data.strip():
        raise EmptyInputError("the file is empty", path=path,
                              hint="check that the export finished, or remove the file")
    name = encoding or detect_encoding(data, path)
    try:
        text = data.decode(name)
    except LookupError as exc:
        raise DecodingError(f"unknown encoding {name!r}", path=path,
                            hint="use a Python codec name such as utf-8, cp950 or cp1252") from exc
    except UnicodeDecodeError as exc:
        raise DecodingError(
            f"cannot decode byte {exc.start} as {name}: {exc.reason}",
            path=path,
            hint="re-save the file as UTF-8, or give the right encoding with --encoding",
        ) from exc
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
