"""The client's page, behind the signed link sent with every notice: no login, CSRF kept.

GET /c/<token> shows, in the client's language (or the one they switch to), where the
complaint stands in plain words, the next date the client is waiting for, the decision as a
client may see it (never an internal measure), every notice sent to them as PDF downloads and,
while the outcome waits for their answer, the form to accept it or say why they are not
satisfied. A GET changes nothing but the audit trail, written after the page is rendered, so a
mail scanner following the link does no harm. An expired or revoked link answers 410, a forged
or mangled one 404: a page in both languages that changes nothing. /c/lost asks for a new
link (services/resolution/lost_link.py). Plain forms: the page works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.formatting import format_day
from portal.i18n import current_locale
from portal.locales import both_first, locale_of
from portal.models.complaint import Complaint, State
from portal.models.deadline import DeadlineKind
from portal.models.notice import Notice
from portal.models.resolution import (
    ANSWER_METHOD_LABELS,
    REMEDY_KIND_LABELS,
    AnswerKind,
    Decision,
    RemedyTask,
)
from portal.request_bodies import (
    body_too_large,
    had_nul_bytes,
    shows_nul_bytes,
    shows_oversize_body,
)
from portal.security import csrf_failed, public, shows_csrf_failure
from portal.services import notices, public_intake
from portal.services.audit_alone import record_alone
from portal.services.followup import survey
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.resolution import answers, client_link, lost_link
from portal.services.resolution.client_link import ClientLinkStatus
from portal.web import downloads, htmx

bp = Blueprint("client_page", __name__)

# What a client receives; anything else stored as a notice (the investigation report) is staff's.
CLIENT_NOTICE_KINDS = ("acknowledgement", "progress", "outcome", "completion", "apology")
STATUS_CODES = {ClientLinkStatus.EXPIRED: 410, ClientLinkStatus.REVOKED: 410,
                ClientLinkStatus.INVALID: 404}
REFERENCE_MAX, EMAIL_MAX = 40, 254

NOTICE_LABELS = {
    "acknowledgement": _l("Acknowledgement of your complaint"),
    "progress": _l("Progress notice"),
    "outcome": _l("Outcome notice"),
    "completion": _l("Completion notice"),
    "apology": _l("Letter of apology"),
}

STATUS_WORDS = {
    State.REGISTERED: (_l("Registered"), _l(
        "We have registered your complaint. The person handling it will contact you.")),
    State.TRIAGED: (_l("Being looked into"), _l(
        "We are looking into your complaint and will tell you how it will be handled.")),
    State.INVESTIGATING: (_l("Being investigated"), _l(
        "We are investigating your complaint: we are going through the file and talking to "
        "the people involved.")),
    State.AWAITING_DECISION: (_l("Being decided"), _l(
        "The investigation is finished. The firm's complaints committee is deciding what to "
        "do about your complaint.")),
    State.DECIDED: (_l("Decided"), _l(
        "A decision has been made. We will send you the outcome notice shortly.")),
    State.OUTCOME_SENT: (_l("Waiting for your answer"), _l(
        "We have sent you our decision. Please tell us whether you accept it.")),
    State.ACCEPTED: (_l("Accepted"), _l(
        "You accepted our decision. We will now carry out what it says.")),
    State.DISPUTED: (_l("Not satisfied"), _l(
        "You told us you are not satisfied with our decision. We will contact you to "
        "discuss it.")),
    State.NEGOTIATION: (_l("In discussion"), _l(
        "We are discussing our decision with you. We will tell you what happens next.")),
    State.REMEDIES_IN_PROGRESS: (_l("Being carried out"), _l(
        "We are carrying out what our decision says.")),
    State.FOLLOW_UP: (_l("Carried out"), _l(
        "What our decision says has been carried out. We will check with you that "
        "everything is in order.")),
    State.CLOSED: (_l("Closed"), _l("Your complaint is closed.")),
    State.WITHDRAWN: (_l("Withdrawn"), _l(
        "You withdrew your complaint, and we have stopped handling it.")),
}
EARLY_STATES = (State.REGISTERED, State.TRIAGED, State.INVESTIGATING,
                State.AWAITING_DECISION, State.DECIDED)


@dataclass
class AnswerForm:
    """The answer form as typed, with the messages beside its fields and above it."""

    kind: str = ""
    reason: str = ""
    decision_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str | None = None

    @classmethod
    def posted(cls) -> AnswerForm:
        raw = request.form.get("decision", "")
        return cls(kind=request.form.get("kind", ""),
                   reason=request.form.get("reason", "").replace("\x00", ""),
                   decision_id=int(raw) if raw.isdigit() and len(raw) < 10 else None)

    def refused(self, error: Exception) -> None:
        if isinstance(error, IntakeError) and error.errors and not isinstance(
                error, ConflictError):
            for name, messages in error.errors.items():
                self.errors.setdefault(name, []).extend(messages)
        else:
            self.message = str(error)


# -- the locale, the unavailable page, the audit ----------------------------------------------

def page_locale(complaint: Complaint) -> str:
    """The language the visitor chose with the switch, else the complaint's."""
    chosen = session.get("locale")
    return chosen if chosen in current_app.config["LANGUAGES"] else locale_of(complaint.language)


