"""Codebook loading and validation, and the reference codebook."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.codebook import codebook_to_yaml, load_codebook, parse_codebook
from pipeline.config import REFERENCE_CODEBOOK
from pipeline.errors import CodebookError
from pipeline.records import Code, Codebook, Theme

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


# --- editions: the same codebook in other languages ------------------------------------------

_BOOK = """name: Mine
version: "1"
language: {language}
{editions}
themes:
  - id: t1
    name: Theme one
    codes:
      - id: a
        name: A
        definition: the a code
  - id: t2
    name: Theme two
    codes:
      - id: b
        name: B
        definition: the b code
"""


def _write(path, language="en", editions="", swap=False):  # type: ignore[no-untyped-def]
    text = _BOOK.format(language=language, editions=editions)
    if swap:  # code a moved to theme two
        text = text.replace("      - id: a", "      - id: x").replace("      - id: b",
                                                                      "      - id: a")
        text = text.replace("      - id: x", "      - id: b")
    path.write_text(text, encoding="utf-8")
    return path


def test_codebook_reference_has_its_chinese_edition() -> None:
    book = load_codebook(REFERENCE_CODEBOOK)
    (chinese,) = book.editions
    assert book.language == "en" and chinese.language == "zh-TW"
    assert {c.id: t.id for t, c in chinese.codes()} == {c.id: t.id for t, c in book.codes()}
    assert parse_codebook(codebook_to_yaml(book)) == book  # written inline, read back whole
    assert Codebook.from_dict(book.to_dict()) == book


def test_codebook_edition_errors_name_the_edition_and_what_differs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "mine.zh.yaml", language="zh", swap=True)
    _write(tmp_path / "mine.yaml", editions="editions: [mine.zh.yaml]")
    with pytest.raises(CodebookError, match=r"'mine\.zh\.yaml' does not have the same codes in "
                                            r"the same themes.*a \(theme t1\)") as caught:
        load_codebook(tmp_path / "mine.yaml")
    assert caught.value.line == 4
    _write(tmp_path / "mine.yaml", editions="editions: [gone.yaml]")
    with pytest.raises(CodebookError, match=r"'gone\.yaml' is not a file"):
        load_codebook(tmp_path / "mine.yaml")
    (tmp_path / "folder").mkdir()
    _write(tmp_path / "mine.yaml", editions="editions: [folder]")
    with pytest.raises(CodebookError, match="is not a file"):
        load_codebook(tmp_path / "mine.yaml")
    _write(tmp_path / "mine.yaml", editions="editions: [mine.yaml]")
    with pytest.raises(CodebookError, match="cannot be its own edition"):
        load_codebook(tmp_path / "mine.yaml")
    _write(tmp_path / "other.yaml", language="en-GB")
    _write(tmp_path / "mine.yaml", editions="editions: [other.yaml]")
    with pytest.raises(CodebookError, match="the language of this codebook"):
        load_codebook(tmp_path / "mine.yaml")
    _write(tmp_path / "mine.yaml", language="english")
    with pytest.raises(CodebookError, match="must be a language code"):
        load_codebook(tmp_path / "mine.yaml")
    _write(tmp_path / "mine.zh.yaml", language="zh")
    _write(tmp_path / "mine.yaml", editions="editions: [mine.zh.yaml]")
    assert [e.language for e in load_codebook(tmp_path / "mine.yaml").editions] == ["zh"]
    assert load_codebook(tmp_path / "mine.yaml", editions=False).editions == ()
