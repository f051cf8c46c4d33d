"""Latin-script names nobody recorded: after a title (Mr Zhang, Lawyer Fang, Ms Okafor),
pinyin pairs (Zhang Wei, Wei Zhang, Xu Jian Hua), a common given name before a capitalised
surname (Daniel Whitcombe), and a capitalised name after a role noun (the claimant's wife,
Mary Smith; 丈夫 Tomasz Kowalczyk). A found name's given name and surname alone are removed
too wherever they appear capitalised.

Keys follow people.py: found:<surname>:<given>, or found:<surname>: for a surname alone."""

from __future__ import annotations

import re

from portal.privacy.chinese import ROLE_NOUNS
from portal.privacy.names import common_surname_spellings
from portal.privacy.people import person_span
from portal.privacy.pinyin import ENGLISH_WORDS, split_syllables
from portal.privacy.spans import Span
from portal.privacy.text import words

LATIN_TITLES = (r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Madam|Madame|Mister|Lawyer|Attorney|"
                r"Judge|Counsel")
_CAPITAL = r"(?:[A-Z][a-z'’]+(?:-[A-Za-z]+)?|[A-Z]{2,}(?:-[A-Z]+)?)"
TITLED = re.compile(rf"(?<![A-Za-z])(?:(?i:{LATIN_TITLES}))\.?\s+(?P<first>{_CAPITAL})"
                    rf"(?:\s+(?P<second>{_CAPITAL}))?(?![A-Za-z])")
PAIR = re.compile(rf"(?<![A-Za-z]){_CAPITAL}(?:\s+{_CAPITAL})+(?![A-Za-z])")
WORD = re.compile(r"\S+")
_ENGLISH_ROLES = (
    "wife|husband|son|daughter|father|mother|brother|sister|friend|colleague|neighbour|neighbor|"
    "witness|solicitor|barrister|lawyer|counsel|attorney|client|claimant|defendant|plaintiff|"
    "respondent|landlord|tenant|employer|employee|manager|director|partner|assistant|agent|"
    "representative|contact|accountant|named|called|spouse|fiancée|fiance|fiancé|boss")
_ROLE_BEFORE = "|".join(sorted(ROLE_NOUNS, key=len, reverse=True))
AFTER_ROLE = re.compile(
    rf"(?:(?<![A-Za-z])(?i:{_ENGLISH_ROLES})(?:'s)?,?|(?:{_ROLE_BEFORE})[:,]?)\s*"
    rf"(?P<first>[A-Z][a-z'’]+(?:-[A-Z][a-z]+)?)(?:\s+(?P<second>{_CAPITAL}))?(?![A-Za-z])")
# Common given names in English-speaking and European texts; none is an everyday word.
GIVEN_NAMES = words(
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel "
    "Matthew Anthony Donald Steven Stephen Paul Andrew Joshua Kenneth Kevin Brian George Edward "
    "Ronald Timothy Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Larry Justin Scott "
    "Brandon Benjamin Samuel Gregory Alexander Patrick Jack Dennis Jerry Tyler Aaron Adam Henry "
    "Nathan Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold Keith Christian Roger Noah "
    "Gerald Carl Terry Sean Austin Arthur Lawrence Jesse Dylan Bryan Albert Logan Randy Ralph "
    "Eugene Wayne Louis Philip Oliver Harry Charlie Oscar Leo Alfie Freddie Archie Theo Isaac "
    "Lucas Toby Owen Liam Mason Elijah Luke Hugo Felix Sebastian Simon Martin Neil Ian Colin "
    "Graham Stuart Alan Tony Nigel Trevor Derek Malcolm Gordon Duncan Hamish Callum Rory Connor "
    "Declan Tomasz Piotr Pavel Ivan Dmitri Sergei Hans Klaus Pierre Luis Carlos Juan Miguel "
    "Pedro Marco Luca Giovanni Ahmed Mohammed Omar Hassan Arjun Kofi Kwame Emeka "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma "
    "Nicole Helen Samantha Katherine Christine Rachel Carolyn Janet Catherine Maria Heather "
    "Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith "
    "Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Madison Frances Kathryn Janice "
    "Abigail Alice Julia Sophia Denise Doris Marilyn Danielle Beverly Isabella Theresa Diana "
    "Natalie Charlotte Marie Harriet Amelia Isla Ava Mia Ella Lily Sophie Chloe Lucy Ellie "
    "Freya Phoebe Imogen Eleanor Clara Fiona Gillian Siobhan Aoife Niamh Claire Louise Zoe "
    "Agnieszka Katarzyna Magdalena Olga Natalia Irina Elena Ingrid Astrid Sofia Lucia Carmen "
    "Fatima Aisha Priya Anjali Chioma Ngozi Amara Yuki Kenji Akiko Hiroshi")
