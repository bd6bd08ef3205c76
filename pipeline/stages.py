"""Run-level stages: the plain functions behind `precode ingest` and `precode segment`.

Each stage reads its inputs, does all its work in memory, and only then writes its outputs
(atomically) and records itself in the manifest, so a failure leaves the run as it was.
A stage whose fingerprint (inputs + settings) is unchanged is skipped unless forced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import ingest
from pipeline.codebook import codebook_to_yaml, load_codebook
from pipeline.config import REFERENCE_CODEBOOK, Config, check_values, load_config
from pipeline.embed import make_embedder
from pipeline.embed.base import Embedder
from pipeline.errors import CodebookError, InputNotFoundError, RunFolderError
from pipeline.ingest.participants import attach_participants
from pipeline.model import Codebook
from pipeline.runs import STALE_AFTER, RunFolder, atomic_write, fingerprint, sha256_file
from pipeline.segment import SegmentOptions, segment_all
from pipeline.suggest import SavedHead, Scorer, suggestion_rows, suggestions
from pipeline.suggest.output import write_csv_header, write_csv_rows

SUGGEST_CHUNK = 2048  # segments scored at a time: bounds the vectors held in memory


@dataclass
class StageResult:
    stage: str
    skipped: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def ingest_options(config: Config) -> ingest.IngestOptions:
    section = config["ingest"]
    return ingest.IngestOptions(
        interviewer_names=tuple(section["interviewer_names"]),
        encoding=section["encoding"],
        language=section["language"],
    )


def segment_options(config: Config) -> SegmentOptions:
    return SegmentOptions(**config["segment"])


def ingest_stage(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 participants: str | Path | None = None, force: bool = False) -> StageResult:
    """Read transcripts into `out/sources.jsonl` and start (or refresh) the manifest."""
    config = config or load_config()
    run = RunFolder(out)
    started = time.perf_counter()
    skipped: list[Path] = []
    files = ingest.find_files(paths, skipped)
    inputs: list[dict[str, Any]] = [{"path": str(p), "name": name, "sha256": sha256_file(p)}
                                    for p, name in files]
    if participants is not None:
        if not Path(participants).exists():
            raise InputNotFoundError("no such participants file", path=participants,
                                     hint="check the path given to --participants")
        inputs.append({"path": str(participants), "name": "participants",
                       "sha256": sha256_file(Path(participants))})
    fp = fingerprint(inputs, config["ingest"])
    previous = run.manifest() if run.exists() else None
    if previous and not force and previous["stages"].get("ingest", {}).get("fingerprint") == fp \
            and run.file("sources.jsonl").exists():
        return StageResult("ingest", True, 0.0, {"sources": len(files)})

    options = ingest_options(config)
    sources = [ingest.read(path, options, name=name) for path, name in files]
    warnings: list[str] = []
    if skipped:
        kinds = sorted({p.suffix.lower() or "(no extension)" for p in skipped})
        warnings.append(f"{len(skipped)} file(s) skipped, not a transcript format precode reads "
                        f"({', '.join(kinds)}): {', '.join(p.name for p in skipped[:5])}"
                        f"{'...' if len(skipped) > 5 else ''}. precode reads "
                        f"{', '.join(ingest.SUPPORTED)}; a .qdpx goes through `precode import`.")
    for source in sources:
        if source.turns and all(t.role == "interviewer" for t in source.turns):
            warnings.append(
                f"{source.name}: every turn is the interviewer's "
                f"({', '.join(sorted({t.speaker for t in source.turns}))}), so nothing will be "
                "coded. Are the participant's labels written as 'Name: text'? Or set "
                "ingest.interviewer_names.")
        if all(t.speaker == "unknown" for t in source.turns) and source.text.count("\n") >= 5:
            warnings.append(
                f"{source.name}: no speaker labels recognised, so all of it is coded as one "
                "unknown speaker (interviewer questions included). If it has labels, write "
                "them as 'Name: text' (e.g. 'Interviewer: ...'), one per turn.")
    if participants is not None:
        sources, extra = attach_participants(sources, participants)
        warnings += extra
    seconds = time.perf_counter() - started

    manifest = run.new_manifest(config, inputs)
    if previous:
        manifest["created"] = previous.get("created", manifest["created"])
    counts = {"sources": len(sources), "turns": sum(len(s.turns) for s in sources)}
    run.record_stage(manifest, "ingest", fp, seconds, **counts)
    if previous:
        run.drop(STALE_AFTER["ingest"])
    run.write_jsonl("sources.jsonl", sources)
    run.write_manifest(manifest)
    return StageResult("ingest", False, seconds, counts, warnings)


def segment_stage(out: str | Path, config: Config | None = None,
                  force: bool = False) -> StageResult:
    """Cut the run's sources into `segments.jsonl` with the run's segment settings."""
    run = RunFolder(out)
    manifest = run.manifest()
    config = config or manifest["config"]
    started = time.perf_counter()
    sources_fp = manifest["stages"].get("ingest", {}).get("fingerprint")
    fp = fingerprint(sources_fp, config["segment"])
    done = manifest["stages"].get("segment", {})
    if not force and done.get("fingerprint") == fp and run.file("segments.jsonl").exists():
        return StageResult("segment", True, 0.0, {"segments": done.get("segments", 0)})
    options = segment_options(config)
    sources = run.sources()
    segments = segment_all(sources, options)
    seconds = time.perf_counter() - started
    empty = sorted({s.name for s in sources} - {g.source_id for g in segments})
    warnings = [f"{len(empty)} source(s) gave no segment to code ({', '.join(empty[:4])}"
                f"{'...' if len(empty) > 4 else ''}): only interviewer turns or fragments"] \
        if empty else []
    manifest["config"]["segment"] = config["segment"]
    counts = {"segments": len(segments)}
    run.record_stage(manifest, "segment", fp, seconds, **counts)
    manifest["stages"].pop("suggest", None)
    run.drop(STALE_AFTER["segment"])
    run.write_jsonl("segments.jsonl", segments)
    run.write_manifest(manifest)
    return StageResult("segment", False, seconds, counts, warnings)


def describe(result: StageResult) -> dict[str, Any]:
    return {"stage": result.stage, "skipped": result.skipped, "seconds": result.seconds,
            **result.counts}


def resolve_codebook(run: RunFolder, codebook: str | Path | None) -> tuple[Path, Codebook]:
    """The codebook a stage uses: the one given, else the run's own, else the reference."""
    if codebook is not None:
        path = Path(codebook)
    elif run.file("codebook.yaml").exists():
        path = run.file("codebook.yaml")
    else:
        path = REFERENCE_CODEBOOK
    return path, load_codebook(path)


