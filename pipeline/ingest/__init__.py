"""Ingest: transcripts as researchers have them, into `Source` objects.

`read(path)` reads one file; `read_all(paths)` expands folders. `files` holds both and the
format dispatch; `text`, `docx`, `captions` read the formats, `speakers` finds who speaks,
`encoding` decodes and normalizes, `participants` attaches a participants table.
"""

from pipeline.ingest.files import SUPPORTED, IngestOptions, find_files, read, read_all

__all__ = ["SUPPORTED", "IngestOptions", "find_files", "read", "read_all"]
