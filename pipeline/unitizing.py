"""Krippendorff's alpha for unitized continua: coders' own spans instead of given units.

Why this module exists: in ATLAS.ti, and in Krippendorff's own writing, coders do not code
pre-defined units; each marks the stretches of a text (a *continuum*) they find relevant and
gives each stretch (a *unit*) a value, leaving the rest (the *gaps*) unmarked. Two families of
coefficients measure how reliably they do so, and papers report both, so precode has both:

* the **uα family** of Krippendorff, Mathet, Bouvry & Widlöcher (2016), "On the reliability
  of unitizing textual continua: Further developments", *Quality & Quantity* 50:2347-2364,
  presented with a worked example in Krippendorff (2019), *Content Analysis: An Introduction to
  Its Methodology*, 4th ed., §12.6: :func:`u_alpha` (uα), :func:`binary_u_alpha` (|uα),
  :func:`cu_alpha` (cuα), :func:`value_u_alpha` ((k)uα, one value) and
  :func:`global_cu_alpha` (Cuα). ATLAS.ti's intercoder agreement tool reports |uα as
  "α-binary" (per code and per semantic domain), cuα per semantic domain, and Cu-α over all
  semantic domains;
* the **older coefficient** of Krippendorff (1995), "On the reliability of unitizing
  continuous data", *Sociological Methodology* 25:47-76, with the expected disagreement as
  corrected in *Content Analysis*, 2nd ed. (2004; worked example on p. 254):
  :func:`unitizing_alpha_1995`. It scores overlapping units by the squared differences of their
  boundaries; DKPro Statistics and many papers use it.

Input, shared by every function: ``spans_by_coder`` maps each coder to a list of half-open
``(start, end, value)`` spans on a continuum of ``length`` positions (characters), with
``0 <= start < end <= length``. A coder who marked nothing still appears, with an empty list.

* **Units of one coder that touch are separate units.** ``(0, 5, "x")`` and ``(5, 9, "x")`` are
  two units of length 5 and 4, not one of 9: the published examples depend on this (and the
  chance term does, through the units' lengths).
* **Units of one coder and one value must not overlap**: that is an input error
  (:class:`pipeline.errors.AgreementInputError`), since none of these coefficients defines what
  it would mean. The uα family further assumes that *all* of one coder's units are disjoint (the
  values of one variable are mutually exclusive; ATLAS.ti asks the same of the codes of one
  semantic domain); :func:`global_cu_alpha` allows overlaps between domains, and the per-value
  coefficients (:func:`unitizing_alpha`, :func:`unitizing_alpha_1995`) between values.
* Values are nominal: any hashable label except ``None``.
* Undefined is ``math.nan`` (nobody used a value, nothing to pair, no variation to correct for
  chance), never a silent 0 or 1.

The uα family in one paragraph. Let ``m`` coders each partition the continuum into their units
and their gaps. The observed coincidence ``l_ck`` is ``1/(m-1)`` times the summed length of the
intersections of a segment valued ``c`` of one coder with a segment valued ``k`` of another,
over all ordered pairs of coders (the gap is one more value). With ``n = sum l_ck = m * length``
and margins ``l_c``, the expected coincidences are ``e_ck = n (l_c l_k - [c = k] S_c) / (n^2 -
sum_c S_c)``, where ``S_c`` sums the squared lengths of the units valued ``c`` (a unit cannot
pair with itself) and, for the gap, the gap length (gaps are irrelevant matter, every position
on its own). ``alpha = 1 - D_o / D_e`` with nominal disagreements ``D_o = sum_{c != k} l_ck``,
``D_e = sum_{c != k} e_ck``. With these definitions the book's worked example (Krippendorff
2019, §12.6) comes out as printed; see tests/test_agreement_unitizing.py.

:class:`UnitizingCounts` holds those sums for a continuum; they add up over independent
continua (sources), which is how ``precode evaluate`` bootstraps intervals by source.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pipeline.errors import AgreementInputError

__all__ = [
    "UnitizingCounts",
    "binary_u_alpha",
    "counts_alpha",
    "counts_value_alpha",
    "cu_alpha",
    "disagreements",
    "disagreements_1995",
    "global_cu_alpha",
    "u_alpha",
    "unitizing_alpha",
    "unitizing_alpha_1995",
    "unitizing_counts",
    "value_u_alpha",
]

Unit = tuple[int, int, Hashable]
Overlaps = Literal["none", "per value", "per domain"]
Coefficient = Literal["u", "binary", "cu"]

GAP = "(gap)"  # the gap's name in error messages; internally the gap is row/column 0


# --------------------------------------------------------------------------------------------
# The uα family (Krippendorff, Mathet, Bouvry & Widlöcher 2016; Krippendorff 2019, §12.6)
# --------------------------------------------------------------------------------------------


def u_alpha(spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]], length: int) -> float:
    """uα: agreement on where the units are *and* which value each has (nominal).

    Krippendorff, Mathet, Bouvry & Widlöcher (2016), *Quality & Quantity* 50:2347-2364;
    Krippendorff (2019), *Content Analysis*, 4th ed., §12.6 (the book's three coders on 60
    positions give uα = .510). Gaps are one more value; see the module docstring for the
    coincidences. A coder's units must not overlap (one variable, mutually exclusive values).
    Returns ``math.nan`` when nothing varies (e.g. nobody coded anything).
    """
    counts = unitizing_counts(spans_by_coder, length, where="u_alpha")
    return float(counts_alpha(counts, "u"))


def binary_u_alpha(spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]], length: int) -> float:
    """|uα: agreement on what is relevant (a unit of any value) and what is not (a gap).

    Krippendorff et al. (2016); Krippendorff (2019), §12.6 (the book's example gives
    |uα = .414; the book prints .413). The coincidences of :func:`u_alpha` collapsed to two
    values, valued and gap. For the units of one code alone this is ATLAS.ti's "α-binary" of that
    code (:func:`unitizing_alpha` with a label). Returns ``math.nan`` when nobody coded anything
    or everybody coded everything.
    """
    counts = unitizing_counts(spans_by_coder, length, where="binary_u_alpha")
    return float(counts_alpha(counts, "binary"))


def cu_alpha(spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]], length: int) -> float:
    """cuα: agreement on the values of the units, where coders' units overlap; gaps ignored.

    Krippendorff et al. (2016); Krippendorff (2019), §12.6 (the book's example gives
    cuα = .724). Only the valued x valued part of the coincidences of :func:`u_alpha` counts.
    In the expected coincidences each unit counts with its *mass* in that part, the length it
    shares with other coders' units, ``sum_{j != i} |unit ∩ units of j| / (m - 1)``, squared in
    place of its squared length (a unit cannot pair with itself); with this reading the book's
    .724 comes out to three decimals. In ATLAS.ti this is cu-α of one semantic domain (the values
    are its codes). Returns ``math.nan`` when no units of different coders overlap, or when they
    all have one value.
    """
    counts = unitizing_counts(spans_by_coder, length, where="cu_alpha")
    return float(counts_alpha(counts, "cu"))


def value_u_alpha(
    spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]], length: int, value: Hashable
) -> float:
    """(k)uα: how reliably the coders use one value, among the overlapping valued units.

    Krippendorff (2019), §12.6 (the reliability of individual values), on the coincidences of
    :func:`cu_alpha`: ``1 - D_o(k) / D_e(k)`` with ``D_o(k) = (l_.k - l_kk) / l_.k`` (the share of
    the value's paired matter paired with another value) and ``D_e(k) = (e_.k - e_kk) / e_.k``
    (the same share expected by chance). Returns ``math.nan`` where it is undefined: fewer than
    two coders used the value (nobody could have agreed with the one who did), its units overlap
    no other coder's unit, or it is the only value paired.
    """
    _check_value(value, "value_u_alpha")
    counts = unitizing_counts(spans_by_coder, length, where="value_u_alpha")
    if value not in counts.values:
        return math.nan
    return float(counts_value_alpha(counts, counts.values.index(value)))


def global_cu_alpha(
    spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]], length: int
) -> float:
    """Cuα: cuα over several variables (ATLAS.ti: over all semantic domains) at once.

    A value may be a ``(domain, code)`` pair; any other value belongs to one unnamed domain, so
    with a single domain Cuα equals :func:`cu_alpha`. Units of different domains may overlap
    (ATLAS.ti's documentation of Cu-α allows codes of several semantic domains on the same or
    overlapping quotations); within a domain a coder's units must not. Each domain's
    coincidences are those of :func:`cu_alpha`, units of different domains never pair, and the
    domains' disagreements are pooled: ``Cuα = 1 - sum_d D_o(d) / sum_d D_e(d)``, so Cuα is not
    the mean of the domains' cuα (ATLAS.ti's documentation says the same of its Cu-α).

    **Our reading, not checked against a printed value.** No worked example of Cuα, and
    neither the 2016 paper's text nor ATLAS.ti's code, was available to us; the pooling follows
    Krippendorff's (1995; 2004) pooling of disagreements over categories. Another reading would
    take each unit's *domain* as its value in cuα, measuring agreement on which domain applies
    rather than on the codes within each domain. Returns ``math.nan`` when no domain has a
    defined expected disagreement.
    """
    coders, length, units = _read_units(spans_by_coder, length, "global_cu_alpha", "per domain")
    by_domain: dict[Hashable, list[list[Unit]]] = {}
    for i, coder_units in enumerate(units):
        for unit in coder_units:
            domain = _domain(unit[2])
            by_domain.setdefault(domain, [[] for _ in coders])[i].append(unit)
    observed = expected = 0.0
    for domain_units in by_domain.values():
        counts = _counts(domain_units, length, None)
        do, de = disagreements(counts.observed[1:, 1:], counts.valued_squares)
        if de > _tiny(counts.observed[1:, 1:].sum()):
            observed += float(do)
            expected += float(de)
    return 1.0 - observed / expected if expected > 0 else math.nan


# --------------------------------------------------------------------------------------------
# Krippendorff's (2016) binary coefficient per label, as precode first shipped it
# --------------------------------------------------------------------------------------------


def unitizing_alpha(
    spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]],
    length: int,
    label: Hashable | None = None,
) -> float:
    """|uα for the units of one label: ATLAS.ti's "α-binary" of one code.

    ``unitizing_alpha(spans, length, label)`` is :func:`binary_u_alpha` of the spans carrying
    ``label``, every other span counting as gap (irrelevant matter); spans of *other* labels may
    overlap them. This is the coefficient ATLAS.ti shows per code as α-binary (Krippendorff et
    al. 2016's |uα for a variable with one value). ``math.nan`` if nobody used the label or
    everybody coded the whole continuum with it.

    ``label=None`` is precode's own aggregate, not a published coefficient: the labels' binary
    disagreements pooled, ``1 - sum_c D_o(c) / sum_c D_e(c)``, the way Krippendorff (1995) pools
    categories. For a published overall figure use :func:`binary_u_alpha` (relevant vs. not),
    :func:`u_alpha`, :func:`cu_alpha` or :func:`global_cu_alpha`.
    """
    if label is not None:
        _check_value(label, "unitizing_alpha")
    coders, length, units = _read_units(spans_by_coder, length, "unitizing_alpha", "per value")
    labels = [label] if label is not None else list(
        dict.fromkeys(u[2] for coder_units in units for u in coder_units))
    observed = expected = 0.0
    for lab in labels:
        counts = _counts([[u for u in cu if u[2] == lab] for cu in units], length, None)
        do, de = disagreements(*_collapse(counts.observed, counts.unit_squares))
        observed += float(do)
        expected += float(de)
    if expected <= _tiny(len(coders) * length):
        return math.nan
    return 1.0 - observed / expected


# --------------------------------------------------------------------------------------------
# Sufficient statistics (for bootstrapping over sources)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitizingCounts:
    """The sums the uα family is computed from, for one continuum or several added up.

    ``values`` orders the values; index 0 of ``observed`` and ``unit_squares`` is the gap, and
    value ``values[i]`` is index ``i + 1``. ``observed`` holds the coincidences ``l_ck``;
    ``unit_squares`` the squared unit lengths per value (for the gap: the gap length);
    ``valued_squares`` the squared masses in the valued part (for cuα, per value);
    ``coders_using`` how many units each coder gave each value (coders x values).
    Counts of independent continua (sources) with the same ``values`` add up with ``+``.
    """

    values: tuple[Hashable, ...]
    observed: np.ndarray
    unit_squares: np.ndarray
    valued_squares: np.ndarray
    coders_using: np.ndarray

    def __add__(self, other: UnitizingCounts) -> UnitizingCounts:
        if self.values != other.values or self.coders_using.shape != other.coders_using.shape:
            raise ValueError("UnitizingCounts of different values or coders cannot be added")
        return UnitizingCounts(self.values, self.observed + other.observed,
                               self.unit_squares + other.unit_squares,
                               self.valued_squares + other.valued_squares,
                               self.coders_using + other.coders_using)


def unitizing_counts(
    spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]],
    length: int,
    values: Sequence[Hashable] | None = None,
    *,
    where: str = "unitizing_counts",
) -> UnitizingCounts:
    """Validate spans (a coder's units must be disjoint) and return their :class:`UnitizingCounts`.

    ``values`` fixes the order of the values (and may list values nobody used), so that counts
    of several continua can be added; by default, values in order of first appearance.
    """
    _, length, units = _read_units(spans_by_coder, length, where, "none")
    if values is not None:
        for v in values:
            _check_value(v, where)
        if len(set(values)) != len(values):
            raise AgreementInputError(f"{where}: values {list(values)!r} has duplicates",
                                      hint="list each value once")
        unknown = {u[2] for cu in units for u in cu} - set(values)
        if unknown:
            raise AgreementInputError(
                f"{where}: values {sorted(map(repr, unknown))} are not in values={list(values)!r}",
                hint="list every value the spans use, or leave values out",
            )
    return _counts(units, length, values)


def counts_alpha(counts: UnitizingCounts, coefficient: Coefficient,
                 observed: np.ndarray | None = None, unit_squares: np.ndarray | None = None,
                 valued_squares: np.ndarray | None = None) -> np.ndarray:
    """uα (``"u"``), |uα (``"binary"``) or cuα (``"cu"``) from counts; NaN where undefined.

    The arrays may carry leading axes (e.g. bootstrap draws): pass them in place of the
    counts' own (``observed`` ``(..., V+1, V+1)``, ``unit_squares`` ``(..., V+1)``,
    ``valued_squares`` ``(..., V)``).
    """
    obs = counts.observed if observed is None else observed
    if coefficient == "u":
        sq = counts.unit_squares if unit_squares is None else unit_squares
        return _alpha(obs, sq)
    if coefficient == "binary":
        sq = counts.unit_squares if unit_squares is None else unit_squares
        return _alpha(*_collapse(obs, sq))
    if coefficient == "cu":
        vs = counts.valued_squares if valued_squares is None else valued_squares
        return _alpha(obs[..., 1:, 1:], vs)
    raise ValueError(f"unknown coefficient {coefficient!r}")


def counts_value_alpha(counts: UnitizingCounts, index: int, observed: np.ndarray | None = None,
                       valued_squares: np.ndarray | None = None,
                       coders_using: np.ndarray | None = None) -> np.ndarray:
    """(k)uα of ``counts.values[index]`` from counts (leading axes allowed, as in counts_alpha)."""
    obs = (counts.observed if observed is None else observed)[..., 1:, 1:]
    vs = counts.valued_squares if valued_squares is None else valued_squares
    using = counts.coders_using if coders_using is None else coders_using
    n = obs.sum(axis=(-2, -1))
    margin = obs[..., index, :].sum(axis=-1)
    agree = obs[..., index, index]
    s_k = vs[..., index]
    coders = (using[..., :, index] > 0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_o = (margin - agree) / margin
        d_e = margin * (n - margin) / (margin * n - s_k)
        alpha = 1.0 - d_o / d_e
    bad = (coders < 2) | ~(margin > _tiny(n)) | ~(d_e > 1e-12)
    return np.where(bad, np.nan, alpha)


def _alpha(observed: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Nominal ``1 - D_o / D_e`` with the expected coincidences of Krippendorff et al. (2016).

    With ``n = l..``, margins ``l_c`` and ``S = sum_c S_c``: ``sum_{c != k} e_ck = n (n^2 -
    sum_c l_c^2) / (n^2 - S)`` (the diagonal's ``S_c`` cancel), and ``D_o = n - sum_c l_cc``.
    """
    d_o, d_e = disagreements(observed, squares)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - d_o / d_e
    return np.where(d_e > _tiny(observed.sum(axis=(-2, -1))), alpha, np.nan)


def disagreements(observed: np.ndarray, squares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(D_o, D_e)`` as sums of coincidences (not divided by ``n``; ``0, 0`` where empty).

    ``observed`` ``(..., K, K)`` and ``squares`` ``(..., K)`` as in :class:`UnitizingCounts`
    (for cuα: the valued block and ``valued_squares``); leading axes are kept.
    """
    n = observed.sum(axis=(-2, -1))
    margins = observed.sum(axis=-1)
    d_o = n - np.trace(observed, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_e = n * (n * n - (margins * margins).sum(axis=-1)) / (n * n - squares.sum(axis=-1))
    empty = n <= 0
    return np.where(empty, 0.0, d_o), np.where(empty, 0.0, d_e)


def _collapse(observed: np.ndarray, squares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coincidences of all values merged into one "valued" value beside the gap."""
    gap_gap = observed[..., 0, 0]
    gap_val = observed[..., 0, 1:].sum(axis=-1)
    val_gap = observed[..., 1:, 0].sum(axis=-1)
    val_val = observed[..., 1:, 1:].sum(axis=(-2, -1))
    obs = np.stack([np.stack([gap_gap, gap_val], axis=-1),
                    np.stack([val_gap, val_val], axis=-1)], axis=-2)
    sq = np.stack([squares[..., 0], squares[..., 1:].sum(axis=-1)], axis=-1)
    return obs, sq


def _tiny(n: Any) -> Any:
    """Below this a disagreement sum counts as zero (it is a sum of lengths; real ones are >= 1
    over a few coders, while rounding leaves ~1e-12 of n)."""
    return 1e-9 * np.maximum(n, 1.0)


def _counts(units: Sequence[Sequence[Unit]], length: int,
            values: Sequence[Hashable] | None) -> UnitizingCounts:
    """Coincidences and squared lengths of validated, per-coder disjoint units."""
    m = len(units)
    order = list(values) if values is not None else list(
        dict.fromkeys(u[2] for coder_units in units for u in coder_units))
    index = {v: i + 1 for i, v in enumerate(order)}
    k = len(order) + 1
    # Elementary stretches between consecutive boundaries: every coder's value is constant.
    cuts = sorted({0, length, *(x for cu in units for s, e, _ in cu for x in (s, e))})
    bounds = np.array(cuts, dtype=np.int64)
    widths = np.diff(bounds).astype(float)
    starts = bounds[:-1]
    category = np.zeros((m, len(widths)), dtype=np.int64)  # 0 = gap
    owner = np.full((m, len(widths)), -1, dtype=np.int64)  # unit index within the coder
    unit_squares = np.zeros(k)
    coders_using = np.zeros((m, k - 1))
    for i, coder_units in enumerate(units):
        for j, (s, e, v) in enumerate(coder_units):
            lo, hi = np.searchsorted(starts, s), np.searchsorted(starts, e)
            category[i, lo:hi] = index[v]
            owner[i, lo:hi] = j
            unit_squares[index[v]] += float(e - s) ** 2
            coders_using[i, index[v] - 1] += 1
        unit_squares[0] += float((category[i] == 0) @ widths)
    observed = np.zeros((k, k))
    valued = category > 0
    others_valued = valued.sum(axis=0)[None, :] - valued  # other coders valued here
    valued_squares = np.zeros(k - 1)
    if m >= 2:
        for i in range(m):
            for j in range(m):
                if i != j:
                    np.add.at(observed, (category[i], category[j]), widths)
            observed_scale = 1.0 / (m - 1)
            mass = np.zeros(len(units[i]))
            here = owner[i] >= 0
            np.add.at(mass, owner[i][here], widths[here] * others_valued[i][here] * observed_scale)
            for j, (_, _, v) in enumerate(units[i]):
                valued_squares[index[v] - 1] += mass[j] ** 2
        observed /= m - 1
    return UnitizingCounts(tuple(order), observed, unit_squares, valued_squares, coders_using)


# --------------------------------------------------------------------------------------------
# Krippendorff (1995; 2004): squared boundary differences
# --------------------------------------------------------------------------------------------


def unitizing_alpha_1995(
    spans_by_coder: Mapping[Any, Iterable[Sequence[Any]]],
    length: int,
    label: Hashable | None,
) -> float:
    """Krippendorff's older unitizing alpha for one category (``label=None``: all pooled).

    Krippendorff (1995), *Sociological Methodology* 25:47-76, with the expected disagreement
    as corrected in Krippendorff (2004), *Content Analysis*, 2nd ed. (example on p. 254). For
    category ``k`` each coder's continuum is cut into units of ``k`` and gaps (everything
    else, other categories included). Two sections ``g`` (coder ``i``) and ``h`` (coder ``j``), with
    beginnings ``b`` and lengths ``l``, differ by

    * ``(b_g - b_h)^2 + (b_g + l_g - b_h - l_h)^2`` if both are units and they overlap;
    * ``l_g^2`` if ``g`` is a unit lying within the gap ``h`` (and vice versa);
    * ``0`` otherwise.

    ``D_o = sum_i sum_{j != i} sum_g sum_h delta^2_gh / (m (m - 1) L^2)`` and, with ``N`` the
    number of units of ``k`` over all coders,
    ``D_e = (2 / L) sum_{units g} [(N - 1)(2 l_g^3 - 3 l_g^2 + l_g) / 3 + l_g^2 sum_{gaps h,
    l_h >= l_g} (l_h - l_g + 1)] / (m L (m L - 1) - sum_{units g} l_g (l_g - 1))``.
    ``alpha = 1 - D_o / D_e``; ``label=None`` pools the categories used,
    ``1 - sum_k D_o(k) / sum_k D_e(k)``, as Krippendorff (1995; 2004) does. Spans of *different*
    labels may overlap. The 2016 paper replaced this coefficient because it misbehaves with more
    than two coders; it is here for comparison with tools and papers that report it. Returns
    ``math.nan`` when the expected disagreement is zero (e.g. nobody used the label).
    """
    if label is not None:
        _check_value(label, "unitizing_alpha_1995")
    _, length, units = _read_units(spans_by_coder, length, "unitizing_alpha_1995", "per value")
    labels = [label] if label is not None else list(
        dict.fromkeys(u[2] for coder_units in units for u in coder_units))
    observed = expected = 0.0
    for lab in labels:
        do, de = disagreements_1995(
            [[(s, e) for s, e, v in coder_units if v == lab] for coder_units in units], length)
        observed += do
        expected += de
    return 1.0 - observed / expected if expected > 0 else math.nan


def disagreements_1995(units: Sequence[Sequence[tuple[int, int]]], length: int,
                       cuts: Sequence[int] = ()) -> tuple[float, float]:
    """``(D_o, D_e)`` of Krippendorff's 1995/2004 coefficient for one category.

    ``units`` holds each coder's sorted, disjoint ``(start, end)`` units of the category.
    ``cuts`` are positions where a gap ends even if no unit begins there (the borders of sources
    laid end to end), so no gap reaches from one source into the next. Sums are exact integers
    until the final division.
    """
    m, total = len(units), int(length)
    borders = sorted({0, total, *cuts})
    sections = [_sections_1995(coder_units, borders) for coder_units in units]
    pair_sum = 0
    for i in range(m):
        for j in range(i + 1, m):
            pair_sum += _pair_differences_1995(sections[i], sections[j])
    d_o = 2 * pair_sum / (m * (m - 1) * total * total)
    lengths = [e - s for coder_units in units for s, e in coder_units]
    gaps = sorted(ln for coder in sections for _, ln, unit in coder if not unit)
    suffix = [0] * (len(gaps) + 1)  # suffix[p] = sum of gaps[p:]
    for p in range(len(gaps) - 1, -1, -1):
        suffix[p] = suffix[p + 1] + gaps[p]
    n_units = len(lengths)
    numerator = 0
    for ln in lengths:
        p = bisect.bisect_left(gaps, ln)
        fits = suffix[p] - (ln - 1) * (len(gaps) - p)  # sum over gaps >= ln of (gap - ln + 1)
        numerator += 3 * ln * ln * fits + (n_units - 1) * (2 * ln**3 - 3 * ln**2 + ln)
    denominator = 3 * (m * total * (m * total - 1) - sum(ln * (ln - 1) for ln in lengths))
    d_e = 2 * numerator / (total * denominator) if denominator > 0 else 0.0
    return d_o, d_e


def _sections_1995(units: Sequence[tuple[int, int]],
                   borders: Sequence[int]) -> list[tuple[int, int, bool]]:
    """One coder's continuum as ``(begin, length, is_unit)`` sections, gaps cut at borders."""
    out: list[tuple[int, int, bool]] = []
    position = 0
    for s, e in [*units, (borders[-1], borders[-1])]:
        while position < s:  # the gap before this unit, cut at borders
            stop = min(s, next(b for b in borders if b > position))
            out.append((position, stop - position, False))
            position = stop
        if s < e:
            out.append((s, e - s, True))
            position = e
    return out


def _pair_differences_1995(a: Sequence[tuple[int, int, bool]],
                           b: Sequence[tuple[int, int, bool]]) -> int:
    """Sum of delta^2 over the intersecting sections of two coders (each pair once)."""
    total = 0
    p = q = 0
    while p < len(a) and q < len(b):
        bg, lg, ug = a[p]
        bh, lh, uh = b[q]
        if ug and uh:
            total += (bg - bh) ** 2 + (bg + lg - bh - lh) ** 2
        elif ug and bh <= bg and bg + lg <= bh + lh:
            total += lg * lg
        elif uh and bg <= bh and bh + lh <= bg + lg:
            total += lh * lh
        if bg + lg <= bh + lh:
            p += 1
        if bh + lh <= bg + lg:
            q += 1
    return total


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _read_units(spans_by_coder: Any, length: Any, where: str,
                overlaps: Overlaps) -> tuple[list[Hashable], int, list[list[Unit]]]:
    """Coders, length and each coder's units sorted by start; overlaps checked per policy."""
    coders = validate_coders(spans_by_coder, where)
    length = validate_length(length, where)
    units: list[list[Unit]] = []
    for coder in coders:
        coder_units = [_validate_unit(span, length, coder, where)
                       for span in iter_spans(spans_by_coder[coder], coder, where)]
        coder_units.sort(key=lambda u: (u[0], u[1]))
        _check_overlaps(coder_units, coder, where, overlaps)
        units.append(coder_units)
    return coders, length, units


def _check_overlaps(units: Sequence[Unit], coder: Any, where: str, policy: Overlaps) -> None:
    groups: dict[Hashable, list[Unit]] = {}
    for unit in units:
        key = None if policy == "none" else unit[2] if policy == "per value" else _domain(unit[2])
        groups.setdefault(key, []).append(unit)
    for group in groups.values():
        reach: Unit | None = None  # the unit reaching furthest so far
        for unit in group:
            if reach is not None and unit[0] < reach[1]:
                raise AgreementInputError(_overlap_message(where, coder, reach, unit, policy),
                                          hint=_overlap_hint(where, reach[2] == unit[2]))
            if reach is None or unit[1] > reach[1]:
                reach = unit


def _overlap_message(where: str, coder: Any, first: Unit, second: Unit, policy: Overlaps) -> str:
    both = f"{tuple(first)!r} and {tuple(second)!r}"
    if first[2] == second[2]:
        return (f"{where}: coder {coder!r} has overlapping spans of the same value {first[2]!r}: "
                f"{both}; unitizing coefficients assume a coder's units of one value are "
                "disjoint")
    if policy == "per domain":
        return (f"{where}: coder {coder!r} has overlapping spans {both} of one domain; within "
                "a domain (a variable) a coder's units must be disjoint")
    return (f"{where}: coder {coder!r} has overlapping spans {both} of different values; the "
            "uα family assumes one value per position for each coder (mutually exclusive "
            "values, as ATLAS.ti requires of the codes of one semantic domain)")


def _overlap_hint(where: str, same_value: bool) -> str:
    if same_value:
        return ("merge them into one span (or drop the duplicate); spans that only touch "
                "(end == next start) are allowed and stay separate units")
    return ("compare one value at a time (unitizing_alpha(spans, length, label), or "
            "binary_u_alpha on that value's spans), or give values (domain, code) pairs and use "
            "global_cu_alpha, which lets units of different domains overlap")


def _domain(value: Hashable) -> Hashable:
    """The domain of a ``(domain, code)`` value; any other value is in the unnamed domain."""
    return value[0] if isinstance(value, tuple) and len(value) == 2 else None


def _check_value(value: Any, where: str) -> None:
    if value is None or not isinstance(value, Hashable):
        raise AgreementInputError(
            f"{where}: {value!r} cannot be a value (a code name)",
            hint="pass the value as it appears in the spans, e.g. a code id string",
        )


def _validate_unit(span: Any, length: int, coder: Any, where: str) -> Unit:
    if isinstance(span, (str, bytes)) or not isinstance(span, Sequence) or len(span) != 3:
        raise AgreementInputError(
            f"{where}: coder {coder!r} has {span!r}, not a (start, end, value) span",
            hint="give each span as a (start, end, value) tuple",
        )
    start, end = validate_offsets(span[0], span[1], length,
                                  f"{where}: coder {coder!r} span {tuple(span)!r}")
    value = span[2]
    if value is None or not isinstance(value, Hashable):
        raise AgreementInputError(
            f"{where}: coder {coder!r} span {tuple(span)!r} has no usable value",
            hint="values are code names (strings); use an empty list for a coder who coded "
                 "nothing",
        )
    return start, end, value


def validate_coders(spans_by_coder: Any, where: str) -> list[Hashable]:
    """The coders of a ``{coder: spans}`` mapping (at least two), or an input error."""
    if not isinstance(spans_by_coder, Mapping):
        raise AgreementInputError(
            f"{where}: spans_by_coder must map each coder to their spans, "
            f"got {type(spans_by_coder).__name__}",
            hint='pass e.g. {"coder A": [(0, 12, "code")], "coder B": []}',
        )
    coders = list(spans_by_coder)
    if len(coders) < 2:
        raise AgreementInputError(
            f"{where}: {len(coders)} coder(s) given; at least 2 are needed",
            hint="include every coder, with an empty list for a coder who coded nothing",
        )
    return coders


def validate_length(length: Any, where: str) -> int:
    """A positive whole number of positions, or an input error."""
    if not isinstance(length, numbers.Integral) or isinstance(length, bool) or length < 1:
        raise AgreementInputError(
            f"{where}: length must be a positive whole number of characters, got {length!r}",
            hint="pass len(text) of the source the spans refer to",
        )
    return int(length)


def validate_offsets(start: Any, end: Any, length: int, what: str) -> tuple[int, int]:
    """Half-open offsets with ``0 <= start < end <= length``, or an input error."""
    for value in (start, end):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise AgreementInputError(
                f"{what}: offsets must be whole numbers, got {value!r}",
                hint="spans are (start, end) character offsets into the text",
            )
    if not 0 <= start < end <= length:
        raise AgreementInputError(
            f"{what}: needs 0 <= start < end <= {length}",
            hint="spans are half-open character ranges [start, end) inside the text; drop "
            "empty spans and check that length is the length of the right source",
        )
    return int(start), int(end)


def iter_spans(spans: Any, who: Any, where: str) -> Iterable[Any]:
    """A coder's spans as an iterable, or an input error for a string or a non-iterable."""
    if isinstance(spans, (str, bytes)) or not isinstance(spans, Iterable):
        raise AgreementInputError(
            f"{where}: spans for {who!r} must be a list of spans, got {type(spans).__name__}",
            hint="give each coder a list of span tuples (an empty list if they coded nothing)",
        )
    return spans
