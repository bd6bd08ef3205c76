"""Query vectors: a segment seen with its turn and the interviewer's question as context.

A single sentence is often too short to code ("It goes up and down."), so each segment is
embedded with the text of its whole turn and the question it answers, and the three vectors
are blended: `normalize(segment + turn_weight * turn + question_weight * question)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.embed.base import Embedder, normalize_rows
from pipeline.records import Segment, Source


@dataclass(frozen=True)
class ContextTexts:
    segment: list[str]
    turn: list[str]
    question: list[str]


def context_texts(segments: Sequence[Segment], sources: Sequence[Source],
                  mode: str = "turn") -> ContextTexts:
    """The texts to embed for each segment: itself, its context, the preceding question.

    `sources` need only hold the segments' own sources (a streamed run passes no others).
    """
    by_id = {s.id: s for s in sources}
    turns, questions = [], []
    for seg in segments:
        source = by_id[seg.source_id]
        turn = source.turns[seg.turn_index]
        if mode == "turn":
            turns.append(turn.text_of(source.text))
        else:
            turns.append("")
        question = ""
        for k in range(seg.turn_index - 1, -1, -1):
            prev = source.turns[k]
            if prev.role == "interviewer":
                question = prev.text_of(source.text)
                break
            if k < seg.turn_index - 3:
                break
        questions.append(question)
    return ContextTexts([s.text for s in segments], turns, questions)


def query_vectors(texts: ContextTexts, embedder: Embedder, turn_weight: float,
                  question_weight: float) -> np.ndarray:
    """Blend segment, turn and question vectors (empty context texts contribute nothing)."""
    vectors = embedder.encode(texts.segment)
    if turn_weight:
        vectors = vectors + turn_weight * _encode_nonempty(texts.turn, embedder, vectors.shape[1])
    if question_weight:
        vectors = vectors + question_weight * _encode_nonempty(texts.question, embedder,
                                                               vectors.shape[1])
    return normalize_rows(vectors)


def _encode_nonempty(texts: list[str], embedder: Embedder, dim: int) -> np.ndarray:
    out = np.zeros((len(texts), dim), dtype=np.float32)
    idx = [i for i, t in enumerate(texts) if t.strip()]
    if idx:
        # Many segments share a turn or a question: encode each distinct text once.
        distinct = sorted({texts[i] for i in idx})
        row = {t: k for k, t in enumerate(distinct)}
        encoded = embedder.encode(distinct)
        out[idx] = encoded[[row[texts[i]] for i in idx]]
    return out
