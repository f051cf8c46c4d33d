"""No process-local state: two gunicorn web processes and two `flask outbox work` workers run
at once against the test database (PostgreSQL with TEST_DATABASE_URL, else the SQLite file),
as production runs them, and

- a session signed in on one web process works on the other, and signing out on either ends
  it on both (even for a copy of the old cookie, whose pages each process had cached);
- failed sign-ins spread over both web processes lock the account on both;
- two workers racing over one queue send every message exactly once;
- the periodic ticks (a deadline's reminder and escalation, a ballot's reminder and its close,
  the daily audit head) happen once, however both workers tick;

and at the end every message in the outbox reached the mail server exactly once, the audit
chain is whole and no process logged an error. The processes read the demo clock file, which
the test moves (portal/clock.py) to make a ballot fall due.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import (
    AuditEvent,
    Ballot,
    Client,
    Complaint,
    LoginAttempt,
    OutboxMessage,
    OutboxStatus,
    State,
)
from portal.services import audit, outbox, sla
from portal.services.resolution import closing
from tests.ballot_support import awaiting, open_ballot
from tests.conftest import DEMO_PASSWORD
from tests.findings_factory import make_investigation
from tests.process_support import (
    Browser,
    Processes,
    RacingHandler,
    child_environment,
    csrf_token,
    fact_table_drift,
    make_app,
    wait_until,
    write_instance,
)
from tests.smtp_fixture import SMTPServer, start_smtp_server

pytestmark = pytest.mark.slow

# What a periodic job does once: the action, and the details naming what it was done for
# (with the audit event's object). Two such events with the same key mean it was done twice.
ONCE = {
    "clock.reminded": ("deadline_id", "due"),
    "clock.escalated": ("deadline_id", "due"),
    "ballot.reminded": ("ballot_id",),
    "ballot.closed": ("ballot_id",),
    "remedy_task.reminded": ("due",),
    "improvement_action.reminded": ("action_id", "due"),
    "callback.reminded": ("callback_id",),
    "callback.survey_reminded": ("callback_id",),
    "matter.report_reminded": ("matter_id", "due"),
    "audit.head_mailed": ("date",),
}
LOG_ERRORS = ("Traceback", "[ERROR]", "tick failed", "outbox pass failed")


@dataclass
class Firm:
    app: Flask
    web_a: str
    web_b: str
    smtp: SMTPServer
    handler: RacingHandler
    processes: Processes
    clock_file: Path


@pytest.fixture(scope="module")
def firm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("many_processes")
    app = make_app(directory)
    handler = RacingHandler()
    smtp = start_smtp_server(handler=handler)
    instance = write_instance(app, directory / "instance", smtp, SLA_TICK_SECONDS=1)
    processes = Processes(directory, child_environment(instance))
    clock_file = Path(app.config["CLOCK_OFFSET_FILE"])
    try:
        processes.start_worker("worker-1")
        processes.start_worker("worker-2")
        web_a, web_b = processes.start_webs("web-a", "web-b")
        yield Firm(app, web_a, web_b, smtp, handler, processes, clock_file)
    finally:
        processes.stop()
        smtp.stop()
        clock.write_offset(clock_file, timedelta(0))
    assert fact_table_drift(app) == [], "complaint_fact out of step"


# -- reading the state -------------------------------------------------------------------------

def _rows(app: Flask) -> dict[int, tuple[str, str, str, str]]:
    """Every outbox row: id → (status, kind, recipient, Message-ID)."""
    with app.app_context():
        found = {row.id: (row.status, row.kind, row.recipient, row.message_id)
                 for row in db.session.execute(select(
                     OutboxMessage.id, OutboxMessage.status, OutboxMessage.kind,
                     OutboxMessage.recipient, OutboxMessage.message_id))}
        db.session.remove()
    return found


def _settled(app: Flask) -> bool:
    """Nothing waits in the outbox (every message sent, or dead)."""
    return not any(status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                   for status, *_rest in _rows(app).values())


def _events(app: Flask, *actions: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(actions)).order_by(AuditEvent.id)))
        db.session.expunge_all()
        db.session.remove()
    return found


def _received(smtp: SMTPServer) -> dict[int, list[tuple[str, list[str]]]]:
    """What the server took, per outbox row: (Message-ID, envelope recipients) of each copy."""
    copies: dict[int, list[tuple[str, list[str]]]] = {}
    for envelope in smtp.envelopes:
        email = message_from_bytes(envelope.data, policy=policy.default)
        copies.setdefault(int(email[outbox.OUTBOX_ID_HEADER]), []).append(
            (email["Message-ID"], envelope.rcpt_tos))
    return copies


def _assert_sent_once(firm: Firm, ids) -> None:
    rows, received = _rows(firm.app), _received(firm.smtp)
    for row_id in ids:
        status, kind, recipient, message_id = rows[row_id]
        assert status == OutboxStatus.SENT, (row_id, kind, status)
        assert received.get(row_id) == [(message_id, [recipient])], (row_id, kind)


# -- 1. sessions -------------------------------------------------------------------------------

def _login(browser: Browser, url: str, username: str, password: str):
    page = browser.get(url, "/login")
    assert page.status == 200, page.status
    return browser.post(url, "/login", {"csrf_token": csrf_token(page.text),
                                        "username": username, "password": password})


def test_a_session_works_on_both_web_processes_and_signing_out_on_one_ends_it_on_both(firm):
    browser = Browser()
    signed_in = _login(browser, firm.web_a, "reception", DEMO_PASSWORD)
    assert signed_in.status == 303, signed_in.text[:500]
    for url in (firm.web_a, firm.web_b, firm.web_a, firm.web_b):  # twice: each caches pages
        for path in ("/", "/complaints"):
            page = browser.get(url, path)
            assert page.status == 200, (url, path, page.status, page.location)
    copy = dict(browser.cookies)  # the cookie as it was, say kept by someone else

    home_on_b = browser.get(firm.web_b, "/")
    signed_out = browser.post(firm.web_b, "/logout", {"csrf_token": csrf_token(home_on_b.text)})
    assert signed_out.status == 303 and "/login" in signed_out.location

    stale = Browser()
    stale.cookies = copy
    for who in (browser, stale):
        for url in (firm.web_a, firm.web_b):
            for path in ("/", "/complaints"):
                page = who.get(url, path)
                assert page.status in (302, 303), (url, path, page.status)
                assert "/login" in page.location
    assert _login(Browser(), firm.web_b, "reception", DEMO_PASSWORD).status == 303


# -- 2. login throttling -----------------------------------------------------------------------

def test_failed_sign_ins_spread_over_both_web_processes_lock_the_account_on_both(firm):
    limit = firm.app.config["LOGIN_THROTTLE_PER_ACCOUNT"]
    browser = Browser()
    token = csrf_token(browser.get(firm.web_a, "/login").text)  # one page, both servers

    def attempt(url: str, password: str):
        return browser.post(url, "/login", {"csrf_token": token, "username": "investigator2",
                                            "password": password})

    for number in range(limit):
        url = (firm.web_a, firm.web_b)[number % 2]
        answer = attempt(url, "not-the-password")
        assert answer.status == 401, (number, url, answer.status)  # not yet locked anywhere
    for url in (firm.web_b, firm.web_a):
        answer = attempt(url, DEMO_PASSWORD)  # the right password, too late
        assert answer.status == 429, (url, answer.status)
        assert "Too many failed attempts" in answer.text

    with firm.app.app_context():
        failures = db.session.scalars(select(LoginAttempt.succeeded).where(
            LoginAttempt.username == "investigator2")).all()
        db.session.remove()
    assert failures == [False] * limit  # the refused attempts were not even checked
    assert len(_events(firm.app, "login.throttled")) == 2
    assert _login(Browser(), firm.web_b, "investigator", DEMO_PASSWORD).status == 303


# -- 3. outbox claims --------------------------------------------------------------------------

def _registered_complaint(reference: str) -> Complaint:
    now = clock.now()
    complaint = Complaint(
        reference=reference, state=State.REGISTERED, language="en", channel="email",
        received_at=now, registered_at=now, narrative="Nobody answered my calls.",
        complainant=Client(name="Emily Carter", email="emily@example.co.uk", language="en"))
    db.session.add(complaint)
    db.session.flush()
    return complaint


def test_two_workers_racing_over_the_queue_send_every_message_exactly_once(firm):
    app = firm.app
    wait_until(lambda: _settled(app), firm.processes, 60, "the demo firm's mail to go out")
    # the server answers two messages together (both workers then go on at the same moment)
    firm.handler.pairing = True
    try:
        with app.app_context(), write_transaction():
            # most of them about one complaint, whose row in complaint_fact is rewritten
            # whenever one of its messages is marked sent
            complaint = _registered_complaint("TS-2026-00801")
            ids = [outbox.queue(kind="many_processes", recipient=f"client{n}@example.com",
                                recipient_name=f"客户 {n}", subject=f"Message {n}",
                                body_text=f"Body {n}", complaint=complaint if n % 5 else None).id
                   for n in range(40)]
        wait_until(lambda: all(_rows(app)[i][0] == OutboxStatus.SENT for i in ids),
                   firm.processes, 60, "the 40 messages to be sent")
    finally:
        firm.handler.pairing = False
    assert firm.handler.pairs >= 1, "the two workers were never sending at the same moment"
    _assert_sent_once(firm, ids)


# -- 4. the periodic ticks ---------------------------------------------------------------------

def test_deadline_reminders_and_ballots_are_handled_once_by_two_ticking_workers(firm):
    app = firm.app
    with app.app_context():
        # the first response is due today (a reminder), the investigation was due yesterday
        # (an escalation); SLA_TICK_SECONDS is 1, so both workers tick every second
        complaint_id = make_investigation(reference="TS-2026-00901",
                                          first_response_due=clock.today())
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.deadline("investigation").due = clock.today() - timedelta(days=1)
            first = complaint.deadline("first_response").id
            late = complaint.deadline("investigation").id
        db.session.remove()
    # a ballot closing in 65 minutes: within BALLOT_REMINDER_HOURS, so the next ballot tick
    # reminds its members; the tick runs every minute on the portal's clock
    ballot_id = open_ballot(app, awaiting(app, reference="TS-2026-00902"),
                            closes_in=timedelta(minutes=65))

    def done(action: str, key: str, value: int):
        return lambda: any(e.details.get(key) == value for e in _events(app, action))

    wait_until(done("clock.reminded", "deadline_id", first), firm.processes, 30,
               "the deadline's reminder")
    wait_until(done("clock.escalated", "deadline_id", late), firm.processes, 30,
               "the deadline's escalation")
    clock.write_offset(firm.clock_file, timedelta(seconds=90))  # every process, within 1 s
    wait_until(done("ballot.reminded", "ballot_id", ballot_id), firm.processes, 30,
               "the ballot's reminder")
    clock.write_offset(firm.clock_file, timedelta(hours=2))  # past the close
    wait_until(done("ballot.closed", "ballot_id", ballot_id), firm.processes, 30,
               "the ballot to close")
    time.sleep(3)  # a few more ticks of both workers: a second reminder or close would show
    wait_until(lambda: _settled(app), firm.processes, 60, "the ticks' mail to go out")

    reminded = [e for e in _events(app, "clock.reminded") if e.details["deadline_id"] == first]
    escalated = [e for e in _events(app, "clock.escalated") if e.details["deadline_id"] == late]
    ballot_reminded = [e for e in _events(app, "ballot.reminded")
                       if e.details["ballot_id"] == ballot_id]
    closed = [e for e in _events(app, "ballot.closed") if e.details["ballot_id"] == ballot_id]
    assert [len(reminded), len(escalated), len(ballot_reminded), len(closed)] == [1, 1, 1, 1]
    assert closed[0].details["reason"] == closing.ClosedReason.DEADLINE
    with app.app_context():
        ballot = db.session.get(Ballot, ballot_id)
        assert ballot.closed_at is not None and ballot.reminder_sent_at is not None
        members = sorted(m.user.email for m in ballot.eligible)
        about = {  # a ballot's mail names no complaint on its row (but its reference)
            sla.REMINDER_KIND: OutboxMessage.complaint_id == complaint_id,
            sla.ESCALATION_KIND: OutboxMessage.complaint_id == complaint_id,
            closing.OPENED_KIND: OutboxMessage.subject.contains("TS-2026-00902"),
            closing.REMINDER_KIND: OutboxMessage.subject.contains("TS-2026-00902")}
        mail = {kind: [(row.id, row.recipient) for row in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind, which)
            .order_by(OutboxMessage.id))] for kind, which in about.items()}
        db.session.remove()
    # the deadline's: the reminder to its handler, the escalation to each partner named
    assert [r for _i, r in mail[sla.REMINDER_KIND]] == ["zhou.jianguo@firm.example"]
    assert escalated[0].details["recipients"]
    assert len(mail[sla.ESCALATION_KIND]) == sum(
        len(e.details["recipients"]) for e in _events(app, "clock.escalated")
        if e.object_id == str(complaint_id))  # (the first response too, should the day change)
    # the ballot's: opened and reminded, once to each member (nobody has voted)
    assert len(members) == 3
    for kind in (closing.OPENED_KIND, closing.REMINDER_KIND):
        assert Counter(r for _i, r in mail[kind]) == dict.fromkeys(members, 1), kind
    assert ballot_reminded[0].details["reminded"] == 3
    _assert_sent_once(firm, [i for rows in mail.values() for i, _r in rows])


# -- everything, at the end --------------------------------------------------------------------

def test_every_message_reached_the_server_once_and_every_job_ran_once(firm):
    app = firm.app
    wait_until(lambda: _settled(app), firm.processes, 60, "the outbox to empty")
    rows = _rows(app)
    assert {status for status, *_rest in rows.values()} == {OutboxStatus.SENT}  # none dead
    assert set(_received(firm.smtp)) == set(rows)
    _assert_sent_once(firm, rows)

    events = _events(app, *ONCE)
    keys = Counter((e.action, e.object_type, e.object_id,
                    *(e.details.get(name) for name in ONCE[e.action])) for e in events)
    assert [key for key, times in keys.items() if times > 1] == []
    assert Counter(e.action for e in events)["audit.head_mailed"] >= 1  # both workers tried

    with app.app_context():
        assert audit.verify().broken is None  # five processes appended to one chain
        db.session.remove()
    firm.processes.check_alive()
    for child in firm.processes.children.values():
        output = child.output()
        assert not [word for word in LOG_ERRORS if word in output], (child.name, child.errors())
