"""The investigator's workspace: the evidence register (with previews and audited opening),
statements with attachments, interview notes, the chronology and the case file's area."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from portal import clock as portal_clock
from portal.db import db
from portal.models import Evidence
from portal.models.audit import AuditEvent
from portal.models.investigation import InterviewNote, Statement
from tests.conftest import field_errors
from tests.unit.test_intake_filetypes import HTML, PDF
from tests.web.test_intake_support import HX
from tests.workspace_support import (
    NARRATIVE,
    intake_item,
    investigating,
    one_page_pdf,
    png,
    set_state,
    user_id,
)

BASE = "/complaints/TS-2026-09001/investigation"


@pytest.fixture
def lead(app, client, auth):
    investigating(app)
    auth.login_as("investigator")
    return client


def upload(client, data: bytes, name: str = "合同.pdf", category: str = "engagement_contract",
           htmx: bool = True, description: str = "委托合同"):
    form = {"evidence-file": (io.BytesIO(data), name), "evidence-category": category,
            "evidence-description": description}
    return client.post(f"{BASE}/evidence", data=form, content_type="multipart/form-data",
                       headers=HX if htmx else {})


def statement(client, *, speaker: str = "complainant", text: str = "我三次打电话都没人接。",
              given_on: str | None = None, method: str = "interview", files=(),
              category: str = "communications", htmx: bool = True):
    form = {"statement-speaker": speaker, "statement-text": text, "statement-method": method,
            "statement-given_on": given_on or portal_clock.today().isoformat(),
            "statement-attachment_category": category,
            "statement-attachments": [(io.BytesIO(data), name) for data, name in files]}
    return client.post(f"{BASE}/statements", data=form, content_type="multipart/form-data",
                       headers=HX if htmx else {})


def note(client, *, text: str = "王律师承认未及时回复。", participants: str = "周建国、王磊",
         held_on: str | None = None, htmx: bool = True):
    form = {"note-held_on": held_on or portal_clock.today().isoformat(),
            "note-participants": participants, "note-text": text}
    return client.post(f"{BASE}/notes", data=form, headers=HX if htmx else {})


def rows(app, model) -> list:
    with app.app_context():
        found = list(db.session.scalars(select(model).order_by(model.id)))
        db.session.expunge_all()
        return found


def audit_of(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return found


def stored(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


# --- the page ------------------------------------------------------------------------------


def test_the_lead_opens_the_workspace_with_its_allegations(lead, app):
    response = lead.get(BASE)
    assert response.status_code == 200
    page = response.text
    assert "Investigation of TS-2026-09001" in page
    assert "收费后三个月没有任何进展" in page and "不回复客户的微信和电话" in page
    for part in ("ws-evidence", "ws-statements", "ws-replies", "ws-notes", "ws-chronology"):
        assert f'id="{part}"' in page
    assert "周建国" in page  # the lead
    viewed = audit_of(app, "complaint.viewed")
    assert viewed[-1].details == {"view": "workspace"}


def test_an_htmx_request_gets_the_workspace_partial(lead):
    response = lead.get(BASE, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="workspace">')
    assert "HX-Request" in response.headers["Vary"]


# --- the evidence register -------------------------------------------------------------------


def test_evidence_added_here_is_registered_with_who_when_and_its_hash(lead, app):
    data = one_page_pdf()
    response = upload(lead, data)
    assert response.status_code == 200
    assert "workspace-changed" in response.headers["HX-Trigger"]
    assert "The file has been added." in response.text
    assert "合同.pdf" in response.text and hashlib.sha256(data).hexdigest() in response.text
    assert "周建国" in response.text and "Engagement contract" in response.text
    [item] = rows(app, Evidence)
    assert item.phase == "investigation" and item.uploaded_by_id == user_id(app, "investigator")
    [event] = audit_of(app, "evidence.added")
    assert event.details["evidence_id"] == item.id and event.details["phase"] == "investigation"
    assert "合同" not in json.dumps(event.details, ensure_ascii=False)


def test_without_javascript_adding_redirects_back_to_the_register(lead):
    response = upload(lead, one_page_pdf(), htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{BASE}#ws-evidence")


@pytest.mark.parametrize(("data", "name", "status", "message"), [
    (HTML, "page.html", 422, "Web pages and SVG drawings"),
    (b"MZ\x90\x00" + b"\x00" * 200, "tool.exe", 422, "This type of file is not accepted"),
])
def test_a_disallowed_file_is_refused_and_nothing_changes(lead, app, data, name, status,
                                                          message):
    response = upload(lead, data, name=name, description="保留的描述")
    assert response.status_code == status
    assert message in response.text
    assert 'value="保留的描述"' in response.text  # what was typed is kept
    assert rows(app, Evidence) == [] and stored(app) == []
    assert audit_of(app, "evidence.added") == []


def test_an_oversize_file_is_refused_with_413(lead, app):
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    response = upload(lead, one_page_pdf() + b"%" * 2048)
    assert response.status_code == 413
    assert "The file is larger than" in response.text
    assert rows(app, Evidence) == [] and stored(app) == []


def test_a_missing_kind_is_422_with_the_message_beside_the_field(lead, app):
    response = upload(lead, one_page_pdf(), category="")
    assert response.status_code == 422
    assert "Choose what kind of evidence this is." in field_errors(response.text)
    assert rows(app, Evidence) == []


def test_opening_evidence_is_a_download_and_is_audited(lead, app):
    data = one_page_pdf()
    upload(lead, data)
    [item] = rows(app, Evidence)
    response = lead.get(f"{BASE}/evidence/{item.id}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Type"] == "application/pdf"
    [event] = audit_of(app, "evidence.opened")
    assert event.details == {"evidence_id": item.id, "sha256": item.sha256}
    assert event.actor_id == user_id(app, "investigator")
    assert event.object_id == str(item.complaint_id)


def test_intake_evidence_is_in_the_register_too(lead, app):
    item_id = intake_item(app, b"%PDF-1.4 intake", "委托合同.pdf")
    page = lead.get(BASE).text
    assert "委托合同.pdf" in page and "Intake" in page
    assert lead.get(f"{BASE}/evidence/{item_id}").status_code == 200


def test_a_pdf_preview_is_page_one_as_png_cached_by_sha256(lead, app, monkeypatch):
    data = one_page_pdf()
    upload(lead, data)
    [item] = rows(app, Evidence)
    page = lead.get(BASE).text
    assert f"{BASE}/evidence/{item.id}/preview" in page
    response = lead.get(f"{BASE}/evidence/{item.id}/preview")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert max(image.size) <= 900 and image.format == "PNG"
    cached = Path(app.config["INSTANCE_DATA_DIR"]) / "previews" / f"{item.sha256}.png"
    assert cached.read_bytes() == response.data
    import subprocess

    def no_second_render(*_args, **_kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(subprocess, "run", no_second_render)
    assert lead.get(f"{BASE}/evidence/{item.id}/preview").data == response.data


def test_an_image_preview_is_downscaled(lead, app):
    upload(lead, png(2400, 1600), name="聊天截图.png", category="communications")
    [item] = rows(app, Evidence)
    response = lead.get(f"{BASE}/evidence/{item.id}/preview")
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.data)).size == (900, 600)


def test_a_text_file_shows_its_first_lines_in_the_page(lead, app):
    text = "\n".join(f"第{n}行：<b>微信记录</b>" for n in range(1, 30))
    upload(lead, text.encode("gb18030"), name="记录.txt", category="communications")
    page = lead.get(BASE).text
    assert "第1行：&lt;b&gt;微信记录&lt;/b&gt;" in page  # escaped, never markup
    assert "第8行" in page and "第9行" not in page
    [item] = rows(app, Evidence)
    assert lead.get(f"{BASE}/evidence/{item.id}/preview").status_code == 404


def test_a_pdf_that_cannot_be_drawn_says_so(lead, app):
    upload(lead, PDF, name="坏的.pdf")  # a PDF with no page at all
    [item] = rows(app, Evidence)
    assert lead.get(f"{BASE}/evidence/{item.id}/preview").status_code == 404
    assert "No preview: the file could not be drawn." in lead.get(BASE).text


def test_poppler_is_installed():
    import shutil

    assert shutil.which("pdftoppm"), "poppler-utils (scripts/system_packages.sh) is missing"


# --- statements ------------------------------------------------------------------------------


def test_a_statement_with_attachments_joins_the_register(lead, app):
    response = statement(lead, files=[(one_page_pdf(), "微信截图.pdf"),
                                      ("会议纪要".encode(), "纪要.txt")])
    assert response.status_code == 200, response.text
    assert "The statement has been recorded." in response.text
    assert "evidence-changed" in response.headers["HX-Trigger"]
    [saved] = rows(app, Statement)
    assert (saved.party, saved.method, saved.respondent_id) == ("complainant", "interview", None)
    assert saved.recorded_by_id == user_id(app, "investigator")
    items = rows(app, Evidence)
    assert [(e.statement_id, e.phase, e.category) for e in items] == [
        (saved.id, "investigation", "communications")] * 2
    [event] = audit_of(app, "statement.recorded")
    assert event.details == {"statement_id": saved.id, "party": "complainant",
                             "method": "interview", "respondent_id": None,
                             "evidence_ids": [e.id for e in items]}
    assert "微信截图.pdf" in response.text
    register = lead.get(f"{BASE}/evidence", headers=HX).text
    assert "微信截图.pdf" in register and "Attached to a statement" in register


def test_a_respondents_statement_names_them(lead, app):
    wang = user_id(app, "王磊")
    response = statement(lead, speaker=str(wang), method="phone", text="我一直在处理此案。")
    assert response.status_code == 200
    [saved] = rows(app, Statement)
    assert (saved.party, saved.respondent_id) == ("respondent", wang)
    assert "Respondent: 王磊" in response.text


def test_a_statement_opens_in_full_on_its_own_page(lead, app):
    long_text = "开头" + "很长的陈述。" * 200 + "结尾"
    statement(lead, text=long_text)
    [saved] = rows(app, Statement)
    page = lead.get(BASE).text
    assert "结尾" not in page and "Read the whole statement" in page
    full = lead.get(f"{BASE}/statements/{saved.id}")
    assert full.status_code == 200 and "结尾" in full.text
    assert audit_of(app, "complaint.viewed")[-1].details == {"view": "statement",
                                                               "statement_id": saved.id}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"text": "   "}, "statement-text", "Write down the statement."),
    ({"speaker": ""}, "statement-speaker", "Choose whose statement this is."),
    ({"method": ""}, "statement-method", "Choose how the statement was given."),
    ({"given_on": "2999-01-01"}, "statement-given_on", "This date is in the future."),
])
def test_bad_statements_are_422_with_the_input_kept(lead, app, changes, field, message):
    data = {"text": "保留我写的内容", **changes}
    response = statement(lead, **data)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(response.text)), response.text
    assert f'id="{field}"' in response.text
    if changes.get("text") is None:
        assert "保留我写的内容" in response.text
    assert rows(app, Statement) == []


def test_a_tampered_speaker_or_method_is_refused(lead, app):
    outsider = user_id(app, "张敏")  # on the matter's team, not a respondent
    assert statement(lead, speaker=str(outsider)).status_code == 422
    assert statement(lead, method="online_reply").status_code == 422
    assert rows(app, Statement) == []


def test_a_statement_with_a_disallowed_attachment_changes_nothing(lead, app):
    response = statement(lead, files=[(one_page_pdf(), "好的.pdf"), (HTML, "坏的.html")])
    assert response.status_code == 422
    assert "Web pages and SVG drawings" in response.text
    assert "我三次打电话都没人接。" in response.text
    assert rows(app, Statement) == [] and rows(app, Evidence) == [] and stored(app) == []


def test_attachments_need_a_kind(lead, app):
    response = statement(lead, files=[(one_page_pdf(), "好的.pdf")], category="")
    assert response.status_code == 422
    assert "Choose what kind of evidence the attachments are." in response.text
    assert rows(app, Statement) == [] and rows(app, Evidence) == [] and stored(app) == []


# --- notes -----------------------------------------------------------------------------------


def test_an_interview_note_is_recorded_and_audited(lead, app):
    response = note(lead)
    assert response.status_code == 200
    assert "The interview note has been recorded." in response.text
    [saved] = rows(app, InterviewNote)
    assert saved.author_id == user_id(app, "investigator") and saved.participants == "周建国、王磊"
    [event] = audit_of(app, "note.recorded")
    assert event.details == {"note_id": saved.id}
    full = lead.get(f"{BASE}/notes/{saved.id}")
    assert full.status_code == 200 and "王律师承认未及时回复。" in full.text


def test_a_bad_note_is_422_with_the_input_kept(lead, app):
    response = note(lead, participants="", text="记下来的话")
    assert response.status_code == 422
    assert "Name who took part." in field_errors(response.text)
    assert "记下来的话" in response.text
    assert rows(app, InterviewNote) == []


def test_a_closed_investigation_answers_409_and_keeps_the_text(lead, app):
    lead.get(BASE)
    set_state(app, "TS-2026-09001", "awaiting_decision")
    response = note(lead, text="晚到的笔记")
    assert response.status_code == 409
    assert "no longer open" in response.text and "晚到的笔记" in response.text
    assert rows(app, InterviewNote) == []
    assert statement(lead).status_code == 409
    # It can still be read, without the forms.
    page = lead.get(BASE).text
    assert "Record an interview note" not in page


# --- the chronology --------------------------------------------------------------------------


def test_the_chronology_lists_every_dated_item_in_date_order(lead, app, clock):
    upload(lead, one_page_pdf(), name="证据一.pdf")
    statement(lead, given_on=(clock.today() - timedelta(days=3)).isoformat())
    note(lead, held_on=(clock.today() - timedelta(days=1)).isoformat(), participants="周建国")
    page = lead.get(f"{BASE}/chronology", headers=HX).text
    order = ["What the complaint is about happened", "Complaint received",
             "Registered as TS-2026-09001", "Triaged", "Statement: The complainant",
             "Interview: 周建国", "assigned to lead the investigation",
             "Evidence added: 证据一.pdf"]
    positions = [page.index(label) for label in order]
    assert positions == sorted(positions), list(zip(order, positions, strict=True))
    assert date(2026, 5, 20).isoformat() in page


def test_the_chronology_refreshes_after_a_change(lead):
    page = lead.get(BASE).text
    assert 'data-hx-trigger="workspace-changed from:body"' in page


# --- the case file ---------------------------------------------------------------------------


def test_the_case_file_shows_the_area_to_a_partner_who_may_open_the_workspace(app, client,
                                                                              auth):
    investigating(app)
    auth.login_as("investigator")
    statement(client)
    note(client)
    auth.logout()
    auth.login_as("partner")  # partner2: a partner with no conflict
    page = client.get("/complaints/TS-2026-09001").text
    assert 'id="area-investigation"' in page
    assert "1 statement" in page and "1 interview note" in page
    assert f'href="{BASE}"' in page


def test_the_case_file_hides_the_area_and_the_register_from_a_receptionist(app, client, auth):
    investigating(app)
    auth.login_as("investigator")
    upload(client, one_page_pdf(), name="调查证据.pdf")
    [item] = rows(app, Evidence)
    auth.logout()
    auth.login_as("receptionist")
    page = client.get("/complaints/TS-2026-09001").text
    assert 'id="area-investigation"' not in page and "调查证据.pdf" not in page
    assert client.get(f"/complaints/TS-2026-09001/evidence/{item.id}").status_code == 404


def test_the_narrative_stays_on_the_record(lead):
    assert NARRATIVE not in lead.get(BASE).text
