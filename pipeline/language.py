"""Which language a text is in, as far as precode needs to know: Chinese or not.

Transcripts (at ingest) and codebooks (for warnings about a codebook in another language
than the corpus) are told apart the same way.
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def detect_language(text: str, setting: str = "auto") -> str:
    """`setting` unless it is "auto"; else zh when CJK characters dominate, otherwise en."""
    if setting != "auto":
        return setting
    letters = sum(1 for ch in text if ch.isalpha())
    cjk = len(CJK.findall(text))
    return "zh" if letters and cjk / letters > 0.3 else "en"

# Words for counting: a Latin-script word, or a CJK character (kana and hangul included).
_LATIN_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_CJK_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def word_count(text: str) -> float:
    """Words in `text`: Latin-script words, plus half a word per CJK character."""
    cjk = len(_CJK_WORD.findall(text))
    latin = sum(1 for w in _LATIN_WORD.findall(_CJK_WORD.sub(" ", text)))
    return latin + cjk / 2
