"""Discovery: filler, keywords, clustering, the codes rule, candidates.yaml, and the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.codebook import load_codebook, parse_codebook
from pipeline.discover import discover, discover_settings, write_discovery
from pipeline.discover.cluster import cluster_vectors
from pipeline.discover.filler import SHORT, SMALL_TALK, filler_reasons
from pipeline.discover.keywords import class_keywords
from pipeline.errors import ConfigError, RunFolderError
from pipeline.language import word_count
from pipeline.records import Decision, Segment
from pipeline.run_folder.codes import run_codes
from pipeline.run_folder.suggestions import SuggestionLine
from pipeline.stages import run_pipeline

runner = CliRunner()
TFIDF: list[str] = []  # tfidf gets its own cut (0.5) from discover.distance_thresholds


_BUILT: dict[str, Path] = {}


def discovered_sample_run(factory: pytest.TempPathFactory) -> Path:
    """The sample corpus run with the TF-IDF embedder (no model), suggested and discovered
    through the CLI; built once per test session (tests/test_report.py copies it)."""
    if "sample" not in _BUILT:
        from pipeline.config import load_config
        from tests.conftest import SAMPLE

        tmp = factory.mktemp("discover")
        config = load_config(overrides=["embed.backend=tfidf",
                                        f"embed.cache_dir={tmp / 'cache'}"])
        out = tmp / "run"
        run_pipeline([SAMPLE], out, config, participants=SAMPLE / "participants.csv")
        result = runner.invoke(app, ["discover", str(out),
                                     *[arg for s in TFIDF for arg in ("--set", s)]])
        assert result.exit_code == 0, result.output
        assert "candidate_01" in result.output and "Written:" in result.output
        _BUILT["sample"] = out
    return _BUILT["sample"]


@pytest.fixture
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return discovered_sample_run(tmp_path_factory)


# -- pieces ------------------------------------------------------------------------------

def test_discover_word_count_counts_cjk_as_half_words() -> None:
    assert word_count("Yes, that's fine.") == 3
    assert word_count("聽得到，聽得到。") == 3.0
    assert word_count("I'm a nurse on the day ward") == 7


def test_discover_filler_reasons_short_and_small_talk() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    filler = np.array([[1.0, 0.0]], dtype=np.float32)
    codebook = np.array([[0.0, 1.0]], dtype=np.float32)
    texts = ["Can you hear me okay, the sound is breaking up a little?",
             "Peer workers know what it is like to be a patient on the ward.",
             "Yes, of course."]
    assert filler_reasons(texts, vectors, filler, codebook, min_words=5, margin=0.0) == \
        [SMALL_TALK, None, SHORT]


def test_discover_keywords_are_distinctive_against_the_rest() -> None:
    clusters = [["The typhoon closed the office, typhoon days are chaos.",
                 "Another typhoon warning, so appointments moved."],
                ["Home visits take all afternoon.", "We do home visits to families."]]
    rest = ["The office is busy.", "Families call the office every day."] * 20
    words = class_keywords(clusters, rest, n=3)
    assert words[0][0] == "typhoon"
    assert "home visits" in words[1]
    assert "office" not in words[0][:1]


def test_discover_keywords_handle_chinese() -> None:
    words = class_keywords([["我們去家訪，家訪很累。", "家訪的時候家屬在。"]], ["今天很熱。"], n=2)
    assert "家訪" in words[0]


def test_discover_clusters_separated_groups_and_drops_small_ones() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal([5, 0, 0], 0.1, size=(8, 3))
    b = rng.normal([0, 5, 0], 0.1, size=(6, 3))
    c = rng.normal([0, 0, 5], 0.1, size=(2, 3))
    vectors = np.vstack([a, b, c])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for method in ("agglomerative", "hdbscan"):
        labels = cluster_vectors(vectors, method, distance_threshold=0.3, min_cluster_size=3,
                                 min_samples=2, components=0)
        assert set(labels[:8]) == {0} and set(labels[8:14]) == {1}, method
    assert set(labels_of(vectors)[14:]) == {-1}  # agglomerative: too small to be a cluster


def labels_of(vectors: np.ndarray) -> np.ndarray:
    return cluster_vectors(vectors, "agglomerative", distance_threshold=0.3, min_cluster_size=3)


def test_discover_clustering_rejects_bad_settings() -> None:
    vectors = np.eye(6, dtype=np.float32)
    with pytest.raises(ConfigError, match=r"unknown discover\.method"):
        cluster_vectors(vectors, "kmeans")
    with pytest.raises(ConfigError, match=r"min_cluster_size"):
        cluster_vectors(vectors, min_cluster_size=1)
    assert list(cluster_vectors(vectors[:2], min_cluster_size=3)) == [-1, -1]


def _seg(i: int) -> Segment:
    return Segment(f"s:{i}-{i + 1}", "s", i, i + 1, "x", "P", "participant", 0)


def _line(seg: Segment, code: str | None, score: float = 0.5) -> SuggestionLine:
    return SuggestionLine("s", seg.id, seg.start, seg.end, "P", "participant", "x", code, score,
                          1, "zero-shot", ())


def test_discover_uncoded_means_no_suggestion_or_all_rejected() -> None:
    segs = [_seg(i) for i in range(5)]
    lines = [_line(segs[0], "a"), _line(segs[1], None, 0.1), _line(segs[2], "a"),
             _line(segs[2], "b"), _line(segs[3], "a"), _line(segs[4], "b")]
    t = "2026-01-01T10:00:00+00:00"
    decisions = [
        Decision(segs[2].id, "a", "reject", "ana", t),  # all rejected -> uncoded
        Decision(segs[2].id, "b", "reject", "ana", t),
        Decision(segs[3].id, "a", "reject", "ana", t),  # rejected, relabelled -> coded
        Decision(segs[3].id, "c", "relabel", "ana", t),
        Decision(segs[4].id, "b", "reject", "ana", t),  # rejected, then retracted
        Decision(segs[4].id, "b", "retract", "ana", t),
    ]
    coded = run_codes(segs, lines, decisions, ["a", "b", "c"])
    assert coded.codes == {segs[0].id: {"a"}, segs[1].id: set(), segs[2].id: set(),
                           segs[3].id: {"c"}, segs[4].id: {"b"}}
    assert coded.uncoded() == [segs[1].id, segs[2].id]
    assert coded.reviewed == {segs[2].id, segs[3].id}


# -- the command on the sample corpus ----------------------------------------------------

def test_discover_writes_candidates_that_load_as_a_codebook(sample_run: Path) -> None:
    text = (sample_run / "candidates.yaml").read_text(encoding="utf-8")
    book = parse_codebook(text)
    data = json.loads((sample_run / "discovery.json").read_text(encoding="utf-8"))
    assert [c.id for _, c in book.codes()] == [c["id"] for c in data["candidates"]]
    assert len(data["candidates"]) >= 3
    for (_, code), cand in zip(book.codes(), data["candidates"], strict=True):
        assert code.name.startswith("TODO:") and code.definition.startswith("TODO:")
        assert list(code.examples) == [" ".join(e["text"].split()) for e in cand["exemplars"]]
        assert 1 <= len(code.examples) <= 3
        assert f"# {cand['id']}: {cand['size']} segments" in text
    # A researcher fills in the placeholders and keeps two: still a valid codebook.
    data = yaml.safe_load(text)
    theme = data["themes"][0]
    theme["name"] = "Everyday life"
    theme["codes"] = theme["codes"][:2]
    for number, code in enumerate(theme["codes"]):
        code["id"], code["name"] = f"new_code_{number}", "Family visits"
        code["definition"] = "Talk of visiting clients' families at home."
    finished = parse_codebook(yaml.safe_dump(data, allow_unicode=True))
    assert [c.id for _, c in finished.codes()] == ["new_code_0", "new_code_1"]
    assert "TODO" not in yaml.safe_dump([c.to_dict() for _, c in finished.codes()])


def test_discover_describes_each_candidate(sample_run: Path) -> None:
    data = json.loads((sample_run / "discovery.json").read_text(encoding="utf-8"))
    segments = {json.loads(line)["id"] for line in
                (sample_run / "segments.jsonl").read_text(encoding="utf-8").splitlines()}
    counts = data["counts"]
    assert counts["filler_short"] > 0 and counts["filler_small_talk"] > 0
    assert counts["clustered"] < counts["uncoded"]
    for cand in data["candidates"]:
        assert cand["size"] == len(cand["segment_ids"]) >= 5
        assert set(cand["segment_ids"]) <= segments
        assert len(cand["sources"]) >= 2 and sum(cand["sources"].values()) == cand["size"]
        assert sum(s["segments"] for s in cand["speakers"]) == cand["size"]
        assert all("profession" in s["attributes"] for s in cand["speakers"])
        assert cand["keywords"] and len(cand["keywords"]) <= 8
        assert cand["nearest"]["verdict"] in ("new", "variant")
        assert cand["nearest"]["code"] in load_codebook(sample_run / "codebook.yaml").code_ids()
        closeness = [e["similarity"] for e in cand["exemplars"]]
        assert closeness == sorted(closeness, reverse=True)
    sizes = [c["size"] for c in data["candidates"]]
    assert sizes == sorted(sizes, reverse=True)


def test_discover_leaves_small_talk_out(sample_run: Path) -> None:
    data = json.loads((sample_run / "discovery.json").read_text(encoding="utf-8"))
    listed = {s for c in data["candidates"] for s in c["segment_ids"]}
    by_id = {json.loads(line)["id"]: json.loads(line)["text"] for line in
             (sample_run / "segments.jsonl").read_text(encoding="utf-8").splitlines()}
    for text in ("Yes, I can hear you.", "Wait, let me turn up the volume."):
        ids = [i for i, t in by_id.items() if t == text]
        assert ids and not set(ids) & listed


def test_discover_is_deterministic(sample_run: Path) -> None:
    again = discover(sample_run, discover_settings(overrides=TFIDF))
    written = json.loads((sample_run / "discovery.json").read_text(encoding="utf-8"))
    assert [c.segment_ids for c in again.candidates] == \
        [c["segment_ids"] for c in written["candidates"]]


def test_discover_without_clusters_removes_stale_candidates(sample_run: Path,
                                                            tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(sample_run, run)
    result = discover(run, discover_settings(overrides=[*TFIDF,
                                                        "discover.min_cluster_size=500"]))
    assert result.candidates == []
    write_discovery(run, result)
    assert not (run / "candidates.yaml").exists()
    assert json.loads((run / "discovery.json").read_text())["candidates"] == []


def test_discover_takes_segments_whose_codes_were_all_rejected(sample_run: Path,
                                                               tmp_path: Path) -> None:
    import shutil

    from pipeline.run_folder import RunFolder

    run = tmp_path / "run"
    shutil.copytree(sample_run, run)
    lines = [json.loads(x) for x in (run / "suggestions.jsonl").read_text().splitlines()]
    coded = {}
    for line in lines:
        if line["code"]:
            coded.setdefault(line["segment_id"], []).append(line["code"])
    chosen = list(coded.items())[:6]
    t = "2026-01-05T10:00:00+08:00"
    RunFolder(run).write_jsonl("decisions.jsonl", [Decision(seg, code, "reject", "ana", t)
                                                   for seg, codes in chosen for code in codes])
    before = json.loads((sample_run / "discovery.json").read_text())["counts"]
    result = discover(run, discover_settings(overrides=TFIDF))
    assert result.counts["rejected_in_review"] == 6
    assert result.counts["uncoded"] == before["uncoded"] + 6


def test_discover_needs_suggestions(tmp_path: Path, fast_config: dict) -> None:
    from pipeline.stages import ingest_stage, segment_stage
    from tests.conftest import SAMPLE

    run = tmp_path / "run"
    ingest_stage([SAMPLE / "p01_nurse_day_ward.txt"], run, fast_config)
    segment_stage(run, fast_config)
    result = runner.invoke(app, ["discover", str(run)])
    assert result.exit_code == 2
    assert "no suggestions yet" in result.output and "Traceback" not in result.output
    with pytest.raises(RunFolderError):
        discover(run)


def test_discover_rejects_unknown_settings(sample_run: Path) -> None:
    result = runner.invoke(app, ["discover", str(sample_run), "--set", "discover.nope=1"])
    assert result.exit_code == 2 and "unknown configuration key" in result.output
    with pytest.raises(ConfigError, match=r"discover\.context"):
        discover(sample_run, {**discover_settings(), "context": "paragraph"})


def test_discover_distance_threshold_is_chosen_per_model() -> None:
    from pipeline.config import load_config
    from pipeline.discover.cluster import distance_threshold

    settings = load_config()["discover"]
    assert distance_threshold(settings, "multilingual-e5-small") == (0.08, None)
    assert distance_threshold(settings, "all-MiniLM-L6-v2") == (0.55, None)
    assert distance_threshold(settings, "tfidf") == (0.5, None)
    value, note = distance_threshold(settings, None)
    assert value == 0.08 and note and "discover.distance_threshold" in note
    assert distance_threshold(dict(settings, distance_threshold=0.3), "tfidf") == (0.3, None)
