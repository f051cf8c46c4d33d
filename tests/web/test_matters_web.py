"""Matters in the browser (/matters): who sees which matter (a lawyer without any complaint
role, a team member, a supervising partner who is not a partner, a partner), the list's filters
and its query count, a new matter and its edits (partners; fees paid above agreed need a
partner's confirmation; a stale form is a 409 that keeps the input), and the matter's page:
expectations with their gaps and history, the stage checklist with its documents (another
matter's step is a 404), progress reports (not in the future, not before the matter opened)
and the overdue warning when the clock passes the next report's day."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import AuditEvent, Client, Department, Matter, User
from portal.models.prevention import (
    ExpectationEntry,
    MatterChecklistItem,
    ProgressReport,
)
from portal.services.accounts import hash_password
from tests.conftest import DEMO_PASSWORD
from tests.web.test_intake_support import HX
from tests.web.test_query_counts import _counting

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- helpers -------------------------------------------------------------------------------------

def _id(app, model, **filters) -> int:
    with app.app_context():
        return db.session.scalar(select(model.id).filter_by(**filters))


def _give_login(app, name: str, username: str) -> None:
    """A lawyer recorded without a login gets one, still without any role."""
    with app.app_context(), write_transaction():
        user = db.session.scalar(select(User).where(User.name == name))
        user.username, user.password_hash = username, hash_password(DEMO_PASSWORD)
        assert not user.roles


def _sign_in(client, username: str) -> None:
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text


def _matter(app, reference: str) -> Matter | None:
    with app.app_context():
        matter = db.session.scalar(select(Matter).where(Matter.reference == reference))
        if matter is not None:
            _ = matter.team, matter.matter_type
        db.session.expunge_all()
        return matter


def _form(app, **changes) -> dict:
    data = {"reference": "M-2026-0500", "title": "李明诉某公司买卖合同纠纷",
            "client": str(_id(app, Client, name="李明")), "case_number": "(2026)京0105民初1号",
            "type_code": "litigation",
            "department": str(_id(app, Department, name_en="Dispute Resolution")),
            "lawyer": str(_id(app, User, name="王磊")),
            "partner": str(_id(app, User, username="partner2")),
            "team": [str(_id(app, User, name="张敏"))],
            "opened_on": (clock.today() - timedelta(days=10)).isoformat(), "status": "open",
            "closed_on": "", "interval": "", "fees_agreed": "10000", "fees_paid": "5000",
            "currency": "CNY"}
    data.update(changes)
    return data


def _create(app, client, **changes) -> str:
    response = client.post("/matters", data=_form(app, **changes), headers=HX)
    assert response.status_code == 200, response.text
    return response.headers["HX-Redirect"].rsplit("/", 1)[1]


def _items(app, reference: str) -> list[MatterChecklistItem]:
    with app.app_context():
        rows = db.session.scalars(
            select(MatterChecklistItem).join(Matter).where(Matter.reference == reference)
            .order_by(MatterChecklistItem.position)).all()
        db.session.expunge_all()
        return rows


def _refs(html: str) -> set[str]:
    return set(re.findall(r'href="/matters/(M-[0-9-]+)"', html))


@pytest.fixture
def lawyer(app, client):
    """王磊 with a login and no role: responsible for M-2025-0142, on M-2026-0031's team."""
    _give_login(app, "王磊", "wanglei")
    _sign_in(client, "wanglei")
    return client


# -- who sees what -------------------------------------------------------------------------------

def test_a_lawyer_without_any_role_signs_in_and_sees_only_their_matters(app, lawyer):
    home = lawyer.get("/")
    assert home.status_code == 200
    assert 'href="/matters"' in home.text and 'href="/bulletins"' in home.text
    assert "You hold no complaint role" in home.text
    assert 'href="/complaints"' not in home.text
    listed = lawyer.get("/matters")
    assert _refs(listed.text) == {"M-2025-0142", "M-2026-0031"}
    assert "New matter" not in listed.text
    assert lawyer.get("/matters/M-2025-0142").status_code == 200
    for hidden in ("M-2025-0188", "M-2026-0057", "NO-SUCH-MATTER"):
        assert lawyer.get(f"/matters/{hidden}").status_code == 404  # never a 403
    assert lawyer.get("/bulletins").status_code == 200
    for forbidden in ("/complaints", "/matters/new", "/admin/matter-types"):
        assert lawyer.get(forbidden).status_code == 403


