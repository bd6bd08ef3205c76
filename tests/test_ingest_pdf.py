"""Ingest: PDF transcripts. The PDFs are written by hand here (no PDF library makes them), so
each test states exactly what is on the page and where."""

from __future__ import annotations

import hashlib
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import (
    MalformedTranscriptError,
    MissingDependencyError,
    PrecodeError,
    UnsupportedFormatError,
)
from pipeline.ingest import read
from pipeline.records import Source
from pipeline.segment import segment

runner = CliRunner()

# --- a minimal PDF writer ------------------------------------------------------------------

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _string(raw: bytes) -> bytes:
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


@dataclass
class Page:
    """What is drawn on a US Letter page, in this order; (x, y) in points from bottom left.

    `text`: Helvetica (WinAnsi, but "\xad" is a soft hyphen and "®" the fi ligature); `cjk`:
    a CNS1 CID font (MSung); `glyphs`: glyph ids in a font with no map to Unicode; `rotated`:
    Helvetica turned 90 degrees; `image`: a grey image over the page, as in a scan.
    """

    text: list[tuple[float, float, str]] = field(default_factory=list)
    cjk: list[tuple[float, float, str]] = field(default_factory=list)
    glyphs: list[tuple[float, float, int]] = field(default_factory=list)
    rotated: list[tuple[float, float, str]] = field(default_factory=list)
    image: bool = False
    size: float = 11
    contents: bool = True  # False: a page without a content stream


