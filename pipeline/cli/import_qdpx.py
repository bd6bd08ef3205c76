"""`precode import`: a REFI-QDA project (.qdpx) as a new run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import ConfigOption, QuietOption, SetOption
from pipeline.config import load_config
from pipeline.stages import import_qdpx


def import_command(
    path: Annotated[Path, typer.Argument(help="A .qdpx project exported by a QDA tool.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The run folder to create.")],
    segment: Annotated[bool, typer.Option(
        "--segment/--no-segment", help="Also cut the sources into segments.")] = True,
    config: ConfigOption = None,
    set_: SetOption = None,
    quiet: QuietOption = False,
) -> None:
    """Import a .qdpx project: its text sources, its code tree as codebook.yaml, and every
    coding as codings.jsonl, with the name of the user who made it as coder.

    Plain text comes from the project (or the .docx rich text where it is empty); positions
    are mapped onto the normalized text. The archive is checked before anything is read
    (size, member count, no absolute or '..' paths) and XML entities are never expanded.

    Example: precode import coded.qdpx --out runs/coded
    """

    resolved = load_config(config, list(set_ or []))
    result = import_qdpx(path, out, resolved, segment=segment)
    warn(result.warnings)
    if not quiet:
        counts = ", ".join(f"{value} {key}" for key, value in result.counts.items())
        stdout.print(f"Imported {path} into {out} in {result.seconds:.2f}s: {counts}.")
