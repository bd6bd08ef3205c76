"""A review process killed mid-session (SIGKILL) loses nothing it had saved, and resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.review import DecisionLog
from pipeline.run_folder.decisions import reviewed_codes
from tests.conftest import ROOT
from tests.test_review_support import make_run

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _wait_for_lines(path: Path, n: int, process: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        if path.exists():
            count = path.read_bytes().count(b"\n")
            if count >= n:
                return count
        if process.poll() is not None:
            raise AssertionError(f"review exited early ({process.returncode}): "
                                 f"{process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.05)
    return count


def test_review_survives_sigkill_and_resumes(tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config)
    log_path = run.file("decisions.jsonl")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "review", str(run.path), "--coder", "Ann",
         "--order", "document"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdin is not None
        process.stdin.write(b"1\nr\n1 2\n")
        process.stdin.flush()
        assert _wait_for_lines(log_path, 9, process) == 9  # three segments, three lines each
        process.stdin.write(b"n I was typing th")  # a note being typed when the power goes
        process.stdin.flush()
        time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL

    raw = log_path.read_bytes()
    assert raw.endswith(b"\n")
    lines = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    assert len(lines) == 9 and {line["coder"] for line in lines} == {"Ann"}
    reviewed = reviewed_codes(DecisionLog(log_path).read())
    assert len(reviewed) == 3 and [len(c) for c in reviewed.values()] == [1, 0, 2]

    # A kill inside a write leaves a torn last line: it is ignored, then cut on the next save.
    with log_path.open("ab") as fh:
        fh.write(b'{"segment_id": "s1:19')
    result = CliRunner().invoke(app, ["review", str(run.path), "--coder", "Ann", "--order",
                                      "document"], input="r\nq\n")
    assert result.exit_code == 0, result.output
    assert "Ann: 3 reviewed, 7 to go" in result.output  # resumed where Ann left off
    after = DecisionLog(log_path).read()
    assert len(after) == 12 and log_path.read_bytes().count(b"\n") == 12
    assert all(json.loads(line) for line in log_path.read_text().splitlines())
