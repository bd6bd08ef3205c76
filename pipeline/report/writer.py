"""`precode report`: a run written up as a study's results section would present it.

`write_report(run)` writes `RUN/report.html` (one self-contained file: inline CSS and SVG, no
scripts or network assets, opens from disk and prints) and its Markdown twin `RUN/report.md`
with the figures as SVG files in `RUN/report-figures/`. Sections: summary; counts per theme
and code, broken down by participant attribute when the run has participant metadata; the
top quotes per code; code frequency and co-occurrence charts; the evaluation when
`evaluation.json` exists; review progress when decisions exist; candidate codes when
`discovery.json` exists. The content is built by `pipeline.report.build`, charts by
`pipeline.report.charts`, and the page by the templates in `pipeline.report.templates`.

Large runs stay small: quotes are capped per code (`report.quotes_per_code`, shortened past
`report.quote_max_chars`) and every chart and table is sized by the codebook, not the corpus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import ReportSettings, load_config
from pipeline.errors import RunFolderError
from pipeline.report.build import build_report
from pipeline.report.templates import CSS, HTML, MARKDOWN, SECTIONS
from pipeline.run_folder import atomic_write
from pipeline.run_folder.view import load_run


@dataclass
class ReportResult:
    html: Path
    markdown: Path
    figures: Path
    sections: list[str]  # the optional sections are listed only when they have content
    warnings: list[str] = field(default_factory=list)


def report_settings(config: str | Path | None = None,
                    overrides: Sequence[str] = ()) -> ReportSettings:
    """The `report` section: defaults, a config file, then `section.key=value` overrides."""
    return load_config(config, overrides)["report"]


def _md(value: Any) -> str:
    """Text for a Markdown table cell or quote: one line, markup characters escaped."""
    text = " ".join(str(value).split())
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def _environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=autoescape, trim_blocks=False, lstrip_blocks=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["md"] = _md
    env.globals["pct"] = _pct
    return env


def render_html(report: Mapping[str, Any]) -> str:
    return str(_environment(True).from_string(HTML).render(r=report, css=CSS,
                                                             sections=SECTIONS))


FIGURES = {"frequency": "frequency_svg", "cooccurrence_segments": "segment_svg",
           "cooccurrence_turns": "turn_svg", "threshold": "curve_svg", "review": "svg"}


def _figure_files(report: Mapping[str, Any]) -> dict[str, str]:
    """Figure name -> SVG text, for the Markdown twin."""
    out = {"frequency": report["frequency_svg"],
           "cooccurrence_segments": report["cooccurrence"]["segment_svg"],
           "cooccurrence_turns": report["cooccurrence"]["turn_svg"]}
    if report["evaluation"] and report["evaluation"]["curve_svg"]:
        out["threshold"] = report["evaluation"]["curve_svg"]
    if report["review"]:
        out["review"] = report["review"]["svg"]
    return {k: v for k, v in out.items() if v}


def render_markdown(report: Mapping[str, Any], figures_dir: str) -> str:
    links = {name: f"{figures_dir}/{name}.svg" for name in FIGURES}
    return str(_environment(False).from_string(MARKDOWN).render(r=report, figures=links))


def write_report(run: str | Path, settings: ReportSettings | None = None,
                 out: str | Path | None = None) -> ReportResult:
    """Build the report of a run and write the HTML file, its Markdown twin and figures."""
    view = load_run(run, need_segments=True, stream_suggestions=True)
    if not view.decisions and not view.has_suggestions():
        raise RunFolderError("the run has no suggestions or review decisions to report on",
                             path=view.folder.path,
                             hint=f"run `precode suggest {run}` first")
    report = build_report(view, settings if settings is not None else report_settings())
    html_path = Path(out) if out is not None else view.folder.file("report.html")
    if html_path.suffix.lower() not in (".html", ".htm"):
        raise RunFolderError("the report is an HTML file", path=html_path,
                             hint="give --out a name ending in .html")
    md_path = html_path.with_suffix(".md")
    figures = html_path.with_name(f"{html_path.stem}-figures")
    html = render_html(report)
    markdown = render_markdown(report, figures.name)
    figures.mkdir(parents=True, exist_ok=True)
    for name, svg in _figure_files(report).items():
        with atomic_write(figures / f"{name}.svg") as fh:
            fh.write('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg + "\n")
    with atomic_write(md_path) as fh:
        fh.write(markdown)
    with atomic_write(html_path) as fh:
        fh.write(html)
    sections = ["summary", "codes", "quotes", "frequency", "cooccurrence"]
    sections += [name for name in ("evaluation", "review", "candidates") if report[name]]
    return ReportResult(html_path, md_path, figures, sections, report["warnings"])
