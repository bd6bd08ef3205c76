"""Which segments carry which gold code: the alignment rule, stated once.

A segment carries a coded span's code when the span covers at least `min_share` of the
segment's characters, or when the segment covers the whole span (a short coded phrase inside
a long segment). Evaluation, training and the benchmarks all use this one rule, and reports
print `describe_rule()` so a reader knows what was compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pipeline.records import Coding, Segment

DEFAULT_MIN_SHARE = 0.5


def describe_rule(min_share: float = DEFAULT_MIN_SHARE) -> str:
    return (f"a segment carries a coded span's code when the span covers at least "
            f"{min_share:.0%} of the segment, or the segment covers the whole span")


def segment_codes(segments: Iterable[Segment], codings: Iterable[Coding],
                  min_share: float = DEFAULT_MIN_SHARE) -> dict[str, set[str]]:
    """segment id -> the set of codes it carries (every segment present, possibly empty)."""
    by_source: dict[str, list[Coding]] = defaultdict(list)
    for coding in codings:
        by_source[coding.source_id].append(coding)
    out: dict[str, set[str]] = {}
    for seg in segments:
        codes: set[str] = set()
        length = seg.end - seg.start
        for c in by_source.get(seg.source_id, ()):
            overlap = min(seg.end, c.end) - max(seg.start, c.start)
            if overlap <= 0:
                continue
            if overlap >= min_share * length or (seg.start <= c.start and c.end <= seg.end):
                codes.add(c.code_id)
        out[seg.id] = codes
    return out
