"""Corpus scale: stages read the run folder a source or a chunk at a time, and resume.

The suggest stage scores chunks of segments with only the sources each chunk needs, read on
demand from an index of sources.jsonl; its files must be exactly those of scoring everything
at once. An interrupted suggest keeps nothing half-written, and its rerun encodes only what the
embedding cache does not hold yet.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.codebook import codebook_to_yaml, load_codebook
from pipeline.config import REFERENCE_CODEBOOK
from pipeline.embed import CachedEmbedder
from pipeline.embed.base import Embedder, normalize_rows
from pipeline.errors import RunFolderError
from pipeline.records import Segment, Source
from pipeline.run_folder import RunFolder
from pipeline.run_folder.suggestions import SuggestionWriter
from pipeline.stages import ingest_stage, segment_stage, suggest_stage
from pipeline.suggest import Scorer, suggestions, top_codes
from tests.conftest import SAMPLE

FILES = ("p01_nurse_day_ward.txt", "p05_case_manager_community_center.txt",
         "p09_nurse_rehab_center_zh.txt")


class HashEmbedder(Embedder):
    """Vectors from a hash of the text: deterministic, distinct, no model. Raises Ctrl-C
    (KeyboardInterrupt) instead of answering once `stop_after` calls are done."""

    def __init__(self, stop_after: int | None = None,
                 languages: frozenset[str] | None = None) -> None:
        self.stop_after = stop_after
        self.languages = languages
        self.calls = 0

    @property
    def fingerprint(self) -> str:
        return "hash:32"

    @property
    def dimension(self) -> int:
        return 32

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), np.uint8).astype(np.float32)
                - 127.5 for t in texts]
        return normalize_rows(np.stack(rows)) if rows else np.zeros((0, 32), np.float32)


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three sample transcripts (one in Chinese), ingested and segmented."""
    out = tmp_path_factory.mktemp("streaming") / "run"
    ingest_stage([SAMPLE / name for name in FILES], out)
    segment_stage(out)
    return out


@pytest.fixture
def run(segmented: Path, tmp_path: Path) -> RunFolder:
    shutil.copytree(segmented, tmp_path / "run")
    return RunFolder(tmp_path / "run")


def _all_at_once(run: RunFolder, config: dict) -> dict[str, bytes]:
    """suggestions.jsonl/.csv as the stage wrote them before it streamed: every source and
    segment in memory, scored in one pass."""
    sources, segments = run.sources(), run.segments()
    settings = config["suggest"]
    scorer = Scorer(load_codebook(REFERENCE_CODEBOOK), CachedEmbedder(HashEmbedder(), None),
                    settings)
    scored = scorer.score(segments, sources)
    items = list(suggestions(scored, settings["top_k"], settings["threshold"]))
    names = {s.id: s.name for s in sources}
    jsonl, sheet = io.StringIO(newline=""), io.StringIO(newline="")
    writer = SuggestionWriter(jsonl, sheet, settings["top_k"])
    for seg, top in zip(segments, top_codes(scored, settings["top_k"]), strict=True):
        writer.write(seg, names[seg.source_id], [s for s in items if s.segment_id == seg.id], top)
    return {"suggestions.jsonl": jsonl.getvalue().encode("utf-8"),
            "suggestions.csv": sheet.getvalue().encode("utf-8")}


def _outputs(run: RunFolder) -> dict[str, bytes]:
    return {n: run.file(n).read_bytes() for n in ("suggestions.jsonl", "suggestions.csv")}


