"""`precode evaluate`: how well suggestions (or review decisions, or a second coder) agree
with a gold coder, per code and overall, with a human baseline beside the machine's figures.

`evaluate(run, gold, ...)` is the library entry point; it returns the report that the CLI
prints and writes to `RUN/evaluation.json`. The pieces are pure functions in
`figures` (one comparison), `bootstrap` (intervals, resampling sources) and `report` (JSON).

What is compared with what:

- Units: the run's segments, in the sources the reference coder coded (a source without any
  gold row may be uncoded rather than code-free, so it is left out and the report says so).
  With `--against coder:B`, the sources both coders coded.
- Gold spans give their code to segments by `pipeline.align` (the rule is in the report).
- Suggestions count at the run's threshold, exactly as `suggestions.jsonl` lists them; the
  ranking figures and the threshold sweep use the full scores, recomputed with the run's
  settings (a mismatch with `suggestions.jsonl` is reported as a warning).
- Span-level figures (character kappa; Krippendorff's unitizing family, as ATLAS.ti reports
  it, in `unitized`) take a segment given a code as a span covering the segment.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import pipeline.evaluate.bootstrap as bs
from pipeline.align import DEFAULT_MIN_SHARE, describe_rule
from pipeline.errors import ConfigError, GoldCodingError, RunFolderError
from pipeline.evaluate.baseline import human_baseline
from pipeline.evaluate.figures import (
    Side,
    confusion,
    ranking_figures,
    segment_figures,
    segments_in,
    span_figures,
    sweep,
    theme_figures,
    top_confusions,
)
from pipeline.evaluate.inputs import (
    Against,
    ReviewGold,
    check_coder,
    coded_sources,
    coder_side,
    decision_side,
    read_decisions,
    read_reference,
    reviewed_units,
    segment_spans,
    suggestion_side,
    unaligned,
)
from pipeline.evaluate.report import clean
from pipeline.evaluate.unitized import WITH_INTERVALS, Unitized, unitize
from pipeline.gold import GoldSet
from pipeline.metrics import thresholded
from pipeline.records import Codebook, Coding, Segment, Source
from pipeline.run_folder import RunFolder, package_versions
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.run_folder.decisions import LOG_NAME
from pipeline.run_folder.evaluation import FORMAT, EvaluationResult, write_evaluation
from pipeline.run_folder.suggestions import JSONL
from pipeline.suggest import rescore

HEADLINE = ("top1_accuracy", "theme_top1_accuracy", "micro_f1", "macro_f1", "kappa",
            "krippendorff_alpha", "gwet_ac1")


@dataclass
class Evaluation:
    """What `evaluate()` returns: the typed result, and where it was written (if it was)."""

    result: EvaluationResult
    path: Path | None

    @property
    def report(self) -> dict[str, Any]:
        """The result as `evaluation.json` holds it (NaN is None, noted under "undefined")."""
        return self.result.to_dict()


def parse_thresholds(specs: Sequence[str]) -> list[float]:
    """`0.3`, `0.2,0.3,0.4` or `0.1:0.9:0.1` (start:stop:step, stop included) -> thresholds."""
    out: list[float] = []
    for spec in specs:
        for part in str(spec).split(","):
            part = part.strip()
            try:
                if ":" in part:
                    start, stop, step = (float(x) for x in part.split(":"))
                    if step <= 0:
                        raise ValueError
                    count = math.floor((stop - start) / step + 1e-9) + 1
                    out += [round(start + i * step, 6) for i in range(max(count, 0))]
                elif part:
                    out.append(float(part))
            except ValueError:
                raise ConfigError(f"--threshold {part!r} is not a threshold or a range",
                                  hint="give 0.3, a list 0.2,0.3,0.4, or a range 0.1:0.9:0.1 "
                                       "(start:stop:step)") from None
    for t in out:
        if not 0.0 <= t <= 1.0:
            raise ConfigError(f"--threshold {t} is outside 0..1",
                              hint="scores are calibrated to 0..1; thresholds are too")
    return sorted(set(out))


def evaluate(run_path: str | Path, gold: str | Path | GoldSet, *, coder: str | None = None,
             against: str | Against = "suggestions", min_share: float = DEFAULT_MIN_SHARE,
             thresholds: Sequence[float] = (), draws: int = 1000, seed: int = 0,
             sources: Sequence[str] | None = None, codebook: str | Path | None = None,
             write: bool = True) -> Evaluation:
    """Compare `against` with gold coder `coder` on a run; write RUN/evaluation.json."""
    started = time.perf_counter()
    _check_options(min_share, draws)
    target = against if isinstance(against, Against) else Against.parse(against)
    if thresholds and target.kind != "suggestions":
        raise ConfigError("--threshold sweeps scores, and only suggestions have scores",
                          hint="leave out --threshold, or use --against suggestions")
    setup = _setup(RunFolder(run_path), gold, coder, target, sources, codebook)
    sides = _sides(setup, min_share)
    figures = _figures(setup, sides, draws, seed)
    report = _assemble(setup, sides, figures, thresholds, min_share, draws, seed, sources)
    report["seconds"] = time.perf_counter() - started
    undefined: dict[str, str] = {}
    report = clean(report, undefined)
    report["undefined"] = undefined
    result = EvaluationResult.from_dict(report)
    return Evaluation(result, write_evaluation(setup.run, result) if write else None)


@dataclass
class _Setup:
    """What is compared, on which units: read and checked before any figure is computed."""

    run: RunFolder
    manifest: dict[str, Any]
    codebook_path: Path
    book: Codebook
    all_sources: list[Source]
    all_segments: list[Segment]
    gold: GoldSet
    gold_path: Path
    ref: str  # the reference coder
    target: Against
    selected: set[str]  # source ids chosen with --source (all by default)
    coded_by: dict[str, set[str]]  # coder -> the sources they coded
    wanted: set[str]  # the evaluated source ids
    eval_sources: list[Source]
    segments: list[Segment]  # the evaluated units
    warnings: list[str]


@dataclass
class _Sides:
    """The reference and the hypothesis, as codes per segment and as spans."""

    ref_codings: list[Coding]
    ref_side: Side
    hyp_side: Side
    hyp_codings: list[Coding]  # only for --against coder:NAME
    machine: Side | None  # suggestions or decisions, else None
    proba: np.ndarray | None  # full scores, for suggestions
    hypothesis: dict[str, Any]
    ref_sets: list[set[str]]
    hyp_sets: list[set[str]]


def _check_options(min_share: float, draws: int) -> None:
    if not 0.0 < min_share <= 1.0:
        raise ConfigError(f"--min-share {min_share} is outside (0, 1]",
                          hint="the share of a segment a gold span must cover, e.g. 0.5")
    if draws < 0:
        raise ConfigError(f"--bootstrap {draws} is negative",
                          hint="give the number of draws (1000), or 0 for no intervals")


def _setup(run: RunFolder, gold: str | Path | GoldSet, coder: str | None, target: Against,
           sources: Sequence[str] | None, codebook: str | Path | None) -> _Setup:
    """Read the run and the gold file; choose the reference coder, the sources and the units."""
    manifest = run.manifest()
    codebook_path, book = resolve_codebook(run, codebook)
    all_sources, all_segments = run.sources(), run.segments()
    gold_path = Path(gold) if not isinstance(gold, GoldSet) else Path("(codings)")
    gold_set = gold if isinstance(gold, GoldSet) else read_reference(gold, all_sources,
                                                                     all_segments, book)
    if not gold_set.codings:
        raise GoldCodingError("the gold file has no codings", path=gold_path,
                              hint="give a file with one row per coded span")
    ref = _reference_coder(gold_set, coder, target, gold_path)
    selected = _select(all_sources, sources)
    coded_by = coded_sources(gold_set, all_segments)
    wanted = coded_by[ref] & selected
    if target.kind == "coder" and target.name is not None:
        wanted &= coded_by[target.name]
    eval_sources = [s for s in all_sources if s.id in wanted]
    if not eval_sources:
        both = f" and coder {target.name}" if target.kind == "coder" else ""
        raise GoldCodingError(f"coder {ref}{both} coded none of the selected sources",
                              path=gold_path, hint="check --source and --coder")
    segments = reviewed_units(gold_set, [ref, target.name if target.kind != "suggestions"
                                         else None], segments_in(all_segments, wanted))
    if isinstance(gold_set, ReviewGold):
        gold_set = gold_set.within(segments)
    if target.kind == "decisions":
        # Only what the reviewer decided on: an unreviewed segment is not "no code".
        decided = decision_side(read_decisions(run, all_segments, book), target.name,
                                run.file(LOG_NAME)).labels
        segments = [s for s in segments if s.id in decided]
        if not segments:
            raise RunFolderError(
                "no segment of the evaluated sources has a review decision yet", path=run.path,
                hint=f"review some first: precode review {run.path} --coder NAME")
    if not segments:
        raise RunFolderError("the evaluated sources have no segments", path=run.path,
                             hint="segment the run again (`precode segment RUN --force`)")
    warnings = list(gold_set.warnings)
    if isinstance(gold_set, ReviewGold):
        warnings.append("the reference is review decisions: only the segments decided on are "
                        "compared, but character kappa and the unitizing alphas count the rest of "
                        "these sources as uncoded by both; read the segment-level figures")
    return _Setup(run, manifest, codebook_path, book, all_sources, all_segments, gold_set,
                  gold_path, ref, target, selected, coded_by, wanted, eval_sources, segments,
                  warnings)


def _sides(setup: _Setup, min_share: float) -> _Sides:
    """The gold coder's codes per segment, and the hypothesis's: a second coder, or the run's
    suggestions or decisions (with full scores for suggestions)."""
    s, target = setup, setup.target
    ref_codings = [c for c in s.gold.by_coder(s.ref) if c.source_id in s.wanted]
    ref_side = coder_side(f"coder {s.ref}", ref_codings, s.segments, min_share)
    hypothesis: dict[str, Any] = {"kind": target.kind, "name": target.label()}
    proba: np.ndarray | None = None
    machine: Side | None = None
    hyp_codings: list[Coding] = []
    if target.kind == "coder" and target.name is not None:
        hyp_codings = [c for c in s.gold.by_coder(target.name) if c.source_id in s.wanted]
        hyp_side = coder_side(f"coder {target.name}", hyp_codings, s.segments, min_share)
    else:
        labels, proba, details = _machine(s.run, s.manifest, target, s.all_sources,
                                          s.all_segments, s.segments, s.book, s.warnings)
        hypothesis |= details
        machine = Side(target.label(), labels, segment_spans(labels, s.all_segments,
                                                              target.label()))
        hyp_side = Side(machine.name, labels,
                        [c for c in machine.spans if c.source_id in s.wanted])
    ref_sets = [ref_side.labels[seg.id] for seg in s.segments]
    hyp_sets = [set(hyp_side.labels.get(seg.id, set())) for seg in s.segments]
    return _Sides(ref_codings, ref_side, hyp_side, hyp_codings, machine, proba, hypothesis,
                  ref_sets, hyp_sets)


def _figures(setup: _Setup, sides: _Sides, draws: int, seed: int) -> dict[str, Any]:
    """Every figure: per code and overall (segment-level, span-level, unitizing, ranking),
    per theme, bootstrap intervals and confusions."""
    code_ids = setup.book.code_ids()
    theme_of = {c.id: t.id for t, c in setup.book.codes()}
    ref_sets, hyp_sets = sides.ref_sets, sides.hyp_sets
    per_code, overall = segment_figures(ref_sets, hyp_sets, code_ids)
    span_code, span_overall = span_figures(sides.ref_side.spans, sides.hyp_side.spans,
                                           setup.eval_sources, code_ids)
    unitized = unitize(sides.ref_side.spans, sides.hyp_side.spans, setup.eval_sources, code_ids,
                       theme_of)
    family_code = unitized.per_code_figures()
    for code in code_ids:
        per_code[code] |= span_code[code] | family_code[code]
    overall |= span_overall | unitized.overall_figures()
    hits = None
    k = int(setup.manifest["config"]["suggest"]["top_k"])
    if sides.proba is not None:
        overall = ranking_figures(sides.proba, ref_sets, code_ids, k, theme_of) | overall
        hits = bs.ranking_hits(sides.proba, ref_sets, code_ids, k, theme_of)
    headline = list(dict.fromkeys(h for h in (*HEADLINE[:1], f"top{k}_accuracy", *HEADLINE[1:])
                                  if h in overall))
    overall = {key: overall[key] for key in (*headline, *overall)}  # headline figures first
    source_ids = [s.id for s in setup.eval_sources]
    counts = bs.source_counts(setup.segments, ref_sets, hyp_sets, code_ids, source_ids, hits)
    table = confusion(ref_sets, hyp_sets)
    return {
        "overall": overall,
        "intervals": _intervals(counts, headline, draws, seed, unitized),
        "per_code": per_code,
        "themes": theme_figures(ref_sets, hyp_sets, theme_of, [t.id for t in setup.book.themes]),
        "unitizing": unitized.notes | {"per_theme": unitized.per_theme_figures()},
        "confusion": {"note": "rows: reference, columns: hypothesis; each reference code "
                              "occurrence counts 1, split over the codes given instead",
                      "top": top_confusions(table), "table": table},
    }


def _assemble(setup: _Setup, sides: _Sides, figures: dict[str, Any],
              thresholds: Sequence[float], min_share: float, draws: int, seed: int,
              sources: Sequence[str] | None) -> dict[str, Any]:
    """The report as `evaluation.json` lays it out (before NaNs are cleaned)."""
    s, target = setup, setup.target
    gold_set, config = s.gold, s.manifest["config"]
    alignment = _alignment(s.ref, sides.ref_codings, target, sides.hyp_codings, s.segments,
                           sides.ref_sets, min_share, gold_set, s.warnings)
    if sides.machine is None:
        baseline: dict[str, Any] = {"note": "the comparison is between two coders already"}
    elif isinstance(gold_set, ReviewGold):
        baseline = {"note": "the reference is review decisions; compare reviewers with "
                            "--against coder:NAME"}
    else:
        baseline = human_baseline(gold_set, sides.machine, s.all_sources, s.all_segments,
                                  s.selected, s.book, min_share, draws, seed)
    report: dict[str, Any] = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": package_versions(),
        "run": str(s.run.path),
        "codebook": str(s.codebook_path),
        "gold": {"path": str(s.gold_path), "codings": len(gold_set.codings),
                 "coders": {c: len(gold_set.by_coder(c)) for c in gold_set.coders},
                 "rows_skipped": len(gold_set.warnings)},
        "reference": {"kind": "coder", "name": s.ref},
        "hypothesis": sides.hypothesis,
        "alignment": alignment,
        "sources": _sources_note(s.all_sources, s.eval_sources, s.coded_by, s.ref, target,
                                 s.selected),
        "segments": {"evaluated": len(s.segments),
                     "with_reference_code": sum(1 for g in sides.ref_sets if g),
                     "with_hypothesis_code": sum(1 for p in sides.hyp_sets if p)},
        "units": "segment-level agreement (kappa, alpha, AC1) is over segment x code "
                 "presence/absence; char_kappa and the unitizing family (binary_u_alpha, "
                 "u_alpha, cu_alpha, global_cu_alpha, value_u_alpha, u_alpha_1995) compare "
                 "characters, a coded segment counting as a span over the segment",
        **figures,
        "human_baseline": baseline,
        "threshold_sweep": _sweep(sides.proba, sides.ref_sets, s.book.code_ids(), thresholds,
                                  config) if thresholds and sides.proba is not None else None,
        "settings": {"coder": s.ref, "against": target.label(), "min_share": min_share,
                     "bootstrap_draws": draws, "seed": seed,
                     "sources": sorted(sources) if sources else None},
    }
    report["warnings"] = s.warnings
    report["counts"] = {"warnings": len(s.warnings), "rows_skipped": len(gold_set.warnings),
                        "spans_reaching_no_segment": alignment["spans_reaching_no_segment"]}
    return report


def _reference_coder(gold: GoldSet, coder: str | None, target: Against, path: Path) -> str:
    if coder is not None:
        check_coder(gold, coder, path, "--coder")
    if target.kind == "coder" and target.name is not None:
        check_coder(gold, target.name, path, "--against")
        if coder == target.name:
            raise ConfigError(f"--coder and --against both name coder {coder!r}",
                              hint="compare a coder with another coder, e.g. --coder A "
                                   "--against coder:B")
        others = [c for c in gold.coders if c != target.name]
        if coder is None and not others:
            raise GoldCodingError(f"the gold file has no coder besides {target.name!r}",
                                  path=path, hint="--against coder:NAME needs two coders")
        return coder or others[0]
    return coder or gold.coders[0]


def _select(sources: Sequence[Source], names: Sequence[str] | None) -> set[str]:
    if not names:
        return {s.id for s in sources}
    out = set()
    for name in names:
        match = [s.id for s in sources if name in (s.id, s.name)]
        if not match:
            raise ConfigError(f"--source {name!r} is not a source of this run",
                              hint="sources: " + ", ".join(s.name for s in sources[:9]))
        out.update(match)
    return out


def _machine(run: RunFolder, manifest: dict[str, Any], target: Against,
             all_sources: Sequence[Source], all_segments: Sequence[Segment],
             segments: Sequence[Segment], book: Codebook, warnings: list[str]
             ) -> tuple[Mapping[str, set[str]], np.ndarray | None, dict[str, Any]]:
    """Codes per segment from suggestions or decisions, scores if any, and what they are."""
    if target.kind == "suggestions":
        labels = suggestion_side(run, all_segments, book).labels
        missing = [s.id for s in all_segments if s.id not in labels]
        if missing:
            raise RunFolderError(
                f"suggestions.jsonl has no line for {len(missing)} segment(s), e.g. "
                f"{missing[0]!r}", path=run.file(JSONL),
                hint=f"the suggestions are older than the segments: `precode suggest "
                     f"{run.path} --force`")
        settings = manifest["config"]["suggest"]
        proba, warning = _scores(run, manifest, all_sources, segments, book, labels)
        if warning:
            warnings.append(warning)
        seen = _trained_on(manifest, {s.source_id for s in segments})
        if seen:
            warnings.insert(0, (
                f"NOT A FAIR TEST: the trained model was fitted on {len(seen)} of the evaluated "
                f"sources ({', '.join(seen[:4])}{'...' if len(seen) > 4 else ''}), so these "
                "figures are inflated. Train on other sources (precode train --exclude-source) "
                "or evaluate only unseen ones (--source)."))
        return labels, proba, {"threshold": settings["threshold"], "top_k": settings["top_k"],
                               "method": manifest["stages"].get("suggest", {}).get("method"),
                               "trained_on_evaluated_sources": seen}
    decisions = read_decisions(run, all_segments, book)
    labels = decision_side(decisions, target.name, run.file(LOG_NAME)).labels
    reviewed = sum(1 for s in segments if s.id in labels)
    return labels, None, {"reviewed_segments": reviewed,
                          "note": "only segments with a review decision are evaluated"}


def _trained_on(manifest: dict[str, Any], evaluated: set[str]) -> list[str]:
    """Evaluated sources that the run's trained model (if any) was fitted on."""
    model = manifest["stages"].get("suggest", {}).get("model")
    if not model:
        return []
    info_path = Path(model) / "head.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return sorted(evaluated & set(info.get("training", {}).get("sources", [])))


