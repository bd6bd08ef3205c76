"""Run-level stages: the plain functions behind `precode ingest`, `segment`, `suggest` and `run`.

Each stage streams: it reads one source (or one chunk of segments) at a time and writes each
result straight into the temporary file of its output, so memory does not grow with the
corpus. The output is renamed into place and the stage recorded in the manifest only when all
of it succeeded, so a failure or Ctrl-C leaves the run as it was. A stage whose fingerprint
(inputs + settings, never `jobs`) is unchanged is skipped unless forced.
"""

from pipeline.stages.import_qdpx import ImportResult, import_qdpx
from pipeline.stages.ingest import ingest_options, ingest_stage
from pipeline.stages.merge import MergeResult, merge_shards
from pipeline.stages.parallel import parallel_map, resolve_jobs
from pipeline.stages.result import StageResult
from pipeline.stages.run import check_run, run_pipeline
from pipeline.stages.segment import segment_options, segment_stage
from pipeline.stages.shard import ShardSpec
from pipeline.stages.suggest import suggest_stage

__all__ = ["ImportResult", "MergeResult", "ShardSpec", "StageResult", "check_run", "import_qdpx",
           "ingest_options", "ingest_stage", "merge_shards", "parallel_map", "resolve_jobs",
           "run_pipeline", "segment_options", "segment_stage", "suggest_stage"]
