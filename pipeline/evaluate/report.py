"""The evaluation as JSON: every figure, NaN written as null with a note saying why.

`clean(report)` walks the report, rounds floats, and replaces each NaN with `null`, recording
`"<dotted path>": "<reason>"` under the report's `undefined` key, so no undefined value is
ever shown as 0 or 1 and a reader of `evaluation.json` sees why a cell is empty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_NO_VARIATION = ("no variation to correct for chance: a side used one category only (for a "
                 "code, usually: neither side, or only one side, ever gave it)")
_FAMILY = ("undefined: no variation (e.g. nobody coded anything, or all units that overlap "
           "have one code), or a side gave overlapping spans two codes, which this family "
           "does not allow (see 'unitizing' in evaluation.json)")
REASONS = {
    "precision": "0/0: the hypothesis never gave this code",
    "micro_precision": "0/0: the hypothesis gave no code at all",
    "recall": "0/0: the reference never gave this code",
    "micro_recall": "0/0: the reference gave no code at all",
    "f1": "0/0: neither side gave this code",
    "micro_f1": "0/0: neither side gave any code",
    "macro_f1": "no code occurs in the reference",
    "exact_match": "no segments",
    "kappa": _NO_VARIATION,
    "krippendorff_alpha": _NO_VARIATION,
    "gwet_ac1": _NO_VARIATION,
    "binary_u_alpha": "no variation: nobody coded it (or everybody coded all the text)",
    "u_alpha": _FAMILY,
    "cu_alpha": _FAMILY,
    "global_cu_alpha": _FAMILY,
    "value_u_alpha": ("undefined: fewer than two sides gave this code where both coded, the "
                      "code's theme has overlapping codes on a side, or the code is the only "
                      "one paired (see 'unitizing' in evaluation.json)"),
    "u_alpha_1995": "no variation: nobody coded it",
    "char_kappa": "no source where the code's characters vary between the sides",
    "char_kappa_mean": "no code has a defined character-level kappa",
    "low": "the figure is undefined in every bootstrap draw",
    "high": "the figure is undefined in every bootstrap draw",
    "codes_per_segment": "no segments",
    "uncoded_share": "no segments",
    "difference": "a figure it is the difference of is undefined",
}
_RANKING = "no evaluated segment carries a reference code, so there is nothing to rank"


def reason(key: str) -> str:
    if key.endswith("_accuracy"):
        return _RANKING
    return REASONS.get(key, "undefined (a ratio with nothing to divide by)")


def clean(value: Any, undefined: dict[str, str], path: str = "", digits: int = 6) -> Any:
    """A JSON-ready copy of `value`: NaN -> None (noted in `undefined`), numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): clean(v, undefined, f"{path}.{k}" if path else str(k), digits)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, undefined, f"{path}[{i}]", digits) for i, v in enumerate(value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            undefined[path] = reason(path.rsplit(".", 1)[-1])
            return None
        return round(number, digits)
    return value
