"""Tests for pipeline.agreement: published worked examples first, then properties, then errors.

Every published value below was also recomputed independently while writing these tests
(krippendorff 0.9, irrCAC 0.4.4, statsmodels and scikit-learn, none of them a dependency of
precode) and agreed to at least 1e-12 with this module.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.agreement import (
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    nvivo_kappa,
    percent_agreement,
    scott_pi,
    unitizing_alpha,
)
from pipeline.errors import AgreementInputError

settings.register_profile("agreement", max_examples=60, deadline=None)
settings.load_profile("agreement")


def expand(table: Sequence[Sequence[int]], categories: Sequence[Any]) -> tuple[list, list]:
    """Two coders' sequences from a contingency table (rows: coder a, columns: coder b)."""
    a: list[Any] = []
    b: list[Any] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [categories[i]] * count
            b += [categories[j]] * count
    return a, b


def rows(a: Sequence[Any], b: Sequence[Any]) -> list[list[Any]]:
    return [[x, y] for x, y in zip(a, b, strict=True)]


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", Departmental Papers (ASC)
# 43, University of Pennsylvania, section "C. Nominal data, any number of observers, missing
# data": 4 observers (columns) x 12 units (rows), '.' in the paper is None here. The same table
# is Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., data set "cac.raw4raters".
KRIPPENDORFF_2011: list[list[int | None]] = [
    [1, 1, None, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [None, 5, 5, 5],
    [None, None, 1, 1],
    [None, None, 3, None],
]


# --------------------------------------------------------------------------------------------
# Published worked examples
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_agreement_krippendorff_alpha_reproduces_krippendorff_2011_all_levels(level, published):
    # Krippendorff (2011), sections C and D: alpha_nominal = 0.743, alpha_ordinal = 0.815,
    # alpha_interval = 0.849, alpha_ratio = 0.797 (unit 12 has one value and drops out).
    assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(published, abs=5e-4)


def test_agreement_krippendorff_alpha_reproduces_krippendorff_2011_binary_two_coders():
    # Krippendorff (2011), section "A. Binary or dichotomous data, two observers, no missing
    # data": Ben and Gerry code 10 units; alpha = 0.095 (= 1 - 19 * 4 / (14 * 6)).
    ben = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    gerry = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha(rows(ben, gerry)) == pytest.approx(0.095, abs=5e-4)
    assert krippendorff_alpha(rows(ben, gerry)) == pytest.approx(1 - 19 * 4 / 84)


def test_agreement_krippendorff_alpha_reproduces_krippendorff_2011_nominal_two_coders():
    # Krippendorff (2011), section "B. Nominal data, two observers, no missing data": 12 units,
    # values a-e; alpha = 0.692.
    ben = ["a", "a", "b", "b", "d", "c", "c", "c", "e", "d", "d", "a"]
    gerry = ["b", "a", "b", "b", "b", "c", "c", "c", "e", "d", "d", "d"]
    assert krippendorff_alpha(rows(ben, gerry)) == pytest.approx(0.692, abs=5e-4)


def test_agreement_unitizing_alpha_with_one_character_units_reproduces_krippendorff_2011():
    # When every unit is one character long the 2016 unitizing coefficient reduces to alpha
    # over characters, so Krippendorff's (2011) binary example (alpha = 0.095) must come out
    # of unitizing_alpha too: each "1" of Ben and Gerry becomes a one-character span.
    ben = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    gerry = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    spans = {
        "Ben": [(i, i + 1, "x") for i, v in enumerate(ben) if v],
        "Gerry": [(i, i + 1, "x") for i, v in enumerate(gerry) if v],
    }
    assert unitizing_alpha(spans, 10, "x") == pytest.approx(1 - 19 * 4 / 84)
    assert unitizing_alpha(spans, 10) == pytest.approx(1 - 19 * 4 / 84)


def test_agreement_fleiss_kappa_reproduces_fleiss_1971():
    # Fleiss (1971), "Measuring nominal scale agreement among many raters", Psychol. Bull.
    # 76:378-382, Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses; kappa = .430.
    # (Table transcribed as in DKPro Statistics' Fleiss1971Test.)
    table = [
        (4, 4, 4, 4, 4, 4), (2, 2, 2, 5, 5, 5), (2, 3, 3, 3, 3, 5), (5, 5, 5, 5, 5, 5),
        (2, 2, 2, 4, 4, 4), (1, 1, 3, 3, 3, 3), (3, 3, 3, 3, 5, 5), (1, 1, 3, 3, 3, 4),
        (1, 1, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5), (1, 4, 4, 4, 4, 4), (1, 2, 4, 4, 4, 4),
        (2, 2, 2, 3, 3, 3), (1, 4, 4, 4, 4, 4), (2, 2, 4, 4, 4, 5), (3, 3, 3, 3, 3, 5),
        (1, 1, 1, 4, 5, 5), (1, 1, 1, 1, 1, 2), (2, 2, 4, 4, 4, 4), (1, 3, 3, 5, 5, 5),
        (5, 5, 5, 5, 5, 5), (2, 4, 4, 4, 4, 4), (2, 2, 4, 5, 5, 5), (1, 1, 4, 4, 4, 4),
        (1, 4, 4, 4, 4, 5), (2, 2, 2, 2, 2, 4), (1, 1, 1, 1, 5, 5), (2, 2, 4, 4, 4, 4),
        (1, 3, 3, 3, 3, 3), (5, 5, 5, 5, 5, 5),
    ]  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.430, abs=5e-4)


