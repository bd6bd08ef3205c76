"""Refitting the head on review decisions while the researcher works.

`Refitter.fit(labels)` fits the existing `TrainedHead` (one logistic regression per code,
Platt-calibrated out of fold) on the cached context vectors of the reviewed segments plus the
codebook's examples, and scores every segment with it. It takes a fraction of a second for a
few hundred decisions: the vectors are computed once per session, the calibration uses 3
folds instead of `precode train`'s 5, and the BLAS pool is limited to one thread so the fit
neither fights the terminal for the CPU nor stalls on a busy laptop.

`start(labels)` runs the same fit in a daemon thread; `poll()` hands over the result once.

A head fitted on 20 segments knows less than the codebook, so the scores a session shows are
a blend: `w * refitted + (1 - w) * starting scores`, with `w = n / (n + prior)` for `n`
reviewed segments (`prior` = 60 by default). Early refits cannot make suggestions worse
than the codebook's, and by a few hundred decisions the refitted head dominates
(`benchmarks/active_learning.py` measured the prior).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.records import Evidence, Segment
from pipeline.suggest import SavedHead, TrainedHead
from pipeline.suggest.training import Examples, label_matrix, saved_head

PRIOR = 60.0
FOLDS = 3


@dataclass(frozen=True)
class Refit:
    """A head fitted on `reviewed` segments: its scores for every segment, and evidence."""

    proba: np.ndarray  # (n_segments, n_codes), the refitted head alone
    head: SavedHead
    reviewed: int
    seconds: float

    def evidence(self, vectors: np.ndarray, code_index: int) -> list[list[Evidence]]:
        return self.head.evidence(vectors, code_index)


def blend_weight(reviewed: int, prior: float = PRIOR) -> float:
    """How much a head refitted on `reviewed` segments counts against the starting scores."""
    return reviewed / (reviewed + prior) if prior > 0 else 1.0


class Refitter:
    """Fits heads on a session's decisions: synchronously (`fit`) or in a thread (`start`)."""

    def __init__(self, vectors: np.ndarray, segments: Sequence[Segment],
                 code_ids: Sequence[str], examples: Examples, C: float = 1.0,
                 folds: int = FOLDS) -> None:
        self.vectors = vectors
        self.segments = list(segments)
        self.code_ids = list(code_ids)
        self.examples = examples
        self.C = C
        self.folds = folds
        self._thread: threading.Thread | None = None
        self._result: Refit | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def fit(self, labels: Mapping[int, set[str]]) -> Refit:
        """Fit on {segment row: confirmed codes} and score every segment."""
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        rows = sorted(labels)
        with threadpool_limits(limits=1):
            X = self.vectors[rows]
            Y = label_matrix([labels[r] for r in rows], self.code_ids)
            groups = [self.segments[r].source_id for r in rows]
            head = TrainedHead(C=self.C, folds=self.folds).fit(
                X, Y, self.code_ids, groups=groups, extra_X=self.examples.vectors,
                extra_Y=self.examples.labels)
            proba = head.predict_proba(self.vectors)
        saved = saved_head(head, {"name": "review"}, X,
                           [(self.segments[r], labels[r]) for r in rows], self.examples)
        return Refit(proba, saved, len(rows), time.perf_counter() - started)

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, labels: Mapping[int, set[str]],
              done: Callable[[Refit], None] | None = None) -> bool:
        """Fit in a background thread unless one is running; False if one was."""
        if self.busy:
            return False
        snapshot = {row: set(codes) for row, codes in labels.items()}

        def work() -> None:
            try:
                result = self.fit(snapshot)
            except Exception as exc:  # reported by poll(): a failed refit must not end review
                with self._lock:
                    self._error = exc
                return
            with self._lock:
                self._result = result
            if done is not None:
                done(result)

        self._thread = threading.Thread(target=work, name="precode-refit", daemon=True)
        self._thread.start()
        return True

    def poll(self) -> Refit | None:
        """The latest finished refit, once; raises the error of a failed one."""
        with self._lock:
            result, self._result = self._result, None
            error, self._error = self._error, None
        if error is not None:
            raise error
        return result

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