def _scores(run: RunFolder, manifest: dict[str, Any], all_sources: Sequence[Source],
            segments: Sequence[Segment], book: Codebook,
            labels: Mapping[str, set[str]]) -> tuple[np.ndarray, str | None]:
    """Full scores for the evaluated segments (codebook order) and a warning if they disagree
    with what suggestions.jsonl lists."""
    # Only the evaluated segments are scored: a segment's scores do not depend on the others.
    scored, scored_codes, _ = rescore(manifest, all_sources, segments, book)
    columns = [scored_codes.index(c) for c in book.code_ids()]
    proba = scored[:, columns]
    settings = manifest["config"]["suggest"]
    again = thresholded(proba, book.code_ids(), settings["threshold"], settings["top_k"])
    differ = sum(1 for s, codes in zip(segments, again, strict=True) if codes != labels[s.id])
    if not differ:
        return proba, None
    return proba, (f"the scores recomputed with the run's settings give other codes than "
                   f"suggestions.jsonl on {differ} of {len(segments)} segments; the ranking "
                   f"figures and the sweep use the recomputed scores, the rest "
                   f"suggestions.jsonl (re-run `precode suggest {run.path} --force`)")


def _intervals(counts: bs.SourceCounts, names: Sequence[str], draws: int,
               seed: int, unitized: Unitized) -> dict[str, Any]:
    n = len(counts.source_ids)
    base: dict[str, Any] = {"level": 0.95, "draws": draws, "seed": seed,
                            "resampled": f"sources, with replacement ({n} sources)"}
    if draws == 0 or n < 2:
        return base | {"note": "no intervals: " + ("--bootstrap 0" if draws == 0 else
                                                    "one source cannot be resampled"),
                       "figures": {}, "per_code": {}}
    weights = bs.resample(n, draws, seed)
    values = bs.draw_figures(counts, weights)
    family, family_code = unitized.draw(weights)  # the same draws: intervals are comparable
    values |= family
    names = [*names, *(k for k in WITH_INTERVALS if k in family)]
    note = {"note": f"only {n} sources: the intervals are rough"} if n < 10 else {}
    return base | note | {
        "figures": {name: bs.interval(values[name]) for name in names if name in values},
        "per_code": {code: {k: bs.interval(v) for k, v in figures.items()}
                     for code, figures in family_code.items()},
    }


