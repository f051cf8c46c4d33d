"""Issue 8, triage on the case file: the triage form (each severity with its definition),
the summary, closure, withdrawal, allegations and assignment through the browser's forms:
422 keeping what was typed, 409 on a stale page, 404 for a complaint the user cannot see."""

from __future__ import annotations

import html
import re

from portal.models import State
from tests.conftest import field_errors
from tests.triage_support import (
    HX,
    events,
    load,
    mail,
    registered,
    triaged,
    user_id,
    version,
)

URL = "/complaints/TS-2026-00101"


def errors(response) -> list[str]:
    return [html.unescape(e) for e in field_errors(response.text)]


def _triage_form(app, cid: int, **changes) -> dict:
    data = {"version": version(app, cid), "triage-severity": "serious",
            "triage-categories": ["fees", "delay"],
            "triage-assessment": "多收律师费，且延误提交证据。",
            "triage-allegations-0-text": "律师费超出委托合同约定",
            "triage-allegations-0-category": "fees",
            "triage-allegations-0-respondent": str(user_id(app, "王磊")),
            "triage-allegations-1-text": "未按期提交证据",
            "triage-allegations-1-category": "delay",
            "triage-allegations-1-respondent": "",
            "triage-allegations-2-text": "", "triage-allegations-2-category": "fees",
            "triage-allegations-2-respondent": "",
            "triage-handler": str(user_id(app, "partner2"))}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_triage_form_shows_each_severity_with_its_definition(app, partner):
    registered(app)
    page = partner.get(URL).text
    assert 'id="area-triage"' in page
    for value, definition in [("minor", "a small lapse in service"),
                              ("serious", "harmed the client's interests"),
                              ("critical", "Possible misconduct")]:
        assert f'value="{value}"' in page and definition in page
    assert page.count('name="triage-categories"') == 8
    assert 'id="triage-allegations-2-text"' in page


def test_a_partner_triages_and_the_case_file_shows_the_summary(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", data=_triage_form(app, cid), headers=HX)
    assert response.status_code == 200, response.text
    assert response.headers["HX-Redirect"].endswith(f"{URL}#area-triage")
    complaint = load(app, cid)
    assert complaint.state == State.TRIAGED and complaint.severity == "serious"
    assert [a.text for a in complaint.allegations] == ["律师费超出委托合同约定", "未按期提交证据"]
    page = partner.get(URL).text
    summary = page[page.index('id="area-triage"'):]
    assert "Serious" in summary and "Fees and billing and Delay" in summary
    assert re.search(r'<ol class="allegations".*律师费超出委托合同约定.*未按期提交证据', summary,
                     re.S)
    assert "Triaged: Serious" in page  # the timeline


def test_a_refused_triage_keeps_what_was_typed(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", headers=HX, data=_triage_form(
        app, cid, **{"triage-severity": None, "triage-categories": None}))
    assert response.status_code == 422
    assert "Choose the severity." in field_errors(response.text)
    assert "Choose at least one category." in field_errors(response.text)
    assert "多收律师费，且延误提交证据。" in response.text
    assert "律师费超出委托合同约定" in response.text
    assert load(app, cid).state == State.REGISTERED


def test_a_conflicted_handler_is_refused_beside_the_field(app, partner):
    cid = registered(app)  # about M-2025-0142, supervised by "partner" (陈志远)
    response = partner.post(f"{URL}/triage", headers=HX, data=_triage_form(
        app, cid, **{"triage-handler": str(user_id(app, "partner"))}))
    assert response.status_code == 422
    assert "陈志远 worked on the matter this complaint is about." in field_errors(response.text)
    assert load(app, cid).state == State.REGISTERED


def test_a_stale_triage_is_refused_with_409_and_the_input_kept(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", headers=HX, data=_triage_form(
        app, cid, version=version(app, cid) - 1))
    assert response.status_code == 409
    assert "Someone else changed this complaint" in response.text
    assert "律师费超出委托合同约定" in response.text
    assert load(app, cid).state == State.REGISTERED


def test_another_allegation_row_saves_nothing(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", headers=HX,
                            data=_triage_form(app, cid, add_row="1"))
    assert response.status_code == 200
    assert 'id="triage-allegations-3-text"' in response.text
    assert "律师费超出委托合同约定" in response.text
    assert load(app, cid).state == State.REGISTERED


def test_rows_stop_at_the_most_allegations_a_form_takes(app, partner):
    cid = registered(app)
    rows = {f"triage-allegations-{n}-text": f"第{n}项" for n in range(30)}
    response = partner.post(f"{URL}/triage", headers=HX,
                            data=_triage_form(app, cid, add_row="1", **rows))
    assert response.status_code == 200
    assert 'id="triage-allegations-29-text"' in response.text
    assert 'id="triage-allegations-30-text"' not in response.text


