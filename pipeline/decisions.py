"""What a review log means: folding `decisions.jsonl` into the decisions that still count.

The log is append-only. A `retract` cancels the same coder's latest earlier decision on the
same segment and code; of what is left, the latest decision per (coder, segment, code) counts.
`accept` and `relabel` say "this segment has this code"; `reject` says it has not.

A segment is *reviewed* by a coder when a decision of theirs on it still counts. Its codes
are then the ones they confirmed, and every other code counts as absent: the reviewer saw
the segment and gave it these codes and no others (the rule `precode train` and
`precode evaluate` use). Export, evaluate, train and review all fold the log here.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.model import Decision

VERDICTS = ("accept", "reject", "relabel", "retract")
CONFIRMING = ("accept", "relabel")


def fold_decisions(decisions: Iterable[Decision]) -> list[Decision]:
    """The decisions that still count, in log order: retracted ones removed, latest wins."""
    stacks: dict[tuple[str, str, str | None], list[tuple[int, Decision]]] = {}
    for index, decision in enumerate(decisions):
        key = (decision.coder, decision.segment_id, decision.code_id)
        stack = stacks.setdefault(key, [])
        if decision.verdict == "retract":
            if stack:
                stack.pop()
        elif decision.verdict in VERDICTS:
            stack.append((index, decision))
    return [d for _, d in sorted(stack[-1] for stack in stacks.values() if stack)]


def confirmed(decisions: Iterable[Decision]) -> list[Decision]:
    """Decisions that say "this segment has this code" (accept or relabel, with a code)."""
    return [d for d in fold_decisions(decisions) if d.verdict in CONFIRMING and d.code_id]


def reviewed_codes(decisions: Iterable[Decision],
                   coders: Iterable[str] | None = None) -> dict[tuple[str, str], set[str]]:
    """(coder, segment id) -> the codes that coder confirmed, for every segment they reviewed.

    Keys are in the order the segments were first decided on (log order); `coders` keeps
    only those coders' decisions.
    """
    wanted = set(coders) if coders is not None else None
    out: dict[tuple[str, str], set[str]] = {}
    for d in fold_decisions(decisions):
        if wanted is not None and d.coder not in wanted:
            continue
        codes = out.setdefault((d.coder, d.segment_id), set())
        if d.verdict in CONFIRMING and d.code_id:
            codes.add(d.code_id)
    return out
