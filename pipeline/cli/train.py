"""`precode train`: fit a supervised head on gold codings and/or review decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout
from pipeline.cli.options import QuietOption
from pipeline.errors import PrecodeError
from pipeline.train import train


def train_command(
    run: Annotated[Path, typer.Argument(help="A run folder with segments.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to save the model in.")],
    gold: Annotated[Path | None, typer.Option(
        help="Gold codings CSV (source,start,end,code,coder).")] = None,
    decisions: Annotated[Path | None, typer.Option(
        help="Review decisions to learn from: the run's decisions.jsonl.")] = None,
    coder: Annotated[list[str] | None, typer.Option(
        help="Use only this gold coder's codings (repeatable; default: all).")] = None,
    reviewer: Annotated[list[str] | None, typer.Option(
        help="Use only this reviewer's decisions (repeatable; default: all).")] = None,
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the run's codebook.yaml, else the reference).")] = None,
    exclude_source: Annotated[list[str] | None, typer.Option(
        help="Hold a source out of training (a name or its beginning, e.g. p03; repeatable), "
             "to evaluate on it fairly.")] = None,
    c: Annotated[float, typer.Option("--C", help="Inverse regularization strength.")] = 1.0,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Train a supervised head on coded segments plus the codebook's examples.

    Coded segments come from gold codings (--gold), from review decisions (--decisions
    RUN/decisions.jsonl: the segments reviewed, with the codes confirmed), or both. Reports
    cross-validated quality (folds grouped by source) and saves arrays only (no pickles)
    with the embedder fingerprint it was made with.

    Example: precode train runs/demo --gold data/sample/gold/codings.csv --coder A
    --out models/recovery
    """
    if out.exists() and any(out.iterdir()) and not force:
        raise PrecodeError("the model folder already exists", path=out,
                           hint="choose another --out, or add --force to replace the model")
    result = train(run, gold, out, coders=coder, codebook=codebook, C=c, decisions=decisions,
                   reviewers=reviewer, exclude_sources=exclude_source or ())
    if quiet:
        return
    t = result.training
    reviewed = (f", {t['reviewed_segments']} of them reviewed by "
                f"{', '.join(t['reviewers'])}") if t["decisions"] else ""
    stdout.print(f"Trained on {t['segments']} segments ({t['coded_segments']} coded{reviewed}) "
                 f"from {len(t['sources'])} sources plus {t['codebook_examples']} codebook "
                 f"examples in {result.seconds:.1f}s.", markup=False)
    for key, value in result.quality.items():
        stdout.print(f"  {key}: {value}")
    stdout.print(f"Saved to {result.path}. Use it: precode suggest {run} --model {result.path}",
                 markup=False)
