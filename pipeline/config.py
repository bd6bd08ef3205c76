"""Configuration: `configs/default.yaml` holds every key and every default; users override,
never invent.

`load_config(path, overrides)` deep-merges a user file and `section.key=value` overrides onto
the defaults and returns a `Config`. Its sections are typed (`SuggestSettings`, ...): mypy checks
every key a stage reads. The config stays plain data because it travels as JSON (the run's
manifest, worker processes). `check_values` holds every range and choice, so a bad value fails
with the key and the fix before any stage runs. The types and default.yaml are kept in step by
a test.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict, cast

import yaml

from pipeline.errors import ConfigError, InputNotFoundError
from pipeline.resources import CONFIG_DIR as CONFIG_DIR  # where the packaged YAML lives
from pipeline.resources import DEFAULT_CONFIG as DEFAULT_CONFIG
from pipeline.resources import REFERENCE_CODEBOOK as REFERENCE_CODEBOOK

# The embedding backends. `tfidf` is the old name of `hashed-ngrams` (hashed word and character
# n-grams, never IDF-weighted), still read in configs and run manifests.
BACKENDS = ("auto", "sentence-transformers", "onnx-int8", "hashed-ngrams")
BACKEND_ALIASES = {"tfidf": "hashed-ngrams"}


class IngestSettings(TypedDict):
    interviewer_names: list[str]
    encoding: str | None
    language: str


class SegmentSettings(TypedDict):
    unit: str
    window: int
    include_interviewer: bool
    fragment_policy: str
    fragment_min_chars: int
    fragment_min_chars_cjk: int


class EmbedSettings(TypedDict):
    backend: str
    model: str
    prefix: str | None
    batch_size: int
    max_seq_length: int | None
    cache_dir: str | None


class SuggestSettings(TypedDict):
    top_k: int
    threshold: float
    context: str
    turn_weight: float
    question_weight: float
    top_examples: int
    exclude_weight: float
    classifier_weight: float
    calibration: list[float] | None
    calibrations: dict[str, list[float]]  # model key -> calibration: open to new models


class DiscoverSettings(TypedDict):
    method: str
    context: str
    distance_threshold: float | None
    distance_thresholds: dict[str, float]  # model key -> threshold: open to new models
    min_cluster_size: int
    min_sources: int
    max_candidates: int
    hdbscan_min_samples: int | None
    hdbscan_components: int
    random_state: int
    exact_limit: int
    keywords: int
    exemplars: int
    min_words: float
    filler_margin: float
    filler_phrases: list[str]


class ReportSettings(TypedDict):
    quotes_per_code: int
    quote_max_chars: int
    quote_min_words: int
    attributes: list[str]
    max_attribute_values: int


class Config(TypedDict):
    ingest: IngestSettings
    segment: SegmentSettings
    embed: EmbedSettings
    suggest: SuggestSettings
    discover: DiscoverSettings
    report: ReportSettings


# Keys whose value is a mapping a user may extend (a calibration for their own model), not a
# section with a fixed set of keys.
OPEN_MAPPINGS = {("suggest", "calibrations"), ("discover", "distance_thresholds")}


def defaults() -> Config:
    if not DEFAULT_CONFIG.exists():
        raise InputNotFoundError("the default configuration is missing", path=DEFAULT_CONFIG,
                                 hint="reinstall precode (pip install precode, or pip install -e "
                                      ". in its source folder)")
    with DEFAULT_CONFIG.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return cast(Config, data)


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (),
                base: dict[str, Any] | None = None) -> Config:
    """The resolved configuration: defaults, then the file at `path`, then `overrides`.

    With `base` (a run's saved config), the file and overrides apply on top of it instead of
    the defaults, so changing one setting of a run keeps the others it was made with.
    """
    config: dict[str, Any] = dict(defaults())
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
    resolved = cast(Config, config)
    check_values(resolved)
    return resolved


def backend_name(backend: str) -> str:
    """A backend's current name (`tfidf` -> `hashed-ngrams`)."""
    return BACKEND_ALIASES.get(backend, backend)


# (section, key) -> (check, what it must be). Checked after every load, so a bad value fails
# before any stage runs; a library call that skips load_config gets the same checks here.
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
    ("suggest", "calibration"): (lambda v: v is None or _three_numbers(v),
                                 "null or three numbers: score, margin, bias"),
    ("suggest", "calibrations"): (lambda v: all(_three_numbers(c) for c in v.values()),
                                  "a mapping of model -> three numbers: score, margin, bias"),
    ("discover", "distance_threshold"): (lambda v: v is None or 0.0 < v <= 2.0,
                                         "null or in (0, 2] (cosine distance)"),
    ("discover", "distance_thresholds"): (
        lambda v: all(isinstance(t, (int, float)) and 0.0 < t <= 2.0 for t in v.values()),
        "a mapping of model -> a cosine distance in (0, 2]"),
    ("discover", "min_cluster_size"): (lambda v: v >= 2, "2 or more (a theme needs two segments)"),
    ("discover", "min_sources"): (lambda v: v >= 1, "1 or more"),
    ("discover", "max_candidates"): (lambda v: v >= 1, "1 or more"),
    ("discover", "hdbscan_min_samples"): (lambda v: v is None or v >= 1, "null or 1 or more"),
    ("discover", "hdbscan_components"): (lambda v: v >= 0, "0 or more"),
    ("discover", "exact_limit"): (lambda v: v >= 10, "10 or more (segments clustered exactly)"),
    ("discover", "keywords"): (lambda v: v >= 0, "0 or more"),
    ("discover", "exemplars"): (lambda v: v >= 1, "1 or more"),
    ("discover", "min_words"): (lambda v: v >= 0, "0 or more"),
    ("report", "quotes_per_code"): (lambda v: v >= 0, "0 or more"),
    ("report", "quote_max_chars"): (lambda v: v >= 1, "1 or more"),
    ("report", "quote_min_words"): (lambda v: v >= 0, "0 or more"),
    ("report", "max_attribute_values"): (lambda v: v >= 1, "1 or more"),
}
_CHOICES = {
    ("segment", "unit"): ("sentence", "turn", "window"),
    ("segment", "fragment_policy"): ("merge", "drop", "keep"),
    ("embed", "backend"): (*BACKENDS, *BACKEND_ALIASES),
    ("suggest", "context"): ("turn", "none"),
    ("discover", "method"): ("agglomerative", "hdbscan"),
    ("discover", "context"): ("turn", "none"),
}


