"""`precode run`: ingest, segment and suggest in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import (
    BackendOption,
    ConfigOption,
    ForceOption,
    HeadOption,
    JobsOption,
    QuietOption,
    SetOption,
    ThresholdOption,
)
from pipeline.cli.progress import announce_preparation, embedding_progress
from pipeline.config import load_config
from pipeline.stages import run_pipeline


def run_command(
    inputs: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The run folder to write.")],
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the reference codebook).")] = None,
    head: HeadOption = None,
    unit: Annotated[str | None, typer.Option(help="sentence, turn or window.")] = None,
    participants: Annotated[Path | None, typer.Option(
        help="CSV of participant attributes.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Force the text encoding (e.g. cp950, gb18030) instead of detecting it.")] = None,
    threshold: ThresholdOption = None,
    backend: BackendOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
    force: ForceOption = False,
    jobs: JobsOption = 1,
    quiet: QuietOption = False,
) -> None:
    """Run the pipeline: ingest, segment, embed and suggest codes.

    Stages whose inputs and settings did not change are skipped, so re-running is cheap, and
    an interrupted run (Ctrl-C) resumes where it stopped: embeddings already computed are
    cached. Writes RUN/suggestions.jsonl (one line per suggested code) and RUN/suggestions.csv.

    Example: precode run data/sample --out runs/demo --participants data/sample/participants.csv
    """
    overrides = list(set_ or [])
    if unit:
        overrides.append(f"segment.unit={unit}")
    if threshold is not None:
        overrides.append(f"suggest.threshold={threshold}")
    if backend:
        overrides.append(f"embed.backend={backend}")
    if encoding:
        overrides.append(f"ingest.encoding={encoding}")
    resolved = load_config(config, overrides)
    announce_preparation(resolved["embed"], quiet)
    with embedding_progress(quiet, "Suggesting (segments)") as progress:
        results = run_pipeline(inputs, out, resolved, codebook=codebook, head=head,
                               participants=participants, force=force, progress=progress,
                               jobs=jobs)
    warn(w for r in results for w in r.warnings)
    if quiet:
        return
    for r in results:
        state = "unchanged, skipped" if r.skipped else f"{r.seconds:.1f}s"
        counts = ", ".join(f"{v} {k}" for k, v in r.counts.items())
        stdout.print(f"  {r.stage:<8} {state:<20} {counts}")
    stdout.print(f"Suggestions: {out}/suggestions.jsonl and {out}/suggestions.csv")
