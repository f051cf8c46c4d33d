"""Improvement actions: what the firm changes so that a complaint does not happen again.

A partner creates an action (title, description, kind, owner, due date) linked to the
complaints that prompted it (by reference; only complaints the partner may see, an unknown and
a hidden reference refused alike) and to root causes from the catalogue. Its owner or a
partner moves its status (planned, in progress, done, dropped; dropping needs a note; a
finished action is reopened by a partner only); partners edit its fields. Every change is
audited (ids and codes) and checks the version the page was loaded with (409 when stale).

Everyone sees an action's complaints through the visibility rule: a reference the viewer may
not see is not shown, and an edit by a partner who may not see a linked complaint keeps it.

An open action past its due date reminds its owner once (services/followup/action_reminders.py,
whose `tick_if_due` the outbox worker runs from here); the partners' home page lists the
overdue ones, each owner's home page their open ones.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint
from portal.models.followup import (
    OPEN_ACTION_STATUSES,
    ActionKind,
    ActionStatus,
    ImprovementAction,
    RootCause,
    action_complaint,
    action_root_cause,
)
from portal.models.user import Role, User, UserRole
from portal.services import addresses, audit
from portal.services.followup.action_reminders import (  # noqa: F401  (the worker's entry)
    REMINDER_KIND,
    tick,
    tick_if_due,
)
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError

TITLE_MAX, DESCRIPTION_MAX, NOTE_MAX, LINKS_MAX = 200, 4000, 2000, 50
PAGE_SIZE, SHOWN = 25, 10
OPEN = tuple(s.value for s in OPEN_ACTION_STATUSES)
FINISHED = (ActionStatus.DONE.value, ActionStatus.DROPPED.value)


class ActionError(IntakeError):
    """An improvement action refused (422); messages translated, by field."""


class ActionChanged(ConflictError):
    """Someone else changed the action after the page was loaded (409)."""

    def __init__(self) -> None:
        super().__init__(_("Someone else changed this improvement action after you opened "
                           "the page, so nothing was saved. What you typed is still on "
                           "screen: reload the page to see the action as it is now, then try "
                           "again."))


@dataclass(frozen=True)
class ActionInput:
    """An action's fields as a form sends them. `complaints` is the references as typed
    (separated by spaces, commas or new lines)."""

    title: str
    description: str
    kind: str
    owner_id: int | None
    due: date | None
    complaints: str = ""
    root_cause_ids: tuple[int, ...] = ()


# -- who may do what -----------------------------------------------------------------------

def is_partner(user: User) -> bool:
    return user.has_role(Role.PARTNER)


def may_view(action: ImprovementAction, user: User) -> bool:
    return is_partner(user) or action.owner_id == user.id


def may_change_status(action: ImprovementAction, user: User) -> bool:
    """The owner while the action is open; a partner always (reopening included)."""
    return is_partner(user) or (action.owner_id == user.id and action.is_open)


def staff() -> list[User]:
    """Who may own an action: every active account holding a role, by name (one query)."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.password_hash.is_not(None),
                           User.username.is_not(None),
                           User.id.in_(select(UserRole.user_id)))
        .order_by(User.name, User.id)))


# -- checking the fields -------------------------------------------------------------------------

def references(text: str | None) -> list[str]:
    """The keys typed, in order, each once (upper case)."""
    seen: dict[str, None] = {}
    for key in re.split(r"[\s,;，；、]+", text or ""):
        if key:
            seen.setdefault(key.upper(), None)
    return list(seen)


def _visible_complaints(actor: User, text: str, errors: FieldErrors) -> list[Complaint]:
    """The complaints the references name, if `actor` may see each. An unknown reference and
    one `actor` may not see get the same message: nothing tells whether it exists."""
    keys = references(text)
    if len(keys) > LINKS_MAX:
        errors.add("complaints", _("Link at most %(max)d complaints.", max=LINKS_MAX))
        return []
    conditions = {key: Complaint.with_key(key) for key in keys}
    wanted = [c for c in conditions.values() if c is not None]
    found = list(db.session.scalars(select(Complaint).where(
        or_(*wanted), Complaint.visible_to(actor)))) if wanted else []
    by_reference = {c.reference: c for c in found if c.reference}
    by_id = {c.id: c for c in found}
    chosen = []
    for key in keys:
        complaint = (by_id.get(int(key[1:])) if key.startswith("D")
                     else by_reference.get(key)) if conditions[key] is not None else None
        if complaint is None:
            errors.add("complaints", _("No complaint you may see has the reference "
                                       "“%(reference)s”.", reference=key[:40]))
        else:
            chosen.append(complaint)
    return chosen


