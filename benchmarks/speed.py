"""Pipeline speed on a synthetic corpus: per-stage throughput, peak memory, overhead vs encode.

Builds a deterministic corpus of interview transcripts (sentences recombined from the English
sample transcripts, each made unique), runs ingest -> segment -> suggest with a cold embedding
cache, re-runs suggest with a warm cache, and encodes the same texts with a bare
`SentenceTransformer.encode` in the same process for comparison.

    python benchmarks/speed.py [--transcripts 200] [--turns 40] [--int8]

With --int8, the same texts are also encoded by the onnx-int8 backend (export excluded from
the timing), and the fp32/int8 throughput ratio is printed.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import ingest  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.runs import RunFolder  # noqa: E402
from pipeline.segment import sentence_spans  # noqa: E402
from pipeline.stages import ingest_stage, segment_stage, suggest_stage  # noqa: E402
from pipeline.suggest.context import context_texts  # noqa: E402

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
    return answers, questions


def write_corpus(folder: Path, transcripts: int, turns: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    answers, questions = sentences_from_sample()
    folder.mkdir(parents=True, exist_ok=True)
    for t in range(transcripts):
        lines = []
        for k in range(turns):
            q = rng.choice(questions)
            lines.append(f"Interviewer: {q}\n")
            picked = rng.sample(answers, rng.randint(2, 4))
            # A client's name and a number make each sentence unique across the corpus.
            body = " ".join(f"{s.rstrip('.')} (client {rng.choice(NAMES)} {t}-{k}-{i})."
                            for i, s in enumerate(picked))
            lines.append(f"P{t:03d}: {body}\n")
        (folder / f"interview_{t:03d}.txt").write_text("\n".join(lines), encoding="utf-8")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--turns", type=int, default=40, help="participant turns per transcript")
    parser.add_argument("--int8", action="store_true", help="also time the onnx-int8 backend")
    args = parser.parse_args()
    import os

    print(f"cores: {os.cpu_count()}, transcripts: {args.transcripts}")
    with tempfile.TemporaryDirectory() as tmp:
        corpus, run, cache = Path(tmp) / "corpus", Path(tmp) / "run", Path(tmp) / "cache"
        write_corpus(corpus, args.transcripts, args.turns)
        config = load_config(overrides=[f"embed.cache_dir={cache}"])
        timings = {}
        start = time.perf_counter()
        r = ingest_stage([corpus], run, config)
        timings["ingest"] = time.perf_counter() - start
        t0 = time.perf_counter()
        r = segment_stage(run, config)
        timings["segment"] = time.perf_counter() - t0
        n = r.counts["segments"]
        t0 = time.perf_counter()
        r = suggest_stage(run, config)
        timings["suggest (embed + score)"] = time.perf_counter() - t0
        total = time.perf_counter() - start
        encoded = r.counts["encoded"]
        rss_run = peak_rss_mb()

        t0 = time.perf_counter()
        suggest_stage(run, config, force=True)
        cached = time.perf_counter() - t0

        # Bare encode of exactly the texts the run embedded, model already loaded.
        folder = RunFolder(run)
        texts = context_texts(folder.segments(), folder.sources(), "turn")
        distinct = list(dict.fromkeys(texts.segment + [t for t in texts.turn + texts.question
                                                       if t.strip()]))
        embedder = make_embedder(dict(config["embed"], cache_dir=None))
        model = embedder.inner.load()  # type: ignore[attr-defined]
        model.encode(distinct[:64])
        t0 = time.perf_counter()
        model.encode(distinct, batch_size=config["embed"]["batch_size"], show_progress_bar=False)
        bare = time.perf_counter() - t0
        int8 = None
        if args.int8:
            quantized = make_embedder(dict(config["embed"], backend="onnx-int8")).inner
            quantized.prepare()  # type: ignore[attr-defined]
            quantized.encode(distinct[:64])
            t0 = time.perf_counter()
            quantized.encode(distinct)
            int8 = time.perf_counter() - t0

    print(f"segments: {n}; texts embedded by the run: {encoded} (bare encode: {len(distinct)})")
    for stage, seconds in timings.items():
        print(f"  {stage:<26} {seconds:8.1f} s   {n / seconds:10,.0f} segments/s")
    print(f"  {'whole run':<26} {total:8.1f} s   {n / total:10,.0f} segments/s")
    print(f"bare model.encode of the same texts: {bare:.1f} s; whole run / bare = "
          f"{total / bare:.2f}")
    print(f"cached re-run of suggest: {cached:.1f} s ({total / cached:.0f}x faster than the run)")
    print(f"peak RSS: {rss_run:.0f} MB during the run")
    if int8 is not None:
        print(f"fp32 PyTorch encode: {len(distinct) / bare:,.0f} texts/s; int8 ONNX: "
              f"{len(distinct) / int8:,.0f} texts/s ({bare / int8:.2f}x)")


if __name__ == "__main__":
    main()
