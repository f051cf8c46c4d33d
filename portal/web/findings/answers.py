"""The findings on the case file: the lead's (or a partner's) answer on each allegation,
saved one allegation at a time as a draft, then submitted with the investigation report.
Whoever may see the decision materials reads them; the report downloads from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.db import db, write_transaction
from portal.i18n import client_language
from portal.models.complaint import DECISION_STATES, REMEDY_LABELS, Complaint, State
from portal.models.investigation import (
    CATEGORY_LABELS,
    FINDING_LABELS,
    RESPONSIBILITY_LABELS,
    RULE_SOURCE_LABELS,
    SEVERITY_LABELS,
    Allegation,
    RuleArticle,
)
from portal.models.user import Role, User
from portal.security import roles
from portal.services import audit, notices, rules_catalogue
from portal.services import findings as service
from portal.services.intake.errors import ConflictError, IntakeError
from portal.web import case_file, downloads, htmx
from portal.web.findings import bp
from portal.web.findings.common import ALL_STAFF, CHANGED, override, overrides
from portal.web.findings.forms import FindingForm, SubmitForm
from portal.web.intake.context import actor, attach, load, page, posted_version, show_url

AREA = "findings"
TEMPLATE = "findings/_area.html"


@dataclass
class AllegationView:
    allegation: Allegation
    form: FindingForm | None = None
    version: int = 0  # the findings_version the form was loaded at (kept after a 409)
    note: str | None = None
    conflict: str | None = None
    rule_groups: list[tuple[str, list[RuleArticle]]] = field(default_factory=list)


def _prefix(allegation: Allegation) -> str:
    return f"allegation-{allegation.id}"


def fresh_form(allegation: Allegation) -> FindingForm:
    a = allegation
    return FindingForm(formdata=None, prefix=_prefix(a), data={
        "finding": a.finding or "", "reasoning": a.reasoning or "",
        "nature_found": a.nature_found or "", "severity_found": a.severity_found or "",
        "responsibility": a.responsibility or "", "rule_ids": [r.id for r in a.rules],
        "remedies": list(a.remedies_recommended or []), "remedy_notes": a.remedy_notes or ""})


def _rule_groups(active: list[RuleArticle], allegation: Allegation
                 ) -> list[tuple[str, list[RuleArticle]]]:
    """The catalogue's active entries by source, with any inactive one this allegation
    already cites."""
    offered = rules_catalogue.ordered(
        active + [r for r in allegation.rules if not r.active])
    groups: dict[str, list[RuleArticle]] = {}
    for rule in offered:
        groups.setdefault(rule.source, []).append(rule)
    return [(str(RULE_SOURCE_LABELS.get(s, s)), rules) for s, rules in groups.items()]


def _allegations(complaint: Complaint) -> list[Allegation]:
    """The allegations with their respondents and rules, in two queries however many."""
    return list(db.session.scalars(
        select(Allegation).where(Allegation.complaint_id == complaint.id)
        .options(selectinload(Allegation.rules), joinedload(Allegation.respondent))
        .order_by(Allegation.number)))


def _views(complaint: Complaint, editable: bool, shown: dict) -> list[AllegationView]:
    active = rules_catalogue.active_rules() if editable else []
    kept: dict[int, AllegationView] = shown.get("views", {})
    views = []
    for a in _allegations(complaint):
        view = kept.get(a.id) or AllegationView(a, version=a.findings_version)
        view.allegation = a
        if editable:
            view.form = view.form or fresh_form(a)
            view.rule_groups = _rule_groups(active, a)
        views.append(view)
    return views


@case_file.area(AREA, order=30, template=TEMPLATE)
def findings_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """While investigating: the form for the lead and partners (read-only for the other
    investigators); once submitted: the findings and the report, for whoever may see the
    decision materials (committee members from `awaiting_decision` on)."""
    if complaint.state != State.INVESTIGATING and complaint.state not in DECISION_STATES:
        return None
    if not complaint.can_see_decision_materials(user):
        return None
    editable = complaint.can_record_findings(user)
    shown = overrides(AREA)
    submitted = complaint.findings_submitted_at is not None
    missing = service.unanswered(complaint) if complaint.state == State.INVESTIGATING else []
    return {
        "editable": editable,
        "items": _views(complaint, editable, shown),
        "submitted": submitted,
        "report": service.report_notice(complaint) if submitted else None,
        "submitted_by": (db.session.get(User, complaint.findings_submitted_by_id)
                         if complaint.findings_submitted_by_id else None),
        "unanswered": missing,
        "version": shown.get("version", complaint.version),
        "fingerprint": shown.get("fingerprint", service.fingerprint(complaint)),
        "submit_error": shown.get("submit_error"),
        "submit_conflict": shown.get("submit_conflict"),
        "flagged": shown.get("flagged", set()),
        "labels": {"finding": FINDING_LABELS, "category": CATEGORY_LABELS,
                   "severity": SEVERITY_LABELS, "responsibility": RESPONSIBILITY_LABELS,
                   "remedy": REMEDY_LABELS, "source": RULE_SOURCE_LABELS},
        "citation": rules_catalogue.citation,
        "lang": client_language(),
    }


def _loaded(key: str) -> Complaint:
    """The complaint, if the viewer may see its findings (404 otherwise), and may record
    them (403 otherwise; whether they still can is the service's question)."""
    complaint = load(key)
    user = actor()
    if not complaint.can_see_decision_materials(user):
        abort(404)
    if not (user.has_role(Role.PARTNER) or complaint.leads(user)):
        abort(403)
    return complaint


def _area_response(complaint: Complaint, status: int) -> Response:
    def build(full: bool) -> dict:
        if full:
            return page(complaint)
        return {"complaint": complaint, "area": findings_area(complaint, actor())}

    return htmx.answer(TEMPLATE, "intake/show.html", build, status=status)


# -- one allegation's draft ---------------------------------------------------------------

def _answer_of(form: FindingForm) -> service.Answer:
    return service.Answer(
        finding=form.finding.data or "", reasoning=form.reasoning.data or "",
        nature_found=form.nature_found.data or "", severity_found=form.severity_found.data or "",
        responsibility=form.responsibility.data or "",
        rule_ids=[i for i in form.rule_ids.data or [] if i is not None],
        remedies=list(form.remedies.data or []), remedy_notes=form.remedy_notes.data or "")


def _saved_answer(complaint: Complaint, allegation_id: int, status: int) -> Response:
    def build(full: bool) -> dict:
        if full:
            return page(complaint)
        area = findings_area(complaint, actor())
        item = next(v for v in area["items"] if v.allegation.id == allegation_id)
        return {"complaint": complaint, "area": area, "item": item, "oob_submit": True}

    return htmx.answer("findings/_allegation.html", "intake/show.html", build, status=status,
                       trigger=CHANGED if status == 200 else None,
                       redirect_to=show_url(complaint, anchor=f"finding-{allegation_id}"))


@bp.route("/complaints/<key>/findings/<int:allegation_id>", methods=["POST"])
@roles(*ALL_STAFF)
def save(key: str, allegation_id: int):
    complaint = _loaded(key)
    allegation = service.find(complaint, allegation_id)
    if allegation is None:
        abort(404)
    form = FindingForm(prefix=_prefix(allegation))
    version = posted_version()
    view = AllegationView(allegation, form=form, version=version)
    override(AREA, views={allegation_id: view})
    if not form.validate_on_submit():
        return _saved_answer(complaint, allegation_id, 422)

    def done(saved: Allegation) -> Response:
        override(AREA, views={allegation_id: AllegationView(
            saved, version=saved.findings_version,
            note=_("Saved. The findings can be changed until they are submitted."))})
        if not htmx.wants_fragment():
            flash(_("Findings on allegation %(number)d saved.", number=saved.number), "ok")
        return _saved_answer(complaint, allegation_id, 200)

    def refused(error: Exception, status: int) -> Response:
        if isinstance(error, ConflictError):
            view.conflict = error.message
        elif isinstance(error, IntakeError):
            attach(form, error)
        return _saved_answer(complaint, allegation_id, status)

    return htmx.write(lambda: service.save_answer(actor(), complaint, allegation_id,
                                                  _answer_of(form), expected_version=version),
                      done=done, refused=refused)


# -- submitting ---------------------------------------------------------------------------

def _refused_submit(complaint: Complaint, error: Exception, status: int, version: int,
                    fingerprint: str) -> Response:
    kind = "submit_conflict" if isinstance(error, ConflictError) else "submit_error"
    flagged = {int(name.split("-", 1)[1]) for name in getattr(error, "errors", {}) or {}
               if name.startswith("allegation-")}
    override(AREA, version=version, fingerprint=fingerprint, flagged=flagged,
             **{kind: str(error)})
    return _area_response(complaint, status)


@bp.route("/complaints/<key>/findings/submit", methods=["POST"])
@roles(*ALL_STAFF)
def submit(key: str):
    complaint = _loaded(key)
    form = SubmitForm()
    form.validate_on_submit()  # the CSRF token only: nothing else is typed
    version, fingerprint = posted_version(), request.form.get("fingerprint", "")
    user = actor()
    try:
        service.check_submittable(user, complaint)
        if version != complaint.version or fingerprint != service.fingerprint(complaint):
            raise service.FindingsConflict(_(
                "The allegations or their findings changed after you opened this page, so "
                "the findings were not submitted. Reload the page, read them again, then "
                "submit."))
    except IntakeError as error:
        return _refused_submit(complaint, error, htmx.refusal_status(error) or 422,
                               version, fingerprint)
    facts, at = service.build_facts(complaint, user)
    db.session.commit()  # end the read: no transaction stays open while the PDF renders
    pdf = service.render_report(facts)

    def done(_notice) -> Response:
        flash(_("The findings were submitted; the complaint now awaits the committee's "
                "decision. The investigation report is stored with them."), "ok")
        return htmx.redirect(show_url(complaint))

    return htmx.write(
        lambda: service.submit(actor(), complaint, service.PreparedReport(facts, pdf, at),
                               expected_version=version, expected_fingerprint=fingerprint),
        done=done,
        refused=lambda error, status: _refused_submit(complaint, error, status, version,
                                                      fingerprint))


# -- the report -------------------------------------------------------------------------

@bp.route("/complaints/<key>/findings/report.pdf")
@roles(*ALL_STAFF)
def report(key: str):
    """The stored report, for whoever may see the decision materials; 404 for everyone
    else, and before the findings are submitted. Each download is audited."""
    complaint = load(key)
    if complaint.state not in DECISION_STATES or not complaint.can_see_decision_materials(
            actor()):
        abort(404)
    notice = service.report_notice(complaint)
    if notice is None:
        abort(404)
    data = notices.read_bytes(notice)
    name, complaint_id, notice_id = notice.filename, complaint.id, notice.id
    user = actor()
    who = {"actor_id": user.id, "actor_label": user.username or user.name}
    with write_transaction():
        audit.record("findings.report_downloaded", **who, object_type="complaint",
                     object_id=complaint_id, details={"notice_id": notice_id})
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = downloads.content_disposition(name, name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = downloads.DOWNLOAD_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
