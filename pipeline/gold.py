"""Gold codings from a CSV file (`source,start,end,code,coder`), checked against the run.

Every row is checked: a source the run does not have, a code the codebook does not have,
offsets outside the text or `start >= end` are errors naming the row, because a silently
dropped row would make every figure computed from the file wrong. Exact duplicate rows are
skipped with a warning (they change nothing but are worth knowing about).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import GoldCodingError, InputNotFoundError
from pipeline.model import Codebook, Coding, Source

COLUMNS = ("source", "start", "end", "code", "coder")


@dataclass
class GoldSet:
    codings: list[Coding]
    warnings: list[str] = field(default_factory=list)

    @property
    def coders(self) -> list[str]:
        return sorted({c.coder for c in self.codings})

    def by_coder(self, coder: str) -> list[Coding]:
        return [c for c in self.codings if c.coder == coder]


def read_gold_csv(path: str | Path, sources: Sequence[Source], codebook: Codebook | None = None,
                  coders: Iterable[str] | None = None) -> GoldSet:
    """Read and validate a gold file against the run's sources (and codebook, if given)."""
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such gold codings file", path=path,
                                 hint="give a CSV with columns " + ",".join(COLUMNS))
    by_name: dict[str, Source] = {}
    for s in sources:
        by_name[s.name] = s
        by_name[s.id] = s
    known_codes = set(codebook.code_ids()) if codebook else None
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise GoldCodingError(f"missing column(s): {', '.join(missing)}", path=path, line=1,
                                      hint="the header must be " + ",".join(COLUMNS))
            rows = list(enumerate(reader, 2))
    except UnicodeDecodeError as exc:
        raise GoldCodingError("the gold file is not UTF-8", path=path,
                              hint="save it as 'CSV UTF-8'") from exc
    codings: list[Coding] = []
    seen: set[tuple[str, int, int, str, str]] = set()
    warnings: list[str] = []
    for line, raw in rows:
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        source = by_name.get(row["source"])
        if source is None:
            raise GoldCodingError(f"unknown source {row['source']!r}", path=path, line=line,
                                  hint="use a source name as ingested (see sources.jsonl); "
                                       f"known: {', '.join(sorted(s.name for s in sources)[:8])}")
        try:
            start, end = int(row["start"]), int(row["end"])
        except ValueError:
            raise GoldCodingError(f"start/end must be whole numbers, got {row['start']!r}, "
                                  f"{row['end']!r}", path=path, line=line,
                                  hint="offsets are character positions in the source text") from None
        if not 0 <= start < end <= len(source.text):
            raise GoldCodingError(
                f"offsets {start}-{end} are outside {source.name!r} (0-{len(source.text)}) "
                "or start >= end", path=path, line=line,
                hint="offsets index the normalized text in sources.jsonl, half-open [start, end)")
        if known_codes is not None and row["code"] not in known_codes:
            raise GoldCodingError(f"unknown code {row['code']!r}", path=path, line=line,
                                  hint="use a code id of the run's codebook "
                                       "(precode codebook show FILE)")
        if not row["coder"]:
            raise GoldCodingError("the coder is empty", path=path, line=line,
                                  hint="name the coder (e.g. A) on every row")
        key = (source.id, start, end, row["code"], row["coder"])
        if key in seen:
            warnings.append(f"{path}, line {line}: duplicate row skipped")
            continue
        seen.add(key)
        codings.append(Coding(source.id, start, end, row["code"], row["coder"]))
    gold = GoldSet(codings, warnings)
    if coders is not None:
        wanted = list(coders)
        unknown = [c for c in wanted if c not in gold.coders]
        if unknown:
            raise GoldCodingError(f"no codings by coder(s) {', '.join(unknown)}", path=path,
                                  hint=f"coders in this file: {', '.join(gold.coders) or 'none'}")
        gold = GoldSet([c for c in codings if c.coder in wanted], warnings)
    return gold
