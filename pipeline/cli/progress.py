"""A progress bar on stderr for long embedding work; silent when not a terminal or --quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from pipeline.cli.console import stderr
from pipeline.config import EmbedSettings
from pipeline.embed import unprepared


@contextmanager
def embedding_progress(quiet: bool, label: str = "Embedding"
                       ) -> Iterator[Callable[[int, int], None] | None]:

    if quiet or not stderr.is_terminal:
        yield None
        return
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=stderr,
                  transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def announce_preparation(section: EmbedSettings, quiet: bool) -> None:
    """Say why the first run with a model waits: its files are built once (about 30 s)."""
    what = None if quiet else unprepared(section)
    if what:
        stderr.print(f"First use of the embedding model: {what} (once, about 30 s; "
                     "`precode model prepare` does this ahead of time).")
