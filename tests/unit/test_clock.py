"""One clock: tests and a running demo move time instead of waiting for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal import clock as portal_clock
from portal.db import db, writes_by_default
from portal.models import OutboxMessage, OutboxStatus
from portal.services import notices, outbox
from tests.smtp_fixture import free_port, smtp_server  # noqa: F401 (a fixture)
from tests.unit.test_outbox import make_complaint


def test_a_frozen_clock_moves_only_when_told(clock):
    moment = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 1 January 00:30 in Shanghai
    clock.set(moment)
    assert clock.now() == moment
    assert clock.today().isoformat() == "2027-01-01"
    assert clock.advance(timedelta(days=3)) == moment + timedelta(days=3)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))


def test_an_idle_session_ends_when_the_clock_passes_its_timeout(client, auth, clock):
    auth.login_as("partner")
    clock.advance(timedelta(minutes=29))
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.advance(timedelta(minutes=31))
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]


def test_a_failed_message_is_retried_once_the_clock_reaches_its_backoff(app, clock,
                                                                         smtp_server):
    app.config.update(OUTBOX_BACKOFF_SECONDS=30)
    with app.app_context(), writes_by_default():
        port = app.config["MAIL_PORT"]
        app.config["MAIL_PORT"] = free_port()  # the mail server is down
        message_id = notices.queue_acknowledgement(None, make_complaint()).id
        db.session.commit()
        assert outbox.deliver_due() == 0
        app.config["MAIL_PORT"] = port  # back up, but the retry is not due yet
        assert outbox.deliver_due() == 0
        clock.advance(timedelta(seconds=30))
        assert outbox.deliver_due() == 1
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.SENT


def test_the_demo_clock_is_shared_through_the_offset_file(app, runner):
    before = portal_clock.now()
    result = runner.invoke(args=["demo", "clock", "--advance", "3d"])
    assert result.exit_code == 0, result.output
    assert "+3d 00:00" in result.output
    moved = portal_clock.now() - before
    assert timedelta(days=3) <= moved < timedelta(days=3, minutes=1)
    assert (app.config["CLOCK_OFFSET_FILE"] and
            portal_clock.read_offset(app.config["CLOCK_OFFSET_FILE"]) == timedelta(days=3))
    # another process of the same instance (the worker) reads the same file
    portal_clock.use_offset_file(None)
    assert portal_clock.now() - before < timedelta(minutes=1)
    portal_clock.use_offset_file(app.config["CLOCK_OFFSET_FILE"])
    assert portal_clock.now() - before >= timedelta(days=3)
    assert runner.invoke(args=["demo", "clock", "--reset"]).exit_code == 0
    assert portal_clock.now() - before < timedelta(minutes=1)
    bad = runner.invoke(args=["demo", "clock", "--advance", "soon"])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_the_demo_clock_is_refused_in_production(app, runner):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo", "clock", "--advance", "1d"])
    assert result.exit_code != 0
