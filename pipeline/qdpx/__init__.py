"""REFI-QDA (QDA-XML 1.0): projects and codebooks, read and written.

- `export_qdpx(view, out)`: a run as a `.qdpx` project (`pipeline.export` picks the format).
- `read_qdpx(path)`: a `.qdpx` project read into memory (`pipeline.stages.import_qdpx` makes
  it a run folder).
- `read_qdc` / `write_qdc`: codebooks in QDA-XML.

Foreign archives are read with `pipeline.ingest.archive.SafeArchive` and XML with defusedxml.
"""

from pipeline.qdpx.export import SUGGESTIONS_USER, export_qdpx
from pipeline.qdpx.import_ import Project, read_qdpx
from pipeline.qdpx.qdc import read_qdc, write_qdc
from pipeline.run_folder.view import ExportResult

__all__ = ["SUGGESTIONS_USER", "ExportResult", "Project", "export_qdpx", "read_qdc", "read_qdpx",
           "write_qdc"]