def test_streaming_suggest_writes_what_scoring_all_at_once_writes(
        run: RunFolder, fast_config: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments in any order, chunks of 7, one source in memory at a time: same bytes."""
    segments = run.segments()
    random.Random(4).shuffle(segments)  # not grouped by source: the cache misses often
    run.write_jsonl("segments.jsonl", segments)
    expected = _all_at_once(run, fast_config)
    seen: list[tuple[set[str], set[str]]] = []
    score = Scorer.score

    def spy(self: Scorer, chunk: Sequence[Segment], sources: Sequence[Source]):  # type: ignore[no-untyped-def]
        seen.append(({s.source_id for s in chunk}, {s.id for s in sources}))
        return score(self, chunk, sources)

    monkeypatch.setattr(Scorer, "score", spy)
    monkeypatch.setattr("pipeline.stages.suggest.SUGGEST_CHUNK", 7)
    monkeypatch.setattr("pipeline.stages.suggest.SOURCE_CACHE", 1)
    result = suggest_stage(run.path, fast_config, embedder=HashEmbedder())
    assert _outputs(run) == expected
    assert result.counts["segments"] == len(segments)
    assert len(seen) == -(-len(segments) // 7)
    assert all(needed == given for needed, given in seen)  # only the sources a chunk needs


def test_streaming_interrupted_suggest_resumes_from_the_cache(
        run: RunFolder, tmp_path: Path, fast_config: dict) -> None:
    """Ctrl-C after some batches: nothing written; the rerun encodes only the rest and writes
    exactly what an uninterrupted run writes."""
    whole = RunFolder(tmp_path / "whole")
    shutil.copytree(run.path, whole.path)
    model = HashEmbedder()
    once = CachedEmbedder(model, tmp_path / "cache-whole", batch_size=8)
    needed = suggest_stage(whole.path, fast_config, embedder=once).counts["encoded"]
    assert model.calls > 4

    before = {p.name: p.read_bytes() for p in run.path.iterdir()}
    cache = tmp_path / "cache"
    first = CachedEmbedder(HashEmbedder(stop_after=model.calls // 2), cache, batch_size=8)
    with pytest.raises(KeyboardInterrupt):
        suggest_stage(run.path, fast_config, embedder=first)
    assert {p.name: p.read_bytes() for p in run.path.iterdir()} == before  # no half file
    assert 0 < first.encoded < needed

    rerun = suggest_stage(run.path, fast_config,
                          embedder=CachedEmbedder(HashEmbedder(), cache, batch_size=8))
    assert rerun.counts["encoded"] < needed
    assert first.encoded + rerun.counts["encoded"] == needed  # each text reached the model once
    assert json.loads(run.file("manifest.json").read_text())["stages"]["suggest"]["encoded"] \
        == rerun.counts["encoded"]
    assert _outputs(run) == _outputs(whole)


def test_streaming_language_warnings_come_from_the_index(run: RunFolder,
                                                         fast_config: dict) -> None:
    result = suggest_stage(run.path, fast_config,
                           embedder=HashEmbedder(languages=frozenset({"en"})))
    language, calibration = result.warnings
    assert language == (
        "1 source(s) are in zh (p09_nurse_rehab_center_zh.txt), which the embedding model was "
        "not trained on (it knows: en); their suggestions are unreliable. Use the multilingual "
        "default (embed.model=multilingual-e5-small), or embed.backend=hashed-ngrams with a "
        "codebook in that language.")
    assert calibration.startswith("no zero-shot calibration was fitted for this embedding model")


def test_streaming_codebook_in_another_language_than_the_corpus_is_a_warning(
        run: RunFolder, fast_config: dict) -> None:
    """A multilingual model and a codebook without a Chinese edition: Chinese sources are
    coded across languages, and the warning says so and how to do better."""
    english_only = replace(load_codebook(REFERENCE_CODEBOOK), editions=())
    run.write_text("codebook.yaml", codebook_to_yaml(english_only))
    result = suggest_stage(run.path, fast_config, embedder=HashEmbedder())  # "multilingual"
    (warning,) = [w for w in result.warnings if w.startswith("1 source(s) are in zh")]
    assert warning.startswith("1 source(s) are in zh (p09_nurse_rehab_center_zh.txt), but the "
                              "codebook is written in en only: the multilingual model matches")
    assert "`editions` key" in warning
    (warning,) = suggest_stage(run.path, fast_config, force=True).warnings  # hashed-ngrams
    assert "hashed-ngrams matches words, not meaning" in warning
    run.write_text("codebook.yaml", codebook_to_yaml(load_codebook(REFERENCE_CODEBOOK)))
    assert suggest_stage(run.path, fast_config).warnings == []  # with its Chinese edition


def test_streaming_a_segment_of_an_unknown_source_is_a_clean_error(run: RunFolder,
                                                                   fast_config: dict) -> None:
    segments = run.segments()
    stray = Segment("gone.txt:0-5", "gone.txt", 0, 5, "Hello", "P", "participant", 0)
    run.write_jsonl("segments.jsonl", [*segments, stray])
    with pytest.raises(RunFolderError, match=r"belongs to source 'gone\.txt'"):
        suggest_stage(run.path, fast_config, embedder=HashEmbedder())
    assert not run.file("suggestions.jsonl").exists()
    assert not [p for p in run.path.iterdir() if p.name.endswith(".tmp")]


def test_streaming_run_folder_readers_agree(run: RunFolder) -> None:
    sources = run.sources()
    assert list(run.iter_sources()) == sources
    assert list(run.iter_segments()) == run.segments()
    with run.source_index(cache_size=1) as index:
        assert len(index) == len(sources)
        assert [index.names[s.id] for s in sources] == [s.name for s in sources]
        for source in [*reversed(sources), *sources]:
            assert index.get(source.id) == source
        assert "nope" not in index


@pytest.mark.parametrize("line", ['{"id": "x"', '[1, 2]', '{"id": "x", "bogus": 1}'])
def test_streaming_readers_report_a_bad_line_like_read_jsonl(run: RunFolder, line: str) -> None:
    path = run.file("sources.jsonl")
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(RunFolderError) as expected:
        run.sources()
    for read in (lambda: list(run.iter_sources()), run.source_index):
        with pytest.raises(RunFolderError) as info:
            read()
        assert info.value.render() == expected.value.render()
        assert info.value.line == len(FILES) + 1
    run.file("segments.jsonl").unlink()
    with pytest.raises(RunFolderError, match=r"segments\.jsonl is missing"):
        run.iter_segments()  # at once, not at the first line


def test_streaming_progress_counts_segments_of_the_whole_run(
        run: RunFolder, fast_config: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """One bar for the whole run, in segments: it never goes back and ends at the total."""
    monkeypatch.setattr("pipeline.stages.suggest.SUGGEST_CHUNK", 7)
    calls: list[tuple[int, int]] = []
    total = len(run.segments())
    suggest_stage(run.path, fast_config, embedder=HashEmbedder(),
                  progress=lambda done, of: calls.append((done, of)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total
    assert {of for _, of in calls} == {total}
    assert len(set(done)) > total // 7  # moves within chunks, not only between them