def test_without_javascript_a_triage_redirects_to_the_case_file(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", data=_triage_form(app, cid))
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"{URL}#area-triage")


def test_a_receptionist_cannot_triage(app, reception):
    cid = registered(app)
    assert reception.post(f"{URL}/triage", data=_triage_form(app, cid)).status_code == 403
    assert 'action="/complaints/TS-2026-00101/triage"' not in reception.get(URL).text


def test_the_matters_partner_gets_404_for_the_case_file_and_every_action(app, client, auth):
    cid = registered(app)  # "partner" (陈志远) supervises M-2025-0142
    auth.login_as("partner")  # partner2
    triaged(app, cid)
    auth.logout()
    auth.login("partner")
    assert client.get(URL).status_code == 404
    for path, data in [("/triage", {}), ("/triage/revise", {}), ("/triage/close", {}),
                       ("/withdrawal", {}), ("/assignment", {}), ("/conflicts", {}),
                       ("/allegations", {}), ("/allegations/1", {}),
                       ("/allegations/1/remove", {})]:
        assert client.post(URL + path, data=data).status_code == 404, path


def _assign(app, client, cid, lead, investigators, **extra):
    data = {"version": version(app, cid), "assign-lead": str(user_id(app, lead)) if lead else "",
            "assign-investigators": [str(user_id(app, i)) for i in investigators], **extra}
    return client.post(f"/complaints/{load(app, cid).reference}/assignment", data=data,
                       headers=HX)


def test_the_assignment_panel_shows_who_cannot_be_chosen_and_why(app, partner):
    cid = registered(app, respondents=("investigator2", "王磊"))
    triaged(app, cid, severity="serious")
    page = partner.get(URL).text
    panel = page[page.index("Who cannot be chosen, and why"):]
    assert re.search(r"陈志远</th>\s*<td>陈志远 worked on the matter", panel)
    assert re.search(r"吴丽娟</th>\s*<td>吴丽娟 is a respondent", panel)
    assert re.search(r"周建国</th>\s*<td>周建国 is not a partner, which this severity requires "
                     r"of the lead.</td>\s*<td>Possible", panel)
    form = page[page.index('name="assign-lead"'):page.index("Who cannot be chosen")]
    assert "刘慧敏" in form and "陈志远" not in form and "吴丽娟" not in form


def test_assigning_the_matters_partner_is_refused_with_the_reason(app, partner):
    cid = registered(app)
    triaged(app, cid, severity="serious")
    response = _assign(app, partner, cid, "partner", ["investigator", "investigator2"])
    assert response.status_code == 422
    assert "陈志远 worked on the matter this complaint is about." in field_errors(response.text)
    assert load(app, cid).state == State.TRIAGED and not mail(app, "assignment", cid)


def test_too_few_investigators_for_a_serious_complaint_is_refused(app, partner):
    cid = registered(app)
    triaged(app, cid, severity="serious")
    response = _assign(app, partner, cid, "partner2", ["investigator"])
    assert response.status_code == 422
    assert "This severity needs at least 2 investigator(s) besides the lead." \
        in field_errors(response.text)
    assert f'value="{user_id(app, "investigator")}" checked' in response.text  # kept


def test_a_lead_below_the_level_is_refused(app, partner):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="serious")
    response = _assign(app, partner, cid, "investigator", ["investigator2", "partner"])
    assert response.status_code == 422
    assert "周建国 is not a partner, which this severity requires of the lead." \
        in field_errors(response.text)


def test_a_serious_complaint_is_assigned_and_the_team_told_by_email(app, partner):
    cid = registered(app)
    triaged(app, cid, severity="serious")
    response = _assign(app, partner, cid, "partner2", ["investigator", "investigator2"])
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    complaint = load(app, cid)
    assert complaint.state == State.INVESTIGATING and complaint.handler.username == "partner2"
    recipients = sorted(m.recipient for m in mail(app, "assignment", cid))
    assert recipients == ["liu.huimin@firm.example", "wu.lijuan@firm.example",
                          "zhou.jianguo@firm.example"]
    [message] = [m for m in mail(app, "assignment", cid) if m.recipient.startswith("zhou")]
    # 周建国 has no language set: the firm's default, Chinese (the words follow the catalogue)
    assert '<html lang="zh-CN">' in message.body_html
    assert "http://localhost/complaints/TS-2026-00101/investigation" in message.body_text
    page = partner.get(URL).text
    assert "Investigation team assigned" in page and "Assignment history" in page


def test_a_stale_assignment_is_refused_with_409(app, partner):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="minor")
    response = _assign(app, partner, cid, "partner2", ["investigator"],
                       version=version(app, cid) - 1)
    assert response.status_code == 409
    assert load(app, cid).state == State.TRIAGED


