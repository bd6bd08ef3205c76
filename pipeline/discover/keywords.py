"""Distinctive keywords per cluster: class-based TF-IDF against the rest of the corpus.

Each cluster's segments are joined into one document, and so are all the other segments of
the run ("the rest"). A term's weight in a cluster is its frequency there (relative to the
cluster's length) times `log(1 + A / f)`, where `f` is the term's frequency over all
documents and `A` the average document length (BERTopic's c-TF-IDF). Words frequent in the
cluster but rare in the rest of the corpus come first. Terms found in at least two of the
cluster's segments rank before the others, so one talkative segment cannot name a cluster.

Terms are lowercased words of three letters or more without stop words and interview filler
("um", "yeah", "laughs"), adjacent pairs of such words ("home visits"), and, for Chinese and
Japanese text, character bigrams.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+|[^\W\d_][\w'’]*", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
SPOKEN = frozenset((
    "um", "uh", "uhm", "hmm", "mm", "mhm", "yeah", "yes", "okay", "ok", "oh", "ah", "like",
    "just", "really", "actually", "know", "mean", "think", "thing", "things", "kind", "sort",
    "lot", "bit", "maybe", "well", "right", "sure", "laughs", "laugh", "laughing", "pause",
    "inaudible", "crosstalk", "gonna", "wanna", "got", "get", "gets", "getting", "say", "says",
    "said", "tell", "told", "went", "go", "goes", "going", "come", "comes", "came", "also",
    "still", "even", "much", "many", "very", "quite", "pretty", "always", "never", "sometimes",
    "something", "anything", "everything", "someone", "people", "person", "one", "two", "three",
    "first", "time", "times", "way", "ways", "year", "years", "day", "days", "don't", "didn't",
    "doesn't", "isn't", "wasn't", "can't", "won't", "i'm", "it's", "that's", "there's", "they're",
    "we're", "you're", "he's", "she's", "i've", "we've", "they've", "i'd", "i'll", "you'll",
    "what's", "let's"
))


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | SPOKEN


def terms(text: str, stop: frozenset[str]) -> Iterator[str]:
    """The terms of one segment (each distinct term once per occurrence)."""
    previous: str | None = None
    for match in _TOKEN.finditer(text.lower().replace("’", "'")):
        token = match.group()
        if _CJK.match(token):
            previous = None
            if len(token) == 1:
                yield token
            for i in range(len(token) - 1):
                yield token[i:i + 2]
            continue
        if len(token) < 3 or token in stop:
            previous = None
            continue
        yield token
        if previous is not None:
            yield f"{previous} {token}"
        previous = token


def class_keywords(clusters: Sequence[Sequence[str]], rest: Iterable[str],
                   n: int = 8, min_segments: int = 2) -> list[list[str]]:
    """The `n` most distinctive terms of each cluster of texts, against `rest`.

    `rest` is read once, so it may be streamed: only its term counts are kept."""
    stop = _stop_words()
    counts: list[Counter[str]] = []
    support: list[Counter[str]] = []
    for texts in [*clusters, rest]:
        tf: Counter[str] = Counter()
        df: Counter[str] = Counter()
        for text in texts:
            found = list(terms(text, stop))
            tf.update(found)
            df.update(set(found))
        counts.append(tf)
        support.append(df)
    total: Counter[str] = Counter()
    for tf in counts:
        total.update(tf)
    lengths = [sum(tf.values()) for tf in counts]
    average = float(np.mean(lengths)) if lengths else 0.0
    out = []
    for k in range(len(clusters)):
        tf, df, length = counts[k], support[k], lengths[k] or 1
        needed = min(min_segments, len(clusters[k]))
        # Ties go to pairs: "home visits" says more than "home" and "visits" alone.
        scored = [(df[t] < needed, -tf[t] / length * np.log(1 + average / total[t]),
                   -t.count(" "), t) for t in tf]
        scored.sort()
        chosen: list[str] = []
        for *_, term in scored:
            # A pair makes its words redundant and vice versa: keep whichever ranks first.
            parts = set(term.split())
            if any(parts & set(c.split()) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n:
                break
        out.append(chosen)
    return out
