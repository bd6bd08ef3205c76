"""The suggesters on hand-built vectors: scoring, calibration, output contract, trained heads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ModelError
from pipeline.records import Code, Codebook, Segment, Source, Theme, Turn
from pipeline.run_folder.suggestions import suggestion_row
from pipeline.suggest import PrototypeSuggester, SavedHead, TrainedHead, score_segments
from pipeline.suggest.output import Scored, suggestions
from pipeline.suggest.prototype import calibrate
from tests.conftest import FakeEmbedder

# Three orthogonal "topics"; codebook texts and segments are placed on them by hand.
HOPE, PEERS, JOBS = [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]


def _codebook() -> Codebook:
    return Codebook("t", "1", (
        Theme("recovery", "Recovery", "", (
            Code("hope", "Hope", "hope def", examples=("hope ex 1", "hope ex 2")),
        )),
        Theme("peer", "Peer support", "", (
            Code("friends", "Friends", "friends def", examples=("friends ex",)),
            Code("jobs", "Jobs", "jobs def", exclude=("jobs excl",)),
        )),
    ))


def _embedder() -> FakeEmbedder:
    return FakeEmbedder({
        "Recovery: Hope. hope def": HOPE, "hope ex 1": HOPE, "hope ex 2": [0.9, 0.1, 0, 0],
        "Peer support: Friends. friends def": PEERS, "friends ex": PEERS,
        "Peer support: Jobs. jobs def": JOBS, "jobs excl": PEERS,
        "seg hope": HOPE, "seg peers": PEERS, "seg jobs": JOBS, "seg mixed": [0.7, 0.7, 0, 0],
        "seg nothing": [0, 0, 0, 1.0],
    })


def test_suggest_prototype_ranks_the_matching_code_first() -> None:
    emb = _embedder()
    model = PrototypeSuggester(emb).fit(_codebook())
    vectors = emb.encode(["seg hope", "seg peers", "seg jobs"])
    scores = model.decision_function(vectors)
    assert [model.code_ids_[j] for j in scores.argmax(axis=1)] == ["hope", "friends", "jobs"]
    proba = model.predict_proba(vectors)
    assert proba.shape == (3, 3) and np.all((proba >= 0) & (proba <= 1))


def test_suggest_prototype_learned_state_and_unfitted_error() -> None:
    model = PrototypeSuggester(_embedder())
    assert not hasattr(model, "centroids_")  # __init__ stores arguments only
    with pytest.raises(ModelError, match="not fitted"):
        model.predict_proba(np.zeros((1, 4), np.float32))
    model.fit(_codebook())
    assert model.code_ids_ == ["hope", "friends", "jobs"]
    assert model.theme_ids_ == ["recovery", "peer", "peer"]


def test_suggest_code_without_examples_uses_definition() -> None:
    emb = _embedder()
    model = PrototypeSuggester(emb).fit(_codebook())
    proba = model.predict_proba(emb.encode(["seg jobs"]))
    assert model.code_ids_[int(proba.argmax())] == "jobs"


def test_suggest_exclude_notes_push_a_code_down() -> None:
    emb = _embedder()
    vectors = emb.encode(["seg peers"])
    plain = PrototypeSuggester(emb).fit(_codebook()).decision_function(vectors)[0, 2]
    pushed = PrototypeSuggester(emb, exclude_weight=1.0).fit(_codebook()).decision_function(
        vectors)[0, 2]
    assert pushed < plain


def test_suggest_calibration_is_monotone_and_uses_the_margin() -> None:
    scores = np.array([[0.2, 0.5, 0.9]])
    proba = calibrate(scores, (3.0, 10.0, -4.0))
    assert proba[0, 0] < proba[0, 1] < proba[0, 2]
    # The same raw score counts for less when another code beats it by far.
    alone = calibrate(np.array([[0.5, 0.1]]), (3.0, 10.0, -4.0))[0, 0]
    beaten = calibrate(np.array([[0.5, 0.9]]), (3.0, 10.0, -4.0))[0, 0]
    assert alone > beaten


def test_suggest_evidence_names_the_nearest_example() -> None:
    emb = _embedder()
    model = PrototypeSuggester(emb).fit(_codebook())
    [items] = model.evidence(emb.encode(["seg hope"]), 0)
    assert items[0].text == "hope ex 1"
    assert items[0].origin == "codebook:hope:example"
    assert items[0].similarity == pytest.approx(1.0, abs=1e-4)


def _segments(texts: list[str]) -> tuple[list[Segment], list[Source]]:
    text = "\n".join(texts)
    turns, segs, pos = [], [], 0
    for i, t in enumerate(texts):
        turns.append(Turn("P1", "participant", pos, pos + len(t)))
        segs.append(Segment(f"s.txt:{pos}-{pos + len(t)}", "s.txt", pos, pos + len(t), t, "P1",
                            "participant", i))
        pos += len(t) + 1
    return segs, [Source("s.txt", "s.txt", text, tuple(turns))]


def _scored(proba: list[list[float]]) -> Scored:
    segs, _ = _segments([f"seg {i}" for i in range(len(proba))])
    return Scored(segs, ["a", "b", "c"], np.array(proba), {}, "test")


def test_suggest_output_threshold_multilabel_and_null() -> None:
    items = list(suggestions(_scored([[0.9, 0.6, 0.1], [0.2, 0.1, 0.05]]), top_k=3,
                             threshold=0.5))
    first = [(s.code_id, s.rank) for s in items if s.segment_id.endswith("0-5")]
    assert first == [("a", 1), ("b", 2)]  # two codes pass: multi-label, ranks from 1
    second = [s for s in items if s.segment_id.endswith("6-11")]
    assert len(second) == 1 and second[0].code_id is None and second[0].score == 0.2


def test_suggest_output_respects_top_k() -> None:
    items = list(suggestions(_scored([[0.9, 0.8, 0.7]]), top_k=2, threshold=0.1))
    assert [s.code_id for s in items] == ["a", "b"]


def test_suggest_rows_have_exactly_the_contract_fields() -> None:
    segs, sources = _segments(["seg hope"])
    scored = Scored(segs, ["a"], np.array([[0.8]]), {}, "zero-shot")
    [item] = list(suggestions(scored, 3, 0.5))
    row = suggestion_row(item, segs[0], sources[0].name)
    assert list(row) == ["source", "segment_id", "start", "end", "speaker", "role", "text",
                         "code", "score", "rank", "method", "evidence"]
    assert sources[0].text[row["start"]:row["end"]] == row["text"]
    json.dumps(row)


def test_suggest_score_segments_end_to_end_on_fake_vectors() -> None:
    segs, sources = _segments(["seg hope", "seg peers", "seg nothing"])
    settings = {"context": "none", "turn_weight": 0.0, "question_weight": 0.0, "top_k": 2,
                "top_examples": 2, "exclude_weight": 0.0, "classifier_weight": 0.2,
                "calibration": [3.12, 3.57, -3.06]}
    scored = score_segments(segs, sources, _codebook(), _embedder(), settings)
    best = [scored.code_ids[j] for j in scored.proba.argmax(axis=1)]
    assert best[:2] == ["hope", "friends"]
    assert scored.evidence[(0, 0)][0].text.startswith("hope ex")


def _training_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centers = np.eye(4, dtype=np.float32)[:3]
    X, Y = [], []
    for k in range(3):
        for _ in range(20):
            X.append(centers[k] + 0.2 * rng.standard_normal(4))
            y = np.zeros(3)
            y[k] = 1
            Y.append(y)
    X = np.array(X, dtype=np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True), np.array(Y)


def test_suggest_trained_head_learns_and_calibrates() -> None:
    X, Y = _training_data()
    groups = [f"src{i % 4}" for i in range(len(X))]
    head = TrainedHead().fit(X, Y, ["a", "b", "c"], groups=groups)
    proba = head.predict_proba(X)
    assert (proba.argmax(axis=1) == Y.argmax(axis=1)).mean() > 0.95
    assert head.oof_proba_.shape == Y.shape


def test_suggest_trained_head_round_trips_without_pickle(tmp_path: Path) -> None:
    X, Y = _training_data()
    head = TrainedHead().fit(X, Y, ["a", "b", "c"])
    info = {"format": 1, "name": "m", "embedder": "fake:4", "code_ids": ["a", "b", "c"],
            "params": {"C": 1.0}}
    saved = SavedHead(head, info, X[:3], ["x", "y", "z"], np.array([0, 1, 2]),
                      ["coded:1", "coded:2", "coded:3"])
    saved.save(tmp_path / "m")
    np.load(tmp_path / "m" / "head.npz", allow_pickle=False)  # arrays only
    loaded = SavedHead.load(tmp_path / "m", fingerprint="fake:4", code_ids=["a", "b", "c"])
    np.testing.assert_allclose(loaded.head.predict_proba(X), head.predict_proba(X), rtol=1e-6)
    assert loaded.evidence(X[:1], 0)[0][0].origin == "coded:1"


def test_suggest_trained_head_refuses_other_embedder_or_codebook(tmp_path: Path) -> None:
    X, Y = _training_data()
    head = TrainedHead().fit(X, Y, ["a", "b", "c"])
    info = {"format": 1, "name": "m", "embedder": "fake:4", "code_ids": ["a", "b", "c"],
            "params": {}}
    SavedHead(head, info, X[:1], ["x"], np.array([0]), ["coded:1"]).save(tmp_path / "m")
    with pytest.raises(ModelError, match="trained with embedder"):
        SavedHead.load(tmp_path / "m", fingerprint="st:other", code_ids=["a", "b", "c"])
    with pytest.raises(ModelError, match="other codes"):
        SavedHead.load(tmp_path / "m", fingerprint="fake:4", code_ids=["a", "b"])
    with pytest.raises(ModelError, match="not a trained precode model"):
        SavedHead.load(tmp_path)


def test_suggest_codebook_classifier_separates_codes_cosine_confuses() -> None:
    """Two codes whose texts differ only along one direction: the classifier finds it."""
    book = Codebook("t", "1", (Theme("t", "T", "", (
        Code("a", "A", "a def", examples=("a1", "a2")),
        Code("b", "B", "b def", examples=("b1", "b2")),
    )),))
    emb = FakeEmbedder({
        "T: A. a def": [1, 0.30, 0], "a1": [1, 0.32, 0], "a2": [1, 0.28, 0],
        "T: B. b def": [1, -0.30, 0], "b1": [1, -0.32, 0], "b2": [1, -0.28, 0],
        "seg": [1, 0.05, 0.5],
    })
    plain = PrototypeSuggester(emb, classifier_weight=0.0).fit(book)
    helped = PrototypeSuggester(emb, classifier_weight=0.2).fit(book)
    vector = emb.encode(["seg"])
    gap_plain = np.diff(plain.decision_function(vector)[0])[0]
    gap_helped = np.diff(helped.decision_function(vector)[0])[0]
    assert gap_plain < 0 and gap_helped < gap_plain  # "a" wins, more clearly with the classifier


def test_suggest_trained_evidence_prefers_other_sources(tmp_path: Path) -> None:
    X, Y = _training_data()
    head = TrainedHead().fit(X, Y, ["a", "b", "c"])
    info = {"format": 1, "name": "m", "embedder": "fake:4", "code_ids": ["a", "b", "c"]}
    saved = SavedHead(head, info, np.stack([X[0], X[1]]), ["same interview", "other interview"],
                      np.array([0, 0]), ["coded:one.txt:0-5", "coded:two.txt:0-5"])
    [[own]] = saved.evidence(X[:1], 0)
    assert own.text == "same interview"  # nearest overall
    [[other]] = saved.evidence(X[:1], 0, ["one.txt"])
    assert other.text == "other interview"


def _chinese_edition() -> Codebook:
    return Codebook("t-zh", "1", (
        Theme("recovery", "復元", "", (
            Code("hope", "希望", "希望的定義", examples=("有盼望就會動起來",)),
        )),
        Theme("peer", "同儕支持", "", (
            Code("friends", "朋友", "朋友的定義", examples=("病友之間真的懂",)),
            Code("jobs", "工作", "工作的定義"),
        )),
    ), language="zh-TW")


def test_suggest_editions_join_the_codes_texts_where_the_model_reads_them() -> None:
    """An edition's examples become evidence (zero-shot) and training rows (trained head)
    for a model of any language, and are left out for a model that does not know it."""
    from dataclasses import replace

    from pipeline.suggest import usable_editions
    from pipeline.suggest.training import codebook_examples

    emb = _embedder()
    emb.table["有盼望就會動起來"] = np.asarray([0.95, 0, 0, 0.3], np.float32)
    book = replace(_codebook(), language="en", editions=(_chinese_edition(),))
    assert usable_editions(book, emb) == [book.editions[0]]  # languages None: any
    model = PrototypeSuggester(emb).fit(book, usable_editions(book, emb))
    assert "有盼望就會動起來" in model.texts_
    [items] = model.evidence(emb.encode(["有盼望就會動起來"]), 0)
    assert items[0].text == "有盼望就會動起來"
    examples = codebook_examples(book, emb)
    assert examples.texts[-2:] == ["有盼望就會動起來", "病友之間真的懂"]
    assert examples.codes[-2:] == [0, 1]  # hope, friends: by id, not by position
    emb.languages = frozenset({"en"})
    assert usable_editions(book, emb) == []
    assert "有盼望就會動起來" not in codebook_examples(book, emb).texts


def test_suggest_calibration_is_the_models_own() -> None:
    from pipeline.config import load_config
    from pipeline.suggest.prototype import resolve_calibration

    settings = load_config()["suggest"]
    table = settings["calibrations"]
    assert resolve_calibration(settings, "multilingual-e5-small") == \
        (table["multilingual-e5-small"], None)
    assert resolve_calibration(settings, "tfidf") == (table["hashed-ngrams"], None)  # old name
    values, warning = resolve_calibration(settings, None)  # a model precode does not know
    assert values == table["multilingual-e5-small"] and "not probabilities" in warning
    mine = dict(settings, calibration=[1.0, 2.0, -3.0])
    assert resolve_calibration(mine, "multilingual-e5-small") == ([1.0, 2.0, -3.0], None)
    # A run made by an earlier precode carries MiniLM's old default: right for MiniLM only.
    old = dict(settings, calibration=[3.12, 3.57, -3.06])
    assert resolve_calibration(old, "all-MiniLM-L6-v2") == ([3.12, 3.57, -3.06], None)
    values, warning = resolve_calibration(old, "multilingual-e5-small")
    assert values == table["multilingual-e5-small"] and "earlier precode" in warning
