"""`next` (after signing in, after switching the language) never leads off the site."""

from __future__ import annotations

import pytest

from portal.web.redirects import same_site_path

OFF_SITE = [
    "////evil.example/phish",  # Werkzeug's Location becomes //evil.example/phish
    "//evil.example/",
    "/%2F%2Fevil.example/",  # percent-encoded slashes
    "%2F%2Fevil.example/",
    "/%252F%252Fevil.example/",  # encoded twice
    "/%5Cevil.example/",  # an encoded backslash: browsers read "/\" as "//"
    "/\\evil.example/",
    "\\\\evil.example/",
    "https://evil.example/",
    "https:/evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/\t/evil.example/",  # browsers drop tabs and line breaks
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/%09/evil.example/",
    "/%0D%0A/evil.example/",
    "\t//evil.example/",
    " //evil.example/",
    "/\u2028/evil.example/",
    "//evil.example@redress/",
]

ON_SITE = ["/", "/admin/users?q=chen", "/complaints?q=%E5%88%98%E6%85%A7%E6%95%8F",
           "/complaints/TS-2026-00001#section-evidence"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_are_refused(target):
    assert same_site_path(target) is None


@pytest.mark.parametrize("target", ON_SITE)
def test_paths_on_this_site_are_kept(target):
    assert same_site_path(target) == target


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_next_cannot_leave_the_site(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "partner", "password": "redress-demo"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ON_SITE[1:3])
def test_login_next_on_this_site_is_followed(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "partner", "password": "redress-demo"})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_cannot_leave_the_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_language_switch_returns_to_the_page(client):
    response = client.post("/language", data={"locale": "en", "next": "/complaint?x=%E4%B8%AD"})
    assert response.headers["Location"] == "/complaint?x=%E4%B8%AD"
