"""Ingest: bytes in any encoding our users have become one canonical text (LF, NFC, no BOM)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pipeline.errors import (
    DecodingError,
    EmptyInputError,
    PrecodeError,
    UnsupportedFormatError,
)
from pipeline.ingest import IngestOptions, read
from pipeline.ingest.encoding import decode, detect_encoding, normalize
from pipeline.records import Source

ENGLISH = "Interviewer: How was your day?\nNurse K: It was “busy”, café time.\n"
ENGLISH_UTTERANCES = [
    ("Interviewer", "interviewer", "How was your day?"),
    ("Nurse K", "participant", "It was “busy”, café time."),
]
CHINESE = (
    "訪談者：請問您在醫院工作多久了？\n"
    "護理師K：我在這裡工作了十年，每天都很忙碌。\n"
    "訪談者：那您覺得壓力大嗎？\n"
    "護理師K：壓力非常大，尤其是夜班的時候。\n"
)
CHINESE_UTTERANCES = [
    ("訪談者", "interviewer", "請問您在醫院工作多久了？"),
    ("護理師K", "participant", "我在這裡工作了十年，每天都很忙碌。"),
    ("訪談者", "interviewer", "那您覺得壓力大嗎？"),
    ("護理師K", "participant", "壓力非常大，尤其是夜班的時候。"),
]
CP1252 = (
    "Interviewer: Tell me about the café.\n"
    "Participant: It’s “lovely” – the crème brûlée is naïve and déjà vu.\n"
    "Interviewer: Really?\n"
    "Participant: Yes, it’s où we met, señor.\n"
)
PNG_HEADER = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10"
              b"\x08\x06\x00\x00\x00\x1f\xf3\xffa")


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _utterances(source: Source) -> list[tuple[str, str, str]]:
    return [(t.speaker, t.role, source.text[t.start:t.end]) for t in source.turns]


def test_encoding_utf8_without_bom(tmp_path: Path) -> None:
    source = read(_write(tmp_path, "a.txt", ENGLISH.encode("utf-8")))
    assert source.text == ENGLISH
    assert source.metadata["encoding"] == "utf-8"
    assert _utterances(source) == ENGLISH_UTTERANCES


def test_encoding_utf8_with_bom_is_stripped(tmp_path: Path) -> None:
    source = read(_write(tmp_path, "a.txt", codecs.BOM_UTF8 + ENGLISH.encode("utf-8")))
    assert source.text == ENGLISH
    assert not source.text.startswith("\ufeff")
    assert source.metadata["encoding"] == "utf-8-sig"
    # Offsets index the text without the BOM: the first label starts at 0.
    assert source.turns[0].start == len("Interviewer: ")
    assert _utterances(source) == ENGLISH_UTTERANCES


@pytest.mark.parametrize(("bom", "codec"), [
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_encoding_utf16_with_bom(tmp_path: Path, bom: bytes, codec: str) -> None:
    source = read(_write(tmp_path, "a.txt", bom + ENGLISH.encode(codec)))
    assert source.text == ENGLISH
    assert "\ufeff" not in source.text
    assert source.metadata["encoding"] == "utf-16"
    assert _utterances(source) == ENGLISH_UTTERANCES


@pytest.mark.parametrize("codec", ["big5", "cp950"])
def test_encoding_big5_and_cp950_chinese(tmp_path: Path, codec: str) -> None:
    source = read(_write(tmp_path, "zh.txt", CHINESE.encode(codec)))
    assert source.text == CHINESE
    assert source.metadata["encoding"] == "cp950"
    assert source.language == "zh"
    assert _utterances(source) == CHINESE_UTTERANCES


def test_encoding_cp950_only_characters_decode(tmp_path: Path) -> None:
    # The euro sign and 恒 exist in CP950 but not in strict Big5.
    text = CHINESE + "護理師K：加班費只有五十€，我恒常覺得不夠。\n"
    source = read(_write(tmp_path, "zh.txt", text.encode("cp950")))
    assert source.text == text
    assert source.metadata["encoding"] == "cp950"
    last = source.turns[-1].pieces()[-1]  # the label written again continues the turn
    assert source.text[last.start:last.end] == "加班費只有五十€，我恒常覺得不夠。"


def test_encoding_cp1252_curly_quotes_and_accents_detected(tmp_path: Path) -> None:
    source = read(_write(tmp_path, "w.txt", CP1252.encode("cp1252")))
    assert source.metadata["encoding"] == "cp1252"
    assert source.text == CP1252
    for mojibake in ("â€", "Ã©", "\ufffd"):
        assert mojibake not in source.text
    assert _utterances(source)[1] == (
        "Participant", "participant", "It’s “lovely” – the crème brûlée is naïve and déjà vu.")


@pytest.mark.parametrize("text", [
    "Participant: I said “no” to the café.\n",
    "It’s OK.\n",
    "Señora Muñoz: Sí, señor.\n",
    "Nurse K: I’m tired—really tired.\n",
])
def test_encoding_cp1252_short_texts_detected(tmp_path: Path, text: str) -> None:
    data = text.encode("cp1252")
    assert detect_encoding(data, tmp_path / "x.txt") == "cp1252"
    assert read(_write(tmp_path, "x.txt", data)).text == text


def test_encoding_crlf_and_lone_cr_become_lf(tmp_path: Path) -> None:
    data = b"Interviewer: How are you?\r\nNurse K: Fine.\rReally fine.\r\n\r\nInterviewer: Good.\r"
    source = read(_write(tmp_path, "a.txt", data))
    assert "\r" not in source.text
    assert source.text == ("Interviewer: How are you?\nNurse K: Fine.\nReally fine.\n\n"
                           "Interviewer: Good.\n")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "Fine.\nReally fine."),
        ("Interviewer", "interviewer", "Good."),
    ]


def test_encoding_crlf_in_utf16(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + "Nurse K: one\r\ntwo\rthree\r\n".encode("utf-16-le")
    source = read(_write(tmp_path, "a.txt", data))
    assert source.text == "Nurse K: one\ntwo\nthree\n"


def test_encoding_nfc_normalization_composes_accents(tmp_path: Path) -> None:
    decomposed = "Nurse K: cafe\u0301 and nai\u0308ve\n"
    assert len(decomposed) == len("Nurse K: café and naïve\n") + 2
    source = read(_write(tmp_path, "a.txt", decomposed.encode("utf-8")))
    assert source.text == "Nurse K: caf\u00e9 and na\u00efve\n"
    assert "\u0301" not in source.text
    # Offsets index the normalized text.
    turn = source.turns[0]
    assert source.text[turn.start:turn.end] == "café and naïve"
    assert turn.end - turn.start == 14


def test_encoding_normalize_function() -> None:
    assert normalize("\ufeffa\r\nb\rc\ne\u0301") == "a\nb\nc\né"


def test_encoding_decode_returns_text_and_codec(tmp_path: Path) -> None:
    text, name = decode("x\r\ny".encode("cp1252"), tmp_path / "x.txt", "cp1252")
    assert (text, name) == ("x\ny", "cp1252")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"  \n\t \r\n", "the file is empty"),
    (codecs.BOM_UTF8, "only whitespace"),
    (codecs.BOM_UTF8 + b" \n \n", "only whitespace"),
    (codecs.BOM_UTF16_LE + "  \n \t".encode("utf-16-le"), "only whitespace"),
], ids=["empty", "whitespace", "bom-only", "bom-whitespace", "utf16-whitespace"])
def test_encoding_empty_or_whitespace_file_is_empty_input(tmp_path: Path, data: bytes,
                                                          message: str) -> None:
    path = _write(tmp_path, "empty.txt", data)
    with pytest.raises(EmptyInputError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("data", [
    PNG_HEADER,
    b"\x00" * 64,  # valid UTF-8, but all control characters
    ENGLISH.encode("utf-16-le"),  # UTF-16 without a BOM is indistinguishable from binary
], ids=["png", "nul-bytes", "utf16-no-bom"])
def test_encoding_binary_file_is_unsupported(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "image.txt", data)
    with pytest.raises(UnsupportedFormatError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert "binary" in str(info.value)


def test_encoding_forced_wrong_encoding_is_decoding_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", ENGLISH.encode("utf-8"))
    with pytest.raises(DecodingError) as info:
        read(path, IngestOptions(encoding="ascii"))
    message = str(info.value)
    assert str(path) in message
    assert "ascii" in message
    # The first non-ASCII byte is the left curly quote after "It was ".
    first = ENGLISH.encode("utf-8").index("“".encode())
    assert f"byte {first} " in message
    assert isinstance(info.value, UnicodeError)
    assert isinstance(info.value, PrecodeError)


def test_encoding_unknown_encoding_name_is_decoding_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", b"Nurse K: hello\n")
    with pytest.raises(DecodingError) as info:
        read(path, IngestOptions(encoding="no-such-codec"))
    assert str(path) in str(info.value)
    assert "'no-such-codec'" in str(info.value)


def test_encoding_forced_encoding_is_used_and_recorded(tmp_path: Path) -> None:
    # cp1252 bytes forced as latin-1 decode without error, differently from cp1252.
    path = _write(tmp_path, "a.txt", "Nurse K: “hi”\n".encode("cp1252"))
    forced = read(path, IngestOptions(encoding="latin-1"))
    assert forced.metadata["encoding"] == "latin-1"
    assert forced.text == "Nurse K: \x93hi\x94\n"
    assert read(path).text == "Nurse K: “hi”\n"


def test_encoding_error_names_file_for_every_error(tmp_path: Path) -> None:
    cases: list[tuple[str, bytes, IngestOptions | None, type[PrecodeError]]] = [
        ("empty.txt", b"", None, EmptyInputError),
        ("blank.md", b"\n\n   \n", None, EmptyInputError),
        ("bin.srt", PNG_HEADER, None, UnsupportedFormatError),
        ("forced.vtt", "WEBVTT\n\nć".encode(), IngestOptions(encoding="ascii"), DecodingError),
    ]
    for name, data, options, error in cases:
        path = _write(tmp_path, name, data)
        with pytest.raises(error) as info:
            read(path, options)
        assert str(info.value).startswith(str(path)), name


def test_encoding_short_big5_answer_decodes(tmp_path: Path) -> None:
    text = "對，沒錯。\n"
    source = read(_write(tmp_path, "short.txt", text.encode("big5")))
    assert source.text == text