def _holds(check: Any, value: Any) -> bool:
    try:
        return bool(check(value))
    except (TypeError, AttributeError):  # a value of the wrong type for a nullable key
        return False


def _three_numbers(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) == 3 and \
        all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)


def check_values(config: Config | dict[str, Any]) -> None:
    """Range and choice checks for the keys that have them; names the old backend name."""
    sections: dict[str, Any] = dict(config)
    for (section, key), (ok, expected) in _RANGES.items():
        value = sections.get(section, {}).get(key)
        if key in sections.get(section, {}) and not _holds(ok, value):
            raise ConfigError(f"'{section}.{key}' must be {expected}, got {value!r}",
                              hint="see configs/default.yaml")
    for (section, key), choices in _CHOICES.items():
        value = sections.get(section, {}).get(key)
        if key in sections.get(section, {}) and value not in choices:
            raise ConfigError(f"'{section}.{key}' must be one of {', '.join(choices)}, "
                              f"got {value!r}", hint="see configs/default.yaml")
    embed = sections.get("embed")
    if isinstance(embed, dict) and embed.get("backend") in BACKEND_ALIASES:
        embed["backend"] = backend_name(embed["backend"])


def _merge(base: dict[str, Any], update: dict[str, Any], origin: str, prefix: str) -> None:
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            valid = ", ".join(f"{prefix}{k}" for k in base)
            raise ConfigError(f"unknown configuration key {dotted!r} (from {origin})",
                              hint=f"valid keys here: {valid}")
        current = base[key]
        if tuple(dotted.split(".")) in OPEN_MAPPINGS:
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted!r} must be a mapping of model -> value, not "
                                  f"{value!r} (from {origin})", hint="see configs/default.yaml")
            base[key] = {**current, **copy.deepcopy(value)}
        elif isinstance(current, dict):
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
