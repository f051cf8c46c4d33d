"""The decision's services: recording it from the adopted proposal, the refund cap over the
matter's complaints, the matter's fees, the negotiation round's revision within the ballot's
limit, the outcome notice refused without recourse text, notices by post, recourse texts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.db import db, write_transaction
from portal.models import AuditEvent, Complaint, Decision, Matter, Notice, RecourseText, State
from portal.models.outbox import OutboxMessage
from portal.services import notices, postal
from portal.services.intake.errors import ConflictError
from portal.services.resolution import decisions, money, outcome, recourse
from portal.services.resolution.common import ResolutionError, StaleVersion
from tests.decision_support import (
    SUMMARY,
    awaiting,
    decide,
    dispute,
    due_dates,
    issue,
    person,
    set_recourse,
)


@pytest.fixture(autouse=True)
def english_refusals(app):
    """The services run outside a request here, in the default language; their refusals are
    read in English (the Chinese ones come from the catalogue)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"



@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def _record(complaint_id: int, **changes):
    complaint = db.session.get(Complaint, complaint_id)
    args = {"proposal_id": decisions.basis(complaint)[1].id, "due": due_dates(complaint),
            "client_summary": SUMMARY, "expected_version": complaint.version, **changes}
    return decisions.record(person("partner2"), complaint, **args)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_decision_takes_the_adopted_remedies_with_their_dates(app):
    cid = awaiting(app)
    with app.app_context():
        with write_transaction():
            due = due_dates(db.session.get(Complaint, cid))
            decision = _record(cid, due=due)
        complaint = db.session.get(Complaint, cid)
        assert complaint.state == State.DECIDED
        assert decision.number == 1 and decision.client_summary == SUMMARY
        assert [r.kind for r in decision.remedies] == [
            "written_apology", "partial_refund", "free_follow_up", "internal_criticism",
            "disciplinary"]
        assert sorted(r.due for r in decision.remedies) == sorted(due.values())
        assert [r.kind for r in decision.client_remedies] == [
            "written_apology", "partial_refund", "free_follow_up"]
        event = _events("decision.recorded")[0]
        assert event.details["refund_total"] == "3000.00"
        assert SUMMARY not in str(event.details)


def test_a_decision_needs_every_due_date_and_the_summary(app):
    cid = awaiting(app)
    with app.app_context():
        with write_transaction():
            complaint = db.session.get(Complaint, cid)
            due = due_dates(complaint)
            first = next(iter(due))
            due[first] = None
            due[list(due)[1]] = clock.today() - timedelta(days=1)
            with pytest.raises(ResolutionError) as refused:
                _record(cid, due=due, client_summary="  ")
        assert set(refused.value.errors) == {f"due-{first}", f"due-{list(due)[1]}",
                                             "client_summary"}
        assert db.session.get(Complaint, cid).state == State.AWAITING_DECISION


@pytest.mark.parametrize("ballot", [{"ballot_open": True}, {"outcome_code": "tie"},
                                    {"outcome_code": "none_adopted"}])
def test_no_decision_while_the_ballot_is_open_or_undecided(app, ballot):
    cid = awaiting(app, **ballot)
    with app.app_context(), write_transaction(), pytest.raises(ResolutionError):
        decisions.basis(db.session.get(Complaint, cid))


def test_a_stale_version_changes_nothing(app):
    cid = awaiting(app)
    with app.app_context():
        with write_transaction(), pytest.raises(StaleVersion):
            complaint = db.session.get(Complaint, cid)
            _record(cid, expected_version=complaint.version - 1)
        assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


def test_a_refund_above_the_fees_paid_over_the_matters_complaints_is_refused(app):
    """10,000 paid; another complaint on the matter refunds 8,000: 3,000 more is refused."""
    other = awaiting(app, reference="TS-2026-00070",
                     remedies=[("partial_refund", "8000", None, None)])
    decide(app, other)
    cid = awaiting(app)
    with app.app_context():
        with write_transaction(), pytest.raises(ResolutionError) as refused:
            _record(cid)
        assert "CNY 2,000.00" in refused.value.message  # what is left
        complaint = db.session.get(Complaint, cid)
        assert complaint.state == State.AWAITING_DECISION and not complaint.decisions
        assert money.refund_room(complaint).remaining == Decimal("2000.00")


def test_a_full_refund_is_the_room_left_on_the_matter(app):
    other = awaiting(app, reference="TS-2026-00070",
                     remedies=[("partial_refund", "2500", None, None)])
    decide(app, other)
    cid = awaiting(app, remedies=[("full_refund", "10000", None, None)])
    decide(app, cid)
    with app.app_context():
        remedy = db.session.get(Complaint, cid).current_decision.remedies[0]
        assert remedy.amount == Decimal("7500.00")
        # and it counts in full on the other complaint's room now
        assert money.refund_room(db.session.get(Complaint, other)).remaining == Decimal("2500")


def test_no_refund_without_the_fees_recorded(app):
    cid = awaiting(app, fees_paid=None)
    with app.app_context(), write_transaction(), pytest.raises(ResolutionError) as refused:
        _record(cid)
    assert "record the fees first" in refused.value.message


