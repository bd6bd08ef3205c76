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
