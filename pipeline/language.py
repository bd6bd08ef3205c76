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
