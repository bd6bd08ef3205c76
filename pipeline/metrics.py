"""Classification figures for suggestions against gold labels, as plain functions.

Inputs are a score matrix (segments x codes) and gold label sets per segment. Top-k accuracy
counts the segments that carry at least one gold code (a segment nobody coded has no right
answer to rank); precision, recall and F1 use the codes whose score reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def topk_accuracy(proba: np.ndarray, gold: Sequence[set[str]], code_ids: Sequence[str],
                  k: int = 1) -> float:
    """Share of gold-coded segments whose k best codes include one of their gold codes."""
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    hits = n = 0
    for i, labels in enumerate(gold):
        if not labels:
            continue
        n += 1
        hits += any(code_ids[j] in labels for j in order[i])
    return hits / n if n else float("nan")


def theme_accuracy(proba: np.ndarray, gold: Sequence[set[str]], code_ids: Sequence[str],
                   theme_of: Mapping[str, str]) -> float:
    """Top-1 accuracy after rolling codes up to their themes."""
    best = proba.argmax(axis=1)
    hits = n = 0
    for i, labels in enumerate(gold):
        if not labels:
            continue
        n += 1
        hits += theme_of[code_ids[best[i]]] in {theme_of[c] for c in labels}
    return hits / n if n else float("nan")


def per_code_scores(predicted: Sequence[set[str]], gold: Sequence[set[str]],
                    code_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """support, precision, recall, F1 per code (nan where a ratio has no denominator)."""
    out: dict[str, dict[str, float]] = {}
    for code in code_ids:
        tp = sum(1 for p, g in zip(predicted, gold, strict=True) if code in p and code in g)
        n_pred = sum(1 for p in predicted if code in p)
        n_gold = sum(1 for g in gold if code in g)
        precision = tp / n_pred if n_pred else float("nan")
        recall = tp / n_gold if n_gold else float("nan")
        f1 = 2 * tp / (n_pred + n_gold) if (n_pred + n_gold) else float("nan")
        out[code] = {"support": n_gold, "predicted": n_pred, "precision": precision,
                     "recall": recall, "f1": f1}
    return out


def macro_f1(per_code: Mapping[str, Mapping[str, float]]) -> float:
    """Mean F1 over the codes that occur in the gold labels."""
    values = [s["f1"] for s in per_code.values() if s["support"] > 0]
    return float(np.mean(values)) if values else float("nan")


def micro_f1(predicted: Sequence[set[str]], gold: Sequence[set[str]]) -> float:
    tp = sum(len(p & g) for p, g in zip(predicted, gold, strict=True))
    n = sum(len(p) for p in predicted) + sum(len(g) for g in gold)
    return 2 * tp / n if n else float("nan")


def thresholded(proba: np.ndarray, code_ids: Sequence[str], threshold: float,
                top_k: int | None = None) -> list[set[str]]:
    """The codes each segment is suggested at `threshold` (at most top_k of them)."""
    out = []
    for row in proba:
        order = np.argsort(-row, kind="stable")[: top_k or len(row)]
        out.append({code_ids[j] for j in order if row[j] >= threshold})
    return out