def test_a_team_member_and_a_supervisor_without_the_partner_role(app, client):
    _give_login(app, "张敏", "zhangmin")  # on M-2025-0142's team, responsible for M-2026-0031
    _sign_in(client, "zhangmin")
    assert _refs(client.get("/matters").text) == {"M-2025-0142", "M-2026-0031"}
    _sign_in(client, "committee1")  # supervises M-2026-0057, holds the committee role only
    assert _refs(client.get("/matters").text) == {"M-2026-0057"}
    assert client.get("/matters/M-2025-0142").status_code == 404


def test_partners_see_every_matter_and_the_navigation_names_matters(partner):
    assert _refs(partner.get("/matters").text) == {
        "M-2025-0142", "M-2025-0188", "M-2026-0031", "M-2026-0057", "M-2026-0090"}
    page = partner.get("/").text
    assert 'href="/matters"' in page and 'href="/admin"' in page
    assert 'href="/admin/matter-types"' in partner.get("/admin").text  # under Settings


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_every_signed_in_staff_member_has_matters_in_the_navigation(client, auth, role):
    auth.login_as(role)
    assert 'href="/matters"' in client.get("/").text
    assert client.get("/matters").status_code == 200


# -- the list ------------------------------------------------------------------------------------

def test_filters_and_search(app, partner, clock):
    assert _refs(partner.get("/matters?q=王芳").text) == {"M-2025-0188"}  # the client
    assert _refs(partner.get("/matters?q=沪73民初").text) == {"M-2026-0090"}  # case number
    assert _refs(partner.get("/matters?q=m-2026-00").text) == {
        "M-2026-0031", "M-2026-0057", "M-2026-0090"}
    lawyer = _id(app, User, name="王磊")
    assert _refs(partner.get(f"/matters?lawyer={lawyer}").text) == {"M-2025-0142"}
    family = _id(app, Department, name_en="Family and Private Clients")
    assert _refs(partner.get(f"/matters?department={family}").text) == {"M-2025-0188"}
    reference = _create(app, partner, type_code="family", reference="M-2026-0777",
                        opened_on=clock.today().isoformat())
    assert reference in _refs(partner.get("/matters?type=family&gaps=1").text)
    assert reference not in _refs(partner.get("/matters?overdue=1").text)
    late = _create(app, partner, reference="M-2026-0778",
                   opened_on=(clock.today() - timedelta(days=40)).isoformat())
    overdue = _refs(partner.get("/matters?overdue=1&status=open").text)
    assert late in overdue and reference not in overdue
    assert late not in _refs(partner.get("/matters?status=closed").text)
    response = partner.get("/matters?status=bogus&lawyer=abc&department=" + "9" * 30)
    assert response.status_code == 200 and "Unknown status" in response.text


def _add_matters(app, count: int) -> None:
    with app.app_context(), write_transaction():
        people = list(db.session.scalars(select(User)))
        clients = list(db.session.scalars(select(Client)))
        departments = list(db.session.scalars(select(Department)))
        start = db.session.scalar(select(db.func.count(Matter.id)))
        for number in range(count):
            db.session.add(Matter(
                reference=f"B-{start + number:05d}", title=f"Matter {number}",
                client=clients[number % len(clients)],
                department=departments[number % len(departments)],
                responsible_lawyer=people[number % len(people)],
                matter_type_code=("litigation", "family", "ip")[number % 3],
                opened_on=clock.today() - timedelta(days=number),
                report_due_on=clock.today() - timedelta(days=number % 5)))


def test_the_list_takes_the_same_number_of_queries_whatever_the_number_of_matters(
        app, partner):
    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache

    def measure() -> dict[str, int]:
        counts = {}
        for url in ("/matters", "/matters?q=matter&overdue=1", "/matters?page=2&gaps=1"):
            partner.get(url)
            with _counting(app) as statements:
                assert partner.get(url).status_code == 200
            counts[url] = len(statements)
        return counts

    _add_matters(app, 3)
    small = measure()
    _add_matters(app, 60)
    assert measure() == small
    assert max(small.values()) <= 12


# -- a new matter, its edits ---------------------------------------------------------------------

