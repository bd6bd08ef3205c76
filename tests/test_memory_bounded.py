"""Bounded memory: discovery embeds and scores only what it clusters and describes, and
rescoring holds one chunk of vectors at a time, whatever the size of the run."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pipeline.discover.discovery as discovery
from pipeline.config import load_config
from pipeline.discover import discover
from pipeline.records import Segment
from pipeline.run_folder import RunFolder
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.stages import run_pipeline
from pipeline.suggest.rescore import rescore
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def hashed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's plain-text transcripts (about 1,400 segments, quick to read) suggested
    with hashed n-grams (4,096 dimensions: 16 KB a vector), prototypes only (no classifier to
    fit: quick)."""
    tmp = tmp_path_factory.mktemp("memory")
    config = load_config(overrides=["embed.backend=hashed-ngrams", "suggest.classifier_weight=0",
                                    f"embed.cache_dir={tmp / 'cache'}"])
    run_pipeline(sorted(SAMPLE.glob("p*.txt")), tmp / "run", config)
    return tmp / "run"


class _OnePass:
    """Segments that can be iterated once only: a second pass (or a list of them all held
    for later) would be a second read of the run."""

    def __init__(self, segments: Iterator[Segment]) -> None:
        self.segments, self.used = segments, False

    def __iter__(self) -> Iterator[Segment]:
        assert not self.used, "the segments were iterated twice"
        self.used = True
        return self.segments


def test_memory_bounded_rescore_holds_one_chunk_of_vectors(hashed_run: Path) -> None:
    folder = RunFolder(hashed_run)
    manifest, book = folder.manifest(), resolve_codebook(folder)[1]
    n = 600  # their vectors alone: 600 x 4,096 float32 = 9.8 MB, twice that in float64
    with folder.source_index() as index:
        rescore(manifest, index, [], book)  # the suggester's one-off fit, outside the count
        tracemalloc.start()
        try:
            segments = _OnePass(itertools.islice(folder.iter_segments(), n))
            proba, codes, _ = rescore(manifest, index, segments, book, chunk=64)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert proba.shape == (n, len(codes))
    assert peak < 8 * 2**20, f"rescoring {n} segments peaked at {peak / 2**20:.0f} MB"


def test_memory_bounded_discover_embeds_and_scores_only_what_it_clusters(
        hashed_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded: list[int] = []
    scored: list[int] = []
    real_vectors, real_rescore = discovery.segment_vectors, discovery.rescore

    def vectors_spy(segments: list[Segment], *args: Any) -> np.ndarray:
        embedded.append(len(segments))
        return real_vectors(segments, *args)

    def rescore_spy(manifest: dict[str, Any], sources: Any, segments: list[Segment],
                    *args: Any) -> tuple[np.ndarray, list[str], str]:
        scored.append(len(segments))
        return real_rescore(manifest, sources, segments, *args)

    monkeypatch.setattr(discovery, "segment_vectors", vectors_spy)
    monkeypatch.setattr(discovery, "rescore", rescore_spy)
    result = discover(hashed_run)
    counts = result.counts
    assert counts["clustered"] < counts["segments"]
    assert sum(embedded) == counts["clustered"]  # not every segment of the run
    assert max(embedded) <= discovery.CHUNK
    assert sum(scored) == counts["in_candidates"]
