"""Ranking agreement between two scorers: near-ties are told apart from real disagreements."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.suggest.compare import ranking_agreement


def test_identical_scores_agree_everywhere() -> None:
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    figures = ranking_agreement(scores, scores.copy(), threshold=0.3)
    assert figures == {"top1": 1.0, "decisive_share": 1.0, "top1_decisive": 1.0,
                       "top1_in_top3": 1.0, "suggestion": 1.0}


def test_a_swapped_near_tie_counts_against_top1_but_not_decisive_agreement() -> None:
    reference = np.array([[0.50, 0.49, 0.01],    # near-tie
                          [0.80, 0.10, 0.10],    # decisive
                          [0.10, 0.70, 0.20]])   # decisive
    other = np.array([[0.49, 0.50, 0.01],        # the tie swapped
                      [0.80, 0.10, 0.10],
                      [0.10, 0.20, 0.70]])       # a real disagreement
    figures = ranking_agreement(reference, other, top_k=2)
    assert figures["top1"] == pytest.approx(1 / 3)
    assert figures["decisive_share"] == pytest.approx(2 / 3)
    assert figures["top1_decisive"] == pytest.approx(1 / 2)
    assert figures["top1_in_top2"] == pytest.approx(1.0)


def test_shown_suggestion_agrees_when_both_fall_below_the_threshold() -> None:
    reference = np.array([[0.25, 0.24], [0.6, 0.1]])
    other = np.array([[0.24, 0.25], [0.1, 0.6]])
    figures = ranking_agreement(reference, other, threshold=0.3)
    assert figures["suggestion"] == pytest.approx(0.5)  # none vs none; code 0 vs code 1


def test_mismatched_or_empty_matrices_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        ranking_agreement(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least one segment"):
        ranking_agreement(np.zeros((0, 3)), np.zeros((0, 3)))
