"""`RUN/codings.jsonl`: coded spans brought in from a .qdpx import, one `Coding` per line.

Human work, like the review log: no stage ever removes or rewrites it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.records import Coding
from pipeline.run_folder.folder import RunFolder

NAME = "codings.jsonl"


def read_codings(run: RunFolder) -> list[Coding]:
    """The run's coded spans, every line checked; none when the file is absent."""
    return run.read_jsonl(NAME, Coding) if run.file(NAME).exists() else []


def write_codings(run: RunFolder, codings: Iterable[Coding]) -> int:
    return run.write_jsonl(NAME, codings)