def load_head(model: str | Path, embedder: Embedder, codebook: Codebook) -> SavedHead:
    path = Path(model)
    if not path.exists():
        raise InputNotFoundError("no such trained model folder", path=path,
                                 hint="train one with `precode train RUN --gold FILE --out "
                                      "models/NAME`, or leave out --model for zero-shot")
    return SavedHead.load(path, fingerprint=embedder.fingerprint, code_ids=codebook.code_ids())


def suggest_stage(out: str | Path, config: Config | None = None,
                  codebook: str | Path | None = None, model: str | Path | None = None,
                  force: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> StageResult:
    """Score the run's segments against a codebook; write suggestions.jsonl/.csv."""
    run = RunFolder(out)
    manifest = run.manifest()
    config = config or manifest["config"]
    started = time.perf_counter()
    codebook_path, book = resolve_codebook(run, codebook)
    if not any(True for _ in book.codes()):
        raise CodebookError("the codebook has no codes", path=codebook_path,
                            hint="add codes to its themes")
    segments_fp = manifest["stages"].get("segment", {}).get("fingerprint")
    if segments_fp is None:
        raise RunFolderError("the run has no segments yet", path=run.path,
                             hint=f"run `precode segment {run.path}` first")
    model_fp = sha256_file(Path(model) / "head.npz") if model and \
        (Path(model) / "head.npz").exists() else None
    fp = fingerprint(segments_fp, codebook_to_yaml(book), model_fp, config["embed"],
                     config["suggest"])
    done = manifest["stages"].get("suggest", {})
    if not force and done.get("fingerprint") == fp and run.file("suggestions.jsonl").exists():
        return StageResult("suggest", True, 0.0, {k: v for k, v in done.items()
                                                  if isinstance(v, int)})
    sources, segments = run.sources(), run.segments()
    embedder = make_embedder(config["embed"], progress=progress)
    head = load_head(model, embedder, book) if model else None
    warnings = _language_warnings(sources, embedder)
    settings = config["suggest"]
    scorer = Scorer(book, embedder, settings, head)
    counts = {"segments": len(segments), "suggestions": 0, "segments_with_code": 0}
    # Chunk by chunk, so memory holds one chunk's vectors, whatever the corpus size.
    with atomic_write(run.file("suggestions.jsonl")) as rows_fh, \
            atomic_write(run.file("suggestions.csv")) as sheet_fh:
        write_csv_header(sheet_fh, settings["top_k"])
        for begin in range(0, len(segments), SUGGEST_CHUNK):
            chunk = segments[begin:begin + SUGGEST_CHUNK]
            scored = scorer.score(chunk, sources)
            items = list(suggestions(scored, settings["top_k"], settings["threshold"]))
            for row in suggestion_rows(items, chunk, sources):
                rows_fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            write_csv_rows(sheet_fh, scored, sources, settings["top_k"], settings["threshold"])
            counts["suggestions"] += sum(1 for s in items if s.code_id)
            counts["segments_with_code"] += len({s.segment_id for s in items if s.code_id})
    counts["encoded"] = embedder.encoded
    run.drop(STALE_AFTER["suggest"])  # figures and candidates made from the old suggestions
    seconds = time.perf_counter() - started
    manifest["config"]["embed"] = config["embed"]
    manifest["config"]["suggest"] = settings
    run.record_stage(manifest, "suggest", fp, seconds, **counts,
                     codebook=str(codebook_path), model=str(model) if model else None,
                     method=scorer.method, embedder=embedder.fingerprint)
    run.write_text("codebook.yaml", codebook_to_yaml(book))
    run.write_manifest(manifest)
    return StageResult("suggest", False, seconds, counts, warnings)


def _language_warnings(sources: Sequence[Any], embedder: Embedder) -> list[str]:
    covered = embedder.languages
    if covered is None:
        return []
    other = sorted({s.language for s in sources} - covered)
    if not other:
        return []
    names = [s.name for s in sources if s.language in other]
    return [f"{len(names)} source(s) are in {', '.join(other)} ({', '.join(names[:3])}"
            f"{'...' if len(names) > 3 else ''}), which the embedding model was not trained on "
            "(it knows: " + ", ".join(sorted(covered)) + "); their suggestions are unreliable. "
            "Use a multilingual model (embed.model) or embed.backend=tfidf with a codebook in "
            "that language."]


def run_pipeline(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 codebook: str | Path | None = None, model: str | Path | None = None,
                 participants: str | Path | None = None, force: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> list[StageResult]:
    """ingest -> segment -> suggest, skipping the stages whose inputs did not change.

    Everything that can be checked before work starts is checked first (settings, codebook,
    model, input paths), so a mistake never leaves the run folder half updated.
    """
    config = config or load_config()
    check_values(config)
    segment_options(config)
    ingest.find_files(paths)
    _, book = resolve_codebook(RunFolder(out), codebook)
    if model is not None:
        load_head(model, make_embedder(config["embed"]), book)
    results = [ingest_stage(paths, out, config, participants=participants, force=force)]
    # A changed earlier stage forces the later ones (their fingerprints chain anyway).
    results.append(segment_stage(out, config, force=force))
    results.append(suggest_stage(out, config, codebook=codebook, model=model, force=force,
                                 progress=progress))
    return results
