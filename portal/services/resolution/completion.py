"""Completing a remedy task, and the completion notice when the last client-facing one is done.

Each kind records its own (remedies.Form): a refund the amount paid (at most the amount
decided), the day (not in the future), the method and the receipt (an evidence item of phase
"resolution", received and type-checked before the write); a written apology the letter's
text, which becomes a PDF notice (kind "apology") emailed to the client or printed for post;
an explanation or a follow-up service what was done (quoted in the completion notice); an
internal measure confidential notes (partners only, never in a client document).

Documents follow the investigation report's pattern (services/findings.py): `read` gathers
the facts, `render_documents` renders the PDFs and emails with no transaction open, and
`complete` (one write) rebuilds the facts and refuses (409) when anything in them changed. The
completion notice is rendered ahead when the task being completed is the last open
client-facing one; should another task be completed in between, so that this one becomes the
last without its notice prepared, the write refuses with `CompletionPending` and the caller
reads and renders again. Under the complaint's row lock exactly one write finds every
client-facing task done while the complaint is `remedies_in_progress`: it stores and sends the
notice once and moves the complaint to `follow_up`. Internal measures are never waited for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db, discard_on_rollback
from portal.documents import (
    apology_context,
    completion_context,
    render,
    render_apology_letter,
    render_completion_notice,
)
from portal.models.complaint import Complaint, EvidenceCategory, State
from portal.models.notice import Notice
from portal.models.resolution import RemedyTask
from portal.models.user import User
from portal.services import audit, evidence, notices, outbox, postal
from portal.services.calendar import local_day
from portal.services.evidence import ReceivedFile
from portal.services.followup import callbacks
from portal.services.intake.errors import ConflictError, FieldErrors
from portal.services.resolution import client_link
from portal.services.resolution.common import ResolutionError, parse_money
from portal.services.resolution.remedies import (
    EVIDENCE_RESOLUTION,
    Form,
    PaymentMethod,
    form_of,
    is_internal,
    lock,
    locked_task,
    may_complete,
    record,
    tasks,
)

APOLOGY_KIND = "apology"  # the notice's kind and its email's
COMPLETION_KIND = "completion"
LETTER_MAX = 20_000
NOTES_MAX = 4_000


class CompletionPending(ConflictError):
    """This task turned out to be the last client-facing one, and the completion notice was
    not prepared for it: read and render again (the caller retries once)."""

    def __init__(self) -> None:
        super().__init__(_("Another remedy task was completed at the same moment, so the "
                           "completion notice to the client must be prepared again. Nothing "
                           "was saved: submit the form again."))


@dataclass(frozen=True)
class Entry:
    """What completing a task records, as the form sends it (the fields of its kind)."""

    paid_amount: str = ""
    paid_on: date | None = None
    method: str = ""
    letter_text: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Read:
    """The facts read before rendering: the apology letter's, and the completion notice's when
    this task is the last open client-facing one."""

    task_id: int
    at: datetime
    delivery: str  # email | post
    link_key: str | None  # the client's page key signed into the notice's link
    apology: dict | None
    completion: dict | None


@dataclass(frozen=True)
class Letter:
    pdf: bytes
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True)
class Rendered:
    read: Read
    apology: Letter | None
    completion: Letter | None


# -- what was typed -------------------------------------------------------------------------

def _text(value: str, name: str, limit: int, missing: str, errors: FieldErrors) -> str:
    text = (value or "").strip()
    if not text:
        errors.add(name, missing)
    elif len(text) > limit:
        errors.add(name, _("At most %(max)d characters (this has %(count)d).",
                           max=limit, count=len(text)))
    return text


def _refund(task: RemedyTask, entry: Entry, errors: FieldErrors) -> dict:
    amount: Decimal | None = None
    try:
        amount = parse_money(entry.paid_amount, field="paid_amount")
    except ResolutionError as error:
        errors.add("paid_amount", error.message)
    decided = task.remedy.amount
    if amount is not None and decided is not None and amount > decided:
        errors.add("paid_amount", _("The refund decided is %(currency)s %(amount)s: no more "
                                    "than that may be recorded as paid.",
                                    currency=task.remedy.currency, amount=f"{decided:,.2f}"))
    if entry.paid_on is None:
        errors.add("paid_on", _("Enter the day the refund was paid."))
    elif entry.paid_on > clock.today():
        errors.add("paid_on", _("The day it was paid cannot be in the future."))
    if entry.method not in {m.value for m in PaymentMethod}:
        errors.add("method", _("Choose how the refund was paid."))
    return {"paid_amount": amount, "paid_on": entry.paid_on, "payment_method": entry.method}


def values_of(task: RemedyTask, entry: Entry) -> dict:
    """The task's columns from what was typed, or ResolutionError naming each wrong field."""
    errors = FieldErrors()
    form = form_of(task.remedy.kind)
    if form == Form.REFUND:
        values = _refund(task, entry, errors)
    elif form == Form.APOLOGY:
        values = {"letter_text": _text(entry.letter_text, "letter_text", LETTER_MAX,
                                       _("Write the letter of apology."), errors)}
    else:
        values = {"notes": _text(entry.notes, "notes", NOTES_MAX,
                                 _("Say what was done."), errors)}
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise ResolutionError(first, errors=errors.errors)
    return values


