"""Tests for the unitizing coefficients (pipeline.unitizing, re-exported by pipeline.agreement).

Published worked examples first, each with where its data and values come from and how far we
trust the printed digits; then properties, for the coefficients (or cases) no source prints a
value for; then input errors.

Sources of data and values (none of their code is used here):

* Krippendorff (2019), *Content Analysis*, 4th ed., §12.6, the figure with three observers
  (Alex, Paul, Suzan) on a continuum of 60 positions. The book is not at hand; the positions and
  the printed uα = .510, |uα = .413 and cuα = .724 are as transcribed in the R package quallmer
  (tests/testthat/test-alpha_u.R, "Figure 12.11 ... p. 340"), with 1-based inclusive positions,
  converted here to half-open 0-based spans.
* Krippendorff (2004), *Content Analysis*, 2nd ed., p. 254: two observers, categories c and k,
  continuum 150-450; data and values as in DKPro Statistics
  (org/dkpro/statistics/agreement/unitizing/Krippendorff2004Test.java).
* Krippendorff (1995), "On the reliability of unitizing continuous data", *Sociological
  Methodology* 25:47-76, p. 57: four two-coder studies A-D on 24 positions; data and printed
  values as in DKPro Statistics (Krippendorff1995Test.java), whose authors note that the 1995
  expected disagreement carries a small error (the 2004 book corrects the formula).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.agreement import (
    binary_u_alpha,
    cu_alpha,
    global_cu_alpha,
    krippendorff_alpha,
    u_alpha,
    unitizing_alpha,
    unitizing_alpha_1995,
    value_u_alpha,
)
from pipeline.errors import AgreementInputError
from pipeline.unitizing import (
    counts_alpha,
    counts_value_alpha,
    disagreements_1995,
    unitizing_counts,
)

settings.register_profile("unitizing", max_examples=60, deadline=None)
settings.load_profile("unitizing")

Spans = dict[Any, list[tuple[int, int, Any]]]


def same_or_both_nan(x: float, y: float, tol: float = 1e-9) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= tol * max(1.0, abs(x), abs(y))


# --------------------------------------------------------------------------------------------
# Krippendorff (2019), Content Analysis, 4th ed., §12.6: three observers, 60 positions
# --------------------------------------------------------------------------------------------

# 1-based inclusive (start, end, value), as transcribed in quallmer's tests.
_BOOK_2019 = {
    "Alex": [(1, 7, "1"), (8, 13, "2"), (31, 32, "5"), (33, 37, "6"), (38, 44, "6"),
             (45, 60, "7")],
    "Paul": [(1, 7, "1"), (8, 13, "3"), (14, 21, "5"), (33, 44, "6")],
    "Suzan": [(1, 7, "1"), (8, 13, "4"), (14, 21, "5"), (33, 37, "6"), (38, 41, "6"),
              (42, 44, "6")],
}
BOOK_2019: Spans = {c: [(s - 1, e, v) for s, e, v in spans] for c, spans in _BOOK_2019.items()}


def test_unitizing_u_alpha_reproduces_krippendorff_2019_figure():
    """uα = .510 (Krippendorff 2019, §12.6); ours is .50998, so .510 to the printed digits."""
    assert u_alpha(BOOK_2019, 60) == pytest.approx(0.510, abs=5e-4)


def test_unitizing_binary_u_alpha_reproduces_krippendorff_2019_figure():
    """|uα printed .413; ours is .41360, i.e. .414 rounded. quallmer reproduces .4136 too and
    accepts it with a relative tolerance of .002; we allow 1e-3 absolute and take the printed
    last digit as the book's rounding (or truncation) of the same value."""
    assert binary_u_alpha(BOOK_2019, 60) == pytest.approx(0.413, abs=1e-3)
    assert binary_u_alpha(BOOK_2019, 60) == pytest.approx(0.41360, abs=1e-5)


def test_unitizing_cu_alpha_reproduces_krippendorff_2019_figure():
    """cuα = .724. Ours is .72417 when a unit's squared *mass* (the length it shares with other
    coders' units, divided by m - 1) replaces its squared length in the expected coincidences.
    Where the sources disagree: quallmer squares the length each unit shares with the *union*
    of the other coders' units and gets a value between .72 and .73 (it tests only that range);
    squaring whole unit lengths gives .740, no correction at all .700."""
    assert cu_alpha(BOOK_2019, 60) == pytest.approx(0.724, abs=5e-4)


