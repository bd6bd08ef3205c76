"""Round trip: a run exported to .qdpx and imported again gives back the same sources, codes
and codings (turns are detected again from the text, as `precode ingest` would)."""

from __future__ import annotations

import functools
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.codebook import codebook_to_yaml, load_codebook, parse_codebook
from pipeline.export import export_run
from pipeline.qdpx.export import SUGGESTIONS_USER
from pipeline.records import Code, Codebook, Coding, Source, Theme
from pipeline.run_folder import RunFolder
from pipeline.stages import import_qdpx
from tests.test_qdpx_support import REFI, jsonl, make_run, suggestion

# Text a person could type: letters (Latin, CJK, accents), digits, punctuation, spaces.
_CHARS = st.characters(categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\ufeff")
LINE = st.text(_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
IDS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def codebooks(draw: st.DrawFn) -> Codebook:
    ids = draw(st.lists(IDS, min_size=2, max_size=7, unique=True))
    n_themes = draw(st.integers(1, len(ids) - 1))
    themes = []
    for t in range(n_themes):
        code_ids = ids[n_themes:][t::n_themes] or [f"{ids[t]}_c"]
        codes = tuple(Code(cid, draw(LINE), draw(PARAGRAPH),
                           include=tuple(draw(st.lists(PARAGRAPH, max_size=2))),
                           exclude=tuple(draw(st.lists(LINE, max_size=2))),
                           examples=tuple(draw(st.lists(PARAGRAPH, max_size=3))))
                      for cid in code_ids)
        themes.append(Theme(ids[t], draw(LINE), draw(st.one_of(st.just(""), PARAGRAPH)), codes))
    book = Codebook(draw(LINE), draw(LINE), tuple(themes), draw(st.one_of(st.just(""),
                                                                          PARAGRAPH)))
    return parse_codebook(codebook_to_yaml(book))  # what a run's codebook.yaml gives


@st.composite
def texts(draw: st.DrawFn) -> str:
    raw = draw(st.text(st.one_of(_CHARS, st.sampled_from("\n\t :")), min_size=0, max_size=120))
    return unicodedata.normalize("NFC", raw).lstrip("\ufeff")


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    codebook = draw(codebooks())
    names = draw(st.lists(st.from_regex(r"[a-z0-9_]{1,8}\.txt", fullmatch=True), min_size=1,
                          max_size=3, unique=True))
    keys = st.sampled_from(["profession", "years", "site", "組織"])
    values = st.one_of(st.sampled_from(["", "12", "012", "nurse", " spaced "]), LINE)
    speakers = st.dictionaries(LINE, st.dictionaries(keys, values, max_size=3), max_size=2)
    sources = []
    for name in names:
        metadata: dict[str, Any] = {}
        attributes = draw(st.dictionaries(keys, values, max_size=2))
        if attributes:
            metadata["attributes"] = attributes
        found = draw(speakers)
        if found:
            metadata["speakers"] = found
        sources.append(Source(name, name, draw(texts()), (), "en", metadata))
    code_ids = codebook.code_ids()
    codings, lines = [], []
    for source in sources:
        if len(source.text) < 1:
            continue
        for _ in range(draw(st.integers(0, 4))):
            start = draw(st.integers(0, len(source.text) - 1))
            end = draw(st.integers(start + 1, len(source.text)))
            code = draw(st.sampled_from(code_ids))
            if draw(st.booleans()):
                codings.append(Coding(source.id, start, end, code,
                                      draw(st.sampled_from(["A", "B", "Ann Lee", "林"]))))
            else:
                line = suggestion(source, source.text[start:end], code,
                                  draw(st.floats(0, 1)))
                lines.append({**line, "start": start, "end": end,
                              "segment_id": f"{source.id}:{start}-{end}"})
    return {"codebook": codebook, "sources": sources, "codings": codings, "suggestions": lines}


@functools.cache
def _schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(REFI / "Project.xsd"))


def _expected_codings(run: dict[str, Any]) -> set[Coding]:
    out = set(run["codings"])
    out |= {Coding(s["source"], s["start"], s["end"], s["code"], SUGGESTIONS_USER)
            for s in run["suggestions"]}
    return out


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(run=runs())
def test_qdpx_roundtrip_export_then_import_is_lossless(tmp_path_factory: Any,
                                                       run: dict[str, Any]) -> None:
    base: Path = tmp_path_factory.mktemp("rt")
    folder = make_run(base / "run", srcs=run["sources"], codebook=run["codebook"],
                      codings=run["codings"], suggestions=run["suggestions"])
    export_run(folder, base / "out.qdpx")
    _schema().validate(zipfile.ZipFile(base / "out.qdpx").read("project.qde"))
    import_qdpx(base / "out.qdpx", base / "back", segment=False)

    back = RunFolder(base / "back")
    got = back.sources()
    assert [(s.id, s.name, s.text) for s in got] == \
        [(s.id, s.name, s.text) for s in run["sources"]]
    for mine, theirs in zip(run["sources"], got, strict=True):
        for key in ("attributes", "speakers"):
            assert mine.metadata.get(key) == theirs.metadata.get(key), key
    assert load_codebook(base / "back" / "codebook.yaml") == run["codebook"]
    codings = {Coding(**row) for row in jsonl(base / "back" / "codings.jsonl")}
    assert codings == _expected_codings(run)