def _messages(status: ClientLinkStatus) -> tuple[str, str]:
    if status is ClientLinkStatus.EXPIRED:
        return _("This link has expired"), _(
            "For your security the link to your complaint's page works for a limited time "
            "only. You can ask for a new one below, or contact us.")
    if status is ClientLinkStatus.REVOKED:
        return _("This link has been replaced"), _(
            "A newer link to your complaint's page was sent to you, and this one no longer "
            "works. Please use the most recent email, ask for a new link below, or contact us.")
    return _("This link is not valid"), _(
        "The link is incomplete or has been altered. Please open it again from the email or "
        "letter we sent you, or copy the whole address into your browser.")


def unavailable(status: ClientLinkStatus) -> Response:
    """The explanation in both languages (the visitor's first), with 410 or 404."""
    config = current_app.config
    locales = both_first(current_locale())
    blocks = []
    for locale in locales:
        with force_locale(locale):
            title, message = _messages(status)
            blocks.append({"locale": locale, "title": title, "message": message,
                           "ask": _("Ask for a new link"),
                           "contact": _("Contact: %(email)s, %(phone)s",
                                        email=config["FIRM_COMPLAINTS_EMAIL"],
                                        phone=config["FIRM_PHONE"])})
    with force_locale(locales[0]):
        html = render_template("client/unavailable.html", blocks=blocks,
                               offer_new=status is not ClientLinkStatus.INVALID)
    return make_response(html, STATUS_CODES[status])


def _viewed(complaint_id: int, details: dict) -> None:
    """The audit row of a view, in its own short write after the page was rendered."""
    record_alone("complaint.viewed", actor_label="client", object_type="complaint",
                 object_id=complaint_id, details=details)


def _checked(token: str) -> tuple[Complaint | None, ClientLinkStatus]:
    status, complaint = client_link.check(token)
    return (complaint if status is ClientLinkStatus.VALID else None), status


# -- what the page shows ---------------------------------------------------------------------

def _issued(complaint: Complaint) -> list[Decision]:
    """The decisions whose outcome notice went out: the only ones a client has seen."""
    return [d for d in complaint.decisions if d.notice_id is not None]


def _status(complaint: Complaint, shown: Decision | None) -> tuple[str, str]:
    title, words = STATUS_WORDS.get(complaint.state, (complaint.state, ""))
    answer = shown.answer if shown is not None else None
    if (complaint.state in (State.ACCEPTED, State.REMEDIES_IN_PROGRESS) and answer is not None
            and answer.kind == AnswerKind.NO_ANSWER):
        return str(title), _("We did not hear from you by %(day)s, so we are carrying out "
                             "our decision.", day=_day(shown.answer_due))
    return str(title), str(words)


def _day(day: date | None) -> str:
    return format_day(day, "long")


