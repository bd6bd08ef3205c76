"""Run-level stages: the plain functions behind `precode ingest` and `precode segment`.

Each stage reads its inputs, does all its work in memory, and only then writes its outputs
(atomically) and records itself in the manifest, so a failure leaves the run as it was.
A stage whose fingerprint (inputs + settings) is unchanged is skipped unless forced.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import ingest
from pipeline.config import Config, load_config
from pipeline.ingest.participants import attach_participants
from pipeline.runs import RunFolder, fingerprint, sha256_file
from pipeline.segment import SegmentOptions, segment_all


@dataclass
class StageResult:
    stage: str
    skipped: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def ingest_options(config: Config) -> ingest.IngestOptions:
    section = config["ingest"]
    return ingest.IngestOptions(
        interviewer_names=tuple(section["interviewer_names"]),
        encoding=section["encoding"],
        language=section["language"],
    )


def segment_options(config: Config) -> SegmentOptions:
    return SegmentOptions(**config["segment"])


def ingest_stage(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 participants: str | Path | None = None, force: bool = False) -> StageResult:
    """Read transcripts into `out/sources.jsonl` and start (or refresh) the manifest."""
    config = config or load_config()
    run = RunFolder(out)
    started = time.perf_counter()
    files = ingest.find_files(paths)
    inputs = [{"path": str(p), "name": name, "sha256": sha256_file(p)} for p, name in files]
    if participants is not None:
        inputs.append({"path": str(participants), "name": "participants",
                       "sha256": sha256_file(Path(participants)) if Path(participants).exists()
                       else None})
    fp = fingerprint(inputs, config["ingest"])
    previous = run.manifest() if run.exists() else None
    if previous and not force and previous["stages"].get("ingest", {}).get("fingerprint") == fp \
            and run.file("sources.jsonl").exists():
        return StageResult("ingest", True, 0.0, {"sources": len(files)})

    options = ingest_options(config)
    sources = [ingest.read(path, options, name=name) for path, name in files]
    warnings: list[str] = []
    if participants is not None:
        sources, warnings = attach_participants(sources, participants)
    seconds = time.perf_counter() - started

    manifest = run.new_manifest(config, inputs)
    if previous:
        manifest["created"] = previous.get("created", manifest["created"])
    counts = {"sources": len(sources), "turns": sum(len(s.turns) for s in sources)}
    run.record_stage(manifest, "ingest", fp, seconds, **counts)
    run.write_jsonl("sources.jsonl", sources)
    run.write_manifest(manifest)
    return StageResult("ingest", False, seconds, counts, warnings)


def segment_stage(out: str | Path, config: Config | None = None,
                  force: bool = False) -> StageResult:
    """Cut the run's sources into `segments.jsonl` with the run's segment settings."""
    run = RunFolder(out)
    manifest = run.manifest()
    config = config or manifest["config"]
    started = time.perf_counter()
    sources_fp = manifest["stages"].get("ingest", {}).get("fingerprint")
    fp = fingerprint(sources_fp, config["segment"])
    done = manifest["stages"].get("segment", {})
    if not force and done.get("fingerprint") == fp and run.file("segments.jsonl").exists():
        return StageResult("segment", True, 0.0, {"segments": done.get("segments", 0)})
    options = segment_options(config)
    sources = run.sources()
    segments = segment_all(sources, options)
    seconds = time.perf_counter() - started
    manifest["config"]["segment"] = config["segment"]
    counts = {"segments": len(segments)}
    run.record_stage(manifest, "segment", fp, seconds, **counts)
    run.write_jsonl("segments.jsonl", segments)
    run.write_manifest(manifest)
    return StageResult("segment", False, seconds, counts)


def describe(result: StageResult) -> dict[str, Any]:
    return {"stage": result.stage, "skipped": result.skipped, "seconds": result.seconds,
            **result.counts}
