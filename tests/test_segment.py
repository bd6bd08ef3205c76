"""Segment: turns into sentences, turns or windows, with exact offsets and stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.ingest import read
from pipeline.records import Source, Turn
from pipeline.segment import SegmentOptions, segment, segment_all, sentence_spans

INTERVIEWER_NAMES = {"Interviewer", "訪談者"}


def _source(turns: list[tuple[str, str]], language: str = "en", source_id: str = "s1") -> Source:
    """A source written as `Speaker: utterance` paragraphs, with exact turn offsets."""
    text, spans = "", []
    for speaker, body in turns:
        text += f"{speaker}: "
        role = "interviewer" if speaker in INTERVIEWER_NAMES else (
            "unknown" if speaker == "unknown" else "participant")
        spans.append(Turn(speaker, role, len(text), len(text) + len(body)))
        text += body + "\n\n"
    return Source(id=source_id, name=source_id, text=text, turns=tuple(spans),
                  language=language)


def _texts(source: Source, **options: object) -> list[str]:
    return [s.text for s in segment(source, options=SegmentOptions(**options))]  # type: ignore[arg-type]


def _check_invariants(source: Source, segments: list) -> None:  # type: ignore[type-arg]
    for s in segments:
        assert source.text[s.start:s.end] == s.text
        turn = source.turns[s.turn_index]
        assert turn.start <= s.start < s.end <= turn.end
        assert (s.speaker, s.role, s.source_id) == (turn.speaker, turn.role, source.id)
        assert s.id == f"{source.id}:{s.start}-{s.end}"
        assert s.text == s.text.strip()


# --- the invariant, on generated transcripts ------------------------------------------------

_ALPHABET = st.sampled_from([*"abcdefgh xyzABCÉéüñ中文字護理🙂,;:'\"-\n\t", "e\u0301"])
_SENTENCE = st.tuples(
    st.lists(_ALPHABET, min_size=1, max_size=40).map("".join),
    st.sampled_from([".", "!", "?", "。", "！", "？", "...", ""]),
).map("".join)
_BODY = st.tuples(
    st.lists(_SENTENCE, min_size=1, max_size=6),
    st.sampled_from([" ", "\n", "  ", " \n"]),
).map(lambda parts: parts[1].join(parts[0]).strip()).filter(bool)
_TURNS = st.lists(
    st.tuples(st.sampled_from(["Interviewer", "Nurse K", "P03", "訪談者", "unknown"]), _BODY),
    min_size=1, max_size=6,
)
_OPTIONS = st.builds(
    SegmentOptions,
    unit=st.sampled_from(["sentence", "turn", "window"]),
    window=st.integers(0, 3),
    include_interviewer=st.booleans(),
    fragment_policy=st.sampled_from(["merge", "drop", "keep"]),
)


@settings(max_examples=80, deadline=None)
@given(turns=_TURNS, language=st.sampled_from(["en", "zh"]), options=_OPTIONS)
def test_segment_property_offsets_turns_and_ids(turns: list[tuple[str, str]], language: str,
                                                options: SegmentOptions) -> None:
    source = _source(turns, language)
    first = segment(source, options=options)
    _check_invariants(source, first)
    assert len({s.id for s in first}) == len(first)
    assert [s.start for s in first] == sorted(s.start for s in first)
    if not options.include_interviewer:
        assert all(s.role != "interviewer" for s in first)
    if options.unit == "sentence":  # sentences never overlap
        assert all(a.end <= b.start for a, b in itertools.pairwise(first))
    again = segment(source, options=options)
    assert [s.id for s in again] == [s.id for s in first]
    assert again == first


# --- interviewer turns ----------------------------------------------------------------------

CONVERSATION = [
    ("Interviewer", "How was the shift last night?"),
    ("Nurse K", "The shift was very long and tiring."),
    ("unknown", "Somebody said this without a label."),
]


def test_segment_interviewer_turns_excluded_by_default() -> None:
    segments = segment(_source(CONVERSATION))
    assert [(s.speaker, s.role, s.text, s.turn_index) for s in segments] == [
        ("Nurse K", "participant", "The shift was very long and tiring.", 1),
        ("unknown", "unknown", "Somebody said this without a label.", 2),
    ]


def test_segment_interviewer_turns_included_with_option() -> None:
    segments = segment(_source(CONVERSATION), options=SegmentOptions(include_interviewer=True))
    assert [(s.role, s.text, s.turn_index) for s in segments] == [
        ("interviewer", "How was the shift last night?", 0),
        ("participant", "The shift was very long and tiring.", 1),
        ("unknown", "Somebody said this without a label.", 2),
    ]


# --- fragments ------------------------------------------------------------------------------

FRAGMENTED = [("Nurse K", "Yeah. The shift was very long and tiring. Mm-hmm. "
                          "We had three admissions before midnight. Right.")]


def test_segment_fragments_merge_into_next_sentence() -> None:
    assert _texts(_source(FRAGMENTED)) == [
        "Yeah. The shift was very long and tiring.",
        "Mm-hmm. We had three admissions before midnight. Right.",
    ]


def test_segment_fragments_dropped_with_drop() -> None:
    assert _texts(_source(FRAGMENTED), fragment_policy="drop") == [
        "The shift was very long and tiring.",
        "We had three admissions before midnight.",
    ]


def test_segment_fragments_kept_with_keep() -> None:
    assert _texts(_source(FRAGMENTED), fragment_policy="keep") == [
        "Yeah.", "The shift was very long and tiring.", "Mm-hmm.",
        "We had three admissions before midnight.", "Right.",
    ]


def test_segment_consecutive_fragments_merge_together() -> None:
    source = _source([("Nurse K", "Yeah. Mm-hmm. Okay. The shift was very long and tiring.")])
    assert _texts(source) == ["Yeah. Mm-hmm. Okay. The shift was very long and tiring."]


def test_segment_fragments_never_merge_across_turns() -> None:
    source = _source([
        ("Nurse K", "The shift was very long and tiring. Yeah."),
        ("Nurse J", "Mm-hmm. We had three admissions before midnight."),
    ])
    segments = segment(source)
    assert [(s.speaker, s.text) for s in segments] == [
        ("Nurse K", "The shift was very long and tiring. Yeah."),
        ("Nurse J", "Mm-hmm. We had three admissions before midnight."),
    ]


def test_segment_fragment_threshold_is_configurable() -> None:
    source = _source([("Nurse K", "I disagree. The shift was very long and tiring.")])
    assert _texts(source) == ["I disagree. The shift was very long and tiring."]
    assert _texts(source, fragment_min_chars=5) == [
        "I disagree.", "The shift was very long and tiring."]


@pytest.mark.parametrize(("options", "expected"), [
    ({}, []),
    ({"fragment_policy": "drop"}, []),
    ({"fragment_policy": "keep"}, ["Yeah."]),
    ({"unit": "turn"}, []),
    ({"unit": "turn", "fragment_policy": "keep"}, ["Yeah."]),
    ({"unit": "window"}, []),
])
def test_segment_turn_that_is_only_a_fragment_is_dropped(options: dict[str, object],
                                                         expected: list[str]) -> None:
    source = _source([("Nurse K", "Yeah."),
                      ("Nurse J", "We had three admissions before midnight.")])
    texts = _texts(source, **options)
    assert texts == [*expected, "We had three admissions before midnight."]


# --- units ----------------------------------------------------------------------------------

WINDOWED = [
    ("Nurse K", "First we wash our hands carefully. Second we check the chart. "
                "Third we talk to the patient. Fourth we write the notes."),
    ("Nurse J", "Another turn starts here today. It has two sentences only."),
]


def test_segment_unit_turn_is_whole_turn() -> None:
    source = _source(WINDOWED)
    segments = segment(source, unit="turn")
    assert [s.text for s in segments] == [body for _, body in WINDOWED]
    assert [(s.start, s.end) for s in segments] == [(t.start, t.end) for t in source.turns]
    _check_invariants(source, segments)


def test_segment_unit_turn_trims_whitespace() -> None:
    text = "Nurse K:   The shift was very long and tiring.  \n"
    source = Source(id="s", name="s", text=text,
                    turns=(Turn("Nurse K", "participant", 8, len(text)),))
    segments = segment(source, unit="turn")
    assert [(s.text, s.start) for s in segments] == [
        ("The shift was very long and tiring.", 11)]


def test_segment_window_one_spans_neighbours_within_turn() -> None:
    source = _source(WINDOWED)
    segments = segment(source, options=SegmentOptions(unit="window", window=1))
    assert [(s.speaker, s.text) for s in segments] == [
        ("Nurse K", "First we wash our hands carefully. Second we check the chart."),
        ("Nurse K", "First we wash our hands carefully. Second we check the chart. "
                    "Third we talk to the patient."),
        ("Nurse K", "Second we check the chart. Third we talk to the patient. "
                    "Fourth we write the notes."),
        ("Nurse K", "Third we talk to the patient. Fourth we write the notes."),
        ("Nurse J", "Another turn starts here today. It has two sentences only."),
    ]
    _check_invariants(source, segments)


def test_segment_window_zero_equals_sentences() -> None:
    source = _source(WINDOWED)
    windows = segment(source, options=SegmentOptions(unit="window", window=0))
    assert windows == segment(source, unit="sentence")
    assert len(windows) == 6


def test_segment_window_wider_than_turn_is_the_turn() -> None:
    source = _source(WINDOWED)
    texts = _texts(source, unit="window", window=5)
    assert texts == [body for _, body in WINDOWED]


def test_segment_unit_argument_overrides_options() -> None:
    source = _source(WINDOWED)
    options = SegmentOptions(unit="sentence", fragment_policy="keep")
    assert [s.text for s in segment(source, "turn", options)] == [b for _, b in WINDOWED]


def test_segment_ids_are_source_and_offsets() -> None:
    source = _source([("Nurse K", "The shift was very long and tiring.")], source_id="ward/a.txt")
    (only,) = segment(source)
    assert only.id == "ward/a.txt:9-44"
    assert (only.start, only.end, only.source_id) == (9, 44, "ward/a.txt")


def test_segment_all_concatenates_sources_in_order() -> None:
    a = _source([("Nurse K", "The shift was very long and tiring.")], source_id="a")
    b = _source([("Nurse J", "We had three admissions before midnight.")], source_id="b")
    segments = segment_all([a, b])
    assert [s.id for s in segments] == ["a:9-44", "b:9-49"]


# --- Chinese --------------------------------------------------------------------------------

def test_segment_chinese_sentences_on_full_width_punctuation() -> None:
    source = _source([("訪談者", "請問您工作多久了？"),
                      ("護理師K", "我在這裡工作了十年。每天都很忙碌！您知道嗎？我覺得很累。")],
                     language="zh")
    assert _texts(source) == [
        "我在這裡工作了十年。", "每天都很忙碌！", "您知道嗎？", "我覺得很累。"]


def test_segment_chinese_fragments_use_cjk_threshold() -> None:
    source = _source([("護理師K", "好。我在這裡工作了十年。嗯嗯。")], language="zh")
    assert _texts(source) == ["好。我在這裡工作了十年。嗯嗯。"]
    assert _texts(source, fragment_policy="drop") == ["我在這裡工作了十年。"]
    assert _texts(source, fragment_policy="keep") == ["好。", "我在這裡工作了十年。", "嗯嗯。"]


def test_segment_chinese_quotes_ellipses_and_mixed_english() -> None:
    """No spaces needed: 。！？ end a sentence, also inside 「」 (the quote stays whole), an
    ellipsis …… and ～ do not, and English sentences inside a Chinese turn split on their
    own full stops."""
    source = _source([("社工師L", "他說：「聲音還在啦。」然後就走了。我想想……應該是吧？"
                                  "我們那個 peer support group 其實很重要。It really helps people. "
                                  "對啊，真的～大家都會來。")], language="zh")
    assert _texts(source, fragment_policy="keep") == [
        "他說：「聲音還在啦。」", "然後就走了。", "我想想……應該是吧？",
        "我們那個 peer support group 其實很重要。", "It really helps people.",
        "對啊，真的～大家都會來。"]


def test_segment_chinese_fragment_policy_counts_characters() -> None:
    """Under fragment_min_chars_cjk characters (5, punctuation included) is a fragment."""
    source = _source([("護理師K", "對啊。我們每天都見面。")], language="zh")
    assert _texts(source) == ["對啊。我們每天都見面。"]  # 3 characters: merged
    source = _source([("護理師K", "真的很辛苦。我們每天都見面。")], language="zh")
    assert _texts(source) == ["真的很辛苦。", "我們每天都見面。"]  # 6 characters: a sentence


def test_segment_sentence_spans_are_trimmed() -> None:
    text = "  First sentence here.\n\nSecond one!  "
    assert sentence_spans(text) == [(2, 22), (24, 35)]
    assert [text[s:e] for s, e in sentence_spans(text)] == ["First sentence here.", "Second one!"]


# --- from a real file -----------------------------------------------------------------------

def test_segment_ingested_file_keeps_offsets(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes("Interviewer: How was it?\r\nNurse K: cafe\u0301 was closed. "
                     "We had three admissions.\r\nIt was a long night.\r\n".encode())
    source = read(path)
    segments = segment(source)
    assert [s.text for s in segments] == [
        "café was closed.", "We had three admissions.", "It was a long night."]
    _check_invariants(source, segments)


# --- configuration --------------------------------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    ({"unit": "paragraph"}, "unknown segment unit 'paragraph'"),
    ({"fragment_policy": "ignore"}, "unknown fragment_policy 'ignore'"),
    ({"window": -1}, "segment.window must be 0 or more"),
])
def test_segment_bad_options_are_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        SegmentOptions(**options)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert "How to fix" in str(info.value)


def test_segment_bad_unit_argument_is_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown segment unit 'words'"):
        segment(_source(CONVERSATION), unit="words")


def test_segment_bracketed_stage_directions_start_the_next_sentence() -> None:
    """An opening bracket after a full stop opens what follows: （笑） and (laughs) are not cut
    in two, in either language."""
    source = _source([("護理師K", "他又住院了。（笑）我們都說沒關係。")], language="zh")
    assert _texts(source, fragment_policy="keep") == ["他又住院了。", "（笑）我們都說沒關係。"]
    source = _source([("Nurse K", "It went badly at first. (laughs) Then it got better.")])
    assert _texts(source, fragment_policy="keep") == [
        "It went badly at first.", "(laughs) Then it got better."]
