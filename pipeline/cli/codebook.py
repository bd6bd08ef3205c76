"""`precode codebook validate|show`: check and read a codebook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.tree import Tree

from pipeline.cli.console import stdout, warn
from pipeline.codebook import codebook_to_yaml, load_codebook
from pipeline.qdpx.export import origin
from pipeline.qdpx.import_ import read_codebook_file
from pipeline.qdpx.qdc import write_qdc
from pipeline.run_folder import atomic_write

app = typer.Typer(help="Validate and show codebooks.", no_args_is_help=True,
                  rich_markup_mode=None)

CodebookPath = Annotated[Path, typer.Argument(help="A codebook YAML file.")]


@app.command("validate")
def validate_command(path: CodebookPath) -> None:
    """Check a codebook: required fields, unknown keys, duplicate ids, empty lists.

    Example: precode codebook validate configs/codebooks/recovery_peer_support.yaml
    """

    codebook = load_codebook(path)
    codes = [code for _, code in codebook.codes()]
    examples = sum(len(code.examples) for code in codes)
    without = [code.id for code in codes if not code.examples]
    stdout.print(f"OK: {path} - {codebook.name} v{codebook.version}: {len(codebook.themes)} "
                 f"themes, {len(codes)} codes, {examples} examples.")
    for edition in codebook.editions:
        count = sum(len(code.examples) for _, code in edition.codes())
        stdout.print(f"Edition: {edition.name} ({edition.language or 'language not given'}): "
                     f"the same {len(codes)} codes, {count} examples; the zero-shot "
                     "suggester uses every edition the embedding model can read.")
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

    codebook = load_codebook(path)
    tree = Tree(f"[bold]{codebook.name}[/] (version {codebook.version})")
    for theme in codebook.themes:
        branch = tree.add(f"[bold cyan]{theme.name}[/] [dim]({theme.id})[/]")
        for code in theme.codes:
            node = branch.add(f"[bold]{code.name}[/] [dim]({code.id})[/]")
            node.add(code.definition)
            for example in code.examples[:examples]:
                node.add(f"[italic]e.g. {example}[/]")
    from rich.console import Console

    # Wrap long definitions and examples under their branch instead of cutting them off.
    Console(highlight=False, soft_wrap=False, width=max(stdout.width, 100)).print(tree)


@app.command("export")
def export_command(
    path: CodebookPath,
    out: Annotated[Path, typer.Option("--out", "-o", help="The .qdc file to write.")],
) -> None:
    """Write a codebook as a REFI-QDA codebook (.qdc) for ATLAS.ti, NVivo, MAXQDA, QualCoder.

    Themes become parent codes; each code's description holds its definition, include,
    exclude and examples, and its precode id, so `precode codebook import` gets it back.

    Example: precode codebook export configs/codebooks/recovery_peer_support.yaml --out rps.qdc
    """
    codebook = load_codebook(path)
    with atomic_write(out, "wb") as fh:
        fh.write(write_qdc(codebook, origin()))
    stdout.print(f"Wrote {out}: {len(codebook.themes)} themes, "
                 f"{len(codebook.code_ids())} codes.")


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A .qdc codebook or a .qdpx project.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The codebook YAML file to write.")],
    name: Annotated[str | None, typer.Option(
        help="The codebook's name (default: from the file).")] = None,
    version: Annotated[str | None, typer.Option(
        help="The codebook's version (default: from the file, else 1.0).")] = None,
) -> None:
    """Convert a REFI-QDA codebook (.qdc, or the codes of a .qdpx) into our codebook YAML.

    Top-level codes become themes, codes below them (at any depth) their codes; codes
    without a description get their path as definition (edit it before suggesting).

    Example: precode codebook import rps.qdc --out configs/codebooks/imported.yaml
    """
    import dataclasses

    codebook, warnings = read_codebook_file(path)
    codebook = dataclasses.replace(codebook, name=name or codebook.name,
                                   version=version or codebook.version)
    warn(warnings)
    with atomic_write(out) as fh:
        fh.write(codebook_to_yaml(codebook))
    stdout.print(f"Wrote {out}: {len(codebook.themes)} themes, "
                 f"{len(codebook.code_ids())} codes. Check it: precode codebook validate {out}")
