"""How the zero-shot defaults were chosen: a grid over the settings that depend on the model.

Scores every sample segment once per setting (vectors come from the embedding cache, so the
grid costs one embedding pass), then reports figures by language on the DEVELOPMENT
transcripts only (the held-out ones are kept for benchmarks/quality.py), for each candidate
codebook edition choice, context weights, top examples and classifier weight. A setting is
judged by the mean over languages of its worst single transcript (nothing is refitted per
transcript: the zero-shot suggester learns from the codebook only) as well as its
mean, so a choice that only suits one transcript or one language does not win. The
calibration (score, margin, bias) is then fitted on the development segments for the chosen
setting, and the threshold that maximizes macro F1 there is printed.

    python benchmarks/tune_zero_shot.py [--coder A] [--top 15]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.align import segment_codes  # noqa: E402
from pipeline.codebook import load_codebook  # noqa: E402
from pipeline.config import REFERENCE_CODEBOOK, load_config  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.embed.base import normalize_rows  # noqa: E402
from pipeline.gold import read_gold_csv  # noqa: E402
from pipeline.metrics import (  # noqa: E402
    macro_f1,
    per_code_scores,
    theme_accuracy,
    thresholded,
    topk_accuracy,
)
from pipeline.records import Codebook  # noqa: E402
from pipeline.run_folder import RunFolder  # noqa: E402
from pipeline.stages import ingest_stage, segment_stage  # noqa: E402
from pipeline.suggest.context import context_texts  # noqa: E402
from pipeline.suggest.prototype import PrototypeSuggester, calibrate  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
HELD_OUT = ("p03", "p06", "p08", "p11", "p13")  # see data/sample/README.md
ZH_CODEBOOK = REFERENCE_CODEBOOK.with_name("recovery_peer_support.zh-TW.yaml")


@dataclass
class Split:
    rows: np.ndarray  # indices into the segment list
    sources: list[str]


def fit_calibration(scores: np.ndarray, truth: Sequence[set[str]],
                    code_ids: Sequence[str]) -> tuple[float, float, float]:
    """Logistic regression of "code is right" on (raw score, margin to the best code)."""
    from sklearn.linear_model import LogisticRegression

    margin = scores - scores.max(axis=1, keepdims=True)
    features = np.stack([scores.ravel(), margin.ravel()], axis=1)
    labels = np.array([code in gold for gold in truth for code in code_ids])
    model = LogisticRegression(C=100.0, max_iter=5000).fit(features, labels)
    return (round(float(model.coef_[0][0]), 2), round(float(model.coef_[0][1]), 2),
            round(float(model.intercept_[0]), 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coder", default="A")
    parser.add_argument("--top", type=int, default=15, help="settings to print")
    parser.add_argument("--languages", default=None, metavar="en,zh",
                        help="judge on these transcript languages only (default: all)")
    parser.add_argument("--choose", default=None, metavar="CODEBOOK,TURN,QUESTION,TOP,CLF",
                        help="fit the calibration for this setting instead of the best ranked")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. embed.model=all-MiniLM-L6-v2")
    args = parser.parse_args()
    config = load_config(overrides=args.set)
    embedder = make_embedder(config["embed"])
    english = load_codebook(REFERENCE_CODEBOOK, editions=False)
    editions: dict[str, tuple[Codebook, list[Codebook]]] = {"en": (english, [])}
    if ZH_CODEBOOK.exists() and embedder.languages in (None, frozenset({"en", "zh"})):
        chinese = load_codebook(ZH_CODEBOOK, editions=False)
        editions["zh"] = (chinese, [])
        editions["en+zh"] = (english, [chinese])
    theme_of = {code.id: theme.id for theme, code in english.codes()}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        ingest_stage([SAMPLE], run_dir, config)
        segment_stage(run_dir, config)
        run = RunFolder(run_dir)
        sources, segments = run.sources(), run.segments()
    gold = read_gold_csv(SAMPLE / "gold" / "codings.csv", sources, english, [args.coder])
    labels = segment_codes(segments, gold.codings)
    truth = [labels[s.id] for s in segments]
    language = {s.id: s.language for s in sources}
    print(f"embedder {embedder.fingerprint}; {len(segments)} segments")

    texts = context_texts(segments, sources, "turn")
    dim = embedder.dimension

    def encode(items: list[str]) -> np.ndarray:
        out = np.zeros((len(items), dim), np.float32)
        idx = [i for i, t in enumerate(items) if t.strip()]
        if idx:
            out[idx] = embedder.encode([items[i] for i in idx])
        return out

    seg_v, turn_v, question_v = encode(texts.segment), encode(texts.turn), \
        encode(texts.question)

    dev: dict[str, Split] = {}
    wanted = set(args.languages.split(",")) if args.languages else set(language.values())
    for lang in sorted(wanted & set(language.values())):
        rows = np.array([i for i, s in enumerate(segments) if language[s.source_id] == lang
                         and not s.source_id.startswith(HELD_OUT)])
        if len(rows):
            dev[lang] = Split(rows, sorted({segments[i].source_id for i in rows}))
    code_ids = english.code_ids()

    def figures(scores: np.ndarray, rows: np.ndarray) -> tuple[float, float, float]:
        sub = [truth[i] for i in rows]
        return (topk_accuracy(scores[rows], sub, code_ids, 1),
                topk_accuracy(scores[rows], sub, code_ids, 3),
                theme_accuracy(scores[rows], sub, code_ids, theme_of))

    grid = itertools.product(editions, (0.5, 1.0, 1.5, 2.0, 3.0), (0.0, 0.2, 0.4, 0.7),
                             (1, 3, 5), (0.0, 0.2, 0.5))
    results = []
    fitted: dict[tuple[str, int, float], PrototypeSuggester] = {}
    for choice, turn_w, question_w, top, clf_w in grid:
        key = (choice, top, clf_w)
        if key not in fitted:
            book, extra = editions[choice]
            fitted[key] = PrototypeSuggester(embedder, top_examples=top,
                                             classifier_weight=clf_w).fit(book, extra)
        vectors = normalize_rows(seg_v + turn_w * turn_v + question_w * question_v)
        scores = fitted[key].decision_function(vectors)
        row: dict[str, object] = {"codebook": choice, "turn": turn_w, "question": question_w,
                                  "top": top, "clf": clf_w}
        worst, mean = [], []
        for lang, split in dev.items():
            top1, top3, theme = figures(scores, split.rows)
            folds = [figures(scores, np.array([i for i in split.rows
                                               if segments[i].source_id == src]))[0]
                     for src in split.sources]
            row[lang] = (top1, top3, theme, min(folds))
            worst.append(min(folds))
            mean.append(top1)
        row["rank"] = float(np.mean(worst)) + float(np.mean(mean))
        results.append((row, scores))
    results.sort(key=lambda r: -float(r[0]["rank"]))  # type: ignore[arg-type]
    langs = list(dev)
    print("development transcripts: " + "; ".join(f"{lang}: {', '.join(split.sources)}"
                                                   for lang, split in dev.items()))
    print("codebook turn question top clf | " + " | ".join(
        f"{lang} top-1 top-3 theme worst-fold" for lang in langs))
    for row, _ in results[:args.top]:
        cells = " | ".join("{:.3f} {:.3f} {:.3f} {:.3f}".format(*row[lang])  # type: ignore
                           for lang in langs)
        print(f"{row['codebook']:<6} {row['turn']:<4} {row['question']:<4} {row['top']} "
              f"{row['clf']:<4} | {cells}")
    for choice in editions:  # the best setting of each codebook choice
        row = next(r for r, _ in results if r["codebook"] == choice)
        cells = " | ".join("{:.3f} {:.3f} {:.3f} {:.3f}".format(*row[lang])  # type: ignore
                           for lang in langs)
        print(f"best with codebook {choice}: turn {row['turn']} question {row['question']} "
              f"top {row['top']} clf {row['clf']} | {cells}")
    best, scores = results[0]
    if args.choose:
        book, *numbers = args.choose.split(",")
        wanted = (book, float(numbers[0]), float(numbers[1]), int(numbers[2]), float(numbers[3]))
        best, scores = next(r for r in results if (r[0]["codebook"], r[0]["turn"],
                            r[0]["question"], r[0]["top"], r[0]["clf"]) == wanted)
    rows = np.concatenate([split.rows for split in dev.values()])
    calibration = fit_calibration(scores[rows], [truth[i] for i in rows], code_ids)
    proba = calibrate(scores, calibration)
    print(f"best: {best}; calibration fitted on development segments: {list(calibration)}")
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        per_lang = []
        for lang, split in dev.items():
            sub = [truth[i] for i in split.rows]
            predicted = thresholded(proba[split.rows], code_ids, threshold, 3)
            per_lang.append(f"{lang} {macro_f1(per_code_scores(predicted, sub, code_ids)):.3f}")
        print(f"  threshold {threshold}: macro F1 " + ", ".join(per_lang))


if __name__ == "__main__":
    main()
