"""The complaint builder: list, draft page with self-saving sections, read-back, registration.

Each section of the page is its own partial (`intake/_section_<name>.html`, root id
`section-<name>`) that posts to `/complaints/<key>/sections/<name>` and gets itself back:
200 when saved, 422 with the errors beside the fields and the input kept, 409 when someone
else saved the record first. Without JavaScript the same forms post normally and the whole
page comes back (or a redirect after a save).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal.db import begin_write, db, utcnow, write_transaction
from portal.models.complaint import (
    CHANNEL_LABELS,
    EVIDENCE_CATEGORY_LABELS,
    STATE_LABELS,
    Complaint,
    ConfirmationLink,
    State,
)
from portal.models.matter import Client, Matter
from portal.models.user import Role, User
from portal.request_bodies import body_too_large, shows_oversize_body
from portal.security import require, roles
from portal.services import audit, intake
from portal.services import evidence as evidence_service
from portal.services.intake import ConflictError, IntakeError
from portal.web import downloads, htmx
from portal.web.intake_forms import (
    ChannelForm,
    ComplainantForm,
    ConfirmForm,
    EvidenceForm,
    IncidentForm,
    NewComplaintForm,
    OverrideForm,
    RemedyForm,
    local_input,
)
from portal.web.params import page_number

bp = Blueprint("intake", __name__)

STAFF = (Role.RECEPTIONIST, Role.PARTNER)
PAGE_SIZE = 25
# Forms on the page that carry the version they were loaded at (ids: version-<slot>).
VERSION_SLOTS = ("complainant-find", "complainant", "respondents", "respondents-find",
                 "matter", "matter-find", "incident", "remedy", "channel")
SAVED = "complaint-changed, intake-section-saved"
CHANGED = "complaint-changed"
LIST_FILTERS = ("open", "draft", "to_verify", "registered", "all")

# What the public form's raw payload fields are called, for the verification panel.
PAYLOAD_LABELS = {
    "name": _l("Name"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "language": _l("Preferred language"),
    "lawyers": _l("Lawyer(s) named"),
    "matter": _l("Matter or case number given"),
    "narrative": _l("What happened"),
    "occurred_on": _l("When"),
    "place": _l("Where"),
    "remedies": _l("What the client wants"),
    "remedy_details": _l("Details"),
    "consent": _l("Privacy notice accepted"),
}


def _actor() -> User:
    return current_user._get_current_object()


def _find(key: str) -> Complaint:
    """The complaint `key` names, if the viewer may see it; 404 otherwise, so that a hidden
    complaint (a respondent's own case) looks exactly like one that does not exist."""
    named = Complaint.with_key(key)
    complaint = None if named is None else db.session.scalar(
        select(Complaint).where(named, Complaint.visible_to(_actor())))
    if complaint is None:
        abort(404)
    return complaint


def _load(key: str) -> Complaint:
    return _find(key)


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return -1


def _show_url(complaint: Complaint, anchor: str | None = None) -> str:
    return url_for("intake.show", key=complaint.label, _anchor=anchor)


def _label(value: Any) -> str:
    return str(value() if callable(value) else value)


# --- page context ------------------------------------------------------------------------


@dataclass
class SectionView:
    form: Any = None
    note: str | None = None
    conflict: str | None = None
    errors: list[str] = field(default_factory=list)
    suggestions: list | None = None
    query: str = ""
    version: int | None = None


def _complainant_form(complaint: Complaint) -> ComplainantForm:
    client = complaint.complainant
    data: dict[str, Any] = {"language": complaint.language or "zh"}
    if client is not None and intake.is_exclusive_client(client, complaint):
        data.update(name=client.name, phone=client.phone, email=client.email,
                    id_number=client.id_number, address=client.address,
                    language=client.language)
    return ComplainantForm(formdata=None, prefix="complainant", data=data)


def _fresh_form(complaint: Complaint, section: str):
    if section == "complainant":
        return _complainant_form(complaint)
    if section == "incident":
        return IncidentForm(formdata=None, prefix="incident", data={
            "narrative": complaint.narrative, "occurred_on": complaint.occurred_on,
            "occurred_until": complaint.occurred_until,
            "occurred_place": complaint.occurred_place})
    if section == "remedy":
        return RemedyForm(formdata=None, prefix="remedy", data={
            "remedies_sought": list(complaint.remedies_sought or []),
            "remedy_details": complaint.remedy_details})
    if section == "channel":
        return ChannelForm(formdata=None, prefix="channel", data={
            "channel": complaint.channel, "received_at": local_input(complaint.received_at)})
    if section == "evidence":
        return EvidenceForm(formdata=None, prefix="evidence")
    return None


PAGE_SECTIONS = ("complainant", "respondents", "matter", "incident", "evidence", "remedy",
                 "channel")


def _sections(complaint: Complaint, override: dict[str, SectionView] | None = None) -> dict:
    views = {name: SectionView(form=_fresh_form(complaint, name)) for name in PAGE_SECTIONS}
    views.update(override or {})
    return views


def _common(complaint: Complaint) -> dict:
    actor = _actor()
    return {
        "complaint": complaint,
        "editable": complaint.can_edit_intake(actor),
        "section_labels": intake.SECTION_LABELS,
        "state_labels": STATE_LABELS,
        "channel_label": intake.channel_label,
        "remedy_label": intake.remedy_label,
        "category_label": _category_label,
        "version_slots": VERSION_SLOTS,
        "is_exclusive_client": lambda c: intake.is_exclusive_client(c, complaint),
        "payload_labels": PAYLOAD_LABELS,
    }


def _category_label(code: str) -> str:
    for category, label in EVIDENCE_CATEGORY_LABELS.items():
        if category.value == code:
            return _label(label)
    return code


def _completeness(complaint: Complaint) -> dict:
    rows = []
    for name in PAGE_SECTIONS:
        required = name in intake.REQUIRED_SECTIONS
        done = intake.section_complete(complaint, name) if name != "evidence" \
            else bool(complaint.evidence)
        rows.append({"name": name, "label": intake.SECTION_LABELS[name],
                     "done": done, "required": required})
    required_rows = [r for r in rows if r["required"]]
    return {"rows": rows, "done": sum(r["done"] for r in required_rows),
            "total": len(required_rows)}


def _latest_link(complaint: Complaint) -> ConfirmationLink | None:
    return db.session.scalar(
        select(ConfirmationLink).where(ConfirmationLink.complaint_id == complaint.id)
        .order_by(ConfirmationLink.id.desc()).limit(1)
    )


def _actions(complaint: Complaint, *, note: str | None = None, error: str | None = None,
             override_form: OverrideForm | None = None) -> dict:
    actor = _actor()
    return {
        "problems": intake.registration_problems(complaint) if complaint.is_draft else [],
        "missing": intake.missing_sections(complaint),
        "latest_link": _latest_link(complaint),
        "can_override": complaint.can_override_confirmation(actor),
        "override_form": override_form or OverrideForm(formdata=None, prefix="override"),
        "action_note": note,
        "action_error": error,
        "method_labels": intake.METHOD_LABELS,
    }


def _page(complaint: Complaint, *, sections: dict[str, SectionView] | None = None,
          **actions: Any) -> dict:
    return {
        **_common(complaint),
        "sections": _sections(complaint, sections),
        "completeness": _completeness(complaint),
        **_actions(complaint, **actions),
        "timeline": intake.timeline(complaint),
    }


# --- list and new ------------------------------------------------------------------------


def _list_query(actor: User, state: str, q: str):
    query = select(Complaint).where(Complaint.visible_to(actor))
    if state == "open":
        query = query.where(Complaint.state == State.DRAFT)
    elif state == "draft":
        query = query.where(Complaint.state == State.DRAFT,
                            Complaint.needs_verification.is_(False))
    elif state == "to_verify":
        query = query.where(Complaint.state == State.DRAFT,
                            Complaint.needs_verification.is_(True))
    elif state == "registered":
        query = query.where(Complaint.state == State.REGISTERED)
    if q:
        pattern = f"%{q.lower().replace('%', '').replace('_', '')}%"
        # Uncorrelated IN (subquery): the few matching clients and matters are found once,
        # instead of once per complaint row. References are ASCII: a query with any other
        # character cannot match one, so those columns are not even read.
        conditions = [Complaint.complainant_id.in_(
            select(Client.id).where(func.lower(Client.name).like(pattern)))]
        if q.isascii():
            conditions += [func.lower(Complaint.reference).like(pattern),
                           Complaint.matter_id.in_(select(Matter.id).where(
                               func.lower(Matter.reference).like(pattern)))]
        if re.fullmatch(r"[Dd]\d{1,10}", q):
            conditions.append(Complaint.id == int(q[1:]))
        query = query.where(or_(*conditions))
    if state == "registered":
        return query.order_by(Complaint.first_response_due, Complaint.id)
    return query.order_by(Complaint.created_at.desc(), Complaint.id.desc())


def _list_context(new_form: NewComplaintForm | None = None) -> dict:
    state = request.args.get("state", "open")
    state = state if state in LIST_FILTERS else "open"
    q = (request.args.get("q") or "").strip()[:100]
    page = page_number()
    query = _list_query(_actor(), state, q)
    total = db.session.scalar(query.with_only_columns(func.count(Complaint.id))
                              .order_by(None)) or 0
    # The list shows the complainant and each draft's missing sections (which read the
    # respondents): load them with the page instead of one query per row.
    rows = db.session.scalars(
        query.options(selectinload(Complaint.complainant), selectinload(Complaint.respondents))
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    if new_form is None:
        new_form = NewComplaintForm(formdata=None, prefix="new", data={
            "channel": "phone", "received_at": local_input(utcnow())})
    return {
        "rows": rows, "state": state, "q": q, "page_no": page, "total": total,
        "pages": max(1, -(-total // PAGE_SIZE)), "new_form": new_form,
        "state_labels": STATE_LABELS, "channel_labels": CHANNEL_LABELS,
        "missing_sections": intake.missing_sections, "filters": _filter_labels(),
    }


def _filter_labels() -> list[tuple[str, str]]:
    return [("open", _("All drafts")), ("draft", _("Drafts in progress")),
            ("to_verify", _("Online submissions to verify")),
            ("registered", _("Registered")), ("all", _("All complaints"))]


@bp.route("/complaints")
@roles(*STAFF)
def list_complaints():
    return htmx.page_or_partial("intake/list.html", "intake/_list.html", **_list_context())


@bp.route("/complaints", methods=["POST"])
@roles(*STAFF)
def new():
    form = NewComplaintForm(prefix="new")
    if form.validate_on_submit():
        begin_write()
        try:
            complaint = intake.create_draft(
                _actor(), channel=form.channel.data,
                received_at=form.received_at.data.replace(tzinfo=intake.LOCAL_TZ))
        except IntakeError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(_("Draft %(label)s created. Fill in the sections; each one saves on its own.",
                    label=complaint.label), "ok")
            return htmx.redirect(_show_url(complaint))
    response = make_response(render_template("intake/list.html", **_list_context(form)), 422)
    return response


# --- the complaint page ------------------------------------------------------------------


@bp.route("/complaints/<key>")
@roles(*STAFF)
def show(key: str):
    complaint = _load(key)
    if complaint.reference and key != complaint.reference:
        return redirect(_show_url(complaint), 301)
    response = htmx.page_or_partial("intake/show.html", "intake/_record.html", **_page(complaint))
    _record_view(complaint, "record")
    return response


def _record_view(complaint: Complaint, view: str) -> None:
    """Opening a record is audited: after the page is rendered in a read transaction, the
    event gets its own short write transaction."""
    with write_transaction():
        audit.record("complaint.viewed", actor=_actor(), obj=complaint, details={"view": view})


@bp.route("/complaints/<key>/timeline")
@roles(*STAFF)
def timeline(key: str):
    complaint = _load(key)
    return htmx.partial("intake/_timeline.html", **_common(complaint),
                        timeline=intake.timeline(complaint))


@bp.route("/complaints/<key>/completeness")
@roles(*STAFF)
def completeness(key: str):
    complaint = _load(key)
    return htmx.partial("intake/_completeness.html", **_common(complaint),
                        completeness=_completeness(complaint))


@bp.route("/complaints/<key>/actions")
@roles(*STAFF)
def actions(key: str):
    complaint = _load(key)
    return htmx.partial("intake/_actions.html", **_common(complaint), **_actions(complaint))


# --- sections ----------------------------------------------------------------------------


def _attach(form, error: IntakeError) -> None:
    placed = False
    for name, messages in (error.errors or {}).items():
        target = getattr(form, name, None) if name else None
        if target is not None and hasattr(target, "errors"):
            if not isinstance(target.errors, list):
                target.errors = list(target.errors)
            target.errors.extend(messages)
            placed = True
        else:
            form.form_errors.extend(messages)
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def _section_response(complaint: Complaint, section: str, view: SectionView,
                      status: int = 200, trigger: str | None = None):
    if htmx.wants_fragment():
        return htmx.partial(f"intake/_section_{section}.html", status=status, trigger=trigger,
                            **_common(complaint), sections={section: view},
                            with_versions=status == 200 and trigger == SAVED)
    context = _page(complaint, sections={section: view})
    return make_response(render_template("intake/show.html", **context), status)


def _saved(complaint: Complaint, section: str):
    if not htmx.wants_fragment():
        flash(_("Saved: %(section)s.", section=intake.SECTION_LABELS[section]), "ok")
        return redirect(_show_url(complaint, f"section-{section}"), 303)
    view = SectionView(form=_fresh_form(complaint, section), note=_("Saved."))
    return _section_response(complaint, section, view, trigger=SAVED)


def _save(complaint: Complaint, section: str, form, data: dict, view: SectionView | None = None):
    view = view or SectionView(form=form)
    version = _version()
    begin_write()
    try:
        intake.save_section(_actor(), complaint, section, data, expected_version=version)
    except ConflictError as error:
        db.session.rollback()
        view.conflict, view.version = error.message, version
        return _section_response(complaint, section, view, status=409)
    except IntakeError as error:
        db.session.rollback()
        if form is not None:
            _attach(form, error)
        else:
            view.errors.extend(m for ms in error.errors.values() for m in ms)
            view.errors = view.errors or [error.message]
        view.version = version
        return _section_response(complaint, section, view, status=422)
    db.session.commit()
    return _saved(complaint, section)


def _invalid(complaint: Complaint, section: str, form):
    return _section_response(complaint, section,
                             SectionView(form=form, version=_version()), status=422)


def _search_view(complaint: Complaint, section: str, results: list, form=None) -> SectionView:
    return SectionView(form=form or _fresh_form(complaint, section), suggestions=results,
                       query=(request.form.get("q") or "").strip())


def _save_complainant(complaint: Complaint):
    if request.form.get("client_id"):
        return _save(complaint, "complainant", None,
                     {"client_id": request.form.get("client_id")},
                     SectionView(form=_complainant_form(complaint)))
    if request.form.get("action") == "search" or "q" in request.form:
        view = _search_view(complaint, "complainant",
                            intake.search_clients(request.form.get("q")))
        return _section_response(complaint, "complainant", view)
    form = ComplainantForm(prefix="complainant")
    if not form.validate_on_submit():
        return _invalid(complaint, "complainant", form)
    data = {name: getattr(form, name).data for name in
            ("name", "phone", "email", "id_number", "address", "language")}
    return _save(complaint, "complainant", form, data)


def _save_respondents(complaint: Complaint):
    ids = [r.id for r in complaint.respondents]
    add = request.form.get("add", type=int)
    remove = request.form.get("remove", type=int)
    if add is None and remove is None:
        view = _search_view(complaint, "respondents",
                            intake.search_staff(request.form.get("q")))
        return _section_response(complaint, "respondents", view)
    if add is not None and add not in ids:
        ids.append(add)
    if remove is not None:
        ids = [i for i in ids if i != remove]
    return _save(complaint, "respondents", None, {"user_ids": ids})


def _save_matter(complaint: Complaint):
    if request.form.get("action") == "clear":
        return _save(complaint, "matter", None, {"matter_id": None})
    if request.form.get("matter_id"):
        return _save(complaint, "matter", None, {"matter_id": request.form.get("matter_id")})
    view = _search_view(complaint, "matter", intake.search_matters(request.form.get("q")))
    return _section_response(complaint, "matter", view)


def _save_incident(complaint: Complaint):
    form = IncidentForm(prefix="incident")
    if not form.validate_on_submit():
        return _invalid(complaint, "incident", form)
    return _save(complaint, "incident", form, {
        "narrative": form.narrative.data, "occurred_on": form.occurred_on.data,
        "occurred_until": form.occurred_until.data,
        "occurred_place": form.occurred_place.data})


def _save_remedy(complaint: Complaint):
    form = RemedyForm(prefix="remedy")
    if not form.validate_on_submit():
        return _invalid(complaint, "remedy", form)
    return _save(complaint, "remedy", form, {
        "remedies_sought": form.remedies_sought.data,
        "remedy_details": form.remedy_details.data})


def _save_channel(complaint: Complaint):
    form = ChannelForm(prefix="channel")
    if not form.validate_on_submit():
        return _invalid(complaint, "channel", form)
    return _save(complaint, "channel", form, {
        "channel": form.channel.data,
        "received_at": form.received_at.data.replace(tzinfo=intake.LOCAL_TZ)})


_SECTION_HANDLERS = {
    "complainant": _save_complainant,
    "respondents": _save_respondents,
    "matter": _save_matter,
    "incident": _save_incident,
    "remedy": _save_remedy,
    "channel": _save_channel,
}


@bp.route("/complaints/<key>/sections/<section>", methods=["POST"])
@roles(*STAFF)
def save_section(key: str, section: str):
    handler = _SECTION_HANDLERS.get(section)
    if handler is None:
        abort(404)
    complaint = _load(key)
    return handler(complaint)


# --- searches (suggestions while typing) -------------------------------------------------


def _suggestions(kind: str, search: Callable[[str], list]) -> Response:
    q = request.args.get("q", "")
    return htmx.partial(f"intake/_suggestions_{kind}.html", results=search(q), query=q.strip())


@bp.route("/intake/search/clients")
@roles(*STAFF)
def search_clients():
    return _suggestions("clients", intake.search_clients)


@bp.route("/intake/search/staff")
@roles(*STAFF)
def search_staff():
    return _suggestions("staff", intake.search_staff)


@bp.route("/intake/search/matters")
@roles(*STAFF)
def search_matters():
    return _suggestions("matters", intake.search_matters)


# --- evidence ----------------------------------------------------------------------------


@bp.route("/complaints/<key>/evidence", methods=["POST"])
@roles(*STAFF)
@shows_oversize_body  # a file over the portal's limit: the message beside the file field
def add_evidence(key: str):
    complaint = _load(key)
    form = EvidenceForm(prefix="evidence")
    if body_too_large() and not request.files:  # over MAX_CONTENT_LENGTH: the file was not read
        _attach(form, evidence_service.too_large())
        return _section_response(complaint, "evidence", SectionView(form=form), status=413)
    if not form.validate_on_submit():
        return _section_response(complaint, "evidence", SectionView(form=form), status=422)
    upload = form.file.data
    try:
        received = evidence_service.receive(upload.stream, upload.filename)
        begin_write()
        evidence_service.add_received(_actor(), complaint, received,
                                      category=form.category.data,
                                      description=form.description.data)
    except evidence_service.EvidenceError as error:
        db.session.rollback()
        _attach(form, error)
        return _section_response(complaint, "evidence", SectionView(form=form),
                                 status=error.status)
    db.session.commit()
    if not htmx.wants_fragment():
        flash(_("The file has been added."), "ok")
        return redirect(_show_url(complaint, "section-evidence"), 303)
    view = SectionView(form=_fresh_form(complaint, "evidence"), note=_("The file has been added."))
    return _section_response(complaint, "evidence", view, trigger=CHANGED)


@bp.route("/complaints/<key>/evidence/<int:evidence_id>")
@roles(*STAFF)
def download_evidence(key: str, evidence_id: int):
    complaint = _load(key)
    item = evidence_service.find(complaint, evidence_id)
    if item is None:
        abort(404)
    path = evidence_service.path_of(item)
    if not path.is_file():
        abort(404)
    with write_transaction():
        evidence_service.record_download(_actor(), item)
    return downloads.attachment(path, content_type=item.content_type,
                                name=evidence_service.download_name(item),
                                ascii_name=evidence_service.ascii_download_name(item))


# --- read-back, confirmation, override, verification, registration ----------------------


def _read_back_page(complaint: Complaint, form: ConfirmForm | None = None, status: int = 200,
                    error: str | None = None, conflict: str | None = None):
    points = Markup(intake.render_read_back(complaint, "readback/_points.html"))  # noqa: S704
    context = {
        **_common(complaint),
        "points_html": points,
        "client_locale": intake.client_locale(complaint),
        "form": form or ConfirmForm(formdata=None, prefix="confirm"),
        "missing": intake.missing_sections(complaint),
        "missing_labels": [str(intake.SECTION_LABELS[s])
                           for s in intake.missing_sections(complaint)],
        "error": error,
        "conflict": conflict,
        "version": _version() if conflict else complaint.version,
    }
    return make_response(render_template("intake/read_back.html", **context), status)


@bp.route("/complaints/<key>/read-back")
@roles(*STAFF)
def read_back(key: str):
    complaint = _load(key)
    response = _read_back_page(complaint)
    _record_view(complaint, "read_back")
    return response


@bp.route("/complaints/<key>/confirm", methods=["POST"])
@roles(*STAFF)
def confirm(key: str):
    complaint = _load(key)
    form = ConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        return _read_back_page(complaint, form, 422)
    begin_write()
    try:
        intake.confirm_read_back(_actor(), complaint, form.method.data,
                                 expected_version=_version())
    except ConflictError:
        db.session.rollback()
        return _read_back_page(complaint, form, 409, conflict=_(
            "The record was changed after this read-back was opened, so the confirmation was "
            "not recorded. Reload the page and read the new version to the client."))
    except IntakeError as error:
        db.session.rollback()
        return _read_back_page(complaint, form, 422, error=error.message)
    db.session.commit()
    flash(_("The client's confirmation has been recorded."), "ok")
    return htmx.redirect(_show_url(complaint))


def _action_response(complaint: Complaint, *, status: int = 200, note: str | None = None,
                     error: str | None = None, override_form: OverrideForm | None = None):
    if not htmx.wants_fragment():
        if status == 200:
            flash(note or _("Done."), "ok")
            return redirect(_show_url(complaint), 303)
        context = _page(complaint, note=note, error=error, override_form=override_form)
        return make_response(render_template("intake/show.html", **context), status)
    return htmx.partial("intake/_actions.html", status=status,
                        trigger=CHANGED if status == 200 else None,
                        with_versions=status == 200, **_common(complaint),
                        **_actions(complaint, note=note, error=error,
                                   override_form=override_form))


def _link_url(token: str) -> str:
    # Behind a proxy the Host header is the proxy's business: the configured address wins.
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("readback.confirm", token=token)
    return url_for("readback.confirm", token=token, _external=True)


@bp.route("/complaints/<key>/confirmation-link", methods=["POST"])
@roles(*STAFF)
def send_link(key: str):
    complaint = _load(key)
    begin_write()
    try:
        intake.request_confirmation_link(_actor(), complaint, _link_url)
    except IntakeError as error:
        db.session.rollback()
        return _action_response(complaint, status=422, error=error.message)
    db.session.commit()
    days = max(1, int(current_app.config["CONFIRMATION_LINK_MAX_AGE"].total_seconds() // 86400))
    return _action_response(complaint, note=_(
        "A confirmation link has been emailed to the client. It works once, for %(days)d days.",
        days=days))


@bp.route("/complaints/<key>/override", methods=["POST"])
@roles(Role.PARTNER)
def override(key: str):
    complaint = _load(key)
    require(complaint.can_override_confirmation(_actor()))
    form = OverrideForm(prefix="override")
    if not form.validate_on_submit():
        return _action_response(complaint, status=422, override_form=form)
    begin_write()
    try:
        intake.override_confirmation(_actor(), complaint, form.reason.data)
    except IntakeError as error:
        db.session.rollback()
        _attach(form, error)
        return _action_response(complaint, status=422, override_form=form)
    db.session.commit()
    return _action_response(complaint, note=_(
        "Recorded: this complaint may be registered without the client's confirmation."))


@bp.route("/complaints/<key>/verify", methods=["POST"])
@roles(*STAFF)
def verify(key: str):
    complaint = _load(key)
    begin_write()
    try:
        intake.mark_verified(_actor(), complaint)
    except IntakeError as error:
        db.session.rollback()
        return _action_response(complaint, status=422, error=error.message)
    db.session.commit()
    return _action_response(complaint, note=_("The online submission is marked as verified."))


@bp.route("/complaints/<key>/register", methods=["POST"])
@roles(*STAFF)
def register(key: str):
    complaint = _load(key)
    begin_write()
    try:
        intake.register(_actor(), complaint)
    except IntakeError as error:
        db.session.rollback()
        return _action_response(complaint, status=422, error=_(
            "The complaint cannot be registered yet. %(reasons)s", reasons=error.message))
    db.session.commit()
    flash(_("Registered as %(reference)s. The first response is due by %(date)s; the "
            "acknowledgement will be emailed to the client.", reference=complaint.reference,
            date=format_date(complaint.first_response_due, "long")), "ok")
    return htmx.redirect(_show_url(complaint))


@bp.route("/complaints/<key>/mail/<int:message_id>/resend", methods=["POST"])
@roles(*STAFF)
def resend(key: str, message_id: int):
    complaint = _load(key)
    message = intake.mail_for(complaint, message_id)
    if message is None:
        abort(404)
    note, status = _("The email will be sent again."), 200
    begin_write()
    try:
        intake.resend_mail(_actor(), complaint, message)
    except IntakeError as error:
        db.session.rollback()
        note, status = str(error), 422
    else:
        db.session.commit()
    if not htmx.wants_fragment():
        flash(note, "ok" if status == 200 else "error")
        return redirect(_show_url(complaint, "timeline"), 303)
    return htmx.partial("intake/_timeline.html", status=status, **_common(complaint),
                        timeline=intake.timeline(complaint), timeline_note=note)
