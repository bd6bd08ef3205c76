"""`RUN/candidates.yaml`: the discovered clusters as a codebook a researcher can finish.

One theme, `candidates`, with one code per cluster (`candidate_01`, ...). Names and
definitions are placeholders that start with `TODO:` and carry the keywords and the
nearest existing code, so the file loads as a codebook as it is (`precode codebook validate`)
and a forgotten placeholder stays easy to find. The examples are the cluster's most central
segments. A comment above each code gives its size, sources and nearest code. To adopt a
candidate, give it an id, a name and a definition and paste it into a theme of your codebook.
"""

from __future__ import annotations

import re

from pipeline.codebook import codebook_to_yaml
from pipeline.discover.result import Candidate, Discovery
from pipeline.records import Code, Codebook, Theme

TODO = "TODO:"
THEME_ID = "candidates"


def candidate_code(candidate: Candidate) -> Code:
    keywords = ", ".join(candidate.keywords) or "none distinctive"
    near = candidate.nearest
    if near is None:
        relation = ""
    elif near.verdict == "variant":
        relation = (f" Most of its segments come closest to existing code '{near.code}' "
                    f"(mean score {near.score:.2f}): check whether they are missed instances "
                    "of it before adding a new code.")
    else:
        relation = (f" Nearest existing code: '{near.code}' (mean score {near.score:.2f}, "
                    f"similarity {near.similarity:.2f}).")
    return Code(
        id=candidate.id,
        name=f"{TODO} name this code (keywords: {keywords})",
        definition=(f"{TODO} define this code. {candidate.size} segments from "
                    f"{len(candidate.sources)} sources.{relation}"),
        examples=tuple(" ".join(e.text.split()) for e in candidate.exemplars),
    )


def candidates_codebook(result: Discovery, run_name: str) -> Codebook:
    codes = tuple(candidate_code(c) for c in result.candidates)
    return Codebook(
        name=f"Candidate codes discovered in run {run_name}",
        version="0.1",
        description=("Written by `precode discover`: clusters of segments no code of the "
                     "run's codebook fits. Replace every TODO, keep the candidates you accept "
                     "and paste them into your codebook."),
        themes=(Theme(THEME_ID, f"{TODO} candidate codes to review",
                      "Move each accepted code under the theme it belongs to.", codes),),
    )


def candidates_yaml(result: Discovery, run_name: str) -> str:
    """The YAML text, with a header and a comment above each candidate."""
    text = codebook_to_yaml(candidates_codebook(result, run_name))
    comments = {}
    for c in result.candidates:
        sources = ", ".join(f"{name} ({n})" for name, n in c.sources.items())
        line = f"{c.id}: {c.size} segments; sources: {sources}"
        if c.nearest is not None:
            line += (f"; nearest code: {c.nearest.code} (score {c.nearest.score:.2f}, "
                     f"similarity {c.nearest.similarity:.2f}: {c.nearest.verdict})")
        comments[c.id] = " ".join(line.split())
    out = [
        "# Candidate codes from `precode discover` (details: discovery.json, report.html).",
        "# Every name and definition starting with TODO is a placeholder: write your own.",
        "# Check a finished file with: precode codebook validate candidates.yaml",
    ]
    for line in text.splitlines():
        match = re.match(r"^(\s*)- id: (candidate_\d+)$", line)
        if match and match.group(2) in comments:
            out.append(f"{match.group(1)}# {comments[match.group(2)]}")
        out.append(line)
    return "\n".join(out) + "\n"
