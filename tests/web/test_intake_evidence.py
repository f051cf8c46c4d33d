"""Evidence uploads and downloads through the complaint page."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.models import Evidence
from tests.unit.test_intake_filetypes import HTML, PDF, SVG
from tests.web.test_intake_support import (
    HX,
    complete_draft,
    confirm_in_person,
    events,
    get,
    new_draft,
    save,
    user_id,
)


def upload(client, key: str, data: bytes, name: str = "合同.pdf",
           category: str = "engagement_contract", htmx: bool = True):
    form = {"evidence-file": (io.BytesIO(data), name), "evidence-category": category,
            "evidence-description": "委托合同第3页"}
    return client.post(f"/complaints/{key}/evidence", data=form,
                       content_type="multipart/form-data", headers=HX if htmx else {})


def stored_files(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def evidence_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Evidence.id)))


def test_good_pdf_is_accepted_and_stored_outside_static(reception, app):
    key = new_draft(reception)
    response = upload(reception, key, PDF)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "complaint-changed"
    assert "合同.pdf" in response.text
    assert "The file has been added." in response.text
    files = stored_files(app)
    assert len(files) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", files[0].name)
    assert files[0].read_bytes() == PDF
    assert "static" not in str(files[0])
    item = get(app, key).evidence[0]
    assert item.sha256 == hashlib.sha256(PDF).hexdigest()
    assert item.content_type == "application/pdf"
    assert item.category == "engagement_contract"
    added = events(app, "evidence.added", get(app, key).id)
    assert added[0].details["sha256"] == item.sha256
    assert "合同" not in str(added[0].details)


def test_oversize_file_is_413_with_a_clear_message(reception, app):
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    key = new_draft(reception)
    response = upload(reception, key, PDF + b"%" * 2048)
    assert response.status_code == 413
    assert "The file is larger than" in response.text
    assert stored_files(app) == []
    assert evidence_count(app) == 0


def test_a_request_over_the_portal_limit_is_413(reception, app):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    key = new_draft(reception)
    response = upload(reception, key, PDF + b"%" * 8192, htmx=False)
    assert response.status_code == 413
    assert stored_files(app) == []


@pytest.mark.parametrize("data, name", [(HTML, "合同.pdf"), (SVG, "photo.png"),
                                        (HTML, "notes.txt")])
def test_renamed_html_or_svg_is_refused(reception, app, data, name):
    key = new_draft(reception)
    response = upload(reception, key, data, name=name)
    assert response.status_code == 422
    assert "Web pages and SVG drawings" in response.text
    assert 'id="evidence-file-error"' in response.text
    assert stored_files(app) == []
    assert evidence_count(app) == 0


def test_upload_without_a_file_or_category_is_422(reception, app):
    key = new_draft(reception)
    response = reception.post(f"/complaints/{key}/evidence",
                              data={"evidence-category": "other"},
                              content_type="multipart/form-data", headers=HX)
    assert response.status_code == 422
    assert "Choose a file to upload." in response.text
    response = upload(reception, key, PDF, category="gossip")
    assert response.status_code == 422
    assert 'id="evidence-category-error"' in response.text


def test_download_is_an_attachment_with_nosniff(reception, app):
    key = new_draft(reception)
    upload(reception, key, PDF, name="委托合同.pdf")
    item = get(app, key).evidence[0]
    response = reception.get(f"/complaints/{key}/evidence/{item.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%A7%94%E6%89%98%E5%90%88%E5%90%8C.pdf" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    assert len(events(app, "evidence.downloaded", get(app, key).id)) == 1


def test_a_pdf_named_html_downloads_as_pdf(reception, app):
    key = new_draft(reception)
    assert upload(reception, key, PDF, name="evil.html").status_code == 200
    item = get(app, key).evidence[0]
    response = reception.get(f"/complaints/{key}/evidence/{item.id}")
    assert response.headers["Content-Disposition"].endswith("filename=evil.html.pdf")


def test_evidence_of_another_complaint_is_404(reception, app):
    first = new_draft(reception)
    second = new_draft(reception)
    upload(reception, first, PDF)
    item = get(app, first).evidence[0]
    assert reception.get(f"/complaints/{second}/evidence/{item.id}").status_code == 404


def test_respondent_cannot_download(client, auth, app):
    auth.login_as("receptionist")
    key = new_draft(client)
    save(client, app, key, "respondents", {"add": user_id(app, "刘慧敏")})
    upload(client, key, PDF)
    item = get(app, key).evidence[0]
    auth.logout()
    auth.login_as("partner")  # 刘慧敏
    assert client.get(f"/complaints/{key}/evidence/{item.id}").status_code == 404
    assert upload(client, key, PDF).status_code == 404


def test_investigator_cannot_download(client, auth, app):
    auth.login_as("receptionist")
    key = new_draft(client)
    upload(client, key, PDF)
    item = get(app, key).evidence[0]
    auth.logout()
    auth.login_as("investigator")  # not assigned to it: the draft does not exist for them
    assert client.get(f"/complaints/{key}/evidence/{item.id}").status_code == 404


def test_no_uploads_after_registration(reception, app):
    key = complete_draft(reception, app)
    confirm_in_person(reception, app, key)
    reception.post(f"/complaints/{key}/register", headers=HX)
    reference = get(app, key).reference
    response = upload(reception, reference, PDF)
    assert response.status_code == 422
    assert stored_files(app) == []


def test_upload_without_javascript_redirects(reception, app):
    key = new_draft(reception)
    response = upload(reception, key, PDF, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#section-evidence")
