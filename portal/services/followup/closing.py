"""Closing a complaint after follow-up: a partner records one or more root causes from the
catalogue (a cause that needs a text, "other", with its text) and the complaint moves from
follow_up to closed. It is closed as "resolved" when the latest call-back found the client
satisfied, or as "not reached" after three unanswered calls; never while the call-back is open
or an issue is open. The audit event holds ids and codes only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.i18n import client_language
from portal.models.complaint import ClosureKind, Complaint, State
from portal.models.followup import CallbackStatus, ComplaintRootCause, RootCause
from portal.models.user import Role, User
from portal.services import audit, deadlines
from portal.services.followup import callbacks, catalogue
from portal.services.followup.callbacks import FollowUpError
from portal.services.intake.errors import FieldErrors
from portal.services.triage.common import check_version

CAUSE_TEXT_MAX = 2000
CLOSURE_BY_STATUS = {CallbackStatus.SATISFIED.value: ClosureKind.RESOLVED,
                     CallbackStatus.NOT_REACHED.value: ClosureKind.NOT_REACHED}


@dataclass(frozen=True)
class Choice:
    """The causes ticked (catalogue ids) and the texts typed, by cause id."""

    cause_ids: tuple[int, ...]
    texts: Mapping[int, str]


def may_close(complaint: Complaint, user: User) -> bool:
    """A partner who may see it, while it is in follow-up (whether the call-back allows it is
    `closure_kind`'s question, answered with a message)."""
    return (complaint.state == State.FOLLOW_UP and user.has_role(Role.PARTNER)
            and complaint.can_view(user))


def closure_kind(complaint: Complaint) -> ClosureKind | None:
    """How the complaint would close now, from its latest call-back; None: not yet."""
    callback = callbacks.current(complaint)
    return CLOSURE_BY_STATUS.get(callback.status) if callback is not None else None


def why_not(complaint: Complaint) -> str:
    callback = callbacks.current(complaint)
    if callback is None:
        return _("This complaint has no call-back yet: a complaint is closed once the client "
                 "was asked whether they are satisfied.")
    if callback.status == CallbackStatus.OPEN_ISSUE:
        return _("The client raised an issue that is still open: it is dealt with as a remedy "
                 "task first.")
    return _("The call-back is still open: record the call (or wait for the survey) before "
             "closing. After three unanswered calls the complaint may be closed as not "
             "reached.")


def _causes(choice: Choice, errors: FieldErrors) -> list[tuple[RootCause, str | None]]:
    offered = {cause.id: cause for cause in catalogue.active()}
    chosen: list[tuple[RootCause, str | None]] = []
    for cause_id in dict.fromkeys(choice.cause_ids):
        cause = offered.get(cause_id)
        if cause is None:
            errors.add("causes", _("Choose root causes from the catalogue (one of those ticked "
                                   "is no longer offered): reload the page."))
            continue
        text = (choice.texts.get(cause_id) or "").replace("\x00", "").strip()
        if cause.needs_text and not text:
            errors.add(f"text-{cause_id}", _("Say what the cause “%(cause)s” was.",
                                             cause=cause.label(client_language())))
        elif len(text) > CAUSE_TEXT_MAX:
            errors.add(f"text-{cause_id}", _("At most %(max)d characters (this has "
                                             "%(count)d).", max=CAUSE_TEXT_MAX,
                                             count=len(text)))
        chosen.append((cause, text if cause.needs_text else None))
    if not choice.cause_ids:
        errors.add("causes", _("Choose at least one root cause: a complaint is closed with "
                               "what caused it."))
    return chosen


def close(actor: User, complaint: Complaint, choice: Choice, *,
          expected_version: int) -> Complaint:
    """follow_up -> closed with its root causes; resolved or not reached by the call-back."""
    callbacks.lock(complaint)
    check_version(complaint, expected_version)
    if not may_close(complaint, actor):
        raise FollowUpError(_("A partner closes a complaint once it is in follow-up; this one "
                              "is not, or you may not close it."))
    kind = closure_kind(complaint)
    if kind is None:
        raise FollowUpError(why_not(complaint))
    errors = FieldErrors()
    chosen = _causes(choice, errors)
    callbacks.refuse(errors)
    now = clock.now()
    rows = [ComplaintRootCause(complaint_id=complaint.id, root_cause_id=cause.id, text=text,
                               recorded_by_id=actor.id, recorded_at=now)
            for cause, text in chosen]
    db.session.add_all(rows)
    from_state = complaint.state
    complaint.state = State.CLOSED
    complaint.closure_kind = kind.value
    complaint.closed_at = now
    complaint.updated_at = now
    db.session.flush()
    deadlines.stop_all(complaint, now)
    callback = callbacks.current(complaint)
    audit.record("complaint.closed_after_follow_up", actor=actor, obj=complaint, details={
        "closure_kind": kind.value, "callback_id": callback.id if callback else None,
        "root_causes": [{"id": cause.id, "code": cause.code} for cause, _text in chosen],
        "from_state": from_state, "to_state": complaint.state})
    return complaint
