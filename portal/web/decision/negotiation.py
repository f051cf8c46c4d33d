"""Negotiation rounds in the decision area: the partner records the discussion with the client
(disputed -> negotiation), then revises the decision within the last ballot's limits
(-> decided, and a revised outcome notice is issued). Opening a new ballot from a round is
the ballot area's."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.models.complaint import Complaint, State
from portal.models.resolution import INTERNAL_REMEDIES, RemedyKind
from portal.models.user import Role, User
from portal.security import roles
from portal.services.resolution import decisions
from portal.web import htmx
from portal.web.decision import bp
from portal.web.decision.area import AREA, loaded, refusal, respond, succeeded
from portal.web.decision.common import FormState, override, posted_date, text
from portal.web.intake.context import actor, posted_version

ADDABLE = [k for k in RemedyKind if k not in INTERNAL_REMEDIES]


def negotiation_context(complaint: Complaint, user: User, rounds: list,
                        shown: dict) -> dict[str, Any] | None:
    if not rounds and complaint.state not in (State.DISPUTED, State.NEGOTIATION):
        return None
    current = decisions.open_round(complaint)
    may = complaint.can_decide(user) and current is not None
    can_discuss = may and complaint.state in (State.DISPUTED, State.NEGOTIATION)
    can_revise = (may and complaint.state == State.NEGOTIATION
                  and bool(current and current.discussion))
    ballot = decisions.latest_ballot(complaint) if can_revise else None
    decision = complaint.current_decision
    return {
        "rounds": rounds,
        "open": current,
        "can_discuss": can_discuss,
        "discussion": shown.get("discussion") or FormState(
            values={"discussion": (current.discussion or "") if current else ""},
            version=complaint.version),
        "can_revise": can_revise,
        "revision": shown.get("revision") or FormState(
            values={"client_summary": decision.client_summary if decision else ""},
            version=complaint.version),
        "client_remedies": decision.client_remedies if decision and can_revise else [],
        "limit": decisions.revision_limit(complaint, ballot) if can_revise else None,
        "ballot": ballot,
        "addable": ADDABLE,
    }


@bp.route("/complaints/<key>/negotiation/discussion", methods=["POST"])
@roles(Role.PARTNER)
def discussion(key: str):
    complaint = loaded(key)
    state = FormState(version=posted_version(), values={"discussion": text("discussion")})
    return htmx.write(
        lambda: decisions.record_discussion(actor(), complaint,
                                            discussion=state.values["discussion"],
                                            expected_version=state.version),
        done=succeeded(complaint, _("The discussion is recorded.")),
        refused=refusal(complaint, "discussion", state))


def _revision(state: FormState) -> decisions.Revision:
    from flask import request

    remedies = []
    for raw in request.form.getlist("remedy_id"):
        if not raw.isdigit():
            continue
        name = f"remedy-{raw}"
        keep = bool(text(f"{name}-keep"))
        state.values[f"{name}-keep"] = "1" if keep else ""
        for part in ("amount", "scope"):
            state.values[f"{name}-{part}"] = text(f"{name}-{part}")
        remedies.append(decisions.RevisedRemedy(
            remedy_id=int(raw), keep=keep, amount=state.values[f"{name}-amount"],
            scope=state.values[f"{name}-scope"], due=posted_date(f"{name}-due", state)))
    for part in ("kind", "amount", "scope"):
        state.values[f"added-{part}"] = text(f"added-{part}")
    added = decisions.AddedRemedy(kind=state.values["added-kind"],
                                  amount=state.values["added-amount"],
                                  scope=state.values["added-scope"],
                                  due=posted_date("added-due", state))
    state.values["reason"] = text("reason")
    state.values["client_summary"] = text("client_summary")
    return decisions.Revision(remedies=remedies, added=added, reason=state.values["reason"],
                              client_summary=state.values["client_summary"])


@bp.route("/complaints/<key>/negotiation/revision", methods=["POST"])
@roles(Role.PARTNER)
def revise(key: str):
    complaint = loaded(key)
    state = FormState(version=posted_version())
    revision = _revision(state)
    if state.errors:
        override(AREA, revision=state)
        return respond(complaint, 422)
    return htmx.write(
        lambda: decisions.revise(actor(), complaint, revision, expected_version=state.version),
        done=succeeded(complaint, _("The decision is revised. Issue the revised outcome notice to "
                                "tell the client.")),
        refused=refusal(complaint, "revision", state))
