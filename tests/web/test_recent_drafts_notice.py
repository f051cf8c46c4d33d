"""Issue 7 §2: when a draft's client already has a recent draft or open complaint, the
complainant section says so and links to it; nothing is merged."""

from __future__ import annotations

from tests.web.test_intake_support import client_id, get, new_draft, save

NOTICE = "This client already has a draft or an open complaint from the last 30 days."
EN = {"Accept-Language": "en"}


def _with_client(reception, app, name: str) -> str:
    key = new_draft(reception)
    response = save(reception, app, key, "complainant", {"client_id": client_id(app, name)})
    assert response.status_code == 200
    return key


def test_the_clients_other_draft_is_named_and_linked_never_merged(reception, app):
    first = _with_client(reception, app, "Emily Carter")
    second = new_draft(reception)
    assert NOTICE not in reception.get(f"/complaints/{second}", headers=EN).text
    # Choosing the client answers with the section, which now names the earlier draft.
    response = save(reception, app, second, "complainant",
                    {"client_id": client_id(app, "Emily Carter")})
    assert response.status_code == 200
    assert NOTICE in response.text
    assert f'href="/complaints/{first}"' in response.text
    page = reception.get(f"/complaints/{second}", headers=EN).text
    assert NOTICE in page and f'href="/complaints/{first}"' in page
    assert f'href="/complaints/{second}">Open' not in page  # never itself
    # Both drafts are still there, each with its own record.
    assert get(app, first).state == "draft" and get(app, second).state == "draft"


def test_another_client_or_a_discarded_draft_brings_no_notice(reception, app):
    first = _with_client(reception, app, "Emily Carter")
    other = _with_client(reception, app, "李明")
    assert NOTICE not in reception.get(f"/complaints/{other}", headers=EN).text
    second = _with_client(reception, app, "Emily Carter")
    assert NOTICE in reception.get(f"/complaints/{second}", headers=EN).text
    reception.post(f"/complaints/{first}/discard", data={
        "version": get(app, first).version, "discard-reason": "duplicate",
        "discard-confirm": "y"})
    assert NOTICE not in reception.get(f"/complaints/{second}", headers=EN).text
