"""The figures of one comparison, as pure functions over plain data.

A comparison pairs a *reference* (a gold coder) with a *hypothesis* (suggestions, review
decisions or another coder) on the same segments. Each side gives, per segment, the set of codes
it carries (segment level) and its coded spans (span level). Segment-level figures come from
`pipeline.metrics` and `pipeline.agreement`; nothing here re-derives a coefficient.

Multi-label agreement (Krippendorff's alpha, Gwet's AC1, pooled Cohen's kappa) is computed over
*segment x code* units: for every segment and every code, each side says "present" or
"absent". NaN means undefined (a ratio with nothing to divide by, or no variation to correct
for chance); the report turns it into null with a note.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.agreement import (
    cohen_kappa,
    gwet_ac1,
    krippendorff_alpha,
    nvivo_kappa,
)
from pipeline.metrics import (
    macro_f1,
    micro_f1,
    per_code_scores,
    theme_accuracy,
    thresholded,
    topk_accuracy,
)
from pipeline.records import Coding, Segment, Source

NONE = "(none)"
Figures = dict[str, float]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a name, code sets per segment id, and coded spans."""

    name: str
    labels: Mapping[str, set[str]]
    spans: Sequence[Coding]


def binary_units(ref: Sequence[set[str]], hyp: Sequence[set[str]],
                 code_ids: Sequence[str]) -> list[list[int]]:
    """One row per (segment, code): [reference has it, hypothesis has it] as 1/0."""
    return [[int(c in g), int(c in p)] for g, p in zip(ref, hyp, strict=True) for c in code_ids]


def presence_kappa(ref: Sequence[set[str]], hyp: Sequence[set[str]], code: str) -> float:
    """Cohen's kappa on presence/absence of one code per segment."""
    return cohen_kappa([code in g for g in ref], [code in p for p in hyp])


def segment_figures(ref: Sequence[set[str]], hyp: Sequence[set[str]],
                    code_ids: Sequence[str]) -> tuple[dict[str, Figures], Figures]:
    """Per-code and overall segment-level figures."""
    per_code: dict[str, Figures] = {}
    for code, scores in per_code_scores(hyp, ref, code_ids).items():
        per_code[code] = {**scores, "kappa": presence_kappa(ref, hyp, code)}
    tp = sum(len(g & p) for g, p in zip(ref, hyp, strict=True))
    n_pred, n_gold = sum(len(p) for p in hyp), sum(len(g) for g in ref)
    units = binary_units(ref, hyp, code_ids)
    overall = {
        "micro_precision": tp / n_pred if n_pred else math.nan,
        "micro_recall": tp / n_gold if n_gold else math.nan,
        "micro_f1": micro_f1(hyp, ref),
        "macro_f1": macro_f1(per_code),
        "kappa": cohen_kappa([u[0] for u in units], [u[1] for u in units]),
        "krippendorff_alpha": krippendorff_alpha(units),
        "gwet_ac1": gwet_ac1(units, categories=[0, 1]),
        "exact_match": sum(g == p for g, p in zip(ref, hyp, strict=True)) / len(ref),
    }
    return per_code, overall


def span_figures(ref: Sequence[Coding], hyp: Sequence[Coding], sources: Sequence[Source],
                 code_ids: Sequence[str]) -> tuple[dict[str, Figures], Figures]:
    """Character-level kappa (NVivo style), per code and averaged over sources.

    `char_kappa` is `nvivo_kappa` per source, averaged over the sources where it is defined
    (`char_kappa_sources` of them; a source where neither side used the code has none).
    Krippendorff's unitizing family (ATLAS.ti style) is in `pipeline.evaluate.unitized`.
    """
    per_source: dict[tuple[str, str], tuple[list[tuple[int, int]], list[tuple[int, int]]]] = \
        defaultdict(lambda: ([], []))
    for side, spans in ((0, ref), (1, hyp)):
        for c in spans:
            per_source[(c.source_id, c.code_id)][side].append((c.start, c.end))
    per_code: dict[str, Figures] = {}
    for code in code_ids:
        kappas = []
        for source in sources:
            a, b = per_source.get((source.id, code), ([], []))
            if a or b:
                value = nvivo_kappa(a, b, len(source.text))
                if not math.isnan(value):
                    kappas.append(value)
        per_code[code] = {
            "char_kappa": float(np.mean(kappas)) if kappas else math.nan,
            "char_kappa_sources": len(kappas),
        }
    defined = [f["char_kappa"] for f in per_code.values() if not math.isnan(f["char_kappa"])]
    overall = {"char_kappa_mean": float(np.mean(defined)) if defined else math.nan}
    return per_code, overall


