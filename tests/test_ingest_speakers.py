"""Ingest: speaker labels, timestamps and roles in typed (.txt / .md) transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import IngestOptions, read
from pipeline.ingest.speakers import DEFAULT_INTERVIEWER_NAMES, parse_timestamp, role_for
from pipeline.ingest.text import turns_from_text
from pipeline.records import Source


def _ingest(tmp_path: Path, text: str, name: str = "t.txt", **options: object) -> Source:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read(path, IngestOptions(**options))  # type: ignore[arg-type]


def _sep(label: str) -> str:
    """The colon a typist uses after this label: full-width after a CJK name."""
    return "：" if label[0] > "\u3000" else ": "


def _utterances(source: Source) -> list[tuple[str, str, str]]:
    """(speaker, role, text) per turn, the text read through the turn's offsets."""
    return [(t.speaker, t.role, source.text[t.start:t.end]) for t in source.turns]


def test_speakers_name_colon_labels(tmp_path: Path) -> None:
    text = (
        "Interviewer: Hello there.\n"
        "Nurse K: Hi.\n"
        "Social Worker I: Yes indeed.\n"
        "P03: Sure thing.\n"
        "Speaker 2: Okay then.\n"
        "Nurse K: Again.\n"
        "Social Worker I: Me too.\n"
        "P03: Right.\n"
        "Speaker 2: Fine.\n"
    )
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "Hello there."),
        ("Nurse K", "participant", "Hi."),
        ("Social Worker I", "participant", "Yes indeed."),
        ("P03", "participant", "Sure thing."),
        ("Speaker 2", "participant", "Okay then."),
        ("Nurse K", "participant", "Again."),
        ("Social Worker I", "participant", "Me too."),
        ("P03", "participant", "Right."),
        ("Speaker 2", "participant", "Fine."),
    ]
    assert all(t.time_start is None and t.time_end is None for t in source.turns)


def test_speakers_label_without_space_and_indented(tmp_path: Path) -> None:
    source = _ingest(tmp_path, "  Interviewer:How?\nNurse K:   Fine.   \n")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How?"),
        ("Nurse K", "participant", "Fine."),
    ]


def test_speakers_label_alone_on_its_line(tmp_path: Path) -> None:
    source = _ingest(tmp_path, "Interviewer:\nHow are you?\nNurse K:\n  I am fine.\n")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "I am fine."),
    ]


@pytest.mark.parametrize(("line", "seconds"), [
    ("[00:12:05] Nurse K: Fine.", 725.0),
    ("(12:05) Nurse K: Fine.", 725.0),
    ("00:12:05 Nurse K: Fine.", 725.0),
    ("Nurse K (00:12:05): Fine.", 725.0),
    ("Nurse K [01:02:03]: Fine.", 3723.0),
    ("Nurse K: [00:12:05.500] Fine.", 725.5),
    ("[1:02:03,250] Nurse K: Fine.", 3723.25),
])
def test_speakers_timestamps_around_labels(tmp_path: Path, line: str, seconds: float) -> None:
    source = _ingest(tmp_path, f"Interviewer: How are you?\n{line}\n")
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "Fine."),
    ]
    assert source.turns[0].time_start is None
    assert source.turns[1].time_start == pytest.approx(seconds)


@pytest.mark.parametrize("line", ["Nurse K 00:12:05: Fine.", "Nurse K 12:05: Fine."])
def test_speakers_bare_timestamp_after_label(tmp_path: Path, line: str) -> None:
    source = _ingest(tmp_path, f"Interviewer: How are you?\n{line}\n")
    assert _utterances(source)[1] == ("Nurse K", "participant", "Fine.")
    assert source.turns[1].time_start == 725.0


def test_speakers_turn_time_start_from_timestamps(tmp_path: Path) -> None:
    text = ("[00:00:03] Interviewer: How are you?\n"
            "[00:00:07] Nurse K: Fine.\nStill fine.\n"
            "[00:01:10] Interviewer: Good.\n")
    source = _ingest(tmp_path, text)
    assert [t.time_start for t in source.turns] == [3.0, 7.0, 70.0]
    assert [t.time_end for t in source.turns] == [None, None, None]
    assert _utterances(source)[1] == ("Nurse K", "participant", "Fine.\nStill fine.")


def test_speakers_parse_timestamp_values() -> None:
    assert parse_timestamp("[00:12:05]") == 725.0
    assert parse_timestamp("(12:05)") == 725.0
    assert parse_timestamp("1:02:03,5") == 3723.5
    assert parse_timestamp("") is None
    assert parse_timestamp(None) is None


