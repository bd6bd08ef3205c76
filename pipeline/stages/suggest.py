"""The suggest stage: the run's segments scored against a codebook into the suggestion files.

Segments are scored in chunks, each with only the sources it needs, so memory does not grow
with the corpus.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from pipeline.codebook import codebook_languages, codebook_to_yaml, load_codebook
from pipeline.config import Config, EmbedSettings
from pipeline.embed import CachedEmbedder, in_cache, make_embedder
from pipeline.embed.base import Embedder
from pipeline.errors import CodebookError, RunFolderError
from pipeline.records import Codebook, Segment, Source, Suggestion
from pipeline.resources import REFERENCE_CODEBOOK
from pipeline.run_folder import (
    SEGMENTS,
    STALE_AFTER,
    RunFolder,
    SourceIndex,
    fingerprint,
    sha256_file,
)
from pipeline.run_folder.codebook import resolve_codebook, write_codebook
from pipeline.run_folder.suggestions import JSONL, SuggestionWriter
from pipeline.stages.result import StageResult
from pipeline.suggest import Scorer, load_head, sources_for, suggestions, top_codes

SHARD_CACHE = "cache"  # a shard run's own embedding cache layer, inside its folder
SUGGEST_CHUNK = 2048  # segments scored at a time: bounds the vectors held in memory


SOURCE_CACHE = 4  # sources kept in memory while scoring (segments come grouped by source)
T = TypeVar("T")


def suggest_stage(out: str | Path, config: Config | None = None,
                  codebook: str | Path | None = None, head: str | Path | None = None,
                  force: bool = False,
                  progress: Callable[[int, int], None] | None = None,
                  embedder: Embedder | None = None) -> StageResult:
    """Score the run's segments against a codebook; write suggestions.jsonl/.csv.

    Segments are scored SUGGEST_CHUNK at a time, each chunk with only the sources it needs,
    read on demand from an index of sources.jsonl: memory does not grow with the corpus.
    Every finished batch of vectors is in the embedding cache, so a stage that is interrupted
    (nothing of its output is kept) encodes only the rest when run again.
    `embedder` replaces the one `config["embed"]` names (it is wrapped in the disk cache);
    `progress(done, total)` counts segments.
    """
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
    head_fp = sha256_file(Path(head) / "head.npz") if head and \
        (Path(head) / "head.npz").exists() else None
    total = manifest["stages"]["segment"].get("segments")
    report = _RunProgress(progress, total if isinstance(total, int) else None)
    # The embedder's own fingerprint (model files, prefix, backend that `auto` chose) is part
    # of the stage's, so installing the onnx extra or rebuilding the model re-scores.
    # A shard embeds into a cache layer of its own, in its folder (the shared cache is only
    # read): machines never write one cache folder, and `precode merge` folds the layers in.
    layer = run.file(SHARD_CACHE) if "shard" in manifest else None
    cached = _cached_embedder(embedder, config["embed"], report.embedding, layer)
    settings_fp = fingerprint(codebook_to_yaml(book), head_fp, config["embed"],
                              config["suggest"], cached.fingerprint)
    fp = suggest_fingerprint(segments_fp, settings_fp)
    done = manifest["stages"].get("suggest", {})
    if not force and done.get("fingerprint") == fp and run.file(JSONL).exists():
        return StageResult("suggest", True, 0.0, {k: v for k, v in done.items()
                                                  if isinstance(v, int)})
    index = run.source_index(SOURCE_CACHE)
    segments = run.iter_segments()
    saved = load_head(head, cached, book) if head else None
    warnings = _language_warnings(index, cached, book)
    settings = config["suggest"]
    scorer = Scorer(book, cached, settings, saved)
    warnings += scorer.warnings + ([] if saved else _calibration_warnings(book))
    counts = {"segments": 0, "suggestions": 0, "segments_with_code": 0}
    # Chunk by chunk, so memory holds one chunk's vectors and sources, whatever the corpus size.
    with index, ExitStack() as files:
        writer = SuggestionWriter.open(run, settings["top_k"], files)
        for chunk in _batches(segments, SUGGEST_CHUNK):
            report.chunk_started(len(chunk))
            sources = _sources_of(chunk, index, run)
            names = {s.id: s.name for s in sources}
            scored = scorer.score(chunk, sources)
            items = list(suggestions(scored, settings["top_k"], settings["threshold"]))
            by_segment: dict[str, list[Suggestion]] = {}
            for item in items:
                by_segment.setdefault(item.segment_id, []).append(item)
            for seg, top in zip(chunk, top_codes(scored, settings["top_k"]), strict=True):
                writer.write(seg, names[seg.source_id], by_segment[seg.id], top)
            counts["segments"] += len(chunk)
            report.chunk_done(len(chunk))
            counts["suggestions"] += sum(1 for s in items if s.code_id)
            counts["segments_with_code"] += len({s.segment_id for s in items if s.code_id})
    counts["encoded"] = cached.encoded
    run.drop(STALE_AFTER["suggest"])  # figures and candidates made from the old suggestions
    seconds = time.perf_counter() - started
    manifest["config"]["embed"] = config["embed"]
    manifest["config"]["suggest"] = settings
    run.record_stage(manifest, "suggest", fp, seconds, **counts,
                     codebook=str(codebook_path), model=str(head) if head else None,
                     method=scorer.method, embedder=cached.fingerprint, settings=settings_fp)
    write_codebook(run, book)
    run.write_manifest(manifest)
    return StageResult("suggest", False, seconds, counts, warnings)


class _RunProgress:
    """Progress over the whole run, in segments: a chunk's share moves with its embedding
    batches (never backwards), so a long run shows one bar with a fair time remaining."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int | None) -> None:
        self.progress, self.total = progress, total
        self.done = self.shown = self.size = 0

    def chunk_started(self, size: int) -> None:
        self.size = size

    def embedding(self, done: int, total: int) -> None:
        if total:
            self._show(self.done + int(self.size * 0.95 * done / total))

    def chunk_done(self, size: int) -> None:
        self.done += size
        self._show(self.done)

    def _show(self, value: int) -> None:
        if self.progress is None or value < self.shown:
            return
        self.shown = value
        self.progress(value, max(self.total or 0, value))


