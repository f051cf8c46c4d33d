"""The visibility rule has two faces that must agree on every case.

`Complaint.visible_to(user)` (SQL, used by every list, search, count, export and lookup) and
`Complaint.can_view(user)` (one loaded complaint, used by templates and services). Hypothesis
generates small firms: users with any mix of roles, matters with a team, a responsible lawyer
and a supervising partner, complaints in any state, with respondents, creators, unverified
online submissions, people kept out pending verification, declared conflicts, and current and
ended assignments. For every (user, complaint) pair both faces must give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.db import begin_write, db
from portal.models import (
    Assignment,
    Complaint,
    ComplaintExclusion,
    ConflictDeclaration,
    Matter,
    Role,
    State,
    User,
)
from portal.models.complaint import DECISION_STATES, ExclusionReason
from portal.models.investigation import AssignmentRole

USERS = 4
MATTERS = 2

roles = st.sets(st.sampled_from(list(Role)), max_size=3)
# Kept-out sets stay small: with every user kept out of every case, the grants go untested.
few = st.sets(st.integers(0, USERS - 1), max_size=2)
someone = st.none() | st.integers(0, USERS - 1)


@dataclass
class MatterSpec:
    team: set[int]
    responsible_lawyer: int | None
    partner: int | None


@dataclass
class AssignmentSpec:
    user: int
    role: AssignmentRole
    ended: bool


@dataclass
class CaseSpec:
    state: State
    needs_verification: bool
    creator: int | None
    respondents: set[int]
    excluded: set[int]
    matter: int | None
    conflicts: set[int]
    assignments: list[AssignmentSpec]


matters = st.builds(MatterSpec, team=few, responsible_lawyer=someone, partner=someone)
assignments = st.builds(AssignmentSpec, user=st.integers(0, USERS - 1),
                        role=st.sampled_from(list(AssignmentRole)), ended=st.booleans())
# The states where a clause changes its answer are drawn often (drafts for the unsorted-draft
# clauses; the edges of the committee's stage); any state may come from the whole list.
EDGES = [State.DRAFT, State.DISCARDED, State.REGISTERED, State.INVESTIGATING,
         State.AWAITING_DECISION, State.CLOSED, State.WITHDRAWN]
states = st.sampled_from(EDGES) | st.sampled_from(list(State))

cases = st.builds(
    CaseSpec,
    state=states,
    needs_verification=st.booleans(),
    creator=someone,
    respondents=few,
    excluded=few,
    matter=st.none() | st.integers(0, MATTERS - 1),
    conflicts=few,
    assignments=st.lists(assignments, max_size=3),
)

firms = st.tuples(st.lists(roles, min_size=USERS, max_size=USERS),
                  st.lists(matters, min_size=MATTERS, max_size=MATTERS),
                  st.lists(cases, min_size=1, max_size=6))


def _ids(users: list[User], indices) -> list[User]:
    return [users[i] for i in sorted(indices)]


def _build(user_roles: list[set[Role]], matter_specs: list[MatterSpec],
           specs: list[CaseSpec]) -> list[User]:
    users = []
    for n, held in enumerate(user_roles):
        user = User(username=f"gen{n}", name=f"Generated {n}", email=f"gen{n}@example.test")
        user.set_roles(held)
        users.append(user)
    db.session.add_all(users)
    db.session.flush()

    def user_id(index: int | None) -> int | None:
        return users[index].id if index is not None else None

    firm_matters = [Matter(reference=f"GEN-{n}", title=f"Generated matter {n}",
                           team=_ids(users, spec.team),
                           responsible_lawyer_id=user_id(spec.responsible_lawyer),
                           partner_id=user_id(spec.partner))
                    for n, spec in enumerate(matter_specs)]
    db.session.add_all(firm_matters)
    db.session.flush()
    for spec in specs:
        complaint = Complaint(
            state=spec.state, needs_verification=spec.needs_verification,
            created_by_id=user_id(spec.creator),
            respondents=_ids(users, spec.respondents),
            exclusions=[ComplaintExclusion(user_id=users[i].id,
                                           reason=ExclusionReason.PENDING_MATCH)
                        for i in sorted(spec.excluded)],
            matter_id=firm_matters[spec.matter].id if spec.matter is not None else None,
            conflicts=[ConflictDeclaration(user_id=users[i].id, reason="generated")
                       for i in sorted(spec.conflicts)],
            assignments=[Assignment(user_id=users[a.user].id, role=a.role,
                                    ended_at=clock.now() if a.ended else None)
                         for a in spec.assignments],
        )
        db.session.add(complaint)
    db.session.flush()
    return users


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


# database=None: no .hypothesis/ folder in the work tree; the examples are cheap to regenerate.
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(firm=firms)
def test_sql_predicate_and_can_view_agree(ctx, firm):
    user_roles, matter_specs, specs = firm
    begin_write()  # rolled back at the end: each example starts from the demo firm
    try:
        users = _build(user_roles, matter_specs, specs)
        db.session.expire_all()  # answer from what the database holds
        complaints = db.session.scalars(
            select(Complaint).options(
                selectinload(Complaint.respondents), selectinload(Complaint.exclusions),
                selectinload(Complaint.matter).selectinload(Matter.team),
                selectinload(Complaint.conflicts), selectinload(Complaint.assignments))
        ).all()
        for user in users:
            user = db.session.get(User, user.id)
            seen = set(db.session.scalars(
                select(Complaint.id).where(Complaint.visible_to(user))))
            for complaint in complaints:
                assert complaint.can_view(user) == (complaint.id in seen), (
                    sorted(r.value for r in user.roles), complaint.state,
                    complaint.needs_verification, complaint.created_by_id == user.id,
                    complaint.is_respondent(user), complaint.is_excluded(user),
                    complaint.on_matter(user), complaint.declared_conflict(user),
                    complaint.is_assigned(user))
    finally:
        db.session.rollback()


def _one(state=State.DRAFT, *, needs_verification=False, respondents=(), creator=None,
         excluded=()) -> Complaint:
    complaint = Complaint(state=state, needs_verification=needs_verification,
                          respondents=list(respondents), created_by=creator,
                          exclusions=[ComplaintExclusion(user=u) for u in excluded])
    db.session.add(complaint)
    db.session.flush()
    return complaint


def _visible(user: User, complaint: Complaint) -> bool:
    found = db.session.scalar(select(Complaint.id).where(
        Complaint.id == complaint.id, Complaint.visible_to(user)))
    assert complaint.can_view(user) == (found is not None)
    return found is not None


def test_the_rule_says_what_the_issue_asks(ctx):
    """The cases the issue names, spelled out (the generated test proves the two faces agree;
    this one proves they say the right thing)."""
    by_name = {u.username: u for u in db.session.scalars(select(User))}
    reception, partner, partner2 = by_name["reception"], by_name["partner"], by_name["partner2"]
    investigator, lawyer = by_name["investigator"], db.session.scalar(
        select(User).where(User.name == "王磊"))
    begin_write()
    try:
        sorted_draft = _one(respondents=[lawyer], creator=reception)
        unsorted_draft = _one(creator=reception)
        own_draft = _one(creator=partner)
        web = _one(needs_verification=True, respondents=[lawyer])
        named = _one(needs_verification=True, excluded=[partner2])
        registered = _one(State.REGISTERED, respondents=[partner2])

        assert all(_visible(reception, c) for c in
                   (sorted_draft, unsorted_draft, own_draft, web, named, registered))
        # A partner sees sorted drafts and registered complaints, and their own drafts ...
        assert _visible(partner, sorted_draft) and _visible(partner, registered)
        assert _visible(partner, own_draft)
        # ... but not unsorted or unverified drafts someone else created.
        assert not _visible(partner, unsorted_draft) and not _visible(partner, web)
        # A respondent never sees their case; someone named online is kept out at once.
        assert not _visible(partner2, registered) and not _visible(partner2, named)
        # Roles without a grant (yet) see nothing.
        assert not any(_visible(investigator, c) for c in (sorted_draft, registered))
    finally:
        db.session.rollback()


def _case(state: State, *, matter: Matter | None = None, respondents=(), conflicted=(),
          assigned=(), ended=()) -> Complaint:
    """A complaint with the investigation's rows: `assigned` currently, `ended` no longer."""
    complaint = Complaint(
        state=state, matter=matter, respondents=list(respondents),
        conflicts=[ConflictDeclaration(user=u, reason="曾代理对方") for u in conflicted],
        assignments=[Assignment(user=u, role=AssignmentRole.INVESTIGATOR) for u in assigned]
        + [Assignment(user=u, role=AssignmentRole.INVESTIGATOR, ended_at=clock.now())
           for u in ended])
    db.session.add(complaint)
    db.session.flush()
    return complaint


