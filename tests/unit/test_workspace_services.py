"""The workspace's services: their rules, the signed reply link, previews and the
chronology, called directly (no HTTP)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from portal import clock as portal_clock
from portal.db import db, writes_by_default
from portal.models.complaint import Complaint
from portal.models.investigation import ReplyRequest, Statement
from portal.models.user import User
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.investigation import chronology, notes, previews, replies, statements
from portal.services.investigation import workspace as workspace_service
from portal.services.investigation.replies import LinkStatus, ReplyUnavailable
from tests.workspace_support import investigating, one_page_pdf, png, set_state

DAY = timedelta(days=1)


def _people() -> dict[str, User]:
    return {u.username or u.name: u for u in db.session.scalars(select(User))}


def _complaint() -> Complaint:
    return db.session.scalar(select(Complaint))


@pytest.fixture
def ctx(app):
    investigating(app)
    with app.test_request_context(), writes_by_default():
        yield _people()
        db.session.rollback()


def _ask(lead: User, due: date | None = None, respondent: str = "王磊") -> ReplyRequest:
    complaint = _complaint()
    who = next(r for r in complaint.respondents if r.name == respondent)
    return replies.request_reply(
        lead, complaint, respondent_id=who.id, due_on=due or portal_clock.today() + 5 * DAY,
        max_age=timedelta(days=21), secret_key="k", link_url=lambda token: f"/reply/{token}",
        compose=lambda request, url: ("subject", f"text {url}", None))


def test_the_link_names_its_request_and_is_good_until_the_reply(ctx, app):
    request = _ask(ctx["investigator"])
    token = replies.reply_token(request, "k")
    assert replies.check_token(token, "k", timedelta(days=21)) == (LinkStatus.VALID, request)
    assert replies.check_token(token, "other-key", timedelta(days=21))[0] is LinkStatus.INVALID
    assert replies.check_token(token + "x", "k", timedelta(days=21))[0] is LinkStatus.INVALID
    statement = replies.submit_reply(request, "我的答复")
    assert statement.method == "online_reply" and statement.recorded_by_id is None
    assert replies.check_token(token, "k", timedelta(days=21)) == (LinkStatus.SUBMITTED, request)
    with pytest.raises(ReplyUnavailable) as refused:
        replies.submit_reply(request, "第二次")
    assert refused.value.status is LinkStatus.SUBMITTED
    assert len(db.session.scalars(select(Statement)).all()) == 1


def test_the_link_expires_on_the_portals_clock(ctx, app, clock):
    request = _ask(ctx["investigator"])
    token = replies.reply_token(request, "k")
    clock.advance(timedelta(days=21, seconds=1))
    assert replies.check_token(token, "k", timedelta(days=21)) == (LinkStatus.EXPIRED, request)
    with pytest.raises(ReplyUnavailable):
        replies.submit_reply(request, "迟到")


def test_a_row_that_expired_earlier_than_the_signature_counts(ctx, app):
    request = _ask(ctx["investigator"])
    request.expires_at = portal_clock.now() - timedelta(seconds=1)
    assert replies.status_of(request) is LinkStatus.EXPIRED


def test_only_the_respondents_own_allegations_are_shown(ctx, app):
    request = _ask(ctx["investigator"], respondent="吴丽娟")
    assert [a.number for a in replies.allegations_for(request)] == [2]


def test_verbs_refuse_once_the_investigation_is_over(app):
    investigating(app)
    set_state(app, "TS-2026-09001", "awaiting_decision")
    with app.test_request_context(), writes_by_default():
        lead = _people()["investigator"]
        with pytest.raises(ConflictError):
            notes.record_note(lead, _complaint(), held_on=portal_clock.today(),
                              participants="周建国", text="笔记")
        with pytest.raises(ConflictError):
            _ask(lead)


def test_someone_who_may_not_open_the_workspace_cannot_use_its_verbs(ctx, app):
    with pytest.raises(IntakeError):
        notes.record_note(ctx["reception"], _complaint(), held_on=portal_clock.today(),
                          participants="某人", text="笔记")
    with pytest.raises(IntakeError):
        statements.record_statement(ctx["partner"], _complaint(), party="complainant",
                                    respondent_id=None, given_on=portal_clock.today(),
                                    method="phone", text="陈述")


def test_a_statement_names_one_of_the_complaints_respondents(ctx, app):
    with pytest.raises(IntakeError) as refused:
        statements.record_statement(ctx["investigator"], _complaint(), party="respondent",
                                    respondent_id=ctx["张敏"].id,
                                    given_on=portal_clock.today(), method="phone", text="陈述")
    assert "respondent_id" in refused.value.errors


def test_the_chronology_orders_days_before_moments_of_the_same_day(ctx, app):
    complaint = _complaint()
    lead = ctx["investigator"]
    same_day = date(2026, 6, 1)  # received 10:30 Shanghai time that day
    statements.record_statement(lead, complaint, party="complainant", respondent_id=None,
                                given_on=same_day, method="phone", text="陈述")
    notes.record_note(lead, complaint, held_on=date(2026, 5, 25), participants="甲",
                      text="笔记")
    entries = chronology.build(workspace_service.load(complaint))
    kinds = [e.kind for e in entries]
    assert kinds[:5] == ["incident", "note", "statement", "received", "registered"]
    assert [e.on for e in entries] == sorted(e.on for e in entries)


def test_first_lines_of_a_text_file(tmp_path):
    source = tmp_path / "t.txt"
    source.write_bytes(("第一行\n" + "长" * 500 + "\n" * 3 + "\n".join(
        str(n) for n in range(50))).encode("gb18030"))
    lines = previews.first_lines(source, "text/plain; charset=gb18030")
    assert lines[0] == "第一行"
    assert len(lines[1]) == previews.LINE_MAX and lines[1].endswith("…")
    assert len(lines) <= previews.TEXT_LINES
    assert previews.first_lines(tmp_path / "missing.txt", "text/plain; charset=utf-8") == []
    assert previews.first_lines(source, "application/pdf") == []


def test_previews_are_drawn_once_and_failures_remembered(app, tmp_path):
    with app.app_context():
        image = tmp_path / "big.png"
        image.write_bytes(png(1800, 300))
        drawn = previews.render(image, "image/png", "a" * 64)
        assert Image.open(drawn).size == (900, 150)
        assert drawn == previews.cached("a" * 64) and drawn.parent.name == "previews"
        pdf = tmp_path / "one.pdf"
        pdf.write_bytes(one_page_pdf())
        page = previews.render(pdf, "application/pdf", "b" * 64)
        assert Image.open(page).format == "PNG"
        broken = tmp_path / "broken.png"
        broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
        assert previews.render(broken, "image/png", "c" * 64) is None
        assert previews.has_failed("c" * 64)
        with pytest.raises(previews.PreviewFailed):
            previews.cached("../../etc/passwd")


def test_a_decompression_bomb_is_not_decoded(app, tmp_path, monkeypatch):
    monkeypatch.setattr(previews, "MAX_SOURCE_PIXELS", 1000)
    with app.app_context():
        image = tmp_path / "bomb.png"
        image.write_bytes(png(100, 100))
        assert previews.render(image, "image/png", "d" * 64) is None
        assert previews.has_failed("d" * 64)


def test_no_preview_for_an_office_document(app, tmp_path):
    with app.app_context():
        source = tmp_path / "x.docx"
        source.write_bytes(b"PK")
        kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        assert previews.kind_of(kind) == previews.NONE
        assert previews.render(source, kind, "e" * 64) is None
        assert not previews.has_failed("e" * 64)


def test_summary_counts_and_latest(ctx, app):
    complaint = _complaint()
    lead = ctx["investigator"]
    notes.record_note(lead, complaint, held_on=portal_clock.today(), participants="甲",
                      text="一")
    _ask(lead)
    summary = workspace_service.summary(complaint)
    assert (summary["statements"], summary["notes"], summary["pending_replies"]) == (0, 1, 1)
    assert [entry.kind for entry in summary["latest"]] == ["note"]


def test_an_image_preview_keeps_its_orientation(app, tmp_path):
    with app.app_context():
        source = tmp_path / "rotated.jpg"
        picture = Image.new("RGB", (1200, 600), "white")
        exif = picture.getexif()
        exif[0x0112] = 6  # "rotate 90° clockwise to display"
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", exif=exif)
        source.write_bytes(buffer.getvalue())
        drawn = previews.render(source, "image/jpeg", "f" * 64)
        assert Image.open(drawn).size == (450, 900)


def test_previews_live_under_the_instance_data_dir(app):
    with app.app_context():
        assert previews.preview_dir() == Path(app.config["INSTANCE_DATA_DIR"]) / "previews"


def test_the_chronology_uses_the_firms_time_zone(ctx, app):
    complaint = _complaint()
    complaint.received_at = datetime(2026, 6, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 June there
    entries = chronology.build(workspace_service.load(complaint))
    received = next(e for e in entries if e.kind == "received")
    assert received.on == date(2026, 6, 2)