def test_unitizing_value_u_alpha_on_krippendorff_2019_figure():
    """(k)uα per value. Values 1, 5 and 6 are never paired with another value where units
    overlap: 1 (quallmer reports the same). Values 2, 3 and 4 were each used by one observer
    only, and 7 overlaps no other observer's unit: undefined, so nan. (quallmer reports 0 for 2,
    3 and 4: with one unit of a value its expected and observed within-value coincidences are
    both zero, so 1 - D_o/D_e is 1 - 1 whatever the coders did, which says nothing.)"""
    for value in ("1", "5", "6"):
        assert value_u_alpha(BOOK_2019, 60, value) == 1.0
    for value in ("2", "3", "4", "7", "never used"):
        assert math.isnan(value_u_alpha(BOOK_2019, 60, value))


def test_unitizing_global_cu_alpha_with_one_domain_is_cu_alpha_on_the_figure():
    """No published Cuα value was found; with one domain Cuα is cuα by definition."""
    assert global_cu_alpha(BOOK_2019, 60) == cu_alpha(BOOK_2019, 60)
    in_domain = {c: [(s, e, ("figure", v)) for s, e, v in spans] for c, spans in BOOK_2019.items()}
    assert global_cu_alpha(in_domain, 60) == pytest.approx(cu_alpha(BOOK_2019, 60))


# --------------------------------------------------------------------------------------------
# Krippendorff (2004), Content Analysis, 2nd ed., p. 254: categories c and k, 150-450
# --------------------------------------------------------------------------------------------

# (begin, length, category) on the book's continuum 150-450, as in DKPro Statistics' test.
_BOOK_2004 = {
    "i": [(225, 70, "c"), (370, 30, "c"), (180, 60, "k"), (300, 50, "k")],
    "j": [(220, 80, "c"), (355, 20, "c"), (400, 20, "c"), (180, 60, "k"), (300, 50, "k")],
}
# Our continuum starts at 0: shifted by -150, length 300.
BOOK_2004: Spans = {c: [(b - 150, b - 150 + ln, v) for b, ln, v in spans]
                    for c, spans in _BOOK_2004.items()}


def _units(spans: Spans, label: Any) -> list[list[tuple[int, int]]]:
    return [sorted((s, e) for s, e, v in coder if v == label) for coder in spans.values()]


def test_unitizing_alpha_1995_reproduces_krippendorff_2004_example():
    """Category c: D_o = .0144, D_e = .0532, alpha = .7286; k: D_o = 0, D_e = .0490, alpha = 1
    (values as DKPro Statistics' test states them, to 1e-4). Units of c and k overlap within
    one observer: each category is judged on its own."""
    do_c, de_c = disagreements_1995(_units(BOOK_2004, "c"), 300)
    do_k, de_k = disagreements_1995(_units(BOOK_2004, "k"), 300)
    assert (do_c, de_c) == (pytest.approx(0.0144, abs=1e-4), pytest.approx(0.0532, abs=1e-4))
    assert (do_k, de_k) == (0.0, pytest.approx(0.0490, abs=1e-4))
    assert unitizing_alpha_1995(BOOK_2004, 300, "c") == pytest.approx(0.7286, abs=1e-4)
    assert unitizing_alpha_1995(BOOK_2004, 300, "k") == 1.0


def test_unitizing_alpha_1995_pools_categories_as_krippendorff_2004():
    """Both categories: 1 - (D_o(c) + D_o(k)) / (D_e(c) + D_e(k)) = .8591 from the rounded
    .0144 / (.0532 + .0490); unrounded it is .85867, hence the tolerance of 5e-4 (DKPro
    Statistics uses the same)."""
    assert unitizing_alpha_1995(BOOK_2004, 300, None) == pytest.approx(0.8591, abs=5e-4)
    assert unitizing_alpha_1995(BOOK_2004, 300, None) == pytest.approx(0.85867, abs=1e-5)


