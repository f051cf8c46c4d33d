"""Character helpers shared by the detectors."""

from __future__ import annotations

import re

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
CJK_RUN = re.compile(f"[{CJK}]")
LATIN_LETTER = re.compile("[A-Za-z]")

# Full-width ASCII (１５９, ＠, （, ：) to ASCII, one character for one, so offsets stay valid.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH[0x3000] = 0x20  # ideographic space
_WIDTH.update({ord("—"): ord("-"), ord("–"): ord("-"), ord("－"): ord("-"),
               ord("‐"): ord("-"), ord("’"): ord("'"), ord("\u00a0"): ord(" ")})


def fold_width(text: str) -> str:
    """The text with full-width forms as ASCII; same length, same offsets."""
    return text.translate(_WIDTH)


def cjk_count(text: str) -> int:
    return len(CJK_RUN.findall(text))


def choose_language(text: str) -> str:
    """"zh" when at least 30 % of the letters are Chinese characters, else "en".

    A Chinese character carries about as much as a three-letter English word, so a Chinese
    narrative with a few Latin names stays "zh" and an English one quoting a name stays "en".
    """
    cjk = cjk_count(text)
    latin = len(LATIN_LETTER.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= 0.3 else "en"


def words(spaced: str) -> frozenset[str]:
    """A word list written as one space-separated string."""
    return frozenset(spaced.split())