def _close(app, client, cid, kind, reason="不属于本所服务范围。", duplicate_of="", **extra):
    return client.post(f"/complaints/{load(app, cid).reference}/triage/close", headers=HX, data={
        "version": version(app, cid), "close-kind": kind, "close-reason": reason,
        "close-duplicate_of": duplicate_of, **extra})


def test_a_duplicate_must_be_another_visible_complaint(app, partner):
    first = registered(app, "TS-2026-00101")
    second = registered(app, "TS-2026-00102")
    for bad, message in [("TS-2026-00102", "A complaint cannot be a duplicate of itself."),
                         ("TS-2026-00999", "No registered complaint you can see has the "
                                           "reference TS-2026-00999."),
                         ("", "Enter the reference of the complaint this one duplicates")]:
        response = _close(app, partner, second, "duplicate", duplicate_of=bad)
        assert response.status_code == 422, bad
        assert any(message in e for e in field_errors(response.text)), response.text
        assert "不属于本所服务范围。" in response.text
    response = _close(app, partner, second, "duplicate", "与 TS-2026-00101 相同。",
                      duplicate_of="TS-2026-00101")
    assert response.status_code == 200
    complaint = load(app, second)
    assert complaint.state == State.CLOSED and complaint.duplicate_of.id == first
    [notice] = mail(app, "closure_notice", second)
    assert notice.recipient == "li.ming@example.com" and "TS-2026-00101" in notice.body_html
    page = partner.get("/complaints/TS-2026-00102").text
    assert 'href="/complaints/TS-2026-00101"' in page and "Closed at triage" in page


def test_closing_out_of_scope_emails_the_client(app, partner):
    cid = registered(app)
    assert _close(app, partner, cid, "out_of_scope").status_code == 200
    [notice] = mail(app, "closure_notice", cid)
    assert notice.subject == "投诉结案通知 TS-2026-00101 / Closure of your complaint TS-2026-00101"
    assert "不属于本所投诉处理程序的受理范围" in notice.body_text
    assert "falls outside the scope" in notice.body_text


def test_a_closure_without_a_reason_is_refused(app, partner):
    cid = registered(app)
    response = _close(app, partner, cid, "out_of_scope", reason="  ")
    assert response.status_code == 422
    assert "Explain the decision to the client." in field_errors(response.text)
    assert load(app, cid).state == State.REGISTERED


def _withdraw(app, client, cid, **data):
    form = {"version": version(app, cid), "withdraw-method": "phone",
            "withdraw-reason": "已与律师和解。", "withdraw-confirm": "y", **data}
    return client.post(f"{URL}/withdrawal", data={k: v for k, v in form.items() if v is not None},
                       headers=HX)


def test_reception_records_a_withdrawal_and_the_client_is_told(app, reception):
    cid = registered(app)
    triaged(app, cid)
    response = _withdraw(app, reception, cid)
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    complaint = load(app, cid)
    assert complaint.state == State.WITHDRAWN and complaint.withdrawal_reason == "已与律师和解。"
    assert all(not d.is_running for d in complaint.deadlines)
    [message] = mail(app, "withdrawal_confirmation", cid)
    assert "通过电话" in message.body_text
    page = reception.get(URL).text
    assert "The client withdrew this complaint." in page and "Withdrawn by the client (By phone)" \
        in page


def test_a_withdrawal_needs_the_box_ticked_and_keeps_the_reason(app, reception):
    cid = registered(app)
    response = _withdraw(app, reception, cid, **{"withdraw-confirm": None})
    assert response.status_code == 422
    assert "Tick the box to confirm the withdrawal." in field_errors(response.text)
    assert "已与律师和解。" in response.text
    assert load(app, cid).state == State.REGISTERED


def test_a_withdrawn_complaint_cannot_be_withdrawn_again(app, reception):
    cid = registered(app)
    assert _withdraw(app, reception, cid).status_code == 200
    response = _withdraw(app, reception, cid)
    assert response.status_code == 422
    assert "cannot be withdrawn" in response.text
    assert len(mail(app, "withdrawal_confirmation", cid)) == 1


