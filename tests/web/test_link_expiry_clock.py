"""A confirmation link expires when the portal's clock passes CONFIRMATION_LINK_MAX_AGE."""

from __future__ import annotations

from datetime import timedelta

from tests.web.test_intake_readback import linked  # noqa: F401 - the fixture


def test_a_link_expires_when_the_clock_passes_its_max_age(client, app, linked, clock):  # noqa: F811
    key, path = linked
    assert client.get(path).status_code == 200
    clock.advance(app.config["CONFIRMATION_LINK_MAX_AGE"] + timedelta(minutes=1))
    response = client.get(path)
    assert response.status_code == 410
    assert "This link has expired" in response.text
