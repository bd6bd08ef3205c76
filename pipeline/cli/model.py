"""`precode model prepare`: build the quantized ONNX export of the embedding model, offline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.options import ConfigOption, SetOption
from pipeline.config import load_config

app = typer.Typer(help="Prepare embedding models.", no_args_is_help=True, rich_markup_mode=None)


@app.command("prepare")
def prepare_command(
    model: Annotated[str | None, typer.Option(
        help="Model name or local folder (default: embed.model of the config).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Export again.")] = False,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Export the embedding model to int8 ONNX once, into the cache folder, for --backend onnx-int8.

    Runs offline from the local model files; `precode run --backend onnx-int8` also does this
    on first use.

    Example: precode model prepare --model all-MiniLM-L6-v2
    """
    from pipeline.cli import stdout
    from pipeline.embed import DEFAULT_CACHE, cache_dir
    from pipeline.embed.onnx import OnnxInt8Embedder

    section = load_config(config, list(set_ or []))["embed"]
    embedder = OnnxInt8Embedder(model or section["model"], cache_dir(section) or DEFAULT_CACHE,
                                max_seq_length=section["max_seq_length"])
    started = time.perf_counter()
    path = embedder.prepare(force=force)
    size = Path(path).stat().st_size / 1e6
    stdout.print(f"int8 ONNX model ready in {time.perf_counter() - started:.1f}s: {path} "
                 f"({size:.0f} MB). Use it: --backend onnx-int8")
