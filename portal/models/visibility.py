"""Who may see a complaint: the one rule, with a SQL face and a Python face.

`Complaint.visible_to(user)` and `Complaint.can_view(user)` answer from VISIBILITY below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from portal.models.complaint import (
    DECISION_STATES,
    INTAKE_STAFF,
    UNSORTED_STATES,
    Complaint,
    ComplaintExclusion,
    complaint_respondent,
)
from portal.models.investigation import Assignment, ConflictDeclaration
from portal.models.matter import Matter, matter_team
from portal.models.user import Role, User

# --- who may see a complaint ----------------------------------------------------------------
# One rule with two faces: `sql(user)` filters queries, `test(complaint, user)` answers for a
# loaded complaint. A complaint is visible when no KEPT_OUT clause holds for the user and at
# least one GRANTS clause does. Each clause states both faces side by side, and
# tests/security/test_visibility_rule.py proves that they agree on generated cases.
#
# To extend it (the investigation and resolution phases do), add a Clause to one list:
#   KEPT_OUT: "on the matter's team" (Matter.people()), "declared a conflict": they hide the
#             whole case file, whatever role or assignment grants it;
#   GRANTS:   "assigned investigator" (roles={INVESTIGATOR}), "committee member of an open
#             ballot" (roles={COMMITTEE}): each opens complaints to the holders of its roles.
# Write the SQL without joins (a join would repeat rows): a kept-out clause as
# `Complaint.id IN (subquery of the user's complaints)`, a grant as a column test or EXISTS.
# Keep the Python face reading only the complaint's own relationships, and add the new tables
# to the generated cases of the test.


@dataclass(frozen=True)
class Clause:
    name: str
    sql: Callable[[User], ColumnElement[bool]]
    test: Callable[[Complaint, User], bool]
    roles: frozenset[Role] | None = None  # None: it applies to everyone

    def applies(self, user: User) -> bool:
        return self.roles is None or user.has_role(*self.roles)


@dataclass(frozen=True)
class VisibilityRule:
    kept_out: tuple[Clause, ...]
    grants: tuple[Clause, ...]

    def sql(self, user: User) -> ColumnElement[bool]:
        kept_out = tuple(c for c in self.kept_out if c.applies(user))
        grants = tuple(c for c in self.grants if c.applies(user))
        return _rule_sql(user, kept_out, grants)

    def test(self, complaint: Complaint, user: User) -> bool:
        if any(c.test(complaint, user) for c in self.kept_out if c.applies(user)):
            return False
        return any(c.test(complaint, user) for c in self.grants if c.applies(user))


# Building the expression costs more than running it on a small firm. A user's expression is
# the same on every request until their roles change, and the clauses read nothing of the user
# but the id, so it is kept per (id, applicable clauses).
_RULE_SQL: dict[tuple, ColumnElement[bool]] = {}


def _rule_sql(user: User, kept_out: tuple[Clause, ...], grants: tuple[Clause, ...]
              ) -> ColumnElement[bool]:
    key = (user.id, kept_out, grants)
    expression = _RULE_SQL.get(key)
    if expression is None:
        if len(_RULE_SQL) >= 1024:
            _RULE_SQL.clear()
        hidden = or_(false(), *(c.sql(user) for c in kept_out))
        granted = or_(false(), *(c.sql(user) for c in grants))
        expression = _RULE_SQL[key] = and_(~hidden, granted)
    return expression


# Kept-out clauses by the user's own rows (respondent, exclusion, conflict) are uncorrelated
# IN (subquery) tests: the database evaluates that small set once, instead of probing it for
# every complaint row. The matters a user worked on are not a small set (a partner supervises
# half the firm's matters: 33,000 of them after ten years), and SQLite builds an IN list in
# every statement before reading a row (15 ms each, six times on the home page): a correlated
# EXISTS probes the complaint's one matter by key instead, which costs nothing for the few
# rows a work list reads and little more than the list for a count over every complaint.
def _respondent_sql(user: User) -> ColumnElement[bool]:
    return Complaint.id.in_(select(complaint_respondent.c.complaint_id)
                            .where(complaint_respondent.c.user_id == user.id))


def _excluded_sql(user: User) -> ColumnElement[bool]:
    return Complaint.id.in_(select(ComplaintExclusion.complaint_id)
                            .where(ComplaintExclusion.user_id == user.id))


def _matter_people_sql(user: User) -> ColumnElement[bool]:
    led = exists().where(Matter.id == Complaint.matter_id,
                         or_(Matter.responsible_lawyer_id == user.id, Matter.partner_id == user.id))
    team = exists().where(matter_team.c.matter_id == Complaint.matter_id,
                          matter_team.c.user_id == user.id)
    return or_(led, team)


def _conflict_sql(user: User) -> ColumnElement[bool]:
    return Complaint.id.in_(select(ConflictDeclaration.complaint_id)
                            .where(ConflictDeclaration.user_id == user.id))


def _assigned_sql(user: User) -> ColumnElement[bool]:
    return Complaint.id.in_(select(Assignment.complaint_id)
                            .where(Assignment.user_id == user.id, Assignment.ended_at.is_(None)))


def _unsorted_sql() -> ColumnElement[bool]:
    has_respondents = exists().where(complaint_respondent.c.complaint_id == Complaint.id)
    return and_(Complaint.state.in_([s.value for s in UNSORTED_STATES]),
                or_(Complaint.needs_verification.is_(True), ~has_respondents))


IS_RESPONDENT = Clause("is a respondent", _respondent_sql, Complaint.is_respondent)
PENDING_EXCLUSION = Clause("is excluded pending verification", _excluded_sql,
                           Complaint.is_excluded)
RECEPTION_DESK = Clause("receptionist: every complaint", lambda user: true(),
                        lambda complaint, user: True, frozenset({Role.RECEPTIONIST}))
PARTNER_SORTED = Clause("partner: complaints past the unsorted-draft stage",
                        lambda user: ~_unsorted_sql(),
                        lambda complaint, user: not complaint.is_unsorted,
                        frozenset({Role.PARTNER}))
OWN_DRAFT = Clause("intake staff: the drafts they created",
                   lambda user: Complaint.created_by_id == user.id,
                   lambda complaint, user: complaint.created_by_id == user.id, INTAKE_STAFF)

ON_THE_MATTER = Clause("worked on the complaint's matter", _matter_people_sql,
                       Complaint.on_matter)
DECLARED_CONFLICT = Clause("declared a conflict", _conflict_sql, Complaint.declared_conflict)
ASSIGNED = Clause("currently assigned as lead or investigator", _assigned_sql,
                  Complaint.is_assigned)
COMMITTEE_STAGE = Clause(
    "committee member: complaints at the committee's stage",
    lambda user: Complaint.state.in_([s.value for s in DECISION_STATES]),
    lambda complaint, user: complaint.state in DECISION_STATES, frozenset({Role.COMMITTEE}))

VISIBILITY = VisibilityRule(
    kept_out=(IS_RESPONDENT, PENDING_EXCLUSION, ON_THE_MATTER, DECLARED_CONFLICT),
    grants=(RECEPTION_DESK, PARTNER_SORTED, OWN_DRAFT, ASSIGNED, COMMITTEE_STAGE),
)
