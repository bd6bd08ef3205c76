"""Zero-shot suggestions from the codebook alone: no coded data needed.

Each code is represented by its own texts: the definition (with theme and code name), the
include notes and the examples. A segment's raw score for a code is its similarity to the
code's centroid plus the mean similarity to the code's `top_examples` nearest examples, so
both the definition's wording and concrete ways of saying it count. A multinomial logistic
regression fitted on the codebook's own texts (each text labelled with its code) adds
`classifier_weight` times its log-probability: unlike cosine similarity, it learns which
directions of the embedding space tell confusable codes apart. Exclude notes can push a
code down when a segment is closer to them than to the code (`exclude_weight`; 0 by default,
as it did not help on the sample corpus). Raw scores become probabilities through a logistic
calibration on two features, the raw score and its margin to the segment's best code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.config import SuggestSettings, backend_name, defaults
from pipeline.embed.base import Embedder, normalize_rows
from pipeline.embed.models import DEFAULT_MODEL
from pipeline.errors import CodebookError, ModelError
from pipeline.records import Codebook, Evidence

# What precode wrote into every run's settings before calibrations were kept per model.
LEGACY_CALIBRATION = (3.12, 3.57, -3.06)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


class PrototypeSuggester:
    """scikit-learn style: `fit(codebook)`, then `decision_function`/`predict_proba` on vectors."""

    method = "zero-shot"

    def __init__(self, embedder: Embedder, top_examples: int = 1, exclude_weight: float = 0.0,
                 classifier_weight: float = 0.2, classifier_C: float = 10.0,
                 calibration: Sequence[float] | None = None) -> None:
        self.embedder = embedder
        self.top_examples = top_examples
        self.exclude_weight = exclude_weight
        self.classifier_weight = classifier_weight
        self.classifier_C = classifier_C
        self.calibration = calibration

    def fit(self, codebook: Codebook, editions: Sequence[Codebook] = ()) -> PrototypeSuggester:
        """Embed the codebook's texts. `editions` are the same codebook in other languages
        (the same code ids): their texts join each code's own, so a code is recognised in
        every language it is described in, and evidence comes in the segment's language."""
        pairs = list(codebook.codes())
        if not pairs:
            raise CodebookError("the codebook has no codes", hint="add codes to its themes")
        # None: the default model's, from configs/default.yaml
        self.calibration_ = self.calibration if self.calibration is not None else \
            resolve_calibration(defaults()["suggest"], DEFAULT_MODEL)[0]
        if len(self.calibration_) != 3:
            raise ModelError("suggest.calibration needs three numbers: score, margin, bias",
                             hint="see configs/default.yaml")
        self.code_ids_ = [code.id for _, code in pairs]
        self.theme_ids_ = [theme.id for theme, _ in pairs]
        index = {code_id: k for k, code_id in enumerate(self.code_ids_)}
        texts: list[str] = []
        owner: list[int] = []
        kind: list[str] = []
        for book in (codebook, *editions):
            if book is not codebook and sorted(book.code_ids()) != sorted(self.code_ids_):
                raise CodebookError(
                    f"the codebook edition {book.name!r} does not have the same code ids as "
                    f"{codebook.name!r}", hint="editions of one codebook must use the same ids")
            for theme, code in book.codes():
                items = [("definition", f"{theme.name}: {code.name}. {code.definition}")]
                items += [("include", t) for t in code.include]
                items += [("example", t) for t in code.examples]
                if self.exclude_weight:  # embedded only when they count
                    items += [("exclude", t) for t in code.exclude]
                for what, text in items:
                    texts.append(text)
                    owner.append(index[code.id])
                    kind.append(what)
        # float64 from here on: float32 products vary in their last bits with the shape of
        # the batch (BLAS blocking), and a chunked run must round scores as a whole run does
        vectors = self.embedder.encode(texts).astype(np.float64)
        owner_arr = np.array(owner)
        kind_arr = np.array(kind)
        self.texts_ = texts
        self.text_owner_ = owner_arr
        self.text_kind_ = kind_arr
        self.text_vectors_ = vectors
        positive = kind_arr != "exclude"
        self.centroids_ = normalize_rows(np.stack(
            [vectors[(owner_arr == k) & positive].mean(axis=0) for k in range(len(pairs))]))
        # Codes without examples are represented by their definition and include notes.
        self.anchor_mask_ = [
            np.flatnonzero((owner_arr == k) & (kind_arr == "example")) if
            np.any((owner_arr == k) & (kind_arr == "example")) else
            np.flatnonzero((owner_arr == k) & positive)
            for k in range(len(pairs))
        ]
        self.exclude_mask_ = [np.flatnonzero((owner_arr == k) & (kind_arr == "exclude"))
                              for k in range(len(pairs))]
        self.classifier_ = None
        if self.classifier_weight and len(pairs) > 1:
            from sklearn.linear_model import LogisticRegression

            self.classifier_ = LogisticRegression(C=self.classifier_C, max_iter=5000)
            self.classifier_.fit(vectors[positive], owner_arr[positive])
        return self

    def _check(self, vectors: np.ndarray) -> None:
        if not hasattr(self, "centroids_"):
            raise ModelError("the suggester is not fitted", hint="call fit(codebook) first")
        if vectors.ndim != 2 or vectors.shape[1] != self.centroids_.shape[1]:
            raise ModelError(f"vectors have shape {vectors.shape}, expected (n, "
                             f"{self.centroids_.shape[1]})",
                             hint="embed segments with the same embedder as the codebook")

    def decision_function(self, vectors: np.ndarray) -> np.ndarray:
        """Raw scores, shape (n_segments, n_codes); higher means closer to the code."""
        self._check(vectors)
        vectors = np.asarray(vectors, dtype=np.float64)
        sims = vectors @ self.text_vectors_.T
        scores = vectors @ self.centroids_.T
        for k, anchors in enumerate(self.anchor_mask_):
            near = np.sort(sims[:, anchors], axis=1)[:, -self.top_examples:]
            scores[:, k] += near.mean(axis=1)
            if self.exclude_weight and len(self.exclude_mask_[k]):
                excluded = sims[:, self.exclude_mask_[k]].max(axis=1)
                own = sims[:, anchors].max(axis=1)
                scores[:, k] -= self.exclude_weight * np.maximum(0.0, excluded - own)
        if self.classifier_ is not None:
            log_proba = np.full(scores.shape, -30.0)
            log_proba[:, self.classifier_.classes_] = np.maximum(
                self.classifier_.predict_log_proba(vectors), -30.0)
            # relative to a uniform guess (log 1/K): without it, a codebook of 4 codes would
            # start every score log(14/4) higher than the 14-code one the calibration saw
            scores += self.classifier_weight * (log_proba + np.log(len(self.code_ids_)))
        return scores

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        """Calibrated scores in [0, 1]; each code independently (a segment may have several)."""
        return calibrate(self.decision_function(vectors), self.calibration_)

    def evidence(self, vectors: np.ndarray, code_index: int,
                 sources: Sequence[str] | None = None, limit: int = 1) -> list[list[Evidence]]:
        """For each vector: the codebook texts of one code nearest to it (`sources` unused)."""
        anchors = self.anchor_mask_[code_index]
        sims = np.asarray(vectors, dtype=np.float64) @ self.text_vectors_[anchors].T
        out = []
        code_id = self.code_ids_[code_index]
        for row in sims:
            best = np.argsort(-row)[:limit]
            out.append([Evidence(self.texts_[anchors[b]], round(float(row[b]), 4),
                                 f"codebook:{code_id}:{self.text_kind_[anchors[b]]}")
                        for b in best])
        return out