def test_agreement_fleiss_kappa_reproduces_wikipedia_worked_example():
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories, given
    # as counts n_ij; P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    matrix = [[cat for cat, n in enumerate(row) for _ in range(n)] for row in counts]
    assert fleiss_kappa(matrix) == pytest.approx(0.210, abs=5e-4)


def test_agreement_cohen_kappa_reproduces_wikipedia_worked_example():
    # Wikipedia, "Cohen's kappa", simple example: 50 grant proposals, both yes 20, A yes/B no 5,
    # A no/B yes 10, both no 15; p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.4.
    # p_e is a SUM over categories; the product 0.5*0.6*0.5*0.4 = 0.06 would give 0.68.
    a, b = expand([[20, 5], [10, 15]], ["yes", "no"])
    assert percent_agreement(a, b) == pytest.approx(0.7)
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_agreement_cohen_kappa_reproduces_cohen_1960():
    # Cohen (1960), "A coefficient of agreement for nominal scales", Educ. Psychol. Meas.
    # 20:37-46, worked example with 200 cases, 3 categories: p_o = .70, p_c = .41,
    # kappa = .492.
    a, b = expand([[88, 14, 18], [10, 40, 10], [2, 6, 12]], [1, 2, 3])
    assert percent_agreement(a, b) == pytest.approx(0.70)
    assert cohen_kappa(a, b) == pytest.approx(0.492, abs=5e-4)


def test_agreement_cohen_kappa_reproduces_landis_koch_data_in_agresti_1992():
    # Agresti (1992), "Modelling patterns of agreement and disagreement", Stat. Methods Med.
    # Res. 1:201-218, Table 1 (multiple sclerosis diagnoses from Landis & Koch 1977):
    # kappa = 0.493.
    table = [[22, 2, 2, 0], [5, 7, 14, 0], [0, 2, 36, 0], [0, 1, 17, 10]]
    a, b = expand(table, [1, 2, 3, 4])
    assert cohen_kappa(a, b) == pytest.approx(0.493, abs=5e-4)


@pytest.mark.parametrize(
    ("table", "cats", "ao", "s", "pi", "kappa"),
    [
        # Artstein & Poesio (2008), "Inter-coder agreement for computational linguistics",
        # Computational Linguistics 34(4):555-596, p. 558: A_o = 0.7, S = 0.4, pi = 0.341,
        # kappa = 0.348.
        ([[20, 10], [20, 50]], ["STAT", "IReq"], 0.7, 0.4, 0.341, 0.348),
        # Same paper, p. 568 (three categories): A_o = 0.88, S = 0.82, pi = 0.799,
        # kappa = 0.801 (pi is 0.79953: the three printed decimals are truncated, hence the
        # 1e-3 tolerance below).
        ([[46, 0, 0], [6, 32, 6], [0, 0, 10]], ["STAT", "IReq", "Chck"], 0.88, 0.82, 0.799, 0.801),
    ],
)
def test_agreement_reproduces_artstein_poesio_2008(table, cats, ao, s, pi, kappa):
    a, b = expand(table, cats)
    assert percent_agreement(a, b) == pytest.approx(ao)
    # Bennett et al.'s S is Brennan & Prediger's coefficient for two coders.
    assert brennan_prediger(rows(a, b)) == pytest.approx(s, abs=5e-4)
    assert scott_pi(a, b) == pytest.approx(pi, abs=1e-3)
    assert cohen_kappa(a, b) == pytest.approx(kappa, abs=5e-4)


