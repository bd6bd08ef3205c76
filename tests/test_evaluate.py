"""Evaluate: figures on hand-built runs, the bootstrap's closed forms, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import pipeline.evaluate.bootstrap as bs
from pipeline.agreement import (
    binary_u_alpha,
    cohen_kappa,
    cu_alpha,
    global_cu_alpha,
    gwet_ac1,
    krippendorff_alpha,
    u_alpha,
    unitizing_alpha,
    unitizing_alpha_1995,
    value_u_alpha,
)
from pipeline.cli import app
from pipeline.errors import ConfigError, GoldCodingError, RunFolderError, UnsupportedFormatError
from pipeline.evaluate import evaluate, parse_thresholds
from pipeline.evaluate.figures import binary_units, confusion
from pipeline.metrics import macro_f1, micro_f1, per_code_scores, theme_accuracy, topk_accuracy
from pipeline.records import Code, Codebook, Decision, Segment, Source, Theme, Turn
from pipeline.run_folder import RunFolder
from pipeline.unitizing import disagreements_1995
from tests.conftest import write_run

runner = CliRunner()

TEXTS = {
    "s1": ("How was it?", ["I keep hope for the future every day.",
                           "My peers support me when I struggle.",
                           "The staff at the ward were kind to us.",
                           "We also talked about the weather."]),
    "s2": ("And then?", ["Peer workers share their own stories with patients.",
                         "Hope keeps people going through bad days.",
                         "The staff train new peer workers."]),
}
CODEBOOK = Codebook("tiny", "1", (
    Theme("recovery", "Recovery", "How recovery happens.", (
        Code("hope", "Hope", "Hope for the future keeps a person going.",
             examples=("I keep hope that things get better.",)),
    )),
    Theme("support", "Support", "Who supports whom.", (
        Code("peer", "Peer support", "Peers and peer workers support each other.",
             examples=("My peers support me.",)),
        Code("staff", "Staff support", "Staff of the ward help and train people.",
             examples=("The staff were kind.",)),
        Code("unused", "Unused", "A code nobody uses, about gardening.",
             examples=("We planted tomatoes.",)),
    )),
))
# Sentence index per source -> code, for coders A and B (B misses s1's staff sentence and
# calls s2's staff sentence peer support).
GOLD_A = {("s1", 0): "hope", ("s1", 1): "peer", ("s1", 2): "staff",
          ("s2", 0): "peer", ("s2", 1): "hope", ("s2", 2): "staff"}
GOLD_B = {("s1", 0): "hope", ("s1", 1): "peer",
          ("s2", 0): "peer", ("s2", 1): "hope", ("s2", 2): "peer"}


def _source(sid: str) -> tuple[Source, list[Segment]]:
    question, sentences = TEXTS[sid]
    text = f"Interviewer: {question}\n\nNurse: "
    turns = [Turn("Interviewer", "interviewer", 13, 13 + len(question))]
    start = len(text)
    text += " ".join(sentences) + "\n"
    turns.append(Turn("Nurse", "participant", start, len(text) - 1))
    segments = []
    for sentence in sentences:
        s = text.index(sentence)
        segments.append(Segment(f"{sid}:{s}-{s + len(sentence)}", sid, s, s + len(sentence),
                                sentence, "Nurse", "participant", 1))
    return Source(sid, f"{sid}.txt", text, tuple(turns)), segments


def _span(sid: str, index: int) -> tuple[int, int]:
    seg = _source(sid)[1][index]
    return seg.start, seg.end


def make_run(path: Path, config: dict[str, Any], suggest: bool = True) -> RunFolder:
    """A two-source run with hand-made segments; suggestions scored for real (TF-IDF)."""
    sources, segments = [], []
    for sid in TEXTS:
        source, segs = _source(sid)
        sources.append(source)
        segments += segs
    run: RunFolder = write_run(path, config, sources, segments, CODEBOOK, suggest)
    return run


def write_gold(path: Path, rows: list[tuple[Any, ...]] | None = None) -> Path:
    if rows is None:
        rows = [(f"{sid}.txt", *_span(sid, i), code, coder)
                for coder, gold in (("A", GOLD_A), ("B", GOLD_B))
                for (sid, i), code in gold.items()]
    lines = ["source,start,end,code,coder"] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_suggestions(run: RunFolder, codes: dict[tuple[str, int], list[str]]) -> None:
    rows = []
    for sid in TEXTS:
        for i, seg in enumerate(_source(sid)[1]):
            given = codes.get((sid, i), [])
            for rank, code in enumerate(given or [None], 1):
                rows.append({"source": f"{sid}.txt", "segment_id": seg.id, "start": seg.start,
                             "end": seg.end, "speaker": seg.speaker, "role": seg.role,
                             "text": seg.text, "code": code, "score": 0.9 if code else 0.1,
                             "rank": rank, "method": "zero-shot", "evidence": []})
    run.write_jsonl("suggestions.jsonl", rows)


@pytest.fixture
def tiny(tmp_path: Path, fast_config: dict) -> tuple[RunFolder, Path]:
    return make_run(tmp_path / "run", fast_config), write_gold(tmp_path / "gold.csv")


def _no_nan(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in evaluation.json")
    return json.loads(text, parse_constant=refuse)


# --- end to end -------------------------------------------------------------------------------


def test_evaluate_cli_prints_tables_and_writes_json(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    result = runner.invoke(app, ["evaluate", str(run.path), "--gold", str(gold),
                                 "--threshold", "0.05:0.5:0.05", "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    for heading in ("Overall", "Per code", "Themes", "Human baseline", "Threshold sweep",
                    "covers at least 50% of the segment", "coder A vs coder B"):
        assert heading in result.output
    report = _no_nan(run.file("evaluation.json").read_text(encoding="utf-8"))
    assert report["alignment"]["rule"].startswith("a segment carries a coded span's code")
    assert report["sources"]["evaluated"] == ["s1.txt", "s2.txt"]
    assert report["segments"]["evaluated"] == 7
    assert set(report["per_code"]) == {"hope", "peer", "staff", "unused"}
    assert {"top1_accuracy", "top3_accuracy", "micro_f1", "krippendorff_alpha",
            "gwet_ac1"} <= set(report["overall"])
    assert set(report["intervals"]["figures"]) >= {"micro_f1", "krippendorff_alpha"}
    assert [r["threshold"] for r in report["threshold_sweep"]["rows"]] == [
        0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
    # The suggestions were scored with the run's settings, so rescoring reproduces them.
    assert not any("recomputed" in w for w in report["warnings"])
    threshold = run.manifest()["config"]["suggest"]["threshold"]
    at_run = next(r for r in report["threshold_sweep"]["rows"] if r["threshold"] == threshold)
    assert at_run["micro_f1"] == report["overall"]["micro_f1"]
    assert report["per_code"]["unused"]["support"] == 0
    assert "per_code.unused.recall" in report["undefined"]


def test_evaluate_against_coder_matches_hand_computed_figures(tiny: tuple[RunFolder, Path]
                                                              ) -> None:
    run, gold = tiny
    report = evaluate(run.path, gold, against="coder:B", draws=0).report
    hope, peer, staff = (report["per_code"][c] for c in ("hope", "peer", "staff"))
    assert (hope["precision"], hope["recall"], hope["f1"], hope["kappa"]) == (1, 1, 1, 1)
    assert (peer["support"], peer["predicted"]) == (2, 3)
    assert peer["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert peer["f1"] == pytest.approx(0.8) and peer["kappa"] == pytest.approx(16 / 23, abs=1e-6)
    assert staff["precision"] is None and staff["recall"] == 0 and staff["kappa"] == 0
    assert "per_code.staff.precision" in report["undefined"]
    assert report["per_code"]["unused"]["kappa"] is None
    overall = report["overall"]
    assert overall["micro_f1"] == pytest.approx(8 / 11, abs=1e-6)
    assert overall["macro_f1"] == pytest.approx(0.6)
    a = [{"hope"}, {"peer"}, {"staff"}, set(), {"peer"}, {"hope"}, {"staff"}]
    b = [{"hope"}, {"peer"}, set(), set(), {"peer"}, {"hope"}, {"peer"}]
    units = binary_units(a, b, CODEBOOK.code_ids())
    assert overall["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(units), abs=1e-6)
    assert "top1_accuracy" not in overall  # coders have no scores to rank
    assert report["human_baseline"] == {"note": "the comparison is between two coders already"}
    assert report["per_code"]["hope"]["char_kappa"] == 1.0
    assert report["per_code"]["hope"]["binary_u_alpha"] == 1.0


def _continuum(gold: dict[tuple[str, int], str]) -> list[tuple[int, int, str]]:
    """A coder's spans on the sources laid end to end (s1, then s2)."""
    offset = {"s1": 0, "s2": len(_source("s1")[0].text)}
    return sorted((offset[sid] + _span(sid, i)[0], offset[sid] + _span(sid, i)[1], code)
                  for (sid, i), code in gold.items())


