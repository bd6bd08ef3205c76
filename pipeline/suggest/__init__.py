"""Suggest codes for segments: zero-shot from the codebook, or with a trained head.

`score_segments()` is the library entry point: segments in, a `Scored` (calibrated scores and
evidence per segment and code) out. `pipeline.stages.suggest_stage` writes it to a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pipeline.embed.base import Embedder
from pipeline.errors import CodebookError
from pipeline.model import Codebook, Evidence, Segment, Source
from pipeline.suggest.context import context_texts, query_vectors
from pipeline.suggest.head import SavedHead, TrainedHead
from pipeline.suggest.output import Scored, ranked, suggestion_rows, suggestions
from pipeline.suggest.prototype import PrototypeSuggester

__all__ = ["PrototypeSuggester", "SavedHead", "Scored", "TrainedHead", "ranked",
           "score_segments", "segment_vectors", "suggestion_rows", "suggestions"]


def segment_vectors(segments: Sequence[Segment], sources: Sequence[Source], embedder: Embedder,
                    settings: dict[str, Any]) -> np.ndarray:
    """Context-blended query vectors for segments, per the `suggest` config section."""
    mode = settings["context"]
    if mode not in ("turn", "none"):
        raise CodebookError(f"unknown suggest.context {mode!r}", hint="use turn or none")
    texts = context_texts(segments, sources, mode)
    turn_weight = settings["turn_weight"] if mode == "turn" else 0.0
    return query_vectors(texts, embedder, turn_weight, settings["question_weight"])


def score_segments(segments: Sequence[Segment], sources: Sequence[Source], codebook: Codebook,
                   embedder: Embedder, settings: dict[str, Any],
                   head: SavedHead | None = None) -> Scored:
    """Calibrated scores and evidence for every segment and code."""
    if head is None:
        zero_shot = PrototypeSuggester(embedder, top_examples=settings["top_examples"],
                                       exclude_weight=settings["exclude_weight"],
                                       classifier_weight=settings["classifier_weight"],
                                       calibration=settings["calibration"])
        zero_shot.fit(codebook)
    vectors = segment_vectors(segments, sources, embedder, settings) if segments else \
        np.zeros((0, 1), dtype=np.float32)
    explain: Callable[[np.ndarray, int, Sequence[str]], list[list[Evidence]]]
    if head is None:
        code_ids, method, explain = zero_shot.code_ids_, zero_shot.method, zero_shot.evidence
        proba = zero_shot.predict_proba(vectors) if len(segments) else \
            np.zeros((0, len(code_ids)))
    else:
        proba = head.head.predict_proba(vectors)
        code_ids, method, explain = head.code_ids, head.method, head.evidence
    evidence: dict[tuple[int, int], list[Evidence]] = {}
    top_k = settings["top_k"]
    order = np.argsort(-proba, axis=1, kind="stable")[:, :top_k]
    for j in range(len(code_ids)):
        rows = np.flatnonzero((order == j).any(axis=1)).tolist()
        if rows:
            own = [segments[i].source_id for i in rows]
            for i, items in zip(rows, explain(vectors[rows], j, own), strict=True):
                evidence[(i, j)] = items
    return Scored(list(segments), list(code_ids), proba, evidence, method)
