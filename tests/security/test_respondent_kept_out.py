"""Nobody sees a case they are conflicted on, by any route (issue 6, section 3; issue 8).

Conflicted: a respondent, anyone who worked on the complaint's matter (its supervising
partner, its responsible lawyer, its team), anyone who declared a conflict on it. Each kind is
played by 刘慧敏 (demo user partner2), a partner, who would otherwise see every sorted complaint.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import (
    Complaint,
    ComplaintExclusion,
    ConflictDeclaration,
    Matter,
    OutboxMessage,
    User,
)
from portal.services import public_intake
from tests.security.helpers import changed_tables, snapshot
from tests.web.test_intake_evidence import PDF, upload
from tests.web.test_intake_support import HX, complete_draft, confirm_in_person, get, save
from tests.web.test_public_form import valid_form

RESPONDENT = "刘慧敏"  # partner2


def _register(client, app, lawyer: str, existing: str | None = None,
              matter: str = "M-2025-0142") -> tuple[str, str]:
    """A registered complaint about `lawyer`, with evidence and an acknowledgement email;
    returns its reference and its draft label."""
    key = complete_draft(client, app, lawyer=lawyer, existing=existing, matter=matter)
    assert upload(client, key, PDF).status_code == 200
    assert confirm_in_person(client, app, key).status_code in (200, 303)
    assert client.post(f"/complaints/{key}/register", headers=HX).status_code == 200
    return get(app, key).reference, key


def _draft(client, app, lawyer: str, matter: str = "M-2025-0142") -> str:
    key = complete_draft(client, app, lawyer=lawyer, matter=matter)
    assert upload(client, key, PDF).status_code == 200
    return key


def _ids(app, key: str) -> dict[str, object]:
    """Real values for every URL argument of the complaint routes, for this complaint."""
    complaint = get(app, key)
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.complaint_id == complaint.id).limit(1))
    return {"section": "incident",
            "evidence_id": complaint.evidence[0].id if complaint.evidence else 1,
            "message_id": message or 1}


def complaint_routes(app) -> list[tuple[str, str, object]]:
    """(method, rule, endpoint) for every route under /complaints/<key>, from the URL map,
    so that a route added later is tested without anyone remembering to."""
    found = []
    for rule in app.url_map.iter_rules():
        if "key" not in rule.arguments or not rule.rule.startswith("/complaints/<key>"):
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((method, rule.rule, rule.endpoint))
    return found


def _page(response, key: str) -> str:
    """The body with what legitimately varies between two requests taken out."""
    text = re.sub(r'"[\w.-]{40,}"', '""', response.get_data(as_text=True))  # CSRF tokens
    return text.replace(key, "KEY")


def _url(rule: str, key: str, values: dict) -> str:
    """The rule with real values; an argument a later phase added gets 1 (the complaint is
    hidden, so the answer must be the same 404 whatever the id names)."""
    url = rule.replace("<key>", key)
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), 1)), url)


BODY = {"version": "1", "incident-narrative": "改写", "incident-occurred_on": "2026-05-20",
        "confirm-method": "in_person", "override-reason": "客户无法联系" * 3, "add": "1"}


def _set_up(app, kind: str) -> None:
    """Put 刘慧敏 on the matter, for the kinds that need it (the demo makes her the
    supervising partner of M-2025-0188 already)."""
    with app.app_context(), writes_by_default():
        partner2 = db.session.scalar(select(User).where(User.username == "partner2"))
        matter = db.session.scalar(select(Matter).where(Matter.reference == KINDS[kind].matter))
        if kind == "responsible_lawyer":
            matter.responsible_lawyer_id = partner2.id
        elif kind == "team_member":
            matter.team.append(partner2)
        db.session.commit()


def _declare_conflicts(app, keys: list[str]) -> None:
    """刘慧敏 declares a conflict on each complaint (stored as the triage helper's service
    stores it: one row per complaint and person)."""
    complaint_ids = [get(app, key).id for key in keys]
    with app.app_context(), writes_by_default():
        partner2 = db.session.scalar(select(User).where(User.username == "partner2"))
        for complaint_id in complaint_ids:
            db.session.add(ConflictDeclaration(complaint_id=complaint_id, user_id=partner2.id,
                                               reason="曾为对方当事人提供咨询",
                                               declared_by_id=partner2.id))
        db.session.commit()


class Kind:
    def __init__(self, lawyer: str, matter: str, complainant: str, email: str):
        self.lawyer, self.matter, self.complainant, self.email = (lawyer, matter, complainant,
                                                                  email)


HENGYUAN = ("上海恒远贸易有限公司", "legal@hengyuan.example.com")
# How 刘慧敏 is conflicted: the lawyer complained about, the matter (and so its client).
KINDS = {
    "respondent": Kind(RESPONDENT, "M-2026-0090", *HENGYUAN),
    "matter_partner": Kind("李娜", "M-2025-0188", "王芳", "wang.fang@example.com"),
    "responsible_lawyer": Kind("黄静", "M-2026-0090", *HENGYUAN),
    "team_member": Kind("赵鹏", "M-2026-0057", "Emily Carter", "emily.carter@example.co.uk"),
    "declared_conflict": Kind("黄静", "M-2026-0090", *HENGYUAN),
}


@pytest.fixture(params=sorted(KINDS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def cases(client, auth, app, kind):
    """As the receptionist: a registered complaint and a draft 刘慧敏 is conflicted on (as
    `kind` says), and one about 王磊 (that 刘慧敏 may see)."""
    case = KINDS[kind]
    _set_up(app, kind)
    auth.login_as("receptionist")
    reference, label = _register(client, app, case.lawyer, existing=case.complainant,
                                 matter=case.matter)
    draft = _draft(client, app, case.lawyer, matter=case.matter)
    other_reference, other_label = _register(client, app, "王磊")
    auth.logout()
    if kind == "declared_conflict":
        _declare_conflicts(app, [reference, draft])
    return {"own": [reference, label, draft], "other": [other_reference], "case": case}


def test_every_complaint_route_is_404_for_the_conflicted_for_get_and_post(client, auth, app,
                                                                         cases):
    routes = complaint_routes(app)
    assert len({endpoint for _, _, endpoint in routes}) >= 14
    auth.login_as("partner")  # partner2 = 刘慧敏
    before = snapshot(app)
    for key in cases["own"]:
        values = _ids(app, key)
        for method, rule, _endpoint in routes:
            url = _url(rule, key, values)
            for headers in ({}, HX):
                response = client.open(url, method=method, data=BODY, headers=headers)
                assert response.status_code == 404, (method, url, response.status_code)
                # Exactly what a complaint that does not exist gets.
                fake = "TS-2099-99999" if key.startswith("TS-") else "D999999"
                missing = client.open(_url(rule, fake, values), method=method, data=BODY,
                                      headers=headers)
                assert _page(response, key) == _page(missing, fake)
    assert changed_tables(before, snapshot(app)) == []


@pytest.mark.parametrize("kind", ["respondent"])
def test_the_same_routes_open_a_case_about_someone_else(client, auth, app, cases):
    """Control: the 404s above come from the rule, not from broken URLs. (The record's
    routes: a later phase's pages open only in that phase, on the data it made.)"""
    auth.login_as("partner")
    key = cases["other"][0]
    values = _ids(app, key)
    for method, rule, endpoint in complaint_routes(app):
        if method == "GET" and endpoint.startswith("intake."):
            url = _url(rule, key, values)
            assert client.get(url).status_code == 200, url


def test_own_case_is_missing_from_lists_search_home_and_export(client, auth, app, runner,
                                                              cases):
    reference, label, draft = cases["own"]
    auth.login_as("partner")
    pages = [client.get("/"), client.get("/complaints?state=all"),
             client.get(f"/complaints?state=all&q={reference}"),
             client.get(f"/complaints?state=all&q={draft}"),
             client.get("/complaints?state=all&q=陈小红")]
    for page in pages:
        assert page.status_code == 200
        for key in (reference, label, draft):
            assert f">{key}<" not in page.text
    assert cases["other"][0] in pages[1].text  # the list itself works
    export = runner.invoke(args=["complaints", "export", reference, "--as", "partner2"])
    assert export.exit_code == 1 and "no complaint" in export.output
    assert runner.invoke(args=["complaints", "export", reference, "--as", "partner"]
                         ).exit_code == 0


# --- online submissions that name a lawyer ------------------------------------------------


def _submitted(app) -> Complaint:
    with app.app_context():
        complaint = db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
        _ = [(e.user_id, e.reason) for e in complaint.exclusions]
        db.session.expunge_all()
        return complaint


def _excluded_names(app, complaint: Complaint) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(User.name).join(
            ComplaintExclusion, ComplaintExclusion.user_id == User.id).where(
            ComplaintExclusion.complaint_id == complaint.id)))


