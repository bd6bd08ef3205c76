"""A run folder in memory, as exports and the report read it.

Each file comes through the module that owns it (`pipeline.run_folder.*`), with that
module's checks: sources and segments through `RunFolder`, the codebook as
`resolve_codebook` finds it, and the optional `suggestions.jsonl`, `codings.jsonl` and
`decisions.jsonl`. Suggestion lines (a segment's text and evidence again, for each code) are
the largest part of a run: `load_run(..., stream_suggestions=True)` leaves them in the file,
and `RunView.suggestion_lines()` reads them one at a time whenever they are wanted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.records import Codebook, Coding, Decision, Segment, Source
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.run_folder.codings import read_codings
from pipeline.run_folder.decisions import LOG_NAME, DecisionLog
from pipeline.run_folder.folder import SEGMENTS, RunFolder
from pipeline.run_folder.suggestions import SuggestionLine, iter_suggestions, read_suggestions

INCLUDE = ("suggestions", "decisions", "both")  # what an export may carry as codings


@dataclass
class ExportResult:
    """What an export wrote: the file, its format, counts to report, and warnings."""

    path: Path
    format: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunView:
    """A run folder's contents as the exporters use them."""

    folder: RunFolder
    manifest: dict[str, Any]
    codebook: Codebook
    sources: list[Source]
    segments: list[Segment]
    suggestions: list[SuggestionLine]
    codings: list[Coding]
    decisions: list[Decision]
    streamed: bool = False  # suggestions left in the file: `suggestions` is empty
    _by_key: dict[str, Source] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {s.name: s for s in self.sources} | {s.id: s for s in self.sources}

    @property
    def name(self) -> str:
        return self.folder.path.resolve().name

    def source_for(self, key: str) -> Source | None:
        """A source by id or by name (suggestion lines name their source)."""
        return self._by_key.get(key)

    def suggestion_lines(self) -> Iterator[SuggestionLine]:
        """The suggestion lines in file order: those in memory, or read one at a time from
        the file when the view was loaded with `stream_suggestions` (each call reads anew)."""
        return iter_suggestions(self.folder) if self.streamed else iter(self.suggestions)

    def has_suggestions(self) -> bool:
        """Whether the run has any suggestion line (a streamed view reads one at most)."""
        return next(self.suggestion_lines(), None) is not None


def load_run(path: str | Path, need_segments: bool = False,
             stream_suggestions: bool = False) -> RunView:
    """The run's files in memory; with `stream_suggestions`, all but the suggestion lines
    (read through `RunView.suggestion_lines()`), so memory does not hold each segment twice."""
    folder = RunFolder(path)
    manifest = folder.manifest()
    _, codebook = resolve_codebook(folder)
    has_segments = folder.file(SEGMENTS).exists()
    if need_segments and not has_segments:
        folder.segments()  # raises the usual "segments.jsonl is missing" error
    segments = folder.segments() if has_segments else []
    return RunView(
        folder=folder, manifest=manifest, codebook=codebook, sources=folder.sources(),
        segments=segments, suggestions=[] if stream_suggestions else read_suggestions(folder),
        codings=read_codings(folder), decisions=DecisionLog(folder.file(LOG_NAME)).read(),
        streamed=stream_suggestions,
    )
