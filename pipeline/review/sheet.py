"""The spreadsheet route: a filled-in review sheet (`precode export --out review.xlsx`) read
back as decisions.

Per row: codes in `accept` become `accept` decisions (or `relabel` when the code was not among
the row's suggested `codes`), codes in `relabel` become `relabel`, codes in `reject` become
`reject`; `x` or `all` stands for every suggested code (`x` in reject on a row with no
suggestion is one `reject` with `code_id` null: "no code here"); `note` goes with each
decision. A row with none of the three columns filled is not reviewed. A row signed in `coder`
by someone else is left out (and counted), never credited to the importing coder.

The whole sheet is checked before anything is written, so a sheet with one bad row adds
nothing to the log. Importing the same sheet again appends only what changed: a decision the
coder already has, with the same verdict, is not repeated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError, RunFolderError
from pipeline.records import Decision
from pipeline.run_folder import RunFolder
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.run_folder.decisions import LOG_NAME, DecisionLog, fold_decisions, now
from pipeline.spreadsheet import SheetRow, read_sheet


@dataclass
class SheetImport:
    """What an import read and wrote."""

    path: Path
    rows: int = 0  # rows with a segment id
    decided: int = 0  # rows with at least one decision for this coder
    appended: int = 0  # decision lines appended to the log
    unchanged: int = 0  # decided rows the log already held as they are
    empty: int = 0  # rows without accept, reject or relabel
    other_coders: dict[str, int] = field(default_factory=dict)  # rows signed by others
    warnings: list[str] = field(default_factory=list)


def sheet_decisions(row: SheetRow, coder: str, stamp: str, path: Path) -> list[Decision]:
    """The decisions one sheet row says, checked for contradictions."""
    for name, other in (("accept", row.accept), ("relabel", row.relabel)):
        both = sorted(set(other) & set(row.reject))
        if both:
            raise RunFolderError(
                f"code {both[0]!r} is both in {name} and in reject", path=path, line=row.line,
                hint=f"keep the code in one of the two columns (an `x` in reject rejects every "
                     f"suggested code: {', '.join(row.codes) or 'none'})")
    if "accept" in row.marked_all and not row.codes:
        raise RunFolderError("accept says `x` (every suggested code), but this row has no "
                             "suggested code", path=path, line=row.line,
                             hint="write the code ids that apply in relabel")
    suggested = set(row.codes)
    out = []
    for code in dict.fromkeys(row.accept + row.relabel):
        verdict = "accept" if code in suggested and code in row.accept else "relabel"
        out.append(Decision(row.segment_id, code, verdict, coder, stamp, row.note))
    out += [Decision(row.segment_id, code, "reject", coder, stamp, row.note)
            for code in dict.fromkeys(row.reject)]
    if "reject" in row.marked_all and not row.codes and not out:
        # `x` in reject with nothing suggested: the segment has no code (a reject of none)
        out.append(Decision(row.segment_id, None, "reject", coder, stamp, row.note))
    return out


def import_sheet(run_path: str | Path, sheet: str | Path, coder: str,
                 codebook: str | Path | None = None,
                 clock: Callable[[], str] = now) -> SheetImport:
    """Append the decisions of a filled-in review sheet to `RUN/decisions.jsonl`."""
    coder = coder.strip()
    if not coder:
        raise ConfigError("the coder name is empty", hint="name the reviewer: --coder NAME")
    run = RunFolder(run_path)
    run.manifest()
    _, book = resolve_codebook(run, codebook)
    segments = run.segments()
    path = Path(sheet)
    rows = read_sheet(path, book)
    known = {s.id for s in segments}
    log = DecisionLog(run.file(LOG_NAME))
    standing = {(d.segment_id, d.code_id): d.verdict for d in fold_decisions(log.read())
                if d.coder == coder}
    result = SheetImport(path)
    others: Counter[str] = Counter()
    seen: dict[str, int] = {}
    stamp = clock()
    todo: list[Decision] = []
    for row in rows:
        result.rows += 1
        if row.segment_id not in known:
            raise RunFolderError(
                f"segment {row.segment_id!r} is not a segment of this run", path=path,
                line=row.line, hint="the segment_id cell was edited, or the sheet was exported "
                                    f"from another run; export it again from {run.path}")
        if row.segment_id in seen:
            raise RunFolderError(
                f"segment {row.segment_id!r} is also on row {seen[row.segment_id]}", path=path,
                line=row.line, hint="keep one row per segment (a copied row?)")
        seen[row.segment_id] = row.line
        if row.coder and row.coder != coder:
            others[row.coder] += 1
            continue
        decisions = sheet_decisions(row, coder, stamp, path)
        if not decisions:
            result.empty += 1
            if row.note:
                result.warnings.append(f"row {row.line}: a note without a decision is not "
                                       "imported (add the codes it is about)")
            continue
        result.decided += 1
        new = [d for d in decisions if standing.get((d.segment_id, d.code_id)) != d.verdict]
        if not new:
            result.unchanged += 1
        todo += new
    if others:
        result.other_coders = dict(sorted(others.items()))
        names = ", ".join(f"{name} ({n})" for name, n in result.other_coders.items())
        result.warnings.append(f"rows signed by other coders were left out: {names}; import "
                               "them with --coder NAME")
    result.appended = log.append(todo)
    return result