def test_speakers_otter_export(tmp_path: Path) -> None:
    text = (
        "Interviewer  0:03\n"
        "How are you today?\n"
        "Second line of the question.\n"
        "\n"
        "Nurse K  0:10\n"
        "I am fine.\n"
        "\n"
        "Interviewer  12:05\n"
        "Good.\n"
    )
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you today?\nSecond line of the question."),
        ("Nurse K", "participant", "I am fine."),
        ("Interviewer", "interviewer", "Good."),
    ]
    assert [t.time_start for t in source.turns] == [3.0, 10.0, 725.0]


def test_speakers_otter_one_off_speaker_is_kept(tmp_path: Path) -> None:
    # Otter labels are certain: a speaker who talks once in a long file is not demoted.
    text = ("Interviewer  0:01\nQ one.\n\nSpeaker 1  0:05\nA one.\n\n"
            "Interviewer  0:09\nQ two.\n\nSpeaker 1  0:12\nA two.\n\n"
            "Speaker 2  0:20\nOnly once.\n")
    source = _ingest(tmp_path, text)
    assert _utterances(source)[-1] == ("Speaker 2", "participant", "Only once.")
    assert source.turns[-1].time_start == 20.0


def test_speakers_otter_export_with_hours(tmp_path: Path) -> None:
    text = "Interviewer  0:03:05\nHow are you today?\n\nNurse K  1:02:03\nFine.\n"
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you today?"),
        ("Nurse K", "participant", "Fine."),
    ]
    assert [t.time_start for t in source.turns] == [185.0, 3723.0]


def test_speakers_continuation_lines_join_previous_turn(tmp_path: Path) -> None:
    text = ("Interviewer: How are you?\n"
            "Nurse K: I am fine.\n"
            "I also work nights.\n"
            "\n"
            "And weekends.\n"
            "Interviewer: Thanks.\n")
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Nurse K", "participant", "I am fine.\nI also work nights.\n\nAnd weekends."),
        ("Interviewer", "interviewer", "Thanks."),
    ]


def test_speakers_preamble_before_first_label_is_unknown(tmp_path: Path) -> None:
    text = "Interview 3, ward B\n\nInterviewer: Hello.\nNurse K: Hi.\n"
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("unknown", "unknown", "Interview 3, ward B"),
        ("Interviewer", "interviewer", "Hello."),
        ("Nurse K", "participant", "Hi."),
    ]


def test_speakers_file_without_labels_is_unknown(tmp_path: Path) -> None:
    text = "This is a monologue with no labels.\nIt continues here.\n\n\nSecond paragraph.\n"
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("unknown", "unknown", "This is a monologue with no labels.\nIt continues here."),
        ("unknown", "unknown", "Second paragraph."),
    ]


def test_speakers_chinese_full_width_colon_labels(tmp_path: Path) -> None:
    text = ("訪談者：請問您工作多久了？\n"
            "護理師K：我在這裡工作了十年。\n"
            "訪談者：壓力大嗎？\n"
            "護理師K：非常大。\n夜班尤其辛苦。\n")
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("訪談者", "interviewer", "請問您工作多久了？"),
        ("護理師K", "participant", "我在這裡工作了十年。"),
        ("訪談者", "interviewer", "壓力大嗎？"),
        ("護理師K", "participant", "非常大。\n夜班尤其辛苦。"),
    ]
    assert source.language == "zh"


@pytest.mark.parametrize("sentence", [
    "My goal is simple: work.",
    "so the answer: no.",
    "There were three things I wanted to say: money, time and staff.",
])
def test_speakers_sentence_with_colon_is_not_a_label(tmp_path: Path, sentence: str) -> None:
    source = _ingest(tmp_path, sentence + "\n")
    assert _utterances(source) == [("unknown", "unknown", sentence)]


def test_speakers_sentence_with_colon_inside_a_turn(tmp_path: Path) -> None:
    source = _ingest(tmp_path, "Nurse K: I said it before.\nMy goal is simple: work.\n")
    assert _utterances(source) == [
        ("Nurse K", "participant", "I said it before.\nMy goal is simple: work."),
    ]


