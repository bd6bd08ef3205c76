"""A TF-IDF embedder (scikit-learn): no model files, any language, fast tests.

Word 1-2-grams plus character 2-4-grams (which carry Chinese, written without spaces), fitted
on the run's own texts and the codebook in `prepare()`. The fitted vocabulary is part of the
fingerprint, so its vectors are never mixed with another fit's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from pipeline.embed.base import Embedder, normalize_rows


class TfidfEmbedder(Embedder):
    cacheable = False

    def __init__(self, max_features: int = 4096) -> None:
        self.max_features = max_features
        self._vectorizer = None
        self._digest = "unfitted"

    def prepare(self, corpus: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        half = self.max_features // 2
        union = FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), max_features=half, sublinear_tf=True,
                                      token_pattern=r"(?u)\b\w+\b")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), max_features=half,
                                      sublinear_tf=True)),
        ])
        union.fit(list(corpus) or [""])
        self._vectorizer = union
        vocab = sorted(union.transformer_list[0][1].vocabulary_) + \
            sorted(union.transformer_list[1][1].vocabulary_)
        self._digest = hashlib.sha256("\x1f".join(vocab).encode()).hexdigest()[:12]

    @property
    def fingerprint(self) -> str:
        return f"tfidf:{self.max_features}:{self._digest}"

    @property
    def dimension(self) -> int:
        return self.max_features

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._vectorizer is None:
            self.prepare(texts)
        assert self._vectorizer is not None
        matrix = self._vectorizer.transform(list(texts)).toarray()
        out = np.zeros((len(texts), self.max_features), dtype=np.float32)
        out[:, : matrix.shape[1]] = matrix
        return normalize_rows(out)
