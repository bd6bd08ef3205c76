"""Ingest: OpenDocument (.odt) and RTF transcripts, built by hand, and broken or hostile ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import MalformedTranscriptError, UnsupportedFormatError
from pipeline.ingest import read
from pipeline.records import Source
from pipeline.segment import SegmentOptions, segment
from tests.test_qdpx_security import BILLION_LAUGHS, _set_sizes

runner = CliRunner()


def _utterances(source: Source) -> list[tuple[str, str, str]]:
    """(speaker, role, text) per turn, the text read through the turn's offsets."""
    return [(t.speaker, t.role, source.text[t.start:t.end]) for t in source.turns]


def _offsets_hold(source: Source) -> None:
    for turn in source.turns:
        span = source.text[turn.start:turn.end]
        assert span and span == span.strip()
    segments = segment(source, options=SegmentOptions(include_interviewer=True,
                                                      fragment_policy="keep"))
    assert segments
    for s in segments:
        assert source.text[s.start:s.end] == s.text


# --- building .odt files ----------------------------------------------------------------------

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/"')
MIMETYPE = "application/vnd.oasis.opendocument.text"
MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
            'manifest:version="1.3">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/>'
            '<manifest:file-entry manifest:full-path="styles.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>')
# As LibreOffice writes them: T1 bold (all three scripts), T2 a child of a bold named style,
# T3 bold only for Asian text, P1 a bold paragraph style.
AUTOMATIC = (
    '<style:style style:name="T1" style:family="text"><style:text-properties '
    'fo:font-weight="bold" style:font-weight-asian="bold" style:font-weight-complex="bold"/>'
    '</style:style>'
    '<style:style style:name="T2" style:family="text" style:parent-style-name="Speaker">'
    '<style:text-properties fo:color="#000080"/></style:style>'
    '<style:style style:name="T3" style:family="text"><style:text-properties '
    'style:font-weight-asian="bold"/></style:style>'
    '<style:style style:name="T4" style:family="text"><style:text-properties '
    'fo:font-style="italic"/></style:style>'
    '<style:style style:name="P1" style:family="paragraph" style:parent-style-name="Standard">'
    '<style:text-properties fo:font-weight="700"/></style:style>'
)
STYLES = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {NS} '
          'office:version="1.3"><office:styles>'
          '<style:style style:name="Standard" style:family="paragraph"/>'
          '<style:style style:name="Speaker" style:family="text">'
          '<style:text-properties fo:font-weight="bold"/></style:style>'
          '</office:styles></office:document-styles>')


def _content(body: str, automatic: str = AUTOMATIC) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {NS} '
            f'office:version="1.3"><office:automatic-styles>{automatic}'
            '</office:automatic-styles><office:body><office:text>'
            '<text:sequence-decls><text:sequence-decl text:display-outline-level="0" '
            'text:name="Table"/></text:sequence-decls>'
            f'{body}</office:text></office:body></office:document-content>')


