"""The two sides of an evaluation, read from a run folder and checked line by line.

- A gold coder: their spans, aligned to segments with `pipeline.align` (the one rule).
- Suggestions: the codes `suggestions.jsonl` lists per segment (those that reached the run's
  threshold), as segment spans for the span-level figures, plus full scores recomputed with
  the run's own settings for the ranking figures and the threshold sweep.
- Decisions: the review log folded as the exporters fold it (a retract cancels the coder's
  latest earlier decision on the same segment and code; the latest decision left counts);
  accept and relabel say "this segment has this code".
- Reviewers as coders: a run's `decisions.jsonl` given as `--gold` is read as a gold file
  whose coders are the reviewers (`ReviewGold`), so `--gold RUN/decisions.jsonl --coder A
  --against coder:B` compares two reviewers. Only the segments both decided on are compared:
  a segment one of them never saw is unknown, not uncoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.align import segment_codes
from pipeline.errors import ConfigError, GoldCodingError, RunFolderError
from pipeline.evaluate.figures import Side
from pipeline.gold import GoldSet, read_gold
from pipeline.records import Codebook, Coding, Decision, Segment, Source
from pipeline.run_folder.decisions import (
    CONFIRMING,
    LOG_NAME,
    DecisionLog,
    fold_decisions,
    is_decision_log,
    reviewed_codes,
)
from pipeline.run_folder.folder import RunFolder
from pipeline.run_folder.suggestions import iter_suggestions


@dataclass(frozen=True)
class Against:
    """What the reference is compared with: `suggestions`, `decisions[:CODER]`, `coder:NAME`."""

    kind: str  # "suggestions" | "decisions" | "coder"
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> Against:
        kind, _, name = text.strip().partition(":")
        if kind == "suggestions" and not name:
            return cls("suggestions")
        if kind == "decisions":
            return cls("decisions", name or None)
        if kind == "coder" and name:
            return cls("coder", name)
        raise ConfigError(f"--against {text!r} is not something to compare with",
                          hint="use suggestions, decisions, decisions:REVIEWER or coder:NAME "
                               "(a second coder in the gold file)")

    def label(self) -> str:
        if self.kind == "coder":
            return f"coder {self.name}"
        if self.kind == "decisions" and self.name:
            return f"decisions by {self.name}"
        return self.kind


def check_coder(gold: GoldSet, coder: str, path: str | Path, option: str) -> None:
    if coder not in gold.coders:
        raise GoldCodingError(f"no codings by coder {coder!r} ({option})", path=path,
                              hint=f"coders in this file: {', '.join(gold.coders) or 'none'}")


def coder_side(name: str, codings: Sequence[Coding], segments: Sequence[Segment],
               min_share: float) -> Side:
    return Side(name, segment_codes(segments, codings, min_share), list(codings))


def unaligned(codings: Sequence[Coding], segments: Sequence[Segment],
              min_share: float) -> list[Coding]:
    """The spans that give their code to no segment under the alignment rule."""
    by_source: dict[str, list[Segment]] = {}
    for seg in segments:
        by_source.setdefault(seg.source_id, []).append(seg)
    return [c for c in codings
            if not any(segment_codes(by_source.get(c.source_id, []), [c], min_share).values())]


def segment_spans(labels: Mapping[str, set[str]], segments: Sequence[Segment],
                  who: str) -> list[Coding]:
    """A segment-level side as spans: each code given to a segment covers the segment."""
    return [Coding(s.source_id, s.start, s.end, code, who)
            for s in segments for code in sorted(labels.get(s.id, ()))]


def suggestion_side(run: RunFolder, segments: Sequence[Segment], codebook: Codebook) -> Side:
    """Codes per segment from `suggestions.jsonl` (null lines give none), every line checked."""
    labels: dict[str, set[str]] = {}
    for item in iter_suggestions(run, segments, codebook, required=True):
        codes = labels.setdefault(item.segment_id, set())
        if item.code is not None:
            codes.add(item.code)
    return Side("suggestions", labels, [])


def read_decisions(run: RunFolder, segments: Sequence[Segment],
                   codebook: Codebook) -> list[Decision]:
    """`decisions.jsonl` in log order, every line checked against the run and the codebook."""
    path = run.file(LOG_NAME)
    if not path.exists():
        raise RunFolderError(
            "decisions.jsonl is missing: nobody has reviewed this run's suggestions yet",
            path=run.path, hint="review the suggestions first, or evaluate --against suggestions")
    return DecisionLog(path).read(segments, codebook)


def decision_side(decisions: Sequence[Decision], reviewer: str | None, path: str | Path) -> Side:
    """Codes per segment after folding the log; a reviewed segment is a key of `labels`."""
    reviewers = sorted({d.coder for d in decisions})
    if reviewer is not None and reviewer not in reviewers:
        raise RunFolderError(f"no decisions by {reviewer!r}", path=path,
                             hint=f"reviewers in decisions.jsonl: {', '.join(reviewers) or 'none'}")
    kept = [d for d in decisions if reviewer is None or d.coder == reviewer]
    latest: dict[tuple[str, str | None], Decision] = {}
    for d in fold_decisions(kept):  # log order, so a later reviewer's verdict wins
        latest[(d.segment_id, d.code_id)] = d
    labels: dict[str, set[str]] = {}
    for (segment_id, code), d in latest.items():
        codes = labels.setdefault(segment_id, set())
        if d.verdict in CONFIRMING and code is not None:
            codes.add(code)
    name = f"decisions by {reviewer}" if reviewer else "decisions"
    return Side(name, labels, [])


@dataclass
class ReviewGold(GoldSet):
    """Review decisions as gold codings: each reviewer is a coder, each code they confirmed a
    span over its segment; `reviewed` holds the segments each reviewer decided on."""

    reviewed: dict[str, set[str]] = field(default_factory=dict)

    @property
    def coders(self) -> list[str]:
        return sorted(self.reviewed)

    def within(self, segments: Sequence[Segment]) -> ReviewGold:
        """The same reviewers, with only their codings and reviews of `segments`."""
        ids = {s.id for s in segments}
        spans = {(s.source_id, s.start, s.end) for s in segments}
        return ReviewGold([c for c in self.codings if (c.source_id, c.start, c.end) in spans],
                          list(self.warnings),
                          reviewed={c: r & ids for c, r in self.reviewed.items()})


def decisions_as_gold(path: str | Path, segments: Sequence[Segment],
                      codebook: Codebook) -> ReviewGold:
    """A review log read as a gold file whose coders are the reviewers."""
    by_id = {s.id: s for s in segments}
    decisions = DecisionLog(path).read(segments, codebook)
    reviewed: dict[str, set[str]] = {}
    codings = []
    for (coder, segment_id), codes in reviewed_codes(decisions).items():
        reviewed.setdefault(coder, set()).add(segment_id)
        seg = by_id[segment_id]
        codings += [Coding(seg.source_id, seg.start, seg.end, code, coder)
                    for code in sorted(codes)]
    return ReviewGold(codings, reviewed=reviewed)


def read_reference(path: str | Path, sources: Sequence[Source], segments: Sequence[Segment],
                   codebook: Codebook) -> GoldSet:
    """The gold side: a gold file, or a review log whose reviewers act as coders."""
    if is_decision_log(path):
        return decisions_as_gold(path, segments, codebook)
    return read_gold(path, sources, codebook)


def coded_sources(gold: GoldSet, segments: Sequence[Segment]) -> dict[str, set[str]]:
    """Coder -> the sources they coded (for reviewers: the sources of segments they decided on,
    whether or not they confirmed a code there)."""
    if isinstance(gold, ReviewGold):
        source_of = {s.id: s.source_id for s in segments}
        return {c: {source_of[x] for x in ids} for c, ids in gold.reviewed.items()}
    return {c: {x.source_id for x in gold.by_coder(c)} for c in gold.coders}


def reviewed_units(gold: GoldSet, names: Sequence[str | None],
                   segments: Sequence[Segment]) -> list[Segment]:
    """With reviewers as coders, the segments every named reviewer decided on."""
    if not isinstance(gold, ReviewGold):
        return list(segments)
    named = [n for n in names if n is not None and n in gold.reviewed]
    common = set.intersection(*(gold.reviewed[n] for n in named)) if named else set()
    kept = [s for s in segments if s.id in common]
    if not kept:
        raise RunFolderError(f"{' and '.join(named)} decided on no segment in common",
                             hint="compare reviewers who reviewed the same segments (e.g. both "
                                  "with --order document --source NAME)")
    return kept
