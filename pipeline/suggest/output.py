"""From scores to suggestions: the top codes per segment, cut at the threshold.

A segment whose best code does not reach the threshold gets one `Suggestion` with no code, its
best score and that code's evidence, so a reader sees how close it came. The files they go to
are `pipeline.run_folder.suggestions`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.records import Evidence, Segment, Suggestion


@dataclass(frozen=True)
class Scored:
    """Everything a stage needs to write suggestions: scores plus evidence per (segment, code)."""

    segments: Sequence[Segment]
    code_ids: Sequence[str]
    proba: np.ndarray  # (n_segments, n_codes)
    evidence: dict[tuple[int, int], list[Evidence]]
    method: str


def ranked(scored: Scored, top_k: int) -> list[list[int]]:
    """Code indexes per segment, best first, at most top_k."""
    order = np.argsort(-scored.proba, axis=1, kind="stable")[:, :top_k]
    return [list(map(int, row)) for row in order]


def suggestions(scored: Scored, top_k: int, threshold: float) -> Iterator[Suggestion]:
    for i, order in enumerate(ranked(scored, top_k)):
        seg = scored.segments[i]
        passing = [j for j in order if scored.proba[i, j] >= threshold]
        if not passing:
            best = order[0]
            yield Suggestion(seg.id, None, round(float(scored.proba[i, best]), 4), 1,
                             scored.method, tuple(scored.evidence.get((i, best), ())))
            continue
        for rank, j in enumerate(passing, 1):
            yield Suggestion(seg.id, scored.code_ids[j], round(float(scored.proba[i, j]), 4),
                             rank, scored.method, tuple(scored.evidence.get((i, j), ())))


def top_codes(scored: Scored, top_k: int) -> list[list[tuple[str, float]]]:
    """Per segment, its top codes with their scores whatever the threshold (for the sheet)."""
    return [[(scored.code_ids[j], float(scored.proba[i, j])) for j in order]
            for i, order in enumerate(ranked(scored, top_k))]
