"""`RUN/suggestions.jsonl` (the contract) and `RUN/suggestions.csv` (for spreadsheets).

`suggestions.jsonl` has one line per suggested (segment, code) with fields exactly
`source, segment_id, start, end, speaker, role, text, code, score, rank, method, evidence`;
a segment whose best code does not reach the threshold gets one line with `code: null`, its
best score and that code's evidence. `suggestions.csv` has one row per segment: the codes that
reached the threshold (`suggested`), then the top codes and scores whatever the threshold,
for reading in a spreadsheet (UTF-8 with a BOM, so Excel shows Chinese text).

This module is the only reader and writer of both files: every reader gets the same checks
and the same error text.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

from pipeline.errors import RunFolderError
from pipeline.records import Codebook, Evidence, Segment, Suggestion
from pipeline.run_folder.folder import RunFolder, atomic_write, json_lines

JSONL = "suggestions.jsonl"
CSV = "suggestions.csv"
FIELDS = ("source", "segment_id", "start", "end", "speaker", "role", "text", "code", "score",
          "rank", "method", "evidence")
# A cell starting with one of these is a formula to Excel and LibreOffice: a transcript line
# "=HYPERLINK(...)" must stay text. A leading apostrophe makes it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A spreadsheet cell that is never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


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
        missing = [name for name in FIELDS if name not in data]
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


def suggestion_row(item: Suggestion, segment: Segment, source_name: str) -> dict[str, object]:
    """The jsonl contract: one flat record per suggestion, with the segment's context."""
    return {
        "source": source_name,
        "segment_id": segment.id,
        "start": segment.start,
        "end": segment.end,
        "speaker": segment.speaker,
        "role": segment.role,
        "text": segment.text,
        "code": item.code_id,
        "score": item.score,
        "rank": item.rank,
        "method": item.method,
        "evidence": [e.to_dict() for e in item.evidence],
    }


def csv_header(top_k: int) -> list[str]:
    header = ["source", "segment_id", "speaker", "text", "suggested"]
    for r in range(1, top_k + 1):
        header += [f"code_{r}", f"score_{r}"]
    return header


def csv_row(segment: Segment, source_name: str, passing: Sequence[str],
            top: Sequence[tuple[str, float]]) -> list[object]:
    """A segment's row: the codes that passed the threshold, then the top codes with scores."""
    row: list[object] = [safe_cell(source_name), safe_cell(segment.id),
                         safe_cell(segment.speaker), safe_cell(segment.text), "; ".join(passing)]
    for code, score in top:
        row += [code, f"{score:.3f}"]
    return row


class SuggestionWriter:
    """Writes both files at once, segment by segment, each atomically: a stage that fails or
    is interrupted leaves the previous files (or none), never half of new ones."""

    def __init__(self, jsonl: IO[str], sheet: IO[str], top_k: int) -> None:
        self._jsonl = jsonl
        self._sheet = csv.writer(sheet)
        sheet.write("\ufeff")
        self._sheet.writerow(csv_header(top_k))

    @classmethod
    def open(cls, folder: RunFolder, top_k: int, stack: ExitStack) -> SuggestionWriter:
        """A writer over the run's two files, closed (and renamed into place) by `stack`."""
        jsonl = stack.enter_context(atomic_write(folder.file(JSONL)))
        sheet = stack.enter_context(atomic_write(folder.file(CSV)))
        return cls(jsonl, sheet, top_k)

    def write(self, segment: Segment, source_name: str, items: Sequence[Suggestion],
              top: Sequence[tuple[str, float]]) -> None:
        """One segment: its suggestions (lines of the jsonl) and its spreadsheet row."""
        for item in items:
            self._jsonl.write(json.dumps(suggestion_row(item, segment, source_name),
                                         ensure_ascii=False) + "\n")
        passing = [item.code_id for item in items if item.code_id]
        self._sheet.writerow(csv_row(segment, source_name, passing, top))


def read_suggestions(folder: RunFolder, segments: Sequence[Segment] | None = None,
                     codebook: Codebook | None = None,
                     required: bool = False) -> list[SuggestionLine]:
    """The lines of `suggestions.jsonl`, every one checked (against the run's segments and
    codebook if given). No file gives no lines, unless `required`."""
    return list(iter_suggestions(folder, segments, codebook, required))


def iter_suggestions(folder: RunFolder, segments: Sequence[Segment] | None = None,
                     codebook: Codebook | None = None,
                     required: bool = False) -> Iterator[SuggestionLine]:
    path = folder.file(JSONL)
    if not path.exists():
        if required:
            raise RunFolderError(f"{JSONL} is missing: this run has no suggestions yet",
                                 path=folder.path,
                                 hint=f"run `precode suggest {folder.path}` first")
        return
    known_segments = {s.id for s in segments} if segments is not None else None
    known_codes = set(codebook.code_ids()) if codebook is not None else None
    for number, data in json_lines(path):
        try:
            item = SuggestionLine.from_dict(data)
        except (TypeError, ValueError, KeyError) as exc:
            raise RunFolderError(f"cannot read this suggestion ({exc})", path=path, line=number,
                                 hint="re-run `precode suggest` to write the file again") from exc
        if known_segments is not None and item.segment_id not in known_segments:
            raise RunFolderError(
                f"segment {item.segment_id!r} is not in segments.jsonl", path=path, line=number,
                hint=f"the suggestions are older than the segments: `precode suggest "
                     f"{folder.path} --force`")
        if known_codes is not None and item.code is not None and item.code not in known_codes:
            raise RunFolderError(
                f"code {item.code!r} is not in the codebook", path=path, line=number,
                hint="use the codebook the run was suggested with (--codebook), or re-run "
                     f"`precode suggest {folder.path} --force`")
        yield item
