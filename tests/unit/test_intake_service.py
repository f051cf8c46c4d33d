"""The intake service called directly: rules, references, concurrency, signed links."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from portal.db import begin_write, db, writes_by_default
from portal.models import (
    AuditEvent,
    Client,
    Complaint,
    ConfirmationLink,
    ConfirmationMethod,
    OutboxMessage,
    ReferenceCounter,
    User,
)
from portal.services.intake.completeness import missing_sections
from portal.services.intake.confirmation import (
    CONFIRMATION_SALT,
    LinkStatus,
    answer_confirmation_link,
    check_confirmation_token,
    confirm_read_back,
    load_confirmation_link,
    override_confirmation,
    request_confirmation_link,
)
from portal.services.intake.errors import ConflictError, IntakeError, LinkUnavailable
from portal.services.intake.record import local_today
from portal.services.intake.registration import register
from portal.services.intake.search import search_clients, search_matters, search_staff
from portal.services.intake.sections import create_draft, save_section

RECEIVED = datetime(2026, 9, 29, 2, 30, tzinfo=UTC)  # 10:30 in Beijing


@pytest.fixture
def ctx(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}), writes_by_default():
        yield app


def person(name: str) -> User:
    return db.session.scalar(select(User).where(User.name == name))


def reception() -> User:
    return db.session.scalar(select(User).where(User.username == "reception"))


def client_named(name: str) -> Client:
    return db.session.scalar(select(Client).where(Client.name == name))


def draft(*, client: str = "李明", confirm: bool = True) -> Complaint:
    actor = reception()
    complaint = create_draft(actor, channel="phone", received_at=RECEIVED)
    sections = {
        "complainant": {"client_id": client_named(client).id},
        "respondents": {"user_ids": [person("王磊").id]},
        "incident": {"narrative": "律师不回电话。", "occurred_on": "2026-05-20"},
        "remedy": {"remedies_sought": ["apology"]},
    }
    for name, data in sections.items():
        save_section(actor, complaint, name, data, complaint.version)
    if confirm:
        confirm_read_back(actor, complaint, ConfirmationMethod.PHONE)
    return complaint


# --- sections and rules -----------------------------------------------------------------



def request_link(complaint, url_builder):
    """Email a confirmation link as the page does (the app's key and email templates)."""
    from flask import current_app

    from portal.web.readback_render import confirmation_email

    return request_confirmation_link(None, complaint, url_builder,
                                     secret_key=current_app.config["SECRET_KEY"],
                                     compose=confirmation_email)


def test_create_draft_needs_an_aware_time(ctx):
    with pytest.raises(IntakeError) as caught:
        create_draft(None, channel="phone", received_at=datetime(2026, 1, 1))
    assert "received_at" in caught.value.errors


def test_unknown_channel_is_refused(ctx):
    with pytest.raises(IntakeError) as caught:
        create_draft(None, channel="pigeon", received_at=RECEIVED)
    assert "channel" in caught.value.errors


def test_stale_version_raises_conflict_and_changes_nothing(ctx):
    complaint = draft(confirm=False)
    stale = complaint.version - 1
    with pytest.raises(ConflictError):
        save_section(None, complaint, "incident",
                            {"narrative": "别的", "occurred_on": "2026-05-20"}, stale)
    assert complaint.narrative == "律师不回电话。"


def test_each_save_moves_the_version_by_one(ctx):
    complaint = create_draft(None, channel="phone", received_at=RECEIVED)
    assert complaint.version == 1
    save_section(None, complaint, "complainant",
                        {"client_id": client_named("李明").id}, 1)
    assert complaint.version == 2
    save_section(None, complaint, "incident",
                        {"narrative": "律师不回电话。", "occurred_on": "2026-05-20"}, 2)
    assert complaint.version == 3


def test_respondent_change_moves_the_version(ctx):
    complaint = draft(confirm=False)
    before = complaint.version
    save_section(None, complaint, "respondents",
                        {"user_ids": [person("王磊").id, person("张敏").id]}, before)
    assert complaint.version == before + 1


def test_section_saved_audit_holds_no_personal_data(ctx):
    complaint = draft(confirm=False)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "complaint.section_saved")).all()
    assert {e.details["section"] for e in events} == {
        "complainant", "respondents", "incident", "remedy"}
    assert all(set(e.details) == {"section", "confirmation_withdrawn"} for e in events)
    assert complaint.id


def test_missing_sections_and_completeness(ctx):
    complaint = create_draft(None, channel="email", received_at=RECEIVED)
    assert missing_sections(complaint) == [
        "complainant", "respondents", "incident", "remedy"]
    complaint = draft(confirm=False)
    assert missing_sections(complaint) == []


def test_confirm_requires_a_complete_record(ctx):
    complaint = create_draft(None, channel="email", received_at=RECEIVED)
    with pytest.raises(IntakeError, match="not complete"):
        confirm_read_back(None, complaint, ConfirmationMethod.IN_PERSON)


