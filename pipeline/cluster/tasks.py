"""One shard on one worker: the function a Dask task runs, and the model it keeps.

A worker process loads the embedding model once and keeps it for every shard it is given
(`_model`, a one-entry cache keyed by the embed settings). Input errors (a malformed
transcript) fail the same on every worker, so they come back as a value rather than an
exception the engine would retry.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.cores import usable_cores
from pipeline.embed import make_model
from pipeline.embed.base import Embedder
from pipeline.embed.offline import ensure_offline
from pipeline.errors import PrecodeError
from pipeline.stages import ShardSpec, run_pipeline


@dataclass
class ShardOutcome:
    """What a shard task sends back: counts and warnings, never transcript text."""

    index: int
    folder: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: PrecodeError | None = None
    worker_pid: int = 0


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to run one shard; paths, not text."""

    inputs: list[str]
    folder: str  # the shard's run folder (shared storage on a cluster)
    index: int
    count: int
    config: Config
    codebook: str | None = None
    head: str | None = None
    participants: str | None = None
    cwd: str | None = None  # relative input paths are the driver's
    environment: dict[str, str] = field(default_factory=dict)  # e.g. PRECODE_CACHE
    threads: int | None = None  # for the model; None: this worker's share of its machine
    slots_by_host: dict[str, int] = field(default_factory=dict)  # task threads per machine


def run_shard(job: ShardJob) -> ShardOutcome:
    """Run shard `job.index` of `job.count` into `job.folder`; safe to run again (a retry
    skips the stages that finished and re-embeds nothing the shard's cache layer holds)."""
    ensure_offline()
    os.environ.update(job.environment)
    if job.cwd and Path(job.cwd).is_dir():
        os.chdir(job.cwd)  # one task at a time per worker process (threads_per_worker=1)
    try:
        results = run_pipeline(job.inputs, job.folder, job.config, codebook=job.codebook,
                               head=job.head, participants=job.participants,
                               shard=ShardSpec.of(job.index, job.count),
                               embedder=_model(json.dumps(job.config["embed"], sort_keys=True),
                                               job.threads or _share_of_cores(job)))
    except PrecodeError as exc:
        return ShardOutcome(job.index, job.folder, error=exc, worker_pid=os.getpid())
    counts = {k: v for r in results for k, v in r.counts.items()}
    warnings = [w for r in results for w in r.warnings]
    return ShardOutcome(job.index, job.folder, counts, warnings, worker_pid=os.getpid())


def _share_of_cores(job: ShardJob) -> int:
    """The model's threads on a cluster worker: the cores this process may use, shared among
    the task threads of all workers on its machine (several worker processes on one node
    would otherwise each start a thread per core)."""
    from distributed import get_worker

    try:
        host = get_worker().address.rsplit(":", 1)[0].split("://")[-1]
    except ValueError:  # not in a worker
        return usable_cores()
    return max(1, usable_cores() // max(1, job.slots_by_host.get(host, 1)))


@functools.lru_cache(maxsize=1)
def _model(section: str, threads: int | None) -> Embedder:
    """The worker's model, loaded on first use and kept for its later shards."""
    settings: dict[str, Any] = json.loads(section)
    model = make_model(settings)
    if threads and hasattr(model, "threads"):
        model.threads = threads
    return model
