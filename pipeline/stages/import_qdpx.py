"""`precode import`: a REFI-QDA project (`.qdpx`) as a new run folder.

Nothing is written until everything has been read, and the run folder appears at once (it is
built beside its final name and renamed). The project's codings go to `codings.jsonl`, its
code tree to `codebook.yaml`; the segment stage then runs as after `precode ingest`.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.errors import RunFolderError
from pipeline.ingest.archive import DEFAULT_LIMITS, Limits
from pipeline.qdpx.import_ import read_qdpx
from pipeline.run_folder import SOURCES, RunFolder, fingerprint, sha256_file
from pipeline.run_folder.codebook import write_codebook
from pipeline.run_folder.codings import write_codings
from pipeline.stages.ingest import ingest_options
from pipeline.stages.segment import segment_stage


@dataclass
class ImportResult:
    run: Path
    counts: dict[str, int]
    warnings: list[str]
    seconds: float


def import_qdpx(path: str | Path, out: str | Path, config: Config | None = None,
                segment: bool = True, limits: Limits = DEFAULT_LIMITS) -> ImportResult:
    """Read `path` and write a new run folder `out` (sources, codebook, codings, segments)."""
    started = time.perf_counter()
    path, out = Path(path), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunFolderError("this folder already exists and is not empty", path=out,
                             hint="import into a new folder (precode never mixes an import "
                                  "into an existing run)")
    config = config or load_config()
    project = read_qdpx(path, ingest_options(config), limits)
    out.parent.mkdir(parents=True, exist_ok=True)
    building = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
    os.mkdir(building)
    try:
        run = RunFolder(building)
        inputs = [{"path": str(path), "name": path.name, "sha256": sha256_file(path)}]
        fp = fingerprint(inputs, config["ingest"], "qdpx")
        manifest = run.new_manifest(config, inputs)
        seconds = time.perf_counter() - started
        counts = {"sources": len(project.sources),
                  "turns": sum(len(s.turns) for s in project.sources)}
        run.record_stage(manifest, "ingest", fp, seconds, via="import", **counts)
        codes = len(project.codebook.code_ids()) if project.codebook else 0
        run.record_stage(manifest, "import", fp, seconds, codes=codes,
                         codings=len(project.codings), users=len(project.users))
        run.write_jsonl(SOURCES, project.sources)
        if project.codebook is not None:
            write_codebook(run, project.codebook)
        else:
            project.warnings.append("the project has no codes, so the run has no codebook.yaml")
        write_codings(run, project.codings)
        run.write_manifest(manifest)
        segments = segment_stage(building).counts.get("segments", 0) if segment else None
        if out.exists():
            out.rmdir()
        os.replace(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    result_counts = {**counts, "codes": codes, "codings": len(project.codings),
                     "users": len(project.users)}
    if segments is not None:
        result_counts["segments"] = segments
    return ImportResult(out, result_counts, project.warnings, time.perf_counter() - started)
