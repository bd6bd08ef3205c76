"""The data that flows between stages.

Frozen dataclasses that round-trip through JSON (`to_dict` / `from_dict`). Every offset in
the system indexes `Source.text` in code points; `Segment` keeps the invariant
`source.text[segment.start:segment.end] == segment.text`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Record")


class Record:
    """JSON round trip for the frozen dataclasses below (tuples of records nest)."""

    _nested: ClassVar[dict[str, type[Record]]] = {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [v.to_dict() if isinstance(v, Record) else v for v in value]
            elif isinstance(value, Record):
                value = value.to_dict()
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        kwargs: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
        for name, value in data.items():
            nested = cls._nested.get(name)
            if nested is not None:
                value = tuple(nested.from_dict(v) for v in value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class TurnPart(Record):
    """One piece of a turn the transcript wrote in several (a repeated label, caption cues)."""

    start: int
    end: int
    time_start: float | None = None
    time_end: float | None = None


@dataclass(frozen=True)
class Turn(Record):
    """One speaker's stretch of talk; `start:end` spans the utterance (without the label).

    Consecutive turns of one named speaker are one turn, in every format (the rule of
    `pipeline.ingest.speakers.merge_same_speaker`): `parts` then keeps where each piece lies
    and its time, and `start:end` runs from the first piece to the last, so it may hold a
    repeated label between pieces. `runs(text)` gives the turn's text without those labels.
    """

    speaker: str
    role: str
    start: int
    end: int
    time_start: float | None = None  # seconds, from VTT/SRT cues or transcript timestamps
    time_end: float | None = None
    parts: tuple[TurnPart, ...] = ()  # empty: the turn is one piece, start:end

    _nested: ClassVar[dict[str, type[Record]]] = {"parts": TurnPart}

    def pieces(self) -> tuple[TurnPart, ...]:
        return self.parts or (TurnPart(self.start, self.end, self.time_start, self.time_end),)

    def runs(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the turn's continuous stretches of `text`: pieces with only
        whitespace between them (caption cues) are one stretch; a label between them
        (`Nurse K:` written again) separates two. A sentence never crosses a stretch."""
        runs: list[tuple[int, int]] = []
        for part in self.pieces():
            if runs and not text[runs[-1][1]:part.start].strip():
                runs[-1] = (runs[-1][0], part.end)
            else:
                runs.append((part.start, part.end))
        return runs

    def text_of(self, text: str) -> str:
        """The turn's words in `text`, its stretches joined by a line break (no labels)."""
        return "\n".join(text[s:e] for s, e in self.runs(text))


@dataclass(frozen=True)
class Source(Record):
    """One transcript, normalized: UTF-8, `\\n` newlines, NFC."""

    id: str
    name: str
    text: str
    turns: tuple[Turn, ...]
    language: str = "en"
    metadata: dict[str, Any] = field(default_factory=dict)

    _nested: ClassVar[dict[str, type[Record]]] = {"turns": Turn}

    def __hash__(self) -> int:
        return hash((self.id, self.text))


@dataclass(frozen=True)
class Segment(Record):
    """One unit to code. `text` is exactly `source.text[start:end]`."""

    id: str
    source_id: str
    start: int
    end: int
    text: str
    speaker: str
    role: str
    turn_index: int


@dataclass(frozen=True)
class Code(Record):
    id: str
    name: str
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Theme(Record):
    id: str
    name: str
    description: str
    codes: tuple[Code, ...]

    _nested: ClassVar[dict[str, type[Record]]] = {"codes": Code}


@dataclass(frozen=True)
class Codebook(Record):
    """A codebook; `editions` are the same codebook in other languages (the same ids), whose
    texts the zero-shot suggester uses beside this one's."""

    name: str
    version: str
    themes: tuple[Theme, ...]
    description: str = ""
    language: str = ""
    editions: tuple[Codebook, ...] = ()

    def codes(self) -> Iterator[tuple[Theme, Code]]:
        for theme in self.themes:
            for code in theme.codes:
                yield theme, code

    def code_ids(self) -> list[str]:
        return [code.id for _, code in self.codes()]

    def theme_of(self, code_id: str) -> str:
        for theme, code in self.codes():
            if code.id == code_id:
                return theme.id
        raise KeyError(code_id)


Codebook._nested = {"themes": Theme, "editions": Codebook}  # after the class: it nests itself


@dataclass(frozen=True)
class Evidence(Record):
    """Why a code was suggested: the nearest codebook example or coded segment."""

    text: str
    similarity: float
    origin: str  # "codebook:example", "codebook:definition", "coded:<segment id>"


@dataclass(frozen=True)
class Suggestion(Record):
    segment_id: str
    code_id: str | None
    score: float
    rank: int
    method: str
    evidence: tuple[Evidence, ...] = ()

    _nested: ClassVar[dict[str, type[Record]]] = {"evidence": Evidence}


@dataclass(frozen=True)
class Coding(Record):
    """A coded span `[start, end)` of one source, from a gold file, a QDPX import or review."""

    source_id: str
    start: int
    end: int
    code_id: str
    coder: str


@dataclass(frozen=True)
class Decision(Record):
    segment_id: str
    code_id: str | None
    verdict: str
    coder: str
    timestamp: str
    note: str = ""


def stable_id(*parts: object, length: int = 12) -> str:
    """A short id that depends only on its parts, so the same input gives the same ids."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return digest[:length]
