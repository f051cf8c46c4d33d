"""Names and email addresses: intake applies the outbox's rules, so registration never ends in
a 500 because of what was typed at intake (a line break in a name, an address needing SMTPUTF8).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, OutboxMessage
from portal.services import addresses
from tests.conftest import field_errors
from tests.unit.test_import_export import _complainant, run_import, write
from tests.web.test_intake_support import (
    complete_draft,
    confirm_in_person,
    get,
    new_draft,
    person,
    save,
)
from tests.web.test_public_form import valid_form

SMTPUTF8 = "用户@example.com"
ONE_LINE = "A name is written on one line, without line breaks or control characters."
NOT_REACHABLE = "Our mail cannot reach an address with Chinese or other non-Latin letters"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("name", ["陈小红\nBcc: x@evil.example", "陈小红\r\n王", "陈\r小红",
                                  "陈\u2028小红", "陈\x1b小红", "陈\t小红"])
def test_a_name_with_a_line_break_is_refused_at_intake(reception, app, name):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant", person(**{"complainant-name": name}))
    assert response.status_code == 422
    assert ONE_LINE in field_errors(response.text)
    assert 'value="chen.xiaohong@example.com"' in response.text  # what was typed is kept
    assert get(app, key).complainant is None


def test_an_address_needing_smtputf8_is_refused_at_intake(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant",
                    person(**{"complainant-email": SMTPUTF8}))
    assert response.status_code == 422
    assert any(NOT_REACHABLE in error for error in field_errors(response.text))
    assert f'value="{SMTPUTF8}"' in response.text
    assert get(app, key).complainant is None


def test_a_unicode_domain_is_accepted_at_intake(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "complainant",
                    person(**{"complainant-email": "chen@例子.中国"}))
    assert response.status_code == 200
    assert get(app, key).complainant.email == "chen@例子.中国"


def test_an_address_needing_smtputf8_is_refused_on_the_public_form(client, app):
    response = client.post("/complaint", data=valid_form(email=SMTPUTF8))
    assert response.status_code == 422
    assert any(NOT_REACHABLE in error for error in field_errors(response.text))
    assert SMTPUTF8 in response.text
    assert count(app, Complaint) == 0


@pytest.mark.parametrize("name", ["陈小红\n王", "陈小红\u2028王", "陈小红\x85王", "陈小红\x9b王"])
def test_the_public_form_stores_a_name_the_outbox_can_send_to(client, app, name):
    """The public form cleans what a visitor cannot see (it strips control characters and
    joins lines, as it always did), so the name it stores passes the outbox's rule."""
    response = client.post("/complaint", data=valid_form(name=name))
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(Client.name)).all()
    assert any(n.startswith("陈小红") for n in stored)
    assert all(addresses.is_single_line(n) for n in stored)


def test_an_import_with_an_address_needing_smtputf8_is_refused(runner, app, tmp_path):
    result = run_import(runner, write(tmp_path, _complainant(email=SMTPUTF8)))
    assert result.exit_code == 1
    assert "complainant.email: not an address our mail can reach" in result.stderr
    assert count(app, Complaint) == 0


def test_an_import_with_a_unicode_line_separator_in_a_name_is_refused(runner, app, tmp_path):
    result = run_import(runner, write(tmp_path, _complainant(name="李明\u2028Bcc: x")))
    assert result.exit_code == 1
    assert "complainant.name: contains control characters" in result.stderr


@pytest.mark.parametrize("changes", [{"name": "陈小红\nBcc: x@evil.example"},
                                     {"email": SMTPUTF8}])
def test_a_record_saved_before_these_rules_cannot_break_registration(reception, app, changes):
    """Rows written before intake checked this (or by hand) give a 422 with the reason."""
    key = complete_draft(reception, app)
    assert confirm_in_person(reception, app, key).status_code in (200, 303)
    with app.app_context(), write_transaction():
        client = db.session.get(Client, get(app, key).complainant.id)
        for name, value in changes.items():
            setattr(client, name, value)
    response = reception.post(f"/complaints/{key}/register", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "cannot be used in an email" in response.text
    assert get(app, key).reference is None
    assert count(app, OutboxMessage) == 0
    link = reception.post(f"/complaints/{key}/confirmation-link", headers={"HX-Request": "true"})
    assert link.status_code == 422
    assert "cannot be used in an email" in link.text
