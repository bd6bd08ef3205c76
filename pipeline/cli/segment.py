"""`precode segment`: cut a run's sources into units to code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import (
    ConfigOption,
    ForceOption,
    JobsOption,
    QuietOption,
    SetOption,
)
from pipeline.config import Config, load_config
from pipeline.run_folder import RunFolder
from pipeline.stages import segment_stage


def segment_command(
    run: Annotated[Path, typer.Argument(help="A run folder made by `precode ingest`.")],
    unit: Annotated[str | None, typer.Option(help="sentence, turn or window.")] = None,
    include_interviewer: Annotated[bool | None, typer.Option(
        "--include-interviewer/--no-include-interviewer",
        help="Also code the interviewer's turns.")] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
    force: ForceOption = False,
    jobs: JobsOption = 1,
    quiet: QuietOption = False,
) -> None:
    """Cut the run's sources into segments (RUN/segments.jsonl).

    Interviewer turns are kept as context but not coded unless --include-interviewer.

    Example: precode segment runs/demo --unit sentence --jobs 4
    """

    folder = RunFolder(run)
    manifest = folder.manifest()
    overrides = list(set_ or [])
    if unit is not None:
        overrides.append(f"segment.unit={unit}")
    if include_interviewer is not None:
        overrides.append(f"segment.include_interviewer={str(include_interviewer).lower()}")
    resolved = load_config(config, overrides, base=manifest["config"]) \
        if (config or overrides) else None
    if resolved is not None:
        resolved = cast(Config, {**manifest["config"], "segment": resolved["segment"]})
    result = segment_stage(run, resolved, force=force, jobs=jobs)
    warn(result.warnings)
    if quiet:
        return
    if result.skipped:
        stdout.print(f"Sources and settings unchanged; {run}/segments.jsonl is up to date "
                     "(use --force to redo).")
        return
    count = result.counts["segments"]
    rate = count / result.seconds if result.seconds else float("inf")
    stdout.print(f"{count} segments in {result.seconds:.2f}s ({rate:,.0f} segments/s) "
                 f"written to {run}/segments.jsonl")
