"""Krippendorff's unitizing family at the span level, as ATLAS.ti reports it, per code and overall.

Each side of a comparison (a gold coder; suggestions, decisions or a second coder) is a set of
coded spans: a gold coder's own spans, or a segment given a code as a span over the segment.
The sources are laid end to end as one continuum. The coefficients come from
`pipeline.unitizing`; this module decides what their units and values are here:

- **per code**: |uα (`binary_u_alpha`) of that code's spans, everything else gap (ATLAS.ti's
  α-binary of a code); (k)uα (`value_u_alpha`) of the code within its theme; and Krippendorff's
  1995/2004 coefficient (`u_alpha_1995`).
- **overall**: |uα of "coded with any code" vs not (`binary_u_alpha`); uα and cuα with the codes
  as the values of one variable (`u_alpha`, `cu_alpha`); Cuα with the themes as ATLAS.ti's
  semantic domains (`global_cu_alpha`); and the 1995/2004 coefficient pooled over codes.
- **per theme**: |uα and cuα of each theme's codes (ATLAS.ti's figures for one domain).

Spans of one side and one code that overlap are merged first (the coefficients assume none);
spans that touch stay separate units, so adjacent segments given the same code are two units.
uα, cuα and (k)uα need a side's codes to be mutually exclusive (one code per passage), within
a theme for Cuα and (k)uα: where a side gave overlapping spans two codes, those figures are
undefined and `notes` says how often.

All uα-family figures are functions of counts that add up over sources
(`pipeline.unitizing.UnitizingCounts`), so a bootstrap draw, which resamples whole sources, is a
weighted sum of per-source counts. The 1995/2004 coefficient pairs units with gaps anywhere on
the continuum, so it has no per-source decomposition and no interval.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.records import Coding, Source
from pipeline.unitizing import (
    UnitizingCounts,
    counts_alpha,
    counts_value_alpha,
    disagreements,
    disagreements_1995,
    unitizing_counts,
)

OVERALL = ("binary_u_alpha", "u_alpha", "cu_alpha", "global_cu_alpha", "u_alpha_1995")
PER_CODE = ("binary_u_alpha", "value_u_alpha", "u_alpha_1995")
WITH_INTERVALS = ("binary_u_alpha", "u_alpha", "cu_alpha", "global_cu_alpha", "value_u_alpha")
SIDES = ("reference", "hypothesis")
CODED = "(coded)"
ATLAS_TI = ("ATLAS.ti's intercoder agreement tool reports the same family: its α-binary is "
            "|u-alpha (binary_u_alpha; per code, and over any code), its cu-α of a semantic "
            "domain is cu-alpha (cu_alpha; of a theme, or of all codes taken as one domain), and "
            "its Cu-α over all semantic domains is Cu-alpha (global_cu_alpha) with the themes as "
            "domains; ATLAS.ti computes them on each coder's quotations, precode on gold spans "
            "and on segments given a code.")

Span = tuple[int, int, str]


@dataclass
class Unitized:
    """Per-source counts of one comparison and what had to be adjusted to compute them."""

    source_ids: list[str]
    code_ids: list[str]
    themes: dict[str, list[str]]  # theme -> its codes, codebook order
    per_code: list[list[UnitizingCounts]]  # [source][code]: that code's spans alone
    coded: list[UnitizingCounts]  # [source]: any code vs none
    all_codes: list[UnitizingCounts] | None  # [source]: codes as values (None: codes overlap)
    per_theme: dict[str, list[UnitizingCounts] | None]  # theme -> [source] (None: overlap)
    theme_coded: dict[str, list[UnitizingCounts]]  # theme -> [source]: any of its codes
    figures_1995: dict[str, tuple[float, float]]  # code -> (D_o, D_e)
    notes: dict[str, Any] = field(default_factory=dict)

    # -- point estimates ---------------------------------------------------------------------
    def per_code_figures(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for j, code in enumerate(self.code_ids):
            binary = float(counts_alpha(_total([c[j] for c in self.per_code]), "binary"))
            do, de = self.figures_1995[code]
            out[code] = {"binary_u_alpha": binary, "value_u_alpha": self._value_alpha(code),
                         "u_alpha_1995": 1.0 - do / de if de > 0 else math.nan}
        return out

    def overall_figures(self) -> dict[str, float]:
        do = sum(v[0] for v in self.figures_1995.values())
        de = sum(v[1] for v in self.figures_1995.values())
        whole = _total(self.all_codes) if self.all_codes is not None else None
        return {
            "binary_u_alpha": float(counts_alpha(_total(self.coded), "binary")),
            "u_alpha": float(counts_alpha(whole, "u")) if whole is not None else math.nan,
            "cu_alpha": float(counts_alpha(whole, "cu")) if whole is not None else math.nan,
            "global_cu_alpha": self._global(),
            "u_alpha_1995": 1.0 - do / de if de > 0 else math.nan,
        }

    def per_theme_figures(self) -> dict[str, dict[str, float]]:
        out = {}
        for theme in self.themes:
            counts = self.per_theme[theme]
            out[theme] = {
                "binary_u_alpha": float(counts_alpha(_total(self.theme_coded[theme]), "binary")),
                "cu_alpha": float(counts_alpha(_total(counts), "cu")) if counts is not None
                else math.nan,
            }
        return out

    def _value_alpha(self, code: str) -> float:
        theme = next(t for t, codes in self.themes.items() if code in codes)
        counts = self.per_theme[theme]
        if counts is None:
            return math.nan
        return float(counts_value_alpha(_total(counts), self.themes[theme].index(code)))

    def _global(self) -> float:
        observed = expected = 0.0
        for counts in self.per_theme.values():
            if counts is None:
                return math.nan
            total = _total(counts)
            do, de = disagreements(total.observed[1:, 1:], total.valued_squares)
            observed += float(do)
            expected += float(de)
        return 1.0 - observed / expected if expected > 1e-9 else math.nan

    # -- bootstrap -----------------------------------------------------------------------------
    def draw(self, weights: np.ndarray) -> tuple[dict[str, np.ndarray],
                                                 dict[str, dict[str, np.ndarray]]]:
        """Overall and per-code figures for each draw of `weights` (draws x sources)."""
        n_draws = weights.shape[0]
        nan = np.full(n_draws, np.nan)
        coded = _weighted(self.coded, weights)
        overall = {"binary_u_alpha": counts_alpha(self.coded[0], "binary", coded["observed"],
                                                  coded["unit_squares"])}
        if self.all_codes is not None:
            whole = _weighted(self.all_codes, weights)
            overall["u_alpha"] = counts_alpha(self.all_codes[0], "u", whole["observed"],
                                              whole["unit_squares"])
            overall["cu_alpha"] = counts_alpha(self.all_codes[0], "cu", whole["observed"],
                                               valued_squares=whole["valued_squares"])
        else:
            overall["u_alpha"] = overall["cu_alpha"] = nan
        themes = {t: _weighted(c, weights) for t, c in self.per_theme.items() if c is not None}
        if len(themes) == len(self.per_theme) and themes:
            do = sum(disagreements(w["observed"][..., 1:, 1:], w["valued_squares"])[0]
                     for w in themes.values())
            de = sum(disagreements(w["observed"][..., 1:, 1:], w["valued_squares"])[1]
                     for w in themes.values())
            with np.errstate(divide="ignore", invalid="ignore"):
                overall["global_cu_alpha"] = np.where(de > 1e-9, 1.0 - do / de, np.nan)
        else:
            overall["global_cu_alpha"] = nan
        per_code: dict[str, dict[str, np.ndarray]] = {}
        for j, code in enumerate(self.code_ids):
            counts = [c[j] for c in self.per_code]
            w = _weighted(counts, weights)
            figures = {"binary_u_alpha": counts_alpha(counts[0], "binary", w["observed"],
                                                      w["unit_squares"])}
            theme = next(t for t, codes in self.themes.items() if code in codes)
            if theme in themes:
                t = themes[theme]
                figures["value_u_alpha"] = counts_value_alpha(
                    self.per_theme[theme][0],  # type: ignore[index]
                    self.themes[theme].index(code), t["observed"], t["valued_squares"],
                    t["coders_using"])
            else:
                figures["value_u_alpha"] = nan
            per_code[code] = figures
        return overall, per_code


def unitize(ref: Sequence[Coding], hyp: Sequence[Coding], sources: Sequence[Source],
            code_ids: Sequence[str], theme_of: Mapping[str, str]) -> Unitized:
    """Counts per source for the family, from the two sides' coded spans."""
    themes: dict[str, list[str]] = {}
    for code in code_ids:
        themes.setdefault(theme_of[code], []).append(code)
    merged = {side: 0 for side in SIDES}
    code_overlaps = {side: 0 for side in SIDES}
    theme_overlaps: dict[str, int] = defaultdict(int)
    spans = {side: _by_source(codings) for side, codings in zip(SIDES, (ref, hyp), strict=True)}
    per_code, coded, all_codes, theme_coded = [], [], [], defaultdict(list)
    per_theme: dict[str, list[UnitizingCounts] | None] = {t: [] for t in themes}
    exclusive = True
    for source in sources:
        length = len(source.text)
        by_code = {}
        for side in SIDES:
            code_spans, n_merged = _merge_per_code(spans[side].get(source.id, []))
            merged[side] += n_merged
            by_code[side] = code_spans
        per_code.append([unitizing_counts(
            {side: [s for s in by_code[side] if s[2] == code] for side in SIDES}, length, [code],
            where="evaluate") for code in code_ids])
        coded.append(unitizing_counts({side: _union(by_code[side], CODED) for side in SIDES},
                                      length, [CODED], where="evaluate"))
        overlapping = {side: _overlaps(by_code[side]) for side in SIDES}
        for side in SIDES:
            code_overlaps[side] += overlapping[side]
        if exclusive and not any(overlapping.values()):
            all_codes.append(unitizing_counts({side: by_code[side] for side in SIDES}, length,
                                              code_ids, where="evaluate"))
        else:
            exclusive = False
        for theme, codes in themes.items():
            inside = {side: [s for s in by_code[side] if s[2] in codes] for side in SIDES}
            theme_coded[theme].append(unitizing_counts(
                {side: _union(inside[side], CODED) for side in SIDES}, length, [CODED],
                where="evaluate"))
            clash = sum(_overlaps(inside[side]) for side in SIDES)
            theme_overlaps[theme] += clash
            counts = per_theme[theme]
            if counts is not None and not clash:
                counts.append(unitizing_counts(inside, length, codes, where="evaluate"))
            else:
                per_theme[theme] = None
    figures_1995 = _figures_1995(spans, sources, code_ids)
    notes: dict[str, Any] = {
        "atlas_ti": ATLAS_TI,
        "units": "a gold span is a unit; a segment given a code is a unit over the segment; "
                 "adjacent units stay separate; the sources are laid end to end",
        "domains": "themes are the semantic domains (global_cu_alpha, per_theme, "
                   "value_u_alpha); cu_alpha and u_alpha take all codes as one domain",
        "merged_overlapping_spans": merged,
        "overlapping_codes": code_overlaps,
        "themes_with_overlapping_codes": {t: n for t, n in theme_overlaps.items() if n},
        "u_alpha_1995": "Krippendorff (1995; 2004): per code, and over all codes pooled as "
                        "1 - sum D_o / sum D_e; gaps stop at source borders; no interval",
    }
    if any(code_overlaps.values()):
        notes["undefined"] = (
            "u_alpha and cu_alpha assume one code per passage (mutually exclusive values, as "
            "ATLAS.ti asks of the codes of one semantic domain); a side gave overlapping spans "
            f"two codes ({code_overlaps['reference']} times in the reference, "
            f"{code_overlaps['hypothesis']} in the hypothesis), so they are undefined; "
            "global_cu_alpha and value_u_alpha are undefined for themes listed under "
            "themes_with_overlapping_codes")
    return Unitized([s.id for s in sources], list(code_ids), themes, per_code, coded,
                    all_codes if exclusive else None, per_theme, dict(theme_coded),
                    figures_1995, notes)


