"""`precode run --dask`: shards on a Dask cluster (a LocalCluster here, as in CI), merged into
the bytes of a one-machine run, even when a worker dies mid-shard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dask.distributed import Client, LocalCluster

from pipeline.cluster.dask_driver import SHARDS_DIR, run_on_dask
from pipeline.config import load_config
from pipeline.stages import run_pipeline
from tests.conftest import ROOT, SAMPLE
from tests.test_shard_merge import OUTPUTS, PARTICIPANTS


def _config(cache: Path, backend: str = "hashed-ngrams") -> dict:
    return load_config(overrides=[f"embed.backend={backend}", f"embed.cache_dir={cache}"])


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("plain")
    run_pipeline([SAMPLE], work / "run", _config(work / "cache"), participants=PARTICIPANTS)
    return work / "run"


def _assert_same(run: Path, plain: Path) -> None:
    for name in OUTPUTS:
        assert (run / name).read_bytes() == (plain / name).read_bytes(), name
    assert not (run / SHARDS_DIR).exists()  # the shard copies are gone once merged


def test_the_cli_runs_shards_on_a_local_cluster_and_merges_them(plain: Path,
                                                                tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(SAMPLE), "--participants",
         str(PARTICIPANTS), "--out", str(tmp_path / "run"), "--dask", "local:2",
         "--set", "embed.backend=hashed-ngrams", "--set", f"embed.cache_dir={tmp_path}"],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "8 shards on 2 Dask worker(s)" in result.stdout
    _assert_same(tmp_path / "run", plain)


def test_a_worker_killed_mid_shard_is_replaced_and_the_output_is_the_same(
        plain: Path, tmp_path: Path) -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        first = set(client.run(os.getpid).values())
        shards = tmp_path / "run" / SHARDS_DIR
        killed: list[int] = []

        def kill_when_a_shard_is_under_way() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                started = list(shards.glob("*/manifest.json"))
                if started and not (started[0].parent / "suggestions.jsonl").exists():
                    for pid in first:
                        os.kill(pid, signal.SIGKILL)  # as the OOM killer would
                        killed.append(pid)
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_when_a_shard_is_under_way)
        watcher.start()
        run = run_on_dask([SAMPLE], tmp_path / "run", _config(tmp_path / "cache"),
                          cluster.scheduler_address, participants=PARTICIPANTS, shards=4)
        watcher.join()

    assert killed, "no shard was under way to kill"
    assert run.worker_pids - first, "no shard was finished by a restarted worker"
    _assert_same(tmp_path / "run", plain)


def _loads() -> tuple[int, int, int]:
    """In a worker: model loads, reuses, and zero-shot fits kept (run by `client.run`)."""
    from pipeline.cluster import tasks
    from pipeline.suggest import scorer

    info = tasks._model.cache_info()
    return info.misses, info.hits, len(scorer._FITTED)


def test_a_worker_loads_the_model_once_for_all_its_shards(plain: Path, tmp_path: Path) -> None:
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        run_on_dask([SAMPLE], tmp_path / "run", _config(tmp_path / "cache"),
                    cluster.scheduler_address, participants=PARTICIPANTS, shards=3)
        (misses, hits, fitted), = client.run(_loads).values()
    assert (misses, hits, fitted) == (1, 2, 1)
    _assert_same(tmp_path / "run", plain)


def test_an_input_error_in_one_shard_stops_the_run_cleanly(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("p01_nurse_day_ward.txt", "p05_case_manager_community_center.txt"):
        (corpus / name).write_bytes((SAMPLE / name).read_bytes())
    (corpus / "p99_broken.docx").write_bytes(b"not a zip archive")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(corpus), "--out", str(tmp_path / "run"),
         "--dask", "local:1", "--shards", "3", "--set", "embed.backend=hashed-ngrams",
         "--set", f"embed.cache_dir={tmp_path / 'cache'}"],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 2
    assert "p99_broken.docx" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "manifest.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--dask", "local:2", "--shard", "0/2"], "--shard and --dask do not go together"),
    (["--shards", "4"], "--shards goes with --dask"),
    (["--dask", "local:0"], "at least one worker")])
def test_bad_cluster_options_are_clear_errors(args: list[str], message: str,
                                              tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["run", str(SAMPLE), "--out", str(tmp_path / "run"),
                                      "--backend", "hashed-ngrams", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_real_model_on_two_workers_gives_the_bytes_of_one_process(
        model_cache: Path, tmp_path: Path) -> None:
    """onnx-int8, cold caches on both sides: each worker embeds its own texts with one
    thread, the plain run with all cores, and the suggestions are still identical."""
    import shutil

    other = tmp_path / "other-cache"
    shutil.copytree(model_cache, other, copy_function=os.link)
    run_pipeline([SAMPLE], tmp_path / "plain", _config(model_cache, "onnx-int8"),
                 participants=PARTICIPANTS)
    run_on_dask([SAMPLE], tmp_path / "run", _config(other, "onnx-int8"), "local:2",
                participants=PARTICIPANTS)
    _assert_same(tmp_path / "run", tmp_path / "plain")


def test_workers_share_the_cores_of_their_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model sized by the whole machine would oversubscribe a node that runs several
    workers, or a SLURM job given a few of its cores."""
    from pipeline.cluster import dask_driver, tasks
    from pipeline.cores import usable_cores

    class Scheduler:
        def scheduler_info(self) -> dict:
            return {"workers": {"tcp://10.0.0.1:1": {"host": "10.0.0.1", "nthreads": 1},
                                "tcp://10.0.0.1:2": {"host": "10.0.0.1", "nthreads": 2},
                                "tcp://10.0.0.2:1": {"host": "10.0.0.2", "nthreads": 1}}}

    slots = dask_driver._slots_by_host(Scheduler())
    assert slots == {"10.0.0.1": 3, "10.0.0.2": 1}
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5}, raising=False)
    assert usable_cores() == 6  # the job's cores, not the machine's

    class Worker:
        address = "tcp://10.0.0.1:40123"

    monkeypatch.setattr("distributed.get_worker", lambda: Worker())
    job = tasks.ShardJob(inputs=[], folder="", index=0, count=1, config={},
                         slots_by_host=slots)
    assert tasks._share_of_cores(job) == 2  # 6 cores among 3 task threads on 10.0.0.1
