"""How far two scorers' rankings agree: the quality guard of a faster, approximate embedder.

Plain top-1 agreement punishes near-ties: where the reference's two best codes are within a
hair of each other, any perturbation of the vectors (int8 rounding, another batch size)
may swap them, and neither order is a finding. So the guard also reports agreement on the
segments where the reference is decisive, and whether the reference's choice stays in the
other's top 3 (what a reviewer sees).
"""

from __future__ import annotations

import numpy as np

DECISIVE_MARGIN = 0.05  # calibrated score by which the reference's top code must lead


def ranking_agreement(reference: np.ndarray, other: np.ndarray,
                      decisive_margin: float = DECISIVE_MARGIN, top_k: int = 3,
                      threshold: float | None = None) -> dict[str, float]:
    """Agreement figures between two (segments x codes) score matrices of the same codes."""
    if reference.shape != other.shape:
        raise ValueError(f"score matrices differ in shape: {reference.shape} vs {other.shape}")
    if reference.shape[0] == 0 or reference.shape[1] < 2:
        raise ValueError("need at least one segment and two codes to compare rankings")
    ref_top, other_top = reference.argmax(axis=1), other.argmax(axis=1)
    ordered = np.sort(reference, axis=1)
    decisive = ordered[:, -1] - ordered[:, -2] >= decisive_margin
    top_k = min(top_k, reference.shape[1])
    other_best = np.argsort(-other, axis=1, kind="stable")[:, :top_k]
    figures = {
        "top1": float(np.mean(ref_top == other_top)),
        "decisive_share": float(np.mean(decisive)),
        "top1_decisive": float(np.mean(ref_top[decisive] == other_top[decisive]))
        if decisive.any() else float("nan"),
        f"top1_in_top{top_k}": float(np.mean((other_best == ref_top[:, None]).any(axis=1))),
    }
    if threshold is not None:  # what a user sees: the top code if it passes, else none
        shown_ref = np.where(reference.max(axis=1) >= threshold, ref_top, -1)
        shown_other = np.where(other.max(axis=1) >= threshold, other_top, -1)
        figures["suggestion"] = float(np.mean(shown_ref == shown_other))
    return figures
