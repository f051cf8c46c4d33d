"""The numbered allegations: the lead (or a partner) adds, amends and removes them until the
findings are submitted. Numbers stay 1..n: removing one renumbers those after it."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.investigation import Allegation
from portal.models.user import Role, User
from portal.services import audit
from portal.services.intake.errors import IntakeError
from portal.services.triage.common import TriageError, check_version, in_investigation, touch
from portal.services.triage.triage import ALLEGATIONS_MAX, AllegationInput, allegation_problems


def may_edit(complaint: Complaint, user: User) -> bool:
    """Whether `user` is the lead or a partner (the state is checked by the verbs)."""
    if not complaint.can_view(user):
        return False
    lead = complaint.lead
    return user.has_role(Role.PARTNER) or (lead is not None and lead.id == user.id)


def editable(complaint: Complaint, user: User) -> bool:
    return in_investigation(complaint) and may_edit(complaint, user)


def _check(actor: User, complaint: Complaint, expected_version: int | None) -> None:
    check_version(complaint, expected_version)
    if not may_edit(complaint, actor):
        raise TriageError(_("Only the lead or a partner can change the allegations."))
    if not in_investigation(complaint):
        raise TriageError(_("The allegations can be changed from triage until the findings "
                            "are submitted."))


def _validated(complaint: Complaint, item: AllegationInput) -> AllegationInput:
    problems = allegation_problems(complaint, item)
    if problems:
        first = next(iter(problems.values()))
        raise IntakeError(first, errors={k: [v] for k, v in problems.items()})
    return AllegationInput(item.text.strip(), item.category, item.respondent_id)


def find(complaint: Complaint, allegation_id: int) -> Allegation | None:
    return next((a for a in complaint.allegations if a.id == allegation_id), None)


def _details(allegation: Allegation) -> dict:
    return {"allegation_id": allegation.id, "number": allegation.number,
            "category": allegation.category, "respondent_id": allegation.respondent_id,
            "text_length": len(allegation.text)}


def add(actor: User, complaint: Complaint, item: AllegationInput, *,
        expected_version: int | None = None) -> Allegation:
    _check(actor, complaint, expected_version)
    if len(complaint.allegations) >= ALLEGATIONS_MAX:
        raise TriageError(_("At most %(max)d allegations.", max=ALLEGATIONS_MAX))
    item = _validated(complaint, item)
    number = max((a.number for a in complaint.allegations), default=0) + 1
    allegation = Allegation(number=number, text=item.text, category=item.category,
                            respondent_id=item.respondent_id)
    complaint.allegations.append(allegation)
    touch(complaint)
    db.session.flush()
    audit.record("allegation.added", actor=actor, obj=complaint, details=_details(allegation))
    return allegation


def amend(actor: User, complaint: Complaint, allegation_id: int, item: AllegationInput, *,
          expected_version: int | None = None) -> Allegation:
    _check(actor, complaint, expected_version)
    allegation = find(complaint, allegation_id)
    if allegation is None:
        raise TriageError(_("This allegation no longer exists."))
    item = _validated(complaint, item)
    changed = [name for name, old, new in (
        ("text", allegation.text, item.text), ("category", allegation.category, item.category),
        ("respondent", allegation.respondent_id, item.respondent_id)) if old != new]
    allegation.text, allegation.category = item.text, item.category
    allegation.respondent_id = item.respondent_id
    touch(complaint)
    db.session.flush()
    audit.record("allegation.amended", actor=actor, obj=complaint,
                 details={**_details(allegation), "changed": changed})
    return allegation


def remove(actor: User, complaint: Complaint, allegation_id: int, *,
           expected_version: int | None = None) -> None:
    _check(actor, complaint, expected_version)
    allegation = find(complaint, allegation_id)
    if allegation is None:
        raise TriageError(_("This allegation no longer exists."))
    if len(complaint.allegations) == 1:
        raise TriageError(_("A complaint keeps at least one allegation: amend this one "
                            "instead."))
    details, number = _details(allegation), allegation.number
    complaint.allegations.remove(allegation)
    db.session.flush()
    # Renumbered in ascending order, one row at a time, so (complaint, number) stays unique.
    for later in sorted(complaint.allegations, key=lambda a: a.number):
        if later.number > number:
            later.number -= 1
            db.session.flush()
    touch(complaint)
    db.session.flush()
    audit.record("allegation.removed", actor=actor, obj=complaint, details=details)
