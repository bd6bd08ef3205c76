"""A review session: what to show next, and what each key does to the decision log.

`load_review(run)` scores every segment of a run the way its suggest stage did (the codebook,
the settings and the trained model it used; embeddings come from the disk cache) and keeps
the context vectors for refits. `ReviewSession` holds one coder's state: the queue of
segments they have not decided on, the segment being shown, an undo history, and the
refitter. It does no input or output, so the terminal loop, the benchmark and the tests
drive the same object.

One *step* decides one segment: the suggestions shown (the best three codes) each get a
verdict, `accept` for those the coder chose and `reject` for the others, and codes chosen
from the codebook that were not shown get `relabel`. Every decision of a step is in the log
before the next segment is shown. Undo retracts the whole step of the coder's most recently
decided segment (appending `retract` lines) and shows that segment again; it works across
sessions, since the undo history is read from the log.

Coders are blind to each other by default: the queue, the suggestions and the refits use
only the session coder's decisions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Config
from pipeline.embed import make_embedder
from pipeline.errors import ConfigError, RunFolderError
from pipeline.records import Code, Codebook, Decision, Evidence, Segment, Source
from pipeline.review.order import SHOWN, ReviewFilter, order_rows
from pipeline.review.trainer import PRIOR, Refit, Refitter, blend_weight
from pipeline.run_folder import RunFolder
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.run_folder.decisions import CONFIRMING, LOG_NAME, DecisionLog, fold_decisions, now
from pipeline.suggest import Scored, load_head, score_segments, segment_vectors
from pipeline.suggest.training import Examples, codebook_examples


@dataclass
class ReviewData:
    """A run, scored: everything a session needs that does not depend on the coder."""

    run: RunFolder
    config: Config
    codebook: Codebook
    sources: list[Source]
    segments: list[Segment]
    scored: Scored  # the starting scores: zero-shot, or the head the run was suggested with
    vectors: np.ndarray  # context vectors of every segment, for refits
    examples: Examples  # the codebook's examples, for refits
    head: str | None = None  # the trained head's folder, if the run used one

    @property
    def threshold(self) -> float:
        return float(self.config["suggest"]["threshold"])


def load_review(run_path: str | Path, config: Config | None = None,
                codebook: str | Path | None = None, head: str | Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> ReviewData:
    """Score a run's segments for review, with the run's settings unless `config` is given."""
    run = RunFolder(run_path)
    manifest = run.manifest()
    config = config or manifest["config"]
    _, book = resolve_codebook(run, codebook)
    sources, segments = run.sources(), run.segments()
    if not segments:
        raise RunFolderError("the run has no segments to review", path=run.path,
                             hint="ingest transcripts with participant turns, then "
                                  f"`precode segment {run.path}`")
    if head is None:  # the manifest records it under "model"
        head = manifest["stages"].get("suggest", {}).get("model")
    embedder = make_embedder(config["embed"], progress=progress)
    saved = load_head(head, embedder, book) if head else None
    scored = score_segments(segments, sources, book, embedder, config["suggest"], saved)
    vectors = segment_vectors(segments, sources, embedder, config["suggest"])
    examples = codebook_examples(book, embedder)
    return ReviewData(run, config, book, sources, segments, scored, vectors, examples,
                      str(head) if head else None)


@dataclass(frozen=True)
class Shown:
    """One suggestion as shown: its key (1-3), code, score and evidence."""

    key: int
    code: Code
    theme: str
    score: float
    evidence: tuple[Evidence, ...]


@dataclass
class Step:
    """What one key press did (for the screen): the segment and the decisions appended."""

    row: int
    decisions: list[Decision] = field(default_factory=list)


class ReviewSession:
    """One coder's review of a run (see the module docstring)."""

    def __init__(self, data: ReviewData, coder: str, *, order: str = "uncertain",
                 seed: int = 0, where: ReviewFilter | None = None, retrain_every: int = 0,
                 blind: bool = True, prior: float = PRIOR,
                 clock: Callable[[], str] = now) -> None:
        coder = coder.strip()
        if not coder:
            raise ConfigError("the coder name is empty", hint="name yourself: --coder NAME")
        if retrain_every < 0:
            raise ConfigError(f"--retrain-every {retrain_every} is negative",
                              hint="give a number of decisions, e.g. 25 (0: never refit)")
        self.data = data
        self.coder = coder
        self.order = order
        self.seed = seed
        self.retrain_every = retrain_every
        self.blind = blind
        self.prior = prior
        self.clock = clock
        self.log = DecisionLog(data.run.file(LOG_NAME))
        self.row_of = {s.id: i for i, s in enumerate(data.segments)}
        self.code_by_id = {c.id: (t, c) for t, c in data.codebook.codes()}
        self.code_ids = list(data.scored.code_ids)
        self.start_proba = data.scored.proba
        self.proba = self.start_proba
        self.method = data.scored.method
        self.refit: Refit | None = None
        self.refits: list[Refit] = []
        self.messages: list[str] = []
        self.skipped: set[int] = set()
        self.notes: dict[int, str] = {}
        self.steps = 0  # segments decided in this session
        self.appended = 0  # decision lines appended in this session
        self.undone = 0  # undo steps in this session
        self._since_refit = 0
        self.mine: dict[int, set[str]] = {}  # row -> confirmed codes, this coder's reviews
        self.history: list[int] = []  # rows this coder decided, oldest first (for undo)
        self.others: dict[int, list[Decision]] = {}
        self._read_log()
        self.rows = (where or ReviewFilter()).rows(data.segments, data.sources, self.proba,
                                                   self.code_ids, data.codebook)
        self.in_filter = set(self.rows)
        self.queue = self._ordered([r for r in self.rows if r not in self.mine])
        self.refitter = Refitter(data.vectors, data.segments, self.code_ids, data.examples) \
            if retrain_every else None
        if self.refitter is not None and len(self.mine) >= retrain_every:
            self.refitter.start(self.mine)  # resume with what this coder taught it before

    # -- reading the log ---------------------------------------------------------------------
    def reload(self, decisions: Sequence[Decision] | None = None) -> None:
        """Take in decisions another process or browser tab appended since the log was read."""
        self.mine, self.history, self.others = {}, [], {}
        self._read_log(decisions)
        self.queue = self._ordered([r for r in self.rows if r not in self.mine])

    def _read_log(self, decisions: Sequence[Decision] | None = None) -> None:
        if decisions is None:
            decisions = self.log.read(self.data.segments, self.data.codebook)
        last: dict[int, int] = {}
        for index, d in enumerate(fold_decisions(decisions)):
            row = self.row_of[d.segment_id]
            if d.coder == self.coder:
                codes = self.mine.setdefault(row, set())
                if d.verdict in CONFIRMING and d.code_id:
                    codes.add(d.code_id)
                last[row] = index
            elif not self.blind:
                self.others.setdefault(row, []).append(d)
        self.history = sorted(last, key=lambda r: last[r])

    def _ordered(self, rows: Sequence[int]) -> list[int]:
        return order_rows(rows, self.order, self.proba, self.data.threshold,
                          self.data.segments, self.seed)

    # -- what to show ------------------------------------------------------------------------
    def current(self) -> int | None:
        """The segment to show now (after taking in a finished refit), or None when done."""
        self._take_refit()
        for row in self.queue:
            if row not in self.skipped:
                return row
        return None

    def segment(self, row: int) -> Segment:
        return self.data.segments[row]

    def source(self, row: int) -> Source:
        wanted = self.data.segments[row].source_id
        return next(s for s in self.data.sources if s.id == wanted)

    def shown(self, row: int) -> list[Shown]:
        """The best SHOWN codes for a segment, with scores and evidence."""
        scores = self.proba[row]
        order = np.argsort(-scores, kind="stable")[:SHOWN]
        out = []
        for key, j in enumerate(order, 1):
            theme, code = self.code_by_id[self.code_ids[j]]
            out.append(Shown(key, code, theme.name, float(scores[j]),
                             tuple(self._evidence(row, int(j)))))
        return out

    def _evidence(self, row: int, j: int) -> list[Evidence]:
        if self.refit is not None:
            return self.refit.evidence(self.data.vectors[[row]], j)[0]
        return list(self.data.scored.evidence.get((row, j), ()))

    def others_on(self, row: int) -> list[Decision]:
        """Other coders' decisions on a segment (empty when blind)."""
        return self.others.get(row, [])

    @property
    def done(self) -> int:
        """Segments of this session's selection the coder has decided on (ever)."""
        return sum(1 for r in self.mine if r in self.in_filter)

    @property
    def left(self) -> int:
        return len(self.queue)

    # -- keys --------------------------------------------------------------------------------
    def decide(self, row: int, accept: Sequence[int] = (), codes: Sequence[str] = (),
               reject_all: bool = False) -> Step:
        """Accept suggestions by key, add codes from the codebook, or reject all shown."""
        shown = self.shown(row)
        keys = {s.key: s.code.id for s in shown}
        bad = [k for k in accept if k not in keys]
        if bad:
            raise ConfigError(f"there is no suggestion {bad[0]}",
                              hint=f"choose from 1 to {len(shown)}")
        unknown = [c for c in codes if c not in self.code_by_id]
        if unknown:
            raise ConfigError(f"{unknown[0]!r} is not a code of the codebook",
                              hint="search the codebook with c")
        chosen = list(dict.fromkeys([keys[k] for k in accept] + list(codes)))
        if reject_all and chosen:
            raise ConfigError("reject all cannot be combined with accepting codes",
                              hint="r says the segment has none of the codes shown")
        if not reject_all and not chosen:
            raise ConfigError("nothing to decide", hint="accept 1-3, r to reject all, or c")
        segment_id = self.data.segments[row].id
        note = self.notes.pop(row, "")
        stamp = self.clock()
        shown_ids = [s.code.id for s in shown]
        decisions = [Decision(segment_id, c, "accept" if c in shown_ids else "relabel",
                              self.coder, stamp, note) for c in chosen]
        decisions += [Decision(segment_id, c, "reject", self.coder, stamp, note)
                      for c in shown_ids if c not in chosen]
        self.appended += self.log.append(decisions)
        self.mine[row] = set(chosen)
        if row in self.history:
            self.history.remove(row)
        self.history.append(row)
        if row in self.queue:
            self.queue.remove(row)
        self.skipped.discard(row)
        self.steps += 1
        self._since_refit += 1
        self._maybe_refit()
        return Step(row, decisions)

    def note(self, row: int, text: str) -> None:
        """Keep a note for the segment; it goes into the log with its decisions."""
        text = " ".join(text.split())
        if text:
            self.notes[row] = text
        else:
            self.notes.pop(row, None)

    def skip(self, row: int) -> None:
        """Not now: the segment comes back in the next session (nothing is logged)."""
        self.skipped.add(row)

    def undo(self) -> Step | None:
        """Retract the coder's most recently decided segment and show it again."""
        if not self.history:
            return None
        row = self.history.pop()
        retractions = self.log.retract(self.data.segments[row].id, self.coder, self.clock())
        self.appended += len(retractions)
        self.mine.pop(row, None)
        self.skipped.discard(row)
        if row in self.queue:
            self.queue.remove(row)
        self.queue.insert(0, row)
        self.undone += 1
        return Step(row, retractions)

    def search(self, query: str, limit: int = 12) -> list[tuple[str, Code]]:
        """Codes whose id or name holds every word of the query (an exact id first); only if
        none does, codes whose definition, include notes or theme do. As (theme, code)."""
        q = _norm(query)
        if not q:
            return []
        words = q.split()
        exact, named, defined = [], [], []
        for theme, code in self.data.codebook.codes():
            if _norm(code.id) == q:
                exact.append((theme.name, code))
            elif all(w in _norm(f"{code.id} {code.name}") for w in words):
                named.append((theme.name, code))
            elif all(w in _norm(" ".join((theme.name, code.definition, *code.include)))
                     for w in words):
                defined.append((theme.name, code))
        return (exact + named or defined)[:limit]

    # -- refits ------------------------------------------------------------------------------
    def _maybe_refit(self) -> None:
        if self.refitter is None or self._since_refit < self.retrain_every:
            return
        if self.refitter.start(self.mine):
            self._since_refit = 0

    def refit_now(self) -> Refit | None:
        """Refit on this coder's decisions and use it at once (benchmarks, tests)."""
        if not self.mine:
            return None
        refitter = self.refitter or Refitter(self.data.vectors, self.data.segments,
                                             self.code_ids, self.data.examples)
        refitter.wait()
        refitter.poll()  # drop a background result: this one is newer
        self._use(refitter.fit(self.mine))
        return self.refit

    def _take_refit(self) -> None:
        if self.refitter is None:
            return
        try:
            result = self.refitter.poll()
        except Exception as exc:  # a failed refit keeps the current scores
            self.messages.append(f"The refit failed ({exc}); the suggestions stay as they were.")
            return
        if result is not None:
            self._use(result)
            w = blend_weight(result.reviewed, self.prior)
            self.messages.append(
                f"Refitted on {result.reviewed} reviewed segments in {result.seconds:.2f} s "
                f"(weight {w:.2f} against the starting scores); suggestions "
                f"{'and order ' if self.order == 'uncertain' else ''}updated.")

    def _use(self, result: Refit) -> None:
        w = blend_weight(result.reviewed, self.prior)
        self.refit = result
        self.refits.append(result)
        self.proba = w * result.proba + (1 - w) * self.start_proba
        self.method = f"{self.data.scored.method} + refit on {result.reviewed} decisions"
        if self.order == "uncertain":
            self.queue = self._ordered(self.queue)

    def close(self, timeout: float = 0.0) -> None:
        if self.refitter is not None:
            self.refitter.wait(timeout)

    def summary(self) -> dict[str, Any]:
        return {"coder": self.coder, "segments_decided": self.steps, "undone": self.undone,
                "decisions_appended": self.appended, "reviewed": len(self.mine),
                "done": self.done, "left": self.left, "skipped": len(self.skipped),
                "log": str(self.log.path),
                "refits": [{"reviewed": r.reviewed, "seconds": round(r.seconds, 3)}
                           for r in self.refits]}


def _norm(text: str) -> str:
    """Lower case, punctuation and underscores as spaces: `Peer_support` ~ `peer support`."""
    return " ".join(re.split(r"[\W_]+", text.lower())).strip()
