"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="A YAML file overriding keys of configs/default.yaml."),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE",
                 help="Override one config key, e.g. --set segment.unit=turn (repeatable)."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Redo the stage even if unchanged.")]
HeadOption = Annotated[
    Path | None,
    typer.Option("--head", "--model",
                 help="A trained head from `precode train` (default: zero-shot). --model is its "
                      "old name."),
]
ThresholdOption = Annotated[
    float | None, typer.Option(help="Calibrated score a code needs to be suggested.")]
BackendOption = Annotated[
    str | None,
    typer.Option(help="Embedding backend: auto, onnx-int8, sentence-transformers or "
                      "hashed-ngrams (old name: tfidf)."),
]
JobsOption = Annotated[
    int,
    typer.Option("--jobs", "-j", min=0,
                 help="Worker processes that read and segment transcripts at once (0: one per "
                      "CPU). The output is the same whatever the number."),
]
