"""Discovery at scale: the exact clustering up to `discover.exact_limit`, two stages above it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import pipeline.discover.cluster as cluster
from pipeline.config import load_config
from pipeline.discover.cluster import cluster_vectors
from pipeline.errors import ConfigError


def themes(sizes: tuple[int, ...], scattered: int = 0, seed: int = 0,
           dim: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in well-separated groups (one axis each), then `scattered` rows that
    belong to none (truth -1)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for k, size in enumerate(sizes):
        rows.append(np.eye(dim)[k] + rng.normal(0, 0.08, size=(size, dim)))
        truth += [k] * size
    rows.append(rng.normal(size=(scattered, dim)))
    truth += [-1] * scattered
    x = np.vstack(rows)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.array(truth)


def test_discover_scale_two_stage_is_used_above_the_limit(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    vectors, _ = themes((40, 30, 30))
    calls: list[int] = []
    real = cluster.two_stage

    def spy(v: np.ndarray, *args: object) -> np.ndarray:
        calls.append(len(v))
        return real(v, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cluster, "two_stage", spy)
    cluster_vectors(vectors, distance_threshold=0.3, exact_limit=100)
    assert calls == []  # 100 rows: not above the limit
    cluster_vectors(vectors, distance_threshold=0.3, exact_limit=99)
    assert calls == [100]


def test_discover_scale_below_the_limit_is_the_exact_method() -> None:
    vectors, _ = themes((12, 9, 7, 3), scattered=20, seed=1)
    exact = cluster._relabel(cluster.average_linkage(vectors, 0.3), 5)
    assert np.array_equal(cluster_vectors(vectors, distance_threshold=0.3), exact)


def test_discover_scale_two_stage_finds_separated_groups() -> None:
    vectors, truth = themes((120, 90, 60, 40), scattered=60)
    labels = cluster_vectors(vectors, distance_threshold=0.3, min_cluster_size=5,
                             exact_limit=50)
    # Each group is one cluster, by decreasing size; scattered rows join none.
    assert [set(labels[truth == k]) for k in range(4)] == [{0}, {1}, {2}, {3}]
    assert np.mean(labels[truth == -1] == -1) >= 0.9
    exact = cluster_vectors(vectors, distance_threshold=0.3, min_cluster_size=5)
    assert adjusted_rand_score(exact, labels) > 0.95


def test_discover_scale_two_stage_is_deterministic() -> None:
    vectors, _ = themes((80, 50, 50), scattered=40, seed=3)
    runs = [cluster_vectors(vectors, distance_threshold=0.3, exact_limit=30) for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])
    other_seed = cluster_vectors(vectors, distance_threshold=0.3, exact_limit=30,
                                 random_state=1)
    assert adjusted_rand_score(runs[0], other_seed) > 0.95  # the seed moves no theme


def test_discover_scale_micro_clusters_stay_under_the_limit() -> None:
    assert cluster.micro_clusters(50) == 50
    assert cluster.micro_clusters(10**6) == cluster.MICRO_CLUSTERS


@pytest.mark.parametrize("limit", [5, 0, 2.5, True])
def test_discover_scale_rejects_a_bad_exact_limit(limit: object) -> None:
    vectors, _ = themes((10, 10))
    with pytest.raises(ConfigError, match=r"discover\.exact_limit must be a whole number"):
        cluster_vectors(vectors, exact_limit=limit)  # type: ignore[arg-type]


def test_discover_scale_exact_limit_is_checked_in_the_config() -> None:
    assert load_config()["discover"]["exact_limit"] == cluster.EXACT_LIMIT
    with pytest.raises(ConfigError, match=r"'discover\.exact_limit' must be 10 or more"):
        load_config(overrides=["discover.exact_limit=3"])
    with pytest.raises(ConfigError, match=r"discover\.exact_limit"):
        load_config(overrides=["discover.exact_limit=many"])
