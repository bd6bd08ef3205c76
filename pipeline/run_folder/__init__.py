"""The run folder and its files: one module owns each file (see docs/architecture.md).

- `folder`: the folder itself, atomic writes, `manifest.json`, `sources.jsonl`, `segments.jsonl`
- `suggestions`: `suggestions.jsonl` and `suggestions.csv`
- `decisions`: `decisions.jsonl`, the append-only review log, and what it means
- `codings`: `codings.jsonl`
- `codebook`: `codebook.yaml`, the codebook a run uses
- `evaluation`: `evaluation.json`, the typed result of `precode evaluate`
- `view`: the whole run in memory; `codes`: which codes each segment carries
"""

from pipeline.run_folder.folder import (
    FORMAT_VERSION,
    MANIFEST,
    SEGMENTS,
    SOURCES,
    STALE_AFTER,
    RunFolder,
    SourceIndex,
    atomic_write,
    fingerprint,
    json_line,
    json_lines,
    package_versions,
    sha256_file,
)

__all__ = ["FORMAT_VERSION", "MANIFEST", "SEGMENTS", "SOURCES", "STALE_AFTER", "RunFolder",
           "SourceIndex", "atomic_write", "fingerprint", "json_line", "json_lines",
           "package_versions", "sha256_file"]
