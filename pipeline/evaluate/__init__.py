"""`precode evaluate`: agreement of suggestions, decisions or a second coder with a gold coder.

`evaluation` holds the steps of `evaluate()`; the pieces are pure functions in `figures`
(one comparison), `bootstrap` (intervals), `unitized` (Krippendorff's unitizing family),
`baseline` (two human coders) and `inputs` (the two sides, read from the run).
"""

from pipeline.evaluate.evaluation import Evaluation, evaluate, parse_thresholds
from pipeline.evaluate.inputs import Against

__all__ = ["Against", "Evaluation", "evaluate", "parse_thresholds"]
