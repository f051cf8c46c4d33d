"""What the progress notice (the first response sent by email) may say, as plain data.

The outbox worker renders the notice when it first sends the email, from the first response
recorded with it: who handles the complaint, what happens next, when the client will next
hear from the firm. Kept apart from `notices` (which lists it among its kinds) so that the
first-response service can queue it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.models.complaint import Complaint
from portal.models.notice import Notice


def progress_facts(complaint: Complaint, _config: Mapping) -> dict:
    handler = complaint.handler or complaint.lead
    first = complaint.first_response
    return {
        "reference": complaint.label,
        "language": complaint.language,
        "received_at": complaint.received_at,
        "complainant_name": complaint.complainant.name if complaint.complainant else "",
        "handler": {"name": handler.name, "title": handler.title or ""} if handler else None,
        "next_steps": (first.next_steps or "") if first else "",
        "next_contact_on": first.next_contact_on if first else None,
    }


def progress_stored(complaint: Complaint, notice: Notice) -> None:
    """The worker stored the notice: the first response names it."""
    if complaint.first_response is not None and complaint.first_response.notice_id is None:
        complaint.first_response.notice_id = notice.id
