"""`RUN/codebook.yaml`: the codebook a run was suggested with (or imported from a .qdpx).

Every stage and feature that needs "the run's codebook" asks here, so they agree: the one given
on the command line, else the run's own, else the reference codebook that ships with precode.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.codebook import codebook_to_yaml, load_codebook
from pipeline.records import Codebook
from pipeline.resources import REFERENCE_CODEBOOK
from pipeline.run_folder.folder import RunFolder

NAME = "codebook.yaml"


def resolve_codebook(run: RunFolder, codebook: str | Path | None = None) -> tuple[Path, Codebook]:
    """The codebook a stage uses, and where it came from: the one given, else the run's own,
    else the reference."""
    if codebook is not None:
        path = Path(codebook)
    elif run.file(NAME).exists():
        path = run.file(NAME)
    else:
        path = REFERENCE_CODEBOOK
    return path, load_codebook(path)


def write_codebook(run: RunFolder, codebook: Codebook) -> None:
    run.write_text(NAME, codebook_to_yaml(codebook))