def test_declaring_ones_own_conflict_hides_the_case_file(app, partner):
    cid = registered(app, matter=None)
    response = partner.post(f"{URL}/conflicts", headers=HX, data={
        "conflict-user": str(user_id(app, "partner2")), "conflict-reason": "客户是我的亲属。"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"
    assert partner.get(URL).status_code == 404
    [event] = events(app, "conflict.declared", cid)
    assert event.details["own"] is True and "亲属" not in str(event.details)


def test_a_partner_records_someone_elses_conflict(app, partner):
    cid = registered(app, matter=None)
    response = partner.post(f"{URL}/conflicts", headers=HX, data={
        "conflict-user": str(user_id(app, "investigator")), "conflict-reason": "Friends."})
    assert response.status_code == 200
    assert "The conflict is recorded." in response.text and "周建国" in response.text
    assert [c.user_id for c in load(app, cid).conflicts] == [user_id(app, "investigator")]


def test_a_receptionist_declares_only_her_own_conflict(app, reception):
    cid = registered(app, matter=None)
    response = reception.post(f"{URL}/conflicts", headers=HX, data={
        "conflict-user": str(user_id(app, "investigator")), "conflict-reason": "Friends."})
    assert response.status_code == 403
    response = reception.post(f"{URL}/conflicts", headers=HX, data={"conflict-reason": " "})
    assert response.status_code == 422
    assert "Say what the conflict is." in field_errors(response.text)
    assert not load(app, cid).conflicts


def test_allegations_are_amended_added_and_removed_on_the_case_file(app, partner):
    cid = registered(app)
    triaged(app, cid, allegations=2)
    first, second = (a.id for a in load(app, cid).allegations)
    response = partner.post(f"{URL}/allegations/{first}", headers=HX, data={
        "version": version(app, cid), f"allegation-{first}-text": "收费超出约定",
        f"allegation-{first}-category": "fees", f"allegation-{first}-respondent": ""})
    assert response.status_code == 200 and "Allegation 1 saved." in response.text
    response = partner.post(f"{URL}/allegations", headers=HX, data={
        "version": version(app, cid), "allegation-new-text": "态度恶劣",
        "allegation-new-category": "attitude", "allegation-new-respondent": ""})
    assert response.status_code == 200 and "Allegation 3 added." in response.text
    response = partner.post(f"{URL}/allegations/{second}/remove", headers=HX,
                            data={"version": version(app, cid)})
    assert response.status_code == 200
    assert [(a.number, a.text) for a in load(app, cid).allegations] == [
        (1, "收费超出约定"), (2, "态度恶劣")]
    page = partner.get(URL).text
    assert "Allegation 2 removed; those after it renumbered" in page


def test_a_bad_allegation_is_refused_and_kept(app, partner):
    cid = registered(app)
    triaged(app, cid, allegations=1)
    response = partner.post(f"{URL}/allegations", headers=HX, data={
        "version": version(app, cid), "allegation-new-text": "与某人有关",
        "allegation-new-category": "fees",
        "allegation-new-respondent": str(user_id(app, "张敏"))})
    assert response.status_code == 422
    assert "Choose one of this complaint's respondents, or nobody." in errors(response)
    assert "与某人有关" in response.text
    response = partner.post(f"{URL}/allegations", headers=HX, data={
        "version": version(app, cid) - 1, "allegation-new-text": "再一条",
        "allegation-new-category": "fees", "allegation-new-respondent": ""})
    assert response.status_code == 409 and "再一条" in response.text
    assert len(load(app, cid).allegations) == 1


def test_another_complaints_allegation_is_not_found(app, partner):
    mine = registered(app, "TS-2026-00101", matter=None)
    other = registered(app, "TS-2026-00102", matter=None)
    triaged(app, mine, allegations=1)
    triaged(app, other, allegations=1)
    foreign = load(app, other).allegations[0].id
    response = partner.post(f"{URL}/allegations/{foreign}", headers=HX, data={
        "version": version(app, mine), f"allegation-{foreign}-text": "x",
        f"allegation-{foreign}-category": "fees"})
    assert response.status_code == 404
    assert load(app, other).allegations[0].text == "Allegation 1"


def test_a_partner_revises_the_severity(app, partner):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="general")
    response = partner.post(f"{URL}/triage/revise", headers=HX, data={
        "version": version(app, cid), "revise-severity": "critical",
        "revise-categories": ["confidentiality"], "revise-assessment": "更严重"})
    assert response.status_code == 200
    assert load(app, cid).severity == "critical"
    assert "Triage revised: Critical" in partner.get(URL).text


def _queries(app, client, url: str) -> int:
    from tests.web.test_query_counts import _counting

    client.get(url)
    with _counting(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_area_reads_a_bounded_number_of_rows_whatever_the_allegations(app, partner):
    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache
    few = registered(app, "TS-2026-00101", matter=None)
    many = registered(app, "TS-2026-00102", matter=None)
    triaged(app, few, severity="minor", allegations=2)
    triaged(app, many, severity="minor", allegations=20)
    for cid, times in ((few, 1), (many, 4)):  # reassigned: a longer history
        for lead in ["partner2", "partner"] * times:
            assert _assign(app, partner, cid, lead, ["investigator"]).status_code == 200
    assert _queries(app, partner, URL) == _queries(app, partner, "/complaints/TS-2026-00102")
