"""What the browser review serves: one run, a `ReviewSession` per coder, and the log they share.

The server holds the run's scored segments once (`ReviewData`) and gives each coder their own
`ReviewSession`, the same object the terminal review drives, so a key means the same in both.
Every request first looks at `decisions.jsonl`: when it changed (another tab, another coder, a
terminal review), every session reads it again, so nothing another writer appended is missed
or written twice. Requests are served one at a time under a lock; appends are fsynced and
flock'ed by `DecisionLog`, so other processes may write at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.agreement import cohen_kappa
from pipeline.errors import ConfigError
from pipeline.records import Decision
from pipeline.review.order import SHOWN, order_rows
from pipeline.review.session import ReviewData, ReviewSession
from pipeline.run_folder.decisions import LOG_NAME, DecisionLog, fold_decisions

ORDERS = ("uncertain", "document", "code")
# Theme colours: distinct, light enough as a tint behind text, dark enough as a border.
PALETTE = ("#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#ec4899", "#14b8a6",
           "#84cc16", "#f97316", "#6366f1")
MAX_PAGE = 1000


class RequestError(ConfigError):
    """A request the server cannot do: answered with 400 and the message."""


@dataclass
class Verdict:
    """A decision as the API receives it (see the README's API section)."""

    segment_id: str
    verdict: str  # accept | reject | correct
    codes: tuple[str, ...]
    note: str = ""


class ReviewServerState:
    """The run being reviewed and each coder's session; every method takes the lock."""

    def __init__(self, data: ReviewData, *, blind: bool = True, retrain_every: int = 0,
                 seed: int = 0) -> None:
        self.data = data
        self.blind = blind
        self.retrain_every = retrain_every
        self.seed = seed
        self.lock = threading.RLock()
        self.sessions: dict[str, ReviewSession] = {}
        self.log = DecisionLog(data.run.file(LOG_NAME))
        self.row_of = {s.id: i for i, s in enumerate(data.segments)}
        self.rows_of_source: dict[str, list[int]] = {}
        for i, seg in enumerate(data.segments):
            self.rows_of_source.setdefault(seg.source_id, []).append(i)
        self.sources = {s.id: s for s in data.sources}
        self.theme_of = {c.id: t.id for t, c in data.codebook.codes()}
        self.colors = {t.id: PALETTE[i % len(PALETTE)]
                       for i, t in enumerate(data.codebook.themes)}
        self._stamp: tuple[int, int] | None = None
        self._standing: dict[tuple[str, str], list[Decision]] = {}  # (coder, segment) -> ...

    # -- the shared log ----------------------------------------------------------------------
    def _sync(self) -> None:
        """Read the log again if anyone appended to it since it was last read."""
        stat = self.log.path.stat() if self.log.exists() else None
        stamp = (stat.st_size, stat.st_mtime_ns) if stat else None
        if stamp == self._stamp:
            return
        decisions = self.log.read(self.data.segments, self.data.codebook)
        for session in self.sessions.values():
            session.reload(decisions)
        self._standing = {}
        for d in fold_decisions(decisions):
            self._standing.setdefault((d.coder, d.segment_id), []).append(d)
        self._stamp = stamp

    def session(self, coder: str) -> ReviewSession:
        """The coder's session (made on first use), up to date with the log."""
        with self.lock:
            if coder not in self.sessions:
                self.sessions[coder] = ReviewSession(
                    self.data, coder, order="document", seed=self.seed,
                    retrain_every=self.retrain_every, blind=self.blind)
                self._stamp = None  # read the log for the new session's standing decisions
            self._sync()
            session = self.sessions[coder]
            session.current()  # takes in a finished background refit
            return session

    # -- reading -----------------------------------------------------------------------------
    def codebook(self) -> dict[str, Any]:
        book = self.data.codebook
        return {"name": book.name, "themes": [
            {"id": t.id, "name": t.name, "description": t.description,
             "color": self.colors[t.id],
             "codes": [{"id": c.id, "name": c.name, "definition": c.definition,
                        "include": list(c.include), "exclude": list(c.exclude),
                        "examples": list(c.examples)} for c in t.codes]}
            for t in book.themes]}

    def sources_list(self, coder: str) -> list[dict[str, Any]]:
        session = self.session(coder)
        with self.lock:
            return [{"id": s.id, "name": s.name, "language": s.language,
                     "segments": len(self.rows_of_source.get(s.id, [])),
                     "reviewed": sum(1 for r in self.rows_of_source.get(s.id, [])
                                     if r in session.mine)}
                    for s in self.data.sources]

    def source(self, source_id: str) -> dict[str, Any]:
        source = self.sources.get(source_id)
        if source is None:
            raise RequestError(f"no source {source_id!r} in this run",
                               hint="GET /api/sources lists them")
        return {"id": source.id, "name": source.name, "language": source.language,
                "text": source.text,
                "turns": [{"speaker": t.speaker, "role": t.role, "start": t.start, "end": t.end}
                          for t in source.turns]}

    def segments(self, coder: str, source_id: str | None, offset: int,
                 limit: int) -> dict[str, Any]:
        session = self.session(coder)
        with self.lock:
            if source_id is not None and source_id not in self.sources:
                raise RequestError(f"no source {source_id!r} in this run",
                                   hint="GET /api/sources lists them")
            rows = self.rows_of_source.get(source_id, []) if source_id is not None \
                else range(len(self.data.segments))
            limit = max(1, min(limit, MAX_PAGE))
            offset = max(0, offset)
            page = list(rows[offset:offset + limit])
            return {"total": len(rows), "offset": offset,
                    "segments": [self.segment_json(session, r) for r in page]}

    def segment_json(self, session: ReviewSession, row: int) -> dict[str, Any]:
        seg = self.data.segments[row]
        scores = session.proba[row]
        shown = session.shown(row)
        standing = self._standing.get((session.coder, seg.id), [])
        decision = None
        if row in session.mine or standing:
            decision = {"codes": sorted(session.mine.get(row, set())),
                        "note": next((d.note for d in standing if d.note), ""),
                        "verdicts": [{"code": d.code_id, "verdict": d.verdict}
                                     for d in standing]}
        others = [] if self.blind else [
            {"coder": d.coder, "code": d.code_id, "verdict": d.verdict}
            for d in session.others_on(row)]
        threshold = self.data.threshold
        return {
            "id": seg.id, "source_id": seg.source_id, "start": seg.start, "end": seg.end,
            "text": seg.text, "speaker": seg.speaker, "role": seg.role,
            "turn_index": seg.turn_index,
            "suggestions": [{"key": s.key, "code": s.code.id, "name": s.code.name,
                             "theme": self.theme_of[s.code.id], "score": round(s.score, 4),
                             "evidence": [e.to_dict() for e in s.evidence]} for s in shown],
            "passing": [s.code.id for s in shown if s.score >= threshold],
            "best_score": round(float(scores.max()), 4) if scores.size else None,
            "decision": decision, "others": others,
        }

    def queue(self, coder: str, order: str, source_id: str | None, code: str | None,
              unreviewed: bool) -> list[str]:
        """Segment ids in review order, filtered."""
        if order not in ORDERS:
            raise RequestError(f"unknown order {order!r}", hint=f"use {', '.join(ORDERS)}")
        session = self.session(coder)
        with self.lock:
            rows: Sequence[int] = self.rows_of_source.get(source_id, []) \
                if source_id else range(len(self.data.segments))
            proba = session.proba
            if code:
                if code not in self.theme_of:
                    raise RequestError(f"{code!r} is not a code of the codebook",
                                       hint="GET /api/codebook lists the codes")
                j = session.code_ids.index(code)
                best = np.argsort(-proba[list(rows)], axis=1, kind="stable")[:, :SHOWN] \
                    if len(rows) else np.zeros((0, SHOWN), dtype=int)
                rows = [r for r, top in zip(rows, best, strict=True) if j in top]
            if unreviewed:
                rows = [r for r in rows if r not in session.mine]
            if order == "code":
                top = proba.argmax(axis=1)
                ordered = sorted(rows, key=lambda r: (int(top[r]), -float(proba[r, top[r]]), r))
            else:
                ordered = order_rows(rows, order, proba, self.data.threshold,
                                     self.data.segments, self.seed)
            return [self.data.segments[r].id for r in ordered]

    def progress(self, coder: str) -> dict[str, Any]:
        """Reviewed out of total, acceptance per code, and kappa against the suggestions."""
        session = self.session(coder)
        with self.lock:
            threshold = self.data.threshold
            suggested: dict[str, int] = {}
            accepted: dict[str, int] = {}
            a: list[bool] = []
            b: list[bool] = []
            for row, confirmed in session.mine.items():
                passing = {s.code.id for s in session.shown(row) if s.score >= threshold}
                for code in passing:
                    suggested[code] = suggested.get(code, 0) + 1
                    accepted[code] = accepted.get(code, 0) + (code in confirmed)
                for code in session.code_ids:
                    a.append(code in passing)
                    b.append(code in confirmed)
            kappa = cohen_kappa(a, b) if a else float("nan")
            return {
                "reviewed": len(session.mine), "total": len(self.data.segments),
                "kappa": None if np.isnan(kappa) else round(float(kappa), 3),
                "kappa_note": "Cohen's kappa of your decisions against the suggestions at the "
                              "threshold, over reviewed segments x codes"
                              + ("" if a else "; none reviewed yet"),
                "per_code": [{"code": c, "suggested": n, "accepted": accepted.get(c, 0),
                              "rate": round(accepted.get(c, 0) / n, 3)}
                             for c, n in sorted(suggested.items())],
            }

    def decisions(self, coder: str) -> list[dict[str, Any]]:
        self.session(coder)  # signs the coder in and takes in what others appended
        with self.lock:
            return [d.to_dict() for d in self.log.read() if d.coder == coder]

    def search(self, coder: str, query: str) -> list[dict[str, str]]:
        session = self.session(coder)
        return [{"id": c.id, "name": c.name, "theme": theme}
                for theme, c in session.search(query)]

    # -- writing -----------------------------------------------------------------------------
    def decide(self, coder: str, verdict: Verdict) -> dict[str, Any]:
        """One segment decided, as a key press in the terminal review decides it."""
        session = self.session(coder)
        with self.lock:
            row = self.row_of.get(verdict.segment_id)
            if row is None:
                raise RequestError(f"no segment {verdict.segment_id!r} in this run",
                                   hint="segment ids come from GET /api/segments")
            unknown = [c for c in verdict.codes if c not in self.theme_of]
            if unknown:
                raise RequestError(f"{unknown[0]!r} is not a code of the codebook",
                                   hint="GET /api/codebook lists the codes")
            if verdict.verdict in ("accept", "correct") and not verdict.codes:
                raise RequestError(f"{verdict.verdict} needs a code",
                                   hint='send "code": "<code id>"')
            if verdict.verdict not in ("accept", "reject", "correct"):
                raise RequestError(f"unknown verdict {verdict.verdict!r}",
                                   hint="use accept, reject or correct (undo: POST /api/undo)")
            session.note(row, verdict.note)
            if verdict.verdict == "reject":
                step = session.decide(row, reject_all=True)
            else:
                step = session.decide(row, codes=verdict.codes)
            self._sync()
            return {"decisions": [d.to_dict() for d in step.decisions],
                    "segment": self.segment_json(session, row)}

    def undo(self, coder: str) -> dict[str, Any]:
        session = self.session(coder)
        with self.lock:
            step = session.undo()
            self._sync()
            if step is None:
                return {"segment_id": None, "decisions": []}
            return {"segment_id": self.data.segments[step.row].id,
                    "decisions": [d.to_dict() for d in step.decisions]}

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