def make_pdf(pages: list[Page], *, password: str | None = None) -> bytes:
    """A PDF file of `pages`; with `password`, encrypted with the standard security handler
    (RC4, 40 bits: PDF 1.4, Algorithms 3.1 to 3.4) so that it opens only with that password."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog, pages_id = add(b""), add(b"")
    helvetica = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type "
                    b"/Encoding /BaseEncoding /WinAnsiEncoding /Differences [173 /sfthyphen /fi] "
                    b">> >>")
    cid = add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /MSung-Light /CIDSystemInfo "
              b"<< /Registry (Adobe) /Ordering (CNS1) /Supplement 0 >> /DW 1000 >>")
    song = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /MSung-Light /Encoding /UniCNS-UCS2-H "
               b"/DescendantFonts [%d 0 R] >>" % cid)
    unmapped = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /Unmapped /Encoding /Identity-H "
                   b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Unmapped "
                   b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                   b"/DW 500 >>] >>")
    image = add(b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream")
    streams: dict[int, bytes] = {}
    kids = []
    for page in pages:
        ops = [b"q 500 0 0 700 50 50 cm /Im0 Do Q"] if page.image else []
        ops += [b"BT /F1 %g Tf 1 0 0 1 %g %g Tm %s Tj ET"
                % (page.size, x, y, _string(t.encode("cp1252"))) for x, y, t in page.text]
        ops += [b"BT /F2 %g Tf 1 0 0 1 %g %g Tm <%s> Tj ET"
                % (page.size, x, y, t.encode("utf-16-be").hex().encode()) for x, y, t in page.cjk]
        ops += [b"BT /F3 %g Tf 1 0 0 1 %g %g Tm <%s> Tj ET"
                % (page.size, x, y, b"".join(b"%04x" % (n + i % 7) for i in range(30)))
                for x, y, n in page.glyphs]
        ops += [b"BT /F1 %g Tf 0 1 -1 0 %g %g Tm %s Tj ET"
                % (page.size, x, y, _string(t.encode("cp1252"))) for x, y, t in page.rotated]
        contents = b""
        if page.contents:
            stream = add(b"")
            streams[stream] = zlib.compress(b"\n".join(ops))
            contents = b" /Contents %d 0 R" % stream
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792]%s /Resources "
                        b"<< /Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R >> "
                        b"/XObject << /Im0 %d 0 R >> >> >>"
                        % (pages_id, contents, helvetica, song, unmapped, image)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))

    file_id = hashlib.md5(b"precode test").digest()
    key, encrypt = b"", b""
    if password is not None:
        owner = _rc4(hashlib.md5(b"owner" + _PAD).digest()[:5], (password.encode() + _PAD)[:32])
        permissions = (-4).to_bytes(4, "little", signed=True)
        key = hashlib.md5((password.encode() + _PAD)[:32] + owner + permissions
                          + file_id).digest()[:5]
        encrypt = b" /Encrypt %d 0 R" % add(b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> "
                                            b"/P -4 >>" % (owner.hex().encode(),
                                                           _rc4(key, _PAD).hex().encode()))

    def seal(number: int, data: bytes) -> bytes:
        if not key:
            return data
        return _rc4(hashlib.md5(key + number.to_bytes(3, "little") + b"\0\0").digest()[:10], data)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        if number in streams:
            data = seal(number, streams[number])
            body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data),
                                                                                     data)
        elif number == image:
            body = body.replace(b"\x80", seal(number, b"\x80"))
        elif number in (cid, unmapped):
            for word in (b"Adobe", b"CNS1", b"Identity"):
                body = body.replace(b"(%s)" % word, b"<%s>" % seal(number, word).hex().encode())
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += (b"trailer\n<< /Size %d /Root %d 0 R /ID [<%s> <%s>]%s >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, catalog, file_id.hex().encode(), file_id.hex().encode(),
               encrypt, xref))
    return bytes(out)


def lines(*rows: str, x: float = 72, top: float = 720, leading: float = 14,
          gap: float = 10) -> list[tuple[float, float, str]]:
    """Rows of text down a page; an empty row is a paragraph gap of `gap` points."""
    out, y = [], top
    for row in rows:
        if row:
            out.append((x, y, row))
            y -= leading
        else:
            y -= gap
    return out


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _utterances(source: Source) -> list[tuple[str, str, str]]:
    return [(t.speaker, t.role, source.text[t.start:t.end]) for t in source.turns]


HEADER = "Recovery & peer support study \u2014 Interview P14 \u2014 confidential"

# --- speakers, paragraphs, reading order ------------------------------------------------------


def test_ingest_pdf_speaker_labels_and_roles_as_in_txt(tmp_path: Path) -> None:
    rows = ["Interviewer: Thank you for coming. Could you tell me about your",
            "work on the day ward?",
            "",
            "Nurse K: Sure. I have been a nurse for twelve years. Most days I run",
            "the medication group and the morning walk.",
            "",
            "Some days it is only paperwork, to be honest.",
            "",
            "Interviewer: Mm-hmm.",
            "",
            "Nurse K: And forms. A lot of forms."]
    pdf = read(_write(tmp_path, "t.pdf", make_pdf([Page(text=lines(*rows))])))
    txt = read(_write(tmp_path, "t.txt", (
        b"Interviewer: Thank you for coming. Could you tell me about your work on the day ward?"
        b"\n\nNurse K: Sure. I have been a nurse for twelve years. Most days I run the "
        b"medication group and the morning walk.\n\nSome days it is only paperwork, to be "
        b"honest.\n\nInterviewer: Mm-hmm.\n\nNurse K: And forms. A lot of forms.")))
    assert pdf.text == txt.text
    assert _utterances(pdf) == _utterances(txt)
    assert [(s, r) for s, r, _ in _utterances(pdf)] == [
        ("Interviewer", "interviewer"), ("Nurse K", "participant"),
        ("Interviewer", "interviewer"), ("Nurse K", "participant")]
    assert pdf.metadata["format"] == "pdf" and pdf.language == "en"


def test_ingest_pdf_otter_export_as_in_txt(tmp_path: Path) -> None:
    page = Page(text=[(72, 720, "Interviewer"), (140, 720, "0:03"),
                      *lines("Hello? Hi, can you hear me okay?", top=706),
                      (72, 680, "Speaker 2"), (140, 680, "0:09"),
                      *lines("Yes, yes, I can hear you. Sorry, I just got back from a home",
                             "visit.", top=666),
                      (72, 626, "Interviewer"), (140, 626, "0:26"),
                      *lines("No problem, take your time.", top=612)])
    pdf = read(_write(tmp_path, "t.pdf", make_pdf([page])))
    txt = read(_write(tmp_path, "t.txt", (
        b"Interviewer  0:03\nHello? Hi, can you hear me okay?\n\nSpeaker 2  0:09\nYes, yes, I "
        b"can hear you. Sorry, I just got back from a home visit.\n\nInterviewer  0:26\nNo "
        b"problem, take your time.")))
    assert pdf.text == txt.text
    assert [(t.speaker, t.time_start) for t in pdf.turns] == [
        ("Interviewer", 3.0), ("Speaker 2", 9.0), ("Interviewer", 26.0)]


@pytest.mark.parametrize(("leading", "gap"), [(24, 16), (24, 6), (14, 4), (13, 13)],
                         ids=["double+16pt", "double+6pt", "single+4pt", "blank-line"])
def test_ingest_pdf_paragraphs_follow_the_line_spacing(tmp_path: Path, leading: float,
                                                       gap: float) -> None:
    # A gap of one line spacing is not a paragraph break, a larger one is, whatever the
    # spacing of the lines.
    rows = lines("Nurse K: first line of the answer", "goes on here.", "",
                 "A second paragraph", "of the same turn.", "", "Interviewer: Right.", "",
                 "Nurse K: Yes.", leading=leading, gap=gap)
    source = read(_write(tmp_path, "t.pdf", make_pdf([Page(text=rows)])))
    assert source.text == ("Nurse K: first line of the answer goes on here.\n\n"
                           "A second paragraph of the same turn.\n\nInterviewer: Right.\n\n"
                           "Nurse K: Yes.")


def test_ingest_pdf_two_pages_in_reading_order(tmp_path: Path) -> None:
    full = "Nurse K: This line runs all the way to the right margin of the page, and"
    first = Page(text=[*reversed(lines("Interviewer: How did it start?", "", full)),
                       (300, 40, "1")])
    second = Page(text=[(300, 40, "2"),
                        *lines("the answer goes on at the top of the next page.", "",
                               "Interviewer: And then?", "", "Nurse K: Then it got better.")])
    third = Page(text=lines("A new paragraph after a short line.", top=740))
    short = Page(text=lines("Interviewer: Last question."))
    source = read(_write(tmp_path, "t.pdf", make_pdf([first, second, short, third])))
    assert source.text == (
        "Interviewer: How did it start?\n\n" + full + " the answer goes on at the top of the "
        "next page.\n\nInterviewer: And then?\n\nNurse K: Then it got better.\n\n"
        "Interviewer: Last question.\n\nA new paragraph after a short line.")


def test_ingest_pdf_label_in_a_column_of_its_own(tmp_path: Path) -> None:
    page = Page(text=[(72, 700, "Interviewer:"), (160, 700, "How long have you worked here?"),
                      (72, 680, "Nurse K:"), (160, 680, "Twelve years, on the day ward.")])
    source = read(_write(tmp_path, "t.pdf", make_pdf([page])))
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How long have you worked here?"),
        ("Nurse K", "participant", "Twelve years, on the day ward.")]


def test_ingest_pdf_rotated_margin_text_is_left_out(tmp_path: Path) -> None:
    page = Page(text=lines("Interviewer: Hello.", "", "Nurse K: Hello again."),
                rotated=[(580, 200, "Downloaded from the study drive, do not share")])
    source = read(_write(tmp_path, "t.pdf", make_pdf([page])))
    assert source.text == "Interviewer: Hello.\n\nNurse K: Hello again."


# --- headers, footers, line numbers -----------------------------------------------------------

def test_ingest_pdf_running_header_footer_and_page_numbers_removed(tmp_path: Path) -> None:
    body = [["Interviewer: Could you tell me about your week?", "",
             "Nurse K: It was long. We had two admissions and a discharge."],
            ["Interviewer: Mm-hmm.", "", "Nurse K: And on Friday the group went to the park."],
            ["Interviewer: Mm-hmm.", "", "Nurse K: That was the best part, really."]]
    pages = [Page(text=[(72, 760, HEADER), (72, 748, f"Transcribed {12 + n} March 2024"),
                        *lines(*rows), (260, 40, f"Page {n + 1} of {len(body)}"),
                        (72, 28, "Confidential: not for citation")])
             for n, rows in enumerate(body)]
    source = read(_write(tmp_path, "t.pdf", make_pdf(pages)))
    assert "Interview P14" not in source.text and "Transcribed" not in source.text
    assert "Page" not in source.text and "onfidential" not in source.text
    # "Interviewer: Mm-hmm." starts two pages, but it is a turn, not a running header.
    assert [text for _, _, text in _utterances(source)] == [
        "Could you tell me about your week?",
        "It was long. We had two admissions and a discharge.", "Mm-hmm.",
        "And on Friday the group went to the park.", "Mm-hmm.",
        "That was the best part, really."]


@pytest.mark.parametrize("number", ["3", "- 3 -", "Page 3", "3 / 12", "p. 3"])
def test_ingest_pdf_page_number_removed_on_a_single_page(tmp_path: Path, number: str) -> None:
    page = Page(text=[*lines("Interviewer: Hello.", "", "Nurse K: Hello."), (290, 40, number)])
    source = read(_write(tmp_path, "t.pdf", make_pdf([page])))
    assert source.text == "Interviewer: Hello.\n\nNurse K: Hello."


def test_ingest_pdf_margin_line_numbers_removed(tmp_path: Path) -> None:
    rows = ["Interviewer: How long have you been on the ward?", "",
            "Nurse K: 12 years, since the ward opened. Before that",
            "2009 was my first year in psychiatry."]
    text = lines(*rows)
    numbers = [(40, y, str(n)) for n, (_, y, _) in enumerate(text, start=1)]
    right = [(560, text[0][1], "17")]
    page = Page(text=[*numbers, *text, *right])
    source = read(_write(tmp_path, "t.pdf", make_pdf([page])))
    assert source.text == ("Interviewer: How long have you been on the ward?\n\nNurse K: 12 years, "
                     "since the ward opened. Before that 2009 was my first year in psychiatry.")


# --- joining lines --------------------------------------------------------------------------

def test_ingest_pdf_soft_hyphen_joined_real_hyphen_kept(tmp_path: Path) -> None:
    rows = ["Nurse K: Recovery and well-being are what we talk about. Her recov-",
            "ery took years, and her well-",
            "being too. A soft\xad",
            "ware update broke the printer, a strato-",
            "sphere of paperwork, and then COVID-",
            "19 came and we moved the group to the court-",
            "yard next to Chang-",
            "Hua Road. I thought -",
            "well, we had no choice."]
    source = read(_write(tmp_path, "t.pdf", make_pdf([Page(text=lines(*rows))])))
    assert _utterances(source) == [("Nurse K", "participant",
        "Recovery and well-being are what we talk about. Her recovery took years, and her "
        "well-being too. A software update broke the printer, a stratosphere of paperwork, "
        "and then COVID-19 came and we moved the group to the courtyard next to Chang-Hua "
        "Road. I thought - well, we had no choice.")]
    assert "\u00ad" not in source.text


def test_ingest_pdf_ligatures_and_spaces(tmp_path: Path) -> None:
    page = Page(text=[(72, 720, "Nurse K: The of\u00aece is   small, the \u00aele is big.")])
    source = read(_write(tmp_path, "t.pdf", make_pdf([page])))
    assert source.text == "Nurse K: The office is small, the file is big."


def test_ingest_pdf_hyphenated_form_wins_when_it_is_more_frequent(tmp_path: Path) -> None:
    rows = ["Nurse K: co-leads, co-leads and coleads. She co-", "leads the group."]
    source = read(_write(tmp_path, "t.pdf", make_pdf([Page(text=lines(*rows))])))
    assert source.text.endswith("She co-leads the group.")


def test_ingest_pdf_cjk_lines_joined_without_a_space(tmp_path: Path) -> None:
    page = Page(cjk=[(72, 720, "訪談者：請問您在日間病房"), (72, 706, "工作多久了？"),
                     (72, 682, "護理師K：十二年了，每天都"), (72, 668, "很忙。"),
                     (72, 644, "訪談者：謝謝。"), (72, 620, "護理師K：不客氣。")],
                text=[(72, 596, "Nurse K: A Latin line wraps"), (72, 582, "with a space.")])
    source = read(_write(tmp_path, "t.pdf", make_pdf([page])),)
    assert source.language == "zh"
    assert _utterances(source)[:2] == [
        ("訪談者", "interviewer", "請問您在日間病房工作多久了？"),
        ("護理師K", "participant", "十二年了，每天都很忙。")]
    assert "Nurse K: A Latin line wraps with a space." in source.text


def test_ingest_pdf_offsets_index_the_text_and_segments_reproduce_it(tmp_path: Path) -> None:
    rows = ["Interviewer: What does recovery mean to you?", "",
            "Nurse K: For me recovery is not the end of symptoms. One man still hears",
            "voices, but he works in a bakery and visits his mother. He is well in his own",
            "way. \u00c9lodie, our OT, says the same about recov-", "ery and I agree.", "",
            "Interviewer: Thank you."]
    path = _write(tmp_path, "t.pdf", make_pdf([Page(text=[(72, 760, HEADER),
                                                          *lines(*rows)]),
                                               Page(text=[(72, 760, HEADER),
                                                          *lines("Nurse K: You're welcome.")])]))
    source = read(path)
    for turn in source.turns:
        assert source.text[turn.start:turn.end].strip() == source.text[turn.start:turn.end]
    assert _utterances(source)[1][2].endswith("about recovery and I agree.")
    segments = segment(source)
    assert segments and all(source.text[s.start:s.end] == s.text for s in segments)
    assert {s.role for s in segments} == {"participant"}


def test_ingest_pdf_sample_transcript(sample_dir: Path) -> None:
    (path,) = sample_dir.glob("p14_*.pdf")
    source = read(path)
    speakers = {(t.speaker, t.role) for t in source.turns}
    assert speakers == {("Interviewer", "interviewer"), ("Psychologist M", "participant")}
    assert len(source.turns) == 68
    for leftover in ("Page ", "confidential", "Interview P14"):
        assert leftover not in source.text
    assert "rehabilitation ward, and he" not in source.text  # no page break inside a word
    assert "part-time contract" in source.text and "disability allowance" in source.text


# --- bad input ------------------------------------------------------------------------------

def _good() -> bytes:
    return make_pdf([Page(text=lines(*(f"Nurse K: line {n} of a transcript that is long "
                                       "enough to fill a page" for n in range(40)))),
                     Page(text=lines("Interviewer: Thanks."))])


BAD_PDFS = {
    "scan.pdf": (lambda: make_pdf([Page(image=True), Page(image=True)]),
                 UnsupportedFormatError, "OCR"),
    "scan-with-page-numbers.pdf": (lambda: make_pdf([Page(image=True, text=[(300, 40, "1")]),
                                                     Page(image=True, text=[(300, 40, "2")])]),
                                   UnsupportedFormatError, "no text layer"),
    "blank.pdf": (lambda: make_pdf([Page(contents=False)]), UnsupportedFormatError, "no text"),
    "unmapped-font.pdf": (lambda: make_pdf([Page(glyphs=[(72, 720 - 14 * n, 3 + n)
                                                         for n in range(20)])]),
                          UnsupportedFormatError, "cannot be decoded"),
    "sideways.pdf": (lambda: make_pdf([Page(rotated=[(300, 100, "Nurse K: all of it sideways")])]),
                     UnsupportedFormatError, "sideways"),
    "locked.pdf": (lambda: make_pdf([Page(text=lines("Nurse K: secret."))], password="s3cret"),
                   UnsupportedFormatError, "password"),
    "truncated.pdf": (lambda: _good()[:len(_good()) // 2], MalformedTranscriptError,
                      "damaged or incomplete"),
    "cut-at-the-end.pdf": (lambda: _good()[:-40], MalformedTranscriptError, "incomplete"),
    "not-a-pdf.pdf": (lambda: b"PK\x03\x04 a zip file", MalformedTranscriptError, "not a PDF"),
}


@pytest.mark.parametrize("name", sorted(BAD_PDFS))
def test_ingest_pdf_bad_input_is_a_clear_error(tmp_path: Path, name: str) -> None:
    make, error, needle = BAD_PDFS[name]
    path = _write(tmp_path, name, make())
    with pytest.raises(error) as info:
        read(path)
    assert str(path) in str(info.value) and needle in str(info.value)
    assert "How to fix" in str(info.value)

    out = tmp_path / "run"
    result = runner.invoke(app, ["ingest", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert name in result.output and needle in result.output
    assert not out.exists()


def test_ingest_pdf_encrypted_file_is_really_encrypted(tmp_path: Path) -> None:
    """The test file is a real encrypted PDF: pdfminer reads it with the password."""
    from pdfminer.high_level import extract_text

    data = make_pdf([Page(text=lines("Nurse K: secret."))], password="s3cret")
    path = _write(tmp_path, "locked.pdf", data)
    assert "Nurse K: secret." in extract_text(path, password="s3cret")
    with pytest.raises(UnsupportedFormatError, match="password"):
        read(path)


def test_ingest_pdf_protected_without_a_password_to_open_is_read(tmp_path: Path) -> None:
    """Encrypted with an empty user password (permissions only): every reader opens it."""
    path = _write(tmp_path, "t.pdf", make_pdf([Page(text=lines("Nurse K: open."))],
                                              password=""))
    assert _utterances(read(path)) == [("Nurse K", "participant", "open.")]


def test_ingest_pdf_without_pdfminer_is_a_missing_dependency_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "t.pdf", make_pdf([Page(text=lines("Nurse K: hi."))]))
    for name in [m for m in sys.modules if m == "pdfminer" or m.startswith("pdfminer.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pdfminer", None)
    with pytest.raises(MissingDependencyError) as info:
        read(path)
    assert "pip install pdfminer.six" in str(info.value) and str(path) in str(info.value)
    assert isinstance(info.value, PrecodeError)
