"""The partners' settings page gathers the set-up pages the navigation used to list one by one."""

from __future__ import annotations

import re

import pytest

from portal.web.admin import SETTINGS


def test_a_partner_reaches_every_setting_from_one_page(client, auth):
    auth.login_as("partner")
    page = client.get("/admin", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    nav = re.search(r'<nav class="main-nav".*?</nav>', page.text, re.S).group(0)
    assert ">Settings<" in nav and ">Users<" not in nav and ">Rules<" not in nav
    for endpoint, label, _purpose in SETTINGS:
        assert str(label) in page.text, endpoint
    links = re.findall(r'<li class="card"><h2><a href="([^"]+)"', page.text)
    assert len(links) == len(SETTINGS)
    for link in links:
        assert client.get(link).status_code == 200, link
    users = client.get("/admin/users", headers={"Accept-Language": "en"}).text
    current = re.search(r'<a href="/admin" aria-current="page">Settings</a>', users)
    assert current, "a setting's page marks Settings as where the user is"


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_only_partners_see_the_settings(client, auth, role):
    auth.login_as(role)
    assert client.get("/admin").status_code == 403
    assert ">Settings<" not in client.get("/", headers={"Accept-Language": "en"}).text
