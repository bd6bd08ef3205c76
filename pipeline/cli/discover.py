"""`precode discover`: candidate new codes from the segments no code fits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.console import stdout, warn
from pipeline.cli.options import ConfigOption, QuietOption, SetOption
from pipeline.discover import discover, discover_settings, write_discovery

QUOTE_CHARS = 160


def discover_command(
    run: Annotated[Path, typer.Argument(help="A run folder with suggestions.")],
    config: ConfigOption = None,
    set_: SetOption = None,
    quiet: QuietOption = False,
) -> None:
    """Cluster the segments no code fits into candidate new codes.

    Takes the segments without a suggestion above the threshold (or whose suggestions were all
    rejected in review), leaves out small talk and filler, clusters the rest, and describes each
    cluster: size, sources and speakers, keywords, exemplars and the nearest existing code.
    Writes RUN/candidates.yaml (a codebook to finish and paste from) and RUN/discovery.json.
    Settings are the `discover` section of the config (--set discover.min_cluster_size=8).

    Example: precode discover runs/demo --set discover.max_candidates=10
    """

    result = discover(run, discover_settings(config, set_ or []))
    written = write_discovery(run, result)
    if quiet:
        return
    c = result.counts
    stdout.print(f"{c['uncoded']} of {c['segments']} segments carry no code"
                 + (f" ({c['rejected_in_review']} rejected in review)"
                    if c["rejected_in_review"] else "") + ".")
    left = [f"{c['filler_short']} too short", f"{c['filler_small_talk']} small talk"]
    if c["other_language"]:
        left.append(f"{c['other_language']} in a language the model does not know")
    stdout.print(f"Left out: {', '.join(left)}. Clustered {c['clustered']}; "
                 f"{len(result.candidates)} candidates hold {c['in_candidates']}.")
    for note in result.notes[1:]:
        stdout.print(f"  [dim]{escape(note)}[/]")
    warn(result.warnings)
    for cand in result.candidates:
        stdout.print()
        speakers = ", ".join(f"{s['speaker']} ({s['segments']})" for s in cand.speakers[:4])
        more = f" +{len(cand.speakers) - 4}" if len(cand.speakers) > 4 else ""
        stdout.print(f"[bold]{cand.id}[/]: {cand.size} segments from {len(cand.sources)} "
                     f"sources; speakers {escape(speakers)}{more}")
        stdout.print(f"  keywords: {escape(', '.join(cand.keywords) or '-')}")
        near = cand.nearest
        if near is not None:
            what = "possibly a missed variant of" if near.verdict == "variant" else \
                "looks new; nearest code"
            stdout.print(f"  {what} {escape(near.code)} (mean score {near.score:.2f}, best code "
                         f"of {near.share:.0%} of its segments, similarity {near.similarity:.2f})")
        for ex in cand.exemplars:
            text = " ".join(ex.text.split())
            if len(text) > QUOTE_CHARS:
                text = text[:QUOTE_CHARS - 1] + "…"
            stdout.print(f"  - \"{escape(text)}\" [dim]({escape(ex.speaker)}, "
                         f"{escape(ex.source)})[/]")
    stdout.print()
    stdout.print("Written: " + ", ".join(escape(str(p)) for p in written))
