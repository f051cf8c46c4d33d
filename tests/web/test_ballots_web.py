"""The ballot in the browser's terms: who may open, see and vote (404 for whoever may not see
the complaint, 403 without the role, 422 with the reason for the recused, non-members and
late votes, nothing written), votes posted and changed, the live count and its end, twenty
members voting at once, the same member twice at once, a partner's choice, a stale form
(409, input kept), the case file's area, the home page's list, and bounded SQL whatever the
number of members."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import (
    Ballot,
    ClientAnswer,
    Complaint,
    Decision,
    NegotiationRound,
    State,
    Vote,
)
from portal.web.intake_forms import local_input
from tests.ballot_support import (
    ELIGIBLE,
    REFERENCE,
    add_committee,
    awaiting,
    open_ballot,
    person,
    proposal_ids,
    vote,
    vote_rows,
)
from tests.security.access_matrix import become
from tests.web.test_query_counts import _counting

HX = {"HX-Request": "true"}


@pytest.fixture
def complaint(app) -> int:
    return awaiting(app)


@pytest.fixture
def ballot(app, complaint) -> int:
    return open_ballot(app, complaint)


def _form(app, ballot_id: int, *choices: str, comment: str = "") -> dict:
    ids = proposal_ids(app, ballot_id)
    picked = list(choices) if len(choices) == len(ids) else [choices[0]] * len(ids)
    data = {f"choice-{pid}": c for pid, c in zip(ids, picked, strict=True)}
    data.update({f"comment-{pid}": comment for pid in ids})
    return data


# -- voting -----------------------------------------------------------------------------------

def test_a_member_votes_then_changes_the_vote_and_the_count_follows(app, client, ballot):
    become(client, "committee1")
    page = client.get(f"/ballots/{ballot}")
    assert page.status_code == 200
    assert "0 of 3 eligible members have voted." in page.text
    assert " checked" not in page.text.split('id="ballot-vote"')[1].split("</section>")[0]
    first = client.post(f"/ballots/{ballot}/votes", headers=HX,
                        data=_form(app, ballot, "approve", "object", comment="理由一"))
    assert first.status_code == 200, first.text
    assert first.headers["HX-Trigger"] == "ballot-changed"
    assert 'id="ballot-vote"' in first.text and "Your vote is recorded." in first.text
    again = client.post(f"/ballots/{ballot}/votes", headers=HX,
                        data=_form(app, ballot, "abstain", comment="理由二"))
    assert "Your vote is changed." in again.text and "理由二" in again.text
    assert [(r[2], r[3]) for r in vote_rows(app, ballot)] == [("abstain", "理由二")] * 2
    count = client.get(f"/ballots/{ballot}/count", headers=HX)
    assert count.status_code == 200 and "1 of 3 eligible members has voted." in count.text


def test_a_browser_without_javascript_is_sent_back_to_the_page(app, client, ballot):
    become(client, "committee1")
    response = client.post(f"/ballots/{ballot}/votes", data=_form(app, ballot, "approve"))
    assert response.status_code == 303 and response.location.endswith(
        f"/ballots/{ballot}#ballot-vote")
    refused = client.post(f"/ballots/{ballot}/votes", data={"comment-1": "只写了意见"})
    assert refused.status_code == 422 and "<html" in refused.text
    assert "Choose approve, object or abstain on proposal 1." in refused.text


def test_a_vote_missing_a_choice_is_refused_with_what_was_typed(app, client, ballot):
    become(client, "committee1")
    first, second = proposal_ids(app, ballot)
    response = client.post(f"/ballots/{ballot}/votes", headers=HX, data={
        f"choice-{first}": "approve", f"comment-{first}": "同意致歉",
        f"comment-{second}": "还在考虑"})
    assert response.status_code == 422
    assert "Choose approve, object or abstain on proposal 2." in response.text
    assert "同意致歉" in response.text and "还在考虑" in response.text
    assert re.search(rf'name="choice-{first}" value="approve" checked', response.text)
    assert vote_rows(app, ballot) == []


def test_the_last_vote_closes_the_ballot_and_the_page_shows_the_result(app, client, ballot):
    vote(app, ballot, "committee1", "approve", "object", comment="甲")
    vote(app, ballot, "committee2", "approve", "abstain", comment="乙")
    become(client, "committee3")
    response = client.post(f"/ballots/{ballot}/votes", headers=HX,
                           data=_form(app, ballot, "object", comment="丙"))
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/ballots/{ballot}"
    page = client.get(f"/ballots/{ballot}").text
    assert "A proposal was adopted" in page and "once every eligible member had voted" in page
    assert all(c in page for c in ("甲", "乙", "丙"))
    count = client.get(f"/ballots/{ballot}/count", headers=HX)
    assert count.status_code == 286  # htmx stops polling
    assert "Closed: 3 of 3 eligible members voted." in count.text
    assert "Show the result" in count.text
    late = client.post(f"/ballots/{ballot}/votes", headers=HX,
                       data=_form(app, ballot, "approve"))
    assert late.status_code == 422 and "This ballot closed on" in late.text
    assert [r[3] for r in vote_rows(app, ballot)].count("丙") == 2


# -- who may not vote, even posting the form directly ----------------------------------------

def test_the_matters_supervising_partner_is_recused_and_cannot_even_see_the_ballot(
        app, client, ballot):
    become(client, "partner")  # 陈志远: committee member and the matter's partner
    assert client.get(f"/ballots/{ballot}").status_code == 404
    assert client.get(f"/ballots/{ballot}/count").status_code == 404
    posted = client.post(f"/ballots/{ballot}/votes", headers=HX,
                         data=_form(app, ballot, "approve"))
    assert posted.status_code == 404
    assert client.post(f"/ballots/{ballot}/recuse", data={"note": "x"}).status_code == 404
    assert vote_rows(app, ballot) == []
    with app.app_context():
        member = db.session.get(Ballot, ballot).member(person("partner"))
        assert member.recusal_reason == "conflicted" and member.recused_at is not None


def test_a_recused_lead_posting_the_vote_form_gets_422_and_nothing_is_written(app, client):
    complaint_id = awaiting(app, lead="committee2")  # a committee member leads it
    ballot_id = open_ballot(app, complaint_id)
    become(client, "committee2")
    page = client.get(f"/ballots/{ballot_id}").text
    assert "You are recused from this ballot (Leads the investigation)" in page
    assert 'name="choice-' not in page and 'id="ballot-recusal"' not in page
    response = client.post(f"/ballots/{ballot_id}/votes", headers=HX,
                           data=_form(app, ballot_id, "approve", comment="不该出现"))
    assert response.status_code == 422
    assert "You are recused from this ballot (Leads the investigation), so you cannot vote " \
           "on it." in response.text
    assert vote_rows(app, ballot_id) == []


def test_a_member_who_recused_themselves_cannot_vote(app, client, ballot):
    become(client, "committee1")
    empty = client.post(f"/ballots/{ballot}/recuse", headers=HX, data={"note": ""})
    assert empty.status_code == 422 and "Say why you recuse yourself." in empty.text
    done = client.post(f"/ballots/{ballot}/recuse", headers=HX, data={"note": "与投诉人是亲属"})
    assert done.status_code == 200 and done.headers["HX-Redirect"] == f"/ballots/{ballot}"
    page = client.get(f"/ballots/{ballot}").text
    assert "Recused themselves" in page and "与投诉人是亲属" in page
    assert "0 of 2 eligible members have voted." in page
    response = client.post(f"/ballots/{ballot}/votes", headers=HX,
                           data=_form(app, ballot, "approve"))
    assert response.status_code == 422 and "(Recused themselves)" in response.text
    assert vote_rows(app, ballot) == []


def test_a_committee_member_who_joined_after_the_opening_is_not_a_member(app, client, ballot):
    (newcomer,) = add_committee(app, 1, prefix="newcomer")
    become(client, newcomer)
    page = client.get(f"/ballots/{ballot}")
    assert page.status_code == 200 and "You are not among this ballot's members" in page.text
    response = client.post(f"/ballots/{ballot}/votes", headers=HX,
                           data=_form(app, ballot, "approve"))
    assert response.status_code == 422
    assert "You are not a member of this ballot" in response.text
    assert vote_rows(app, ballot) == []


@pytest.mark.parametrize(("username", "page", "vote_status"), [
    ("partner2", 200, 403),  # a partner sees the ballot (sealed) but does not vote
    ("investigator", 403, 403),  # the lead, without the committee role
    ("reception", 403, 403),
])
def test_without_the_committee_role_there_is_no_voting(app, client, ballot, username, page,
                                                       vote_status):
    become(client, username)
    assert client.get(f"/ballots/{ballot}").status_code == page
    response = client.post(f"/ballots/{ballot}/votes", headers=HX,
                           data=_form(app, ballot, "approve"))
    assert response.status_code == vote_status
    assert vote_rows(app, ballot) == []


def test_an_unknown_ballot_is_404(client, ballot):
    become(client, "committee1")
    assert client.get("/ballots/999999").status_code == 404


# -- at the same instant ----------------------------------------------------------------------

def _at_once(app, users: list[str], data: dict) -> list[int]:
    """Each of `users` posts `data` from its own client (its own session and connection),
    all released at the same moment."""
    barrier = threading.Barrier(len(users))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post(username: str, url: str) -> None:
        try:
            client = app.test_client()
            become(client, username)
            barrier.wait(30)
            response = client.post(url, data=data, headers=HX)
            statuses.append(response.status_code)
            assert "database is locked" not in response.text
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    url = data.pop("_url")
    threads = [threading.Thread(target=post, args=(u, url)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return statuses


def test_twenty_members_voting_at_once_all_count(app, complaint):
    members = add_committee(app, 20)
    ballot_id = open_ballot(app, complaint)
    data = {"_url": f"/ballots/{ballot_id}/votes", **_form(app, ballot_id, "approve")}
    statuses = _at_once(app, members, data)
    assert statuses == [200] * 20
    rows = vote_rows(app, ballot_id)
    assert len(rows) == 40 and len({r[1] for r in rows}) == 20
    with app.app_context():
        ballot = db.session.get(Ballot, ballot_id)
        assert ballot.is_open and len(ballot.eligible) == 23  # committee1-3 have not voted


def test_the_same_member_twice_at_the_same_instant_leaves_one_vote(app, ballot):
    data = {"_url": f"/ballots/{ballot}/votes", **_form(app, ballot, "object", comment="同时")}
    assert _at_once(app, ["committee1", "committee1"], data) == [200, 200]
    rows = vote_rows(app, ballot)
    assert len(rows) == 2 and {r[0] for r in rows} == set(proposal_ids(app, ballot))


# -- the partner's choice ---------------------------------------------------------------------

def test_a_partner_chooses_on_a_tie_and_a_stale_form_keeps_the_reason(app, client, ballot):
    vote(app, ballot, "committee1", "approve")
    vote(app, ballot, "committee2", "approve")
    vote(app, ballot, "committee3", "object")  # both proposals 2 to 1: a tie
    first, second = proposal_ids(app, ballot)
    with app.app_context():
        version = db.session.get(Ballot, ballot).version
    become(client, "committee1")
    assert 'id="ballot-resolve"' not in client.get(f"/ballots/{ballot}").text
    assert client.post(f"/ballots/{ballot}/resolve", data={}).status_code == 403
    become(client, "partner2")
    page = client.get(f"/ballots/{ballot}").text
    assert "A tie: a partner chooses between the tied proposals" in page
    assert "The ballot ended in a tie" in page
    stale = client.post(f"/ballots/{ballot}/resolve", headers=HX, data={
        "version": version - 1, "proposal": second, "reason": "退费方案更合理"})
    assert stale.status_code == 409 and "退费方案更合理" in stale.text
    assert "Reload the latest version" in stale.text
    missing = client.post(f"/ballots/{ballot}/resolve", headers=HX,
                          data={"version": version, "proposal": second, "reason": ""})
    assert missing.status_code == 422 and "Say why this proposal is chosen." in missing.text
    done = client.post(f"/ballots/{ballot}/resolve", headers=HX, data={
        "version": version, "proposal": second, "reason": "退费方案更合理"})
    assert done.status_code == 200 and done.headers["HX-Redirect"] == f"/ballots/{ballot}"
    page = client.get(f"/ballots/{ballot}").text
    assert "刘慧敏 chose proposal 2" in page and "退费方案更合理" in page
    with app.app_context():
        assert [p.adopted for p in db.session.get(Ballot, ballot).proposals] == [False, True]
    assert first != second


# -- opening a ballot -------------------------------------------------------------------------

def _new_form(version: int, **extra) -> dict:
    data = {"version": version, "proposals-0-remedies": ["explanation", "written_apology"],
            "proposals-0-rationale": "律师迟延答复属实，应书面致歉。",
            "closes_at": local_input(_now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "quorum_rule": "majority", "max_refund": "3000"}
    data.update(extra)
    return data


def _now():
    from portal import clock

    return clock.now()


def _version(app, complaint_id: int) -> int:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).version


def test_a_partner_opens_a_ballot_from_the_case_file(app, client, complaint):
    become(client, "partner2")
    case = client.get(f"/complaints/{REFERENCE}").text
    assert 'id="area-ballots"' in case and "Open a ballot" in case
    form = client.get(f"/complaints/{REFERENCE}/ballots/new")
    assert form.status_code == 200 and 'name="proposals-0-rationale"' in form.text
    more = client.post(f"/complaints/{REFERENCE}/ballots/new", headers=HX,
                       data=_new_form(_version(app, complaint), add_proposal="1"))
    assert more.status_code == 200 and 'name="proposals-1-rationale"' in more.text
    assert "律师迟延答复属实" in more.text
    response = client.post(f"/complaints/{REFERENCE}/ballots/new", headers=HX,
                           data=_new_form(_version(app, complaint), **{
                               "proposals-1-remedies": ["partial_refund", "disciplinary"],
                               "proposals-1-partial_amount": "2000",
                               "proposals-1-level": "reprimand",
                               "proposals-1-rationale": "另行退费并处分"}))
    assert response.status_code == 200, response.text
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert [len(p.remedies) for p in ballot.proposals] == [2, 2]
        assert str(ballot.max_refund) == "3000.00"
    assert response.headers["HX-Redirect"] == f"/ballots/{ballot.id}"
    page = client.get(f"/ballots/{ballot.id}").text
    assert "Partial fee refund: <strong>CN¥2,000.00</strong>" in page
    assert "Disciplinary measure: Formal reprimand" in page
    assert "Internal measure: never shown to the client" in page
    assert "Refunds of at most CN¥3,000.00 in all." in page


def test_opening_refuses_bad_input_and_a_stale_form_keeping_what_was_typed(
        app, client, complaint):
    become(client, "partner2")
    url = f"/complaints/{REFERENCE}/ballots/new"
    version = _version(app, complaint)
    bad = client.post(url, headers=HX, data=_new_form(version, **{
        "proposals-0-remedies": ["partial_refund"], "proposals-0-partial_amount": "abc"}))
    assert bad.status_code == 422
    assert "Enter the amount as a number" in bad.text and "律师迟延答复属实" in bad.text
    with app.app_context(), writes_by_default():
        db.session.get(Complaint, complaint).narrative = "其他人在此期间修改了记录。"
        db.session.commit()
    stale = client.post(url, headers=HX, data=_new_form(version))
    assert stale.status_code == 409 and "律师迟延答复属实" in stale.text
    assert "Someone else changed this complaint" in stale.text
    with app.app_context():
        assert db.session.scalar(select(Ballot)) is None


@pytest.mark.parametrize("username", ["committee1", "investigator"])
def test_only_partners_open_ballots(app, client, complaint, username):
    become(client, username)
    assert client.get(f"/complaints/{REFERENCE}/ballots/new").status_code == 403


def test_a_conflicted_partner_cannot_open_a_ballot(app, client, complaint):
    become(client, "partner")  # the matter's supervising partner
    assert client.get(f"/complaints/{REFERENCE}/ballots/new").status_code == 404


def test_a_partner_opens_a_new_ballot_from_a_negotiation_round(app, client, ballot,
                                                               complaint):
    for member in ELIGIBLE:
        vote(app, ballot, member, "approve", "object")
    with app.app_context(), writes_by_default():
        decision = Decision(complaint_id=complaint, number=1, ballot_id=ballot,
                            client_summary="经调查，投诉部分属实。",
                            decided_by_id=person("partner2").id)
        db.session.add(decision)
        db.session.flush()
        answer = ClientAnswer(complaint_id=complaint, decision_id=decision.id,
                              kind="disputed", method="phone", reason="希望退费")
        db.session.add(answer)
        db.session.flush()
        db.session.add(NegotiationRound(complaint_id=complaint, number=1, answer_id=answer.id))
        db.session.get(Complaint, complaint).state = State.DISPUTED
        db.session.commit()
    become(client, "partner2")
    case = client.get(f"/complaints/{REFERENCE}").text
    assert "Open a new ballot (negotiation round 1)" in case
    form = client.get(f"/complaints/{REFERENCE}/ballots/new").text
    assert "Negotiation round 1: opening this ballot ends the round" in form
    response = client.post(f"/complaints/{REFERENCE}/ballots/new", headers=HX,
                           data=_new_form(_version(app, complaint)))
    assert response.status_code == 200, response.text
    with app.app_context():
        round_ = db.session.scalar(select(NegotiationRound))
        assert db.session.get(Complaint, complaint).state == State.AWAITING_DECISION
        assert round_.outcome == "new_ballot" and round_.ballot_id not in (None, ballot)


# -- the case file and the home page ----------------------------------------------------------

def test_the_case_file_lists_the_ballots_with_the_count_only(app, client, ballot):
    vote(app, ballot, "committee2", "object", comment="看不见的意见")
    become(client, "committee1")
    case = client.get(f"/complaints/{REFERENCE}").text
    area = case.split('id="area-ballots"')[1].split("</section>")[0]
    assert f'href="/ballots/{ballot}"' in area and "1 of 3 has voted" in area
    assert "Open a ballot" not in area
    assert "看不见的意见" not in case


def test_a_members_home_page_lists_their_ballots_and_whether_they_voted(app, client, ballot):
    become(client, "committee1")
    section = client.get("/").text.split('id="com-h"')[1].split("</section>")[0]
    assert "Ballot on TS-2026-00077" in section and "Not voted yet" in section
    vote(app, ballot, "committee1", "approve")
    section = client.get("/").text.split('id="com-h"')[1].split("</section>")[0]
    assert "You voted" in section and "Not voted yet" not in section
    become(client, "partner")  # a committee member kept out of the complaint
    section = client.get("/").text.split('id="com-h"')[1].split("</section>")[0]
    assert "TS-2026-00077" not in section and "No ballot is open." in section


def test_flask_ballots_tick_closes_what_is_due(app, runner, ballot, clock):
    vote(app, ballot, "committee1", "approve", "object")
    clock.advance(timedelta(days=3, minutes=1))
    assert runner.invoke(args=["ballots", "tick"]).output.strip() == "1 closed, 0 reminded."
    assert runner.invoke(args=["ballots", "tick"]).output.strip() == "0 closed, 0 reminded."
    with app.app_context():
        assert db.session.get(Ballot, ballot).outcome == "no_quorum"


# -- bounded SQL ------------------------------------------------------------------------------

def _measure(app, client, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        client.get(url, headers=HX if url.endswith("/count") else None)  # warm up
        with _counting(app) as statements:
            response = client.get(url, headers=HX if url.endswith("/count") else None)
        assert response.status_code in (200, 286), (url, response.status_code)
        counts.append(len(statements))
    return counts


def test_the_page_and_the_count_issue_the_same_queries_for_3_and_for_30_members(app, client):
    app.extensions["redress_page_cache"] = None
    small = open_ballot(app, awaiting(app))
    add_committee(app, 27)
    large = open_ballot(app, awaiting(app, reference="TS-2026-00078"))
    for ballot_id in (small, large):
        vote(app, ballot_id, "committee2", "approve", comment="一")
    with app.app_context():
        extra = [m.user.username for m in db.session.get(Ballot, large).eligible
                 if m.user.username.startswith("member")]
    for username in extra:
        vote(app, large, username, "abstain", comment=f"意见{username}")

    def pages(ballot_id: int) -> list[int]:
        become(client, "committee1")
        member = _measure(app, client, [f"/ballots/{ballot_id}", f"/ballots/{ballot_id}/count"])
        become(client, "partner2")
        return member + _measure(app, client, [f"/ballots/{ballot_id}"])

    assert pages(small) == pages(large)
    for ballot_id in (small, large):  # closed: the tally and every vote
        for member in ("committee1", "committee3"):
            vote(app, ballot_id, member, "approve")
    with app.app_context():
        assert db.session.get(Ballot, large).closed_at is not None
        assert len(db.session.scalars(select(Vote).where(Vote.ballot_id == large)).all()) == 60
    closed_small, closed_large = pages(small), pages(large)
    assert closed_small == closed_large and max(closed_large) <= 30, closed_large
