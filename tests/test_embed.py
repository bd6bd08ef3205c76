"""Embedding: the disk cache, the TF-IDF backend, and the offline guarantee."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.embed import CachedEmbedder, make_embedder
from pipeline.embed.cache import EmbeddingCache, text_key
from pipeline.embed.hashed import HashedNgramEmbedder
from pipeline.embed.offline import ensure_offline
from pipeline.embed.sentence import resolve_model_path
from pipeline.errors import ConfigError, ModelError
from tests.conftest import FakeEmbedder

TABLE = {"a": [1, 0, 0], "b": [0, 1, 0], "c": [0, 0, 1]}


def test_embed_cache_second_call_does_not_reach_the_model(tmp_path: Path) -> None:
    inner = FakeEmbedder(TABLE)
    cached = CachedEmbedder(inner, tmp_path)
    first = cached.encode(["a", "b", "a"])
    assert cached.encoded == 2  # "a" twice in one call is encoded once
    again = CachedEmbedder(FakeEmbedder(TABLE), tmp_path)
    second = again.encode(["b", "a"])
    assert again.encoded == 0
    np.testing.assert_allclose(second, first[[1, 0]])


def test_embed_cache_is_keyed_by_fingerprint(tmp_path: Path) -> None:
    CachedEmbedder(FakeEmbedder(TABLE), tmp_path).encode(["a"])
    other = CachedEmbedder(FakeEmbedder({"a": [0, 1, 0, 0]}), tmp_path)  # another "model"
    vector = other.encode(["a"])
    assert other.encoded == 1 and vector.shape == (1, 4)


def test_embed_cache_survives_a_crash_between_vectors_and_keys(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "fp", 3)
    cache.put([text_key("a")], np.array([[1, 0, 0]], np.float32))
    # Simulate a crash after writing vectors for "b" but before its key was recorded.
    with open(cache.folder / "vectors.f32", "ab") as fh:
        fh.write(np.array([[0, 1, 0]], np.float32).tobytes())
    fresh = EmbeddingCache(tmp_path, "fp", 3)
    out, missing = fresh.get([text_key("a"), text_key("b")])
    assert missing == [1]
    np.testing.assert_allclose(out[0], [1, 0, 0])
    fresh.put([text_key("b")], np.array([[0, 0, 1]], np.float32))
    out, missing = EmbeddingCache(tmp_path, "fp", 3).get([text_key("b")])
    assert missing == [] and out[0].tolist() == [0, 0, 1]


def test_embed_cache_can_be_turned_off(tmp_path: Path) -> None:
    cached = CachedEmbedder(FakeEmbedder(TABLE), None)
    cached.encode(["a"])
    cached.encode(["a"])
    assert cached.encoded == 2 and not any(tmp_path.iterdir())


def test_embed_hashed_ngram_vectors_are_unit_length_and_work_for_chinese() -> None:
    emb = HashedNgramEmbedder(max_features=256)
    texts = ["復原是一段起起伏伏的路", "同儕支持很重要", "recovery goes up and down"]
    vectors = emb.encode([*texts, "復原的路起起伏伏"])
    assert vectors.shape == (4, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    sims = vectors[3] @ vectors[:3].T
    assert sims.argmax() == 0  # character n-grams carry Chinese
    # Stateless: a text's vector does not depend on what it is encoded with.
    alone = HashedNgramEmbedder(256).encode([texts[0]])[0]
    np.testing.assert_allclose(alone, vectors[0], rtol=1e-6)
    assert emb.fingerprint == "hashed-ngrams:v1:256" and not emb.cacheable


def test_embed_unknown_backend_is_a_config_error() -> None:
    section = dict(load_config()["embed"], backend="word2vec")
    with pytest.raises(ConfigError, match="unknown embedding backend"):
        make_embedder(section)


def test_embed_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model_path(str(tmp_path / "nope") + "/")


def test_embed_default_model_resolves_to_the_installed_package() -> None:
    path = resolve_model_path("all-MiniLM-L6-v2")
    assert isinstance(path, Path) and (path / "config.json").exists()


def test_embed_offline_switches_are_set() -> None:
    ensure_offline()
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.slow
def test_embed_real_model_pipeline_runs_with_sockets_blocked(
        no_network: None, tmp_path: Path, sample_dir: Path) -> None:
    """The whole pipeline with the real default model, and no network at all."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = tmp_path / "run"
    env = {"PRECODE_CACHE": str(tmp_path / "cache")}
    result = CliRunner().invoke(app, [
        "run", str(sample_dir / "p01_nurse_day_ward.txt"),
        str(sample_dir / "p06_nurse_halfway_house.vtt"), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    lines = (out / "suggestions.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines and any('"code": "' in line for line in lines)


def test_embed_cache_two_writers_share_one_file(tmp_path: Path) -> None:
    """A second process (here: a second cache object) appending is seen by the first."""
    first = EmbeddingCache(tmp_path, "fp", 3)
    second = EmbeddingCache(tmp_path, "fp", 3)
    first.put([text_key("a")], np.array([[1, 0, 0]], np.float32))
    second.put([text_key("b")], np.array([[0, 1, 0]], np.float32))
    first.put([text_key("c")], np.array([[0, 0, 1]], np.float32))
    out, missing = EmbeddingCache(tmp_path, "fp", 3).get([text_key(t) for t in "abc"])
    assert missing == []
    np.testing.assert_allclose(out, np.eye(3))