# -- the facts of the letters ---------------------------------------------------------------

def _handler(complaint: Complaint) -> dict | None:
    person = complaint.handler or complaint.lead
    return {"name": person.name, "email": person.email or "", "phone": ""} if person else None


def _base(complaint: Complaint, delivery: str) -> dict:
    client = complaint.complainant
    return {
        "reference": complaint.label, "language": complaint.language,
        "complainant_name": client.name if client else "",
        "received_at": complaint.received_at, "handler": _handler(complaint),
        "postal_address": postal.postal_address(complaint) if delivery == postal.POST
        else None,
    }


def apology_facts(complaint: Complaint, signer: User, letter_text: str, delivery: str) -> dict:
    return {**_base(complaint, delivery), "letter_text": letter_text,
            "signer": {"name": signer.name, "title": signer.title or ""}}


def _row(task: RemedyTask, values: Mapping, done_on: date) -> dict:
    """One client-facing remedy as the completion notice tells it."""
    remedy, form = task.remedy, form_of(task.remedy.kind)
    return {"kind": remedy.kind, "currency": remedy.currency, "done_on": done_on,
            "amount": values.get("paid_amount") if form == Form.REFUND else None,
            "details": (values.get("notes") or "") if form == Form.NOTES else ""}


def _done_row(task: RemedyTask) -> dict:
    done_on = task.paid_on or local_day(task.done_at)
    return _row(task, {"paid_amount": task.paid_amount, "notes": task.notes}, done_on)


def _link(complaint: Complaint, key: str | None) -> str:
    """The client's page, when the complaint has a link key and the portal serves the page."""
    if not key or "client_page.page" not in current_app.view_functions:
        return ""
    return client_link.page_url(complaint, key)


def completion_facts(complaint: Complaint, rows: list[dict], delivery: str, link: str) -> dict:
    return {**_base(complaint, delivery), "remedies_done": rows, "client_link": link}


def _client_tasks(complaint: Complaint) -> list[RemedyTask]:
    return [t for t in tasks(complaint) if not is_internal(t)]


# -- read, render, write --------------------------------------------------------------------

def read(actor: User, complaint: Complaint, task_id: int, entry: Entry) -> Read:
    """Check what was typed and gather the facts of the documents this completion sends."""
    rows = tasks(complaint)
    task = next((t for t in rows if t.id == task_id), None)
    if task is None or not may_complete(complaint, task, actor):
        raise ConflictError(_("This remedy task was completed already, or you may no longer "
                              "complete it: reload the page."))
    values = values_of(task, entry)
    at = clock.now()
    delivery = postal.delivery_for(complaint)
    form = form_of(task.remedy.kind)
    client_rows = [t for t in rows if not is_internal(t)]
    last = (not is_internal(task) and complaint.state == State.REMEDIES_IN_PROGRESS
            and all(t.is_done for t in client_rows if t.id != task.id))
    if delivery == postal.POST and (last or form == Form.APOLOGY):
        postal.require_address(complaint)
    apology = apology_facts(complaint, actor, values["letter_text"], delivery) \
        if form == Form.APOLOGY else None
    completion = None
    key = complaint.client_link_key
    if last:
        done_on = values.get("paid_on") or local_day(at)
        done = [_row(t, values, done_on) if t.id == task.id else _done_row(t)
                for t in client_rows]
        completion = completion_facts(complaint, done, delivery, _link(complaint, key))
    return Read(task.id, at, delivery, key, apology, completion)


def render_documents(read: Read, config: Mapping) -> Rendered:
    """The PDFs and the emails from the facts; touches no database."""
    def letter(context: dict, pdf: bytes, email: str) -> Letter:
        return Letter(pdf, context["subject"], render(f"emails/{email}.txt", context),
                      render(f"emails/{email}.html", context))

    apology = completion = None
    if read.apology is not None:
        context = apology_context(read.apology, config, now=read.at)
        apology = letter(context, render_apology_letter(context), APOLOGY_KIND)
    if read.completion is not None:
        context = completion_context(read.completion, config, now=read.at)
        completion = letter(context, render_completion_notice(context), COMPLETION_KIND)
    return Rendered(read, apology, completion)


