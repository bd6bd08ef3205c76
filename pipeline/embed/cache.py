"""A content-addressed disk cache of embeddings, shared by all runs.

Layout: `<cache dir>/<fingerprint hash>/` holds `vectors.f32` (rows of float32, appended) and
`keys.txt` (the sha256 of each row's text, one per line, in the same order), plus `info.json`
naming the fingerprint. Vectors are written before their keys, so a crash mid-append leaves at
worst rows without keys, which are ignored and overwritten. An exclusive lock serializes writers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.embed.base import Embedder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, root: str | Path, fingerprint: str, dimension: int) -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.dimension = dimension
        self.folder = self.root / hashlib.sha256(fingerprint.encode()).hexdigest()[:20]
        self._index: dict[str, int] | None = None
        self._keys_size = -1

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load_index(self) -> dict[str, int]:
        keys_path = self.folder / "keys.txt"
        vectors_path = self.folder / "vectors.f32"
        if not keys_path.exists() or not vectors_path.exists():
            return {}
        rows = vectors_path.stat().st_size // (4 * self.dimension)
        index: dict[str, int] = {}
        with keys_path.open(encoding="ascii") as fh:
            for row, line in enumerate(fh):
                key = line.strip()
                if row >= rows or len(key) != 64:
                    break
                index[key] = row
        return index

    def get(self, keys: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """Cached vectors for `keys` (zeros where missing) and the positions that are missing."""
        if self._index is None:
            self._index = self._load_index()
            keys_path = self.folder / "keys.txt"
            self._keys_size = keys_path.stat().st_size if keys_path.exists() else 0
        out = np.zeros((len(keys), self.dimension), dtype=np.float32)
        missing = []
        hits = [(i, self._index[k]) for i, k in enumerate(keys) if k in self._index]
        if hits:
            flat = np.memmap(self.folder / "vectors.f32", dtype=np.float32, mode="r")
            data = flat.reshape(-1, self.dimension)
            positions, rows = zip(*hits, strict=True)
            out[list(positions)] = data[list(rows)]
        hit_set = {i for i, _ in hits}
        missing = [i for i in range(len(keys)) if i not in hit_set]
        return out, missing

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Append vectors not cached yet: vectors first, then their keys (both append-only)."""
        if not len(keys):
            return
        with self._locked():
            keys_path = self.folder / "keys.txt"
            size = keys_path.stat().st_size if keys_path.exists() else 0
            if self._index is None or size != self._keys_size:  # another process wrote
                self._index = self._load_index()
            index = self._index
            new = [(k, v) for k, v in zip(keys, vectors, strict=True) if k not in index]
            if not new:
                return
            info = self.folder / "info.json"
            if not info.exists():
                info.write_text(json.dumps({"fingerprint": self.fingerprint,
                                            "dimension": self.dimension}) + "\n")
            vectors_path = self.folder / "vectors.f32"
            rows = len(index)
            block = np.ascontiguousarray(np.stack([v for _, v in new]), dtype=np.float32)
            with open(vectors_path, "r+b" if vectors_path.exists() else "wb") as fh:
                fh.seek(rows * 4 * self.dimension)  # overwrite rows left without keys
                fh.write(block.tobytes())
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            with open(keys_path, "r+" if keys_path.exists() else "w", encoding="ascii") as fh:
                fh.seek(rows * 65)  # drop a torn last line, if a crash left one
                fh.write("".join(k + "\n" for k, _ in new))
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            for k, _ in new:
                index[k] = len(index)
            self._keys_size = keys_path.stat().st_size


