"""Run-level stages: the plain functions behind `precode ingest`, `segment` and `suggest`.

Each stage streams: it reads one source (or one chunk of segments) at a time and writes each
result straight into the temporary file of its output, so memory does not grow with the
corpus. The output is renamed into place and the stage recorded in the manifest only when all
of it succeeded, so a failure or Ctrl-C leaves the run as it was. A stage whose fingerprint
(inputs + settings, never `jobs`) is unchanged is skipped unless forced.
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from multiprocessing import forkserver
from pathlib import Path
from typing import Any, TypeVar

from pipeline import ingest
from pipeline.codebook import codebook_languages, codebook_to_yaml, load_codebook
from pipeline.config import REFERENCE_CODEBOOK, Config, check_values, load_config
from pipeline.embed import CachedEmbedder, cache_dir, make_embedder
from pipeline.embed.base import Embedder
from pipeline.errors import CodebookError, ConfigError, InputNotFoundError, RunFolderError
from pipeline.ingest.participants import Participants
from pipeline.model import Codebook, Segment, Source
from pipeline.runs import (
    STALE_AFTER,
    RunFolder,
    SourceIndex,
    atomic_write,
    fingerprint,
    sha256_file,
)
from pipeline.segment import SegmentOptions, segment
from pipeline.suggest import SavedHead, Scorer, suggestion_rows, suggestions
from pipeline.suggest.output import write_csv_header, write_csv_rows

SUGGEST_CHUNK = 2048  # segments scored at a time: bounds the vectors held in memory
SOURCE_CACHE = 4  # sources kept in memory while scoring (segments come grouped by source)
T = TypeVar("T")
U = TypeVar("U")


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
                 participants: str | Path | None = None, force: bool = False,
                 jobs: int = 1) -> StageResult:
    """Read transcripts into `out/sources.jsonl` and start (or refresh) the manifest.

    `jobs` files are read at once in worker processes (0: one per CPU); the output is the same.
    """
    config = config or load_config()
    workers = resolve_jobs(jobs)
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
    table = Participants(participants, [name for _, name in files]) \
        if participants is not None else None
    warnings: list[str] = []
    if skipped:
        kinds = sorted({p.suffix.lower() or "(no extension)" for p in skipped})
        warnings.append(f"{len(skipped)} file(s) skipped, not a transcript format precode reads "
                        f"({', '.join(kinds)}): {', '.join(p.name for p in skipped[:5])}"
                        f"{'...' if len(skipped) > 5 else ''}. precode reads "
                        f"{', '.join(ingest.SUPPORTED)}; a .qdpx goes through `precode import`.")
    counts = {"sources": 0, "turns": 0}
    with _folder_kept_only_on_success(run.path), atomic_write(run.file("sources.jsonl")) as fh, \
            parallel_map(min(workers, len(files))) as map_:
        for source in map_(functools.partial(_read_file, options), files):
            warnings += _source_warnings(source)
            if table is not None:
                source = table.apply(source)
            fh.write(json.dumps(source.to_dict(), ensure_ascii=False) + "\n")
            counts["sources"] += 1
            counts["turns"] += len(source.turns)
        if table is not None:
            warnings += table.unmatched()
    seconds = time.perf_counter() - started

    manifest = run.new_manifest(config, inputs)
    if previous:
        manifest["created"] = previous.get("created", manifest["created"])
        run.drop(STALE_AFTER["ingest"])
    run.record_stage(manifest, "ingest", fp, seconds, **counts)
    run.write_manifest(manifest)
    return StageResult("ingest", False, seconds, counts, warnings)


@contextmanager
def _folder_kept_only_on_success(path: Path) -> Iterator[None]:
    """Remove the folders the block creates for `path` if it fails: a first ingest that fails
    leaves no empty run folder behind."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        yield
    except BaseException:
        for folder in missing:  # deepest first; never one that is not empty
            with suppress(OSError):
                folder.rmdir()
        raise


def _read_file(options: ingest.IngestOptions, item: tuple[Path, str]) -> Source:
    path, name = item
    return ingest.read(path, options, name=name)


def _source_warnings(source: Source) -> list[str]:
    """What a researcher should know about one source as soon as it is read."""
    warnings = []
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
    return warnings


def segment_stage(out: str | Path, config: Config | None = None,
                  force: bool = False, jobs: int = 1) -> StageResult:
    """Cut the run's sources into `segments.jsonl` with the run's segment settings.

    `jobs` sources are segmented at once in worker processes (0: one per CPU); same output.
    """
    workers = resolve_jobs(jobs)
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
    sources = run.iter_sources()
    known = manifest["stages"].get("ingest", {}).get("sources")
    if isinstance(known, int):
        workers = min(workers, known)
    counts = {"segments": 0}
    empty: set[str] = set()
    with atomic_write(run.file("segments.jsonl")) as fh, \
            parallel_map(workers, preload=["spacy"]) as map_:
        for name, count, lines in map_(functools.partial(_segment_lines, options), sources):
            fh.write(lines)
            counts["segments"] += count
            if not count:
                empty.add(name)
    seconds = time.perf_counter() - started
    names = sorted(empty)
    warnings = [f"{len(names)} source(s) gave no segment to code ({', '.join(names[:4])}"
                f"{'...' if len(names) > 4 else ''}): only interviewer turns or fragments"] \
        if names else []
    manifest["config"]["segment"] = config["segment"]
    run.record_stage(manifest, "segment", fp, seconds, **counts)
    manifest["stages"].pop("suggest", None)
    run.drop(STALE_AFTER["segment"])
    run.write_manifest(manifest)
    return StageResult("segment", False, seconds, counts, warnings)


