"""The run folder: what a run did, in files a person can read, written atomically.

Every file is written to a temporary name beside its target and renamed into place, so a
crash or a failed stage never leaves a half-written file. `manifest.json` records the
resolved config, versions, input checksums and, per stage, a fingerprint of its inputs and
settings: a stage whose fingerprint is unchanged can be skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from pipeline.errors import RunFolderError
from pipeline.records import Record, Segment, Source

FORMAT_VERSION = 1
# Files each stage's output makes stale when it changes. Human work (decisions.jsonl,
# codings.jsonl) and the codebook are never in these lists.
_AFTER_SUGGEST = ("evaluation.json", "candidates.yaml", "discovery.json", "report.html",
                  "report.md")
STALE_AFTER = {
    "ingest": ("segments.jsonl", "suggestions.jsonl", "suggestions.csv", *_AFTER_SUGGEST),
    "segment": ("suggestions.jsonl", "suggestions.csv", *_AFTER_SUGGEST),
    "suggest": _AFTER_SUGGEST,
}
_UMASK = os.umask(0)
os.umask(_UMASK)
MANIFEST = "manifest.json"
SOURCES = "sources.jsonl"
SEGMENTS = "segments.jsonl"
R = TypeVar("R", bound=Record)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("precode", "spacy", "scikit-learn", "sentence-transformers", "torch", "numpy"):
        with suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(*parts: Any) -> str:
    """A hash of JSON-serializable parts: the identity of a stage's inputs and settings."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@contextmanager
def atomic_write(path: Path, mode: str = "w") -> Iterator[Any]:
    """Open a temp file beside `path`; rename it over `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else "\n"
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-empty line of a JSON-lines file, checked.

    A last line without its newline that is not valid JSON was torn by a crash in the middle
    of an append (decisions.jsonl is appended to): it is skipped, as the review log does.
    """
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            data = _json_object(path, number, line)
            if data is None:
                return
            yield number, data


def json_line(record: Record | dict[str, Any]) -> str:
    """One record as a line of a JSON-lines run file (the only way they are written)."""
    row = record.to_dict() if isinstance(record, Record) else record
    return json.dumps(row, ensure_ascii=False) + "\n"


