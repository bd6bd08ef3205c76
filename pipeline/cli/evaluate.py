"""`precode evaluate`: agreement of suggestions, decisions or a coder with gold codings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.align import DEFAULT_MIN_SHARE
from pipeline.cli.console import stdout
from pipeline.cli.options import QuietOption
from pipeline.evaluate import evaluate, parse_thresholds
from pipeline.run_folder.evaluation import UNDEFINED, EvaluationResult
from pipeline.run_folder.evaluation import figure_label as label
from pipeline.run_folder.evaluation import format_figure as num
from pipeline.run_folder.evaluation import format_interval as ci

WIDE = 120


def evaluate_command(
    run: Annotated[Path, typer.Argument(help="A run folder with segments (and suggestions).")],
    gold: Annotated[Path, typer.Option(
        help="Gold codings CSV (source,start,end,code,coder), or a run's decisions.jsonl to "
             "use its reviewers as coders.")],
    coder: Annotated[str | None, typer.Option(
        help="The gold coder to compare with (default: the first coder in the file).")] = None,
    against: Annotated[str, typer.Option(
        help="What to compare: suggestions, decisions, decisions:REVIEWER or coder:NAME.")
    ] = "suggestions",
    min_share: Annotated[float, typer.Option(
        help="Alignment: a gold span gives its code to a segment it covers at least this "
             "share of (or that holds the whole span).")] = DEFAULT_MIN_SHARE,
    threshold: Annotated[list[str] | None, typer.Option(
        metavar="SPEC",
        help="Sweep thresholds: 0.3, 0.2,0.3,0.4 or 0.1:0.9:0.1 (repeatable).")] = None,
    bootstrap: Annotated[int, typer.Option(
        help="Bootstrap draws for the 95% intervals (0: none).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    source: Annotated[list[str] | None, typer.Option(
        metavar="NAME", help="Evaluate only this source, by name or id (repeatable).")] = None,
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the run's codebook.yaml, else the reference).")] = None,
    quiet: QuietOption = False,
) -> None:
    """Measure agreement with gold codings, per code and overall; write RUN/evaluation.json.

    Compares the run's suggestions (or review decisions, or a second coder) with one gold
    coder on the segments of the sources that coder coded, beside the coders' agreement with
    each other when the gold file has two.

    Example: precode evaluate runs/demo --gold data/sample/gold/codings.csv
    """

    result = evaluate(run, gold, coder=coder, against=against, min_share=min_share,
                      thresholds=parse_thresholds(threshold or []), draws=bootstrap, seed=seed,
                      sources=source, codebook=codebook)
    if not quiet:
        print_report(result.result, stdout)
        stdout.print(f"Written: {escape(str(result.path))}")


def _table(title: str, *columns: str, caption: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  caption=caption, caption_justify="left", caption_style="dim")
    for i, name in enumerate(columns):
        # The first column (code ids) folds onto a second line rather than being cut.
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=i > 0,
                         min_width=12 if i == 0 else None,
                         overflow="fold" if i == 0 else "ellipsis")
    return table


def _show(out: Console, table: Table) -> None:
    """Tables need room: a terminal gets its width, a file or a pipe 120 columns."""
    out.print()
    if out.is_terminal or out.width >= WIDE:
        out.print(table)
    else:
        Console(file=out.file, width=WIDE, highlight=False, soft_wrap=True,
                no_color=out.no_color).print(table)


def print_report(report: EvaluationResult, out: Console) -> None:
    """The report as tables: header, overall, per code, themes, confusions, baseline, sweep."""
    ref, hyp = report.reference["name"], report.hypothesis
    what = escape(hyp["name"])
    detail = ""
    if hyp["kind"] == "suggestions":
        detail = f" ({hyp['method']}, threshold {hyp['threshold']}, top {hyp['top_k']})"
    elif hyp["kind"] == "decisions":
        detail = f" ({hyp['reviewed_segments']} reviewed segments)"
    out.print(f"[bold]Evaluating {what}{detail} against coder {escape(ref)}[/]")
    if hyp.get("trained_on_evaluated_sources"):
        out.print(f"[bold red]{escape(report.warnings[0])}[/]")
    sources, alignment = report.sources, report.alignment
    out.print(f"Sources: {len(sources['evaluated'])} evaluated; {escape(sources['rule'])}.")
    reasons: dict[str, list[str]] = {}
    for name, why in sources["left_out"].items():
        reasons.setdefault(why, []).append(name)
    for why, names in reasons.items():
        out.print(f"  left out, {escape(why)}: {escape(', '.join(names))}")
    segs = report.segments
    out.print(f"Segments: {segs['evaluated']} evaluated; {segs['with_reference_code']} carry a "
              f"code from coder {escape(ref)}, {segs['with_hypothesis_code']} from {what}.")
    out.print(f"Alignment: {escape(alignment['rule'])} (--min-share). "
              f"{alignment['spans_reaching_no_segment']} of {alignment['reference_spans']} "
              "gold spans reach no segment.")
    gold = report.gold
    coders = ", ".join(f"{escape(c)} ({n})" for c, n in gold["coders"].items())
    out.print(f"Gold: {escape(gold['path'])}: {gold['codings']} codings by {coders}; "
              f"{gold['rows_skipped']} rows skipped.")

    intervals = report.intervals
    overall = _table("Overall", "figure", "value", "95% interval")
    for key, value in report.overall.items():
        overall.add_row(label(key), num(value), ci(intervals["figures"].get(key)))
    _show(out, overall)
    notes = [intervals.get("note"), report.units]
    if intervals["figures"]:
        notes.insert(1, f"intervals: {intervals['draws']} draws resampling "
                        f"{intervals['resampled']}, seed {intervals['seed']}")
    for note in filter(None, notes):
        out.print(f"  [dim]{escape(note)}[/]")

    per_code = _table(
        "Per code", "code", "n", "given", "P", "R", "F1", "kappa", "char kappa", "src",
        "|u-alpha", "|u 95%", "(k)u",
        caption="n: segments with the code from the reference; given: from the hypothesis; "
                "P/R/F1: precision, recall, F1 over segments; kappa: Cohen's on presence per "
                "segment; char kappa: NVivo-style character kappa, mean over src sources; "
                "|u-alpha: Krippendorff's binary unitizing alpha of the code's spans (ATLAS.ti's "
                "alpha-binary), sources end to end; (k)u: (k)u-alpha of the code within its "
                "theme")
    code_intervals = intervals.get("per_code", {})
    for code, f in report.per_code.items():
        per_code.add_row(escape(code), num(f["support"]), num(f["predicted"]),
                         num(f["precision"]), num(f["recall"]), num(f["f1"]),
                         num(f["kappa"]), num(f["char_kappa"]), num(f["char_kappa_sources"]),
                         num(f["binary_u_alpha"]),
                         ci(code_intervals.get(code, {}).get("binary_u_alpha")),
                         num(f["value_u_alpha"]))
    _show(out, per_code)
    _print_unitizing(report.unitizing, out)

    themes = report.themes
    theme_table = _table("Themes (codes rolled up)", "theme", "n", "given", "P", "R", "F1",
                         "kappa")
    for theme, f in themes["per_theme"].items():
        theme_table.add_row(escape(theme), num(f["support"]), num(f["predicted"]),
                            num(f["precision"]), num(f["recall"]), num(f["f1"]),
                            num(f["kappa"]))
    _show(out, theme_table)
    t = themes["overall"]
    out.print(f"  themes overall: F1 micro {num(t['micro_f1'])}, macro {num(t['macro_f1'])}, "
              f"alpha {num(t['krippendorff_alpha'])}, AC1 {num(t['gwet_ac1'])}")

    top = report.confusion["top"]
    if top:
        confusions = _table("Most frequent confusions", "coder " + escape(ref), what,
                            "segments")
        for cell in top:
            confusions.add_row(escape(cell["reference"]), escape(cell["hypothesis"]),
                               num(cell["count"], 1))
        _show(out, confusions)

    _print_baseline(report.human_baseline, out)
    if report.threshold_sweep:
        _print_sweep(report.threshold_sweep, out)
    warnings = report.warnings
    if warnings:
        out.print()
        out.print(f"[yellow]{len(warnings)} warning(s)[/] (all in evaluation.json):")
        for text in warnings[:5]:
            out.print(f"  {escape(text)}")
        if len(warnings) > 5:
            out.print(f"  ... and {len(warnings) - 5} more")
    if report.undefined:
        out.print(f"{UNDEFINED} undefined ({len(report.undefined)} figures; the reason for "
                  "each is under 'undefined' in evaluation.json)")


def _print_baseline(baseline: Mapping[str, Any], out: Console) -> None:
    if "pairs" not in baseline:
        out.print()
        out.print(f"Human baseline: {escape(baseline['note'])}.")
        return
    table = _table(f"Human baseline ({len(baseline['sources'])} sources every coder coded, "
                   f"{baseline['segments']} segments)", "pair", "F1", "kappa", "alpha",
                   "alpha 95%", "AC1", "char kappa", "|u-alpha", "cu-alpha",
                   caption="all figures symmetric; F1 micro; kappa, alpha, AC1 over segment x "
                           "code presence; char kappa mean over codes; |u-alpha and cu-alpha: "
                           "Krippendorff's unitizing alphas over any code and over the codes")
    for row in baseline["pairs"]:
        f = row["figures"]
        table.add_row(escape(row["pair"]), num(f["micro_f1"]), num(f["kappa"]),
                      num(f["krippendorff_alpha"]),
                      ci(row["intervals"].get("krippendorff_alpha")), num(f["gwet_ac1"]),
                      num(f["char_kappa_mean"]), num(f["binary_u_alpha"]),
                      num(f["cu_alpha"]))
    _show(out, table)
    out.print(f"  {escape(baseline['gap']['verdict'])}.")


def _print_unitizing(unitizing: Mapping[str, Any], out: Console) -> None:
    table = _table("Themes as semantic domains (Krippendorff's unitizing alphas)", "theme",
                   "|u-alpha", "cu-alpha",
                   caption="|u-alpha: any code of the theme vs none; cu-alpha: which of the "
                           "theme's codes, where both sides coded")
    for theme, f in unitizing["per_theme"].items():
        table.add_row(escape(theme), num(f["binary_u_alpha"]), num(f["cu_alpha"]))
    _show(out, table)
    for note in (unitizing["atlas_ti"], unitizing.get("undefined")):
        if note:
            out.print(f"  [dim]{escape(note)}[/]")


def _print_sweep(sweep: Mapping[str, Any], out: Console) -> None:
    table = _table("Threshold sweep", "threshold", "precision", "recall", "F1 (micro)",
                   "F1 (macro)", "codes/segment", "uncoded")
    for row in sweep["rows"]:
        mark = ""
        if row["threshold"] == sweep["run_threshold"]:
            mark += " (run)"
        if row["threshold"] == sweep["best_micro_f1_threshold"]:
            mark += " (best F1)"
        table.add_row(f"{row['threshold']:g}{mark}", num(row["micro_precision"]),
                      num(row["micro_recall"]), num(row["micro_f1"]), num(row["macro_f1"]),
                      num(row["codes_per_segment"], 2), num(row["uncoded_share"], 2))
    _show(out, table)
    out.print(f"  [dim]{escape(sweep['note'])}[/]")
