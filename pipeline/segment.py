"""Segment: cut each source's turns into the units a researcher codes.

Units: `sentence` (spaCy's rule-based sentencizer on a blank pipeline for the source's
language, so no model download), `turn` (a whole speaker turn), and `window` (a sentence with
`window` neighbours on each side, within its turn). Interviewer turns are not coded by
default. Fragments ("Yeah.", "Mm-hmm.") merge into the next sentence of the same turn (the
previous one at a turn's end), are dropped, or kept, per `fragment_policy`; a turn that is
nothing but a fragment has nothing to merge with and is dropped.

Invariant: `source.text[s.start:s.end] == s.text`; ids are `<source id>:<start>-<end>`, so
the same input always gives the same ids and an id tells a reader where to look.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ConfigError
from pipeline.records import Segment, Source

UNITS = ("sentence", "turn", "window")
FRAGMENT_POLICIES = ("merge", "drop", "keep")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_OPENERS = set("([{（［｛「『【〔〖《〈“‘")


@dataclass(frozen=True)
class SegmentOptions:
    unit: str = "sentence"
    window: int = 1
    include_interviewer: bool = False
    fragment_policy: str = "merge"
    fragment_min_chars: int = 15
    fragment_min_chars_cjk: int = 5

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ConfigError(f"unknown segment unit {self.unit!r}",
                              hint=f"use one of: {', '.join(UNITS)}")
        if self.fragment_policy not in FRAGMENT_POLICIES:
            raise ConfigError(f"unknown fragment_policy {self.fragment_policy!r}",
                              hint=f"use one of: {', '.join(FRAGMENT_POLICIES)}")
        if self.window < 0:
            raise ConfigError("segment.window must be 0 or more", hint="the default is 1")


@functools.lru_cache(maxsize=8)
def _sentencizer(language: str) -> Any:
    import spacy

    try:
        nlp = spacy.blank(language)
    except (ImportError, OSError, KeyError) as exc:
        raise ConfigError(
            f"spaCy has no tokenizer for language {language!r}",
            hint="set ingest.language to a language spaCy supports (en, zh, ...)",
        ) from exc
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_spans(text: str, language: str = "en") -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, without surrounding whitespace."""
    return sentence_spans_many([text], language)[0]


def sentence_spans_many(texts: list[str], language: str = "en") -> list[list[tuple[int, int]]]:
    """Sentence spans for many texts at once (spaCy's batched `pipe`)."""
    nlp = _sentencizer(language)
    out = []
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=256), strict=True):
        spans = []
        for sent in doc.sents:
            start, end = _trim(text, sent.start_char, sent.end_char)
            if end > start:
                spans.append((start, end))
        out.append(_openers_forward(text, spans))
    return out


def _openers_forward(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """spaCy's sentencizer keeps every punctuation mark after a full stop with the sentence
    it ends, opening brackets too: "...了。（笑）我們..." would end in "（" and the next
    sentence start with "笑）". An opening bracket or quote belongs to what follows."""
    out = list(spans)
    for i in range(len(out) - 1):
        start, end = out[i]
        cut = end
        while cut > start and text[cut - 1] in _OPENERS:
            cut -= 1
        if cut < end:
            out[i] = _trim(text, start, cut)
            out[i + 1] = (cut, out[i + 1][1])
    return [(s, e) for s, e in out if e > s]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_fragment(text: str, options: SegmentOptions) -> bool:
    if _CJK.search(text):
        return len(text) < options.fragment_min_chars_cjk
    return len(text) < options.fragment_min_chars


def _handle_fragments(spans: list[tuple[int, int]], text: str,
                      options: SegmentOptions) -> list[tuple[int, int]]:
    if options.fragment_policy == "keep":
        return spans
    out: list[tuple[int, int]] = []
    pending: int | None = None  # start of fragments waiting to join the next sentence
    for start, end in spans:
        if _is_fragment(text[start:end], options):
            if options.fragment_policy == "merge" and pending is None:
                pending = start
            continue
        out.append((pending if pending is not None else start, end))
        pending = None
    if pending is not None and out:  # trailing fragments join the previous sentence
        out[-1] = (out[-1][0], spans[-1][1])
    return out


def segment(source: Source, unit: str | None = None,
            options: SegmentOptions | None = None) -> list[Segment]:
    """The segments of one source, in reading order."""
    options = options or SegmentOptions()
    if unit is not None and unit != options.unit:
        options = SegmentOptions(**{**options.__dict__, "unit": unit})
    return list(_segments(source, options))


def segment_all(sources: Iterable[Source], options: SegmentOptions | None = None) -> list[Segment]:
    options = options or SegmentOptions()
    return [s for source in sources for s in _segments(source, options)]


def _segments(source: Source, options: SegmentOptions) -> Iterator[Segment]:
    text = source.text
    coded = [(i, t) for i, t in enumerate(source.turns)
             if t.role != "interviewer" or options.include_interviewer]
    # A turn's continuous stretches (a label written again separates two): no segment, and no
    # sentence, crosses from one to the next.
    runs = [(index, turn, run) for index, turn in coded for run in turn.runs(text)]
    split = sentence_spans_many([text[a:b] for _, _, (a, b) in runs], source.language) \
        if options.unit != "turn" else [[] for _ in runs]
    seen: set[tuple[int, int]] = set()
    for (index, turn, (run_start, run_end)), local in zip(runs, split, strict=True):
        if options.unit == "turn":
            spans = [_trim(text, run_start, run_end)]
            if options.fragment_policy != "keep" and _is_fragment(text[slice(*spans[0])], options):
                spans = []
        else:
            sentences = [(run_start + s, run_start + e) for s, e in local]
            spans = _handle_fragments(sentences, text, options)
            if options.unit == "window" and options.window > 0:
                w = options.window
                spans = [(spans[max(0, i - w)][0], spans[min(len(spans) - 1, i + w)][1])
                         for i in range(len(spans))]
        for start, end in spans:
            if end <= start or (start, end) in seen:
                continue
            seen.add((start, end))
            yield Segment(
                id=f"{source.id}:{start}-{end}",
                source_id=source.id,
                start=start,
                end=end,
                text=text[start:end],
                speaker=turn.speaker,
                role=turn.role,
                turn_index=index,
            )
