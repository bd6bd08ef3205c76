"""Gold codings from a CSV file (`source,start,end,code,coder`) or a `codings.jsonl`, checked
against the run.

Every row is checked: a source the run does not have, a code the codebook does not have,
offsets outside the text or `start >= end` are errors naming the row, because a silently
dropped row would make every figure computed from the file wrong. Exact duplicate rows and
rows with every field empty (a spreadsheet's trailing ",,,,") are skipped with a warning:
they change nothing but are worth knowing about.

`pipeline.gold.read_gold(path, ...)` picks the reader by the file's extension.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import GoldCodingError, InputNotFoundError
from pipeline.records import Codebook, Coding, Source

COLUMNS = ("source", "start", "end", "code", "coder")


@dataclass
class GoldSet:
    codings: list[Coding]
    warnings: list[str] = field(default_factory=list)
    lines: dict[Coding, int] = field(default_factory=dict)  # the file line of each coding

    @property
    def coders(self) -> list[str]:
        return sorted({c.coder for c in self.codings})

    def by_coder(self, coder: str) -> list[Coding]:
        return [c for c in self.codings if c.coder == coder]


def read_gold_csv(path: str | Path, sources: Sequence[Source], codebook: Codebook | None = None,
                  coders: Iterable[str] | None = None) -> GoldSet:
    """Read and validate a gold CSV against the run's sources (and codebook, if given)."""
    path = _existing(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise GoldCodingError(f"missing column(s): {', '.join(missing)}", path=path, line=1,
                                      hint="the header must be " + ",".join(COLUMNS))
            rows = [(line, {k.strip(): (v or "").strip() for k, v in raw.items() if k})
                    for line, raw in enumerate(reader, 2)]
    except UnicodeDecodeError as exc:
        raise GoldCodingError("the gold file is not UTF-8", path=path,
                              hint="save it as 'CSV UTF-8'") from exc
    return _validated(path, rows, sources, codebook, coders)


def read_gold_jsonl(path: str | Path, sources: Sequence[Source], codebook: Codebook | None = None,
                    coders: Iterable[str] | None = None) -> GoldSet:
    """Gold codings from a `codings.jsonl` (one `Coding` per line), as `precode import` writes."""
    path = _existing(path)
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
                rows.append((line, {"source": str(data["source_id"]), "start": str(data["start"]),
                                    "end": str(data["end"]), "code": str(data["code_id"]),
                                    "coder": str(data["coder"])}))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise GoldCodingError(f"not a coding record ({exc})", path=path, line=line,
                                      hint="each line must be a JSON object with source_id, "
                                           "start, end, code_id, coder") from None
    return _validated(path, rows, sources, codebook, coders)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such gold codings file", path=path,
                                 hint="give a CSV with columns " + ",".join(COLUMNS))
    return path


def _validated(path: Path, rows: Iterable[tuple[int, dict[str, str]]], sources: Sequence[Source],
               codebook: Codebook | None, coders: Iterable[str] | None) -> GoldSet:
    """Check every row against the run; skip empty and duplicate rows with a warning."""
    by_name: dict[str, Source] = {}
    for s in sources:
        by_name[s.name] = s
        by_name[s.id] = s
    known_codes = set(codebook.code_ids()) if codebook else None
    codings: list[Coding] = []
    lines: dict[Coding, int] = {}
    seen: set[tuple[str, int, int, str, str]] = set()
    warnings: list[str] = []
    for line, row in rows:
        if not any(row.values()):
            warnings.append(f"{path}, line {line}: empty row skipped")
            continue
        source = by_name.get(row["source"])
        if source is None:
            raise GoldCodingError(f"unknown source {row['source']!r}", path=path, line=line,
                                  hint="use a source name as ingested (see sources.jsonl), or "
                                       "remove the rows of transcripts this run does not hold; "
                                       f"known: {', '.join(sorted(s.name for s in sources)[:8])}")
        try:
            start, end = int(row["start"]), int(row["end"])
        except ValueError:
            raise GoldCodingError(f"start/end must be whole numbers, got {row['start']!r}, "
                                  f"{row['end']!r}", path=path, line=line,
                                  hint="offsets are character positions in the source text"
                                  ) from None
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
        coding = Coding(source.id, start, end, row["code"], row["coder"])
        codings.append(coding)
        lines[coding] = line
    gold = GoldSet(codings, warnings, lines)
    if coders is not None:
        wanted = list(coders)
        unknown = [c for c in wanted if c not in gold.coders]
        if unknown:
            raise GoldCodingError(f"no codings by coder(s) {', '.join(unknown)}", path=path,
                                  hint=f"coders in this file: {', '.join(gold.coders) or 'none'}")
        kept = [c for c in codings if c.coder in wanted]
        gold = GoldSet(kept, warnings, {c: lines[c] for c in kept})
    return gold
