"""The routing table: what each severity requires of the investigation. Partners edit it in
the browser; a severity nobody has edited uses the defaults below."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.models.investigation import LeadLevel, RoutingRule, Severity
from portal.models.user import User
from portal.services import audit


@dataclass(frozen=True)
class Routing:
    severity: str
    lead_level: str
    investigators_required: int
    investigation_days: int  # working days from receipt
    final_response_days: int  # working days from receipt


DEFAULTS = {
    Severity.MINOR: Routing(Severity.MINOR, LeadLevel.DEPARTMENT_HEAD, 1, 15, 20),
    Severity.GENERAL: Routing(Severity.GENERAL, LeadLevel.DEPARTMENT_HEAD, 1, 20, 30),
    Severity.SERIOUS: Routing(Severity.SERIOUS, LeadLevel.PARTNER, 2, 25, 35),
    Severity.CRITICAL: Routing(Severity.CRITICAL, LeadLevel.COMMITTEE, 2, 30, 40),
}


class RoutingError(ValueError):
    """A routing row that cannot be saved; the message is translated."""


def _as_routing(row: RoutingRule) -> Routing:
    return Routing(row.severity, row.lead_level, row.investigators_required,
                   row.investigation_days, row.final_response_days)


def table() -> list[Routing]:
    """Every severity's routing, in severity order (one query)."""
    rows = {r.severity: r for r in db.session.scalars(select(RoutingRule))}
    return [_as_routing(rows[s]) if s in rows else DEFAULTS[s] for s in Severity]


def rule_for(severity: str) -> Routing:
    row = db.session.get(RoutingRule, severity)
    return _as_routing(row) if row is not None else DEFAULTS[Severity(severity)]


def update(actor: User, severity: str, *, lead_level: str, investigators_required: int,
           investigation_days: int, final_response_days: int) -> Routing:
    """Save one severity's routing (the route has checked the values' types)."""
    if severity not in set(Severity) or lead_level not in set(LeadLevel):
        raise RoutingError(_("Unknown severity or lead level."))
    if not 1 <= investigators_required <= 5:
        raise RoutingError(_("Between 1 and 5 investigators."))
    if not 1 <= investigation_days <= final_response_days <= 250:
        raise RoutingError(_("The investigation must end no later than the final response, "
                             "within 250 working days."))
    row = db.session.get(RoutingRule, severity) or RoutingRule(severity=severity)
    before = _as_routing(row) if row.lead_level else DEFAULTS[Severity(severity)]
    row.lead_level = lead_level
    row.investigators_required = investigators_required
    row.investigation_days = investigation_days
    row.final_response_days = final_response_days
    row.updated_at = clock.now()
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.flush()
    audit.record("routing.updated", actor=actor, object_type="routing_rule", object_id=severity,
                 details={"before": before.__dict__, "after": _as_routing(row).__dict__})
    return _as_routing(row)