def _segment_lines(options: SegmentOptions, source: Source) -> tuple[str, int, str]:
    """One source's segments as the lines of segments.jsonl: serialized in the worker, so the
    writing process only copies text."""
    segments = segment(source, options=options)
    lines = "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in segments)
    return source.name, len(segments), lines


# -- parallel work ---------------------------------------------------------------------------

def resolve_jobs(jobs: int) -> int:
    """The number of worker processes `jobs` asks for: 0 means one per CPU."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise ConfigError(f"jobs must be 0 or a positive whole number, not {jobs!r}",
                          hint="use --jobs 1 (the default) to work in one process, or --jobs 0 "
                               "for one process per CPU")
    return jobs or os.cpu_count() or 1


def _pool_context(preload: Sequence[str]) -> Any:
    """Workers start from a fork server, not by forking this process: this process may be
    running torch (spaCy imports it; an embedder uses its threads), and forking a process
    whose threads hold locks can deadlock. "spawn" would be as safe, but every worker would
    import spaCy anew (about 2 s each); the fork server imports `preload` once, runs nothing,
    and forks ready workers from it (measured: 2.0 s vs 4.4 s to start two segment workers).
    The server lives as long as this process, so `preload` counts only for the first pool.
    As with "spawn", a script that calls a stage with jobs > 1 needs the
    `if __name__ == "__main__":` guard.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "pipeline.stages", *preload])
    with _on_sigint(signal.SIG_IGN):
        # Started ignoring Ctrl-C, which it and the workers forked from it inherit: only
        # this process handles it (it stops the pool), so workers print no tracebacks.
        forkserver.ensure_running()
    return context


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _on_sigint(handler: Any) -> Iterator[None]:
    """Handle SIGINT with `handler` inside the block (only the main thread can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _terminate(pool: Any, patience: float = 30.0) -> None:
    """Stop a pool's workers. CPython's Pool.terminate() can hang for good joining its task
    handler (seen once in a full test run, a worker error under load: the handler waited on
    the task queue's lock); the workers are already killed by then, and the handler threads
    are daemons, so after `patience` seconds the pool is left to them instead of hanging."""
    stopping = threading.Thread(target=pool.terminate, daemon=True)
    stopping.start()
    stopping.join(patience)
    if not stopping.is_alive():
        pool.join()


@contextmanager
def parallel_map(jobs: int, preload: Sequence[str] = ()
                 ) -> Iterator[Callable[[Callable[[T], U], Iterable[T]], Iterator[U]]]:
    """A `map` whose results come in input order, computed in `jobs` worker processes.

    Only a few tasks per worker are in flight at once, so neither inputs nor finished results
    pile up in memory on a large corpus (Pool.imap would queue every result the writer has not
    yet taken). A worker's exception is raised here, in order; leaving the block (normally, on
    an error or on Ctrl-C) stops the workers. With `jobs` <= 1 it is the built-in map.
    `preload`: modules the workers need, imported once for all of them where possible.
    """
    if jobs <= 1:
        yield map
        return
    context = _pool_context(preload)
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    # Ctrl-C while workers start or stop would leave them half done: it is noted, then raised.
    with _on_sigint(note):
        live = [context.Pool(jobs, initializer=_ignore_sigint)]

    queues: list[deque[Any]] = []  # tasks in flight: they hold the pool until cleared

    def ordered(func: Callable[[T], U], items: Iterable[T]) -> Iterator[U]:
        pending = deque[Any]()
        queues.append(pending)
        for item in items:
            pending.append(live[0].apply_async(func, (item,)))
            if len(pending) >= 4 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def stop() -> None:
        with _on_sigint(note):
            _terminate(live[0])
            live.clear()
            for pending in queues:
                pending.clear()
            # Free the pool's semaphores now: their finalizers would otherwise run at some
            # later collection, where a Ctrl-C is swallowed ("Exception ignored in").
            gc.collect()

    try:
        if noted:
            raise KeyboardInterrupt
        yield ordered
    except BaseException:
        stop()
        raise
    stop()
    if noted:
        raise KeyboardInterrupt


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
    model_fp = sha256_file(Path(model) / "head.npz") if model and \
        (Path(model) / "head.npz").exists() else None
    total = manifest["stages"]["segment"].get("segments")
    report = _RunProgress(progress, total if isinstance(total, int) else None)
    # The embedder's own fingerprint (model files, prefix, backend that `auto` chose) is part
    # of the stage's, so installing the onnx extra or rebuilding the model re-scores.
    cached = _cached_embedder(embedder, config["embed"], report.embedding)
    fp = fingerprint(segments_fp, codebook_to_yaml(book), model_fp, config["embed"],
                     config["suggest"], cached.fingerprint)
    done = manifest["stages"].get("suggest", {})
    if not force and done.get("fingerprint") == fp and run.file("suggestions.jsonl").exists():
        return StageResult("suggest", True, 0.0, {k: v for k, v in done.items()
                                                  if isinstance(v, int)})
    index = run.source_index(SOURCE_CACHE)
    segments = run.iter_segments()
    head = load_head(model, cached, book) if model else None
    warnings = _language_warnings(index, cached, book)
    settings = config["suggest"]
    scorer = Scorer(book, cached, settings, head)
    warnings += scorer.warnings + ([] if head else _calibration_warnings(book))
    counts = {"segments": 0, "suggestions": 0, "segments_with_code": 0}
    # Chunk by chunk, so memory holds one chunk's vectors and sources, whatever the corpus size.
    with index, atomic_write(run.file("suggestions.jsonl")) as rows_fh, \
            atomic_write(run.file("suggestions.csv")) as sheet_fh:
        write_csv_header(sheet_fh, settings["top_k"])
        for chunk in _batches(segments, SUGGEST_CHUNK):
            report.chunk_started(len(chunk))
            sources = _sources_of(chunk, index, run)
            scored = scorer.score(chunk, sources)
            items = list(suggestions(scored, settings["top_k"], settings["threshold"]))
            for row in suggestion_rows(items, chunk, sources):
                rows_fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            write_csv_rows(sheet_fh, scored, sources, settings["top_k"], settings["threshold"])
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
                     codebook=str(codebook_path), model=str(model) if model else None,
                     method=scorer.method, embedder=cached.fingerprint)
    run.write_text("codebook.yaml", codebook_to_yaml(book))
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


def _cached_embedder(embedder: Embedder | None, section: dict[str, Any],
                     progress: Callable[[int, int], None] | None) -> CachedEmbedder:
    if embedder is None:
        return make_embedder(section, progress=progress)
    if isinstance(embedder, CachedEmbedder):
        return embedder
    return CachedEmbedder(embedder, cache_dir(section), batch_size=section["batch_size"] * 4,
                          progress=progress)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _sources_of(chunk: Sequence[Segment], index: SourceIndex, run: RunFolder) -> list[Source]:
    """The sources a chunk of segments needs, in order of first use."""
    needed: dict[str, Source] = {}
    for seg in chunk:
        if seg.source_id in needed:
            continue
        if seg.source_id not in index:
            raise RunFolderError(
                f"segment {seg.id} belongs to source {seg.source_id!r}, which sources.jsonl "
                "does not have", path=run.file("segments.jsonl"),
                hint=f"segments.jsonl is older than sources.jsonl; run `precode segment "
                     f"{run.path} --force`")
        needed[seg.source_id] = index.get(seg.source_id)
    return list(needed.values())


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
                   "embed.backend=tfidf with a codebook in that language.")
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
    if embedder.model_key == "tfidf":
        return [*out, f"{sources_in(missing)}, but the codebook is written in "
                f"{', '.join(sorted(codebook_languages(book)))} only: tfidf matches words, "
                "not meaning, so their segments find no codebook text to match. Add an "
                "edition in their language (the codebook's `editions` key) or use the "
                "multilingual default model."]
    return [*out, f"{sources_in(missing)}, but the codebook is written in "
            f"{', '.join(sorted(codebook_languages(book)))} only: the multilingual model "
            "matches meaning across languages, so their codes are suggested from the "
            "codebook's texts as they are, less reliably than with the codebook in their own "
            "language. Add an edition in that language (the codebook's `editions` key; see "
            "the README's Languages section)."]


def run_pipeline(paths: Sequence[str | Path], out: str | Path, config: Config | None = None,
                 codebook: str | Path | None = None, model: str | Path | None = None,
                 participants: str | Path | None = None, force: bool = False,
                 progress: Callable[[int, int], None] | None = None,
                 jobs: int = 1) -> list[StageResult]:
    """ingest -> segment -> suggest, skipping the stages whose inputs did not change.

    `jobs` worker processes read and segment the transcripts (0: one per CPU).

    Everything that can be checked before work starts is checked first (settings, codebook,
    model, input paths), so a mistake never leaves the run folder half updated.
    """
    config = config or load_config()
    check_values(config)
    resolve_jobs(jobs)
    segment_options(config)
    ingest.find_files(paths)
    _, book = resolve_codebook(RunFolder(out), codebook)
    if model is not None:
        load_head(model, make_embedder(config["embed"]), book)
    results = [ingest_stage(paths, out, config, participants=participants, force=force,
                            jobs=jobs)]
    # A changed earlier stage forces the later ones (their fingerprints chain anyway).
    results.append(segment_stage(out, config, force=force, jobs=jobs))
    results.append(suggest_stage(out, config, codebook=codebook, model=model, force=force,
                                 progress=progress))
    return results
