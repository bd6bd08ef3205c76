"""Pipeline speed and memory at corpus scale: per-stage throughput, peak RSS, fp32 vs int8.

Writes a deterministic synthetic corpus (sentences recombined from the English sample
transcripts, each made unique by a client's name and a number, so nothing is a cache hit by
accident), then runs the stages as a user would, each as its own `precode` process, and
measures each one's wall time and peak resident memory (from the kernel, via wait4):

    precode ingest CORPUS --out RUN --jobs J
    precode segment RUN --jobs J
    precode suggest RUN --backend B          (cold embedding cache)
    precode suggest RUN --backend B --force  (warm cache: scoring only)

With --interrupt-after S, the cold suggest is interrupted (SIGINT, as Ctrl-C) after S seconds
and started again: the second process must encode only what the first had not finished.

Then, in this process, the same sample of the corpus' texts is encoded by the fp32 PyTorch
model and by the int8 ONNX export (export time excluded), for throughput and cosine.

    python benchmarks/speed.py --segments 100000 --backend onnx-int8 --jobs 2
    python benchmarks/speed.py --segments 5000 --interrupt-after 10
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import ingest  # noqa: E402
from pipeline.segment import sentence_spans  # noqa: E402

NAMES = ["Lin", "Chen", "Wang", "Huang", "Chang", "Liu", "Tsai", "Yang", "Hsu", "Kuo"]


def sentences_from_sample() -> tuple[list[str], list[str]]:
    """Participant and interviewer sentences of the English sample transcripts."""
    answers, questions = [], []
    for source in ingest.read_all([ROOT / "data" / "sample"]):
        if source.language != "en":
            continue
        for turn in source.turns:
            text = source.text[turn.start:turn.end]
            target = questions if turn.role == "interviewer" else answers
            target.extend(text[s:e] for s, e in sentence_spans(text, "en"))
    answers = [a for a in answers if len(a) >= 30]  # never a fragment the segmenter merges
    return answers, questions


def write_corpus(folder: Path, segments: int, turns: int, seed: int = 7) -> int:
    """Transcripts of `turns` participant turns (2-4 sentences each) until `segments`
    participant sentences are written; returns the number of transcripts."""
    rng = random.Random(seed)
    answers, questions = sentences_from_sample()
    folder.mkdir(parents=True, exist_ok=True)
    written, t = 0, 0
    while written < segments:
        lines = []
        for k in range(turns):
            if written >= segments:
                break
            lines.append(f"Interviewer: {rng.choice(questions)}\n")
            picked = rng.sample(answers, min(rng.randint(2, 4), segments - written))
            body = " ".join(f"{s.rstrip('.')} (client {rng.choice(NAMES)} {t}-{k}-{i})."
                            for i, s in enumerate(picked))
            lines.append(f"P{t:04d}: {body}\n")
            written += len(picked)
        (folder / f"interview_{t:04d}.txt").write_text("\n".join(lines), encoding="utf-8")
        t += 1
    return t


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss_mb: float
    status: int


def run_step(name: str, args: list[str], env: dict[str, str],
             interrupt_after: float | None = None) -> Step:
    """Run `precode ARGS` in a child process; its wall time and peak RSS (wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL)
    if interrupt_after is not None:
        try:
            child.wait(timeout=interrupt_after)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    code = child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if code != 0 and interrupt_after is None:
        raise SystemExit(f"`precode {' '.join(args)}` failed with status {code}")
    return Step(name, seconds, usage.ru_maxrss / 1024, code)


def manifest_stage(run: Path, stage: str) -> dict[str, object]:
    import json
    data: dict[str, dict[str, dict[str, object]]] = json.loads(
        (run / "manifest.json").read_text(encoding="utf-8"))
    return data["stages"][stage]


