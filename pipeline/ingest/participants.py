"""Participant metadata (`--participants participants.csv`) attached to sources.

The CSV has a `source` column (file name, with or without extension), a `speaker` column,
or both, plus attribute columns (profession, organization, years of experience...). Rows with
a speaker go to `source.metadata["speakers"][speaker]`; rows without one describe the whole
source (`source.metadata["attributes"]`). Rows that match no source are reported, not dropped
silently.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path, PurePosixPath

from pipeline.errors import InputNotFoundError, MetadataError
from pipeline.model import Source


def attach_participants(sources: list[Source], path: str | Path) -> tuple[list[Source], list[str]]:
    """Sources with metadata attached, and warnings for rows that matched nothing."""
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError("no such participants file", path=path,
                                 hint="check the path given to --participants")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = [c.strip() for c in (reader.fieldnames or [])]
    except UnicodeDecodeError as exc:
        raise MetadataError("the participants file is not UTF-8", path=path,
                            hint="save it from your spreadsheet as 'CSV UTF-8'") from exc
    keys = [c for c in ("source", "speaker") if c in columns]
    attributes = [c for c in columns if c not in ("source", "speaker") and c]
    if not keys:
        raise MetadataError("the participants file needs a 'source' or 'speaker' column",
                            path=path, line=1,
                            hint=f"found columns: {', '.join(columns) or '(none)'}")
    if not attributes:
        raise MetadataError("the participants file has no attribute columns", path=path, line=1,
                            hint="add columns such as profession, organization, years_experience")

    by_name = {}
    for s in sources:
        by_name[s.name] = s.id
        by_name[PurePosixPath(s.name).stem] = s.id
    speakers_of = {s.id: {t.speaker for t in s.turns} for s in sources}
    attached: dict[str, dict[str, object]] = {s.id: {} for s in sources}
    warnings: list[str] = []
    for number, row in enumerate(rows, 2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        values = {a: row.get(a, "") for a in attributes}
        source_key, speaker = row.get("source", ""), row.get("speaker", "")
        if not source_key and not speaker:
            raise MetadataError("row has neither a source nor a speaker", path=path, line=number,
                                hint="fill in the source (file name) or speaker column")
        if source_key:
            targets = [by_name[source_key]] if source_key in by_name else []
        else:
            targets = [sid for sid, names in speakers_of.items() if speaker in names]
        if speaker:
            targets = [sid for sid in targets if speaker in speakers_of[sid]]
        if not targets:
            warnings.append(f"{path}, line {number}: matches no ingested source"
                            f" (source={source_key or '-'}, speaker={speaker or '-'}); skipped")
            continue
        for sid in targets:
            meta = attached[sid]
            if speaker:
                speakers: dict[str, dict[str, str]] = meta.setdefault("speakers", {})  # type: ignore[assignment]
                speakers[speaker] = values
            else:
                meta["attributes"] = values
    out = [dataclasses.replace(s, metadata={**s.metadata, **attached[s.id]}) if attached[s.id]
           else s for s in sources]
    return out, warnings