def _send(actor: User, complaint: Complaint, kind: str, letter: Letter, delivery: str
          ) -> Notice:
    """Store the PDF as the next version of the notice; email it, or leave it for post."""
    notice = notices.store(complaint, kind, letter.pdf, actor, delivery=delivery)
    if delivery == postal.EMAIL:
        client = complaint.complainant
        try:
            outbox.queue(kind=kind, recipient=client.email, recipient_name=client.name,
                         subject=letter.subject, body_text=letter.body_text,
                         body_html=letter.body_html, complaint=complaint,
                         attachments=[{"notice_kind": kind, "notice_id": notice.id}],
                         actor=actor)
        except outbox.OutboxError:
            raise ResolutionError(_("The client's email address on record cannot be used: "
                                    "correct it in the complainant section first.")) from None
    return notice


def complete(actor: User, complaint: Complaint, task_id: int, entry: Entry,
             rendered: Rendered, *, expected_version: int,
             receipt: ReceivedFile | None = None) -> RemedyTask:
    """Record the task done (see the module); the completion notice when it is the last."""
    if receipt is not None:  # the file received before the write goes if the write fails
        discard_on_rollback(evidence.storage_dir() / receipt.stored_name)
    lock(complaint)
    task = locked_task(complaint, task_id, expected_version)
    if not may_complete(complaint, task, actor) or rendered.read.task_id != task.id:
        raise ConflictError(_("This remedy task was completed already, or you may no longer "
                              "complete it: reload the page."))
    values = values_of(task, entry)
    form = form_of(task.remedy.kind)
    if form == Form.REFUND:
        if receipt is None:
            raise ResolutionError(_("Attach the receipt of the payment."), field="receipt")
        item = evidence.record_received(actor, complaint, receipt,
                                        category=EvidenceCategory.FEE_RECEIPTS.value,
                                        phase=EVIDENCE_RESOLUTION)
        task.receipt_evidence_id = item.id
    for name, value in values.items():
        setattr(task, name, value)
    task.done_at, task.done_by_id = clock.now(), actor.id
    if form == Form.APOLOGY:
        task.letter_notice_id = _send_apology(actor, complaint, values["letter_text"],
                                              rendered).id
    db.session.flush()
    details: dict = {"version": task.version}
    if form == Form.REFUND:
        details.update(paid_amount=str(task.paid_amount), currency=task.remedy.currency,
                       paid_on=task.paid_on.isoformat(), method=task.payment_method,
                       evidence_id=task.receipt_evidence_id)
    elif form == Form.APOLOGY:
        details.update(notice_id=task.letter_notice_id, delivery=rendered.read.delivery)
    else:
        details["notes_length"] = len(task.notes or "")
    record("remedy_task.completed", actor, complaint, task, details)
    if not is_internal(task):
        _finish_if_last(actor, complaint, rendered)
    return task


def _send_apology(actor: User, complaint: Complaint, text: str, rendered: Rendered) -> Notice:
    read = rendered.read
    delivery = postal.delivery_for(complaint)
    if (rendered.apology is None or delivery != read.delivery
            or apology_facts(complaint, actor, text, delivery) != read.apology):
        raise ConflictError(_("The client's details changed while the letter was being "
                              "prepared, so nothing was sent. What you typed is still on "
                              "screen: submit it again."))
    return _send(actor, complaint, APOLOGY_KIND, rendered.apology, delivery)


def _finish_if_last(actor: User, complaint: Complaint, rendered: Rendered) -> Notice | None:
    """Every client-facing task done: the completion notice, once, and `follow_up`."""
    if complaint.state != State.REMEDIES_IN_PROGRESS:
        return None
    rows = _client_tasks(complaint)
    if not all(t.is_done for t in rows):
        return None
    read = rendered.read
    delivery = postal.delivery_for(complaint)
    if (rendered.completion is None or read.completion is None or delivery != read.delivery
            or complaint.client_link_key != read.link_key):
        raise CompletionPending()
    facts = completion_facts(complaint, [_done_row(t) for t in rows], delivery,
                             read.completion["client_link"])
    if facts != read.completion:
        raise CompletionPending()
    notice = _send(actor, complaint, COMPLETION_KIND, rendered.completion, delivery)
    complaint.state = State.FOLLOW_UP
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record("remedies.completed", actor=actor, obj=complaint, details={
        "notice_id": notice.id, "version": notice.version, "delivery": delivery,
        "task_ids": [t.id for t in rows],
        "from_state": State.REMEDIES_IN_PROGRESS.value, "to_state": State.FOLLOW_UP.value})
    callbacks.schedule(complaint, actor)  # every return to follow_up gets its own call-back
    return notice


def completion_notice(complaint: Complaint) -> Notice | None:
    """The completion notice sent (its latest version), if any."""
    return db.session.scalar(
        select(Notice).where(Notice.complaint_id == complaint.id,
                             Notice.kind == COMPLETION_KIND)
        .order_by(Notice.version.desc()).limit(1))
