"""The chronology of the matter: every dated item of the complaint and its investigation,
in date order. Built from what the workspace already loaded (no query of its own beyond
the complaint's pauses, first response and assignments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal.clock import LOCAL_TZ
from portal.services.investigation.workspace import Workspace


@dataclass(frozen=True)
class Entry:
    on: date  # the day, in the firm's time zone
    at: datetime | None  # the moment, when the item has one (a statement has a day only)
    kind: str  # what happened: incident, received, statement, note, ... (the page labels it)
    item: Any = None  # the row it comes from, for the page to name (a statement, a pause...)
    anchor: str | None = None  # where the item is on the workspace page

    @property
    def sort_key(self) -> tuple:
        # A day-only item comes first on its day: it is not known to follow anything.
        return (self.on, self.at is not None, self.at or datetime.min.replace(tzinfo=LOCAL_TZ))


def _moment(kind: str, at: datetime | None, item: Any = None,
            anchor: str | None = None) -> Entry | None:
    if at is None:
        return None
    return Entry(at.astimezone(LOCAL_TZ).date(), at, kind, item, anchor)


def _day(kind: str, on: date | None, item: Any = None, anchor: str | None = None
         ) -> Entry | None:
    return Entry(on, None, kind, item, anchor) if on is not None else None


def build(workspace: Workspace) -> list[Entry]:
    complaint = workspace.complaint
    entries: list[Entry | None] = [
        _day("incident", complaint.occurred_on),
        _day("incident_end", complaint.occurred_until
             if complaint.occurred_until != complaint.occurred_on else None),
        _moment("received", complaint.received_at),
        _moment("registered", complaint.registered_at),
        _moment("triaged", complaint.triaged_at),
        _moment("findings_submitted", complaint.findings_submitted_at),
        _moment("withdrawn", complaint.withdrawn_at),
        _moment("closed", complaint.closed_at),
    ]
    entries += [_moment("assigned", a.assigned_at, a) for a in complaint.assignments]
    entries += [_moment("evidence", e.uploaded_at, e, f"evidence-{e.id}")
                for e in workspace.evidence if e.statement_id is None]
    entries += [_day("statement", s.given_on, s, f"statement-{s.id}")
                for s in workspace.statements]
    entries += [_day("note", n.held_on, n, f"note-{n.id}") for n in workspace.notes]
    for reply in workspace.replies:
        entries.append(_moment("reply_requested", reply.requested_at, reply, "ws-replies"))
        if reply.submitted_at is None:
            entries.append(_day("reply_due", reply.due_on, reply, "ws-replies"))
    for pause in complaint.pauses:
        entries.append(_moment("paused", pause.paused_at, pause))
        entries.append(_moment("resumed", pause.resumed_at, pause))
    first = complaint.first_response
    if first is not None:
        entries.append(_moment("first_response", first.responded_at, first))
    shown = [e for e in entries if e is not None]
    shown.sort(key=lambda e: e.sort_key)
    return shown

