"""The decision area of the case file: the decision recorded from the committee's adopted
proposal, the outcome notices, the negotiation rounds (negotiation.py) and the matter's fees.
Whoever may see the decision materials reads it; internal measures are shown to partners
only; partners act."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, current_app, flash, request
from flask_babel import gettext as _
from sqlalchemy import select

from portal.db import db
from portal.i18n import client_language
from portal.locales import html_lang
from portal.models.complaint import DECISION_STATES, Complaint, State
from portal.models.outbox import OutboxMessage
from portal.models.resolution import (
    DISCIPLINARY_LEVEL_LABELS,
    REFUNDS,
    REMEDY_KIND_LABELS,
    DecidedRemedy,
    Decision,
    RemedyKind,
)
from portal.models.user import Role, User
from portal.security import roles
from portal.services import postal
from portal.services.intake.errors import IntakeError
from portal.services.resolution import decisions, money, outcome, recourse
from portal.services.resolution.common import ResolutionError, StaleVersion
from portal.web import case_file, htmx
from portal.web.decision import bp
from portal.web.decision.common import (
    FormState,
    answer,
    override,
    overrides,
    posted_date,
    refused_state,
    text,
)
from portal.web.intake.context import actor, load, posted_version
from portal.web.intake.timeline import MAIL_STATUS_LABELS

AREA = "decision"
TEMPLATE = "decision/_area.html"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


@dataclass
class DecisionView:
    decision: Decision
    remedies: list[DecidedRemedy]  # internal measures only for partners
    refund_total: Any
    round_number: int | None = None


def visible_remedies(remedies: list, partner_view: bool) -> list:
    return list(remedies) if partner_view else [r for r in remedies if not r.is_internal]


def _decision_views(complaint: Complaint, partner_view: bool, rounds: list) -> list:
    revised_in = {r.revised_decision_id: r.number for r in rounds if r.revised_decision_id}
    return [DecisionView(d, visible_remedies(d.remedies, partner_view),
                         money.refund_total(d.remedies), revised_in.get(d.id))
            for d in complaint.decisions]


def _fees(complaint: Complaint, user: User) -> dict | None:
    matter = complaint.matter
    if matter is None:
        return None
    try:
        room = money.refund_room(complaint)
    except ResolutionError:
        room = None
    return {"matter": matter, "room": room,
            "editable": user.has_role(Role.PARTNER) and complaint.can_view(user)}


def _notices(complaint: Complaint) -> list[dict]:
    """The outcome notices, newest last, each with its email's delivery status."""
    stored = outcome.outcome_notices(complaint)
    if not stored:
        return []
    messages = {}
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id,
            OutboxMessage.kind == outcome.MAIL_KIND).order_by(OutboxMessage.id)):
        for spec in message.attachments or []:
            if spec.get("notice_id"):
                messages[spec["notice_id"]] = message
    return [{"notice": n, "mail": messages.get(n.id),
             "mail_status": MAIL_STATUS_LABELS.get(messages[n.id].status)
             if n.id in messages else None} for n in stored]


def _decide(complaint: Complaint, user: User, shown: dict) -> dict | None:
    if complaint.state != State.AWAITING_DECISION or not complaint.can_decide(user):
        return None
    try:
        ballot, proposal = decisions.basis(complaint)
    except ResolutionError as error:
        return {"waiting": error.message}
    return {"ballot": ballot, "proposal": proposal,
            "state": shown.get("decide") or FormState(version=complaint.version)}


def _issue(complaint: Complaint, user: User, shown: dict) -> dict | None:
    if not complaint.can_issue_outcome(user):
        return None
    jurisdiction = recourse.jurisdiction_of(complaint)
    return {"jurisdiction": jurisdiction,
            "missing": recourse.missing_languages(jurisdiction),
            "delivery": postal.delivery_for(complaint),
            "address": postal.postal_address(complaint),
            "client": complaint.complainant,
            "revised": len(complaint.decisions) > 1,
            "state": shown.get("issue") or FormState(version=complaint.version)}


