"""Codebook loading and validation, and the reference codebook."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.codebook import codebook_to_yaml, load_codebook, parse_codebook
from pipeline.config import REFERENCE_CODEBOOK
from pipeline.errors import CodebookError
from pipeline.model import Code, Codebook, Theme

REFERENCE_IDS = {
    "recovery": ["coexisting_with_illness", "rights_and_responsibility", "maintaining_hope",
                 "non_linear_recovery", "individual_recovery_paths", "recovery_for_all"],
    "peer_support_types": ["supportive_peer", "staff_assistant", "life_assistant",
                           "mental_health_workforce"],
    "peer_support_workers": ["attitudes_toward_pmi", "career_support_system",
                             "organizational_professional_support", "self_awareness_pmi"],
}


def test_codebook_reference_has_the_study_structure() -> None:
    book = load_codebook(REFERENCE_CODEBOOK)
    assert {t.id: [c.id for c in t.codes] for t in book.themes} == REFERENCE_IDS
    for _, code in book.codes():
        assert len(code.examples) >= 8, code.id
        assert code.definition and code.include and code.exclude


def test_codebook_reference_cross_references_confusable_codes() -> None:
    book = load_codebook(REFERENCE_CODEBOOK)
    codes = {c.id: c for _, c in book.codes()}
    for a, b in [("rights_and_responsibility", "self_awareness_pmi"),
                 ("supportive_peer", "life_assistant"),
                 ("attitudes_toward_pmi", "self_awareness_pmi"),
                 ("maintaining_hope", "coexisting_with_illness")]:
        assert any(b in note for note in codes[a].exclude), (a, b)
        assert any(a in note for note in codes[b].exclude), (b, a)


GOOD = """\
name: Mini
version: 2
themes:
  - id: t1
    name: Theme one
    codes:
      - id: c1
        name: Code one
        definition: The first code.
        examples: ["an example"]
"""


@pytest.mark.parametrize(("text", "line", "message"), [
    (GOOD.replace("      - id: c1", "      - id: t1"), 7, "duplicate id 't1'"),
    (GOOD.replace("    name: Theme one", "    name: Theme one\n    colour: red"), 6,
     "unknown key 'colour'"),
    (GOOD.replace("        definition: The first code.\n", ""), 7, "missing the required key"),
    (GOOD.replace('["an example"]', "[]"), 10, "empty list"),
    (GOOD.replace('["an example"]', '["  "]'), 10, "is empty"),
    (GOOD.replace("id: c1", "id: code one"), 7, "not a valid id"),
    (GOOD.replace("themes:", "themes: ["), None, "not valid YAML"),
])
def test_codebook_errors_name_the_key_and_line(text: str, line: int | None, message: str) -> None:
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, "book.yaml")
    assert message in str(info.value)
    if line is not None:
        assert f"book.yaml, line {line}" in str(info.value)


def test_codebook_version_may_be_a_number() -> None:
    assert parse_codebook(GOOD).version == "2"


_ids = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                max_size=30).filter(lambda s: s.strip() == s and s)


@given(st.lists(_ids, min_size=2, max_size=6, unique=True), _text, st.lists(_text, max_size=3))
def test_codebook_yaml_round_trip(ids: list[str], text: str, examples: list[str]) -> None:
    codes = tuple(Code(i, text, text, examples=tuple(examples)) for i in ids[1:])
    book = Codebook("n", "1", (Theme(ids[0], text, "", codes),), description="")
    assert parse_codebook(codebook_to_yaml(book)) == book
