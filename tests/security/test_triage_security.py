"""Issue 8, triage: what someone without the right would try. A complaint hidden from the
user answers 404 to every triage action; an investigator who is not the lead cannot edit
allegations; a partner cannot link a duplicate to a complaint hidden from them; the audit
trail of the whole flow holds ids and codes, never a name, a reason or what was alleged."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.db import db
from portal.models import AuditEvent, Client, State, User
from tests.triage_support import HX, load, registered, triaged, user_id, version

URL = "/complaints/TS-2026-00101"
ACTIONS = ("/triage", "/triage/revise", "/triage/close", "/withdrawal", "/assignment",
           "/conflicts", "/allegations")


def test_an_investigator_not_assigned_gets_404_from_every_action(app, client, auth):
    cid = registered(app, matter=None)
    triaged(app, cid)
    allegation = load(app, cid).allegations[0].id
    auth.login_as("investigator")
    assert client.get(URL).status_code in (403, 404)
    for path in (*ACTIONS, f"/allegations/{allegation}", f"/allegations/{allegation}/remove"):
        response = client.post(URL + path, data={"version": version(app, cid)}, headers=HX)
        assert response.status_code in (403, 404), path  # 403: the role may never do it
        if path in ("/withdrawal", "/conflicts", "/allegations"):
            assert response.status_code == 404, path  # the role may: the complaint is hidden
    assert load(app, cid).state == State.TRIAGED


def test_an_investigator_who_is_not_the_lead_cannot_change_allegations(app, client, auth):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="minor")
    auth.login_as("partner")
    response = client.post(f"{URL}/assignment", headers=HX, data={
        "version": version(app, cid), "assign-lead": str(user_id(app, "partner2")),
        "assign-investigators": [str(user_id(app, "investigator"))]})
    assert response.status_code == 200
    auth.logout()
    auth.login_as("investigator")
    response = client.post(f"{URL}/allegations", headers=HX, data={
        "version": version(app, cid), "allegation-new-text": "x",
        "allegation-new-category": "fees"})
    assert response.status_code == 403
    assert client.post(f"{URL}/assignment", data={}).status_code == 403
    assert len(load(app, cid).allegations) == 2


def test_a_committee_lead_edits_the_allegations(app, client, auth):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="critical")
    auth.login_as("partner")
    assert client.post(f"{URL}/assignment", headers=HX, data={
        "version": version(app, cid), "assign-lead": str(user_id(app, "committee1")),
        "assign-investigators": [str(user_id(app, "investigator")),
                                 str(user_id(app, "investigator2"))]}).status_code == 200
    auth.logout()
    auth.login_as("committee")  # committee1, now the lead
    response = client.post(f"{URL}/allegations", headers=HX, data={
        "version": version(app, cid), "allegation-new-text": "泄露客户信息",
        "allegation-new-category": "confidentiality"})
    assert response.status_code == 200
    assert [a.text for a in load(app, cid).allegations][-1] == "泄露客户信息"


def test_a_duplicate_cannot_point_at_a_complaint_hidden_from_the_partner(app, client, auth):
    registered(app, "TS-2026-00101")  # about M-2025-0142: hidden from "partner" (陈志远)
    other = registered(app, "TS-2026-00102", matter="M-2025-0188")
    auth.login("partner")
    response = client.post("/complaints/TS-2026-00102/triage/close", headers=HX, data={
        "version": version(app, other), "close-kind": "duplicate",
        "close-duplicate_of": "TS-2026-00101", "close-reason": "Same."})
    assert response.status_code == 422
    assert "No registered complaint you can see has the reference TS-2026-00101." \
        in response.text
    assert load(app, other).state == State.REGISTERED


def test_the_audit_trail_of_triage_holds_no_names_reasons_or_allegations(app, client, auth):
    cid = registered(app, matter=None)
    secrets = ["多收了律师费的具体金额", "我的表哥是投诉人", "客户已与律师私下和解",
               "律师态度极其恶劣", "评估：情节严重"]
    auth.login_as("partner")
    assert client.post(f"{URL}/triage", headers=HX, data={
        "version": version(app, cid), "triage-severity": "general",
        "triage-categories": ["fees"], "triage-assessment": secrets[4],
        "triage-allegations-0-text": secrets[0], "triage-allegations-0-category": "fees",
        "triage-handler": str(user_id(app, "partner2"))}).status_code == 200
    assert client.post(f"{URL}/allegations", headers=HX, data={
        "version": version(app, cid), "allegation-new-text": secrets[3],
        "allegation-new-category": "attitude"}).status_code == 200
    assert client.post(f"{URL}/conflicts", headers=HX, data={
        "conflict-user": str(user_id(app, "investigator2")),
        "conflict-reason": secrets[1]}).status_code == 200
    assert client.post(f"{URL}/assignment", headers=HX, data={
        "version": version(app, cid), "assign-lead": str(user_id(app, "partner2")),
        "assign-investigators": [str(user_id(app, "investigator"))]}).status_code == 200
    assert client.post(f"{URL}/withdrawal", headers=HX, data={
        "version": version(app, cid), "withdraw-method": "letter",
        "withdraw-reason": secrets[2], "withdraw-confirm": "y"}).status_code == 200
    with app.app_context():
        names = [u.name for u in db.session.scalars(select(User))]
        names += [c.name for c in db.session.scalars(select(Client))]
        trail = json.dumps([e.details for e in db.session.scalars(select(AuditEvent))],
                           ensure_ascii=False)
    for text in secrets + names + ["li.ming@example.com", "zhou.jianguo@firm.example"]:
        assert text not in trail, text
