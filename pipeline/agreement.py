"""Intercoder agreement coefficients, computed the way their authors defined them.

Why this module exists: precode's users report agreement between human coders (and between a
human and precode's suggestions) in papers, and reviewers compare those numbers with what
ATLAS.ti, NVivo, R's ``irr``/``irrCAC`` or Krippendorff's own macros print. Small definitional
slips change the numbers: the chance term of Cohen's kappa is a *sum* of products of marginal
proportions (one QDA tool multiplies them instead), Gwet's AC1 has its own rules for missing
ratings, and Krippendorff's alpha for unitized text is a different coefficient from alpha over
pre-defined units. So every function here is a pure function over plain Python data (lists,
tuples, mappings; numpy arrays also work) that follows one published definition, cited in its
docstring, and is tested against the worked examples printed in those sources.

Conventions shared by all functions:

* Nominal data for several coders is a *units x coders* matrix: a list of rows, one per unit,
  one cell per coder. ``None`` (or a float NaN) marks a missing value.
* Two coders can be given as two equal-length sequences ``a`` and ``b``; units where either
  value is missing are left out (listwise deletion).
* Invalid input (unequal lengths, nothing to compare, unknown options, spans outside the text,
  fewer than two coders, ...) raises :class:`pipeline.errors.AgreementInputError`, a
  ``ValueError`` whose message says what is wrong and whose hint says how to fix it.
* Where a coefficient is mathematically undefined, chiefly when the expected (chance)
  disagreement is zero because the data show no variation (for example both coders used a
  single category only), the function returns ``math.nan``, never a silent 0 or 1.

Coefficients for coders' own spans on a text (Krippendorff's unitizing family, as ATLAS.ti
reports it, and his 1995/2004 coefficient) live in :mod:`pipeline.unitizing` and are
re-exported here: ``u_alpha``, ``binary_u_alpha``, ``cu_alpha``, ``global_cu_alpha``,
``value_u_alpha``, ``unitizing_alpha`` and ``unitizing_alpha_1995``.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal

import numpy as np

from pipeline.errors import AgreementInputError
from pipeline.unitizing import (
    binary_u_alpha,
    cu_alpha,
    global_cu_alpha,
    iter_spans,
    u_alpha,
    unitizing_alpha,
    unitizing_alpha_1995,
    validate_length,
    validate_offsets,
    value_u_alpha,
)

__all__ = [
    "binary_u_alpha",
    "brennan_prediger",
    "cohen_kappa",
    "cu_alpha",
    "fleiss_kappa",
    "global_cu_alpha",
    "gwet_ac1",
    "krippendorff_alpha",
    "nvivo_kappa",
    "percent_agreement",
    "scott_pi",
    "u_alpha",
    "unitizing_alpha",
    "unitizing_alpha_1995",
    "value_u_alpha",
]

Weights = Literal["linear", "quadratic"]
Level = Literal["nominal", "ordinal", "interval", "ratio"]

_WEIGHTS = ("linear", "quadratic")
_LEVELS = ("nominal", "ordinal", "interval", "ratio")
# Below this an expected disagreement is taken to be zero (it is a sum of non-negative
# proportions that is exactly 0 in the degenerate cases; real data stay far above it).
_ZERO = 1e-14


# --------------------------------------------------------------------------------------------
# Two coders
# --------------------------------------------------------------------------------------------


def percent_agreement(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Proportion of units that two coders put in the same category.

    ``p_o = (number of units with a[i] == b[i]) / (number of units coded by both)``; units with
    a missing value (``None``/NaN) in either sequence are left out. No chance correction: see
    Krippendorff (2019, *Content Analysis*, 4th ed., ch. 12) for why it should not be reported
    alone.
    """
    pairs = _complete_pairs(a, b, "percent_agreement")
    return sum(1 for x, y in pairs if x == y) / len(pairs)


