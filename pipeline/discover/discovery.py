"""Inductive discovery: clusters of the segments no code fits, as candidate new codes.

`discover(run)` is the library entry point behind `precode discover RUN`:

1. **Which segments.** Those that carry no code by `pipeline.run_folder.codes.RULE`: no
   suggestion reached the threshold and nobody confirmed a code in review, or every
   suggested code was rejected in review. Sources in a language the embedding model was not
   trained on are left out (their vectors would cluster by language, not by topic).
2. **Filler out** (`pipeline.discover.filler`): segments too short to stand alone, and
   segments that sound more like small talk than like anything in the codebook.
3. **Cluster** (`pipeline.discover.cluster`) the vectors the suggester scores (each segment
   with its turn and the question it answers), and keep clusters of `min_cluster_size` or more
   segments from `min_sources` or more sources: a theme recurs across participants.
4. **Describe** each cluster: size, sources and speakers (with their attributes), keywords
   by class-based TF-IDF against the rest of the corpus, the `exemplars` segments nearest its
   centre, and the nearest existing code: the one the run's suggester scores highest on
   average over the cluster. When it is the best code of most of the cluster's segments, with
   scores not far below the threshold, the cluster may be a *variant* of that code the
   suggester missed (`nearest_code`); otherwise it looks *new*.

`write_discovery` writes `RUN/discovery.json` (everything above) and `RUN/candidates.yaml`
(a codebook of the candidates, names and definitions left to the researcher).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Config, DiscoverSettings, check_values, load_config
from pipeline.discover.candidates import candidates_yaml
from pipeline.discover.cluster import cluster_vectors, distance_threshold
from pipeline.discover.filler import SHORT, SMALL_TALK, filler_reasons
from pipeline.discover.keywords import class_keywords
from pipeline.discover.result import Candidate, Discovery, Exemplar, NearestCode
from pipeline.embed import make_embedder
from pipeline.embed.base import Embedder, normalize_rows
from pipeline.errors import RunFolderError
from pipeline.ingest.participants import speaker_attributes
from pipeline.records import Codebook, Segment
from pipeline.run_folder import RunFolder, SourceIndex, fingerprint
from pipeline.run_folder.codebook import resolve_codebook
from pipeline.run_folder.codes import RULE, RunCodes, run_codes
from pipeline.run_folder.decisions import LOG_NAME, DecisionLog
from pipeline.run_folder.suggestions import SuggestionLine, iter_suggestions
from pipeline.suggest import (
    PrototypeSuggester,
    rescore,
    segment_vectors,
    sources_for,
    usable_editions,
)

VARIANT_SHARE = 0.5  # see nearest_code()
VARIANT_SCORE = 0.5
CHUNK = 2048  # segments embedded at a time (as the suggest stage's SUGGEST_CHUNK)


def discover_settings(config: str | Path | None = None,
                      overrides: Sequence[str] = ()) -> DiscoverSettings:
    """The `discover` section: defaults, a config file, then `section.key=value` overrides."""
    return load_config(config, overrides)["discover"]


def discover(run_path: str | Path, settings: DiscoverSettings | None = None,
             run_config: Config | None = None) -> Discovery:
    """Cluster the run's uncoded segments into candidate codes (nothing is written).

    `settings` is the `discover` config section (default: configs/default.yaml); `run_config`
    the run's resolved config (default: its manifest's), whose `embed` and `suggest` sections
    say how segments are embedded. The run is streamed, not loaded: memory holds the codes of
    each segment, the segments kept for clustering with their vectors, and one chunk of
    `CHUNK` segments' other vectors at a time.
    """
    started = time.perf_counter()
    opts: DiscoverSettings = settings if settings is not None else discover_settings()
    check_values({"discover": opts})  # a library caller's own settings get the CLI's checks
    run = _read_run(run_path)
    config = run_config or run.manifest["config"]
    embedder = make_embedder(config["embed"])
    notes = [f"segments considered: those no code fits ({RULE})"]
    coded = run.coded
    uncoded = set(coded.uncoded())
    with run.folder.source_index() as index:
        pool = _pool(run.folder, index, uncoded, embedder, notes)
        prototypes = PrototypeSuggester(embedder, classifier_weight=0.0).fit(
            run.codebook, usable_editions(run.codebook, embedder))
        kept, reasons, filtered = _filter_filler(pool, embedder, prototypes, opts, notes)
        del pool
        clusters = _cluster(index, kept, embedder, config, opts, notes)
        candidates = _describe(run, index, clusters, prototypes, config, opts)
    counts = {
        "segments": len(coded.codes),
        "uncoded": len(uncoded),
        "rejected_in_review": sum(1 for s in uncoded if s in coded.reviewed),
        "other_language": len(uncoded) - len(reasons),
        "filler_short": sum(1 for r in reasons if r == SHORT),
        "filler_small_talk": sum(1 for r in reasons if r == SMALL_TALK),
        "clustered": len(kept),
        "in_candidates": sum(c.size for c in candidates),
        "candidates": len(candidates),
    }
    used: dict[str, Any] = {k: v for k, v in sorted(opts.items()) if k != "filler_phrases"}
    used["filler_phrases"] = len(opts["filler_phrases"])
    used["embedder"] = embedder.fingerprint
    return Discovery(str(run_path), candidates, counts, filtered, used, notes,
                     list(coded.warnings), time.perf_counter() - started, [s.id for s in kept])


@dataclass
class _Run:
    """What discovery reads of a run before it streams the segments: the codes each segment
    carries (one small record per segment), not the segments or suggestion lines."""

    folder: RunFolder
    manifest: dict[str, Any]
    codebook: Codebook
    coded: RunCodes


def _read_run(run_path: str | Path) -> _Run:
    """The manifest, codebook and `run_codes` of a run, with suggestions streamed; the usual
    errors when segments or suggestions are missing."""
    folder = RunFolder(run_path)
    manifest = folder.manifest()
    _, codebook = resolve_codebook(folder)
    segments = folder.iter_segments()  # raises the usual "segments.jsonl is missing" error
    lines = _Counted(iter_suggestions(folder))
    decisions = DecisionLog(folder.file(LOG_NAME)).read()
    coded = run_codes(segments, lines, decisions, codebook.code_ids())
    if not lines.count:
        raise RunFolderError("the run has no suggestions yet, so nothing says which segments "
                             "no code fits", path=folder.path,
                             hint=f"run `precode suggest {run_path}` first")
    return _Run(folder, manifest, codebook, coded)


class _Counted(Iterator[SuggestionLine]):
    """Suggestion lines passed through, counted (to tell a run without suggestions)."""

    def __init__(self, lines: Iterator[SuggestionLine]) -> None:
        self.lines, self.count = lines, 0

    def __next__(self) -> SuggestionLine:
        line = next(self.lines)
        self.count += 1
        return line


@dataclass
class _Clusters:
    """The kept segments, their vectors, and the clusters listed as candidates (row indexes
    into `kept`)."""

    kept: list[Segment]
    vectors: np.ndarray
    listed: list[np.ndarray]


def _pool(folder: RunFolder, index: SourceIndex, uncoded: set[str], embedder: Embedder,
          notes: list[str]) -> list[Segment]:
    """The uncoded segments (streamed, only these kept), less those in a language the
    embedding model was not trained on (their vectors would cluster by language, not by
    topic)."""
    pool = [s for s in folder.iter_segments() if s.id in uncoded]
    covered = embedder.languages
    if covered is None:
        return pool
    language, name = index.languages, index.names
    other = sorted({language[s.source_id] for s in pool} - covered)
    if other:
        left = sorted({name[s.source_id] for s in pool if language[s.source_id] in other})
        notes.append(f"left out {len(left)} source(s) in {', '.join(other)} "
                     f"({', '.join(left)}): the embedding model was not trained on that "
                     "language, so its segments would cluster by language; use a "
                     "multilingual model or embed.backend=hashed-ngrams to include them")
        pool = [s for s in pool if language[s.source_id] in covered]
    return pool


def _filter_filler(pool: list[Segment], embedder: Embedder, prototypes: PrototypeSuggester,
                   opts: DiscoverSettings, notes: list[str]
                   ) -> tuple[list[Segment], list[str | None], dict[str, list[str]]]:
    """The segments that are not filler, each segment's reason if it is, and a few examples
    of each reason. Own-text vectors are made and compared `CHUNK` segments at a time (a
    segment's reason depends on it alone), so they are never all in memory."""
    positive = prototypes.text_kind_ != "exclude"
    phrases = [str(p) for p in opts["filler_phrases"]]
    filler_vectors = embedder.encode(phrases) if phrases else \
        np.zeros((0, embedder.dimension), np.float32)
    reasons: list[str | None] = []
    for start in range(0, len(pool), CHUNK):
        texts = [s.text for s in pool[start:start + CHUNK]]
        reasons += filler_reasons(texts, embedder.encode(texts), filler_vectors,
                                  prototypes.text_vectors_[positive], opts["min_words"],
                                  opts["filler_margin"])
    kept = [s for s, r in zip(pool, reasons, strict=True) if r is None]
    filtered: dict[str, list[str]] = {SHORT: [], SMALL_TALK: []}
    for seg, why in zip(pool, reasons, strict=True):
        if why is not None and len(filtered[why]) < 5:
            filtered[why].append(seg.text)
    notes.append(f"filler left out: segments under {opts['min_words']:g} words (CJK "
                 "characters count half a word), and segments closer to the small-talk "
                 "phrases (discover.filler_phrases) than to the codebook's texts "
                 f"(discover.filler_margin = {opts['filler_margin']:g})")
    return kept, reasons, filtered


def _cluster(index: SourceIndex, kept: list[Segment], embedder: Embedder, config: Config,
             opts: DiscoverSettings, notes: list[str]) -> _Clusters:
    """Cluster the kept segments; keep clusters that recur across sources, largest first."""
    vectors = _vectors(kept, index, embedder, config, opts["context"])
    threshold, note = distance_threshold(opts, embedder.model_key)
    notes += [note] if note else []
    labels = cluster_vectors(vectors, opts["method"], threshold,
                             opts["min_cluster_size"], opts["hdbscan_min_samples"],
                             opts["hdbscan_components"], opts["random_state"],
                             opts["exact_limit"])
    groups = [np.flatnonzero(labels == k) for k in range(int(labels.max()) + 1)] \
        if len(labels) else []
    few_sources = [g for g in groups
                   if len({kept[i].source_id for i in g}) < opts["min_sources"]]
    groups = [g for g in groups if len({kept[i].source_id for i in g}) >= opts["min_sources"]]
    listed = groups[:opts["max_candidates"]]
    if len(groups) > len(listed):
        notes.append(f"{len(groups) - len(listed)} smaller cluster(s) not listed "
                     f"(discover.max_candidates = {opts['max_candidates']})")
    if few_sources:
        notes.append(f"{len(few_sources)} cluster(s) drawn from fewer than "
                     f"{opts['min_sources']} sources not listed (discover.min_sources): one "
                     "participant's story, not a theme across participants")
    return _Clusters(kept, vectors, listed)


def _describe(run: _Run, index: SourceIndex, clusters: _Clusters,
              prototypes: PrototypeSuggester, config: Config,
              opts: DiscoverSettings) -> list[Candidate]:
    """Each listed cluster as a candidate: keywords against the rest of the corpus (streamed),
    exemplars, and the nearest existing code (only the listed segments are scored)."""
    kept, vectors, listed = clusters.kept, clusters.vectors, clusters.listed
    in_listed = {kept[i].id for g in listed for i in g}
    rest = (s.text for s in run.folder.iter_segments() if s.id not in in_listed)
    keywords = class_keywords([[kept[i].text for i in g] for g in listed], rest,
                              opts["keywords"])
    members = [kept[i] for g in listed for i in g]
    manifest = {**run.manifest, "config": config}
    proba, code_ids, _ = rescore(manifest, index, members, run.codebook) if listed else \
        (np.zeros((0, 0)), [], "")
    ends = np.cumsum([len(g) for g in listed])
    threshold = float(config["suggest"]["threshold"])
    candidates = []
    for number, (group, words, end) in enumerate(zip(listed, keywords, ends, strict=True), 1):
        segs = [kept[i] for i in group]
        near = nearest_code(proba[end - len(group):end], vectors[group], code_ids,
                            prototypes, run.codebook, threshold)
        candidates.append(_candidate(f"candidate_{number:02d}", segs, vectors[group], words,
                                     opts["exemplars"], index, near))
    return candidates


def _vectors(segments: Sequence[Segment], index: SourceIndex, embedder: Embedder,
             config: Config, context: str) -> np.ndarray:
    """Vectors of the segments to cluster: as the suggester sees them, or their own text.
    Made `CHUNK` segments at a time, each chunk with only its sources, into one float32
    array (a segment's vector depends on it and its own source alone)."""
    out = np.zeros((len(segments), embedder.dimension), np.float32)
    for start in range(0, len(segments), CHUNK):
        batch = segments[start:start + CHUNK]
        if context == "turn":
            rows = segment_vectors(batch, sources_for(batch, index), embedder,
                                   config["suggest"])
        else:
            rows = normalize_rows(embedder.encode([s.text for s in batch]))
        out[start:start + len(batch)] = rows
    return out


def nearest_code(proba: np.ndarray, vectors: np.ndarray, code_ids: Sequence[str],
                 prototypes: PrototypeSuggester, book: Codebook,
                 threshold: float) -> NearestCode | None:
    """The code with the highest mean calibrated score over a cluster's segments (rows of
    `proba`, columns `code_ids`), and whether the cluster may be a variant of it: it is the
    best code of at least `VARIANT_SHARE` of the segments, which score on average at least
    `VARIANT_SCORE` times the threshold (near misses rather than strangers)."""
    if not len(code_ids) or not len(proba):
        return None
    mean = proba.mean(axis=0)
    k = int(np.argmax(mean))
    code = code_ids[k]
    share = float(np.mean(np.argmax(proba, axis=1) == k))
    column = prototypes.code_ids_.index(code)
    similarity = float((vectors @ prototypes.centroids_[column]).mean())
    variant = share >= VARIANT_SHARE and mean[k] >= VARIANT_SCORE * threshold
    name = next(c.name for _, c in book.codes() if c.id == code)
    return NearestCode(code, book.theme_of(code), name, round(float(mean[k]), 4),
                       round(share, 4), round(similarity, 4), "variant" if variant else "new")


def _candidate(cid: str, segs: Sequence[Segment], vectors: np.ndarray, keywords: list[str],
               n_exemplars: int, index: SourceIndex,
               nearest: NearestCode | None) -> Candidate:
    """One cluster described; source names come from the index, a speaker's attributes from
    their source, read one at a time."""
    name = index.names
    centre = normalize_rows(vectors.mean(axis=0, keepdims=True))[0]
    closeness = vectors @ centre
    order = np.argsort(-closeness, kind="stable")[:n_exemplars]
    exemplars = [Exemplar(segs[i].id, name[segs[i].source_id], segs[i].speaker,
                          segs[i].text, round(float(closeness[i]), 4)) for i in order]
    sources = Counter(name[s.source_id] for s in segs)
    speakers = Counter((s.speaker, s.source_id) for s in segs)
    speaker_rows = [{"speaker": speaker, "source": name[sid], "segments": n,
                     "attributes": speaker_attributes(index.get(sid), speaker)}
                    for (speaker, sid), n in sorted(speakers.items(),
                                                    key=lambda kv: (-kv[1], kv[0]))]
    return Candidate(cid, len(segs), round(float(closeness.mean()), 4),
                     dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
                     speaker_rows, keywords, exemplars, nearest, [s.id for s in segs])


def write_discovery(run_path: str | Path, result: Discovery) -> list[Path]:
    """Write `discovery.json` and `candidates.yaml` (removed when there are no candidates)."""
    run = RunFolder(run_path)
    manifest = run.manifest()
    written = []
    path = run.file("candidates.yaml")
    if result.candidates:
        run.write_text("candidates.yaml", candidates_yaml(result, run.path.resolve().name))
        written.append(path)
    else:
        path.unlink(missing_ok=True)  # a stale file would list clusters that are gone
    run.write_json("discovery.json", result.to_dict())
    written.append(run.file("discovery.json"))
    run.record_stage(manifest, "discover", fingerprint(result.settings, result.counts),
                     result.seconds, candidates=len(result.candidates),
                     clustered=result.counts["clustered"])
    run.write_manifest(manifest)
    return written
