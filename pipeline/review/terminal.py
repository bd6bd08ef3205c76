"""The review loop in a terminal: rich for the screen, plain line prompts for the keys.

Reading whole lines (not raw key presses) keeps it working over SSH, in any terminal, with a
pipe, and under `CliRunner` in tests. Each screen shows the segment inside its turn with the
turns around it, the best three suggestions with scores and evidence, and the progress.

Keys (then Enter; several on one line, e.g. `1 3` or `2 c hope`):

    1 2 3   accept that suggestion (the others shown are rejected)
    r       reject all: the segment has none of the codes shown
    c TEXT  choose a code from the codebook: part of its id or name (c alone asks)
    n TEXT  add a note to this segment's decisions (n alone asks)
    s       skip (it comes back next session)      u  undo the last decision
    q       quit (every decision is already saved)  ?  help
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console, Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from pipeline.errors import ConfigError
from pipeline.records import Code
from pipeline.review.session import ReviewSession, Shown

Ask = Callable[[str], str]
KEYS = ("[1-3] accept  [r] reject all  [c] other code  [n] note  [s] skip  [u] undo  "
        "[q] quit  [?] help")
HELP = __doc__.split("Keys", 1)[1].split("\n", 1)[1].rstrip() if __doc__ else ""
CONTEXT_CHARS = 280  # of each neighbouring turn
AROUND_CHARS = 400  # of the segment's own turn, each side


@dataclass
class Command:
    """One line of input, parsed."""

    accept: tuple[int, ...] = ()
    reject: bool = False
    search: str | None = None  # "" when `c` came without text
    note: str | None = None
    action: str | None = None  # skip | undo | quit | help | keys


def parse(line: str) -> Command:
    """Parse a line of keys; raises ConfigError with what to type instead."""
    text = line.strip()
    if not text:
        return Command(action="keys")
    head, _, rest = text.partition(" ")
    if head.lower() == "n":
        return Command(note=rest.strip())
    singles = {"s": "skip", "u": "undo", "q": "quit", "?": "help", "h": "help"}
    if head.lower() in singles:
        if rest.strip():
            raise ConfigError(f"{head} stands alone", hint="type it on its own line")
        return Command(action=singles[head.lower()])
    accept: list[int] = []
    reject = False
    tokens = text.replace(",", " ").split()
    for i, token in enumerate(tokens):
        low = token.lower()
        if low == "c":
            return _checked(Command(tuple(accept), reject, " ".join(tokens[i + 1:])))
        if low == "r":
            reject = True
        elif token.isdigit():
            accept += [int(ch) for ch in token]
        else:
            raise ConfigError(f"{token!r} is not a key", hint=KEYS)
    return _checked(Command(tuple(dict.fromkeys(accept)), reject))


def _checked(cmd: Command) -> Command:
    if cmd.reject and (cmd.accept or cmd.search is not None):
        raise ConfigError("r rejects every code shown, so it does not go with others",
                          hint="type r alone, or the codes that apply")
    return cmd


def segment_view(session: ReviewSession, row: int, width: int = 100) -> Group:
    """The screen for one segment: header, context, suggestions, keys."""
    seg = session.segment(row)
    source = session.source(row)
    parts: list[object] = []
    position = (f"{source.name} · {seg.start}-{seg.end} · done {session.done} · "
                f"left {session.left}")
    if session.skipped:
        position += f" ({len(session.skipped)} skipped)"
    parts.append(Rule(Text(position, style="bold"), style="cyan"))
    turns = source.turns
    context = Table.grid(padding=(0, 2))
    context.add_column(style="bold", no_wrap=True, max_width=24)
    # fold: Chinese has no spaces to wrap at, and an ellipsis could hide the very segment
    context.add_column(ratio=1, overflow="fold")
    first = max(0, seg.turn_index - 2)
    for k in range(first, min(len(turns), seg.turn_index + 2)):
        turn = turns[k]
        body = source.text[turn.start:turn.end]
        style = "dim" if turn.role == "interviewer" else ""
        if k < seg.turn_index:
            text = Text(_tail(body, CONTEXT_CHARS), style=style or "dim")
        elif k > seg.turn_index:
            text = Text(_head(body, CONTEXT_CHARS), style=style or "dim")
        else:
            before = source.text[max(turn.start, seg.start - AROUND_CHARS):seg.start]
            after = source.text[seg.end:min(turn.end, seg.end + AROUND_CHARS)]
            text = Text()
            text.append(("…" if seg.start - AROUND_CHARS > turn.start else "") + before,
                        style="dim")
            text.append(seg.text, style="bold reverse")
            text.append(after + ("…" if seg.end + AROUND_CHARS < turn.end else ""),
                        style="dim")
        label = Text(turn.speaker, style="dim" if k != seg.turn_index else "bold")
        context.add_row(label, text)
    parts.append(context)
    parts.append(Text(""))
    parts.append(_suggestions(session.shown(row), session.data.threshold))
    others = session.others_on(row)
    if others:
        seen = Text("Other coders: ", style="dim")
        seen.append("; ".join(f"{d.coder} {d.verdict} {d.code_id or '-'}" for d in others),
                    style="dim")
        parts.append(seen)
    if row in session.notes:
        parts.append(Text(f"Note: {session.notes[row]}", style="italic"))
    parts.append(Text(KEYS, style="dim"))
    return Group(*parts)  # type: ignore[arg-type]


def _suggestions(shown: list[Shown], threshold: float) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="bold", width=2)
    table.add_column(ratio=1, overflow="fold")
    for s in shown:
        bar = "█" * round(s.score * 10)
        body = Text.assemble(
            (f"{s.score:.2f} ", "bold"), (bar.ljust(10), "green" if s.score >= threshold
                                          else "dim green"),
            " ", (s.code.name, "bold"), f"  {s.code.id}", (f"  {s.theme}", "dim"))
        if s.score < threshold:
            body.append("  (below threshold)", style="dim")
        for e in s.evidence[:1]:
            body.append(f"\n{e.similarity:.2f} like {_origin(e.origin)}: ", style="dim")
            body.append(f"“{_head(e.text, 150)}”", style="dim italic")
        table.add_row(str(s.key), body)
    return table


def _origin(origin: str) -> str:
    if origin.startswith("coded:"):
        return "a coded segment"
    if origin.endswith(":example"):
        return "codebook example"
    return origin.split(":", 1)[0]


def _head(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _tail(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else "…" + text[-(n - 1):].lstrip()


def choose_codes(session: ReviewSession, query: str, out: Console, ask: Ask) -> list[str]:
    """Search the codebook; the codes picked (none if cancelled)."""
    if not query:
        query = ask("Code (part of its name or id, Enter to cancel): ").strip()
        if not query:
            return []
    matches = session.search(query)
    if not matches:
        out.print(Text(f"No code matches {query!r}.", style="yellow"))
        return []
    if len(matches) == 1:
        return [matches[0][1].id]
    table = Table.grid(padding=(0, 2))
    for i, (theme, code) in enumerate(matches, 1):
        table.add_row(Text(str(i), style="bold"), Text(code.name, style="bold"),
                      Text(code.id), Text(theme, style="dim"))
    out.print(table)
    answer = ask(f"Pick 1-{len(matches)} (several: 1 3; Enter to cancel): ").replace(",", " ")
    if not answer.strip():
        out.print(Text("Cancelled; nothing chosen.", style="yellow"))
        return []
    picked: list[Code] = []
    for token in answer.split():
        if not token.isdigit() or not 1 <= int(token) <= len(matches):
            out.print(Text(f"{token!r} is not one of 1-{len(matches)}; nothing chosen.",
                           style="yellow"))
            return []
        picked.append(matches[int(token) - 1][1])
    return [c.id for c in picked]


def review_loop(session: ReviewSession, out: Console, ask: Ask) -> str:
    """Show segments and apply keys until done, `q`, end of input or Ctrl-C; returns why.

    In a real terminal each segment gets a clean screen, with the outcome of the last key on
    top; elsewhere (a pipe, tests) everything is printed in sequence."""
    notices: list[Text] = []
    redraw = True

    def say(message: str, style: str = "cyan") -> None:
        notices.append(Text(message, style=style))

    try:
        while True:
            row = session.current()
            for message in session.messages:
                say(message)
            session.messages.clear()
            if row is None:
                _flush(out, notices)
                out.print(Text("Nothing left to review with these settings"
                               + (" (skipped segments come back next session)."
                                  if session.skipped else "."), style="bold green"))
                return "done"
            if redraw:
                if out.is_terminal:
                    out.clear()
                else:
                    out.print()
                _flush(out, notices)
                out.print(segment_view(session, row))
            else:
                _flush(out, notices)
            redraw = False
            try:
                cmd = parse(ask("> "))
            except ConfigError as exc:
                say(exc.render(), "yellow")
                continue
            if cmd.action == "quit":
                return "quit"
            if cmd.action == "help":
                say(HELP, "")
            elif cmd.action == "keys":
                say(KEYS, "dim")
            elif cmd.action == "skip":
                session.skip(row)
                redraw = True
            elif cmd.action == "undo":
                step = session.undo()
                if step is None:
                    say("Nothing to undo.", "yellow")
                else:
                    say(f"Undone: {session.segment(step.row).id} ({len(step.decisions)} "
                        "decision(s) retracted); it is shown again.")
                    redraw = True
            elif cmd.note is not None:
                text = cmd.note or ask("Note: ")
                session.note(row, text)
                if text.strip():
                    say("Noted; it is saved with this segment's decisions.")
            else:
                codes: list[str] = []
                if cmd.search is not None:
                    codes = choose_codes(session, cmd.search, out, ask)
                    if not codes:
                        continue
                try:
                    step = session.decide(row, cmd.accept, codes, cmd.reject)
                except ConfigError as exc:
                    say(exc.render(), "yellow")
                    continue
                kept = [f"{d.verdict} {d.code_id}" for d in step.decisions
                        if d.verdict != "reject"] or ["reject all"]
                say(f"Saved: {', '.join(kept)}.", "green")
                redraw = True
    except (EOFError, KeyboardInterrupt):
        out.print()
        return "interrupted"


def _flush(out: Console, notices: list[Text]) -> None:
    for notice in notices:
        out.print(notice)
    notices.clear()