def _zip(members: dict[str, str | bytes]) -> bytes:
    """A zip with `mimetype` stored first, as the ODF package format wants it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def _odt(tmp_path: Path, body: str, name: str = "t.odt", *, styles: str | None = STYLES,
         automatic: str = AUTOMATIC) -> Path:
    members: dict[str, str | bytes] = {"mimetype": MIMETYPE,
                                       "META-INF/manifest.xml": MANIFEST,
                                       "content.xml": _content(body, automatic)}
    if styles is not None:
        members["styles.xml"] = styles
    path = tmp_path / name
    path.write_bytes(_zip(members))
    return path


def _p(*runs: str | tuple[str, str]) -> str:
    """A paragraph of plain strings and (style, text) spans."""
    return "<text:p>" + "".join(
        run if isinstance(run, str) else
        f'<text:span text:style-name="{run[0]}">{run[1]}</text:span>' for run in runs
    ) + "</text:p>"


# --- .odt -------------------------------------------------------------------------------------

def test_ingest_odt_paragraphs_and_typed_labels(tmp_path: Path) -> None:
    path = _odt(tmp_path, _p("Interviewer: How did the week go?")
                + _p("Nurse K: Better than the last one.")
                + "<text:p/>"
                + _p("Interviewer: Good to hear.")
                + _p("Nurse K: One client went back to work."))
    source = read(path)
    assert source.text == ("Interviewer: How did the week go?\nNurse K: Better than the last "
                           "one.\n\nInterviewer: Good to hear.\nNurse K: One client went back "
                           "to work.")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How did the week go?"),
        ("Nurse K", "participant", "Better than the last one."),
        ("Interviewer", "interviewer", "Good to hear."),
        ("Nurse K", "participant", "One client went back to work."),
    ]
    assert source.metadata["format"] == "odt" and "encoding" not in source.metadata
    assert source.language == "en"
    _offsets_hold(source)


def test_ingest_odt_bold_lead_in_labels(tmp_path: Path) -> None:
    path = _odt(tmp_path, _p(("T1", "Interviewer:"), " How are you?")
                + _p(("T1", "Nurse K"), " I am fine.")  # bold, no colon
                + _p(("T1", "Interviewer"), ": And the ward?")  # the colon is not bold
                + _p(("T2", "Nurse"), ("T1", " K:"), " Busy as ever.")  # bold by its parent
                + _p(("T1", "This whole paragraph is bold."))
                + '<text:p text:style-name="P1">A bold paragraph style, no label.</text:p>'
                + _p(("T1", "This is a very long bold phrase"), " then plain.")
                + _p(("T4", "Interviewer:"), " Italic is not bold, but the colon counts."))
    source = read(path)
    assert source.text.splitlines()[:4] == [
        "Interviewer: How are you?", "Nurse K I am fine.", "Interviewer: And the ward?",
        "Nurse K: Busy as ever."]
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "I am fine."),
        ("Interviewer", "interviewer", "And the ward?"),
        ("Nurse K", "participant",
         "Busy as ever.\nThis whole paragraph is bold.\nA bold paragraph style, no label.\n"
         "This is a very long bold phrase then plain."),
        ("Interviewer", "interviewer", "Italic is not bold, but the colon counts."),
    ]
    _offsets_hold(source)


def test_ingest_odt_strong_emphasis_without_styles_xml(tmp_path: Path) -> None:
    """`Strong_20_Emphasis` is bold even when styles.xml does not define it."""
    body = "".join(_p(("Strong_20_Emphasis", label), text) for label, text in [
        ("Moderator", " Welcome back."), ("P03", " Thank you."),
        ("Moderator", " Shall we start?"), ("P03", " Yes.")])
    source = read(_odt(tmp_path, body, styles=None))
    assert [(t.speaker, t.role) for t in source.turns] == [
        ("Moderator", "interviewer"), ("P03", "participant")] * 2


def test_ingest_odt_tables_lists_and_headings(tmp_path: Path) -> None:
    body = (
        '<text:h text:outline-level="1"><text:number>1.</text:number>Session one</text:h>'
        '<table:table table:name="T"><table:table-column table:number-columns-repeated="2"/>'
        '<table:table-row><table:table-cell><text:p>Interviewer: Where do you work?</text:p>'
        '</table:table-cell><table:table-cell><text:p>Nurse K: On the day ward.</text:p>'
        '<text:p>Since 2019.</text:p></table:table-cell><table:covered-table-cell/>'
        '</table:table-row></table:table>'
        '<text:list><text:list-item><text:p>Interviewer: Your groups?</text:p></text:list-item>'
        '<text:list-item><text:list><text:list-item><text:p>Nurse K: Cooking.</text:p>'
        '</text:list-item></text:list></text:list-item></text:list>'
        '<text:section text:name="S"><text:p>Interviewer: Anything else?</text:p>'
        '</text:section>')
    source = read(_odt(tmp_path, body))
    assert source.text == ("Session one\nInterviewer: Where do you work?\nNurse K: On the day "
                           "ward.\nSince 2019.\nInterviewer: Your groups?\nNurse K: Cooking.\n"
                           "Interviewer: Anything else?")
    assert _utterances(source) == [
        ("unknown", "unknown", "Session one"),
        ("Interviewer", "interviewer", "Where do you work?"),
        ("Nurse K", "participant", "On the day ward.\nSince 2019."),
        ("Interviewer", "interviewer", "Your groups?"),
        ("Nurse K", "participant", "Cooking."),
        ("Interviewer", "interviewer", "Anything else?"),
    ]
    _offsets_hold(source)


def test_ingest_odt_spaces_tabs_line_breaks_and_hidden_parts(tmp_path: Path) -> None:
    body = (
        "<text:p>\n   Interviewer:   How   do\n you<text:s/> <text:s text:c=\"3\"/>see it?"
        "<text:tab/>(pause)</text:p>"
        "<text:p>Nurse K: First<text:soft-page-break/> part."
        "<text:line-break/>Interviewer: A second speaker after a line break."
        "<text:note text:note-class=\"footnote\"><text:note-citation>1</text:note-citation>"
        "<text:note-body><text:p>A footnote.</text:p></text:note-body></text:note>"
        "<office:annotation><dc:creator>A</dc:creator><text:p>A comment.</text:p>"
        "</office:annotation>"
        "<draw:frame draw:name=\"pic\"><draw:text-box><text:p>Caption.</text:p></draw:text-box>"
        "</draw:frame><text:bookmark text:name=\"b\"/></text:p>"
        "<text:tracked-changes><text:changed-region text:id=\"c1\"><text:deletion>"
        "<text:p>Deleted words.</text:p></text:deletion></text:changed-region>"
        "</text:tracked-changes>"
        "<text:p>Nurse K: <text:a xlink:href=\"https://example.org\" "
        "xmlns:xlink=\"http://www.w3.org/1999/xlink\">linked</text:a> text "
        "<text:s text:c=\"999999999\"/>end.</text:p>")
    source = read(_odt(tmp_path, body))
    lines = source.text.split("\n")
    assert lines[0] == "Interviewer: How do you     see it?\t(pause)"
    assert lines[1:3] == ["Nurse K: First part.",
                          "Interviewer: A second speaker after a line break."]
    assert lines[3].startswith("Nurse K: linked text ") and lines[3].endswith(" end.")
    assert len(lines[3]) < 1100  # text:c is capped
    for hidden in ("footnote", "comment", "Caption", "Deleted"):
        assert hidden not in source.text
    assert [t.speaker for t in source.turns] == ["Interviewer", "Nurse K", "Interviewer",
                                                 "Nurse K"]
    _offsets_hold(source)


def test_ingest_odt_chinese_with_bold_labels(tmp_path: Path) -> None:
    body = (_p(("T1", "訪談者："), "您好，今天謝謝您撥空。")
            + _p(("T3", "社工師L："), "不會，我們會所很歡迎。")  # bold for Asian text only
            + _p(("T1", "訪談者"), "：那您怎麼看復元？")
            + _p(("T1", "社工師L"), "嗯……病還在，可是這個人不再只是一個病人。"))
    source = read(_odt(tmp_path, body, name="zh.odt"))
    assert source.language == "zh"
    assert _utterances(source) == [
        ("訪談者", "interviewer", "您好，今天謝謝您撥空。"),
        ("社工師L", "participant", "不會，我們會所很歡迎。"),
        ("訪談者", "interviewer", "那您怎麼看復元？"),
        ("社工師L", "participant", "嗯……病還在，可是這個人不再只是一個病人。"),
    ]
    _offsets_hold(source)


def test_ingest_odt_nfc_normalized(tmp_path: Path) -> None:
    source = read(_odt(tmp_path, _p("Interviewer: Cafe\u0301 talk?")
                       + _p("P1: Yes, we met at the cafe\u0301 every Friday after the group.")))
    assert "Café talk?" in source.text and "\u0301" not in source.text
    _offsets_hold(source)


# --- building .rtf files ----------------------------------------------------------------------

HEADER = (r"{\rtf1\ansi\ansicpg1252\deff0\nouicompat{\fonttbl{\f0\fnil\fcharset0 Calibri;}"
          r"{\f1\fswiss\fcharset0 Arial;}}{\colortbl ;\red255\green0\blue0;}"
          r"{\stylesheet{\s0 Normal;}{\s1 heading 1;}}{\info{\title Interview}{\author Anna}}"
          r"{\*\generator Riched20 10.0.19041}\viewkind4\uc1 \pard\sa200\sl276\slmult1\f0\fs22 ")


def _rtf(tmp_path: Path, body: str, name: str = "t.rtf", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_bytes((header + body + "}").encode("ascii"))
    return path


def _hex(text: str, encoding: str) -> str:
    return "".join(f"\\'{byte:02x}" for byte in text.encode(encoding))


def test_ingest_rtf_paragraphs_and_typed_labels(tmp_path: Path) -> None:
    path = _rtf(tmp_path, "Interviewer: How did the week go?\\par\r\n"
                          "Nurse K: Better than the last one. It was\r\nbusy.\\par\n"
                          "\\par Interviewer: Good to hear.\\par\n"
                          "Nurse K: One client went back to work.\\par\n")
    source = read(path)
    assert source.text == ("Interviewer: How did the week go?\nNurse K: Better than the last "
                           "one. It wasbusy.\n\nInterviewer: Good to hear.\nNurse K: One client "
                           "went back to work.")
    assert [(t.speaker, t.role) for t in source.turns] == [
        ("Interviewer", "interviewer"), ("Nurse K", "participant")] * 2
    assert source.metadata["format"] == "rtf" and "encoding" not in source.metadata
    _offsets_hold(source)


def test_ingest_rtf_bold_lead_in_labels(tmp_path: Path) -> None:
    path = _rtf(tmp_path, r"{\b Interviewer:} How are you?\par "
                          r"\b Nurse K\b0  I am fine.\par "
                          r"{\b Interviewer}: And the ward?\par "
                          r"\b1 Nurse\plain\b  K:\b0  Busy as ever.\par "
                          r"{\b This whole paragraph is bold.}\par "
                          r"\b This is a very long bold phrase\b0  then plain.\par "
                          r"{\i Interviewer:} Italic is not bold, but the colon counts.\par ")
    source = read(path)
    assert source.text.splitlines()[:4] == [
        "Interviewer: How are you?", "Nurse K I am fine.", "Interviewer: And the ward?",
        "Nurse K: Busy as ever."]
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "I am fine."),
        ("Interviewer", "interviewer", "And the ward?"),
        ("Nurse K", "participant",
         "Busy as ever.\nThis whole paragraph is bold.\n"
         "This is a very long bold phrase then plain."),
        ("Interviewer", "interviewer", "Italic is not bold, but the colon counts."),
    ]
    _offsets_hold(source)


def test_ingest_rtf_unicode_escapes(tmp_path: Path) -> None:
    # 訪談者 is U+8A2A U+8AC7 U+8005: 35370 35527 32773, or -30166 -30009 -32763 as Word
    # writes values over 32767; the fallback after each (\ucN of them) is skipped.
    body = (r"{\b\u35370?\u35527?\u32773?\u65306?}\u24744?\u22909?\u12290?\par "
            r"{\b\u31038?\u24037?\u24107?L\u65306?}\u-30166?\u-30009?\u-32763?"
            r"\uc2\u24456\'ab\'dc\u22909\'a6\'6e\uc0\u12290\par "
            r"\uc1 Interviewer: \u55357?\u56832? and a lone \u55357? surrogate.\par ")
    source = read(_rtf(tmp_path, body, name="zh.rtf"))
    lines = source.text.split("\n")
    assert lines[:2] == ["訪談者：您好。", "社工師L：訪談者很好。"]
    assert lines[2] == "Interviewer: \U0001F600 and a lone \ufffd surrogate."
    assert _utterances(source)[:2] == [("訪談者", "interviewer", "您好。"),
                                       ("社工師L", "participant", "訪談者很好。")]
    _offsets_hold(source)


def test_ingest_rtf_big5_and_gbk_code_pages(tmp_path: Path) -> None:
    # Each Big5 byte as \'hh, and as Word writes it: a trail byte in ASCII range as a plain
    # character (社工師 is aa c0 a4 75 ae 76: \'aa\'c0\'a4u\'aev; 許 is b3 5c: \'b3\\).
    big5 = ("{\\rtf1\\ansi\\ansicpg950\\deff0{\\fonttbl{\\f0\\fnil\\fcharset136 "
            + _hex("新細明體", "cp950") + ";}}\\uc1\\pard\\f0 ")
    body = ("{\\b " + _hex("訪談者：", "cp950") + "}" + _hex("請問您的工作？", "cp950")
            + "\\par\r\n{\\b \\'aa\\'c0\\'a4u\\'ae\r\nv\\'a1\\'47}"
            + _hex("我在會所，", "cp950") + "\\'b3\\\\" + _hex("多會員。", "cp950") + "\\par ")
    source = read(_rtf(tmp_path, body, name="big5.rtf", header=big5))
    assert source.text == "訪談者：請問您的工作？\n社工師：我在會所，許多會員。"
    assert _utterances(source) == [("訪談者", "interviewer", "請問您的工作？"),
                                   ("社工師", "participant", "我在會所，許多會員。")]
    gbk = r"{\rtf1\ansi\ansicpg936\deff0\pard "
    body = _hex("访谈者：您好。", "gbk") + r"\par " + _hex("社工师：你好。", "gbk") + r"\par "
    source = read(_rtf(tmp_path, body, name="gbk.rtf", header=gbk))
    assert _utterances(source) == [("访谈者", "interviewer", "您好。"),
                                   ("社工师", "participant", "你好。")]
    _offsets_hold(source)


def test_ingest_rtf_font_charset_overrides_the_document_code_page(tmp_path: Path) -> None:
    header = (r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}"
              r"{\f1\fnil\fcharset136 PMingLiU;}}\pard ")
    body = (r"Interviewer: Caf\'e9 \'93talk\'94?\par "
            r"\f1 " + _hex("社工師：好。", "cp950") + r"\f0\par ")
    source = read(_rtf(tmp_path, body, header=header))
    assert source.text == "Interviewer: Café \u201ctalk\u201d?\n社工師：好。"
    _offsets_hold(source)


def test_ingest_rtf_cp1252_accents(tmp_path: Path) -> None:
    source = read(_rtf(tmp_path, r"Interviewer: Ren\'e9e, caf\'e9 or th\'e9?\par "
                                 r"Ren\'e9e: Th\'e9\emdash always.\par "))
    assert _utterances(source) == [("Interviewer", "interviewer", "Renée, café or thé?"),
                                   ("Renée", "participant", "Thé\u2014always.")]
    _offsets_hold(source)


def test_ingest_rtf_skips_what_is_not_body_text(tmp_path: Path) -> None:
    body = (r"{\header Page header\par}{\footer Footer\par}"
            r"Interviewer:\tab How\line was it?{\*\bkmkstart b1}{\*\bkmkend b1}\par "
            r"{\pict\pngblip\picw10\pich10 89504e470d0a1a0a0000000d49484452}"
            r"{\*\shppict{\pict\wmetafile8 0100090000}}{\object\objemb{\*\objdata 0105}}"
            r"Nurse K: See {\field{\*\fldinst{HYPERLINK \"https://example.org\"}}"
            r"{\fldrslt{\ul this page}}}{\v hidden words}.{\footnote\ftnalt A footnote.}"
            r"{\*\annotation A comment.} {\pict\bin4 {}{}}\par "
            r"\pard\intbl Interviewer: In a table?\cell Nurse K: Yes.\cell\row "
            r"\pard {\pntext\f2 \'b7\tab}Nurse K: A bullet item\~with a non-breaking space.\par ")
    source = read(_rtf(tmp_path, body))
    assert source.text == ("Interviewer:\tHow\nwas it?\nNurse K: See this page. \n"
                           "Interviewer: In a table?\nNurse K: Yes.\n"
                           "Nurse K: A bullet item\xa0with a non-breaking space.")
    for hidden in ("header", "Footer", "hidden", "footnote", "comment", "HYPERLINK"):
        assert hidden not in source.text
    _offsets_hold(source)


def test_ingest_rtf_without_text_is_empty_input(tmp_path: Path) -> None:
    from pipeline.errors import EmptyInputError

    path = _rtf(tmp_path, r"\par\par ")
    with pytest.raises(EmptyInputError) as info:
        read(path)
    assert str(path) in str(info.value)


# --- bad input through the CLI ----------------------------------------------------------------

def _clean_cli_error(tmp_path: Path, path: Path, *needles: str) -> str:
    run = tmp_path / "out" / "run"
    result = runner.invoke(app, ["ingest", str(path), "--out", str(run)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert str(path) in result.output and "How to fix" in result.output
    for needle in needles:
        assert needle in result.output, result.output
    assert not (tmp_path / "out").exists()
    return result.output


def _small_odt(tmp_path: Path) -> Path:
    return _odt(tmp_path, _p(("T1", "Interviewer:"), " Hello.") + _p("Nurse K: Hi."),
                name="good.odt")


def test_ingest_odt_truncated_file_is_a_clean_error(tmp_path: Path) -> None:
    data = _small_odt(tmp_path).read_bytes()
    path = tmp_path / "cut.odt"
    path.write_bytes(data[:len(data) // 2])
    _clean_cli_error(tmp_path, path, "not a readable OpenDocument text file", "save it again")
    with pytest.raises(MalformedTranscriptError):
        read(path)


def test_ingest_odt_zip_bomb_declared_size_is_refused(tmp_path: Path) -> None:
    raw = _small_odt(tmp_path).read_bytes()
    path = tmp_path / "bomb.odt"
    path.write_bytes(_set_sizes(raw, b"content.xml", 0xF0000000))
    _clean_cli_error(tmp_path, path, "refused", "the member 'content.xml' unpacks to "
                     "4,026,531,840 bytes")
    with pytest.raises(UnsupportedFormatError):
        read(path)


def test_ingest_odt_lying_header_is_refused(tmp_path: Path) -> None:
    big = _p("Interviewer: " + "word " * 100_000) + _p("P1: Yes.")
    raw = _odt(tmp_path, big, name="big.odt").read_bytes()
    path = tmp_path / "liar.odt"
    path.write_bytes(_set_sizes(raw, b"content.xml", 100))  # claims 100 bytes
    _clean_cli_error(tmp_path, path, "refused", "content.xml")


def test_ingest_odt_too_many_members_is_refused(tmp_path: Path) -> None:
    members: dict[str, str | bytes] = {"mimetype": MIMETYPE,
                                       "content.xml": _content(_p("Interviewer: Hi."))}
    members.update({f"Pictures/{i}.png": b"" for i in range(10_001)})
    path = tmp_path / "many.odt"
    path.write_bytes(_zip(members))
    _clean_cli_error(tmp_path, path, "refused", "the archive has 10003 members")


def test_ingest_odt_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.odt"
    path.write_bytes(_zip({"mimetype": MIMETYPE, "content.xml": BILLION_LAUGHS}))
    _clean_cli_error(tmp_path, path, "refused", "declares entities")


def test_ingest_odt_without_content_xml(tmp_path: Path) -> None:
    path = tmp_path / "hollow.odt"
    path.write_bytes(_zip({"mimetype": MIMETYPE, "META-INF/manifest.xml": MANIFEST,
                           "styles.xml": STYLES}))
    _clean_cli_error(tmp_path, path, "it has no content.xml", "save it again as .odt")


def test_ingest_odt_word_document_renamed(tmp_path: Path) -> None:
    path = tmp_path / "word.odt"
    path.write_bytes(_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}))
    _clean_cli_error(tmp_path, path, "Word document", "rename it to .docx")


def test_ingest_odt_spreadsheet_is_not_a_transcript(tmp_path: Path) -> None:
    path = tmp_path / "sheet.odt"
    path.write_bytes(_zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet",
                           "content.xml": _content("")}))
    _clean_cli_error(tmp_path, path, "not an OpenDocument text document", "spreadsheet")


def test_ingest_odt_password_protected(tmp_path: Path) -> None:
    path = tmp_path / "secret.odt"
    manifest = MANIFEST.replace('manifest:media-type="text/xml"/>',
                                'manifest:media-type="text/xml"><manifest:encryption-data/>'
                                '</manifest:file-entry>', 1)
    path.write_bytes(_zip({"mimetype": MIMETYPE, "META-INF/manifest.xml": manifest,
                           "content.xml": b"\x8f\x01 encrypted bytes"}))
    _clean_cli_error(tmp_path, path, "protected with a password", "remove the password")


def test_ingest_odt_broken_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken.odt"
    path.write_bytes(_zip({"mimetype": MIMETYPE,
                           "content.xml": _content(_p("Interviewer: Hi."))[:300]}))
    _clean_cli_error(tmp_path, path, "not well-formed XML")


def test_ingest_rtf_truncated_file_is_a_clean_error(tmp_path: Path) -> None:
    text = (HEADER + r"{\b Interviewer:} How are you?\par {\b Nurse K:} Fine, thanks.\par }")
    path = tmp_path / "cut.rtf"
    path.write_bytes(text[:len(text) * 3 // 4].encode("ascii"))
    output = _clean_cli_error(tmp_path, path, "the file is incomplete", "export it again")
    assert "never closed" in output


def test_ingest_rtf_cut_inside_an_escape(tmp_path: Path) -> None:
    path = tmp_path / "cut.rtf"
    path.write_bytes((HEADER + r"Interviewer: caf\'e").encode("ascii"))
    _clean_cli_error(tmp_path, path, "the file is incomplete")
    path.write_bytes((HEADER + "Interviewer: cafe\\").encode("ascii"))
    _clean_cli_error(tmp_path, path, "the file is incomplete")


@pytest.mark.parametrize(("content", "looks_like"), [
    (b"Interviewer: Hello.\nNurse K: Hi.\n", "something else"),
    (b"PK\x03\x04 a zip file renamed", "a zip file"),
    (b"rtf1 {\\rtf1 not at the start}", "something else"),
])
def test_ingest_rtf_not_an_rtf_file(tmp_path: Path, content: bytes, looks_like: str) -> None:
    path = tmp_path / "renamed.rtf"
    path.write_bytes(content)
    _clean_cli_error(tmp_path, path, "not an RTF file", looks_like, "save it again as .rtf")
