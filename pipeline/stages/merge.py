"""`precode merge`: shard runs joined into the run folder one machine would have written.

Every check comes first: each folder is a finished (sealed) shard, all N parts are there once,
and they were cut from the same corpus listing and run with the same settings, package
versions, codebook and model. Only then are the parts concatenated in shard order (the corpus
order `ingest.find_files` gives), into temporary files renamed into place at the end, the
manifest last: a failed merge writes nothing.

`sources.jsonl`, `segments.jsonl`, `suggestions.jsonl`, `suggestions.csv` and `codebook.yaml`
come out byte-identical to a one-machine `precode run`, and so do the manifest's inputs,
config, versions and stage fingerprints (an unchanged `precode suggest` on the merged run is
skipped). What cannot be identical: `created`, each stage's `finished` (times), `seconds`
(the shards' summed) and `encoded` (texts the model embedded: a text in two shards is
embedded twice, a warm cache embeds none).
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.embed import LayerMerge, cache_dir, merge_cache_layers
from pipeline.errors import RunFolderError, ShardError
from pipeline.run_folder import MANIFEST, STALE_AFTER, RunFolder
from pipeline.stages.ingest import ingest_fingerprint
from pipeline.stages.segment import segment_fingerprint
from pipeline.stages.shard import SHARD_OUTPUTS
from pipeline.stages.suggest import SHARD_CACHE, suggest_fingerprint

STAGES = ("ingest", "segment", "suggest")


@dataclass
class MergeResult:
    out: Path
    shards: int
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cache: LayerMerge | None = None


@dataclass
class _Shard:
    path: Path
    manifest: dict[str, Any]

    @property
    def info(self) -> dict[str, Any]:
        section: dict[str, Any] = self.manifest["shard"]
        return section

    @property
    def label(self) -> str:
        return f"shard {self.info['index']}/{self.info['count']}"


def merge_shards(paths: Sequence[str | Path], out: str | Path, force: bool = False,
                 merge_cache: bool = True) -> MergeResult:
    """Join the shard run folders `paths` (any order) into the run folder `out`.

    `merge_cache`: fold the shards' embedding cache layers into the configured cache, so
    that a later `precode suggest` (another codebook) on the merged run embeds nothing again.
    """
    if not paths:
        raise ShardError("no shard run folders to merge",
                         hint="give every folder written by `precode run ... --shard I/N`")
    shards = _in_order([_read_shard(Path(p)) for p in paths])
    _check_alike(shards)
    target = RunFolder(out)
    _check_target(target, shards, force)
    manifest = _merged_manifest(shards)
    _write(target, shards, manifest)
    result = MergeResult(target.path, len(shards), {
        key: manifest["stages"][stage][key]
        for stage, key in (("ingest", "sources"), ("segment", "segments"),
                           ("suggest", "suggestions"))})
    result.warnings += _unmatched_participants(shards)
    layers = [s.path / SHARD_CACHE for s in shards if (s.path / SHARD_CACHE).is_dir()]
    root = cache_dir(manifest["config"]["embed"])
    if merge_cache and layers and root is not None:
        result.cache = merge_cache_layers(root, layers)
        if result.cache.conflicts:
            result.warnings.append(
                f"{result.cache.conflicts} text(s) were embedded by two shards with different "
                f"bytes (largest coordinate difference {result.cache.max_difference:.2g}): "
                "the shards ran on machines or libraries whose last bits differ; the cache "
                "kept one vector for each, chosen by a rule that ignores scheduling")
    return result


def _read_shard(path: Path) -> _Shard:
    """A shard folder's manifest, checked to be a finished shard run."""
    run = RunFolder(path)
    if not run.exists():
        raise ShardError("not a run folder (no manifest.json)", path=path,
                         hint="give the folders written by `precode run INPUTS --out FOLDER "
                              "--shard I/N`")
    try:
        manifest = run.manifest()
    except RunFolderError as exc:
        raise ShardError(exc.message, path=path, hint=exc.hint) from exc
    info = manifest.get("shard")
    if not isinstance(info, dict):
        raise ShardError("this run is not a shard (its manifest names no shard)", path=path,
                         hint="merge only folders written with `precode run ... --shard I/N`; "
                              "a whole run needs no merge")
    if "outputs" not in info:
        raise ShardError(f"shard {info.get('index')}/{info.get('count')} did not finish "
                         "(its outputs are not sealed)", path=path,
                         hint="run its `precode run ... --shard I/N` command again: finished "
                              "stages are skipped")
    return _Shard(path, manifest)


