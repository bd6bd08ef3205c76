"""Shards and `precode merge`: N parts of a corpus, run apart and joined, give the bytes of one
run; shard sets that do not belong together are refused before anything is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.embed import EmbeddingCache, merge_cache_layers
from pipeline.embed.cache import CachedEmbedder, text_key
from pipeline.errors import ConfigError, ShardError
from pipeline.run_folder import RunFolder
from pipeline.stages import ShardSpec, merge_shards, run_pipeline, suggest_stage
from pipeline.stages.shard import cut_points
from tests.conftest import SAMPLE, FakeEmbedder

runner = CliRunner()
OUTPUTS = ("sources.jsonl", "segments.jsonl", "suggestions.jsonl", "suggestions.csv",
           "codebook.yaml")
PARTICIPANTS = SAMPLE / "participants.csv"
# Manifest fields that cannot be equal: when the stages ran, how long, and how many texts
# reached the model (a text in two shards is embedded twice; hashed-ngrams caches nothing).
TIMES = ("created", "finished", "seconds", "encoded")


def _without_times(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k not in TIMES}
    return value


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A plain run of the whole sample (hashed-ngrams: no model), to compare shards with."""
    from pipeline.config import load_config

    work = tmp_path_factory.mktemp("plain")
    config = load_config(overrides=["embed.backend=hashed-ngrams",
                                    f"embed.cache_dir={work / 'cache'}"])
    run_pipeline([SAMPLE], work / "plain", config, participants=PARTICIPANTS)
    return work / "plain", config


@pytest.fixture(scope="module")
def sharded(corpus: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[int, list[Path]]:
    """The sample run as 1, 2 and 3 shards (made on first use, shared by the tests)."""
    _, config = corpus
    folder = tmp_path_factory.mktemp("shards")

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, count: int) -> list[Path]:
            self[count] = _shards(folder / str(count), config, count)
            return self[count]

    return Lazy()


def _shards(folder: Path, config: dict, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        paths.append(folder / f"part{index}")
        run_pipeline([SAMPLE], paths[-1], config, participants=PARTICIPANTS,
                     shard=ShardSpec(index, count))
    return paths


@pytest.mark.parametrize("count", [1, 2, 3])
def test_merged_shards_are_byte_identical_to_one_run(corpus: tuple[Path, dict], count: int,
                                                     sharded: dict[int, list[Path]],
                                                     tmp_path: Path) -> None:
    plain, config = corpus
    parts = sharded[count]
    result = merge_shards(list(reversed(parts)), tmp_path / "merged")  # any order

    for name in OUTPUTS:
        assert (tmp_path / "merged" / name).read_bytes() == (plain / name).read_bytes(), name
    ours = json.loads((tmp_path / "merged" / "manifest.json").read_text())
    theirs = json.loads((plain / "manifest.json").read_text())
    assert _without_times(ours) == _without_times(theirs)
    assert list(ours) == list(theirs)  # same keys in the same order: the same file layout
    assert result.counts["sources"] == 15 and result.counts["segments"] == theirs["stages"][
        "segment"]["segments"]
    # The merged run is a run like any other: an unchanged suggest is skipped.
    assert suggest_stage(tmp_path / "merged", config).skipped


def test_each_shard_is_a_complete_run_that_names_its_part(
        sharded: dict[int, list[Path]]) -> None:
    parts = sharded[3]
    names = []
    for index, part in enumerate(parts):
        manifest = RunFolder(part).manifest()
        assert manifest["shard"]["index"] == index and manifest["shard"]["count"] == 3
        assert set(manifest["shard"]["outputs"]) == set(OUTPUTS)
        names.append([s.name for s in RunFolder(part).iter_sources()])
    assert all(names) and sum(len(n) for n in names) == 15
    assert len({n for part in names for n in part}) == 15  # disjoint
    plans = {RunFolder(p).manifest()["shard"]["plan"] for p in parts}
    assert len(plans) == 1


def test_cut_points_balance_bytes_keep_order_and_never_leave_a_part_empty() -> None:
    assert cut_points([10] * 10, 3) == [0, 4, 7, 10]
    assert cut_points([100, 1, 1, 1, 1], 2) == [0, 1, 5]  # the big file alone
    assert cut_points([1, 1, 1, 100], 2) == [0, 3, 4]
    assert cut_points([0, 0, 0], 3) == [0, 1, 2, 3]  # empty files still count
    assert cut_points([5, 5], 1) == [0, 2]
    with pytest.raises(ConfigError, match="cannot be cut into 3 shards"):
        cut_points([1, 1], 3)


def test_the_plan_is_the_same_whoever_computes_it(corpus: tuple[Path, dict],
                                                  tmp_path: Path) -> None:
    from pipeline.ingest import find_files
    from pipeline.stages.shard import plan_shard

    files = find_files([SAMPLE])
    first = [plan_shard(files, ShardSpec(i, 4), PARTICIPANTS) for i in range(4)]
    again = [plan_shard(list(files), ShardSpec(i, 4), PARTICIPANTS) for i in range(4)]
    assert [p.files for p in first] == [p.files for p in again]
    assert [f for p in first for f in p.files] == files  # contiguous, in corpus order


@pytest.mark.parametrize(("text", "message"), [
    ("3/3", "no shard 3 of 3"), ("1", "must look like I/N"), ("a/b", "must look like I/N"),
    ("0/0", "cannot be cut into 0 shards")])
def test_a_bad_shard_spec_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ShardSpec.parse(text)


def test_more_shards_than_transcripts_is_refused_before_anything_is_written(
        tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(SAMPLE / "p01_nurse_day_ward.txt"), "--out",
                                 str(tmp_path / "part"), "--shard", "1/2",
                                 "--backend", "hashed-ngrams"])
    assert result.exit_code == 2
    assert "cannot be cut into 2 shards" in result.output
    assert not (tmp_path / "part").exists()


