"""Shards: a corpus cut into N disjoint parts by source, so N machines can run one part each.

A shard is a contiguous range of the corpus' files in `ingest.find_files()` order, cut where
the cumulative file size crosses k/N of the total. Whole sources only: a segment's context
(its turn, the preceding question) never crosses a source, and segment ids are unique per
source, so the parts concatenated in shard order are exactly what one machine writes.

The plan depends only on the file listing (names and sizes), never on the machine, the clock
or which shard asks: every SLURM array task computes the same plan on its own, and
`precode merge` refuses shards whose plans differ.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.run_folder import SEGMENTS, SOURCES, RunFolder, fingerprint, sha256_file
from pipeline.run_folder.codebook import NAME as CODEBOOK
from pipeline.run_folder.suggestions import CSV, JSONL

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard `index` of `count`, numbered from 0 as SLURM array task ids usually are."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        """`I/N` as given to `--shard` (`$SLURM_ARRAY_TASK_ID/N`)."""
        match = _SPEC.match(text)
        if not match:
            raise ConfigError(f"--shard must look like I/N, not {text!r}",
                              hint="e.g. --shard 0/8 for the first of 8 shards "
                                   "(shards are numbered 0 to N-1)")
        return cls.of(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, index: int, count: int) -> ShardSpec:
        if count < 1:
            raise ConfigError(f"a corpus cannot be cut into {count} shards",
                              hint="N in --shard I/N must be 1 or more")
        if not 0 <= index < count:
            raise ConfigError(f"there is no shard {index} of {count}: shards are numbered "
                              f"0 to {count - 1}",
                              hint=f"with SLURM, use --array=0-{count - 1} and "
                                   f"--shard $SLURM_ARRAY_TASK_ID/{count}")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def cut_points(sizes: Sequence[int], count: int) -> list[int]:
    """Where each of `count` contiguous parts of `sizes` starts (and, last, the end).

    Part k ends where the cumulative size first reaches (k+1)/count of the total, so the parts
    carry about equal bytes; every part keeps at least one item. Integer arithmetic only, so
    the cut is the same on every machine.
    """
    n = len(sizes)
    if count > n:
        raise ConfigError(f"{n} transcript(s) cannot be cut into {count} shards: a shard "
                          "holds whole transcripts",
                          hint=f"use at most {n} shards")
    prefix = list(itertools.accumulate((max(int(s), 1) for s in sizes), initial=0))
    total = prefix[-1]  # an empty file still counts as one source
    starts = [0]
    for k in range(1, count):
        # the first cut at which the parts before it hold at least k/count of the total:
        # the file that crosses the mark stays in the earlier part
        mark = bisect.bisect_left(prefix, -(-k * total // count))
        starts.append(max(starts[-1] + 1, min(mark, n - (count - k))))
    starts.append(n)
    return starts


@dataclass(frozen=True)
class ShardPlan:
    """The whole corpus' listing, and the part that one shard reads."""

    spec: ShardSpec
    files: list[tuple[Path, str]]  # this shard's (path, source name), in corpus order
    names: list[str]  # every source of the corpus, in order (for the participants table)
    plan: str  # fingerprint of the listing: equal for every shard of one corpus

    first: int  # position of this shard's first source in the corpus

    def record(self) -> dict[str, Any]:
        """The manifest's `shard` section (before the outputs are sealed)."""
        return {"index": self.spec.index, "count": self.spec.count, "plan": self.plan,
                "first": self.first, "sources": len(self.files),
                "corpus_sources": len(self.names)}


def plan_shard(files: Sequence[tuple[Path, str]], spec: ShardSpec,
               participants: str | Path | None = None) -> ShardPlan:
    """This shard's part of `files` (the `find_files` listing of the whole corpus)."""
    sizes = [path.stat().st_size for path, _ in files]
    starts = cut_points(sizes, spec.count)
    part = list(files[starts[spec.index]:starts[spec.index + 1]])
    listing = [[name, size] for (_, name), size in zip(files, sizes, strict=True)]
    plan = fingerprint("shard-plan", listing, spec.count,
                       Path(participants).name if participants is not None else None)
    return ShardPlan(spec, part, [name for _, name in files], plan, starts[spec.index])


SHARD_OUTPUTS = (SOURCES, SEGMENTS, JSONL, CSV, CODEBOOK)


def seal_shard(run: RunFolder) -> None:
    """Record the sha256 of the shard's outputs in its manifest, once all its stages are done:
    `precode merge` takes only sealed shards, and refuses one whose files changed since."""
    manifest = run.manifest()
    manifest["shard"]["outputs"] = {name: sha256_file(run.file(name))
                                    for name in SHARD_OUTPUTS}
    run.write_manifest(manifest)
