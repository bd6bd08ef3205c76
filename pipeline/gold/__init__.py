"""Gold codings: an analyst's coded spans, read from CSV, JSON lines or a `.qdpx` project and
checked against the run they are compared with or trained on."""

from pipeline.gold.files import COLUMNS, GoldSet, read_gold_csv, read_gold_jsonl
from pipeline.gold.qdpx import read_gold_qdpx
from pipeline.gold.read import GOLD_READERS, read_gold

__all__ = ["COLUMNS", "GOLD_READERS", "GoldSet", "read_gold", "read_gold_csv", "read_gold_jsonl",
           "read_gold_qdpx"]
