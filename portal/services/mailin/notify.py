"""Telling the handler that the client wrote again."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.links import email_link
from portal.models.complaint import Complaint
from portal.models.mailin import InboundMail
from portal.services import staff_mail

KIND = "mail_reply_received"


def reply_received(complaint: Complaint, inbound: InboundMail) -> None:
    """Email the complaint's handler (or whoever created the record) in their language."""
    person = complaint.handler or complaint.created_by
    if person is None or not person.email or not person.active:
        return
    with staff_mail.in_their_language(person):
        staff_mail.queue(person, kind=KIND, template="mail_reply_received",
                         subject=_("The client wrote about %(label)s", label=complaint.label),
                         context={"reference": complaint.label, "inbound": inbound,
                                  "person": person,
                                  "link": email_link("intake.show", key=complaint.label)},
                         complaint=complaint)
