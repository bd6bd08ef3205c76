"""How fast `precode serve` opens a run: server start, and the page's first load in Chromium.

Builds a run (the sample corpus with the default model, or a synthetic corpus of N segments
with the hashed-ngrams backend, as benchmarks/speed.py writes it), starts `precode serve` as a
user would, and measures:

- start: from the command to the printed address (the run is loaded and scored);
- api: the requests the page makes on load, timed one by one over HTTP;
- page: in headless Chromium, from opening the address to the first transcript on screen
  with its highlighted segments and the progress line filled in.

    python benchmarks/serve_load.py                      # data/sample, default model
    python benchmarks/serve_load.py --segments 100000    # synthetic, hashed-ngrams
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed import write_corpus  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_run(work: Path, segments: int, env: dict[str, str]) -> Path:
    run = work / "run"
    if segments:
        corpus = work / "corpus"
        write_corpus(corpus, segments, turns=max(1, segments // 400))
        extra = ["--backend", "hashed-ngrams", "--jobs", "2"]
    else:
        corpus, extra = ROOT / "data" / "sample", []
    subprocess.run([sys.executable, "-m", "pipeline", "run", str(corpus), "--out", str(run),
                    "--quiet", *extra], check=True, env=env, cwd=ROOT)
    return run


def get(url: str, token: str) -> tuple[float, int]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request) as answer:
        body = answer.read()
    return time.perf_counter() - started, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=0,
                        help="synthetic corpus of this many segments (0: the sample corpus)")
    parser.add_argument("--keep", type=Path, help="build the run here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="precode-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {"PRECODE_CACHE": str(work / "cache"), **os.environ}  # a cache given outside wins
    run = work / "run"
    if not (run / "suggestions.jsonl").exists():
        started = time.perf_counter()
        run = build_run(work, args.segments, env)
        print(f"run built in {time.perf_counter() - started:.1f} s")
    segments = sum(1 for _ in (run / "segments.jsonl").open())
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(run), "--coder",
                               "bench", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        url = ""
        assert server.stdout is not None
        for line in server.stdout:
            if "?token=" in line:
                url = line.strip()
                break
        start_s = time.perf_counter() - started
        token = url.split("token=")[1]
        base = f"http://127.0.0.1:{port}"
        first = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/sources", headers={"Authorization": f"token {token}"})).read())
        source = first["sources"][0]["id"]
        timings = {}
        for path in ("/api/session", "/api/codebook", "/api/sources", "/api/progress",
                     f"/api/source?id={source}", f"/api/segments?source={source}&limit=1000",
                     f"/api/queue?order=uncertain&source={source}",
                     "/api/segments?offset=0&limit=200"):
            timings[path] = get(base + path, token)
        page_s = browser_load(url)
        print(f"segments: {segments}; sources: {len(first['sources'])}")
        print(f"server start (load and score the run): {start_s:.2f} s")
        for path, (seconds, size) in timings.items():
            print(f"  {path:55s} {seconds * 1000:7.1f} ms  {size / 1024:8.1f} KiB")
        if page_s is not None:
            print(f"page load in Chromium (address to transcript on screen): {page_s:.2f} s")
    finally:
        server.terminate()
        server.wait(10)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def browser_load(url: str) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("(playwright is not installed: pip install 'precode[browser]')")
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(".segment", timeout=120_000)
        page.wait_for_function("document.querySelector('#progress') && "
                               "/reviewed/.test(document.querySelector('#progress').textContent)")
        seconds = time.perf_counter() - started
        browser.close()
        return seconds


if __name__ == "__main__":
    main()
