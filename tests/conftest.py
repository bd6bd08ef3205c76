"""Shared fixtures: paths to the sample data, a fast config, and a fake embedder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.embed.base import Embedder, normalize_rows

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
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
