"""Chinese names nobody recorded, found by jieba's part-of-speech tags and the words around
them: a person-name word (nr) starting with a common surname, a surname followed by a given
name jieba split off, a name after a role noun (原告钱多多), a surname with a title (陈总,
蒋女士) or a diminutive (小魏, 老梁). Latin names are in latin_people.py.

Each found person gets an entity key from the pinyin of the name, found:<surname>:<given>,
so 张伟, Zhang Wei and Wei Zhang share one label; a surname with a title (张先生, Mr Zhang)
gets found:<surname>: and the engine joins it to the one full name with that surname."""

from __future__ import annotations

import re

from portal.privacy.chinese import (
    COMPOUND_SURNAMES,
    DIMINUTIVE_WORDS,
    FUNCTION_TAGS,
    HONORIFICS,
    NAME_FOLLOWERS,
    NEVER_PERSON,
    NOT_IN_NAMES,
    PERSONAL_HONORIFICS,
    ROLE_NOUNS,
    SURNAMES,
    is_cjk,
    looks_like_chinese_name,
    surname_of,
)
from portal.privacy.pinyin import person_key
from portal.privacy.segmentation import Segmentation, Token, word_frequency
from portal.privacy.spans import FOUND, Span
from portal.privacy.text import words
from portal.privacy.word_use import COMMON_WORD, is_ordinary_word, used_as_word

_JOIN_TAGS = words("nr nrfg nrt z ns ng zg nz j b a d t i l")
_SEPARATORS = frozenset(("：", ":", " "))
_HONORIFIC = "|".join(HONORIFICS)
_SURNAME_CHARS = "".join(sorted(SURNAMES))
_COMPOUNDS = "|".join(sorted(COMPOUND_SURNAMES))
SURNAME_TITLE = re.compile(
    rf"(?P<surname>{_COMPOUNDS}|[{_SURNAME_CHARS}])(?P<title>{_HONORIFIC})")
# Compound surnames that are no everyday word: a name may start inside a token with them.
_SAFE_COMPOUNDS = COMPOUND_SURNAMES - {"东方", "百里", "第五", "司空", "长孙", "太史", "西门"}


def person_span(start: int, end: int, key: str) -> Span:
    return Span(start, end, "person", FOUND, entity=key, role="other")


def chinese_people(text: str, segmentation: Segmentation) -> list[Span]:
    tokens = segmentation.tokens
    spans: list[Span] = []
    full_names: set[str] = set()
    for index, token in enumerate(tokens):
        name = _name_at(tokens, index) or _compound_name_at(text, segmentation, index)
        if name is not None:
            full_names.add(name)
        elif token.flag == "nr" and len(token.word) == 2 and token.word[0] in "小老" \
                and token.word[1] in SURNAMES and token.word not in DIMINUTIVE_WORDS:
            spans.append(person_span(token.start, token.end, person_key(token.word[1])))
    for match in SURNAME_TITLE.finditer(text):
        if _titled_surname(text, segmentation, match):
            key = person_key(match.group("surname"))
            spans.append(person_span(match.start(), match.end(), key))
    for name in full_names:
        surname = surname_of(name)
        key = person_key(surname, name[len(surname):])
        forms = [name]
        given = name[len(surname):]
        if len(given) >= 2 and word_frequency(given) < COMMON_WORD:
            forms.append(given)  # 丽华 alone, once 赵丽华 is known
        ordinary = {form for form in forms if is_ordinary_word(form)}
        for form in forms:
            spans += (person_span(m.start(), m.end(), key)
                      for m in re.finditer(re.escape(form), text)
                      if form not in ordinary
                      or not used_as_word(segmentation, m.start(), m.end()))
    return spans


def _name_at(tokens: list[Token], index: int) -> str | None:
    """The full Chinese name that starts with tokens[index], if one does."""
    token = tokens[index]
    word = token.word
    if word in NEVER_PERSON or not is_cjk(word[0]):
        return None
    if token.flag in ("nr", "nrfg") and looks_like_chinese_name(word) \
            and not word.endswith(tuple(HONORIFICS)) and not NOT_IN_NAMES & set(word[1:]):
        if not is_ordinary_word(word) or _person_context(tokens, index):
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
    elif len(word) == 2 and word[0] in SURNAMES and token.flag not in FUNCTION_TAGS \
            and word_frequency(word) < COMMON_WORD and index + 1 < len(tokens) \
            and _stray_character(tokens[index + 1]):
        return word + tokens[index + 1].word  # 鲁国栋 cut 鲁国/栋
    elif _after_role(tokens, index) and looks_like_chinese_name(word) \
            and token.flag not in FUNCTION_TAGS and word_frequency(word) < 50:
        return word  # 原告钱多多 where jieba knows no name
    return None


def _stray_character(token: Token) -> bool:
    """A lone character jieba could not place in a word (tagged as a bare morpheme)."""
    return len(token.word) == 1 and is_cjk(token.word) and token.flag in ("zg", "ng") \
        and token.word not in NOT_IN_NAMES


def _compound_name_at(text: str, segmentation: Segmentation, index: int) -> str | None:
    """欧阳建军 that jieba cut 欧阳建/军: a compound surname and one or two characters more,
    ending where a word ends."""
    token = segmentation.tokens[index]
    if token.word[:2] not in _SAFE_COMPOUNDS or token.word in NEVER_PERSON:
        return None
    for length in (4, 3):
        end = token.start + length
        if end in segmentation.ends and all(is_cjk(c) for c in text[token.start:end]) \
                and not text[token.start + 2:end].startswith(tuple(HONORIFICS)):
            return text[token.start:end]
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
    """贺律师, 于先生, but not 向律师 (to the lawyer) nor 王总结."""
    start, end = match.span()
    if start not in segmentation.starts:
        return False
    if len(match.group("title")) == 1 and not segmentation.ends_word(text, end):
        return False
    token = segmentation.tokens[segmentation.starts[start]]
    if token.word == match.group("surname") and token.flag in FUNCTION_TAGS:
        return match.group("title") in PERSONAL_HONORIFICS
    return True
