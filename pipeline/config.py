"""Configuration: `configs/default.yaml` holds every key; users override, never invent.

`load_config(path, overrides)` deep-merges a user file and `section.key=value` overrides onto
the defaults. Unknown keys and values of the wrong type are errors that name the key.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError, InputNotFoundError
from pipeline.resources import CONFIG_DIR as CONFIG_DIR  # where the packaged YAML lives
from pipeline.resources import DEFAULT_CONFIG as DEFAULT_CONFIG
from pipeline.resources import REFERENCE_CODEBOOK as REFERENCE_CODEBOOK

Config = dict[str, Any]


def defaults() -> Config:
    if not DEFAULT_CONFIG.exists():
        raise InputNotFoundError("the default configuration is missing", path=DEFAULT_CONFIG,
                                 hint="reinstall precode from its source folder (pip install -e .)")
    with DEFAULT_CONFIG.open(encoding="utf-8") as fh:
        data: Config = yaml.safe_load(fh)
    return data


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (),
                base: Config | None = None) -> Config:
    """The resolved configuration: defaults, then the file at `path`, then `overrides`.

    With `base` (a run's saved config), the file and overrides apply on top of it instead of
    the defaults, so changing one setting of a run keeps the others it was made with.
    """
    config = defaults()
    if base is not None:
        _merge(config, copy.deepcopy(base), "the run's manifest", "")
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise InputNotFoundError("no such configuration file", path=path,
                                     hint="check the path given to --config")
        try:
            with path.open(encoding="utf-8") as fh:
                user = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML: {exc}", path=path,
                              hint="fix the YAML syntax (indentation, quotes)") from exc
        if not isinstance(user, dict):
            raise ConfigError("a configuration file must be a mapping of sections", path=path,
                              hint="see configs/default.yaml for the layout")
        _merge(config, user, str(path), "")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"cannot read the override {item!r}",
                              hint="write overrides as section.key=value, e.g. segment.unit=turn")
        node: Any = yaml.safe_load(raw) if raw.strip() else None
        for part in reversed(key.strip().split(".")):
            node = {part: node}
        _merge(config, node, "--set", "")
    check_values(config)
    return config


# (section, key) -> (check, what it must be). Checked after every load, so a bad value fails
# before any stage runs.
_RANGES = {
    ("segment", "window"): (lambda v: v >= 0, "0 or more"),
    ("segment", "fragment_min_chars"): (lambda v: v >= 0, "0 or more"),
    ("segment", "fragment_min_chars_cjk"): (lambda v: v >= 0, "0 or more"),
    ("embed", "batch_size"): (lambda v: v >= 1, "1 or more"),
    ("embed", "max_seq_length"): (lambda v: v is None or v >= 8, "null or 8 or more"),
    ("embed", "prefix"): (lambda v: v is None or isinstance(v, str), "null or a string"),
    ("suggest", "top_k"): (lambda v: v >= 1, "1 or more"),
    ("suggest", "threshold"): (lambda v: 0.0 <= v <= 1.0, "between 0 and 1"),
    ("suggest", "turn_weight"): (lambda v: v >= 0, "0 or more"),
    ("suggest", "question_weight"): (lambda v: v >= 0, "0 or more"),
    ("suggest", "top_examples"): (lambda v: v >= 1, "1 or more"),
    ("suggest", "exclude_weight"): (lambda v: v >= 0, "0 or more"),
    ("suggest", "classifier_weight"): (lambda v: v >= 0, "0 or more"),
    ("suggest", "calibration"): (lambda v: v is None or len(v) == 3,
                                 "null or three numbers: score, margin, bias"),
}
_CHOICES = {
    ("segment", "unit"): ("sentence", "turn", "window"),
    ("segment", "fragment_policy"): ("merge", "drop", "keep"),
    ("embed", "backend"): ("auto", "sentence-transformers", "onnx-int8", "tfidf"),
    ("suggest", "context"): ("turn", "none"),
}


def check_values(config: Config) -> None:
    """Range and choice checks for the keys that have them."""
    for (section, key), (ok, expected) in _RANGES.items():
        value = config.get(section, {}).get(key)
        if key in config.get(section, {}) and not ok(value):
            raise ConfigError(f"'{section}.{key}' must be {expected}, got {value!r}",
                              hint="see configs/default.yaml")
    for (section, key), choices in _CHOICES.items():
        value = config.get(section, {}).get(key)
        if key in config.get(section, {}) and value not in choices:
            raise ConfigError(f"'{section}.{key}' must be one of {', '.join(choices)}, "
                              f"got {value!r}", hint="see configs/default.yaml")


def _merge(base: Config, update: Config, origin: str, prefix: str) -> None:
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            valid = ", ".join(f"{prefix}{k}" for k in base)
            raise ConfigError(f"unknown configuration key {dotted!r} (from {origin})",
                              hint=f"valid keys here: {valid}")
        current = base[key]
        if isinstance(current, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted!r} must be a section, not {value!r} (from {origin})",
                                  hint="see configs/default.yaml")
            _merge(current, value, origin, dotted + ".")
        else:
            base[key] = _check_type(dotted, current, value, origin)


def _check_type(key: str, current: Any, value: Any, origin: str) -> Any:
    if current is None or value is None:
        return copy.deepcopy(value)
    if isinstance(current, bool) or isinstance(value, bool):
        ok = isinstance(current, bool) and isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, (int, float))
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(current))
    if not ok:
        raise ConfigError(
            f"{key!r} must be {type(current).__name__}, got {value!r} (from {origin})",
            hint=f"the default is {current!r}",
        )
    return copy.deepcopy(value)
