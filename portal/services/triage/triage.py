"""Triage (a partner): severity, categories, a short assessment, the numbered allegations
and the handler; registered → triaged, and the investigation's clocks start. Until the
findings are submitted the triage may be revised, and a new severity moves the clocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.investigation import Allegation, Category, Severity
from portal.models.user import Role, User
from portal.services import audit, deadlines
from portal.services.intake.errors import FieldErrors
from portal.services.triage import people
from portal.services.triage.common import (
    TEXT_MAX,
    TriageError,
    check_version,
    in_investigation,
    text_of,
    touch,
)

ALLEGATIONS_MAX = 30


@dataclass(frozen=True)
class AllegationInput:
    text: str
    category: str
    respondent_id: int | None = None


def may_triage(complaint: Complaint, user: User) -> bool:
    return (complaint.state == State.REGISTERED and user.has_role(Role.PARTNER)
            and complaint.can_view(user))


def may_revise(complaint: Complaint, user: User) -> bool:
    return in_investigation(complaint) and user.has_role(Role.PARTNER) \
        and complaint.can_view(user)


def eligible_handlers(complaint: Complaint, roster: people.Roster | None = None
                      ) -> list[User]:
    roster = roster or people.roster()
    return [u for u in roster.users
            if people.handler_problem(complaint, u, roster.heads) is None]


def _grading(errors: FieldErrors, severity: str | None, categories: Sequence[str],
             assessment: str | None) -> tuple[list[str], str]:
    if severity not in set(Severity):
        errors.add("severity", _("Choose the severity."))
    chosen = list(dict.fromkeys(categories or []))
    if not chosen:
        errors.add("categories", _("Choose at least one category."))
    elif not set(chosen) <= set(Category):
        errors.add("categories", _("Choose categories from the list."))
    text = text_of(assessment)
    if not text:
        errors.add("assessment", _("Write a short assessment."))
    elif len(text) > TEXT_MAX:
        errors.add("assessment", _("At most %(max)d characters.", max=TEXT_MAX))
    return chosen, text


def allegation_problems(complaint: Complaint, item: AllegationInput) -> dict[str, str]:
    """What is wrong with one allegation, by field (text, category, respondent)."""
    problems = {}
    if not text_of(item.text):
        problems["text"] = _("Write the allegation.")
    elif len(text_of(item.text)) > TEXT_MAX:
        problems["text"] = _("At most %(max)d characters.", max=TEXT_MAX)
    if item.category not in set(Category):
        problems["category"] = _("Choose the allegation's category.")
    if item.respondent_id is not None and item.respondent_id not in {
            r.id for r in complaint.respondents}:
        problems["respondent"] = _("Choose one of this complaint's respondents, or nobody.")
    return problems


def _handler(errors: FieldErrors, complaint: Complaint, handler_id: int | None) -> User | None:
    handler = people.user_named(handler_id)
    if handler is None:
        errors.add("handler", _("Choose who handles the complaint."))
        return None
    problem = people.handler_problem(complaint, handler, people.department_head_ids())
    if problem:
        errors.add("handler", problem)
    return handler


def triage(actor: User, complaint: Complaint, *, severity: str | None,
           categories: Sequence[str], assessment: str | None,
           allegations: Sequence[AllegationInput], handler_id: int | None,
           expected_version: int | None = None) -> Complaint:
    """Record the triage and start the investigation's clocks."""
    check_version(complaint, expected_version)
    if not may_triage(complaint, actor):
        raise TriageError(_("Only a partner can triage, and only a registered complaint."))
    errors = FieldErrors()
    chosen, text = _grading(errors, severity, categories, assessment)
    items = [a for a in allegations if text_of(a.text)]
    if not items:
        errors.add("allegations", _("Record at least one allegation."))
    elif len(items) > ALLEGATIONS_MAX:
        errors.add("allegations", _("At most %(max)d allegations.", max=ALLEGATIONS_MAX))
    for number, item in enumerate(items, start=1):
        for problem in allegation_problems(complaint, item).values():
            errors.add("allegations", _("Allegation %(number)d: %(problem)s",
                                        number=number, problem=problem))
    handler = _handler(errors, complaint, handler_id)
    errors.raise_if_any()

    complaint.severity, complaint.categories, complaint.assessment = severity, chosen, text
    complaint.triaged_at, complaint.triaged_by_id = clock.now(), actor.id
    complaint.handler = handler
    complaint.state = State.TRIAGED
    for number, item in enumerate(items, start=1):
        complaint.allegations.append(Allegation(
            number=number, text=text_of(item.text), category=item.category,
            respondent_id=item.respondent_id))
    touch(complaint)
    db.session.flush()
    deadlines.start_investigation_clocks(complaint)
    audit.record("complaint.triaged", actor=actor, obj=complaint, details={
        "severity": severity, "categories": chosen, "allegations": len(items),
        "allegation_ids": [a.id for a in complaint.allegations],
        "handler_id": handler.id, "assessment_length": len(text)})
    return complaint


def revise(actor: User, complaint: Complaint, *, severity: str | None,
           categories: Sequence[str], assessment: str | None,
           expected_version: int | None = None) -> Complaint:
    """Change the severity, categories or assessment before the findings; a new severity
    recomputes the investigation and final-response clocks."""
    check_version(complaint, expected_version)
    if not may_revise(complaint, actor):
        raise TriageError(_("The triage can be revised by a partner until the findings are "
                            "submitted."))
    errors = FieldErrors()
    chosen, text = _grading(errors, severity, categories, assessment)
    errors.raise_if_any()
    before = complaint.severity
    complaint.severity, complaint.categories, complaint.assessment = severity, chosen, text
    touch(complaint)
    db.session.flush()
    if severity != before:
        deadlines.severity_changed(complaint)
    audit.record("complaint.triage_revised", actor=actor, obj=complaint, details={
        "severity_before": before, "severity": severity, "categories": chosen,
        "assessment_length": len(text)})
    return complaint
