"""Which segments a review session shows, and in what order.

Orders:

- `uncertain` (default): the segments whose decision the model is least sure of first, measured
  as the distance of the score nearest to the suggestion threshold (`uncertainty`). A score at
  the threshold is the suggester's own coin toss (suggest the code or not), so a decision
  there teaches the head the most. The margin between the two best scores was measured too
  (`benchmarks/active_learning.py --margin --rotate`): with calibrated one-vs-rest scores a
  segment no code fits has all scores near 0 and so a tiny margin, margin sampling spends the
  reviewer's time confirming "nothing here", and it did worse over the first 100 decisions
  and no better on held-out transcripts.
- `document`: reading order (sources as ingested, then position in the text).
- `random`: a fixed shuffle from `seed`, so a session resumed with the same seed continues the
  same sequence.

Filters (`ReviewFilter`) keep segments by source, by a code among their best three, and by the
best score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import ConfigError
from pipeline.records import Codebook, Segment, Source

ORDERS = ("uncertain", "document", "random")
SHOWN = 3  # suggestions shown per segment (keys 1-3)


def uncertainty(proba: np.ndarray, threshold: float) -> np.ndarray:
    """Per segment: how far its score nearest to the threshold is from it (small: unsure)."""
    if proba.size == 0:
        return np.zeros(len(proba))
    return np.abs(proba - threshold).min(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """Per segment: best score minus second best (the alternative measure, for benchmarks)."""
    if proba.shape[1] < 2:
        return np.ones(len(proba))
    top = np.sort(proba, axis=1)
    return top[:, -1] - top[:, -2]


def order_rows(rows: Sequence[int], order: str, proba: np.ndarray, threshold: float,
               segments: Sequence[Segment], seed: int = 0) -> list[int]:
    """`rows` (indexes into `segments` and `proba`) in review order."""
    rows = list(rows)
    if order == "uncertain":
        u = uncertainty(proba[rows], threshold)
        return [rows[i] for i in np.argsort(u, kind="stable")]
    if order == "document":
        return sorted(rows)  # segments.jsonl is in reading order
    if order == "random":
        # Shuffle every segment, not only `rows`, so the sequence does not depend on what
        # is already reviewed: a resumed session continues where it stopped.
        rank = np.empty(len(segments), dtype=np.int64)
        rank[np.random.default_rng(seed).permutation(len(segments))] = np.arange(len(segments))
        return sorted(rows, key=lambda r: rank[r])
    raise ConfigError(f"unknown order {order!r}", hint=f"use one of: {', '.join(ORDERS)}")


@dataclass(frozen=True)
class ReviewFilter:
    """Which segments to review; empty fields keep everything."""

    sources: tuple[str, ...] = ()  # names or ids
    codes: tuple[str, ...] = ()  # a code among the segment's best SHOWN
    min_score: float | None = None  # the segment's best score
    max_score: float | None = None

    def rows(self, segments: Sequence[Segment], sources: Sequence[Source], proba: np.ndarray,
             code_ids: Sequence[str], codebook: Codebook) -> list[int]:
        keep = np.ones(len(segments), dtype=bool)
        if self.sources:
            wanted = set()
            for name in self.sources:
                match = {s.id for s in sources if name in (s.id, s.name)}
                if not match:
                    raise ConfigError(f"--source {name!r} is not a source of this run",
                                      hint="sources: " + ", ".join(s.name for s in sources[:9]))
                wanted |= match
            keep &= np.array([s.source_id in wanted for s in segments], dtype=bool)
        if self.codes:
            known = codebook.code_ids()
            for code in self.codes:
                if code not in known:
                    raise ConfigError(f"--code {code!r} is not a code of the codebook",
                                      hint="use a code id (precode codebook show FILE)")
            columns = [list(code_ids).index(c) for c in self.codes]
            best = np.argsort(-proba, axis=1, kind="stable")[:, :SHOWN]
            keep &= np.isin(best, columns).any(axis=1)
        top = proba.max(axis=1) if proba.size else np.zeros(len(segments))
        if self.min_score is not None:
            keep &= top >= self.min_score
        if self.max_score is not None:
            keep &= top <= self.max_score
        return [int(i) for i in np.flatnonzero(keep)]
