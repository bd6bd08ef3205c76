"""`precode run --dask ADDRESS`: a corpus run as shards on a Dask cluster, merged as one run.

The driver checks the run as `precode run` does, cuts the corpus into shards (by source,
contiguous, balanced by size: `stages.shard`), and submits one task per shard. Each worker
process loads the model once (`tasks._model`) and writes the shard's run folder under
`RUN/.shards/` (on a cluster: shared storage that the workers and this machine both see).
Outcomes stream back as shards finish; then `stages.merge` joins the shards into `RUN`,
byte-identical to a one-machine run, and the shard folders are removed.

A worker that dies mid-shard (killed, out of memory) is restarted by its nanny and the
scheduler gives the shard to a worker again; the retry resumes from what the shard had
written (finished stages, cached vectors). Each shard has one folder and the merge takes each
index once, so no result can appear twice.

Privacy: tasks carry paths and settings, and return counts and warnings, never transcript
text. A `local:N` cluster listens on 127.0.0.1 only and has no dashboard.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cluster.tasks import ShardJob, ShardOutcome, run_shard
from pipeline.config import Config
from pipeline.cores import usable_cores
from pipeline.embed import cache_dir, make_model, unprepared
from pipeline.errors import ConfigError
from pipeline.stages import MergeResult, check_run, merge_shards

SHARDS_DIR = ".shards"  # inside the run folder while the shards run
SHARDS_PER_WORKER = 4  # uneven shards even out, and a retry loses little
_LOCAL = re.compile(r"^local:(\d+)$")


@dataclass
class DaskRun:
    """A finished cluster run: the merge, and how the shards went."""

    merge: MergeResult
    shards: int
    workers: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    worker_pids: set[int] = field(default_factory=set)


def run_on_dask(paths: Sequence[str | Path], out: str | Path, config: Config, address: str,
                codebook: str | Path | None = None, head: str | Path | None = None,
                participants: str | Path | None = None, shards: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> DaskRun:
    """Run the corpus as shards on the Dask cluster at `address` (`local:N`: N worker
    processes on this machine) and merge them into the run folder `out`.

    `shards`: how many parts (default: 4 per worker, at most one per transcript).
    `progress(done, total)` counts finished shards.
    """
    started = time.perf_counter()
    files = check_run(paths, out, config, codebook, head)
    if unprepared(config["embed"]):
        # Built once here, before any worker needs them: not by every worker at once.
        make_model(config["embed"]).encode(["prepare"])
    out = Path(out)
    work = out / SHARDS_DIR
    created = not out.exists()
    with _client(address) as (client, workers, threads):
        slots = _slots_by_host(client)
        count = shards or min(len(files), SHARDS_PER_WORKER * workers)
        jobs = [ShardJob(inputs=[str(p) for p in paths], folder=str(work / str(i)), index=i,
                         count=count, config=config,
                         codebook=str(codebook) if codebook else None,
                         head=str(head) if head else None,
                         participants=str(participants) if participants else None,
                         cwd=os.getcwd(), environment=_environment(config),
                         threads=threads, slots_by_host=slots)
                for i in range(count)]
        outcomes = _gather(client, jobs, progress)
    errors = [o.error for o in outcomes if o.error is not None]
    if errors:  # an input error, the same on any worker: reported (the first in corpus
        # order), and nothing kept. A crash or Ctrl-C instead keeps the shards, to resume.
        shutil.rmtree(out if created else work, ignore_errors=True)
        raise errors[0]
    merged = merge_shards([o.folder for o in outcomes], out, force=True)
    shutil.rmtree(work, ignore_errors=True)  # confidential copies, now merged
    warnings = sorted({w for o in outcomes for w in o.warnings}) + merged.warnings
    return DaskRun(merged, count, workers, time.perf_counter() - started, warnings,
                   {o.worker_pid for o in outcomes})


def _environment(config: Config) -> dict[str, str]:
    """The cache folder, made absolute: workers need the same model files and shared cache."""
    root = cache_dir(config["embed"])
    return {"PRECODE_CACHE": str(root.resolve()) if root is not None else ""}


def _slots_by_host(client: Any) -> dict[str, int]:
    """Task threads per machine, from the scheduler: a worker shares its machine's cores
    among them."""
    slots: Counter[str] = Counter()
    for info in client.scheduler_info().get("workers", {}).values():
        slots[str(info.get("host", ""))] += int(info.get("nthreads", 1))
    return dict(slots)


def _gather(client: Any, jobs: list[ShardJob],
            progress: Callable[[int, int], None] | None) -> list[ShardOutcome]:
    """Submit every shard, and collect the outcomes as they finish (in shard order)."""
    from dask.distributed import as_completed

    token = uuid.uuid4().hex[:8]
    futures = client.map(run_shard, jobs, key=[f"precode-shard-{j.index}-{token}"
                                               for j in jobs], pure=False, retries=2)
    outcomes: dict[int, ShardOutcome] = {}
    try:
        for future in as_completed(futures):
            outcome: ShardOutcome = future.result()
            outcomes[outcome.index] = outcome
            if progress is not None:
                progress(len(outcomes), len(jobs))
    finally:
        client.cancel(futures)
    return [outcomes[j.index] for j in jobs]


@contextmanager
def _client(address: str) -> Iterator[tuple[Any, int, int | None]]:
    """A client of the cluster at `address`, the number of its workers, and the threads the
    model may use in each (known only for a local cluster: its cores shared out)."""
    if importlib.util.find_spec("distributed") is None:
        raise ConfigError("--dask needs the dask extra, which is not installed",
                          hint="pip install 'precode[dask]' (dask.distributed)")
    from dask.distributed import Client, LocalCluster

    local = _LOCAL.match(address.strip())
    if local:
        workers = int(local[1])
        if workers < 1:
            raise ConfigError("local:N needs at least one worker", hint="e.g. --dask local:2")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                yield client, workers, max(1, usable_cores() // workers)
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler_file=address) if address.endswith(".json") \
            else Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address} ({exc})",
                          hint="check the address (tcp://host:8786, a scheduler file, or "
                               "local:N for worker processes on this machine)") from exc
    with client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        yield client, workers, None
