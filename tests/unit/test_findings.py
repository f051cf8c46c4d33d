"""Findings: drafts per allegation, the submission's rules, and the stored investigation
report (bilingual, confidential on every page, immutable with its SHA-256)."""

from __future__ import annotations

import hashlib
import io
import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import AuditEvent, Complaint, Notice, State
from portal.services import findings, notices
from tests.findings_factory import answer_all, make_investigation, rule, user


@pytest.fixture(autouse=True)
def english_refusals(app):
    """The services run outside a request here, in the default language; their refusals are
    read in English (the Chinese ones come from the catalogue)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"



@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _complaint(complaint_id: int) -> Complaint:
    return db.session.get(Complaint, complaint_id, populate_existing=True)


def _answer(**overrides) -> findings.Answer:
    values = dict(finding="established", reasoning="邮件记录证实律师两周未回复。",
                  nature_found="communication", severity_found="general",
                  responsibility="individual", rule_ids=[rule("acla_rules", "37").id],
                  remedies=["apology", "partial_refund"], remedy_notes="退还20%律师费")
    values.update(overrides)
    return findings.Answer(**values)


def _prepare_and_submit(complaint_id: int, username: str = "investigator") -> Notice:
    complaint = _complaint(complaint_id)
    actor = user(username)
    findings.check_submittable(actor, complaint)
    facts, at = findings.build_facts(complaint, actor)
    version, fingerprint = complaint.version, findings.fingerprint(complaint)
    db.session.commit()
    pdf = findings.render_report(facts)
    with writes_by_default():
        notice = findings.submit(user(username), _complaint(complaint_id),
                                 findings.PreparedReport(facts, pdf, at),
                                 expected_version=version, expected_fingerprint=fingerprint)
        db.session.commit()
    return notice


def test_a_draft_is_saved_per_allegation_and_audited_without_its_text(ctx):
    complaint_id = make_investigation()
    with writes_by_default():
        complaint = _complaint(complaint_id)
        first = complaint.allegations[0]
        saved = findings.save_answer(user("investigator"), complaint, first.id, _answer(),
                                     expected_version=0)
        db.session.commit()
    assert (saved.finding, saved.responsibility, saved.findings_version) == (
        "established", "individual", 1)
    assert saved.remedies_recommended == ["apology", "partial_refund"]
    assert [r.article for r in saved.rules] == ["37"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "findings.saved"))
    assert event.details["allegation_id"] == first.id and event.details["answered"] is True
    assert "邮件" not in str(event.details) and "20%" not in str(event.details)


def test_a_draft_may_be_partial_but_not_made_of_unknown_codes(ctx):
    complaint_id = make_investigation()
    with writes_by_default():
        complaint = _complaint(complaint_id)
        allegation_id = complaint.allegations[0].id
        partial = findings.save_answer(user("partner2"), complaint, allegation_id,
                                       findings.Answer(reasoning="尚在核实。"),
                                       expected_version=0)
        db.session.commit()
        assert not partial.is_answered
        with pytest.raises(findings.FindingsError) as refused:
            findings.save_answer(user("partner2"), _complaint(complaint_id), allegation_id,
                                 _answer(finding="proven", remedies=["jail"], rule_ids=[-1]),
                                 expected_version=1)
        db.session.rollback()
    assert set(refused.value.errors) == {"finding", "remedies", "rule_ids"}
    assert _complaint(complaint_id).allegations[0].reasoning == "尚在核实。"


def test_an_inactive_rule_cannot_be_chosen_again(ctx):
    complaint_id = make_investigation()
    with writes_by_default():
        rule("lawyers_law", "3").active = False
        db.session.commit()
        complaint = _complaint(complaint_id)
        with pytest.raises(findings.FindingsError) as refused:
            findings.save_answer(user("investigator"), complaint, complaint.allegations[0].id,
                                 _answer(rule_ids=[rule("lawyers_law", "3").id]),
                                 expected_version=0)
        db.session.rollback()
    assert "rule_ids" in refused.value.errors


def test_a_stale_draft_is_refused_as_a_conflict(ctx):
    complaint_id = make_investigation()
    with writes_by_default():
        complaint = _complaint(complaint_id)
        allegation_id = complaint.allegations[0].id
        findings.save_answer(user("partner2"), complaint, allegation_id, _answer(),
                             expected_version=0)
        db.session.commit()
        with pytest.raises(findings.FindingsConflict):
            findings.save_answer(user("investigator"), _complaint(complaint_id), allegation_id,
                                 _answer(finding="not_established"), expected_version=0)
        db.session.rollback()
    assert _complaint(complaint_id).allegations[0].finding == "established"


def test_only_the_lead_or_a_partner_records_findings(ctx):
    complaint_id = make_investigation()
    with writes_by_default():
        complaint = _complaint(complaint_id)
        with pytest.raises(findings.FindingsConflict):
            findings.save_answer(user("investigator2"), complaint, complaint.allegations[0].id,
                                 _answer(), expected_version=0)
        db.session.rollback()


def test_submitting_with_an_unanswered_allegation_is_refused_and_changes_nothing(ctx):
    complaint_id = make_investigation(allegations=3)
    answer_all(complaint_id)
    with writes_by_default():
        complaint = _complaint(complaint_id)
        complaint.allegations[1].reasoning = "  "
        db.session.commit()
    complaint = _complaint(complaint_id)
    with pytest.raises(findings.FindingsError) as refused:
        findings.check_submittable(user("investigator"), complaint)
    assert "allegation 2" in refused.value.message
    assert list(refused.value.errors) == [f"allegation-{complaint.allegations[1].id}"]
    # the write refuses it too, whatever the route checked before
    with writes_by_default(), pytest.raises(findings.FindingsError):
        findings.submit(user("investigator"), _complaint(complaint_id),
                        findings.PreparedReport({}, b"%PDF", complaint.received_at),
                        expected_version=complaint.version,
                        expected_fingerprint=findings.fingerprint(complaint))
    db.session.rollback()
    complaint = _complaint(complaint_id)
    assert complaint.state == State.INVESTIGATING and complaint.findings_submitted_at is None
    assert db.session.scalar(select(Notice).where(Notice.complaint_id == complaint_id)) is None


def test_submitting_stores_a_bilingual_confidential_report_and_stops_the_clock(ctx):
    complaint_id = make_investigation(allegations=2)
    answer_all(complaint_id)
    notice = _prepare_and_submit(complaint_id)
    complaint = _complaint(complaint_id)
    assert complaint.state == State.AWAITING_DECISION
    assert complaint.findings_submitted_by_id == user("investigator").id
    assert complaint.findings_submitted_at is not None
    clock_row = complaint.deadline("investigation")
    assert clock_row.stopped_at == complaint.findings_submitted_at and not clock_row.stopped_late

    data = notices.read_bytes(notice)
    assert notice.kind == "investigation_report"
    assert notice.sha256 == hashlib.sha256(data).hexdigest() and notice.size == len(data)
    assert not notices.path_of(notice).stat().st_mode & 0o222  # stored read-only
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 1
    for text in pages:
        assert "CONFIDENTIAL" in text and "机密" in text
    everything = "\n".join(pages)
    for expected in ("投诉调查报告", "Investigation Report", "TS-2026-00077", "部分成立",
                     "Partly established", "律师个人", "An individual lawyer",
                     "第37条", "Art. 37", "待本所核实", "to be verified by the firm",
                     "往来邮件显示律师迟延回复", "示例律师事务所", "Example Law Firm"):
        assert expected in everything, expected
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "findings.submitted"))
    assert event.details["notice_id"] == notice.id and event.details["sha256"] == notice.sha256


def test_every_page_of_a_long_report_says_confidential_to_pdftotext(ctx, tmp_path):
    complaint_id = make_investigation(allegations=6)
    answer_all(complaint_id)
    with writes_by_default():
        for a in _complaint(complaint_id).allegations:
            a.reasoning = "经核查往来邮件与会议纪要，律师未在约定期限内答复。" * 40
        db.session.commit()
    notice = _prepare_and_submit(complaint_id)
    path = tmp_path / "report.pdf"
    path.write_bytes(notices.read_bytes(notice))
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))
    assert pages >= 3
    for number in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "CONFIDENTIAL" in text and "机密" in text, number


def test_a_change_while_the_report_renders_refuses_the_submission(ctx):
    complaint_id = make_investigation(allegations=1)
    answer_all(complaint_id)
    complaint = _complaint(complaint_id)
    actor = user("investigator")
    facts, at = findings.build_facts(complaint, actor)
    version, fingerprint = complaint.version, findings.fingerprint(complaint)
    db.session.commit()
    with writes_by_default():  # someone saves while the PDF renders
        _complaint(complaint_id).allegations[0].remedy_notes = "另行商定"
        db.session.commit()
    with writes_by_default(), pytest.raises(findings.FindingsConflict):
        findings.submit(user("investigator"), _complaint(complaint_id),
                        findings.PreparedReport(facts, b"%PDF-1.7", at),
                        expected_version=version, expected_fingerprint=fingerprint)
    db.session.rollback()
    assert _complaint(complaint_id).state == State.INVESTIGATING
    assert db.session.scalar(select(Notice).where(Notice.complaint_id == complaint_id)) is None


def test_findings_cannot_be_saved_once_submitted(ctx):
    complaint_id = make_investigation(allegations=1)
    answer_all(complaint_id)
    _prepare_and_submit(complaint_id)
    with writes_by_default(), pytest.raises(findings.FindingsConflict):
        complaint = _complaint(complaint_id)
        findings.save_answer(user("partner2"), complaint, complaint.allegations[0].id,
                             _answer(), expected_version=1)
    db.session.rollback()
