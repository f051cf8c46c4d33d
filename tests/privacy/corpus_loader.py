"""Load the redaction quality corpus (tests/privacy/corpus/*.json, format in corpus/README.md).

The corpus was written before the engine's rules, so it does not depend on portal.privacy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"

LANGS = ("zh", "en", "mixed")
ROLES = ("client", "lawyer", "staff", "other")
PARTY_FIELDS = ("name", "aliases", "phone", "email", "id_number", "address", "organisation")
KINDS = (
    "person",
    "organisation",
    "phone",
    "email",
    "id_number",
    "passport",
    "bank_card",
    "licence",
    "wechat",
    "case_number",
    "address",
    "date",
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"\d{17}[\dX]")


@dataclass(frozen=True)
class Planted:
    text: str
    kind: str
    recorded: bool


@dataclass(frozen=True)
class CorpusText:
    id: str
    lang: str
    text: str
    parties: list[dict]
    planted: list[Planted]
    keep: list[str]
    path: Path


def prc_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a resident ID's first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_prc_id(s: str) -> bool:
    """An 18-character PRC resident ID: real birth date and a correct check character."""
    s = s.upper()
    if not _ID_SHAPE.fullmatch(s):
        return False
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return False
    return prc_id_check_digit(s[:17]) == s[17]


def luhn_ok(s: str) -> bool:
    """True when the digits of s (spaces and hyphens ignored) pass the Luhn check."""
    digits = s.replace(" ", "").replace("-", "")
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    """Every (start, end) span where needle occurs in text, overlapping ones included."""
    spans = []
    start = text.find(needle)
    while start != -1:
        spans.append((start, start + len(needle)))
        start = text.find(needle, start + 1)
    return spans


def load_corpus(directory: Path = CORPUS_DIR) -> list[CorpusText]:
    """Every corpus text, sorted by file name."""
    texts = []
    for path in sorted(directory.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        texts.append(
            CorpusText(
                id=raw["id"],
                lang=raw["lang"],
                text=raw["text"],
                parties=list(raw["parties"]),
                planted=[Planted(p["text"], p["kind"], p["recorded"]) for p in raw["planted"]],
                keep=list(raw["keep"]),
                path=path,
            )
        )
    return texts
