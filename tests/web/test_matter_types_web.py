"""Matter types and their checklist templates at /admin/matter-types (partners only): add a
type (it starts with the standard procedure), change its labels, interval and whether it is
offered, add, edit and reorder its steps; a refusal keeps the input (422), a stale page is a
409; a template edit reaches only matters created afterwards, and a new interval moves the next
report day of the type's open matters that have none of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.models import AuditEvent, Matter
from portal.models.prevention import ChecklistTemplateItem, MatterChecklistItem, MatterType
from tests.web.test_intake_support import HX
from tests.web.test_matters_web import _create, _items, _matter


def _type(app, code: str) -> MatterType | None:
    with app.app_context():
        kind = db.session.get(MatterType, code)
        if kind is not None:
            _ = list(kind.items)
            db.session.expunge_all()
        return kind


def _steps(app, code: str) -> list[ChecklistTemplateItem]:
    return sorted(_type(app, code).items, key=lambda s: (s.position, s.id))


def test_partners_see_the_types_and_each_template(partner):
    page = partner.get("/admin/matter-types")
    assert page.status_code == 200
    assert "民商事诉讼" in page.text and "Civil and commercial litigation" in page.text
    page = partner.get("/admin/matter-types/litigation").text
    assert "Engagement contract signed" in page and "Keeps a document" in page
    assert partner.get("/admin/matter-types/no_such_type").status_code == 404


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_nobody_else_may_open_or_change_the_types(app, client, auth, role):
    auth.login_as(role)
    version = _type(app, "litigation").version
    assert client.get("/admin/matter-types").status_code == 403
    assert client.get("/admin/matter-types/litigation").status_code == 403
    for url, data in (("/admin/matter-types", {"code": "tax", "label_zh": "税",
                                               "label_en": "Tax", "interval": "30"}),
                      ("/admin/matter-types/litigation", {"label_zh": "诉", "label_en": "L",
                                                          "interval": "7", "active": "y",
                                                          "version": version})):
        assert client.post(url, data=data, headers=HX).status_code == 403
    assert _type(app, "litigation").report_interval_days == 30


def test_a_new_type_starts_with_the_standard_procedure_and_a_refusal_keeps_the_input(
        app, partner):
    response = partner.post("/admin/matter-types", headers=HX, data={
        "code": "tax_advice", "label_zh": "税务咨询", "label_en": "Tax advice", "interval": "60"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == \
        "/admin/matter-types/tax_advice"
    kind = _type(app, "tax_advice")
    assert kind.report_interval_days == 60 and len(kind.items) == 10
    response = partner.post("/admin/matter-types", headers=HX, data={
        "code": "tax_advice", "label_zh": "", "label_en": "Tax again", "interval": "0"})
    assert response.status_code == 422
    for message in ("The code tax_advice is taken by another type.",
                    "Enter the label in both languages.", "Enter a number of days from 1"):
        assert message in response.text
    assert 'value="Tax again"' in response.text and 'value="0"' in response.text


def test_editing_a_template_changes_new_matters_only(app, partner):
    before = _create(app, partner)  # a litigation matter: 11 steps
    kind = _type(app, "litigation")
    steps = _steps(app, "litigation")
    first = steps[0]
    url = f"/admin/matter-types/litigation/steps/{first.id}"
    response = partner.post(url, headers=HX, data={
        "stage": "reception", "label_zh": "接待客户", "label_en": "Client welcomed",
        "active": "y", "version": kind.version})
    assert response.status_code == 200 and "The step is saved" in response.text
    kind = _type(app, "litigation")
    response = partner.post("/admin/matter-types/litigation/steps", headers=HX, data={
        "stage": "engagement", "label_zh": "核对委托人身份",
        "label_en": "Client's identity checked", "needs_document": "y",
        "version": kind.version})
    assert response.status_code == 200, response.text
    kind = _type(app, "litigation")
    last = _steps(app, "litigation")[-1]
    assert last.label_en == "Client's identity checked" and last.needs_document
    response = partner.post(f"/admin/matter-types/litigation/steps/{steps[1].id}", headers=HX,
                            data={"stage": steps[1].stage, "label_zh": steps[1].label_zh,
                                  "label_en": steps[1].label_en, "version": kind.version})
    assert response.status_code == 200  # no "active": the step is deactivated
    after = _create(app, partner, reference="M-2026-0501")
    old = [i.label_en for i in _items(app, before)]
    new = [i.label_en for i in _items(app, after)]
    assert old[0] == "Client received and the request recorded" and len(old) == 11
    assert "Client's identity checked" not in old
    assert new[0] == "Client welcomed" and "Client's identity checked" in new
    assert steps[1].label_en not in new and len(new) == 11
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("matter_type.%"))))
    assert actions == {"matter_type.step_updated", "matter_type.step_added"}


def test_a_stale_page_answers_409_and_keeps_the_input(app, partner):
    kind = _type(app, "family")
    step = _steps(app, "family")[2]
    moved = partner.post(f"/admin/matter-types/family/steps/{step.id}/move", headers=HX,
                         data={"direction": "up", "version": kind.version})
    assert moved.status_code == 200 and "The step is now number 2." in moved.text
    assert _steps(app, "family")[1].id == step.id
    stale = partner.post("/admin/matter-types/family", headers=HX, data={
        "label_zh": "婚姻家事", "label_en": "Family matters", "interval": "20", "active": "y",
        "version": kind.version})
    assert stale.status_code == 409 and "Someone else changed this matter type" in stale.text
    assert 'value="Family matters"' in stale.text and 'value="20"' in stale.text
    assert _type(app, "family").report_interval_days == 30
    first = partner.post(f"/admin/matter-types/family/steps/{_steps(app, 'family')[0].id}"
                         "/move", headers=HX,
                         data={"direction": "up", "version": _type(app, "family").version})
    assert first.status_code == 422 and "This step is already the first." in first.text


def test_a_new_interval_moves_the_next_report_of_open_matters_without_their_own(app, partner):
    own = _create(app, partner, interval="14")
    follows = _create(app, partner, reference="M-2026-0501")
    closed = _create(app, partner, reference="M-2026-0502", status="closed",
                     closed_on=clock.today().isoformat())
    opened = clock.today() - timedelta(days=10)
    kind = _type(app, "litigation")
    response = partner.post("/admin/matter-types/litigation", headers=HX, data={
        "label_zh": kind.label_zh, "label_en": kind.label_en, "interval": "45", "active": "y",
        "version": kind.version})
    assert response.status_code == 200, response.text
    assert _matter(app, follows).report_due_on == opened + timedelta(days=45)
    assert _matter(app, own).report_due_on == opened + timedelta(days=14)
    assert _matter(app, closed).report_due_on is None
    with app.app_context():
        details = db.session.scalar(select(AuditEvent.details).where(
            AuditEvent.action == "matter_type.updated"))
        assert details["changed"] == ["report_interval_days"]
        assert details["matters_rescheduled"] >= 1
        assert db.session.scalar(select(db.func.count(MatterChecklistItem.id)).join(Matter)
                                 .where(Matter.reference == follows)) == 11


def test_an_inactive_type_is_not_offered_for_a_new_matter(app, partner):
    kind = _type(app, "ip")
    response = partner.post("/admin/matter-types/ip", headers=HX, data={
        "label_zh": kind.label_zh, "label_en": kind.label_en,
        "interval": str(kind.report_interval_days), "version": kind.version})
    assert response.status_code == 200 and not _type(app, "ip").active
    assert 'value="ip"' not in partner.get("/matters/new").text
    refused = partner.post("/matters", headers=HX, data={"type_code": "ip"})
    assert refused.status_code == 422 and "Choose the type of matter." in refused.text