def resolve_calibration(settings: SuggestSettings, model_key: str | None
                        ) -> tuple[Sequence[float], str | None]:
    """The zero-shot calibration a run uses, and a warning when none was fitted for its model.

    Raw scores are on each embedder's own scale, so `suggest.calibration: null` takes the one
    fitted for the model (`suggest.calibrations`); an unknown model gets the default model's,
    which makes its scores rankings rather than probabilities.
    """
    table = {backend_name(k): v for k, v in (settings.get("calibrations") or {}).items()}
    model_key = backend_name(model_key) if model_key else model_key
    explicit = settings.get("calibration")
    if explicit is not None and tuple(explicit) == LEGACY_CALIBRATION and \
            model_key != "all-MiniLM-L6-v2" and model_key in table:
        # a run folder of an earlier precode carries its default, fitted for MiniLM only
        return table[model_key], (f"the run's zero-shot calibration {list(explicit)} was "
                                  "fitted for all-MiniLM-L6-v2 by an earlier precode; using "
                                  f"the one fitted for {model_key}")
    if explicit is not None:
        return explicit, None
    if model_key in table:
        return table[model_key], None
    warning = ("no zero-shot calibration was fitted for this embedding model, so scores rank "
               "codes but are not probabilities and the threshold means less; fit one with "
               "benchmarks/tune_zero_shot.py (suggest.calibration) or train a head on coded "
               "data (precode train)")
    fallback = table.get(DEFAULT_MODEL) or defaults()["suggest"]["calibrations"][DEFAULT_MODEL]
    return fallback, warning


def calibrate(scores: np.ndarray, calibration: Sequence[float]) -> np.ndarray:
    """Logistic calibration on (raw score, margin to the segment's best code)."""
    w_score, w_margin, bias = calibration
    margin = scores - scores.max(axis=1, keepdims=True)
    return _sigmoid(w_score * scores + w_margin * margin + bias)
