"""Every form of the recorded parties' names: the Chinese name, the given name alone,
surname + title (王先生, 小王, 王某), pinyin in any order, case, hyphenation or spacing
(Xu Jianhua, Jianhua Xu, XU Jian-hua, Mr Xu), English names, aliases and organisations."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from portal.privacy.chinese import COMPOUND_SURNAMES, SURNAMES, is_cjk, surname_of
from portal.privacy.model import Party
from portal.privacy.organisations import (
    EN_FORMS,
    ZH_FORMS,
    brand_pinyin,
    organisation_key,
    role_of,
    short_forms,
)
from portal.privacy.pinyin import (
    ENGLISH_WORDS,
    given_spellings,
    person_key,
    split_syllables,
    surname_spellings,
)
from portal.privacy.text import fold_width

TITLES = (r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Madam|Madame|Mister|Sir|Lawyer|Attorney|"
          r"Counsel|Solicitor|Barrister|Judge|Director|Manager|Partner|Assistant|Clerk|Officer")
TITLE_ROLES = {"lawyer": "lawyer", "attorney": "lawyer", "counsel": "lawyer",
               "solicitor": "lawyer", "barrister": "lawyer", "assistant": "staff",
               "clerk": "staff"}
_SEPARATOR = r"[-\s'’]?"


def letters_key(value: str) -> str:
    return "".join(char for char in value.lower() if char.isalpha())


@dataclass
class PartyNames:
    """What the parties are called, by form; each form points at one or more entities."""

    roles: dict[str, str] = field(default_factory=dict)  # entity -> label role
    organisations: set[str] = field(default_factory=set)  # entities that are organisations
    cjk: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    surnames: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    latin: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    latin_patterns: set[str] = field(default_factory=set)  # any case
    capitalised: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    capitalised_patterns: set[str] = field(default_factory=set)  # Title or UPPER case only
    latin_surnames: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Keys the finders give a recorded party or organisation (found:xu:jianhua, org:某某科技).
    aliases: dict[str, str] = field(default_factory=dict)
    # A Chinese firm's brand in pinyin (yunfan) -> the firm, to know its English name.
    brands: dict[str, str] = field(default_factory=dict)

    def add_latin(self, pattern: str, key: str, entity: str) -> None:
        self.latin_patterns.add(pattern)
        self.latin[key].add(entity)

    def add_capitalised(self, word_patterns: Sequence[str], key: str, entity: str) -> None:
        """A name matched only when written Title-case or in capitals (Jianhua, JIANHUA)."""
        title = _SEPARATOR.join(p.capitalize() for p in word_patterns)
        upper = _SEPARATOR.join(p.upper() for p in word_patterns)
        loose = word_patterns[0].capitalize() + "".join(
            f"{_SEPARATOR}(?:{p}|{p.capitalize()})" for p in word_patterns[1:])
        self.capitalised_patterns.update({title, upper, loose})
        self.capitalised[key].add(entity)


def party_names(parties: Sequence[Party]) -> PartyNames:
    names = PartyNames()
    for index, party in enumerate(parties):
        entity = f"party:{index}"
        names.roles[entity] = party.role
        for name in (party.name, *party.aliases):
            name = fold_width(name).strip()
            if name:
                _add_name(names, name, entity)
        if party.organisation.strip():
            organisation = fold_width(party.organisation).strip()
            key = organisation_key(organisation)
            names.roles.setdefault(key, role_of(organisation))
            names.organisations.add(key)
            _add_organisation(names, organisation, key)
    return names


def _is_organisation(name: str) -> bool:
    return name.endswith(ZH_FORMS) or bool(EN_FORMS.search(name))


def _add_organisation(names: PartyNames, name: str, entity: str) -> None:
    brand = brand_pinyin(name)
    if brand:
        names.brands[brand.lower()] = entity
        names.add_capitalised([brand.lower()], brand.lower(), entity)
    for form in short_forms(name):
        if any(is_cjk(char) for char in form):
            names.cjk[form].add(entity)
        elif len(form) >= 3:
            parts = form.split()
            names.add_latin(r"\s+".join(re.escape(part) for part in parts),
                            letters_key(form), entity)


def _add_name(names: PartyNames, name: str, entity: str) -> None:
    if _is_organisation(name):
        names.organisations.add(entity)
        names.aliases.setdefault(organisation_key(name), entity)
        _add_organisation(names, name, entity)
        return
    if any(is_cjk(char) for char in name):
        _add_chinese(names, name.replace(" ", ""), entity)
    else:
        _add_latin_name(names, name, entity)


def _add_chinese(names: PartyNames, name: str, entity: str) -> None:
    names.cjk[name].add(entity)
    parts = [part for part in re.split(r"[·•・.]", name) if len(part) >= 2]
    if len(parts) > 1:  # a transliterated foreign name: 约翰·史密斯
        for part in parts:
            names.cjk[part].add(entity)
        return
    if not (2 <= len(name) <= 4 and all(is_cjk(char) for char in name)):
        return  # a nickname recorded as an alias (老王, 阿强): only as written
    if name[0] in "小老阿" and name[1:2] in SURNAMES and len(name) == 2:
        return
    surname = surname_of(name)
    given = name[len(surname):]
    names.surnames[surname].add(entity)
    if len(given) >= 2:
        names.cjk[given].add(entity)
    if given:
        names.aliases.setdefault(person_key(surname, given), entity)
        names.cjk["阿" + given[-1]].add(entity)
        _add_pinyin(names, surname_spellings(surname), given_spellings(given), entity)


def _add_pinyin(names: PartyNames, surnames: tuple[str, list[str]],
                givens: list[list[str]], entity: str) -> None:
    usual, spellings = surnames
    for spelling in spellings:
        names.latin_surnames[spelling].add(entity)
    if usual not in ENGLISH_WORDS and len(usual) >= 2:
        names.add_capitalised([usual], usual, entity)
    for given in givens:
        given_pattern = _SEPARATOR.join(given)
        joined = "".join(given)
        for spelling in spellings:
            names.add_latin(rf"{spelling}\s*,?\s+{given_pattern}", spelling + joined, entity)
            names.add_latin(rf"{given_pattern}\s*,?\s+{spelling}", joined + spelling, entity)
            if len(given) >= 2:  # XuJianhua, JianhuaXu
                names.add_latin(rf"{spelling}{given_pattern}", spelling + joined, entity)
        if len(given) >= 2:
            names.add_capitalised(given, joined, entity)


def _add_latin_name(names: PartyNames, name: str, entity: str) -> None:
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", name)
    if not words:
        return
    pinyin = _as_pinyin(words)
    if pinyin is not None:
        surname, given = pinyin
        names.aliases.setdefault(f"found:{surname}:{''.join(given)}", entity)
        _add_pinyin(names, (surname, [surname]), [given], entity)
        return
    escaped = [re.escape(word) for word in words]
    names.add_latin(r"\s+".join(escaped), letters_key(name), entity)
    if len(words) == 1:
        names.add_capitalised([escaped[0].lower()], letters_key(words[0]), entity)
        return
    first, last = escaped[0], escaped[-1]
    names.add_latin(rf"{first}\s+{last}", letters_key(words[0] + words[-1]), entity)
    names.add_latin(rf"{last}\s*,\s*{first}", letters_key(words[-1] + words[0]), entity)
    names.add_latin(rf"{first[0]}\.?\s*{last}", letters_key(words[0][0] + words[-1]), entity)
    names.latin_surnames[words[-1].lower()].add(entity)
    for word in (words[0], words[-1]):
        if len(word) >= 3:
            names.add_capitalised([re.escape(word.lower())], letters_key(word), entity)


def _as_pinyin(words: list[str]) -> tuple[str, list[str]] | None:
    """("xu", ["jian", "hua"]) for Xu Jianhua or Jianhua Xu; None for an English name."""
    if not 2 <= len(words) <= 4:
        return None
    common = common_surname_spellings()
    lowered = [word.lower() for word in words]
    for surname, rest in ((lowered[0], lowered[1:]), (lowered[-1], lowered[:-1])):
        if surname in common:
            syllables = split_syllables("".join(part.replace("-", "") for part in rest))
            if syllables and len(syllables) <= 3:
                return surname, syllables
    return None


@functools.cache
def common_surname_spellings() -> frozenset[str]:
    """Every spelling of a common surname: xu, wang, ouyang, lee, wong, ..."""
    return frozenset(spelling for surname in (*SURNAMES, *COMPOUND_SURNAMES)
                     for spelling in surname_spellings(surname)[1])
