"""What discovery finds, as `RUN/discovery.json` holds it: candidates with their evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.run_folder.codes import RULE

FORMAT = 1


@dataclass(frozen=True)
class Exemplar:
    segment_id: str
    source: str
    speaker: str
    text: str
    similarity: float  # to the cluster's centre


@dataclass(frozen=True)
class NearestCode:
    """The existing code the suggester finds nearest to a cluster's segments."""

    code: str
    theme: str
    name: str
    score: float  # mean calibrated score of the cluster's segments for the code
    share: float  # share of the cluster's segments whose best code it is
    similarity: float  # mean cosine similarity of the segments to the code's prototype
    verdict: str  # "variant" (maybe missed instances of the code) | "new"


@dataclass(frozen=True)
class Candidate:
    id: str  # candidate_01, ...
    size: int
    cohesion: float  # mean similarity of its segments to its centre
    sources: dict[str, int]  # source name -> segments
    speakers: list[dict[str, Any]]  # speaker, source, segments, attributes
    keywords: list[str]
    exemplars: list[Exemplar]
    nearest: NearestCode | None
    segment_ids: list[str]


@dataclass
class Discovery:
    run: str
    candidates: list[Candidate]
    counts: dict[str, int]
    filtered: dict[str, list[str]]  # reason -> a few of the segments it left out
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    clustered_ids: list[str] = field(default_factory=list)  # not in discovery.json

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "run": self.run, "rule": RULE, "counts": self.counts,
                "filtered_examples": self.filtered, "settings": self.settings,
                "notes": self.notes, "warnings": self.warnings,
                "seconds": round(self.seconds, 3),
                "candidates": [asdict(c) for c in self.candidates]}
