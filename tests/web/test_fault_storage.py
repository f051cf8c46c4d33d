"""A full disk while an upload or a notice is written (ENOSPC part-way through the file):
the answer is a clear 507, no half-written file (nor its `.part` temporary) is left behind,
no row names a missing file, and once there is room again the same request succeeds.

The disk is made "full" for one module at a time by replacing the `open` it calls with one
whose files accept a budget of bytes, write what fits, then raise OSError(ENOSPC) as the
kernel would; `disk.recover()` gives the room back.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import clock as portal_clock
from portal.db import db, write_transaction, writes_by_default
from portal.models import Complaint, Evidence, Notice, State
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.services import evidence as evidence_service
from portal.services import notices, outbox
from tests.findings_factory import make_investigation
from tests.smtp_fixture import smtp_server  # noqa: F401  (fixture)
from tests.unit.test_intake_filetypes import PDF
from tests.web.test_decision_web import version_of
from tests.web.test_intake_support import HX, get, new_draft

# Larger than one copy chunk (64 KiB), so that the disk fills in the middle of the file.
BIG_PDF = PDF + b"%" * (150 * 1024) + b"\n%%EOF\n"
FULL_MESSAGE = "its storage is full"
ADDRESS = "上海市徐汇区漕溪北路 88 号 5 楼 502 室"


class FullDisk:
    """`module`'s files opened for writing take `budget` bytes each, then fail with ENOSPC."""

    def __init__(self, monkeypatch, module, budget: int) -> None:
        self.budget = budget
        self.full = True
        self.failed: list[tuple[Path, int]] = []  # (file, bytes it held when the disk filled)
        monkeypatch.setattr(module, "open", self._open, raising=False)

    def recover(self) -> None:
        self.full = False

    def _open(self, file, mode="r", *args, **kwargs):
        handle = builtins.open(file, mode, *args, **kwargs)  # noqa: SIM115 - returned
        if self.full and any(flag in mode for flag in "wxa+"):
            return _FillingFile(handle, Path(file), self)
        return handle


class _FillingFile:
    def __init__(self, handle, path: Path, disk: FullDisk) -> None:
        self._handle, self._path, self._disk, self._written = handle, path, disk, 0

    def write(self, data) -> int:
        room = self._disk.budget - self._written
        if len(data) > room:
            self._handle.write(bytes(data[:room]))
            self._handle.flush()  # the part that fitted is really on disk
            self._written += room
            self._disk.failed.append((self._path, self._path.stat().st_size))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self._path))
        self._written += len(data)
        return self._handle.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()

    def __getattr__(self, name):
        return getattr(self._handle, name)


def files_in(app, key: str) -> set[str]:
    folder = Path(app.config[key])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def assert_files_match_rows(app) -> None:
    """Every stored file is named by a row, and every row's file is there."""
    with app.app_context():
        evidence = set(db.session.scalars(select(Evidence.stored_name)))
        notice = set(db.session.scalars(select(Notice.stored_name)))
    assert files_in(app, "EVIDENCE_DIR") == evidence
    assert files_in(app, "NOTICE_DIR") == notice


# --- an evidence upload through the complaint page ----------------------------------------


def upload(client, key: str, htmx: bool):
    form = {"evidence-file": (io.BytesIO(BIG_PDF), "合同.pdf"),
            "evidence-category": "engagement_contract",
            "evidence-description": "委托合同第3页"}
    return client.post(f"/complaints/{key}/evidence", data=form,
                       content_type="multipart/form-data", headers=HX if htmx else {})


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_full_disk_during_an_upload_leaves_nothing_and_answers_507(reception, app,
                                                                      monkeypatch, htmx):
    key = new_draft(reception)
    disk = FullDisk(monkeypatch, evidence_service, budget=100 * 1024)
    response = upload(reception, key, htmx)
    assert response.status_code == 507, response.text[:500]
    assert FULL_MESSAGE in response.text and "Nothing was saved" in response.text
    assert "Traceback" not in response.text
    [(partial, held)] = disk.failed
    assert partial.name.endswith(".part") and held == 100 * 1024  # it was half-written
    assert not partial.exists()
    assert files_in(app, "EVIDENCE_DIR") == set()
    assert get(app, key).evidence == []
    assert_files_match_rows(app)

    disk.recover()
    response = upload(reception, key, htmx)
    assert response.status_code == (200 if htmx else 303), response.text[:500]
    [item] = get(app, key).evidence
    assert item.sha256 == hashlib.sha256(BIG_PDF).hexdigest()
    assert files_in(app, "EVIDENCE_DIR") == {item.stored_name}
    stored = Path(app.config["EVIDENCE_DIR"]) / item.stored_name
    assert stored.read_bytes() == BIG_PDF
    assert_files_match_rows(app)


