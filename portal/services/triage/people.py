"""Who may do what on a complaint under triage: conflicts and levels, as reasons.

Each question answers None (no objection) or a translated sentence saying why not, so the
form can show refused people with their reason and the service refuses with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.investigation import LeadLevel
from portal.models.user import Department, Role, User, UserRole


def department_head_ids() -> set[int]:
    return set(db.session.scalars(select(Department.head_id)
                                  .where(Department.head_id.is_not(None))))


def conflict_problem(complaint: Complaint, user: User) -> str | None:
    """Why `user` may not handle this complaint at all (nobody judges their own case)."""
    if not user.active or not user.can_log_in:
        return _("%(name)s has no active account.", name=user.name)
    if complaint.is_respondent(user):
        return _("%(name)s is a respondent to this complaint.", name=user.name)
    if complaint.on_matter(user):
        return _("%(name)s worked on the matter this complaint is about.", name=user.name)
    if complaint.declared_conflict(user):
        return _("%(name)s has a declared conflict on this complaint.", name=user.name)
    if complaint.is_excluded(user):
        return _("%(name)s was named by the client and is kept out until the submission is "
                 "verified.", name=user.name)
    return None


def meets_level(user: User, level: str, heads: set[int]) -> bool:
    if level == LeadLevel.COMMITTEE:
        return user.has_role(Role.COMMITTEE)
    if level == LeadLevel.PARTNER:
        return user.has_role(Role.PARTNER)
    return user.has_role(Role.PARTNER) or user.id in heads


def level_problem(user: User, level: str, heads: set[int]) -> str | None:
    if meets_level(user, level, heads):
        return None
    if level == LeadLevel.COMMITTEE:
        return _("%(name)s is not a member of the complaints committee, which this severity "
                 "requires of the lead.", name=user.name)
    if level == LeadLevel.PARTNER:
        return _("%(name)s is not a partner, which this severity requires of the lead.",
                 name=user.name)
    return _("%(name)s is neither a partner nor the head of a department, which this "
             "severity requires of the lead.", name=user.name)


def handler_problem(complaint: Complaint, user: User, heads: set[int]) -> str | None:
    """The handler set at triage: a partner or a department head, not conflicted."""
    return conflict_problem(complaint, user) or (
        None if meets_level(user, LeadLevel.DEPARTMENT_HEAD, heads) else
        _("%(name)s is neither a partner nor the head of a department, so cannot handle a "
          "complaint.", name=user.name))


def investigator_problem(complaint: Complaint, user: User) -> str | None:
    return conflict_problem(complaint, user) or (
        None if user.has_role(Role.INVESTIGATOR, Role.PARTNER) else
        _("%(name)s holds neither the investigator nor the partner role.", name=user.name))


def staff() -> list[User]:
    """Everyone who could be asked to handle, lead or investigate: active accounts holding an
    investigating role, or heading a department, by name."""
    roles = (Role.INVESTIGATOR.value, Role.PARTNER.value, Role.COMMITTEE.value)
    holders = select(UserRole.user_id).where(UserRole.role.in_(roles))
    heads = select(Department.head_id).where(Department.head_id.is_not(None))
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.password_hash.is_not(None),
                           or_(User.id.in_(holders), User.id.in_(heads)))
        .order_by(User.name, User.id)))


def user_named(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id else None


@dataclass(frozen=True)
class Roster:
    """The staff who could be chosen and the department heads among everyone (asked once per
    page: the triage form, the assignment panel and the conflict form all read it)."""

    users: list[User]
    heads: set[int]


def roster() -> Roster:
    return Roster(staff(), department_head_ids())