def test_agreement_weighted_kappa_reproduces_kundel_polansky_2003():
    # Kundel & Polansky (2003), "Measurement of observer agreement", Radiology 228:303-308,
    # Table A1: 110 mammograms, two readers, 4 ordered categories (absent, minimal, moderate,
    # severe). As data set "Mammograms" of the R package vcdExtra, whose documented
    # vcd::Kappa() output is unweighted 0.3713 and weighted (equal-spacing, i.e. linear
    # weights 1 - |i - j| / (k - 1)) 0.5964.
    table = [[34, 10, 2, 0], [6, 8, 8, 2], [2, 5, 4, 12], [0, 1, 2, 14]]
    order = ["absent", "minimal", "moderate", "severe"]
    a, b = expand(table, order)
    assert cohen_kappa(a, b, categories=order) == pytest.approx(0.3713, abs=5e-5)
    assert cohen_kappa(a, b, "linear", categories=order) == pytest.approx(0.5964, abs=5e-5)


def test_agreement_gwet_ac1_reproduces_gwet_handbook_four_raters_with_missing_ratings():
    # Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., 4 raters x 12 units with
    # missing ratings (irrCAC data set cac.raw4raters, the same table as Krippendorff 2011):
    # AC1 = 0.7754 with p_a = 0.8182 and p_e = 0.1903; Brennan-Prediger = 0.7727
    # (p_e = 1/5). Unit 12 (one rating) enters pi_k but not p_a.
    assert gwet_ac1(KRIPPENDORFF_2011) == pytest.approx(0.7754, abs=5e-5)
    assert brennan_prediger(KRIPPENDORFF_2011) == pytest.approx(0.7727, abs=5e-5)
    pa, pe = 0.8182, 0.1903
    assert gwet_ac1(KRIPPENDORFF_2011) == pytest.approx((pa - pe) / (1 - pe), abs=5e-4)


def test_agreement_gwet_ac1_reproduces_gwet_handbook_two_abstractors():
    # Gwet (2014), Handbook, 100 pregnant women classified by 2 abstractors into ectopic /
    # abnormal intrauterine / normal intrauterine pregnancy (irrCAC data set
    # cont3x3abstractors): AC1 = 0.8493 with p_a = 0.89 and p_e = 0.2699.
    a, b = expand([[13, 0, 0], [0, 20, 7], [0, 4, 56]], ["Ectopic", "AIU", "NIU"])
    assert gwet_ac1(rows(a, b)) == pytest.approx(0.8493, abs=5e-5)
    assert gwet_ac1(rows(a, b)) == pytest.approx((0.89 - 0.26992) / (1 - 0.26992), abs=1e-5)


# --------------------------------------------------------------------------------------------
# Worked by hand (no published value for these)
# --------------------------------------------------------------------------------------------


def test_agreement_unitizing_alpha_hand_computed_two_coders():
    # L = 10, coder A codes [2, 6), coder B codes [3, 7). Characters 2 and 6 mismatch, so
    # l(X, gap) = l(gap, X) = 2; N = 20, n_X = 8, n_gap = 12. Units: 4^2 + 4^2 = 32; gaps
    # count their length: 12. e(X, gap) = 20 * 8 * 12 / (400 - 32 - 12) = 1920 / 356.
    # alpha = 1 - 4 / (2 * 1920 / 356) = 1 - 1424 / 3840.
    spans = {"A": [(2, 6, "X")], "B": [(3, 7, "X")]}
    assert unitizing_alpha(spans, 10, "X") == pytest.approx(1 - 1424 / 3840)
    # Over characters (each a unit of length 1) the expected term is 8 * 12 / 19 instead.
    chars = [[int(2 <= i < 6), int(3 <= i < 7)] for i in range(10)]
    assert krippendorff_alpha(chars) == pytest.approx(1 - 4 / (2 * 8 * 12 / 19))


