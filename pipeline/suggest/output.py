"""Suggestions as files: `suggestions.jsonl` (the contract) and `suggestions.csv` (spreadsheets).

`suggestions.jsonl` has one line per suggested (segment, code) with fields exactly
`source, segment_id, start, end, speaker, role, text, code, score, rank, method, evidence`;
a segment whose best code does not reach the threshold gets one line with `code: null`, its
best score and that code's evidence. `suggestions.csv` has one row per segment: the codes that
reached the threshold (`suggested`), then the top three codes and scores whatever the
threshold, for reading in a spreadsheet (UTF-8 with a BOM, so Excel shows Chinese text).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.model import Evidence, Segment, Source, Suggestion

# A cell starting with one of these is a formula to Excel and LibreOffice: a transcript line
# "=HYPERLINK(...)" must stay text. A leading apostrophe makes it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A spreadsheet cell that is never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


FIELDS = ("source", "segment_id", "start", "end", "speaker", "role", "text", "code", "score",
          "rank", "method", "evidence")


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


def suggestion_rows(items: Sequence[Suggestion], segments: Sequence[Segment],
                    sources: Sequence[Source]) -> Iterator[dict[str, object]]:
    """The jsonl contract: one flat record per suggestion, with the segment's context."""
    by_id = {s.id: s for s in segments}
    names = {s.id: s.name for s in sources}
    for item in items:
        seg = by_id[item.segment_id]
        yield {
            "source": names[seg.source_id],
            "segment_id": seg.id,
            "start": seg.start,
            "end": seg.end,
            "speaker": seg.speaker,
            "role": seg.role,
            "text": seg.text,
            "code": item.code_id,
            "score": item.score,
            "rank": item.rank,
            "method": item.method,
            "evidence": [e.to_dict() for e in item.evidence],
        }


def write_csv(fh, scored: Scored, sources: Sequence[Source], top_k: int = 3,
              threshold: float = 0.0) -> int:
    write_csv_header(fh, top_k)
    return write_csv_rows(fh, scored, sources, top_k, threshold)


def write_csv_header(fh, top_k: int = 3) -> None:
    fh.write("\ufeff")
    header = ["source", "segment_id", "speaker", "text", "suggested"]
    for r in range(1, top_k + 1):
        header += [f"code_{r}", f"score_{r}"]
    csv.writer(fh).writerow(header)


def write_csv_rows(fh, scored: Scored, sources: Sequence[Source], top_k: int = 3,
                   threshold: float = 0.0) -> int:
    names = {s.id: s.name for s in sources}
    writer = csv.writer(fh)
    for i, order in enumerate(ranked(scored, top_k)):
        seg = scored.segments[i]
        passing = [scored.code_ids[j] for j in order if scored.proba[i, j] >= threshold]
        row: list[object] = [safe_cell(names[seg.source_id]), safe_cell(seg.id),
                             safe_cell(seg.speaker), safe_cell(seg.text), "; ".join(passing)]
        for j in order:
            row += [scored.code_ids[j], f"{scored.proba[i, j]:.3f}"]
        writer.writerow(row)
    return len(scored.segments)
