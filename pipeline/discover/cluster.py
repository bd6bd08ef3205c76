"""Clustering segment vectors into candidate themes (scikit-learn).

`cluster_vectors(vectors, ...)` returns one label per row, `-1` for segments left out of every
cluster. Two methods:

- `agglomerative` (the default): average-linkage clustering on cosine distance, cut where the
  average distance between two groups exceeds `distance_threshold`; groups smaller than
  `min_cluster_size` are left unclustered. Every segment is compared with every other one,
  which suits a few thousand segments and gives tight, readable clusters.
- `hdbscan`: density-based, needs no distance threshold; clusters of at least
  `min_cluster_size` segments, on the vectors reduced to `components` dimensions by PCA (HDBSCAN
  finds little density in hundreds of dimensions).

The benchmark (`benchmarks/discovery.py`) compares them on the sample corpus.
"""

from __future__ import annotations

import numpy as np

from pipeline.config import DiscoverSettings, backend_name
from pipeline.embed.base import normalize_rows
from pipeline.errors import ConfigError

METHODS = ("agglomerative", "hdbscan")


def cluster_vectors(vectors: np.ndarray, method: str = "agglomerative",
                    distance_threshold: float = 0.6, min_cluster_size: int = 5,
                    min_samples: int | None = None, components: int = 20,
                    random_state: int = 0) -> np.ndarray:
    """Cluster labels for unit-length `vectors` (0, 1, ... by decreasing size; -1: none)."""
    if method not in METHODS:
        raise ConfigError(f"unknown discover.method {method!r}",
                          hint=f"use one of: {', '.join(METHODS)}")
    if min_cluster_size < 2:
        raise ConfigError("discover.min_cluster_size must be 2 or more",
                          hint="a theme needs at least two segments; the default is 5")
    n = len(vectors)
    if n < min_cluster_size:
        return np.full(n, -1, dtype=int)
    if method == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering

        if not 0.0 < distance_threshold <= 2.0:
            raise ConfigError("discover.distance_threshold must be in (0, 2]",
                              hint="cosine distance: 0 is identical, 1 unrelated")
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average",
            distance_threshold=distance_threshold).fit_predict(vectors)
    else:
        from sklearn.cluster import HDBSCAN

        reduced = _reduce(vectors, components, random_state)
        labels = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples,
                         copy=True).fit_predict(reduced)
    return _relabel(labels, min_cluster_size)


def _reduce(vectors: np.ndarray, components: int, random_state: int) -> np.ndarray:
    if components <= 0 or components >= min(vectors.shape):
        return vectors
    from sklearn.decomposition import PCA

    reduced = PCA(n_components=components, random_state=random_state).fit_transform(vectors)
    return normalize_rows(reduced)


def _relabel(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Drop clusters below `min_size`; number the rest by size (ties: first member first)."""
    out = np.full(len(labels), -1, dtype=int)
    groups = [np.flatnonzero(labels == k) for k in np.unique(labels) if k >= 0]
    groups = [g for g in groups if len(g) >= min_size]
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    for new, members in enumerate(groups):
        out[members] = new
    return out


def distance_threshold(settings: DiscoverSettings, model_key: str | None
                       ) -> tuple[float, str | None]:
    """The agglomerative cut for this embedding model, and a note when none was chosen for it.

    Cosine distances are on each model's own scale (multilingual-e5-small's sit in a narrow
    band), so `discover.distance_threshold: null` takes the value chosen per model.
    """
    given = settings.get("distance_threshold")
    if given is not None:
        return float(given), None
    table = {backend_name(k): v for k, v in settings["distance_thresholds"].items()}
    model_key = backend_name(model_key) if model_key else model_key
    if model_key in table:
        return float(table[model_key]), None
    value = float(table["multilingual-e5-small"])
    return value, (f"no distance threshold was chosen for this embedding model; used {value} "
                   "(set discover.distance_threshold)")