def test_agreement_unitizing_alpha_rejects_overlaps_but_keeps_touching_spans_apart():
    other = {"B": [(0, 12, "X")]}
    # Overlapping spans of one coder and one label are an input error (they used to be merged
    # silently); the unitizing family assumes none (see tests/test_agreement_unitizing.py).
    with pytest.raises(AgreementInputError, match="overlapping spans of the same value"):
        unitizing_alpha({"A": [(0, 6, "X"), (4, 10, "X")], **other}, 20, "X")
    merged = unitizing_alpha({"A": [(0, 10, "X")], **other}, 20, "X")
    touching = unitizing_alpha({"A": [(0, 5, "X"), (5, 10, "X")], **other}, 20, "X")
    # Two touching units of 5 are two units: smaller squared lengths, different chance term.
    assert touching != merged


def test_agreement_unitizing_alpha_treats_other_labels_as_gaps():
    # Per label, spans of other labels are irrelevant matter: adding a "Y" span that only one
    # coder used does not change alpha for "X".
    base = {"A": [(2, 6, "X")], "B": [(3, 7, "X")]}
    extra = {"A": [(2, 6, "X"), (0, 9, "Y")], "B": [(3, 7, "X")]}
    assert unitizing_alpha(extra, 10, "X") == unitizing_alpha(base, 10, "X")


def test_agreement_nvivo_kappa_hand_computed():
    # 10 characters; A codes [0, 4), B codes [2, 6): both 2, only A 2, only B 2, neither 4.
    # p_o = 0.6; p_e = 0.4 * 0.4 + 0.6 * 0.6 = 0.52; kappa = 0.08 / 0.48.
    assert nvivo_kappa([(0, 4)], [(2, 6)], 10) == pytest.approx(0.08 / 0.48)


def test_agreement_nvivo_kappa_undefined_cases_are_nan_not_nvivos_one():
    # NVivo displays 1 when neither coder coded the node in a source; kappa is 0/0 there.
    assert math.isnan(nvivo_kappa([], [], 50))
    assert math.isnan(nvivo_kappa([(0, 50)], [(0, 25), (25, 50)], 50))
    # Complete disagreement with constant codings is defined: p_o = 0, p_e = 0.
    assert nvivo_kappa([(0, 50)], [], 50) == 0.0


def test_agreement_brennan_prediger_and_ac1_count_unused_categories():
    # Artstein & Poesio's first table with a third, never used category: q = 3, so
    # p_e(BP) = 1/3 and BP = (0.7 - 1/3) / (2/3) = 0.55.
    a, b = expand([[20, 10], [20, 50]], ["STAT", "IReq"])
    assert brennan_prediger(rows(a, b), ["STAT", "IReq", "Chck"]) == pytest.approx(0.55)
    # AC1: pi = (0.35, 0.65, 0); p_e = (0.35 * 0.65 * 2) / (3 - 1).
    pe = 0.35 * 0.65
    assert gwet_ac1(rows(a, b), ["STAT", "IReq", "Chck"]) == pytest.approx((0.7 - pe) / (1 - pe))


def test_agreement_two_coder_functions_drop_units_missing_either_code():
    a = ["x", "y", None, "x", float("nan")]
    b = ["x", "x", "y", None, "y"]
    assert percent_agreement(a, b) == pytest.approx(0.5)
    assert cohen_kappa(a, b) == cohen_kappa(["x", "y"], ["x", "x"])


def test_agreement_fleiss_kappa_accepts_missing_cells_with_equal_rating_counts():
    # Fleiss' design: n raters per subject, not necessarily the same raters.
    with_gaps = [[1, 1, None], [None, 2, 2], [1, None, 2]]
    assert fleiss_kappa(with_gaps) == fleiss_kappa([[1, 1], [2, 2], [1, 2]])


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

labels = st.sampled_from(["a", "b", "c", "d"])


