"""Suggest codes for segments: zero-shot from the codebook, or with a trained head."""

from pipeline.suggest.head import SavedHead, TrainedHead, load_head
from pipeline.suggest.output import Scored, ranked, suggestions, top_codes
from pipeline.suggest.prototype import PrototypeSuggester, resolve_calibration
from pipeline.suggest.rescore import rescore, sources_for
from pipeline.suggest.scorer import Scorer, score_segments, segment_vectors, usable_editions

__all__ = ["PrototypeSuggester", "SavedHead", "Scored", "Scorer", "TrainedHead", "load_head",
           "ranked", "rescore", "resolve_calibration", "score_segments", "segment_vectors",
           "sources_for", "suggestions", "top_codes", "usable_editions"]
