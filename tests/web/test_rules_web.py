"""Partners keep the rules catalogue at /admin/rules; nobody else may."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db
from portal.models import AuditEvent, RuleArticle
from tests.web.test_intake_support import HX


def _entry(app, source: str, article: str) -> RuleArticle:
    with app.app_context():
        entry = db.session.scalar(select(RuleArticle).where(RuleArticle.source == source,
                                                            RuleArticle.article == article))
        db.session.expunge_all()
        return entry


def _add(client, **fields):
    data = {"source": "firm_procedure", "article": "FP-06", "title_zh": "档案借阅程序",
            "title_en": "File lending procedure"}
    data.update(fields)
    return client.post("/admin/rules", data=data, headers=HX)


def test_partners_see_the_seeded_catalogue_marked_to_be_verified(client, auth):
    auth.login_as("partner")
    page = client.get("/admin/rules").text
    assert "Lawyers Law of the PRC" in page and "Art. 38" in page
    assert "ACLA rules on disciplinary sanctions for members" in page and "Ch. 4, s. 2" in page
    assert "Complaint handling procedure" in page and "保守秘密" in page
    assert page.count("To be verified by the firm") >= 30
    assert 'href="/admin/rules"' in client.get("/admin").text  # under Settings


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_nobody_else_may_open_or_change_it(client, auth, app, role):
    auth.login_as(role)
    assert client.get("/admin/rules").status_code == 403
    assert _add(client).status_code == 403
    rule_id = _entry(app, "lawyers_law", "38").id
    assert client.post(f"/admin/rules/{rule_id}", data={"title_zh": "x", "title_en": "y"},
                       headers=HX).status_code == 403


def test_a_partner_adds_an_entry(client, auth, app):
    auth.login_as("partner")
    response = _add(client)
    assert response.status_code == 200
    assert "Added to the catalogue." in response.text and "File lending procedure" in response.text
    entry = _entry(app, "firm_procedure", "FP-06")
    assert entry.active and not entry.to_verify


def test_a_duplicate_or_an_empty_title_answers_422_and_keeps_the_input(client, auth):
    auth.login_as("partner")
    response = _add(client, article="FP-01", title_en="My own title")
    assert response.status_code == 422
    assert "already in the catalogue" in response.text and "My own title" in response.text
    response = _add(client, title_zh="   ", title_en="Only English")
    assert response.status_code == 422
    assert "Enter the title in both languages." in response.text
    assert "Only English" in response.text


def test_a_partner_marks_an_entry_verified_and_deactivates_another(client, auth, app):
    auth.login_as("partner")
    entry = _entry(app, "lawyers_law", "38")
    form = client.get(f"/admin/rules/{entry.id}").text
    assert "保守秘密" in form and "Art. 38" in form
    response = client.post(f"/admin/rules/{entry.id}", headers=HX, data={
        "title_zh": entry.title_zh, "title_en": "Confidentiality", "active": "y"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/admin/rules"
    assert _entry(app, "lawyers_law", "38").to_verify is False
    other = _entry(app, "lawyers_law", "47")
    assert client.post(f"/admin/rules/{other.id}", headers=HX, data={
        "title_zh": other.title_zh, "title_en": other.title_en,
        "to_verify": "y"}).status_code == 200
    assert _entry(app, "lawyers_law", "47").active is False
    with app.app_context():
        changes = [e.details["changed"] for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rule.updated"))]
    assert changes == [["title_en", "to_verify"], ["active"]]


def test_an_edit_with_a_blank_title_answers_422_and_keeps_the_input(client, auth, app):
    auth.login_as("partner")
    entry = _entry(app, "acla_rules", "37")
    response = client.post(f"/admin/rules/{entry.id}", headers=HX,
                           data={"title_zh": "", "title_en": "Deadlines kept"})
    assert response.status_code == 422
    assert "Enter the title in both languages." in response.text
    assert "Deadlines kept" in response.text
    assert client.get("/admin/rules/999999").status_code == 404
