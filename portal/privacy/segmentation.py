"""jieba, loaded once per process: words with their part of speech and where they start."""

from __future__ import annotations

import bisect
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from portal.privacy.text import CJK_RUN

_lock = threading.Lock()
_tokenizer: Any = None


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    word: str
    flag: str  # jieba's part of speech: nr person, ns place, nt organisation, v verb, ...


@dataclass
class Segmentation:
    tokens: list[Token]
    starts: dict[int, int] = field(default_factory=dict)  # offset -> index of the token there
    ends: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, token in enumerate(self.tokens):
            self.starts[token.start] = index
            self.ends[token.end] = index
        self._starts = [token.start for token in self.tokens]

    def is_word(self, text: str, start: int, end: int) -> bool:
        """text[start:end] is a word: 王总 in 王总说 or 陈总和 (总和 cut), not in 王总结."""
        from portal.privacy.chinese import is_cjk

        before = start in self.starts or start == 0 or not is_cjk(text[start - 1])
        return before and self.ends_word(text, end)

    def ends_word(self, text: str, end: int) -> bool:
        from portal.privacy.chinese import NEXT_WORD_CHARS, is_cjk

        return (end in self.ends or end == len(text) or not is_cjk(text[end])
                or text[end] in NEXT_WORD_CHARS)

    def previous_word(self, start: int) -> str:
        """The word just before offset `start` (which starts a token), or ""."""
        index = self.starts.get(start)
        return self.tokens[index - 1].word if index else ""

    def next_word(self, end: int) -> str:
        index = self.ends.get(end)
        return self.tokens[index + 1].word if index is not None and index + 1 < len(self.tokens) \
            else ""

    def index_containing(self, offset: int) -> int | None:
        """The index of the token that covers offset, if any."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and self.tokens[index].start <= offset < self.tokens[index].end:
            return index
        return None


def _load() -> Any:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _tokenizer = jieba.posseg.dt
    return _tokenizer


def warm_up() -> None:
    """Load the dictionary now (it takes about a second) rather than on the first text."""
    list(_load().cut("预热"))


def segment(text: str) -> Segmentation:
    """Tokens of the text; none when it has no Chinese character (jieba is not needed)."""
    if not CJK_RUN.search(text):
        return Segmentation([])
    tokens: list[Token] = []
    offset = 0
    for pair in _load().cut(text):
        word, flag = pair.word, pair.flag
        start = offset if text.startswith(word, offset) else text.find(word, offset)
        if start < 0:  # jieba normalised something; skip the word rather than misplace it
            continue
        tokens.append(Token(start, start + len(word), word, flag))
        offset = start + len(word)
    return Segmentation(tokens)


def dictionary_tag(word: str) -> str:
    """The part of speech jieba's dictionary gives the word ("" when it is not listed)."""
    return _load().word_tag_tab.get(word, "")


def word_frequency(word: str) -> int:
    """How common the word is in jieba's dictionary (0 when absent)."""
    _load()
    import jieba

    return jieba.dt.FREQ.get(word, 0) or 0
