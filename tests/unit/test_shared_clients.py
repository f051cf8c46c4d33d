"""`is_exclusive_client`: a person on file for this complaint alone may be edited in place;
one with a matter or another complaint is shared, and editing them would change those too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import Client, Matter, User
from portal.services.intake.sections import create_draft, is_exclusive_client, save_section
from tests.unit.test_intake_service import RECEIVED


@pytest.fixture
def ctx(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}), writes_by_default():
        yield app


def reception() -> User:
    return db.session.scalar(select(User).where(User.username == "reception"))


def draft_for(client: Client):
    actor = reception()
    complaint = create_draft(actor, channel="phone", received_at=RECEIVED)
    save_section(actor, complaint, "complainant", {"client_id": client.id}, complaint.version)
    return complaint


def new_client(name: str = "周小燕") -> Client:
    client = Client(name=name, phone="13600136000")
    db.session.add(client)
    db.session.flush()
    return client


def test_a_client_not_yet_saved_is_exclusive(ctx):
    complaint = create_draft(reception(), channel="phone", received_at=RECEIVED)
    assert is_exclusive_client(Client(name="未保存"), complaint)


def test_a_client_of_this_complaint_alone_is_exclusive(ctx):
    client = new_client()
    assert is_exclusive_client(client, draft_for(client))


def test_a_client_with_another_complaint_is_shared(ctx):
    client = new_client()
    first = draft_for(client)
    second = draft_for(client)
    assert not is_exclusive_client(client, first)
    assert not is_exclusive_client(client, second)


def test_a_client_with_a_matter_is_shared(ctx):
    client = new_client()
    complaint = draft_for(client)
    matter = db.session.scalar(select(Matter).limit(1))
    matter.client_id = client.id
    db.session.flush()
    assert not is_exclusive_client(client, complaint)
