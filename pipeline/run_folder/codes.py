"""Which codes each segment of a run carries, as the report counts them and discovery reads them.

The rule, stated once (`RULE`): a segment with at least one review decision carries exactly
the codes confirmed for it (accept or relabel, after folding the log with
`pipeline.run_folder.decisions.fold_decisions`; across coders, the latest decision on a
segment and code counts); every other segment carries the codes `suggestions.jsonl` lists
for it (those that reached the run's threshold). This is the rule `precode evaluate
--against decisions` uses for reviewed segments, so the report and the evaluation count the
same codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.records import Decision, Segment
from pipeline.run_folder.decisions import CONFIRMING, fold_decisions
from pipeline.run_folder.suggestions import SuggestionLine

RULE = ("a segment that was reviewed carries the codes confirmed for it in review (accept or "
        "relabel, the latest decision counting); every other segment carries the codes "
        "suggested for it at the run's threshold")


@dataclass
class RunCodes:
    """Codes per segment id (every segment present, possibly empty) and where they came from."""

    codes: dict[str, set[str]]
    scores: dict[tuple[str, str], float]  # (segment id, code) -> suggestion score, if suggested
    reviewed: set[str]  # segments with at least one decision still counting
    confirmed: set[tuple[str, str]]  # (segment id, code) confirmed in review
    rejected: set[tuple[str, str]]  # (segment id, code) rejected in review
    warnings: list[str] = field(default_factory=list)

    def uncoded(self) -> list[str]:
        return [seg_id for seg_id, codes in self.codes.items() if not codes]


def run_codes(segments: Iterable[Segment], suggestions: Iterable[SuggestionLine],
              decisions: Iterable[Decision], known_codes: Iterable[str]) -> RunCodes:
    """Apply `RULE` to a run's segments, suggestions and review log.

    Each is read once, so all may be streamed (`RunFolder.iter_segments`, `iter_suggestions`):
    only the segment ids and the codes and scores they carry are kept.

    Lines naming a segment the run does not have, or a code outside `known_codes`, are left
    out with a warning (the report still renders; `precode evaluate` is the strict reader).
    """
    known = set(known_codes)
    codes: dict[str, set[str]] = {s.id: set() for s in segments}
    scores: dict[tuple[str, str], float] = {}
    stray_segments = stray_codes = 0
    for line in suggestions:
        if line.segment_id not in codes:
            stray_segments += 1
            continue
        if line.code is None:
            continue
        if line.code not in known:
            stray_codes += 1
            continue
        codes[line.segment_id].add(line.code)
        scores[(line.segment_id, line.code)] = line.score
    latest: dict[tuple[str, str | None], Decision] = {}
    stray_decisions = 0
    for d in fold_decisions(decisions):  # log order: a later decision wins
        if d.segment_id not in codes or (d.code_id is not None and d.code_id not in known):
            stray_decisions += 1
            continue
        latest[(d.segment_id, d.code_id)] = d
    reviewed = {seg_id for seg_id, _ in latest}
    confirmed = {(s, c) for (s, c), d in latest.items() if d.verdict in CONFIRMING and c}
    rejected = {(s, c) for (s, c), d in latest.items() if d.verdict == "reject" and c}
    for seg_id in reviewed:
        codes[seg_id] = set()
    for seg_id, code in confirmed:
        codes[seg_id].add(code)
    warnings = []
    if stray_segments:
        warnings.append(f"{stray_segments} suggestion line(s) name segments that segments.jsonl "
                        "lacks (the suggestions are older than the segments); left out")
    if stray_codes:
        warnings.append(f"{stray_codes} suggestion line(s) name codes that the run's codebook "
                        "lacks; left out")
    if stray_decisions:
        warnings.append(f"{stray_decisions} review decision(s) name segments or codes this run "
                        "does not have; left out")
    return RunCodes(codes, scores, reviewed, confirmed, rejected, warnings)
