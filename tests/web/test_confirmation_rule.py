"""Issue 7 §2: "in person" fits walk-ins and client-relations staff, "by phone" a phone call;
any other pairing is refused (422, what was typed kept) until a note says why."""

from __future__ import annotations

import re

import pytest

from tests.web.test_intake_support import complete_draft, get, version


def _confirm(client, app, key: str, method: str, note: str | None = None, **headers):
    data = {"confirm-method": method, "version": version(app, key)}
    if note is not None:
        data["confirm-note"] = note
    return client.post(f"/complaints/{key}/confirm", data=data, headers=headers)


@pytest.fixture
def english(reception):
    reception.post("/language", data={"locale": "en"})
    return reception


@pytest.mark.parametrize(("channel", "method"), [
    ("phone", "phone"), ("walk_in", "in_person"), ("client_relations", "in_person")])
def test_the_way_that_fits_the_channel_needs_no_note(english, app, channel, method):
    key = complete_draft(english, app, channel=channel)
    assert _confirm(english, app, key, method).status_code == 303
    complaint = get(app, key)
    assert complaint.confirmation_method == method and complaint.confirmation_note is None


@pytest.mark.parametrize(("channel", "method"), [
    ("phone", "in_person"), ("walk_in", "phone"), ("email", "in_person"), ("letter", "phone")])
def test_any_other_pairing_is_refused_without_a_note(english, app, channel, method):
    key = complete_draft(english, app, channel=channel)
    response = _confirm(english, app, key, method, note="  ")
    assert response.status_code == 422
    assert 'id="confirm-note-error"' in response.text
    assert "These do not match: add a note saying how the client confirmed and why." \
        in response.text
    assert re.search(f'<input checked [^>]*value="{method}"', response.text)  # choice kept
    assert not get(app, key).is_confirmed


def test_a_note_lets_it_through_and_is_kept_on_the_record(english, app):
    key = complete_draft(english, app, channel="phone")
    note = "客户次日来所当面确认，并签字"
    assert _confirm(english, app, key, "in_person", note).status_code == 303
    complaint = get(app, key)
    assert complaint.confirmation_method == "in_person"
    assert complaint.confirmation_note == note


def test_the_refusal_keeps_the_note_typed_and_htmx_gets_422(english, app):
    key = complete_draft(english, app, channel="email")
    long_note = "很" * 2001
    response = _confirm(english, app, key, "phone", long_note, **{"HX-Request": "true"})
    assert response.status_code == 422
    assert "The note has at most 2000 characters." in response.text
    assert long_note in response.text
    assert not get(app, key).is_confirmed


def test_the_read_back_offers_a_note_and_says_when_it_is_needed(english, app):
    key = complete_draft(english, app, channel="phone")
    page = english.get(f"/complaints/{key}/read-back").text
    assert 'name="confirm-note"' in page
    assert "Received: Phone. A note is needed unless the client confirmed by phone." in page
    key = complete_draft(english, app, channel="walk_in")
    page = english.get(f"/complaints/{key}/read-back").text
    assert "Received: Walk-in. A note is needed unless the client confirmed in person." in page
