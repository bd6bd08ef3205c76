"""Peak memory and wall time of `precode evaluate`, `report` and `discover` on a large run.

Builds a synthetic run of --segments N participant sentences (`speed.write_corpus`, then
`precode run` with the hashed-ngrams backend, which needs no model), writes a gold CSV from
its suggestions (coder A keeps the suggested codes of three segments in four and gives the
fourth segment the next code of the codebook, so the figures are neither perfect nor zero),
then runs each command as its own process and prints its wall time and peak resident memory
(from the kernel, via wait4). With --keep the run under --work is reused if it is there.
Each command runs under an address-space limit (--limit-gb, 12 by default), so one that would
exhaust the machine fails alone and is listed as failed.

    python benchmarks/memory.py --segments 100000 --work /tmp/precode-memory --keep
    python benchmarks/memory.py --segments 10000 --bootstrap 0

A benchmark that prints figures, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.speed import Step, run_step, write_corpus  # noqa: E402
from pipeline.run_folder import RunFolder  # noqa: E402
from pipeline.run_folder.codebook import resolve_codebook  # noqa: E402
from pipeline.run_folder.suggestions import iter_suggestions  # noqa: E402


def build_run(work: Path, segments: int, env: dict[str, str], keep: bool) -> Step | None:
    """The synthetic run (reused with --keep when its suggestions exist); its build step."""
    run = work / "run"
    if keep and (run / "suggestions.jsonl").exists():
        return None
    shutil.rmtree(work, ignore_errors=True)
    write_corpus(work / "corpus", segments, turns=40)
    return run_step("run (build)", ["run", str(work / "corpus"), "--out", str(run),
                                    "--backend", "hashed-ngrams", "-q"], env)


def measure(name: str, args: list[str], env: dict[str, str], limit_gb: float) -> Step:
    """Run `precode ARGS` in a child process under an address-space limit (so a command that
    would exhaust the machine fails alone, with status 1): wall time and peak RSS (wait4)."""
    def cap() -> None:
        size = int(limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=cap if limit_gb > 0 else None)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Step(name, time.perf_counter() - start, usage.ru_maxrss / 1024, child.returncode)


def write_gold(run: Path, path: Path) -> int:
    """A gold CSV for coder A from the run's suggestions, one segment in four recoded."""
    folder = RunFolder(run)
    codes = resolve_codebook(folder)[1].code_ids()
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["source", "start", "end", "code", "coder"])
        for number, line in enumerate(iter_suggestions(folder)):
            if line.code is None:
                continue
            code = codes[(codes.index(line.code) + 1) % len(codes)] if number % 4 == 0 \
                else line.code
            out.writerow([line.source, line.start, line.end, code, "A"])
            rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10000)
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the corpus, run and cache (default: a temp folder "
                             "named for --segments)")
    parser.add_argument("--keep", action="store_true", help="reuse the run in --work")
    parser.add_argument("--bootstrap", type=int, default=1000, help="evaluate's draws")
    parser.add_argument("--limit-gb", type=float, default=12.0,
                        help="address-space limit of each command (0: none)")
    parser.add_argument("--only", action="append", default=[],
                        choices=["evaluate", "report", "discover"])
    args = parser.parse_args()
    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / f"precode-memory-{args.segments}"
    env = dict(os.environ, PRECODE_CACHE=str(work / "cache"))
    started = time.perf_counter()
    steps = [s for s in [build_run(work, args.segments, env, args.keep)] if s]
    run = work / "run"
    gold = work / "gold.csv"
    if not gold.exists() or steps:
        print(f"gold rows: {write_gold(run, gold)}")
    commands = {
        "evaluate": ["evaluate", str(run), "--gold", str(gold), "--coder", "A",
                     "--bootstrap", str(args.bootstrap)],
        "report": ["report", str(run)],
        "discover": ["discover", str(run), "-q"],
    }
    for name in args.only or list(commands):
        steps.append(measure(name, commands[name], env, args.limit_gb))
    print(f"{args.segments} segments; run folder {run}")
    print(f"{'command':<14}{'seconds':>9}{'peak RSS MB':>13}  status")
    for step in steps:
        print(f"{step.name:<14}{step.seconds:>9.1f}{step.peak_rss_mb:>13.0f}  "
              f"{'ok' if step.status == 0 else f'failed ({step.status})'}")
    print(f"({time.perf_counter() - started:.0f}s in all)")


if __name__ == "__main__":
    main()