def _remedy_due(decision: Decision | None) -> date | None:
    """The earliest day by which a remedy still to be carried out for the client is due."""
    if decision is None:
        return None
    remedies = decision.client_remedies
    tasks = {t.remedy_id: t for t in db.session.scalars(select(RemedyTask).where(
        RemedyTask.remedy_id.in_([r.id for r in remedies])))} if remedies else {}
    days = [(tasks[r.id].due if r.id in tasks else r.due) for r in remedies
            if r.id not in tasks or not tasks[r.id].is_done]
    return min(days) if days else None


def next_date(complaint: Complaint, shown: Decision | None) -> tuple[str, date] | None:
    """What the client waits for next, and by when."""
    state = complaint.state
    if state == State.OUTCOME_SENT and shown is not None and shown.answer is None:
        return (_("Please answer by"), shown.answer_due) if shown.answer_due else None
    if state in EARLY_STATES:
        first = complaint.deadline(DeadlineKind.FIRST_RESPONSE)
        if first is not None and first.is_running:
            return _("We will contact you by"), first.due
        final = complaint.deadline(DeadlineKind.FINAL_RESPONSE)
        if final is not None and final.is_running and complaint.open_pause is None:
            return _("Our decision is due by"), final.due
        return None
    if state in (State.ACCEPTED, State.REMEDIES_IN_PROGRESS):
        due = _remedy_due(complaint.current_decision)
        return (_("The next remedy is due by"), due) if due else None
    return None


def client_notices(complaint: Complaint) -> list[Notice]:
    return list(db.session.scalars(
        select(Notice).where(Notice.complaint_id == complaint.id,
                             Notice.kind.in_(CLIENT_NOTICE_KINDS))
        .order_by(Notice.created_at, Notice.id)))


def page_context(complaint: Complaint, token: str, form: AnswerForm | None = None
                 ) -> dict[str, Any]:
    issued = _issued(complaint)
    shown = issued[-1] if issued else None
    waiting = answers.waiting_decision(complaint)
    title, words = _status(complaint, shown)
    return {
        "complaint": complaint,
        "reference": complaint.reference,
        "token": token,
        "status_title": title,
        "status_words": words,
        "next": next_date(complaint, shown),
        "decision": shown,
        "remedies": shown.client_remedies if shown is not None else [],
        "answered": [d for d in issued if d.answer is not None],
        "waiting": waiting,
        "form": form or (AnswerForm(decision_id=waiting.id) if waiting else None),
        "notices": client_notices(complaint),
        "notice_labels": NOTICE_LABELS,
        "remedy_labels": REMEDY_KIND_LABELS,
        "method_labels": ANSWER_METHOD_LABELS,
        "reason_max": answers.REASON_MAX,
        "survey_url": survey.client_page_url(complaint),  # while the call-back's is open
    }


def _render(complaint: Complaint, token: str, status: int = 200,
            form: AnswerForm | None = None):
    with force_locale(page_locale(complaint)):
        html = render_template("client/page.html", switch_next=url_for(".page", token=token),
                               **page_context(complaint, token, form))
    return make_response(html, status)


# -- routes ------------------------------------------------------------------------------------

@bp.route("/c/<token>")
@public
def page(token: str):
    complaint, status = _checked(token)
    if complaint is None:
        return unavailable(status)
    complaint_id = complaint.id
    response = _render(complaint, token)
    _viewed(complaint_id, {"view": "client_page"})
    return response


@bp.route("/c/<token>/notices/<int:notice_id>")
@public
def notice(token: str, notice_id: int):
    complaint, status = _checked(token)
    if complaint is None:
        return unavailable(status)
    row = db.session.scalar(select(Notice).where(
        Notice.id == notice_id, Notice.complaint_id == complaint.id,
        Notice.kind.in_(CLIENT_NOTICE_KINDS)))
    if row is None:
        abort(404)
    notices.read_bytes(row)  # refuses a file that no longer matches its SHA-256
    response = downloads.attachment(notices.path_of(row), content_type="application/pdf",
                                    name=row.filename, ascii_name=row.filename)
    _viewed(complaint.id, {"view": "client_notice", "notice_id": row.id, "kind": row.kind})
    return response