def _json_object(path: Path, number: int, line: str) -> dict[str, Any] | None:
    """The object on one line of a JSON-lines file; None for a torn last line."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        if not line.endswith("\n"):  # only the last line can lack its newline
            return None
        raise RunFolderError(
            f"not valid JSON ({exc})", path=path, line=number,
            hint="fix or remove only this line in a text editor; never delete "
                 "decisions.jsonl, it holds your reviewers' work (other files can be "
                 "re-created by the stage that writes them)") from exc
    if not isinstance(data, dict):
        raise RunFolderError("each line must be a JSON object", path=path, line=number,
                             hint="the file was edited by hand; fix or remove this line")
    return data


def _record(cls: type[R], data: dict[str, Any], path: Path, number: int) -> R:
    try:
        return cls.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise RunFolderError(f"cannot read this line ({exc})", path=path, line=number,
                             hint="the file was edited or written by another "
                                  "version; re-run the stage that writes it") from exc


class SourceIndex:
    """Where each source's line starts in sources.jsonl, so a stage reads one source at a time.

    Built in one pass, it holds per source only an offset, a name and a language, whatever the
    size of the texts. `get` keeps the last few sources read: segments come grouped by source,
    but any order is read correctly. Use it as a context manager (it keeps the file open).
    """

    def __init__(self, path: Path, cache_size: int = 4) -> None:
        self.path = path
        self.cache_size = cache_size
        self.offsets: dict[str, tuple[int, int]] = {}  # id -> (byte offset, line number)
        self.names: dict[str, str] = {}
        self.languages: dict[str, str] = {}
        self._cache: OrderedDict[str, Source] = OrderedDict()
        self._fh: BinaryIO | None = None
        offset = 0
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                start, offset = offset, offset + len(raw)
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                data = _json_object(path, number, line)
                if data is None:
                    break
                source = _record(Source, data, path, number)
                self.offsets[source.id] = (start, number)
                self.names[source.id] = source.name
                self.languages[source.id] = source.language

    def __enter__(self) -> SourceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __contains__(self, source_id: object) -> bool:
        return source_id in self.offsets

    def __len__(self) -> int:
        return len(self.offsets)

    def get(self, source_id: str) -> Source:
        """The source with this id, read from its line (KeyError when there is none)."""
        cached = self._cache.get(source_id)
        if cached is not None:
            self._cache.move_to_end(source_id)
            return cached
        offset, number = self.offsets[source_id]
        if self._fh is None:
            self._fh = self.path.open("rb")
        self._fh.seek(offset)
        line = self._fh.readline().decode("utf-8")
        data = _json_object(self.path, number, line)
        if data is None:
            raise RunFolderError("this line changed while it was being read", path=self.path,
                                 line=number, hint="run the stage again")
        source = _record(Source, data, self.path, number)
        self._cache[source_id] = source
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return source


class RunFolder:
    """A run's folder: `runs/NAME/` with the files of DESIGN.md."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return self.file(MANIFEST).exists()

    # -- manifest ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        path = self.file(MANIFEST)
        if not path.exists():
            raise RunFolderError(
                "this is not a run folder (no manifest.json)", path=self.path,
                hint="create one with `precode ingest TRANSCRIPTS --out RUN` or `precode run`",
            )
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"manifest.json is not valid JSON ({exc})", path=path,
                                 hint="re-create the run with `precode ingest`") from exc
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise RunFolderError(
                f"this run folder has format version {version!r}; this precode reads "
                f"version {FORMAT_VERSION}", path=self.path,
                hint="re-run `precode ingest` into a new folder with this version of precode",
            )
        return data

    def new_manifest(self, config: Mapping[str, Any], inputs: list[dict[str, Any]]
                     ) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": package_versions(),
            "config": dict(config),
            "inputs": inputs,
            "stages": {},
        }

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.write_json(MANIFEST, manifest)

    def record_stage(self, manifest: dict[str, Any], stage: str, fp: str, seconds: float,
                     **counts: Any) -> None:
        manifest["stages"][stage] = {
            "fingerprint": fp,
            "seconds": round(seconds, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **counts,
        }

    # -- records ----------------------------------------------------------------------------
    def write_json(self, name: str, data: Any) -> None:
        with atomic_write(self.file(name)) as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")

    def write_text(self, name: str, text: str) -> None:
        with atomic_write(self.file(name)) as fh:
            fh.write(text)

    def write_jsonl(self, name: str, records: Iterable[Record | dict[str, Any]]) -> int:
        count = 0
        with self.jsonl_writer(name) as write:
            for record in records:
                write(json_line(record))
                count += 1
        return count

    @contextmanager
    def jsonl_writer(self, name: str) -> Iterator[Callable[[str], None]]:
        """Stream lines made by `json_line` into `name`, renamed into place only if the block
        succeeds: a stage writes a large file without holding it in memory."""
        with atomic_write(self.file(name)) as fh:
            yield fh.write

    def read_jsonl(self, name: str, cls: type[R]) -> list[R]:
        return list(self.iter_jsonl(name, cls))

    def iter_jsonl(self, name: str, cls: type[R]) -> Iterator[R]:
        """The records of a JSON-lines file one at a time (checks the file exists at once)."""
        path = self.file(name)
        if not path.exists():
            raise RunFolderError(f"{name} is missing", path=self.path,
                                 hint="run the earlier stages first (see `precode --help`)")
        return (_record(cls, data, path, number) for number, data in json_lines(path))

    def drop(self, names: Iterable[str]) -> list[str]:
        """Remove outputs made stale by an earlier stage; returns the names removed."""
        removed = []
        for name in names:
            path = self.file(name)
            if path.exists():
                path.unlink()
                removed.append(name)
        return removed

    def sources(self) -> list[Source]:
        return self.read_jsonl(SOURCES, Source)

    def segments(self) -> list[Segment]:
        return self.read_jsonl(SEGMENTS, Segment)

    def iter_sources(self) -> Iterator[Source]:
        """Sources one at a time: a stage's memory does not grow with the corpus."""
        return self.iter_jsonl(SOURCES, Source)

    def iter_segments(self) -> Iterator[Segment]:
        return self.iter_jsonl(SEGMENTS, Segment)

    def source_index(self, cache_size: int = 4) -> SourceIndex:
        """An index of sources.jsonl, to read the sources a batch of segments needs."""
        path = self.file(SOURCES)
        if not path.exists():
            raise RunFolderError("sources.jsonl is missing", path=self.path,
                                 hint="run the earlier stages first (see `precode --help`)")
        return SourceIndex(path, cache_size)