def test_a_web_submission_naming_the_partner_is_hidden_from_them_at_once(client, auth, app):
    assert client.post("/complaint", data=valid_form(lawyers=RESPONDENT)).status_code == 303
    complaint = _submitted(app)
    key = complaint.label
    assert _excluded_names(app, complaint) == {RESPONDENT}

    auth.login_as("partner")  # 刘慧敏: not in the queue, not openable, not editable
    assert f">{key}<" not in client.get("/").text
    assert f">{key}<" not in client.get("/complaints?state=to_verify").text
    assert client.get(f"/complaints/{key}").status_code == 404
    assert save(client, app, key, "incident",
                {"incident-narrative": "改写", "incident-occurred_on": "2026-05-20"}
                ).status_code == 404
    assert get(app, key).narrative != "改写"
    auth.logout()

    auth.login("partner")  # 陈志远, a partner but no receptionist: unverified drafts wait
    assert client.get(f"/complaints/{key}").status_code == 404
    auth.logout()

    auth.login_as("receptionist")
    page = client.get(f"/complaints/{key}")
    assert page.status_code == 200
    assert "Kept out of this complaint until it is verified" in page.text
    # Verification needs the respondents; it then lifts the exclusion of those who are not.
    refused = client.post(f"/complaints/{key}/verify", headers=HX)
    assert refused.status_code == 422
    assert save(client, app, key, "respondents",
                {"add": _user_id(app, "王磊")}).status_code == 200
    assert client.post(f"/complaints/{key}/verify", headers=HX).status_code == 200
    assert _excluded_names(app, complaint) == set()
    auth.logout()

    auth.login_as("partner")  # not the respondent after all: the complaint opens again
    assert client.get(f"/complaints/{key}").status_code == 200


