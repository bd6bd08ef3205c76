"""`precode suggest`: re-score a run (new codebook, threshold or model)."""

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
    QuietOption,
    SetOption,
    ThresholdOption,
)
from pipeline.cli.progress import announce_preparation, embedding_progress
from pipeline.config import load_config
from pipeline.run_folder import RunFolder
from pipeline.stages import suggest_stage


def suggest_command(
    run: Annotated[Path, typer.Argument(help="A run folder with segments.")],
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the run's codebook.yaml, else the reference).")] = None,
    head: HeadOption = None,
    threshold: ThresholdOption = None,
    top_k: Annotated[int | None, typer.Option(help="Codes kept per segment.")] = None,
    backend: BackendOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
    force: ForceOption = False,
    quiet: QuietOption = False,
) -> None:
    """Suggest codes for the run's segments (re-runs only the last stage).

    Example: precode suggest runs/demo --model models/recovery --threshold 0.4
    """
    manifest = RunFolder(run).manifest()
    overrides = list(set_ or [])
    if threshold is not None:
        overrides.append(f"suggest.threshold={threshold}")
    if top_k is not None:
        overrides.append(f"suggest.top_k={top_k}")
    if backend:
        overrides.append(f"embed.backend={backend}")
    resolved = manifest["config"]
    if config or overrides:
        fresh = load_config(config, overrides, base=resolved)
        resolved = {**resolved, "embed": fresh["embed"], "suggest": fresh["suggest"]}
    announce_preparation(resolved["embed"], quiet)
    with embedding_progress(quiet, "Suggesting (segments)") as progress:
        result = suggest_stage(run, resolved, codebook=codebook, head=head, force=force,
                               progress=progress)
    warn(result.warnings)
    if quiet:
        return
    if result.skipped:
        stdout.print(f"Nothing changed; {run}/suggestions.jsonl is up to date (--force redoes it).")
        return
    c = result.counts
    stdout.print(f"{c['suggestions']} suggestions for {c['segments_with_code']} of "
                 f"{c['segments']} segments in {result.seconds:.1f}s "
                 f"({c['encoded']} texts embedded, the rest from the cache).")
    stdout.print(f"Written: {run}/suggestions.jsonl, {run}/suggestions.csv")