def _causes(ids: tuple[int, ...], errors: FieldErrors, keep: set[int]) -> list[RootCause]:
    """Causes from the catalogue: active ones, or inactive ones the action names already."""
    wanted = set(ids)
    rows = list(db.session.scalars(select(RootCause).where(RootCause.id.in_(wanted))
                                   .order_by(RootCause.position, RootCause.id))) if wanted else []
    allowed = [c for c in rows if c.active or c.id in keep]
    if len(allowed) != len(wanted):
        errors.add("root_causes", _("Choose root causes from the catalogue."))
    return allowed


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def _owner(owner_id: int | None, errors: FieldErrors) -> User | None:
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None:
        errors.add("owner", _("Choose who owns the action."))
    elif not (owner.active and owner.can_log_in and owner.roles):
        errors.add("owner", _("%(name)s has no active account in the portal.", name=owner.name))
        return None
    return owner


def _fields(data: ActionInput, errors: FieldErrors, *, due_before: date | None = None
            ) -> tuple[str, str | None]:
    title = _line(data.title)
    if not title:
        errors.add("title", _("Give the action a title."))
    elif len(title) > TITLE_MAX or not addresses.is_single_line(title):
        errors.add("title", _("A title is one line of at most %(max)d characters.",
                              max=TITLE_MAX))
    description = (data.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors.add("description", _("At most %(max)d characters.", max=DESCRIPTION_MAX))
    if data.kind not in {k.value for k in ActionKind}:
        errors.add("kind", _("Choose the kind of action."))
    if data.due is None:
        errors.add("due", _("Enter the day by which it is done."))
    elif data.due < clock.today() and data.due != due_before:
        errors.add("due", _("The day cannot be in the past."))
    return title, description or None


def _refuse_if_any(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise ActionError(first, errors=errors.errors)


def _require_partner(actor: User) -> None:
    if not is_partner(actor):
        raise ActionError(_("Only partners create and edit improvement actions."))


# -- the verbs -----------------------------------------------------------------------------------

def create(actor: User, data: ActionInput) -> ImprovementAction:
    _require_partner(actor)
    errors = FieldErrors()
    title, description = _fields(data, errors)
    owner = _owner(data.owner_id, errors)
    complaints = _visible_complaints(actor, data.complaints, errors)
    causes = _causes(data.root_cause_ids, errors, keep=set())
    _refuse_if_any(errors)
    now = clock.now()
    action = ImprovementAction(
        title=title, description=description, kind=data.kind, owner=owner, due=data.due,
        status=ActionStatus.PLANNED.value, created_by_id=actor.id, created_at=now,
        updated_at=now, complaints=complaints, root_causes=causes)
    db.session.add(action)
    db.session.flush()
    audit.record("improvement_action.created", actor=actor, obj=action, details={
        "action_id": action.id, "kind": action.kind, "owner_id": owner.id,
        "due": action.due.isoformat(), "complaint_ids": sorted(c.id for c in complaints),
        "root_cause_ids": sorted(c.id for c in causes)})
    return action


def _locked(action_id: int, expected_version: int | None) -> ImprovementAction:
    action = db.session.get(ImprovementAction, action_id, with_for_update=True,
                            populate_existing=True)
    if action is None:
        raise ActionError(_("This improvement action does not exist."))
    if expected_version is None or action.version != expected_version:
        raise ActionChanged()
    return action


def _hidden_links(actor: User, action: ImprovementAction) -> list[Complaint]:
    """The linked complaints `actor` may not see: an edit keeps them as they are."""
    linked = list(action.complaints)
    if not linked:
        return []
    visible = set(db.session.scalars(select(Complaint.id).where(
        Complaint.id.in_([c.id for c in linked]), Complaint.visible_to(actor))))
    return [c for c in linked if c.id not in visible]


def edit(actor: User, action_id: int, data: ActionInput, *,
         expected_version: int | None) -> ImprovementAction:
    """New fields and links (a partner). A new owner or due date earns a new reminder."""
    _require_partner(actor)
    action = _locked(action_id, expected_version)
    errors = FieldErrors()
    title, description = _fields(data, errors, due_before=action.due)
    owner = _owner(data.owner_id, errors)
    complaints = _visible_complaints(actor, data.complaints, errors)
    causes = _causes(data.root_cause_ids, errors, keep={c.id for c in action.root_causes})
    _refuse_if_any(errors)
    linked = _hidden_links(actor, action) + complaints
    before = {"title": action.title, "description": action.description, "kind": action.kind,
              "owner_id": action.owner_id, "due": action.due,
              "complaints": {c.id for c in action.complaints},
              "root_causes": {c.id for c in action.root_causes}}
    after = {"title": title, "description": description, "kind": data.kind,
             "owner_id": owner.id, "due": data.due, "complaints": {c.id for c in linked},
             "root_causes": {c.id for c in causes}}
    changed = sorted(name for name in before if before[name] != after[name])
    if not changed:
        return action
    if "owner_id" in changed or "due" in changed:
        action.reminded_at = None
    action.title, action.description, action.kind = title, description, data.kind
    action.owner, action.due = owner, data.due
    action.complaints, action.root_causes = linked, causes
    action.updated_at = clock.now()  # moves the version, also for a change of links only
    db.session.flush()
    audit.record("improvement_action.updated", actor=actor, obj=action, details={
        "action_id": action.id, "changed": changed, "kind": action.kind,
        "owner_id": action.owner_id, "due": action.due.isoformat(),
        "complaint_ids": sorted(after["complaints"]),
        "root_cause_ids": sorted(after["root_causes"])})
    return action


def change_status(actor: User, action_id: int, status: str, note: str, *,
                  expected_version: int | None) -> ImprovementAction:
    """The owner or a partner moves the status, with a note (required to drop an action).
    Reopening a done or dropped action is a partner's."""
    action = _locked(action_id, expected_version)
    if not may_view(action, actor):
        raise ActionError(_("Only the action's owner or a partner changes its status."))
    errors = FieldErrors()
    note = (note or "").strip()
    if status not in {s.value for s in ActionStatus}:
        errors.add("status", _("Choose a status."))
    elif status == action.status:
        errors.add("status", _("The action has this status already: choose another one."))
    elif action.status in FINISHED and not is_partner(actor):
        errors.add("status", _("Only a partner reopens an action that is done or dropped."))
    if status == ActionStatus.DROPPED and not note:
        errors.add("note", _("Say why the action is dropped."))
    if len(note) > NOTE_MAX:
        errors.add("note", _("At most %(max)d characters.", max=NOTE_MAX))
    _refuse_if_any(errors)
    previous = action.status
    now = clock.now()
    action.status, action.status_note, action.updated_at = status, note or None, now
    action.completed_at = now if status in FINISHED else None
    db.session.flush()
    audit.record("improvement_action.status_changed", actor=actor, obj=action, details={
        "action_id": action.id, "from": previous, "to": status, "note": bool(note)})
    return action


# -- reading: links, the list, the home page -----------------------------------------------------

def complaint_links(viewer: User, action_ids: list[int]) -> dict[int, list[str]]:
    """Each action's complaints `viewer` may see, as their keys (one query)."""
    links: dict[int, list[str]] = defaultdict(list)
    if not action_ids:
        return links
    rows = db.session.execute(
        select(action_complaint.c.action_id, Complaint.reference, Complaint.id)
        .join(Complaint, Complaint.id == action_complaint.c.complaint_id)
        .where(action_complaint.c.action_id.in_(action_ids), Complaint.visible_to(viewer))
        .order_by(Complaint.reference, Complaint.id))
    for action_id, reference, complaint_id in rows:
        links[action_id].append(reference or f"D{complaint_id}")
    return links


def cause_links(action_ids: list[int]) -> dict[int, list[RootCause]]:
    """Each action's root causes, in the catalogue's order (one query)."""
    links: dict[int, list[RootCause]] = defaultdict(list)
    if not action_ids:
        return links
    rows = db.session.execute(
        select(action_root_cause.c.action_id, RootCause)
        .join(RootCause, RootCause.id == action_root_cause.c.root_cause_id)
        .where(action_root_cause.c.action_id.in_(action_ids))
        .order_by(RootCause.position, RootCause.id))
    for action_id, cause in rows:
        links[action_id].append(cause)
    return links


@dataclass(frozen=True)
class Filters:
    status: str | None = None  # "open", a status, or None for every action
    kind: str | None = None
    owner_id: int | None = None


def filters_from(status: str, kind: str, owner: str) -> tuple[Filters, list[str]]:
    """The list's filters from the query string; an unknown value is dropped with a message."""
    problems = []
    status, kind, owner = (status or "").strip(), (kind or "").strip(), (owner or "").strip()
    if status and status != "open" and status not in {s.value for s in ActionStatus}:
        problems.append(_("There is no status “%(value)s”: every status is shown.",
                          value=status[:40]))
        status = ""
    if kind and kind not in {k.value for k in ActionKind}:
        problems.append(_("There is no kind “%(value)s”: every kind is shown.", value=kind[:40]))
        kind = ""
    owner_id = int(owner) if owner.isdigit() and len(owner) < 10 else None
    if owner and owner_id is None:
        problems.append(_("There is no owner “%(value)s”: every owner is shown.",
                          value=owner[:40]))
    return Filters(status or None, kind or None, owner_id), problems


@dataclass
class ActionPage:
    rows: list[ImprovementAction]
    total: int
    page: int
    pages: int
    complaints: dict[int, list[str]] = field(default_factory=dict)
    causes: dict[int, list[RootCause]] = field(default_factory=dict)


def _visible_actions(viewer: User):
    query = select(ImprovementAction)
    return query if is_partner(viewer) else query.where(ImprovementAction.owner_id == viewer.id)


def listing(viewer: User, filters: Filters, page: int = 1) -> ActionPage:
    """The actions `viewer` may see (a partner every one, anyone else their own), open ones
    first by due date, then the finished; with their links. Four queries whatever the size."""
    query = _visible_actions(viewer)
    if filters.status == "open":
        query = query.where(ImprovementAction.status.in_(OPEN))
    elif filters.status:
        query = query.where(ImprovementAction.status == filters.status)
    if filters.kind:
        query = query.where(ImprovementAction.kind == filters.kind)
    if filters.owner_id is not None:
        query = query.where(ImprovementAction.owner_id == filters.owner_id)
    total = db.session.scalar(query.with_only_columns(func.count(ImprovementAction.id))) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    rows = list(db.session.scalars(
        query.options(joinedload(ImprovementAction.owner))
        .order_by(case((ImprovementAction.status.in_(OPEN), 0), else_=1),
                  ImprovementAction.due, ImprovementAction.id)
        .limit(PAGE_SIZE).offset((min(page, pages) - 1) * PAGE_SIZE)))
    ids = [a.id for a in rows]
    return ActionPage(rows, total, min(page, pages), pages, complaint_links(viewer, ids),
                      cause_links(ids))


def find(viewer: User, action_id: int) -> ImprovementAction | None:
    """The action, when `viewer` may see it (None otherwise: the route answers 404)."""
    action = db.session.get(ImprovementAction, action_id)
    return action if action is not None and may_view(action, viewer) else None


def for_complaint(complaint: Complaint) -> list[ImprovementAction]:
    """The actions a complaint prompted, open ones first (the case file's area)."""
    return list(db.session.scalars(
        select(ImprovementAction).join(action_complaint,
                                       action_complaint.c.action_id == ImprovementAction.id)
        .where(action_complaint.c.complaint_id == complaint.id)
        .options(joinedload(ImprovementAction.owner))
        .order_by(case((ImprovementAction.status.in_(OPEN), 0), else_=1),
                  ImprovementAction.due, ImprovementAction.id)))


@dataclass(frozen=True)
class ActionItem:
    id: int
    title: str
    status: str
    due: date
    overdue: bool
    owner: str


@dataclass
class ActionSection:
    items: list[ActionItem]
    total: int

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _section(*where) -> ActionSection:
    """The first SHOWN open actions, the earliest due first, and how many there are: one
    query (the count is a window over every row, taken before the LIMIT)."""
    today = clock.today()
    rows = db.session.execute(
        select(ImprovementAction.id, ImprovementAction.title, ImprovementAction.status,
               ImprovementAction.due, User.name, func.count().over().label("total"))
        .join(User, User.id == ImprovementAction.owner_id)
        .where(ImprovementAction.status.in_(OPEN), *where)
        .order_by(ImprovementAction.due, ImprovementAction.id).limit(SHOWN)).all()
    return ActionSection([ActionItem(r.id, r.title, r.status, r.due, r.due < today, r.name)
                          for r in rows], rows[0].total if rows else 0)


def my_open(user: User) -> ActionSection:
    """The open actions `user` owns, the earliest due first (their home page)."""
    return _section(ImprovementAction.owner_id == user.id)


def overdue(user: User) -> ActionSection:
    """Every overdue action, for the partners' home page (empty for anyone else)."""
    if not is_partner(user):
        return ActionSection([], 0)
    return _section(ImprovementAction.due < clock.today())
