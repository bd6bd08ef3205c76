"""Bootstrap intervals for the headline figures, resampling sources with replacement.

Segments of one transcript are not independent (one speaker, one topic), so the unit of
resampling is the source. Each figure is a function of per-source counts (true positives,
predictions and gold codes per code; hits per ranking figure), so a draw is a weighted sum of
those counts and 1000 draws take milliseconds. The closed forms below for Cohen's kappa,
Krippendorff's alpha and Gwet's AC1 are those coefficients specialized to two coders, binary
(present/absent) values and no missing data; the tests check them against
`pipeline.agreement` on random data, and the point estimates in the report come from
`pipeline.agreement` itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.records import Segment


@dataclass(frozen=True)
class SourceCounts:
    """Per-source sufficient statistics of one comparison; rows follow `source_ids`."""

    source_ids: tuple[str, ...]
    tp: np.ndarray  # (sources, codes): segments where both sides gave the code
    n_pred: np.ndarray  # (sources, codes): segments where the hypothesis gave it
    n_gold: np.ndarray  # (sources, codes): segments where the reference gave it
    n_segments: np.ndarray  # (sources,)
    hits: dict[str, np.ndarray] = field(default_factory=dict)  # figure -> (sources,) hits
    n_ranked: np.ndarray | None = None  # (sources,) segments with a reference code


def source_counts(segments: Sequence[Segment], ref: Sequence[set[str]], hyp: Sequence[set[str]],
                  code_ids: Sequence[str], source_ids: Sequence[str],
                  hits: Mapping[str, Sequence[bool | None]] | None = None) -> SourceCounts:
    """Counts per source. `hits[name][i]` is whether segment i is a ranking hit (None: unranked)."""
    row = {s: i for i, s in enumerate(source_ids)}
    col = {c: j for j, c in enumerate(code_ids)}
    shape = (len(source_ids), len(code_ids))
    tp, n_pred, n_gold = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    n_segments = np.zeros(len(source_ids))
    hit_counts = {name: np.zeros(len(source_ids)) for name in hits or {}}
    n_ranked = np.zeros(len(source_ids))
    for i, (seg, g, p) in enumerate(zip(segments, ref, hyp, strict=True)):
        r = row[seg.source_id]
        n_segments[r] += 1
        for code in g:
            n_gold[r, col[code]] += 1
        for code in p:
            n_pred[r, col[code]] += 1
        for code in g & p:
            tp[r, col[code]] += 1
        if g:
            n_ranked[r] += 1
        for name, per_segment in (hits or {}).items():
            hit_counts[name][r] += bool(per_segment[i])
    return SourceCounts(tuple(source_ids), tp, n_pred, n_gold, n_segments, hit_counts,
                        n_ranked if hits else None)


def ranking_hits(proba: np.ndarray, ref: Sequence[set[str]], code_ids: Sequence[str], k: int,
                 theme_of: Mapping[str, str]) -> dict[str, list[bool | None]]:
    """Per segment: does its top-1 / top-k / top-1 theme match a reference code (None: no code)."""
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k] if len(ref) else np.zeros((0, k))
    out: dict[str, list[bool | None]] = {"top1_accuracy": [], f"top{k}_accuracy": [],
                                         "theme_top1_accuracy": []}
    for i, labels in enumerate(ref):
        if not labels:
            for values in out.values():
                values.append(None)
            continue
        best = [code_ids[int(j)] for j in order[i]]
        out["top1_accuracy"].append(best[0] in labels)
        out[f"top{k}_accuracy"].append(any(c in labels for c in best))
        out["theme_top1_accuracy"].append(theme_of[best[0]] in {theme_of[c] for c in labels})
    return out


def resample(n_sources: int, draws: int, seed: int) -> np.ndarray:
    """(draws, n_sources): how often each source is picked in each draw (with replacement)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_sources, np.full(n_sources, 1.0 / n_sources), size=draws)


def figures_from_counts(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray,
                        n_segments: np.ndarray) -> dict[str, np.ndarray]:
    """Micro/macro F1, pooled kappa, alpha and AC1 from totals; leading axes are draws."""
    n_codes = tp.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        TP, NP, NG = tp.sum(-1), n_pred.sum(-1), n_gold.sum(-1)
        micro = np.where(NP + NG > 0, 2 * TP / (NP + NG), np.nan)
        f1 = np.where(n_gold > 0, 2 * tp / (n_pred + n_gold), np.nan)
        supported = (n_gold > 0).sum(-1)
        macro = np.where(supported > 0, np.nansum(f1, axis=-1) / supported, np.nan)
        # The segment x code units as a 2 x 2 table (reference rows, hypothesis columns).
        units = n_segments * n_codes
        n11, n10, n01 = TP, NG - TP, NP - TP
        n00 = units - n11 - n10 - n01
        po = (n11 + n00) / units
        ref1, hyp1 = (n11 + n10) / units, (n11 + n01) / units
        pe = ref1 * hyp1 + (1 - ref1) * (1 - hyp1)
        kappa = np.where(1 - pe > 1e-14, (po - pe) / (1 - pe), np.nan)
        values = 2 * units
        ones = 2 * n11 + n10 + n01
        zeros = values - ones
        alpha = np.where(ones * zeros > 0,
                         1 - (values - 1) * (n10 + n01) / (ones * zeros), np.nan)
        pi = ones / values
        pe_ac1 = 2 * pi * (1 - pi)
        ac1 = (po - pe_ac1) / (1 - pe_ac1)
    return {"micro_f1": micro, "macro_f1": macro, "kappa": kappa,
            "krippendorff_alpha": alpha, "gwet_ac1": ac1}


def draw_figures(counts: SourceCounts, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every headline figure for each draw of `weights` (draws x sources)."""
    out = figures_from_counts(weights @ counts.tp, weights @ counts.n_pred,
                              weights @ counts.n_gold, weights @ counts.n_segments)
    if counts.n_ranked is not None:
        ranked = weights @ counts.n_ranked
        with np.errstate(divide="ignore", invalid="ignore"):
            for name, hits in counts.hits.items():
                out[name] = np.where(ranked > 0, (weights @ hits) / ranked, np.nan)
    return out


def interval(values: np.ndarray, level: float = 0.95) -> dict[str, float | int]:
    """Percentile interval over the draws where the figure is defined."""
    defined = values[~np.isnan(values)]
    tail = (1 - level) / 2 * 100
    if not len(defined):
        return {"low": float("nan"), "high": float("nan"), "undefined_draws": len(values)}
    low, high = np.percentile(defined, [tail, 100 - tail])
    return {"low": float(low), "high": float(high),
            "undefined_draws": int(len(values) - len(defined))}