def compare_backends(run: Path, count: int, cache: Path, model_name: str,
                     rounds: int = 3) -> dict[str, float]:
    """fp32 PyTorch vs int8 ONNX on the same texts from the corpus, in this process."""
    import numpy as np

    from pipeline.config import load_config
    from pipeline.embed import make_embedder
    from pipeline.run_folder import RunFolder

    folder = RunFolder(run)
    texts, turns = [], set()
    by_id = {s.id: s for s in folder.iter_sources()}
    for segment in folder.iter_segments():
        source = by_id[segment.source_id]
        turn = source.turns[segment.turn_index]
        texts.append(segment.text)
        turns.add(source.text[turn.start:turn.end])
    rng = random.Random(11)
    # The mix a run embeds: about three segments to one turn.
    sample = rng.sample(texts, min(count * 3 // 4, len(texts)))
    sample += rng.sample(sorted(turns), min(count - len(sample), len(turns)))
    config = load_config(overrides=[f"embed.cache_dir={cache}", f"embed.model={model_name}"])
    # .inner: the bare embedders, no vector cache (model files come from `cache` all the same)
    fp32 = make_embedder(dict(config["embed"], backend="sentence-transformers")).inner
    int8 = make_embedder(dict(config["embed"], backend="onnx-int8")).inner
    int8.prepare()  # type: ignore[attr-defined]
    fp32.encode(sample[:64])
    int8.encode(sample[:64])
    timings: dict[str, float] = {}
    vectors = {}
    for _ in range(rounds):  # alternating, best of each: a busy moment hits both alike
        for name, encode in (("fp32", lambda: fp32.encode(sample)),
                             ("int8", lambda: int8.encode(sample))):
            t0 = time.perf_counter()
            vectors[name] = np.asarray(encode())
            timings[name] = min(timings.get(name, float("inf")), time.perf_counter() - t0)
    cosine = (vectors["fp32"] * vectors["int8"]).sum(axis=1)
    print(f"\n{model_name}, fp32 vs int8 on the same {len(sample):,} texts of the corpus (in "
          f"process, batch {config['embed']['batch_size']}, best of {rounds} alternating "
          "rounds):")
    for name, seconds in timings.items():
        print(f"  {name:<5} {len(sample) / seconds:8,.0f} texts/s")
    print(f"  int8 / fp32 throughput: {timings['fp32'] / timings['int8']:.2f}x; "
          f"mean cosine {cosine.mean():.4f} (min {cosine.min():.3f})")
    return {name: len(sample) / seconds for name, seconds in timings.items()}


def compare_defaults(corpus: Path, work: Path, env: dict[str, str]) -> None:
    """A whole `precode run` with today's defaults against the previous default (fp32
    all-MiniLM-L6-v2, batches of 64), each a cold vector cache with its model prepared."""
    previous = ["--set", "embed.model=all-MiniLM-L6-v2", "--set",
                "embed.backend=sentence-transformers", "--set", "embed.batch_size=64"]
    rows = []
    for name, extra in (("previous default (MiniLM fp32)", previous),
                        ("default (e5, backend auto)", [])):
        cache = work / f"cache-{len(rows)}"
        models = dict(env, PRECODE_CACHE=str(cache))
        run_step("model prepare", ["model", "prepare", *extra], models)
        step = run_step(name, ["run", str(corpus), "--out", str(work / f"run-{len(rows)}"),
                               *extra], models)
        rows.append(step)
    print("\nwhole `precode run` of the corpus (one process each; models prepared before):")
    for step in rows:
        print(f"  {step.name:<32} {step.seconds:7.1f} s  peak RSS {step.peak_rss_mb:5,.0f} MB")
    print(f"  default / previous default time: {rows[1].seconds / rows[0].seconds:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000,
                        help="participant sentences in the corpus (about the segments coded)")
    parser.add_argument("--turns", type=int, default=40, help="participant turns per transcript")
    parser.add_argument("--backend", default="onnx-int8",
                        help="embedding backend of the pipeline run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes for ingest and segment")
    parser.add_argument("--compare", type=int, default=2000,
                        help="texts for the fp32/int8 comparison (0: skip it)")
    parser.add_argument("--interrupt-after", type=float, default=None, metavar="SECONDS",
                        help="interrupt the cold suggest after this long, then resume it")
    parser.add_argument("--model", default="multilingual-e5-small",
                        help="embedding model of the run and of the fp32/int8 comparison")
    parser.add_argument("--compare-defaults", action="store_true",
                        help="also time a whole `precode run` of the corpus with the default "
                             "settings and with the previous default (all-MiniLM-L6-v2, fp32)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="precode-speed-"))
    corpus, run, cache = work / "corpus", work / "run", work / "cache"
    for path in (corpus, run, cache):
        shutil.rmtree(path, ignore_errors=True)
    env = dict(os.environ, PRECODE_CACHE=str(cache))
    try:
        transcripts = write_corpus(corpus, args.segments, args.turns)
        print(f"cores: {os.cpu_count()}; corpus: {transcripts} transcripts; backend "
              f"{args.backend}; jobs {args.jobs}")
        model = ["--set", f"embed.model={args.model}"]
        prepared = run_step("model prepare", ["model", "prepare", "--set",
                                              f"embed.backend={args.backend}", *model], env)
        print(f"one-time model preparation (build and int8 export, not part of the run): "
              f"{prepared.seconds:.1f} s")
        steps = [
            run_step("ingest", ["ingest", str(corpus), "--out", str(run), "--jobs",
                                str(args.jobs)], env),
            run_step("segment", ["segment", str(run), "--jobs", str(args.jobs)], env),
        ]
        segments = int(manifest_stage(run, "segment")["segments"])  # type: ignore[call-overload]
        suggest = ["suggest", str(run), "--backend", args.backend, *model]
        if args.interrupt_after is not None:
            first = run_step("suggest (interrupted)", suggest, env, args.interrupt_after)
            cached = sum(p.stat().st_size // 65 for p in cache.glob("*/keys.txt"))  # 64 hex + \n
            print(f"suggest interrupted after {first.seconds:.1f} s (exit status "
                  f"{first.status}); {cached:,} texts were in the cache")
            steps.append(first)
        steps.append(run_step("suggest (cold cache)", suggest, env))
        encoded = int(manifest_stage(run, "suggest")["encoded"])  # type: ignore[call-overload]
        if args.interrupt_after is not None:
            print(f"resumed: that run encoded {encoded:,} texts, the rest came from the cache")
        steps.append(run_step("suggest (warm cache)", [*suggest, "--force"], env))

        print(f"\n{segments:,} segments; each stage is one `precode` process (includes "
              "its start-up, about 2-4 s)")
        print(f"  {'stage':<24} {'seconds':>9} {'segments/s':>11} {'peak RSS':>10}")
        for step in steps:
            print(f"  {step.name:<24} {step.seconds:9.1f} {segments / step.seconds:11,.0f} "
                  f"{step.peak_rss_mb:7,.0f} MB")
        pipeline_steps = [s for s in steps if s.name != "suggest (warm cache)"]
        total = sum(s.seconds for s in pipeline_steps)
        print(f"  {'whole run':<24} {total:9.1f} {segments / total:11,.0f} "
              f"{max(s.peak_rss_mb for s in pipeline_steps):7,.0f} MB (peak of any stage)")
        if args.compare_defaults:
            compare_defaults(corpus, work, env)
        if args.compare:
            rates = compare_backends(run, args.compare, cache, args.model)
            bare = rates["int8" if args.backend == "onnx-int8" else "fp32"]
            cold = next(s for s in steps if s.name == "suggest (cold cache)")
            if args.backend not in ("tfidf", "hashed-ngrams") and args.interrupt_after is None:
                print(f"  the run's suggest stage: {encoded / cold.seconds:,.0f} texts/s "
                      f"embedded and scored, {encoded / cold.seconds / bare:.0%} of the bare "
                      "encode rate above")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
