"""Tell the staff when the client answers the outcome on their page: the partner who recorded
the decision and the complaint's handler, each once, if they may still see the complaint.
The email says what the answer is and where to read it; the client's reason stays in the
portal."""

from __future__ import annotations

import logging

from flask_babel import gettext as _

from portal.links import email_link
from portal.models.complaint import Complaint
from portal.models.resolution import AnswerKind, ClientAnswer, Decision
from portal.models.user import User
from portal.services import outbox, staff_mail

MAIL_KIND = "client_answered"
log = logging.getLogger("portal.resolution")


def _recipients(complaint: Complaint, decision: Decision) -> list[User]:
    people = [decision.decided_by, complaint.handler]
    chosen: dict[int, User] = {}
    for user in people:
        if user is not None and user.active and user.email and complaint.can_view(user):
            chosen.setdefault(user.id, user)
    return list(chosen.values())


def tell_staff(complaint: Complaint, decision: Decision, answer: ClientAnswer) -> int:
    """Queue the notice to each recipient; returns how many were queued."""
    disputed = answer.kind == AnswerKind.DISPUTED.value
    link = email_link("intake.show", key=complaint.label, anchor="area-decision")
    queued = 0
    for user in _recipients(complaint, decision):
        with staff_mail.in_their_language(user):
            if disputed:
                subject = _("Complaint %(reference)s: the client is not satisfied with "
                            "decision %(number)s", reference=complaint.label,
                            number=decision.number)
            else:
                subject = _("Complaint %(reference)s: the client accepted decision "
                            "%(number)s", reference=complaint.label, number=decision.number)
            context = {"user": user, "reference": complaint.label, "link": link,
                       "number": decision.number, "disputed": disputed, "subject": subject}
            try:
                staff_mail.queue(user, kind=MAIL_KIND, template="client_answered",
                                 subject=subject, context=context, complaint=complaint)
            except outbox.OutboxError:  # an address the outbox refuses: logged, not retried
                log.exception("complaint %s: no answer notice for user %s", complaint.id,
                              user.id)
                continue
        queued += 1
    return queued
