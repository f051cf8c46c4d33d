"""The public form over the size limit, or with a NUL character: the form comes back with the
visitor's text and the reason, never a bare error page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.models import Complaint
from tests.web.test_public_form import NARRATIVE, valid_form

TOO_LONG = "What you sent is longer than we can accept, so nothing was sent."
NUL_REMOVED = "a character that cannot be stored (a NUL character)"


def complaints(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Complaint.id)))


def test_an_oversize_form_comes_back_with_the_text_and_the_reason(client, app):
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    story = NARRATIVE + "很长的描述。" * (limit // 10)
    response = client.post("/complaint", data=valid_form(narrative=story))
    assert response.status_code == 413
    assert TOO_LONG in response.text
    assert 'value="陈小红"' in response.text  # the fields sent before the long one
    assert 'value="chen.xiaohong@example.com"' in response.text
    assert NARRATIVE + "很长的描述。很长的描述。" in response.text  # its beginning
    assert "<h1>" in response.text and 'id="complaint-form"' in response.text
    assert complaints(app) == 0


def test_fields_after_the_cut_are_empty_but_the_page_is_whole(client, app):
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    body = urlencode({"name": "陈小红", "narrative": "x" * (limit + 10), "place": "电话"})
    response = client.post("/complaint", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert 'value="陈小红"' in response.text
    assert 'value="电话"' not in response.text
    assert complaints(app) == 0


def test_an_oversize_multipart_form_keeps_its_text_fields(client, app):
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    response = client.post("/complaint", content_type="multipart/form-data", data={
        **valid_form(), "narrative": NARRATIVE + "y" * (limit + 10)})
    assert response.status_code == 413
    assert TOO_LONG in response.text
    assert 'value="陈小红"' in response.text
    assert complaints(app) == 0


@pytest.mark.parametrize("field", ["narrative", "name", "place"])
def test_a_nul_character_comes_back_removed_with_the_reason(client, app, field):
    value = {"narrative": NARRATIVE, "name": "陈小红", "place": "电话"}[field]
    response = client.post("/complaint", data=valid_form(**{field: value[:2] + "\x00" +
                                                             value[2:]}))
    assert response.status_code == 400
    assert NUL_REMOVED in response.text
    assert value in response.text  # without the NUL
    assert "\x00" not in response.text
    assert NARRATIVE in response.text and 'value="陈小红"' in response.text
    assert complaints(app) == 0


def test_other_routes_still_refuse_a_nul_character_outright(client):
    response = client.post("/login", data={"username": "par\x00tner", "password": "x" * 10})
    assert response.status_code == 400


# --- the staff evidence upload -----------------------------------------------------------


def test_an_upload_over_the_portal_limit_answers_beside_the_file_field(client, auth, app):
    from tests.unit.test_intake_filetypes import PDF
    from tests.web.test_intake_evidence import upload
    from tests.web.test_intake_support import get, new_draft

    auth.login_as("receptionist")
    key = new_draft(client)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = upload(client, key, PDF + b"%" * (200 * 1024))
    assert response.status_code == 413
    assert response.text.lstrip().startswith('<section id="section-evidence"')  # the partial
    assert 'id="evidence-file-error"' in response.text
    assert "The file is larger than" in response.text
    assert get(app, key).evidence == []
    plain = upload(client, key, PDF + b"%" * (200 * 1024), htmx=False)
    assert plain.status_code == 413
    assert 'id="evidence-file-error"' in plain.text and "<h1>" in plain.text


def test_a_long_description_with_a_small_file_is_a_form_error(client, auth, app):
    import io

    from tests.unit.test_intake_filetypes import PDF
    from tests.web.test_intake_support import HX, get, new_draft

    auth.login_as("receptionist")
    key = new_draft(client)
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    response = client.post(f"/complaints/{key}/evidence", content_type="multipart/form-data",
                           headers=HX, data={"evidence-file": (io.BytesIO(PDF), "a.pdf"),
                                             "evidence-category": "other",
                                             "evidence-description": "长" * limit})
    assert response.status_code == 422
    assert 'id="evidence-description-error"' in response.text
    assert get(app, key).evidence == []
