"""A ballot is sealed until it closes: nobody, partners included, reads another member's vote
or comment by any route: the ballot's page, the live count, the audit browser, the case file
and its timeline, `flask complaints export`. Once it closes, members and partners read the
tally, every vote and every comment."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.ballot_support import REFERENCE, awaiting, open_ballot, vote
from tests.security.access_matrix import become

SECRET_B = "密封意见乙-7731"
SECRET_C = "密封意见丙-9042"
CHOICES = ("approve", "object", "abstain")
HX = {"HX-Request": "true"}


@pytest.fixture
def ballot(app) -> int:
    ballot_id = open_ballot(app, awaiting(app))
    vote(app, ballot_id, "committee2", "approve", "object", comment=SECRET_B)
    vote(app, ballot_id, "committee3", "abstain", "approve", comment=SECRET_C)
    return ballot_id


def _vote_form(page: str) -> str:
    return page.split('id="ballot-vote"')[1].split("</section>")[0] if 'id="ballot-vote"' \
        in page else ""


def _text(page: str) -> str:
    return html.unescape(page)


@pytest.mark.parametrize("username", ["committee1", "partner2"])
def test_before_the_close_the_page_and_the_count_show_no_one_elses_vote(
        app, client, ballot, username):
    become(client, username)
    page = _text(client.get(f"/ballots/{ballot}").text)
    count = _text(client.get(f"/ballots/{ballot}/count", headers=HX).text)
    for text in (page, count):
        assert SECRET_B not in text and SECRET_C not in text
    assert "2 of 3 eligible members have voted." in page and "2 of 3" in count
    assert " checked" not in _vote_form(page)  # no one's choice pre-selected
    assert 'id="ballot-results"' not in page and "Each member's vote" not in page


def test_a_member_sees_their_own_vote_and_nobody_elses(app, client, ballot):
    become(client, "committee2")
    page = _text(client.get(f"/ballots/{ballot}").text)
    assert SECRET_B in page and SECRET_C not in page
    form = _vote_form(page)
    assert len(re.findall(r'value="approve" checked', form)) == 1
    assert len(re.findall(r'value="object" checked', form)) == 1
    assert 'value="abstain" checked' not in form


def _audit_details(page: str) -> list[str]:
    return [html.unescape(cell) for cell in
            re.findall(r'class="mono audit-details">(.*?)</td>', page, re.S)]


def test_the_audit_browser_holds_no_choice_or_comment(app, client, ballot):
    become(client, "partner2")
    for url in ("/admin/audit", "/admin/audit?action=ballot.voted",
                "/admin/audit?object_type=complaint"):
        page = client.get(url).text
        assert SECRET_B not in _text(page) and SECRET_C not in _text(page)
        for details in _audit_details(page):
            assert not any(f'"{c}"' in details for c in CHOICES), details
    voted = _audit_details(client.get("/admin/audit?action=ballot.voted").text)
    assert len(voted) == 2
    assert all(set(json.loads(d)) == {"ballot_id", "changed", "proposals"} for d in voted)


@pytest.mark.parametrize("username", ["committee1", "partner2"])
def test_the_case_file_and_its_timeline_hold_no_choice_or_comment(app, client, ballot,
                                                                  username):
    become(client, username)
    case = _text(client.get(f"/complaints/{REFERENCE}").text)
    timeline = _text(client.get(f"/complaints/{REFERENCE}/timeline", headers=HX).text)
    for text in (case, timeline):
        assert SECRET_B not in text and SECRET_C not in text
    assert "Vote cast or changed on a committee ballot" not in timeline  # nor who voted
    assert not re.search(r"\b(Approve|Object|Abstain)\b", timeline)


def _export(runner, *args: str) -> str:
    result = runner.invoke(args=["complaints", "export", REFERENCE, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_export_holds_no_vote_while_the_ballot_is_open(app, runner, ballot):
    for args in ((), ("--as", "partner2"), ("--as", "committee1")):
        exported = _export(runner, *args)
        assert SECRET_B not in exported and SECRET_C not in exported
        assert '"choice"' not in exported
        assert not any(f'"{c}"' in exported for c in CHOICES)


def test_after_the_close_members_and_partners_read_every_vote_and_comment(
        app, client, runner, ballot):
    vote(app, ballot, "committee1", "object", comment="最后一票")  # closes the ballot
    for username in ("committee1", "committee2", "partner2"):
        become(client, username)
        page = _text(client.get(f"/ballots/{ballot}").text)
        assert SECRET_B in page and SECRET_C in page and "最后一票" in page
        results = page.split('id="ballot-results"')[1]
        assert "Each member's vote" in results and "Abstain" in results
    exported = _export(runner)  # the export carries the ballots: unsealed once closed
    assert SECRET_B in exported and '"choice": "abstain"' in exported
