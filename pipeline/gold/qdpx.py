"""Gold codings straight from a `.qdpx` project, for `precode evaluate --gold` and `train --gold`.

The usual loop: export a run, code (or correct) it in a QDA tool, export the project from the
tool, and give that `.qdpx` as gold for the same run. Sources are matched by name and codes by
id (our ids travel in the code descriptions), and a source whose text differs from the run's
is an error, because its offsets would point at other words. Codings by the user
"precode suggestions" are precode's own suggestions, never gold: they are left out.

Registered in `pipeline.gold.read.GOLD_READERS` for the `.qdpx` extension.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.errors import GoldCodingError
from pipeline.gold.files import GoldSet
from pipeline.qdpx.export import SUGGESTIONS_USER
from pipeline.qdpx.import_ import read_qdpx
from pipeline.records import Codebook, Coding, Source


def read_gold_qdpx(path: str | Path, sources: Sequence[Source], codebook: Codebook | None = None,
                   coders: Iterable[str] | None = None) -> GoldSet:
    """The human codings of a `.qdpx` project, checked against the run's sources and codebook."""
    path = Path(path)
    project = read_qdpx(path)
    warnings = [f"{path}: {w}" for w in project.warnings]
    by_name = {s.name: s for s in sources} | {s.id: s for s in sources}
    texts = {s.id: s.text for s in project.sources}
    known = set(codebook.code_ids()) if codebook else None
    codings: list[Coding] = []
    ours = 0
    for coding in project.codings:
        if coding.coder == SUGGESTIONS_USER:
            ours += 1
            continue
        source = by_name.get(coding.source_id)
        if source is None:
            raise GoldCodingError(
                f"the project codes a source the run lacks: {coding.source_id!r}", path=path,
                hint="give the project exported from this run, or import it as a run of its "
                     "own with `precode import`")
        if texts[coding.source_id] != source.text:
            raise GoldCodingError(
                f"the text of {coding.source_id!r} in the project differs from the run's, so "
                "its offsets would point at other words", path=path,
                hint="import the project as a run of its own with `precode import`")
        if known is not None and coding.code_id not in known:
            raise GoldCodingError(f"the project uses a code the run's codebook lacks: "
                                  f"{coding.code_id!r}", path=path,
                                  hint="use the codebook exported with the run, or import the "
                                       "project as a run of its own with `precode import`")
        codings.append(Coding(source.id, coding.start, coding.end, coding.code_id,
                              coding.coder))
    if ours:
        warnings.append(f"{path}: {ours} coding(s) by {SUGGESTIONS_USER!r} left out: they are "
                        "precode's suggestions, not gold")
    gold = GoldSet(codings, warnings)
    if coders is not None:
        wanted = list(coders)
        missing = [c for c in wanted if c not in gold.coders]
        if missing:
            found = ", ".join(gold.coders) or "none"
            raise GoldCodingError(f"no codings by coder(s) {', '.join(missing)}", path=path,
                                  hint=f"coders in this project: {found}")
        gold = GoldSet([c for c in codings if c.coder in wanted], warnings)
    return gold
