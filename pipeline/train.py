"""`precode train`: fit a supervised head on a run's coded segments and the codebook.

Coded segments come from gold files, from review decisions, or both:

- Gold codings: every segment of a source that has at least one gold coding (a source nobody
  coded would teach the head that every segment in it has no code), labelled by the alignment
  rule of `pipeline.align`.
- Review decisions (`RUN/decisions.jsonl`): every segment a reviewer decided on, labelled with
  the codes they confirmed (accept or relabel); the other codes count as absent
  (`pipeline.run_folder.decisions`). Segments nobody reviewed are left out: they are unknown, not
  code-free. Each reviewer's view of a segment is one training row.

Codebook examples are always added as positives, so a code nobody has used yet still has a
model. Fitting itself (`pipeline.suggest.training`) is shared with the refit that
`precode review --retrain-every` runs in the background.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.align import DEFAULT_MIN_SHARE, segment_codes
from pipeline.config import Config
from pipeline.embed import make_embedder
from pipeline.errors import ConfigError, GoldCodingError, InputNotFoundError, RunFolderError
from pipeline.gold import read_gold
from pipeline.records import Codebook, Coding, Decision, Segment
from pipeline.run_folder import RunFolder
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.run_folder.decisions import DecisionLog, reviewed_codes
from pipeline.suggest import TrainedHead, segment_vectors
from pipeline.suggest.head import head_info
from pipeline.suggest.training import (
    codebook_examples,
    cv_quality,
    label_matrix,
    saved_head,
)


@dataclass
class TrainResult:
    path: Path
    quality: dict[str, Any]
    training: dict[str, Any]
    seconds: float


def read_decision_file(path: str | Path, segments: Sequence[Segment],
                       book: Codebook) -> list[Decision]:
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such decisions file", path=path,
                                 hint="review the run first (`precode review RUN --coder NAME`) "
                                      "and give its RUN/decisions.jsonl")
    return DecisionLog(path).read(segments, book)


def gold_rows(segments: Sequence[Segment], codings: Sequence[Coding],
              min_share: float = DEFAULT_MIN_SHARE) -> list[tuple[Segment, set[str]]]:
    """(segment, codes) for every segment of a source with at least one gold coding."""
    coded_sources = {c.source_id for c in codings}
    used = [s for s in segments if s.source_id in coded_sources]
    labels = segment_codes(used, codings, min_share)
    return [(s, labels[s.id]) for s in used]


def decision_rows(segments: Sequence[Segment], decisions: Sequence[Decision],
                  reviewers: Sequence[str] | None = None) -> list[tuple[Segment, set[str]]]:
    """(segment, confirmed codes) for every (reviewer, segment they reviewed)."""
    by_id = {s.id: s for s in segments}
    return [(by_id[segment_id], codes)
            for (_, segment_id), codes in reviewed_codes(decisions, reviewers).items()
            if segment_id in by_id]


def train(run_path: str | Path, gold: str | Path | Sequence[Coding] | None, out: str | Path,
          coders: Sequence[str] | None = None, config: Config | None = None,
          codebook: str | Path | None = None, C: float = 1.0,
          min_share: float = DEFAULT_MIN_SHARE,
          decisions: str | Path | Sequence[Decision] | None = None,
          reviewers: Sequence[str] | None = None,
          exclude_sources: Sequence[str] = ()) -> TrainResult:
    """Fit and save a head on gold codings (`gold`), review decisions (`decisions`: a
    decisions.jsonl or Decision records), or both; `reviewers` keeps those reviewers only.

    `exclude_sources` (source names, or prefixes of them) are held out of training, so the
    model can be evaluated on them fairly.
    """
    started = time.perf_counter()
    if gold is None and decisions is None:
        raise ConfigError("nothing to train on",
                          hint="give gold codings (--gold FILE), review decisions "
                               "(--decisions RUN/decisions.jsonl), or both")
    run = RunFolder(run_path)
    manifest = run.manifest()
    config = config or manifest["config"]
    _, book = resolve_codebook(run, codebook)
    sources, segments = run.sources(), run.segments()
    codings: list[Coding] | None = None
    if isinstance(gold, (str, Path)):
        codings = read_gold(gold, sources, book, coders).codings
    elif gold is not None:
        codings = [c for c in gold if coders is None or c.coder in coders]
    if codings is not None and not codings:
        raise GoldCodingError("no gold codings to train on",
                              hint="give a gold file with codings for this run's sources")
    logged: list[Decision] | None = None
    if isinstance(decisions, (str, Path)):
        logged = read_decision_file(decisions, segments, book)
    elif decisions is not None:
        logged = list(decisions)
    if logged is not None:
        _check_reviewers(logged, reviewers, decisions)
    rows = gold_rows(segments, codings, min_share) if codings else []
    reviewed = decision_rows(segments, logged, reviewers) if logged is not None else []
    rows += reviewed
    if exclude_sources:
        held = {s.id for s in sources if s.id.startswith(tuple(exclude_sources))}
        unknown = [p for p in exclude_sources if not any(s.startswith(p) for s in held)]
        if unknown:
            raise ConfigError(f"--exclude-source {', '.join(unknown)} matches no source",
                              hint="give source names (or their beginnings) as in "
                                   "sources.jsonl")
        rows = [(seg, codes) for seg, codes in rows if seg.source_id not in held]
    if logged is not None and not reviewed:
        raise RunFolderError("the decisions review no segment of this run",
                             path=decisions if isinstance(decisions, (str, Path)) else None,
                             hint="review some segments first (`precode review RUN --coder "
                                  "NAME`), or check --reviewer")
    code_ids = book.code_ids()
    settings = config["suggest"]
    embedder = make_embedder(config["embed"])
    used = list({seg.id: seg for seg, _ in rows}.values())
    vectors = segment_vectors(used, sources, embedder, settings)
    row_of = {seg.id: i for i, seg in enumerate(used)}
    X = vectors[[row_of[seg.id] for seg, _ in rows]]
    Y = label_matrix([codes for _, codes in rows], code_ids)
    examples = codebook_examples(book, embedder)
    head = TrainedHead(C=C).fit(X, Y, code_ids, groups=[seg.source_id for seg, _ in rows],
                                extra_X=examples.vectors, extra_Y=examples.labels)
    quality = cv_quality(head.oof_proba_, head.oof_truth_)
    training = {
        "run": str(run.path),
        "gold": None if gold is None else str(gold) if isinstance(gold, (str, Path))
        else "codings",
        "coders": sorted({c.coder for c in codings or ()}),
        "decisions": None if decisions is None else str(decisions)
        if isinstance(decisions, (str, Path)) else "decisions",
        "reviewers": sorted({d.coder for d in logged or ()
                             if reviewers is None or d.coder in reviewers}),
        "reviewed_segments": len(reviewed),
        "sources": sorted({seg.source_id for seg, _ in rows}),
        "excluded_sources": list(exclude_sources),
        "segments": len(rows),
        "coded_segments": int(Y.any(axis=1).sum()),
        "codebook_examples": len(examples.texts),
        "alignment_min_share": min_share,
    }
    out = Path(out)
    info = head_info(out.name, embedder.fingerprint, code_ids, {"C": C},
                     {k: settings[k] for k in ("context", "turn_weight", "question_weight")},
                     quality, training)
    saved_head(head, info, X, rows, examples).save(out)
    return TrainResult(out, quality, training, time.perf_counter() - started)


def _check_reviewers(decisions: Sequence[Decision], reviewers: Sequence[str] | None,
                     path: object) -> None:
    present = sorted({d.coder for d in decisions})
    missing = [r for r in reviewers or () if r not in present]
    if missing:
        raise RunFolderError(f"no decisions by {', '.join(map(repr, missing))}",
                             path=path if isinstance(path, (str, Path)) else None,
                             hint=f"reviewers in the log: {', '.join(present) or 'none'}")
