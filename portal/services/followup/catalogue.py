"""The root-cause catalogue: what closing a complaint chooses from, and what an improvement
action names. Partners edit it at /admin/root-causes: add a cause (both labels required; the
code typed or made from the English label), change its labels and whether it needs a text,
deactivate or reactivate it, move it up or down. A cause is never deleted: closed complaints
and improvement actions keep naming it. Every change is audited (ids and codes) and checks the
version the page was loaded with (a stale one is a 409)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.db import db
from portal.models.followup import RootCause
from portal.models.user import Role, User
from portal.services import audit
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError

CODE_MAX, LABEL_MAX = 40, 200
CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")


class CatalogueError(IntakeError):
    """A change to the catalogue refused (422); messages translated, by field."""


class CauseChanged(ConflictError):
    """The cause was changed by someone else after the page was loaded (409)."""

    def __init__(self) -> None:
        super().__init__(_("Someone else changed this root cause after you opened the page, "
                           "so nothing was saved. What you typed is still on screen: reload "
                           "the page to see the catalogue as it is now, then try again."))


def seed_defaults() -> int:
    """Add the seeded causes a database lacks (made without the migration); returns how many.
    Causes already there, edited or not, are left alone."""
    from portal.services.followup.root_cause_seed import ROOT_CAUSE_SEED

    present = set(db.session.scalars(select(RootCause.code)))
    missing = [RootCause(code=code, label_zh=zh, label_en=en, needs_text=needs_text,
                         position=position)
               for position, (code, zh, en, needs_text) in enumerate(ROOT_CAUSE_SEED, start=1)
               if code not in present]
    db.session.add_all(missing)
    return len(missing)


def active() -> list[RootCause]:
    """The causes a partner may choose, in the catalogue's order (one query)."""
    return list(db.session.scalars(select(RootCause).where(RootCause.active)
                                   .order_by(RootCause.position, RootCause.id)))


def catalogue() -> list[RootCause]:
    """Every cause, active or not, in the catalogue's order (one query)."""
    return list(db.session.scalars(select(RootCause).order_by(RootCause.position,
                                                              RootCause.id)))


def find(cause_id: int) -> RootCause | None:
    return db.session.get(RootCause, cause_id)


# -- checking what was typed -------------------------------------------------------------------

@dataclass(frozen=True)
class CauseLabels:
    """A cause's labels as a form sends them, and whether choosing it needs a text."""

    label_zh: str
    label_en: str
    needs_text: bool = False


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def code_from(label_en: str) -> str:
    """A code made from the English label: its letters and digits in lower case, words joined
    by underscores, cut at a word within CODE_MAX ("Missed deadline" -> missed_deadline)."""
    words = re.findall(r"[a-z0-9]+", _line(label_en).lower())
    code = ""
    for word in words:
        longer = f"{code}_{word}" if code else word
        if len(longer) > CODE_MAX:
            break
        code = longer
    if not code or not code[0].isalpha():
        code = f"cause_{code}" if code else "cause"
    return code[:CODE_MAX]


def _free_code(base: str) -> str:
    """`base`, or base_2, base_3 ... when taken (one query)."""
    taken = set(db.session.scalars(select(RootCause.code).where(
        RootCause.code.like(f"{base[:CODE_MAX - 4]}%"))))
    if base not in taken:
        return base
    number = 2
    while f"{base[:CODE_MAX - 1 - len(str(number))]}_{number}" in taken:
        number += 1
    return f"{base[:CODE_MAX - 1 - len(str(number))]}_{number}"


def _checked(labels: CauseLabels, errors: FieldErrors, *, other_than: int | None = None
             ) -> CauseLabels:
    checked = CauseLabels(_line(labels.label_zh), _line(labels.label_en),
                          bool(labels.needs_text))
    for name in ("label_zh", "label_en"):
        value = getattr(checked, name)
        if not value:
            errors.add(name, _("Enter the label in both languages."))
        elif len(value) > LABEL_MAX:
            errors.add(name, _("A label has at most %(max)d characters.", max=LABEL_MAX))
        else:
            column = getattr(RootCause, name)
            query = select(RootCause.id).where(func.lower(column) == value.lower())
            if other_than is not None:
                query = query.where(RootCause.id != other_than)
            if db.session.scalar(query.limit(1)) is not None:
                errors.add(name, _("Another cause has this label already: edit that one, or "
                                   "word this one differently."))
    return checked


