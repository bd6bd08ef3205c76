"""The data model round-trips through JSON without loss (property tests)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from pipeline.records import (
    Code,
    Codebook,
    Coding,
    Decision,
    Evidence,
    Segment,
    Source,
    Suggestion,
    Theme,
    Turn,
    stable_id,
)

text = st.text(max_size=40)
small = st.integers(min_value=0, max_value=10_000)
roles = st.sampled_from(["interviewer", "participant", "unknown"])
turns = st.builds(Turn, text, roles, small, small,
                  st.none() | st.floats(0, 1e5, allow_nan=False),
                  st.none() | st.floats(0, 1e5, allow_nan=False))
sources = st.builds(Source, text, text, text, st.lists(turns, max_size=4).map(tuple),
                    st.sampled_from(["en", "zh"]),
                    st.dictionaries(st.text(min_size=1, max_size=8), text, max_size=3))
segments = st.builds(Segment, text, text, small, small, text, text, roles, small)
codes = st.builds(Code, text, text, text, st.lists(text, max_size=3).map(tuple),
                  st.lists(text, max_size=3).map(tuple), st.lists(text, max_size=3).map(tuple))
codebooks = st.builds(Codebook, text, text,
                      st.lists(st.builds(Theme, text, text, text,
                                         st.lists(codes, max_size=3).map(tuple)),
                               max_size=3).map(tuple), text)
evidence = st.builds(Evidence, text, st.floats(-1, 1, allow_nan=False), text)
suggestions = st.builds(Suggestion, text, st.none() | text, st.floats(0, 1, allow_nan=False),
                        st.integers(1, 5), text, st.lists(evidence, max_size=2).map(tuple))
codings = st.builds(Coding, text, small, small, text, text)
decisions = st.builds(Decision, text, st.none() | text,
                      st.sampled_from(["accept", "reject", "relabel", "retract"]), text, text,
                      text)


@given(st.one_of(sources, segments, codebooks, suggestions, codings, decisions))
def test_model_json_round_trip_is_lossless(record) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(record.to_dict(), ensure_ascii=False))
    assert type(record).from_dict(data) == record


def test_model_rejects_unknown_fields() -> None:
    data = Coding("s", 0, 1, "c", "A").to_dict() | {"colour": "red"}
    try:
        Coding.from_dict(data)
    except ValueError as exc:
        assert "colour" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown field accepted")


def test_model_stable_ids_depend_only_on_their_parts() -> None:
    assert stable_id("a", 1) == stable_id("a", 1)
    assert stable_id("a", 1) != stable_id("a", 2)
    assert stable_id("a", "1b") != stable_id("a1", "b")  # parts are separated
