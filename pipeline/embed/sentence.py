"""sentence-transformers backend (fp32 PyTorch) for the packaged models or a local folder.

The model is only ever loaded from disk: a packaged model (`pipeline.embed.models`), a local
folder, or a model already in the local Hugging Face cache. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.base import Embedder, normalize_rows
from pipeline.embed.models import (
    DEFAULT_MODEL,
    display_name,
    model_digest,
    model_key,
    model_languages,
    model_prefix,
    resolve_model_path,
)
from pipeline.embed.offline import ensure_offline
from pipeline.errors import MissingDependencyError, ModelError

__all__ = ["DEFAULT_MODEL", "SentenceTransformerEmbedder", "resolve_model_path"]


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64,
                 max_seq_length: int | None = None, device: str = "cpu",
                 prefix: str | None = None, cache_root: Path | None = None) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.device = device
        self._path = resolve_model_path(model, cache_root)
        self.prefix = model_prefix(self._path) if prefix is None else prefix
        self._st: Any = None
        self.languages = model_languages(model)
        self.model_key = model_key(model)

    @property
    def fingerprint(self) -> str:
        settings: dict[str, Any] = {"max_seq_length": self.max_seq_length}
        if self.prefix:  # absent when empty: fingerprints of prefix-less models stay as they were
            settings["prefix"] = self.prefix
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
        return f"st:{display_name(self.model, self._path)}:{model_digest(self._path)}:{digest}"

    @property
    def dimension(self) -> int:
        dim = self.load().get_embedding_dimension()
        return int(dim)

    def load(self) -> Any:
        if self._st is None:
            ensure_offline()
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise MissingDependencyError(
                    "sentence-transformers is not installed",
                    hint="pip install sentence-transformers, or set embed.backend to hashed-ngrams",
                ) from exc
            try:
                self._st = SentenceTransformer(str(self._path), device=self.device,
                                               local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelError(
                    f"cannot load the embedding model {self.model!r} from disk ({exc})",
                    hint="give a local sentence-transformers folder in embed.model; precode "
                         "never downloads models",
                ) from exc
            if self.max_seq_length:  # never past the model's position table
                limit = getattr(self._st[0].auto_model.config, "max_position_embeddings",
                                self.max_seq_length)
                self._st.max_seq_length = min(self.max_seq_length, limit)
        return self._st

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        inputs = [self.prefix + text for text in texts]
        vectors = self.load().encode(inputs, batch_size=self.batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True,
                                     show_progress_bar=False)
        return normalize_rows(vectors)