def test_only_in_person_phone_or_imported_confirmations(ctx):
    complaint = draft(confirm=False)
    for method in (ConfirmationMethod.OVERRIDE, ConfirmationMethod.SIGNED_LINK):
        with pytest.raises(IntakeError) as caught:
            confirm_read_back(None, complaint, method)
        assert caught.value.field == "method"
        assert caught.value.message == "Choose how the client confirmed: in person or by phone."
    assert not complaint.is_confirmed
    with pytest.raises(ValueError):
        confirm_read_back(None, complaint, "by_carrier_pigeon")


@pytest.mark.parametrize(("channel", "method", "needs_note"), [
    ("walk_in", ConfirmationMethod.IN_PERSON, False),
    ("client_relations", ConfirmationMethod.IN_PERSON, False),
    ("phone", ConfirmationMethod.PHONE, False),
    ("phone", ConfirmationMethod.IN_PERSON, True),
    ("walk_in", ConfirmationMethod.PHONE, True),
    ("email", ConfirmationMethod.IN_PERSON, True),
    ("letter", ConfirmationMethod.PHONE, True),
    ("web", ConfirmationMethod.IN_PERSON, True),
    ("email", ConfirmationMethod.IMPORTED, False),
])
def test_a_confirmation_that_does_not_match_the_channel_needs_a_note(ctx, channel, method,
                                                                     needs_note):
    complaint = draft(confirm=False)
    complaint.channel = channel
    if needs_note:
        with pytest.raises(IntakeError) as caught:
            confirm_read_back(reception(), complaint, method, note="   ")
        assert caught.value.field == "note"
        assert "These do not match: add a note" in caught.value.message
        assert not complaint.is_confirmed
        confirm_read_back(reception(), complaint, method, note="客户当天来所确认")
        assert complaint.confirmation_note == "客户当天来所确认"
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "complaint.confirmed").order_by(AuditEvent.id.desc())).first()
        assert event.details == {"method": method.value, "note_length": 8}
    else:
        confirm_read_back(reception(), complaint, method)
        assert complaint.confirmation_note is None
    assert complaint.is_confirmed and complaint.confirmation_method == method.value


def test_a_confirmation_note_has_a_limit(ctx):
    complaint = draft(confirm=False)
    with pytest.raises(IntakeError) as caught:
        confirm_read_back(reception(), complaint, ConfirmationMethod.IN_PERSON, note="很" * 2001)
    assert caught.value.field == "note"


def test_override_is_for_partners_with_a_reason(ctx):
    complaint = draft(confirm=False)
    with pytest.raises(IntakeError):
        override_confirmation(reception(), complaint, "reason enough")
    partner = db.session.scalar(select(User).where(User.username == "partner2"))
    with pytest.raises(IntakeError) as caught:
        override_confirmation(partner, complaint, "   ")
    assert caught.value.field == "reason"
    override_confirmation(partner, complaint, "客户无法联系")
    assert complaint.is_confirmed and complaint.confirmation_method == "override"


def test_search_escapes_wildcards(ctx):
    assert search_clients("%") == []
    assert search_clients("_") == []
    assert [c.name for c in search_clients("138 0013 8000")] == ["李明"]
    assert [m.reference for m in search_matters("京0105")] == ["M-2025-0142"]
    assert [u.name for u in search_staff("zhang.min")] == ["张敏"]


# --- registration -----------------------------------------------------------------------


def test_register_refuses_an_unconfirmed_complaint(ctx):
    complaint = draft(confirm=False)
    with pytest.raises(IntakeError, match="has not confirmed"):
        register(None, complaint, working_days=3)
    assert complaint.reference is None


def test_reference_year_is_the_year_in_beijing(ctx, clock):
    # 31 December 2026, 16:30 UTC is already 1 January 2027 in Beijing.
    clock.set(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    complaint = draft()
    register(None, complaint, working_days=3)
    assert complaint.reference == "TS-2027-00001"


def test_reference_counter_continues_from_the_stored_number(ctx):
    year = local_today().year
    db.session.add(ReferenceCounter(year=year, last_number=41))
    db.session.flush()
    complaint = draft()
    register(None, complaint, working_days=3)
    assert complaint.reference == f"TS-{year}-00042"


def test_register_for_import_without_an_actor(ctx):
    complaint = draft(confirm=False)
    confirm_read_back(None, complaint, ConfirmationMethod.IMPORTED)
    register(None, complaint, working_days=3)
    assert complaint.state == "registered"
    ack = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "acknowledgement"))
    assert ack is not None and ack.complaint_id == complaint.id


def test_concurrent_registrations_get_distinct_consecutive_references(app):
    """Threads, each with its own app context and session, register different drafts at
    the same moment: every reference is distinct and together they are consecutive."""
    count = 6
    with app.test_request_context("/"), writes_by_default():
        ids = [draft().id for _ in range(count)]
        db.session.commit()
    barrier = threading.Barrier(count)
    references: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(complaint_id: int) -> None:
        try:
            with app.app_context():
                complaint = db.session.get(Complaint, complaint_id)  # a read, as a page does
                barrier.wait(timeout=10)
                begin_write()
                register(None, complaint, working_days=3)
                time.sleep(0.01)  # hold the transaction open a moment: races would show
                db.session.commit()
                with lock:
                    references.append(complaint.reference)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    year = local_today().year
    assert sorted(references) == [f"TS-{year}-{n:05d}" for n in range(1, count + 1)]
    with app.app_context():
        stored = db.session.scalars(select(Complaint.reference).where(
            Complaint.id.in_(ids))).all()
        assert sorted(stored) == sorted(references)
        assert db.session.get(ReferenceCounter, year).last_number == count


