"""The `precode` command line: a thin layer that parses arguments and calls plain functions.

One module per command. Errors a user can cause are `PrecodeError`s: they are printed without
a traceback and the process exits with status 2. Ctrl-C prints one line and exits with 130.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from pipeline.cli import (
    codebook,
    discover,
    evaluate,
    export,
    import_qdpx,
    ingest,
    merge,
    model,
    report,
    review,
    run,
    segment,
    serve,
    suggest,
    train,
)
from pipeline.cli.console import stderr
from pipeline.errors import PrecodeError

INTERRUPTED = ("Interrupted. Finished embedding batches are cached; run the same command "
               "again to resume.")


class _PrecodeGroup(TyperGroup):
    """Turns a `PrecodeError` anywhere below into a clean message and exit status 2, and
    Ctrl-C into one line and status 130 (stages write nothing half-done, so it is safe)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PrecodeError as exc:
            # escaped: a file name or hint with [brackets] is text, not markup
            stderr.print(f"[bold red]Error:[/] {escape(exc.render())}", markup=True,
                         highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            stderr.print(INTERRUPTED, markup=False, highlight=False)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_PrecodeGroup,
    name="precode",
    help="Pre-code interview transcripts against a codebook, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


app.command("run")(run.run_command)
app.command("ingest")(ingest.ingest_command)
app.command("segment")(segment.segment_command)
app.command("suggest")(suggest.suggest_command)
app.command("merge")(merge.merge_command)
app.command("train")(train.train_command)
app.command("review")(review.review_command)
app.command("serve")(serve.serve_command)
app.command("evaluate")(evaluate.evaluate_command)
app.command("export")(export.export_command)
app.command("import")(import_qdpx.import_command)
app.command("discover")(discover.discover_command)
app.command("report")(report.report_command)
app.add_typer(codebook.app, name="codebook")
app.add_typer(model.app, name="model")


def main() -> None:
    app(prog_name="precode")

