"""`precode report`: the run written up as a self-contained HTML file and a Markdown twin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import ConfigOption, QuietOption, SetOption
from pipeline.report import report_settings, write_report


def report_command(
    run: Annotated[Path, typer.Argument(help="A run folder with suggestions.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The HTML file to write (default: RUN/report.html); the Markdown "
                            "twin goes beside it (.md) with its figures in a folder.")] = None,
    quotes: Annotated[int | None, typer.Option(
        help="Exemplar quotes per code (default: report.quotes_per_code).")] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write the research report: counts per theme and code, quotes, co-occurrence, charts.

    Adds the evaluation when RUN/evaluation.json exists, review progress when decisions
    exist, and candidate codes when `precode discover` has run. The HTML file has no network
    assets: it opens from disk and prints. Settings are the `report` config section.

    Example: precode report runs/demo --quotes 5
    """
    overrides = list(set_ or [])
    if quotes is not None:
        overrides.append(f"report.quotes_per_code={quotes}")
    result = write_report(run, report_settings(config, overrides), out)
    warn(result.warnings)
    if quiet:
        return
    stdout.print(f"Sections: {', '.join(result.sections)}.")
    size = result.html.stat().st_size
    stdout.print(f"Written: {escape(str(result.html))} ({size / 1024:.0f} KB), "
                 f"{escape(str(result.markdown))} (figures in {escape(str(result.figures))})")
