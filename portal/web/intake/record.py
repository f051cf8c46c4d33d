"""The complaint page and its self-saving sections.

Each section of the page is its own partial (`intake/_section_<name>.html`, root id
`section-<name>`) that posts to `/complaints/<key>/sections/<name>` and gets itself back:
200 when saved, 422 with the errors beside the fields and the input kept, 409 when someone
else saved the record first. Without JavaScript the same forms post normally and the whole
page comes back (or a redirect after a save).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from portal.db import write_transaction
from portal.models.complaint import EVIDENCE_INTAKE, Complaint
from portal.request_bodies import body_too_large, shows_oversize_body
from portal.security import roles, signed_in
from portal.services import evidence as evidence_service
from portal.services.audit_alone import record_alone
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.completeness import SECTION_LABELS, completeness
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.intake.search import search_clients, search_matters, search_staff
from portal.services.intake.sections import save_section as save
from portal.web import downloads, htmx, page_cache
from portal.web.intake import bp
from portal.web.intake.context import (
    CHANGED,
    SAVED,
    STAFF,
    SectionView,
    actions_context,
    actor,
    attach,
    common,
    complainant_form,
    fresh_form,
    load,
    load_found,
    page,
    posted_version,
    show_url,
    timeline_context,
    visible_key,
)
from portal.web.intake_forms import (
    ChannelForm,
    ComplainantForm,
    EvidenceForm,
    IncidentForm,
    RemedyForm,
)


@bp.route("/complaints/<key>")
@signed_in  # the visibility rule decides (load: 404 when hidden)
def show(key: str):
    # Who may see it, and its id, in one narrow query: a cached page needs nothing more.
    complaint_id, reference = visible_key(key)
    if reference and key != reference:
        return redirect(url_for("intake.show", key=reference), 301)
    response = page_cache.remember(lambda: htmx.page_or_partial(
        "intake/show.html", "intake/_record.html", **page(load_found(complaint_id))))
    record_view(complaint_id, "record")
    return response


def record_view(complaint: Complaint | int, view: str) -> None:
    """Opening a record is audited: after the page is rendered in a read transaction, the
    event gets its own short write transaction (services/audit_alone.py)."""
    user = actor()
    who = {"actor_id": user.id, "actor_label": user.username or user.name}
    complaint_id = complaint if isinstance(complaint, int) else complaint.id
    # The ids are read before the write starts: it expires what the page loaded, and reloading
    # the user and the complaint only to name them would double the cost of a view.
    record_alone("complaint.viewed", **who, object_type="complaint", object_id=complaint_id,
                 details={"view": view})


@bp.route("/complaints/<key>/timeline")
@signed_in  # the visibility rule decides (load: 404 when hidden)
def timeline(key: str):
    complaint = load(key)
    context = timeline_context(complaint)
    response = htmx.partial("intake/_timeline.html", **common(complaint), **context)
    return htmx.poll(response, pending=context["polling"])


@bp.route("/complaints/<key>/completeness", endpoint="completeness")
@signed_in  # the visibility rule decides (load: 404 when hidden)
def completeness_card(key: str):
    complaint = load(key)
    return htmx.partial("intake/_completeness.html", **common(complaint),
                        completeness=completeness(complaint))


@bp.route("/complaints/<key>/actions")
@signed_in  # the visibility rule decides (load: 404 when hidden)
def actions(key: str):
    complaint = load(key)
    return htmx.partial("intake/_actions.html", **common(complaint),
                        **actions_context(complaint))


# --- sections ----------------------------------------------------------------------------


def section_response(complaint: Complaint, section: str, view: SectionView,
                     status: int = 200, trigger: str | None = None) -> Response:
    def context(full: bool) -> dict:
        if full:
            return page(complaint, sections={section: view})
        return {**common(complaint), "sections": {section: view},
                "with_versions": status == 200 and trigger == SAVED}

    return htmx.answer(f"intake/_section_{section}.html", "intake/show.html", context,
                       status=status, trigger=trigger)


def _save(complaint: Complaint, section: str, form: FlaskForm | None, data: dict,
          view: SectionView | None = None) -> Response:
    view = view or SectionView(form=form)
    version = posted_version()

    def saved(_result) -> Response:
        if not htmx.wants_fragment():
            flash(_("Saved: %(section)s.", section=SECTION_LABELS[section]), "ok")
            return redirect(show_url(complaint, f"section-{section}"), 303)
        fresh = SectionView(form=fresh_form(complaint, section), note=_("Saved."))
        return section_response(complaint, section, fresh, trigger=SAVED)

    def refused(error: IntakeError, status: int) -> Response:
        view.version = version
        if isinstance(error, ConflictError):
            view.conflict = error.message
        elif form is not None:
            attach(form, error)
        else:
            view.errors.extend(m for ms in error.errors.values() for m in ms)
            view.errors = view.errors or [error.message]
        return section_response(complaint, section, view, status=status)

    return htmx.write(lambda: save(actor(), complaint, section, data, expected_version=version),
                      done=saved, refused=refused)


def _search(complaint: Complaint, section: str, search: Callable[[str], list]) -> Response:
    view = SectionView(form=fresh_form(complaint, section),
                       suggestions=search(request.form.get("q")),
                       query=(request.form.get("q") or "").strip())
    return section_response(complaint, section, view)


@dataclass(frozen=True)
class FormSection:
    """A section saved from its form: the form class and what the service gets from it."""

    form: type[FlaskForm]
    data: Callable[[FlaskForm], dict]


def _fields(*names: str) -> Callable[[FlaskForm], dict]:
    return lambda form: {name: getattr(form, name).data for name in names}


FORM_SECTIONS = {
    "complainant": FormSection(ComplainantForm, _fields(
        "name", "phone", "email", "id_number", "address", "language")),
    "incident": FormSection(IncidentForm, _fields(
        "narrative", "occurred_on", "occurred_until", "occurred_place")),
    "remedy": FormSection(RemedyForm, _fields("remedies_sought", "remedy_details")),
    "channel": FormSection(ChannelForm, lambda form: {
        "channel": form.channel.data,
        "received_at": form.received_at.data.replace(tzinfo=LOCAL_TZ)}),
}


def _save_form(complaint: Complaint, section: str) -> Response:
    spec = FORM_SECTIONS[section]
    form = spec.form(prefix=section)
    if not form.validate_on_submit():
        return section_response(complaint, section,
                                SectionView(form=form, version=posted_version()), status=422)
    return _save(complaint, section, form, spec.data(form))


def _save_complainant(complaint: Complaint) -> Response:
    if request.form.get("client_id"):  # a client on file, chosen from the suggestions
        return _save(complaint, "complainant", None,
                     {"client_id": request.form.get("client_id")},
                     SectionView(form=complainant_form(complaint)))
    if request.form.get("action") == "search" or "q" in request.form:
        return _search(complaint, "complainant", search_clients)
    return _save_form(complaint, "complainant")


def _save_respondents(complaint: Complaint) -> Response:
    ids = [r.id for r in complaint.respondents]
    add = request.form.get("add", type=int)
    remove = request.form.get("remove", type=int)
    if add is None and remove is None:
        return _search(complaint, "respondents", search_staff)
    if add is not None and add not in ids:
        ids.append(add)
    if remove is not None:
        ids = [i for i in ids if i != remove]
    return _save(complaint, "respondents", None, {"user_ids": ids})


def _save_matter(complaint: Complaint) -> Response:
    if request.form.get("action") == "clear":
        return _save(complaint, "matter", None, {"matter_id": None})
    if request.form.get("matter_id"):
        return _save(complaint, "matter", None, {"matter_id": request.form.get("matter_id")})
    return _search(complaint, "matter", search_matters)


SECTION_HANDLERS: dict[str, Callable[[Complaint], Response]] = {
    "complainant": _save_complainant,
    "respondents": _save_respondents,
    "matter": _save_matter,
    **{name: (lambda c, name=name: _save_form(c, name))
       for name in ("incident", "remedy", "channel")},
}


@bp.route("/complaints/<key>/sections/<section>", methods=["POST"])
@roles(*STAFF)
def save_section(key: str, section: str):
    handler = SECTION_HANDLERS.get(section)
    if handler is None:
        abort(404)
    return handler(load(key))


# --- searches (suggestions while typing) -------------------------------------------------


def _suggestions(kind: str, search: Callable[[str], list]) -> Response:
    q = request.args.get("q", "")
    return htmx.partial(f"intake/_suggestions_{kind}.html", results=search(q), query=q.strip())


@bp.route("/intake/search/clients", endpoint="search_clients")
@roles(*STAFF)
def suggest_clients():
    return _suggestions("clients", search_clients)


@bp.route("/intake/search/staff", endpoint="search_staff")
@roles(*STAFF)
def suggest_staff():
    return _suggestions("staff", search_staff)


@bp.route("/intake/search/matters", endpoint="search_matters")
@roles(*STAFF)
def suggest_matters():
    return _suggestions("matters", search_matters)


# --- evidence ----------------------------------------------------------------------------


@bp.route("/complaints/<key>/evidence", methods=["POST"])
@roles(*STAFF)
@shows_oversize_body  # a file over the portal's limit: the message beside the file field
def add_evidence(key: str):
    complaint = load(key)
    form = EvidenceForm(prefix="evidence")
    if body_too_large() and not request.files:  # over MAX_CONTENT_LENGTH: the file was not read
        attach(form, evidence_service.too_large())
        return section_response(complaint, "evidence", SectionView(form=form), status=413)
    if not form.validate_on_submit():
        return section_response(complaint, "evidence", SectionView(form=form), status=422)
    upload = form.file.data

    def refused(error: IntakeError, status: int) -> Response:
        attach(form, error)
        return section_response(complaint, "evidence", SectionView(form=form), status=status)

    def added(_item) -> Response:
        if not htmx.wants_fragment():
            flash(_("The file has been added."), "ok")
            return redirect(show_url(complaint, "section-evidence"), 303)
        view = SectionView(form=fresh_form(complaint, "evidence"),
                           note=_("The file has been added."))
        return section_response(complaint, "evidence", view, trigger=CHANGED)

    try:  # copied, hashed and type-checked before the write starts
        received = evidence_service.receive(upload.stream, upload.filename)
    except evidence_service.EvidenceError as error:
        return refused(error, htmx.refusal_status(error) or 422)
    return htmx.write(
        lambda: evidence_service.add_received(actor(), complaint, received,
                                              category=form.category.data,
                                              description=form.description.data),
        done=added, refused=refused)


def _evidence_write(complaint: Complaint, evidence_id: int, change: Callable[[], object],
                    note: str, refusal: str | None = None) -> Response:
    """Re-categorise or remove one item of the draft's evidence; answer with the section."""
    if evidence_service.find(complaint, evidence_id) is None:
        abort(404)

    def changed(_result) -> Response:
        if not htmx.wants_fragment():
            flash(note, "ok")
            return redirect(show_url(complaint, "section-evidence"), 303)
        view = SectionView(form=fresh_form(complaint, "evidence"), note=note)
        return section_response(complaint, "evidence", view, trigger=CHANGED)

    def refused(error: IntakeError, status: int) -> Response:
        view = SectionView(form=fresh_form(complaint, "evidence"), errors=[error.message])
        return section_response(complaint, "evidence", view, status=status)

    if refusal:  # refused before any write starts
        return refused(IntakeError(refusal), 422)
    return htmx.write(change, done=changed, refused=refused)


