"""Scores for every segment and code of a finished run, recomputed with the run's own settings.

The suggestions file keeps only the codes that reached the threshold; evaluation (ranking
figures, threshold sweep) and discovery need every score. They come from here, so both
recompute exactly as the suggest stage scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.embed import make_embedder
from pipeline.records import Codebook, Segment, Source
from pipeline.suggest.head import load_head
from pipeline.suggest.scorer import score_segments


def rescore(manifest: dict[str, Any], sources: Sequence[Source], segments: Sequence[Segment],
            codebook: Codebook) -> tuple[np.ndarray, list[str], str]:
    """(scores, code ids, method) for every segment and code of the run `manifest` describes.

    The whole run is scored (as the suggest stage did), so an embedder fitted on the corpus
    sees the same texts; embeddings come from the disk cache.
    """
    config = manifest["config"]
    embedder = make_embedder(config["embed"])
    model = manifest["stages"].get("suggest", {}).get("model")
    head = load_head(model, embedder, codebook) if model else None
    scored = score_segments(segments, sources, codebook, embedder, config["suggest"], head)
    return scored.proba, list(scored.code_ids), scored.method