# --- signed confirmation links -----------------------------------------------------------


def _link(complaint: Complaint) -> tuple[ConfirmationLink, str]:
    urls: list[str] = []
    link = request_link(complaint, lambda t: urls.append(t) or t)
    return link, urls[0]


def test_link_email_is_bilingual_with_the_clients_language_first(ctx):
    complaint = draft(client="Emily Carter", confirm=False)
    _link(complaint)
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "confirmation_request"))
    english, chinese = message.subject.split(" / ")
    assert english == "Please confirm your complaint"
    assert message.recipient == "emily.carter@example.co.uk"
    assert message.body_text.index("Dear Emily Carter") < message.body_text.index("————")
    assert 'lang="en"' in message.body_html and 'lang="zh-CN"' in message.body_html
    assert message.body_html.index('lang="en"') < message.body_html.index('lang="zh-CN"')


def test_link_needs_an_email_address(ctx):
    complaint = draft(confirm=False)
    complaint.complainant.email = None
    with pytest.raises(IntakeError, match="No email address"):
        request_link(complaint, lambda t: t)


def test_link_is_single_use(ctx):
    complaint = draft(confirm=False)
    link, token = _link(complaint)
    secret, max_age = ctx.config["SECRET_KEY"], ctx.config["CONFIRMATION_LINK_MAX_AGE"]
    assert check_confirmation_token(token, secret, max_age) == (LinkStatus.VALID, link)
    assert load_confirmation_link(token, secret, max_age) is link
    answer_confirmation_link(link, confirmed=True)
    assert complaint.confirmation_method == "signed_link"
    status, _ = check_confirmation_token(token, secret, max_age)
    assert status is LinkStatus.USED
    with pytest.raises(LinkUnavailable):
        answer_confirmation_link(link, confirmed=True)


def test_tampered_and_foreign_tokens_are_invalid(ctx):
    complaint = draft(confirm=False)
    _, token = _link(complaint)
    secret, max_age = ctx.config["SECRET_KEY"], ctx.config["CONFIRMATION_LINK_MAX_AGE"]
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert check_confirmation_token(tampered, secret, max_age)[0] is LinkStatus.INVALID
    other_salt = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps("x")
    assert check_confirmation_token(other_salt, secret, max_age)[0] is LinkStatus.INVALID
    assert load_confirmation_link(tampered, secret, max_age) is None


def test_expired_token(ctx):
    complaint = draft(confirm=False)
    link, _ = _link(complaint)

    class LastWeek(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 86400

    secret = ctx.config["SECRET_KEY"]
    old = URLSafeTimedSerializer(secret, salt=CONFIRMATION_SALT,
                                 signer=LastWeek).dumps(link.nonce)
    status, found = check_confirmation_token(old, secret, timedelta(days=7))
    assert status is LinkStatus.EXPIRED and found is link
    assert load_confirmation_link(old, secret, timedelta(days=7)) is None


def test_a_newer_link_or_a_change_cancels_the_old_one(ctx):
    complaint = draft(confirm=False)
    first, first_token = _link(complaint)
    second, second_token = _link(complaint)
    secret, max_age = ctx.config["SECRET_KEY"], ctx.config["CONFIRMATION_LINK_MAX_AGE"]
    assert check_confirmation_token(first_token, secret, max_age)[0] is \
        LinkStatus.CANCELLED
    save_section(None, complaint, "incident",
                        {"narrative": "补充：还多收了费用。", "occurred_on": "2026-05-20"},
                        complaint.version)
    assert check_confirmation_token(second_token, secret, max_age)[0] is \
        LinkStatus.CANCELLED


def test_correction_needs_text_and_withdraws_confirmation(ctx):
    complaint = draft(confirm=False)
    link, _ = _link(complaint)
    with pytest.raises(IntakeError) as caught:
        answer_confirmation_link(link, confirmed=False, correction=" ")
    assert caught.value.field == "correction"
    assert link.used_at is None
    answer_confirmation_link(link, confirmed=False, correction="日期应为5月21日")
    assert complaint.correction_requested == "日期应为5月21日"
    assert not complaint.is_confirmed
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "complaint.correction_requested"))
    assert "5月21日" not in str(event.details)


def test_evidence_of_a_rolled_back_upload_leaves_no_file(ctx):
    import io

    from portal.services import evidence

    complaint = draft(confirm=False)
    db.session.commit()
    item = evidence.add_evidence(reception(), complaint, stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n"),
                                 filename="contract.pdf", category="engagement_contract")
    stored = evidence.path_of(item)
    assert stored.exists()
    db.session.rollback()
    assert not stored.exists()
