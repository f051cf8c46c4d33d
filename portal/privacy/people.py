"""People nobody recorded: Chinese names found by jieba's part-of-speech tags and the words
around them, Latin names by titles (Mr Zhang, Lawyer Fang) and by pinyin pairs (Zhang Wei).

Each found person gets an entity key from the pinyin of the name, found:<surname>:<given>,
so 张伟, Zhang Wei and Wei Zhang share one label; a surname with a title (张先生, Mr Zhang)
gets found:<surname>: and the engine joins it to the one full name with that surname."""

from __future__ import annotations

import re

from portal.privacy.chinese import (
    DIMINUTIVE_WORDS,
    FUNCTION_TAGS,
    HONORIFICS,
    NAME_FOLLOWERS,
    NEVER_PERSON,
    ORDINARY_NAMES,
    PERSONAL_HONORIFICS,
    ROLE_NOUNS,
    SURNAMES,
    is_cjk,
    looks_like_chinese_name,
    surname_of,
)
from portal.privacy.names import common_surname_spellings
from portal.privacy.pinyin import person_key, split_syllables
from portal.privacy.segmentation import Segmentation, Token, word_frequency
from portal.privacy.spans import FOUND, Span
from portal.privacy.text import words

# A dictionary word this common is an ordinary word first (高明, 白雪): a name only in context.
COMMON_WORD = 100
_JOIN_TAGS = words("nr nrfg nrt z ns ng zg nz j b a d t i l")
_SEPARATORS = frozenset(("：", ":", " "))
_HONORIFIC = "|".join(HONORIFICS)
_SURNAME_CHARS = "".join(sorted(SURNAMES))
SURNAME_TITLE = re.compile(rf"(?P<surname>[{_SURNAME_CHARS}])(?P<title>{_HONORIFIC}|某某|某)")
LATIN_TITLES = (r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Madam|Madame|Mister|Lawyer|Attorney|"
                r"Judge|Counsel")
_CAPITAL = r"(?:[A-Z][a-z'’]+(?:-[A-Za-z]+)?|[A-Z]{2,}(?:-[A-Z]+)?)"
TITLED = re.compile(rf"(?<![A-Za-z])(?:(?i:{LATIN_TITLES}))\.?\s+(?P<first>{_CAPITAL})"
                    rf"(?:\s+(?P<second>{_CAPITAL}))?(?![A-Za-z])")
PAIR = re.compile(rf"(?<![A-Za-z]){_CAPITAL}(?:\s+{_CAPITAL})+(?![A-Za-z])")
WORD = re.compile(r"\S+")
_NOT_NAMES = words(
    "the and of in on at to for with from but or if when court company")
_PLACES = frozenset(("hongkong", "pingan", "taiwan", "macau", "xian"))


def _span(start: int, end: int, key: str) -> Span:
    return Span(start, end, "person", FOUND, entity=key, role="other")


def chinese_people(text: str, segmentation: Segmentation) -> list[Span]:
    tokens = segmentation.tokens
    spans: list[Span] = []
    full_names: set[str] = set()
    for index, token in enumerate(tokens):
        name = _name_at(tokens, index)
        if name is not None:
            full_names.add(name)
        elif token.flag == "nr" and len(token.word) == 2 and token.word[0] in "小老" \
                and token.word[1] in SURNAMES and token.word not in DIMINUTIVE_WORDS:
            spans.append(_span(token.start, token.end, person_key(token.word[1])))
    for match in SURNAME_TITLE.finditer(text):
        if _titled_surname(text, segmentation, match):
            spans.append(_span(match.start(), match.end(), person_key(match.group("surname"))))
    for name in full_names:
        surname = surname_of(name)
        key = person_key(surname, name[len(surname):])
        forms = [name]
        given = name[len(surname):]
        if len(given) >= 2 and word_frequency(given) < COMMON_WORD:
            forms.append(given)  # 丽华 alone, once 赵丽华 is known
        for form in forms:
            spans += (_span(m.start(), m.end(), key) for m in re.finditer(re.escape(form), text))
    return spans


