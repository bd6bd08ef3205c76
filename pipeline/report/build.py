"""The report's content as plain data: counts, quotes, co-occurrence, evaluation, review.

`build_report(view, settings)` reads nothing but the `RunView` it is given (plus
`evaluation.json` and `discovery.json` when they exist) and returns a `dict` the templates
render, with the figures as SVG text. Which codes a segment carries follows
`pipeline.run_folder.codes.RULE`.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import pipeline.report.charts as charts
from pipeline.config import ReportSettings, check_values
from pipeline.errors import RunFolderError
from pipeline.ingest.participants import speaker_attributes
from pipeline.language import word_count
from pipeline.records import Segment, Source
from pipeline.run_folder.codes import RULE, RunCodes, run_codes
from pipeline.run_folder.evaluation import (
    UNDEFINED,
    figure_label,
    format_figure,
    format_interval,
    read_evaluation,
)
from pipeline.run_folder.view import RunView

MAX_PAIRS = 15
def build_report(view: RunView, settings: ReportSettings) -> dict[str, Any]:
    """Everything the report shows, as plain data (figures as SVG text)."""
    check_values({"report": settings})
    book, sources, segments = view.codebook, view.sources, view.segments
    by_source = {s.id: s for s in sources}
    code_ids = book.code_ids()
    coded = run_codes(segments, view.suggestion_lines(), view.decisions, code_ids)
    warnings = list(coded.warnings)
    theme_of = {c.id: t.id for t, c in book.codes()}

    people = _participants(segments, by_source)
    attrs = _attribute_columns(people, settings)
    counts = _code_counts(segments, coded, book, people, attrs)
    manifest = view.manifest
    suggest_stage = manifest.get("stages", {}).get("suggest", {})
    config = manifest.get("config", {})
    n_coded = sum(1 for codes in coded.codes.values() if codes)
    summary = {
        "sources": len(sources), "participants": len(people), "segments": len(segments),
        "coded_segments": n_coded, "reviewed_segments": len(coded.reviewed),
        "codes": len(code_ids), "themes": len(book.themes),
        "codebook": f"{book.name} (version {book.version})",
        "method": suggest_stage.get("method") or "—",
        "threshold": config.get("suggest", {}).get("threshold"),
        "model": config.get("embed", {}).get("model") if config.get("embed", {}).get(
            "backend") not in ("hashed-ngrams", "tfidf") else "hashed word and character n-grams",
        "created": manifest.get("created", ""),
    }
    freq_svg = charts.frequency_chart(
        code_ids, [counts["by_code"][c]["segments"] for c in code_ids],
        [counts["by_code"][c]["sources"] for c in code_ids], [theme_of[c] for c in code_ids],
        len(sources)) if code_ids else ""
    seg_matrix, turn_matrix = cooccurrence(segments, coded.codes, code_ids)
    pairs = _top_pairs(seg_matrix, turn_matrix, code_ids)
    report: dict[str, Any] = {
        "title": f"precode report: {view.name}",
        "run_name": view.name,
        "generated": time.strftime("%Y-%m-%d %H:%M"),
        "summary": summary,
        "rule": RULE,
        "attributes": attrs,
        "themes": counts["themes"],
        "quotes": _quotes(segments, coded, book, by_source, settings,
                          [a["name"] for a in attrs]),
        "quotes_per_code": int(settings["quotes_per_code"]),
        "quote_max_chars": int(settings["quote_max_chars"]),
        "quote_min_words": int(settings["quote_min_words"]),
        "frequency_svg": freq_svg,
        "cooccurrence": {
            "segment_svg": charts.heatmap(seg_matrix, code_ids, "Within segments",
                                          "segments") if code_ids else "",
            "turn_svg": charts.heatmap(turn_matrix, code_ids, "Within speaker turns",
                                       "turns") if code_ids else "",
            "pairs": pairs,
            "turns": len({(s.source_id, s.turn_index) for s in segments}),
            "max_pairs": MAX_PAIRS,
        },
        "evaluation": _evaluation(view, warnings),
        "review": _review(view, coded, code_ids),
        "candidates": _candidates(view, warnings),
        "warnings": warnings,
    }
    return report


# -- participants and counts -------------------------------------------------------------

def _participants(segments: Sequence[Segment],
                  by_source: Mapping[str, Source]) -> dict[tuple[str, str], dict[str, str]]:
    """(source id, speaker) -> attributes, for every non-interviewer speaker with a segment."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for seg in segments:
        key = (seg.source_id, seg.speaker)
        if seg.role != "interviewer" and key not in out:
            out[key] = speaker_attributes(by_source[seg.source_id], seg.speaker)
    return out


