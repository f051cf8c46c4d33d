"""The complaint builder as a receptionist uses it: sections that save on their own,
errors beside the field with the input kept, conflicts, searches, access rules."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.services.intake.completeness import missing_sections
from portal.services.intake.search import search_clients
from tests.conftest import field_errors
from tests.web.test_intake_support import (
    HX,
    client_id,
    complete_draft,
    events,
    get,
    incident,
    matter_id,
    new_draft,
    person,
    remedy,
    save,
    user_id,
    version,
)

# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("receptionist", 303), ("partner", 303),
                                          ("investigator", 403), ("committee", 403)])
def test_every_role_has_the_list_but_only_intake_staff_start_a_complaint(client, auth, role,
                                                                          status):
    """The list shows each role what the visibility rule admits (issue 8: your own work for
    everyone); a new draft is intake staff's."""
    auth.login_as(role)
    assert client.get("/complaints").status_code == 200
    response = client.post("/complaints", data={"new-channel": "phone",
                                                "new-received_at": "2026-09-29T10:30"})
    assert response.status_code == status


def test_signed_out_visitors_are_sent_to_the_login(client):
    response = client.get("/complaints/D1")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


def test_respondent_never_sees_their_own_complaint(client, auth, app):
    auth.login_as("receptionist")
    key = new_draft(client)
    assert save(client, app, key, "respondents",
                {"add": user_id(app, "刘慧敏")}).status_code == 200  # partner2
    auth.logout()
    auth.login_as("partner")  # partner2 = 刘慧敏, the respondent
    # 404, as for a complaint that does not exist: a 403 would tell them it is about them.
    assert client.get(f"/complaints/{key}").status_code == 404
    assert client.get(f"/complaints/{key}/read-back").status_code == 404
    assert save(client, app, key, "incident", incident()).status_code == 404
    listing = client.get("/complaints?state=all")
    assert f">{key}<" not in listing.text
    # Another partner sees it.
    auth.logout()
    auth.login("partner")
    assert client.get(f"/complaints/{key}").status_code == 200


def test_unknown_keys_are_404(reception):
    assert reception.get("/complaints/D999").status_code == 404
    assert reception.get("/complaints/TS-2026-99999").status_code == 404
    assert reception.get("/complaints/whatever").status_code == 404
    # Past what the id column holds (PostgreSQL: "integer out of range", a 500 before).
    assert reception.get("/complaints/D9999999999").status_code == 404
    assert reception.get("/complaints/D2147483648/timeline").status_code == 404


# --- drafts and the page --------------------------------------------------------------------


def test_new_draft_opens_its_page_with_every_section(reception, app):
    key = new_draft(reception)
    assert key == "D1"
    page = reception.get(f"/complaints/{key}")
    assert page.status_code == 200
    for name in ("complainant", "respondents", "matter", "incident", "evidence", "remedy",
                 "channel"):
        assert f'id="section-{name}"' in page.text
    for part in ('id="completeness"', 'id="intake-actions"', 'id="timeline"'):
        assert part in page.text
    assert 'data-hx-trigger="input changed delay:300ms, search"' in page.text
    assert "Vary" in page.headers and "HX-Request" in page.headers["Vary"]
    assert len(events(app, "complaint.created", 1)) == 1
    assert len(events(app, "complaint.viewed", 1)) == 1


def test_page_url_gives_the_partial_to_htmx(reception):
    key = new_draft(reception)
    response = reception.get(f"/complaints/{key}", headers=HX)
    assert response.text.lstrip().startswith('<div id="complaint-record">')
    assert "<html" not in response.text


def test_new_draft_rejects_a_future_time_and_keeps_the_input(reception):
    response = reception.post("/complaints", data={"new-channel": "phone",
                                                   "new-received_at": "2099-01-01T10:00"})
    assert response.status_code == 422
    assert "cannot be in the future" in response.text
    assert 'value="2099-01-01T10:00"' in response.text


