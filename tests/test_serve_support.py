"""Running `precode serve` as a user would, for the browser and durability tests (no tests)."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import ROOT

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`python -m pipeline serve RUN --port P [--coder C]`, started as a user starts it."""

    def __init__(self, run: Path, home: Path, coder: str | None = "Ann",
                 timeout: float = 60.0) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "pipeline", "serve", str(run), "--port", str(self.port)]
        if coder is not None:
            args += ["--coder", coder]
        env = {**os.environ, "PRECODE_CACHE": str(home / "precode-cache"),
               "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        self.output: list[str] = []
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        self.url, self.token = self._wait_for_url(lines, timeout)
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait_until_listening(timeout)

    def _drain(self, lines: queue.Queue[str | None]) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:  # keep reading: a full pipe would block the server
            line = raw.decode("utf-8", "replace")
            self.output.append(line)
            lines.put(line)
        lines.put(None)

    def _wait_for_url(self, lines: queue.Queue[str | None], timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            match = URL.search(line)
            if match:
                assert int(match.group(1)) == self.port, line
                return match.group(0), match.group(2)
        self.kill()
        raise AssertionError(f"precode serve printed no start address within {timeout:.0f} s "
                             f"(exit {self.process.returncode}):\n{''.join(self.output)}")

    def _wait_until_listening(self, timeout: float) -> None:
        """Until the server answers a request (it listens before it prints the address)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                answer = httpx.get(f"{self.base}/api/session", timeout=2,
                                   headers={"Authorization": f"token {self.token}"})
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"precode serve does not answer on port {self.port} "
                             f"(exit {self.process.returncode}):\n{''.join(self.output)}")

    def client(self, coder: str | None = None) -> httpx.Client:
        """A script's client (token header, JSON); signed in as `coder` if given."""
        client = httpx.Client(base_url=self.base, timeout=30,
                              headers={"Authorization": f"token {self.token}"})
        if coder is not None:
            answer = client.post("/api/session", json={"coder": coder})
            assert answer.status_code == 200 and answer.json() == {"coder": coder}, answer.text
        return client

    def kill(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=30)


@contextmanager
def serving(run: Path, home: Path, coder: str | None = "Ann") -> Iterator[Server]:
    server = Server(run, home, coder)
    try:
        yield server
    finally:
        server.kill()