@st.composite
def coder_pairs(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    n = draw(st.integers(min_value=1, max_value=30))
    a = draw(st.lists(labels, min_size=n, max_size=n))
    b = draw(st.lists(labels, min_size=n, max_size=n))
    return a, b


@st.composite
def rating_matrices(draw: st.DrawFn, missing: bool = True) -> list[list[Any]]:
    n_coders = draw(st.integers(min_value=2, max_value=5))
    cell = st.one_of(st.none(), labels) if missing else labels
    return draw(
        st.lists(st.lists(cell, min_size=n_coders, max_size=n_coders), min_size=1, max_size=15)
    )


def same_or_both_nan(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, abs=1e-9)


@given(coder_pairs(), st.sampled_from([None, "linear", "quadratic"]))
def test_agreement_two_coder_coefficients_are_symmetric(pair, weights):
    a, b = pair
    assert percent_agreement(a, b) == percent_agreement(b, a)
    assert same_or_both_nan(cohen_kappa(a, b, weights), cohen_kappa(b, a, weights))
    assert same_or_both_nan(scott_pi(a, b), scott_pi(b, a))


@given(st.lists(labels, min_size=1, max_size=30).filter(lambda xs: len(set(xs)) > 1))
def test_agreement_perfect_agreement_gives_one(codes):
    assert percent_agreement(codes, codes) == 1.0
    for weights in (None, "linear", "quadratic"):
        assert cohen_kappa(codes, codes, weights) == 1.0
    assert scott_pi(codes, codes) == 1.0
    for n_coders in (2, 3):
        matrix = [[c] * n_coders for c in codes]
        assert krippendorff_alpha(matrix) == 1.0
        assert fleiss_kappa(matrix) == 1.0
        assert gwet_ac1(matrix) == 1.0
        assert brennan_prediger(matrix) == 1.0


@given(rating_matrices(), st.permutations(["a", "b", "c", "d"]))
def test_agreement_nominal_coefficients_ignore_category_names(matrix, perm):
    rename = dict(zip(["a", "b", "c", "d"], [p + "!" for p in perm], strict=True))
    renamed = [[None if v is None else rename[v] for v in row] for row in matrix]
    for fn in (krippendorff_alpha, gwet_ac1, brennan_prediger):
        try:
            expected = fn(matrix)
        except AgreementInputError:
            with pytest.raises(AgreementInputError):
                fn(renamed)
            continue
        assert same_or_both_nan(fn(renamed), expected)
    full = [row for row in matrix if None not in row]
    if full:
        assert same_or_both_nan(fleiss_kappa(renamed_rows(full, rename)), fleiss_kappa(full))
        a, b = [r[0] for r in full], [r[1] for r in full]
        ra, rb = [rename[x] for x in a], [rename[x] for x in b]
        assert same_or_both_nan(cohen_kappa(ra, rb), cohen_kappa(a, b))
        assert same_or_both_nan(scott_pi(ra, rb), scott_pi(a, b))


def renamed_rows(matrix: list[list[Any]], rename: dict[str, str]) -> list[list[Any]]:
    return [[rename[v] for v in row] for row in matrix]


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=2, max_value=5), labels)
def test_agreement_single_category_data_give_nan(n_units, n_coders, label):
    codes = [label] * n_units
    assert math.isnan(cohen_kappa(codes, codes))
    assert math.isnan(cohen_kappa(codes, codes, "linear"))
    assert math.isnan(scott_pi(codes, codes))
    matrix = [[label] * n_coders for _ in range(n_units)]
    assert math.isnan(fleiss_kappa(matrix))
    assert math.isnan(krippendorff_alpha(matrix))
    numeric = [[3] * n_coders for _ in range(n_units)]
    for level in ("ordinal", "interval", "ratio"):
        assert math.isnan(krippendorff_alpha(numeric, level))
    assert math.isnan(gwet_ac1(matrix))
    assert math.isnan(brennan_prediger(matrix))
    # With a second possible category the chance terms are defined again.
    assert gwet_ac1(matrix, [label, "other"]) == 1.0
    assert math.isnan(cohen_kappa(codes, codes, categories=[label, "other"]))


@given(coder_pairs())
def test_agreement_alpha_and_pi_relation_for_two_coders(pair):
    # Krippendorff (2011): for two coders without missing data,
    # alpha = 1 - (2N - 1) / (2N) * (1 - pi).
    a, b = pair
    pi = scott_pi(a, b)
    alpha = krippendorff_alpha(rows(a, b))
    n = len(a)
    if math.isnan(pi):
        assert math.isnan(alpha)
    else:
        assert alpha == pytest.approx(1 - (2 * n - 1) / (2 * n) * (1 - pi))