@bp.route("/complaints/<key>/evidence/<int:evidence_id>/kind", methods=["POST"])
@roles(*STAFF)
def recategorise_evidence(key: str, evidence_id: int):
    complaint = load(key)
    category = request.form.get("category")
    return _evidence_write(
        complaint, evidence_id,
        lambda: evidence_service.recategorise(actor(), complaint, evidence_id, category),
        _("The kind of evidence has been changed."))


@bp.route("/complaints/<key>/evidence/<int:evidence_id>/remove", methods=["POST"])
@roles(*STAFF)
def remove_evidence(key: str, evidence_id: int):
    complaint = load(key)
    unconfirmed = request.form.get("confirm") != "y"
    # The stored file is deleted once the removal has committed (db.remove_after_commit).
    return _evidence_write(
        complaint, evidence_id,
        lambda: evidence_service.remove(actor(), complaint, evidence_id),
        _("The file has been removed."),
        refusal=_("Tick the box to confirm that this file is removed.") if unconfirmed else None)


@bp.route("/complaints/<key>/evidence/<int:evidence_id>")
@signed_in  # the visibility rule decides (load: 404 when hidden)
def download_evidence(key: str, evidence_id: int):
    complaint = load(key)
    item = evidence_service.find(complaint, evidence_id)
    if item is None or item.phase != EVIDENCE_INTAKE:  # the workspace's own: its users only
        abort(404)
    path = evidence_service.path_of(item)
    if not path.is_file():
        abort(404)
    with write_transaction():
        evidence_service.record_download(actor(), item)
    return downloads.attachment(path, content_type=item.content_type,
                                name=evidence_service.download_name(item),
                                ascii_name=evidence_service.ascii_download_name(item))
