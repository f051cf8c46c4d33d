"""The case file's ballots area (order 40: the complaint's ballots with their count or result,
and the way to open one) and the form a partner opens a ballot with, while the complaint
awaits the committee or from a negotiation round."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, request, url_for
from flask_babel import gettext as _

from portal.models.complaint import DECISION_STATES, Complaint
from portal.models.user import Role, User
from portal.security import require, roles
from portal.services.intake.errors import IntakeError
from portal.services.resolution import ballots
from portal.web import case_file, htmx
from portal.web.ballots import bp
from portal.web.ballots.forms import NewBallotForm
from portal.web.ballots.views import LABELS, FormState
from portal.web.intake.context import actor, load, posted_version

AREA_TEMPLATE = "ballots/_area.html"
FORM_TEMPLATE = "ballots/_new_form.html"


@case_file.area("ballots", order=40, template=AREA_TEMPLATE)
def ballots_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """For committee members and partners, from the committee's stage on: the complaint's
    ballots (each links to its page), and for a partner the way to open the next one."""
    if complaint.state not in DECISION_STATES or not user.has_role(Role.COMMITTEE,
                                                                   Role.PARTNER):
        return None
    rows = ballots.summaries(complaint)
    can_open = ballots.may_open(complaint, user)
    if not rows and not can_open:
        return None
    blocked = ballots.blocked_by(complaint, ballots.latest(complaint)) if can_open else None
    return {"ballots": rows, "can_open": can_open and blocked is None, "blocked": blocked,
            "round": ballots.open_round(complaint) if can_open else None, "labels": LABELS}


# -- opening a ballot -------------------------------------------------------------------------

def _loaded(key: str) -> Complaint:
    complaint = load(key)  # 404 when hidden
    require(ballots.may_open(complaint, actor()))  # 403: not now, or not a partner's to do
    return complaint


def _context(complaint: Complaint, form: NewBallotForm, version: int,
             state: FormState | None = None) -> dict[str, Any]:
    matter = complaint.matter
    return {
        "complaint": complaint, "form": form, "version": version, "state": state or FormState(),
        "blocked": ballots.blocked_by(complaint, ballots.latest(complaint)),
        "round": ballots.open_round(complaint),
        "fees_paid": matter.fees_paid if matter is not None else None,
        "currency": matter.fees_currency if matter is not None else None,
        "money": ballots.format_money, "proposals_max": ballots.PROPOSALS_MAX,
        "reminder_hours": current_app.config.get("BALLOT_REMINDER_HOURS", 24),
    }


def _form_answer(complaint: Complaint, form: NewBallotForm, version: int,
                 state: FormState | None = None, status: int = 200) -> Response:
    return htmx.page_or_partial("ballots/new.html", FORM_TEMPLATE, status=status,
                                **_context(complaint, form, version, state))


def _fields_by_name(form: NewBallotForm) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for item in form:
        if item.type == "FieldList":
            for entry in item:
                fields.update({sub.name: sub for sub in entry})
        else:
            fields[item.name] = item
    return fields


def _attach(form: NewBallotForm, error: IntakeError) -> None:
    fields = _fields_by_name(form)
    for name, messages in error.errors.items():
        target = fields.get(name)
        if target is not None:
            target.errors = [*target.errors, *messages]
        else:
            form.form_errors.extend(messages)


@bp.route("/complaints/<key>/ballots/new", methods=["GET", "POST"])
@roles(Role.PARTNER)
def new(key: str):
    complaint = _loaded(key)
    if request.method == "GET":
        return _form_answer(complaint, NewBallotForm.fresh(), complaint.version)
    form = NewBallotForm()
    version = posted_version()
    if request.form.get("add_proposal"):  # another blank proposal; nothing is saved
        if len(form.proposals) < ballots.PROPOSALS_MAX:
            form.proposals.append_entry()
        return _form_answer(complaint, form, version)
    if request.form.get("remove_proposal"):
        if len(form.proposals) > 1:
            form.proposals.pop_entry()
        return _form_answer(complaint, form, version)
    if not form.validate_on_submit():
        return _form_answer(complaint, form, version, status=422)

    def done(ballot) -> Response:
        flash(_("The ballot is open. The eligible members are told by email and vote on its "
                "page."), "ok")
        return htmx.redirect(url_for("ballots.show", ballot_id=ballot.id))

    def refused(error: IntakeError, status: int) -> Response:
        state = FormState(stale=status == 409)
        if error.errors and status != 409:
            _attach(form, error)
        else:
            state.error = error.message
        return _form_answer(complaint, form, version, state, status)

    return htmx.write(
        lambda: ballots.open_ballot(actor(), complaint, form.data_input(),
                                    expected_version=version),
        done=done, refused=refused)

