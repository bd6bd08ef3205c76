"""The embedder interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Turns texts into L2-normalized float32 vectors.

    `fingerprint` identifies the model and every setting that changes the vectors, so cached
    vectors and trained heads are only ever reused with the embedder that made them.
    """

    #: whether vectors may be cached on disk (a corpus-fitted TF-IDF space may not)
    cacheable: bool = True
    #: languages the model was trained on; None when unknown or any
    languages: frozenset[str] | None = None
    #: the name defaults fitted per model are kept under (zero-shot calibration); None when
    #: the model is not one precode knows
    model_key: str | None = None

    @property
    @abstractmethod
    def fingerprint(self) -> str: ...

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), dimension), float32, unit length."""


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms
