"""Suggestion quality on the held-out sample transcripts, against coder A's gold codings.

Prints segment-level top-1 and top-3 accuracy, theme-level top-1 accuracy and macro F1 at the
default threshold, for the zero-shot suggester and for a head trained on the other (English)
transcripts. Uses the real default model (about a minute on 2 cores, less with a warm cache).

    python benchmarks/quality.py [--backend sentence-transformers|tfidf] [--coder A]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.align import segment_codes  # noqa: E402
from pipeline.codebook import load_codebook  # noqa: E402
from pipeline.config import REFERENCE_CODEBOOK, load_config  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.gold import read_gold_csv  # noqa: E402
from pipeline.metrics import (  # noqa: E402
    macro_f1,
    per_code_scores,
    theme_accuracy,
    thresholded,
    topk_accuracy,
)
from pipeline.runs import RunFolder  # noqa: E402
from pipeline.stages import ingest_stage, segment_stage  # noqa: E402
from pipeline.suggest import SavedHead, score_segments  # noqa: E402
from pipeline.train import train  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
HELD_OUT = ("p03", "p06", "p08")  # see data/sample/README.md
NOT_SCORED = ("p09",)  # Chinese: the default model is English-only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sentence-transformers")
    parser.add_argument("--coder", default="A")
    args = parser.parse_args()
    config = load_config(overrides=[f"embed.backend={args.backend}"])
    codebook = load_codebook(REFERENCE_CODEBOOK)
    theme_of = {code.id: theme.id for theme, code in codebook.codes()}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        ingest_stage([SAMPLE], run_dir, config)
        segment_stage(run_dir, config)
        run = RunFolder(run_dir)
        sources, segments = run.sources(), run.segments()
        gold = read_gold_csv(SAMPLE / "gold" / "codings.csv", sources, codebook, [args.coder])
        labels = segment_codes(segments, gold.codings)

        def held(source_id: str) -> bool:
            return source_id.startswith(HELD_OUT)

        test = [s for s in segments if held(s.source_id)]
        train_codings = [c for c in gold.codings
                         if not held(c.source_id) and not c.source_id.startswith(NOT_SCORED)]
        truth = [labels[s.id] for s in test]
        embedder = make_embedder(config["embed"])
        threshold = config["suggest"]["threshold"]

        def report(name: str, proba, code_ids) -> None:  # type: ignore[no-untyped-def]
            predicted = thresholded(proba, code_ids, threshold, config["suggest"]["top_k"])
            print(f"{name:<28} top-1 {topk_accuracy(proba, truth, code_ids, 1):.3f}   "
                  f"top-3 {topk_accuracy(proba, truth, code_ids, 3):.3f}   "
                  f"theme top-1 {theme_accuracy(proba, truth, code_ids, theme_of):.3f}   "
                  f"macro F1@{threshold} "
                  f"{macro_f1(per_code_scores(predicted, truth, code_ids)):.3f}")

        coded = sum(1 for t in truth if t)
        print(f"Held-out: {', '.join(HELD_OUT)}; {len(test)} segments, {coded} gold-coded by "
              f"coder {args.coder}; backend {args.backend}")
        zero = score_segments(test, sources, codebook, embedder, config["suggest"])
        report("zero-shot", zero.proba, zero.code_ids)
        model_dir = Path(tmp) / "head"
        result = train(run_dir, train_codings, model_dir, config=config)
        head = SavedHead.load(model_dir, embedder.fingerprint, codebook.code_ids())
        trained = score_segments(test, sources, codebook, embedder, config["suggest"], head)
        report(f"trained head ({len(result.training['sources'])} sources)", trained.proba,
               trained.code_ids)
        print(f"(trained head cross-validation on its training sources: {result.quality})")


if __name__ == "__main__":
    main()
