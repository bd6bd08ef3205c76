"""Where the command line prints: `stdout` for results, `stderr` for progress, warnings and
errors. Rich consoles that never read a file name or a transcript line as markup."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False, soft_wrap=True)


def warn(messages: Iterable[str]) -> None:
    """Print warnings on stderr; their text (file names, quotes) is never read as markup."""
    for message in messages:
        stderr.print(f"[yellow]Warning:[/] {escape(message)}")