@given(
    st.integers(min_value=2, max_value=6).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(
                st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=40
            ),
        )
    )
)
def test_agreement_quadratic_kappa_equals_moment_formula(data):
    # With quadratic weights and equally spaced scores, kappa_w = 2 s_xy / (s_x^2 + s_y^2 +
    # (mean_x - mean_y)^2) using population moments (Fleiss & Cohen 1973; Schuster 2004).
    k, pairs = data
    x = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    n = len(pairs)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((u - mx) * (v - my) for u, v in pairs) / n
    sxx = sum((u - mx) ** 2 for u in x) / n
    syy = sum((v - my) ** 2 for v in y) / n
    denominator = sxx + syy + (mx - my) ** 2
    kappa = cohen_kappa(x, y, "quadratic", categories=list(range(k)))
    if denominator == 0:
        assert math.isnan(kappa)
    else:
        assert kappa == pytest.approx(2 * sxy / denominator)


@st.composite
def span_sets(draw: st.DrawFn, n_labels: int = 1) -> tuple[int, dict[str, list[tuple]]]:
    """Coders' spans; spans of one coder and one label are disjoint (they may touch), spans of
    different labels may overlap."""
    length = draw(st.integers(min_value=1, max_value=60))
    n_coders = draw(st.integers(min_value=2, max_value=4))
    coders = {}
    for c in range(n_coders):
        spans = []
        for label in ["X", "Y", "Z"][:n_labels]:
            cuts = sorted(draw(st.sets(st.integers(0, length), max_size=6)) | {0, length})
            spans += [(s, e, label) for s, e in itertools.pairwise(cuts)
                      if draw(st.booleans())]
        coders[f"coder{c}"] = spans
    return length, coders


@given(span_sets(n_labels=3), st.randoms())
def test_agreement_unitizing_alpha_is_symmetric_in_coder_order(data, rnd):
    length, coders = data
    names = list(coders)
    rnd.shuffle(names)
    shuffled = {name: list(reversed(coders[name])) for name in names}
    for label in (None, "X", "Y"):
        assert same_or_both_nan(
            unitizing_alpha(shuffled, length, label), unitizing_alpha(coders, length, label)
        )


@given(span_sets(n_labels=3), st.integers(min_value=2, max_value=4))
def test_agreement_unitizing_alpha_is_one_for_identical_span_sets(data, n_coders):
    length, coders = data
    spans = next(iter(coders.values()))
    identical = {f"c{i}": list(spans) for i in range(n_coders)}
    for label in (None, "X"):
        value = unitizing_alpha(identical, length, label)
        # A label is informative unless nobody used it or everybody coded the whole text with
        # it (then its expected disagreement is zero); with none informative alpha is undefined.
        informative = [
            lab
            for lab in {lab for _, _, lab in spans}
            if label in (None, lab)
            and len({i for s, e, x in spans if x == lab for i in range(s, e)}) < length
        ]
        if informative:
            assert value == 1.0
        else:
            assert math.isnan(value)


@given(st.integers(min_value=1, max_value=40), st.data())
def test_agreement_unitizing_alpha_with_unit_spans_equals_alpha_over_characters(length, data):
    n_coders = data.draw(st.integers(min_value=2, max_value=4))
    coded = [
        data.draw(st.lists(st.booleans(), min_size=length, max_size=length))
        for _ in range(n_coders)
    ]
    spans = {c: [(i, i + 1, "X") for i, v in enumerate(col) if v] for c, col in enumerate(coded)}
    matrix = [[coded[c][i] for c in range(n_coders)] for i in range(length)]
    assert same_or_both_nan(unitizing_alpha(spans, length, "X"), krippendorff_alpha(matrix))


@given(span_sets(n_labels=3))
def test_agreement_unitizing_alpha_pooled_lies_between_label_alphas(data):
    # Pooling sums D_o and D_e over labels, so the pooled alpha is a D_e-weighted mean.
    length, coders = data
    per_label = [unitizing_alpha(coders, length, lab) for lab in ("X", "Y", "Z")]
    defined = [v for v in per_label if not math.isnan(v)]
    pooled = unitizing_alpha(coders, length)
    if defined:
        assert min(defined) - 1e-9 <= pooled <= max(defined) + 1e-9
    else:
        assert math.isnan(pooled)


