"""The follow-up area's actions. Each loads the complaint through the visibility rule and the
call-back as the viewer may see it (404 otherwise), reads the form (422 with what was typed),
then runs one service in `htmx.write`: 409 when the page was loaded before someone else changed
the call-back or the complaint. A change of state (an open issue back to the remedies, the
closing) reloads the case file; the rest answers the area."""

from __future__ import annotations

from flask import Response, abort, flash, request
from flask_babel import gettext as _

from portal.models.complaint import Complaint, State
from portal.models.followup import Callback, CallbackStatus
from portal.models.user import Role
from portal.security import require, roles
from portal.services.followup import callbacks, closing
from portal.web import htmx
from portal.web.decision.common import FormState, area_answer, override, refused_state
from portal.web.findings.common import ALL_STAFF, CHANGED
from portal.web.followup import bp
from portal.web.followup.area import AREA, TEMPLATE, followup_area
from portal.web.intake.context import actor, load, posted_version, show_url

ANCHOR = "area-followup"


def _respond(complaint: Complaint, status: int = 200) -> Response:
    return area_answer(TEMPLATE, followup_area, complaint, status=status,
                       trigger=CHANGED if status == 200 else None, redirect=status == 200)


def _moved(complaint: Complaint, message: str) -> Response:
    """The complaint changed state: the whole case file is shown again."""
    flash(message, "ok")
    return htmx.redirect(show_url(complaint, ANCHOR))


def _noted(complaint: Complaint, message: str) -> Response:
    override(AREA, note=message)
    if not htmx.wants_fragment():
        flash(message, "ok")
    return _respond(complaint)


def _refusal(complaint: Complaint, slot: str, state: FormState):
    def answer(error: Exception, status: int) -> Response:
        override(AREA, **{slot: refused_state(state, error)})
        return _respond(complaint, status)
    return answer


def _callback(complaint: Complaint, callback_id: int) -> Callback:
    """The call-back, if the viewer may see the follow-up (404 otherwise)."""
    rows = callbacks.history(complaint)
    callback = next((c for c in rows if c.id == callback_id), None)
    if callback is None or not callbacks.may_see(complaint, actor(), rows):
        abort(404)
    return callback


def _posted(state: FormState, name: str) -> str:
    value = request.form.get(name, "")
    state.values[name] = value
    return value


def _reached(raw: str) -> bool | None:
    return {"yes": True, "no": False}.get(raw)


def _score(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 3 else None


@bp.route("/complaints/<key>/follow-up/<int:callback_id>/call", methods=["POST"])
@roles(*ALL_STAFF)
def record_call(key: str, callback_id: int):
    complaint = load(key)
    callback = _callback(complaint, callback_id)
    user = actor()
    require(callback.owner_id == user.id or complaint.handles(user)
            or user.has_role(Role.PARTNER))
    state = FormState(version=posted_version())
    call = callbacks.Call(reached=_reached(_posted(state, "reached")),
                          satisfaction=_score(_posted(state, "satisfaction")),
                          open_issue=_posted(state, "open_issue"),
                          notes=_posted(state, "notes"))

    def done(saved: Callback) -> Response:
        if complaint.state == State.REMEDIES_IN_PROGRESS:
            return _moved(complaint, _("The client's open issue is recorded: the complaint "
                                       "goes back to the remedies with a new task for it."))
        if saved.status == CallbackStatus.SATISFIED:
            return _noted(complaint, _("The call is recorded: the client is satisfied, and a "
                                       "partner may now close the complaint."))
        if saved.status == CallbackStatus.NOT_REACHED:
            return _noted(complaint, _("Third unanswered call recorded: a partner may close "
                                       "the complaint as not reached."))
        return _noted(complaint, _("The unanswered call is recorded."))

    return htmx.write(
        lambda: callbacks.record_call(user, complaint, callback.id, call,
                                      expected_version=state.version),
        done=done, refused=_refusal(complaint, "call", state))


@bp.route("/complaints/<key>/follow-up/close", methods=["POST"])
@roles(Role.PARTNER)
def close(key: str):
    complaint = load(key)
    state = FormState(version=posted_version())
    ids = [int(v) for v in request.form.getlist("cause") if v.isdigit() and len(v) < 10]
    state.values["causes"] = ",".join(str(i) for i in ids)
    texts: dict[int, str] = {}
    for name in request.form:
        suffix = name.removeprefix("text-")
        if suffix != name and suffix.isdigit() and len(suffix) < 10:
            texts[int(suffix)] = _posted(state, name)
    choice = closing.Choice(tuple(ids), texts)

    def done(saved: Complaint) -> Response:
        return _moved(complaint, _("The complaint is closed with its root causes."))

    return htmx.write(
        lambda: closing.close(actor(), complaint, choice, expected_version=state.version),
        done=done, refused=_refusal(complaint, "close", state))
