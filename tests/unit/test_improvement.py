"""The root-cause catalogue's verbs (add with a code made or typed, labels, deactivate and
reactivate, move; each audited, a stale version refused) and the improvement actions' (create
with complaints the partner may see and causes from the catalogue, edit keeping what the
editor may not see, status changes and who may make them, the overdue reminder sent once, the
list and home sections)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.db import db, writes_by_default
from portal.models import AuditEvent, OutboxMessage, User
from portal.models.followup import ImprovementAction, RootCause
from portal.services.followup import action_reminders, actions, catalogue
from portal.services.intake.errors import ConflictError, IntakeError
from tests.triage_support import registered

# "partner" (陈志远) supervises M-2025-0142, so he may not see complaints about it;
# "partner2" (刘慧敏) supervises M-2025-0188, and may not see those.
SEEN_BY_PARTNER2 = "TS-2026-00101"  # M-2025-0142
SEEN_BY_BOTH = "TS-2026-00102"  # M-2026-0057
HIDDEN_FROM_PARTNER2 = "TS-2026-00103"  # M-2025-0188


@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def complaints(app) -> dict[str, int]:
    return {SEEN_BY_PARTNER2: registered(app, SEEN_BY_PARTNER2),
            SEEN_BY_BOTH: registered(app, SEEN_BY_BOTH, matter="M-2026-0057",
                                     respondents=("赵鹏",)),
            HIDDEN_FROM_PARTNER2: registered(app, HIDDEN_FROM_PARTNER2, matter="M-2025-0188",
                                             respondents=("李娜",))}


@pytest.fixture
def ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}), writes_by_default():
        yield app


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def cause(code: str) -> RootCause:
    return db.session.scalar(select(RootCause).where(RootCause.code == code))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def labels(zh: str = "沟通不畅", en: str = "Poor communication", needs_text: bool = False):
    return catalogue.CauseLabels(zh, en, needs_text)


# -- the catalogue ---------------------------------------------------------------------------------

def test_a_cause_gets_a_code_from_its_english_label_and_goes_last(ctx):
    added = catalogue.add_cause(person("partner2"), labels())
    assert added.code == "poor_communication" and added.active
    assert catalogue.catalogue()[-1].id == added.id
    assert added.position == max(c.position for c in catalogue.catalogue())
    again = catalogue.add_cause(person("partner2"), labels("沟通不畅二", "Poor communication!"))
    assert again.code == "poor_communication_2"
    assert catalogue.code_from("Fees — not explained, again & again (2)") == \
        "fees_not_explained_again_again_2"
    assert catalogue.code_from("未解释") == "cause"
    [event] = events("root_cause.added")[:1]
    assert event.details["code"] == "poor_communication" and event.object_type == "root_cause"


def test_a_typed_code_is_used_and_a_taken_or_malformed_one_refused(ctx):
    added = catalogue.add_cause(person("partner2"), labels(), code="late_reply")
    assert added.code == "late_reply"
    with pytest.raises(IntakeError) as taken:
        catalogue.add_cause(person("partner2"), labels("别的", "Another"), code="late_reply")
    assert "taken" in taken.value.errors["code"][0]
    with pytest.raises(IntakeError) as malformed:
        catalogue.add_cause(person("partner2"), labels("别的", "Another"), code="Late reply")
    assert "code" in malformed.value.errors


def test_both_labels_are_required_and_unique_and_only_partners_edit(ctx):
    with pytest.raises(IntakeError) as empty:
        catalogue.add_cause(person("partner2"), labels(zh="  ", en="Only English"))
    assert empty.value.errors == {"label_zh": ["Enter the label in both languages."]}
    with pytest.raises(IntakeError) as twice:
        catalogue.add_cause(person("partner2"), labels(zh="新的", en="missed DEADLINE"))
    assert "label_en" in twice.value.errors
    with pytest.raises(IntakeError, match="Only partners"):
        catalogue.add_cause(person("investigator"), labels())


def test_labels_change_with_the_version_the_page_had(ctx):
    fees = cause("fees_not_explained")
    version = fees.version
    catalogue.update_cause(person("partner2"), fees.id,
                           labels("未说明收费", "Fees not explained to the client"),
                           expected_version=version)
    assert fees.label_en == "Fees not explained to the client" and fees.code == \
        "fees_not_explained"
    assert events("root_cause.updated")[-1].details["changed"] == ["label_en", "label_zh"]
    with pytest.raises(ConflictError):
        catalogue.update_cause(person("partner2"), fees.id, labels("甲", "A"),
                               expected_version=version)
    assert fees.label_zh == "未说明收费"


def test_a_cause_is_deactivated_and_reactivated_never_deleted(ctx):
    attitude = cause("staff_attitude")
    catalogue.set_active(person("partner2"), attitude.id, False,
                         expected_version=attitude.version)
    assert attitude not in catalogue.active() and attitude in catalogue.catalogue()
    with pytest.raises(IntakeError, match="inactive already"):
        catalogue.set_active(person("partner2"), attitude.id, False,
                             expected_version=attitude.version)
    with pytest.raises(ConflictError):
        catalogue.set_active(person("partner2"), attitude.id, True,
                             expected_version=attitude.version - 1)
    catalogue.set_active(person("partner2"), attitude.id, True,
                         expected_version=attitude.version)
    assert attitude in catalogue.active()
    assert [e.action for e in events("root_cause.deactivated")
            + events("root_cause.reactivated")] == ["root_cause.deactivated",
                                                    "root_cause.reactivated"]


def test_moving_swaps_a_cause_with_its_neighbour(ctx):
    codes = [c.code for c in catalogue.catalogue()]
    second = cause(codes[1])
    catalogue.move(person("partner2"), second.id, -1, expected_version=second.version)
    assert [c.code for c in catalogue.catalogue()][:2] == [codes[1], codes[0]]
    assert [c.position for c in catalogue.catalogue()] == list(range(1, len(codes) + 1))
    with pytest.raises(IntakeError, match="already the first"):
        catalogue.move(person("partner2"), second.id, -1, expected_version=second.version)
    last = cause(codes[-1])
    with pytest.raises(IntakeError, match="already the last"):
        catalogue.move(person("partner2"), last.id, 1, expected_version=last.version)
    with pytest.raises(ConflictError):
        catalogue.move(person("partner2"), second.id, 1, expected_version=second.version - 1)
    assert events("root_cause.moved")[-1].details == {
        "root_cause_id": second.id, "code": codes[1], "position": 1, "previous_position": 2}


# -- improvement actions -------------------------------------------------------------------------

def new(complaints: str = SEEN_BY_PARTNER2, *, owner: str = "investigator",
        due: date | None = None, causes: tuple[str, ...] = ("missed_deadline",),
        title: str = "Deadline diary for every matter", kind: str = "procedure"
        ) -> actions.ActionInput:
    return actions.ActionInput(
        title=title, description="Each team keeps one.", kind=kind,
        owner_id=person(owner).id, due=due or clock.today() + timedelta(days=30),
        complaints=complaints, root_cause_ids=tuple(cause(c).id for c in causes))


def test_a_partner_creates_an_action_linked_to_complaints_and_causes(ctx, complaints):
    action = actions.create(person("partner2"), new(f"{SEEN_BY_PARTNER2}, ts-2026-00102"))
    assert action.status == "planned" and action.owner.username == "investigator"
    assert sorted(c.reference for c in action.complaints) == [SEEN_BY_PARTNER2, SEEN_BY_BOTH]
    assert [c.code for c in action.root_causes] == ["missed_deadline"]
    [event] = events("improvement_action.created")
    assert event.details["complaint_ids"] == sorted(complaints[k] for k in (SEEN_BY_PARTNER2,
                                                                           SEEN_BY_BOTH))
    assert "Deadline" not in str(event.details)  # ids and codes only


def test_an_unknown_and_a_hidden_reference_are_refused_alike(ctx, complaints):
    messages = []
    for reference in ("TS-2026-09999", HIDDEN_FROM_PARTNER2):
        with pytest.raises(IntakeError) as refused:
            actions.create(person("partner2"), new(reference))
        messages.append(refused.value.errors["complaints"][0].replace(reference, "X"))
    assert messages[0] == messages[1] == "No complaint you may see has the reference “X”."
    assert db.session.scalar(select(func.count()).select_from(ImprovementAction)) == 0


def test_what_an_action_needs(ctx, complaints):
    partner = person("partner2")
    cases = [
        (new(due=clock.today() - timedelta(days=1)), "due", "cannot be in the past"),
        (new(title="  "), "title", "Give the action a title."),
        (new(kind="party"), "kind", "Choose the kind of action."),
        (new(owner="王磊"), "owner", "no active account"),  # a lawyer without a login
    ]
    for data, field, message in cases:
        with pytest.raises(IntakeError) as refused:
            actions.create(partner, data)
        assert message in refused.value.errors[field][0]
    deadline = cause("missed_deadline")
    catalogue.set_active(partner, deadline.id, False, expected_version=deadline.version)
    with pytest.raises(IntakeError) as inactive:
        actions.create(partner, new())
    assert inactive.value.errors == {"root_causes": ["Choose root causes from the catalogue."]}
    with pytest.raises(IntakeError, match="Only partners"):
        actions.create(person("investigator"), new(causes=()))


def test_an_edit_keeps_the_complaints_the_editor_may_not_see(ctx, complaints):
    action = actions.create(person("partner2"), new(f"{SEEN_BY_PARTNER2} {SEEN_BY_BOTH}"))
    # "partner" may not see SEEN_BY_PARTNER2: his form lists only SEEN_BY_BOTH.
    assert actions.complaint_links(person("partner"), [action.id])[action.id] == [SEEN_BY_BOTH]
    actions.edit(person("partner"), action.id, new("", title="Deadline diary, weekly check"),
                 expected_version=action.version)
    assert action.title == "Deadline diary, weekly check"
    assert [c.reference for c in action.complaints] == [SEEN_BY_PARTNER2]
    assert events("improvement_action.updated")[-1].details["changed"] == ["complaints",
                                                                           "title"]


def test_a_stale_edit_is_refused_and_a_new_owner_earns_a_new_reminder(ctx, complaints):
    action = actions.create(person("partner2"), new())
    version = action.version
    action.reminded_at = clock.now()
    db.session.flush()
    with pytest.raises(ConflictError):
        actions.edit(person("partner2"), action.id, new(owner="reception"),
                     expected_version=version)
    actions.edit(person("partner2"), action.id, new(owner="reception"),
                 expected_version=action.version)
    assert action.owner.username == "reception" and action.reminded_at is None


def test_a_past_due_date_may_stay_but_not_be_set(ctx, complaints):
    action = actions.create(person("partner2"), new())
    action.due = clock.today() - timedelta(days=3)
    db.session.flush()
    actions.edit(person("partner2"), action.id, new(due=action.due, title="Kept late"),
                 expected_version=action.version)
    with pytest.raises(IntakeError, match="past"):
        actions.edit(person("partner2"), action.id,
                     new(due=clock.today() - timedelta(days=1)),
                     expected_version=action.version)


def test_the_status_moves_by_its_owner_or_a_partner(ctx, complaints):
    action = actions.create(person("partner2"), new())
    owner, other = person("investigator"), person("reception")
    with pytest.raises(IntakeError, match="owner or a partner"):
        actions.change_status(other, action.id, "in_progress", "",
                              expected_version=action.version)
    with pytest.raises(IntakeError) as no_note:
        actions.change_status(owner, action.id, "dropped", " ",
                              expected_version=action.version)
    assert no_note.value.errors == {"note": ["Say why the action is dropped."]}
    with pytest.raises(IntakeError, match="this status already"):
        actions.change_status(owner, action.id, "planned", "",
                              expected_version=action.version)
    actions.change_status(owner, action.id, "in_progress", "Started with litigation.",
                          expected_version=action.version)
    actions.change_status(owner, action.id, "done", "", expected_version=action.version)
    assert action.status == "done" and action.completed_at is not None
    assert not action.is_open and action.status_note is None
    with pytest.raises(IntakeError, match="Only a partner reopens"):
        actions.change_status(owner, action.id, "in_progress", "",
                              expected_version=action.version)
    with pytest.raises(ConflictError):
        actions.change_status(person("partner2"), action.id, "in_progress", "",
                              expected_version=action.version - 1)
    actions.change_status(person("partner2"), action.id, "in_progress", "Not everywhere yet.",
                          expected_version=action.version)
    assert action.completed_at is None
    assert [(e.details["from"], e.details["to"], e.details["note"]) for e in
            events("improvement_action.status_changed")] == [
        ("planned", "in_progress", True), ("in_progress", "done", False),
        ("done", "in_progress", True)]


def test_the_list_puts_open_actions_first_and_filters(ctx, complaints):
    partner = person("partner2")
    late = actions.create(partner, new(title="Late"))
    actions.create(partner, new(title="Soon", kind="training", owner="reception",
                                due=clock.today() + timedelta(days=2)))
    finished = actions.create(partner, new(title="Finished", due=clock.today()))
    actions.change_status(partner, finished.id, "done", "", expected_version=finished.version)
    late.due = clock.today() - timedelta(days=1)
    db.session.flush()
    listed = actions.listing(partner, actions.Filters())
    assert [a.title for a in listed.rows] == ["Late", "Soon", "Finished"]
    assert late.is_overdue(clock.today()) and not finished.is_overdue(clock.today() +
                                                                        timedelta(days=9))
    assert [a.title for a in actions.listing(partner, actions.Filters(kind="training")).rows] \
        == ["Soon"]
    assert [a.title for a in actions.listing(partner, actions.Filters(status="open")).rows] \
        == ["Late", "Soon"]
    assert [a.title for a in actions.listing(
        partner, actions.Filters(owner_id=person("reception").id)).rows] == ["Soon"]
    # Anyone else sees their own actions only.
    assert [a.title for a in actions.listing(person("reception"), actions.Filters()).rows] \
        == ["Soon"]
    assert actions.find(person("reception"), late.id) is None
    # The complaints shown are those the viewer may see (the investigator: none).
    assert actions.complaint_links(person("investigator"), [late.id]) == {}
    filters, problems = actions.filters_from("lost", "party", "me")
    assert filters == actions.Filters() and len(problems) == 3
    assert actions.my_open(person("investigator")).items[0].title == "Late"
    assert [i.title for i in actions.overdue(partner)] == ["Late"]
    assert not actions.overdue(person("investigator"))


def test_a_home_section_shows_ten_and_counts_the_rest(ctx, complaints):
    for number in range(12):
        actions.create(person("partner2"), new(title=f"Action {number:02d}",
                                               due=clock.today() + timedelta(days=number)))
    mine = actions.my_open(person("investigator"))
    assert [i.title for i in mine][:2] == ["Action 00", "Action 01"]
    assert len(mine.items) == actions.SHOWN == 10 and mine.total == 12 and mine.more == 2
    assert not actions.my_open(person("reception")) and actions.my_open(
        person("reception")).total == 0


# -- the reminder --------------------------------------------------------------------------------

def _reminders() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == action_reminders.REMINDER_KIND).order_by(OutboxMessage.id)))


def test_an_overdue_action_reminds_its_owner_once(app, complaints):
    app.config["PUBLIC_BASE_URL"] = "https://portal.example"
    with app.test_request_context(), writes_by_default():
        partner = person("partner2")
        overdue = actions.create(partner, new(title="Overdue one"))
        actions.create(partner, new(title="Due today", due=clock.today()))
        finished = actions.create(partner, new(title="Dropped"))
        actions.change_status(partner, finished.id, "dropped", "Replaced by another",
                              expected_version=finished.version)
        no_mail = actions.create(partner, new(title="Owner without email", owner="reception"))
        for action in (overdue, finished, no_mail):
            action.due = clock.today() - timedelta(days=2)
        person("reception").email = None
        db.session.commit()
        ids = overdue.id, no_mail.id
    with app.app_context():  # as the worker runs it: no request
        assert action_reminders.tick() == 2
        assert action_reminders.tick() == 0
        messages = _reminders()
        assert [m.recipient for m in messages] == ["zhou.jianguo@firm.example",
                                                   "liu.huimin@firm.example"]
        assert f"https://portal.example/actions/{ids[0]}" in messages[0].body_text
        assert "Overdue one" in messages[0].subject
        assert "could not be reached" in messages[1].body_text
        assert all(db.session.get(ImprovementAction, i).reminded_at for i in ids)
        assert len(events("improvement_action.reminded")) == 2