def roll_up(sets: Sequence[set[str]], theme_of: Mapping[str, str]) -> list[set[str]]:
    return [{theme_of[c] for c in s} for s in sets]


def theme_figures(ref: Sequence[set[str]], hyp: Sequence[set[str]],
                  theme_of: Mapping[str, str], theme_ids: Sequence[str]) -> dict[str, object]:
    """Segment-level figures after rolling codes up to their themes."""
    per_theme, overall = segment_figures(roll_up(ref, theme_of), roll_up(hyp, theme_of),
                                         theme_ids)
    return {"per_theme": per_theme, "overall": overall}


def confusion(ref: Sequence[set[str]], hyp: Sequence[set[str]]) -> dict[str, dict[str, float]]:
    """A code-by-code confusion table (reference rows, hypothesis columns), zero cells left out.

    Per segment, a code both sides gave counts 1 on the diagonal. Each reference code the
    hypothesis missed counts 1, split evenly over the codes the hypothesis gave instead (or
    put under "(none)" when it gave nothing else), so a row sums to the code's support. A
    hypothesis code with no missed reference code to stand for counts in the "(none)" row;
    a segment neither side coded counts in ("(none)", "(none)").
    """
    table: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for g, p in zip(ref, hyp, strict=True):
        for code in g & p:
            table[code][code] += 1
        missed, extra = g - p, p - g
        if not g and not p:
            table[NONE][NONE] += 1
        for code in missed:
            if extra:
                for other in extra:
                    table[code][other] += 1 / len(extra)
            else:
                table[code][NONE] += 1
        if not missed:
            for other in extra:
                table[NONE][other] += 1
    return {r: {c: round(v, 6) for c, v in sorted(row.items())} for r, row in sorted(table.items())}


def top_confusions(table: Mapping[str, Mapping[str, float]],
                   n: int = 10) -> list[dict[str, object]]:
    """The largest cells where both sides gave a code but not the same one."""
    cells = [(v, r, c) for r, row in table.items() for c, v in row.items()
             if r != c and NONE not in (r, c)]
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [{"reference": r, "hypothesis": c, "count": v} for v, r, c in cells[:n]]


def ranking_figures(proba: np.ndarray, ref: Sequence[set[str]], code_ids: Sequence[str], k: int,
                    theme_of: Mapping[str, str]) -> Figures:
    """Top-1 and top-k accuracy on the segments that carry a reference code, and theme top-1."""
    return {
        "top1_accuracy": topk_accuracy(proba, ref, code_ids, 1),
        f"top{k}_accuracy": topk_accuracy(proba, ref, code_ids, k),
        "theme_top1_accuracy": theme_accuracy(proba, ref, code_ids, theme_of),
    }


def sweep(proba: np.ndarray, ref: Sequence[set[str]], code_ids: Sequence[str],
          thresholds: Sequence[float], top_k: int) -> list[Figures]:
    """Precision and recall per threshold, suggesting at most `top_k` codes as the run does."""
    rows = []
    for t in thresholds:
        hyp = thresholded(proba, code_ids, t, top_k)
        per_code = per_code_scores(hyp, ref, code_ids)
        tp = sum(len(g & p) for g, p in zip(ref, hyp, strict=True))
        n_pred, n_gold = sum(len(p) for p in hyp), sum(len(g) for g in ref)
        rows.append({
            "threshold": t,
            "micro_precision": tp / n_pred if n_pred else math.nan,
            "micro_recall": tp / n_gold if n_gold else math.nan,
            "micro_f1": micro_f1(hyp, ref),
            "macro_f1": macro_f1(per_code),
            "codes_per_segment": n_pred / len(hyp) if hyp else math.nan,
            "uncoded_share": sum(1 for p in hyp if not p) / len(hyp) if hyp else math.nan,
        })
    return rows


def segments_in(segments: Sequence[Segment], source_ids: set[str]) -> list[Segment]:
    return [s for s in segments if s.source_id in source_ids]
