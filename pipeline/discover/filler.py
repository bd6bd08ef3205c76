"""Small talk and filler: segments that should not become themes, and why each was left out.

Interviews open and close with greetings, sound checks and thanks, and drift into lunch, the
weather and the traffic. None of that is a theme, but it is exactly what a codebook does not
cover, so without a filter it would fill the candidates. Two tests, both cheap:

- **Too short**: fewer than `min_words` words ("Yes, that's fine.", "聽得到，聽得到。").
  CJK characters count as half a word each, since a Chinese word is one to three characters.
- **Sounds like small talk**: the segment is closer to a list of small-talk phrases
  (`discover.filler_phrases`: greetings, "can you hear me", thanks, apologies, food, weather,
  traffic, goodbyes) than to anything in the codebook, by `filler_margin` or more. Each side's
  similarity is the mean over its `top` nearest texts, as the zero-shot suggester scores codes,
  so the test is relative and works the same with any embedder.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.language import word_count

SHORT = "short"
SMALL_TALK = "small talk"


def nearest_mean(vectors: np.ndarray, anchors: np.ndarray, top: int) -> np.ndarray:
    """Per row of `vectors`: the mean cosine similarity to its `top` nearest anchors."""
    if not len(anchors):
        return np.full(len(vectors), -1.0)
    sims = vectors @ anchors.T
    top = max(1, min(top, sims.shape[1]))
    return np.sort(sims, axis=1)[:, -top:].mean(axis=1)


def filler_reasons(texts: Sequence[str], vectors: np.ndarray, filler_vectors: np.ndarray,
                   codebook_vectors: np.ndarray, min_words: float, margin: float,
                   top: int = 3) -> list[str | None]:
    """Why each segment is filler (`SHORT`, `SMALL_TALK`), or None when it is kept.

    `vectors`, `filler_vectors` and `codebook_vectors` are unit-length embeddings of the
    segments' own texts, the small-talk phrases and the codebook's texts.
    """
    small_talk = nearest_mean(vectors, filler_vectors, top)
    topical = nearest_mean(vectors, codebook_vectors, top)
    out: list[str | None] = []
    for i, text in enumerate(texts):
        if word_count(text) < min_words:
            out.append(SHORT)
        elif len(filler_vectors) and small_talk[i] - topical[i] >= margin:
            out.append(SMALL_TALK)
        else:
            out.append(None)
    return out
