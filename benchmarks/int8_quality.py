"""The int8 quality guard on the whole sample corpus: int8 ONNX vs the fp32 model it came from.

Prints the mean cosine between the two backends' vectors of every segment, and how far the
zero-shot suggestions agree (pipeline.suggest.compare): top-1 on all segments, top-1 where
fp32 is decisive, fp32's top code within int8's top 3, and the suggestion a user sees. Then
the throughput of both on the segments' texts (best of 3 alternating rounds, no cache).

    python benchmarks/int8_quality.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import ingest  # noqa: E402
from pipeline.codebook import load_codebook  # noqa: E402
from pipeline.config import REFERENCE_CODEBOOK, load_config  # noqa: E402
from pipeline.embed import Embedder, make_embedder  # noqa: E402
from pipeline.segment import segment_all  # noqa: E402
from pipeline.suggest import score_segments  # noqa: E402
from pipeline.suggest.compare import DECISIVE_MARGIN, ranking_agreement  # noqa: E402


def throughput(models: dict[str, Embedder], texts: list[str],
               rounds: int = 3) -> dict[str, float]:
    best = {name: float("inf") for name in models}
    for _ in range(rounds):  # alternating: a busy moment slows both alike
        for name, model in models.items():
            t0 = time.perf_counter()
            model.encode(texts)
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: len(texts) / seconds for name, seconds in best.items()}


def main() -> None:
    sources = ingest.read_all([ROOT / "data" / "sample"])
    segments = segment_all(sources)
    book = load_codebook(REFERENCE_CODEBOOK)
    vectors, proba, models = {}, {}, {}
    with tempfile.TemporaryDirectory() as cache:
        for backend in ("sentence-transformers", "onnx-int8"):
            config = load_config(overrides=[f"embed.backend={backend}",
                                            f"embed.cache_dir={cache}"])
            embedder = make_embedder(config["embed"])
            vectors[backend] = embedder.encode([s.text for s in segments])
            models[backend] = embedder.inner
            proba[backend] = score_segments(segments, sources, book, embedder,
                                            config["suggest"]).proba
        rates = throughput(models, [s.text for s in segments])
    cosine = (vectors["sentence-transformers"] * vectors["onnx-int8"]).sum(axis=1)
    figures = ranking_agreement(proba["sentence-transformers"], proba["onnx-int8"],
                                threshold=config["suggest"]["threshold"])
    print(f"{len(segments)} segments of the sample corpus, zero-shot, reference codebook")
    print(f"mean cosine int8 vs fp32: {cosine.mean():.4f} (min {cosine.min():.3f})")
    print(f"top-1 agreement, all segments:         {figures['top1']:.3f}")
    print(f"top-1 agreement, fp32 decisive:        {figures['top1_decisive']:.3f} "
          f"({figures['decisive_share']:.0%} of segments lead by >= {DECISIVE_MARGIN})")
    print(f"fp32 top-1 within int8 top-3:          {figures['top1_in_top3']:.3f}")
    print(f"shown suggestion (code or none) agrees: {figures['suggestion']:.3f}")
    print(f"throughput on these segments: fp32 {rates['sentence-transformers']:,.0f} texts/s, "
          f"int8 {rates['onnx-int8']:,.0f} texts/s "
          f"({rates['onnx-int8'] / rates['sentence-transformers']:.2f}x)")


if __name__ == "__main__":
    main()

