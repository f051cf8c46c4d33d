"""The case file's triage area (`templates/triage/_area.html`, root id `area-triage`): the
triage form or its summary, the allegations, the assignment panel, conflicts and withdrawal.

Everyone who sees the case file sees the summary (severity, categories, handler, team) and
may declare their own conflict; the assessment and the allegations are for partners and the
assigned team; each form shows only to those its service would allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm

from portal.models.complaint import CLOSURE_LABELS, UNSORTED_STATES, Complaint
from portal.models.investigation import (
    CATEGORY_LABELS,
    LEAD_LEVEL_LABELS,
    SEVERITY_DEFINITIONS,
    SEVERITY_LABELS,
)
from portal.models.user import Role, User
from portal.services import routing
from portal.services.triage import (
    allegations,
    assignment,
    closure,
    conflicts,
    people,
    triage,
    withdrawal,
)
from portal.web import case_file
from portal.web.display import label_of
from portal.web.triage_forms import (
    AllegationForm,
    AssignForm,
    CloseForm,
    ConflictForm,
    GradingForm,
    TriageForm,
    WithdrawForm,
    people_choices,
    set_allegation_choices,
)

TEMPLATE = "triage/_area.html"


@dataclass
class Overrides:
    """What an action's answer puts back: a refused form with what was typed, a note, an
    error, and the version the page was loaded at after a 409 (a reload is needed)."""

    forms: dict[str, FlaskForm] = field(default_factory=dict)
    note: str | None = None
    error: str | None = None
    stale_version: int | None = None
    focus: str | None = None  # the part to open: the form that was refused


def shows_details(complaint: Complaint, user: User) -> bool:
    return user.has_role(Role.PARTNER) or complaint.is_assigned(user)


def _triage_form(complaint: Complaint, user: User, form: TriageForm | None,
                 roster: people.Roster) -> TriageForm:
    form = form or TriageForm(formdata=None, prefix="triage")
    return form.prepare(complaint.respondents, triage.eligible_handlers(complaint, roster),
                        user.id)


def _allegation_forms(complaint: Complaint, overrides: Overrides) -> dict[str, FlaskForm]:
    forms = {}
    for item in complaint.allegations:
        name = f"allegation-{item.id}"
        forms[name] = overrides.forms.get(name) or AllegationForm(
            formdata=None, prefix=name,
            data={"text": item.text, "category": item.category,
                  "respondent": item.respondent_id})
    forms["allegation-new"] = overrides.forms.get("allegation-new") or AllegationForm(
        formdata=None, prefix="allegation-new")
    for form in forms.values():
        set_allegation_choices(form, complaint.respondents)
    return forms


def _assign_form(complaint: Complaint, form: AssignForm | None) -> AssignForm:
    if form is None:
        lead = complaint.lead
        form = AssignForm(formdata=None, prefix="assign", data={
            "lead": lead.id if lead else None,
            "investigators": [u.id for u in complaint.investigators]})
    return form


def _conflict_form(complaint: Complaint, user: User, form: ConflictForm | None,
                   roster: people.Roster | None) -> ConflictForm:
    form = form or ConflictForm(formdata=None, prefix="conflict", data={"user": user.id})
    others = [u for u in roster.users if u.id != user.id
              and not complaint.declared_conflict(u)] if roster else []
    form.user.choices = people_choices([user, *others])
    return form


def context(complaint: Complaint, user: User, overrides: Overrides | None = None
            ) -> dict[str, Any] | None:
    """The area's data for `user`, or None where there is nothing to triage (drafts)."""
    if complaint.state in UNSORTED_STATES:
        return None
    o = overrides or Overrides()
    forms = o.forms
    details = shows_details(complaint, user)
    rule = routing.rule_for(complaint.severity) if complaint.severity else None
    can = {
        "triage": triage.may_triage(complaint, user),
        "close": closure.may_close(complaint, user),
        "revise": triage.may_revise(complaint, user),
        "allegations": details and allegations.editable(complaint, user),
        "assign": assignment.may_assign(complaint, user),
        "declare_own": conflicts.may_declare_own(complaint, user),
        "record_others": conflicts.may_record_others(complaint, user),
        "withdraw": withdrawal.may_withdraw(complaint, user),
    }
    data: dict[str, Any] = {
        "complaint": complaint, "viewer": user, "can": can, "details": details,
        "rule": rule, "note": o.note,
        "error": o.error, "focus": o.focus,
        "categories": [label_of(CATEGORY_LABELS, c) for c in complaint.categories or []],
        "version": o.stale_version if o.stale_version is not None else complaint.version,
        "stale": o.stale_version is not None,
        "labels": {"severity": SEVERITY_LABELS, "definitions": SEVERITY_DEFINITIONS,
                   "category": CATEGORY_LABELS, "closure": CLOSURE_LABELS,
                   "lead_level": LEAD_LEVEL_LABELS,
                   "withdrawal": withdrawal.WITHDRAWAL_METHOD_LABELS},
        "history": sorted(complaint.assignments, key=lambda a: a.id, reverse=True),
        "team_problems": assignment.team_problems(complaint) if details else [],
        "declarations": complaint.conflicts if can["record_others"] else [],
    }
    # Asked once, and only of those who choose people (partners).
    roster = people.roster() if can["triage"] or can["assign"] or can["record_others"] \
        else None
    if can["triage"]:
        data["triage_form"] = _triage_form(complaint, user, forms.get("triage"), roster)
    if can["close"]:
        data["close_form"] = forms.get("close") or CloseForm(formdata=None, prefix="close")
    if can["revise"]:
        data["revise_form"] = forms.get("revise") or GradingForm(
            formdata=None, prefix="revise", data={
                "severity": complaint.severity, "categories": list(complaint.categories or []),
                "assessment": complaint.assessment})
    if can["allegations"]:
        data["allegation_forms"] = _allegation_forms(complaint, o)
    if can["assign"]:
        data["assign_form"] = _assign_form(complaint, forms.get("assign"))
        data["candidates"] = assignment.candidates(complaint, roster)
    if can["declare_own"]:
        data["conflict_form"] = _conflict_form(complaint, user, forms.get("conflict"),
                                               roster if can["record_others"] else None)
    if can["withdraw"]:
        data["withdraw_form"] = forms.get("withdraw") or WithdrawForm(
            formdata=None, prefix="withdraw")
    return data


@case_file.area("triage", order=10, template=TEMPLATE)
def _registered(complaint: Complaint, user: User) -> dict[str, Any] | None:
    return context(complaint, user)