def cohen_kappa(
    a: Sequence[Any],
    b: Sequence[Any],
    weights: Weights | None = None,
    *,
    categories: Sequence[Any] | None = None,
) -> float:
    """Cohen's kappa for two coders, unweighted or with linear/quadratic weights.

    Unweighted (Cohen 1960, *Educ. Psychol. Meas.* 20:37-46):
    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_e = sum_k p_a(k) * p_b(k)``, the **sum** over
    categories of the product of the two coders' marginal proportions.

    Weighted (Cohen 1968, *Psychol. Bull.* 70:213-220): ``kappa_w = 1 - sum_ij v_ij p_ij /
    sum_ij v_ij p_a(i) p_b(j)`` with disagreement weights on equally spaced ordered categories,
    ``v_ij = |i - j| / (k - 1)`` for ``"linear"`` (Cicchetti & Allison 1971) and
    ``v_ij = (i - j)^2 / (k - 1)^2`` for ``"quadratic"`` (Fleiss & Cohen 1973). Unweighted
    kappa is the case ``v_ij = 1`` for ``i != j``.

    ``categories`` gives the category order for the weighted forms (default: the sorted
    observed values) and may include categories nobody used; every observed value must be in
    it. Units with a missing value in either sequence are left out. Returns ``math.nan`` when
    the expected disagreement is zero (e.g. both coders used the same single category).
    """
    if weights is not None and weights not in _WEIGHTS:
        raise AgreementInputError(
            f"cohen_kappa: unknown weights {weights!r}",
            hint='use weights=None (unweighted), "linear" or "quadratic"',
        )
    pairs = _complete_pairs(a, b, "cohen_kappa")
    observed = [x for pair in pairs for x in pair]
    cats = _category_order(observed, categories, "cohen_kappa", ordered=weights is not None)
    table = _cross_table(pairs, cats)
    return _kappa_from_table(table, weights)