def test_the_investigation_clauses_say_what_the_issue_asks(ctx):
    """Issue 8: the matter's people and declared conflicts are kept out whatever grants them;
    assignment grants while it lasts; the committee sees the decision stage only."""
    by_name = {u.username or u.name: u for u in db.session.scalars(select(User))}
    partner, partner2 = by_name["partner"], by_name["partner2"]  # 陈志远, 刘慧敏
    investigator, investigator2 = by_name["investigator"], by_name["investigator2"]
    committee1, committee2, committee3 = (by_name["committee1"], by_name["committee2"],
                                          by_name["committee3"])
    matters = {m.reference: m for m in db.session.scalars(select(Matter))}
    chen_supervises = matters["M-2025-0142"]  # 陈志远 supervises; 王磊 leads, 张敏 on the team
    neutral = matters["M-2026-0090"]  # committee3 (马文博) supervises; 黄静 leads
    begin_write()
    try:
        on_his_matter = _case(State.INVESTIGATING, matter=chen_supervises,
                              assigned=[investigator])
        # The matter's partner is kept out although partners see every sorted complaint ...
        assert not _visible(partner, on_his_matter) and _visible(partner2, on_his_matter)
        assert on_his_matter.is_conflicted(partner) and not on_his_matter.is_conflicted(partner2)
        assert not on_his_matter.can_open_workspace(partner)
        assert on_his_matter.can_open_workspace(partner2)
        # ... and so are its responsible lawyer and its team, even when assigned.
        chen_supervises.responsible_lawyer = investigator2
        led = _case(State.INVESTIGATING, matter=chen_supervises, assigned=[investigator2])
        assert not _visible(investigator2, led)
        chen_supervises.responsible_lawyer = by_name["王磊"]
        db.session.flush()
        assert _visible(investigator2, led)  # the control: assigned, no longer on the matter
        chen_supervises.team.append(investigator2)
        db.session.flush()
        assert not _visible(investigator2, led) and not led.can_open_workspace(investigator2)

        # An assigned investigator sees their complaint only, and loses it when the
        # assignment ends; assigned or not, a declared conflict keeps them out.
        theirs = _case(State.INVESTIGATING, matter=neutral, assigned=[investigator])
        other = _case(State.INVESTIGATING, matter=neutral, assigned=[partner2])
        ended = _case(State.INVESTIGATING, matter=neutral, ended=[investigator])
        conflicted = _case(State.INVESTIGATING, matter=neutral, assigned=[investigator],
                           conflicted=[investigator])
        assert _visible(investigator, theirs) and theirs.can_open_workspace(investigator)
        assert not _visible(investigator, other) and not _visible(investigator, ended)
        assert not ended.can_open_workspace(investigator)
        assert not _visible(investigator, conflicted)
        assert not conflicted.can_open_workspace(investigator)
        seen = set(db.session.scalars(select(Complaint.id).where(
            Complaint.visible_to(investigator))))
        assert seen == {on_his_matter.id, theirs.id}

        # A committee member sees a complaint from awaiting_decision on, never before (nor
        # a withdrawn or discarded one), and never one they are conflicted on.
        for state in State:
            complaint = _case(state, matter=neutral)
            at_stage = state in DECISION_STATES
            assert _visible(committee2, complaint) == at_stage, state
            assert complaint.can_see_decision_materials(committee2) == at_stage, state
            assert not complaint.can_open_workspace(committee2)
            assert not _visible(committee3, complaint), state  # supervises the matter
        awaiting = _case(State.AWAITING_DECISION, matter=neutral, conflicted=[committee2],
                         respondents=[committee1])
        assert not _visible(committee2, awaiting) and not _visible(committee1, awaiting)
        assert not awaiting.can_see_decision_materials(committee2)
        # 陈志远 is a partner and on the committee: his own matter stays hidden at any stage.
        decided = _case(State.DECIDED, matter=chen_supervises)
        assert not _visible(partner, decided)
        assert not decided.can_see_decision_materials(partner)
    finally:
        db.session.rollback()
