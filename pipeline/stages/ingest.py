"""The ingest stage: transcripts into `RUN/sources.jsonl`, and a new (or refreshed) manifest."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from pipeline import ingest
from pipeline.config import Config, load_config
from pipeline.errors import InputNotFoundError
from pipeline.ingest.participants import Participants
from pipeline.records import Source
from pipeline.run_folder import (
    SOURCES,
    STALE_AFTER,
    RunFolder,
    fingerprint,
    json_line,
    sha256_file,
)
from pipeline.stages.parallel import parallel_map, resolve_jobs
from pipeline.stages.result import StageResult
from pipeline.stages.shard import ShardSpec, plan_shard


def ingest_options(config: Config) -> ingest.IngestOptions:
    section = config["ingest"]
    return ingest.IngestOptions(
        interviewer_names=tuple(section["interviewer_names"]),
        encoding=section["encoding"],
        language=section["language"],
    )


def ingest_stage(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 participants: str | Path | None = None, force: bool = False,
                 jobs: int = 1, shard: ShardSpec | None = None) -> StageResult:
    """Read transcripts into `out/sources.jsonl` and start (or refresh) the manifest.

    `jobs` files are read at once in worker processes (0: one per CPU); the output is the same.
    `shard`: read only that part of the corpus (see `stages.shard`); the manifest names it.
    """
    config = config or load_config()
    workers = resolve_jobs(jobs)
    run = RunFolder(out)
    started = time.perf_counter()
    skipped: list[Path] = []
    files = ingest.find_files(paths, skipped)
    names = [name for _, name in files]  # the whole corpus', for the participants table
    plan = plan_shard(files, shard, participants) if shard is not None else None
    if plan is not None:
        files = plan.files
    inputs: list[dict[str, Any]] = [{"path": str(p), "name": name, "sha256": sha256_file(p)}
                                    for p, name in files]
    if participants is not None:
        if not Path(participants).exists():
            raise InputNotFoundError("no such participants file", path=participants,
                                     hint="check the path given to --participants")
        inputs.append({"path": str(participants), "name": "participants",
                       "sha256": sha256_file(Path(participants))})
    fp = ingest_fingerprint(inputs, config)
    if plan is not None:
        fp = fingerprint(fp, plan.record())
    previous = run.manifest() if run.exists() else None
    if previous and not force and previous["stages"].get("ingest", {}).get("fingerprint") == fp \
            and run.file(SOURCES).exists():
        return StageResult("ingest", True, 0.0, {"sources": len(files)})

    options = ingest_options(config)
    table = Participants(participants, names) if participants is not None else None
    warnings: list[str] = []
    if skipped:
        kinds = sorted({p.suffix.lower() or "(no extension)" for p in skipped})
        warnings.append(f"{len(skipped)} file(s) skipped, not a transcript format precode reads "
                        f"({', '.join(kinds)}): {', '.join(p.name for p in skipped[:5])}"
                        f"{'...' if len(skipped) > 5 else ''}. precode reads "
                        f"{', '.join(ingest.SUPPORTED)}; a .qdpx goes through `precode import`.")
    counts = {"sources": 0, "turns": 0}
    with _folder_kept_only_on_success(run.path), run.jsonl_writer(SOURCES) as write, \
            parallel_map(min(workers, len(files))) as map_:
        for source in map_(functools.partial(_read_file, options), files):
            warnings += _source_warnings(source)
            if table is not None:
                source = table.apply(source)
            write(json_line(source))
            counts["sources"] += 1
            counts["turns"] += len(source.turns)
        unmatched = table.unmatched_rows() if table is not None else {}
        if plan is None:
            warnings += unmatched.values()
    seconds = time.perf_counter() - started

    manifest = run.new_manifest(config, inputs)
    if previous:
        manifest["created"] = previous.get("created", manifest["created"])
        run.drop(STALE_AFTER["ingest"])
    if plan is not None:
        # A row "matches nothing" only if no shard matched it: `precode merge` decides.
        manifest["shard"] = {**plan.record(), "unmatched_participants": unmatched}
    run.record_stage(manifest, "ingest", fp, seconds, **counts)
    run.write_manifest(manifest)
    return StageResult("ingest", False, seconds, counts, warnings)


def ingest_fingerprint(inputs: list[dict[str, Any]], config: Config) -> str:
    """The ingest stage's fingerprint: its inputs (paths and checksums) and settings.
    `precode merge` computes it over the shards' inputs, as one machine would."""
    return fingerprint(inputs, config["ingest"])


@contextmanager
def _folder_kept_only_on_success(path: Path) -> Iterator[None]:
    """Remove the folders the block creates for `path` if it fails: a first ingest that fails
    leaves no empty run folder behind."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        yield
    except BaseException:
        for folder in missing:  # deepest first; never one that is not empty
            with suppress(OSError):
                folder.rmdir()
        raise


def _read_file(options: ingest.IngestOptions, item: tuple[Path, str]) -> Source:
    path, name = item
    return ingest.read(path, options, name=name)


def _source_warnings(source: Source) -> list[str]:
    """What a researcher should know about one source as soon as it is read."""
    warnings = []
    if source.turns and all(t.role == "interviewer" for t in source.turns):
        warnings.append(
            f"{source.name}: every turn is the interviewer's "
            f"({', '.join(sorted({t.speaker for t in source.turns}))}), so nothing will be "
            "coded. Are the participant's labels written as 'Name: text'? Or set "
            "ingest.interviewer_names.")
    if all(t.speaker == "unknown" for t in source.turns) and source.text.count("\n") >= 5:
        warnings.append(
            f"{source.name}: no speaker labels recognised, so all of it is coded as one "
            "unknown speaker (interviewer questions included). If it has labels, write "
            "them as 'Name: text' (e.g. 'Interviewer: ...'), one per turn.")
    return warnings