WESTERN = re.compile(
    rf"(?<![A-Za-z])(?P<first>{'|'.join(sorted(GIVEN_NAMES, key=len, reverse=True))})\s+"
    r"(?:[A-Z]\.\s+)?(?P<second>[A-Z][a-z'’]+(?:-[A-Z][a-z]+)?|[A-Z]{2,})(?![A-Za-z])")
# Capitalised words that are not names (the start of a sentence, a court, a firm).
NOT_NAMES = words(
    "the and of in on at to for with from but or if when court company ltd limited law "
    "street road avenue lane this that these those he she it they we you i his her their our "
    "my your its a an is was are were has had have will would can could should may might "
    "said says told asked who which what where why how then than there here")
# Words that never start or continue a name, even after a title (Ms He is a name).
FUNCTION_WORDS = words("the and of in on at to for with from but or if a an")
_PLACES = frozenset(("hongkong", "pingan", "taiwan", "macau", "xian"))


def latin_people(text: str) -> list[Span]:
    spans: list[Span] = []
    names: list[tuple[str, str]] = []  # (given, surname) of every full name found
    for pattern in (TITLED, AFTER_ROLE, WESTERN):
        for match in pattern.finditer(text):
            first, second = match.group("first"), match.group("second")
            stop = FUNCTION_WORDS if pattern is TITLED else NOT_NAMES
            if first.lower() in stop:
                continue
            end = match.end("first")
            parts = [first]
            if second and second.lower() not in stop:
                parts.append(second)
                end = match.end("second")
            if pattern is not TITLED and len(parts) < 2 and first not in GIVEN_NAMES:
                continue  # one capitalised word after "friend" may be anything
            start = match.start() if pattern is TITLED else match.start("first")
            key = _latin_key(parts)
            spans.append(person_span(start, end, key))
            if len(parts) == 2 and key.endswith(f":{parts[0].lower()}"):
                names.append((parts[0], parts[1]))
    for match in PAIR.finditer(text):
        found = [(match.start() + w.start(), match.start() + w.end(), w.group())
                 for w in WORD.finditer(match.group())]
        for size in (3, 2):
            for first_word in range(len(found) - size + 1):
                window = found[first_word:first_word + size]
                key = _pinyin_key([word for _, _, word in window])
                if key is not None:
                    spans.append(person_span(window[0][0], window[-1][1], key))
    for given, surname in names:  # Harriet alone, Okafor alone, once Harriet Okafor is known
        key = f"found:{surname.lower()}:{given.lower()}"
        for word in (given, surname):
            if len(word) >= 3 and word.lower() not in ENGLISH_WORDS | NOT_NAMES:
                spans += (person_span(m.start(), m.end(), key)
                          for m in re.finditer(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])",
                                               text))
    return spans


def _latin_key(parts: list[str]) -> str:
    """found:<surname>:<given>: pinyin order when it is pinyin, else given name first."""
    key = _pinyin_key(parts) if len(parts) > 1 else None
    if key is not None:
        return key
    if len(parts) == 1:
        return f"found:{parts[0].lower()}:"
    return f"found:{parts[-1].lower()}:{parts[0].lower()}"


def _pinyin_key(parts: list[str]) -> str | None:
    lowered = [word.lower().replace("-", "") for word in parts]
    if "".join(lowered) in _PLACES or any(word in FUNCTION_WORDS for word in lowered):
        return None
    spellings = common_surname_spellings()
    for surname, given in ((lowered[0], lowered[1:]), (lowered[-1], lowered[:-1])):
        syllables = split_syllables("".join(given)) if surname in spellings else None
        if syllables and len(syllables) <= 3 and (len(given) == 1 or all(
                len(split_syllables(part) or ()) == 1 for part in given)):
            return f"found:{surname}:{''.join(syllables)}"
    return None
