"""Engagement expectations: what was set and written down with the client at engagement.

Each item (scope, fees, risks, outcomes, timetable, the complaints procedure) is an
append-only history: recording it again adds an entry with who and when; the latest entry is
the current one. The complaints procedure records the day it was given to the client (and
optionally how). An item with no entry is a gap: the matter's `expectation_gaps` is recounted
in the same write (core.recount_gaps). A form carries the id of the latest entry it showed: if
someone recorded the item meanwhile, the new entry is refused (409) and the input kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.db import db
from portal.models.matter import Matter
from portal.models.prevention import EXPECTATION_LABELS, Expectation, ExpectationEntry
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import ConflictError, FieldErrors
from portal.services.prevention import core
from portal.services.prevention.matters import (
    PreventionError,
    checked_day,
    locked,
    refuse_if_any,
)

TEXT_MAX = 4000


class ExpectationChanged(ConflictError):
    def __init__(self) -> None:
        super().__init__(_("Someone else recorded this expectation after you opened the page, "
                           "so nothing was saved. What you typed is still on screen: reload "
                           "the page to see their entry, then record yours again if it is "
                           "still needed."))


@dataclass
class ExpectationView:
    """One item on the matter's page: its latest entry and its history, newest first."""

    item: Expectation
    label: str
    history: list[ExpectationEntry] = field(default_factory=list)

    @property
    def current(self) -> ExpectationEntry | None:
        return self.history[0] if self.history else None

    @property
    def missing(self) -> bool:
        return self.current is None

    @property
    def latest_id(self) -> int:
        """What the item's form carries as its version (0: nothing recorded yet)."""
        return self.current.id if self.current else 0


def overview(matter: Matter) -> list[ExpectationView]:
    """Every item in the guidance's order with its history (one query)."""
    views = {item: ExpectationView(item, str(EXPECTATION_LABELS[item])) for item in Expectation}
    entries = db.session.scalars(
        select(ExpectationEntry).where(ExpectationEntry.matter_id == matter.id)
        .options(joinedload(ExpectationEntry.recorded_by))
        .order_by(ExpectationEntry.recorded_at.desc(), ExpectationEntry.id.desc()))
    for entry in entries:
        if entry.item in views:
            views[Expectation(entry.item)].history.append(entry)
    return list(views.values())


def _latest(matter_id: int, item: str) -> ExpectationEntry | None:
    latest = db.session.scalar(select(func.max(ExpectationEntry.id)).where(
        ExpectationEntry.matter_id == matter_id, ExpectationEntry.item == item))
    return db.session.get(ExpectationEntry, latest) if latest else None


def record(actor: User, matter_id: int, item: str, text: str, given_on: date | None, *,
           latest_id: int | None) -> ExpectationEntry:
    """A new entry for `item` (whoever may record on the matter). `latest_id` is the latest
    entry the form showed (0 for none)."""
    matter = locked(matter_id, actor)
    if item not in {e.value for e in Expectation}:
        raise PreventionError(_("Choose which expectation you record."), field="item")
    errors = FieldErrors()
    text = (text or "").strip()
    procedure = item == Expectation.COMPLAINTS_PROCEDURE
    if len(text) > TEXT_MAX:
        errors.add("text", _("At most %(max)d characters.", max=TEXT_MAX))
    elif not text and not procedure:
        errors.add("text", _("Write down what was agreed with the client."))
    if procedure:
        checked_day(given_on, "given_on", errors)
    else:
        given_on = None
    refuse_if_any(errors)
    previous = _latest(matter.id, item)
    if (previous.id if previous else 0) != latest_id:
        raise ExpectationChanged()
    if previous is not None and (previous.text or "", previous.given_on) == (text, given_on):
        raise PreventionError(_("This is what is recorded already: change it, or leave it "
                                "as it is."), field="text")
    entry = ExpectationEntry(matter_id=matter.id, item=item, text=text or None,
                             given_on=given_on, recorded_at=clock.now(),
                             recorded_by_id=actor.id)
    db.session.add(entry)
    db.session.flush()
    core.recount_gaps(matter)
    db.session.flush()
    audit.record("matter.expectation_recorded", actor=actor, obj=matter, details={
        "matter_id": matter.id, "entry_id": entry.id, "item": item,
        "given_on": given_on.isoformat() if given_on else None,
        "replaces": previous.id if previous else None, "gaps": matter.expectation_gaps})
    return entry

