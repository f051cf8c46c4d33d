"""The root-cause catalogue at /admin/root-causes (partners only: add, edit, deactivate,
reorder; 422 keeps the input, 409 on a stale page) and improvement actions at /actions (the
list and its filters, a new action, the action's page with its status and edit forms, the
home pages, the case file's area, the worker's reminder), with a hidden complaint reference
refused exactly like an unknown one and a query count that does not grow with the actions."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal import clock
from portal.db import db, write_transaction
from portal.models import Complaint, User
from portal.models.followup import ImprovementAction, RootCause
from tests.smtp_fixture import smtp_server  # noqa: F401  (fixture)
from tests.triage_support import registered
from tests.web.test_intake_support import HX

SEEN = "TS-2026-00101"  # M-2025-0142: partner2 sees it, "partner" (its supervisor) not
HIDDEN = "TS-2026-00103"  # M-2025-0188: partner2 supervises it, so may not see it


def _cause(app, code: str) -> RootCause:
    with app.app_context():
        cause = db.session.scalar(select(RootCause).where(RootCause.code == code))
        db.session.expunge_all()
        return cause


def _action(app, action_id: int) -> ImprovementAction:
    with app.app_context():
        action = db.session.get(ImprovementAction, action_id)
        _ = action.owner, list(action.complaints)
        db.session.expunge_all()
        return action


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _form(app, **changes) -> dict:
    data = {"title": "Deadline diary for every matter", "description": "Each team keeps one.",
            "kind": "procedure", "owner": str(_user_id(app, "investigator")),
            "due": (clock.today() + timedelta(days=20)).isoformat(), "complaints": SEEN,
            "root_causes": [str(_cause(app, "missed_deadline").id)]}
    data.update(changes)
    return data


def _create(app, client, **changes) -> int:
    response = client.post("/actions", data=_form(app, **changes), headers=HX)
    assert response.status_code == 200, response.text
    return int(response.headers["HX-Redirect"].rsplit("/", 1)[1])


@pytest.fixture
def complaints(app) -> None:
    registered(app, SEEN)
    registered(app, HIDDEN, matter="M-2025-0188", respondents=("李娜",))


# -- the catalogue ---------------------------------------------------------------------------------

def test_partners_see_the_catalogue_in_both_languages_from_the_navigation(client, auth):
    auth.login_as("partner")
    page = client.get("/admin/root-causes").text
    assert "未解释收费" in page and "Fees not explained" in page
    assert page.index("Expectations not set") < page.index("Quality of work")
    assert "Needs a text" in page  # "other"
    assert 'href="/admin/root-causes"' in client.get("/admin").text  # under Settings


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_nobody_else_may_open_or_change_the_catalogue(app, client, auth, role):
    auth.login_as(role)
    cause = _cause(app, "staff_attitude")
    assert client.get("/admin/root-causes").status_code == 403
    assert client.get(f"/admin/root-causes/{cause.id}").status_code == 403
    for url, data in ((("/admin/root-causes"), {"label_zh": "甲", "label_en": "A"}),
                      (f"/admin/root-causes/{cause.id}/active", {"active": "0", "version": 1}),
                      (f"/admin/root-causes/{cause.id}/move", {"direction": "up",
                                                                "version": 1})):
        assert client.post(url, data=data, headers=HX).status_code == 403
    assert _cause(app, "staff_attitude").active


def test_a_partner_adds_a_cause_and_a_refusal_keeps_the_input(app, client, auth):
    auth.login_as("partner")
    response = client.post("/admin/root-causes", headers=HX, data={
        "label_zh": "沟通不畅", "label_en": "Poor communication", "needs_text": "y"})
    assert response.status_code == 200 and 'id="root-cause-catalogue"' in response.text
    assert "“Poor communication” is added" in response.text
    assert _cause(app, "poor_communication").needs_text
    response = client.post("/admin/root-causes", headers=HX, data={
        "label_zh": "", "label_en": "Slow replies", "code": "Bad Code"})
    assert response.status_code == 422
    assert "Enter the label in both languages." in response.text
    assert 'value="Slow replies"' in response.text and 'value="Bad Code"' in response.text


def test_labels_are_edited_and_a_stale_page_answers_409_keeping_the_input(app, client, auth):
    auth.login_as("partner")
    cause = _cause(app, "fees_not_explained")
    url = f"/admin/root-causes/{cause.id}"
    assert "未解释收费" in client.get(url).text
    response = client.post(url, headers=HX, data={
        "label_zh": "未说明收费", "label_en": "Fees not explained", "version": cause.version})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == \
        "/admin/root-causes"
    assert _cause(app, "fees_not_explained").label_zh == "未说明收费"
    response = client.post(url, headers=HX, data={
        "label_zh": "我的标签", "label_en": "Fees", "version": cause.version})
    assert response.status_code == 409 and 'id="root-cause-edit"' in response.text
    assert "Someone else changed this root cause" in response.text
    assert 'value="我的标签"' in response.text
    assert client.get("/admin/root-causes/999999").status_code == 404


def test_deactivating_reactivating_and_moving(app, client, auth):
    auth.login_as("partner")
    cause = _cause(app, "staff_attitude")
    base = f"/admin/root-causes/{cause.id}"
    response = client.post(f"{base}/active", headers=HX,
                           data={"active": "0", "version": cause.version})
    assert response.status_code == 200 and "is deactivated" in response.text
    assert not _cause(app, "staff_attitude").active
    stale = client.post(f"{base}/move", headers=HX,
                        data={"direction": "up", "version": cause.version})
    assert stale.status_code == 409 and "Someone else changed this root cause" in stale.text
    fresh = _cause(app, "staff_attitude")
    position = fresh.position
    response = client.post(f"{base}/move", headers=HX,
                           data={"direction": "up", "version": fresh.version})
    assert response.status_code == 200 and _cause(app, "staff_attitude").position == \
        position - 1
    fresh = _cause(app, "staff_attitude")
    response = client.post(f"{base}/active", data={"active": "1", "version": fresh.version})
    assert response.status_code == 303  # without JavaScript: back to the page
    assert _cause(app, "staff_attitude").active


# -- actions: creating -----------------------------------------------------------------------------

def test_a_partner_creates_an_action_from_a_complaint(app, client, auth, complaints):
    auth.login_as("partner")
    assert 'id="area-improvement"' in client.get(f"/complaints/{SEEN}").text
    page = client.get(f"/actions/new?complaint={SEEN}").text
    assert f'>{SEEN}</textarea>' in page
    action_id = _create(app, client)
    action = _action(app, action_id)
    assert action.owner.username == "investigator" and action.status == "planned"
    page = client.get(f"/actions/{action_id}").text
    assert "Deadline diary for every matter" in page and f"/complaints/{SEEN}" in page
    assert "Missed deadline" in page
    area = client.get(f"/complaints/{SEEN}").text
    assert f'href="/actions/{action_id}"' in area


def test_a_hidden_reference_is_refused_exactly_like_an_unknown_one(app, client, auth,
                                                                    complaints):
    auth.login_as("partner")
    answers = []
    for reference in (HIDDEN, "TS-2026-09999"):
        response = client.post("/actions", data=_form(app, complaints=reference), headers=HX)
        assert response.status_code == 422
        [message] = re.findall(r'id="complaints-error"[^>]*>([^<]+)<', response.text)
        answers.append(message.replace(reference, "X"))
        assert f">{reference}</textarea>" in response.text  # kept
    assert answers[0] == answers[1]
    with app.app_context():
        assert db.session.scalar(select(ImprovementAction.id)) is None


def test_bad_fields_answer_422_with_the_input_kept(app, client, auth, complaints):
    auth.login_as("partner")
    response = client.post("/actions", headers=HX, data=_form(
        app, due=(clock.today() - timedelta(days=1)).isoformat(), title="Kept title"))
    assert response.status_code == 422 and "The day cannot be in the past." in response.text
    assert 'value="Kept title"' in response.text and 'id="action-new"' in response.text
    response = client.post("/actions", headers=HX, data=_form(app, due="31/12/2030"))
    assert response.status_code == 422 and "is not a date" in response.text


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_only_partners_create_or_edit(app, client, auth, role, complaints):
    auth.login_as(role)
    assert client.get("/actions/new").status_code == 403
    assert client.post("/actions", data=_form(app), headers=HX).status_code == 403
    assert client.post("/actions/1", data=_form(app), headers=HX).status_code == 403


# -- actions: the page -----------------------------------------------------------------------------

def test_the_owner_moves_the_status_and_others_get_404(app, client, auth, complaints):
    auth.login_as("partner")
    action_id = _create(app, client)
    auth.logout()
    auth.login_as("receptionist")  # neither the owner nor a partner
    assert client.get(f"/actions/{action_id}").status_code == 404
    assert client.post(f"/actions/{action_id}/status", headers=HX,
                       data={"status": "done", "version": 1}).status_code == 404
    auth.logout()
    auth.login_as("investigator")  # the owner, who may not see the complaint
    page = client.get(f"/actions/{action_id}").text
    assert "No complaint you may see." in page and SEEN not in page
    assert "Edit the action" not in page
    version = _action(app, action_id).version
    response = client.post(f"/actions/{action_id}/status", headers=HX,
                           data={"status": "dropped", "note": "", "version": version})
    assert response.status_code == 422 and "Say why the action is dropped." in response.text
    response = client.post(f"/actions/{action_id}/status", headers=HX,
                           data={"status": "done", "note": "Diary in use.", "version": version})
    assert response.status_code == 200 and 'id="improvement-action"' in response.text
    assert "Diary in use." in response.text
    assert _action(app, action_id).status == "done"
    response = client.post(f"/actions/{action_id}/status", headers=HX,
                           data={"status": "planned", "version": _action(app, action_id)
                                 .version})
    assert response.status_code == 403  # reopening is a partner's


def test_a_partner_edits_and_a_stale_form_answers_409_keeping_the_input(app, client, auth,
                                                                         complaints):
    auth.login_as("partner")
    action_id = _create(app, client)
    version = _action(app, action_id).version
    response = client.post(f"/actions/{action_id}", headers=HX,
                           data=_form(app, title="Weekly deadline check", version=version))
    assert response.status_code == 200 and "The action is saved." in response.text
    assert _action(app, action_id).title == "Weekly deadline check"
    response = client.post(f"/actions/{action_id}", headers=HX,
                           data=_form(app, title="My lost edit", version=version))
    assert response.status_code == 409
    assert "Someone else changed this improvement action" in response.text
    assert 'value="My lost edit"' in response.text
    response = client.post(f"/actions/{action_id}", headers=HX, data=_form(
        app, complaints=HIDDEN, version=_action(app, action_id).version))
    assert response.status_code == 422 and "No complaint you may see" in response.text


# -- the list, the home pages ----------------------------------------------------------------------

def test_the_list_filters_and_marks_overdue_actions(app, client, auth, complaints):
    auth.login_as("partner")
    late = _create(app, client, title="Late one")
    _create(app, client, title="Training one", kind="training")
    with app.app_context(), write_transaction():
        db.session.get(ImprovementAction, late).due = clock.today() - timedelta(days=1)
    page = client.get("/actions").text
    assert page.index("Late one") < page.index("Training one") and "Overdue" in page
    part = client.get("/actions?kind=training", headers=HX)
    assert part.text.lstrip().startswith('<div id="action-list"')
    assert "Training one" in part.text and "Late one" not in part.text
    odd = client.get("/actions?status=lost&kind=party&owner=x")
    assert odd.status_code == 200 and "There is no status “lost”" in odd.text
    home = client.get("/").text
    assert "Overdue improvement actions" in home and "Late one" in home
    auth.logout()
    auth.login_as("investigator")
    home = client.get("/").text
    assert "My improvement actions" in home and "Training one" in home
    assert "Overdue improvement actions" not in home
    assert "Late one" in client.get("/actions").text


@contextmanager
def _counting(app):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _add_actions(app, count: int) -> None:
    with app.app_context(), write_transaction():
        people = list(db.session.scalars(select(User).where(User.username.is_not(None))))
        causes = list(db.session.scalars(select(RootCause).limit(2)))
        linked = list(db.session.scalars(select(Complaint)))
        for number in range(count):
            owner = people[number % len(people)]  # owners differ: no lazy load hides
            db.session.add(ImprovementAction(
                title=f"Action {number}", kind="tool", owner=owner, created_by_id=owner.id,
                due=clock.today() - timedelta(days=number % 3), complaints=linked,
                root_causes=causes))


def test_the_pages_query_count_does_not_grow_with_the_actions(app, client, auth, complaints):
    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache
    auth.login_as("partner")
    urls = ["/actions", "/actions?status=open", "/", f"/complaints/{SEEN}"]

    def measure() -> dict[str, int]:
        counts = {}
        for url in urls:
            client.get(url)
            with _counting(app) as statements:
                assert client.get(url).status_code == 200
            counts[url] = len(statements)
        return counts

    _add_actions(app, 2)
    small = measure()
    _add_actions(app, 40)
    assert measure() == small


# -- the reminder, from the worker -----------------------------------------------------------------

def test_the_worker_reminds_an_overdue_action_once(app, client, auth, runner, complaints,
                                                   smtp_server):  # noqa: F811
    app.config["PUBLIC_BASE_URL"] = "https://portal.example"
    auth.login_as("partner")
    action_id = _create(app, client, title="Overdue diary")
    with app.app_context(), write_transaction():
        db.session.get(ImprovementAction, action_id).due = clock.today() - timedelta(days=1)
    for _ in range(2):
        result = runner.invoke(args=["outbox", "work", "--once"])
        assert result.exit_code == 0, result.output
    mails = [m for m in smtp_server.wait_for(1)
             if m["To"].addresses[0].addr_spec == "zhou.jianguo@firm.example"]
    assert len(mails) == 1, [m["Subject"] for m in smtp_server.messages]
    body = mails[0].get_body(("plain",)).get_content()
    assert f"https://portal.example/actions/{action_id}" in body and "Overdue diary" in body
