"""Ingest: Word, WebVTT and SRT files, folders, language and participant metadata."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from pipeline.errors import (
    EmptyInputError,
    InputNotFoundError,
    MalformedTranscriptError,
    MetadataError,
    UnsupportedFormatError,
)
from pipeline.ingest import IngestOptions, find_files, read, read_all
from pipeline.ingest.participants import attach_participants
from pipeline.records import Source


def _utterances(source: Source) -> list[tuple[str, str, str]]:
    """(speaker, role, text) per turn, the text read through the turn's offsets."""
    return [(t.speaker, t.role, source.text[t.start:t.end]) for t in source.turns]


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _paragraph(document, *runs: tuple[str, bool]) -> None:  # type: ignore[no-untyped-def]
    paragraph = document.add_paragraph()
    for text, bold in runs:
        paragraph.add_run(text).bold = bold


# --- .docx ----------------------------------------------------------------------------------

def test_docx_bold_labels_with_and_without_colon(tmp_path: Path) -> None:
    document = docx.Document()
    _paragraph(document, ("Interviewer:", True), (" How are you?", False))
    _paragraph(document, ("Nurse K", True), (" I am fine.", False))
    _paragraph(document, ("Interviewer", True), (": And the ward?", False))
    _paragraph(document, ("Nurse", True), (" K:", True), (" Busy as ever.", False))
    path = tmp_path / "a.docx"
    document.save(str(path))
    source = read(path)
    assert source.text == ("Interviewer: How are you?\nNurse K I am fine.\n"
                           "Interviewer: And the ward?\nNurse K: Busy as ever.")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "I am fine."),
        ("Interviewer", "interviewer", "And the ward?"),
        ("Nurse K", "participant", "Busy as ever."),
    ]
    assert source.metadata["format"] == "docx"
    assert "encoding" not in source.metadata


def test_docx_entirely_bold_paragraph_is_not_a_label(tmp_path: Path) -> None:
    document = docx.Document()
    _paragraph(document, ("Nurse K:", True), (" I am fine.", False))
    _paragraph(document, ("This whole paragraph is bold.", True))
    _paragraph(document, ("Plain continuation.", False))
    path = tmp_path / "b.docx"
    document.save(str(path))
    source = read(path)
    assert _utterances(source) == [
        ("Nurse K", "participant",
         "I am fine.\nThis whole paragraph is bold.\nPlain continuation."),
    ]


def test_docx_bold_lead_in_of_many_words_is_not_a_label(tmp_path: Path) -> None:
    document = docx.Document()
    _paragraph(document, ("Nurse K:", True), (" First.", False))
    _paragraph(document, ("This is a very long bold phrase", True), (" then plain.", False))
    path = tmp_path / "c.docx"
    document.save(str(path))
    assert _utterances(read(path)) == [
        ("Nurse K", "participant", "First.\nThis is a very long bold phrase then plain."),
    ]


