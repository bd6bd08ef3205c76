"""`precode export`: a run as a REFI-QDA project or codebook, or as a review spreadsheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import QuietOption
from pipeline.errors import PrecodeError
from pipeline.export import export_run


def export_command(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f",
        help="qdpx (REFI-QDA project), qdc (codebook), csv or xlsx (review sheet); "
             "default: from the --out extension.")] = None,
    include: Annotated[str, typer.Option(
        help="What to export as codings: suggestions, decisions or both.")] = "both",
    min_score: Annotated[float, typer.Option(
        "--min-score", help="Leave out suggestions scored below this (0 to 1).")] = 0.0,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite --out if it exists.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Export a run for ATLAS.ti, NVivo, MAXQDA or QualCoder (.qdpx, .qdc), or for review
    in a spreadsheet (.csv, .xlsx: one row per segment, empty accept/reject columns).

    In a .qdpx, suggestions are codings by the user "precode suggestions" (score and evidence
    in the selection's description), confirmed decisions are codings by their reviewer, and
    codings.jsonl keeps its coders. GUIDs come from ids, so re-exports match.

    Example: precode export runs/demo --out demo.qdpx --include both --min-score 0.5
    """
    if out.exists() and not force:
        raise PrecodeError("the file already exists (a filled-in review sheet would be lost)",
                           path=out, hint="choose another --out, or add --force to overwrite it")
    result = export_run(run, out, fmt, include=include, min_score=min_score)
    warn(result.warnings)
    if not quiet:
        counts = ", ".join(f"{value} {key}" for key, value in result.counts.items())
        stdout.print(f"Wrote {result.path} ({result.format}): {counts}.")
