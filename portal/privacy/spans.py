"""A stretch of text a detector wants removed, before overlaps are settled and labels given."""

from __future__ import annotations

from dataclasses import dataclass

# Which detector to believe when two find spans of the same length at the same place.
KEYWORD = 60  # a number right after "身份证号" / "account no." / ...
STRUCTURED = 50  # email, ID, phone, ... found by their shape
RECORDED = 40  # a form of a party's name, organisation or recorded detail
ADDRESS = 35
FOUND = 20  # a person or organisation nobody recorded
DATE = 10


@dataclass(slots=True)
class Span:
    start: int
    end: int
    kind: str
    rank: int
    label: str = ""  # a fixed label (structured kinds, coarsened dates)
    entity: str = ""  # one key for every form of one person or organisation
    role: str = ""  # the entity's label role: client, lawyer, staff, other, organisation, ...
    candidates: tuple[str, ...] = ()  # a shared surname: the entities it may name
    hint: str = ""  # the role the title suggests (王律师 -> lawyer) among the candidates

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def strong(self) -> bool:
        """Strong spans are certain to be identities: never dropped, only merged."""
        return self.rank >= RECORDED