def _refuse_if_any(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise CatalogueError(first, errors=errors.errors)


def _require_partner(actor: User) -> None:
    if not actor.has_role(Role.PARTNER):
        raise CatalogueError(_("Only partners edit the root-cause catalogue."))


def _locked(cause_id: int, expected_version: int | None) -> RootCause:
    cause = db.session.get(RootCause, cause_id, with_for_update=True, populate_existing=True)
    if cause is None:
        raise CatalogueError(_("This root cause is not in the catalogue."))
    if expected_version is None or cause.version != expected_version:
        raise CauseChanged()
    return cause


def _record(action: str, actor: User, cause: RootCause, **details) -> None:
    audit.record(action, actor=actor, obj=cause,
                 details={"root_cause_id": cause.id, "code": cause.code, **details})


# -- the verbs -----------------------------------------------------------------------------------

def add_cause(actor: User, labels: CauseLabels, *, code: str | None = None) -> RootCause:
    """A new active cause at the end of the catalogue. `code` as typed, or (blank) made from
    the English label; a typed code already taken is refused, a made one gets a number."""
    _require_partner(actor)
    errors = FieldErrors()
    labels = _checked(labels, errors)
    typed = (code or "").strip().lower()
    if typed and not CODE.fullmatch(typed):
        errors.add("code", _("A code is 2 to %(max)d lower-case letters, digits or "
                             "underscores, starting with a letter (for example "
                             "late_reply); leave it empty to make one from the English "
                             "label.", max=CODE_MAX))
    elif typed and db.session.scalar(select(RootCause.id).where(RootCause.code == typed)):
        errors.add("code", _("The code %(code)s is taken by another cause.", code=typed))
    _refuse_if_any(errors)
    position = (db.session.scalar(select(func.max(RootCause.position))) or 0) + 1
    cause = RootCause(code=typed or _free_code(code_from(labels.label_en)),
                      label_zh=labels.label_zh, label_en=labels.label_en,
                      needs_text=labels.needs_text, active=True, position=position)
    db.session.add(cause)
    db.session.flush()
    _record("root_cause.added", actor, cause, needs_text=cause.needs_text, position=position)
    return cause


def update_cause(actor: User, cause_id: int, labels: CauseLabels, *,
                 expected_version: int | None) -> RootCause:
    """New labels, or whether choosing the cause asks for a text. The code stays: exports
    and past closings name it."""
    _require_partner(actor)
    cause = _locked(cause_id, expected_version)
    errors = FieldErrors()
    labels = _checked(labels, errors, other_than=cause.id)
    _refuse_if_any(errors)
    new = {"label_zh": labels.label_zh, "label_en": labels.label_en,
           "needs_text": labels.needs_text}
    changed = sorted(name for name, value in new.items() if getattr(cause, name) != value)
    if not changed:
        return cause
    for name, value in new.items():
        setattr(cause, name, value)
    db.session.flush()
    _record("root_cause.updated", actor, cause, changed=changed, needs_text=cause.needs_text)
    return cause


def set_active(actor: User, cause_id: int, active: bool, *,
               expected_version: int | None) -> RootCause:
    """Deactivate (no longer offered when closing or on a new action; what names it keeps
    it) or reactivate a cause."""
    _require_partner(actor)
    cause = _locked(cause_id, expected_version)
    if cause.active == bool(active):
        raise CatalogueError(_("This cause is active already.") if active else
                             _("This cause is inactive already."))
    if not active and db.session.scalar(
            select(func.count()).select_from(RootCause).where(RootCause.active)) <= 1:
        raise CatalogueError(_("At least one cause stays active: closing a complaint needs "
                               "one."))
    cause.active = bool(active)
    db.session.flush()
    _record("root_cause.reactivated" if active else "root_cause.deactivated", actor, cause)
    return cause


def move(actor: User, cause_id: int, step: int, *, expected_version: int | None) -> RootCause:
    """Move a cause one place up (step -1) or down (+1). The catalogue is locked and
    renumbered 1..n; only the rows whose place changes are written."""
    _require_partner(actor)
    if step not in (-1, 1):
        raise CatalogueError(_("A cause moves one place up or down."))
    rows = list(db.session.scalars(
        select(RootCause).order_by(RootCause.position, RootCause.id)
        .with_for_update().execution_options(populate_existing=True)))
    index = next((i for i, row in enumerate(rows) if row.id == cause_id), None)
    if index is None:
        raise CatalogueError(_("This root cause is not in the catalogue."))
    cause = rows[index]
    if expected_version is None or cause.version != expected_version:
        raise CauseChanged()
    target = index + step
    if not 0 <= target < len(rows):
        raise CatalogueError(_("This cause is already the first in the catalogue.")
                             if step < 0 else
                             _("This cause is already the last in the catalogue."))
    previous = cause.position
    rows[index], rows[target] = rows[target], rows[index]
    for number, row in enumerate(rows, start=1):
        if row.position != number:
            row.position = number
    db.session.flush()
    _record("root_cause.moved", actor, cause, position=cause.position,
            previous_position=previous)
    return cause
