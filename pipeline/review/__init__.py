"""Human confirmation of suggestions: `precode review`.

- `session`: a coder's review of a run (queue, keys, undo, refits), no input or output.
- `terminal`: the loop that shows segments with rich and reads keys as plain lines.
- `order`: which segments come first (uncertain, document, random) and the filters.
- `trainer`: refitting the head on decisions in a background thread.
- `sheet`: decisions read back from a filled-in review spreadsheet.

The review log itself (`RUN/decisions.jsonl`, appended and fsynced decision by decision) and
what it means (retractions folded, reviewed segments) is `pipeline.run_folder.decisions`'s.
"""

from pipeline.review.order import ORDERS, ReviewFilter
from pipeline.review.session import ReviewData, ReviewSession, load_review
from pipeline.review.sheet import SheetImport, import_sheet
from pipeline.review.trainer import Refitter
from pipeline.run_folder.decisions import DecisionLog

__all__ = ["ORDERS", "DecisionLog", "Refitter", "ReviewData", "ReviewFilter", "ReviewSession",
           "SheetImport", "import_sheet", "load_review"]
