"""Embedding backends and the disk cache. `make_embedder(config)` builds what a run asks for."""

from pipeline.embed.base import Embedder, normalize_rows
from pipeline.embed.cache import (
    CachedEmbedder,
    EmbeddingCache,
    LayerMerge,
    merge_cache_layers,
)
from pipeline.embed.factory import (
    BACKENDS,
    DEFAULT_CACHE,
    cache_dir,
    in_cache,
    make_embedder,
    make_model,
    resolve_backend,
    unprepared,
)

__all__ = ["BACKENDS", "DEFAULT_CACHE", "CachedEmbedder", "Embedder", "EmbeddingCache",
           "LayerMerge", "cache_dir", "in_cache", "make_embedder", "make_model",
           "merge_cache_layers", "normalize_rows", "resolve_backend", "unprepared"]
