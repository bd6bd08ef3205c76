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

With --dask ADDRESS (`local:N`: N worker processes here; or a scheduler address or file),
the stage timings give way to a cluster comparison: a plain `precode run` against
`precode run --dask ADDRESS` (each with a cold vector cache, outputs compared byte for byte);
then, in this process with the model loaded once as a Dask worker keeps it, every shard one
after the other (per-shard times; `precode merge` is timed on their folders) and shard 0 at
1..cores ONNX threads (a worker's own throughput, and how it grows with cores); a larger
hashed-ngrams corpus merged (merge throughput); and from these a projection for a large corpus
on a larger cluster.

    python benchmarks/speed.py --segments 100000 --backend onnx-int8 --jobs 2
    python benchmarks/speed.py --segments 5000 --interrupt-after 10
    python benchmarks/speed.py --segments 10000 --dask local:2
"""

from __future__ import annotations

import argparse
import filecmp
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import ingest  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.embed.base import Embedder  # noqa: E402
from pipeline.segment import sentence_spans  # noqa: E402

NAMES = ["Lin", "Chen", "Wang", "Huang", "Chang", "Liu", "Tsai", "Yang", "Hsu", "Kuo"]


def sentences_from_sample() -> tuple[list[str], list[str]]:
    """Participant and interviewer sentences of the English sample transcripts."""
    answers: list[str] = []
    questions: list[str] = []
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
    rows: list[Step] = []
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


# -- --dask: a plain run against the same corpus on a Dask cluster ---------------------------

COMPARED = ("sources.jsonl", "segments.jsonl", "suggestions.jsonl", "suggestions.csv")


@dataclass
class ShardTime:
    index: int
    segments: int
    encoded: int  # texts the model embedded: its segments' and turns', and the codebook's
    seconds: float


def cold_cache(models_from: Path, folder: Path) -> Path:
    """A cache folder holding only the prepared model folders of `models_from` (symlinked):
    a run finds its model ready, so nothing is rebuilt, but every text is embedded anew."""
    models = [e for e in sorted(models_from.iterdir())
              if e.name == "models" or e.name.startswith("onnx-int8-")]
    if not any(e.name == "models" for e in models):
        raise SystemExit(f"{models_from} holds no prepared models: run `precode model prepare` "
                         "with PRECODE_CACHE pointing there, or give --models-from")
    folder.mkdir(parents=True)
    for entry in models:
        (folder / entry.name).symlink_to(entry.resolve(), target_is_directory=True)
    return folder


@contextmanager
def cache_env(cache: Path) -> Iterator[None]:
    """PRECODE_CACHE for work done in this process (embedders and merges read it)."""
    before = os.environ.get("PRECODE_CACHE")
    os.environ["PRECODE_CACHE"] = str(cache)
    try:
        yield
    finally:
        if before is None:
            del os.environ["PRECODE_CACHE"]
        else:
            os.environ["PRECODE_CACHE"] = before


def shard_count(address: str, shards: int | None, transcripts: int) -> int:
    """The shards of the cluster run, and of the shard runs that mirror it: as given, else
    what `--dask` picks for local:N (4 per worker), else 8; at most one per transcript."""
    if shards is None:
        local = address.strip().removeprefix("local:")
        shards = 4 * int(local) if local.isdigit() else 8
    return min(shards, transcripts)


def stage_seconds(run: Path) -> float:
    """A run's stages' own seconds from its manifest (a merged run: its shards' summed)."""
    data = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    return float(sum(data["stages"][s]["seconds"] for s in ("ingest", "segment", "suggest")))


def same_outputs(a: Path, b: Path) -> dict[str, bool]:
    """Byte equality of the files a merged run promises to share with a plain run."""
    return {name: filecmp.cmp(a / name, b / name, shallow=False) for name in COMPARED}


def cells(values: list[float], fmt: str) -> str:
    """Every round's figure, ' / '-joined: noisy timings are shown, not hidden in a mean."""
    return " / ".join(format(v, fmt) for v in values)


def plain_vs_dask(corpus: Path, work: Path, models_from: Path, address: str, shards: int,
                  extra: list[str], jobs: int, rounds: int) -> list[tuple[Step, Step, float]]:
    """Each round: a plain `precode run` and a `--dask` one of the corpus, each its own cold
    cache, as a user runs them (process and cluster start-up included); their outputs are
    compared every round. Returns (plain, dask, the dask run's busy worker-seconds)."""
    results = []
    for r in range(rounds):
        runs = {}
        for name, options in (("plain", ["--jobs", str(jobs)]),
                              ("dask", ["--dask", address, "--shards", str(shards)])):
            cache = cold_cache(models_from, work / f"cache-{name}-{r}")
            out = work / f"{name}-{r}"
            step = run_step(f"{name} {r + 1}", ["run", str(corpus), "--out", str(out),
                                                "--quiet", *options, *extra],
                            dict(os.environ, PRECODE_CACHE=str(cache)))
            runs[name] = (step, out)
        print(f"  round {r + 1}: plain run and --dask {address}, outputs:")
        for name, same in same_outputs(runs["plain"][1], runs["dask"][1]).items():
            print(f"    {name:<20} {'SAME' if same else 'DIFFERENT'}")
        results.append((runs["plain"][0], runs["dask"][0], stage_seconds(runs["dask"][1])))
    return results


def print_plain_vs_dask(pairs: list[tuple[Step, Step, float]], segments: int,
                        address: str) -> None:
    """Wall time and segments/s of each, every round."""
    print(f"\n{segments:,} segments; whole `precode run` processes, start-up included")
    print(f"  {'run':<20} {'seconds':>15} {'segments/s':>15}")
    for name, steps in (("plain", [p for p, _, _ in pairs]),
                        (f"--dask {address}", [d for _, d, _ in pairs])):
        seconds = [s.seconds for s in steps]
        print(f"  {name:<20} {cells(seconds, '.1f'):>15} "
              f"{cells([segments / s for s in seconds], ',.0f'):>15}")
    busy = [b for _, _, b in pairs]
    print(f"  inside the --dask run, its shards' stages took {cells(busy, '.1f')} worker-"
          f"seconds: {cells([segments / b for b in busy], ',.0f')} segments per worker-second")


def load_model(config: Config, threads: int) -> Embedder:
    """The configured model with `threads` ONNX threads, loaded and warmed, as a Dask worker
    keeps it (`cluster.tasks._model`): shard timings then leave out the load."""
    from pipeline.embed import make_model

    model = make_model(config["embed"])
    if hasattr(model, "threads"):
        model.threads = threads
    model.encode(["a sentence to load and warm the model"] * 32)
    return model


def run_shard_here(corpus: Path, out: Path, index: int, count: int, config: Config,
                   model: Embedder) -> ShardTime:
    """One shard through `run_pipeline` in this process with `model`, as a Dask task runs it
    (`cluster.tasks.run_shard`: ingest, segment, suggest into its own folder)."""
    from pipeline.stages import ShardSpec, run_pipeline

    t0 = time.perf_counter()
    run_pipeline([corpus], out, config, shard=ShardSpec.of(index, count), embedder=model)
    seconds = time.perf_counter() - t0
    suggest = manifest_stage(out, "suggest")
    return ShardTime(index, int(suggest["segments"]), int(suggest["encoded"]),  # type: ignore
                     seconds)


def run_all_shards(corpus: Path, folder: Path, count: int, config: Config,
                   model: Embedder) -> list[ShardTime]:
    """Every shard, one after the other, into folder/I: one worker doing the whole corpus,
    and the shard folders that `precode merge` is timed on."""
    return [run_shard_here(corpus, folder / str(i), i, count, config, model)
            for i in range(count)]


def thread_rates(corpus: Path, work: Path, count: int, config: Config,
                 models: dict[int, Embedder], rounds: int) -> dict[int, list[float]]:
    """Shard 0's segments/s with each thread count, in turn and in reversed order every other
    round, so that a busy moment of the machine hits them alike: how a worker's throughput
    grows with cores. The codebook is fitted already (a worker fits it once, `_fitted`)."""
    rates: dict[int, list[float]] = {}
    for r in range(rounds):
        for threads, model in sorted(models.items(), reverse=bool(r % 2)):
            t = run_shard_here(corpus, work / f"worker-{threads}-{r}", 0, count, config, model)
            rates.setdefault(threads, []).append(t.segments / t.seconds)
    return rates


def print_shards(times: list[ShardTime], threads: int) -> None:
    """Per-shard table: a shard also embeds the codebook (a cold cache), hence `encoded`."""
    print(f"\neach shard in this process, one after the other, model warm ({threads} "
          "thread(s)), as a Dask task runs it\n(the first also fits the codebook, once per "
          "worker process: its ~400 texts embedded):")
    print(f"  {'shard':>5} {'segments':>9} {'encoded':>8} {'seconds':>8} {'seg/s':>7}")
    for t in times:
        print(f"  {t.index:>5} {t.segments:9,} {t.encoded:8,} {t.seconds:8.1f} "
              f"{t.segments / t.seconds:7,.0f}")
    segments, seconds = sum(t.segments for t in times), sum(t.seconds for t in times)
    print(f"  {'all':>5} {segments:9,} {sum(t.encoded for t in times):8,} {seconds:8.1f} "
          f"{segments / seconds:7,.0f}")


def time_merge(shards: list[Path], work: Path, models_from: Path, label: str,
               rounds: int) -> list[tuple[float, float]]:
    """`precode merge` as a user runs it (process start-up included) and `merge_shards` in
    this process (the part that grows with the corpus), each round into a new folder and a new
    cold cache, since a merge also folds the shards' vectors into the cache."""
    from pipeline.stages import merge_shards

    paths = [str(p) for p in shards]
    timings = []
    for r in range(rounds):
        cache = cold_cache(models_from, work / f"cache-merge-{label}-{r}")
        cli = run_step("merge", ["merge", *paths, "--out", str(work / f"merged-{label}-{r}"),
                                 "--quiet"], dict(os.environ, PRECODE_CACHE=str(cache)))
        cache = cold_cache(models_from, work / f"cache-merge-{label}-{r}-in-process")
        with cache_env(cache):
            t0 = time.perf_counter()
            merge_shards(paths, work / f"merged-{label}-{r}-in-process")
            timings.append((cli.seconds, time.perf_counter() - t0))
    return timings


def print_merge(merges: list[tuple[float, float]], segments: int, what: str) -> None:
    """The merge's time and throughput, as a command and in process."""
    print(f"  `precode merge` of {what}: {cells([c for c, _ in merges], '.2f')} s, "
          f"{cells([segments / c for c, _ in merges], ',.0f')} segments/s")
    print(f"  merge_shards in this process: {cells([m for _, m in merges], '.2f')} s, "
          f"{cells([segments / m for _, m in merges], ',.0f')} segments/s")


def large_merge(args: argparse.Namespace, work: Path, count: int) -> tuple[int, float]:
    """Merge throughput at a size where the merge's own work dominates: a corpus of
    --merge-segments run as shards with hashed-ngrams (no model: quick to make; but no
    vectors to fold into the cache either), then merged. Returns its segments and the best
    in-process segments/s."""
    from pipeline.config import load_config

    corpus = work / "corpus-merge"
    write_corpus(corpus, args.merge_segments, args.turns, seed=8)
    config = load_config(overrides=["embed.backend=hashed-ngrams"])
    with cache_env(cold_cache(args.models_from, work / "cache-merge-shards")):
        t0 = time.perf_counter()
        times = run_all_shards(corpus, work / "shards-merge", count, config,
                               load_model(config, 1))
        made = time.perf_counter() - t0
    segments = sum(t.segments for t in times)
    merges = time_merge([work / "shards-merge" / str(i) for i in range(count)], work,
                        args.models_from, "large", args.rounds)
    print(f"\nmerge throughput at a larger size ({count} hashed-ngrams shards, made in "
          f"{made:.0f} s):")
    print_merge(merges, segments, f"{segments:,} segments")
    return segments, segments / min(m for _, m in merges)


def project(rates: dict[int, list[float]], merge_rates: dict[str, float], segments: int,
            workers: int, cores: int) -> None:
    """The time of `segments` on `workers` machines of `cores` cores, from the best measured
    per-worker rates here scaled to `cores` three ways (one single-thread process per core;
    the most threads measured, linearly; the measured thread scaling, repeated per doubling),
    plus the merge at the slower of its measured rates (the e5 merge also folds vectors into
    the cache; hashed-ngrams has none)."""
    measured = max(rates)
    best = {t: max(v) for t, v in rates.items()}
    scaling = best[measured] / best[1] if measured > 1 else 1.0
    print(f"\nprojection: {segments:,} segments on {workers} workers x {cores} cores "
          "(best round of each measured figure)")
    print("  per-worker rate here: " + ", ".join(f"{best[t]:,.0f} segments/s at {t} thread(s)"
                                                  for t in sorted(best))
          + (f": {measured} threads give {scaling:.2f}x of 1" if measured > 1 else ""))
    for name, rate in merge_rates.items():
        print(f"  merge at {rate:,.0f} segments/s ({name}): {segments / rate:,.0f} s")
    merge = segments / min(merge_rates.values())
    rows = [(f"1 thread x {cores} processes (linear)", best[1] * cores)]
    if measured > 1:
        rows += [(f"{measured} threads, linear in cores (x{cores / measured:g})",
                  best[measured] * cores / measured),
                 (f"thread scaling per doubling (x{scaling:.2f})",
                  best[measured] * scaling ** math.log2(cores / measured))]
    print(f"  {'per-worker rate at ' + str(cores) + ' cores':<40} {'worker seg/s':>12} "
          f"{'shards s':>9} {'merge s':>8} {'total':>10}")
    for name, rate in rows:
        shard_s = segments / (workers * rate)
        print(f"  {name:<40} {rate:12,.0f} {shard_s:9,.0f} {merge:8,.0f} "
              f"{(shard_s + merge) / 60:6,.1f} min")
    print("  assumes: worker cores as fast as these and not shared with other work; even "
          "shards\n  (the last to finish sets the time); one machine merges at the slower "
          "rate above,\n  growing linearly (local disk here: shared storage may be slower); "
          "cluster start-up\n  and task scheduling left out. Linear scaling is the optimistic "
          "bound; the first row\n  needs one single-thread worker process per core (a "
          "remote worker's model uses all\n  its machine's cores unless told otherwise).")


def dask_benchmark(args: argparse.Namespace, corpus: Path, work: Path,
                   transcripts: int) -> None:
    """The --dask mode: plain vs cluster run, per-shard and per-worker rates, merge rates,
    and the projection built from them."""
    from pipeline.config import load_config

    extra = ["--backend", args.backend, "--set", f"embed.model={args.model}"]
    count = shard_count(args.dask, args.shards, transcripts)
    print(f"cores: {os.cpu_count()}; corpus: {transcripts} transcripts; backend "
          f"{args.backend}; {count} shards; models from {args.models_from} (each run a cold "
          f"vector cache)")
    pairs = plain_vs_dask(corpus, work, args.models_from, args.dask, count, extra, args.jobs,
                          args.repeat)
    segments = int(manifest_stage(work / "plain-0", "segment")["segments"])  # type: ignore
    print_plain_vs_dask(pairs, segments, args.dask)

    config = load_config(overrides=[f"embed.backend={args.backend}",
                                    f"embed.model={args.model}"])
    with cache_env(cold_cache(args.models_from, work / "cache-shards")):  # shards only read it
        models = {t: load_model(config, t) for t in range(1, (os.cpu_count() or 1) + 1)}
        cores = max(models)
        times = run_all_shards(corpus, work / "shards", count, config, models[cores])
        print_shards(times, cores)
        rates = thread_rates(corpus, work, count, config, models, args.rounds)
    del models
    print(f"\nper-worker throughput: shard 0/{count} ({times[0].segments:,} segments), model "
          f"warm, {args.rounds} alternating round(s):")
    for threads, values in sorted(rates.items()):
        print(f"  {threads} ONNX thread(s): {cells(values, ',.0f')} segments/s")

    merges = time_merge([work / "shards" / str(i) for i in range(count)], work,
                        args.models_from, "run", args.rounds)
    print(f"\nmerge of the {count} {args.backend} shards:")
    print_merge(merges, segments, f"{segments:,} segments")
    merge_rates = {f"{segments:,} segments, {args.backend}, with its vectors":
                   segments / min(m for _, m in merges)}
    if args.merge_segments:
        large, rate = large_merge(args, work, count)
        merge_rates[f"{large:,} segments, hashed-ngrams, no vectors"] = rate
    project(rates, merge_rates, args.project_segments, args.project_workers,
            args.project_cores)


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
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="instead of the stage timings: a plain run against `precode run "
                             "--dask ADDRESS` (local:N worker processes, or a scheduler "
                             "address or file), shard and merge timings, and a projection")
    parser.add_argument("--shards", type=int, default=None,
                        help="with --dask: shards of the cluster run and of the shard runs "
                             "(default: 4 per worker for local:N, else 8)")
    parser.add_argument("--models-from", type=Path,
                        default=Path(os.environ.get("PRECODE_CACHE") or ROOT / ".precode-cache"),
                        help="with --dask: the cache whose prepared models (models/, "
                             "onnx-int8-*/) each run's cold cache links to (default: "
                             "PRECODE_CACHE, else .precode-cache)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --dask: rounds of the plain and --dask runs (the longest "
                             "timings; the machine may be busy)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="with --dask: rounds of the shorter timings (per-thread shard "
                             "rate, merges)")
    parser.add_argument("--merge-segments", type=int, default=100_000,
                        help="with --dask: segments of the hashed-ngrams corpus whose merge "
                             "gives the merge throughput (0: skip it)")
    parser.add_argument("--project-segments", type=int, default=1_000_000,
                        help="with --dask: corpus size of the projection")
    parser.add_argument("--project-workers", type=int, default=8,
                        help="with --dask: worker machines of the projection")
    parser.add_argument("--project-cores", type=int, default=4,
                        help="with --dask: cores per worker machine of the projection")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="precode-speed-"))
    corpus, run, cache = work / "corpus", work / "run", work / "cache"
    for path in (corpus, run, cache):
        shutil.rmtree(path, ignore_errors=True)
    env = dict(os.environ, PRECODE_CACHE=str(cache))
    try:
        transcripts = write_corpus(corpus, args.segments, args.turns)
        if args.dask is not None:
            dask_benchmark(args, corpus, work, transcripts)
            return
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
