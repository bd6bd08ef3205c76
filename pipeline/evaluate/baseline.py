"""The human baseline: the coders' agreement with each other beside the machine's with each.

All figures here are symmetric (micro F1, pooled kappa, alpha, AC1, character kappa, the
unitizing |uα and cuα), so "A vs B" and "B vs A" are the same row. They are computed on the sources
every coder coded, and the intervals of all pairs come from the same resampled sources, so the
difference between the machine's mean alpha and the coders' mean alpha has a paired interval.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import pipeline.evaluate.bootstrap as bs
from pipeline.evaluate.figures import Side, segment_figures, segments_in, span_figures
from pipeline.evaluate.inputs import coder_side
from pipeline.evaluate.unitized import unitize
from pipeline.gold import GoldSet
from pipeline.records import Codebook, Segment, Source

SYMMETRIC = ("micro_f1", "kappa", "krippendorff_alpha", "gwet_ac1", "char_kappa_mean",
             "binary_u_alpha", "cu_alpha")


def human_baseline(gold: GoldSet, machine: Side, all_sources: Sequence[Source],
                   all_segments: Sequence[Segment], selected: set[str], book: Codebook,
                   min_share: float, draws: int, seed: int) -> dict[str, Any]:
    """Coders with each other, and the machine with each coder, on the sources all coded."""
    coders = gold.coders
    if len(coders) < 2:
        return {"note": f"the gold file has one coder ({coders[0]}): no human baseline"}
    common = set(selected)
    for c in coders:
        common &= {x.source_id for x in gold.by_coder(c)}
    sources = [s for s in all_sources if s.id in common]
    segments = segments_in(all_segments, common)
    if not segments:
        return {"note": "no source was coded by every coder: no human baseline"}
    code_ids = book.code_ids()
    theme_of = {c.id: t.id for t, c in book.codes()}
    sides = {c: coder_side(f"coder {c}", [x for x in gold.by_coder(c) if x.source_id in common],
                           segments, min_share) for c in coders}
    sides[machine.name] = Side(machine.name, machine.labels,
                               [x for x in machine.spans if x.source_id in common])
    pairs = [(a, b, "human") for a, b in itertools.combinations(coders, 2)]
    pairs += [(c, machine.name, "machine") for c in coders]
    n = len(sources)
    weights = bs.resample(n, draws, seed) if draws and n >= 2 else None
    rows, draws_by_kind = [], {"human": [], "machine": []}  # type: ignore[var-annotated]
    for a, b, kind in pairs:
        ref_sets = [sides[a].labels[s.id] for s in segments]
        hyp_sets = [set(sides[b].labels.get(s.id, set())) for s in segments]
        _, overall = segment_figures(ref_sets, hyp_sets, code_ids)
        _, spans = span_figures(sides[a].spans, sides[b].spans, sources, code_ids)
        family = unitize(sides[a].spans, sides[b].spans, sources, code_ids,
                         theme_of).overall_figures()
        figures = {k: (overall | spans | family)[k] for k in SYMMETRIC}
        row: dict[str, Any] = {"pair": f"{sides[a].name} vs {sides[b].name}", "kind": kind,
                               "figures": figures, "intervals": {}}
        if weights is not None:
            counts = bs.source_counts(segments, ref_sets, hyp_sets, code_ids,
                                      [s.id for s in sources])
            values = bs.draw_figures(counts, weights)
            row["intervals"] = {k: bs.interval(values[k]) for k in ("micro_f1",
                                                                     "krippendorff_alpha")}
            draws_by_kind[kind].append(values["krippendorff_alpha"])
        rows.append(row)
    human = [r["figures"]["krippendorff_alpha"] for r in rows if r["kind"] == "human"]
    machine_alpha = [r["figures"]["krippendorff_alpha"] for r in rows if r["kind"] == "machine"]
    difference = float(np.mean(machine_alpha) - np.mean(human))
    gap: dict[str, Any] = {"figure": "krippendorff_alpha", "difference": difference,
                           "machine_mean": float(np.mean(machine_alpha)),
                           "human_mean": float(np.mean(human))}
    if weights is not None:
        diff = np.mean(draws_by_kind["machine"], axis=0) - np.mean(draws_by_kind["human"], axis=0)
        gap["interval"] = bs.interval(diff)
    gap["verdict"] = verdict(machine.name, gap)
    return {"sources": [s.name for s in sources], "segments": len(segments),
            "note": "on the sources every coder coded; every figure here is symmetric",
            "pairs": rows, "gap": gap}


def verdict(name: str, gap: dict[str, Any]) -> str:
    diff, ci = gap["difference"], gap.get("interval")
    if math.isnan(diff):
        return "no verdict: an alpha it compares is undefined"
    text = (f"Krippendorff's alpha of {name} with each coder is {gap['machine_mean']:.3f} on "
            f"average, of the coders with each other {gap['human_mean']:.3f}; difference "
            f"{diff:+.3f}")
    if not ci or math.isnan(ci["low"]):
        return text + " (no interval, so no verdict)"
    text += f" (95% interval {ci['low']:+.3f} to {ci['high']:+.3f})"
    if ci["high"] < 0:
        return text + f": {name} agree with the coders less than they agree with each other"
    if ci["low"] > 0:
        return text + f": {name} agree with the coders more than they agree with each other"
    return text + ": within human disagreement"