def test_speakers_one_off_capitalized_phrase_in_long_file_is_not_a_label(tmp_path: Path) -> None:
    text = ("Interviewer: Tell me.\n"
            "Nurse K: Sure.\n"
            "Interviewer: More.\n"
            "Nurse K: Okay.\n"
            "The Main Point: money.\n"
            "Interviewer: Thanks.\n"
            "Nurse K: Bye.\n")
    source = _ingest(tmp_path, text)
    assert [t.speaker for t in source.turns] == [
        "Interviewer", "Nurse K", "Interviewer", "Nurse K", "Interviewer", "Nurse K"]
    assert _utterances(source)[3] == ("Nurse K", "participant", "Okay.\nThe Main Point: money.")


def test_speakers_one_off_interviewer_label_is_kept(tmp_path: Path) -> None:
    text = ("Interviewer: Tell me.\nNurse K: Sure.\nInterviewer: More.\nNurse K: Okay.\n"
            "Interviewer 2: A follow-up from me.\n")
    source = _ingest(tmp_path, text)
    assert _utterances(source)[-1] == ("Interviewer 2", "interviewer", "A follow-up from me.")


def test_speakers_one_off_timestamped_label_is_kept(tmp_path: Path) -> None:
    text = ("Interviewer: Tell me.\nNurse K: Sure.\nInterviewer: More.\nNurse K: Okay.\n"
            "[00:05:00] Doctor M: I only say this once.\n")
    source = _ingest(tmp_path, text)
    assert _utterances(source)[-1] == ("Doctor M", "participant", "I only say this once.")
    assert source.turns[-1].time_start == 300.0


@pytest.mark.parametrize(("label", "role"), [
    ("Interviewer", "interviewer"),
    ("Interviewer 2", "interviewer"),
    ("INTERVIEWER", "interviewer"),
    ("Moderator B", "interviewer"),
    ("I", "interviewer"),
    ("Q", "interviewer"),
    ("INT", "interviewer"),
    ("訪談者", "interviewer"),
    ("主持人", "interviewer"),
    ("Nurse K", "participant"),
    ("P03", "participant"),
    ("Interviewee", "participant"),
    ("Interviewer Smith Jones", "participant"),  # a long suffix is a different name
    ("A", "participant"),
])
def test_speakers_roles_from_default_interviewer_names(tmp_path: Path, label: str,
                                                       role: str) -> None:
    source = _ingest(tmp_path, f"{label}{_sep(label)}Some words here.\n")
    assert _utterances(source) == [(label, role, "Some words here.")]
    assert role_for(label, DEFAULT_INTERVIEWER_NAMES) == role


def test_speakers_custom_interviewer_names(tmp_path: Path) -> None:
    text = "Dr Lee: Question?\nAnna: Answer.\nInterviewer: Not an interviewer here.\n"
    source = _ingest(tmp_path, text, interviewer_names=("Dr Lee",))
    assert _utterances(source) == [
        ("Dr Lee", "interviewer", "Question?"),
        ("Anna", "participant", "Answer."),
        ("Interviewer", "participant", "Not an interviewer here."),
    ]


def test_speakers_role_for_unknown_stays_unknown() -> None:
    assert role_for("unknown", DEFAULT_INTERVIEWER_NAMES) == "unknown"


def test_speakers_markdown_bold_labels_and_headings_skipped(tmp_path: Path) -> None:
    text = ("# Interview 3: Nurse K\n\n"
            "**Q:** How are you?\n\n"
            "**A:** Fine thanks.\n\n"
            "## Part 2\n\n"
            "**Q**: More?\n\n"
            "__A:__ Yes.\n")
    source = _ingest(tmp_path, text, name="t.md")
    assert _utterances(source) == [
        ("Q", "interviewer", "How are you?"),
        ("A", "participant", "Fine thanks."),
        ("Q", "interviewer", "More?"),
        ("A", "participant", "Yes."),
    ]
    assert source.metadata["format"] == "md"


def test_speakers_markdown_heading_ends_unlabelled_paragraph(tmp_path: Path) -> None:
    source = _ingest(tmp_path, "# Notes\nSome intro text.\n## Part\nMore text.\n", name="n.md")
    assert _utterances(source) == [
        ("unknown", "unknown", "Some intro text."),
        ("unknown", "unknown", "More text."),
    ]


def test_speakers_headings_are_text_in_txt(tmp_path: Path) -> None:
    source = _ingest(tmp_path, "# Notes\nSome intro text.\n", name="n.txt")
    assert _utterances(source) == [("unknown", "unknown", "# Notes\nSome intro text.")]


