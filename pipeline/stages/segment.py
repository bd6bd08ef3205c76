"""The segment stage: the run's sources cut into `RUN/segments.jsonl`."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from pipeline.config import Config
from pipeline.records import Source
from pipeline.run_folder import (
    SEGMENTS,
    STALE_AFTER,
    RunFolder,
    fingerprint,
    json_line,
)
from pipeline.segment import SegmentOptions, segment
from pipeline.stages.parallel import parallel_map, resolve_jobs
from pipeline.stages.result import StageResult


def segment_options(config: Config) -> SegmentOptions:
    return SegmentOptions(**config["segment"])


def segment_stage(out: str | Path, config: Config | None = None,
                  force: bool = False, jobs: int = 1) -> StageResult:
    """Cut the run's sources into `segments.jsonl` with the run's segment settings.

    `jobs` sources are segmented at once in worker processes (0: one per CPU); same output.
    """
    workers = resolve_jobs(jobs)
    run = RunFolder(out)
    manifest = run.manifest()
    config = config or manifest["config"]
    started = time.perf_counter()
    sources_fp = manifest["stages"].get("ingest", {}).get("fingerprint")
    fp = segment_fingerprint(sources_fp, config)
    done = manifest["stages"].get("segment", {})
    if not force and done.get("fingerprint") == fp and run.file(SEGMENTS).exists():
        return StageResult("segment", True, 0.0, {"segments": done.get("segments", 0)})
    options = segment_options(config)
    sources = run.iter_sources()
    known = manifest["stages"].get("ingest", {}).get("sources")
    if isinstance(known, int):
        workers = min(workers, known)
    counts = {"segments": 0}
    empty: set[str] = set()
    with run.jsonl_writer(SEGMENTS) as write, \
            parallel_map(workers, preload=["spacy"]) as map_:
        for name, count, lines in map_(functools.partial(_segment_lines, options), sources):
            write(lines)
            counts["segments"] += count
            if not count:
                empty.add(name)
    seconds = time.perf_counter() - started
    names = sorted(empty)
    warnings = [f"{len(names)} source(s) gave no segment to code ({', '.join(names[:4])}"
                f"{'...' if len(names) > 4 else ''}): only interviewer turns or fragments"] \
        if names else []
    manifest["config"]["segment"] = config["segment"]
    run.record_stage(manifest, "segment", fp, seconds, **counts)
    manifest["stages"].pop("suggest", None)
    run.drop(STALE_AFTER["segment"])
    run.write_manifest(manifest)
    return StageResult("segment", False, seconds, counts, warnings)


def segment_fingerprint(sources_fp: str | None, config: Config) -> str:
    """The segment stage's fingerprint: the sources' (ingest's) and the segment settings."""
    return fingerprint(sources_fp, config["segment"])


def _segment_lines(options: SegmentOptions, source: Source) -> tuple[str, int, str]:
    """One source's segments as the lines of segments.jsonl: serialized in the worker, so the
    writing process only copies text."""
    segments = segment(source, options=options)
    lines = "".join(json_line(s) for s in segments)
    return source.name, len(segments), lines
