"""A demo complaint that waits for the committee's vote (`flask demo seed`; README walkthrough).

恒远贸易 complains about 黄静's handling of its trademark case (matter M-2026-0090, whose
supervising partner is 马文博, committee3). The record is registered as the demo's other
complaints are; everything after that goes through the services a partner and an
investigator use in the browser, each step audited: the triage, the assignment, the
findings and their report, and a ballot with two proposals opened by 刘慧敏 (partner2).

The committee then stands as follows:
- 郑志强 (committee1) and 孙海燕 (committee2) vote;
- 陈志远 (partner) is recused as the investigation's lead;
- 马文博 (committee3) is recused as the matter's supervising partner.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import Client, Complaint, Matter, State, User
from portal.services import deadlines, findings
from portal.services.intake.registration import next_reference
from portal.services.resolution import ballots
from portal.services.triage.assignment import assign
from portal.services.triage.triage import AllegationInput, triage

MATTER = "M-2026-0090"
NARRATIVE = (
    "我公司委托贵所代理商标侵权诉讼。承办律师黄静在举证期限届满前两天才通知我方补充商标使用证据，"
    "我方来不及公证，部分证据未被法院采纳。此后两个月里，我们三次发邮件询问进展，均未得到答复。"
    "我方要求贵所解释原因，书面道歉，并退还部分律师费。")
ALLEGATIONS = (
    ("举证期限届满前两天才通知客户补充证据，致部分证据未被采纳。", "delay"),
    ("客户三次书面询问案件进展，两个月内未获答复。", "communication"),
)
FINDINGS = (
    "通知客户补充证据确实迟延：所内工作记录显示，律师在期限届满前两天才发出通知。",
    "三封询问邮件均已送达律师邮箱，律师没有回复，也没有安排其他人员回复。",
)


def _person(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _registered() -> Complaint:
    """The complaint as registered ten days ago (direct rows, like the demo's others)."""
    matter = db.session.scalar(select(Matter).where(Matter.reference == MATTER))
    client = db.session.get(Client, matter.client_id)
    received = clock.now() - timedelta(days=10)
    reception = _person("reception")
    complaint = Complaint(
        reference=next_reference(received.year), state=State.REGISTERED.value,
        channel="email", received_at=received, registered_at=received + timedelta(hours=2),
        language=client.language, complainant=client, matter=matter,
        respondents=[matter.responsible_lawyer], narrative=NARRATIVE,
        remedies_sought=["explanation", "apology", "partial_refund"],
        confirmed_at=received + timedelta(hours=1), confirmed_by_id=reception.id,
        confirmation_method="signed_link", created_by_id=reception.id)
    db.session.add(complaint)
    db.session.flush()
    deadlines.start_first_response_clock(
        complaint, int(current_app.config["FIRST_RESPONSE_WORKING_DAYS"]))
    return complaint


def _investigated(complaint: Complaint) -> None:
    """Triage and assignment by 陈志远, every allegation answered by him as the lead."""
    partner = _person("partner")
    respondent = complaint.respondents[0].id
    triage(partner, complaint, severity="general", categories=["delay", "communication"],
           assessment="证据通知迟延与沟通不畅，两项均有书面记录可查。",
           allegations=[AllegationInput(text, category, respondent)
                        for text, category in ALLEGATIONS],
           handler_id=partner.id)
    assign(partner, complaint, lead_id=partner.id,
           investigator_ids=[_person("investigator").id])
    for allegation, reasoning in zip(complaint.allegations, FINDINGS, strict=True):
        findings.save_answer(partner, complaint, allegation.id, findings.Answer(
            finding="established", reasoning=reasoning, nature_found=allegation.category,
            severity_found="general", responsibility="individual", remedies=["apology"]),
            expected_version=allegation.findings_version)


def _ballot(complaint: Complaint) -> None:
    complaint.matter.fees_agreed = complaint.matter.fees_paid = 60000
    proposals = [
        ballots.ProposalInput(
            remedies=["explanation", "written_apology", "partial_refund", "internal_criticism"],
            partial_amount="8000",
            rationale="两项投诉均查证属实：书面解释并致歉，退还证据阶段的部分律师费，"
                      "对承办律师内部批评。"),
        ballots.ProposalInput(remedies=["explanation", "written_apology"],
                              rationale="证据未被采纳另有法院认定的原因：解释并致歉，不退费。"),
    ]
    ballots.open_ballot(_person("partner2"), complaint, ballots.BallotInput(
        proposals=proposals, closes_at=clock.now() + timedelta(days=3),
        max_refund="12000", revision_note="协商中退费合计不超过 12,000 元。"),
        expected_version=complaint.version)


def seed_committee_case() -> str:
    """Create the complaint and open its ballot; returns its reference. Call it outside any
    transaction: the investigation report is rendered between two write transactions."""
    with write_transaction():
        complaint = _registered()
        _investigated(complaint)
        complaint_id, reference = complaint.id, complaint.reference
        lead = _person("partner")
        findings.check_submittable(lead, complaint)
        facts, at = findings.build_facts(complaint, lead)
        version, fingerprint = complaint.version, findings.fingerprint(complaint)
    pdf = findings.render_report(facts)
    with write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        findings.submit(_person("partner"), complaint, findings.PreparedReport(facts, pdf, at),
                        expected_version=version, expected_fingerprint=fingerprint)
        _ballot(complaint)
    return reference