def test_a_decision_without_refunds_needs_no_fees(app):
    cid = awaiting(app, fees_paid=None, remedies=[("explanation", None, None, None)])
    decide(app, cid)


def test_fees_are_audited_with_old_and_new_amounts_and_checked(app):
    cid = awaiting(app, remedies=[("partial_refund", "4000", None, None)])
    decide(app, cid)
    with app.app_context():
        matter_id = db.session.get(Complaint, cid).matter_id
        with write_transaction():
            matter = db.session.get(Matter, matter_id)
            version = matter.version
            money.set_fees(person("partner2"), matter,
                           money.FeesInput("20,000", "12000.5", "cny"), expected_version=version)
        event = _events("matter.fees_set")[0]
        assert event.details["old"] == {"fees_agreed": None, "fees_paid": "10000.00",
                                        "currency": "CNY"}
        assert event.details["new"] == {"fees_agreed": "20000.00", "fees_paid": "12000.50",
                                        "currency": "CNY"}
        with write_transaction(), pytest.raises(ConflictError):
            money.set_fees(person("partner2"), db.session.get(Matter, matter_id),
                           money.FeesInput("", "9000", "CNY"), expected_version=version)
        with write_transaction(), pytest.raises(ResolutionError) as below:
            matter = db.session.get(Matter, matter_id)
            money.set_fees(person("partner2"), matter, money.FeesInput("", "3000", "CNY"),
                           expected_version=matter.version)
        assert below.value.field == "fees_paid"
        with write_transaction(), pytest.raises(ResolutionError):
            matter = db.session.get(Matter, matter_id)
            money.set_fees(person("committee1"), matter, money.FeesInput("", "9000", "CNY"),
                           expected_version=matter.version)
        assert db.session.get(Matter, matter_id).fees_paid == Decimal("12000.50")
        with write_transaction(), pytest.raises(ResolutionError) as excess:
            matter = db.session.get(Matter, matter_id)
            money.set_fees(person("partner2"), matter, money.FeesInput("11000", "12000.5", "CNY"),
                           expected_version=matter.version)
        assert excess.value.field == "fees_paid"  # confirmed, with a reason, on the matter
        assert "matter" in excess.value.message


# -- negotiation --------------------------------------------------------------------------

def _revision(complaint: Complaint, amount: str, **changes) -> decisions.Revision:
    later = clock.today() + timedelta(days=30)
    remedies = [decisions.RevisedRemedy(r.id, True, amount=amount, scope=r.scope or "",
                                        due=later)
                for r in complaint.current_decision.client_remedies]
    values = {"remedies": remedies, "reason": "客户提供了补充材料。",
              "client_summary": SUMMARY + "（修订）", **changes}
    return decisions.Revision(**values)


def _negotiating(app, max_refund: str | None = "5000") -> int:
    cid = awaiting(app, max_refund=max_refund)
    set_recourse(app)
    decide(app, cid)
    issue(app, cid)
    dispute(app, cid)
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, cid)
        decisions.record_discussion(person("partner2"), complaint,
                                    discussion="电话沟通，客户要求退还更多费用。",
                                    expected_version=complaint.version)
    return cid


def test_the_discussion_opens_negotiation(app):
    cid = _negotiating(app)
    with app.app_context():
        complaint = db.session.get(Complaint, cid)
        assert complaint.state == State.NEGOTIATION
        assert decisions.open_round(complaint).discussion.startswith("电话沟通")


def test_a_revision_above_the_ballots_maximum_is_refused(app):
    cid = _negotiating(app, max_refund="5000")
    with app.app_context():
        with write_transaction(), pytest.raises(ResolutionError) as refused:
            complaint = db.session.get(Complaint, cid)
            decisions.revise(person("partner2"), complaint, _revision(complaint, "5000.01"),
                             expected_version=complaint.version)
        assert "5,000.00" in refused.value.message
        complaint = db.session.get(Complaint, cid)
        assert complaint.state == State.NEGOTIATION and len(complaint.decisions) == 1


def test_without_a_maximum_a_revision_may_not_refund_more(app):
    cid = _negotiating(app, max_refund=None)
    with app.app_context(), write_transaction(), pytest.raises(ResolutionError):
        complaint = db.session.get(Complaint, cid)
        decisions.revise(person("partner2"), complaint, _revision(complaint, "3500"),
                         expected_version=complaint.version)


