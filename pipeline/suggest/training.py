"""Fitting a head from labelled rows: the pieces `precode train` and the review's background
refit share.

Rows are (segment, codes) pairs with their context vectors; the codebook's examples are always
added as positives, so a code nobody has used yet still has a model. `saved_head` keeps the
coded segments and examples beside the head as its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.embed.base import Embedder
from pipeline.records import Codebook, Segment
from pipeline.suggest.head import SavedHead, TrainedHead
from pipeline.suggest.scorer import usable_editions


@dataclass(frozen=True)
class Examples:
    """The codebook's examples as extra training rows: vectors, one-hot labels, texts."""

    vectors: np.ndarray | None  # (m, d), None when the codebook has no examples
    labels: np.ndarray | None  # (m, k)
    texts: list[str]
    codes: list[int]  # the code index of each example


def cv_quality(proba: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy on coded segments and macro F1 at 0.5, from out-of-fold predictions
    (none when there were too few segments or sources to hold any out)."""
    if not truth.size or proba.shape != truth.shape:
        return {}
    coded = truth.any(axis=1)
    top1 = truth[np.arange(len(truth)), proba.argmax(axis=1)][coded].mean() if coded.any() else 0
    pred = proba >= 0.5
    f1s = []
    for k in range(truth.shape[1]):
        tp = float((pred[:, k] & (truth[:, k] == 1)).sum())
        denom = float(pred[:, k].sum() + truth[:, k].sum())
        if truth[:, k].sum():
            f1s.append(2 * tp / denom if denom else 0.0)
    return {"cv_top1_accuracy": round(float(top1), 4),
            "cv_macro_f1_at_0.5": round(float(np.mean(f1s)) if f1s else 0.0, 4)}


def codebook_examples(book: Codebook, embedder: Embedder) -> Examples:
    """The examples of the codebook and of its editions the model can read."""
    index = {code_id: k for k, code_id in enumerate(book.code_ids())}
    pairs = [(index[c.id], t) for edition in (book, *usable_editions(book, embedder))
             for _, c in edition.codes() for t in c.examples]
    if not pairs:
        return Examples(None, None, [], [])
    vectors = embedder.encode([t for _, t in pairs])
    labels = np.zeros((len(pairs), len(book.code_ids())), dtype=np.int8)
    for r, (k, _) in enumerate(pairs):
        labels[r, k] = 1
    return Examples(vectors, labels, [t for _, t in pairs], [k for k, _ in pairs])


def label_matrix(rows: Sequence[set[str]], code_ids: Sequence[str]) -> np.ndarray:
    index = {c: k for k, c in enumerate(code_ids)}
    Y = np.zeros((len(rows), len(code_ids)), dtype=np.int8)
    for i, codes in enumerate(rows):
        for code in codes:
            Y[i, index[code]] = 1
    return Y


def saved_head(head: TrainedHead, info: dict[str, Any], X: np.ndarray,
               rows: Sequence[tuple[Segment, set[str]]], examples: Examples) -> SavedHead:
    """The head with its evidence: the coded segments (each once per code) and examples."""
    index = {c: k for k, c in enumerate(head.code_ids_)}
    seen: set[tuple[str, str]] = set()
    vectors, texts, codes, origins = [], [], [], []
    for i, (seg, labels) in enumerate(rows):
        for code in sorted(labels):
            if (seg.id, code) in seen:
                continue
            seen.add((seg.id, code))
            vectors.append(X[i])
            texts.append(seg.text)
            codes.append(index[code])
            origins.append(f"coded:{seg.id}")
    if examples.vectors is not None:
        for r, (k, text) in enumerate(zip(examples.codes, examples.texts, strict=True)):
            vectors.append(examples.vectors[r])
            texts.append(text)
            codes.append(k)
            origins.append(f"codebook:{head.code_ids_[k]}:example")
    dim = X.shape[1] if X.ndim == 2 else 0
    matrix = np.array(vectors, dtype=np.float32) if vectors else np.zeros((0, dim), np.float32)
    return SavedHead(head, info, matrix, texts, np.array(codes, dtype=np.int32), origins)