def _in_order(shards: list[_Shard]) -> list[_Shard]:
    """The shards by index, checked to be all N parts, each once."""
    count = shards[0].info["count"]
    for shard in shards[1:]:
        if shard.info["count"] != count:
            raise ShardError(
                f"{shard.label} was cut into {shard.info['count']} parts, but "
                f"{shards[0].path} into {count}", path=shard.path,
                hint="merge the shards of one plan: the same N in every --shard I/N")
    by_index: dict[int, _Shard] = {}
    for shard in shards:
        index = shard.info["index"]
        if not 0 <= index < count:
            raise ShardError(f"{shard.label} is not a part of {count}", path=shard.path,
                             hint="its manifest was edited; run the shard again")
        if index in by_index:
            raise ShardError(f"{shard.label} is given twice: {by_index[index].path} and "
                             f"{shard.path}", path=shard.path,
                             hint="give each shard's folder once")
        by_index[index] = shard
    missing = [i for i in range(count) if i not in by_index]
    if missing:
        names = ", ".join(f"{i}/{count}" for i in missing)
        raise ShardError(
            f"shard(s) {names} missing: {len(shards)} of {count} parts given",
            hint=f"run the missing part(s) (`precode run INPUTS --out FOLDER --shard "
                 f"{missing[0]}/{count}`), then merge all {count} folders")
    return [by_index[i] for i in range(count)]


def _check_alike(shards: list[_Shard]) -> None:
    """The shards belong to one run: corpus, settings, versions, codebook and model."""
    first = shards[0]
    position = 0
    for shard in shards:
        where = f"{shard.label} ({shard.path}) and {first.label} ({first.path})"
        if shard.info["plan"] != first.info["plan"]:
            raise ShardError(
                f"{where} were cut from different corpora: the transcripts, their sizes or "
                "the participants file differ", path=shard.path,
                hint="run every shard with the same INPUTS and --participants, over the same "
                     "files (a transcript edited in between changes the plan)")
        if shard.info["first"] != position:
            raise ShardError(f"{shard.label} starts at source {shard.info['first']}, where "
                             f"the shards before it end at {position}", path=shard.path,
                             hint="re-run this shard with this version of precode")
        position += shard.info["sources"]
        differences = _differences(first.manifest["config"], shard.manifest["config"])
        if differences:
            raise ShardError(f"{where} ran with different settings: "
                             f"{', '.join(differences[:5])}", path=shard.path,
                             hint="run every shard with the same --config, --set and options")
        if shard.manifest["versions"] != first.manifest["versions"]:
            changed = _differences(first.manifest["versions"], shard.manifest["versions"])
            raise ShardError(f"{where} ran with different package versions: "
                             f"{', '.join(changed)}", path=shard.path,
                             hint="run every shard from one environment (one container "
                                  "image or venv), so that their results can be joined")
        ours, theirs = shard.manifest["stages"]["suggest"], first.manifest["stages"]["suggest"]
        if ours.get("embedder") != theirs.get("embedder"):
            raise ShardError(f"{where} used different embedding models: "
                             f"{ours.get('embedder')} and {theirs.get('embedder')}",
                             path=shard.path,
                             hint="give every shard the same model files (and backend)")
        if shard.info["outputs"]["codebook.yaml"] != first.info["outputs"]["codebook.yaml"]:
            raise ShardError(f"{where} were coded with different codebooks", path=shard.path,
                             hint="run every shard with the same --codebook")
        if ours.get("settings") != theirs.get("settings"):
            raise ShardError(f"{where} were scored differently (another trained head, or "
                             "other suggest settings)", path=shard.path,
                             hint="run every shard with the same --head and settings")
        if _participants(shard) != _participants(first):
            raise ShardError(f"{where} read different participants files", path=shard.path,
                             hint="give every shard the same --participants file")
    if position != first.info["corpus_sources"]:
        raise ShardError(f"the shards hold {position} sources, the corpus "
                         f"{first.info['corpus_sources']}", path=first.path,
                         hint="re-run the shards with this version of precode")


