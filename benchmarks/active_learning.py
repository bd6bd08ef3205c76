"""Active learning on the sample corpus: how fast review decisions improve the suggestions.

A simulated reviewer works through `precode review` sessions (the real `ReviewSession`,
decision log and refits) on five English transcripts, answering with coder A's gold codings:
it accepts the suggestions shown that carry a gold code, adds gold codes that were not shown
(relabel), and rejects all when the segment has no gold code. Every `--every` decided segments
the head is refitted (as `--retrain-every` does, but synchronously). After 0, 25, 50, 100 and
200 decided segments it prints top-1 accuracy

- on the gold-coded segments of those five transcripts not yet reviewed (what the reviewer
  sees next; note that `uncertain` order removes the hard segments from this set first, which
  flatters it), and
- on the held-out transcripts p03, p06, p08, which nobody reviews (the fair comparison),

for `--order uncertain` against `--order random` (mean of `--seeds` shuffles), and with
`--margin` also for the margin rule that `uncertain` order does not use. It also prints how
long the refits took. With the default model and a warm embedding cache it takes about two
minutes on 2 cores; the first run embeds the corpus first.

    python benchmarks/active_learning.py [--backend sentence-transformers|hashed-ngrams] [--margin]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.align import segment_codes  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.gold import read_gold_csv  # noqa: E402
from pipeline.metrics import topk_accuracy  # noqa: E402
from pipeline.review import ReviewFilter, ReviewSession, load_review  # noqa: E402
from pipeline.review.order import margin  # noqa: E402
from pipeline.review.session import ReviewData  # noqa: E402
from pipeline.review.trainer import Refitter  # noqa: E402
from pipeline.stages import ingest_stage, segment_stage  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
HELD_OUT = ("p03", "p06", "p08", "p11", "p13")  # see data/sample/README.md
SPLITS = (HELD_OUT, ("p01", "p04", "p07"), ("p02", "p05"))
NOT_SCORED: tuple[str, ...] = ()  # every language is scored: the default model is multilingual
CHECKPOINTS = (0, 25, 50, 100, 200)


class MarginSession(ReviewSession):
    """The alternative rule: smallest margin between the two best scores first."""

    def _ordered(self, rows: Sequence[int]) -> list[int]:
        rows = list(rows)
        m = margin(self.proba[rows])
        return [rows[i] for i in np.argsort(m, kind="stable")]


def simulate(data: ReviewData, truth: list[set[str]], pool: ReviewFilter, test: list[int],
             order: str, seed: int, every: int, name: str
             ) -> tuple[list[tuple[float, float]], list[float], ReviewSession]:
    """Accuracy (not yet reviewed, held out) at each checkpoint, the refit times, and the
    session. `name` is the simulated coder: each simulation needs its own (coders are blind
    to each other, but a coder's own earlier decisions would be resumed)."""
    cls = MarginSession if order == "margin" else ReviewSession
    session = cls(data, name, order="uncertain" if order == "margin" else order, seed=seed,
                  where=pool)
    code_ids = list(data.scored.code_ids)

    def accuracy(rows: list[int]) -> float:
        return topk_accuracy(session.proba[rows], [truth[r] for r in rows], code_ids, 1)

    out = []
    decided = 0
    while True:
        if decided in CHECKPOINTS:
            left = [r for r in session.queue if truth[r]]
            out.append((accuracy(left), accuracy(test)))
        if decided >= CHECKPOINTS[-1]:
            break
        row = session.current()
        if row is None:
            break
        gold = truth[row]
        shown = session.shown(row)
        keys = [s.key for s in shown if s.code.id in gold]
        extra = sorted(gold - {s.code.id for s in shown})
        session.decide(row, keys, extra, reject_all=not gold)
        decided += 1
        if decided % every == 0:
            session.refit_now()
    return out, [r.seconds for r in session.refits], session


def _table(orders: list[str], curves: dict[str, list[list[tuple[float, float]]]],
           held: str) -> None:
    print()
    print("top-1 accuracy after N decided segments".ljust(32)
          + "".join(f"{n:>8}" for n in CHECKPOINTS))
    for part, title in ((0, "not yet reviewed"), (1, held)):
        for i, order in enumerate(orders):
            mean = np.mean(np.array(curves[order])[:, :, part], axis=0)
            print(f"{title if i == 0 else '':<22}{order:<10}"
                  + "".join(f"{v:8.3f}" for v in mean))


def _timing(data: ReviewData, truth: list[set[str]],
            pool_rows: list[int]) -> list[tuple[int, float]]:
    """Refit time on 100, 200 and 400 decided segments of the pool."""
    refitter = Refitter(data.vectors, data.segments, list(data.scored.code_ids), data.examples)
    rng = np.random.default_rng(0)
    out = []
    for n in (100, 200, 400):
        rows = rng.choice(pool_rows, size=min(n, len(pool_rows)), replace=False)
        labels = {int(r): truth[r] for r in rows}
        out.append((n, statistics.median(refitter.fit(labels).seconds for _ in range(3))))
    return out


def _trained(data: ReviewData, config: dict, run_dir: Path, truth: list[set[str]],
             pool_rows: list[int], test: list[int], held: tuple[str, ...]
             ) -> list[tuple[str, float]]:
    """Held-out top-1 of heads saved by `train` on decisions (and, to compare, on gold)."""
    from pipeline.embed import make_embedder
    from pipeline.gold import read_gold_csv
    from pipeline.records import Decision
    from pipeline.review import DecisionLog
    from pipeline.suggest import SavedHead, score_segments
    from pipeline.train import train

    segments = data.segments
    log = DecisionLog(run_dir / "decisions.jsonl")
    log.append([d for r in pool_rows for d in
                ([Decision(segments[r].id, c, "accept", "oracle-all", "t")
                  for c in sorted(truth[r])]
                 or [Decision(segments[r].id, None, "reject", "oracle-all", "t")])])
    embedder = make_embedder(config["embed"])
    test_segments = [segments[r] for r in test]
    truths = [truth[r] for r in test]
    code_ids = list(data.scored.code_ids)
    out = [("zero-shot (codebook only)",
            topk_accuracy(data.scored.proba[test], truths, code_ids, 1))]
    pool_ids = {segments[r].source_id for r in pool_rows}
    gold = [c for c in read_gold_csv(SAMPLE / "gold" / "codings.csv", data.sources,
                                     data.codebook, ["A"]).codings if c.source_id in pool_ids]
    runs = [("--decisions: the 200 decided in uncertain order", None,
             f"oracle-{held[0]}-uncertain-0"),
            ("--decisions: the 200 decided in random order (seed 0)", None,
             f"oracle-{held[0]}-random-0"),
            (f"--decisions: all {len(pool_rows)} pool segments decided", None, "oracle-all"),
            ("--gold: coder A's codings of the same transcripts", gold, None)]
    for label, codings, reviewer in runs:
        folder = run_dir.parent / f"model-{len(out)}"
        train(run_dir, codings, folder, config=config,
              decisions=log.path if reviewer else None,
              reviewers=[reviewer] if reviewer else None)
        head = SavedHead.load(folder, embedder.fingerprint, code_ids)
        scored = score_segments(test_segments, data.sources, data.codebook, embedder,
                                config["suggest"], head)
        out.append((label, topk_accuracy(scored.proba, truths, list(scored.code_ids), 1)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sentence-transformers")
    parser.add_argument("--coder", default="A")
    parser.add_argument("--seeds", type=int, default=3, help="random orders to average")
    parser.add_argument("--every", type=int, default=25, help="refit every N decided segments")
    parser.add_argument("--margin", action="store_true", help="also the margin rule")
    parser.add_argument("--rotate", action="store_true",
                        help="also average over three held-out splits (p03 p06 p08, p01 p04 "
                             "p07, p02 p05); the zero-shot calibration was fitted on the "
                             "first split's development transcripts, so only the first is "
                             "clean at 0 decisions")
    args = parser.parse_args()
    started = time.perf_counter()
    config = load_config(overrides=[f"embed.backend={args.backend}"])
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        ingest_stage([SAMPLE], run_dir, config)
        segment_stage(run_dir, config)
        data = load_review(run_dir, config)
        segments = data.segments
        gold = read_gold_csv(SAMPLE / "gold" / "codings.csv", data.sources, data.codebook,
                             [args.coder])
        labels = segment_codes(segments, gold.codings)
        truth = [labels[s.id] for s in segments]
        splits = SPLITS if args.rotate else SPLITS[:1]
        orders = ["uncertain", "random"] + (["margin"] if args.margin else [])
        curves: dict[str, list[list[tuple[float, float]]]] = {o: [] for o in orders}
        times: list[float] = []
        for held in splits:
            pool_sources = sorted(s.name for s in data.sources
                                  if not s.id.startswith(held + NOT_SCORED))
            pool = ReviewFilter(sources=tuple(pool_sources))
            pool_ids = {s.id for s in data.sources if s.name in pool_sources}
            pool_rows = [i for i, s in enumerate(segments) if s.source_id in pool_ids]
            test = [i for i, s in enumerate(segments) if s.source_id.startswith(held)]
            if held == HELD_OUT:
                print(f"Active learning on data/sample, backend {args.backend}, coder "
                      f"{args.coder}'s gold codings as the oracle")
                print(f"Reviewed pool: {', '.join(n.split('_')[0] for n in pool_sources)} "
                      f"({len(pool_rows)} segments, {sum(1 for r in pool_rows if truth[r])} "
                      f"gold-coded); held out: {', '.join(held)} ({len(test)} segments, "
                      f"{sum(1 for r in test if truth[r])} gold-coded)")
                print(f"Refit every {args.every} decided segments; random order: mean of "
                      f"{args.seeds} seeds; a decision = one decided segment")
            for order in orders:
                for seed in range(args.seeds if order == "random" else 1):
                    curve, seconds, _ = simulate(data, truth, pool, test, order, seed,
                                                 args.every, f"oracle-{held[0]}-{order}-{seed}")
                    curves[order].append(curve)
                    times += seconds
            if held == HELD_OUT:
                _table(orders, curves, f"held-out {' '.join(held)}")
                timing = _timing(data, truth, pool_rows)
                trained = _trained(data, config, run_dir, truth, pool_rows, test, held)
        if args.rotate:
            print(f"\nMean over the {len(splits)} held-out splits "
                  f"({'; '.join(' '.join(h) for h in splits)}):")
            _table(orders, curves, "held-out (mean)")
        print()
        print(f"Refit (TrainedHead, 3-fold calibration, 1 BLAS thread) during the simulations: "
              f"median {statistics.median(times):.3f} s, max {max(times):.3f} s over "
              f"{len(times)} refits on up to {CHECKPOINTS[-1]} decided segments")
        print("Refit on N decided segments (median of 3): "
              + ", ".join(f"{n}: {t:.3f} s" for n, t in timing))
        print()
        print(f"precode train, then top-1 on the held-out {' '.join(HELD_OUT)}:")
        for label, value in trained:
            print(f"  {label:<58}{value:.3f}")
    print(f"Took {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
