"""The outbox attaches what a provider produces, knowing nothing of notices."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from portal.db import db, writes_by_default
from portal.models import OutboxMessage
from portal.services import outbox
from tests.smtp_fixture import smtp_server  # noqa: F401 (a fixture)

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_the_outbox_imports_no_notice_module():
    assert not {name for name in imported_modules(PORTAL / "services" / "outbox.py")
                if "notice" in name}


def test_the_demo_data_imports_no_command_module():
    assert not {name for name in imported_modules(PORTAL / "demo.py")
                if name.startswith(("portal.cli", "portal.commands", "click", "flask"))}


@pytest.fixture
def stamp_provider():
    calls = []

    def prepare(message, spec):
        assert db.session().in_transaction()  # reads what it needs
        return lambda: (calls.append(db.session().in_transaction()), b"stamped")[1]

    provider = outbox.AttachmentProvider(
        keys=frozenset({"stamp"}), pending=lambda spec: "stored" not in spec,
        prepare=prepare, store=lambda message, spec, data: {**spec, "stored": data.decode()},
        load=lambda spec: ("stamp.txt", "text/plain", spec["stored"].encode()))
    outbox.register_attachments("stamp", provider)
    yield calls
    outbox._PROVIDERS.pop("stamp")


def test_a_provider_renders_once_with_no_transaction_open(app, smtp_server, stamp_provider):
    with app.app_context(), writes_by_default():
        message = outbox.queue(kind="test", recipient="li.ming@example.com",
                               recipient_name=None, subject="Stamped", body_text="Hello",
                               attachments=[{"stamp": "x"}])
        db.session.commit()
        assert outbox.deliver_due() == 1, db.session.get(OutboxMessage, message.id).last_error
        assert stamp_provider == [False]  # rendered once, outside any transaction
        sent = db.session.get(OutboxMessage, message.id, populate_existing=True)
        assert sent.attachments == [{"stamp": "x", "stored": "stamped"}]
        outbox.resend(None, sent)
        db.session.commit()
        assert outbox.deliver_due() == 1
        assert stamp_provider == [False]  # the resend attaches what was stored
    attachments = [part for part in smtp_server.messages[-1].iter_attachments()]
    assert [a.get_filename() for a in attachments] == ["stamp.txt"]


def test_an_unknown_attachment_spec_is_refused(app):
    with app.app_context(), writes_by_default(), pytest.raises(outbox.OutboxError,
                                                                match="unknown attachment"):
        outbox.queue(kind="test", recipient="li.ming@example.com", recipient_name=None,
                     subject="x", body_text="x", attachments=[{"stamp": "x"}])
