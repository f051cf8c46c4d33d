"""Is a name that is also an everyday word (高明, 白雪, 宁静) used here as the word?"""

from __future__ import annotations

from portal.privacy.chinese import (
    HONORIFICS,
    NAME_FOLLOWERS,
    ORDINARY_NAMES,
    ROLE_NOUNS,
    WORD_USE_BEFORE,
)
from portal.privacy.segmentation import Segmentation, dictionary_tag, word_frequency

COMMON_WORD = 100  # a dictionary word this common is an everyday word first


def is_ordinary_word(form: str) -> bool:
    """A name that is also an everyday word: listed, or in jieba's dictionary either with
    another part of speech than a person's name (文静 n, 江山 ns) or common (高明, 白雪)."""
    if form in ORDINARY_NAMES:
        return True
    tag = dictionary_tag(form)
    return bool(tag) and (not tag.startswith("nr") or word_frequency(form) >= COMMON_WORD)


def used_as_word(segmentation: Segmentation, start: int, end: int) -> bool:
    """白雪皑皑, 江山易改 (inside a longer word), 并不高明, 性格文静 (after a degree word):
    the everyday word, not the person, unless a role noun, a title or a verb of speech says
    otherwise (客户高明, 高明说)."""
    before = segmentation.previous_word(start) if start in segmentation.starts else ""
    after = segmentation.next_word(end) if end in segmentation.ends else ""
    if before in ROLE_NOUNS or after in NAME_FOLLOWERS or after in HONORIFICS:
        return False
    inside = start not in segmentation.starts or end not in segmentation.ends
    return inside or before in WORD_USE_BEFORE

