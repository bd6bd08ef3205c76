"""`precode report`: a run written up as a study's results section would present it.

`writer.write_report(run)` writes `RUN/report.html` and `RUN/report.md`; `build` gathers the
content as plain data, `charts` draws the SVG figures, `templates` holds the page.
"""

from pipeline.report.writer import (
    ReportResult,
    render_html,
    render_markdown,
    report_settings,
    write_report,
)

__all__ = ["ReportResult", "render_html", "render_markdown", "report_settings", "write_report"]
