"""What an export needs from a run folder, read and checked in one place.

Sources and segments come through `RunFolder`; the codebook is the run's `codebook.yaml`
(else the reference codebook); `suggestions.jsonl`, `codings.jsonl` and `decisions.jsonl`
are optional. Decisions are folded by `pipeline.decisions` (re-exported here): a `retract`
cancels the same coder's latest earlier decision on the same segment and code, and the latest
decision left is the one that counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.codebook import load_codebook
from pipeline.config import REFERENCE_CODEBOOK
from pipeline.decisions import CONFIRMING, VERDICTS, confirmed, fold_decisions
from pipeline.errors import RunFolderError
from pipeline.model import Codebook, Coding, Decision, Evidence, Segment, Source
from pipeline.runs import RunFolder, json_lines

__all__ = ["CONFIRMING", "SUGGESTION_FIELDS", "VERDICTS", "ExportResult", "RunView",
           "SuggestionLine", "confirmed", "fold_decisions", "load_run", "read_suggestions"]

SUGGESTION_FIELDS = ("source", "segment_id", "start", "end", "speaker", "role", "text", "code",
                     "score", "rank", "method", "evidence")


@dataclass
class ExportResult:
    """What an export wrote: the file, its format, counts to report, and warnings."""

    path: Path
    format: str
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SuggestionLine:
    """One line of `suggestions.jsonl`; `code` is None when no code reached the threshold."""

    source: str
    segment_id: str
    start: int
    end: int
    speaker: str
    role: str
    text: str
    code: str | None
    score: float
    rank: int
    method: str
    evidence: tuple[Evidence, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuggestionLine:
        missing = [name for name in SUGGESTION_FIELDS if name not in data]
        if missing:
            raise ValueError(f"missing fields {missing}")
        score = float(data["score"])
        if not (0.0 <= score <= 1.0) or math.isnan(score):
            raise ValueError(f"score {score} is outside [0, 1]")
        code = data["code"]
        return cls(
            source=str(data["source"]), segment_id=str(data["segment_id"]),
            start=int(data["start"]), end=int(data["end"]), speaker=str(data["speaker"] or ""),
            role=str(data["role"] or ""), text=str(data["text"]),
            code=None if code is None else str(code), score=score, rank=int(data["rank"]),
            method=str(data["method"] or ""),
            evidence=tuple(Evidence(text=str(e["text"]), similarity=float(e["similarity"]),
                                    origin=str(e["origin"])) for e in data["evidence"] or ()),
        )


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
    _by_key: dict[str, Source] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {s.name: s for s in self.sources} | {s.id: s for s in self.sources}

    @property
    def name(self) -> str:
        return self.folder.path.resolve().name

    def source_for(self, key: str) -> Source | None:
        """A source by id or by name (suggestion lines name their source)."""
        return self._by_key.get(key)


def load_run(path: str | Path, need_segments: bool = False) -> RunView:
    folder = RunFolder(path)
    manifest = folder.manifest()
    codebook_path = folder.file("codebook.yaml")
    codebook = load_codebook(codebook_path if codebook_path.exists() else REFERENCE_CODEBOOK)
    has_segments = folder.file("segments.jsonl").exists()
    if need_segments and not has_segments:
        folder.segments()  # raises the usual "segments.jsonl is missing" error
    return RunView(
        folder=folder, manifest=manifest, codebook=codebook, sources=folder.sources(),
        segments=folder.segments() if has_segments else [],
        suggestions=read_suggestions(folder),
        codings=folder.read_jsonl("codings.jsonl", Coding)
        if folder.file("codings.jsonl").exists() else [],
        decisions=folder.read_jsonl("decisions.jsonl", Decision)
        if folder.file("decisions.jsonl").exists() else [],
    )


def read_suggestions(folder: RunFolder) -> list[SuggestionLine]:
    """The lines of `suggestions.jsonl` (none if the suggest stage has not run)."""
    path = folder.file("suggestions.jsonl")
    if not path.exists():
        return []
    out = []
    for number, data in json_lines(path):
        try:
            out.append(SuggestionLine.from_dict(data))
        except (TypeError, ValueError, KeyError) as exc:
            raise RunFolderError(
                f"cannot read this suggestion ({exc})", path=path, line=number,
                hint="re-run `precode suggest` to write the file again") from exc
    return out