# --------------------------------------------------------------------------------------------
# Krippendorff (1995), Sociological Methodology 25, p. 57: four two-coder studies, 24 positions
# --------------------------------------------------------------------------------------------

STUDIES_1995 = {  # (coder 1 units, coder 2 units), half-open, as drawn in DKPro's test
    "A": ([(2, 10), (14, 20)], [(4, 8), (15, 17)]),
    "B": ([(0, 18)], [(0, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 9), (9, 10)]),
    "C": ([(2, 8), (10, 12), (14, 18), (20, 22)], [(0, 2), (4, 8), (10, 14), (16, 18), (20, 22)]),
    "D": ([(0, 2), (2, 10), (10, 14), (14, 20), (20, 24)],
          [(0, 4), (4, 8), (8, 15), (15, 17), (17, 24)]),
}
OBSERVED_1995 = {"A": 0.03125, "B": 2.26736, "C": 0.02777, "D": 0.38715}
PRINTED_1995 = {"A": 0.553, "B": -0.926, "C": 0.679, "D": 0.066}


def _stretched(study: str, factor: int) -> Spans:
    first, second = STUDIES_1995[study]
    return {"1": [(s * factor, e * factor, study) for s, e in first],
            "2": [(s * factor, e * factor, study) for s, e in second]}


@pytest.mark.parametrize("study", sorted(STUDIES_1995))
def test_unitizing_alpha_1995_observed_disagreement_of_krippendorff_1995(study):
    """D_o does not depend on the scale of the continuum and matches the values DKPro
    Statistics' test takes from the paper, to 1e-5 (B's D_o exceeds 1: John's one long unit
    against Jill's seven short ones)."""
    for factor in (1, 10, 1000):
        spans = _stretched(study, factor)
        do, _ = disagreements_1995(_units(spans, study), 24 * factor)
        assert do == pytest.approx(OBSERVED_1995[study], abs=1e-5)


@pytest.mark.parametrize(("study", "tolerance"), [("A", 1e-3), ("B", 3e-3), ("C", 0.015),
                                                  ("D", 1e-3)])
def test_unitizing_alpha_1995_approaches_krippendorff_1995_printed_values(study, tolerance):
    """The printed alphas are approximate. On the 24 positions as drawn, the corrected (2004)
    expected disagreement gives A .515, B -1.081, C .603, D -.207; the printed values match
    the limit of a finely divided continuum instead (DKPro Statistics stretches the
    continuum 50,000-fold for the same reason and allows .02). Stretched 50,000-fold we get
    A .5529, B -.9284, C .6931, D .0659: within 1e-3 of the printed A and D, 3e-3 of B; C stays
    .014 above the printed .679, the small error in the 1995 expected disagreement."""
    alpha = unitizing_alpha_1995(_stretched(study, 50_000), 24 * 50_000, study)
    assert alpha == pytest.approx(PRINTED_1995[study], abs=tolerance)


