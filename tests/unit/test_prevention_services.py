"""The prevention services behind the matters' pages: who may see and record on a matter (the
list for a lawyer without a role, a team member, a supervising partner, a partner), a new matter
(checklist copied, first report scheduled), fees above agreed, expectations (gaps, history,
stale), progress reports (dates), the checklist (another matter's step, documents) and
template edits that leave existing checklists alone."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models import Client, Department, Matter, User
from portal.models.prevention import MatterChecklistItem
from portal.services import evidence
from portal.services.prevention import checklist, expectations, listing, matters, reports, types
from portal.services.prevention.expectations import ExpectationChanged
from portal.services.prevention.matters import MatterChanged, PreventionError

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def ctx(app):
    """A request in English: the messages checked below are the English ones."""
    with app.test_request_context(), force_locale("en"), writes_by_default():
        yield


def _user(name: str) -> User:
    return db.session.scalar(select(User).where((User.username == name) | (User.name == name)))


def _input(**changes) -> matters.MatterInput:
    values = dict(
        reference="M-2026-0600", title="张伟诉某公司劳动争议",
        client_id=db.session.scalar(select(Client.id).where(Client.name == "张伟")),
        case_number="", type_code="labour",
        department_id=db.session.scalar(select(Department.id).where(
            Department.name_en == "Dispute Resolution")),
        lawyer_id=_user("张敏").id, partner_id=_user("partner").id,
        team_ids=(_user("王磊").id,), opened_on=clock.today() - timedelta(days=5),
        status="open", closed_on=None, interval="", fees_agreed="8000", fees_paid="",
        currency="CNY")
    values.update(changes)
    return matters.MatterInput(**values)


def _new(**changes) -> Matter:
    return matters.create(_user("partner2"), _input(**changes))


def _visible(user: User) -> set[str]:
    page = listing.listing(user, listing.MatterFilters())
    return {m.reference for m in page.rows}


def test_the_list_follows_the_visibility_rule(ctx):
    _new()
    assert _visible(_user("王磊")) == {"M-2025-0142", "M-2026-0031", "M-2026-0600"}
    assert _visible(_user("张敏")) == {"M-2025-0142", "M-2026-0031", "M-2026-0600"}
    assert _visible(_user("committee3")) == {"M-2026-0090"}
    assert _visible(_user("reception")) == set()
    assert len(_visible(_user("partner2"))) == 6
    assert matters.find(_user("王磊"), "M-2025-0188") is None
    assert matters.find(_user("partner2"), "M-2025-0188") is not None


def test_a_new_matter_gets_its_types_checklist_and_its_first_report_day(ctx):
    matter = _new()
    assert matter.report_due_on == clock.today() + timedelta(days=16)  # labour: 21 days
    assert matter.expectation_gaps == 6
    steps = checklist.grouped(matter)
    assert [stage for stage, _label, _items in steps][0] == "reception"
    assert sum(len(items) for _s, _l, items in steps) == 10
    with pytest.raises(PreventionError) as refused:
        matters.create(_user("investigator"), _input(reference="M-2026-0601"))
    assert "Only partners" in refused.value.message


def test_fees_above_agreed_need_a_confirmation_kept_until_they_change(ctx):
    with pytest.raises(PreventionError) as refused:
        _new(fees_paid="9000")
    assert "excess_reason" in refused.value.errors
    matter = _new(fees_paid="9000", excess_reason="预付了鉴定费", excess_confirmed=True)
    assert matter.fees_excess_confirmed_by_id == _user("partner2").id
    same = _input(fees_paid="9000", excess_reason="预付了鉴定费", title="Renamed")
    matter = matters.edit(_user("partner"), matter.id, same, expected_version=matter.version)
    assert matter.fees_excess_confirmed_by_id == _user("partner2").id  # unchanged: kept
    with pytest.raises(PreventionError):
        matters.edit(_user("partner"), matter.id, _input(fees_paid="9500",
                                                         excess_reason="预付了鉴定费"),
                     expected_version=matter.version)
    matter = matters.edit(_user("partner"), matter.id, _input(fees_paid="7000"),
                          expected_version=matter.version)
    assert matter.fees_excess_reason is None and matter.fees_excess_confirmed_by_id is None
    with pytest.raises(MatterChanged):
        matters.edit(_user("partner"), matter.id, _input(), expected_version=1)


def test_expectations_keep_their_history_and_recount_the_gaps(ctx):
    matter = _new()
    lawyer = _user("张敏")
    first = expectations.record(lawyer, matter.id, "scope", "仲裁阶段", None, latest_id=0)
    second = expectations.record(lawyer, matter.id, "scope", "仲裁及一审", None,
                                 latest_id=first.id)
    assert matter.expectation_gaps == 5
    with pytest.raises(ExpectationChanged):
        expectations.record(lawyer, matter.id, "scope", "另一个版本", None, latest_id=first.id)
    with pytest.raises(PreventionError):  # the procedure needs its day
        expectations.record(lawyer, matter.id, "complaints_procedure", "", None, latest_id=0)
    expectations.record(lawyer, matter.id, "complaints_procedure", "", clock.today(),
                        latest_id=0)
    views = {v.item.value: v for v in expectations.overview(matter)}
    assert [e.id for e in views["scope"].history] == [second.id, first.id]
    assert views["fees"].missing and not views["complaints_procedure"].missing
    assert matter.expectation_gaps == 4
    with pytest.raises(PreventionError):  # not on this matter's people
        expectations.record(_user("reception"), matter.id, "risks", "x", None, latest_id=0)


def test_reports_are_dated_between_the_opening_and_today(ctx):
    matter = _new()
    lawyer = _user("王磊")
    for day, message in ((clock.today() + timedelta(days=1), "in the future"),
                         (matter.opened_on - timedelta(days=1), "before that")):
        with pytest.raises(PreventionError) as refused:
            reports.log(lawyer, matter.id, reports.ReportInput(day, "phone", "进展"))
        assert message in refused.value.message
    reports.log(lawyer, matter.id, reports.ReportInput(clock.today(), "phone", "进展"))
    assert matter.report_due_on == clock.today() + timedelta(days=21)
    reports.log(lawyer, matter.id, reports.ReportInput(matter.opened_on, "email", "早先的"))
    assert matter.report_due_on == clock.today() + timedelta(days=21)  # the latest day counts
    assert [r.summary for r in reports.for_matter(matter)] == ["进展", "早先的"]


def test_a_step_of_another_matter_is_not_found_and_documents_are_checked(ctx):
    mine, other = _new(), _new(reference="M-2026-0601")
    foreign = checklist.grouped(other)[0][2][0]
    assert checklist.find(mine, foreign.id) is None
    with pytest.raises(PreventionError):
        checklist.tick(_user("partner2"), mine.id, foreign.id,
                       expected_version=foreign.version)
    needing = db.session.scalar(select(MatterChecklistItem).where(
        MatterChecklistItem.matter_id == mine.id, MatterChecklistItem.needs_document))
    with pytest.raises(PreventionError):
        checklist.tick(_user("王磊"), mine.id, needing.id, expected_version=needing.version)
    received = evidence.receive(io.BytesIO(PDF), "合同.pdf")
    item = checklist.tick(_user("王磊"), mine.id, needing.id,
                          expected_version=needing.version, document=received)
    assert item.ticked_by_id == _user("王磊").id and item.document_type == "application/pdf"
    assert checklist.path_of(item).read_bytes() == PDF
    assert checklist.download_names(item)[0] == "合同.pdf"


def test_template_edits_leave_existing_checklists_alone(ctx):
    matter = _new()
    before = [(i.label_en, i.needs_document) for _s, _l, items in checklist.grouped(matter)
              for i in items]
    partner = _user("partner2")
    kind = types.find("labour")
    first = min(kind.items, key=lambda s: s.position)
    types.update_step(partner, "labour", first.id, types.StepInput(
        "reception", "新标签", "New label", needs_document=True), expected_version=kind.version)
    types.add_step(partner, "labour", types.StepInput("closing", "新步骤", "New step"),
                   expected_version=kind.version)
    after = [(i.label_en, i.needs_document) for _s, _l, items in checklist.grouped(matter)
             for i in items]
    assert after == before
    fresh = _new(reference="M-2026-0602")
    labels = [i.label_en for _s, _l, items in checklist.grouped(fresh) for i in items]
    assert "New label" in labels and "New step" in labels
    with pytest.raises(types.TypeChanged):
        types.add_step(partner, "labour", types.StepInput("closing", "甲", "A"),
                       expected_version=1)
