"""`RUN/evaluation.json`: the result of `precode evaluate`, as one type, and how it is shown.

`EvaluationResult` is what `evaluate()` returns, what `evaluation.json` holds (`to_dict` /
`from_dict`), what the CLI prints and what the report shows. Figures are numbers or None: an
undefined figure is None, with the reason under `undefined` ("<dotted path>": "<why>"), and is
shown as a dash, never as 0. The formatting helpers both readers use are at the end.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import RunFolderError
from pipeline.run_folder.folder import RunFolder

NAME = "evaluation.json"
FORMAT = 1
Figures = dict[str, Any]  # figure name -> number or None (JSON-ready)


@dataclass
class EvaluationResult:
    """Agreement of one hypothesis (suggestions, decisions or a coder) with a gold coder."""

    format: int
    created: str
    versions: dict[str, str]
    run: str
    codebook: str
    gold: dict[str, Any]  # path, codings, coders (name -> codings), rows_skipped
    reference: dict[str, Any]  # kind ("coder"), name
    hypothesis: dict[str, Any]  # kind, name, and what it is (threshold, method, ...)
    alignment: dict[str, Any]  # the span -> segment rule and what it left out
    sources: dict[str, Any]  # rule, evaluated, left_out (name -> why)
    segments: dict[str, int]  # evaluated, with_reference_code, with_hypothesis_code
    units: str
    overall: Figures  # headline figures first
    intervals: dict[str, Any]  # bootstrap: level, draws, figures, per_code
    per_code: dict[str, Figures]
    themes: dict[str, Any]  # per_theme, overall
    unitizing: dict[str, Any]  # Krippendorff's unitizing family: notes, per_theme
    confusion: dict[str, Any]  # note, top, table
    human_baseline: dict[str, Any]  # two coders' agreement beside the machine's, or a note
    threshold_sweep: dict[str, Any] | None
    settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    undefined: dict[str, str] = field(default_factory=dict)

    @property
    def reference_coder(self) -> str:
        return str(self.reference["name"])

    @property
    def hypothesis_kind(self) -> str:
        return str(self.hypothesis["kind"])

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationResult:
        """The result an `evaluation.json` holds; ValueError when its layout is another's."""
        names = [f.name for f in dataclasses.fields(cls)]
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        if data["format"] != FORMAT:
            raise ValueError(f"format {data['format']!r}, this precode reads {FORMAT}")
        for name in ("overall", "per_code", "intervals", "hypothesis", "reference"):
            if not isinstance(data[name], dict):
                raise ValueError(f"{name} is not a mapping")
        return cls(**{name: data[name] for name in names if name in data})


def write_evaluation(run: RunFolder, result: EvaluationResult) -> Path:
    run.write_json(NAME, result.to_dict())
    return run.file(NAME)


def read_evaluation(run: RunFolder) -> EvaluationResult | None:
    """The run's last evaluation (None when it has none), checked."""
    path = run.file(NAME)
    if not path.exists():
        return None
    try:
        return EvaluationResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise RunFolderError(f"{NAME} cannot be read ({exc})", path=path,
                             hint=f"evaluate again: precode evaluate {run.path} --gold FILE"
                             ) from exc


# -- showing figures: the CLI's tables and the report use these --------------------------------

UNDEFINED = "—"
LABELS = {
    "theme_top1_accuracy": "theme top-1 accuracy",
    "micro_precision": "precision (micro)",
    "micro_recall": "recall (micro)",
    "micro_f1": "F1 (micro)",
    "macro_f1": "F1 (macro)",
    "kappa": "Cohen's kappa (pooled)",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "exact_match": "same code set (share of segments)",
    "char_kappa_mean": "character kappa (mean)",
    "binary_u_alpha": "|u-alpha (coded vs not, any code)",
    "u_alpha": "u-alpha (codes as values)",
    "cu_alpha": "cu-alpha (codes where both coded)",
    "global_cu_alpha": "Cu-alpha (themes as domains)",
    "u_alpha_1995": "u-alpha, Krippendorff 1995/2004",
    "unitizing_alpha": "unitizing alpha (per-code |u-alpha pooled)",  # earlier versions' files
}


def figure_label(key: str) -> str:
    """A figure's name as a reader knows it (`top3_accuracy` -> "top-3 accuracy")."""
    if key.startswith("top") and key.endswith("_accuracy") and key[3:-9].isdigit():
        return f"top-{key[3:-9]} accuracy"
    return LABELS.get(key, key.replace("_", " "))


def format_figure(value: Any, digits: int = 3) -> str:
    """A figure as text: undefined (None, NaN) is a dash, never 0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNDEFINED
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def format_interval(interval: Mapping[str, Any] | None) -> str:
    """A bootstrap interval as "low – high"; a dash when undefined, empty when there is none."""
    if not interval:
        return ""
    if interval.get("low") is None:
        return UNDEFINED
    return f"{interval['low']:.3f} – {interval['high']:.3f}"
