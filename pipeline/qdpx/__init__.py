"""REFI-QDA (QDA-XML 1.0) interoperability, and spreadsheet export for review.

- `export_run(run, out, fmt)`: a run as a `.qdpx` project, a `.qdc` codebook, or a `.csv` /
  `.xlsx` sheet with one row per segment (see `sheet.COLUMNS`).
- `import_qdpx(path, out)`: a `.qdpx` project as a new run folder; `read_qdpx(path)` reads
  it into memory only.
- `read_qdc` / `write_qdc`: codebooks in QDA-XML.

Foreign archives are read with `safezip.SafeArchive` and XML with defusedxml.
"""

from pipeline.qdpx.export import export_run
from pipeline.qdpx.import_ import ImportResult, Project, import_qdpx, read_qdpx
from pipeline.qdpx.qdc import read_qdc, write_qdc
from pipeline.qdpx.runview import ExportResult

__all__ = ["ExportResult", "ImportResult", "Project", "export_run", "import_qdpx",
           "read_qdc", "read_qdpx", "write_qdc"]
