"""`precode ingest`: read transcripts into a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import (
    ConfigOption,
    ForceOption,
    JobsOption,
    QuietOption,
    SetOption,
)
from pipeline.config import load_config
from pipeline.run_folder import RunFolder
from pipeline.stages import ingest_stage


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The run folder to write.")],
    participants: Annotated[Path | None, typer.Option(
        help="CSV of participant attributes (columns source and/or speaker, then attributes)."),
    ] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Force the text encoding (e.g. cp950, cp1252) instead of detecting it.")] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
    force: ForceOption = False,
    jobs: JobsOption = 1,
    quiet: QuietOption = False,
) -> None:
    """Read transcripts (.txt .md .docx .odt .rtf .pdf .vtt .srt) into RUN/sources.jsonl.

    Speakers, roles and turn offsets are detected; every offset indexes the normalized text
    (UTF-8, \\n newlines, NFC) stored in sources.jsonl.

    Example: precode ingest data/sample --participants data/sample/participants.csv --out runs/demo
    """

    overrides = list(set_ or [])
    if encoding:
        overrides.append(f"ingest.encoding={encoding}")
    resolved = load_config(config, overrides)
    result = ingest_stage(paths, out, resolved, participants=participants, force=force,
                          jobs=jobs)
    warn(result.warnings)
    if quiet:
        return
    if result.skipped:
        stdout.print(f"Inputs unchanged; {out}/sources.jsonl is up to date (use --force to redo).")
        return
    table = Table(title=f"Ingested into {out}", show_lines=False)
    for column in ("source", "format", "encoding", "lang", "turns", "speakers (role)"):
        table.add_column(column)
    for source in RunFolder(out).iter_sources():
        speakers: dict[str, str] = {}
        for turn in source.turns:
            speakers.setdefault(turn.speaker, turn.role)
        table.add_row(source.name, str(source.metadata.get("format", "")),
                      str(source.metadata.get("encoding", "-")), source.language,
                      str(len(source.turns)),
                      ", ".join(f"{s} ({r})" for s, r in speakers.items()))
    stdout.print(table)
    stdout.print(f"{result.counts['sources']} sources, {result.counts['turns']} turns in "
                 f"{result.seconds:.2f}s. Next: precode segment {out}")