def _name_at(tokens: list[Token], index: int) -> str | None:
    """The full Chinese name that starts with tokens[index], if one does."""
    token = tokens[index]
    word = token.word
    if word in NEVER_PERSON or not is_cjk(word[0]):
        return None
    if token.flag in ("nr", "nrfg") and looks_like_chinese_name(word) \
            and not word.endswith(tuple(HONORIFICS)) and "某" not in word:
        ordinary = word in ORDINARY_NAMES or word_frequency(word) >= COMMON_WORD
        if not ordinary or _person_context(tokens, index):
            return word
        return None
    if word in SURNAMES and index + 1 < len(tokens):
        after_role = _after_role(tokens, index)
        if token.flag in FUNCTION_TAGS:
            return None
        if token.flag not in ("nr", "nrfg", "zg", "ng") and not after_role:
            return None
        given = tokens[index + 1]
        if _given_name(given, loose=after_role):
            return word + given.word
    elif _after_role(tokens, index) and looks_like_chinese_name(word) \
            and token.flag not in FUNCTION_TAGS and word_frequency(word) < 50:
        return word  # 原告钱多多 where jieba knows no name
    return None


def _given_name(token: Token, *, loose: bool) -> bool:
    word = token.word
    if not (1 <= len(word) <= 2 and all(is_cjk(char) for char in word)):
        return False
    if word in NAME_FOLLOWERS or word in HONORIFICS or word[0] in "某的了在是与和及":
        return False
    if token.flag in _JOIN_TAGS:
        return token.flag.startswith("nr") or token.flag in ("z", "zg", "ng", "ns") \
            or word_frequency(word) < 1000
    return loose and (token.flag not in FUNCTION_TAGS or token.flag == "m") \
        and word_frequency(word) < 2000


def _after_role(tokens: list[Token], index: int) -> bool:
    position = index - 1
    while position >= 0 and tokens[position].word in _SEPARATORS:
        position -= 1
    return position >= 0 and tokens[position].word in ROLE_NOUNS


def _person_context(tokens: list[Token], index: int) -> bool:
    """高明律师, 客户高明, 高明说: the words around say this is a person."""
    following = tokens[index + 1].word if index + 1 < len(tokens) else ""
    return _after_role(tokens, index) or following in NAME_FOLLOWERS or following in HONORIFICS


def _titled_surname(text: str, segmentation: Segmentation, match: re.Match[str]) -> bool:
    """贺律师, 于先生, 张某, but not 向律师 (to the lawyer) nor 王总结."""
    start, end = match.span()
    if start not in segmentation.starts or not segmentation.is_word(text, start, end):
        return False
    token = segmentation.tokens[segmentation.starts[start]]
    if token.word == match.group("surname") and token.flag in FUNCTION_TAGS:
        return match.group("title") in PERSONAL_HONORIFICS
    return True


def latin_people(text: str) -> list[Span]:
    spans: list[Span] = []
    for match in TITLED.finditer(text):
        words = [match.group("first")]
        end = match.end("first")
        second = match.group("second")
        if second and second.lower() not in _NOT_NAMES:
            words.append(second)
            end = match.end("second")
        if words[0].lower() in _NOT_NAMES:
            continue
        spans.append(_span(match.start(), end, _latin_key(words)))
    for match in PAIR.finditer(text):
        words = [(match.start() + w.start(), match.start() + w.end(), w.group())
                 for w in WORD.finditer(match.group())]
        for size in (3, 2):
            for first in range(len(words) - size + 1):
                window = words[first:first + size]
                key = _pinyin_key([word for _, _, word in window])
                if key is not None:
                    spans.append(_span(window[0][0], window[-1][1], key))
    return spans


def _latin_key(words: list[str]) -> str:
    """found:<surname>:<given> for a pinyin name, found:<surname>: for a surname alone."""
    key = _pinyin_key(words) if len(words) > 1 else None
    if key is not None:
        return key
    return f"found:{words[-1].lower()}:"


def _pinyin_key(words: list[str]) -> str | None:
    lowered = [word.lower().replace("-", "") for word in words]
    if "".join(lowered) in _PLACES or any(word in _NOT_NAMES for word in lowered):
        return None
    spellings = common_surname_spellings()
    for surname, given in ((lowered[0], lowered[1:]), (lowered[-1], lowered[:-1])):
        syllables = split_syllables("".join(given)) if surname in spellings else None
        if syllables and len(syllables) <= 3 and (len(given) == 1 or all(
                split_syllables(part) and len(split_syllables(part)) == 1 for part in given)):
            return f"found:{surname}:{''.join(syllables)}"
    return None
