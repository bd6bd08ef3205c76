"""`precode run`: ingest, segment and suggest in one go, checked before any of them starts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline import ingest
from pipeline.config import Config, check_values, load_config
from pipeline.embed import make_embedder
from pipeline.run_folder import (
    RunFolder,
)
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.stages.ingest import ingest_stage
from pipeline.stages.parallel import resolve_jobs
from pipeline.stages.result import StageResult
from pipeline.stages.segment import segment_options, segment_stage
from pipeline.stages.suggest import suggest_stage
from pipeline.suggest import load_head


def run_pipeline(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 codebook: str | Path | None = None, head: str | Path | None = None,
                 participants: str | Path | None = None, force: bool = False,
                 progress: Callable[[int, int], None] | None = None,
                 jobs: int = 1) -> list[StageResult]:
    """ingest -> segment -> suggest, skipping the stages whose inputs did not change.

    `jobs` worker processes read and segment the transcripts (0: one per CPU).

    Everything that can be checked before work starts is checked first (settings, codebook,
    trained head, input paths), so a mistake never leaves the run folder half updated.
    """
    config = config or load_config()
    check_values(config)
    resolve_jobs(jobs)
    segment_options(config)
    ingest.find_files(paths)
    _, book = resolve_codebook(RunFolder(out), codebook)
    if head is not None:
        load_head(head, make_embedder(config["embed"]), book)
    results = [ingest_stage(paths, out, config, participants=participants, force=force,
                            jobs=jobs)]
    # A changed earlier stage forces the later ones (their fingerprints chain anyway).
    results.append(segment_stage(out, config, force=force, jobs=jobs))
    results.append(suggest_stage(out, config, codebook=codebook, head=head, force=force,
                                 progress=progress))
    return results