# -- bad shard sets -----------------------------------------------------------------------------

@pytest.fixture
def three(sharded: dict[int, list[Path]]) -> list[Path]:
    return sharded[3]


def _merge(args: list[str | Path], out: Path) -> str:
    """`precode merge`, expected to fail with exit 2 and write nothing."""
    result = runner.invoke(app, ["merge", *map(str, args), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    return result.output


def test_a_missing_shard_is_named(three: list[Path], tmp_path: Path) -> None:
    output = _merge([three[0], three[2]], tmp_path / "out")
    assert "1/3 missing" in output and "--shard 1/3" in output


def test_a_repeated_shard_is_named(three: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(three[1], copy)
    output = _merge([three[0], three[1], copy, three[2]], tmp_path / "out")
    assert "shard 1/3 is given twice" in output and str(copy) in output


def test_shards_run_with_other_settings_are_refused(corpus: tuple[Path, dict], three: list[Path],
                                                    tmp_path: Path) -> None:
    _, config = corpus
    other = {**config, "suggest": {**config["suggest"], "threshold": 0.4}}
    odd = tmp_path / "odd"
    run_pipeline([SAMPLE], odd, other, participants=PARTICIPANTS, shard=ShardSpec(2, 3))
    output = _merge([three[0], three[1], odd], tmp_path / "out")
    assert "different settings" in output and "suggest.threshold" in output


def test_shards_of_another_cut_or_corpus_are_refused(corpus: tuple[Path, dict],
                                                     sharded: dict[int, list[Path]],
                                                     three: list[Path], tmp_path: Path) -> None:
    _, config = corpus
    halves = sharded[2]
    assert "cut into 2 parts" in _merge([three[0], three[1], halves[1]], tmp_path / "out")
    fewer = tmp_path / "fewer"
    shutil.copytree(SAMPLE, fewer)
    (fewer / "p15_psychologist_halfway_house_zh.odt").unlink()
    odd = tmp_path / "odd"
    run_pipeline([fewer], odd, config, participants=PARTICIPANTS, shard=ShardSpec(2, 3))
    assert "different corpora" in _merge([three[0], three[1], odd], tmp_path / "out")


def test_a_folder_that_is_not_a_finished_shard_is_refused(corpus: tuple[Path, dict],
                                                          three: list[Path],
                                                          tmp_path: Path) -> None:
    plain, _ = corpus
    assert "not a shard" in _merge([plain, *three], tmp_path / "out")
    assert "not a run folder" in _merge([tmp_path, *three], tmp_path / "out")
    unsealed = tmp_path / "unsealed"
    shutil.copytree(three[2], unsealed)
    manifest = json.loads((unsealed / "manifest.json").read_text())
    del manifest["shard"]["outputs"]
    (unsealed / "manifest.json").write_text(json.dumps(manifest))
    assert "did not finish" in _merge([three[0], three[1], unsealed], tmp_path / "out")


def test_a_part_changed_after_its_shard_finished_is_refused(three: list[Path],
                                                            tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(three[1], edited)
    with (edited / "segments.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    output = _merge([three[0], edited, three[2]], tmp_path / "out")
    assert "segments.jsonl changed after the shard finished" in output


def test_merge_does_not_overwrite_a_run_unless_forced_and_keeps_human_work(
        three: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    merge_shards(three, out)
    (out / "decisions.jsonl").write_text('{"kept": true}\n')
    (out / "evaluation.json").write_text("{}\n")
    with pytest.raises(ShardError, match="exists already"):
        merge_shards(three, out)
    merge_shards(three, out, force=True)
    assert (out / "decisions.jsonl").read_text() == '{"kept": true}\n'
    assert not (out / "evaluation.json").exists()  # made from the old suggestions
    assert not list(out.glob(".merge-*"))


def test_a_participants_row_is_reported_only_if_no_shard_matched_it(
        corpus: tuple[Path, dict], tmp_path: Path) -> None:
    _, config = corpus
    small = tmp_path / "small"
    small.mkdir()
    names = ["p01_nurse_day_ward.txt", "p05_case_manager_community_center.txt",
             "p08_occupational_therapist_workshop.md"]
    for name in names:
        shutil.copy(SAMPLE / name, small)
    table = tmp_path / "participants.csv"
    rows = [line for line in PARTICIPANTS.read_text(encoding="utf-8").splitlines()
            if line.startswith(("source,", *names))]
    # a row naming no source matches by speaker: only the shard holding p05 matches it
    speaker = rows[2].split(",")[1]
    rows += [f",{speaker},P98,case manager,x,1", "nobody_here.txt,Nurse Z,P99,nurse,ward,1"]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    parts = []
    for index in range(3):
        parts.append(tmp_path / f"p{index}")
        run_pipeline([small], parts[-1], config, participants=table,
                     shard=ShardSpec(index, 3))
    assert len(RunFolder(parts[0]).manifest()["shard"]["unmatched_participants"]) == 4
    warnings = merge_shards(parts, tmp_path / "out").warnings
    assert len(warnings) == 1 and "nobody_here.txt" in warnings[0]


# -- embedding cache layers ---------------------------------------------------------------------

def _cache(root: Path, rows: dict[str, list[float]]) -> EmbeddingCache:
    cache = EmbeddingCache(root, "fake:2", 2)
    cache.put(list(rows), np.array(list(rows.values()), dtype=np.float32))
    return cache


def test_cache_layers_merge_by_key_in_sorted_order_and_conflicts_are_decided_by_bytes(
        tmp_path: Path) -> None:
    keys = [text_key(t) for t in ("a", "b", "c", "d")]
    _cache(tmp_path / "main", {keys[0]: [1, 0]})
    _cache(tmp_path / "l1", {keys[3]: [0, 1], keys[1]: [1, 1]})
    _cache(tmp_path / "l2", {keys[1]: [1, 1], keys[2]: [0.5, 0.5], keys[0]: [9, 9]})
    _cache(tmp_path / "l3", {keys[2]: [0.5, 0.25]})  # a conflict with l2
    result = merge_cache_layers(tmp_path / "main", [tmp_path / f"l{i}" for i in (1, 2, 3)])

    assert (result.added, result.present, result.conflicts) == (3, 1, 1)
    assert result.max_difference == pytest.approx(0.25)
    main = EmbeddingCache(tmp_path / "main", "fake:2", 2)
    lines = (main.folder / "keys.txt").read_text().split()
    assert lines[0] == keys[0] and lines[1:] == sorted(keys[1:])
    vectors, missing = main.get(keys)
    assert missing == [] and vectors[0].tolist() == [1, 0]  # the cache's own vector kept
    import hashlib
    chosen = min((np.array([0.5, 0.5], np.float32), np.array([0.5, 0.25], np.float32)),
                 key=lambda v: hashlib.sha256(v.tobytes()).hexdigest())
    assert vectors[2].tolist() == chosen.tolist()
    # Merging again adds nothing: the layers are already in.
    assert merge_cache_layers(tmp_path / "main", [tmp_path / "l1"]).added == 0


def test_a_layered_cache_reads_the_base_and_writes_only_the_layer(tmp_path: Path) -> None:
    fake = FakeEmbedder({"old": [1, 0], "new": [0, 1]})
    shared = CachedEmbedder(fake, tmp_path / "shared")
    shared.encode(["old"])
    layered = CachedEmbedder(fake, tmp_path / "layer", base=tmp_path / "shared")
    layered.encode(["old", "new"])
    assert fake.calls == [["old"], ["new"]]  # "old" came from the base
    base = EmbeddingCache(tmp_path / "shared", fake.fingerprint, 2)
    assert base.get([text_key("new")])[1] == [0]  # the base was not written
    layer = EmbeddingCache(tmp_path / "layer", fake.fingerprint, 2)
    assert layer.get([text_key("new"), text_key("old")])[1] == [1]
