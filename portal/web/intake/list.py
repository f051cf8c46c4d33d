"""The complaints list and a new draft."""

from __future__ import annotations

from flask import flash, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from portal import clock
from portal.db import db
from portal.models.complaint import CHANNEL_LABELS, STATE_LABELS, Complaint
from portal.models.user import Role
from portal.security import roles
from portal.services.analytics.filters import describe, facets_from
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.completeness import missing_sections
from portal.services.intake.search import (
    LIST_CLOCKS,
    LIST_FILTERS,
    LIST_SORTS,
    QUERY_MAX,
    complaints_query,
    count_up_to,
)
from portal.services.intake.sections import create_draft
from portal.web import htmx, page_cache
from portal.web.intake import bp
from portal.web.intake.context import STAFF, actor, attach, show_url
from portal.web.intake_forms import NewComplaintForm
from portal.web.params import page_number

PAGE_SIZE = 25
PAGES_AHEAD = 10
FACET_ARGS = ("month", "from", "to", "department", "severity", "channel", "category",
              "root_cause", "ack", "response")
# Everyone may list what they may see (the visibility rule filters); only intake staff start
# drafts, and for the others the list opens on every complaint rather than on the drafts.
EVERYONE = (Role.RECEPTIONIST, Role.PARTNER, Role.INVESTIGATOR, Role.COMMITTEE)


def _list_context(new_form: NewComplaintForm | None = None) -> dict:
    user = actor()
    clock_filter = request.args.get("clock")
    clock_filter = clock_filter if clock_filter in LIST_CLOCKS else None
    # A deadline view is the viewer's own work; a partner may widen it to the whole firm.
    firm = user.has_role(Role.PARTNER) and request.args.get("scope") != "mine"
    default_state = "open" if user.has_role(*STAFF) and not clock_filter else "all"
    if any(request.args.get(name) for name in FACET_ARGS):
        default_state = "all"  # a figure's complaints are registered ones
    state = request.args.get("state", default_state)
    state = state if state in LIST_FILTERS else default_state
    q = (request.args.get("q") or "").strip()[:QUERY_MAX]
    page = page_number()
    sort = request.args.get("sort")
    sort = sort if sort in LIST_SORTS else None
    descending = sort is not None and request.args.get("dir") == "desc"
    facets = facets_from(request.args, clock.today())  # the analytics' figures link here
    query = complaints_query(user, state, q, sort, descending, clock_filter=clock_filter,
                             mine=bool(clock_filter) and not firm, facets=facets)
    from portal.web.deadlines import clock_days  # (it imports this package)

    clock_days()  # asked once, whether or not a row on this page has a running clock
    # Counted no further than PAGES_AHEAD pages beyond this one: the pager says "or more".
    ceiling = (page + PAGES_AHEAD) * PAGE_SIZE
    counted = count_up_to(query, ceiling + 1)
    total, counted_all = min(counted, ceiling), counted <= ceiling
    # The list shows the complainant, the respondents, each draft's missing sections and
    # each complaint's clocks: load them with the page instead of one query per row.
    rows = db.session.scalars(
        query.options(selectinload(Complaint.complainant), selectinload(Complaint.respondents),
                      selectinload(Complaint.deadlines), selectinload(Complaint.pauses))
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    received_now = None
    if new_form is None:  # a fresh form: what a refused one held is shown again as typed
        new_form = NewComplaintForm(formdata=None, prefix="new", data={"channel": "phone"})
        received_now = page_cache.minute_input()
    return {
        "rows": rows, "state": state, "q": q, "page_no": page, "total": total,
        "sort": sort, "descending": descending,
        "clock_filter": clock_filter, "scope": "firm" if firm else "mine",
        "may_start_drafts": user.has_role(*STAFF),
        "pages": max(1, -(-total // PAGE_SIZE)), "more_pages": not counted_all,
        "new_form": new_form, "received_now": received_now,
        "state_labels": STATE_LABELS, "channel_labels": CHANNEL_LABELS,
        "missing_sections": missing_sections, "filters": _filter_labels(),
        "facet_args": facets.query_args(), "facets": facets,
        "facet_chips": describe(facets, "en" if str(get_locale()).startswith("en") else "zh"),
    }


def _filter_labels() -> list[tuple[str, str]]:
    return [("open", _("All drafts")), ("draft", _("Drafts in progress")),
            ("to_verify", _("Submissions to verify (online form and email)")),
            ("registered", _("Registered")), ("all", _("All complaints"))]


@bp.route("/complaints")
@roles(*EVERYONE)
def list_complaints():
    return page_cache.remember(lambda: htmx.page_or_partial(
        "intake/list.html", "intake/_list.html", **_list_context()))


@bp.route("/complaints", methods=["POST"])
@roles(*STAFF)
def new():
    form = NewComplaintForm(prefix="new")
    if not form.validate_on_submit():
        return htmx.answer("intake/list.html", "intake/list.html",
                           lambda _full: _list_context(form), status=422)

    def created(complaint: Complaint):
        flash(_("Draft %(label)s created. Fill in the sections; each one saves on its own.",
                label=complaint.label), "ok")
        return htmx.redirect(show_url(complaint))

    def refused(error, status):
        attach(form, error)
        return htmx.answer("intake/list.html", "intake/list.html",
                           lambda _full: _list_context(form), status=422)

    return htmx.write(
        lambda: create_draft(actor(), channel=form.channel.data,
                             received_at=form.received_at.data.replace(tzinfo=LOCAL_TZ)),
        done=created, refused=refused)
