"""The client's answer on the case file (area "client_answer", order 60): whether the outcome
waits for the client's answer and until when, the form to record an answer the client gave by
phone, by post or in person (intake staff and partners), "no answer" once the day it was due
has passed (partners), and every answer on record with the negotiation round a dispute opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, flash, request
from flask_babel import gettext as _

from portal import clock
from portal.models.complaint import DECISION_STATES, Complaint
from portal.models.resolution import ANSWER_LABELS, ANSWER_METHOD_LABELS
from portal.models.user import Role, User
from portal.security import roles
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.resolution import answers
from portal.web import case_file, htmx
from portal.web.findings.common import CHANGED, area_answer, override, overrides
from portal.web.intake.context import actor, load, posted_version

bp = Blueprint("client_answers", __name__)

AREA = "client_answer"
TEMPLATE = "client_answers/_area.html"


@dataclass
class FormState:
    """A form shown again: what was typed, the messages beside the fields and above it, and
    the version it was loaded with."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: str | None = None
    error: str | None = None
    version: int | None = None

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def refused(self, error: Exception) -> FormState:
        if isinstance(error, ConflictError):
            self.conflict = error.message
        elif isinstance(error, IntakeError) and error.errors:
            for name, messages in error.errors.items():
                self.errors.setdefault(name, []).extend(messages)
        else:
            self.error = str(error)
        return self


def _sees(complaint: Complaint, user: User) -> bool:
    return complaint.can_see_decision_materials(user) or (
        user.has_role(Role.RECEPTIONIST, Role.PARTNER) and complaint.can_view(user))


@case_file.area(AREA, order=60, template=TEMPLATE)
def client_answer_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """From the first outcome notice on, for intake staff and whoever sees the decision."""
    if complaint.state not in DECISION_STATES or not _sees(complaint, user):
        return None
    if not any(d.notice_id is not None for d in complaint.decisions):
        return None
    today = clock.today()
    waiting = answers.waiting_decision(complaint)
    shown = overrides(AREA)
    numbers = {d.id: d.number for d in complaint.decisions}
    rounds = answers.rounds_by_answer(complaint)
    return {
        "waiting": waiting,
        "overdue": answers.no_answer_due(complaint, today),
        "can_record": waiting is not None and complaint.can_record_client_answer(user),
        "can_record_none": answers.may_record_no_answer(user, complaint, today),
        "record": shown.get("record") or FormState(version=complaint.version),
        "none": shown.get("none") or FormState(version=complaint.version),
        "history": [{"answer": a, "decision_number": numbers.get(a.decision_id),
                     "round": rounds.get(a.id)} for a in answers.answers(complaint)],
        "note": shown.get("note"),
        "kind_labels": ANSWER_LABELS,
        "method_labels": ANSWER_METHOD_LABELS,
        "staff_methods": answers.STAFF_METHODS,
        "reason_max": answers.REASON_MAX,
    }


def _respond(complaint: Complaint, status: int = 200) -> Response:
    return area_answer(TEMPLATE, client_answer_area, complaint, status=status,
                       trigger=CHANGED if status == 200 else None, redirect=status == 200)


def _decision_id() -> int | None:
    raw = request.form.get("decision", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _written(complaint: Complaint, slot: str, state: FormState, message: str, change):
    def done(_answer) -> Response:
        override(AREA, note=message)
        if not htmx.wants_fragment():
            flash(message, "ok")
        return _respond(complaint)

    def refused(error: Exception, status: int) -> Response:
        override(AREA, **{slot: state.refused(error)})
        return _respond(complaint, status)

    return htmx.write(change, done=done, refused=refused)


@bp.route("/complaints/<key>/client-answer", methods=["POST"])
@roles(Role.RECEPTIONIST, Role.PARTNER)
def record(key: str):
    complaint = load(key)
    state = FormState(version=posted_version(), values={
        name: request.form.get(name, "") for name in ("kind", "method", "reason")})
    decision_id = _decision_id()
    message = (_("The client's acceptance is recorded.")
               if state.values["kind"] == "accepted" else
               _("The client's dispute is recorded and a negotiation round is open."))
    return _written(complaint, "record", state, message, lambda: answers.record_for_client(
        actor(), complaint, decision_id=decision_id, kind=state.values["kind"],
        method=state.values["method"], reason=state.values["reason"],
        expected_version=state.version))


@bp.route("/complaints/<key>/client-answer/none", methods=["POST"])
@roles(Role.PARTNER)
def no_answer(key: str):
    complaint = load(key)
    state = FormState(version=posted_version())
    decision_id = _decision_id()
    return _written(
        complaint, "none", state,
        _("“No answer” is recorded: the decision stands and the remedies can start."),
        lambda: answers.record_no_answer(actor(), complaint, decision_id=decision_id,
                                         expected_version=state.version))