def _differences(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested mappings."""
    out = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            out += _differences(left, right, f"{prefix}{key}.")
        elif left != right:
            out.append(f"{prefix}{key} ({left!r} / {right!r})")
    return out


def _participants(shard: _Shard) -> list[dict[str, Any]]:
    """The shard's inputs after its transcripts: the participants file, if any."""
    return list(shard.manifest["inputs"][shard.info["sources"]:])


def _check_target(target: RunFolder, shards: list[_Shard], force: bool) -> None:
    resolved = target.path.resolve()
    for shard in shards:
        if shard.path.resolve() == resolved:
            raise ShardError("the merged run cannot be written into one of its shards",
                             path=target.path, hint="give --out a new folder")
    if target.exists() and not force:
        raise ShardError("this run folder exists already", path=target.path,
                         hint="give --out a new folder, or add --force to replace its "
                              "results (decisions.jsonl and codings.jsonl are kept)")


def _merged_manifest(shards: list[_Shard]) -> dict[str, Any]:
    """The manifest one machine would have written, from the shards'."""
    first = shards[0]
    manifest = copy.deepcopy(first.manifest)
    del manifest["shard"]
    config: Config = manifest["config"]
    manifest["created"] = min(s.manifest["created"] for s in shards)
    manifest["inputs"] = [entry for s in shards
                          for entry in s.manifest["inputs"][:s.info["sources"]]]
    manifest["inputs"] += _participants(first)
    ingest_fp = ingest_fingerprint(manifest["inputs"], config)
    segment_fp = segment_fingerprint(ingest_fp, config)
    fingerprints = {"ingest": ingest_fp, "segment": segment_fp,
                    "suggest": suggest_fingerprint(
                        segment_fp, first.manifest["stages"]["suggest"]["settings"])}
    for stage in STAGES:
        entries = [s.manifest["stages"][stage] for s in shards]
        merged = manifest["stages"][stage]
        for key, value in merged.items():
            if key == "fingerprint":
                merged[key] = fingerprints[stage]
            elif key == "seconds":
                merged[key] = round(sum(e[key] for e in entries), 3)
            elif key == "finished":
                merged[key] = max(e[key] for e in entries)
            elif isinstance(value, int) and not isinstance(value, bool):
                merged[key] = sum(e[key] for e in entries)
    return manifest


def _write(target: RunFolder, shards: list[_Shard], manifest: dict[str, Any]) -> None:
    """Concatenate the parts into temporary files, check each shard's against its seal, then
    rename them all into place (the manifest last)."""
    created = not target.path.exists()
    target.path.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".merge-", dir=target.path))
    try:
        for name in SHARD_OUTPUTS:
            _concatenate(name, shards, work / name)
        RunFolder(work).write_manifest(manifest)
        target.drop(STALE_AFTER["ingest"])
        for name in (*SHARD_OUTPUTS, MANIFEST):
            os.replace(work / name, target.file(name))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:
            shutil.rmtree(target.path, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)


def _concatenate(name: str, shards: list[_Shard], path: Path) -> None:
    """One output file: the shards' parts in order (the CSV header once, the codebook once)."""
    with path.open("wb") as out:
        for number, shard in enumerate(shards):
            if name == "codebook.yaml" and number:
                continue
            part = shard.path / name
            digest = hashlib.sha256()
            with part.open("rb") as fh:
                if name.endswith(".csv"):
                    header = fh.readline()
                    digest.update(header)
                    if not number:
                        out.write(header)
                while block := fh.read(1 << 20):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != shard.info["outputs"][name]:
                raise ShardError(f"{shard.label}'s {name} changed after the shard finished",
                                 path=part,
                                 hint="run the shard's `precode run ... --shard I/N` command "
                                      "again (with --force) so that its outputs agree")
        out.flush()
        os.fsync(out.fileno())


def _unmatched_participants(shards: list[_Shard]) -> list[str]:
    """Participants rows that no shard matched: only these matched nothing in the corpus."""
    tables = [s.info.get("unmatched_participants") or {} for s in shards]
    common = set(tables[0]).intersection(*tables[1:])
    return [tables[0][k] for k in sorted(common, key=int)]