def test_a_full_disk_when_the_upload_is_renamed_into_place(reception, app, monkeypatch):
    """The last step (the `.part` renamed to its final name) fails: nothing stays either."""
    key = new_draft(reception)
    real_replace = os.replace
    folder = Path(app.config["EVIDENCE_DIR"])
    full = [True]

    def replace(source, target, *args, **kwargs):
        if full[0] and Path(target).parent == folder:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(evidence_service.os, "replace", replace)
    response = upload(reception, key, htmx=True)
    assert response.status_code == 507 and FULL_MESSAGE in response.text
    assert files_in(app, "EVIDENCE_DIR") == set()
    assert_files_match_rows(app)
    full[0] = False
    assert upload(reception, key, htmx=True).status_code == 200
    assert len(get(app, key).evidence) == 1
    assert_files_match_rows(app)


def test_htmx_pages_carry_the_full_disk_message(reception):
    """htmx does not swap a 5xx answer: app.js shows the page's data-error-507 text."""
    page = reception.get("/")
    assert "data-error-507=" in page.text and FULL_MESSAGE in page.text


# --- a notice PDF being stored -------------------------------------------------------------


def test_a_full_disk_while_a_notice_is_printed_for_post(client, auth, app, monkeypatch):
    with app.app_context():
        cid = make_investigation(client_email=None, state=State.REGISTERED)
        with write_transaction():
            db.session.get(Complaint, cid).complainant.address = ADDRESS
    assert auth.login("reception").status_code == 303
    page = client.get(f"/complaints/{'TS-2026-00077'}")
    action = "/complaints/TS-2026-00077/acknowledgement/print"
    version = version_of(page.text, action)
    disk = FullDisk(monkeypatch, notices, budget=2048)

    response = client.post(action, data={"version": version}, headers=HX)
    assert response.status_code == 507, response.text[:500]
    assert FULL_MESSAGE in response.text
    [(half, held)] = disk.failed
    assert held == 2048 and not half.exists()  # the half-written PDF is gone
    assert files_in(app, "NOTICE_DIR") == set()
    with app.app_context():
        assert db.session.scalars(select(Notice)).all() == []
    assert_files_match_rows(app)

    disk.recover()
    response = client.post(action, data={"version": version}, headers=HX)
    assert response.status_code == 200, response.text[:500]
    with app.app_context():
        notice = db.session.scalars(select(Notice)).one()
        stored = notices.read_bytes(notice)  # present, and matching its SHA-256
    assert stored.startswith(b"%PDF-")
    assert_files_match_rows(app)


def test_a_full_disk_while_the_outbox_stores_an_attachment(app, monkeypatch,
                                                           smtp_server):  # noqa: F811
    with app.app_context():
        cid = make_investigation(state=State.REGISTERED)
        with writes_by_default():
            message_id = notices.queue_acknowledgement(None, db.session.get(Complaint, cid)).id
            db.session.commit()
        disk = FullDisk(monkeypatch, notices, budget=2048)
        start = portal_clock.now()
        assert outbox.deliver_due(now=start) == 0
        assert len(disk.failed) == 1 and not disk.failed[0][0].exists()
        assert smtp_server.envelopes == []
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
        assert message.attachments[0]["notice_id"] is None  # nothing names the lost file
        assert "ENOSPC" in message.last_error or "No space" in message.last_error
        db.session.commit()
    assert files_in(app, "NOTICE_DIR") == set()
    assert_files_match_rows(app)

    disk.recover()
    with app.app_context():
        assert outbox.deliver_due(now=start + timedelta(hours=1)) == 1
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        notice = db.session.scalars(select(Notice)).one()
        assert message.status == OutboxStatus.SENT
        assert message.attachments[0]["notice_id"] == notice.id
        [email] = smtp_server.messages
        [attachment] = list(email.iter_attachments())
        assert attachment.get_content() == notices.read_bytes(notice)
        db.session.commit()
    assert_files_match_rows(app)
