"""`precode run`: ingest, segment and suggest in one go, checked before any of them starts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline import ingest
from pipeline.config import Config, check_values, load_config
from pipeline.embed import Embedder, make_embedder
from pipeline.run_folder import (
    RunFolder,
)
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.stages.ingest import ingest_stage
from pipeline.stages.parallel import resolve_jobs
from pipeline.stages.result import StageResult
from pipeline.stages.segment import segment_options, segment_stage
from pipeline.stages.shard import ShardSpec, seal_shard
from pipeline.stages.suggest import suggest_stage
from pipeline.suggest import load_head


def run_pipeline(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 codebook: str | Path | None = None, head: str | Path | None = None,
                 participants: str | Path | None = None, force: bool = False,
                 progress: Callable[[int, int], None] | None = None,
                 jobs: int = 1, shard: ShardSpec | None = None,
                 embedder: Embedder | None = None) -> list[StageResult]:
    """ingest -> segment -> suggest, skipping the stages whose inputs did not change.

    `jobs` worker processes read and segment the transcripts (0: one per CPU).
    `shard`: run only that part of the corpus, into a run folder of its own that
    `precode merge` joins with the others (see `stages.shard`). `embedder`: the model to use
    instead of loading the configured one (a Dask worker keeps one for all its shards).

    Everything that can be checked before work starts is checked first (settings, codebook,
    trained head, input paths), so a mistake never leaves the run folder half updated.
    """
    config = config or load_config()
    check_run(paths, out, config, codebook, head, jobs)
    results = [ingest_stage(paths, out, config, participants=participants, force=force,
                            jobs=jobs, shard=shard)]
    # A changed earlier stage forces the later ones (their fingerprints chain anyway).
    results.append(segment_stage(out, config, force=force, jobs=jobs))
    results.append(suggest_stage(out, config, codebook=codebook, head=head, force=force,
                                 progress=progress, embedder=embedder))
    if shard is not None:
        seal_shard(RunFolder(out))
    return results


def check_run(paths: Sequence[str | Path], out: str | Path, config: Config,
              codebook: str | Path | None = None, head: str | Path | None = None,
              jobs: int = 1) -> list[tuple[Path, str]]:
    """Everything about a run that can be checked before work starts: settings, codebook,
    trained head and input paths (a cluster driver checks them before it submits). Returns
    the transcripts found, (path, source name) in corpus order."""
    check_values(config)
    resolve_jobs(jobs)
    segment_options(config)
    files = ingest.find_files(paths)
    _, book = resolve_codebook(RunFolder(out), codebook)
    if head is not None:
        load_head(head, make_embedder(config["embed"]), book)
    return files
