"""Conflict-free assignment (a partner): the lead and the investigators.

The server refuses, with the reason, anyone conflicted (a respondent, anyone who worked on the
matter, a declared conflict, someone kept out pending verification), an inactive account, a
lead below the routing table's level for the severity, an investigator without the
investigator or partner role, and fewer investigators than the routing table requires.
Assigning the lead moves a triaged complaint to `investigating` and makes the lead the
handler. Reassigning ends the rows of those who leave (kept, as history) and starts rows for
those who join; the newly assigned are told by email in their own language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.investigation import Assignment, AssignmentRole
from portal.models.user import Role, User
from portal.services import audit, routing
from portal.services.intake.errors import FieldErrors
from portal.services.triage import letters, people
from portal.services.triage.common import TriageError, check_version, in_investigation, touch


@dataclass(frozen=True)
class Candidate:
    user: User
    as_lead: str | None  # why not as the lead, or None
    as_investigator: str | None  # why not as an investigator, or None


def may_assign(complaint: Complaint, user: User) -> bool:
    return in_investigation(complaint) and user.has_role(Role.PARTNER) \
        and complaint.can_view(user)


def candidates(complaint: Complaint, roster: people.Roster | None = None) -> list[Candidate]:
    """Everyone who could be asked, each with what stops them (for the form)."""
    rule = routing.rule_for(complaint.severity)
    roster = roster or people.roster()
    return [Candidate(user, lead_problem(complaint, user, rule.lead_level, roster.heads),
                      people.investigator_problem(complaint, user))
            for user in roster.users]


def lead_problem(complaint: Complaint, user: User, level: str, heads: set[int]) -> str | None:
    return people.conflict_problem(complaint, user) or people.level_problem(user, level, heads)


def team_problems(complaint: Complaint) -> list[str]:
    """What the current team lacks under today's routing (after a new severity, say)."""
    if not complaint.severity or complaint.lead is None:
        return []
    rule = routing.rule_for(complaint.severity)
    heads = people.department_head_ids()
    problems = [p for p in [lead_problem(complaint, complaint.lead, rule.lead_level, heads)]
                if p]
    if len(complaint.investigators) < rule.investigators_required:
        problems.append(_too_few(rule.investigators_required))
    return problems


def _too_few(required: int) -> str:
    return _("This severity needs at least %(num)d investigator(s) besides the lead.",
             num=required)


def _people(ids: Sequence[int]) -> list[User | None]:
    return [people.user_named(i) for i in dict.fromkeys(ids)]


def _validated(complaint: Complaint, lead_id: int | None, investigator_ids: Sequence[int]
               ) -> tuple[User, list[User]]:
    rule = routing.rule_for(complaint.severity)
    heads = people.department_head_ids()
    errors = FieldErrors()
    lead = people.user_named(lead_id)
    if lead is None:
        errors.add("lead", _("Choose the lead."))
    else:
        problem = lead_problem(complaint, lead, rule.lead_level, heads)
        if problem:
            errors.add("lead", problem)
    team = _people(investigator_ids)
    if any(u is None for u in team):
        errors.add("investigators", _("Choose investigators from the list."))
    team = [u for u in team if u is not None]
    for user in team:
        if lead is not None and user.id == lead.id:
            errors.add("investigators", _("%(name)s is the lead and cannot also be one of "
                                          "the investigators.", name=user.name))
            continue
        problem = people.investigator_problem(complaint, user)
        if problem:
            errors.add("investigators", problem)
    if len(team) < rule.investigators_required:
        errors.add("investigators", _too_few(rule.investigators_required))
    errors.raise_if_any()
    return lead, team


def _restaff(actor: User, complaint: Complaint, wanted: dict[tuple[int, str], User]
             ) -> tuple[list[Assignment], list[Assignment]]:
    """End the rows no longer wanted, start the new ones; unchanged rows stay as they are."""
    now = clock.now()
    ended = []
    for row in complaint.current_assignments:
        if (row.user_id, row.role) not in wanted:
            row.ended_at, row.ended_by_id = now, actor.id
            ended.append(row)
    current = {(a.user_id, a.role) for a in complaint.current_assignments}
    started = [Assignment(user=user, role=role, assigned_at=now, assigned_by_id=actor.id)
               for (user_id, role), user in wanted.items() if (user_id, role) not in current]
    complaint.assignments.extend(started)
    return started, ended


def assign(actor: User, complaint: Complaint, *, lead_id: int | None,
           investigator_ids: Sequence[int], case_url: Callable[[Complaint], str] | None = None,
           expected_version: int | None = None) -> list[Assignment]:
    """Assign (or reassign) the lead and the investigators; returns the rows started."""
    check_version(complaint, expected_version)
    if not may_assign(complaint, actor):
        raise TriageError(_("A partner assigns the investigation, from triage until the "
                            "findings are submitted."))
    lead, team = _validated(complaint, lead_id, investigator_ids)
    wanted = {(lead.id, AssignmentRole.LEAD.value): lead}
    wanted.update({(u.id, AssignmentRole.INVESTIGATOR.value): u for u in team})
    started, ended = _restaff(actor, complaint, wanted)
    from_state = complaint.state
    if complaint.state == State.TRIAGED:
        complaint.state = State.INVESTIGATING
    complaint.handler = lead
    touch(complaint)
    db.session.flush()
    audit.record("assignment.changed", actor=actor, obj=complaint, details={
        "lead_id": lead.id, "investigator_ids": [u.id for u in team],
        "started_ids": [a.id for a in started], "ended_ids": [a.id for a in ended],
        "from_state": from_state, "to_state": complaint.state})
    for row in started:
        letters.queue_assignment_email(actor, complaint, row, case_url)
    return started
