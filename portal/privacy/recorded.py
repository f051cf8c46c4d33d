"""Finding the recorded parties in a text: their names in every form (names.py) and the
phone, email, ID number and address recorded on them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from portal.privacy.addresses import recorded_address_spans
from portal.privacy.chinese import DIMINUTIVE_WORDS, HONORIFICS, ROLE_HINTS
from portal.privacy.model import Party
from portal.privacy.names import TITLE_ROLES, TITLES, PartyNames, letters_key
from portal.privacy.patterns import digits
from portal.privacy.segmentation import Segmentation, dictionary_tag
from portal.privacy.spans import RECORDED, Span
from portal.privacy.text import fold_width
from portal.privacy.word_use import is_ordinary_word, used_as_word

_HONORIFIC = "|".join(HONORIFICS)


def _alternatives(forms: Iterable[str]) -> str:
    return "|".join(sorted(forms, key=len, reverse=True))


def name_spans(text: str, segmentation: Segmentation, names: PartyNames) -> list[Span]:
    spans: list[Span] = []
    if names.cjk:
        chinese = re.compile(
            "(?P<core>" + _alternatives(r"\s?".join(map(re.escape, form)) for form in names.cjk)
            + f")(?:{_HONORIFIC})?")
        for match in chinese.finditer(text):
            key = re.sub(r"\s", "", match.group("core"))
            if match.end() == match.end("core") and is_ordinary_word(key) \
                    and used_as_word(segmentation, match.start(), match.end()):
                continue
            spans.append(_span(match.start(), match.end(), names.cjk[key], names))
    if names.surnames:
        spans += _surname_spans(text, segmentation, names)
    for patterns, table, flags in ((names.latin_patterns, names.latin, re.I),
                                   (names.capitalised_patterns, names.capitalised, 0)):
        if not patterns:
            continue
        latin = re.compile(rf"(?<![A-Za-z])(?:(?i:{TITLES})\.?\s+)?(?P<core>"
                           + _alternatives(patterns) + r")(?![A-Za-z])", flags)
        for match in latin.finditer(text):
            entities = table.get(letters_key(match.group("core")))
            if entities:
                spans.append(_span(match.start(), match.end(), entities, names))
    if names.latin_surnames:
        surnames = _alternatives(
            alternative for spelling in names.latin_surnames
            for alternative in (re.escape(spelling.capitalize()), re.escape(spelling.upper())))
        titled = re.compile(rf"(?<![A-Za-z])(?P<title>(?i:{TITLES}))\.?\s+(?P<core>{surnames})"
                            r"(?![A-Za-z])")
        # "He lawyer", "Wang laoshi": the title after the surname, as Chinese puts it
        after = re.compile(rf"(?<![A-Za-z])(?P<core>{surnames})\s+(?P<title>(?i:lawyer|laoshi|"
                           r"lvshi|zong|jingli))(?![A-Za-z])")
        for match in (*titled.finditer(text), *after.finditer(text)):
            entities = names.latin_surnames[match.group("core").lower()]
            hint = TITLE_ROLES.get(match.group("title").lower(), "")
            hint = "lawyer" if match.group("title").lower() in ("lvshi", "lawyer") else hint
            spans.append(_span(match.start(), match.end(), entities, names, hint))
    return spans


def _surname_spans(text: str, segmentation: Segmentation, names: PartyNames) -> list[Span]:
    """王先生, 王律师, 小王, 老王: a recorded surname with a title. Whatever comes before it
    (调解后江律师), unless the surname ends a word (对方律师); a one-character title must end
    a word (王总, not 王总结)."""
    surnames = _alternatives(map(re.escape, names.surnames))
    pattern = re.compile(rf"[小老](?P<small>{surnames})|(?P<surname>{surnames})"
                         rf"(?P<title>{_HONORIFIC})")
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if match.group("small"):
            if not segmentation.is_word(text, start, end) or match.group() in DIMINUTIVE_WORDS:
                continue
        else:
            cut_title = len(match.group("title")) == 1 and not segmentation.ends_word(text, end)
            if cut_title or _ends_a_word(segmentation, start, match.end("surname")):
                continue
        surname = match.group("small") or match.group("surname")
        hint = ROLE_HINTS.get(match.group("title") or "", "")
        spans.append(_span(start, end, names.surnames[surname], names, hint))
    return spans


def _ends_a_word(segmentation: Segmentation, start: int, end: int) -> bool:
    """The surname is the end of a dictionary word (对方); jieba's guesses (后江) do not count."""
    index = segmentation.index_containing(start)
    if index is None or segmentation.tokens[index].start == start:
        return False
    token = segmentation.tokens[index]
    return token.end == end and bool(dictionary_tag(token.word))


def _span(start: int, end: int, entities: set[str], names: PartyNames, hint: str = "") -> Span:
    chosen = sorted(entities)
    kind = "organisation" if all(e in names.organisations for e in chosen) else "person"
    if len(chosen) == 1:
        return Span(start, end, kind, RECORDED, entity=chosen[0], role=names.roles[chosen[0]])
    return Span(start, end, kind, RECORDED, candidates=tuple(chosen), hint=hint)


def detail_spans(text: str, parties: Sequence[Party]) -> list[Span]:
    """The phone, email, ID number and address recorded on each party, however written."""
    spans: list[Span] = []
    for party in parties:
        for kind, value in (("phone", party.phone), ("id_number", party.id_number)):
            spans += _digit_spans(text, kind, fold_width(value))
        if party.email.strip():
            pattern = re.compile(re.escape(fold_width(party.email).strip()), re.I)
            spans += (Span(m.start(), m.end(), "email", RECORDED + 5)
                      for m in pattern.finditer(text))
        if party.address.strip():
            spans += recorded_address_spans(text, fold_width(party.address).strip())
    return spans


def _digit_spans(text: str, kind: str, value: str) -> list[Span]:
    """A recorded number with any spaces, dashes, dots or brackets between its digits."""
    number = digits(value) + ("X" if value.strip().upper().endswith("X") else "")
    if kind == "phone":
        number = re.sub(r"^(?:00)?86(?=1\d{10}$|\d{9,10}$)", "", number)
    forms = [number]
    if kind == "phone" and number.startswith("0") and len(number) >= 10:
        forms.append(number[-8:] if len(number) >= 11 else number[-7:])  # without area code
    spans: list[Span] = []
    for form in forms:
        if len(form) < 6:
            continue
        pattern = re.compile(r"(?<![0-9])" + r"[\s.()\-]{0,2}".join(form) + r"(?![0-9])", re.I)
        spans += (Span(m.start(), m.end(), kind, RECORDED + 5) for m in pattern.finditer(text))
    return spans
