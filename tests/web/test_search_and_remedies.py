"""Search takes what is typed literally, and remedies keep one order (stored and shown)."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from portal.db import db, writes_by_default
from portal.models import Client
from portal.models.complaint import REMEDY_LABELS, Remedy
from tests.web.test_intake_readback import send_link
from tests.web.test_intake_support import complete_draft, get, new_draft, person, remedy, save


@pytest.mark.parametrize(("literal", "lookalike", "query"), [
    ("折扣%客户", "折扣9客户", "扣%客"),
    ("林_华", "林小华", "林_华"),
])
def test_wildcards_typed_in_the_complaints_search_match_literally(
        reception, app, literal, lookalike, query):
    for name in (literal, lookalike):
        key = new_draft(reception)
        assert save(reception, app, key, "complainant",
                    person(**{"complainant-name": name})).status_code == 200
    page = reception.get("/complaints", query_string={"q": query, "state": "all"})
    assert page.status_code == 200
    assert literal in page.text
    assert lookalike not in page.text


@pytest.mark.parametrize(("literal", "lookalike", "query"), [
    ("百分%百", "百分之百", "分%百"),
    ("林_华", "林小华", "林_华"),
])
def test_wildcards_typed_in_the_client_search_match_literally(
        reception, app, literal, lookalike, query):
    with app.app_context(), writes_by_default():
        db.session.add_all([Client(name=literal), Client(name=lookalike)])
        db.session.commit()
    response = reception.get("/intake/search/clients", query_string={"q": query})
    assert response.status_code == 200
    assert literal in response.text
    assert lookalike not in response.text


def test_remedies_are_stored_and_shown_in_the_order_of_the_list(reception, app):
    key = complete_draft(reception, app)
    ticked = ("other", "apology", "partial_refund", "explanation")
    assert save(reception, app, key, "remedy", remedy(ticked, "退还一半律师费")).status_code == 200
    assert get(app, key).remedies_sought == [
        "explanation", "apology", "partial_refund", "other"]

    path = send_link(reception, app, key)
    reception.post("/logout")
    page = reception.get(path)  # the read-back, in the client's language (Chinese)
    assert page.status_code == 200
    with app.test_request_context("/"), force_locale("zh_CN"):
        labels = [str(REMEDY_LABELS[Remedy(code)]) for code in get(app, key).remedies_sought]
    assert "赔礼道歉" in labels
    positions = [m.start() for label in labels
                 for m in [re.search(rf"<li>{re.escape(label)}</li>", page.text)] if m]
    assert len(positions) == len(labels), page.text
    assert positions == sorted(positions)
