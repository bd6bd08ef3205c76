"""The `hashed-ngrams` backend (scikit-learn): no model files, any language, fast tests.

It was called `tfidf`, a name configs still accept, but it never weighted by IDF.

Word 1-2-grams and character 2-4-grams (which carry Chinese, written without spaces) are
hashed into a fixed number of features with sublinear term frequency. Hashing keeps it
stateless: the same text always gets the same vector, whatever corpus it came with, so a head
trained on these vectors works on any later run. There is no IDF weighting (that would need a
fitted, corpus-specific vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.embed.base import Embedder, normalize_rows


class HashedNgramEmbedder(Embedder):
    cacheable = False  # computing is faster than reading the cache
    model_key = "hashed-ngrams"

    def __init__(self, max_features: int = 4096) -> None:
        self.max_features = max_features
        self._union: Any = None

    def _vectorizer(self) -> Any:
        if self._union is None:
            from sklearn.feature_extraction.text import HashingVectorizer
            from sklearn.pipeline import FeatureUnion

            half = self.max_features // 2
            common = {"alternate_sign": False, "norm": "l2", "n_features": half}
            self._union = FeatureUnion([
                ("words", HashingVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b",
                                            **common)),
                ("chars", HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), **common)),
            ])
        return self._union

    @property
    def fingerprint(self) -> str:
        return f"hashed-ngrams:v1:{self.max_features}"

    @property
    def dimension(self) -> int:
        return self.max_features

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.max_features), dtype=np.float32)
        matrix = self._vectorizer().transform(list(texts))
        matrix.data = np.log1p(matrix.data)  # sublinear term frequency
        return normalize_rows(matrix.toarray())