def scott_pi(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Scott's pi for two coders (Scott 1955, *Public Opinion Quarterly* 19:321-325).

    ``pi = (p_o - p_e) / (1 - p_e)`` with ``p_e = sum_k ((p_a(k) + p_b(k)) / 2)^2``: chance
    agreement from the two coders' *pooled* category distribution (Cohen's kappa uses their
    separate distributions). Units with a missing value in either sequence are left out.
    Returns ``math.nan`` when both coders used the same single category only.
    """
    pairs = _complete_pairs(a, b, "scott_pi")
    n = len(pairs)
    pooled = Counter(x for pair in pairs for x in pair)
    observed_dis = sum(1 for x, y in pairs if x != y) / n
    expected_dis = 1.0 - sum((count / (2 * n)) ** 2 for count in pooled.values())
    return _one_minus_ratio(observed_dis, expected_dis)


# --------------------------------------------------------------------------------------------
# Several coders
# --------------------------------------------------------------------------------------------


def fleiss_kappa(matrix: Sequence[Sequence[Any]]) -> float:
    """Fleiss' kappa for a units x coders matrix (Fleiss 1971, *Psychol. Bull.* 76:378-382).

    Every unit must be rated by the same number ``n >= 2`` of coders (not necessarily the same
    coders; cells may be ``None`` as long as each row has ``n`` values). With ``n_ij`` the
    number of coders who put unit ``i`` in category ``j`` and ``N`` units:
    ``P_i = (sum_j n_ij^2 - n) / (n (n - 1))``, ``p_j = sum_i n_ij / (N n)``,
    ``kappa = (mean(P_i) - sum_j p_j^2) / (1 - sum_j p_j^2)``. Returns ``math.nan`` when all
    ratings fall in one category.
    """
    rows = _as_matrix(matrix, "fleiss_kappa")
    counts = [Counter(v for v in row if not _is_missing(v)) for row in rows]
    per_unit = [sum(c.values()) for c in counts]
    n = per_unit[0]
    if any(r != n for r in per_unit):
        bad = next(i for i, r in enumerate(per_unit) if r != n)
        raise AgreementInputError(
            f"fleiss_kappa: unit {bad} has {per_unit[bad]} ratings but unit 0 has {n}; Fleiss' "
            "kappa needs the same number of ratings for every unit",
            hint="drop incompletely rated units, or use krippendorff_alpha or gwet_ac1, which "
            "handle missing ratings",
        )
    if n < 2:
        raise AgreementInputError(
            f"fleiss_kappa: each unit has {n} rating(s); at least 2 are needed",
            hint="give a matrix with one column per coder and at least two ratings per unit",
        )
    cats = list(dict.fromkeys(v for c in counts for v in c))
    table = np.array([[c[k] for k in cats] for c in counts], dtype=float)
    n_units = table.shape[0]
    p_unit = ((table**2).sum(axis=1) - n) / (n * (n - 1))
    p_cat = table.sum(axis=0) / (n_units * n)
    return _one_minus_ratio(1.0 - float(p_unit.mean()), 1.0 - float((p_cat**2).sum()))


def krippendorff_alpha(
    matrix: Sequence[Sequence[Any]],
    level: Level = "nominal",
    *,
    categories: Sequence[Any] | None = None,
) -> float:
    """Krippendorff's alpha for a units x coders matrix with missing values.

    Follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability" (Departmental
    Papers ASC 43, University of Pennsylvania): units with fewer than two values are not
    pairable and drop out; each pairable unit ``u`` with ``m_u`` values adds ``1 / (m_u - 1)``
    per ordered pair of its values to the coincidence matrix ``o_ck``; with ``n_c = sum_k o_ck``
    and ``n = sum_c n_c``::

        alpha = 1 - (n - 1) * sum_ck o_ck delta2_ck / sum_ck n_c n_k delta2_ck

    Difference functions ``delta2_ck``: ``"nominal"`` 1 if ``c != k``; ``"ordinal"``
    ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` over the ordered values; ``"interval"``
    ``(c - k)^2``; ``"ratio"`` ``((c - k) / (c + k))^2``. Interval and ratio values must be
    numbers (ratio: non-negative). ``categories`` gives the order of ordinal values (default:
    sorted values) and may list values nobody used.

    Returns ``math.nan`` when the expected disagreement is zero (all pairable values equal).
    Raises :class:`AgreementInputError` when no unit has two or more values.
    """
    if level not in _LEVELS:
        raise AgreementInputError(
            f"krippendorff_alpha: unknown level {level!r}",
            hint='use level="nominal", "ordinal", "interval" or "ratio"',
        )
    rows = _as_matrix(matrix, "krippendorff_alpha")
    units = [[v for v in row if not _is_missing(v)] for row in rows]
    pairable = [u for u in units if len(u) >= 2]
    if not pairable:
        raise AgreementInputError(
            "krippendorff_alpha: no unit has values from two or more coders, so there is "
            "nothing to compare",
            hint="each unit (row) needs at least two non-missing values",
        )
    observed = [v for u in units for v in u]
    if level in ("interval", "ratio"):
        _check_numeric(observed, level)
    cats = _category_order(observed, categories, "krippendorff_alpha", ordered=level != "nominal")
    if level in ("interval", "ratio"):
        _check_numeric(cats, level)
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    coincidence = np.zeros((k, k))
    for unit in pairable:
        counts = np.zeros(k)
        for v in unit:
            counts[index[v]] += 1
        coincidence += (np.outer(counts, counts) - np.diag(counts)) / (len(unit) - 1)
    n_c = coincidence.sum(axis=1)
    n = float(n_c.sum())
    delta = _alpha_delta(level, cats, n_c)
    observed_dis = float((coincidence * delta).sum())
    expected_dis = float((np.outer(n_c, n_c) * delta).sum()) / (n - 1)
    return _one_minus_ratio(observed_dis, expected_dis)


def gwet_ac1(matrix: Sequence[Sequence[Any]], categories: Sequence[Any] | None = None) -> float:
    """Gwet's AC1 for two or more coders with missing ratings.

    Gwet (2008), *Br. J. Math. Stat. Psychol.* 61:29-48, with the missing-rating rules of
    Gwet (2014), *Handbook of Inter-Rater Reliability*, 4th ed., ch. 2 (as in his R package
    irrCAC, ``gwet.ac1.raw``). With ``r_ik`` the number of coders who put unit ``i`` in
    category ``k`` and ``r_i = sum_k r_ik``:

    * units nobody rated are dropped; ``n`` is the number of remaining units;
    * ``p_a`` is the mean over units with ``r_i >= 2`` of
      ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))``;
    * ``pi_k = (1/n) sum_i r_ik / r_i`` over all ``n`` units (single ratings included);
    * ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``, ``AC1 = (p_a - p_e) / (1 - p_e)``.

    ``q`` is the number of categories: ``len(categories)`` when given (so categories that were
    possible but never used count), else the number of distinct observed values. Returns
    ``math.nan`` when ``q == 1`` (the chance term divides by ``q - 1 = 0``; irrCAC instead
    substitutes ``p_e = 1 - 1e-15``).
    """
    r, q = _rating_counts(matrix, categories, "gwet_ac1")
    pa = _multirater_pa(r, "gwet_ac1")
    if q < 2:
        return math.nan
    pi = (r / r.sum(axis=1, keepdims=True)).mean(axis=0)
    pe = float((pi * (1.0 - pi)).sum()) / (q - 1)
    return _one_minus_ratio(1.0 - pa, 1.0 - pe)


def brennan_prediger(
    matrix: Sequence[Sequence[Any]], categories: Sequence[Any] | None = None
) -> float:
    """Brennan & Prediger's kappa_n for two or more coders with missing ratings.

    Brennan & Prediger (1981), *Educ. Psychol. Meas.* 41:687-699 (Bennett et al.'s S for two
    coders): ``(p_a - 1/q) / (1 - 1/q)``, chance agreement from ``q`` equally likely
    categories. ``p_a`` is computed as in :func:`gwet_ac1` (Gwet 2014, *Handbook*, ch. 2):
    the mean over units with at least two ratings of the proportion of agreeing rater pairs.
    ``q`` is ``len(categories)`` when given, else the number of distinct observed values; set
    it explicitly, since the coefficient depends on categories nobody used. Returns
    ``math.nan`` when ``q == 1``.
    """
    r, q = _rating_counts(matrix, categories, "brennan_prediger")
    pa = _multirater_pa(r, "brennan_prediger")
    return _one_minus_ratio(1.0 - pa, 1.0 - 1.0 / q)


# --------------------------------------------------------------------------------------------
# Spans on a text (the unitizing coefficients live in pipeline.unitizing, re-exported here)
# --------------------------------------------------------------------------------------------


def nvivo_kappa(
    a_spans: Iterable[Sequence[Any]], b_spans: Iterable[Sequence[Any]], length: int
) -> float:
    """NVivo's character-level Cohen's kappa for one code in one source.

    As NVivo's Coding Comparison query computes it: every character of the source is a unit,
    each coder's category for it is "coded" or "not coded" with the code, and Cohen's (1960)
    kappa is taken over the ``length`` characters. Spans are half-open ``(start, end)`` with
    ``0 <= start < end <= length``; overlapping spans of one coder count a character once.

    NVivo's documentation states that kappa is 1 when the two users are in complete agreement,
    so NVivo shows 1 also where *neither* coded the node in that source (and where both coded
    all of it). There the expected agreement is 1 and kappa is 0/0, so this function returns
    ``math.nan`` instead: agreeing that "nothing happened here" is no evidence of reliable
    coding, and a 1 would inflate averages over sources. To reproduce NVivo's display, map
    ``nan`` to 1.0 where the percent agreement is 100%.
    """
    length = validate_length(length, "nvivo_kappa")
    masks = []
    for who, spans in (("a_spans", a_spans), ("b_spans", b_spans)):
        mask = np.zeros(length, dtype=bool)
        for span in iter_spans(spans, who, "nvivo_kappa"):
            if isinstance(span, (str, bytes)) or not isinstance(span, Sequence) or len(span) != 2:
                raise AgreementInputError(
                    f"nvivo_kappa: {who} has {span!r}, not a (start, end) pair",
                    hint="give each span as a (start, end) tuple of character offsets",
                )
            start, end = validate_offsets(span[0], span[1], length, f"{who} span {span!r}")
            mask[start:end] = True
        masks.append(mask)
    a, b = masks
    both = int(np.count_nonzero(a & b))
    only_a = int(np.count_nonzero(a & ~b))
    only_b = int(np.count_nonzero(~a & b))
    neither = length - both - only_a - only_b
    table = np.array([[both, only_a], [only_b, neither]], dtype=float)
    return _kappa_from_table(table, None)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _one_minus_ratio(observed_dis: float, expected_dis: float) -> float:
    """``1 - D_o / D_e``, or NaN when the expected disagreement is zero."""
    if expected_dis <= _ZERO:
        return math.nan
    return 1.0 - observed_dis / expected_dis


def _check_hashable(value: Any, where: str) -> None:
    if not isinstance(value, Hashable):
        raise AgreementInputError(
            f"{where}: value {value!r} cannot be used as a category",
            hint="use strings or numbers as category labels",
        )


def _complete_pairs(a: Sequence[Any], b: Sequence[Any], where: str) -> list[tuple[Any, Any]]:
    for name, seq in (("a", a), ("b", b)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, (Sequence, np.ndarray)):
            raise AgreementInputError(
                f"{where}: {name} must be a sequence of codes, got {type(seq).__name__}",
                hint="pass one list per coder, one entry per unit",
            )
    if len(a) != len(b):
        raise AgreementInputError(
            f"{where}: the coders' sequences have different lengths ({len(a)} and {len(b)})",
            hint="give one value per unit for each coder, with None where a unit was not coded",
        )
    if len(a) == 0:
        raise AgreementInputError(
            f"{where}: no units given",
            hint="pass at least one unit coded by both coders",
        )
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not _is_missing(x) and not _is_missing(y)]
    if not pairs:
        raise AgreementInputError(
            f"{where}: no unit was coded by both coders",
            hint="agreement needs units that both coders coded; check for misaligned lists",
        )
    for x, y in pairs:
        _check_hashable(x, where)
        _check_hashable(y, where)
    return pairs


def _as_matrix(matrix: Sequence[Sequence[Any]], where: str) -> list[list[Any]]:
    if isinstance(matrix, (str, bytes)) or not isinstance(matrix, (Sequence, np.ndarray)):
        raise AgreementInputError(
            f"{where}: expected a units x coders matrix (a list of rows), "
            f"got {type(matrix).__name__}",
            hint="pass one row per unit with one cell per coder, None where a coder is missing",
        )
    rows: list[list[Any]] = []
    for i, row in enumerate(matrix):
        if isinstance(row, (str, bytes)) or not isinstance(row, (Sequence, np.ndarray)):
            raise AgreementInputError(
                f"{where}: row {i} is {row!r}, not a sequence of codes",
                hint="pass one row per unit with one cell per coder",
            )
        rows.append(list(row))
    if not rows:
        raise AgreementInputError(f"{where}: no units given", hint="pass at least one row")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise AgreementInputError(
                f"{where}: row {i} has {len(row)} cells but row 0 has {width}",
                hint="every row needs one cell per coder; use None for a missing code",
            )
        for v in row:
            if not _is_missing(v):
                _check_hashable(v, where)
    if width < 2:
        raise AgreementInputError(
            f"{where}: the matrix has {width} coder column(s); at least 2 are needed",
            hint="rows are units and columns are coders; transpose the matrix if needed",
        )
    return rows


def _category_order(
    observed: Sequence[Any], categories: Sequence[Any] | None, where: str, *, ordered: bool
) -> list[Any]:
    if categories is not None:
        if isinstance(categories, (str, bytes)):
            raise AgreementInputError(
                f"{where}: categories must be a sequence of labels, got a string",
                hint='pass a list, e.g. categories=["low", "mid", "high"]',
            )
        cats = list(categories)
        for c in cats:
            _check_hashable(c, where)
        if len(set(cats)) != len(cats):
            raise AgreementInputError(
                f"{where}: categories contains duplicates: {cats!r}",
                hint="list each category once, in order",
            )
        unknown = [v for v in dict.fromkeys(observed) if v not in set(cats)]
        if unknown:
            raise AgreementInputError(
                f"{where}: values {unknown!r} are not in categories {cats!r}",
                hint="add the missing values to categories, or fix the codes",
            )
        return cats
    distinct = list(dict.fromkeys(observed))
    try:
        return sorted(distinct)
    except TypeError:
        if ordered:
            raise AgreementInputError(
                f"{where}: cannot sort the observed values {distinct!r} to order them",
                hint="pass categories=[...] giving the order of the categories",
            ) from None
        return distinct


def _cross_table(pairs: Sequence[tuple[Any, Any]], cats: Sequence[Any]) -> np.ndarray:
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    for x, y in pairs:
        table[index[x], index[y]] += 1
    return table


def _kappa_from_table(table: np.ndarray, weights: Weights | None) -> float:
    """Cohen's (weighted) kappa from a k x k table of counts (rows: coder a)."""
    k = table.shape[0]
    p = table / table.sum()
    expected = np.outer(p.sum(axis=1), p.sum(axis=0))
    i, j = np.indices((k, k))
    if weights is None:
        disagreement = (i != j).astype(float)
    elif k < 2:
        disagreement = np.zeros((k, k))
    elif weights == "linear":
        disagreement = np.abs(i - j) / (k - 1)
    else:
        disagreement = (i - j) ** 2 / (k - 1) ** 2
    return _one_minus_ratio(float((disagreement * p).sum()), float((disagreement * expected).sum()))


def _check_numeric(values: Iterable[Any], level: str) -> None:
    for v in values:
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise AgreementInputError(
                f"krippendorff_alpha: {level} data must be numbers, got {v!r}",
                hint='use level="nominal" or "ordinal" for labels',
            )
        if level == "ratio" and v < 0:
            raise AgreementInputError(
                f"krippendorff_alpha: ratio data cannot be negative, got {v!r}",
                hint='use level="interval" for data with an arbitrary zero',
            )


def _alpha_delta(level: str, cats: Sequence[Any], n_c: np.ndarray) -> np.ndarray:
    k = len(cats)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        cumulative = np.concatenate([[0.0], np.cumsum(n_c)])
        delta = np.zeros((k, k))
        for c in range(k):
            for d in range(c + 1, k):
                between = cumulative[d + 1] - cumulative[c]
                delta[c, d] = delta[d, c] = (between - (n_c[c] + n_c[d]) / 2.0) ** 2
        return delta
    values = np.array([float(c) for c in cats])
    diff = values[:, None] - values[None, :]
    if level == "interval":
        return diff**2
    total = values[:, None] + values[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total == 0, 0.0, diff / np.where(total == 0, 1.0, total))
    return ratio**2


def _rating_counts(
    matrix: Sequence[Sequence[Any]], categories: Sequence[Any] | None, where: str
) -> tuple[np.ndarray, int]:
    """Units x categories counts ``r_ik`` (units nobody rated dropped) and ``q``."""
    rows = _as_matrix(matrix, where)
    units = [[v for v in row if not _is_missing(v)] for row in rows]
    units = [u for u in units if u]
    if not units:
        raise AgreementInputError(
            f"{where}: every cell is missing", hint="pass a matrix with some ratings in it"
        )
    observed = [v for u in units for v in u]
    cats = _category_order(observed, categories, where, ordered=False)
    index = {c: i for i, c in enumerate(cats)}
    r = np.zeros((len(units), len(cats)))
    for row_index, unit in enumerate(units):
        for v in unit:
            r[row_index, index[v]] += 1
    return r, len(cats)


def _multirater_pa(r: np.ndarray, where: str) -> float:
    """Gwet's (2014) observed agreement: mean over units rated by 2+ coders."""
    r_i = r.sum(axis=1)
    keep = r_i >= 2
    if not keep.any():
        raise AgreementInputError(
            f"{where}: no unit was rated by two or more coders, so there is nothing to compare",
            hint="each unit (row) needs at least two non-missing ratings to count",
        )
    agreeing = (r[keep] * (r[keep] - 1)).sum(axis=1) / (r_i[keep] * (r_i[keep] - 1))
    return float(agreeing.mean())
