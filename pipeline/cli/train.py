"""`precode train`: fit a supervised head on gold codings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.options import QuietOption
from pipeline.train import train


def train_command(
    run: Annotated[Path, typer.Argument(help="A run folder with segments.")],
    gold: Annotated[Path, typer.Option(help="Gold codings CSV (source,start,end,code,coder).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to save the model in.")],
    coder: Annotated[list[str] | None, typer.Option(
        help="Use only this coder's codings (repeatable; default: all).")] = None,
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the run's codebook.yaml, else the reference).")] = None,
    c: Annotated[float, typer.Option("--C", help="Inverse regularization strength.")] = 1.0,
    quiet: QuietOption = False,
) -> None:
    """Train a supervised head on gold-coded segments plus the codebook's examples.

    Reports cross-validated quality (folds grouped by source) and saves arrays only
    (no pickles) with the embedder fingerprint it was made with.

    Example: precode train runs/demo --gold data/sample/gold/codings.csv --coder A
    --out models/recovery
    """
    from pipeline.cli import stdout

    result = train(run, gold, out, coders=coder, codebook=codebook, C=c)
    if quiet:
        return
    t = result.training
    stdout.print(f"Trained on {t['segments']} segments ({t['coded_segments']} coded) from "
                 f"{len(t['sources'])} sources plus {t['codebook_examples']} codebook examples "
                 f"in {result.seconds:.1f}s.")
    for key, value in result.quality.items():
        stdout.print(f"  {key}: {value}")
    stdout.print(f"Saved to {result.path}. Use it: precode suggest {run} --model {result.path}")
