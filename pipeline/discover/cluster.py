"""Clustering segment vectors into candidate themes (scikit-learn).

`cluster_vectors(vectors, ...)` returns one label per row, `-1` for segments left out of every
cluster. Two methods:

- `agglomerative` (the default): average-linkage clustering on cosine distance, cut where the
  average distance between two groups exceeds `distance_threshold`; groups smaller than
  `min_cluster_size` are left unclustered. Every segment is compared with every other one,
  which gives tight, readable clusters but holds all n*(n-1)/2 distances: memory grows with
  the square of the segments to cluster. Up to `exact_limit` rows it is exactly that. Above
  it, two stages: `MiniBatchKMeans` (fixed `random_state`) first summarizes the rows as
  `micro_clusters(exact_limit)` micro-clusters (at most `MICRO_CLUSTERS`), then the same
  average-linkage cut, with the same threshold, groups their normalized centres, and each row
  takes its micro-cluster's group. Micro-clusters are unweighted (a centre of 3 rows counts as
  much as one of 30): they are far tighter than the threshold, so it changes little.
  Measured on 384-dimensional unit vectors, 2 busy cores (`benchmarks/discovery.py --scale`):
  exact 5,000 rows 0.35 GB, 10,000 0.94 GB, 20,000 3.2 GB (and minutes), 40,000 about 13 GB
  (out of reach of a laptop); two-stage 0.6 GB at 5,000 and 10,000, bounded by its 4,000
  micro-clusters after that. On a synthetic mixture of 80 themes and 25% scattered rows, the
  two-stage labels matched the exact ones (adjusted Rand index 1.000 at 5,000 and 10,000 rows).
  So `exact_limit: 20000` keeps today's clusters for any study that fits in memory, and bounds
  the rest.
- `hdbscan`: density-based, needs no distance threshold; clusters of at least
  `min_cluster_size` segments, on the vectors reduced to `components` dimensions by PCA (HDBSCAN
  finds little density in hundreds of dimensions). Its neighbour search uses a tree, not a
  distance matrix, so it needs no second stage and has none.

The benchmark (`benchmarks/discovery.py`) compares them on the sample corpus.
"""

from __future__ import annotations

import numpy as np

from pipeline.config import DiscoverSettings, backend_name
from pipeline.embed.base import normalize_rows
from pipeline.errors import ConfigError

METHODS = ("agglomerative", "hdbscan")
EXACT_LIMIT = 20000  # configs/default.yaml's discover.exact_limit; measured in the docstring
MICRO_CLUSTERS = 4000  # most micro-clusters the two-stage method makes
MIN_EXACT_LIMIT = 10  # below it too few micro-clusters to tell themes apart
CHUNK = 4096  # rows at a time in the second stage's float64 arithmetic


def cluster_vectors(vectors: np.ndarray, method: str = "agglomerative",
                    distance_threshold: float = 0.6, min_cluster_size: int = 5,
                    min_samples: int | None = None, components: int = 20,
                    random_state: int = 0, exact_limit: int = EXACT_LIMIT) -> np.ndarray:
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
        if not 0.0 < distance_threshold <= 2.0:
            raise ConfigError("discover.distance_threshold must be in (0, 2]",
                              hint="cosine distance: 0 is identical, 1 unrelated")
        check_exact_limit(exact_limit)
        if n <= exact_limit:
            labels = average_linkage(vectors, distance_threshold)
        else:
            labels = two_stage(vectors, distance_threshold, exact_limit, random_state)
    else:
        from sklearn.cluster import HDBSCAN

        reduced = _reduce(vectors, components, random_state)
        labels = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples,
                         copy=True).fit_predict(reduced)
    return _relabel(labels, min_cluster_size)


def check_exact_limit(limit: int) -> None:
    """The two-stage method needs room for a few micro-clusters per theme."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < MIN_EXACT_LIMIT:
        raise ConfigError(f"discover.exact_limit must be a whole number of {MIN_EXACT_LIMIT} "
                          f"or more, got {limit!r}",
                          hint=f"segments clustered exactly; above it, {MICRO_CLUSTERS} "
                               f"micro-clusters at most. The default is {EXACT_LIMIT}")


def average_linkage(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Today's exact method: every pairwise cosine distance, average linkage, cut at
    `threshold` (memory grows with the square of the rows)."""
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                   distance_threshold=threshold).fit_predict(vectors)


def micro_clusters(exact_limit: int) -> int:
    """How many micro-clusters the first stage makes: few enough for the exact second stage
    (at most `exact_limit`), and at most `MICRO_CLUSTERS` to keep k-means quick."""
    return min(exact_limit, MICRO_CLUSTERS)


def two_stage(vectors: np.ndarray, threshold: float, exact_limit: int,
              random_state: int) -> np.ndarray:
    """Above the exact limit: k-means micro-clusters, grouped by the same average-linkage cut;
    each row takes its micro-cluster's label, unless its mean distance to the other members
    is over the threshold (a row the exact method would not have merged there: -1).

    For unit vectors the mean cosine distance between the members of two groups is one minus
    the dot product of their mean vectors, so the micro-clusters' distances are the exact
    average-linkage ones; only later merges weigh each micro-cluster as one row.
    Deterministic for one input and `random_state`.
    """
    from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans

    k = micro_clusters(exact_limit)
    micro = MiniBatchKMeans(n_clusters=k, init="random", n_init=1, random_state=random_state,
                            batch_size=max(1024, 2 * k)).fit(vectors)
    means = _member_means(vectors, micro.labels_, k)
    distances = np.clip(1.0 - means @ means.T, 0.0, 2.0)
    groups = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                     distance_threshold=threshold).fit_predict(distances)
    labels: np.ndarray = groups[micro.labels_]
    labels[_outlying(vectors, micro.labels_, means, threshold)] = -1
    return labels


def _member_means(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each micro-cluster's mean vector (not normalized: its norm says how tight it is).

    Rows are added in order into float64 sums, `CHUNK` rows at a time: the same additions in
    the same order as one sparse product over all rows, without a float64 copy of them all.
    """
    sums = np.zeros((k, vectors.shape[1]))
    for start in range(0, len(labels), CHUNK):
        np.add.at(sums, labels[start:start + CHUNK],
                  vectors[start:start + CHUNK].astype(np.float64))
    counts = np.bincount(labels, minlength=k)
    means: np.ndarray = sums / np.maximum(counts, 1)[:, None]
    return means


def _outlying(vectors: np.ndarray, labels: np.ndarray, means: np.ndarray,
              threshold: float) -> np.ndarray:
    """Rows whose mean cosine distance to the other members of their micro-cluster exceeds
    the threshold: k-means puts every row somewhere, average linkage would not. Each row's
    mean is looked up `CHUNK` rows at a time, never as one rows x dimensions float64 array."""
    counts = np.bincount(labels, minlength=len(means))[labels]
    own = np.concatenate([
        np.einsum("ij,ij->i", vectors[start:start + CHUNK], means[labels[start:start + CHUNK]])
        for start in range(0, len(labels), CHUNK)]) * counts
    others = (own - 1.0) / np.maximum(counts - 1, 1)
    return (counts > 1) & (1.0 - others > threshold)


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