def _user_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.name == name))


@pytest.mark.parametrize("named", [
    "liu.huimin@firm.example",
    "Liu.Huimin@Firm.Example",
    "刘慧敏律师、王磊",
    "王磊和刘慧敏",
    "Liu Huimin",  # the alias recorded below
])
def test_names_emails_and_aliases_are_matched(app, named):
    with app.app_context(), writes_by_default():
        partner2 = db.session.scalar(select(User).where(User.username == "partner2"))
        partner2.set_aliases(["Liu Huimin"])
        db.session.commit()
        assert partner2 in public_intake.named_staff(named)


def test_a_vague_or_partial_name_matches_nobody(app):
    with app.app_context():
        for text in ("刘律师", "刘", "huimin", "律师", "", "firm.example"):
            assert public_intake.named_staff(text) == [], text


def test_when_several_staff_match_all_are_kept_out(client, app):
    with app.app_context(), writes_by_default():
        db.session.add(User(name=RESPONDENT, email="liu.huimin2@firm.example"))
        db.session.commit()
    assert client.post("/complaint", data=valid_form(lawyers=RESPONDENT)).status_code == 303
    complaint = _submitted(app)
    assert len(complaint.exclusions) == 2
    assert _excluded_names(app, complaint) == {RESPONDENT}


# --- the audit browser --------------------------------------------------------------------


def test_audit_browser_withholds_events_of_a_case_the_viewer_may_not_see(client, auth, app,
                                                                         cases):
    reference, case = cases["own"][0], cases["case"]
    complaint_id = get(app, reference).id
    auth.login_as("partner")  # partner2, the conflicted
    url = f"/admin/audit?object_type=complaint&object_id={complaint_id}"
    by_object = client.get(url)
    assert by_object.status_code == 200
    everything = client.get("/admin/audit")
    for page in (by_object, everything):
        assert reference not in page.text
        assert case.email not in page.text  # the complainant of their case
        assert case.complainant not in page.text
    # Something happened, and the trail says so, without saying to what.
    assert "Withheld" in everything.text and "complaint.registered" in everything.text
    assert ">0 events<" in by_object.text or "No event matches" in by_object.text
    # Another partner sees the same events in full.
    auth.logout()
    auth.login("partner")
    full = client.get(url)
    assert reference in full.text and "Withheld" not in full.text


def test_a_partner_records_other_spellings_and_they_are_matched(client, auth, app):
    with app.app_context():
        partner2 = db.session.scalar(select(User).where(User.username == "partner2"))
        user_id, department = partner2.id, partner2.department_id
    auth.login("partner")
    form = {"name": RESPONDENT, "email": "liu.huimin@firm.example",
            "department": str(department), "roles": ["partner"], "active": "y",
            "aliases": "Liu Huimin\n\n  Helen   Liu  \nLiu Huimin"}
    assert client.post(f"/admin/users/{user_id}/edit", data=form).status_code == 303
    page = client.get(f"/admin/users/{user_id}/edit").text
    assert "Liu Huimin\nHelen Liu</textarea>" in page
    too_long = client.post(f"/admin/users/{user_id}/edit", data={**form, "aliases": "x" * 101})
    assert too_long.status_code == 422 and "at most 100 characters" in too_long.text
    auth.logout()
    assert client.post("/complaint", data=valid_form(lawyers="Helen Liu")).status_code == 303
    assert _excluded_names(app, _submitted(app)) == {RESPONDENT}