def _problem() -> tuple[int, str] | None:
    """What stops a POST before its content is read (call within the page's locale)."""
    if body_too_large():
        return 413, _("Your text is longer than we can accept, so nothing was sent. What we "
                      "received is below, perhaps cut short: please shorten it and send it "
                      "again.")
    if had_nul_bytes():
        return 400, _("Your text contained a character that cannot be stored (a NUL "
                      "character), so nothing was sent. Please check your text and send it "
                      "again.")
    if csrf_failed():
        return 400, _("This form has expired or did not come from this site, so nothing was "
                      "sent. Your text is still below: please send it again.")
    return None


@bp.route("/c/<token>/answer", methods=["POST"])
@public
@shows_csrf_failure  # a refused form still gives the client their text
@shows_oversize_body
@shows_nul_bytes
def answer(token: str):
    complaint, status = _checked(token)
    if complaint is None:
        if csrf_failed():  # a forged form to a dead link: the portal's usual refusal
            raise g.csrf_failure
        return unavailable(status)
    locale = page_locale(complaint)
    form = AnswerForm.posted()
    with force_locale(locale):
        problem = _problem()
    if problem is not None:
        form.message = problem[1]
        return _render(complaint, token, problem[0], form)

    def change():
        with force_locale(locale):
            return answers.answer_on_page(complaint, decision_id=form.decision_id,
                                          kind=form.kind, reason=form.reason)

    def refused(error: Exception, status: int):
        with force_locale(locale):
            form.refused(error)
        return _render(complaint, token, status, form)

    def done(_answer):
        with force_locale(locale):
            flash(_("Thank you: your answer is recorded.") if form.kind == AnswerKind.ACCEPTED
                  else _("Thank you: your answer is recorded. We will contact you to discuss "
                         "it."), "ok")
        return htmx.redirect(url_for(".page", token=token))

    return htmx.write(change, done=done, refused=refused)


# -- a lost link -------------------------------------------------------------------------------

def _lost_page(status: int = 200, *, values: dict | None = None,
               errors: dict | None = None, notice: str | None = None, sent: bool = False):
    html = render_template("client/lost.html", values=values or {}, errors=errors or {},
                           notice=notice, sent=sent, status=status,
                           switch_next=url_for(".lost"))
    return make_response(html, status)


@bp.route("/c/lost", methods=["GET", "POST"])
@public
@shows_csrf_failure
@shows_nul_bytes
def lost():
    if request.method == "GET":
        return _lost_page()
    values = {name: request.form.get(name, "").replace("\x00", "").strip()
              for name in ("reference", "email")}
    if csrf_failed():
        with write_transaction():
            public_intake.record_forged_request(request.path)
        return _lost_page(400, values=values, notice=_(
            "This form has expired or did not come from this site, so nothing was sent. "
            "Please send it again."))
    if had_nul_bytes():
        return _lost_page(400, values=values, notice=_(
            "What you typed contained a character that cannot be used (a NUL character), so "
            "nothing was sent. Please check it and send it again."))
    errors: dict[str, str] = {}
    if not values["reference"]:
        errors["reference"] = _("Enter the reference of your complaint, for example "
                                "TS-2026-00077.")
    elif len(values["reference"]) > REFERENCE_MAX:
        errors["reference"] = _("At most %(max)d characters.", max=REFERENCE_MAX)
    if not values["email"]:
        errors["email"] = _("Enter the email address we have on file for you.")
    elif len(values["email"]) > EMAIL_MAX:
        errors["email"] = _("At most %(max)d characters.", max=EMAIL_MAX)
    if errors:
        return _lost_page(422, values=values, errors=errors)
    key = lost_link.visitor_key(g.client_ip, current_app.secret_key)
    if lost_link.over_limit(key, current_app.config["LOST_LINK_PER_IP_PER_HOUR"]):
        return _lost_page(429, values=values, notice=_(
            "We have received several requests from your connection in the last hour, so "
            "nothing was sent. Please try again in an hour, or call us on %(phone)s.",
            phone=current_app.config["FIRM_PHONE"]))
    with write_transaction():
        lost_link.request_new_link(values["reference"], values["email"], key)
    # The same answer whether or not anything matched: nothing here depends on it.
    return _lost_page(sent=True)