def test_speakers_accented_capital_label(tmp_path: Path) -> None:
    text = "Interviewer: How are you?\nÉlodie: Fine.\nInterviewer: Good?\nÉlodie: Yes.\n"
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "How are you?"),
        ("Élodie", "participant", "Fine."),
        ("Interviewer", "interviewer", "Good?"),
        ("Élodie", "participant", "Yes."),
    ]


def test_speakers_clock_time_at_line_start_is_not_a_label(tmp_path: Path) -> None:
    text = "Interviewer: When did you arrive?\nNurse K: We arrived at\n10:30 in the morning.\n"
    source = _ingest(tmp_path, text)
    assert _utterances(source) == [
        ("Interviewer", "interviewer", "When did you arrive?"),
        ("Nurse K", "participant", "We arrived at\n10:30 in the morning."),
    ]


# Property: a transcript written from known turns is read back into exactly those turns.
_LABELS = ["Interviewer", "Nurse K", "P03", "Social Worker I", "Speaker 2", "護理師K", "訪談者"]
_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéü中文，。?!.,'", min_size=1, max_size=8)
_LINE = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join).filter(
    lambda s: (s[0].isalpha() and s[0].islower()) or "\u4e00" <= s[0] <= "\u9fff")
_TURN = st.tuples(st.sampled_from(_LABELS), st.lists(_LINE, min_size=1, max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(turns=st.lists(_TURN, min_size=1, max_size=8))
def test_speakers_property_turns_round_trip(turns: list[tuple[str, list[str]]]) -> None:
    # Each speaker speaks at least twice (or the file is short), so none is demoted.
    turns = turns if len(turns) < 4 else turns + turns
    text = "".join(f"{label}{_sep(label)}" + "\n".join(lines) + "\n" for label, lines in turns)
    # A label written again right after the same speaker's turn continues that turn (one
    # rule for every format): the pieces are kept as its parts.
    expected: list[tuple[str, list[str]]] = []
    for label, lines in turns:
        if expected and expected[-1][0] == label:
            expected[-1][1].append("\n".join(lines))
        else:
            expected.append((label, ["\n".join(lines)]))
    found = turns_from_text(text, DEFAULT_INTERVIEWER_NAMES)
    assert [(t.speaker, [text[p.start:p.end] for p in t.pieces()]) for t in found] == expected
    for t in found:
        assert t.role == role_for(t.speaker, DEFAULT_INTERVIEWER_NAMES)
        for p in t.pieces():
            assert text[p.start:p.end] == text[p.start:p.end].strip()


def test_speakers_labels_with_a_note_in_parentheses_or_a_number_sign(tmp_path: Path) -> None:
    source = _ingest(tmp_path, "Interviewer (Anna): How do you see recovery?\n"
                               "P1 (Nurse): Recovery is possible for everyone I work with.\n"
                               "Interviewer (Anna): Why?\n"
                               "P1 (Nurse): I saw it many times.\n"
                               "Participant #3: Me too.\nParticipant #3: Often.\n")
    speakers = [(t.speaker, t.role) for t in source.turns]
    assert speakers[:2] == [("Interviewer (Anna)", "interviewer"), ("P1 (Nurse)", "participant")]
    assert ("Participant #3", "participant") in speakers
    assert source.text[source.turns[1].start:source.turns[1].end] == \
        "Recovery is possible for everyone I work with."


def test_speakers_chinese_interviewer_labels_with_a_suffix_and_simplified() -> None:
    for label in ("訪談者1", "訪談者A", "訪談者 B", "研究者２", "访谈者", "访谈者1"):
        assert role_for(label, DEFAULT_INTERVIEWER_NAMES) == "interviewer", label
    for label in ("護理師K", "訪談者的朋友", "社工師L"):
        assert role_for(label, DEFAULT_INTERVIEWER_NAMES) == "participant", label


def test_speakers_chinese_labels_with_a_note_in_brackets(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("訪談者（主）：請問您覺得同儕支持有用嗎？\n"
                    "社工師(陳)：有用啊，他們真的懂。\n"
                    "個管師【林】：我補充一下，同儕的陪伴很重要。\n"
                    "訪談者（主）：可以多說一點嗎？\n"
                    "社工師(陳)：像我們會所的會員。\n"
                    "個管師【林】：對，還有家屬團體。\n", encoding="utf-8")
    source = read(path)
    assert [(t.speaker, t.role) for t in source.turns] == [
        ("訪談者（主）", "interviewer"), ("社工師(陳)", "participant"),
        ("個管師【林】", "participant")] * 2
    assert source.text[source.turns[1].start:source.turns[1].end] == "有用啊，他們真的懂。"
