"""The shipped sample corpus and its gold codings are consistent with what precode reads."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from pipeline import ingest
from pipeline.codebook import load_codebook
from pipeline.config import REFERENCE_CODEBOOK
from pipeline.gold import read_gold_csv


def test_sample_gold_codings_match_the_ingested_text(sample_dir: Path) -> None:
    sources = ingest.read_all([sample_dir])
    book = load_codebook(REFERENCE_CODEBOOK)
    gold = read_gold_csv(sample_dir / "gold" / "codings.csv", sources, book)
    assert gold.coders == ["A", "B"] and not gold.warnings
    by_id = {s.id: s for s in sources}
    for coding in gold.codings:
        source = by_id[coding.source_id]
        # Every coded span lies inside one participant turn.
        assert any(t.role == "participant" and t.start <= coding.start and coding.end <= t.end
                   for t in source.turns)
    used = Counter(c.code_id for c in gold.codings if c.coder == "A")
    assert set(used) == set(book.code_ids())  # all 14 codes are present
    assert {c.source_id for c in gold.codings} == {s.id for s in sources}


def test_sample_coders_disagree_sometimes(sample_dir: Path) -> None:
    with (sample_dir / "gold" / "codings.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def matched(coder: str, other: str) -> float:
        """Share of one coder's spans that the other coded with the same code, overlapping."""
        mine = [r for r in rows if r["coder"] == coder]
        theirs = [r for r in rows if r["coder"] == other]
        hits = sum(any(o["source"] == r["source"] and o["code"] == r["code"]
                       and int(o["start"]) < int(r["end"]) and int(r["start"]) < int(o["end"])
                       for o in theirs) for r in mine)
        return hits / len(mine)

    assert 0.6 < matched("A", "B") < 0.95
    assert 0.6 < matched("B", "A") < 0.95
    exact = {(r["source"], r["start"], r["end"]) for r in rows if r["coder"] == "A"} & \
        {(r["source"], r["start"], r["end"]) for r in rows if r["coder"] == "B"}
    assert exact  # many boundaries agree exactly, some do not


def _held_out_prefixes() -> tuple[str, ...]:
    """The held-out prefixes of every language (p03, p06, p08 in English; p11, p13 in Chinese)."""
    from benchmarks.quality import HELD_OUT

    return tuple(prefix for prefixes in HELD_OUT.values() for prefix in prefixes)


def test_sample_readme_names_the_held_out_transcripts(sample_dir: Path) -> None:
    held_out = _held_out_prefixes()
    assert {"p03", "p06", "p08", "p11", "p13"} <= set(held_out)
    readme = (sample_dir / "README.md").read_text(encoding="utf-8")
    assert "held out" in readme
    for prefix in held_out:
        assert any(p.name.startswith(prefix) for p in sample_dir.iterdir())
        assert prefix in readme


def test_sample_examples_are_not_drawn_from_held_out_transcripts(sample_dir: Path) -> None:
    """No codebook example (either edition) shares a run of 8 words, or of 7 Chinese
    characters, with a held-out transcript: quality figures would flatter the suggester."""
    book = load_codebook(REFERENCE_CODEBOOK)
    assert book.editions  # the Chinese edition is checked too
    held_out = _held_out_prefixes()
    held = [s.text for s in ingest.read_all([sample_dir]) if s.name.startswith(held_out)]
    for edition in (book, *book.editions):
        for _, code in edition.codes():
            for example in code.examples:
                words = example.split()
                probes = {" ".join(words[i:i + 8]) for i in range(0, max(1, len(words) - 7), 4)}
                for han in re.findall(r"[\u3400-\u9fff]{7,}", example):
                    probes |= {han[i:i + 7] for i in range(len(han) - 6)}
                assert not any(p in text for p in probes for text in held), example