# --- each section saves, and shows its errors beside the field ------------------------------


def test_complainant_new_person_saves(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant", person())
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "complaint-changed, intake-section-saved"
    assert response.text.lstrip().startswith('<section id="section-complainant"')
    assert 'data-hx-swap-oob="true"' in response.text  # other forms learn the new version
    complaint = get(app, key)
    assert complaint.complainant.name == "陈小红"
    assert complaint.complainant.email == "chen.xiaohong@example.com"
    saved = events(app, "complaint.section_saved", complaint.id)
    assert saved[-1].details == {"section": "complainant", "confirmation_withdrawn": False}
    assert "陈小红" not in json.dumps(saved[-1].details, ensure_ascii=False)


def test_complainant_without_a_name_is_422_and_keeps_the_rest(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant",
                    person(**{"complainant-name": "", "complainant-address": "上海市某路1号"}))
    assert response.status_code == 422
    assert any("Enter the complainant" in e for e in field_errors(response.text))
    assert 'id="complainant-name-error"' in response.text
    assert 'value="138 0013 9999"' in response.text
    assert 'value="上海市某路1号"' in response.text
    assert get(app, key).complainant is None


def test_complainant_needs_a_phone_or_an_email(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant",
                    person(**{"complainant-phone": "", "complainant-email": ""}))
    assert response.status_code == 422
    assert "Give a phone number or an email address" in " ".join(field_errors(response.text))


def test_complainant_with_a_bad_email_is_422(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant",
                    person(**{"complainant-email": "not-an-address"}))
    assert response.status_code == 422
    assert 'id="complainant-email-error"' in response.text
    assert 'value="not-an-address"' in response.text


def test_complainant_chosen_from_the_register_brings_their_language(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant",
                    {"client_id": client_id(app, "Emily Carter")})
    assert response.status_code == 200
    complaint = get(app, key)
    assert complaint.complainant.name == "Emily Carter"
    assert complaint.language == "en"


def test_editing_a_new_person_updates_them_instead_of_creating_another(reception, app):
    key = new_draft(reception)
    save(reception, app, key, "complainant", person())
    first = get(app, key).complainant_id
    save(reception, app, key, "complainant", person(**{"complainant-phone": "139 0000 0000"}))
    complaint = get(app, key)
    assert complaint.complainant_id == first
    assert complaint.complainant.phone == "139 0000 0000"


def test_a_client_on_file_is_not_edited_through_a_complaint(reception, app):
    key = new_draft(reception)
    save(reception, app, key, "complainant", {"client_id": client_id(app, "李明")})
    save(reception, app, key, "complainant", person(**{"complainant-name": "李明"}))
    complaint = get(app, key)
    assert complaint.complainant_id != client_id(app, "李明")  # a new person was recorded
    with app.app_context():
        from portal.models import Client

        original = db.session.get(Client, client_id(app, "李明"))
        assert original.phone == "13800138000"  # untouched


def test_client_search_without_javascript_shows_suggestions(reception, app):
    key = new_draft(reception)
    response = reception.post(f"/complaints/{key}/sections/complainant",
                              data={"q": "李", "action": "search", "version": version(app, key)})
    assert response.status_code == 200
    assert f'name="client_id" value="{client_id(app, "李明")}"' in response.text
    assert get(app, key).complainant is None  # a search saves nothing


def test_respondents_add_and_remove(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "respondents", {"add": user_id(app, "王磊")})
    assert response.status_code == 200
    save(reception, app, key, "respondents", {"add": user_id(app, "张敏")})
    assert {u.name for u in get(app, key).respondents} == {"王磊", "张敏"}
    save(reception, app, key, "respondents", {"remove": user_id(app, "王磊")})
    assert [u.name for u in get(app, key).respondents] == ["张敏"]


def test_nobody_records_a_complaint_about_themselves(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "respondents", {"add": user_id(app, "林晓雯")})
    assert response.status_code == 422
    assert "You cannot record a complaint about yourself" in response.text
    assert get(app, key).respondents == []


def test_an_unknown_lawyer_is_422(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "respondents", {"add": 999999})
    assert response.status_code == 422
    assert "no longer on file" in response.text


def test_matter_link_and_unlink(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "matter", {"matter_id": matter_id(app, "M-2025-0188")})
    assert response.status_code == 200
    assert "王芳离婚财产分割" in response.text
    assert get(app, key).matter.reference == "M-2025-0188"
    save(reception, app, key, "matter", {"action": "clear"})
    assert get(app, key).matter is None


def test_incident_saves(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "incident",
                    incident(**{"incident-occurred_until": "2026-06-01"}))
    assert response.status_code == 200
    complaint = get(app, key)
    assert complaint.occurred_on.isoformat() == "2026-05-20"
    assert complaint.occurred_until.isoformat() == "2026-06-01"
    assert complaint.occurred_place == "律所办公室"


def test_incident_in_the_future_is_422_and_keeps_the_narrative(reception, app):
    key = new_draft(reception)
    text = "一段很长的描述，不能丢失。"
    response = save(reception, app, key, "incident", incident(**{
        "incident-narrative": text, "incident-occurred_on": "2099-01-01"}))
    assert response.status_code == 422
    assert "This date is in the future." in field_errors(response.text)
    assert text in response.text
    assert get(app, key).narrative is None


def test_incident_last_day_before_first_day_is_422(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "incident", incident(**{
        "incident-occurred_until": "2026-05-01"}))
    assert response.status_code == 422
    assert 'id="incident-occurred_until-error"' in response.text


def test_incident_with_an_impossible_date_is_422(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "incident", incident(**{
        "incident-occurred_on": "2026-02-30"}))
    assert response.status_code == 422
    assert 'id="incident-occurred_on-error"' in response.text


def test_remedy_saves(reception, app):
    key = new_draft(reception)
    assert save(reception, app, key, "remedy", remedy()).status_code == 200
    complaint = get(app, key)
    assert complaint.remedies_sought == ["explanation", "partial_refund"]
    assert complaint.remedy_details == "退还一半律师费"


@pytest.mark.parametrize("code", ["other", "full_refund", "partial_refund"])
def test_refund_or_other_needs_details(reception, app, code):
    key = new_draft(reception)
    response = save(reception, app, key, "remedy", remedy(codes=[code], details=""))
    assert response.status_code == 422
    assert 'id="remedy-remedy_details-error"' in response.text
    assert re.search(rf'<input checked [^>]*value="{code}"', response.text)  # input kept
    assert get(app, key).remedies_sought == []


def test_remedy_needs_a_choice(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "remedy", remedy(codes=[], details=""))
    assert response.status_code == 422
    assert "Choose at least one thing the client wants." in response.text


def test_channel_saves_in_beijing_time(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "channel",
                    {"channel-channel": "email", "channel-received_at": "2026-10-08T23:30"})
    assert response.status_code == 200
    complaint = get(app, key)
    assert complaint.channel == "email"
    assert complaint.received_at.isoformat() == "2026-10-08T15:30:00+00:00"


def test_channel_in_the_future_is_422(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "channel",
                    {"channel-channel": "letter", "channel-received_at": "2099-10-08T09:00"})
    assert response.status_code == 422
    assert 'value="2099-10-08T09:00"' in response.text
    assert get(app, key).channel == "phone"


def test_unknown_section_is_404(reception, app):
    key = new_draft(reception)
    assert save(reception, app, key, "secrets", {}).status_code == 404


# --- without JavaScript ----------------------------------------------------------------------


def test_plain_form_post_redirects_back_to_the_section(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "incident", incident(), htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/complaints/{key}#section-incident")


def test_plain_form_post_with_errors_returns_the_whole_page(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "incident",
                    incident(**{"incident-narrative": ""}), htmx=False)
    assert response.status_code == 422
    assert "<html" in response.text
    assert 'id="incident-narrative-error"' in response.text
    assert 'value="律所办公室"' in response.text


# --- optimistic locking ---------------------------------------------------------------------


def test_a_stale_version_is_409_keeps_the_input_and_changes_nothing(client, auth, app):
    auth.login_as("receptionist")
    key = new_draft(client)
    loaded_at = version(app, key)
    # A colleague saves first.
    assert save(client, app, key, "incident", incident()).status_code == 200
    mine = "我的版本：律师收了钱不办事。"
    response = save(client, app, key, "incident", incident(**{"incident-narrative": mine}),
                    stale=loaded_at)
    assert response.status_code == 409
    assert "Someone else saved this complaint after you opened it" in response.text
    assert mine in response.text
    assert 'data-hx-swap-oob' not in response.text
    assert get(app, key).narrative != mine


def test_a_missing_version_is_treated_as_a_conflict(reception, app):
    key = new_draft(reception)
    response = reception.post(f"/complaints/{key}/sections/incident", data=incident(),
                              headers=HX)
    assert response.status_code == 409


def test_the_same_page_can_save_section_after_section(reception, app):
    """Each save tells the page the new version, so the next section is not a conflict."""
    key = new_draft(reception)
    first = save(reception, app, key, "incident", incident())
    new_version = get(app, key).version
    assert f'id="version-remedy" value="{new_version}" data-hx-swap-oob="true"' in first.text
    assert save(reception, app, key, "remedy", remedy(), stale=new_version).status_code == 200


def test_a_saved_change_withdraws_the_confirmation(reception, app):
    key = complete_draft(reception, app)
    response = reception.post(f"/complaints/{key}/confirm",
                              data={"confirm-method": "phone", "version": version(app, key)})
    assert response.status_code == 303
    assert get(app, key).is_confirmed
    save(reception, app, key, "incident", incident(**{"incident-occurred_place": "法院"}))
    complaint = get(app, key)
    assert not complaint.is_confirmed
    last = events(app, "complaint.section_saved", complaint.id)[-1]
    assert last.details["confirmation_withdrawn"] is True


def test_saving_unchanged_data_writes_no_event(reception, app):
    key = new_draft(reception)
    save(reception, app, key, "incident", incident())
    before = version(app, key)
    assert save(reception, app, key, "incident", incident()).status_code == 200
    assert version(app, key) == before
    assert len(events(app, "complaint.section_saved", get(app, key).id)) == 1


# --- completeness and timeline ------------------------------------------------------------


def test_completeness_lists_what_is_missing(reception, app):
    key = new_draft(reception)
    assert missing_sections(get(app, key)) == [
        "complainant", "respondents", "incident", "remedy"]
    save(reception, app, key, "incident", incident())
    response = reception.get(f"/complaints/{key}/completeness", headers=HX)
    assert response.status_code == 200
    # A new draft has its channel; the incident makes two. The others are listed as missing.
    assert "2 of 5 required sections complete" in response.text
    assert "1 of 5" not in response.text
    rows = re.findall(r'<li class="([^"]*)"><a href="#section-(\w+)"', response.text)
    assert [name for css, name in rows if css == ""] == [
        "complainant", "respondents", "remedy"]
    assert [name for css, name in rows if css == "done"] == ["incident", "channel"]
    assert 'data-hx-trigger="intake-section-saved from:body"' in response.text


def test_timeline_shows_events_in_order_and_refreshes_itself(reception, app):
    key = complete_draft(reception, app)
    response = reception.get(f"/complaints/{key}/timeline", headers=HX)
    # No email waiting: htmx's "stop polling" status, and the swapped-in timeline no longer
    # asks again every 5 seconds (it still refreshes when the record changes).
    assert response.status_code == 286
    assert 'data-hx-trigger="complaint-changed from:body"' in response.text
    text = response.text
    positions = [text.index(label) for label in (
        "Complaint record created", "Section saved: Complainant",
        "Section saved: Lawyers complained about", "Section saved: What happened",
        "Section saved: Remedy sought")]
    assert positions == sorted(positions)


def test_timeline_polls_while_an_email_is_waiting_and_stops_once_it_is_sent(reception, app):
    from portal.models.outbox import OutboxMessage

    key = complete_draft(reception, app)
    assert reception.post(f"/complaints/{key}/confirmation-link", headers=HX).status_code == 200
    waiting = reception.get(f"/complaints/{key}/timeline", headers=HX)
    assert waiting.status_code == 200
    assert 'data-hx-trigger="load delay:5s, complaint-changed from:body"' in waiting.text
    with app.app_context(), writes_by_default():
        for message in db.session.scalars(select(OutboxMessage)):
            message.status = "sent"
        db.session.commit()
    sent = reception.get(f"/complaints/{key}/timeline", headers=HX)
    assert sent.status_code == 286
    assert "load delay" not in sent.text


# --- list and search ---------------------------------------------------------------------


def test_list_filters_and_search(reception, app):
    key = complete_draft(reception, app, existing="王芳", matter="M-2025-0188")
    other = new_draft(reception)
    page = reception.get("/complaints?state=open&q=王芳")
    assert f">{key}<" in page.text and f">{other}<" not in page.text
    page = reception.get("/complaints?state=registered")
    assert f">{key}<" not in page.text
    partial = reception.get("/complaints?state=draft", headers=HX)
    assert partial.text.lstrip().startswith('<div id="complaint-list">')


def test_search_endpoints_suggest_as_you_type(reception, app):
    clients = reception.get("/intake/search/clients?q=李", headers=HX)
    assert "李明" in clients.text and 'name="client_id"' in clients.text
    staff = reception.get("/intake/search/staff?q=王", headers=HX)
    assert "王磊" in staff.text and 'name="add"' in staff.text
    by_case = reception.get("/intake/search/matters?q=12345", headers=HX)
    assert "M-2025-0142" in by_case.text
    by_client = reception.get("/intake/search/matters?q=王芳", headers=HX)
    assert "M-2025-0188" in by_client.text
    nothing = reception.get("/intake/search/clients?q=%25", headers=HX)
    assert "李明" not in nothing.text  # a wildcard is just a character


def test_searches_return_at_most_ten(app):
    from portal.models import Client

    with app.app_context(), writes_by_default():
        db.session.add_all(Client(name=f"测试客户{i}", phone=f"1380000{i:04d}")
                           for i in range(15))
        db.session.commit()
        assert len(search_clients("测试客户")) == 10


def test_investigators_cannot_search_clients(client, auth):
    auth.login_as("investigator")
    assert client.get("/intake/search/clients?q=李").status_code == 403


def test_registered_complaint_is_read_only(reception, app):
    key = complete_draft(reception, app)
    reception.post(f"/complaints/{key}/confirm",
                   data={"confirm-method": "phone", "version": version(app, key)})
    reception.post(f"/complaints/{key}/register", headers=HX)
    reference = get(app, key).reference
    old = reception.get(f"/complaints/{key}")
    assert old.status_code == 301 and old.headers["Location"].endswith(reference)
    page = reception.get(f"/complaints/{reference}")
    assert 'action="/complaints/' + reference + '/sections/incident"' not in page.text
    response = save(reception, app, reference, "incident", incident())
    assert response.status_code == 422
    assert "can no longer be changed" in response.text


def test_complaints_in_the_database_match_the_page(reception, app):
    key = complete_draft(reception, app)
    page = html.unescape(reception.get(f"/complaints/{key}").text)
    stored = get(app, key)
    assert stored.language == "zh"
    assert [r.name for r in stored.respondents] == ["王磊"]
    shown = [stored.complainant.name, stored.complainant.phone, stored.complainant.email,
             stored.complainant.address, stored.matter.reference, stored.narrative,
             stored.remedy_details, *(r.name for r in stored.respondents)]
    missing = [value for value in shown if value not in page]
    assert not missing, missing