def test_a_revision_within_the_limit_is_decision_two(app):
    cid = _negotiating(app, max_refund="5000")
    with app.app_context():
        with write_transaction():
            complaint = db.session.get(Complaint, cid)
            with pytest.raises(ResolutionError) as no_reason:
                decisions.revise(person("partner2"), complaint,
                                 _revision(complaint, "4500", reason=" "),
                                 expected_version=complaint.version)
            assert "reason" in no_reason.value.errors
        with write_transaction():
            complaint = db.session.get(Complaint, cid)
            revised = decisions.revise(person("partner2"), complaint,
                                       _revision(complaint, "4500"),
                                       expected_version=complaint.version)
        complaint = db.session.get(Complaint, cid)
        assert complaint.state == State.DECIDED and revised.number == 2
        assert revised.reason == "客户提供了补充材料。"
        refund = next(r for r in revised.remedies if r.kind == "partial_refund")
        assert refund.amount == Decimal("4500.00")
        assert {r.kind for r in revised.remedies if r.is_internal} == {
            "internal_criticism", "disciplinary"}
        round_ = decisions.rounds(complaint)[0]
        assert round_.outcome == "revised" and round_.revised_decision_id == revised.id
        assert round_.closed_at is not None
    notice_id = issue(app, cid)  # the revised notice: version 2
    with app.app_context():
        assert db.session.get(Notice, notice_id).version == 2


# -- the outcome notice, posting, recourse --------------------------------------------------

def test_no_notice_without_recourse_text_in_both_languages(app):
    cid = awaiting(app)
    decide(app, cid)
    set_recourse(app, zh=RECOURSE_ZH, en="   ")
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            pytest.raises(ResolutionError) as refused:
        outcome.prepare(person("partner2"), db.session.get(Complaint, cid))
    assert "PRC" in refused.value.message and "English" in refused.value.message
    with app.app_context():
        assert db.session.get(Complaint, cid).state == State.DECIDED
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


RECOURSE_ZH = "可以向律师协会投诉。"


def test_a_client_without_email_gets_the_notice_by_post(app):
    cid = awaiting(app, client_email=None, address="上海市徐汇区漕溪北路 88 号")
    set_recourse(app)
    decide(app, cid)
    notice_id = issue(app, cid)
    with app.app_context():
        notice = db.session.get(Notice, notice_id)
        assert notice.delivery == "post" and notice.posted_on is None
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        complaint = db.session.get(Complaint, cid)
        assert complaint.state == State.OUTCOME_SENT
        assert complaint.current_decision.notice_id == notice_id
        assert complaint.current_decision.answer_due > clock.today()
        with write_transaction(), pytest.raises(postal.PostError):
            postal.record_posted(person("reception"), complaint, notice_id,
                                 clock.today() + timedelta(days=1), expected="")
        with write_transaction():
            postal.record_posted(person("reception"), db.session.get(Complaint, cid),
                                 notice_id, clock.today(), expected="")
        with write_transaction(), pytest.raises(ConflictError):
            postal.record_posted(person("partner2"), db.session.get(Complaint, cid),
                                 notice_id, clock.today(), expected="")
        assert db.session.get(Notice, notice_id).posted_on == clock.today()


def test_no_email_and_no_address_is_refused_with_why(app):
    cid = awaiting(app, client_email=None, address=None)
    set_recourse(app)
    decide(app, cid)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            pytest.raises(postal.PostError):
        outcome.prepare(person("partner2"), db.session.get(Complaint, cid))


def test_the_acknowledgement_for_a_client_without_email_goes_by_post(app):
    with app.app_context():
        from tests.findings_factory import make_investigation

        cid = make_investigation(client_email=None, state=State.REGISTERED)
        with write_transaction():
            complaint = db.session.get(Complaint, cid)
            complaint.complainant.address = "北京市朝阳区建国路 88 号"
            assert notices.queue_acknowledgement(person("reception"), complaint) is None
        assert _events("notice.post_required")[0].details == {"kind": "acknowledgement"}
        complaint = db.session.get(Complaint, cid)
        assert postal.acknowledgement_owed(complaint)
        context = postal.acknowledgement_context(complaint)
        db.session.commit()
        pdf = postal.render(postal.ACKNOWLEDGEMENT, context)
        with write_transaction():
            complaint = db.session.get(Complaint, cid)
            notice = postal.store_acknowledgement(person("reception"), complaint, pdf,
                                                  expected_version=complaint.version)
            assert notice.delivery == "post"
        assert not postal.acknowledgement_owed(db.session.get(Complaint, cid))


def test_recourse_texts_are_kept_by_partners_with_a_version(app):
    set_recourse(app)
    with app.app_context():
        before = db.session.get(RecourseText, "PRC").version
        with write_transaction():
            row = recourse.update(person("partner2"), "PRC", text_zh="新的中文", text_en="New",
                                  expected_version=before)
            assert row.version == before + 1
        with write_transaction(), pytest.raises(ConflictError):
            recourse.update(person("partner2"), "PRC", text_zh="a", text_en="b",
                            expected_version=before)
        with write_transaction(), pytest.raises(ResolutionError):
            recourse.update(person("committee1"), "PRC", text_zh="a", text_en="b",
                            expected_version=before + 1)
        with write_transaction(), pytest.raises(ResolutionError) as empty:
            recourse.add(person("partner2"), "hk", text_zh="香港", text_en="")
        assert "text_en" in empty.value.errors
        with write_transaction():
            recourse.add(person("partner2"), "hk", text_zh="香港律师会", text_en="Law Society")
        assert recourse.missing_languages("HK") == []
        assert [e.details for e in _events("recourse.updated")] == [
            {"jurisdiction": "PRC", "languages": ["zh", "en"], "version": before + 1}]