def test_a_partner_creates_a_matter_with_its_checklist_and_its_gaps_flagged(app, partner):
    assert partner.get("/matters/new").status_code == 200
    reference = _create(app, partner)
    assert reference == "M-2026-0500"
    matter = _matter(app, reference)
    assert matter.report_due_on == clock.today() + timedelta(days=20)  # opened 10 days ago
    assert matter.expectation_gaps == 6 and [u.name for u in matter.team] == ["张敏"]
    items = _items(app, reference)
    assert len(items) == 11 and items[0].label_en == "Client received and the request recorded"
    page = partner.get(f"/matters/{reference}").text
    assert "6 expectations missing" in page and page.count(">Missing<") == 6
    assert "Engagement contract signed" in page and "Next report due on" in page
    with app.app_context():
        event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                            "matter.created"))
        assert event_.details["matter_id"] == matter.id and "李明" not in str(event_.details)


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_only_partners_create_and_edit_matters(app, client, auth, role):
    auth.login_as(role)
    assert client.get("/matters/new").status_code == 403
    assert client.post("/matters", data=_form(app), headers=HX).status_code == 403
    assert client.post("/matters/M-2025-0142/edit", data=_form(app),
                       headers=HX).status_code == 403


def test_bad_input_is_refused_with_messages_and_keeps_what_was_typed(app, partner):
    response = partner.post("/matters", headers=HX, data=_form(
        app, reference="M-2025-0142", title="", client="9" * 30, opened_on="2026-13-45",
        fees_agreed="abc"))
    assert response.status_code == 422
    assert "is not a date" in response.text and 'value="abc"' in response.text
    response = partner.post("/matters", headers=HX, data=_form(
        app, reference="m-2025-0142", title="", client="9" * 30, fees_agreed="abc"))
    assert response.status_code == 422
    for message in ("Another matter has the number M-2025-0142.", "Give the matter a title.",
                    "Choose the client from those on file.",
                    "Enter the amount as a number"):
        assert message in response.text
    assert 'value="m-2025-0142"' in response.text
    future = (clock.today() + timedelta(days=1)).isoformat()
    response = partner.post("/matters", headers=HX, data=_form(app, opened_on=future))
    assert response.status_code == 422 and "The day cannot be in the future." in response.text


def test_fees_paid_above_agreed_need_a_partners_confirmation_with_a_reason(app, partner):
    response = partner.post("/matters", headers=HX, data=_form(
        app, fees_agreed="10000", fees_paid="12000"))
    assert response.status_code == 422
    assert "The fees paid (12,000.00) are more than the fees agreed (10,000.00)" in \
        response.text
    assert _matter(app, "M-2026-0500") is None
    response = partner.post("/matters", headers=HX, data=_form(
        app, fees_agreed="10000", fees_paid="12000", excess_reason="客户预付了二审费用"))
    assert response.status_code == 422  # a reason alone is not a confirmation
    reference = _create(app, partner, fees_agreed="10000", fees_paid="12000",
                        excess_reason="客户预付了二审费用", excess_confirmed="y")
    matter = _matter(app, reference)
    assert matter.fees_excess_reason == "客户预付了二审费用"
    assert matter.fees_excess_confirmed_by_id == _id(app, User, username="partner2")
    assert "Paid more than agreed, confirmed by a partner" in \
        partner.get(f"/matters/{reference}").text
    # Saving again with the same amounts and reason keeps the confirmation; new amounts ask
    # for it again.
    edit = partner.post(f"/matters/{reference}/edit", headers=HX, data=_form(
        app, fees_agreed="10000", fees_paid="12000", excess_reason="客户预付了二审费用",
        title="New title", version=matter.version))
    assert edit.status_code == 200, edit.text
    matter = _matter(app, reference)
    edit = partner.post(f"/matters/{reference}/edit", headers=HX, data=_form(
        app, fees_agreed="10000", fees_paid="13000", excess_reason="客户预付了二审费用",
        version=matter.version))
    assert edit.status_code == 422 and "more than the fees agreed" in edit.text


def test_a_stale_edit_answers_409_and_keeps_the_input(app, partner):
    reference = _create(app, partner)
    version = _matter(app, reference).version
    first = partner.post(f"/matters/{reference}/edit", headers=HX, data=_form(
        app, title="First title", version=version))
    assert first.status_code == 200
    stale = partner.post(f"/matters/{reference}/edit", headers=HX, data=_form(
        app, title="My own title", interval="14", version=version))
    assert stale.status_code == 409
    assert "Someone else changed this matter" in stale.text
    assert 'value="My own title"' in stale.text and 'value="14"' in stale.text
    assert _matter(app, reference).title == "First title"


