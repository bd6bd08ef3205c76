"""Builders shared by the REFI-QDA tests: small runs and hand-made .qdpx archives (no tests)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from pipeline.codebook import codebook_to_yaml
from pipeline.records import Code, Codebook, Coding, Decision, Source, Theme
from pipeline.run_folder import RunFolder
from tests.conftest import SHARED

# The REFI-QDA schemas are in the repository (see tests/data/refi-qda/README.md); the sample
# exports of real tools are not (their README asks that they stay out of it).
REFI = Path(__file__).resolve().parent / "data" / "refi-qda"
SAMPLES = SHARED / "refi-qda" / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the REFI-QDA sample exports are not here ({SAMPLES}); they are kept out of the "
           "repository, in ../shared",
)

CODEBOOK = Codebook(
    name="Tiny recovery codebook",
    version="0.3",
    description="Two themes for the tests.\nSecond line.",
    themes=(
        Theme("recovery", "Attitudes toward recovery", "What recovery means.", (
            Code("coexisting", "Coexisting with illness", "Living well with symptoms.",
                 include=("Symptoms remain but life goes on.",),
                 exclude=("Hope alone (use hope).",),
                 examples=("He still hears voices, and works.", "Two lines\nof example.")),
            Code("hope", "Maintaining hope", "Belief that things can improve."),
        )),
        Theme("peer", "Peer support", "", (
            Code("peer_help", "Peers helping peers", "People with lived experience help.",
                 examples=("我們互相幫忙。",)),
        )),
    ),
)

TEXT_A = ("Interviewer: How do you see recovery?\n"
          "Nurse K: Recovery is living well with symptoms.\n"
          "Nurse K: I keep hoping, café and all.\n")
TEXT_B = "訪談者：同儕支持呢？\n護理師K：我們互相幫忙。\n"


def sources() -> list[Source]:
    return [
        Source("a.txt", "a.txt", TEXT_A, (), "en", {
            "speakers": {"Nurse K": {"profession": "nurse", "years": "12"}}}),
        Source("b.txt", "b.txt", TEXT_B, (), "zh", {
            "attributes": {"site": "Taipei"},
            "speakers": {"護理師K": {"profession": "nurse", "years": "9"}}}),
    ]


def span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def suggestion(source: Source, needle: str, code: str | None, score: float, rank: int = 1,
               ) -> dict[str, Any]:
    start, end = span(source.text, needle)
    return {"source": source.name, "segment_id": f"{source.id}:{start}-{end}", "start": start,
            "end": end, "speaker": "Nurse K", "role": "participant", "text": needle,
            "code": code, "score": score, "rank": rank, "method": "prototype",
            "evidence": [{"text": "He still hears voices, and works.", "similarity": 0.71,
                          "origin": "codebook:example"}] if code else []}


def make_run(path: Path, *, srcs: list[Source] | None = None,
             codebook: Codebook | None = CODEBOOK, codings: Iterable[Coding] = (),
             suggestions: Iterable[dict[str, Any]] | None = None,
             decisions: Iterable[Decision] = ()) -> Path:
    """A run folder written by hand: manifest, sources, codebook and whatever else is given."""
    run = RunFolder(path)
    run.write_manifest(run.new_manifest({}, []))
    run.write_jsonl("sources.jsonl", srcs if srcs is not None else sources())
    if codebook is not None:
        run.file("codebook.yaml").write_text(codebook_to_yaml(codebook), encoding="utf-8")
    codings = list(codings)
    if codings:
        run.write_jsonl("codings.jsonl", codings)
    if suggestions is not None:
        run.write_jsonl("suggestions.jsonl", suggestions)
    decisions = list(decisions)
    if decisions:
        run.write_jsonl("decisions.jsonl", decisions)
    return path


def full_run(path: Path) -> Path:
    """A run with suggestions (one below 0.5, one uncoded), decisions and a gold coding."""
    a, b = sources()
    seg = "Recovery is living well with symptoms."
    start, end = span(a.text, seg)
    return make_run(
        path,
        codings=[Coding("b.txt", *span(b.text, "我們互相幫忙。"), "peer_help", "A")],
        suggestions=[suggestion(a, seg, "coexisting", 0.91), suggestion(a, seg, "hope", 0.42, 2),
                     suggestion(a, "I keep hoping, café and all.", None, 0.2),
                     suggestion(b, "我們互相幫忙。", "peer_help", 0.77)],
        decisions=[
            Decision(f"a.txt:{start}-{end}", "coexisting", "accept", "Ann",
                     "2024-05-01T10:00:00+08:00", "clear case"),
            Decision(f"a.txt:{start}-{end}", "hope", "accept", "Ann", "2024-05-01T10:01:00Z"),
            Decision(f"a.txt:{start}-{end}", "hope", "retract", "Ann", "2024-05-01T10:02:00Z"),
        ],
    )


def write_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data.encode("utf-8") if isinstance(data, str)
                        else data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def project(body: str, namespace: str = "urn:QDA-XML:project:1.0", name: str = "hand made",
            ) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{namespace}" '
            f'name="{name}" origin="hand">{body}</Project>')


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