def test_unitizing_alpha_1995_agrees_with_dkpro_on_a_halved_continuum():
    """A cross-check with another implementation, not a published value: DKPro Statistics'
    test halves study C (integer offsets, 12 positions) and asserts D_o = .02777, D_e = .05494
    (1e-5) and alpha = .494."""
    first, second = STUDIES_1995["C"]
    units = [[(s // 2, s // 2 + (e - s) // 2) for s, e in first],
             [(s // 2, s // 2 + (e - s) // 2) for s, e in second]]
    do, de = disagreements_1995(units, 12)
    assert (do, de) == (pytest.approx(0.02777, abs=1e-5), pytest.approx(0.05494, abs=1e-5))
    assert 1 - do / de == pytest.approx(0.494, abs=5e-4)


# --------------------------------------------------------------------------------------------
# Hand-worked and reference cases
# --------------------------------------------------------------------------------------------


def test_unitizing_alpha_is_binary_u_alpha_of_the_label():
    spans = {"A": [(2, 6, "X"), (0, 9, "Y")], "B": [(3, 7, "X")]}
    only_x = {"A": [(2, 6, "X")], "B": [(3, 7, "X")]}
    assert unitizing_alpha(spans, 10, "X") == binary_u_alpha(only_x, 10)
    # L = 10, A [2, 6), B [3, 7): l(X, gap) = 2 each way; N = 20, n_X = 8, n_gap = 12; units
    # 4^2 + 4^2 = 32, gaps count their length 12: e(X, gap) = 20 * 8 * 12 / (400 - 44).
    assert binary_u_alpha(only_x, 10) == pytest.approx(1 - 4 / (2 * 1920 / 356))


def test_unitizing_touching_units_stay_separate():
    other = {"B": [(0, 12, "X")]}
    whole = binary_u_alpha({"A": [(0, 10, "X")], **other}, 20)
    halves = binary_u_alpha({"A": [(0, 5, "X"), (5, 10, "X")], **other}, 20)
    assert halves != whole  # two units of 5: smaller squared lengths, another chance term
    assert unitizing_alpha_1995({"A": [(0, 5, "X"), (5, 10, "X")], **other}, 20, "X") != \
        unitizing_alpha_1995({"A": [(0, 10, "X")], **other}, 20, "X")


def test_unitizing_global_cu_alpha_pools_domains_and_allows_overlap_between_them():
    # Domain "who" is coded identically; domain "how" disagrees on one unit's value. Units of
    # the two domains overlap within each coder.
    a = [(0, 10, ("who", "nurse")), (10, 20, ("who", "peer")),
         (0, 6, ("how", "calm")), (6, 20, ("how", "tense"))]
    b = [(0, 10, ("who", "nurse")), (10, 20, ("who", "peer")),
         (0, 6, ("how", "tense")), (6, 20, ("how", "tense"))]
    spans = {"A": a, "B": b}
    how = {"A": [u for u in a if u[2][0] == "how"], "B": [u for u in b if u[2][0] == "how"]}
    who = {"A": [u for u in a if u[2][0] == "who"], "B": [u for u in b if u[2][0] == "who"]}
    assert cu_alpha(who, 20) == 1.0
    assert cu_alpha(how, 20) < 1.0
    cu_values = [cu_alpha(who, 20), cu_alpha(how, 20)]
    pooled = global_cu_alpha(spans, 20)
    assert min(cu_values) < pooled < max(cu_values)
    assert pooled != pytest.approx(sum(cu_values) / 2)  # not the mean of the cuα
    with pytest.raises(AgreementInputError, match="overlapping"):
        cu_alpha(spans, 20)


def test_unitizing_undefined_cases_are_nan():
    nobody: Spans = {"A": [], "B": []}
    everybody: Spans = {"A": [(0, 10, "X")], "B": [(0, 10, "X")]}
    for f in (u_alpha, binary_u_alpha, cu_alpha, global_cu_alpha):
        assert math.isnan(f(nobody, 10))
    assert math.isnan(binary_u_alpha(everybody, 10))
    assert math.isnan(cu_alpha(everybody, 10))  # one value only: nothing to disagree on
    assert math.isnan(cu_alpha({"A": [(0, 3, "X")], "B": [(5, 9, "Y")]}, 10))  # no overlap
    assert math.isnan(unitizing_alpha(nobody, 10))
    assert math.isnan(unitizing_alpha({"A": [(0, 3, "X")], "B": [(1, 4, "X")]}, 10, "Y"))
    assert math.isnan(unitizing_alpha_1995(nobody, 10, "X"))
    assert math.isnan(unitizing_alpha_1995(nobody, 10, None))


def test_unitizing_counts_of_sources_add_up_to_their_concatenation():
    first = {"A": [(0, 4, "x"), (6, 9, "y")], "B": [(1, 5, "x")]}
    second = {"A": [(2, 7, "y")], "B": [(0, 3, "x"), (3, 8, "y")]}
    joined = {c: first[c] + [(s + 10, e + 10, v) for s, e, v in second[c]] for c in first}
    values = ["x", "y"]
    added = unitizing_counts(first, 10, values) + unitizing_counts(second, 8, values)
    whole = unitizing_counts(joined, 18, values)
    for kind, f in (("u", u_alpha), ("binary", binary_u_alpha), ("cu", cu_alpha)):
        assert float(counts_alpha(added, kind)) == pytest.approx(f(joined, 18))  # type: ignore[arg-type]
        assert float(counts_alpha(whole, kind)) == pytest.approx(f(joined, 18))  # type: ignore[arg-type]
    assert same_or_both_nan(float(counts_value_alpha(added, 0)), value_u_alpha(joined, 18, "x"))


# --------------------------------------------------------------------------------------------
# A slow reference: the 2016 coincidences position by position
# --------------------------------------------------------------------------------------------


def reference_family(spans: Spans, length: int) -> dict[str, float]:
    """uα, |uα and cuα straight from the definitions, one position and one unit at a time."""
    coders = list(spans)
    m = len(coders)
    at = [[None] * length for _ in coders]  # value per position, None = gap
    owner: list[list[int | None]] = [[None] * length for _ in coders]
    for i, c in enumerate(coders):
        for u, (s, e, v) in enumerate(spans[c]):
            for x in range(s, e):
                at[i][x] = v
                owner[i][x] = u
    GAP = object()

    def alpha(pairs: list[tuple[Any, Any, float]], squares: dict[Any, float]) -> float:
        coinc: dict[tuple[Any, Any], float] = {}
        for c, k, w in pairs:
            coinc[(c, k)] = coinc.get((c, k), 0.0) + w
        n = sum(coinc.values())
        if n == 0:
            return math.nan
        margins: dict[Any, float] = {}
        for (c, _), w in coinc.items():
            margins[c] = margins.get(c, 0.0) + w
        denom = n * n - sum(squares.values())
        d_o = sum(w for (c, k), w in coinc.items() if c != k)
        d_e = sum(n * margins[c] * margins[k] / denom
                  for c in margins for k in margins if c != k)
        return 1 - d_o / d_e if d_e > 1e-9 * n else math.nan

    full, binary, valued = [], [], []
    for x in range(length):
        for i in range(m):
            for j in range(m):
                if i == j:
                    continue
                c = GAP if at[i][x] is None else at[i][x]
                k = GAP if at[j][x] is None else at[j][x]
                w = 1 / (m - 1)
                full.append((c, k, w))
                binary.append((c is GAP, k is GAP, w))
                if c is not GAP and k is not GAP:
                    valued.append((c, k, w))
    squares: dict[Any, float] = {GAP: 0.0}
    bsquares = {True: 0.0, False: 0.0}
    masses: dict[tuple[int, int], float] = {}
    for i, c in enumerate(coders):
        for s, e, v in spans[c]:
            squares[v] = squares.get(v, 0.0) + (e - s) ** 2
            bsquares[False] += (e - s) ** 2
        gap = sum(1 for x in range(length) if at[i][x] is None)
        squares[GAP] += gap
        bsquares[True] += gap
        for x in range(length):
            u = owner[i][x]
            if u is not None:
                others = sum(1 for j in range(m) if j != i and at[j][x] is not None)
                masses[(i, u)] = masses.get((i, u), 0.0) + others / (m - 1)
    vsquares: dict[Any, float] = {}
    for (i, u), mass in masses.items():
        v = spans[coders[i]][u][2]
        vsquares[v] = vsquares.get(v, 0.0) + mass**2
    return {"u": alpha(full, squares), "binary": alpha(binary, bsquares),
            "cu": alpha(valued, vsquares)}


@st.composite
def unitizations(draw: st.DrawFn, max_values: int = 3, min_coders: int = 2,
                 max_coders: int = 4) -> tuple[int, Spans]:
    """Coders whose units are disjoint (touching allowed), on a continuum of 1-40 positions."""
    length = draw(st.integers(min_value=1, max_value=40))
    n_coders = draw(st.integers(min_value=min_coders, max_value=max_coders))
    values = ["x", "y", "z"][:max_values]
    coders: Spans = {}
    for c in range(n_coders):
        cuts = sorted(draw(st.sets(st.integers(0, length), max_size=8)) | {0, length})
        units = []
        for s, e in itertools.pairwise(cuts):
            if draw(st.booleans()):
                units.append((s, e, draw(st.sampled_from(values))))
        coders[f"coder{c}"] = units
    return length, coders


@given(unitizations())
def test_unitizing_family_matches_the_position_by_position_reference(data):
    length, spans = data
    ref = reference_family(spans, length)
    assert same_or_both_nan(u_alpha(spans, length), ref["u"])
    assert same_or_both_nan(binary_u_alpha(spans, length), ref["binary"])
    assert same_or_both_nan(cu_alpha(spans, length), ref["cu"])


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

FAMILY = (u_alpha, binary_u_alpha, cu_alpha, global_cu_alpha)


@given(unitizations(), st.integers(min_value=2, max_value=4))
def test_unitizing_identical_coders_agree_perfectly(data, n_coders):
    length, spans = data
    units = next(iter(spans.values()))
    same = {f"c{i}": list(units) for i in range(n_coders)}
    for f in FAMILY:
        value = f(same, length)
        assert math.isnan(value) or value == pytest.approx(1.0), f.__name__
    for v in {u[2] for u in units}:
        value = value_u_alpha(same, length, v)
        assert math.isnan(value) or value == pytest.approx(1.0)
        old = unitizing_alpha_1995(same, length, v)
        assert math.isnan(old) or old == pytest.approx(1.0)
    # Defined whenever something varies: a coded unit and an uncoded position for |uα.
    coded = sum(e - s for s, e, _ in units)
    if 0 < coded < length:
        assert binary_u_alpha(same, length) == pytest.approx(1.0)


@given(unitizations(), st.randoms(use_true_random=False))
def test_unitizing_coefficients_ignore_coder_names_and_order(data, rnd):
    length, spans = data
    names = list(spans)
    rnd.shuffle(names)
    renamed = {f"other{i}": list(reversed(spans[name])) for i, name in enumerate(names)}
    for f in FAMILY:
        assert same_or_both_nan(f(renamed, length), f(spans, length)), f.__name__
    for v in ("x", "y"):
        assert same_or_both_nan(value_u_alpha(renamed, length, v), value_u_alpha(spans, length, v))
        assert same_or_both_nan(unitizing_alpha_1995(renamed, length, v),
                                unitizing_alpha_1995(spans, length, v))


@given(unitizations(), st.integers(min_value=0, max_value=40))
def test_unitizing_family_ignores_where_the_continuum_starts(data, shift):
    """Moving the origin of the continuum (a cyclic shift, units kept whole) changes nothing:
    the family counts gaps position by position, so where the gap wraps does not matter."""
    length, spans = data
    shift %= length
    if any(s < shift < e for units in spans.values() for s, e, _ in units):
        return  # a unit would wrap around
    moved = {c: [((s - shift) % length, (s - shift) % length + (e - s), v) for s, e, v in units]
             for c, units in spans.items()}
    for f in FAMILY:
        assert same_or_both_nan(f(moved, length), f(spans, length)), f.__name__


@given(unitizations())
def test_unitizing_coefficients_read_the_continuum_both_ways(data):
    length, spans = data
    mirrored = {c: [(length - e, length - s, v) for s, e, v in units] for c, units in spans.items()}
    for f in FAMILY:
        assert same_or_both_nan(f(mirrored, length), f(spans, length)), f.__name__
    for v in ("x", None):
        assert same_or_both_nan(unitizing_alpha_1995(mirrored, length, v),
                                unitizing_alpha_1995(spans, length, v))


@given(st.lists(st.integers(min_value=1, max_value=6), min_size=2, max_size=10))
def test_unitizing_systematic_disagreement_is_below_zero(blocks):
    """Coder A codes exactly what B leaves out, and where both code, they give other values."""
    cuts = [0]
    for b in blocks:
        cuts.append(cuts[-1] + b)
    length = cuts[-1]
    stretches = list(itertools.pairwise(cuts))
    a = [(s, e, "x") for i, (s, e) in enumerate(stretches) if i % 2 == 0]
    b = [(s, e, "x") for i, (s, e) in enumerate(stretches) if i % 2 == 1]
    assert binary_u_alpha({"A": a, "B": b}, length) < 0
    assert u_alpha({"A": a, "B": b}, length) < 0
    assert unitizing_alpha_1995({"A": a, "B": b}, length, "x") < 0
    swapped_a = [(s, e, "x" if i % 2 else "y") for i, (s, e) in enumerate(stretches)]
    swapped_b = [(s, e, "y" if i % 2 else "x") for i, (s, e) in enumerate(stretches)]
    assert cu_alpha({"A": swapped_a, "B": swapped_b}, length) < 0


@given(unitizations(max_values=1))
def test_unitizing_u_alpha_with_one_value_is_binary_u_alpha(data):
    length, spans = data
    assert same_or_both_nan(u_alpha(spans, length), binary_u_alpha(spans, length))
    assert same_or_both_nan(unitizing_alpha(spans, length, "x"), binary_u_alpha(spans, length))
    assert same_or_both_nan(unitizing_alpha(spans, length), binary_u_alpha(spans, length))


@given(unitizations())
def test_unitizing_alpha_per_label_is_binary_u_alpha_of_that_label(data):
    length, spans = data
    for v in ("x", "y", "z"):
        only = {c: [u for u in units if u[2] == v] for c, units in spans.items()}
        assert same_or_both_nan(unitizing_alpha(spans, length, v), binary_u_alpha(only, length))


@given(unitizations())
def test_unitizing_global_cu_alpha_with_one_domain_is_cu_alpha(data):
    length, spans = data
    assert same_or_both_nan(global_cu_alpha(spans, length), cu_alpha(spans, length))
    domain = {c: [(s, e, ("d", v)) for s, e, v in units] for c, units in spans.items()}
    assert same_or_both_nan(global_cu_alpha(domain, length), cu_alpha(spans, length))


@given(st.integers(min_value=1, max_value=30), st.data())
def test_unitizing_one_position_units_reduce_to_alpha_over_positions(length, data):
    """Units one position long make the 2016 coincidences those of Krippendorff's alpha over
    positions (the gap one more value; for cuα, the positions two coders both valued)."""
    n_coders = data.draw(st.integers(min_value=2, max_value=4))
    cells = [data.draw(st.lists(st.sampled_from([None, "x", "y"]), min_size=length,
                                max_size=length)) for _ in range(n_coders)]
    spans = {c: [(i, i + 1, v) for i, v in enumerate(col) if v is not None]
             for c, col in enumerate(cells)}
    matrix = [[cells[c][i] or "gap" for c in range(n_coders)] for i in range(length)]
    assert same_or_both_nan(u_alpha(spans, length), krippendorff_alpha(matrix))
    binary = [[cells[c][i] is not None for c in range(n_coders)] for i in range(length)]
    assert same_or_both_nan(binary_u_alpha(spans, length), krippendorff_alpha(binary))
    if n_coders == 2:  # with two coders a position is pairable when both valued it
        both = [[cells[0][i], cells[1][i]] for i in range(length)
                if cells[0][i] is not None and cells[1][i] is not None]
        expected = krippendorff_alpha(both) if both else math.nan
        assert same_or_both_nan(cu_alpha(spans, length), expected)


def reference_observed_1995(units: Sequence[Sequence[tuple[int, int]]], length: int) -> float:
    """Krippendorff's (2004) D_o, every ordered pair of coders and every pair of sections."""
    def sections(coder: Sequence[tuple[int, int]]) -> list[tuple[int, int, bool]]:
        out, pos = [], 0
        for s, e in coder:
            if pos < s:
                out.append((pos, s - pos, False))
            out.append((s, e - s, True))
            pos = e
        if pos < length:
            out.append((pos, length - pos, False))
        return out

    total = 0
    m = len(units)
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            for bg, lg, ug in sections(units[i]):
                for bh, lh, uh in sections(units[j]):
                    if ug and uh and -lg < bg - bh < lh:
                        total += (bg - bh) ** 2 + (bg + lg - bh - lh) ** 2
                    elif ug and not uh and lh - lg >= bg - bh >= 0:
                        total += lg**2
                    elif uh and not ug and lg - lh >= bh - bg >= 0:
                        total += lh**2
    return total / (m * (m - 1) * length**2)


@given(unitizations(max_values=1, max_coders=4))
def test_unitizing_alpha_1995_observed_disagreement_matches_the_pairwise_definition(data):
    """Two coders give the same D_o through the m-coder sum as through the two-observer
    formula, and m coders the mean over ordered pairs."""
    length, spans = data
    units = [sorted((s, e) for s, e, _ in coder) for coder in spans.values()]
    do, _ = disagreements_1995(units, length)
    assert do == pytest.approx(reference_observed_1995(units, length))
    if len(units) > 2:
        pairs = [reference_observed_1995([units[i], units[j]], length)
                 for i in range(len(units)) for j in range(i + 1, len(units))]
        assert do == pytest.approx(sum(pairs) / len(pairs))


def test_unitizing_alpha_1995_gaps_stop_at_source_borders():
    # Two sources of 10 laid end to end: the gap [6, 14) of coder B is two gaps when cut at 10.
    units = [[(0, 6), (14, 20)], [(0, 6), (14, 20)]]
    _, whole = disagreements_1995(units, 20)
    _, cut = disagreements_1995(units, 20, cuts=[10])
    assert cut != whole
    assert disagreements_1995(units, 20, cuts=[10])[0] == 0.0


def test_unitizing_big_continuum_is_fast_and_exact():
    rnd = random.Random(1)
    spans: Spans = {c: [] for c in "AB"}
    for c in spans:
        pos = 0
        while pos < 200_000:
            step = rnd.randint(20, 400)
            if rnd.random() < 0.5:
                spans[c].append((pos, min(pos + step, 200_000), rnd.choice("xyz")))
            pos += step
    for f in FAMILY:
        assert -1 < f(spans, 200_000) < 1
    assert -1 < unitizing_alpha_1995(spans, 200_000, None) < 1


# --------------------------------------------------------------------------------------------
# Input errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [u_alpha, binary_u_alpha, cu_alpha, global_cu_alpha])
def test_unitizing_overlapping_units_of_one_coder_are_errors(f):
    with pytest.raises(AgreementInputError, match="same value 'x'") as excinfo:
        f({"A": [(0, 6, "x"), (4, 9, "x")], "B": []}, 10)
    assert "touch" in (excinfo.value.hint or "")
    if f is not global_cu_alpha:
        with pytest.raises(AgreementInputError, match="different values"):
            f({"A": [(0, 6, "x"), (4, 9, "y")], "B": []}, 10)


@pytest.mark.parametrize("f", [unitizing_alpha, unitizing_alpha_1995])
def test_unitizing_per_label_coefficients_reject_overlaps_of_one_label_only(f):
    with pytest.raises(AgreementInputError, match="same value"):
        f({"A": [(0, 6, "x"), (5, 9, "x")], "B": []}, 10, "x")
    assert not math.isnan(f({"A": [(0, 6, "x"), (5, 9, "y")], "B": [(0, 5, "x")]}, 10, "x"))


def test_unitizing_global_cu_alpha_rejects_overlap_within_a_domain():
    spans = {"A": [(0, 6, ("d", "x")), (4, 9, ("d", "y"))], "B": []}
    with pytest.raises(AgreementInputError, match="one domain"):
        global_cu_alpha(spans, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: u_alpha({"A": [(0, 5, "x")]}, 10),
        lambda: u_alpha([("A", [(0, 5, "x")])], 10),  # type: ignore[arg-type]
        lambda: binary_u_alpha({"A": [(0, 11, "x")], "B": []}, 10),
        lambda: cu_alpha({"A": [(5, 5, "x")], "B": []}, 10),
        lambda: cu_alpha({"A": [(0, 3)], "B": []}, 10),
        lambda: global_cu_alpha({"A": [(0, 3, None)], "B": []}, 10),
        lambda: u_alpha({"A": [(0.5, 3, "x")], "B": []}, 10),
        lambda: u_alpha({"A": [], "B": []}, 0),
        lambda: u_alpha({"A": "0-3 x", "B": []}, 10),
        lambda: value_u_alpha({"A": [], "B": []}, 10, ["x"]),  # type: ignore[arg-type]
        lambda: value_u_alpha({"A": [], "B": []}, 10, None),  # type: ignore[arg-type]
        lambda: unitizing_alpha_1995({"A": [], "B": []}, True, "x"),
        lambda: unitizing_alpha_1995({"A": [], "B": []}, 10, ["x"]),  # type: ignore[arg-type]
        lambda: unitizing_counts({"A": [(0, 3, "x")], "B": []}, 10, ["y"]),
    ],
)
def test_unitizing_invalid_input_raises_with_hint(call):
    with pytest.raises(AgreementInputError) as excinfo:
        call()
    assert isinstance(excinfo.value, ValueError)
    assert excinfo.value.hint
