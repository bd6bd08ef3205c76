"""Scoring segments against a codebook: zero-shot prototypes, or a trained head.

`score_segments()` is the library entry point: segments in, a `Scored` (calibrated scores and
evidence per segment and code) out. `Scorer` is the same made ready once and applied chunk by
chunk. `pipeline.stages.suggest_stage` writes the result to a run.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from pipeline.codebook import codebook_languages, codebook_to_yaml
from pipeline.config import SuggestSettings, check_values
from pipeline.embed.base import Embedder
from pipeline.records import Codebook, Evidence, Segment, Source
from pipeline.suggest.context import context_texts, query_vectors
from pipeline.suggest.head import SavedHead
from pipeline.suggest.output import Scored
from pipeline.suggest.prototype import PrototypeSuggester, resolve_calibration


def segment_vectors(segments: Sequence[Segment], sources: Sequence[Source], embedder: Embedder,
                    settings: SuggestSettings) -> np.ndarray:
    """Context-blended query vectors for segments, per the `suggest` config section."""
    check_values({"suggest": settings})  # settings a library caller built get the same checks
    mode = settings["context"]
    texts = context_texts(segments, sources, mode)
    turn_weight = settings["turn_weight"] if mode == "turn" else 0.0
    return query_vectors(texts, embedder, turn_weight, settings["question_weight"])


def usable_editions(codebook: Codebook, embedder: Embedder) -> list[Codebook]:
    """The codebook's editions in languages the embedding model knows (all of them for a
    multilingual model): an edition the model cannot read would only add noise."""
    known = embedder.languages
    if known is None:
        return list(codebook.editions)
    return [e for e in codebook.editions if codebook_languages(e) <= known]


class Scorer:
    """A suggester made ready once (the codebook embedded, or a head loaded), then applied to
    any number of segment batches: a large run is scored chunk by chunk in bounded memory."""

    def __init__(self, codebook: Codebook, embedder: Embedder, settings: SuggestSettings,
                 head: SavedHead | None = None) -> None:
        self.embedder = embedder
        self.settings = settings
        self.explain: Callable[[np.ndarray, int, Sequence[str]], list[list[Evidence]]]
        self.predict: Callable[[np.ndarray], np.ndarray]
        self.warnings: list[str] = []
        if head is None:
            calibration, warning = resolve_calibration(settings, embedder.model_key)
            self.warnings += [warning] if warning else []
            zero_shot = _fitted(codebook, embedder, settings, calibration)
            self.code_ids, self.method = list(zero_shot.code_ids_), zero_shot.method
            self.predict, self.explain = zero_shot.predict_proba, zero_shot.evidence
        else:
            self.code_ids, self.method = list(head.code_ids), head.method
            self.predict, self.explain = head.head.predict_proba, head.evidence

    def score(self, segments: Sequence[Segment], sources: Sequence[Source]) -> Scored:
        """Calibrated scores for every code, and evidence for each segment's top codes.

        `sources` must hold the segments' own sources; others are not needed.
        """
        if not segments:
            return Scored([], self.code_ids, np.zeros((0, len(self.code_ids))), {}, self.method)
        vectors = segment_vectors(segments, sources, self.embedder, self.settings)
        proba = self.predict(vectors)
        evidence: dict[tuple[int, int], list[Evidence]] = {}
        order = np.argsort(-proba, axis=1, kind="stable")[:, :self.settings["top_k"]]
        for j in range(len(self.code_ids)):
            rows = np.flatnonzero((order == j).any(axis=1)).tolist()
            if rows:
                own = [segments[i].source_id for i in rows]
                for i, items in zip(rows, self.explain(vectors[rows], j, own), strict=True):
                    evidence[(i, j)] = items
        return Scored(list(segments), self.code_ids, proba, evidence, self.method)


_FITTED: OrderedDict[str, PrototypeSuggester] = OrderedDict()


def _fitted(codebook: Codebook, embedder: Embedder, settings: SuggestSettings,
            calibration: Sequence[float]) -> PrototypeSuggester:
    """The zero-shot suggester fitted on the codebook, kept for the process' later calls with
    the same codebook, model object and settings: a cluster worker fits once for all its
    shards (a fit costs seconds: the codebook embedded, a classifier trained)."""
    model = getattr(embedder, "inner", embedder)  # the model, whatever cache wraps it
    # precode's own models are named fully by their fingerprint; another embedder (a test's,
    # a library user's) only by being the same object
    identity = embedder.fingerprint if model.model_key else f"{id(model)}"
    key = json.dumps([codebook_to_yaml(codebook), identity, embedder.fingerprint,
                      settings["top_examples"], settings["exclude_weight"],
                      settings["classifier_weight"], list(calibration)])
    if key not in _FITTED:
        _FITTED[key] = PrototypeSuggester(
            embedder, top_examples=settings["top_examples"],
            exclude_weight=settings["exclude_weight"],
            classifier_weight=settings["classifier_weight"], calibration=calibration,
        ).fit(codebook, usable_editions(codebook, embedder))
        while len(_FITTED) > 2:
            _FITTED.popitem(last=False)
    return _FITTED[key]


def score_segments(segments: Sequence[Segment], sources: Sequence[Source], codebook: Codebook,
                   embedder: Embedder, settings: SuggestSettings,
                   head: SavedHead | None = None) -> Scored:
    """Calibrated scores and evidence for every segment and code."""
    return Scorer(codebook, embedder, settings, head).score(segments, sources)
