"""`precode codebook validate|show`: check and read a codebook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.tree import Tree

from pipeline.codebook import load_codebook

app = typer.Typer(help="Validate and show codebooks.", no_args_is_help=True,
                  rich_markup_mode=None)

CodebookPath = Annotated[Path, typer.Argument(help="A codebook YAML file.")]


@app.command("validate")
def validate_command(path: CodebookPath) -> None:
    """Check a codebook: required fields, unknown keys, duplicate ids, empty lists.

    Example: precode codebook validate configs/codebooks/recovery_peer_support.yaml
    """
    from pipeline.cli import stdout

    codebook = load_codebook(path)
    codes = [code for _, code in codebook.codes()]
    examples = sum(len(code.examples) for code in codes)
    without = [code.id for code in codes if not code.examples]
    stdout.print(f"OK: {path} - {codebook.name} v{codebook.version}: {len(codebook.themes)} "
                 f"themes, {len(codes)} codes, {examples} examples.")
    if without:
        stdout.print(f"Note: codes without examples (suggestions for them rely on the "
                     f"definition alone): {', '.join(without)}")


@app.command("show")
def show_command(
    path: CodebookPath,
    examples: Annotated[int, typer.Option(help="Examples to show per code.")] = 2,
) -> None:
    """Print a codebook as a tree of themes and codes with definitions.

    Example: precode codebook show configs/codebooks/recovery_peer_support.yaml --examples 0
    """
    from pipeline.cli import stdout

    codebook = load_codebook(path)
    tree = Tree(f"[bold]{codebook.name}[/] (version {codebook.version})")
    for theme in codebook.themes:
        branch = tree.add(f"[bold cyan]{theme.name}[/] [dim]({theme.id})[/]")
        for code in theme.codes:
            node = branch.add(f"[bold]{code.name}[/] [dim]({code.id})[/]")
            node.add(code.definition)
            for example in code.examples[:examples]:
                node.add(f"[italic]e.g. {example}[/]")
    stdout.print(tree)