# -- helpers -------------------------------------------------------------------------------------


def _by_source(codings: Sequence[Coding]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = defaultdict(list)
    for c in codings:
        out[c.source_id].append((c.start, c.end, c.code_id))
    return out


def _merge_per_code(spans: Sequence[Span]) -> tuple[list[Span], int]:
    """Overlapping spans of one code merged (touching ones kept apart); how many merges."""
    out: list[Span] = []
    merges = 0
    by_code: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s, e, code in spans:
        by_code[code].append((s, e))
    for code, pieces in by_code.items():
        current: list[int] | None = None
        for s, e in sorted(set(pieces)):
            if current is not None and s < current[1]:
                current[1] = max(current[1], e)
                merges += 1
                continue
            if current is not None:
                out.append((current[0], current[1], code))
            current = [s, e]
        if current is not None:
            out.append((current[0], current[1], code))
        merges += len(pieces) - len(set(pieces))  # exact duplicates
    return sorted(out), merges


def _union(spans: Sequence[Span], value: str) -> list[Span]:
    """All spans as one value, overlapping ones merged, touching ones kept apart."""
    out: list[Span] = []
    for s, e, _ in sorted(spans):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e), value)
        else:
            out.append((s, e, value))
    return out


def _overlaps(spans: Sequence[Span]) -> int:
    """How many spans overlap an earlier one (spans of one code never do after merging)."""
    count, reach = 0, -1
    for s, e, _ in sorted(spans):
        if s < reach:
            count += 1
        reach = max(reach, e)
    return count