def _attribute_columns(people: Mapping[tuple[str, str], dict[str, str]],
                       settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attributes to count codes by, each with its values and how many participants
    have each value. Chosen: `report.attributes`, else every attribute most participants
    have, with 2 to `max_attribute_values` values, that puts at least half of them in groups
    of two or more (a profession, not an id or a workplace)."""
    wanted = [str(a) for a in settings["attributes"] or []]
    names = wanted or sorted({k for a in people.values() for k in a})
    out = []
    for name in names:
        values = Counter(a[name] for a in people.values() if a.get(name))
        if not wanted:
            grouped = sum(n for n in values.values() if n >= 2)
            if sum(values.values()) * 2 < len(people) or not 2 <= len(values) <= \
                    int(settings["max_attribute_values"]) or grouped * 2 < len(people):
                continue
        if not values:
            continue
        out.append({"name": name, "values": [{"value": v, "n": n} for v, n in
                                              sorted(values.items(), key=lambda kv: (-kv[1],
                                                                                     kv[0]))]})
    return out


def _code_counts(segments: Sequence[Segment], coded: RunCodes, book: Any,
                 people: Mapping[tuple[str, str], dict[str, str]],
                 attrs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    segs_of: dict[str, list[Segment]] = defaultdict(list)
    for seg in segments:
        for code in coded.codes.get(seg.id, ()):
            segs_of[code].append(seg)

    def row(members: Sequence[Segment]) -> dict[str, Any]:
        who = {(s.source_id, s.speaker) for s in members} & set(people)
        cells: dict[str, list[dict[str, int]]] = {}
        for attr in attrs:
            name = attr["name"]
            cells[name] = []
            for value in attr["values"]:
                having = [p for p in who if people[p].get(name) == value["value"]]
                n_segs = sum(1 for s in members if people.get((s.source_id, s.speaker), {})
                             .get(name) == value["value"])
                cells[name].append({"participants": len(having), "of": value["n"],
                                    "segments": n_segs})
        return {"segments": len({s.id for s in members}),
                "sources": len({s.source_id for s in members}),
                "participants": len(who), "by_attribute": cells}

    by_code = {}
    themes = []
    for theme in book.themes:
        codes = []
        for code in theme.codes:
            by_code[code.id] = row(segs_of[code.id]) | {"id": code.id, "name": code.name}
            codes.append(by_code[code.id])
        members = [s for c in theme.codes for s in segs_of[c.id]]
        themes.append(row(members) | {"id": theme.id, "name": theme.name, "codes": codes})
    return {"by_code": by_code, "themes": themes}


# -- quotes ------------------------------------------------------------------------------

def shorten(text: str, limit: int) -> tuple[str, bool]:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…", True


def _words(text: str) -> int:
    return int(word_count(text))


def _quotes(segments: Sequence[Segment], coded: RunCodes, book: Any,
            by_source: Mapping[str, Source], settings: Mapping[str, Any],
            attr_names: Sequence[str]) -> list[dict[str, Any]]:
    """Per code, the top quotes: segments of `quote_min_words` words or more before shorter
    ones, then confirmed in review first, then by score; one per source before a second from
    any source, so a results section quotes several participants."""
    limit, max_chars = int(settings["quotes_per_code"]), int(settings["quote_max_chars"])
    min_words = int(settings["quote_min_words"])
    segs_of: dict[str, list[Segment]] = defaultdict(list)
    for seg in segments:
        for code in coded.codes.get(seg.id, ()):
            segs_of[code].append(seg)
    out = []
    for theme, code in book.codes():
        members = segs_of[code.id]

        def rank(seg: Segment, code_id: str = code.id) -> tuple[Any, ...]:
            return (_words(seg.text) < min_words, -int((seg.id, code_id) in coded.confirmed),
                    -coded.scores.get((seg.id, code_id), 0.0), seg.source_id, seg.start)

        ordered = sorted(members, key=rank)
        chosen: list[Segment] = []
        used: set[str] = set()
        for seg in ordered:  # one per source first
            if len(chosen) < limit and seg.source_id not in used:
                chosen.append(seg)
                used.add(seg.source_id)
        for seg in ordered:
            if len(chosen) < limit and seg not in chosen:
                chosen.append(seg)
        items = []
        for seg in sorted(chosen, key=rank):
            source = by_source[seg.source_id]
            text, cut = shorten(seg.text, max_chars)
            person = speaker_attributes(source, seg.speaker)
            items.append({
                "text": text, "shortened": cut, "speaker": seg.speaker, "source": source.name,
                "lang": "zh" if source.language.startswith("zh") else source.language,
                "attributes": ", ".join(person[a] for a in attr_names if person.get(a)),
                "score": coded.scores.get((seg.id, code.id)),
                "confirmed": (seg.id, code.id) in coded.confirmed,
                "segment_id": seg.id,
            })
        out.append({"code": code.id, "name": code.name, "theme": theme.name,
                    "total": len(members), "items": items})
    return out


# -- co-occurrence -----------------------------------------------------------------------

def cooccurrence(segments: Sequence[Segment], codes: Mapping[str, set[str]],
                 code_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Counts of code pairs within segments and within speaker turns (symmetric; the
    diagonal holds how many segments or turns carry each code)."""
    index = {c: i for i, c in enumerate(code_ids)}
    n = len(code_ids)
    seg_m = np.zeros((n, n), dtype=int)
    turn_codes: dict[tuple[str, int], set[int]] = defaultdict(set)
    for seg in segments:
        present = sorted(index[c] for c in codes.get(seg.id, ()) if c in index)
        for i in present:
            for j in present:
                seg_m[i, j] += 1
        turn_codes[(seg.source_id, seg.turn_index)].update(present)
    turn_m = np.zeros((n, n), dtype=int)
    for present_set in turn_codes.values():
        present = sorted(present_set)
        for i in present:
            for j in present:
                turn_m[i, j] += 1
    return seg_m, turn_m


def _top_pairs(seg_m: np.ndarray, turn_m: np.ndarray,
               code_ids: Sequence[str]) -> list[dict[str, Any]]:
    pairs = [(int(turn_m[i, j]), int(seg_m[i, j]), code_ids[i], code_ids[j])
             for i in range(len(code_ids)) for j in range(i + 1, len(code_ids))
             if turn_m[i, j] or seg_m[i, j]]
    pairs.sort(key=lambda p: (-p[0], -p[1], p[2], p[3]))
    return [{"a": a, "b": b, "turns": t, "segments": s} for t, s, a, b in pairs[:MAX_PAIRS]]


# -- evaluation --------------------------------------------------------------------------

def _read_json(view: RunView, name: str, warnings: list[str]) -> dict[str, Any] | None:
    path = view.folder.file(name)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        warnings.append(f"{path} could not be read ({exc}); its section is left out")
        return None
    return data if isinstance(data, dict) else None


def _evaluation(view: RunView, warnings: list[str]) -> dict[str, Any] | None:
    try:
        result = read_evaluation(view.folder)
    except RunFolderError as exc:
        warnings.append(f"{exc.render()}. Its section is left out")
        return None
    if result is None:
        return None
    hyp, intervals = result.hypothesis, result.intervals
    figure_ci = intervals.get("figures") or {}
    overall = [{"figure": figure_label(k), "value": format_figure(v),
                "interval": format_interval(figure_ci.get(k))}
               for k, v in result.overall.items()]
    code_ci = intervals.get("per_code") or {}
    per_code = [{"code": code, "n": format_figure(f.get("support")),
                 "given": format_figure(f.get("predicted")),
                 "precision": format_figure(f.get("precision")),
                 "recall": format_figure(f.get("recall")), "f1": format_figure(f.get("f1")),
                 "kappa": format_figure(f.get("kappa")),
                 "u_binary": format_figure(f.get("binary_u_alpha", f.get("unitizing_alpha"))),
                 "u_binary_ci": format_interval(code_ci.get(code, {}).get("binary_u_alpha"))}
                for code, f in result.per_code.items()]
    themes = [{"theme": theme, "u_binary": format_figure(f.get("binary_u_alpha")),
               "cu": format_figure(f.get("cu_alpha"))}
              for theme, f in (result.unitizing.get("per_theme") or {}).items()]
    baseline = result.human_baseline
    pairs = [{"pair": p.get("pair", ""), "kind": p.get("kind", ""),
              "f1": format_figure(p["figures"].get("micro_f1")),
              "kappa": format_figure(p["figures"].get("kappa")),
              "alpha": format_figure(p["figures"].get("krippendorff_alpha")),
              "alpha_ci": format_interval(p.get("intervals", {}).get("krippendorff_alpha")),
              "ac1": format_figure(p["figures"].get("gwet_ac1"))}
             for p in baseline.get("pairs", [])]
    sweep = result.threshold_sweep
    curve = charts.threshold_curve(sweep["rows"], sweep.get("run_threshold")) \
        if sweep and sweep.get("rows") else ""
    return {
        "compared": f"{hyp.get('name', '?')} against coder {result.reference_coder}",
        "detail": (f"{hyp.get('method')}, threshold {hyp.get('threshold')}, top "
                   f"{hyp.get('top_k')}") if result.hypothesis_kind == "suggestions" else "",
        "created": result.created,
        "sources": len(result.sources.get("evaluated", [])),
        "segments": result.segments.get("evaluated"),
        "with_reference": result.segments.get("with_reference_code"),
        "rule": result.alignment.get("rule", ""),
        "interval_note": (f"95% intervals: {intervals.get('draws')} bootstrap draws "
                          f"resampling {intervals.get('resampled')}"
                          + (f"; {intervals['note']}" if intervals.get("note") else ""))
        if figure_ci else intervals.get("note", ""),
        "overall": overall, "per_code": per_code,
        "unitizing_themes": themes,
        "atlas_ti": result.unitizing.get("atlas_ti", ""),
        "unitizing_note": result.unitizing.get("undefined", ""),
        "baseline_pairs": pairs,
        "baseline_note": (baseline.get("gap") or {}).get("verdict") or baseline.get("note", ""),
        "curve_svg": curve,
        "sweep_note": "" if curve else (
            "No threshold curve: run `precode evaluate RUN --gold FILE --threshold "
            "0.1:0.9:0.1` to add one."),
    }


# -- review ------------------------------------------------------------------------------

def _review(view: RunView, coded: RunCodes, code_ids: Sequence[str]) -> dict[str, Any] | None:
    if not view.decisions:
        return None
    verdicts = Counter(d.verdict for d in view.decisions)
    by_coder: dict[str, list[Any]] = defaultdict(list)
    for d in view.decisions:
        by_coder[d.coder].append(d)
    coders = [{"coder": c, "decisions": len(ds), "segments": len({d.segment_id for d in ds}),
               "last": max(d.timestamp for d in ds)} for c, ds in sorted(by_coder.items())]
    suggested: dict[str, set[str]] = defaultdict(set)
    for line in view.suggestion_lines():
        if line.code is not None:
            suggested[line.code].add(line.segment_id)
    rows = []
    for code in code_ids:
        segs = suggested[code]
        reviewed = {s for s in segs if s in coded.reviewed}
        confirmed = sum(1 for s in reviewed if (s, code) in coded.confirmed)
        added = sum(1 for s, c in coded.confirmed if c == code and s not in segs)
        rows.append({"code": code, "suggested": len(segs), "confirmed": confirmed,
                     "not_confirmed": len(reviewed) - confirmed,
                     "pending": len(segs) - len(reviewed), "added": added,
                     "rate": format_figure(confirmed / len(reviewed), 2)
                     if reviewed else UNDEFINED})
    with_suggestion = set().union(*suggested.values())
    total = len(view.segments)
    return {
        "reviewed": len(coded.reviewed), "total": total,
        "share": len(coded.reviewed) / total if total else 0.0,
        "suggested_reviewed": len(with_suggestion & coded.reviewed),
        "with_suggestion": len(with_suggestion),
        "verdicts": [{"verdict": v, "n": verdicts.get(v, 0)}
                     for v in ("accept", "reject", "relabel", "retract")],
        "coders": coders, "per_code": rows,
        "svg": charts.review_chart(rows),
    }


# -- candidates --------------------------------------------------------------------------

def _candidates(view: RunView, warnings: list[str]) -> dict[str, Any] | None:
    data = _read_json(view, "discovery.json", warnings)
    if data is None:
        return None
    known = {s.id for s in view.segments}
    rows = []
    stale = False
    for c in data.get("candidates", []):
        try:
            near = c.get("nearest") or {}
            stale = stale or any(s not in known for s in c.get("segment_ids", []))
            exemplar = (c.get("exemplars") or [{}])[0]
            rows.append({
                "id": c["id"], "size": c["size"], "sources": len(c.get("sources", {})),
                "speakers": len(c.get("speakers", [])),
                "keywords": ", ".join(c.get("keywords", [])),
                "nearest": near.get("code", UNDEFINED),
                "score": format_figure(near.get("score"), 2),
                "verdict": near.get("verdict", ""),
                "exemplar": shorten(exemplar.get("text", ""), 240)[0],
                "exemplar_by": f"{exemplar.get('speaker', '')}, {exemplar.get('source', '')}",
            })
        except (KeyError, TypeError, AttributeError):
            warnings.append("discovery.json has an unexpected layout; re-run `precode "
                            "discover`. Its section is left out")
            return None
    if stale:
        warnings.append("discovery.json names segments this run no longer has; re-run "
                        "`precode discover` for current candidates")
    counts = data.get("counts", {})
    return {"rows": rows, "counts": counts, "stale": stale,
            "notes": data.get("notes", [])[1:]}