@case_file.area(AREA, order=50, template=TEMPLATE)
def decision_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """From awaiting_decision on, for whoever may see the decision materials."""
    if complaint.state not in DECISION_STATES or not complaint.can_see_decision_materials(user):
        return None
    from portal.web.decision.negotiation import negotiation_context

    partner_view = complaint.can_see_internal_measures(user)
    shown = overrides(AREA)
    rounds = decisions.rounds(complaint)
    fees = _fees(complaint, user)
    matter = complaint.matter
    return {
        "partner_view": partner_view,
        "decisions": _decision_views(complaint, partner_view, rounds),
        "decide": _decide(complaint, user, shown),
        "issue": _issue(complaint, user, shown),
        "notices": _notices(complaint),
        "fees": fees,
        "fees_state": shown.get("fees") or FormState(
            version=matter.version if matter else None),
        "negotiation": negotiation_context(complaint, user, rounds, shown),
        "note": shown.get("note"),
        "labels": {"kind": REMEDY_KIND_LABELS, "level": DISCIPLINARY_LEVEL_LABELS},
        "refunds": REFUNDS,
        "kinds": RemedyKind,
        "client_lang": complaint.language or "zh",
        "client_lang_tag": html_lang(complaint.language or "zh"),
        "client_lang_name": LANGUAGE_NAMES.get(complaint.language or "zh", ""),
        "lang": client_language(),
        "is_partner": user.has_role(Role.PARTNER),
    }


def loaded(key: str) -> Complaint:
    """The complaint, if the viewer may see its decision materials (404 otherwise)."""
    complaint = load(key)
    if not complaint.can_see_decision_materials(actor()):
        abort(404)
    return complaint


def respond(complaint: Complaint, status: int = 200) -> Response:
    return answer(TEMPLATE, decision_area, complaint, status)


def refusal(complaint: Complaint, slot: str, state: FormState):
    def refused(error: Exception, status: int) -> Response:
        override(AREA, **{slot: refused_state(state, error)})
        return respond(complaint, status)
    return refused


def succeeded(complaint: Complaint, message: str):
    def done(_result) -> Response:
        override(AREA, note=message)
        if not htmx.wants_fragment():
            flash(message, "ok")
        return respond(complaint)
    return done


# -- recording the decision ------------------------------------------------------------------

@bp.route("/complaints/<key>/decision", methods=["POST"])
@roles(Role.PARTNER)
def record(key: str):
    complaint = loaded(key)
    state = FormState(version=posted_version())
    summary = text("client_summary")
    state.values["client_summary"] = summary
    try:
        proposal_id = int(text("proposal_id"))
    except ValueError:
        proposal_id = -1
    due = {}
    for name in request.form:
        if name.startswith("due-") and name[4:].isdigit():
            due[int(name[4:])] = posted_date(name, state)
    if state.errors:
        override(AREA, decide=state)
        return respond(complaint, 422)
    return htmx.write(
        lambda: decisions.record(actor(), complaint, proposal_id=proposal_id, due=due,
                                 client_summary=summary, expected_version=state.version),
        done=succeeded(complaint, _("The decision is recorded. Issue the outcome notice to tell "
                                "the client.")),
        refused=refusal(complaint, "decide", state))


# -- the outcome notice ---------------------------------------------------------------------

@bp.route("/complaints/<key>/outcome", methods=["POST"])
@roles(Role.PARTNER)
def issue(key: str):
    """Read the facts, render the notice with no transaction open, then store and send it
    in one write (services/resolution/outcome.py)."""
    complaint = loaded(key)
    state = FormState(version=posted_version())
    try:
        if state.version != complaint.version:
            raise StaleVersion()
        read = outcome.prepare(actor(), complaint)
    except IntakeError as error:
        override(AREA, issue=refused_state(state, error))
        return respond(complaint, htmx.refusal_status(error) or 422)
    db.session.commit()  # end the read: no transaction stays open while the PDF renders
    prepared = outcome.render_notice(read, current_app.config)
    message = (_("The outcome notice is issued and will be emailed to the client with the "
                 "link to their page.") if read.delivery == postal.EMAIL else
               _("The outcome notice is issued for post: print it from “Notices to post” "
                 "and record the day it is posted."))
    return htmx.write(
        lambda: outcome.issue(actor(), complaint, prepared, expected_version=state.version),
        done=succeeded(complaint, message), refused=refusal(complaint, "issue", state))


# -- the fees on the matter -----------------------------------------------------------------

@bp.route("/complaints/<key>/matter-fees", methods=["POST"])
@roles(Role.PARTNER)
def fees(key: str):
    complaint = loaded(key)
    matter = complaint.matter
    if matter is None:
        abort(404)
    state = FormState(version=posted_version())
    data = money.FeesInput(text("fees_agreed"), text("fees_paid"), text("currency"))
    state.values.update(fees_agreed=data.fees_agreed, fees_paid=data.fees_paid,
                        currency=data.currency)
    return htmx.write(
        lambda: money.set_fees(actor(), matter, data, expected_version=state.version),
        done=succeeded(complaint, _("The fees on matter %(matter)s are saved.",
                                matter=matter.reference)),
        refused=refusal(complaint, "fees", state))