def _total(counts: Sequence[UnitizingCounts]) -> UnitizingCounts:
    total = counts[0]
    for c in counts[1:]:
        total = total + c
    return total


def _weighted(counts: Sequence[UnitizingCounts], weights: np.ndarray) -> dict[str, np.ndarray]:
    """Each draw's sums: weights (draws x sources) times the per-source arrays."""
    return {
        "observed": np.einsum("ds,sij->dij", weights, np.stack([c.observed for c in counts])),
        "unit_squares": weights @ np.stack([c.unit_squares for c in counts]),
        "valued_squares": weights @ np.stack([c.valued_squares for c in counts]),
        "coders_using": np.einsum("ds,sij->dij", weights,
                                  np.stack([c.coders_using for c in counts])),
    }


def _figures_1995(spans: Mapping[str, Mapping[str, list[Span]]], sources: Sequence[Source],
                  code_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
    """(D_o, D_e) of Krippendorff's 1995/2004 coefficient per code, sources end to end."""
    offsets, borders, total = {}, [], 0
    for source in sources:
        offsets[source.id] = total
        borders.append(total)
        total += len(source.text)
    out = {}
    for code in code_ids:
        units = []
        for side in SIDES:
            side_units: list[tuple[int, int]] = []
            for source in sources:
                merged, _ = _merge_per_code(
                    [s for s in spans[side].get(source.id, []) if s[2] == code])
                side_units += [(s + offsets[source.id], e + offsets[source.id])
                               for s, e, _ in merged]
            units.append(sorted(side_units))
        out[code] = disagreements_1995(units, total, borders)
    return out