def test_closing_a_matter_stops_its_report_clock_and_audits_the_change(app, partner):
    reference = _create(app, partner)
    matter = _matter(app, reference)
    response = partner.post(f"/matters/{reference}/edit", headers=HX, data=_form(
        app, status="closed", closed_on=clock.today().isoformat(), version=matter.version))
    assert response.status_code == 200, response.text
    closed = _matter(app, reference)
    assert closed.status == "closed" and closed.report_due_on is None
    with app.app_context():
        details = db.session.scalar(select(AuditEvent.details).where(
            AuditEvent.action == "matter.updated"))
    assert details["changed"] == ["closed_on", "status"]


# -- the matter's page ---------------------------------------------------------------------------

def test_expectations_are_recorded_with_history_and_the_gaps_go_down(app, partner, lawyer):
    _sign_in(lawyer, "partner2")
    reference = _create(app, partner)
    _sign_in(lawyer, "wanglei")  # the responsible lawyer records them
    url = f"/matters/{reference}/expectations/scope"
    response = lawyer.post(url, headers=HX, data={"text": "一审诉讼代理", "latest": "0"})
    assert response.status_code == 200 and "The expectation is recorded." in response.text
    assert "5 expectations missing" in response.text  # the tags, out of band
    with app.app_context():
        first = db.session.scalar(select(db.func.max(ExpectationEntry.id)))
    response = lawyer.post(url, headers=HX, data={"text": "一审及二审诉讼代理",
                                                  "latest": str(first)})
    assert response.status_code == 200 and "1 earlier entry" in response.text
    assert "王磊" in response.text
    stale = lawyer.post(url, headers=HX, data={"text": "我的版本", "latest": str(first)})
    assert stale.status_code == 409 and "我的版本" in stale.text
    procedure = f"/matters/{reference}/expectations/complaints_procedure"
    future = (clock.today() + timedelta(days=2)).isoformat()
    refused = lawyer.post(procedure, headers=HX, data={"given_on": future, "latest": "0"})
    assert refused.status_code == 422 and "The day cannot be in the future." in refused.text
    given = lawyer.post(procedure, headers=HX, data={"given_on": clock.today().isoformat(),
                                                     "latest": "0"})
    assert given.status_code == 200 and "Given to the client on" in given.text
    assert _matter(app, reference).expectation_gaps == 4
    assert lawyer.post(f"/matters/{reference}/expectations/bogus", headers=HX,
                       data={"text": "x"}).status_code == 404
    assert lawyer.post("/matters/M-2025-0188/expectations/scope", headers=HX,
                       data={"text": "x", "latest": "0"}).status_code == 404


def test_a_report_in_the_future_or_before_the_opening_is_refused(app, partner, clock):
    reference = _create(app, partner)
    url = f"/matters/{reference}/reports"
    future = partner.post(url, headers=HX, data={
        "reported_on": (clock.today() + timedelta(days=1)).isoformat(), "channel": "phone",
        "summary": "进展顺利"})
    assert future.status_code == 422
    assert "A report cannot be dated in the future" in future.text and "进展顺利" in future.text
    early = partner.post(url, headers=HX, data={
        "reported_on": (clock.today() - timedelta(days=11)).isoformat(), "channel": "phone",
        "summary": "进展顺利"})
    assert early.status_code == 422
    assert "a report cannot be dated before that" in early.text
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ProgressReport.id))
                                 .join(Matter).where(Matter.reference == reference)) == 0


def test_reports_move_the_next_day_and_an_overdue_report_is_flagged(app, partner, clock):
    reference = _create(app, partner)
    url = f"/matters/{reference}/reports"
    response = partner.post(url, headers=HX, data={
        "reported_on": clock.today().isoformat(), "channel": "email",
        "summary": "已提交证据", "text_sent": "尊敬的李先生：……"})
    assert response.status_code == 200 and "The progress report is logged." in response.text
    due = clock.today() + timedelta(days=30)
    assert _matter(app, reference).report_due_on == due
    assert "Progress report overdue" not in partner.get(f"/matters/{reference}").text
    clock.advance(timedelta(days=31))
    _sign_in(partner, "partner2")  # the session did not last a month
    page = partner.get(f"/matters/{reference}").text
    assert "Progress report overdue" in page and "Overdue" in page
    assert reference in _refs(partner.get("/matters?overdue=1").text)
    with app.app_context():
        details = db.session.scalar(select(AuditEvent.details).where(
            AuditEvent.action == "matter.report_logged"))
    assert details["due"] == due.isoformat() and "summary" not in details


