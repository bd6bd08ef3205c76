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
from pipeline.config import Config, load_config
from pipeline.errors import ConfigError
from pipeline.stages import ShardSpec, run_pipeline


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
    shard: Annotated[str | None, typer.Option(
        metavar="I/N",
        help="Run only part I of N (numbered from 0) into --out, a folder of its own; "
             "`precode merge` joins the N folders. Needs no coordination: e.g. a SLURM "
             "array task with --shard $SLURM_ARRAY_TASK_ID/N.")] = None,
    dask: Annotated[str | None, typer.Option(
        metavar="ADDRESS",
        help="Run the shards on a Dask cluster (a scheduler address or file) or on local:N "
             "worker processes, then merge them (needs precode[dask]).")] = None,
    shards: Annotated[int | None, typer.Option(
        min=1, help="With --dask: how many shards (default: 4 per worker).")] = None,
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
    if dask is not None:
        if shard is not None:
            raise ConfigError("--shard and --dask do not go together",
                              hint="--dask cuts the corpus into shards itself (--shards N)")
        _run_on_dask(inputs, out, resolved, dask, codebook, head, participants, shards, quiet)
        return
    if shards is not None:
        raise ConfigError("--shards goes with --dask",
                          hint="to run one part of the corpus, use --shard I/N")
    spec = ShardSpec.parse(shard) if shard is not None else None
    announce_preparation(resolved["embed"], quiet)
    with embedding_progress(quiet, "Suggesting (segments)") as progress:
        results = run_pipeline(inputs, out, resolved, codebook=codebook, head=head,
                               participants=participants, force=force, progress=progress,
                               jobs=jobs, shard=spec)
    warn(w for r in results for w in r.warnings)
    if quiet:
        return
    for r in results:
        state = "unchanged, skipped" if r.skipped else f"{r.seconds:.1f}s"
        counts = ", ".join(f"{v} {k}" for k, v in r.counts.items())
        stdout.print(f"  {r.stage:<8} {state:<20} {counts}")
    if spec is not None:
        stdout.print(f"Shard {spec} of the corpus is in {out}; join all {spec.count} with "
                     f"`precode merge SHARD_FOLDERS... --out RUN`.")
        return
    stdout.print(f"Suggestions: {out}/suggestions.jsonl and {out}/suggestions.csv")


def _run_on_dask(inputs: list[Path], out: Path, config: Config, address: str,
                 codebook: Path | None, head: Path | None, participants: Path | None,
                 shards: int | None, quiet: bool) -> None:
    from pipeline.cluster.dask_driver import run_on_dask  # dask is an optional extra

    announce_preparation(config["embed"], quiet)
    with embedding_progress(quiet, "Shards") as progress:
        run = run_on_dask(inputs, out, config, address, codebook=codebook, head=head,
                          participants=participants, shards=shards, progress=progress)
    warn(run.warnings)
    if quiet:
        return
    counts = ", ".join(f"{v} {k}" for k, v in run.merge.counts.items())
    stdout.print(f"  {run.shards} shards on {run.workers} Dask worker(s), merged: {counts} "
                 f"in {run.seconds:.1f}s")
    stdout.print(f"Suggestions: {out}/suggestions.jsonl and {out}/suggestions.csv")
