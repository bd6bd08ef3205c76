"""Suggestion quality on the held-out sample transcripts, by language, against coder A's codings.

Prints segment-level top-1 and top-3 accuracy, theme-level top-1 accuracy and macro F1 at the
default threshold, for English and for Chinese held-out transcripts separately, for the
zero-shot suggester and for a head trained on the development transcripts of both
languages. Uses the real default model (a few minutes on 2 cores the first time, less with a
warm cache).

    python benchmarks/quality.py [--backend auto|sentence-transformers|onnx-int8|hashed-ngrams]
                                 [--coder A] [--set embed.model=all-MiniLM-L6-v2]
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
from pipeline.run_folder import RunFolder  # noqa: E402
from pipeline.stages import ingest_stage, segment_stage  # noqa: E402
from pipeline.suggest import SavedHead, score_segments  # noqa: E402
from pipeline.train import train  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
HELD_OUT = {"en": ("p03", "p06", "p08"), "zh": ("p11", "p13")}  # data/sample/README.md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--coder", default="A")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. embed.model=all-MiniLM-L6-v2")
    args = parser.parse_args()
    config = load_config(overrides=[f"embed.backend={args.backend}", *args.set])
    codebook = load_codebook(REFERENCE_CODEBOOK)
    theme_of = {code.id: theme.id for theme, code in codebook.codes()}
    held_out = tuple(p for prefixes in HELD_OUT.values() for p in prefixes)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        ingest_stage([SAMPLE], run_dir, config)
        segment_stage(run_dir, config)
        run = RunFolder(run_dir)
        sources, segments = run.sources(), run.segments()
        gold = read_gold_csv(SAMPLE / "gold" / "codings.csv", sources, codebook, [args.coder])
        labels = segment_codes(segments, gold.codings)
        embedder = make_embedder(config["embed"])
        settings = config["suggest"]
        threshold = settings["threshold"]
        print(f"embedder {embedder.fingerprint}; codebook {codebook.name} with "
              f"{len(codebook.editions)} other edition(s); coder {args.coder}")
        model_dir = Path(tmp) / "head"
        train_codings = [c for c in gold.codings if not c.source_id.startswith(held_out)]
        result = train(run_dir, train_codings, model_dir, config=config)
        head = SavedHead.load(model_dir, embedder.fingerprint, codebook.code_ids())
        trained_on = len(result.training["sources"])
        for language, prefixes in HELD_OUT.items():
            test = [s for s in segments if s.source_id.startswith(prefixes)]
            truth = [labels[s.id] for s in test]

            def report(name: str, proba, code_ids, truth=truth) -> None:  # type: ignore
                predicted = thresholded(proba, code_ids, threshold, settings["top_k"])
                print(f"  {name:<30} top-1 {topk_accuracy(proba, truth, code_ids, 1):.3f}   "
                      f"top-3 {topk_accuracy(proba, truth, code_ids, 3):.3f}   "
                      f"theme top-1 {theme_accuracy(proba, truth, code_ids, theme_of):.3f}   "
                      f"macro F1@{threshold} "
                      f"{macro_f1(per_code_scores(predicted, truth, code_ids)):.3f}")

            coded = sum(1 for t in truth if t)
            print(f"{language}: held-out {', '.join(prefixes)}; {len(test)} segments, {coded} "
                  "gold-coded")
            zero = score_segments(test, sources, codebook, embedder, settings)
            report("zero-shot", zero.proba, zero.code_ids)
            trained = score_segments(test, sources, codebook, embedder, settings, head)
            report(f"trained head ({trained_on} sources)", trained.proba, trained.code_ids)
        print(f"(trained head cross-validation on its training sources: {result.quality})")


if __name__ == "__main__":
    main()
