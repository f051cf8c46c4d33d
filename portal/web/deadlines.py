"""The case file's clocks: the header partial (`deadlines/_clocks.html`, root id `clocks`)
showing each deadline and its standing, and pausing and resuming the investigation's clocks
(the lead or a partner, with a reason)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, abort, g
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from portal import clock
from portal.formatting import format_day
from portal.models.complaint import INVESTIGATION_STATES, Complaint
from portal.models.deadline import DEADLINE_LABELS, ClockPause, Deadline
from portal.models.user import Role
from portal.security import roles
from portal.services import deadlines
from portal.services.deadlines import STATUS_LABELS, Status
from portal.services.intake.errors import ConflictError, IntakeError
from portal.web import htmx
from portal.web.intake.context import CHANGED, actor, load, page, posted_version, show_url

bp = Blueprint("deadlines", __name__)
bp.add_app_template_global(DEADLINE_LABELS, "deadline_labels")

EVERYONE = (Role.RECEPTIONIST, Role.PARTNER, Role.INVESTIGATOR, Role.COMMITTEE)
# What a list says about a complaint's next clock.
DUE_PHRASES = {
    "first_response": _l("First response by %(date)s"),
    "investigation": _l("Investigation due %(date)s"),
    "final_response": _l("Final response due %(date)s"),
    "regulatory": _l("Regulatory deadline %(date)s"),
}
STATUS_TONES = {Status.OVERDUE: "tag-err", Status.DUE_SOON: "tag-warn", Status.LATE: "tag-err",
                Status.MET: "tag-ok", Status.PAUSED: "", Status.OK: ""}


class PauseForm(FlaskForm):
    # The service says what a missing or too long reason needs (one message, translated).
    reason = TextAreaField(_l("Why are the clocks paused?"),
                           render_kw={"rows": 2, "maxlength": deadlines.REASON_MAX})


def clock_days() -> tuple[date, date]:
    """Today and the last "due soon" day, asked of the calendar once per request."""
    if "clock_days" not in g:
        today = clock.today()
        g.clock_days = (today, deadlines.soon_limit(today))
    return g.clock_days


@bp.app_template_global()
def clock_status(deadline: Deadline, complaint: Complaint) -> Status:
    today, soon = clock_days()
    return deadlines.status(deadline, today, paused=complaint.open_pause is not None,
                            soon=soon)


@dataclass(frozen=True)
class ClockLine:
    deadline: Deadline
    status: Status
    ended: bool = False  # stopped by a withdrawal or a closure, not met

    @property
    def label(self) -> str:
        return str(DEADLINE_LABELS.get(self.deadline.kind, self.deadline.kind))

    @property
    def phrase(self) -> str:
        """"First response by 10 Oct 2026" (the lists' words)."""
        phrase = DUE_PHRASES.get(self.deadline.kind)
        due = format_day(self.deadline.due)
        return str(phrase) % {"date": due} if phrase else f"{self.label} {due}"

    @property
    def tone(self) -> str:
        return "" if self.ended else STATUS_TONES[self.status]

    @property
    def words(self) -> str:
        """The standing in words: Overdue, Due soon, Met on 9 Oct 2026, Met late..."""
        stopped = self.deadline.stopped_at
        if self.ended:
            return _("Stopped on %(date)s", date=format_day(stopped))
        if self.status == Status.MET:
            return _("Met on %(date)s", date=format_day(stopped))
        if self.status == Status.LATE:
            return _("Met late, on %(date)s", date=format_day(stopped))
        return str(STATUS_LABELS[self.status])


@bp.app_template_global()
def next_clock(complaint: Complaint) -> ClockLine | None:
    """The running clock due first, for a list's row (None when no clock runs)."""
    row = deadlines.next_running(complaint)
    return ClockLine(row, clock_status(row, complaint)) if row is not None else None


@dataclass
class ClockBoard:
    lines: list[ClockLine]
    open_pause: ClockPause | None
    past_pauses: list[ClockPause]
    paused_for: str | None  # all pauses together, in words ("3 days")
    working_days_added: int
    may_pause: bool  # this viewer may pause (or resume) now
    may_resume: bool
    form: PauseForm | None = None
    error: str | None = None
    version: int | None = None
    note: str | None = None

    def __bool__(self) -> bool:
        return bool(self.lines or self.open_pause or self.past_pauses)


def _order(line: ClockLine) -> int:
    return list(DEADLINE_LABELS).index(line.deadline.kind) if line.deadline.kind in \
        DEADLINE_LABELS else len(DEADLINE_LABELS)


@bp.app_template_global()
def clock_board(complaint: Complaint, *, form: PauseForm | None = None,
                error: str | None = None, version: int | None = None,
                note: str | None = None) -> ClockBoard:
    """What the header shows: every clock with its standing, the pauses, and the controls
    this viewer may use."""
    user = actor()
    ends = {complaint.withdrawn_at, complaint.closed_at} - {None}
    lines = sorted((ClockLine(d, clock_status(d, complaint), ended=d.stopped_at in ends)
                    for d in complaint.deadlines), key=_order)
    pauses = complaint.pauses
    # The time is read only while a pause runs: a page that reads it is kept for a minute only
    # (portal/web/page_cache.py).
    now = clock.now() if any(p.resumed_at is None for p in pauses) else None
    total = sum(((p.resumed_at or now) - p.paused_at for p in pauses), timedelta())
    allowed = deadlines.may_pause(complaint, user)
    running = any(d.pausable and d.is_running for d in complaint.deadlines)
    open_pause = complaint.open_pause
    return ClockBoard(
        lines=lines, open_pause=open_pause,
        past_pauses=[p for p in pauses if p.resumed_at is not None],
        paused_for=format_timedelta(total, threshold=1.1) if pauses else None,
        working_days_added=sum(p.working_days_added or 0 for p in pauses),
        may_pause=allowed and open_pause is None and running
        and complaint.state in INVESTIGATION_STATES,
        may_resume=allowed and open_pause is not None,
        form=form or PauseForm(formdata=None, prefix="clock"), error=error,
        version=version if version is not None else complaint.version, note=note)


# --- routes -------------------------------------------------------------------------------

def _answer(complaint: Complaint, status: int = 200, **board) -> Response:
    context = {"complaint": complaint, "clocks": clock_board(complaint, **board)}
    return htmx.answer(
        "deadlines/_clocks.html", "intake/show.html",
        lambda full: {**page(complaint), **context} if full else context,
        status=status, trigger=CHANGED if status == 200 else None,
        redirect_to=show_url(complaint, "clocks"))


def _refused(complaint: Complaint, form: PauseForm):
    def refused(error: IntakeError, status: int) -> Response:
        if isinstance(error, ConflictError):
            # The page keeps the version it was loaded at: a reload shows what changed.
            return _answer(complaint, status, form=form, error=error.message,
                           version=posted_version())
        if error.field == "reason":
            form.reason.errors = [error.message]
            return _answer(complaint, status, form=form)
        return _answer(complaint, status, form=form, error=error.message)
    return refused


def _load_for_change(key: str) -> Complaint:
    complaint = load(key)
    if not deadlines.may_pause(complaint, actor()):
        abort(403)
    return complaint


@bp.route("/complaints/<key>/clocks")
@roles(*EVERYONE)
def show(key: str):
    complaint = load(key)
    return htmx.partial("deadlines/_clocks.html", complaint=complaint,
                        clocks=clock_board(complaint))


@bp.route("/complaints/<key>/clocks/pause", methods=["POST"])
@roles(*EVERYONE)
def pause(key: str):
    complaint = _load_for_change(key)
    form = PauseForm(prefix="clock")
    reason, version = form.reason.data, posted_version()
    return htmx.write(
        lambda: deadlines.pause(actor(), complaint, reason, expected_version=version),
        done=lambda _row: _answer(complaint, note=_("The clocks are paused.")),
        refused=_refused(complaint, form))


@bp.route("/complaints/<key>/clocks/resume", methods=["POST"])
@roles(*EVERYONE)
def resume(key: str):
    complaint = _load_for_change(key)
    form = PauseForm(formdata=None, prefix="clock")
    version = posted_version()

    def resumed(row: ClockPause) -> Response:
        return _answer(complaint, note=ngettext(
            "The clocks run again; the paused deadlines moved %(num)d working day later.",
            "The clocks run again; the paused deadlines moved %(num)d working days later.",
            row.working_days_added or 0))

    return htmx.write(
        lambda: deadlines.resume(actor(), complaint, expected_version=version),
        done=resumed, refused=_refused(complaint, form))
