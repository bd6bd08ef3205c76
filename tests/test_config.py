"""Configuration: defaults, overrides, and the errors that keep typos from passing silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError


def test_config_overrides_are_typed() -> None:
    config = load_config(overrides=["segment.unit=turn", "suggest.threshold=0.4",
                                    "segment.include_interviewer=true"])
    assert config["segment"]["unit"] == "turn"
    assert config["suggest"]["threshold"] == 0.4
    assert config["segment"]["include_interviewer"] is True


def test_config_file_merges_onto_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("segment:\n  window: 2\n")
    config = load_config(path)
    assert config["segment"]["window"] == 2 and config["segment"]["unit"] == "sentence"


@pytest.mark.parametrize(("override", "message"), [
    ("segment.unitt=turn", "unknown configuration key 'segment.unitt'"),
    ("segment.window=two", "'segment.window' must be int"),
    ("segment=3", "must be a section"),
    ("nonsense", "section.key=value"),
    ("suggest.top_k=0", "'suggest.top_k' must be 1 or more"),
    ("suggest.threshold=1.5", "'suggest.threshold' must be between 0 and 1"),
    ("suggest.turn_weight=-5", "must be 0 or more"),
    ("embed.batch_size=0", "'embed.batch_size' must be 1 or more"),
    ("segment.unit=paragraph", "'segment.unit' must be one of sentence, turn, window"),
])
def test_config_rejects_bad_overrides(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_config_types_and_default_yaml_have_the_same_keys() -> None:
    """The typed sections and configs/default.yaml (the only place defaults live) agree."""
    from typing import get_type_hints

    from pipeline.config import Config, defaults

    data = defaults()
    sections = get_type_hints(Config)
    assert set(sections) == set(data)
    for name, section_type in sections.items():
        keys = set(data[name])  # type: ignore[literal-required]
        assert set(get_type_hints(section_type)) == keys, name


def test_config_tfidf_is_an_alias_of_hashed_ngrams() -> None:
    assert load_config(overrides=["embed.backend=tfidf"])["embed"]["backend"] == "hashed-ngrams"
    old_run = load_config(overrides=["embed.backend=tfidf"])
    old_run["embed"]["backend"] = "tfidf"  # what a manifest of an earlier precode says
    assert load_config(base=dict(old_run))["embed"]["backend"] == "hashed-ngrams"


def test_config_calibrations_are_open_to_new_models() -> None:
    config = load_config(overrides=["suggest.calibrations.my-model=[1.0, 2.0, -3.0]"])
    assert config["suggest"]["calibrations"]["my-model"] == [1.0, 2.0, -3.0]
    assert "multilingual-e5-small" in config["suggest"]["calibrations"]
    with pytest.raises(ConfigError, match=r"'suggest\.calibrations' must be a mapping of model"):
        load_config(overrides=["suggest.calibrations.my-model=[1.0]"])


@pytest.mark.parametrize(("override", "message"), [
    ("discover.distance_threshold=far", "'discover.distance_threshold' must be null or in"),
    ("discover.method=kmeans", "'discover.method' must be one of agglomerative, hdbscan"),
    ("discover.min_cluster_size=1", "'discover.min_cluster_size' must be 2 or more"),
    ("report.quote_max_chars=0", "'report.quote_max_chars' must be 1 or more"),
    ("suggest.context=paragraph", "'suggest.context' must be one of turn, none"),
])
def test_config_checks_every_section_in_one_place(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_config_a_library_caller_gets_the_same_checks() -> None:
    """Settings built by hand (not through load_config) are checked as the CLI checks them:
    an unknown suggest.context is a ConfigError naming the key, not a codebook error."""
    from pipeline.embed.hashed import HashedNgramEmbedder
    from pipeline.records import Segment, Source, Turn
    from pipeline.suggest import segment_vectors

    settings = {**load_config()["suggest"], "context": "paragraph"}
    source = Source("s", "s", "Hello there.", (Turn("P", "participant", 0, 12),), "en", {})
    segment = Segment("s:0-12", "s", 0, 12, "Hello there.", "P", "participant", 0)
    with pytest.raises(ConfigError, match=r"'suggest\.context' must be one of turn, none"):
        segment_vectors([segment], [source], HashedNgramEmbedder(),
                        settings)  # type: ignore[arg-type]