def _alignment(ref: str, ref_codings: list[Coding], target: Against, hyp_codings: list[Coding],
               segments: Sequence[Segment], ref_sets: Sequence[set[str]], min_share: float,
               gold: GoldSet, warnings: list[str]) -> dict[str, Any]:
    lost = unaligned(ref_codings, segments, min_share)
    if target.kind == "coder":
        lost += unaligned(hyp_codings, segments, min_share)
    for c in lost:
        line = gold.lines.get(c)
        where = f"gold line {line}" if line else "a gold span"
        warnings.append(f"{where} (coder {c.coder}, {c.code_id}, {c.source_id} "
                        f"{c.start}-{c.end}) gives its code to no segment: it lies outside the "
                        "segments (e.g. in an interviewer turn) or covers too little of each")
    return {"rule": describe_rule(min_share), "min_share": min_share,
            "reference_spans": len(ref_codings),
            "hypothesis_spans": len(hyp_codings) if target.kind == "coder" else None,
            "segments_with_reference_code": sum(1 for g in ref_sets if g),
            "spans_reaching_no_segment": len(lost)}


def _sources_note(all_sources: Sequence[Source], evaluated: Sequence[Source],
                  coded_by: dict[str, set[str]], ref: str, target: Against,
                  selected: set[str]) -> dict[str, Any]:
    left_out = {}
    done = {s.id for s in evaluated}
    for s in all_sources:
        if s.id in done:
            continue
        if s.id not in selected:
            left_out[s.name] = "not selected with --source"
        elif s.id not in coded_by[ref]:
            left_out[s.name] = f"coder {ref} coded nothing in it"
        else:
            left_out[s.name] = f"coder {target.name} coded nothing in it"
    rule = (f"only sources that coder {ref} coded (at least one gold row) are evaluated: a "
            "source without rows may be uncoded rather than code-free")
    if target.kind == "coder":
        rule = f"only sources that both coder {ref} and coder {target.name} coded are evaluated"
    return {"rule": rule, "evaluated": [s.name for s in evaluated], "left_out": left_out}


def _sweep(proba: np.ndarray, ref_sets: Sequence[set[str]], code_ids: Sequence[str],
           thresholds: Sequence[float], config: dict[str, Any]) -> dict[str, Any]:
    rows = sweep(proba, ref_sets, code_ids, thresholds, int(config["suggest"]["top_k"]))
    current = float(config["suggest"]["threshold"])
    defined = [r for r in rows if not math.isnan(r["micro_f1"])]
    best = max(defined, key=lambda r: r["micro_f1"])["threshold"] if defined else math.nan
    return {"note": f"at most top_k={config['suggest']['top_k']} codes per segment, as the "
                    "run suggests them", "run_threshold": current,
            "best_micro_f1_threshold": best, "rows": rows}
