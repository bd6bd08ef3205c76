"""`RUN/decisions.jsonl`: the append-only review log, one `Decision` per line.

Decisions are written the moment they are made: the lines of one key press (a verdict for
each suggestion shown) in a single `write()` on a file opened for appending, then fsync, under
an exclusive lock so that coders reviewing the same run at once never interleave their lines.
A killed process cannot split a `write()`, so a segment is never left half decided. Nothing is
ever rewritten: an undo appends `retract` lines. The only repair is of a torn last line (one
without its newline, which only a crash of the machine inside that write could leave): it is
cut off before the next append, so a crash loses at most the decision being written. A whole
record that merely lacks its newline (an editor's doing) gets one instead.

What the log means (`fold_decisions`): a `retract` cancels the same coder's latest earlier
decision on the same segment and code; of what is left, the latest decision per (coder,
segment, code) counts.
`accept` and `relabel` say "this segment has this code"; `reject` says it has not.

A segment is *reviewed* by a coder when a decision of theirs on it still counts. Its codes
are then the ones they confirmed, and every other code counts as absent: the reviewer saw
the segment and gave it these codes and no others (the rule `precode train` and
`precode evaluate` use). Export, evaluate, train, review and the report all read and fold
the log here, with the same checks.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.errors import RunFolderError
from pipeline.records import Codebook, Decision, Segment

LOG_NAME = "decisions.jsonl"
VERDICTS = ("accept", "reject", "relabel", "retract")
CONFIRMING = ("accept", "relabel")
FIELDS = ("segment_id", "code_id", "verdict", "coder", "timestamp", "note")


def now() -> str:
    """Local time with its UTC offset, to the second (ISO 8601)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


