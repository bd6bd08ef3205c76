"""One normalization: a .qdpx plain-text source and a .txt file with the same bytes (or the same
text) become the same `Source.text`, and the offset-mapping normalization gives the text that
`normalize` gives (BOMs, CRLF and lone CR, combining marks, compositions across characters)."""

from __future__ import annotations

import codecs
import itertools
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import DecodingError
from pipeline.ingest import read
from pipeline.ingest.encoding import normalize, normalize_with_offsets
from pipeline.qdpx import read_qdpx
from tests.test_qdpx_support import project, write_zip

GUID = "8e0f1c2a-0000-4000-8000-000000000001"
# Pieces that normalization changes or must keep: BOMs, newlines of three kinds, combining
# marks alone and after a base, precomposed and decomposed letters, a singleton (Angstrom
# sign), Hangul jamo (NFC composes them across base characters: L+V, LV+T), CJK, speaker
# labels.
PIECES = ["a", "é", "e\u0301", "\u0301", "\u0308", "\u0323", "A\u030a", "\u212b", "Å", "我",
          "\u1100", "\u1161", "\u11a8", "\u1100\u1161", "가\u11a8", "\ufeff", "\r", "\n",
          "\r\n", " ", "\t", "Nurse K: ", "Interviewer: "]
RAW = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
# Text `precode ingest` accepts (something to code in it), with or without a BOM. The "ok"
# has a line of its own: glued to what comes before, "ÅokNurse K: " is one speaker label with
# nothing said, which ingest rightly refuses (hypothesis found that one).
TEXT = st.tuples(st.sampled_from(["", "\ufeff"]), RAW, RAW).map(
    lambda t: f"{t[0]}{t[1]}\nok\n{t[2]}")
ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16": lambda text: text.encode("utf-16"),
    "utf-16-be with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


@settings(max_examples=200, deadline=None)
@given(RAW)
def test_normalize_with_offsets_gives_the_normalized_text(raw: str) -> None:
    text, offsets = normalize_with_offsets(raw)
    assert text == normalize(raw)
    assert len(offsets) == len(raw) + 1
    assert offsets[0] == 0 and offsets[-1] == len(text)
    assert all(a <= b for a, b in itertools.pairwise(offsets))


def _qdpx(folder: Path, text: str, data: bytes, where: str) -> Path:
    if where == "plainTextPath":
        source = f'<TextSource guid="{GUID}" name="s" plainTextPath="internal://s.txt"/>'
        members: dict[str, bytes | str] = {"sources/s.txt": data}
    else:  # the text inside the XML; a CR stays a CR (see qdaxml._keep_carriage_returns)
        source = (f'<TextSource guid="{GUID}" name="s"><PlainTextContent>{escape(text)}'
                  f'</PlainTextContent></TextSource>')
        members = {}
    members["project.qde"] = project(f"<Sources>{source}</Sources>")
    return write_zip(folder / "p.qdpx", members)


@settings(max_examples=40, deadline=None)
@given(text=TEXT, encoding=st.sampled_from(sorted(ENCODINGS)),
       where=st.sampled_from(["plainTextPath", "PlainTextContent"]))
def test_qdpx_source_and_txt_file_give_the_same_text(text: str, encoding: str, where: str,
                                                     ) -> None:
    data = ENCODINGS[encoding](text)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "s.txt").write_bytes(data)
        ingested = read(folder / "s.txt")
        imported = read_qdpx(_qdpx(folder, text, data, where))
    assert [s.text for s in imported.sources] == [ingested.text]
    assert ingested.text == normalize(text)


def test_qdpx_undecodable_plain_text_is_a_decoding_error(tmp_path: Path) -> None:
    """A member that starts with a UTF-8 BOM and then is not UTF-8: the error names the
    member, the byte and the codec, and tells to export again (import has no --encoding)."""
    archive = write_zip(tmp_path / "bad.qdpx", {
        "project.qde": project(f'<Sources><TextSource guid="{GUID}" name="s" '
                               f'plainTextPath="internal://s.txt"/></Sources>'),
        "sources/s.txt": codecs.BOM_UTF8 + b"ok \xff\xfe"})
    with pytest.raises(DecodingError, match=r"bad\.qdpx!sources/s\.txt: cannot decode byte \d+ "
                                            r"as utf-8-sig: invalid start byte") as caught:
        read_qdpx(archive)
    assert caught.value.hint == "export the project again"
