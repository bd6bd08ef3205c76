"""`precode serve`: review suggestions in a browser, in the transcript as it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stderr, stdout, warn
from pipeline.cli.options import ConfigOption, SetOption
from pipeline.cli.progress import embedding_progress
from pipeline.config import load_config
from pipeline.review.server import serve_run
from pipeline.run_folder import RunFolder


def serve_command(
    run: Annotated[Path, typer.Argument(help="A run folder with segments and suggestions.")],
    coder: Annotated[str | None, typer.Option(
        help="Review as this coder (default: each browser signs in with a name).")] = None,
    host: Annotated[str, typer.Option(
        help="Address to listen on. The default is this machine only; 0.0.0.0 lets the "
             "network in (a warning is printed).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    open_browser: Annotated[bool, typer.Option(
        "--open", help="Open the page in the default browser.")] = False,
    retrain_every: Annotated[int, typer.Option(
        help="Refit the head on each coder's decisions every N reviewed segments, in the "
             "background (0: never).")] = 0,
    show_others: Annotated[bool, typer.Option(
        "--show-others", help="Show other coders' decisions (default: blind coding).")
    ] = False,
    head: Annotated[Path | None, typer.Option(
        "--head", "--model",
        help="A trained head (default: the one the run was suggested with, if any).")] = None,
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the run's codebook.yaml, else the reference).")] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Review suggestions in a browser: the transcript with its suggested codes highlighted.

    Starts a local web server and prints its address, with a token that is the key to it
    (keep it private). Keys as in precode review: 1-3 accept, r reject, c correct, n note,
    u undo, j/k next and previous. Decisions go to the same RUN/decisions.jsonl as the
    terminal review, the moment they are made. Ctrl-C stops the server.

    Example: precode serve runs/demo --coder A --open
    """
    resolved = RunFolder(run).manifest()["config"]
    if config or set_:
        fresh = load_config(config, list(set_ or []), base=resolved)
        resolved = {**resolved, "embed": fresh["embed"], "suggest": fresh["suggest"]}

    def announce(url: str) -> None:
        stdout.print(f"Reviewing {run} in the browser. Open:\n  {url}\n(the token in it is "
                     "the key to the server: keep it private). Ctrl-C stops.", markup=False)

    with embedding_progress(False) as progress:
        serve_run(run, coder=coder, host=host, port=port, open_browser=open_browser,
                  config=resolved, head=head, codebook=codebook, retrain_every=retrain_every,
                  blind=not show_others, progress=progress, announce=announce,
                  warn=lambda message: warn([message]))
    stderr.print("Stopped.", markup=False)