def suggest_fingerprint(segments_fp: str, settings_fp: str) -> str:
    """The suggest stage's fingerprint: the segments' and everything else it depends on
    (codebook, head, embedding model and settings: `settings_fp`, kept in the manifest so that
    `precode merge` can compute the fingerprint of the merged segments)."""
    return fingerprint(segments_fp, settings_fp)


def _cached_embedder(embedder: Embedder | None, section: EmbedSettings,
                     progress: Callable[[int, int], None] | None,
                     layer: Path | None) -> CachedEmbedder:
    if embedder is None:
        return make_embedder(section, progress=progress, layer=layer)
    if isinstance(embedder, CachedEmbedder):
        return embedder
    return in_cache(embedder, section, progress, layer)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _sources_of(chunk: Sequence[Segment], index: SourceIndex, run: RunFolder) -> list[Source]:
    """The sources a chunk of segments needs, in order of first use; a segment whose source
    sources.jsonl lacks is a clear error, not a KeyError."""
    for seg in chunk:
        if seg.source_id not in index:
            raise RunFolderError(
                f"segment {seg.id} belongs to source {seg.source_id!r}, which sources.jsonl "
                "does not have", path=run.file(SEGMENTS),
                hint=f"segments.jsonl is older than sources.jsonl; run `precode segment "
                     f"{run.path} --force`")
    return sources_for(chunk, index)


def _calibration_warnings(book: Codebook) -> list[str]:
    """Zero-shot scores are calibrated on the reference codebook; say so for any other."""
    reference = load_codebook(REFERENCE_CODEBOOK, editions=False)
    if sorted(book.code_ids()) == sorted(reference.code_ids()):
        return []
    return [f"the zero-shot scores were calibrated on the reference codebook "
            f"({len(reference.code_ids())} codes); with this one ({len(book.code_ids())} "
            "codes) they rank codes, but the threshold may let through too many or too few: "
            "check it on a few coded transcripts (`precode evaluate RUN --gold FILE "
            "--threshold 0.05:0.5:0.05`) or train a head on them (`precode train`)"]


def _language_warnings(index: SourceIndex, embedder: Embedder, book: Codebook) -> list[str]:
    """What happens to sources in a language the model or the codebook does not cover."""

    def sources_in(languages: set[str]) -> str:
        names = [index.names[i] for i, lang in index.languages.items() if lang in languages]
        more = "..." if len(names) > 3 else ""
        return f"{len(names)} source(s) are in {', '.join(sorted(languages))} " \
               f"({', '.join(names[:3])}{more})"

    corpus = set(index.languages.values())
    covered = embedder.languages
    name = f"the embedding model {embedder.model_key}" if embedder.model_key else \
        "the embedding model"
    out = []
    if covered is not None and corpus - covered:
        out.append(f"{sources_in(corpus - covered)}, which {name} was not trained on (it "
                   f"knows: {', '.join(sorted(covered))}); their suggestions are unreliable. "
                   "Use the multilingual default (embed.model=multilingual-e5-small), or "
                   "embed.backend=hashed-ngrams with a codebook in that language.")
    own = codebook_languages(replace(book, editions=()))
    if covered is not None and own - covered:
        out.append(f"the codebook is written in {', '.join(sorted(own))}, which {name} was "
                   "not trained on; its suggestions are unreliable. Use the multilingual "
                   "default (embed.model=multilingual-e5-small) or a codebook in "
                   f"{', '.join(sorted(covered))}.")
    if covered is not None:
        return out
    missing = corpus - codebook_languages(book)
    if not missing:
        return out
    if embedder.model_key == "hashed-ngrams":
        return [*out, f"{sources_in(missing)}, but the codebook is written in "
                f"{', '.join(sorted(codebook_languages(book)))} only: hashed-ngrams matches words, "
                "not meaning, so their segments find no codebook text to match. Add an "
                "edition in their language (the codebook's `editions` key) or use the "
                "multilingual default model."]
    return [*out, f"{sources_in(missing)}, but the codebook is written in "
            f"{', '.join(sorted(codebook_languages(book)))} only: the multilingual model "
            "matches meaning across languages, so their codes are suggested from the "
            "codebook's texts as they are, less reliably than with the codebook in their own "
            "language. Add an edition in that language (the codebook's `editions` key; see "
            "the README's Languages section)."]
