"""Gold codings from any file precode reads, picked by the file's extension (`GOLD_READERS`),
so a new format plugs in without touching the commands that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pipeline.errors import UnsupportedFormatError
from pipeline.gold.files import COLUMNS, GoldSet, read_gold_csv, read_gold_jsonl
from pipeline.gold.qdpx import read_gold_qdpx
from pipeline.records import Codebook, Source

GoldReader = Callable[..., GoldSet]
GOLD_READERS: dict[str, GoldReader] = {".csv": read_gold_csv, ".jsonl": read_gold_jsonl,
                                       ".qdpx": read_gold_qdpx}


def read_gold(path: str | Path, sources: Sequence[Source], codebook: Codebook | None = None,
              coders: Iterable[str] | None = None) -> GoldSet:
    """Gold codings from a file, by its extension (see `GOLD_READERS`), checked against the run.

    A reader takes `(path, sources, codebook, coders)` and returns a `GoldSet`; register one for
    a new format with `GOLD_READERS[".ext"] = reader`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader = GOLD_READERS.get(suffix)
    if reader is None:
        raise UnsupportedFormatError(
            "cannot read gold codings from "
            + (f"a {suffix} file" if suffix else "a file without an extension"), path=path,
            hint=f"give a file ending in {', '.join(sorted(GOLD_READERS))} "
                 "(CSV columns: " + ",".join(COLUMNS) + ")")
    return reader(path, sources, codebook, coders)
