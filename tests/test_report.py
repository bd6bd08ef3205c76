"""The report: every section and figure on the sample corpus, escaping, CJK, size, counts."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_config
from pipeline.evaluate import evaluate
from pipeline.records import Decision, Segment, Source, Turn
from pipeline.report import report_settings, write_report
from pipeline.report.build import build_report
from pipeline.run_folder import RunFolder
from pipeline.run_folder.view import load_run
from tests.conftest import SAMPLE
from tests.test_discover import discovered_sample_run

runner = CliRunner()
SECTIONS = ("summary", "codes", "quotes", "frequency", "cooccurrence", "evaluation", "review",
            "candidates", "method")
VOID = {"meta", "br", "hr", "img", "link", "input", "col", "source", "wbr"}


class _Page(HTMLParser):
    """Collects ids, tags and attributes, and checks that every element is closed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
            if name == "id" and tag in ("section",):
                self.ids.append(value or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    assert not page.errors, page.errors[:5]
    assert not page.stack, page.stack
    return page


def assert_self_contained(html: str, page: _Page) -> None:
    assert "<script" not in html and "@import" not in html and "@font-face" not in html
    for tag, name, value in page.attrs:
        if name in ("src", "href", "xlink:href"):
            assert value.startswith(("#", "data:image/png;base64,")), (tag, name, value)
    assert not re.search(r"url\((?!#)", html)


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample run with an evaluation (and threshold sweep), review decisions and a
    discovery, reported through the CLI."""
    run = tmp_path_factory.mktemp("report") / "run"
    shutil.copytree(discovered_sample_run(tmp_path_factory), run)
    evaluate(run, SAMPLE / "gold" / "codings.csv", draws=0, thresholds=[0.1, 0.3, 0.5, 0.7])
    lines = [json.loads(x) for x in (run / "suggestions.jsonl").read_text().splitlines()]
    coded = [x for x in lines if x["code"]][:12]
    stamp = "2026-01-05T10:00:00+08:00"
    decisions = [Decision(x["segment_id"], x["code"], "accept" if i % 3 else "reject",
                          "ana" if i % 2 else "ben", stamp) for i, x in enumerate(coded)]
    uncoded = next(x for x in lines if x["code"] is None)
    decisions.append(Decision(uncoded["segment_id"], "maintaining_hope", "relabel", "ana",
                              stamp))
    RunFolder(run).write_jsonl("decisions.jsonl", decisions)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert "evaluation, review, candidates" in result.output
    return run


def test_report_sample_has_every_section_and_figure(reported: Path) -> None:
    html = (reported / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    assert page.ids == list(SECTIONS)
    assert page.tags.count("svg") == 5  # frequency, 2 heatmaps, threshold curve, review
    assert '<meta charset="utf-8">' in html
    assert_self_contained(html, page)
    text = " ".join(" ".join(page.text).split())
    reviewed = len({json.loads(line)["segment_id"] for line in
                    (reported / "decisions.jsonl").read_text().splitlines()})
    for expected in (f"{reviewed} of 2193 segments reviewed", "Themes and codes", "profession",
                     "nurse (n=3)", "3 of ",
                     "Within segments", "Within speaker turns", "Human baseline",
                     "coder A vs coder B", "Krippendorff's alpha", "Threshold curve",
                     "candidate_01", "Counting rule",
                     "ATLAS.ti's intercoder agreement tool reports the same family",
                     "|u-alpha (coded vs not, any code)", "Themes as semantic domains"):
        assert expected in text, expected
    for title in ("Code frequency", "Code co-occurrence within segments",
                  "Precision, recall and F1 by threshold", "Review progress per code"):
        assert f"<title>{title}" in html


def test_report_markdown_twin_has_the_sections_and_figure_files(reported: Path) -> None:
    markdown = (reported / "report.md").read_text(encoding="utf-8")
    for heading in ("Summary", "Themes and codes", "Quotes", "Code frequency",
                    "Co-occurrence", "Evaluation", "Review progress", "Candidate new codes"):
        assert f"\n## {heading}\n" in markdown
    assert "ATLAS.ti's intercoder agreement tool reports the same family" in markdown
    assert "| kappa | \\|u-alpha | 95% interval |" in markdown
    assert "| \\|u-alpha (coded vs not, any code) |" in markdown  # a pipe inside a cell
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == 5
    for link in links:
        svg = (reported / link).read_text(encoding="utf-8")
        assert svg.startswith("<?xml") and "<svg" in svg


def test_report_rejects_an_output_that_is_not_html(reported: Path) -> None:
    result = runner.invoke(app, ["report", str(reported), "--out",
                                 str(reported / "report.pdf")])
    assert result.exit_code == 2 and "Traceback" not in result.output


# -- hand-built runs ---------------------------------------------------------------------

CODEBOOK = """
name: Small
version: "1"
themes:
  - id: work
    name: Work
    codes:
      - {id: jobs, name: Jobs, definition: Paid work.}
      - {id: training, name: Training, definition: Learning a trade.}
  - id: family
    name: Family
    codes:
      - {id: parents, name: Parents, definition: Talk of parents.}
"""


def hand_run(path: Path, texts: list[tuple[str, str, str, list[str]]],
             language: str = "en", metadata: dict | None = None,
             decisions: list[Decision] = ()) -> Path:  # type: ignore[assignment]
    """A run of hand-written segments: (source, speaker, text, codes) per segment, one turn
    each, with a suggestion line per code (or a null line)."""
    run = RunFolder(path)
    config = load_config(overrides=["embed.backend=tfidf"])
    manifest = run.new_manifest(config, [])
    manifest["stages"]["suggest"] = {"method": "zero-shot"}
    by_source: dict[str, list[tuple[str, str, list[str]]]] = {}
    for source, speaker, text, codes in texts:
        by_source.setdefault(source, []).append((speaker, text, codes))
    sources, segments, lines = [], [], []
    for name, items in by_source.items():
        body, turns, spans = "", [], []
        for speaker, text, codes in items:
            start = len(body)
            body += text + "\n"
            turns.append(Turn(speaker, "participant", start, start + len(text)))
            spans.append((start, speaker, text, codes))
        sources.append(Source(name, name, body, tuple(turns), language,
                              (metadata or {}).get(name, {})))
        for k, (start, speaker, text, codes) in enumerate(spans):
            seg = Segment(f"{name}:{start}-{start + len(text)}", name, start, start + len(text),
                          text, speaker, "participant", k)
            segments.append(seg)
            base = {"source": name, "segment_id": seg.id, "start": seg.start, "end": seg.end,
                    "speaker": speaker, "role": "participant", "text": text, "method": "zero-shot",
                    "evidence": []}
            for rank, code in enumerate(codes or [None], 1):
                lines.append(base | {"code": code, "score": 0.9 - 0.1 * rank if code else 0.1,
                                     "rank": rank})
    run.write_manifest(manifest)
    run.write_jsonl("sources.jsonl", sources)
    run.write_jsonl("segments.jsonl", segments)
    run.write_jsonl("suggestions.jsonl", lines)
    run.write_text("codebook.yaml", CODEBOOK)
    if decisions:
        run.write_jsonl("decisions.jsonl", list(decisions))
    return path


def test_report_escapes_transcript_text(tmp_path: Path) -> None:
    evil = 'He wrote <script>alert("x")</script> & <b>bold</b> | *stars* in the form.'
    run = hand_run(tmp_path / "run", [("a.txt", "P<1>", evil, ["jobs"])])
    result = write_report(run)
    html = result.html.read_text(encoding="utf-8")
    assert "<script" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold" in html
    assert "P&lt;1&gt;" in html
    parse(html)
    markdown = result.markdown.read_text(encoding="utf-8")
    assert "\\<script\\>" in markdown and "\\| \\*stars\\*" in markdown


def test_report_renders_chinese_quotes(tmp_path: Path) -> None:
    text = "她本來已經在外面的超商打工半年了，後來因為換藥，睡不好，又住院一個月。"
    run = hand_run(tmp_path / "run", [("p09_zh.txt", "護理師K", text, ["jobs"])], "zh",
                   {"p09_zh.txt": {"speakers": {"護理師K": {"profession": "護理師"}}}})
    html = write_report(run).html.read_text(encoding="utf-8")
    assert f'<p lang="zh">“{text}”</p>' in html
    assert "護理師K" in html and '<meta charset="utf-8">' in html
    assert "Noto Sans CJK TC" in html  # a CJK font is named before the generic fallback


def test_report_charts_never_warn(tmp_path: Path, recwarn: pytest.WarningsRecorder,
                                  caplog: pytest.LogCaptureFixture) -> None:
    run = hand_run(tmp_path / "run", [("a.txt", "P", "我們去家訪，家訪很累，家訪的時候家屬在。",
                                       ["jobs", "parents"])], "zh")
    write_report(run)
    assert not [w for w in recwarn if "matplotlib" in str(w.filename)]
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


def test_report_counts_by_attribute_with_decisions_overriding(tmp_path: Path) -> None:
    people = {f"s{i}.txt": {"speakers": {f"P{i}": {"profession": prof, "id": f"P{i}"}}}
              for i, prof in enumerate(["nurse", "nurse", "social worker", "social worker"])}
    texts = [("s0.txt", "P0", "I found a job at the bakery last spring.", ["jobs"]),
             ("s0.txt", "P0", "My mother visits every Sunday afternoon.", ["parents"]),
             ("s1.txt", "P1", "The course taught me how to bake bread well.", ["training"]),
             ("s2.txt", "P2", "He keeps his job and his parents are proud.", ["jobs", "parents"]),
             ("s3.txt", "P3", "Nothing much to say about that, really.", [])]
    seg_of = {}
    for source, speaker, text, _ in texts:
        start = sum(len(t) + 1 for s, _, t, _ in texts[:texts.index((source, speaker, text,
                                                                      _))] if s == source)
        seg_of[text[:5]] = f"{source}:{start}-{start + len(text)}"
    stamp = "2026-01-05T10:00:00+08:00"
    decisions = [Decision(seg_of["He ke"], "jobs", "reject", "ana", stamp),  # keeps parents?
                 Decision(seg_of["Nothi"], "training", "relabel", "ana", stamp)]
    run = hand_run(tmp_path / "run", texts, metadata=people, decisions=decisions)
    report = build_report(load_run(run), report_settings())
    assert [a["name"] for a in report["attributes"]] == ["profession"]  # "id" is unique
    codes = {c["id"]: c for t in report["themes"] for c in t["codes"]}
    # The reviewed segment carries only what review confirmed: not jobs, and not parents.
    assert codes["jobs"]["segments"] == 1 and codes["parents"]["segments"] == 1
    assert codes["training"]["segments"] == 2 and codes["training"]["sources"] == 2
    nurse, social = codes["training"]["by_attribute"]["profession"]
    assert nurse == {"participants": 1, "of": 2, "segments": 1}
    assert social == {"participants": 1, "of": 2, "segments": 1}
    assert report["summary"]["reviewed_segments"] == 2
    assert report["review"]["verdicts"][:3] == [{"verdict": "accept", "n": 0},
                                                {"verdict": "reject", "n": 1},
                                                {"verdict": "relabel", "n": 1}]
    quotes = {q["code"]: q for q in report["quotes"]}
    assert quotes["training"]["items"][0]["confirmed"]  # confirmed quotes come first
    assert report["evaluation"] is None and report["candidates"] is None


def test_report_large_run_caps_quotes_and_stays_small(tmp_path: Path) -> None:
    sentence = ("We talked for a long time about the new job at the bakery, the early shifts, "
                "the bus ride across town, and how his mother feels about all of it now. ")
    texts = [(f"s{i % 40:02d}.txt", f"P{i % 40}", f"{i}: {sentence * 2}",
              [["jobs"], ["training", "parents"], ["parents"], []][i % 4]) for i in range(3000)]
    run = hand_run(tmp_path / "run", texts)
    result = write_report(run, {**report_settings(), "quotes_per_code": 4,
                                "quote_max_chars": 120})
    html = result.html.read_text(encoding="utf-8")
    assert result.html.stat().st_size < 400_000
    assert html.count("<blockquote>") == 3 * 4
    assert "4 of 750 segments shown" in html and "4 of 1500 segments shown" in html
    assert "…”" in html  # shortened