@given(st.integers(min_value=1, max_value=80), st.data())
def test_agreement_nvivo_kappa_equals_cohen_kappa_over_characters(length, data):
    span = st.tuples(st.integers(0, length - 1), st.integers(1, length)).filter(
        lambda se: se[0] < se[1]
    )
    a_spans = data.draw(st.lists(span, max_size=4))
    b_spans = data.draw(st.lists(span, max_size=4))
    a = [any(s <= i < e for s, e in a_spans) for i in range(length)]
    b = [any(s <= i < e for s, e in b_spans) for i in range(length)]
    assert same_or_both_nan(nvivo_kappa(a_spans, b_spans, length), cohen_kappa(a, b))


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: percent_agreement(["a", "b"], ["a"]),
        lambda: cohen_kappa([], []),
        lambda: scott_pi([None, "a"], ["b", None]),
        lambda: cohen_kappa("ab", "ab"),
        lambda: cohen_kappa(["a"], ["a"], "cubic"),  # type: ignore[arg-type]
        lambda: cohen_kappa([1, "a"], [1, "a"], "linear"),
        lambda: cohen_kappa(["a", "b"], ["a", "c"], categories=["a", "b"]),
        lambda: cohen_kappa(["a"], ["a"], categories=["a", "a"]),
        lambda: krippendorff_alpha([[1, 2]], "cardinal"),  # type: ignore[arg-type]
        lambda: krippendorff_alpha([]),
        lambda: krippendorff_alpha([[1], [2]]),
        lambda: krippendorff_alpha([[1, 2], [3]]),
        lambda: krippendorff_alpha([[1, None], [None, 2]]),
        lambda: krippendorff_alpha([["a", "b"]], "interval"),
        lambda: krippendorff_alpha([[-1, 2]], "ratio"),
        lambda: krippendorff_alpha([["a", 1]], "interval"),
        lambda: krippendorff_alpha([[1, 2]], "interval", categories=[1, 2, "x"]),
        lambda: krippendorff_alpha([["lo", 1]], "ordinal"),
        lambda: krippendorff_alpha([[[1], [2]]]),
        lambda: fleiss_kappa([[1, 1, 1], [1, 2, None]]),
        lambda: fleiss_kappa([[1, None], [None, 2]]),
        lambda: gwet_ac1([[None, None]]),
        lambda: brennan_prediger([[1, None], [None, 2]]),
        lambda: unitizing_alpha({"A": [(0, 5, "X")]}, 10),
        lambda: unitizing_alpha([("A", [(0, 5, "X")])], 10),  # type: ignore[arg-type]
        lambda: unitizing_alpha({"A": [(0, 11, "X")], "B": []}, 10),
        lambda: unitizing_alpha({"A": [(5, 5, "X")], "B": []}, 10),
        lambda: unitizing_alpha({"A": [(-1, 3, "X")], "B": []}, 10),
        lambda: unitizing_alpha({"A": [(0, 3)], "B": []}, 10),
        lambda: unitizing_alpha({"A": [(0, 3, None)], "B": []}, 10),
        lambda: unitizing_alpha({"A": [(0.5, 3, "X")], "B": []}, 10),
        lambda: unitizing_alpha({"A": [], "B": []}, 0),
        lambda: unitizing_alpha({"A": [], "B": []}, 5, ["X"]),  # type: ignore[arg-type]
        lambda: unitizing_alpha({"A": "0-3 X", "B": []}, 10),
        lambda: nvivo_kappa([(3, 2)], [], 10),
        lambda: nvivo_kappa([(0, 3, "X")], [], 10),
        lambda: nvivo_kappa([], [], True),
    ],
)
def test_agreement_invalid_input_raises_with_hint(call):
    with pytest.raises(AgreementInputError) as excinfo:
        call()
    assert isinstance(excinfo.value, ValueError)
    assert excinfo.value.hint


def test_agreement_fleiss_unequal_rater_counts_error_names_the_unit():
    with pytest.raises(AgreementInputError, match="unit 1 has 2 ratings"):
        fleiss_kappa([[1, 1, 1], [1, 2, None]])


def test_agreement_unused_label_gives_nan_not_error():
    assert math.isnan(unitizing_alpha({"A": [(0, 3, "X")], "B": [(1, 4, "X")]}, 10, "Y"))
    assert math.isnan(unitizing_alpha({"A": [], "B": []}, 10))