def test_evaluate_unitizing_family_matches_pipeline_agreement(tiny: tuple[RunFolder, Path]
                                                              ) -> None:
    """The family in evaluation.json is pipeline.agreement's on the sources end to end."""
    run, gold = tiny
    report = evaluate(run.path, gold, against="coder:B", draws=0, write=False).report
    total = sum(len(_source(sid)[0].text) for sid in TEXTS)
    spans = {"A": _continuum(GOLD_A), "B": _continuum(GOLD_B)}
    themes = {"hope": "recovery", "peer": "support", "staff": "support", "unused": "support"}
    overall = report["overall"]
    coded = {c: [(s, e, "coded") for s, e, _ in v] for c, v in spans.items()}
    assert overall["binary_u_alpha"] == pytest.approx(binary_u_alpha(coded, total), abs=1e-6)
    assert overall["u_alpha"] == pytest.approx(u_alpha(spans, total), abs=1e-6)
    assert overall["cu_alpha"] == pytest.approx(cu_alpha(spans, total), abs=1e-6)
    domains = {c: [(s, e, (themes[v], v)) for s, e, v in sp] for c, sp in spans.items()}
    assert overall["global_cu_alpha"] == pytest.approx(global_cu_alpha(domains, total), abs=1e-6)
    # Krippendorff's 1995/2004 coefficient with gaps stopping at the border of s1 and s2 (on one
    # continuum without that border, the gap ending s1 and the one starting s2 would be one).
    border = [len(_source("s1")[0].text)]
    pooled = [disagreements_1995([[(s, e) for s, e, v in spans[c] if v == code] for c in "AB"],
                                 total, border) for code in themes]
    assert overall["u_alpha_1995"] == pytest.approx(
        1 - sum(p[0] for p in pooled) / sum(p[1] for p in pooled), abs=1e-6)
    assert overall["u_alpha_1995"] != pytest.approx(unitizing_alpha_1995(spans, total, None))
    for code in ("hope", "peer", "staff"):
        figures = report["per_code"][code]
        assert figures["binary_u_alpha"] == pytest.approx(
            unitizing_alpha(spans, total, code), abs=1e-6)
        support = {c: [u for u in sp if themes[u[2]] == themes[code]] for c, sp in spans.items()}
        expected = value_u_alpha(support, total, code)
        assert figures["value_u_alpha"] == (None if math.isnan(expected)
                                            else pytest.approx(expected, abs=1e-6))
    assert report["per_code"]["unused"]["binary_u_alpha"] is None
    assert "per_code.unused.binary_u_alpha" in report["undefined"]
    assert report["unitizing"]["per_theme"]["support"]["cu_alpha"] == pytest.approx(
        cu_alpha({c: [u for u in sp if u[2] != "hope"] for c, sp in spans.items()}, total),
        abs=1e-6)
    assert "ATLAS.ti" in report["unitizing"]["atlas_ti"]


