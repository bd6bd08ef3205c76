"""`precode merge`: join the shard runs of one corpus into one run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import QuietOption
from pipeline.stages import merge_shards


def merge_command(
    shards: Annotated[list[Path], typer.Argument(
        help="The run folders written by `precode run ... --shard I/N`, all N of them.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The run folder to write.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the results of an existing run folder (decisions.jsonl and "
                        "codings.jsonl are kept).")] = False,
    quiet: QuietOption = False,
) -> None:
    """Join shard runs into the run folder one machine would have written.

    Checks first that the shards belong together (the same transcripts, settings, package
    versions, codebook and model) and that all N parts are there once; on any mismatch it
    names the shard and writes nothing. The shards' embedding cache layers are added to the
    cache. The shard folders are left as they are: they hold copies of confidential text and
    vectors, so delete them once you have checked the merged run.

    Example: precode merge runs/part-* --out runs/big
    """
    result = merge_shards(shards, out, force=force)
    warn(result.warnings)
    if quiet:
        return
    counts = ", ".join(f"{v} {k}" for k, v in result.counts.items())
    stdout.print(f"Merged {result.shards} shards into {result.out}: {counts}")
    if result.cache is not None:
        stdout.print(f"  embedding cache: {result.cache.added} vectors added, "
                     f"{result.cache.present} already there")
    stdout.print(f"Suggestions: {out}/suggestions.jsonl and {out}/suggestions.csv")
