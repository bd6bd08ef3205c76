"""Export a run as a REFI-QDA project (`.qdpx`) or codebook (`.qdc`).

The project holds every source as `sources/<guid>.txt` (UTF-8, `\\n`, no BOM), the codebook as
nested codes, participant attributes as variables (on sources) and cases (per speaker), and
what precode knows about the coding as selections with one coding each:

- every suggestion (with a code, at or above `min_score`) coded by the user
  "precode suggestions", with its score and evidence in the selection's description, so an
  analyst can see why and filter or delete all suggestions at once;
- every confirmed decision (accept or relabel, after retractions) coded by the reviewer;
- every coding in `codings.jsonl` (gold files, an earlier import) coded by its coder.

GUIDs are made from ids (see `qdaxml.make_guid`), so exporting the same run twice gives the
same GUIDs and, for the same files, the same bytes.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.qdpx.qdaxml import PROJECT_NS, Writer, make_guid, xsd_datetime
from pipeline.qdpx.qdc import add_codes, code_guid, describe_codebook
from pipeline.records import Code, Source
from pipeline.run_folder import atomic_write
from pipeline.run_folder.decisions import confirmed
from pipeline.run_folder.view import ExportResult, RunView

SUGGESTIONS_USER = "precode suggestions"
_INTEGER = re.compile(r"^(?:0|-?[1-9][0-9]*)$")


@dataclass(frozen=True)
class Mark:
    """One coded span to export: a selection with one coding."""

    kind: str  # "coding" (codings.jsonl), "decision" or "suggestion"
    source_id: str
    start: int
    end: int
    code_id: str
    coder: str
    name: str = ""
    description: str = ""
    created: str | None = None

    @property
    def key(self) -> tuple[str, str, int, int, str, str]:
        return (self.kind, self.source_id, self.start, self.end, self.code_id, self.coder)


def origin() -> str:
    try:
        return f"precode {metadata.version('precode')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "precode"


# -- what to export ---------------------------------------------------------------------------
def collect_marks(view: RunView, include: str, min_score: float,
                  warnings: list[str]) -> list[Mark]:
    """Every span to export, checked against sources and codebook, without duplicates."""
    codes = {code.id: code for _, code in view.codebook.codes()}
    marks: dict[tuple[str, str, int, int, str, str], Mark] = {}
    skipped: Counter[str] = Counter()

    def add(mark: Mark) -> None:
        source = view.source_for(mark.source_id)
        if mark.code_id not in codes:
            skipped[f"name code {mark.code_id!r}, which the codebook lacks"] += 1
        elif source is None:
            skipped[f"name source {mark.source_id!r}, which the run lacks"] += 1
        elif not 0 <= mark.start < mark.end <= len(source.text):
            skipped[f"have offsets outside their source ({mark.source_id})"] += 1
        else:
            mark = dataclasses.replace(mark, source_id=source.id)
            marks.setdefault(mark.key, mark)

    for coding in view.codings:
        add(Mark("coding", coding.source_id, coding.start, coding.end, coding.code_id,
                 coding.coder, name=_code_name(codes, coding.code_id)))
    if include in ("decisions", "both"):
        spans = _segment_spans(view)
        for decision in confirmed(view.decisions):
            assert decision.code_id is not None
            span = spans.get(decision.segment_id)
            if span is None:
                skipped["are decisions on segments that segments.jsonl lacks"] += 1
                continue
            note = f"\nNote: {decision.note}" if decision.note else ""
            add(Mark("decision", span[0], span[1], span[2], decision.code_id, decision.coder,
                     name=_code_name(codes, decision.code_id),
                     description=f"Confirmed by {decision.coder} ({decision.verdict}, "
                                 f"{decision.timestamp}).{note}",
                     created=xsd_datetime(decision.timestamp)))
    if include in ("suggestions", "both"):
        for line in view.suggestions:
            if line.code is None or line.score < min_score:
                continue
            add(Mark("suggestion", line.source, line.start, line.end, line.code,
                     SUGGESTIONS_USER, name=f"{_code_name(codes, line.code)} ({line.score:.2f})",
                     description=_suggestion_text(codes.get(line.code), line.code, line.score,
                                                  line.rank, line.method, line.evidence)))
    for reason, count in skipped.items():
        warnings.append(f"{count} coded span(s) left out: they {reason}")
    return sorted(marks.values(), key=lambda m: (m.source_id, m.start, m.end, m.kind,
                                                 m.code_id, m.coder))


def _code_name(codes: dict[str, Code], code_id: str) -> str:
    code = codes.get(code_id)
    return code.name if code else code_id


def _suggestion_text(code: Code | None, code_id: str, score: float, rank: int, method: str,
                     evidence: Iterable[Any]) -> str:
    lines = [f"precode suggestion: {code.name if code else code_id} ({code_id})",
             f"score {score:.3f}, rank {rank}, method {method or '-'}"]
    items = list(evidence)
    if items:
        lines.append("Evidence:")
        lines += [f"- {e.similarity:.2f} {e.origin}: \"{e.text}\"" for e in items]
    return "\n".join(lines)


def _segment_spans(view: RunView) -> dict[str, tuple[str, int, int]]:
    spans = {s.id: (s.source_id, s.start, s.end) for s in view.segments}
    for line in view.suggestions:
        spans.setdefault(line.segment_id, (line.source, line.start, line.end))
    return spans


# -- the project document ---------------------------------------------------------------------
def project_xml(view: RunView, marks: list[Mark]) -> bytes:
    """The `project.qde` document for a run and the spans to export."""
    w = Writer(PROJECT_NS)
    users = _users(marks)
    root = w.element("Project", name=view.name, origin=origin(),
                     creatingUserGUID=users.get(SUGGESTIONS_USER),
                     creationDateTime=xsd_datetime(view.manifest.get("created")))
    if users:
        node = w.sub(root, "Users")
        for name, guid in users.items():
            w.sub(node, "User", guid=guid, name=name)
    add_codes(w, w.sub(root, "CodeBook"), view.codebook)
    variables = _variables(view.sources)
    if variables:
        node = w.sub(root, "Variables")
        for name, kind in variables.items():
            w.sub(node, "Variable", guid=make_guid("variable", name), name=name,
                  typeOfVariable=kind)
    cases = _cases(view.sources)
    if cases:
        node = w.sub(root, "Cases")
        for (speaker, values), source_ids in cases.items():
            case = w.sub(node, "Case", guid=make_guid("case", speaker, *values), name=speaker)
            for attr, value in values:
                _variable_value(w, case, attr, value, variables[attr])
            for source_id in source_ids:
                w.sub(case, "SourceRef", targetGUID=source_guid(source_id))
    by_source: dict[str, list[Mark]] = {}
    for mark in marks:
        by_source.setdefault(mark.source_id, []).append(mark)
    if view.sources:
        node = w.sub(root, "Sources")
        for source in view.sources:
            guid = source_guid(source.id)
            element = w.sub(node, "TextSource", guid=guid, name=source.name,
                            plainTextPath=f"internal://{guid}.txt")
            for mark in by_source.get(source.id, []):
                _selection(w, element, mark, users)
            for attr, value in _attributes(source).items():
                _variable_value(w, element, attr, value, variables[attr])
    w.sub(root, "Description", describe_codebook(view.codebook))
    return w.serialize(root)


def source_guid(source_id: str) -> str:
    return make_guid("source", source_id)


def _users(marks: list[Mark]) -> dict[str, str]:
    names = sorted({m.coder for m in marks}, key=lambda n: (n != SUGGESTIONS_USER, n))
    return {name: make_guid("user", name) for name in names}


def _selection(w: Writer, parent: Any, mark: Mark, users: dict[str, str]) -> None:
    key = "\x1f".join(map(str, mark.key))
    selection = w.sub(parent, "PlainTextSelection", guid=make_guid("selection", key),
                      name=mark.name or None, startPosition=mark.start, endPosition=mark.end,
                      creatingUser=users[mark.coder], creationDateTime=mark.created)
    if mark.description:
        w.sub(selection, "Description", mark.description)
    coding = w.sub(selection, "Coding", guid=make_guid("coding", key),
                   creatingUser=users[mark.coder], creationDateTime=mark.created)
    w.sub(coding, "CodeRef", targetGUID=code_guid(mark.code_id))


def _attributes(source: Source) -> dict[str, str]:
    raw = source.metadata.get("attributes") or {}
    return {str(k): "" if v is None else str(v) for k, v in raw.items()} \
        if isinstance(raw, dict) else {}


def _speakers(source: Source) -> dict[str, dict[str, str]]:
    raw = source.metadata.get("speakers") or {}
    if not isinstance(raw, dict):
        return {}
    return {str(speaker): {str(k): "" if v is None else str(v) for k, v in values.items()}
            for speaker, values in raw.items() if isinstance(values, dict)}


def _variables(sources: list[Source]) -> dict[str, str]:
    """Every attribute name with its QDA-XML type: Integer if every value is one, else Text."""
    values: dict[str, list[str]] = {}
    for source in sources:
        for attr, value in _attributes(source).items():
            values.setdefault(attr, []).append(value)
        for speaker_values in _speakers(source).values():
            for attr, value in speaker_values.items():
                values.setdefault(attr, []).append(value)
    return {attr: "Integer" if all(_INTEGER.match(v) for v in vs) else "Text"
            for attr, vs in values.items()}


def _cases(sources: list[Source]) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[str]]:
    """One case per participant (speaker with the same attributes), with their sources."""
    cases: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
    for source in sources:
        for speaker, values in _speakers(source).items():
            cases.setdefault((speaker, tuple(values.items())), []).append(source.id)
    return cases


def _variable_value(w: Writer, parent: Any, attr: str, value: str, kind: str) -> None:
    node = w.sub(parent, "VariableValue")
    w.sub(node, "VariableRef", targetGUID=make_guid("variable", attr))
    if value != "":
        w.sub(node, "IntegerValue" if kind == "Integer" else "TextValue", value)


# -- the archive ------------------------------------------------------------------------------
def export_qdpx(view: RunView, out: Path, include: str = "both",
                min_score: float = 0.0) -> ExportResult:
    """Write `out` (a .qdpx zip: project.qde and sources/*.txt), atomically."""
    warnings: list[str] = []
    marks = collect_marks(view, include, min_score, warnings)
    document = project_xml(view, marks)
    stamp = _zip_time(view.manifest.get("created"))
    with atomic_write(out, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_entry("project.qde", stamp), document)
        for source in view.sources:
            zf.writestr(_entry(f"sources/{source_guid(source.id)}.txt", stamp),
                        source.text.encode("utf-8"))
    counts = {"sources": len(view.sources), "codes": len(view.codebook.code_ids()),
              **{f"{kind}s": sum(m.kind == kind for m in marks)
                 for kind in ("suggestion", "decision", "coding")},
              "users": len({m.coder for m in marks})}
    return ExportResult(out, "qdpx", counts, warnings)


def _entry(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _zip_time(created: Any) -> tuple[int, int, int, int, int, int]:
    text = xsd_datetime(created if isinstance(created, str) else None)
    if text:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.year >= 1980:
            return (parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute,
                    parsed.second)
    return (1980, 1, 1, 0, 0, 0)

