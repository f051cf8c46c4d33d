"""The follow-up area of the case file (`templates/followup/_area.html`, root id
`area-followup`): from the first call-back on (and on every complaint in follow-up or closed),
for whoever sees the decision materials, the handler and the call-backs' owners. Each call-back
shows its owner, due date, the survey, the calls and the result; the owner, the handler or a
partner records a call; a partner closes the complaint with its root causes once the call-back
allows it; a closed complaint shows how it closed and its root causes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from portal import clock
from portal.i18n import client_language
from portal.models.complaint import CLOSURE_LABELS, ClosureKind, Complaint, State
from portal.models.followup import CALLBACK_STATUS_LABELS, Callback
from portal.models.user import User
from portal.services.followup import callbacks, catalogue, closing
from portal.web import case_file
from portal.web.decision.common import FormState, overrides

AREA = "followup"
TEMPLATE = "followup/_area.html"
# Where a call-back may exist: follow-up, back in the remedies with an issue, after.
AFTER_REMEDIES = (State.REMEDIES_IN_PROGRESS, State.FOLLOW_UP, State.CLOSED, State.WITHDRAWN)
FOLLOW_UP_CLOSURES = (ClosureKind.RESOLVED, ClosureKind.NOT_REACHED)
METHOD_LABELS = {callbacks.Method.PHONE.value: _l("By phone"),
                 callbacks.Method.SURVEY.value: _l("Survey on the client's page")}


@dataclass
class CallbackView:
    callback: Callback
    survey: str
    due_now: bool  # open and due today or earlier


def _view(callback: Callback) -> CallbackView:
    return CallbackView(callback, callbacks.survey_words(callback),
                        callback.is_open and callback.due <= clock.today())


@case_file.area(AREA, order=90, template=TEMPLATE)
def followup_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    if complaint.state not in AFTER_REMEDIES or (
            complaint.state == State.CLOSED and complaint.closure_kind not in FOLLOW_UP_CLOSURES):
        return None  # no call-back yet (and no query for it): earlier, or closed at triage
    rows = callbacks.history(complaint)
    if not rows and complaint.state != State.FOLLOW_UP:
        return None
    if not callbacks.may_see(complaint, user, rows):
        return None
    shown = overrides(AREA)
    latest = rows[-1] if rows else None
    may_close = closing.may_close(complaint, user)
    kind = closing.closure_kind(complaint) if may_close else None
    closed = complaint.state == State.CLOSED
    return {
        "callbacks": [_view(c) for c in reversed(rows)],
        "latest": latest,
        "can_call": latest is not None and callbacks.may_record(complaint, latest, user),
        "call": shown.get("call") or FormState(version=latest.version if latest else None),
        "can_close": kind is not None,
        "closure_kind": kind,
        "close_blocked": closing.why_not(complaint) if may_close and kind is None else None,
        "close": shown.get("close") or FormState(version=complaint.version),
        "causes": catalogue.active() if kind is not None else [],
        "recorded_causes": list(complaint.root_causes) if closed else [],
        "closed": closed,
        "lang": client_language(),
        "labels": {"status": CALLBACK_STATUS_LABELS, "closure": CLOSURE_LABELS,
                   "method": METHOD_LABELS},
        "attempts_limit": callbacks.CALL_ATTEMPTS,
        "text_max": callbacks.TEXT_MAX,
        "note": shown.get("note"),
    }
