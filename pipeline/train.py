"""`precode train`: fit a supervised head on a run's gold-coded segments and the codebook.

Only sources that have at least one gold coding are used (a source nobody coded would teach
the head that every segment in it has no code). Codebook examples are always added as
positives, so a code that the gold file never uses still has a model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.align import DEFAULT_MIN_SHARE, segment_codes
from pipeline.config import Config
from pipeline.embed import make_embedder
from pipeline.errors import GoldCodingError
from pipeline.gold import read_gold
from pipeline.model import Coding
from pipeline.runs import RunFolder
from pipeline.stages import resolve_codebook
from pipeline.suggest import SavedHead, TrainedHead, segment_vectors
from pipeline.suggest.head import head_info


@dataclass
class TrainResult:
    path: Path
    quality: dict[str, Any]
    training: dict[str, Any]
    seconds: float


def cv_quality(proba: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy on coded segments and macro F1 at 0.5, from out-of-fold predictions."""
    if not proba.size:
        return {}
    coded = truth.any(axis=1)
    top1 = truth[np.arange(len(truth)), proba.argmax(axis=1)][coded].mean() if coded.any() else 0
    pred = proba >= 0.5
    f1s = []
    for k in range(truth.shape[1]):
        tp = float((pred[:, k] & (truth[:, k] == 1)).sum())
        denom = float(pred[:, k].sum() + truth[:, k].sum())
        if truth[:, k].sum():
            f1s.append(2 * tp / denom if denom else 0.0)
    return {"cv_top1_accuracy": round(float(top1), 4),
            "cv_macro_f1_at_0.5": round(float(np.mean(f1s)) if f1s else 0.0, 4)}


def train(run_path: str | Path, gold: str | Path | Sequence[Coding], out: str | Path,
          coders: Sequence[str] | None = None, config: Config | None = None,
          codebook: str | Path | None = None, C: float = 1.0,
          min_share: float = DEFAULT_MIN_SHARE) -> TrainResult:
    started = time.perf_counter()
    run = RunFolder(run_path)
    manifest = run.manifest()
    config = config or manifest["config"]
    _, book = resolve_codebook(run, codebook)
    sources, segments = run.sources(), run.segments()
    if isinstance(gold, (str, Path)):
        codings = read_gold(gold, sources, book, coders).codings
    else:
        codings = [c for c in gold if coders is None or c.coder in coders]
    if not codings:
        raise GoldCodingError("no gold codings to train on",
                              hint="give a gold file with codings for this run's sources")
    coded_sources = {c.source_id for c in codings}
    used = [s for s in segments if s.source_id in coded_sources]
    labels = segment_codes(used, codings, min_share)
    code_ids = book.code_ids()
    index = {c: k for k, c in enumerate(code_ids)}
    Y = np.zeros((len(used), len(code_ids)), dtype=np.int8)
    for i, seg in enumerate(used):
        for code in labels[seg.id]:
            Y[i, index[code]] = 1
    settings = config["suggest"]
    embedder = make_embedder(config["embed"])
    example_texts = [(k, t) for k, (_, c) in enumerate(book.codes()) for t in c.examples]
    X = segment_vectors(used, sources, embedder, settings)
    extra_X = embedder.encode([t for _, t in example_texts]) if example_texts else None
    extra_Y = None
    if example_texts:
        extra_Y = np.zeros((len(example_texts), len(code_ids)), dtype=np.int8)
        for r, (k, _) in enumerate(example_texts):
            extra_Y[r, k] = 1
    head = TrainedHead(C=C).fit(X, Y, code_ids, groups=[s.source_id for s in used],
                                extra_X=extra_X, extra_Y=extra_Y)
    quality = cv_quality(head.oof_proba_, head.oof_truth_)
    # Evidence: the coded segments and codebook examples nearest to a new segment.
    ev_vectors, ev_texts, ev_codes, ev_origins = [], [], [], []
    for i, seg in enumerate(used):
        for code in sorted(labels[seg.id]):
            ev_vectors.append(X[i])
            ev_texts.append(seg.text)
            ev_codes.append(index[code])
            ev_origins.append(f"coded:{seg.id}")
    if extra_X is not None:
        for r, (k, text) in enumerate(example_texts):
            ev_vectors.append(extra_X[r])
            ev_texts.append(text)
            ev_codes.append(k)
            ev_origins.append(f"codebook:{code_ids[k]}:example")
    training = {
        "run": str(run.path),
        "gold": str(gold) if isinstance(gold, (str, Path)) else "codings",
        "coders": sorted({c.coder for c in codings}),
        "sources": sorted(coded_sources),
        "segments": len(used),
        "coded_segments": int(Y.any(axis=1).sum()),
        "codebook_examples": len(example_texts),
        "alignment_min_share": min_share,
    }
    out = Path(out)
    name = out.name
    info = head_info(name, embedder.fingerprint, code_ids, {"C": C},
                     {k: settings[k] for k in ("context", "turn_weight", "question_weight")},
                     quality, training)
    saved = SavedHead(head, info, np.array(ev_vectors, dtype=np.float32), ev_texts,
                      np.array(ev_codes, dtype=np.int32), ev_origins)
    saved.save(out)
    return TrainResult(out, quality, training, time.perf_counter() - started)
