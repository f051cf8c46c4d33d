"""A notice whose file the retention run deleted answers 410 Gone, in the reader's language,
never a server error."""

from __future__ import annotations

from portal.db import db, write_transaction
from portal.models import Complaint, Notice
from portal.security import public
from portal.services import notices
from tests.triage_support import registered


def test_a_deleted_notice_file_answers_gone(app, client):
    complaint_id = registered(app)
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        notice_id = notices.store(complaint, "acknowledgement", b"%PDF-1.4\n%%EOF\n",
                                  delivery="post").id

    @app.route("/test-only/notice/<int:notice_id>")
    @public
    def read_notice(notice_id: int):
        notices.read_bytes(db.session.get(Notice, notice_id))
        return "read"

    assert client.get(f"/test-only/notice/{notice_id}").text == "read"
    with app.app_context():
        notices.path_of(db.session.get(Notice, notice_id)).unlink()
    gone = client.get(f"/test-only/notice/{notice_id}")
    assert gone.status_code == 410
    assert "deleted at the end of its retention period" in gone.text
    chinese = client.get(f"/test-only/notice/{notice_id}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 410 and "Traceback" not in chinese.text
