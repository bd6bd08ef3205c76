"""Scores for segments and codes of a finished run, recomputed with the run's own settings.

The suggestions file keeps only the codes that reached the threshold; evaluation (ranking
figures, threshold sweep) and discovery need every score. They come from here, so both
recompute exactly as the suggest stage scored: segments are scored `RESCORE_CHUNK` at a time,
each chunk with only the sources it needs, so memory holds one chunk's vectors whatever the
size of the run, and no evidence is computed (only scores are wanted).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from pipeline.embed import make_embedder
from pipeline.records import Codebook, Segment, Source
from pipeline.suggest.head import load_head
from pipeline.suggest.scorer import Scorer, segment_vectors

RESCORE_CHUNK = 2048  # segments scored at a time, as the suggest stage does (SUGGEST_CHUNK)


class SourceLookup(Protocol):
    """Anything that gives a source by id: `RunFolder.source_index()` reads one at a time."""

    def get(self, source_id: str) -> Source: ...


class _Sources:
    """A list of sources as a `SourceLookup` (for callers that hold them all anyway)."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self._by_id = {s.id: s for s in sources}

    def get(self, source_id: str) -> Source:
        return self._by_id[source_id]


def sources_for(segments: Sequence[Segment], lookup: SourceLookup) -> list[Source]:
    """The sources a batch of segments needs (for their turns and questions), each once, in
    order of first use: a chunk is scored with these only."""
    needed: dict[str, Source] = {}
    for seg in segments:
        if seg.source_id not in needed:
            needed[seg.source_id] = lookup.get(seg.source_id)
    return list(needed.values())


def rescore(manifest: dict[str, Any], sources: Sequence[Source] | SourceLookup,
            segments: Iterable[Segment], codebook: Codebook,
            chunk: int = RESCORE_CHUNK) -> tuple[np.ndarray, list[str], str]:
    """(scores, code ids, method) for `segments` (rows, in order) and every code, as the run
    `manifest` describes its suggester. A segment's scores do not depend on the others
    (the suggest stage scores in chunks too), so any subset can be scored; embeddings come from
    the disk cache. `sources` is a list or a lookup such as `RunFolder.source_index()`.
    """
    config = manifest["config"]
    embedder = make_embedder(config["embed"])
    model = manifest["stages"].get("suggest", {}).get("model")
    head = load_head(model, embedder, codebook) if model else None
    scorer = Scorer(codebook, embedder, config["suggest"], head)
    lookup = _Sources(sources) if isinstance(sources, Sequence) else sources
    parts = []
    iterator = iter(segments)
    while batch := list(itertools.islice(iterator, chunk)):
        vectors = segment_vectors(batch, sources_for(batch, lookup), embedder,
                                  config["suggest"])
        parts.append(scorer.predict(vectors))
    proba = np.concatenate(parts) if parts else np.zeros((0, len(scorer.code_ids)))
    return proba, list(scorer.code_ids), scorer.method
