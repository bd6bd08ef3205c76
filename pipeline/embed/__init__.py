"""Embedding backends and the disk cache. `make_embedder(config)` builds what a run asks for."""

from pipeline.embed.base import Embedder, normalize_rows
from pipeline.embed.cache import CachedEmbedder, EmbeddingCache
from pipeline.embed.factory import (
    BACKENDS,
    DEFAULT_CACHE,
    cache_dir,
    make_embedder,
    resolve_backend,
    unprepared,
)

__all__ = ["BACKENDS", "DEFAULT_CACHE", "CachedEmbedder", "Embedder", "EmbeddingCache",
           "cache_dir", "make_embedder", "normalize_rows", "resolve_backend", "unprepared"]