def test_the_checklist_is_ticked_with_its_document_and_downloaded_by_whoever_may_see(
        app, partner, lawyer):
    _sign_in(lawyer, "partner2")
    reference = _create(app, partner)
    _sign_in(lawyer, "wanglei")
    items = _items(app, reference)
    plain = next(i for i in items if not i.needs_document)
    contract = next(i for i in items if i.needs_document)
    base = f"/matters/{reference}/checklist"
    response = lawyer.post(f"{base}/{plain.id}/tick", headers=HX,
                           data={"version": plain.version})
    assert response.status_code == 200 and "Ticked" in response.text
    refused = lawyer.post(f"{base}/{contract.id}/tick", headers=HX,
                          data={"version": contract.version})
    assert refused.status_code == 422 and "This step keeps a document" in refused.text
    html = lawyer.post(f"{base}/{contract.id}/tick", headers=HX, data={
        "version": contract.version, "document": (io.BytesIO(b"<html><script>"), "x.pdf")})
    assert html.status_code == 422 and "not accepted" in html.text
    ticked = lawyer.post(f"{base}/{contract.id}/tick", headers=HX, data={
        "version": contract.version, "document": (io.BytesIO(PDF), "委托合同.pdf")})
    assert ticked.status_code == 200, ticked.text
    item = next(i for i in _items(app, reference) if i.id == contract.id)
    assert item.ticked_by_id == _id(app, User, name="王磊")
    assert item.document_name == "委托合同.pdf" and len(item.document_sha256) == 64
    assert re.fullmatch(r"[0-9a-f]{32}", item.document_stored)
    download = lawyer.get(f"{base}/{contract.id}/document")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    stale = lawyer.post(f"{base}/{contract.id}/untick", headers=HX,
                        data={"version": contract.version})
    assert stale.status_code == 409 and "Someone else changed this step" in stale.text
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("matter.checklist%")).order_by(AuditEvent.id)))
    assert actions == ["matter.checklist_ticked", "matter.checklist_ticked",
                       "matter.checklist_document_downloaded"]
    _sign_in(lawyer, "investigator")
    assert lawyer.get(f"{base}/{contract.id}/document").status_code == 404


def test_another_matters_checklist_step_is_not_found(app, partner):
    mine = _create(app, partner)
    other = _create(app, partner, reference="M-2026-0501")
    foreign = _items(app, other)[0]
    base = f"/matters/{mine}/checklist/{foreign.id}"
    assert partner.post(f"{base}/tick", headers=HX,
                        data={"version": foreign.version}).status_code == 404
    assert partner.post(f"{base}/untick", headers=HX,
                        data={"version": foreign.version}).status_code == 404
    assert partner.post(f"{base}/document", headers=HX, data={
        "version": foreign.version, "document": (io.BytesIO(PDF), "a.pdf")}).status_code == 404
    assert partner.get(f"{base}/document").status_code == 404
    assert not _items(app, other)[0].ticked_at


def test_the_client_is_picked_from_those_on_file_with_or_without_javascript(app, partner):
    choices = partner.get("/matters/clients?client_q=王", headers=HX)
    assert choices.status_code == 200 and 'id="matter-client-choices"' in choices.text
    wang = _id(app, Client, name="王芳")
    assert f'name="client" value="{wang}"' in choices.text
    chosen = _id(app, Client, name="李明")
    kept = partner.get(f"/matters/clients?client_q=王&client={chosen}", headers=HX).text
    assert re.search(rf'value="{chosen}" checked', kept)  # the choice so far stays
    found = partner.post("/matters", data={**_form(app, client=""), "find_client": "1",
                                           "client_q": "王芳"})
    assert found.status_code == 200 and f'name="client" value="{wang}"' in found.text
    assert 'value="M-2026-0500"' in found.text and _matter(app, "M-2026-0500") is None


def test_without_javascript_a_section_saves_and_comes_back_to_the_page(app, partner):
    reference = _create(app, partner)
    response = partner.post(f"/matters/{reference}/reports", data={
        "reported_on": clock.today().isoformat(), "channel": "meeting", "summary": "会面"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/matters/{reference}#matter-reports"
    page = partner.get(f"/matters/{reference}").text
    assert "The progress report is logged." in page and "会面" in page
    refused = partner.post(f"/matters/{reference}/reports", data={
        "reported_on": "", "channel": "meeting", "summary": "没有日期"})
    assert refused.status_code == 422 and "<html" in refused.text and "没有日期" in refused.text
