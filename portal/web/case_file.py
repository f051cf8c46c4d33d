"""The case file: `/complaints/<reference>` is the one page of a complaint through every
phase. Intake owns the record; every later phase registers an *area* here, a partial of its
own blueprint shown below the page's header to the users its context function admits.

An area's partial (`templates/<phase>/_area.html`, root id `area-<name>`) reads its data from
the variable `area`; the phase's routes render the same partial with
`htmx.partial(template, complaint=..., area=context)`, so the page and every swap agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.models.complaint import Complaint
from portal.models.user import User

AreaContext = Callable[[Complaint, User], dict[str, Any] | None]


@dataclass(frozen=True)
class Area:
    name: str
    order: int  # the phases' order on the page: triage 10, investigation 20, findings 30...
    template: str
    context: AreaContext  # None when this user may not see the area on this complaint


_AREAS: dict[str, Area] = {}


def area(name: str, *, order: int, template: str) -> Callable[[AreaContext], AreaContext]:
    """Register `context` as the data of a case-file area (a decorator)."""
    def register(context: AreaContext) -> AreaContext:
        _AREAS[name] = Area(name, order, template, context)
        return context
    return register


def areas_for(complaint: Complaint, user: User) -> list[tuple[Area, dict[str, Any]]]:
    """The areas `user` sees on `complaint`, in page order, each with its data."""
    shown = []
    for registered in sorted(_AREAS.values(), key=lambda a: a.order):
        data = registered.context(complaint, user)
        if data is not None:
            shown.append((registered, data))
    return shown
