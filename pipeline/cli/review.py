"""`precode review`: confirm, reject or correct suggestions in the terminal, or import a sheet."""

from __future__ import annotations

import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import ConfigOption, SetOption
from pipeline.cli.progress import embedding_progress
from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.review import ORDERS, ReviewFilter, ReviewSession, import_sheet, load_review
from pipeline.review.terminal import review_loop
from pipeline.run_folder import RunFolder


def review_command(
    run: Annotated[Path, typer.Argument(help="A run folder with segments (and suggestions).")],
    coder: Annotated[str, typer.Option(help="Your name: every decision is signed with it.")],
    order: Annotated[str, typer.Option(
        help="uncertain (the model's least sure first), document (reading order) or "
             "random.")] = "uncertain",
    seed: Annotated[int, typer.Option(help="Seed of --order random.")] = 0,
    source: Annotated[list[str] | None, typer.Option(
        metavar="NAME", help="Review only this source, by name or id (repeatable).")] = None,
    code: Annotated[list[str] | None, typer.Option(
        metavar="CODE", help="Only segments with this code among their best three "
                             "(repeatable).")] = None,
    min_score: Annotated[float | None, typer.Option(
        help="Only segments whose best score is at least this.")] = None,
    max_score: Annotated[float | None, typer.Option(
        help="Only segments whose best score is at most this.")] = None,
    retrain_every: Annotated[int, typer.Option(
        help="Refit the model on your decisions every N reviewed segments, in the "
             "background (0: never).")] = 0,
    show_others: Annotated[bool, typer.Option(
        "--show-others", help="Show other coders' decisions (default: blind coding).")
    ] = False,
    from_sheet: Annotated[Path | None, typer.Option(
        help="Import the accept/reject/relabel columns of a filled-in review sheet "
             "(.csv or .xlsx from `precode export`) instead of reviewing here.")] = None,
    head: Annotated[Path | None, typer.Option(
        "--head", "--model",
        help="A trained head (default: the one the run was suggested with, if any); --model "
             "is its old name.")] = None,
    codebook: Annotated[Path | None, typer.Option(
        help="Codebook YAML (default: the run's codebook.yaml, else the reference).")] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Review suggestions segment by segment; each decision is saved the moment it is made.

    Shows each segment in its turn with the turns around it, the three best codes with
    scores and evidence, and your progress. Keys (then Enter): 1-3 accept a suggestion
    (several: 1 3), r reject all, c choose another code (c hope), n add a note, s skip,
    u undo, q quit. Decisions go to RUN/decisions.jsonl (append-only, fsynced); run the same
    command again to resume. Other coders' decisions are hidden unless --show-others.

    Example: precode review runs/demo --coder A --retrain-every 25
    """
    if from_sheet is not None:
        result = import_sheet(run, from_sheet, coder, codebook=codebook)
        warn(result.warnings)
        stdout.print(f"Read {result.rows} rows of {from_sheet}: {result.decided} with a "
                     f"decision by {coder} ({result.unchanged} already in the log), "
                     f"{result.empty} without one. Appended {result.appended} decision(s) "
                     f"to {Path(run) / 'decisions.jsonl'}.", markup=False)
        return
    if order not in ORDERS:
        raise ConfigError(f"--order {order!r} is not an order",
                          hint=f"use one of: {', '.join(ORDERS)}")
    manifest = RunFolder(run).manifest()
    resolved = manifest["config"]
    if config or set_:
        fresh = load_config(config, list(set_ or []), base=resolved)
        resolved = {**resolved, "embed": fresh["embed"], "suggest": fresh["suggest"]}
    with embedding_progress(False) as progress:
        data = load_review(run, resolved, codebook=codebook, head=head, progress=progress)
    where = ReviewFilter(tuple(source or ()), tuple(code or ()), min_score, max_score)
    session = ReviewSession(data, coder, order=order, seed=seed, where=where,
                            retrain_every=retrain_every, blind=not show_others)
    stdout.print(f"Reviewing {run} as {coder}: {session.done} reviewed, {session.left} to go "
                 f"({order} order; scores: {data.scored.method}). Decisions are saved as you "
                 "make them; q quits, ? helps.", markup=False)
    _line_editing()
    why = "interrupted"
    try:
        why = review_loop(session, stdout, _ask)
    finally:
        session.close()
        s = session.summary()
        undone = f", {s['undone']} undone" if s["undone"] else ""
        stdout.print(f"{'Stopped' if why == 'interrupted' else 'Done'}: {s['segments_decided']}"
                     f" segment(s) decided in this session{undone}; {s['decisions_appended']} "
                     f"line(s) appended to {s['log']}. {coder} has reviewed {s['reviewed']} "
                     f"segment(s); {s['left']} left here. Resume: precode review {run} "
                     f"--coder {coder}", markup=False)


def _ask(prompt: str) -> str:
    """A plain line from stdin (with line editing in a terminal); EOFError at the end."""
    return input(prompt)


def _line_editing() -> None:
    """Arrow keys and history at the prompt, where the platform has readline."""
    if sys.stdin.isatty():
        with suppress(ImportError):
            import readline  # noqa: F401  (importing it is what turns it on for input())