class CachedEmbedder(Embedder):
    """Wraps an embedder with the disk cache; only texts never seen before reach the model.

    `base`: a second cache that is read but never written (a shard's: the shared cache, while
    its new vectors go to `cache_dir`, a layer of its own).
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path | None, batch_size: int = 256,
                 progress: Callable[[int, int], None] | None = None,
                 base: str | Path | None = None) -> None:
        self.inner = inner
        self.cache_dir = cache_dir
        self.base_dir = base
        self.batch_size = batch_size
        self.progress = progress
        self.encoded = 0  # texts that reached the model, for reports and tests
        self._cache: EmbeddingCache | None = None
        self._base: EmbeddingCache | None = None

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def languages(self) -> frozenset[str] | None:  # type: ignore[override]
        return self.inner.languages

    @property
    def model_key(self) -> str | None:  # type: ignore[override]
        return self.inner.model_key

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.cache_dir is None or not self.inner.cacheable:
            self.encoded += len(texts)
            return self.inner.encode(texts)
        if self._cache is None or self._cache.fingerprint != self.inner.fingerprint:
            self._cache = EmbeddingCache(self.cache_dir, self.inner.fingerprint, self.dimension)
            self._base = EmbeddingCache(self.base_dir, self.inner.fingerprint, self.dimension) \
                if self.base_dir is not None else None
        keys = [text_key(t) for t in texts]
        out, missing = self._cache.get(keys)
        if missing and self._base is not None:
            found, still = self._base.get([keys[i] for i in missing])
            unfound = set(still)
            for j, i in enumerate(missing):
                if j not in unfound:
                    out[i] = found[j]
            missing = [missing[j] for j in still]
        # Encode each distinct missing text once, in batches, saving as we go.
        unique: dict[str, int] = {}
        for i in missing:
            unique.setdefault(keys[i], i)
        # Long and short texts in separate batches: less padding, as encode() does itself.
        todo = sorted(unique.values(), key=lambda i: len(texts[i]))
        for begin in range(0, len(todo), self.batch_size):
            chunk = todo[begin:begin + self.batch_size]
            vectors = self.inner.encode([texts[i] for i in chunk])
            self._cache.put([keys[i] for i in chunk], vectors)
            self.encoded += len(chunk)
            for i, vector in zip(chunk, vectors, strict=True):
                out[i] = vector
            if self.progress:
                self.progress(min(begin + self.batch_size, len(todo)), len(todo))
        if len(unique) < len(missing):
            row_of = {keys[i]: out[i] for i in todo}
            for i in missing:
                out[i] = row_of[keys[i]]
        return out


@dataclass
class LayerMerge:
    """What folding cache layers into a cache did, per model fingerprint summed."""

    added: int = 0  # vectors appended to the cache
    present: int = 0  # keys the cache had already (its vector kept)
    conflicts: int = 0  # keys two layers embedded with different bytes
    max_difference: float = 0.0  # the largest coordinate difference among those


def merge_cache_layers(target: str | Path, layers: Sequence[str | Path]) -> LayerMerge:
    """Append the vectors of cache `layers` (shards' caches) that cache `target` lacks.

    Keys are appended in sorted order, so the cache's files do not depend on which shard
    finished first. A key two layers embedded with different bytes (a text in two shards, on
    machines whose last bits differ) keeps the vector whose bytes have the smaller sha256, a
    rule blind to scheduling; conflicts are counted as a measure of that nondeterminism.
    Memory holds the layers' keys, not their vectors.
    """
    result = LayerMerge()
    groups: dict[tuple[str, int], list[Path]] = {}
    for layer in layers:
        for info in sorted(Path(layer).glob("*/info.json")):
            data = json.loads(info.read_text(encoding="utf-8"))
            groups.setdefault((data["fingerprint"], int(data["dimension"])), []).append(
                info.parent)
    for (fingerprint, dimension), folders in groups.items():
        _merge_one(EmbeddingCache(target, fingerprint, dimension), folders, result)
    return result


def _merge_one(cache: EmbeddingCache, folders: list[Path], result: LayerMerge) -> None:
    sources = [EmbeddingCache(f.parent, cache.fingerprint, cache.dimension) for f in folders]
    where: dict[str, list[tuple[int, int]]] = {}  # key -> (layer, row) of each copy
    for number, layer in enumerate(sources):
        for key, row in layer._load_index().items():
            where.setdefault(key, []).append((number, row))
    known = cache._load_index()
    result.present += sum(1 for key in where if key in known)
    todo = sorted(key for key in where if key not in known)
    rows = [np.memmap(layer.folder / "vectors.f32", dtype=np.float32, mode="r").reshape(
        -1, cache.dimension) if (layer.folder / "vectors.f32").exists() else None
        for layer in sources]
    for begin in range(0, len(todo), 4096):
        keys = todo[begin:begin + 4096]
        block = np.stack([_chosen(where[k], rows, result) for k in keys])
        cache.put(keys, block)
        result.added += len(keys)


def _chosen(copies: list[tuple[int, int]], rows: list[np.ndarray | None],
            result: LayerMerge) -> np.ndarray:
    vectors = [np.array(rows[layer][row]) for layer, row in copies]  # type: ignore[index]
    first = vectors[0]
    if all(np.array_equal(first, v) for v in vectors[1:]):
        return first
    result.conflicts += 1
    result.max_difference = max(result.max_difference,
                                max(float(np.abs(first - v).max()) for v in vectors[1:]))
    return min(vectors, key=lambda v: hashlib.sha256(v.tobytes()).hexdigest())