def test_docx_typed_labels_without_bold(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("訪談者：您好。")
    document.add_paragraph("護理師K：您好，我是護理師。")
    path = tmp_path / "zh.docx"
    document.save(str(path))
    source = read(path)
    assert _utterances(source) == [
        ("訪談者", "interviewer", "您好。"),
        ("護理師K", "participant", "您好，我是護理師。"),
    ]
    assert source.language == "zh"


def test_docx_without_text_is_empty_input(tmp_path: Path) -> None:
    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    with pytest.raises(EmptyInputError) as info:
        read(path)
    assert str(path) in str(info.value)


def test_docx_zero_byte_file_is_empty_input(tmp_path: Path) -> None:
    path = _write(tmp_path, "zero.docx", b"")
    with pytest.raises(EmptyInputError) as info:
        read(path)
    assert str(path) in str(info.value)


def test_docx_zip_without_word_parts_is_malformed(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "notword.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert "not a readable Word document" in str(info.value)


def test_docx_corrupt_file_is_malformed(tmp_path: Path) -> None:
    path = _write(tmp_path, "corrupt.docx", bytes(range(7, 255, 3)) * 4)
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert str(path) in str(info.value)


# --- .vtt / .srt ----------------------------------------------------------------------------

ZOOM_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
Interviewer: How are you?

2
00:00:05.000 --> 00:00:07.500
Nurse K: I am fine.

3
00:00:07.600 --> 00:00:09.250
Nurse K: Thanks for asking.

4
00:01:10.000 --> 00:01:12.000
Interviewer: Good.
"""


def test_captions_zoom_vtt_merges_consecutive_cues(tmp_path: Path) -> None:
    source = read(_write(tmp_path, "zoom.vtt", ZOOM_VTT))
    assert source.text == ("Interviewer: How are you?\n\n"
                           "Nurse K: I am fine. Thanks for asking.\n\n"
                           "Interviewer: Good.")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "I am fine. Thanks for asking."),
        ("Interviewer", "interviewer", "Good."),
    ]
    assert [(t.time_start, t.time_end) for t in source.turns] == [
        (1.0, 4.0), (5.0, 9.25), (70.0, 72.0)]
    assert source.metadata["format"] == "vtt"


def test_captions_teams_vtt_voice_tags(tmp_path: Path) -> None:
    text = ("WEBVTT\n\n"
            "6f1c2b/1-0\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>How are you?</v>\n\n"
            "6f1c2b/2-0\n00:00:05.000 --> 00:00:07.000\n<v Lee, Anna (RN)>I am fine.</v>\n\n"
            "6f1c2b/3-0\n00:00:07.000 --> 00:00:08.000\n<v Lee, Anna (RN)>Really.</v>\n")
    source = read(_write(tmp_path, "teams.vtt", text))
    assert "<v" not in source.text
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Lee, Anna (RN)", "participant", "I am fine. Really."),
    ]
    assert [(t.time_start, t.time_end) for t in source.turns] == [(1.0, 4.0), (5.0, 8.0)]


def test_captions_srt(tmp_path: Path) -> None:
    text = ("1\r\n00:00:01,000 --> 00:00:04,000\r\nInterviewer: How are you?\r\n\r\n"
            "2\r\n00:00:05,000 --> 00:00:07,000\r\nNurse K: Fine.\r\nSecond line.\r\n\r\n"
            "3\r\n01:00:05,000 --> 01:00:07,500\r\nmore without a label\r\n")
    source = read(_write(tmp_path, "a.srt", text))
    assert source.text == ("Interviewer: How are you?\n\n"
                           "Nurse K: Fine. Second line. more without a label")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "Fine. Second line. more without a label"),
    ]
    assert [(t.time_start, t.time_end) for t in source.turns] == [(1.0, 4.0), (5.0, 3607.5)]
    assert source.metadata["format"] == "srt"


def test_captions_without_speakers_are_unknown(tmp_path: Path) -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello there\n\n" \
           "00:00:03.000 --> 00:00:04.000\nand more\n"
    source = read(_write(tmp_path, "plain.vtt", text))
    assert source.text == "hello there and more"
    assert _utterances(source) == [("unknown", "unknown", "hello there and more")]


@pytest.mark.parametrize(("name", "text", "line", "bad"), [
    ("bad.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nHi\n\n00:00:05.000 --> 00:00:xx\n"
                "Hello\n", 6, "00:00:05.000 --> 00:00:xx"),
    ("bad.srt", "1\n00:00:01,000 --> 00:00:0x,000\nHi\n", 2, "00:00:01,000 --> 00:00:0x,000"),
])
def test_captions_bad_timing_line_names_the_line(tmp_path: Path, name: str, text: str,
                                                 line: int, bad: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}, line {line}: ")
    assert repr(bad) in str(info.value)


def test_captions_vtt_without_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "nohead.vtt", "00:00:01.000 --> 00:00:04.000\nHi\n")
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert info.value.line == 1
    assert str(path) in str(info.value)
    assert "WEBVTT" in str(info.value)


@pytest.mark.parametrize("text", [
    "WEBVTT\n\n",
    "WEBVTT\nKind: captions\nLanguage: en\n",
    "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n\n",
], ids=["header-only", "header-metadata", "empty-cue"])
def test_captions_vtt_without_cues(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "nocue.vtt", text)
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert "no captions" in str(info.value)


@pytest.mark.parametrize("text", ["1\nhello there\nHi\n", "garbage\n"])
def test_captions_malformed_srt(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "bad.srt", text)
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert "SRT" in str(info.value)


@pytest.mark.parametrize(("name", "text", "line"), [
    ("no-arrow.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nInterviewer: How are you?\n\n"
                     "00:00:05.000 00:00:06.000\nNurse K: I am fine.\n", 6),
    ("short-arrow.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nInterviewer: How are you?\n\n"
                        "00:00:05.000 -> 00:00:06.000\nNurse K: I am fine.\n", 6),
    ("no-hours.srt", "1\n00:00:01,000 --> 00:00:04,000\nInterviewer: How are you?\n\n"
                     "2\n00:05,000 --> 00:06,000\nNurse K: I am fine.\n", 6),
])
def test_captions_unparsable_timing_line_is_an_error(tmp_path: Path, name: str, text: str,
                                                     line: int) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(MalformedTranscriptError) as info:
        read(path)
    assert info.value.line == line


def test_captions_zoom_accented_speaker(tmp_path: Path) -> None:
    text = ("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nInterviewer: How are you?\n\n"
            "00:00:05.000 --> 00:00:07.000\nÉlodie Martin: Fine.\n")
    source = read(_write(tmp_path, "acc.vtt", text))
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Élodie Martin", "participant", "Fine."),
    ]


# --- paths, formats and folders -------------------------------------------------------------

@pytest.mark.parametrize("name", ["notes.pages", "transcript", "audio.mp3"])
def test_ingest_unsupported_extension(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, b"%PDF-1.4 whatever")
    with pytest.raises(UnsupportedFormatError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert "unsupported file type" in str(info.value)


def test_ingest_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(InputNotFoundError) as info:
        read(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(InputNotFoundError):
        read_all([tmp_path / "missing-folder"])


def test_ingest_extension_is_case_insensitive(tmp_path: Path) -> None:
    source = read(_write(tmp_path, "UPPER.TXT", "Nurse K: hello.\n"))
    assert source.metadata["format"] == "txt"
    assert _utterances(source) == [("Nurse K", "participant", "hello.")]


def _corpus(root: Path) -> None:
    _write(root, "b.txt", "Nurse K: b text.\n")
    _write(root, "a.txt", "Nurse K: a text.\n")
    _write(root, "Z.md", "Nurse Z: z text.\n")
    _write(root, "sub/c.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nNurse J: c text.\n")
    _write(root, "README.md", "Readme: this folder holds transcripts\n")
    _write(root, "LICENSE.txt", "MIT\n")
    _write(root, ".hidden.txt", "Hidden: x\n")
    _write(root, ".git/x.txt", "Git: x\n")
    _write(root, "notes.pages", b"%PDF")


def test_ingest_find_files_sorted_relative_and_skipping(tmp_path: Path) -> None:
    _corpus(tmp_path)
    found = find_files([tmp_path])
    names = [name for _, name in found]
    assert names == ["Z.md", "a.txt", "b.txt", "sub/c.vtt"]
    assert [path for path, _ in found] == [tmp_path / n for n in names]


def test_ingest_read_all_ids_are_relative_names(tmp_path: Path) -> None:
    _corpus(tmp_path)
    sources = read_all([tmp_path])
    assert [(s.id, s.name) for s in sources] == [
        ("Z.md", "Z.md"), ("a.txt", "a.txt"), ("b.txt", "b.txt"), ("sub/c.vtt", "sub/c.vtt")]
    assert sources[3].metadata["file"] == "c.vtt"
    assert _utterances(sources[3]) == [("Nurse J", "participant", "c text.")]
    # The same folder read twice gives the same sources.
    assert read_all([tmp_path]) == sources


def test_ingest_single_file_name_is_its_base_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "sub/one.txt", "Nurse K: hi.\n")
    assert find_files([path]) == [(path, "one.txt")]


def test_ingest_duplicate_names_are_rejected(tmp_path: Path) -> None:
    first = _write(tmp_path, "x/one.txt", "Nurse K: hi.\n")
    second = _write(tmp_path, "y/one.txt", "Nurse K: hi.\n")
    with pytest.raises(UnsupportedFormatError) as info:
        find_files([first, second])
    assert "one.txt" in str(info.value)


@pytest.mark.parametrize("files", [{}, {"README.md": "x", ".hidden.txt": "y", "a.pages": "z"}],
                         ids=["empty", "only-skipped"])
def test_ingest_folder_without_transcripts_is_empty_input(tmp_path: Path,
                                                          files: dict[str, str]) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in files.items():
        _write(folder, name, text)
    with pytest.raises(EmptyInputError) as info:
        read_all([folder])
    assert str(folder) in str(info.value)


# --- language -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "language"), [
    ("訪談者：請問您工作多久了？\n護理師K：十年了。\n", "zh"),
    ("Interviewer: 你在醫院工作多久了？\nNurse K: 十年了，很辛苦。\n", "zh"),
    ("Interviewer: How long have you worked here?\nNurse K: Ten years.\n", "en"),
    ("Nurse K: We call the night shift 夜班 here, it is long and hard.\n", "en"),
])
def test_ingest_language_detection(tmp_path: Path, text: str, language: str) -> None:
    assert read(_write(tmp_path, "t.txt", text)).language == language


def test_ingest_language_setting_overrides_detection(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.txt", "Nurse K: Ten years.\n")
    assert read(path, IngestOptions(language="zh")).language == "zh"


def test_ingest_options_metadata_is_attached(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.txt", "Nurse K: Ten years.\n")
    source = read(path, IngestOptions(metadata={"site": "ward B"}))
    assert source.metadata == {"file": "t.txt", "format": "txt", "encoding": "utf-8",
                               "site": "ward B"}


# --- participants ---------------------------------------------------------------------------

@pytest.fixture
def sources(tmp_path: Path) -> list[Source]:
    folder = tmp_path / "corpus"
    _write(folder, "a.txt", "Interviewer: Hi.\nNurse K: a text.\n")
    _write(folder, "b.txt", "Interviewer: Hi.\nNurse K: b text.\n")
    _write(folder, "sub/c.md", "Interviewer: Hi.\nSocial Worker I: c text.\n")
    return read_all([folder])


def test_participants_source_and_speaker_rows(tmp_path: Path, sources: list[Source]) -> None:
    csv = _write(tmp_path, "p.csv",
                 "source,speaker,profession,years\n"
                 "a.txt,,nurse,10\n"
                 "b,,doctor,3\n"
                 "sub/c.md,Social Worker I,social worker,5\n"
                 ",Nurse K,nurse,7\n")
    out, warnings = attach_participants(sources, csv)
    assert warnings == []
    meta = {s.id: s.metadata for s in out}
    assert meta["a.txt"]["attributes"] == {"profession": "nurse", "years": "10"}
    assert meta["b.txt"]["attributes"] == {"profession": "doctor", "years": "3"}
    assert meta["a.txt"]["speakers"] == {"Nurse K": {"profession": "nurse", "years": "7"}}
    assert meta["b.txt"]["speakers"] == {"Nurse K": {"profession": "nurse", "years": "7"}}
    assert meta["sub/c.md"]["speakers"] == {
        "Social Worker I": {"profession": "social worker", "years": "5"}}
    assert "attributes" not in meta["sub/c.md"]
    # Ingest metadata is kept, and the input sources are not modified.
    assert meta["a.txt"]["format"] == "txt"
    assert "attributes" not in sources[0].metadata


def test_participants_unmatched_rows_warn(tmp_path: Path, sources: list[Source]) -> None:
    csv = _write(tmp_path, "p.csv",
                 "source,speaker,profession\n"
                 "a.txt,,nurse\n"
                 "zzz.txt,,x\n"
                 "a,Nobody,y\n")
    out, warnings = attach_participants(sources, csv)
    assert warnings == [
        f"{csv}, line 3: matches no ingested source (source=zzz.txt, speaker=-); skipped",
        f"{csv}, line 4: matches no ingested source (source=a, speaker=Nobody); skipped",
    ]
    assert out[0].metadata["attributes"] == {"profession": "nurse"}
    assert "speakers" not in out[0].metadata


def test_participants_bom_and_spaces_in_header(tmp_path: Path, sources: list[Source]) -> None:
    csv = _write(tmp_path, "p.csv", "\ufeff source , profession \nb.txt,doctor\n")
    out, warnings = attach_participants(sources, csv)
    assert warnings == []
    assert out[1].metadata["attributes"] == {"profession": "doctor"}


@pytest.mark.parametrize(("text", "line", "message"), [
    ("name,profession\nx,y\n", 1, "needs a 'source' or 'speaker' column"),
    ("source\na.txt\n", 1, "no attribute columns"),
    ("source,speaker,profession\n,,x\n", 2, "neither a source nor a speaker"),
])
def test_participants_bad_csv_is_metadata_error(tmp_path: Path, sources: list[Source],
                                                text: str, line: int, message: str) -> None:
    csv = _write(tmp_path, "p.csv", text)
    with pytest.raises(MetadataError) as info:
        attach_participants(sources, csv)
    assert info.value.line == line
    assert str(info.value).startswith(f"{csv}, line {line}: ")
    assert message in str(info.value)


def test_participants_non_utf8_csv_is_metadata_error(tmp_path: Path,
                                                      sources: list[Source]) -> None:
    csv = _write(tmp_path, "p.csv", "source,profession\na.txt,enfermière\n".encode("cp1252"))
    with pytest.raises(MetadataError) as info:
        attach_participants(sources, csv)
    assert str(csv) in str(info.value)


def test_participants_missing_file(tmp_path: Path, sources: list[Source]) -> None:
    with pytest.raises(InputNotFoundError) as info:
        attach_participants(sources, tmp_path / "none.csv")
    assert "none.csv" in str(info.value)
