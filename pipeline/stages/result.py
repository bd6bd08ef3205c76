"""What a stage reports back: whether it ran, how long, what it counted, and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StageResult:
    stage: str
    skipped: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
