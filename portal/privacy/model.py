"""The engine's vocabulary: the parties it is told about and the redaction it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MAX_CHARS = 200_000
ROLES = ("client", "lawyer", "staff", "other")
KINDS = ("person", "organisation", "phone", "email", "id_number", "passport", "bank_card",
         "licence", "wechat", "case_number", "address", "date")
_TEXT_FIELDS = ("name", "phone", "email", "id_number", "address", "organisation")


@dataclass(frozen=True)
class Party:
    """Someone the portal knows about; every field but the role may be empty."""

    role: str  # "client" | "lawyer" | "staff" | "other"
    name: str = ""
    aliases: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""
    id_number: str = ""
    address: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class Replacement:
    start: int  # offsets into the input text
    end: int
    kind: str  # one of KINDS
    label: str  # what replaced input[start:end]


@dataclass(frozen=True)
class Redaction:
    text: str
    replacements: tuple[Replacement, ...]  # sorted, non-overlapping


class TextTooLong(ValueError):
    """The text is over MAX_CHARS characters."""

    def __init__(self, length: int) -> None:
        super().__init__(f"text is {length} characters long; the limit is {MAX_CHARS}")
        self.length = length


def party_from_dict(data: Mapping, *, index: int | None = None) -> Party:
    """A Party from decoded JSON, or ValueError naming the field at fault.

    `index` only prefixes messages ("parties[2].aliases ..."), for callers reading a list.
    """
    where = "party" if index is None else f"parties[{index}]"
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be an object")
    known = {"role", "aliases", *_TEXT_FIELDS}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"{where} has an unknown field: {unknown[0]}")
    role = data.get("role", "other")
    if not isinstance(role, str) or role not in ROLES:
        raise ValueError(f"{where}.role must be one of {', '.join(ROLES)}")
    values: dict[str, str] = {}
    for field in _TEXT_FIELDS:
        value = data.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError(f"{where}.{field} must be a string")
        values[field] = value.strip()
    aliases = data.get("aliases", [])
    if aliases is None:
        aliases = []
    if not isinstance(aliases, list | tuple) or not all(isinstance(a, str) for a in aliases):
        raise ValueError(f"{where}.aliases must be a list of strings")
    return Party(role=role, aliases=tuple(a.strip() for a in aliases if a.strip()), **values)
