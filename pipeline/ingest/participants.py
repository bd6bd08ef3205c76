"""Participant metadata (`--participants participants.csv`) attached to sources.

The CSV has a `source` column (file name, with or without extension), a `speaker` column,
or both, plus attribute columns (profession, organization, years of experience...). Rows with
a speaker go to `source.metadata["speakers"][speaker]`; rows without one describe the whole
source (`source.metadata["attributes"]`). Rows that match no source are reported, not dropped
silently.

`Participants` reads the table once and is applied to one source at a time, so ingest can
stream a large corpus; `attach_participants` does the same for a list of sources.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import InputNotFoundError, MetadataError
from pipeline.records import Source


@dataclass(frozen=True)
class _Row:
    line: int
    source: str
    speaker: str
    values: dict[str, str]


class Participants:
    """The participants table, applied source by source; `unmatched()` after the last one.

    `names` are the names of every source that will be applied, in order, known before any is
    read: a `source` key matches a name or its stem, the last source having it winning.
    """

    def __init__(self, path: str | Path, names: Iterable[str]) -> None:
        self.path = Path(path)
        self.rows = _read_rows(self.path)
        by_name: dict[str, str] = {}
        for name in names:
            by_name[name] = name
            by_name[PurePosixPath(name).stem] = name
        # Row indexes by the source they name, or by speaker for rows naming no source, so
        # applying the table to one source does not scan every row.
        self._for_name: dict[str, list[int]] = {}
        self._for_speaker: dict[str, list[int]] = {}
        for index, row in enumerate(self.rows):
            if row.source:
                if row.source in by_name:
                    self._for_name.setdefault(by_name[row.source], []).append(index)
            else:
                self._for_speaker.setdefault(row.speaker, []).append(index)
        self.matched: set[int] = set()

    def apply(self, source: Source) -> Source:
        """`source` with the metadata of the rows that match it (later rows win)."""
        speakers = {t.speaker for t in source.turns}
        candidates = set(self._for_name.get(source.name, ()))
        for speaker in speakers:
            candidates.update(self._for_speaker.get(speaker, ()))
        attached: dict[str, object] = {}
        for index in sorted(candidates):
            row = self.rows[index]
            if row.speaker and row.speaker not in speakers:
                continue
            self.matched.add(index)
            if row.speaker:
                named: dict[str, dict[str, str]] = attached.setdefault("speakers", {})  # type: ignore[assignment]
                named[row.speaker] = row.values
            else:
                attached["attributes"] = row.values
        if not attached:
            return source
        return dataclasses.replace(source, metadata={**source.metadata, **attached})

    def unmatched(self) -> list[str]:
        """Warnings for the rows that matched none of the sources applied so far."""
        return list(self.unmatched_rows().values())

    def unmatched_rows(self) -> dict[str, str]:
        """The warning for each row (by index, as text: a JSON key) that matched none of the
        sources applied so far; a shard records them, and the merge keeps those no shard
        matched."""
        return {str(index): f"{self.path}, line {row.line}: matches no ingested source"
                            f" (source={row.source or '-'}, speaker={row.speaker or '-'}); "
                            "skipped"
                for index, row in enumerate(self.rows) if index not in self.matched}


def attach_participants(sources: list[Source], path: str | Path) -> tuple[list[Source], list[str]]:
    """Sources with metadata attached, and warnings for rows that matched nothing."""
    table = Participants(path, [s.name for s in sources])
    out = [table.apply(s) for s in sources]
    return out, table.unmatched()


def _read_rows(path: Path) -> list[_Row]:
    if not path.exists():
        raise InputNotFoundError("no such participants file", path=path,
                                 hint="check the path given to --participants")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            raw = list(reader)
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
    rows = []
    for number, row in enumerate(raw, 2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        source_key, speaker = row.get("source", ""), row.get("speaker", "")
        if not source_key and not speaker:
            raise MetadataError("row has neither a source nor a speaker", path=path, line=number,
                                hint="fill in the source (file name) or speaker column")
        rows.append(_Row(number, source_key, speaker, {a: row.get(a, "") for a in attributes}))
    return rows


def speaker_attributes(source: Source, speaker: str) -> dict[str, str]:
    """A speaker's participant attributes: the source's, overridden by the speaker's own."""
    meta = source.metadata or {}
    out = {str(k): str(v) for k, v in (meta.get("attributes") or {}).items()}
    speakers = meta.get("speakers") or {}
    out.update({str(k): str(v) for k, v in (speakers.get(speaker) or {}).items()})
    return out
