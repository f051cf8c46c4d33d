"""Issue 7 §2: a draft's evidence can be re-categorised or removed, audited without the file's
name; the stored file goes only once the removal is committed; registered evidence is final."""

from __future__ import annotations

from unittest import mock

from portal.db import db
from tests.unit.test_intake_filetypes import PDF
from tests.web.test_intake_evidence import evidence_count, stored_files, upload
from tests.web.test_intake_support import (
    HX,
    complete_draft,
    confirm_in_person,
    events,
    get,
    new_draft,
)

EN = {**HX, "Accept-Language": "en"}


def _draft_with_file(reception, app) -> tuple[str, int]:
    key = new_draft(reception)
    assert upload(reception, key, PDF, name="王律师发票.pdf", category="engagement_contract"
                  ).status_code == 200
    return key, get(app, key).evidence[0].id


def _kind(client, key: str, item: int, category: str):
    return client.post(f"/complaints/{key}/evidence/{item}/kind", data={"category": category},
                       headers=EN)


def _remove(client, key: str, item: int, confirm: bool = True, htmx: bool = True):
    data = {"confirm": "y"} if confirm else {}
    return client.post(f"/complaints/{key}/evidence/{item}/remove", data=data,
                       headers=EN if htmx else {"Accept-Language": "en"})


def test_the_kind_of_an_item_can_be_changed_and_is_audited(reception, app):
    key, item = _draft_with_file(reception, app)
    response = _kind(reception, key, item, "fee_receipts")
    assert response.status_code == 200
    assert "The kind of evidence has been changed." in response.text
    assert get(app, key).evidence[0].category == "fee_receipts"
    [event] = events(app, "evidence.recategorised", get(app, key).id)
    assert event.details == {"evidence_id": item, "from_category": "engagement_contract",
                             "category": "fee_receipts"}
    response = _kind(reception, key, item, "no_such_kind")
    assert response.status_code == 422
    assert "Choose what kind of evidence this is." in response.text
    assert get(app, key).evidence[0].category == "fee_receipts"


def test_removal_needs_a_confirmation(reception, app):
    key, item = _draft_with_file(reception, app)
    response = _remove(reception, key, item, confirm=False)
    assert response.status_code == 422
    assert "Tick the box to confirm that this file is removed." in response.text
    assert evidence_count(app) == 1 and len(stored_files(app)) == 1


def test_a_removed_item_is_audited_and_its_file_deleted(reception, app):
    key, item = _draft_with_file(reception, app)
    sha256 = get(app, key).evidence[0].sha256
    response = _remove(reception, key, item)
    assert response.status_code == 200
    assert "The file has been removed." in response.text
    assert "王律师发票.pdf" not in response.text
    assert evidence_count(app) == 0 and stored_files(app) == []
    [event] = events(app, "evidence.removed", get(app, key).id)
    assert event.details == {"evidence_id": item, "category": "engagement_contract",
                             "size": len(PDF), "sha256": sha256,
                             "content_type": "application/pdf"}
    assert "王律师" not in str(event.details) and "pdf\"" not in str(event.details)
    # Removed already: the item is no longer there.
    assert _remove(reception, key, item).status_code == 404


def test_the_file_stays_when_the_removal_does_not_commit(reception, app):
    key, item = _draft_with_file(reception, app)
    with mock.patch.object(db.session, "commit", side_effect=RuntimeError("disk full")):
        assert _remove(reception, key, item).status_code == 500
    assert evidence_count(app) == 1 and len(stored_files(app)) == 1


def test_registered_evidence_cannot_be_changed_or_removed(reception, app):
    key = complete_draft(reception, app)
    assert upload(reception, key, PDF).status_code == 200
    item = get(app, key).evidence[0].id
    confirm_in_person(reception, app, key)
    key = reception.post(f"/complaints/{key}/register", headers=HX).headers["HX-Redirect"]
    key = key.rsplit("/", 1)[-1]
    for response in (_kind(reception, key, item, "fee_receipts"), _remove(reception, key, item)):
        assert response.status_code == 422
        assert "This complaint is registered: its evidence can no longer be" in response.text
    assert evidence_count(app) == 1 and len(stored_files(app)) == 1
    assert not events(app, "evidence.removed") and not events(app, "evidence.recategorised")
    page = reception.get(f"/complaints/{key}").text
    assert f'action="/complaints/{key}/evidence/{item}/remove"' not in page


def test_another_complaints_item_is_404(reception, app):
    key, item = _draft_with_file(reception, app)
    other = new_draft(reception)
    assert _remove(reception, other, item).status_code == 404
    assert _kind(reception, other, item, "fee_receipts").status_code == 404
    assert evidence_count(app) == 1


def test_without_javascript_removal_redirects_to_the_section(reception, app):
    key, item = _draft_with_file(reception, app)
    response = _remove(reception, key, item, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/complaints/{key}#section-evidence")
    assert evidence_count(app) == 0
