"""When is an intake record complete: the one rule, for the page, the list, the read-back
and registration (templates get its answer, never a copy of it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.i18n import join_list
from portal.models.complaint import Complaint, Remedy
from portal.models.matter import Client
from portal.services import addresses
from portal.services.intake.errors import IntakeError

# Sections saved by save_section, in page order. Evidence has its own service.
SECTIONS = ("complainant", "respondents", "matter", "incident", "remedy", "channel")
# Every section the page shows, in page order; the matter and the evidence are optional.
PAGE_SECTIONS = ("complainant", "respondents", "matter", "incident", "evidence", "remedy",
                 "channel")
REQUIRED_SECTIONS = ("complainant", "respondents", "incident", "remedy", "channel")

SECTION_LABELS = {
    "complainant": _l("Complainant"),
    "respondents": _l("Lawyers complained about"),
    "matter": _l("Matter"),
    "incident": _l("What happened"),
    "evidence": _l("Evidence"),
    "remedy": _l("Remedy sought"),
    "channel": _l("Channel and time received"),
}

# A refund or "other" means nothing without the details.
REMEDIES_NEEDING_DETAILS = {Remedy.PARTIAL_REFUND, Remedy.FULL_REFUND, Remedy.OTHER}


@dataclass(frozen=True)
class SectionState:
    name: str
    label: str
    done: bool
    required: bool


@dataclass(frozen=True)
class Completeness:
    rows: list[SectionState]
    done: int  # required sections complete
    total: int  # required sections

    @property
    def complete(self) -> bool:
        return self.done == self.total


def section_complete(complaint: Complaint, section: str) -> bool:
    if section == "complainant":
        client = complaint.complainant
        return bool(client and client.name and (client.phone or client.email))
    if section == "respondents":
        return bool(complaint.respondents)
    if section == "matter":
        return complaint.matter_id is not None
    if section == "incident":
        return bool(complaint.narrative and complaint.occurred_on)
    if section == "remedy":
        codes = set(complaint.remedies_sought or [])
        needs_details = bool(codes & {r.value for r in REMEDIES_NEEDING_DETAILS})
        return bool(codes) and (bool(complaint.remedy_details) or not needs_details)
    if section == "channel":
        return bool(complaint.channel and complaint.received_at)
    if section == "evidence":
        return bool(complaint.evidence)
    return True


def missing_sections(complaint: Complaint) -> list[str]:
    """Required sections not yet complete, in page order (the matter is optional)."""
    return [s for s in REQUIRED_SECTIONS if not section_complete(complaint, s)]


def unmailable(client: Client | None) -> bool:
    """A record saved before intake applied the outbox's rules, which the outbox would refuse
    (registration queues the acknowledgement to this name and address)."""
    if client is None or not client.email:
        return False
    try:
        addresses.normalise_address(client.email)
    except addresses.AddressError:
        return True
    return not addresses.is_single_line(client.name)


def completeness(complaint: Complaint) -> Completeness:
    """Every section of the page, done or not, and the count of the required ones done."""
    rows = [SectionState(name, str(SECTION_LABELS[name]), section_complete(complaint, name),
                         name in REQUIRED_SECTIONS) for name in PAGE_SECTIONS]
    required = [row for row in rows if row.required]
    return Completeness(rows, sum(row.done for row in required), len(required))


def require_complete(complaint: Complaint) -> None:
    missing = missing_sections(complaint)
    if missing:
        names = join_list(SECTION_LABELS[s] for s in missing)
        raise IntakeError(_("The key points are not complete yet: %(sections)s.",
                            sections=names))