class DecisionLog:
    """The review log of one run; `append` is durable when it returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if created:  # make the new file's name durable too
                _fsync_dir(self.path.parent)
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(self, decisions: Iterable[Decision]) -> int:
        """Append decisions, one line each, in one write, fsynced; returns how many."""
        items = list(decisions)
        for decision in items:
            _check(decision)
        if not items:
            return 0
        with self._locked() as fd:
            _write(fd, items)
        return len(items)

    def retract(self, segment_id: str, coder: str, timestamp: str) -> list[Decision]:
        """Retract what `coder` still says about a segment: read and appended under one lock,
        so two processes undoing the same segment at once retract it once."""
        with self._locked() as fd:
            standing = [d for d in fold_decisions(self.read())
                        if d.coder == coder and d.segment_id == segment_id]
            retractions = [Decision(segment_id, d.code_id, "retract", coder, timestamp)
                           for d in standing]
            if retractions:
                _write(fd, retractions)
        return retractions

    def read(self, segments: Sequence[Segment] | None = None,
             codebook: Codebook | None = None) -> list[Decision]:
        """The log in order, every line checked (against the run's segments and codebook if
        given). A torn last line is left out: it is the decision a killed process was writing."""
        if not self.path.exists():
            return []
        known_segments = {s.id for s in segments} if segments is not None else None
        known_codes = set(codebook.code_ids()) if codebook is not None else None
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        torn = not raw.endswith(b"\n") and bool(raw)
        out = []
        for number, blob in enumerate(lines, 1):
            if not blob.strip():
                continue
            try:
                data = json.loads(blob.decode("utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                decision = Decision.from_dict(data)
            except (UnicodeDecodeError, ValueError, TypeError) as exc:
                if torn and number == len(lines):
                    break
                raise RunFolderError(f"cannot read this decision ({exc})", path=self.path,
                                     line=number, hint="fields: " + ", ".join(FIELDS) +
                                     "; the log is written by `precode review`, do not edit "
                                     "it by hand") from exc
            _check(decision, self.path, number, known_segments, known_codes)
            out.append(decision)
        return out


def _write(fd: int, items: Sequence[Decision]) -> None:
    """One write of whole lines at the end of the log (held under its lock), then fsync."""
    _cut_torn_tail(fd)
    data = "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in items)
    blob = data.encode("utf-8")
    written = 0
    while written < len(blob):  # O_APPEND; a regular file takes it in one write
        written += os.write(fd, blob[written:])
    os.fsync(fd)


def _check(decision: Decision, path: Path | None = None, line: int | None = None,
           segments: set[str] | None = None, codes: set[str] | None = None) -> None:
    if decision.verdict not in VERDICTS:
        raise RunFolderError(f"unknown verdict {decision.verdict!r}", path=path, line=line,
                             hint=f"a verdict is one of {', '.join(VERDICTS)}")
    if not decision.coder:
        raise RunFolderError("a decision without a coder", path=path, line=line,
                             hint="every decision names its coder (--coder NAME)")
    if segments is not None and decision.segment_id not in segments:
        raise RunFolderError(f"segment {decision.segment_id!r} is not in segments.jsonl",
                             path=path, line=line,
                             hint="the decisions were made on another segmentation of this "
                                  "run; use the run they were made on")
    if codes is not None and decision.code_id is not None and decision.code_id not in codes:
        raise RunFolderError(f"code {decision.code_id!r} is not in the codebook", path=path,
                             line=line, hint="use the codebook the review was made with "
                                             "(--codebook)")


def _cut_torn_tail(fd: int) -> None:
    """Drop a last line that lacks its newline and is not a whole record (a write cut short
    by a kill); a whole record that only lacks its newline (an editor's doing) gets one."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:
        step = min(4096, start)
        block = os.pread(fd, step, start - step)
        cut = block.rfind(b"\n")
        if cut >= 0:
            start = start - step + cut + 1
            break
        start -= step
    try:
        whole = isinstance(json.loads(os.pread(fd, size - start, start)), dict)
    except ValueError:  # includes a UnicodeDecodeError of a cut multi-byte character
        whole = False
    if whole:
        os.write(fd, b"\n")
    else:
        os.ftruncate(fd, start)
    os.fsync(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the file itself is still fsynced
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

def fold_decisions(decisions: Iterable[Decision]) -> list[Decision]:
    """The decisions that still count, in log order: retracted ones removed, latest wins."""
    stacks: dict[tuple[str, str, str | None], list[tuple[int, Decision]]] = {}
    for index, decision in enumerate(decisions):
        key = (decision.coder, decision.segment_id, decision.code_id)
        stack = stacks.setdefault(key, [])
        if decision.verdict == "retract":
            if stack:
                stack.pop()
        elif decision.verdict in VERDICTS:
            stack.append((index, decision))
    return [d for _, d in sorted(stack[-1] for stack in stacks.values() if stack)]

def confirmed(decisions: Iterable[Decision]) -> list[Decision]:
    """Decisions that say "this segment has this code" (accept or relabel, with a code)."""
    return [d for d in fold_decisions(decisions) if d.verdict in CONFIRMING and d.code_id]

def reviewed_codes(decisions: Iterable[Decision],
                   coders: Iterable[str] | None = None) -> dict[tuple[str, str], set[str]]:
    """(coder, segment id) -> the codes that coder confirmed, for every segment they reviewed.

    Keys are in the order the segments were first decided on (log order); `coders` keeps
    only those coders' decisions.
    """
    wanted = set(coders) if coders is not None else None
    out: dict[tuple[str, str], set[str]] = {}
    for d in fold_decisions(decisions):
        if wanted is not None and d.coder not in wanted:
            continue
        codes = out.setdefault((d.coder, d.segment_id), set())
        if d.verdict in CONFIRMING and d.code_id:
            codes.add(d.code_id)
    return out


def is_decision_log(path: str | Path) -> bool:
    """Whether a .jsonl file holds review decisions (its first record has a verdict)."""
    path = Path(path)
    if path.suffix.lower() != ".jsonl" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and "verdict" in first
    return False