def test_evaluate_unitizing_family_has_intervals_by_source(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    intervals = evaluate(run.path, gold, against="coder:B", draws=200, write=False
                         ).report["intervals"]
    assert {"binary_u_alpha", "u_alpha", "cu_alpha", "global_cu_alpha"} <= set(
        intervals["figures"])
    assert "u_alpha_1995" not in intervals["figures"]  # no per-source decomposition
    hope = intervals["per_code"]["hope"]["binary_u_alpha"]
    assert hope["low"] <= hope["high"]


def test_evaluate_overlapping_codes_leave_u_alpha_undefined_with_a_reason(
        tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config, suggest=False)
    rows = [(f"{sid}.txt", *_span(sid, i), code, coder)
            for coder, gold in (("A", GOLD_A), ("B", GOLD_B)) for (sid, i), code in gold.items()]
    rows.append(("s1.txt", *_span("s1", 0), "peer", "B"))  # B gives sentence 0 two codes
    rows.append(("s1.txt", _span("s1", 1)[0], _span("s1", 1)[0] + 10, "peer", "A"))  # merged
    report = evaluate(run.path, write_gold(tmp_path / "g.csv", rows), against="coder:B",
                      draws=50, write=False).report
    assert report["overall"]["u_alpha"] is None and report["overall"]["cu_alpha"] is None
    assert report["overall"]["binary_u_alpha"] is not None
    # hope and peer are codes of different themes (domains): Cuα allows that overlap.
    assert report["overall"]["global_cu_alpha"] is not None
    notes = report["unitizing"]
    assert notes["overlapping_codes"] == {"reference": 0, "hypothesis": 1}
    assert notes["merged_overlapping_spans"] == {"reference": 1, "hypothesis": 0}
    assert notes["themes_with_overlapping_codes"] == {}
    assert "one code per passage" in notes["undefined"]
    assert "overlapping" in report["undefined"]["overall.u_alpha"]
    # Two codes of one theme on one passage: Cuα and the theme's (k)uα are undefined too.
    rows.append(("s2.txt", *_span("s2", 2), "peer", "A"))
    report = evaluate(run.path, write_gold(tmp_path / "g.csv", rows), against="coder:B",
                      draws=50, write=False).report
    assert report["overall"]["global_cu_alpha"] is None
    assert report["unitizing"]["themes_with_overlapping_codes"] == {"support": 1}
    assert report["unitizing"]["per_theme"]["support"]["cu_alpha"] is None
    assert report["per_code"]["peer"]["value_u_alpha"] is None
    assert report["intervals"]["per_code"]["peer"]["value_u_alpha"]["low"] is None


def test_evaluate_identical_coders_agree_perfectly(tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config, suggest=False)
    rows = [(f"{sid}.txt", *_span(sid, i), code, coder)
            for coder in ("A", "B") for (sid, i), code in GOLD_A.items()]
    report = evaluate(run.path, write_gold(tmp_path / "g.csv", rows), against="coder:B",
                      draws=50).report
    for key in ("micro_f1", "macro_f1", "kappa", "krippendorff_alpha", "gwet_ac1",
                "char_kappa_mean", "binary_u_alpha", "u_alpha", "cu_alpha", "global_cu_alpha",
                "u_alpha_1995", "exact_match"):
        assert report["overall"][key] == 1.0, key


def test_evaluate_agreement_is_symmetric(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    ab = evaluate(run.path, gold, coder="A", against="coder:B", draws=0, write=False).report
    ba = evaluate(run.path, gold, coder="B", against="coder:A", draws=0, write=False).report
    for key in ("micro_f1", "kappa", "krippendorff_alpha", "gwet_ac1", "char_kappa_mean",
                "binary_u_alpha", "u_alpha", "cu_alpha", "global_cu_alpha", "u_alpha_1995"):
        assert ab["overall"][key] == pytest.approx(ba["overall"][key]), key
    assert ab["per_code"]["peer"]["precision"] == ba["per_code"]["peer"]["recall"]


def test_evaluate_suggestions_count_as_listed_in_suggestions_jsonl(
        tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    write_suggestions(run, {("s1", 0): ["hope"], ("s1", 1): ["peer", "staff"],
                            ("s2", 2): ["staff"]})
    report = evaluate(run.path, gold, draws=0).report
    peer, staff = report["per_code"]["peer"], report["per_code"]["staff"]
    assert (peer["predicted"], peer["precision"], peer["recall"]) == (1, 1.0, 0.5)
    assert (staff["predicted"], staff["precision"]) == (2, 0.5)
    assert report["confusion"]["table"]["peer"] == {"(none)": 1.0, "peer": 1.0}
    # Hand-made lines differ from what the run's settings give: said, and counted.
    assert any("recomputed" in w and "suggestions.jsonl" in w for w in report["warnings"])
    assert report["counts"]["warnings"] == len(report["warnings"])


def test_evaluate_human_baseline_side_by_side(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    baseline = evaluate(run.path, gold, draws=100).report["human_baseline"]
    assert [row["pair"] for row in baseline["pairs"]] == [
        "coder A vs coder B", "coder A vs suggestions", "coder B vs suggestions"]
    human = baseline["pairs"][0]["figures"]["krippendorff_alpha"]
    assert baseline["gap"]["human_mean"] == pytest.approx(human)
    assert "Krippendorff's alpha of suggestions" in baseline["gap"]["verdict"]
    assert set(baseline["pairs"][1]["intervals"]) == {"micro_f1", "krippendorff_alpha"}


def test_evaluate_one_coder_has_no_baseline(tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config)
    rows = [(f"{sid}.txt", *_span(sid, i), code, "A") for (sid, i), code in GOLD_A.items()]
    report = evaluate(run.path, write_gold(tmp_path / "g.csv", rows), draws=0).report
    assert "one coder" in report["human_baseline"]["note"]


def test_evaluate_alignment_rule_is_configurable(tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config, suggest=False)
    (start0, end0), (start1, end1) = _span("s1", 0), _span("s1", 1)
    # A span over the last ~38% of one sentence and the first ~38% of the next: whole in
    # neither, so the share decides.
    span = (end0 - (end0 - start0) * 4 // 10, start1 + (end1 - start1) * 4 // 10)
    rows = [("s1.txt", *span, "hope", "A"), ("s1.txt", start0, end0, "hope", "B")]
    gold = write_gold(tmp_path / "g.csv", rows)
    strict = evaluate(run.path, gold, against="coder:B", draws=0, write=False).report
    assert strict["per_code"]["hope"]["support"] == 0
    assert strict["alignment"]["spans_reaching_no_segment"] == 1
    assert any("gold line 2" in w and "no segment" in w for w in strict["warnings"])
    loose = evaluate(run.path, gold, against="coder:B", min_share=0.3, draws=0,
                     write=False).report
    assert loose["per_code"]["hope"]["support"] == 2
    assert "at least 30% of the segment" in loose["alignment"]["rule"]


def test_evaluate_span_in_an_interviewer_turn_is_a_counted_warning(
        tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    text = gold.read_text(encoding="utf-8") + "s1.txt,13,24,hope,A\n"
    gold.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(run.path), "--gold", str(gold),
                                 "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert "1 of 7 gold spans reach no segment" in result.output
    report = json.loads(run.file("evaluation.json").read_text(encoding="utf-8"))
    assert report["counts"]["spans_reaching_no_segment"] == 1
    assert any("gold line 13" in w for w in report["warnings"])


def test_evaluate_only_sources_the_coder_coded(tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config)
    rows = [(f"{sid}.txt", *_span(sid, i), code, "A")
            for (sid, i), code in GOLD_A.items() if sid == "s1"]
    report = evaluate(run.path, write_gold(tmp_path / "g.csv", rows), draws=100).report
    assert report["sources"]["evaluated"] == ["s1.txt"]
    assert report["sources"]["left_out"] == {"s2.txt": "coder A coded nothing in it"}
    assert report["segments"]["evaluated"] == 4
    assert report["intervals"]["figures"] == {}
    assert "one source" in report["intervals"]["note"]


def test_evaluate_source_filter(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    report = evaluate(run.path, gold, sources=["s2.txt"], draws=0, write=False).report
    assert report["sources"]["evaluated"] == ["s2.txt"]
    assert report["sources"]["left_out"] == {"s1.txt": "not selected with --source"}


def test_evaluate_bootstrap_is_reproducible(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    first = evaluate(run.path, gold, draws=300, seed=7, write=False).report["intervals"]
    again = evaluate(run.path, gold, draws=300, seed=7, write=False).report["intervals"]
    assert first["figures"] == again["figures"]
    assert first["draws"] == 300 and first["seed"] == 7


def test_evaluate_decisions_fold_retracts(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    seg = {(sid, i): s.id for sid in TEXTS for i, s in enumerate(_source(sid)[1])}

    def d(key: tuple[str, int], code: str | None, verdict: str, coder: str = "R") -> Decision:
        return Decision(seg[key], code, verdict, coder, "2024-01-01T00:00:00")

    run.write_jsonl("decisions.jsonl", [
        d(("s1", 0), "hope", "accept"),
        d(("s1", 1), "peer", "relabel"),
        d(("s1", 2), "staff", "accept"), d(("s1", 2), "staff", "retract"),  # cancelled
        d(("s2", 0), "peer", "reject"),
        d(("s2", 1), "hope", "accept", coder="Q"),
    ])
    report = evaluate(run.path, gold, against="decisions", draws=0).report
    assert report["hypothesis"]["reviewed_segments"] == 4
    codes = report["per_code"]
    assert (codes["hope"]["predicted"], codes["peer"]["predicted"],
            codes["staff"]["predicted"]) == (2, 1, 0)
    assert report["segments"]["evaluated"] == 4  # only reviewed segments are compared
    by_r = evaluate(run.path, gold, against="decisions:R", draws=0, write=False).report
    assert by_r["per_code"]["hope"]["predicted"] == 1


@pytest.mark.parametrize(("specs", "expected"), [
    (["0.3"], [0.3]), (["0.2,0.4", "0.3"], [0.2, 0.3, 0.4]), (["0.1:0.3:0.1"], [0.1, 0.2, 0.3]),
])
def test_evaluate_parse_thresholds(specs: list[str], expected: list[float]) -> None:
    assert parse_thresholds(specs) == expected


@pytest.mark.parametrize("spec", ["x", "0.1:0.5", "0.1:0.5:0", "1.5"])
def test_evaluate_parse_thresholds_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_thresholds([spec])


# --- the bootstrap's closed forms agree with the exact coefficients ----------------------------

_SETS = st.lists(st.tuples(st.sets(st.sampled_from("abc")), st.sets(st.sampled_from("abc"))),
                 min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(_SETS)
def test_evaluate_closed_forms_match_agreement_and_metrics(pairs: list) -> None:
    ref, hyp = [p[0] for p in pairs], [p[1] for p in pairs]
    codes = ["a", "b", "c"]
    segments = [Segment(f"x{i}", "src", i, i + 1, "t", "s", "participant", 0)
                for i in range(len(pairs))]
    counts = bs.source_counts(segments, ref, hyp, codes, ["src"])
    fig = bs.draw_figures(counts, np.ones((1, 1)))
    units = binary_units(ref, hyp, codes)

    def same(value: float, expected: float) -> bool:
        return (math.isnan(value) and math.isnan(expected)) or \
            value == pytest.approx(expected, abs=1e-9)

    assert same(fig["micro_f1"][0], micro_f1(hyp, ref))
    assert same(fig["macro_f1"][0], macro_f1(per_code_scores(hyp, ref, codes)))
    assert same(fig["kappa"][0], cohen_kappa([u[0] for u in units], [u[1] for u in units]))
    assert same(fig["krippendorff_alpha"][0], krippendorff_alpha(units))
    assert same(fig["gwet_ac1"][0], gwet_ac1(units, categories=[0, 1]))


def test_evaluate_ranking_hits_match_metrics() -> None:
    rng = np.random.default_rng(3)
    codes = ["a", "b", "c", "d"]
    theme_of = {"a": "t1", "b": "t1", "c": "t2", "d": "t2"}
    proba = rng.random((30, 4))
    ref = [set(rng.choice(codes, size=int(rng.integers(0, 3)), replace=False)) for _ in range(30)]
    hits = bs.ranking_hits(proba, ref, codes, 2, theme_of)
    ranked = sum(1 for g in ref if g)
    assert sum(bool(h) for h in hits["top1_accuracy"]) / ranked == \
        pytest.approx(topk_accuracy(proba, ref, codes, 1))
    assert sum(bool(h) for h in hits["top2_accuracy"]) / ranked == \
        pytest.approx(topk_accuracy(proba, ref, codes, 2))
    assert sum(bool(h) for h in hits["theme_top1_accuracy"]) / ranked == \
        pytest.approx(theme_accuracy(proba, ref, codes, theme_of))


def test_evaluate_confusion_rows_sum_to_support() -> None:
    ref = [{"a"}, {"a", "b"}, {"b"}, set(), {"c"}]
    hyp = [{"b"}, {"a", "c", "d"}, set(), {"a"}, {"c"}]
    table = confusion(ref, hyp)
    for code in "abc":
        support = sum(1 for g in ref if code in g)
        assert sum(table[code].values()) == pytest.approx(support)
    assert table["b"] == {"c": 0.5, "d": 0.5, "(none)": 1.0}
    assert table["(none)"] == {"a": 1.0}


# --- bad input: a clear error naming the row, exit status 2 ------------------------------------


def _invoke(run: RunFolder, gold: Path, *extra: str) -> Any:
    return runner.invoke(app, ["evaluate", str(run.path), "--gold", str(gold), "--bootstrap", "0",
                               *extra])


@pytest.mark.parametrize(("row", "message"), [
    ("s1.txt,0,5,no_such_code,A", "unknown code 'no_such_code'"),
    ("s9.txt,0,5,hope,A", "unknown source 's9.txt'"),
    ("s1.txt,0,99999,hope,A", "outside 's1.txt'"),
    ("s1.txt,40,40,hope,A", "start >= end"),
    ("s1.txt,50,40,hope,A", "start >= end"),
    ("s1.txt,-1,40,hope,A", "outside"),
    ("s1.txt,a,40,hope,A", "whole numbers"),
    ("s1.txt,0,5,hope,", "the coder is empty"),
])
def test_evaluate_bad_gold_row_names_the_line(tiny: tuple[RunFolder, Path], row: str,
                                              message: str) -> None:
    run, gold = tiny
    lines = gold.read_text(encoding="utf-8").splitlines()
    lines.insert(3, row)  # becomes line 4 of the file
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _invoke(run, gold)
    assert result.exit_code == 2, result.output
    assert "line 4" in result.output and message in result.output
    assert not run.file("evaluation.json").exists()


def test_evaluate_duplicate_and_empty_rows_are_skipped_and_counted(
        tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    lines = gold.read_text(encoding="utf-8").splitlines()
    gold.write_text("\n".join([*lines, lines[1], ",,,,"]) + "\n", encoding="utf-8")
    result = _invoke(run, gold)
    assert result.exit_code == 0, result.output
    assert "2 rows skipped" in result.output
    report = json.loads(run.file("evaluation.json").read_text(encoding="utf-8"))
    assert report["counts"]["rows_skipped"] == 2
    assert any("line 13: duplicate row skipped" in w for w in report["warnings"])
    assert any("line 14: empty row skipped" in w for w in report["warnings"])


@pytest.mark.parametrize(("args", "message"), [
    (["--coder", "Z"], "no codings by coder 'Z' (--coder)"),
    (["--against", "coder:Z"], "no codings by coder 'Z' (--against)"),
    (["--coder", "A", "--against", "coder:A"], "both name coder 'A'"),
    (["--against", "everything"], "--against 'everything'"),
    (["--against", "coder:B", "--threshold", "0.3"], "only suggestions have scores"),
    (["--min-share", "0"], "--min-share 0.0"),
    (["--threshold", "0.1:0.2"], "--threshold '0.1:0.2'"),
    (["--source", "nope.txt"], "--source 'nope.txt'"),
    (["--against", "decisions"], "decisions.jsonl is missing"),
])
def test_evaluate_bad_options_are_clear_errors(tiny: tuple[RunFolder, Path], args: list[str],
                                               message: str) -> None:
    run, gold = tiny
    result = _invoke(run, gold, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_evaluate_bad_decision_names_the_line(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    good = Decision(_source("s1")[1][0].id, "hope", "accept", "R", "t")
    run.write_jsonl("decisions.jsonl", [good, Decision("s1:0-1", "hope", "accept", "R", "t")])
    result = _invoke(run, gold, "--against", "decisions")
    assert result.exit_code == 2 and "line 2" in result.output
    assert "segment 's1:0-1' is not in segments.jsonl" in result.output
    run.write_jsonl("decisions.jsonl", [good, Decision(good.segment_id, "hope", "maybe", "R", "t")])
    result = _invoke(run, gold, "--against", "decisions")
    assert result.exit_code == 2 and "line 2" in result.output and "'maybe'" in result.output
    run.write_jsonl("decisions.jsonl", [good])
    result = _invoke(run, gold, "--against", "decisions:Nobody")
    assert result.exit_code == 2 and "no decisions by 'Nobody'" in result.output


def test_evaluate_stale_suggestions_are_errors(tiny: tuple[RunFolder, Path]) -> None:
    run, gold = tiny
    lines = run.file("suggestions.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[0]) | {"code": "gardening"}
    run.file("suggestions.jsonl").write_text("\n".join([*lines, json.dumps(bad)]) + "\n",
                                             encoding="utf-8")
    result = _invoke(run, gold)
    assert result.exit_code == 2 and f"line {len(lines) + 1}" in result.output
    assert "code 'gardening' is not in the codebook" in result.output
    run.file("suggestions.jsonl").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    with pytest.raises(RunFolderError, match="no line for 1 segment"):
        evaluate(run.path, gold, draws=0)
    run.file("suggestions.jsonl").unlink()
    with pytest.raises(RunFolderError, match=r"suggestions\.jsonl is missing"):
        evaluate(run.path, gold, draws=0)


def test_evaluate_gold_format_by_extension(tiny: tuple[RunFolder, Path], tmp_path: Path) -> None:
    run, _ = tiny
    (tmp_path / "project.qdpx").write_bytes(b"PK")
    with pytest.raises(UnsupportedFormatError, match="not a zip archive"):
        evaluate(run.path, tmp_path / "project.qdpx")
    (tmp_path / "gold.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UnsupportedFormatError, match=r"\.txt"):
        evaluate(run.path, tmp_path / "gold.txt")
    with pytest.raises(GoldCodingError, match="no codings"):
        evaluate(run.path, write_gold(tmp_path / "empty.csv", []))


def test_evaluate_gold_from_codings_jsonl_matches_csv(tmp_path: Path) -> None:
    """`precode import` writes codings.jsonl; it is a gold file like the CSV."""
    from pipeline import ingest
    from pipeline.gold import read_gold
    from tests.conftest import SAMPLE

    sources = ingest.read_all([SAMPLE])
    from_csv = read_gold(SAMPLE / "gold" / "codings.csv", sources)
    path = tmp_path / "codings.jsonl"
    path.write_text("".join(json.dumps(c.to_dict()) + "\n" for c in from_csv.codings))
    from_jsonl = read_gold(path, sources)
    assert from_jsonl.codings == from_csv.codings
    path.write_text('{"source_id": "p01_nurse_day_ward.txt"}\n')
    with pytest.raises(GoldCodingError, match="line 1"):
        read_gold(path, sources)
